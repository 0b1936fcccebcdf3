//! Figures of a node (and its children) month by month over a range of months,
//! for quarters, years, statistical years and series: one row per node and
//! month, read by integer keys (the months of a range are a range of keys).

use std::collections::{BTreeMap, HashMap};

use unionstat_core::Period;

use super::columns::{rollup_row, unit_row};
use super::{ids_of, Db, Repo};
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::periods::{Months, Spans};
use crate::store::rollups::RollupTable;
use unionstat_core::rollup::ledger::combine;
use unionstat_core::rollup::MonthFigures;

type DbRow = <Db as sqlx::Database>::Row;

impl Repo {
    pub async fn answer_generation(&self) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT n FROM answer_generation WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// One node's figures for every month of `months`: a federation's
    /// roll-ups and coverage, or a grassroots unit's own figures.
    pub async fn node_months(
        &self,
        org: &OrgRow,
        months: &Spans,
        view: TreeView,
    ) -> sqlx::Result<Months> {
        let ids = ids_of(&mut *self.pool.acquire().await?, &[org.code.as_str()]).await?;
        let Some(&id) = ids.get(&org.code) else {
            return Ok(Months::new());
        };
        let mut out = vec![Months::new()];
        self.months_of(&[(id, 0, org.is_grassroots())], months, view, &mut out)
            .await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// One node's figures stored under a form's storage key, as reported.
    pub async fn node_form_figures(&self, org: &OrgRow, key: i64) -> sqlx::Result<MonthFigures> {
        let mut out = self
            .nodes_form_figures(std::slice::from_ref(org), key, false)
            .await?;
        Ok(out.pop().unwrap_or_default())
    }

    /// Each node's figures stored under a form's storage key, in the order
    /// given: a federation's roll-up and coverage, or (a grassroots unit, or
    /// any node when `own_rows`) the node's own row.
    pub async fn nodes_form_figures(
        &self,
        orgs: &[OrgRow],
        key: i64,
        own_rows: bool,
    ) -> sqlx::Result<Vec<MonthFigures>> {
        let cols = &*self.cols;
        let width = cols.width();
        let codes: Vec<&str> = orgs.iter().map(|o| o.code.as_str()).collect();
        let ids = ids_of(&mut *self.pool.acquire().await?, &codes).await?;
        let own_row = |o: &OrgRow| own_rows || o.is_grassroots();
        // (own row?, id) → figures: own rows from unit_figures, roll-ups from
        // rollup_figures.
        let mut found: HashMap<(bool, i64), MonthFigures> = HashMap::new();
        for own in [true, false] {
            let wanted: Vec<i64> = orgs
                .iter()
                .filter(|o| own_row(o) == own)
                .filter_map(|o| ids.get(&o.code).copied())
                .collect();
            let (select, col) = if own {
                let list = &cols.unit_list;
                (
                    format!("SELECT unit_id, period, {list} FROM unit_figures"),
                    "unit_id",
                )
            } else {
                let list = &cols.rollup_list;
                (
                    format!("SELECT org_id, period, reported_units, reported_reporters, {list} FROM rollup_figures"),
                    "org_id",
                )
            };
            for r in &self
                .rows_by_ids(&select, col, &wanted, &[(key, key)])
                .await?
            {
                let figures = if own {
                    let totals = cols.unit_totals(&unit_row(r, 2, width));
                    MonthFigures {
                        reported_units: i64::from(!totals.is_empty()),
                        totals,
                        reported_reporters: 0,
                    }
                } else {
                    let row = rollup_row(r, 2, width);
                    MonthFigures {
                        totals: cols.rollup_totals(&row),
                        reported_units: row.reported_units,
                        reported_reporters: row.reported_reporters,
                    }
                };
                found.insert((own, sqlx::Row::get(r, 0)), figures);
            }
        }
        Ok(orgs
            .iter()
            .map(|o| {
                ids.get(&o.code)
                    .and_then(|id| found.remove(&(own_row(o), *id)))
                    .unwrap_or_default()
            })
            .collect())
    }

    /// Every child of a node (code order) with its figures for every month of
    /// `months`, in a few queries whatever the number of children.
    pub async fn children_months(
        &self,
        org: &OrgRow,
        months: &Spans,
        view: TreeView,
    ) -> sqlx::Result<Vec<(OrgRow, Months)>> {
        let at = TreeAt::of(view, months.tree_month());
        let children = self.children(&org.code, at).await?;
        let codes: Vec<&str> = children.iter().map(|c| c.code.as_str()).collect();
        let ids = ids_of(&mut *self.pool.acquire().await?, &codes).await?;
        let nodes: Vec<(i64, usize, bool)> = children
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((*ids.get(&c.code)?, i, c.is_grassroots())))
            .collect();
        let mut out: Vec<Months> = vec![Months::new(); children.len()];
        self.months_of(&nodes, months, view, &mut out).await?;
        Ok(children.into_iter().zip(out).collect())
    }

    /// Fills `out[index]` with the months of each (id, index, grassroots) node:
    /// federations from the roll-ups of the view (the restated ones for months
    /// before the newest tree change, in the current-tree view), grassroots
    /// units from their rows (in the current-tree view together with the rows
    /// of units merged into them).
    async fn months_of(
        &self,
        nodes: &[(i64, usize, bool)],
        months: &Spans,
        view: TreeView,
        out: &mut [Months],
    ) -> sqlx::Result<()> {
        let cols = &*self.cols;
        let width = cols.width();
        let mut index: HashMap<i64, usize> = nodes.iter().map(|(id, i, _)| (*id, *i)).collect();
        let newest = match view {
            TreeView::AsReported => 0,
            TreeView::Current => self.newest_tree_from().await?,
        };
        // Units merged into a grassroots node count as it (current tree only).
        let mut merged_in: Vec<i64> = Vec::new();
        if view == TreeView::Current {
            let links: Vec<(i64, i64)> = sqlx::query(
                "SELECT a.id, b.id FROM org_successors s JOIN org_ids a ON a.code = s.code JOIN org_ids b ON b.code = s.successor",
            )
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| (sqlx::Row::get(r, 0), sqlx::Row::get(r, 1)))
            .collect();
            let next: HashMap<i64, i64> = links.into_iter().collect();
            for &from in next.keys() {
                let mut cur = from;
                for _ in 0..64 {
                    match next.get(&cur) {
                        Some(&n) => cur = n,
                        None => break,
                    }
                }
                if let Some(&i) = index.get(&cur) {
                    if nodes.iter().any(|n| n.0 == cur && n.2) {
                        index.insert(from, i);
                        merged_in.push(from);
                    }
                }
            }
        }
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
        let mut unit_ids = pick(true);
        unit_ids.extend(&merged_in);
        let units = self
            .rows_by_ids(
                &format!(
                    "SELECT unit_id, period, {} FROM unit_figures",
                    cols.unit_list
                ),
                "unit_id",
                &unit_ids,
                &months.keys_within(i64::MIN, i64::MAX),
            )
            .await?;
        // Rows combined per node and month (several only where units merged).
        let mut combined: BTreeMap<(usize, Period), Vec<Option<i64>>> = BTreeMap::new();
        for r in &units {
            let Some((i, month)) = locate(r) else {
                continue;
            };
            combine(
                combined
                    .entry((i, month))
                    .or_insert_with(|| vec![None; width]),
                &unit_row(r, 2, width),
            );
        }
        for ((i, month), figures) in combined {
            let totals = cols.unit_totals(&figures);
            let f = figures_at(out, i, month);
            f.reported_units = i64::from(!totals.is_empty());
            f.totals = totals;
        }
        let federations = pick(false);
        let mut rollups = Vec::new();
        // The restated months (current tree, before its first month), then the
        // months every view reads alike.
        for (table, lo, hi) in [
            (RollupTable::Restated, i64::MIN, newest - 1),
            (RollupTable::AsReported, newest, i64::MAX),
        ] {
            let ranges = months.keys_within(lo, hi);
            if ranges.is_empty() {
                continue;
            }
            rollups.extend(
                self.rows_by_ids(
                    &format!(
                        "SELECT org_id, period, reported_units, reported_reporters, {} FROM {}",
                        cols.rollup_list,
                        table.name()
                    ),
                    "org_id",
                    &federations,
                    &ranges,
                )
                .await?,
            );
        }
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
