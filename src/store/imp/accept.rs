//! Accepting a submission: in ONE transaction the rows of the reporter's units
//! are replaced, the previous accepted submission for the same reporter and
//! period is marked superseded (kept), every ancestor's roll-up row moves by
//! exactly the ledger of the change (`unionstat_core::rollup::ledger`), and audit
//! rows record each changed figure.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use sqlx::{QueryBuilder, Row, Transaction};
use unionstat_core::rollup::ledger::{Ledger, NodeId, RollupRow};

use super::columns::unit_row;
use super::{ids_of, Db, Repo};
use crate::store::accept::{AcceptOutcome, Acceptance, AcceptedSubmission};
use crate::store::columns::Columns;
use crate::store::orgs::{lineage, tree_sql, TreeAt};
use crate::store::rollups::RollupTable;
use crate::store::{now, BATCH};

type Conn = <Db as sqlx::Database>::Connection;
use unionstat_core::form::MONTHLY;
use unionstat_core::rollup::ledger::combine;

/// A unit's row as read or written: its code, path and figures by slot (a
/// new row's may stop before the last slot: the slots after it are None). A
/// new row borrows its code and path, and its figures when the sheet's
/// columns are the warehouse's first slots in order (a template's are): a
/// large sheet is then not copied once more.
struct UnitRow<'a> {
    code: Cow<'a, str>,
    path: Cow<'a, str>,
    figures: Cow<'a, [Option<i64>]>,
}

impl Repo {
    /// Accepts a submission still in `processing`; returns None when it is not
    /// (another delivery of the same job finished it first). The store's
    /// single writer commits it with the others that are ready
    /// ([`super::writer`]), on both backends.
    pub async fn accept(&self, a: AcceptedSubmission) -> sqlx::Result<Option<AcceptOutcome>> {
        // The units are placed here, on a read connection and in parallel
        // with the other jobs; the writer checks the tree's generation.
        let placement = {
            let mut conn = self.pool.acquire().await?;
            let tree: i64 = sqlx::query_scalar("SELECT tree FROM answer_generation WHERE id = 1")
                .fetch_one(&mut *conn)
                .await?;
            Placement::read(&mut conn, &a.view(), tree).await?
        };
        self.writer().accept(a, placement).await
    }

    /// The writes of one acceptance, inside `tx` (the caller commits, or rolls
    /// back when this returns None or an error). How the roll-ups move goes
    /// to `rollups`, for the caller to write ([`RollupDeltas::apply`]).
    pub(crate) async fn accept_in(
        &self,
        mut tx: &mut Transaction<'static, Db>,
        a: &Acceptance<'_>,
        placement: &Placement,
        rollups: &mut RollupDeltas,
    ) -> sqlx::Result<Option<AcceptOutcome>> {
        let cols = &*self.cols;
        // The storage key and the period as the submissions and audit tables
        // store it (`YYYY-MM`; another form's own period, `2026SY`).
        let (form, period, period_text) = match a.form {
            Some((form, p)) => (
                form,
                self.forms.key(form, &p).ok_or_else(|| {
                    sqlx::Error::Protocol(format!(
                        "form {form} has no storage slot: the catalogue changed after the store opened; restart the service"
                    ))
                })?,
                p.to_string(),
            ),
            None => (MONTHLY, a.period.key(), a.period.to_string()),
        };
        // The month is read and moved under its tree: no tree change between.
        super::super::lock_tree_shared(tx).await?;
        // One writer per reporter and month at a time (a second delivery of the
        // same job, or a newer upload of the same sheet, waits here).
        super::super::lock_key(tx, &format!("accept|{}|{}", a.reporter, period_text)).await?;
        // The submission's state and the tree's generation, in one read.
        let state: Option<(String, i64)> = sqlx::query_as(
            "SELECT s.status, g.tree FROM submissions s, answer_generation g WHERE s.id = $1 AND g.id = 1",
        )
        .bind(a.submission_id)
        .fetch_optional(&mut **tx)
        .await?;
        let Some((status, tree)) = state else {
            return Ok(None);
        };
        if status != "processing" {
            return Ok(None);
        }
        // The units as the job placed them, unless the tree changed since.
        let placed;
        let place = match placement {
            p if p.tree == tree => p,
            _ => {
                placed = Placement::read(tx, a, tree).await?;
                &placed
            }
        };
        let prev: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM submissions WHERE reporter = $1 AND period = $2 AND status = 'accepted' AND id <> $3 AND form = $4 ORDER BY id DESC LIMIT 1",
        )
        .bind(a.reporter)
        .bind(&period_text)
        .bind(a.submission_id)
        .bind(form)
        .fetch_optional(&mut **tx)
        .await?;

        let month = TreeAt::Month(a.period);
        let (paths, ids) = (&place.paths, &place.ids);
        let listed: Vec<i64> = a
            .figures
            .rows
            .iter()
            .filter_map(|(u, _)| ids.get(u.as_str()).copied())
            .collect();

        // The rows replaced: the previous submission's rows of units still
        // under the reporter in the month's tree (a unit since moved to another
        // reporter keeps its row until that reporter sends it), and any other
        // row held for the units of this sheet.
        let mut old: BTreeMap<i64, UnitRow> = BTreeMap::new();
        if let Some(p) = prev {
            let mut qb = old_rows_query(cols, month);
            qb.push("f.submission_id = ").push_bind(p);
            collect_old(&mut tx, qb, cols, &mut old).await?;
            let own = paths.get(a.reporter).cloned().unwrap_or_default();
            old.retain(|_, u| {
                !own.is_empty()
                    && u.path.starts_with(&own)
                    && lineage(&u.path).len() == lineage(&own).len() + 1
            });
        }
        for chunk in listed.chunks(BATCH) {
            let mut qb = old_rows_query(cols, month);
            qb.push("f.period = ").push_bind(period).push(" AND ");
            super::push_unit_ids(&mut qb, "f.unit_id", chunk);
            collect_old(&mut tx, qb, cols, &mut old).await?;
        }

        // The new rows, by unit id, figures in slot order.
        let slots = a
            .figures
            .metrics
            .iter()
            .map(|m| {
                cols.slot(m).ok_or_else(|| {
                    sqlx::Error::Protocol(format!(
                        "metric {m} has no warehouse column: the catalogue changed after the store opened; restart the service"
                    ))
                })
            })
            .collect::<sqlx::Result<Vec<usize>>>()?;
        // The sheet's columns are the first slots in order (a template's):
        // its rows are the figures as they are.
        let in_slot_order = slots.iter().enumerate().all(|(i, &s)| i == s);
        let mut new: BTreeMap<i64, UnitRow> = BTreeMap::new();
        let mut facts_written = 0;
        for (unit, values) in &a.figures.rows {
            let reported = values.iter().filter(|v| v.is_some()).count();
            if reported == 0 {
                continue;
            }
            let (Some(&id), Some(path)) = (ids.get(unit), paths.get(unit)) else {
                return Err(sqlx::Error::Protocol(format!(
                    "unit {unit} is not in the master data"
                )));
            };
            facts_written += reported;
            let row = new.entry(id).or_insert_with(|| UnitRow {
                code: Cow::Borrowed(unit),
                path: Cow::Borrowed(path),
                figures: Cow::Owned(Vec::new()),
            });
            if in_slot_order && row.figures.is_empty() {
                row.figures = Cow::Borrowed(values);
                continue;
            }
            let figures = row.figures.to_mut();
            figures.resize(cols.width(), None);
            for (&slot, v) in slots.iter().zip(values) {
                if v.is_some() {
                    figures[slot] = *v;
                }
            }
        }

        // Which roll-ups move, and by how much.
        let mut lineage_codes: Vec<&str> = old
            .values()
            .chain(new.values())
            .flat_map(|u| lineage(&u.path))
            .collect();
        lineage_codes.extend(
            paths
                .get(a.reporter)
                .map(|p| lineage(p))
                .unwrap_or_default(),
        );
        lineage_codes.sort_unstable();
        lineage_codes.dedup();
        // Placed with the sheet's units; a replaced row outside them (a unit
        // the sheet no longer lists) may add a few.
        let missing: Vec<&str> = lineage_codes
            .iter()
            .copied()
            .filter(|c| !place.lineage_ids.contains_key(*c))
            .collect();
        let more = if missing.is_empty() {
            HashMap::new()
        } else {
            ids_of(&mut *tx, &missing).await?
        };
        let lineage_id = |c: &str| place.lineage_ids.get(c).or_else(|| more.get(c)).copied();
        let line = |path: &str, upto: usize| -> Vec<NodeId> {
            let codes = lineage(path);
            codes[..codes.len().saturating_sub(upto)]
                .iter()
                .filter_map(|c| lineage_id(c))
                .collect()
        };
        let mut lines: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
        let mut ledger = Ledger::new(cols.width());
        for (rows, sign) in [(&old, -1), (&new, 1)] {
            for u in rows.values() {
                // A federation's own row (a form it reports about itself)
                // counts in its own roll-up too: own + descendants'.
                let l = line(&u.path, usize::from(u.code != a.reporter));
                let Some(&parent) = l.last() else { continue };
                ledger.unit(parent, &u.figures, sign);
                lines.entry(parent).or_insert(l);
            }
        }
        if prev.is_none() {
            if let (Some(&id), Some(path)) = (ids.get(a.reporter), paths.get(a.reporter)) {
                ledger.reporter(id, 1);
                lines.entry(id).or_insert_with(|| line(path, 0));
            }
        }
        let deltas = ledger.spread(|n| lines.get(&n).map(Vec::as_slice));
        // A month before the newest tree change also moves its restatement
        // under the current tree (read before the rows are replaced).
        // Another form's roll-ups are kept as reported only (not yet restated).
        let restated = if a.form.is_none() && period < place.newest_from {
            Some(
                restated_deltas(
                    &mut tx,
                    cols,
                    period,
                    &old,
                    &new,
                    (prev.is_none()).then_some(a.reporter),
                )
                .await?,
            )
        } else {
            None
        };

        // Rows: drop what is replaced, write the new. The replaced rows' first
        // values not yet in the audit are read before they go.
        let replaced = replaced_rows(tx, period, old.keys().copied()).await?;
        let replaced_ids: Vec<i64> = old.keys().copied().collect();
        for chunk in replaced_ids.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("DELETE FROM unit_figures WHERE period = ");
            qb.push_bind(period).push(" AND ");
            super::push_unit_ids(&mut qb, "unit_id", chunk);
            qb.build().execute(&mut **tx).await?;
        }
        insert_unit_rows(tx, cols, period, a.submission_id, &new, &old).await?;

        // Audit: a unit's first row needs none (its submission says who set its
        // figures). When a row is replaced, its first values get their audit
        // rows (attributed to the submission that set them, at its time), then
        // every figure that changed, appeared or disappeared.
        let stamp = now();
        let mut audit = first_values(cols, &old, &replaced);
        let firsts = audit.len();
        let by = (stamp.as_str(), a.actor, a.submission_id);
        audit.extend(changes(cols, &old, &new, by));
        let changes_len = audit.len() - firsts;
        for chunk in audit.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                "INSERT INTO audit (at, actor, action, submission_id, unit_code, period, metric, old_value, new_value) ",
            );
            qb.push_values(chunk, |mut b, c| {
                b.push_bind(c.at)
                    .push_bind(c.actor)
                    .push_bind(if c.new.is_some() {
                        "fact_set"
                    } else {
                        "fact_removed"
                    })
                    .push_bind(c.submission_id)
                    .push_bind(c.unit)
                    .push_bind(&period_text)
                    .push_bind(c.metric)
                    .push_bind(c.old)
                    .push_bind(c.new);
            });
            qb.build().execute(&mut **tx).await?;
        }

        let rollup_rows = deltas.len();
        rollups.add(RollupTable::AsReported, period, deltas);
        if let Some(r) = restated {
            rollups.add(RollupTable::Restated, period, r);
        }
        // A locked month changed by an admin: the reason goes to the audit.
        if a.lock_override {
            super::approvals::audit_lock_override(
                &mut tx,
                a.submission_id,
                a.reporter,
                &period_text,
                &stamp,
            )
            .await?;
        }

        if let Some(p) = prev {
            sqlx::query(
                "UPDATE submissions SET status = 'superseded', superseded_by = $1 WHERE id = $2",
            )
            .bind(a.submission_id)
            .bind(p)
            .execute(&mut **tx)
            .await?;
        }
        let warnings = a.issues.len() as i64;
        sqlx::query(
            "UPDATE submissions SET status = 'accepted', reporter = $1, period = $2, issues = $3, error_count = 0, warning_count = $4, rows_read = $5, cover = $6, finished_at = $7, nil_report = $9, form = $10 WHERE id = $8",
        )
        .bind(a.reporter)
        .bind(&period_text)
        .bind(serde_json::to_string(a.issues).unwrap_or_else(|_| "[]".into()))
        .bind(warnings)
        .bind(a.rows_read as i64)
        .bind(a.cover)
        .bind(&stamp)
        .bind(a.submission_id)
        .bind(a.nil_report)
        .bind(form)
        .execute(&mut **tx)
        .await?;
        super::contacts::contact_from_cover(&mut **tx, a.reporter, a.cover, a.actor).await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, submission_id, period, detail) VALUES ($1, $2, 'submission_accepted', $3, $4, $5)",
        )
        .bind(&stamp)
        .bind(a.actor)
        .bind(a.submission_id)
        .bind(&period_text)
        .bind(match prev {
            Some(p) => format!(
                "报送单位 {0}{1}；替代报送记录 {p} / reporter {0}{1}; supersedes submission {p}",
                a.reporter,
                nil_note(a.nil_report)
            ),
            None => format!(
                "报送单位 {0}{1} / reporter {0}{1}",
                a.reporter,
                nil_note(a.nil_report)
            ),
        })
        .execute(&mut **tx)
        .await?;
        // Each explained exception (说明) in the audit, with its finding.
        for (issue, e) in a
            .issues
            .iter()
            .filter_map(|i| i.explanation.as_ref().map(|e| (i, e)))
        {
            sqlx::query(
                "INSERT INTO audit (at, actor, action, submission_id, unit_code, period, metric, detail) VALUES ($1, $2, 'issue_explained', $3, $4, $5, $6, $7)",
            )
            .bind(&stamp)
            .bind(a.actor)
            .bind(a.submission_id)
            .bind(e.unit.as_deref())
            .bind(&period_text)
            .bind(e.metric.as_deref())
            .bind(format!(
                "{} at {}!{} (value {}): {}",
                issue.rule,
                issue.sheet.as_deref().unwrap_or(""),
                issue.cell.as_deref().unwrap_or(""),
                issue.value.as_deref().unwrap_or(""),
                e.text
            ))
            .execute(&mut **tx)
            .await?;
        }
        Ok(Some(AcceptOutcome {
            superseded: prev,
            facts_written,
            facts_changed: changes_len,
            rollup_rows,
        }))
    }
}

/// Where a sheet's units and its reporter sit in the tree of its month: ids,
/// paths and the ids of their lineages, and the month of the newest tree
/// change, as read under tree generation `tree`. Read by the job before the
/// writer takes the acceptance; the writer uses it only while the tree's
/// generation is still `tree`.
pub(crate) struct Placement {
    tree: i64,
    paths: HashMap<String, String>,
    ids: HashMap<String, i64>,
    lineage_ids: HashMap<String, i64>,
    newest_from: i64,
}

impl Placement {
    /// Reads the placement of `a`'s units on `conn`, noting generation `tree`
    /// (read before, on the same connection or in the same transaction).
    pub(crate) async fn read(
        conn: &mut Conn,
        a: &Acceptance<'_>,
        tree: i64,
    ) -> sqlx::Result<Placement> {
        let mut codes: Vec<&str> = a.figures.rows.iter().map(|(c, _)| c.as_str()).collect();
        codes.push(a.reporter);
        codes.sort_unstable();
        codes.dedup();
        let paths = paths_of(conn, &codes, TreeAt::Month(a.period)).await?;
        let ids = ids_of(conn, &codes).await?;
        let mut lineage_codes: Vec<&str> = paths.values().flat_map(|p| lineage(p)).collect();
        lineage_codes.sort_unstable();
        lineage_codes.dedup();
        let lineage_ids = ids_of(conn, &lineage_codes).await?;
        let newest_from = super::rollups::newest_from(conn).await?;
        Ok(Placement {
            tree,
            paths,
            ids,
            lineage_ids,
            newest_from,
        })
    }
}

/// One audit row of a figure: `old` → `new` (None: there was none / there is
/// none), set by `submission_id` at `at` by `actor`.
struct AuditFact<'a> {
    at: &'a str,
    actor: &'a str,
    submission_id: i64,
    unit: &'a str,
    metric: &'a str,
    old: Option<i64>,
    new: Option<i64>,
}

/// A replaced row: the submission that wrote it, whether its first values are
/// in the audit already, and that submission's acceptance time and actor.
struct Replaced {
    submission_id: i64,
    audited: bool,
    at: String,
    actor: String,
}

/// The replaced rows of `units` in `period`, by unit id.
async fn replaced_rows(
    tx: &mut Transaction<'static, Db>,
    period: i64,
    units: impl Iterator<Item = i64>,
) -> sqlx::Result<HashMap<i64, Replaced>> {
    let units: Vec<i64> = units.collect();
    let mut out = HashMap::with_capacity(units.len());
    for chunk in units.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT f.unit_id, f.submission_id, f.audited, COALESCE(a.at, ''), COALESCE(a.actor, '') FROM unit_figures f LEFT JOIN audit a ON a.submission_id = f.submission_id AND a.action = 'submission_accepted' WHERE f.period = ",
        );
        qb.push_bind(period).push(" AND ");
        super::push_unit_ids(&mut qb, "f.unit_id", chunk);
        for r in qb.build().fetch_all(&mut **tx).await? {
            out.insert(
                r.get(0),
                Replaced {
                    submission_id: r.get(1),
                    audited: r.get(2),
                    at: r.get(3),
                    actor: r.get(4),
                },
            );
        }
    }
    Ok(out)
}

/// The first values of replaced rows that the audit does not hold yet, as
/// set by their own submission.
fn first_values<'a>(
    cols: &'a Columns,
    old: &'a BTreeMap<i64, UnitRow<'_>>,
    replaced: &'a HashMap<i64, Replaced>,
) -> Vec<AuditFact<'a>> {
    let mut out = Vec::new();
    for (id, row) in old {
        let Some(r) = replaced.get(id).filter(|r| !r.audited) else {
            continue;
        };
        for (metric, v) in cols.metrics().iter().zip(row.figures.iter()) {
            if let Some(v) = v {
                out.push(AuditFact {
                    at: &r.at,
                    actor: &r.actor,
                    submission_id: r.submission_id,
                    unit: &row.code,
                    metric,
                    old: None,
                    new: Some(*v),
                });
            }
        }
    }
    out
}

/// The figures of replaced rows that differ in the new ones, by unit id then
/// slot, as changed `by` (at, actor, submission id). A unit's first row is not
/// compared: it replaces nothing.
fn changes<'a>(
    cols: &'a Columns,
    old: &'a BTreeMap<i64, UnitRow<'_>>,
    new: &'a BTreeMap<i64, UnitRow<'_>>,
    (at, actor, submission_id): (&'a str, &'a str, i64),
) -> Vec<AuditFact<'a>> {
    let mut out = Vec::new();
    for (id, o) in old {
        let n = new.get(id);
        for (slot, metric) in cols.metrics().iter().enumerate() {
            let ov = o.figures.get(slot).copied().flatten();
            let nv = n.and_then(|r| r.figures.get(slot).copied().flatten());
            if ov != nv {
                out.push(AuditFact {
                    at,
                    actor,
                    submission_id,
                    unit: &o.code,
                    metric,
                    old: ov,
                    new: nv,
                });
            }
        }
    }
    out
}

/// `SELECT unit_id, code, path, m_… FROM unit_figures … WHERE ` (the caller adds
/// the condition).
fn old_rows_query(cols: &Columns, month: TreeAt) -> QueryBuilder<Db> {
    QueryBuilder::new(format!(
        "SELECT f.unit_id, i.code, COALESCE(o.path, ''), {} FROM unit_figures f JOIN org_ids i ON i.id = f.unit_id LEFT JOIN {} o ON o.code = i.code WHERE ",
        prefixed(&cols.unit_list, "f."),
        tree_sql(month)
    ))
}

/// `a, b` → `f.a, f.b`
fn prefixed(list: &str, alias: &str) -> String {
    list.split(", ")
        .filter(|c| !c.is_empty())
        .map(|c| format!("{alias}{c}"))
        .collect::<Vec<_>>()
        .join(", ")
}

async fn collect_old(
    tx: &mut Transaction<'static, Db>,
    mut qb: QueryBuilder<Db>,
    cols: &Columns,
    into: &mut BTreeMap<i64, UnitRow<'_>>,
) -> sqlx::Result<()> {
    for r in qb.build().fetch_all(&mut **tx).await? {
        into.insert(
            r.get(0),
            UnitRow {
                code: Cow::Owned(r.get(1)),
                path: Cow::Owned(r.get(2)),
                figures: Cow::Owned(unit_row(&r, 3, cols.width())),
            },
        );
    }
    Ok(())
}

/// Paths of units in the tree `at`, by code.
async fn paths_of(
    conn: &mut Conn,
    codes: &[&str],
    at: TreeAt,
) -> sqlx::Result<HashMap<String, String>> {
    let mut out = HashMap::with_capacity(codes.len());
    for chunk in codes.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT code, path FROM {} o WHERE code IN ",
            tree_sql(at)
        ));
        super::push_list(&mut qb, chunk.iter().copied());
        for r in qb.build().fetch_all(&mut *conn).await? {
            out.insert(r.get(0), r.get(1));
        }
    }
    Ok(out)
}

/// Rows per multi-row INSERT of figure rows: within both backends' bound-parameter
/// limits whatever the number of metric columns.
pub(super) fn rows_per_insert(columns: usize) -> usize {
    (30_000 / columns.max(1)).clamp(1, BATCH)
}

/// Writes a submission's unit rows. A row that replaces one (`replaced` holds
/// its unit) has every figure's change in the audit; a unit's first row has
/// none until it is replaced (`audited` false).
async fn insert_unit_rows(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    period: i64,
    submission_id: i64,
    rows: &BTreeMap<i64, UnitRow<'_>>,
    replaced: &BTreeMap<i64, UnitRow<'_>>,
) -> sqlx::Result<()> {
    let rows: Vec<(&i64, &UnitRow<'_>)> = rows.iter().collect();
    for chunk in rows.chunks(rows_per_insert(cols.width() + 4)) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "INSERT INTO unit_figures (period, unit_id, submission_id, audited, {}) ",
            cols.unit_list
        ));
        qb.push_values(chunk, |mut b, (id, u)| {
            b.push_bind(period)
                .push_bind(**id)
                .push_bind(submission_id)
                .push_bind(replaced.contains_key(*id));
            for slot in 0..cols.width() {
                b.push_bind(u.figures.get(slot).copied().flatten());
            }
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// How a batch's acceptances move the roll-ups, by table and month, added up:
/// the batch writes them once, right before it commits. The roll-up rows of
/// the province, a city and a county are shared by nearly every acceptance;
/// written last, they are held (and other writers wait on them) for the
/// commit alone, not for the whole batch, and each row is written once per
/// batch instead of once per acceptance.
#[derive(Debug, Default)]
pub(crate) struct RollupDeltas(Vec<(RollupTable, i64, BTreeMap<NodeId, RollupRow>)>);

impl RollupDeltas {
    /// Adds `rows` (one acceptance's deltas of `table` for `period`).
    pub(crate) fn add(
        &mut self,
        table: RollupTable,
        period: i64,
        rows: BTreeMap<NodeId, RollupRow>,
    ) {
        let Some((_, _, sum)) = self
            .0
            .iter_mut()
            .find(|(t, p, _)| *t == table && *p == period)
        else {
            self.0.push((table, period, rows));
            return;
        };
        for (node, row) in rows {
            match sum.entry(node) {
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(row);
                }
                std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().add(&row),
            }
        }
    }

    /// Adds everything of `other`.
    pub(crate) fn merge(&mut self, other: RollupDeltas) {
        for (table, period, rows) in other.0 {
            self.add(table, period, rows);
        }
    }

    /// Writes the sums: the as-reported roll-ups before the restated ones,
    /// months in order, rows in org id order (concurrent batches queue on the
    /// first row they share instead of deadlocking).
    pub(crate) async fn apply(
        mut self,
        tx: &mut Transaction<'static, Db>,
        cols: &Columns,
    ) -> sqlx::Result<()> {
        self.0
            .sort_by_key(|(t, p, _)| (*t == RollupTable::Restated, *p));
        for (table, period, rows) in &self.0 {
            apply_deltas(tx, cols, *table, *period, rows).await?;
        }
        Ok(())
    }
}

/// Writes roll-up rows of one period: added to what is stored (`add`: the
/// deltas of an acceptance) or onto an empty period (a rebuild). Rows that fall
/// to nothing are removed, so a full recomputation and the incremental table
/// hold the same rows. Always in org id order, so concurrent writers that share
/// ancestors queue on the first shared row instead of deadlocking.
pub(crate) async fn apply_deltas(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    table: RollupTable,
    period: i64,
    rows: &BTreeMap<NodeId, RollupRow>,
) -> sqlx::Result<()> {
    let name = table.name();
    let rows: Vec<(&NodeId, &RollupRow)> = rows.iter().collect();
    let width = cols.width();
    for chunk in rows.chunks(rows_per_insert(2 * width + 4)) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "INSERT INTO {name} (org_id, period, reported_units, reported_reporters, {}) ",
            cols.rollup_list
        ));
        qb.push_values(chunk, |mut b, (org, r)| {
            b.push_bind(**org)
                .push_bind(period)
                .push_bind(r.reported_units)
                .push_bind(r.reported_reporters);
            for slot in 0..width {
                b.push_bind(r.sums.get(slot).copied().unwrap_or(0));
            }
            for slot in 0..width {
                b.push_bind(r.counts.get(slot).copied().unwrap_or(0));
            }
        });
        qb.push(format!(
            " ON CONFLICT (org_id, period) DO UPDATE SET {}",
            cols.rollup_increments(name)
        ));
        qb.build().execute(&mut **tx).await?;
    }
    for chunk in rows.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "DELETE FROM {name} WHERE {} AND period = ",
            cols.rollup_is_zero()
        ));
        qb.push_bind(period).push(" AND org_id IN ");
        super::push_list(&mut qb, chunk.iter().map(|(org, _)| **org));
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// How the restatement of a month under the current tree moves when the rows
/// `old` are replaced by `new` (and, for a first report, `reporter` reports).
/// Only the units involved are looked up: their current paths, and for a unit
/// merged into another (or one others were merged into) the rows of every
/// unit that counts as it, so the merged unit moves as one.
async fn restated_deltas(
    tx: &mut Transaction<'static, Db>,
    cols: &Columns,
    period: i64,
    old: &BTreeMap<i64, UnitRow<'_>>,
    new: &BTreeMap<i64, UnitRow<'_>>,
    reporter: Option<&str>,
) -> sqlx::Result<BTreeMap<NodeId, RollupRow>> {
    let width = cols.width();
    // Merges: unit → the unit it counts as (chains followed, bounded).
    let links: HashMap<String, String> = sqlx::query("SELECT code, successor FROM org_successors")
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut codes: Vec<String> = old
        .values()
        .chain(new.values())
        .map(|u| u.code.to_string())
        .collect();
    codes.extend(reporter.map(str::to_string));
    codes.extend(links.keys().cloned());
    codes.extend(links.values().cloned());
    codes.sort_unstable();
    codes.dedup();
    let code_refs: Vec<&str> = codes.iter().map(String::as_str).collect();
    let current = paths_of(&mut **tx, &code_refs, TreeAt::Current).await?;
    let identity = |code: &str| -> String {
        let mut cur = code.to_string();
        for _ in 0..64 {
            match links.get(&cur) {
                Some(next) if !current.contains_key(&cur) => cur = next.clone(),
                _ => break,
            }
        }
        cur
    };
    let ids = ids_of(&mut **tx, &code_refs).await?;
    // The units whose rows count together, by the unit they count as.
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for c in links.keys() {
        let to = identity(c);
        if to != *c {
            groups
                .entry(to.clone())
                .or_insert_with(|| vec![to])
                .push(c.clone());
        }
    }
    let group_of = |code: &str| -> Option<String> {
        let to = identity(code);
        groups.contains_key(&to).then_some(to)
    };
    let mut ledger = Ledger::new(width);
    let mut lines: HashMap<NodeId, Vec<NodeId>> = HashMap::new();
    let line_ids: HashMap<String, i64> = {
        let mut all: Vec<&str> = current.values().flat_map(|p| lineage(p)).collect();
        all.sort_unstable();
        all.dedup();
        ids_of(&mut **tx, &all).await?
    };
    let line = |path: &str, upto: usize| -> Vec<NodeId> {
        let codes = lineage(path);
        codes[..codes.len().saturating_sub(upto)]
            .iter()
            .filter_map(|c| line_ids.get(*c).copied())
            .collect()
    };
    let mut add = |ledger: &mut Ledger, code: &str, figures: &[Option<i64>], sign: i64| {
        if let Some(path) = current.get(code) {
            let l = line(path, 1);
            if let Some(&parent) = l.last() {
                ledger.unit(parent, figures, sign);
                lines.entry(parent).or_insert(l);
            }
        }
    };
    let mut merged_groups: Vec<String> = Vec::new();
    for (rows, sign) in [(old, -1), (new, 1)] {
        for u in rows.values() {
            match group_of(&u.code) {
                Some(g) => merged_groups.push(g),
                None => add(&mut ledger, &u.code, &u.figures, sign),
            }
        }
    }
    merged_groups.sort_unstable();
    merged_groups.dedup();
    for g in merged_groups {
        let members = &groups[&g];
        let member_ids: Vec<i64> = members.iter().filter_map(|m| ids.get(m).copied()).collect();
        // The members' rows as stored now (before the replacement).
        let mut stored: BTreeMap<i64, Vec<Option<i64>>> = BTreeMap::new();
        for chunk in member_ids.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT unit_id, {} FROM unit_figures WHERE period = ",
                cols.unit_list
            ));
            qb.push_bind(period).push(" AND ");
            super::push_unit_ids(&mut qb, "unit_id", chunk);
            for r in qb.build().fetch_all(&mut **tx).await? {
                stored.insert(r.get(0), unit_row(&r, 1, width));
            }
        }
        let mut after = stored.clone();
        for id in &member_ids {
            if old.contains_key(id) {
                after.remove(id);
            }
            if let Some(u) = new.get(id) {
                after.insert(*id, u.figures.to_vec());
            }
        }
        for (rows, sign) in [(&stored, -1), (&after, 1)] {
            let mut total = vec![None; width];
            for f in rows.values() {
                combine(&mut total, f);
            }
            add(&mut ledger, &g, &total, sign);
        }
    }
    if let Some(r) = reporter {
        if let (Some(&id), Some(path)) = (ids.get(r), current.get(r)) {
            ledger.reporter(id, 1);
            lines.entry(id).or_insert_with(|| line(path, 0));
        }
    }
    Ok(ledger.spread(|n| lines.get(&n).map(Vec::as_slice)))
}

/// How the audit of an acceptance marks a nil report (零报告).
fn nil_note(nil: bool) -> &'static str {
    if nil {
        "（零报告 nil report）"
    } else {
        ""
    }
}
