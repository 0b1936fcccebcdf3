//! Figures of a node (and its children) month by month over a range of months,
//! for quarters, years, statistical years and series: one row per node and
//! month, read by integer keys (the months of a range are a range of keys).

use std::collections::HashMap;

use unionstat_core::Period;

use super::columns::{rollup_row, unit_row};
use super::{ids_of, Db, Repo};
use crate::store::orgs::OrgRow;
use crate::store::periods::Months;
use unionstat_core::rollup::MonthFigures;

type DbRow = <Db as sqlx::Database>::Row;

impl Repo {
    /// One node's figures for every month in `first ..= last`: a federation's
    /// roll-ups and coverage, or a grassroots unit's own figures.
    pub async fn node_months(
        &self,
        org: &OrgRow,
        first: Period,
        last: Period,
    ) -> sqlx::Result<Months> {
        let ids = ids_of(&mut *self.pool.acquire().await?, &[org.code.as_str()]).await?;
        let Some(&id) = ids.get(&org.code) else {
            return Ok(Months::new());
        };
        let mut out = vec![Months::new()];
        self.months_of(&[(id, 0, org.is_grassroots())], first, last, &mut out)
            .await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Every child of a node (code order) with its figures for every month in
    /// `first ..= last`, in a few queries whatever the number of children.
    pub async fn children_months(
        &self,
        org: &OrgRow,
        first: Period,
        last: Period,
    ) -> sqlx::Result<Vec<(OrgRow, Months)>> {
        let children = self.children(&org.code).await?;
        let codes: Vec<&str> = children.iter().map(|c| c.code.as_str()).collect();
        let ids = ids_of(&mut *self.pool.acquire().await?, &codes).await?;
        let nodes: Vec<(i64, usize, bool)> = children
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((*ids.get(&c.code)?, i, c.is_grassroots())))
            .collect();
        let mut months: Vec<Months> = vec![Months::new(); children.len()];
        self.months_of(&nodes, first, last, &mut months).await?;
        Ok(children.into_iter().zip(months).collect())
    }

    /// Fills `out[index]` with the months of each (id, index, grassroots) node.
    async fn months_of(
        &self,
        nodes: &[(i64, usize, bool)],
        first: Period,
        last: Period,
        out: &mut [Months],
    ) -> sqlx::Result<()> {
        let cols = &*self.cols;
        let width = cols.width();
        let index: HashMap<i64, usize> = nodes.iter().map(|(id, i, _)| (*id, *i)).collect();
        let pick = |grassroots: bool| -> Vec<i64> {
            nodes
                .iter()
                .filter(|n| n.2 == grassroots)
                .map(|n| n.0)
                .collect()
        };
        let locate = |r: &DbRow| -> Option<(usize, Period)> {
            let (id, key): (i64, i64) = (sqlx::Row::get(r, 0), sqlx::Row::get(r, 1));
            Some((*index.get(&id)?, Period::from_key(key)?))
        };
        let (first, last) = (first.key(), last.key());
        let units = self
            .rows_by_ids(
                &format!(
                    "SELECT unit_id, period, {} FROM unit_figures",
                    cols.unit_list
                ),
                "unit_id",
                &pick(true),
                first,
                last,
            )
            .await?;
        for r in &units {
            let Some((i, month)) = locate(r) else {
                continue;
            };
            let totals = cols.unit_totals(&unit_row(r, 2, width));
            let f = figures_at(out, i, month);
            f.reported_units = i64::from(!totals.is_empty());
            f.totals = totals;
        }
        let rollups = self
            .rows_by_ids(
                &format!(
                    "SELECT org_id, period, reported_units, reported_reporters, {} FROM rollup_figures",
                    cols.rollup_list
                ),
                "org_id",
                &pick(false),
                first,
                last,
            )
            .await?;
        for r in &rollups {
            let Some((i, month)) = locate(r) else {
                continue;
            };
            let row = rollup_row(r, 2, width);
            let f = figures_at(out, i, month);
            f.totals = cols.rollup_totals(&row);
            f.reported_units = row.reported_units;
            f.reported_reporters = row.reported_reporters;
        }
        Ok(())
    }
}

/// The figures of node `i` for `month`, made empty when missing.
fn figures_at(out: &mut [Months], i: usize, month: Period) -> &mut MonthFigures {
    out[i].entry(month).or_default()
}
