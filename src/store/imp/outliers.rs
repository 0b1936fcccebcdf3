//! Past figures of units, for the outlier warnings: each unit's previous report
//! and its last months of stock figures. Portable SQL.

use super::{Db, Repo};
use crate::store::outliers::PastFigures;
use crate::store::BATCH;
use sqlx::{QueryBuilder, Row};
use unionstat_core::Period;

impl Repo {
    /// The accepted figures of `units` for the `months` months before `period`
    /// (not `period` itself), oldest first.
    pub async fn past_figures(
        &self,
        units: &[String],
        period: Period,
        months: usize,
    ) -> sqlx::Result<PastFigures> {
        let mut first = period;
        for _ in 0..months {
            first = first.previous();
        }
        let mut out = PastFigures::new();
        for chunk in units.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "SELECT unit_code, metric, period, value FROM facts WHERE period >= ",
            );
            qb.push_bind(first.to_string())
                .push(" AND period < ")
                .push_bind(period.to_string())
                .push(" AND unit_code IN (");
            let mut sep = qb.separated(", ");
            for u in chunk {
                sep.push_bind(u.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&self.pool).await? {
                let Ok(p) = r.get::<String, _>(2).parse::<Period>() else {
                    continue;
                };
                out.entry((r.get(0), r.get(1)))
                    .or_default()
                    .push((p, r.get(3)));
            }
        }
        for v in out.values_mut() {
            v.sort_by_key(|(p, _)| *p);
        }
        Ok(out)
    }
}
