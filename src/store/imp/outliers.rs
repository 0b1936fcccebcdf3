//! Units' past figures for the warnings: one aggregate row per unit (count, Σx,
//! Σx² of each metric) and the unit's latest row, both over the (unit_id,
//! period) index.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row};
use unionstat_core::validate::History;
use unionstat_core::Period;

use super::{ids_of, Db, Repo};

type DbRow = <Db as sqlx::Database>::Row;
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
        let stats: Vec<String> = metrics
            .iter()
            .map(|m| super::super::count_sum_squares(&format!("f.m_{m}")))
            .collect();
        let latest: Vec<String> = metrics.iter().map(|m| format!("f.m_{m}")).collect();
        // Each unit's statistics (count, Σx, Σx² per metric from column
        // `stats_at`) and its latest figures (from column `latest_at`).
        let stats_of = |out: &mut UnitHistory, r: &DbRow, stats_at: usize| {
            let Some(code) = code_of.get(&r.get::<i64, _>(0)) else {
                return;
            };
            for (i, m) in metrics.iter().enumerate() {
                let at = stats_at + 3 * i;
                let n: i64 = r.get(at);
                let (sum, sum_sq): (Option<f64>, Option<f64>) = (r.get(at + 1), r.get(at + 2));
                if let Some(h) = History::of_sums(n, sum.unwrap_or(0.0), sum_sq.unwrap_or(0.0)) {
                    out.stats.insert((code.to_string(), m.to_string()), h);
                }
            }
        };
        let latest_of = |out: &mut UnitHistory, r: &DbRow, latest_at: usize| {
            let Some(code) = code_of.get(&r.get::<i64, _>(0)) else {
                return;
            };
            for (i, m) in metrics.iter().enumerate() {
                if let Some(v) = r.get::<Option<i64>, _>(latest_at + i) {
                    out.previous.insert((code.to_string(), m.to_string()), v);
                }
            }
        };
        for chunk in ids.chunks(BATCH) {
            // One pass where the backend can (SQLite takes the bare columns of
            // an aggregate from the row where its MAX(period) is): the latest
            // figures come with the statistics.
            let one_pass = super::super::HISTORY_IN_ONE_PASS;
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(if one_pass {
                format!(
                    "SELECT f.unit_id, {}, MAX(f.period), {} FROM unit_figures f WHERE f.period >= ",
                    stats.join(", "),
                    latest.join(", ")
                )
            } else {
                format!(
                    "SELECT f.unit_id, {} FROM unit_figures f WHERE f.period >= ",
                    stats.join(", ")
                )
            });
            qb.push_bind(first)
                .push(" AND f.period < ")
                .push_bind(before)
                .push(" AND f.unit_id IN (");
            push_ids(&mut qb, chunk);
            qb.push(") GROUP BY f.unit_id");
            for r in qb.build().fetch_all(&self.pool).await? {
                stats_of(&mut out, &r, 1);
                if one_pass {
                    latest_of(&mut out, &r, 2 + 3 * metrics.len());
                }
            }
            if one_pass {
                continue;
            }

            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT f.unit_id, {} FROM unit_figures f WHERE f.unit_id IN (",
                latest.join(", ")
            ));
            push_ids(&mut qb, chunk);
            qb.push(") AND f.period = (SELECT MAX(g.period) FROM unit_figures g WHERE g.unit_id = f.unit_id AND g.period >= ")
                .push_bind(first)
                .push(" AND g.period < ")
                .push_bind(before)
                .push(")");
            for r in qb.build().fetch_all(&self.pool).await? {
                latest_of(&mut out, &r, 1);
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
