//! Units' latest reports for the warnings, over the (unit_id, period) index.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row};
use unionstat_core::Period;

use super::{ids_of, Db, Repo};
use crate::store::outliers::UnitHistory;
use crate::store::BATCH;

impl Repo {
    pub async fn unit_history(
        &self,
        units: &[String],
        period: Period,
        months: usize,
        metrics: &[&str],
    ) -> sqlx::Result<UnitHistory> {
        let mut first = period;
        for _ in 0..months {
            first = first.previous();
        }
        let (first, before) = (first.key(), period.key());
        let metrics: Vec<&str> = metrics
            .iter()
            .copied()
            .filter(|m| self.cols.slot(m).is_some())
            .collect();
        let mut out = UnitHistory::default();
        if metrics.is_empty() || units.is_empty() {
            return Ok(out);
        }
        let codes: Vec<&str> = units.iter().map(String::as_str).collect();
        let ids = ids_of(&mut *self.pool.acquire().await?, &codes).await?;
        let code_of: HashMap<i64, &str> = ids.iter().map(|(c, id)| (*id, c.as_str())).collect();
        let ids: Vec<i64> = ids.values().copied().collect();
        let latest: Vec<String> = metrics.iter().map(|m| format!("f.m_{m}")).collect();
        for chunk in ids.chunks(BATCH) {
            // Each unit's latest month from the (unit_id, period) index alone,
            // then that one row: about one row read per unit, not one per
            // unit and month.
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT u.unit_id, {} FROM (SELECT unit_id, MAX(period) AS latest FROM unit_figures WHERE period >= ",
                latest.join(", ")
            ));
            qb.push_bind(first)
                .push(" AND period < ")
                .push_bind(before)
                // The list alone, not `push_unit_ids`'s span: this read goes
                // by unit over many months, where the span buys nothing, and
                // with it beside the range of periods the workers' prepared
                // statement took ~300 ms a sheet on PostgreSQL with the
                // benchmark's year of history (~1 ms without; BENCHMARKS.md).
                .push(" AND unit_id IN ");
            super::push_list(&mut qb, chunk.iter().copied());
            qb.push(
                " GROUP BY unit_id) u JOIN unit_figures f ON f.period = u.latest AND f.unit_id = u.unit_id",
            );
            for r in qb.build().fetch_all(&self.pool).await? {
                let Some(code) = code_of.get(&r.get::<i64, _>(0)) else {
                    continue;
                };
                for (i, m) in metrics.iter().enumerate() {
                    if let Some(v) = r.get::<Option<i64>, _>(1 + i) {
                        out.previous.insert((code.to_string(), m.to_string()), v);
                    }
                }
            }
        }
        Ok(out)
    }
}
