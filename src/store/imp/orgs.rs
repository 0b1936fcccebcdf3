//! The org tree over time: tree changes (each edit from a month on) and tree
//! look-ups at a month or in the current tree.
//!
//! A change from month F rewrites only the part of the timeline from F on: the
//! tree of every later segment (between two months where any version starts or
//! ends) is rebuilt with the edits applied, checked whole, and compared with
//! what is stored; a unit whose versions from F on come out the same is not
//! written. Months before F are never touched.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use sqlx::{FromRow, QueryBuilder, Row, Transaction};
use unionstat_core::orgs::{OrgKind, OrgRecord};
use unionstat_core::Period;

use super::{Db, Repo};
use crate::store::history::AuditRow;
use crate::store::orgs::{
    lineage, subtree_end, tree_sql, ImportError, ImportReport, OrgEdit, OrgRow, OrgVersion, TreeAt,
    TreeChange, UnitChange, OPEN, ORG_COLUMNS,
};
use crate::store::{now, BATCH};

#[derive(Debug, Clone, PartialEq, Eq)]
struct Node {
    name: String,
    parent: Option<String>,
    kind: OrgKind,
    expected: bool,
}

impl Node {
    fn of(r: &OrgRow) -> Node {
        Node {
            name: r.name.clone(),
            parent: r.parent_code.clone(),
            kind: if r.is_grassroots() {
                OrgKind::Grassroots
            } else {
                OrgKind::Federation
            },
            expected: r.expected_to_report,
        }
    }
}

/// A piece of a unit's timeline: `[from, to)` and what held.
type Piece = (i64, i64, OrgRow);

/// `YYYY-MM` of a month key (0: since always).
fn month_text(key: i64) -> String {
    Period::from_key(key).map_or_else(|| "the start".to_string(), |p| p.to_string())
}

impl Repo {
    pub async fn import_orgs(&self, records: &[OrgRecord]) -> Result<ImportReport, ImportError> {
        let change = TreeChange {
            edits: records.iter().map(|r| (None, OrgEdit::set(r))).collect(),
            action: "orgs_import".into(),
            // Loaded by the demo, the benchmark and the tests' set-up.
            actor: crate::store::actor::Actor::cli().to_string(),
            reason: Some("master data loaded as it has always been".into()),
        };
        self.change_tree(&change).await.map(|(r, _)| r)
    }

    pub async fn change_tree(
        &self,
        change: &TreeChange,
    ) -> Result<(ImportReport, Vec<UnitChange>), ImportError> {
        let mut seen = HashSet::new();
        for (from, e) in &change.edits {
            if !seen.insert((from.map(|p| p.key()), e.code.as_str())) {
                return Err(ImportError::DuplicateCode {
                    code: e.code.clone(),
                });
            }
        }
        let mut by_month: BTreeMap<i64, Vec<&OrgEdit>> = BTreeMap::new();
        for (from, e) in &change.edits {
            by_month
                .entry(from.map_or(0, |p| p.key()))
                .or_default()
                .push(e);
        }
        let mut tx = self.begin_write().await?;
        super::super::lock_tree_exclusive(&mut tx).await?;
        super::super::lock_rollups(&mut tx).await?;
        let stamp = now();
        let mut report = ImportReport::default();
        let mut changes = Vec::new();
        let mut touched: BTreeSet<String> = BTreeSet::new();
        for (&from, edits) in &by_month {
            // (action, unit, detail) of each changed unit, written in batches.
            let mut audit: Vec<(String, String, String)> = Vec::new();
            let step = rewrite_from(&mut tx, from, edits, &mut touched).await?;
            report.versions_written += step.versions_written;
            check_approvals(&mut tx, from, &step.lineages, change.reason.is_some()).await?;
            for e in edits {
                let old = step.before.get(&e.code);
                let new = step.after.get(&e.code);
                let what = match (old, new) {
                    (None, Some(_)) => "opened",
                    (Some(_), None) => "closed",
                    (Some(o), Some(n)) if o.parent_code != n.parent_code => "moved",
                    (Some(o), Some(n)) if Node::of(o) == Node::of(n) => {
                        report.unchanged += 1;
                        continue;
                    }
                    (Some(_), Some(_)) => "changed",
                    (None, None) => continue,
                };
                match what {
                    "opened" => report.inserted += 1,
                    "closed" => report.closed += 1,
                    "moved" => {
                        report.moved += 1;
                        report.updated += 1
                    }
                    _ => report.updated += 1,
                }
                let detail = serde_json::json!({
                    "change": change.action,
                    "from": old,
                    "to": new,
                    "effective": month_text(from),
                    "reason": change.reason,
                    "successor": e.successor,
                });
                audit.push((format!("org_{what}"), e.code.clone(), detail.to_string()));
                changes.push(UnitChange {
                    code: e.code.clone(),
                    what,
                    from: old.cloned(),
                    to: new.cloned(),
                });
                if let Some(succ) = &e.successor {
                    sqlx::query("INSERT INTO org_successors (code, successor, from_period) VALUES ($1, $2, $3) ON CONFLICT (code) DO UPDATE SET successor = excluded.successor, from_period = excluded.from_period")
                        .bind(&e.code)
                        .bind(succ)
                        .bind(from)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            let effective = Period::from_key(from).map(|p| p.to_string());
            for chunk in audit.chunks(BATCH) {
                let mut qb: QueryBuilder<Db> = QueryBuilder::new(
                    "INSERT INTO audit (at, actor, action, unit_code, period, detail) ",
                );
                qb.push_values(chunk, |mut b, (action, code, detail)| {
                    b.push_bind(stamp.as_str())
                        .push_bind(change.actor.as_str())
                        .push_bind(action.as_str())
                        .push_bind(code.as_str())
                        .push_bind(effective.clone())
                        .push_bind(detail.as_str());
                });
                qb.build().execute(&mut *tx).await?;
            }
        }
        sync_org_units(&mut tx, &touched).await?;
        sqlx::query(
            "UPDATE tree_state SET newest_from = (SELECT COALESCE(MAX(b), 0) FROM (SELECT MAX(valid_from) AS b FROM org_versions UNION ALL SELECT MAX(valid_to) AS b FROM org_versions WHERE valid_to < 999999) t)",
        )
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO audit (at, actor, action, detail) VALUES ($1, $2, $3, $4)")
            .bind(&stamp)
            .bind(&change.actor)
            .bind(&change.action)
            .bind(format!(
                "{} opened, {} updated ({} moved), {} closed, {} unchanged; {} versions written{}",
                report.inserted,
                report.updated,
                report.moved,
                report.closed,
                report.unchanged,
                report.versions_written,
                change
                    .reason
                    .as_deref()
                    .map(|r| format!("; reason: {r}"))
                    .unwrap_or_default()
            ))
            .execute(&mut *tx)
            .await?;
        if report.versions_written > 0 {
            let first = *by_month.keys().next().unwrap_or(&0);
            super::rollups::after_tree_change(&mut tx, &self.cols, &self.forms, first).await?;
        }
        tx.commit().await?;
        if report.versions_written > 0 {
            self.after_write();
        }
        Ok((report, changes))
    }

    pub async fn org(&self, code: &str) -> sqlx::Result<Option<OrgRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS}, closed_from FROM org_units WHERE code = $1"
        )))
        .bind(code)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn org_at(&self, code: &str, at: TreeAt) -> sqlx::Result<Option<OrgRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM {} o WHERE code = $1",
            tree_sql(at)
        )))
        .bind(code)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn org_versions(&self, code: &str) -> sqlx::Result<Vec<OrgVersion>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT valid_from, valid_to, {ORG_COLUMNS} FROM org_versions WHERE code = $1 ORDER BY valid_from"
        )))
        .bind(code)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn children(&self, code: &str, at: TreeAt) -> sqlx::Result<Vec<OrgRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM {} o WHERE parent_code = $1 ORDER BY code",
            tree_sql(at)
        )))
        .bind(code)
        .fetch_all(&self.pool)
        .await
    }

    pub async fn orgs_by_code(
        &self,
        codes: &[String],
        at: TreeAt,
    ) -> sqlx::Result<HashMap<String, OrgRow>> {
        let mut out = HashMap::with_capacity(codes.len());
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {ORG_COLUMNS} FROM {} o WHERE code IN ",
                tree_sql(at)
            ));
            super::push_list(&mut qb, chunk.iter().cloned());
            for row in qb.build_query_as::<OrgRow>().fetch_all(&self.pool).await? {
                out.insert(row.code.clone(), row);
            }
        }
        Ok(out)
    }

    pub async fn expected_reporters(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<Vec<OrgRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM {} o WHERE path >= $1 AND path < $2 AND expected_to_report ORDER BY path",
            tree_sql(at)
        )))
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await
    }

    pub async fn newest_tree_from(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT newest_from FROM tree_state WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    pub async fn tree_difference(
        &self,
        code: &str,
        month: Period,
    ) -> sqlx::Result<(Vec<String>, Vec<String>)> {
        let k = month.key();
        // Only units whose versions changed after the month can differ.
        let changed: Vec<String> = sqlx::query_scalar(
            "SELECT code FROM org_versions WHERE valid_from > $1 UNION SELECT code FROM org_versions WHERE valid_to > $1 AND valid_to < 999999",
        )
        .bind(k)
        .fetch_all(&self.pool)
        .await?;
        if changed.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // The changed units and the node, as the month's tree and the current
        // tree have them, in one read.
        let mut codes = changed.clone();
        codes.push(code.to_string());
        let (mut then, mut now) = (HashMap::new(), HashMap::new());
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT valid_from, valid_to, {ORG_COLUMNS} FROM org_versions WHERE ((valid_from <= "
            ));
            qb.push_bind(k)
                .push(" AND valid_to > ")
                .push_bind(k)
                .push(") OR valid_to = ")
                .push_bind(OPEN)
                .push(") AND code IN ");
            super::push_list(&mut qb, chunk.iter().map(|c| c.as_str()));
            for v in qb
                .build_query_as::<OrgVersion>()
                .fetch_all(&self.pool)
                .await?
            {
                if v.valid_from <= k && k < v.valid_to {
                    then.insert(v.org.code.clone(), v.org.clone());
                }
                if v.valid_to == OPEN {
                    now.insert(v.org.code.clone(), v.org);
                }
            }
        }
        let node_then = then.get(code).cloned();
        let node_now = now.get(code).cloned();
        let inside = |node: &Option<OrgRow>, u: Option<&OrgRow>| match (node, u) {
            (Some(n), Some(u)) => u.is_grassroots() && u.path.starts_with(&n.path),
            _ => false,
        };
        let (mut moved_in, mut moved_out) = (Vec::new(), Vec::new());
        for c in &changed {
            let (a, b) = (
                inside(&node_then, then.get(c)),
                inside(&node_now, now.get(c)),
            );
            if b && !a {
                moved_in.push(c.clone());
            } else if a && !b {
                moved_out.push(c.clone());
            }
        }
        Ok((moved_in, moved_out))
    }

    pub async fn existing_codes(&self, codes: &[String]) -> sqlx::Result<HashSet<String>> {
        let mut out = HashSet::new();
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> =
                QueryBuilder::new("SELECT code FROM org_units WHERE code IN ");
            super::push_list(&mut qb, chunk.iter().map(|c| c.as_str()));
            for r in qb.build().fetch_all(&self.pool).await? {
                out.insert(r.get(0));
            }
        }
        Ok(out)
    }

    pub async fn org_changes(&self, code: &str) -> sqlx::Result<Vec<AuditRow>> {
        Ok(sqlx::query(
            "SELECT id, at, actor, action, submission_id, unit_code, period, metric, old_value, new_value, detail FROM audit WHERE unit_code = $1 AND action IN ('org_opened', 'org_closed', 'org_moved', 'org_changed') ORDER BY id",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(super::history::audit_row)
        .collect())
    }

    pub async fn org_count(&self) -> sqlx::Result<i64> {
        sqlx::query("SELECT COUNT(*) FROM org_units WHERE closed_from IS NULL")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
    }
}

/// What one month's rewrite found: each edited unit before and after (in the
/// tree of that month), and every code on a lineage that changed in any later
/// month (old and new), for the approval check.
struct Step {
    before: HashMap<String, OrgRow>,
    after: HashMap<String, OrgRow>,
    lineages: BTreeSet<String>,
    versions_written: usize,
}

/// Applies `edits` from month `from` on (see the module doc).
async fn rewrite_from(
    tx: &mut Transaction<'static, Db>,
    from: i64,
    edits: &[&OrgEdit],
    touched: &mut BTreeSet<String>,
) -> Result<Step, ImportError> {
    let stored: Vec<OrgVersion> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT valid_from, valid_to, {ORG_COLUMNS} FROM org_versions WHERE valid_to > $1"
    )))
    .bind(from)
    .fetch_all(&mut **tx)
    .await?;
    // Segment starts: the month itself and every later month where a version
    // starts or ends.
    let mut starts: BTreeSet<i64> = BTreeSet::from([from]);
    for v in &stored {
        if v.valid_from > from {
            starts.insert(v.valid_from);
        }
        if v.valid_to < OPEN {
            starts.insert(v.valid_to);
        }
    }
    let starts: Vec<i64> = starts.into_iter().collect();
    let mut new_tl: BTreeMap<String, Vec<Piece>> = BTreeMap::new();
    let mut before = HashMap::new();
    let mut after = HashMap::new();
    for (i, &s) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(OPEN);
        let mut nodes: BTreeMap<String, Node> = stored
            .iter()
            .filter(|v| v.valid_from <= s && s < v.valid_to)
            .map(|v| (v.org.code.clone(), Node::of(&v.org)))
            .collect();
        if i == 0 {
            let at_start: HashMap<&str, &OrgRow> = stored
                .iter()
                .filter(|v| v.valid_from <= s && s < v.valid_to)
                .map(|v| (v.org.code.as_str(), &v.org))
                .collect();
            for e in edits {
                if let Some(v) = at_start.get(e.code.as_str()) {
                    before.insert(e.code.clone(), (*v).clone());
                }
            }
        }
        for e in edits {
            if e.close {
                if nodes.remove(&e.code).is_none() && i == 0 {
                    return Err(ImportError::NotInTree {
                        code: e.code.clone(),
                        period: month_text(s),
                    });
                }
                continue;
            }
            let node = match nodes.get(&e.code) {
                Some(n) => Node {
                    name: e.name.clone().unwrap_or_else(|| n.name.clone()),
                    parent: e.parent.clone().unwrap_or_else(|| n.parent.clone()),
                    kind: e.kind.unwrap_or(n.kind),
                    expected: e.expected_to_report.unwrap_or(n.expected),
                },
                None => match (&e.name, e.kind) {
                    (Some(name), Some(kind)) => Node {
                        name: name.clone(),
                        parent: e.parent.clone().flatten(),
                        kind,
                        expected: e.expected_to_report.unwrap_or(false),
                    },
                    // A unit closed later in the timeline stays closed there.
                    _ if i > 0 => continue,
                    _ => {
                        return Err(ImportError::NotInTree {
                            code: e.code.clone(),
                            period: month_text(s),
                        })
                    }
                },
            };
            nodes.insert(e.code.clone(), node);
        }
        for e in edits.iter().filter(|e| e.close) {
            if let Some((child, _)) = nodes
                .iter()
                .find(|(_, n)| n.parent.as_deref() == Some(e.code.as_str()))
            {
                return Err(ImportError::ClosesWithChildren {
                    code: e.code.clone(),
                    child: child.clone(),
                    period: month_text(s),
                });
            }
        }
        let rows = derive(&nodes, s)?;
        if i == 0 {
            for e in edits {
                if let Some(r) = rows.get(&e.code) {
                    after.insert(e.code.clone(), r.clone());
                }
            }
        }
        for (code, row) in rows {
            new_tl.entry(code).or_default().push((s, end, row));
        }
    }
    let mut old_tl: BTreeMap<String, Vec<Piece>> = BTreeMap::new();
    let mut kept: HashMap<String, Piece> = HashMap::new();
    for v in &stored {
        old_tl.entry(v.org.code.clone()).or_default().push((
            v.valid_from.max(from),
            v.valid_to,
            v.org.clone(),
        ));
        if v.valid_from < from {
            kept.insert(v.org.code.clone(), (v.valid_from, from, v.org.clone()));
        }
    }
    let codes: BTreeSet<&String> = old_tl.keys().chain(new_tl.keys()).collect();
    let mut lineages = BTreeSet::new();
    let mut writes: Vec<(String, Vec<Piece>)> = Vec::new();
    for code in codes {
        let mut old = old_tl.get(code).cloned().unwrap_or_default();
        old.sort_by_key(|p| p.0);
        let new = coalesce(new_tl.get(code).cloned().unwrap_or_default());
        if coalesce(old.clone()) == new {
            continue;
        }
        for (_, _, r) in old.iter().chain(new.iter()) {
            lineages.extend(lineage(&r.path).into_iter().map(str::to_string));
        }
        let mut full: Vec<Piece> = kept.remove(code).into_iter().collect();
        full.extend(new);
        writes.push((code.clone(), coalesce(full)));
    }
    let mut written = 0;
    // New units enter org_units first (identity, foreign keys), parents first.
    let mut fresh: Vec<&OrgRow> = writes
        .iter()
        .filter_map(|(_, pieces)| pieces.first().map(|p| &p.2))
        .collect();
    fresh.sort_by_key(|r| r.depth);
    for chunk in fresh.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO org_units (code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters, updated_at) ",
        );
        let stamp = now();
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.code.clone())
                .push_bind(r.name.clone())
                .push_bind(r.parent_code.clone())
                .push_bind(r.kind.clone())
                .push_bind(r.expected_to_report)
                .push_bind(r.path.clone())
                .push_bind(r.depth)
                .push_bind(r.subtree_units)
                .push_bind(r.subtree_reporters)
                .push_bind(stamp.clone());
        });
        qb.push(" ON CONFLICT (code) DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    let codes: Vec<&str> = writes.iter().map(|(c, _)| c.as_str()).collect();
    for chunk in codes.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> =
            QueryBuilder::new("DELETE FROM org_versions WHERE valid_to > ");
        qb.push_bind(from).push(" AND code IN ");
        super::push_list(&mut qb, chunk.iter().copied());
        qb.build().execute(&mut **tx).await?;
    }
    let pieces: Vec<&Piece> = writes.iter().flat_map(|(_, p)| p.iter()).collect();
    for chunk in pieces.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "INSERT INTO org_versions (code, valid_from, valid_to, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters) ",
        );
        qb.push_values(chunk, |mut b, (f, t, r)| {
            b.push_bind(r.code.clone())
                .push_bind(*f)
                .push_bind(*t)
                .push_bind(r.name.clone())
                .push_bind(r.parent_code.clone())
                .push_bind(r.kind.clone())
                .push_bind(r.expected_to_report)
                .push_bind(r.path.clone())
                .push_bind(r.depth)
                .push_bind(r.subtree_units)
                .push_bind(r.subtree_reporters);
        });
        // A piece kept from before the month is written back as it was, cut
        // short (its key is unchanged).
        qb.push(" ON CONFLICT (code, valid_from) DO UPDATE SET valid_to = excluded.valid_to, name = excluded.name, parent_code = excluded.parent_code, kind = excluded.kind, expected_to_report = excluded.expected_to_report, path = excluded.path, depth = excluded.depth, subtree_units = excluded.subtree_units, subtree_reporters = excluded.subtree_reporters");
        qb.build().execute(&mut **tx).await?;
        written += chunk.len();
    }
    touched.extend(codes.iter().map(|c| c.to_string()));
    Ok(Step {
        before,
        after,
        lineages,
        versions_written: written,
    })
}

/// Merges neighbouring pieces that hold the same.
fn coalesce(mut pieces: Vec<Piece>) -> Vec<Piece> {
    pieces.sort_by_key(|p| p.0);
    let mut out: Vec<Piece> = Vec::with_capacity(pieces.len());
    for p in pieces {
        match out.last_mut() {
            Some(last) if last.1 == p.0 && last.2 == p.2 => last.1 = p.1,
            _ => out.push(p),
        }
    }
    out
}

/// The rows of one month's tree: every parent present and a federation, no
/// cycle; paths, depths and subtree counts.
fn derive(
    nodes: &BTreeMap<String, Node>,
    month: i64,
) -> Result<BTreeMap<String, OrgRow>, ImportError> {
    for (code, n) in nodes {
        if let Some(p) = &n.parent {
            match nodes.get(p) {
                None => {
                    return Err(ImportError::MissingParent {
                        code: code.clone(),
                        parent: if month == 0 {
                            p.clone()
                        } else {
                            format!("{p} (in the tree of {})", month_text(month))
                        },
                    })
                }
                Some(pn) if pn.kind == OrgKind::Grassroots => {
                    return Err(ImportError::GrassrootsParent {
                        code: code.clone(),
                        parent: p.clone(),
                    })
                }
                _ => {}
            }
        }
    }
    // Paths, root first; a walk that revisits a code is a cycle.
    let mut paths: HashMap<String, (String, i64)> = HashMap::with_capacity(nodes.len());
    for code in nodes.keys() {
        if paths.contains_key(code) {
            continue;
        }
        let mut chain = vec![code.clone()];
        let mut on_chain: HashSet<String> = HashSet::from([code.clone()]);
        let mut cur = code.clone();
        let (mut prefix, mut depth) = (String::from("/"), 0i64);
        while let Some(parent) = nodes[&cur].parent.clone() {
            if let Some((p, d)) = paths.get(&parent) {
                prefix = p.clone();
                depth = *d + 1;
                break;
            }
            if !on_chain.insert(parent.clone()) {
                let start = chain.iter().position(|c| *c == parent).unwrap_or(0);
                let mut codes: Vec<String> = chain[start..].to_vec();
                codes.push(parent);
                return Err(ImportError::Cycle { codes });
            }
            chain.push(parent.clone());
            cur = parent;
        }
        for c in chain.iter().rev() {
            prefix = format!("{prefix}{c}/");
            paths.insert(c.clone(), (prefix.clone(), depth));
            depth += 1;
        }
    }
    // Subtree counts: each unit adds itself to every unit on its path.
    let mut units: HashMap<&str, i64> = HashMap::new();
    let mut reporters: HashMap<&str, i64> = HashMap::new();
    for (code, n) in nodes {
        for anc in lineage(&paths[code].0) {
            if n.kind == OrgKind::Grassroots {
                *units.entry(anc).or_default() += 1;
            }
            if n.expected {
                *reporters.entry(anc).or_default() += 1;
            }
        }
    }
    Ok(nodes
        .iter()
        .map(|(code, n)| {
            let (path, depth) = paths[code].clone();
            let row = OrgRow {
                code: code.clone(),
                name: n.name.clone(),
                parent_code: n.parent.clone(),
                kind: n.kind.as_str().to_string(),
                expected_to_report: n.expected,
                path,
                depth,
                subtree_units: units.get(code.as_str()).copied().unwrap_or(0),
                subtree_reporters: reporters.get(code.as_str()).copied().unwrap_or(0),
                closed_from: None,
            };
            (code.clone(), row)
        })
        .collect())
}

/// Refuses a change that alters a month an approval has locked, unless the
/// change carries a reason.
async fn check_approvals(
    tx: &mut Transaction<'static, Db>,
    from: i64,
    codes: &BTreeSet<String>,
    overridden: bool,
) -> Result<(), ImportError> {
    if overridden || codes.is_empty() {
        return Ok(());
    }
    let from_text = Period::from_key(from).map_or_else(String::new, |p| p.to_string());
    let codes: Vec<&String> = codes.iter().collect();
    for chunk in codes.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(
            "SELECT org_code, period FROM approvals WHERE revoked_at IS NULL AND period >= ",
        );
        qb.push_bind(from_text.clone()).push(" AND org_code IN ");
        super::push_list(&mut qb, chunk.iter().map(|c| c.as_str()));
        qb.push(" ORDER BY period, org_code");
        if let Some(r) = qb.build().fetch_optional(&mut **tx).await? {
            return Err(ImportError::Approved {
                org: r.get(0),
                period: r.get(1),
                from: month_text(from),
            });
        }
    }
    Ok(())
}

/// Brings org_units (identity and the current attributes) in step with the
/// newest versions of the units a change touched; a unit with no version in
/// force any more is marked closed from the end of its last one.
async fn sync_org_units(
    tx: &mut Transaction<'static, Db>,
    codes: &BTreeSet<String>,
) -> sqlx::Result<()> {
    let stamp = now();
    let codes: Vec<&String> = codes.iter().collect();
    for chunk in codes.chunks(BATCH) {
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT v.valid_to, {} FROM org_versions v WHERE v.valid_from = (SELECT MAX(w.valid_from) FROM org_versions w WHERE w.code = v.code) AND v.code IN ",
            ORG_COLUMNS
                .split(", ")
                .map(|c| format!("v.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        super::push_list(&mut qb, chunk.iter().map(|c| c.as_str()));
        let rows = qb.build().fetch_all(&mut **tx).await?;
        let mut newest: Vec<(i64, OrgRow)> = rows
            .iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)?, OrgRow::from_row(r)?)))
            .collect::<sqlx::Result<_>>()?;
        // Only rows that differ are written.
        let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
            "SELECT closed_from, {ORG_COLUMNS} FROM org_units WHERE code IN "
        ));
        super::push_list(&mut qb, chunk.iter().map(|c| c.as_str()));
        let held: HashMap<String, (Option<i64>, OrgRow)> = qb
            .build()
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| {
                let org = OrgRow::from_row(r)?;
                Ok((org.code.clone(), (r.try_get::<Option<i64>, _>(0)?, org)))
            })
            .collect::<sqlx::Result<_>>()?;
        newest.retain(|(to, o)| {
            let closed = (*to < OPEN).then_some(*to);
            held.get(&o.code) != Some(&(closed, o.clone()))
        });
        // Parents before children: a parent reference always resolves.
        newest.sort_by_key(|(_, o)| o.depth);
        for (to, o) in newest {
            sqlx::query("UPDATE org_units SET name = $1, parent_code = $2, kind = $3, expected_to_report = $4, path = $5, depth = $6, subtree_units = $7, subtree_reporters = $8, closed_from = $9, updated_at = $10 WHERE code = $11")
                .bind(&o.name)
                .bind(&o.parent_code)
                .bind(&o.kind)
                .bind(o.expected_to_report)
                .bind(&o.path)
                .bind(o.depth)
                .bind(o.subtree_units)
                .bind(o.subtree_reporters)
                .bind((to < OPEN).then_some(to))
                .bind(&stamp)
                .bind(&o.code)
                .execute(&mut **tx)
                .await?;
        }
    }
    Ok(())
}
