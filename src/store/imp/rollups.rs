//! Full recomputation of roll-ups: the org tree read once, then each month's
//! unit rows streamed in primary-key order into a ledger and spread over the
//! ancestors; no sort, no temporary B-tree, one pass per month, months in
//! parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use sqlx::{Row, Transaction};
use unionstat_core::rollup::ledger::{Ledger, NodeId, RollupRow};
use unionstat_core::Period;

use super::accept::apply_deltas;
use super::columns::{rollup_row, unit_row};
use super::{Db, Repo};
use crate::store::columns::Columns;
use crate::store::now;
use crate::store::orgs::lineage;
use crate::store::rollups::VerifyReport;

type Conn = <Db as sqlx::Database>::Connection;
/// A month's roll-up rows by org id.
type Table = BTreeMap<NodeId, RollupRow>;

/// The tree as the recomputation needs it.
#[derive(Debug, Default)]
pub(crate) struct Tree {
    /// Grassroots unit → its parent federation.
    parent: HashMap<NodeId, NodeId>,
    /// Federations and expected reporters → themselves and their ancestors.
    lines: HashMap<NodeId, Vec<NodeId>>,
    /// Reporters (federations and expected reporters) by code.
    reporters: HashMap<String, NodeId>,
    /// Every node's code, for messages.
    codes: HashMap<NodeId, String>,
}

impl Tree {
    pub(crate) async fn read(conn: &mut Conn) -> sqlx::Result<Tree> {
        let rows = sqlx::query(
            "SELECT i.id, o.code, o.path, o.kind, o.expected_to_report FROM org_units o JOIN org_ids i ON i.code = o.code",
        )
        .fetch_all(&mut *conn)
        .await?;
        let ids: HashMap<String, NodeId> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
        let mut tree = Tree::default();
        for r in &rows {
            let (id, code, path, kind, expected): (NodeId, String, String, String, bool) =
                (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4));
            let line: Vec<NodeId> = lineage(&path)
                .iter()
                .filter_map(|c| ids.get(*c).copied())
                .collect();
            if kind == "grassroots" {
                if let Some(&p) = line.len().checked_sub(2).and_then(|i| line.get(i)) {
                    tree.parent.insert(id, p);
                }
            }
            if kind == "federation" || expected {
                tree.lines.insert(id, line);
                tree.reporters.insert(code.clone(), id);
            }
            tree.codes.insert(id, code);
        }
        Ok(tree)
    }

    fn code(&self, id: NodeId) -> String {
        self.codes
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }
}

impl Repo {
    pub async fn verify_rollups(&self, period: Option<Period>) -> sqlx::Result<VerifyReport> {
        let cols = &*self.cols;
        let (tree, months) = {
            let mut conn = self.pool.acquire().await?;
            (
                Tree::read(&mut conn).await?,
                months(&mut conn, period).await?,
            )
        };
        // Months are independent (an acceptance touches one): each is compared
        // on a snapshot of its own, several at a time.
        let tree = &tree;
        let compared: Vec<(Period, Table, Table)> = futures::stream::iter(months)
            .map(|month| async move {
                let mut tx = super::super::begin_snapshot(&self.pool).await?;
                let full = compute_month(&mut tx, cols, tree, month).await?;
                let stored = stored_month(&mut tx, cols, month).await?;
                tx.rollback().await?;
                Ok::<_, sqlx::Error>((month, full, stored))
            })
            .buffered(self.month_parallelism(0))
            .try_collect()
            .await?;
        let mut report = VerifyReport::default();
        for (month, full, stored) in &compared {
            report.compare_month(*month, full, stored, cols.metrics(), |n| tree.code(n));
        }
        Ok(report)
    }

    pub async fn rebuild_rollups(&self, period: Option<Period>) -> sqlx::Result<usize> {
        let cols = &*self.cols;
        let mut tx = self.begin_write().await?;
        // No acceptance may move a roll-up between the recomputation and the
        // write: on SQLite the write lock is ours, on PostgreSQL the table.
        super::super::lock_rollups(&mut tx).await?;
        let tree = Tree::read(&mut tx).await?;
        let months = months(&mut tx, period).await?;
        // The months are read on other connections, several at a time: they see
        // what is committed, which no one can change while the lock is held.
        let tree = &tree;
        let computed: Vec<(Period, Table)> = futures::stream::iter(months)
            .map(|month| async move {
                let mut conn = self.pool.acquire().await?;
                Ok::<_, sqlx::Error>((month, compute_month(&mut conn, cols, tree, month).await?))
            })
            .buffered(self.month_parallelism(1))
            .try_collect()
            .await?;
        let mut rows = 0;
        for (month, table) in &computed {
            rows += replace_month(&mut tx, cols, *month, table).await?;
        }
        sqlx::query("INSERT INTO audit (at, actor, action, period, detail) VALUES ($1, $4, 'rollup_rebuild', $2, $3)")
            .bind(now())
            .bind(period.map(|p| p.to_string()))
            .bind(format!("{rows} roll-up rows"))
            // Rebuilds run from the command line only.
            .bind(crate::store::actor::Actor::cli().to_string())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(rows)
    }

    /// Months worked on at a time: the cores, within the pool (less the
    /// connections the caller holds).
    fn month_parallelism(&self, held: u32) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let free = self
            .pool
            .options()
            .get_max_connections()
            .saturating_sub(held);
        cores.min(free as usize).max(1)
    }

    pub async fn count_figures(&self, period: Option<Period>) -> sqlx::Result<i64> {
        let filter = if period.is_some() {
            " WHERE period = $1"
        } else {
            ""
        };
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT CAST({} AS BIGINT) FROM unit_figures{filter}",
            self.cols.figure_count()
        )));
        if let Some(p) = period {
            q = q.bind(p.key());
        }
        q.fetch_one(&self.pool).await
    }
}

/// Replaces the roll-up rows of `period` (or of every month) with a full
/// recomputation read inside the caller's write transaction (which may hold
/// rows not yet committed). Returns the rows written.
pub(crate) async fn rebuild_in(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    period: Option<Period>,
) -> sqlx::Result<usize> {
    super::super::lock_rollups(tx).await?;
    let tree = Tree::read(tx).await?;
    let mut written = 0;
    for month in months(tx, period).await? {
        let table = compute_month(tx, cols, &tree, month).await?;
        written += replace_month(tx, cols, month, &table).await?;
    }
    Ok(written)
}

/// Writes a month's recomputed roll-ups in place of the stored ones.
async fn replace_month(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    month: Period,
    table: &Table,
) -> sqlx::Result<usize> {
    sqlx::query("DELETE FROM rollup_figures WHERE period = $1")
        .bind(month.key())
        .execute(&mut **tx)
        .await?;
    apply_deltas(tx, cols, month.key(), table).await?;
    Ok(table.len())
}

/// The months to recompute: the one asked, or every month with unit rows,
/// roll-up rows or accepted submissions.
async fn months(conn: &mut Conn, period: Option<Period>) -> sqlx::Result<Vec<Period>> {
    if let Some(p) = period {
        return Ok(vec![p]);
    }
    let mut out: BTreeSet<Period> = BTreeSet::new();
    for sql in [
        "SELECT DISTINCT period FROM unit_figures",
        "SELECT DISTINCT period FROM rollup_figures",
    ] {
        let keys: Vec<i64> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await?;
        out.extend(keys.into_iter().filter_map(Period::from_key));
    }
    let accepted: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT period FROM submissions WHERE status = 'accepted' AND period IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?;
    out.extend(accepted.iter().filter_map(|p| p.parse::<Period>().ok()));
    Ok(out.into_iter().collect())
}

/// One month's roll-ups from its unit rows (streamed) and accepted reports.
async fn compute_month(
    conn: &mut Conn,
    cols: &Columns,
    tree: &Tree,
    month: Period,
) -> sqlx::Result<Table> {
    let width = cols.width();
    let mut ledger = Ledger::new(width);
    {
        let sql = format!(
            "SELECT unit_id, {} FROM unit_figures WHERE period = $1",
            cols.unit_list
        );
        let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(month.key())
            .fetch(&mut *conn);
        while let Some(r) = rows.try_next().await? {
            if let Some(&parent) = tree.parent.get(&r.get::<NodeId, _>(0)) {
                ledger.unit(parent, &unit_row(&r, 1, width), 1);
            }
        }
    }
    let reporters: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT reporter FROM submissions WHERE status = 'accepted' AND period = $1",
    )
    .bind(month.to_string())
    .fetch_all(&mut *conn)
    .await?;
    for r in reporters {
        if let Some(&id) = tree.reporters.get(&r) {
            ledger.reporter(id, 1);
        }
    }
    Ok(ledger.spread(|n| tree.lines.get(&n).map(Vec::as_slice)))
}

/// One month's roll-up rows as stored.
async fn stored_month(conn: &mut Conn, cols: &Columns, month: Period) -> sqlx::Result<Table> {
    let sql = format!(
        "SELECT org_id, reported_units, reported_reporters, {} FROM rollup_figures WHERE period = $1",
        cols.rollup_list
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(month.key())
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), rollup_row(r, 1, cols.width())))
        .collect())
}
