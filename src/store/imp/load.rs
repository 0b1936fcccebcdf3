//! Bulk loading of reports (see `store/load.rs`): one transaction, multi-row
//! inserts of unit rows.

use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{QueryBuilder, Row};

use super::accept::rows_per_insert;
use super::{ids_of, Db, Repo};
use crate::store::load::{LoadStats, LoadedReport};
use crate::store::now;

impl Repo {
    pub async fn load_reports(
        &self,
        reports: &[LoadedReport],
        loaded_by: &str,
    ) -> anyhow::Result<LoadStats> {
        let mut stats = LoadStats::default();
        let cols = &self.cols;
        let stamp = now();
        let mut tx = self.begin_write().await?;
        let codes: Vec<&str> = reports
            .iter()
            .flat_map(|r| r.units.iter().map(|(code, _)| code.as_str()))
            .collect();
        let ids = ids_of(&mut tx, &codes).await?;
        for report in reports {
            let period = report.period.to_string();
            let sha = hex::encode(Sha256::digest(
                format!("load/{loaded_by}/{}/{period}", report.reporter).as_bytes(),
            ));
            let id: i64 = sqlx::query(
                "INSERT INTO submissions (sha256, req_reporter, req_period, reporter, period, filename, size_bytes, status, attempts, uploaded_by, received_at, started_at, finished_at, rows_read) VALUES ($1, '', '', $2, $3, $4, 0, 'accepted', 1, $5, $6, $6, $6, $7) RETURNING id",
            )
            .bind(&sha)
            .bind(&report.reporter)
            .bind(&period)
            .bind(format!("{}_{period} (loaded)", report.reporter))
            .bind(loaded_by)
            .bind(&stamp)
            .bind(report.units.len() as i64)
            .fetch_one(&mut *tx)
            .await
            .with_context(|| format!("recording the report of {} for {period}", report.reporter))?
            .get(0);
            stats.submissions += 1;
            let mut rows: Vec<(i64, Vec<Option<i64>>)> = Vec::with_capacity(report.units.len());
            for (code, figures) in &report.units {
                let unit = *ids
                    .get(code)
                    .with_context(|| format!("unit {code} is not in the warehouse"))?;
                let mut slots = vec![None; cols.width()];
                for (metric, value) in figures {
                    let slot = cols.slot(metric).with_context(|| {
                        format!("the warehouse has no column for metric {metric}")
                    })?;
                    slots[slot] = Some(*value);
                    stats.figures += 1;
                }
                rows.push((unit, slots));
            }
            stats.unit_rows += rows.len();
            for chunk in rows.chunks(rows_per_insert(cols.width() + 4)) {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                    "INSERT INTO unit_figures (period, unit_id, submission_id, audited, {}) ",
                    cols.unit_list
                ));
                qb.push_values(chunk, |mut b, (unit, figures)| {
                    b.push_bind(report.period.key())
                        .push_bind(*unit)
                        .push_bind(id)
                        .push_bind(false);
                    for v in figures {
                        b.push_bind(*v);
                    }
                });
                qb.build().execute(&mut *tx).await.with_context(|| {
                    format!(
                        "writing the units of {} for {period} (a unit may already have figures for the month)",
                        report.reporter
                    )
                })?;
            }
        }
        tx.commit().await?;
        self.after_write();
        Ok(stats)
    }
}
