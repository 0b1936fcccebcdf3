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
        let bare_max = super::super::LATEST_BY_BARE_MAX;
        for chunk in ids.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = if bare_max {
                // The bare columns come from the row of MAX(period).
                let mut qb = QueryBuilder::new(format!(
                    "SELECT f.unit_id, {}, MAX(f.period) FROM unit_figures f WHERE f.period >= ",
                    latest.join(", ")
                ));
                qb.push_bind(first)
                    .push(" AND f.period < ")
                    .push_bind(before)
                    .push(" AND f.unit_id IN (");
                push_ids(&mut qb, chunk);
                qb.push(") GROUP BY f.unit_id");
                qb
            } else {
                let mut qb = QueryBuilder::new(format!(
                    "SELECT f.unit_id, {} FROM unit_figures f WHERE f.unit_id IN (",
                    latest.join(", ")
                ));
                push_ids(&mut qb, chunk);
                qb.push(") AND f.period = (SELECT MAX(g.period) FROM unit_figures g WHERE g.unit_id = f.unit_id AND g.period >= ")
                    .push_bind(first)
                    .push(" AND g.period < ")
                    .push_bind(before)
                    .push(")");
                qb
            };
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

fn push_ids(qb: &mut QueryBuilder<Db>, ids: &[i64]) {
    let mut sep = qb.separated(", ");
    for id in ids {
        sep.push_bind(*id);
    }
}
