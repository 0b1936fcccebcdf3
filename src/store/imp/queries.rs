//! Read paths for federation staff: a node's figures, its children's, and who
//! has reported.

use std::collections::HashMap;

use sqlx::Row;
use unionstat_core::rollup::Total;

use super::{Db, Repo};
use crate::store::orgs::{subtree_end, OrgRow};
use crate::store::queries::{NodeFigures, ReporterState};

const ORG_COLUMNS: &str = "o.code, o.name, o.parent_code, o.kind, o.expected_to_report, o.path, o.depth, o.subtree_units, o.subtree_reporters";

fn org_from(r: &<Db as sqlx::Database>::Row) -> OrgRow {
    OrgRow {
        code: r.get(0),
        name: r.get(1),
        parent_code: r.get(2),
        kind: r.get(3),
        expected_to_report: r.get(4),
        path: r.get(5),
        depth: r.get(6),
        subtree_units: r.get(7),
        subtree_reporters: r.get(8),
    }
}

impl Repo {
    /// Figures of one node (a federation's roll-up, or a grassroots unit's facts).
    pub async fn node_figures(&self, org: &OrgRow, period: &str) -> sqlx::Result<NodeFigures> {
        let mut fig = NodeFigures {
            org: org.clone(),
            totals: HashMap::new(),
            reported_units: 0,
            reported_reporters: 0,
        };
        if org.is_grassroots() {
            let rows =
                sqlx::query("SELECT metric, value FROM facts WHERE unit_code = $1 AND period = $2")
                    .bind(&org.code)
                    .bind(period)
                    .fetch_all(&self.pool)
                    .await?;
            fig.reported_units = i64::from(!rows.is_empty());
            for r in rows {
                fig.totals.insert(
                    r.get(0),
                    Total {
                        value: r.get(1),
                        units: 1,
                    },
                );
            }
            return Ok(fig);
        }
        for r in sqlx::query(
            "SELECT metric, value, units FROM rollups WHERE org_code = $1 AND period = $2",
        )
        .bind(&org.code)
        .bind(period)
        .fetch_all(&self.pool)
        .await?
        {
            fig.totals.insert(
                r.get(0),
                Total {
                    value: r.get(1),
                    units: r.get(2),
                },
            );
        }
        if let Some(r) = sqlx::query(
            "SELECT reported_units, reported_reporters FROM rollup_coverage WHERE org_code = $1 AND period = $2",
        )
        .bind(&org.code)
        .bind(period)
        .fetch_optional(&self.pool)
        .await?
        {
            fig.reported_units = r.get(0);
            fig.reported_reporters = r.get(1);
        }
        Ok(fig)
    }

    /// Figures of every child of a node, in code order, in three queries.
    pub async fn children_figures(
        &self,
        org: &OrgRow,
        period: &str,
    ) -> sqlx::Result<Vec<NodeFigures>> {
        let children: Vec<OrgRow> = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {ORG_COLUMNS} FROM org_units o WHERE o.parent_code = $1 ORDER BY o.code"
        )))
        .bind(&org.code)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(org_from)
        .collect();
        let mut out: Vec<NodeFigures> = children
            .into_iter()
            .map(|c| NodeFigures {
                org: c,
                totals: HashMap::new(),
                reported_units: 0,
                reported_reporters: 0,
            })
            .collect();
        let index: HashMap<String, usize> = out
            .iter()
            .enumerate()
            .map(|(i, f)| (f.org.code.clone(), i))
            .collect();
        let (grassroots, federations): (Vec<OrgRow>, Vec<OrgRow>) = out
            .iter()
            .map(|f| f.org.clone())
            .partition(OrgRow::is_grassroots);
        let grassroots: Vec<&str> = grassroots.iter().map(|o| o.code.as_str()).collect();
        let federations: Vec<&str> = federations.iter().map(|o| o.code.as_str()).collect();
        let rollups = self
            .rows_by_codes(
                "SELECT org_code, metric, value, units FROM rollups",
                "org_code",
                &federations,
                period,
                period,
            )
            .await?;
        for r in rollups {
            if let Some(&i) = index.get(&r.get::<String, _>(0)) {
                out[i].totals.insert(
                    r.get(1),
                    Total {
                        value: r.get(2),
                        units: r.get(3),
                    },
                );
            }
        }
        let facts = self
            .rows_by_codes(
                "SELECT unit_code, metric, value FROM facts",
                "unit_code",
                &grassroots,
                period,
                period,
            )
            .await?;
        for r in facts {
            if let Some(&i) = index.get(&r.get::<String, _>(0)) {
                out[i].totals.insert(
                    r.get(1),
                    Total {
                        value: r.get(2),
                        units: 1,
                    },
                );
                out[i].reported_units = 1;
            }
        }
        let coverage = self
            .rows_by_codes(
                "SELECT org_code, reported_units, reported_reporters FROM rollup_coverage",
                "org_code",
                &federations,
                period,
                period,
            )
            .await?;
        for r in coverage {
            if let Some(&i) = index.get(&r.get::<String, _>(0)) {
                out[i].reported_units = r.get(1);
                out[i].reported_reporters = r.get(2);
            }
        }
        Ok(out)
    }

    /// Every expected reporter in the subtree with its state for the month.
    pub async fn reporter_states(
        &self,
        root: &OrgRow,
        period: &str,
    ) -> sqlx::Result<Vec<ReporterState>> {
        let reporters = self.expected_reporters(root).await?;
        let subs = sqlx::query(
            "SELECT COALESCE(s.reporter, NULLIF(s.req_reporter, '')) AS who, s.status, s.id, s.received_at, s.cover FROM submissions s JOIN org_units o ON o.code = COALESCE(s.reporter, NULLIF(s.req_reporter, '')) WHERE COALESCE(s.period, NULLIF(s.req_period, '')) = $1 AND o.path >= $2 AND o.path < $3 ORDER BY s.id",
        )
        .bind(period)
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await?;
        // Per reporter: the accepted one wins, then pending, then the last rejection.
        let rank = |s: &str| match s {
            "accepted" => 3,
            "received" | "processing" => 2,
            "rejected" => 1,
            _ => 0,
        };
        let mut best: HashMap<String, (i32, i64, String, Option<String>, String)> = HashMap::new();
        for r in subs {
            let who: String = r.get(0);
            let status: String = r.get(1);
            let rk = rank(&status);
            if rk == 0 {
                continue;
            }
            let entry = (
                rk,
                r.get::<i64, _>(2),
                r.get::<String, _>(3),
                r.get::<Option<String>, _>(4),
                status,
            );
            match best.get(&who) {
                Some(cur) if cur.0 > rk => {}
                _ => {
                    best.insert(who, entry);
                }
            }
        }
        Ok(reporters
            .into_iter()
            .map(|o| {
                let b = best.remove(&o.code);
                ReporterState {
                    code: o.code,
                    name: o.name,
                    parent_code: o.parent_code,
                    status: match b.as_ref().map(|b| b.0) {
                        Some(3) => "accepted",
                        Some(2) => "pending",
                        Some(1) => "rejected",
                        _ => "missing",
                    }
                    .to_string(),
                    submission_id: b.as_ref().map(|b| b.1),
                    received_at: b.as_ref().map(|b| b.2.clone()),
                    cover: b.and_then(|b| b.3),
                }
            })
            .collect())
    }
}

impl Repo {
    /// Accepted figures of the given units for a month: (unit, metric) → value.
    pub async fn facts_of_units(
        &self,
        period: &str,
        units: &[String],
    ) -> sqlx::Result<HashMap<(String, String), i64>> {
        let mut out = HashMap::new();
        for chunk in units.chunks(crate::store::BATCH) {
            let mut qb: sqlx::QueryBuilder<Db> = sqlx::QueryBuilder::new(
                "SELECT unit_code, metric, value FROM facts WHERE period = ",
            );
            qb.push_bind(period.to_string()).push(" AND unit_code IN (");
            let mut sep = qb.separated(", ");
            for u in chunk {
                sep.push_bind(u.clone());
            }
            qb.push(")");
            for r in qb.build().fetch_all(&self.pool).await? {
                out.insert((r.get(0), r.get(1)), r.get(2));
            }
        }
        Ok(out)
    }
}
