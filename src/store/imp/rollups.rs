//! Full recomputation of roll-ups: the trees read once (one per stretch of
//! months between tree changes, and the current one), then each month's unit
//! rows summed per parent federation by the database into a ledger and spread
//! over the ancestors of the month's tree; for months before the newest tree
//! change the same ledger, with the few units placed elsewhere in the current
//! tree moved, is spread over the current tree. One scan per month, months in
//! parallel.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use futures::{StreamExt, TryStreamExt};
use sqlx::{QueryBuilder, Row, Transaction};
use unionstat_core::form::MONTHLY;
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::ledger::{combine, Ledger, NodeId, RollupRow};
use unionstat_core::Period;

use super::accept::apply_deltas;
use super::columns::{rollup_row, unit_row};
use super::{Db, Repo};
use crate::store::columns::{Columns, FormSlots};
use crate::store::orgs::{lineage, tree_sql, TreeAt};
use crate::store::rollups::{RollupTable, VerifyReport};
use crate::store::{now, BATCH};

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
    /// Nodes that are not grassroots units: a row of their own counts in
    /// their own roll-up.
    own: HashSet<NodeId>,
    /// Every node's code, for messages.
    codes: HashMap<NodeId, String>,
    /// The current tree only: a unit merged into another → the unit whose
    /// figures it now counts in (after merging A and B into C, A and B count
    /// as C).
    identity: HashMap<NodeId, NodeId>,
}

/// `(parent, first id, last id)`: consecutive grassroots unit ids under one parent.
type Run = (NodeId, NodeId, NodeId);

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
            if kind != "grassroots" {
                tree.own.insert(id);
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

    /// Where a unit's row lands in the ledger of this tree: a grassroots
    /// unit's at its parent, another node's at itself; None outside the tree.
    fn place(&self, unit: NodeId) -> Option<NodeId> {
        self.parent_of(unit)
            .or_else(|| self.own.contains(&unit).then_some(unit))
    }

    /// Runs of consecutive ids among `ids` (every node's, ascending) of
    /// grassroots units with one parent: `(parent, first id, last id)`. A
    /// node of another parent, or not a grassroots unit here, ends a run.
    fn runs(&self, ids: &[NodeId]) -> Vec<Run> {
        let mut runs: Vec<Run> = Vec::new();
        let mut open = false;
        for &id in ids {
            match (self.parent_of(id), runs.last_mut()) {
                (Some(p), Some(run)) if open && run.0 == p => run.2 = id,
                (Some(p), _) => {
                    runs.push((p, id, id));
                    open = true;
                }
                (None, _) => open = false,
            }
        }
        runs
    }

    /// The units whose rows land elsewhere (or nowhere) in `other`.
    fn moved_in(&self, other: &Tree) -> BTreeSet<NodeId> {
        let mut moved = BTreeSet::new();
        for (a, b) in [(self, other), (other, self)] {
            for &u in a.parent.keys().chain(&a.own) {
                if a.place(u) != b.place(u) {
                    moved.insert(u);
                }
            }
        }
        moved
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
///
/// Each tree comes with what the recomputation derives from it alone, made
/// once per stretch rather than once per month (a [`Stretch`]).
pub(crate) struct Trees {
    /// Stretch start → its tree.
    by_start: BTreeMap<i64, Stretch>,
    current: Stretch,
}

/// A tree and what the recomputation derives from it, made together so that
/// neither can be had without the other.
struct Stretch {
    tree: Tree,
    /// Its runs of consecutive unit ids under one parent ([`Tree::runs`]).
    runs: Vec<Run>,
    /// The units it places differently from the current tree
    /// ([`Tree::moved_in`]); none for the current tree itself.
    moved: Vec<NodeId>,
}

impl Trees {
    pub(crate) async fn read(conn: &mut Conn, months: &[Period]) -> sqlx::Result<Trees> {
        let bounds: Vec<i64> = sqlx::query_scalar(
            "SELECT valid_from FROM org_versions UNION SELECT valid_to FROM org_versions",
        )
        .fetch_all(&mut *conn)
        .await?;
        let bounds: BTreeSet<i64> = bounds.into_iter().collect();
        let mut month_trees = BTreeMap::new();
        for m in months {
            let start = stretch_start(&bounds, m.key());
            if let std::collections::btree_map::Entry::Vacant(e) = month_trees.entry(start) {
                e.insert(Tree::read(conn, TreeAt::Month(*m)).await?);
            }
        }
        let current = Tree::read(conn, TreeAt::Current).await?;
        // Every node's id, ascending (the trees' and any other).
        let ids: Vec<NodeId> = sqlx::query_scalar("SELECT id FROM org_ids ORDER BY id")
            .fetch_all(&mut *conn)
            .await?;
        let by_start = month_trees
            .into_iter()
            .map(|(start, tree)| {
                let stretch = Stretch {
                    runs: tree.runs(&ids),
                    moved: tree.moved_in(&current).into_iter().collect(),
                    tree,
                };
                (start, stretch)
            })
            .collect();
        let current = Stretch {
            runs: current.runs(&ids),
            moved: Vec::new(),
            tree: current,
        };
        Ok(Trees { by_start, current })
    }

    /// The tree of `table` in `month`, with what is derived from it: the one
    /// in force in that month (read by [`Trees::read`] for it) or the current.
    fn stretch(&self, table: RollupTable, month: Period) -> &Stretch {
        match table {
            RollupTable::AsReported => self
                .by_start
                .range(..=month.key())
                .next_back()
                .map(|(_, s)| s)
                .unwrap_or(&self.current),
            RollupTable::Restated => &self.current,
        }
    }

    fn tree(&self, table: RollupTable, month: Period) -> &Tree {
        &self.stretch(table, month).tree
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

/// Which views of a period are recomputed.
#[derive(Debug, Clone, Copy)]
struct Views {
    as_reported: bool,
    restated: bool,
}

impl Views {
    fn tables(self) -> impl Iterator<Item = RollupTable> {
        [
            (self.as_reported, RollupTable::AsReported),
            (self.restated, RollupTable::Restated),
        ]
        .into_iter()
        .filter_map(|(on, t)| on.then_some(t))
    }
}

/// The periods to recompute, each with the views it is recomputed for.
type Work = Vec<(Slice, Views)>;

/// A period's recomputed roll-ups, one table per view asked.
type Computed = Vec<(RollupTable, Table)>;

/// A period's recomputed and stored roll-ups, per view asked.
type Compared = Vec<(RollupTable, Table, Table)>;

impl Repo {
    pub async fn verify_rollups(&self, period: Option<Period>) -> sqlx::Result<VerifyReport> {
        let cols = &*self.cols;
        let (trees, work) = {
            let mut conn = self.pool.acquire().await?;
            let work = work(&mut conn, Some(&*self.forms), period, None).await?;
            let months: Vec<Period> = work.iter().map(|w| w.0.month).collect();
            (Trees::read(&mut conn, &months).await?, work)
        };
        // Months are independent (an acceptance touches one): each is compared
        // on a snapshot of its own, several at a time.
        let trees = &trees;
        let compared: Vec<(Slice, Compared)> = futures::stream::iter(work)
            .map(|(slice, views)| async move {
                let mut tx = super::super::begin_snapshot(&self.pool).await?;
                let mut both = Vec::new();
                for (table, full) in compute_slice(&mut tx, cols, trees, &slice, views).await? {
                    let stored = stored_month(&mut tx, cols, table, slice.key).await?;
                    both.push((table, full, stored));
                }
                tx.rollback().await?;
                Ok::<_, sqlx::Error>((slice, both))
            })
            .buffered(self.month_parallelism(0))
            .try_collect()
            .await?;
        let mut report = VerifyReport::default();
        for (slice, both) in &compared {
            for (table, full, stored) in both {
                let tree = trees.tree(*table, slice.month);
                report.compare_month(*table, &slice.label(), full, stored, cols.metrics(), |n| {
                    tree.code(n)
                });
            }
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
        let months: Vec<Period> = work.iter().map(|w| w.0.month).collect();
        let trees = Trees::read(&mut tx, &months).await?;
        // The months are read on other connections, several at a time: they see
        // what is committed, which no one can change while the lock is held.
        let trees = &trees;
        let computed: Vec<(Slice, Computed)> = futures::stream::iter(work)
            .map(|(slice, views)| async move {
                let mut conn = self.pool.acquire().await?;
                let t = compute_slice(&mut conn, cols, trees, &slice, views).await?;
                Ok::<_, sqlx::Error>((slice, t))
            })
            .buffered(self.month_parallelism(1))
            .try_collect()
            .await?;
        let mut rows = 0;
        for (slice, tables) in &computed {
            for (table, computed) in tables {
                rows += replace_month(&mut tx, cols, *table, slice.key, computed).await?;
            }
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
    let months: Vec<Period> = work.iter().map(|w| w.0.month).collect();
    let trees = Trees::read(tx, &months).await?;
    let mut written = 0;
    for (slice, views) in work {
        for (table, t) in compute_slice(tx, cols, &trees, &slice, views).await? {
            written += replace_month(tx, cols, table, slice.key, &t).await?;
        }
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
    Ok(slices
        .into_values()
        .filter_map(|s| {
            let views = Views {
                as_reported: changed_from.is_none_or(|f| s.month.key() >= f),
                restated: s.form == MONTHLY && s.key < newest,
            };
            (views.as_reported || views.restated).then_some((s, views))
        })
        .collect())
}

/// A period's roll-ups in each view asked, from one scan of its unit rows:
/// the database sums the rows per parent federation under the tree of the
/// first view (about one row per reporter comes back instead of one per
/// unit); the current tree's view of a month before the newest tree change
/// starts from the same sums and moves only the units whose rows land
/// elsewhere in it, read by id (a change of the tree moves few units; moving
/// a town moves none, only its lineage). Then, per view, units merged into
/// one are combined (the current tree), the accepted reporters counted and
/// the ledger spread over the view's tree, as the incremental accept does.
async fn compute_slice(
    conn: &mut Conn,
    cols: &Columns,
    trees: &Trees,
    slice: &Slice,
    views: Views,
) -> sqlx::Result<Computed> {
    let month = slice.month;
    // The form's own columns only: another form's are empty in these rows,
    // and summing them doubled the work of a month once forms came.
    let slots = cols.form_slots(&slice.form);
    let mut tables = views.tables();
    let Some(first) = tables.next() else {
        return Ok(Vec::new());
    };
    let base = scan(conn, cols, &slots, trees.stretch(first, month), slice.key).await?;
    let second = match tables.next() {
        Some(table) => {
            let (from, to) = (trees.stretch(first, month), trees.tree(table, month));
            let mut ledger = base.clone();
            // The second view is the current tree's (the first the month's).
            let moved = &from.moved;
            let place = (&from.tree, to);
            move_units(conn, cols, &slots, slice.key, moved, place, &mut ledger).await?;
            Some((table, ledger))
        }
        None => None,
    };
    let reporters: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT reporter FROM submissions WHERE status = 'accepted' AND period = $1 AND form = $2",
    )
    .bind(&slice.text)
    .bind(&slice.form)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(2);
    for (table, mut ledger) in std::iter::once((first, base)).chain(second) {
        let tree = trees.tree(table, month);
        if tree.has_merges() {
            merge_corrections(conn, cols, &slots, (tree, slice.key), &mut ledger).await?;
        }
        for r in &reporters {
            if let Some(id) = tree.reporter(r) {
                ledger.reporter(id, 1);
            }
        }
        out.push((table, ledger.spread(|n| tree.line_of(n))));
    }
    Ok(out)
}

/// The unit rows of period `key` summed where they land in `tree`: grassroots
/// units' per parent, a federation's own row (a form it reports about
/// itself) at itself. Only `slots` are read.
///
/// Units are numbered as they were imported, so a parent's units mostly hold
/// consecutive ids: the database sums each run of consecutive ids that land
/// at one parent (a range of the primary key, `(period, unit_id)`), with no
/// join and no sort, and rows of other nodes read by id. A unit that moved
/// splits a run in two; the sums are the same however the runs fall.
async fn scan(
    conn: &mut Conn,
    cols: &Columns,
    slots: &[usize],
    stretch: &Stretch,
    key: i64,
) -> sqlx::Result<Ledger> {
    let width = cols.width();
    let mut ledger = Ledger::new(width);
    if slots.is_empty() {
        return Ok(ledger);
    }
    let sql = format!(
        "SELECT COUNT(*), {sums}, {counts} FROM unit_figures f \
         WHERE f.period = $1 AND f.unit_id BETWEEN $2 AND $3 AND ({any})",
        sums = cols.slot_list(slots, "CAST(SUM(f.m_", ") AS BIGINT)", ", "),
        counts = cols.slot_list(slots, "COUNT(f.m_", ")", ", "),
        any = cols.slot_list(slots, "f.m_", " IS NOT NULL", " OR "),
    );
    let n = slots.len();
    for &(parent, lo, hi) in &stretch.runs {
        let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(key)
            .bind(lo)
            .bind(hi)
            .fetch_one(&mut *conn)
            .await?;
        let reported: i64 = r.get(0);
        if reported == 0 {
            continue;
        }
        let mut row = RollupRow {
            sums: vec![0; width],
            counts: vec![0; width],
            reported_units: reported,
            reported_reporters: 0,
        };
        for (j, &slot) in slots.iter().enumerate() {
            row.sums[slot] = r.get::<Option<i64>, _>(1 + j).unwrap_or(0);
            row.counts[slot] = r.get(1 + n + j);
        }
        ledger.add(parent, &row);
    }
    let own: Vec<NodeId> = stretch.tree.own.iter().copied().collect();
    rows_of(conn, cols, slots, key, &own, |unit, figures| {
        ledger.unit(unit, figures, 1)
    })
    .await?;
    Ok(ledger)
}

/// Moves the rows of `moved` (period `key`, `slots` only) in a ledger summed
/// under `from` to where they land under `to`.
async fn move_units(
    conn: &mut Conn,
    cols: &Columns,
    slots: &[usize],
    key: i64,
    moved: &[NodeId],
    (from, to): (&Tree, &Tree),
    ledger: &mut Ledger,
) -> sqlx::Result<()> {
    rows_of(conn, cols, slots, key, moved, |unit, figures| {
        if let Some(at) = from.place(unit) {
            ledger.unit(at, figures, -1);
        }
        if let Some(at) = to.place(unit) {
            ledger.unit(at, figures, 1);
        }
    })
    .await
}

/// The rows of `units` in period `key`, `slots` only (the other slots None),
/// each given to `each`.
async fn rows_of(
    conn: &mut Conn,
    cols: &Columns,
    slots: &[usize],
    key: i64,
    units: &[NodeId],
    mut each: impl FnMut(NodeId, &[Option<i64>]),
) -> sqlx::Result<()> {
    if slots.is_empty() || units.is_empty() {
        return Ok(());
    }
    let width = cols.width();
    let mut asked = vec![false; width];
    for &s in slots {
        asked[s] = true;
    }
    for chunk in units.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT unit_id, {} FROM unit_figures WHERE period = ",
            cols.unit_list
        ));
        qb.push_bind(key).push(" AND ");
        super::push_unit_ids(&mut qb, "unit_id", chunk);
        let rows = qb.build().fetch_all(&mut *conn).await?;
        for r in &rows {
            let figures: Vec<Option<i64>> = unit_row(r, 1, width)
                .into_iter()
                .zip(&asked)
                .map(|(v, &on)| v.filter(|_| on))
                .collect();
            each(r.get(0), &figures);
        }
    }
    Ok(())
}

/// Merged units in a month's ledger summed per parent: each surviving unit's
/// own row (counted by the sum, if it is in the tree) leaves, and the
/// combination of the rows of every unit that counts as it arrives, once.
async fn merge_corrections(
    conn: &mut Conn,
    cols: &Columns,
    slots: &[usize],
    (tree, key): (&Tree, i64),
    ledger: &mut Ledger,
) -> sqlx::Result<()> {
    let width = cols.width();
    let ids: Vec<NodeId> = tree.merged_units().into_iter().collect();
    let mut merged: BTreeMap<NodeId, Vec<Option<i64>>> = BTreeMap::new();
    rows_of(conn, cols, slots, key, &ids, |unit, figures| {
        let id = tree.identity_of(unit);
        if id == unit {
            // Counted by the sum as a unit of its own.
            if let Some(parent) = tree.parent_of(unit) {
                ledger.unit(parent, figures, -1);
            }
        }
        combine(
            merged.entry(id).or_insert_with(|| vec![None; width]),
            figures,
        );
    })
    .await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_consecutive_ids_of_one_parent_and_break_at_anything_else() {
        let mut tree = Tree::default();
        for (unit, parent) in [(1, 10), (2, 10), (3, 11), (5, 10), (6, 10), (8, 11)] {
            tree.parent.insert(unit, parent);
        }
        tree.own.extend([10, 11]);
        // 4 is in no tree; 7 is a federation; 10 and 11 are federations.
        let ids = [1, 2, 3, 4, 5, 6, 7, 8, 10, 11];
        assert_eq!(
            tree.runs(&ids),
            vec![(10, 1, 2), (11, 3, 3), (10, 5, 6), (11, 8, 8)]
        );
        // A unit moved from 11 to 10 joins the runs around it.
        tree.parent.insert(3, 10);
        assert_eq!(tree.runs(&ids), vec![(10, 1, 3), (10, 5, 6), (11, 8, 8)]);
    }

    #[test]
    fn moved_units_are_those_that_land_elsewhere_or_nowhere() {
        let mut month = Tree::default();
        let mut current = Tree::default();
        for (unit, parent) in [(1, 10), (2, 10), (3, 11)] {
            month.parent.insert(unit, parent);
        }
        for (unit, parent) in [(1, 10), (2, 11), (4, 11)] {
            current.parent.insert(unit, parent);
        }
        month.own.extend([10, 11, 12]);
        current.own.extend([10, 11]);
        let moved: Vec<NodeId> = month.moved_in(&current).into_iter().collect();
        // 2 changed parent, 3 left, 4 came, 12's own row lands nowhere now.
        assert_eq!(moved, vec![2, 3, 4, 12]);
    }
}
