//! The org tree: import (upsert by code) and tree look-ups.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{QueryBuilder, Row, Sqlite};
use unionstat_core::orgs::{OrgKind, OrgRecord};

use super::{now, Store, BATCH};

/// An org unit as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: String,
    pub expected_to_report: bool,
    pub path: String,
    pub depth: i64,
    pub subtree_units: i64,
    pub subtree_reporters: i64,
}

impl OrgRow {
    pub fn is_grassroots(&self) -> bool {
        self.kind == "grassroots"
    }

    /// Codes from the root down to this unit, itself included.
    pub fn lineage(&self) -> Vec<&str> {
        lineage(&self.path)
    }

    /// Whether `other` lies in this unit's subtree (itself included).
    pub fn contains(&self, other: &OrgRow) -> bool {
        other.path.starts_with(&self.path)
    }
}

/// Codes of a stored path, root first.
pub fn lineage(path: &str) -> Vec<&str> {
    path.split('/').filter(|s| !s.is_empty()).collect()
}

/// The upper bound of a subtree's path range: every descendant path p of `path`
/// has `path <= p < subtree_end(path)` ('0' follows '/').
pub fn subtree_end(path: &str) -> String {
    let mut end = path[..path.len().saturating_sub(1)].to_string();
    end.push('0');
    end
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("code {code} appears more than once in the file")]
    DuplicateCode { code: String },
    #[error("unit {code}: parent {parent} is neither in the file nor in the master data")]
    MissingParent { code: String, parent: String },
    #[error("unit {code}: parent {parent} is a grassroots union; only federations have children")]
    GrassrootsParent { code: String, parent: String },
    #[error("the parent links form a cycle: {}", codes.join(" → "))]
    Cycle { codes: Vec<String> },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImportReport {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Units whose parent changed: roll-ups were rebuilt when this is not zero.
    pub moved: usize,
}

struct Node {
    name: String,
    parent: Option<String>,
    kind: OrgKind,
    expected: bool,
}

impl Store {
    /// Upserts units by code. The whole tree is checked (missing parents, cycles,
    /// children under a grassroots unit) before anything is written; paths and
    /// subtree counts are recomputed and only changed rows are written.
    pub async fn import_orgs(&self, records: &[OrgRecord]) -> Result<ImportReport, ImportError> {
        let mut seen = HashSet::new();
        for r in records {
            if !seen.insert(r.code.as_str()) {
                return Err(ImportError::DuplicateCode {
                    code: r.code.clone(),
                });
            }
        }
        let mut tx = self.begin_write().await?;
        let existing: Vec<OrgRow> = sqlx::query_as(
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units",
        )
        .fetch_all(&mut *tx)
        .await?;
        let old: HashMap<String, OrgRow> =
            existing.into_iter().map(|r| (r.code.clone(), r)).collect();
        let mut nodes: BTreeMap<String, Node> = old
            .values()
            .map(|r| {
                (
                    r.code.clone(),
                    Node {
                        name: r.name.clone(),
                        parent: r.parent_code.clone(),
                        kind: if r.is_grassroots() {
                            OrgKind::Grassroots
                        } else {
                            OrgKind::Federation
                        },
                        expected: r.expected_to_report,
                    },
                )
            })
            .collect();
        for r in records {
            nodes.insert(
                r.code.clone(),
                Node {
                    name: r.name.clone(),
                    parent: r.parent_code.clone(),
                    kind: r.kind,
                    expected: r.expected_to_report,
                },
            );
        }
        for (code, n) in &nodes {
            if let Some(p) = &n.parent {
                match nodes.get(p) {
                    None => {
                        return Err(ImportError::MissingParent {
                            code: code.clone(),
                            parent: p.clone(),
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
        for (code, n) in &nodes {
            let path = &paths[code].0;
            for anc in lineage(path) {
                if n.kind == OrgKind::Grassroots {
                    *units.entry(anc).or_default() += 1;
                }
                if n.expected {
                    *reporters.entry(anc).or_default() += 1;
                }
            }
        }
        let stamp = now();
        let mut report = ImportReport::default();
        let mut changed: Vec<OrgRow> = Vec::new();
        for (code, n) in &nodes {
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
            };
            let in_file = seen.contains(code.as_str());
            match old.get(code) {
                None => {
                    report.inserted += 1;
                    changed.push(row);
                }
                Some(o) => {
                    if o.parent_code != row.parent_code {
                        report.moved += 1;
                    }
                    let same_record = o.name == row.name
                        && o.parent_code == row.parent_code
                        && o.kind == row.kind
                        && o.expected_to_report == row.expected_to_report;
                    if in_file {
                        if same_record {
                            report.unchanged += 1;
                        } else {
                            report.updated += 1;
                        }
                    }
                    let same_derived = o.path == row.path
                        && o.depth == row.depth
                        && o.subtree_units == row.subtree_units
                        && o.subtree_reporters == row.subtree_reporters;
                    if !(same_record && same_derived) {
                        changed.push(row);
                    }
                }
            }
        }
        // Parents first, so the parent reference always resolves.
        changed.sort_by_key(|r| r.depth);
        for chunk in changed.chunks(BATCH) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "INSERT INTO org_units (code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters, updated_at) ",
            );
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
            qb.push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, kind = excluded.kind, expected_to_report = excluded.expected_to_report, path = excluded.path, depth = excluded.depth, subtree_units = excluded.subtree_units, subtree_reporters = excluded.subtree_reporters, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut *tx).await?;
        }
        sqlx::query(
            "INSERT INTO audit (at, actor, action, detail) VALUES (?, 'cli', 'orgs_import', ?)",
        )
        .bind(&stamp)
        .bind(format!(
            "{} inserted, {} updated, {} unchanged, {} moved",
            report.inserted, report.updated, report.unchanged, report.moved
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if report.moved > 0 {
            self.rebuild_rollups(None).await?;
        }
        Ok(report)
    }

    pub async fn org(&self, code: &str) -> sqlx::Result<Option<OrgRow>> {
        sqlx::query_as(
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE code = ?",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn children(&self, code: &str) -> sqlx::Result<Vec<OrgRow>> {
        sqlx::query_as(
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE parent_code = ? ORDER BY code",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await
    }

    /// Units with the given codes (any number; queried in batches).
    pub async fn orgs_by_code(&self, codes: &[String]) -> sqlx::Result<HashMap<String, OrgRow>> {
        let mut out = HashMap::with_capacity(codes.len());
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Sqlite> = QueryBuilder::new(
                "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE code IN (",
            );
            let mut sep = qb.separated(", ");
            for c in chunk {
                sep.push_bind(c.clone());
            }
            qb.push(")");
            for row in qb.build_query_as::<OrgRow>().fetch_all(&self.pool).await? {
                out.insert(row.code.clone(), row);
            }
        }
        Ok(out)
    }

    /// Expected reporters in a subtree (the node itself included), by path.
    pub async fn expected_reporters(&self, root: &OrgRow) -> sqlx::Result<Vec<OrgRow>> {
        sqlx::query_as(
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE path >= ? AND path < ? AND expected_to_report = 1 ORDER BY path",
        )
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await
    }

    pub async fn org_count(&self) -> sqlx::Result<i64> {
        sqlx::query("SELECT COUNT(*) FROM org_units")
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_range_covers_descendants_only() {
        let p = "/33/3301/";
        let end = subtree_end(p);
        for inside in ["/33/3301/", "/33/3301/330102/", "/33/3301/330102/x/"] {
            assert!(inside >= p && inside < end.as_str(), "{inside}");
        }
        for outside in ["/33/33010/", "/33/3302/", "/33/330/"] {
            assert!(!(outside >= p && outside < end.as_str()), "{outside}");
        }
        assert_eq!(lineage("/a/b/c/"), vec!["a", "b", "c"]);
    }
}
