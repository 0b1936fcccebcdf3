//! Keeping the metric columns in step with the catalogue at start, converting a
//! warehouse of the first layout (one row per unit, month and metric), and the
//! decoding of figure rows.

use std::collections::HashSet;

use anyhow::Context;
use sqlx::{Pool, Row, Transaction};
use unionstat_core::rollup::ledger::RollupRow;

use super::Db;
use crate::store::columns::{is_safe_identifier, Columns, FormSlots};
use crate::store::now;

type DbRow = <Db as sqlx::Database>::Row;

/// Makes sure every metric of `wanted` has its columns (adding them in one
/// transaction when some are missing), converts figures of the first layout
/// if the migration left any, and returns the columns in slot order.
pub(crate) async fn prepare(pool: &Pool<Db>, wanted: &[String]) -> anyhow::Result<Columns> {
    let known = stored_metrics(pool).await?;
    let pending = conversion_pending(pool).await?;
    let restated = restated_slots(pool).await?;
    if !pending && restated == known.len() && wanted.iter().all(|m| known.contains(m)) {
        return Ok(Columns::new(known));
    }
    let mut tx = super::super::begin_write(pool).await?;
    // Two processes starting at once: the second waits and finds the columns.
    super::super::lock_key(&mut tx, "warehouse|metric-columns").await?;
    let pending = conversion_pending(&mut *tx).await?;
    let mut wanted = wanted.to_vec();
    if pending {
        // Metrics of old figures that the catalogue no longer lists keep theirs.
        let legacy: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT metric FROM legacy_facts ORDER BY metric")
                .fetch_all(&mut *tx)
                .await?;
        wanted.extend(legacy);
    }
    let mut metrics = stored_metrics(&mut *tx).await?;
    // Metrics known before the restated roll-ups existed get their columns there.
    let restated = restated_slots(&mut *tx).await?;
    for m in metrics.iter().skip(restated) {
        for ddl in restated_columns(m) {
            sqlx::query(sqlx::AssertSqlSafe(ddl))
                .execute(&mut *tx)
                .await
                .with_context(|| {
                    format!("cannot add the restated roll-up columns of metric {m}")
                })?;
        }
    }
    let mut have: HashSet<String> = metrics.iter().cloned().collect();
    for m in wanted {
        if !have.insert(m.clone()) {
            continue;
        }
        anyhow::ensure!(
            is_safe_identifier(&m),
            "metric code {m:?} cannot name a warehouse column: use lower-case letters, digits and _ (starting with a letter, at most 48 characters)"
        );
        for ddl in [
            format!("ALTER TABLE unit_figures ADD COLUMN m_{m} BIGINT"),
            format!("ALTER TABLE rollup_figures ADD COLUMN s_{m} BIGINT NOT NULL DEFAULT 0"),
            format!("ALTER TABLE rollup_figures ADD COLUMN n_{m} BIGINT NOT NULL DEFAULT 0"),
        ]
        .into_iter()
        .chain(restated_columns(&m))
        {
            sqlx::query(sqlx::AssertSqlSafe(ddl))
                .execute(&mut *tx)
                .await
                .with_context(|| format!("cannot add the warehouse columns of metric {m}"))?;
        }
        sqlx::query("INSERT INTO metric_columns (metric, slot, added_at) VALUES ($1, $2, $3)")
            .bind(&m)
            .bind(metrics.len() as i64)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        metrics.push(m);
    }
    sqlx::query("UPDATE tree_state SET restated_slots = $1")
        .bind(metrics.len() as i64)
        .execute(&mut *tx)
        .await?;
    let cols = Columns::new(metrics);
    if pending {
        convert_legacy(&mut tx, &cols)
            .await
            .context("cannot convert the figures of the first warehouse layout")?;
    }
    tx.commit().await?;
    Ok(cols)
}

/// Makes sure every form of `wanted` has a slot in `form_slots` (the next free
/// one, in catalogue order, for a form met for the first time; two processes
/// starting at once take turns) and returns every form's slot. A form that
/// left the catalogue keeps its slot, and its figures their keys.
pub(crate) async fn prepare_forms(pool: &Pool<Db>, wanted: &[String]) -> anyhow::Result<FormSlots> {
    let known = stored_forms(pool).await?;
    if wanted.iter().all(|f| known.slot(f).is_some()) {
        return Ok(known);
    }
    let mut tx = super::super::begin_write(pool).await?;
    super::super::lock_key(&mut tx, "warehouse|form-slots").await?;
    let mut slots = stored_forms(&mut *tx).await?;
    for f in wanted {
        if slots.slot(f).is_some() {
            continue;
        }
        let slot = slots.next_slot();
        sqlx::query("INSERT INTO form_slots (form, slot, added_at) VALUES ($1, $2, $3)")
            .bind(f)
            .bind(slot)
            .bind(now())
            .execute(&mut *tx)
            .await
            .with_context(|| format!("cannot give form {f} a storage slot"))?;
        slots.insert(f.clone(), slot);
    }
    tx.commit().await?;
    Ok(slots)
}

async fn stored_forms<'e, E>(e: E) -> sqlx::Result<FormSlots>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT form, slot FROM form_slots ORDER BY slot")
            .fetch_all(e)
            .await?;
    Ok(FormSlots::new(rows))
}

async fn stored_metrics<'e, E>(e: E) -> sqlx::Result<Vec<String>>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    sqlx::query_scalar("SELECT metric FROM metric_columns ORDER BY slot")
        .fetch_all(e)
        .await
}

/// The columns of a metric in the restated roll-ups (`rollup_restated`).
fn restated_columns(m: &str) -> [String; 2] {
    [
        format!("ALTER TABLE rollup_restated ADD COLUMN s_{m} BIGINT NOT NULL DEFAULT 0"),
        format!("ALTER TABLE rollup_restated ADD COLUMN n_{m} BIGINT NOT NULL DEFAULT 0"),
    ]
}

async fn restated_slots<'e, E>(e: E) -> sqlx::Result<usize>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let n: i64 = sqlx::query_scalar("SELECT restated_slots FROM tree_state WHERE id = 1")
        .fetch_one(e)
        .await?;
    Ok(n as usize)
}

async fn conversion_pending<'e, E>(e: E) -> sqlx::Result<bool>
where
    E: sqlx::Executor<'e, Database = Db>,
{
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(pending), 0) AS BIGINT) FROM legacy_conversion",
    )
    .fetch_one(e)
    .await?;
    Ok(n > 0)
}

/// Moves every figure of `legacy_facts` into `unit_figures` (one row per unit
/// and month, the latest submission of the row kept as its source), checks that
/// as many figures arrived as left, drops the old table and recomputes every
/// roll-up. Runs inside the caller's transaction: all of it or none.
async fn convert_legacy(tx: &mut Transaction<'static, Db>, cols: &Columns) -> anyhow::Result<()> {
    let facts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM legacy_facts")
        .fetch_one(&mut **tx)
        .await?;
    // A figure of a unit no longer in the tree keeps an identity too.
    sqlx::query("INSERT INTO org_ids (code) SELECT DISTINCT unit_code FROM legacy_facts WHERE unit_code NOT IN (SELECT code FROM org_ids)")
        .execute(&mut **tx)
        .await?;
    if facts > 0 {
        let pivots: Vec<String> = cols
            .metrics()
            .iter()
            .map(|m| format!("MAX(CASE WHEN f.metric = '{m}' THEN f.value END)"))
            .collect();
        let sql = format!(
            "INSERT INTO unit_figures (period, unit_id, submission_id, {}) SELECT CAST(SUBSTR(f.period, 1, 4) AS BIGINT) * 100 + CAST(SUBSTR(f.period, 6, 2) AS BIGINT), i.id, MAX(f.submission_id), {} FROM legacy_facts f JOIN org_ids i ON i.code = f.unit_code GROUP BY f.period, i.id",
            cols.unit_list,
            pivots.join(", ")
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(&mut **tx)
            .await?;
    }
    let moved: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT CAST({} AS BIGINT) FROM unit_figures",
        cols.figure_count()
    )))
    .fetch_one(&mut **tx)
    .await?;
    anyhow::ensure!(
        moved == facts,
        "{facts} figures in the old layout but {moved} after the conversion; nothing was changed"
    );
    sqlx::query("DROP TABLE legacy_facts")
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE legacy_conversion SET pending = 0")
        .execute(&mut **tx)
        .await?;
    let rollups = super::rollups::rebuild_in(tx, cols, None).await?;
    sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, 'migrate', 'warehouse_converted', $2)")
        .bind(now())
        .bind(format!(
            "{facts} figures moved to one row per unit and month; {rollups} roll-up rows recomputed"
        ))
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A unit row's figures from column `start` on, one per slot.
pub(crate) fn unit_row(r: &DbRow, start: usize, width: usize) -> Vec<Option<i64>> {
    (start..start + width).map(|i| r.get(i)).collect()
}

/// A roll-up row: `reported_units, reported_reporters, s_…, n_…` from `start` on.
pub(crate) fn rollup_row(r: &DbRow, start: usize, width: usize) -> RollupRow {
    let first = start + 2;
    RollupRow {
        reported_units: r.get(start),
        reported_reporters: r.get(start + 1),
        sums: (first..first + width).map(|i| r.get(i)).collect(),
        counts: (first + width..first + 2 * width)
            .map(|i| r.get(i))
            .collect(),
    }
}
