//! The org tree: import (upsert by code) and tree look-ups.

use std::collections::{BTreeMap, HashMap, HashSet};

use sqlx::{QueryBuilder, Row};
use unionstat_core::orgs::{OrgKind, OrgRecord};

use super::{Db, Repo};
use crate::store::orgs::{lineage, subtree_end, ImportError, ImportReport, OrgRow};
use crate::store::{now, BATCH};

struct Node {
    name: String,
    parent: Option<String>,
    kind: OrgKind,
    expected: bool,
}

impl Repo {
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
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
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
            "INSERT INTO audit (at, actor, action, detail) VALUES ($1, $3, 'orgs_import', $2)",
        )
        .bind(&stamp)
        .bind(format!(
            "{} inserted, {} updated, {} unchanged, {} moved",
            report.inserted, report.updated, report.unchanged, report.moved
        ))
        // Master data is imported from the command line only.
        .bind(crate::store::actor::Actor::cli().to_string())
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
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE code = $1",
        )
        .bind(code)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn children(&self, code: &str) -> sqlx::Result<Vec<OrgRow>> {
        sqlx::query_as(
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE parent_code = $1 ORDER BY code",
        )
        .bind(code)
        .fetch_all(&self.pool)
        .await
    }

    /// Units with the given codes (any number; queried in batches).
    pub async fn orgs_by_code(&self, codes: &[String]) -> sqlx::Result<HashMap<String, OrgRow>> {
        let mut out = HashMap::with_capacity(codes.len());
        for chunk in codes.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(
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
            "SELECT code, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units WHERE path >= $1 AND path < $2 AND expected_to_report ORDER BY path",
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
