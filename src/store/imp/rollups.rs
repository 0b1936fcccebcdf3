//! Full recomputation of roll-ups: the trees read once (one per stretch of
//! months between tree changes, and the current one), then each month's unit
//! rows streamed in primary-key order into a ledger and spread over the
//! ancestors of the month's tree (and, for months before the newest tree
//! change, of the current tree); one pass per month and view, months in
//! parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures::{StreamExt, TryStreamExt};
use sqlx::{Row, Transaction};
use unionstat_core::form::MONTHLY;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::ledger::{combine, Ledger, NodeId, RollupRow};
use unionstat_core::Period;

use super::accept::apply_deltas;
use super::columns::{rollup_row, unit_row};
use super::{Db, Repo};
use crate::store::columns::{Columns, FormSlots};
use crate::store::now;
use crate::store::orgs::{lineage, tree_sql, TreeAt};
use crate::store::rollups::{RollupTable, VerifyReport};

type Conn = <Db as sqlx::Database>::Connection;
/// A month's roll-up rows by org id.
type Table = BTreeMap<NodeId, RollupRow>;

/// The tree as the recomputation needs it: one month's, or the current one.
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
    /// The current tree only: a unit merged into another → the unit whose
    /// figures it now counts in (after merging A and B into C, A and B count
    /// as C).
    identity: HashMap<NodeId, NodeId>,
}

impl Tree {
    pub(crate) async fn read(conn: &mut Conn, at: TreeAt) -> sqlx::Result<Tree> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT i.id, o.code, o.path, o.kind, o.expected_to_report FROM {} o JOIN org_ids i ON i.code = o.code",
            tree_sql(at)
        )))
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
        if at == TreeAt::Current {
            let links: Vec<(NodeId, NodeId)> = sqlx::query(
                "SELECT a.id, b.id FROM org_successors s JOIN org_ids a ON a.code = s.code JOIN org_ids b ON b.code = s.successor",
            )
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
            let next: HashMap<NodeId, NodeId> = links.into_iter().collect();
            for &from in next.keys() {
                // Follow the chain to a unit of the current tree (a bounded walk:
                // a loop of successors ends it).
                let mut cur = from;
                for _ in 0..64 {
                    match next.get(&cur) {
                        Some(&n) if !tree.parent.contains_key(&cur) => cur = n,
                        _ => break,
                    }
                }
                if cur != from && tree.parent.contains_key(&cur) {
                    tree.identity.insert(from, cur);
                }
            }
        }
        Ok(tree)
    }

    fn code(&self, id: NodeId) -> String {
        self.codes
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("#{id}"))
    }

    /// The unit a row of `unit` counts as in this tree.
    pub(crate) fn identity_of(&self, unit: NodeId) -> NodeId {
        self.identity.get(&unit).copied().unwrap_or(unit)
    }

    /// Whether some unit counts as another here (merges in the current tree).
    pub(crate) fn has_merges(&self) -> bool {
        !self.identity.is_empty()
    }

    /// Every unit of a merge: those that count as another and those they
    /// count as.
    pub(crate) fn merged_units(&self) -> BTreeSet<NodeId> {
        self.identity
            .iter()
            .flat_map(|(&from, &to)| [from, to])
            .collect()
    }

    pub(crate) fn parent_of(&self, unit: NodeId) -> Option<NodeId> {
        self.parent.get(&unit).copied()
    }

    pub(crate) fn line_of(&self, node: NodeId) -> Option<&[NodeId]> {
        self.lines.get(&node).map(Vec::as_slice)
    }

    pub(crate) fn reporter(&self, code: &str) -> Option<NodeId> {
        self.reporters.get(code).copied()
    }
}

/// The trees of the months asked, read once per stretch of months that share
/// one (the months between two tree changes), and the current tree.
pub(crate) struct Trees {
    /// Stretch start → its tree.
    by_start: BTreeMap<i64, Tree>,
    pub(crate) current: Tree,
}

impl Trees {
    pub(crate) async fn read(conn: &mut Conn, months: &[Period]) -> sqlx::Result<Trees> {
        let bounds: Vec<i64> = sqlx::query_scalar(
            "SELECT valid_from FROM org_versions UNION SELECT valid_to FROM org_versions",
        )
        .fetch_all(&mut *conn)
        .await?;
        let bounds: BTreeSet<i64> = bounds.into_iter().collect();
        let mut by_start = BTreeMap::new();
        for m in months {
            let start = stretch_start(&bounds, m.key());
            if let std::collections::btree_map::Entry::Vacant(e) = by_start.entry(start) {
                e.insert(Tree::read(conn, TreeAt::Month(*m)).await?);
            }
        }
        let current = Tree::read(conn, TreeAt::Current).await?;
        Ok(Trees { by_start, current })
    }

    /// The tree in force in `month` (read by [`Trees::read`] for it).
    fn at(&self, month: Period) -> &Tree {
        self.by_start
            .range(..=month.key())
            .next_back()
            .map(|(_, t)| t)
            .unwrap_or(&self.current)
    }

    fn tree(&self, table: RollupTable, month: Period) -> &Tree {
        match table {
            RollupTable::AsReported => self.at(month),
            RollupTable::Restated => &self.current,
        }
    }
}

fn stretch_start(bounds: &BTreeSet<i64>, key: i64) -> i64 {
    bounds.range(..=key).next_back().copied().unwrap_or(0)
}

/// One period of roll-ups: a month of the monthly form, or a period of
/// another form stored under its key (slot · 10⁷ + period key).
#[derive(Debug, Clone)]
pub(crate) struct Slice {
    /// The storage key of its rows.
    key: i64,
    /// The month whose tree places it (a form's period: its last month).
    month: Period,
    /// The form, and the period as its submissions name it (`2026SY`).
    form: String,
    text: String,
}

impl Slice {
    fn month(m: Period) -> Slice {
        Slice {
            key: m.key(),
            month: m,
            form: MONTHLY.to_string(),
            text: m.to_string(),
        }
    }

    /// How messages name it: `2026-10`, `annual_survey 2026SY`.
    fn label(&self) -> String {
        if self.form == MONTHLY {
            self.text.clone()
        } else {
            format!("{} {}", self.form, self.text)
        }
    }
}

/// The periods each table holds work for, with the tree that recomputes them.
type Work = Vec<(RollupTable, Slice)>;

impl Repo {
    pub async fn verify_rollups(&self, period: Option<Period>) -> sqlx::Result<VerifyReport> {
        let cols = &*self.cols;
        let (trees, work) = {
            let mut conn = self.pool.acquire().await?;
            let work = work(&mut conn, Some(&*self.forms), period, None).await?;
            let months: Vec<Period> = work.iter().map(|w| w.1.month).collect();
            (Trees::read(&mut conn, &months).await?, work)
        };
        // Months are independent (an acceptance touches one): each is compared
        // on a snapshot of its own, several at a time.
        let trees = &trees;
        let compared: Vec<(RollupTable, Slice, Table, Table)> = futures::stream::iter(work)
            .map(|(table, slice)| async move {
                let mut tx = super::super::begin_snapshot(&self.pool).await?;
                let full = compute_month(&mut tx, cols, trees, table, &slice).await?;
                let stored = stored_month(&mut tx, cols, table, slice.key).await?;
                tx.rollback().await?;
                Ok::<_, sqlx::Error>((table, slice, full, stored))
            })
            .buffered(self.month_parallelism(0))
            .try_collect()
            .await?;
        let mut report = VerifyReport::default();
        for (table, slice, full, stored) in &compared {
            let tree = trees.tree(*table, slice.month);
            report.compare_month(*table, &slice.label(), full, stored, cols.metrics(), |n| {
                tree.code(n)
            });
        }
        // No restated row may outlive the newest tree change.
        let newest = newest_from(&mut *self.pool.acquire().await?).await?;
        let stale: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM rollup_restated WHERE period >= $1")
                .bind(newest)
                .fetch_one(&self.pool)
                .await?;
        if stale > 0 {
            report.mismatch_count += 1;
            report.mismatches.push(format!(
                "{stale} restated roll-up rows from {newest} on, where the current tree is the tree of the month"
            ));
        }
        Ok(report)
    }

    pub async fn rebuild_rollups(&self, period: Option<Period>) -> sqlx::Result<usize> {
        let cols = &*self.cols;
        let mut tx = self.begin_write().await?;
        // No acceptance may move a roll-up between the recomputation and the
        // write: on SQLite the write lock is ours, on PostgreSQL the table.
        super::super::lock_tree_shared(&mut tx).await?;
        super::super::lock_rollups(&mut tx).await?;
        let work = work(&mut tx, Some(&*self.forms), period, None).await?;
        let months: Vec<Period> = work.iter().map(|w| w.1.month).collect();
        let trees = Trees::read(&mut tx, &months).await?;
        // The months are read on other connections, several at a time: they see
        // what is committed, which no one can change while the lock is held.
        let trees = &trees;
        let computed: Vec<(RollupTable, Slice, Table)> = futures::stream::iter(work)
            .map(|(table, slice)| async move {
                let mut conn = self.pool.acquire().await?;
                let t = compute_month(&mut conn, cols, trees, table, &slice).await?;
                Ok::<_, sqlx::Error>((table, slice, t))
            })
            .buffered(self.month_parallelism(1))
            .try_collect()
            .await?;
        let mut rows = 0;
        for (table, slice, computed) in &computed {
            rows += replace_month(&mut tx, cols, *table, slice.key, computed).await?;
        }
        clear_stale_restated(&mut tx).await?;
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

/// The first month of the current tree (see `tree_state`).
pub(crate) async fn newest_from(conn: &mut Conn) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT newest_from FROM tree_state WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
}

async fn clear_stale_restated(tx: &mut Transaction<'static, Db>) -> sqlx::Result<()> {
    let newest = newest_from(tx).await?;
    sqlx::query("DELETE FROM rollup_restated WHERE period >= $1")
        .bind(newest)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
    let work = work(tx, None, period, None).await?;
    recompute_in(tx, cols, work).await
}

/// After a tree change effective from month key `from`: every month from
/// `from` on is recomputed under its (new) tree (and every period of another
/// form whose last month is), and every month before the newest change under
/// the (new) current tree; restated rows of months that now read the current
/// tree are dropped.
pub(crate) async fn after_tree_change(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    forms: &FormSlots,
    from: i64,
) -> sqlx::Result<usize> {
    let work = work(tx, Some(forms), None, Some(from)).await?;
    recompute_in(tx, cols, work).await
}

async fn recompute_in(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    work: Work,
) -> sqlx::Result<usize> {
    let months: Vec<Period> = work.iter().map(|w| w.1.month).collect();
    let trees = Trees::read(tx, &months).await?;
    let mut written = 0;
    for (table, slice) in work {
        let t = compute_month(tx, cols, &trees, table, &slice).await?;
        written += replace_month(tx, cols, table, slice.key, &t).await?;
    }
    clear_stale_restated(tx).await?;
    Ok(written)
}

/// Writes a period's recomputed roll-ups (storage key `key`) in place of the
/// stored ones.
async fn replace_month(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    table: RollupTable,
    key: i64,
    rows: &Table,
) -> sqlx::Result<usize> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "DELETE FROM {} WHERE period = $1",
        table.name()
    )))
    .bind(key)
    .execute(&mut **tx)
    .await?;
    apply_deltas(tx, cols, table, key, rows).await?;
    Ok(rows.len())
}

/// What to recompute: for the as-reported table the month asked, or every
/// month with unit rows, roll-up rows or accepted submissions (only those from
/// `changed_from` on, after a tree change), and, when `forms` is given, every
/// period of another form stored or accepted (placed by its last month); for
/// the restated table the same months that lie before the newest tree change
/// (another form's roll-ups are kept as reported only).
async fn work(
    conn: &mut Conn,
    forms: Option<&FormSlots>,
    period: Option<Period>,
    changed_from: Option<i64>,
) -> sqlx::Result<Work> {
    let newest = newest_from(conn).await?;
    let mut slices: BTreeMap<i64, Slice> = BTreeMap::new();
    let form_slice = |forms: &FormSlots, key: i64| {
        let (form, p) = forms.of_key(key)?;
        Some(Slice {
            key,
            month: p.last(),
            form: form.to_string(),
            text: p.to_string(),
        })
    };
    if let Some(p) = period {
        slices.insert(p.key(), Slice::month(p));
    } else {
        for sql in [
            "SELECT DISTINCT period FROM unit_figures",
            "SELECT DISTINCT period FROM rollup_figures",
            "SELECT DISTINCT period FROM rollup_restated",
        ] {
            let keys: Vec<i64> = sqlx::query_scalar(sql).fetch_all(&mut *conn).await?;
            for key in keys {
                let slice = match (Period::from_key(key), forms) {
                    (Some(m), _) => Some(Slice::month(m)),
                    (None, Some(f)) => form_slice(f, key),
                    (None, None) => None,
                };
                if let Some(s) = slice {
                    slices.insert(key, s);
                }
            }
        }
        let accepted: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT form, period FROM submissions WHERE status = 'accepted' AND period IS NOT NULL",
        )
        .fetch_all(&mut *conn)
        .await?;
        for (form, text) in &accepted {
            let slice = match (form.as_str(), forms) {
                (MONTHLY, _) => text.parse::<Period>().ok().map(Slice::month),
                (_, Some(f)) => text
                    .parse::<ReportPeriod>()
                    .ok()
                    .and_then(|p| form_slice(f, f.key(form, &p)?)),
                (_, None) => None,
            };
            if let Some(s) = slice {
                slices.insert(s.key, s);
            }
        }
    }
    let mut out = Vec::new();
    for s in slices.into_values() {
        let restated = s.form == MONTHLY && s.key < newest;
        if changed_from.is_none_or(|f| s.month.key() >= f) {
            out.push((RollupTable::AsReported, s.clone()));
        }
        if restated {
            out.push((RollupTable::Restated, s));
        }
    }
    Ok(out)
}

/// One month's roll-ups of `table` (under the month's tree or the current
/// one, as the table is kept): the database sums the
/// month's unit rows per parent federation (about one row per reporter comes
/// back instead of one per unit), then the ledger spreads each parent's sums
/// over its lineage, as the incremental accept does. Units that count as
/// another (merges, in the current tree) are combined first, so the merged unit
/// counts once: the sum of its own row is taken back out and the combination
/// put in.
async fn compute_month(
    conn: &mut Conn,
    cols: &Columns,
    trees: &Trees,
    table: RollupTable,
    slice: &Slice,
) -> sqlx::Result<Table> {
    let month = slice.month;
    let (tree, at) = (trees.tree(table, month), table.tree_at(month));
    let width = cols.width();
    let mut ledger = Ledger::new(width);
    // The form's own columns only: another form's are empty in these rows,
    // and summing them doubled the work of a month once forms came.
    let slots = cols.form_slots(&slice.form);
    if !slots.is_empty() {
        // Grassroots units' rows, summed per parent; then a federation's own
        // row (a form it reports about itself), which counts in its own
        // roll-up.
        let by_parent = (
            "p",
            "JOIN org_ids p ON p.code = o.parent_code",
            "o.kind = 'grassroots'",
        );
        let own = ("u", "", "o.kind <> 'grassroots'");
        for (node, parent, kind) in [by_parent, own] {
            let sql = format!(
                "SELECT {node}.id, COUNT(*), {sums}, {counts} FROM unit_figures f \
                 JOIN org_ids u ON u.id = f.unit_id \
                 JOIN {tree} o ON o.code = u.code \
                 {parent} \
                 WHERE f.period = $1 AND {kind} AND ({any}) \
                 GROUP BY {node}.id",
                sums = cols.slot_list(&slots, "CAST(SUM(f.m_", ") AS BIGINT)", ", "),
                counts = cols.slot_list(&slots, "COUNT(f.m_", ")", ", "),
                tree = tree_sql(at),
                any = cols.slot_list(&slots, "f.m_", " IS NOT NULL", " OR "),
            );
            let mut rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(slice.key)
                .fetch(&mut *conn);
            while let Some(r) = rows.try_next().await? {
                let parent: NodeId = r.get(0);
                let n = slots.len();
                let mut row = RollupRow {
                    sums: vec![0; width],
                    counts: vec![0; width],
                    reported_units: r.get(1),
                    reported_reporters: 0,
                };
                for (j, &slot) in slots.iter().enumerate() {
                    row.sums[slot] = r.get::<Option<i64>, _>(2 + j).unwrap_or(0);
                    row.counts[slot] = r.get(2 + n + j);
                }
                ledger.add(parent, &row);
            }
        }
    }
    if tree.has_merges() {
        merge_corrections(conn, cols, tree, slice.key, &mut ledger).await?;
    }
    let reporters: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT reporter FROM submissions WHERE status = 'accepted' AND period = $1 AND form = $2",
    )
    .bind(&slice.text)
    .bind(&slice.form)
    .fetch_all(&mut *conn)
    .await?;
    for r in reporters {
        if let Some(id) = tree.reporter(&r) {
            ledger.reporter(id, 1);
        }
    }
    Ok(ledger.spread(|n| tree.line_of(n)))
}

/// Merged units in a month's ledger summed per parent: each surviving unit's
/// own row (counted by the sum, if it is in the tree) leaves, and the
/// combination of the rows of every unit that counts as it arrives, once.
async fn merge_corrections(
    conn: &mut Conn,
    cols: &Columns,
    tree: &Tree,
    key: i64,
    ledger: &mut Ledger,
) -> sqlx::Result<()> {
    let width = cols.width();
    let ids = tree.merged_units();
    let list = ids
        .iter()
        .map(NodeId::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT unit_id, {} FROM unit_figures WHERE period = $1 AND unit_id IN ({list})",
        cols.unit_list
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(&mut *conn)
        .await?;
    let mut merged: BTreeMap<NodeId, Vec<Option<i64>>> = BTreeMap::new();
    for r in &rows {
        let unit: NodeId = r.get(0);
        let figures = unit_row(r, 1, width);
        let id = tree.identity_of(unit);
        if id == unit {
            // Counted by the sum as a unit of its own.
            if let Some(parent) = tree.parent_of(unit) {
                ledger.unit(parent, &figures, -1);
            }
        }
        combine(
            merged.entry(id).or_insert_with(|| vec![None; width]),
            &figures,
        );
    }
    for (id, figures) in &merged {
        if let Some(parent) = tree.parent_of(*id) {
            ledger.unit(parent, figures, 1);
        }
    }
    Ok(())
}

/// One period's roll-up rows as stored (storage key `key`).
async fn stored_month(
    conn: &mut Conn,
    cols: &Columns,
    table: RollupTable,
    key: i64,
) -> sqlx::Result<Table> {
    let sql = format!(
        "SELECT org_id, reported_units, reported_reporters, {} FROM {} WHERE period = $1",
        cols.rollup_list,
        table.name()
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .fetch_all(&mut *conn)
        .await?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), rollup_row(r, 1, cols.width())))
        .collect())
}
