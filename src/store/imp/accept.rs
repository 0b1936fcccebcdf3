//! Accepting a submission: in ONE transaction the facts of the reporter's units are
//! replaced, the previous accepted submission for the same reporter and month is
//! marked superseded (kept), every ancestor's roll-up moves by exactly the delta,
//! and audit rows record each changed figure.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sqlx::{QueryBuilder, Row, Transaction};

use super::{Db, Repo};
use crate::store::accept::{parent_path, AcceptOutcome, Acceptance, Deltas};
use crate::store::orgs::lineage;
use crate::store::{now, BATCH};

impl Repo {
    /// Accepts a submission still in `processing`; returns None when it is not
    /// (another delivery of the same job finished it first).
    /// Accepts a submission; a deadlock or serialisation failure (PostgreSQL,
    /// under heavy concurrency) runs the whole transaction again.
    pub async fn accept(&self, a: &Acceptance<'_>) -> sqlx::Result<Option<AcceptOutcome>> {
        let mut attempt = 0u32;
        loop {
            match self.accept_once(a).await {
                Err(e) if super::super::is_transient(&e) && attempt < 8 => {
                    attempt += 1;
                    tracing::info!(submission_id = a.submission_id, attempt, error = %e, "accept transaction retried");
                    tokio::time::sleep(std::time::Duration::from_millis(20 << attempt.min(6)))
                        .await;
                }
                other => return other,
            }
        }
    }

    async fn accept_once(&self, a: &Acceptance<'_>) -> sqlx::Result<Option<AcceptOutcome>> {
        let mut tx = self.begin_write().await?;
        // One writer per reporter and month at a time (a second delivery of the
        // same job, or a newer upload of the same sheet, waits here).
        super::super::lock_key(&mut tx, &format!("accept|{}|{}", a.reporter, a.period)).await?;
        let status: Option<String> =
            sqlx::query_scalar("SELECT status FROM submissions WHERE id = $1")
                .bind(a.submission_id)
                .fetch_optional(&mut *tx)
                .await?;
        if status.as_deref() != Some("processing") {
            tx.rollback().await?;
            return Ok(None);
        }
        let prev: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE reporter = $1 AND period = $2 AND status = 'accepted' AND id <> $3 ORDER BY id DESC LIMIT 1",
        )
        .bind(a.reporter)
        .bind(a.period)
        .bind(a.submission_id)
        .fetch_optional(&mut *tx)
        .await?;

        // The figures being replaced: the previous submission's, and any other
        // figure already held for the units of this sheet.
        let mut old: HashMap<(String, String), i64> = HashMap::new();
        if let Some(p) = prev {
            let rows =
                sqlx::query("SELECT unit_code, metric, value FROM facts WHERE submission_id = $1")
                    .bind(p)
                    .fetch_all(&mut *tx)
                    .await?;
            for r in rows {
                old.insert((r.get(0), r.get(1)), r.get(2));
            }
        }
        for chunk in a.units.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("SELECT unit_code, metric, value FROM facts WHERE period = ");
            qb.push_bind(a.period).push(" AND unit_code IN (");
            let mut sep = qb.separated(", ");
            for u in chunk {
                sep.push_bind(u.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&mut *tx).await? {
                old.insert((r.get(0), r.get(1)), r.get(2));
            }
        }
        let new: HashMap<(String, String), i64> = a
            .facts
            .iter()
            .map(|f| ((f.unit.clone(), f.metric.clone()), f.value))
            .collect();

        let old_units: HashSet<&str> = old.keys().map(|(u, _)| u.as_str()).collect();
        let new_units: HashSet<&str> = new.keys().map(|(u, _)| u.as_str()).collect();
        let all_units: Vec<String> = old_units.union(&new_units).map(|s| s.to_string()).collect();
        let paths = unit_paths(&mut tx, &all_units).await?;

        // Deltas grouped by the unit's parent first, then spread over ancestors.
        let mut by_parent: HashMap<(&str, &str), (i64, i64)> = HashMap::new();
        for ((u, m), v) in &old {
            let e = by_parent.entry((parent_path(&paths, u), m)).or_default();
            e.0 -= v;
            e.1 -= 1;
        }
        for ((u, m), v) in &new {
            let e = by_parent.entry((parent_path(&paths, u), m)).or_default();
            e.0 += v;
            e.1 += 1;
        }
        let mut deltas: Deltas = HashMap::new();
        for ((ppath, m), (dv, du)) in by_parent {
            if dv == 0 && du == 0 {
                continue;
            }
            for anc in lineage(ppath) {
                let e = deltas.entry((anc.to_string(), m.to_string())).or_default();
                e.0 += dv;
                e.1 += du;
            }
        }
        deltas.retain(|_, d| *d != (0, 0));

        let mut coverage: HashMap<String, (i64, i64)> = HashMap::new();
        for u in new_units.difference(&old_units) {
            for anc in lineage(parent_path(&paths, u)) {
                coverage.entry(anc.to_string()).or_default().0 += 1;
            }
        }
        for u in old_units.difference(&new_units) {
            for anc in lineage(parent_path(&paths, u)) {
                coverage.entry(anc.to_string()).or_default().0 -= 1;
            }
        }
        if prev.is_none() {
            let reporter_path: Option<String> =
                sqlx::query_scalar("SELECT path FROM org_units WHERE code = $1")
                    .bind(a.reporter)
                    .fetch_optional(&mut *tx)
                    .await?;
            for anc in lineage(reporter_path.as_deref().unwrap_or("")) {
                coverage.entry(anc.to_string()).or_default().1 += 1;
            }
        }
        coverage.retain(|_, d| *d != (0, 0));

        // Facts: drop what is replaced, write the new.
        if let Some(p) = prev {
            sqlx::query("DELETE FROM facts WHERE submission_id = $1")
                .bind(p)
                .execute(&mut *tx)
                .await?;
        }
        for chunk in a.units.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new("DELETE FROM facts WHERE period = ");
            qb.push_bind(a.period).push(" AND unit_code IN (");
            let mut sep = qb.separated(", ");
            for u in chunk {
                sep.push_bind(u.clone());
            }
            qb.push(")");
            qb.build().execute(&mut *tx).await?;
        }
        super::super::insert_facts(&mut tx, a.period, a.submission_id, a.facts).await?;

        // Audit: every figure that changed, appeared or disappeared.
        let stamp = now();
        let keys: BTreeSet<&(String, String)> = old.keys().chain(new.keys()).collect();
        let changes: Vec<(&(String, String), Option<i64>, Option<i64>)> = keys
            .into_iter()
            .filter_map(|k| {
                let (o, n) = (old.get(k).copied(), new.get(k).copied());
                (o != n).then_some((k, o, n))
            })
            .collect();
        for chunk in changes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO audit (at, actor, action, submission_id, unit_code, period, metric, old_value, new_value) ",
            );
            qb.push_values(chunk, |mut b, ((unit, metric), o, n)| {
                b.push_bind(stamp.clone())
                    .push_bind(a.actor)
                    .push_bind(if n.is_some() {
                        "fact_set"
                    } else {
                        "fact_removed"
                    })
                    .push_bind(a.submission_id)
                    .push_bind(unit.clone())
                    .push_bind(a.period)
                    .push_bind(metric.clone())
                    .push_bind(*o)
                    .push_bind(*n);
            });
            qb.build().execute(&mut *tx).await?;
        }

        apply_deltas(&mut tx, a.period, &deltas, &coverage).await?;
        // A locked month changed by an admin: the reason goes to the audit.
        super::approvals::audit_lock_override(
            &mut tx,
            a.submission_id,
            a.reporter,
            a.period,
            &stamp,
        )
        .await?;

        if let Some(p) = prev {
            sqlx::query(
                "UPDATE submissions SET status = 'superseded', superseded_by = $1 WHERE id = $2",
            )
            .bind(a.submission_id)
            .bind(p)
            .execute(&mut *tx)
            .await?;
        }
        let warnings = a.issues.len() as i64;
        sqlx::query(
            "UPDATE submissions SET status = 'accepted', reporter = $1, period = $2, issues = $3, error_count = 0, warning_count = $4, rows_read = $5, cover = $6, finished_at = $7 WHERE id = $8",
        )
        .bind(a.reporter)
        .bind(a.period)
        .bind(serde_json::to_string(a.issues).unwrap_or_else(|_| "[]".into()))
        .bind(warnings)
        .bind(a.rows_read as i64)
        .bind(a.cover)
        .bind(&stamp)
        .bind(a.submission_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, submission_id, period, detail) VALUES ($1, $2, 'submission_accepted', $3, $4, $5)",
        )
        .bind(&stamp)
        .bind(a.actor)
        .bind(a.submission_id)
        .bind(a.period)
        .bind(match prev {
            Some(p) => format!("reporter {}; supersedes submission {p}", a.reporter),
            None => format!("reporter {}", a.reporter),
        })
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(AcceptOutcome {
            superseded: prev,
            facts_written: a.facts.len(),
            facts_changed: changes.len(),
            rollup_rows: deltas.len(),
        }))
    }
}

/// Paths of units, by code.
async fn unit_paths(
    tx: &mut Transaction<'static, Db>,
    codes: &[String],
) -> sqlx::Result<HashMap<String, String>> {
    let mut out = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("SELECT code, path FROM org_units WHERE code IN (");
        let mut sep = qb.separated(", ");
        for c in chunk {
            sep.push_bind(c.clone());
        }
        qb.push(")");
        for r in qb.build().fetch_all(&mut **tx).await? {
            out.insert(r.get(0), r.get(1));
        }
    }
    Ok(out)
}

/// Adds roll-up and coverage deltas; rows that fall to nothing are removed, so a
/// full recomputation and the incremental tables hold the same rows.
pub(crate) async fn apply_deltas(
    tx: &mut Transaction<'static, Db>,
    period: &str,
    deltas: &Deltas,
    coverage: &HashMap<String, (i64, i64)>,
) -> sqlx::Result<()> {
    // Always in the same order (org, then metric), so concurrent writers that
    // share ancestors queue on the first shared row instead of deadlocking.
    let rows: Vec<(&(String, String), &(i64, i64))> = deltas
        .iter()
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    for chunk in rows.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("INSERT INTO rollups (org_code, period, metric, value, units) ");
        qb.push_values(chunk, |mut b, ((org, metric), (dv, du))| {
            b.push_bind(org.clone())
                .push_bind(period)
                .push_bind(metric.clone())
                .push_bind(*dv)
                .push_bind(*du);
        });
        qb.push(" ON CONFLICT (org_code, period, metric) DO UPDATE SET value = rollups.value + excluded.value, units = rollups.units + excluded.units");
        qb.build().execute(&mut **tx).await?;
    }
    let cov: Vec<(&String, &(i64, i64))> = coverage
        .iter()
        .collect::<BTreeMap<_, _>>()
        .into_iter()
        .collect();
    for chunk in cov.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO rollup_coverage (org_code, period, reported_units, reported_reporters) ",
        );
        qb.push_values(chunk, |mut b, (org, (du, dr))| {
            b.push_bind((*org).clone())
                .push_bind(period)
                .push_bind(*du)
                .push_bind(*dr);
        });
        qb.push(" ON CONFLICT (org_code, period) DO UPDATE SET reported_units = rollup_coverage.reported_units + excluded.reported_units, reported_reporters = rollup_coverage.reported_reporters + excluded.reported_reporters");
        qb.build().execute(&mut **tx).await?;
    }
    let orgs: BTreeSet<&str> = deltas
        .keys()
        .map(|(o, _)| o.as_str())
        .chain(coverage.keys().map(String::as_str))
        .collect();
    let orgs: Vec<&str> = orgs.into_iter().collect();
    for chunk in orgs.chunks(BATCH) {
        for (table, cond) in [
            ("rollups", "units = 0 AND value = 0"),
            (
                "rollup_coverage",
                "reported_units = 0 AND reported_reporters = 0",
            ),
        ] {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new(format!("DELETE FROM {table} WHERE {cond} AND period = "));
            qb.push_bind(period).push(" AND org_code IN (");
            let mut sep = qb.separated(", ");
            for o in chunk {
                sep.push_bind(o.to_string());
            }
            qb.push(")");
            qb.build().execute(&mut **tx).await?;
        }
    }
    Ok(())
}
