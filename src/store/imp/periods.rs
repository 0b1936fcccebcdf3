//! Figures of a node (and its children) month by month over a range of months,
//! for quarters, years, statistical years and series. Portable SQL: numbered
//! placeholders, months compared as `YYYY-MM` text.

use super::Repo;
use crate::store::orgs::OrgRow;
use crate::store::periods::Months;
use sqlx::Row;
use std::collections::HashMap;
use unionstat_core::rollup::Total;
use unionstat_core::Period;

fn month_of(raw: &str) -> Option<Period> {
    raw.parse().ok()
}
impl Repo {
    /// One node's figures for every month in `first ..= last`: a federation's
    /// roll-ups and coverage, or a grassroots unit's own facts.
    pub async fn node_months(
        &self,
        org: &OrgRow,
        first: Period,
        last: Period,
    ) -> sqlx::Result<Months> {
        let (first, last) = (first.to_string(), last.to_string());
        let mut out = Months::new();
        if org.is_grassroots() {
            let rows = sqlx::query(
                "SELECT period, metric, value FROM facts WHERE unit_code = $1 AND period >= $2 AND period <= $3",
            )
            .bind(&org.code)
            .bind(&first)
            .bind(&last)
            .fetch_all(&self.pool)
            .await?;
            for r in rows {
                let Some(m) = month_of(&r.get::<String, _>(0)) else {
                    continue;
                };
                let f = out.entry(m).or_default();
                f.reported_units = 1;
                f.totals.insert(
                    r.get(1),
                    Total {
                        value: r.get(2),
                        units: 1,
                    },
                );
            }
            return Ok(out);
        }
        let rows = sqlx::query(
            "SELECT period, metric, value, units FROM rollups WHERE org_code = $1 AND period >= $2 AND period <= $3",
        )
        .bind(&org.code)
        .bind(&first)
        .bind(&last)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let Some(m) = month_of(&r.get::<String, _>(0)) else {
                continue;
            };
            out.entry(m).or_default().totals.insert(
                r.get(1),
                Total {
                    value: r.get(2),
                    units: r.get(3),
                },
            );
        }
        let rows = sqlx::query(
            "SELECT period, reported_units, reported_reporters FROM rollup_coverage WHERE org_code = $1 AND period >= $2 AND period <= $3",
        )
        .bind(&org.code)
        .bind(&first)
        .bind(&last)
        .fetch_all(&self.pool)
        .await?;
        for r in rows {
            let Some(m) = month_of(&r.get::<String, _>(0)) else {
                continue;
            };
            let f = out.entry(m).or_default();
            f.reported_units = r.get(1);
            f.reported_reporters = r.get(2);
        }
        Ok(out)
    }

    /// Every child of a node (code order) with its figures for every month in
    /// `first ..= last`, in three queries whatever the number of children.
    pub async fn children_months(
        &self,
        org: &OrgRow,
        first: Period,
        last: Period,
    ) -> sqlx::Result<Vec<(OrgRow, Months)>> {
        let children = self.children(&org.code).await?;
        let index: HashMap<String, usize> = children
            .iter()
            .enumerate()
            .map(|(i, c)| (c.code.clone(), i))
            .collect();
        let mut months: Vec<Months> = vec![Months::new(); children.len()];
        let (first, last) = (first.to_string(), last.to_string());
        let federations: Vec<&str> = children
            .iter()
            .filter(|c| !c.is_grassroots())
            .map(|c| c.code.as_str())
            .collect();
        let grassroots: Vec<&str> = children
            .iter()
            .filter(|c| c.is_grassroots())
            .map(|c| c.code.as_str())
            .collect();
        let rows = self
            .rows_by_codes(
                "SELECT org_code, period, metric, value, units FROM rollups",
                "org_code",
                &federations,
                &first,
                &last,
            )
            .await?;
        for r in rows {
            let (Some(&i), Some(m)) = (
                index.get(&r.get::<String, _>(0)),
                month_of(&r.get::<String, _>(1)),
            ) else {
                continue;
            };
            months[i].entry(m).or_default().totals.insert(
                r.get(2),
                Total {
                    value: r.get(3),
                    units: r.get(4),
                },
            );
        }
        let rows = self
            .rows_by_codes(
                "SELECT unit_code, period, metric, value FROM facts",
                "unit_code",
                &grassroots,
                &first,
                &last,
            )
            .await?;
        for r in rows {
            let (Some(&i), Some(m)) = (
                index.get(&r.get::<String, _>(0)),
                month_of(&r.get::<String, _>(1)),
            ) else {
                continue;
            };
            let f = months[i].entry(m).or_default();
            f.reported_units = 1;
            f.totals.insert(
                r.get(2),
                Total {
                    value: r.get(3),
                    units: 1,
                },
            );
        }
        let rows = self
            .rows_by_codes(
                "SELECT org_code, period, reported_units, reported_reporters FROM rollup_coverage",
                "org_code",
                &federations,
                &first,
                &last,
            )
            .await?;
        for r in rows {
            let (Some(&i), Some(m)) = (
                index.get(&r.get::<String, _>(0)),
                month_of(&r.get::<String, _>(1)),
            ) else {
                continue;
            };
            let f = months[i].entry(m).or_default();
            f.reported_units = r.get(2);
            f.reported_reporters = r.get(3);
        }
        Ok(children.into_iter().zip(months).collect())
    }
}
