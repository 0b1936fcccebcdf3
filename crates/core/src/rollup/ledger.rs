//! Which roll-ups a grassroots unit's figures move, and by how much: the one
//! piece of roll-up arithmetic behind both the incremental accept (a
//! submission's rows leave and arrive: the ledger of the change) and the full
//! recomputation (every row of a period arrives into an empty ledger).
//!
//! Figures are given per metric *slot* (the warehouse's column order); a slot
//! that is `None` was not reported, which is not zero: it moves no sum and no
//! count. Over the hierarchy every metric is a sum (stock and flow differ only
//! over time, see [`super::aggregate_months`]).

use std::collections::{BTreeMap, HashMap};

use super::Total;

/// A node's compact integer id in the warehouse.
pub type NodeId = i64;

/// One federation's roll-up for one period: per metric slot the Σ of the
/// scaled values and how many grassroots units reported it; how many units
/// reported any figure; how many expected reporters have an accepted report.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RollupRow {
    pub sums: Vec<i64>,
    pub counts: Vec<i64>,
    pub reported_units: i64,
    pub reported_reporters: i64,
}

impl RollupRow {
    /// A row of `width` metric slots, all zero.
    pub fn zero(width: usize) -> RollupRow {
        RollupRow {
            sums: vec![0; width],
            counts: vec![0; width],
            ..RollupRow::default()
        }
    }

    /// Nothing in it: such a row is not stored.
    pub fn is_zero(&self) -> bool {
        self.reported_units == 0
            && self.reported_reporters == 0
            && self.sums.iter().all(|&v| v == 0)
            && self.counts.iter().all(|&v| v == 0)
    }

    /// Adds `other` (a delta or a contribution) into this row.
    pub fn add(&mut self, other: &RollupRow) {
        let width = self.sums.len().max(other.sums.len());
        self.sums.resize(width, 0);
        self.counts.resize(width, 0);
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            *a += b;
        }
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.reported_units += other.reported_units;
        self.reported_reporters += other.reported_reporters;
    }

    /// The total of a slot; None when no unit reported it (missing is not zero).
    pub fn total(&self, slot: usize) -> Option<Total> {
        let (value, units) = (*self.sums.get(slot)?, *self.counts.get(slot)?);
        (units != 0 || value != 0).then_some(Total { value, units })
    }
}

/// Contributions collected at the node they start from, then spread over that
/// node's lineage (itself and every federation above it).
#[derive(Debug, Clone)]
pub struct Ledger {
    width: usize,
    at: HashMap<NodeId, RollupRow>,
}

impl Ledger {
    /// An empty ledger for rows of `width` metric slots.
    pub fn new(width: usize) -> Ledger {
        Ledger {
            width,
            at: HashMap::new(),
        }
    }

    fn row(&mut self, node: NodeId) -> &mut RollupRow {
        let width = self.width;
        self.at
            .entry(node)
            .or_insert_with(|| RollupRow::zero(width))
    }

    /// A grassroots unit's figures (one per slot, `None` = not reported),
    /// counted `sign` times — +1 for a row that arrives, −1 for one that
    /// leaves — in the roll-up of its `parent` and of every federation above.
    /// A unit with no figure at all moves nothing.
    pub fn unit(&mut self, parent: NodeId, figures: &[Option<i64>], sign: i64) {
        if figures.iter().all(Option::is_none) {
            return;
        }
        let row = self.row(parent);
        if row.sums.len() < figures.len() {
            row.sums.resize(figures.len(), 0);
            row.counts.resize(figures.len(), 0);
        }
        for (slot, v) in figures.iter().enumerate() {
            if let Some(v) = v {
                row.sums[slot] += sign * v;
                row.counts[slot] += sign;
            }
        }
        row.reported_units += sign;
    }

    /// Contributions already summed (several units' figures, say), moved in
    /// at `node` and every federation above it like [`Ledger::unit`]'s.
    pub fn add(&mut self, node: NodeId, row: &RollupRow) {
        self.row(node).add(row);
    }

    /// An expected reporter's accepted report (+1) or its withdrawal (−1),
    /// counted in the reporter's own roll-up and every one above it.
    pub fn reporter(&mut self, reporter: NodeId, sign: i64) {
        self.row(reporter).reported_reporters += sign;
    }

    /// The rows every contribution lands in: `lineage(node)` gives the node and
    /// its ancestors (any order); a node without one (not in the tree) moves
    /// nothing. Rows that come to nothing are left out.
    pub fn spread<'a, F>(self, mut lineage: F) -> BTreeMap<NodeId, RollupRow>
    where
        F: FnMut(NodeId) -> Option<&'a [NodeId]>,
    {
        let mut out: BTreeMap<NodeId, RollupRow> = BTreeMap::new();
        for (node, row) in self.at {
            let Some(nodes) = lineage(node) else {
                continue;
            };
            for &n in nodes {
                out.entry(n)
                    .or_insert_with(|| RollupRow::zero(self.width))
                    .add(&row);
            }
        }
        out.retain(|_, r| !r.is_zero());
        out
    }
}

/// Adds one unit's figures into another's, slot by slot: a slot reported by
/// either is reported (their sum), a slot reported by neither stays missing.
/// How the rows of units merged into one count as that one unit.
pub fn combine(into: &mut Vec<Option<i64>>, figures: &[Option<i64>]) {
    if into.len() < figures.len() {
        into.resize(figures.len(), None);
    }
    for (a, b) in into.iter_mut().zip(figures) {
        if let Some(b) = b {
            *a = Some(a.unwrap_or(0) + b);
        }
    }
}

/// Adds deltas into a table of roll-ups, dropping rows that come to nothing:
/// what the warehouse does with an acceptance's ledger.
pub fn apply(table: &mut BTreeMap<NodeId, RollupRow>, deltas: &BTreeMap<NodeId, RollupRow>) {
    for (node, d) in deltas {
        let row = table.entry(*node).or_default();
        row.add(d);
        if row.is_zero() {
            table.remove(node);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combined_units_keep_missing_apart_from_zero() {
        let mut c = vec![None, Some(2), None];
        combine(&mut c, &[Some(0), Some(3), None, Some(7)]);
        assert_eq!(c, vec![Some(0), Some(5), None, Some(7)]);
    }
    use proptest::prelude::*;

    /// Federations 0..f (each one's parent an earlier one, 0 the root), units
    /// with a federation parent each.
    fn lineages(parents: &[usize]) -> Vec<Vec<NodeId>> {
        let mut out: Vec<Vec<NodeId>> = Vec::with_capacity(parents.len() + 1);
        out.push(vec![0]);
        for (i, &p) in parents.iter().enumerate() {
            let mut l = out[p.min(i)].clone();
            l.push(i as NodeId + 1);
            out.push(l);
        }
        out
    }

    #[test]
    fn a_unit_moves_its_parent_and_every_ancestor_and_missing_moves_nothing() {
        let lines = lineages(&[0, 1]); // 0 ← 1 ← 2
        let mut l = Ledger::new(2);
        l.unit(2, &[Some(10), None], 1);
        l.unit(2, &[Some(5), Some(1)], 1);
        l.unit(1, &[None, None], 1);
        l.reporter(2, 1);
        let rows = l.spread(|n| lines.get(n as usize).map(Vec::as_slice));
        assert_eq!(rows.len(), 3);
        for n in 0..3 {
            let r = &rows[&n];
            assert_eq!(
                (r.sums.clone(), r.counts.clone()),
                (vec![15, 1], vec![2, 1])
            );
            assert_eq!((r.reported_units, r.reported_reporters), (2, 1));
        }
        assert_eq!(rows[&0].total(1), Some(Total { value: 1, units: 1 }));
        let mut empty = Ledger::new(2);
        empty.unit(2, &[Some(3), None], 1);
        empty.unit(2, &[Some(3), None], -1);
        assert!(empty
            .spread(|n| lines.get(n as usize).map(Vec::as_slice))
            .is_empty());
    }

    #[derive(Debug, Clone)]
    struct Case {
        parents: Vec<usize>,
        unit_parents: Vec<usize>,
        /// (reporter federation, [(unit, figures)])
        submissions: Vec<(usize, Vec<(usize, Vec<Option<i64>>)>)>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (1usize..6, 1usize..12).prop_flat_map(|(feds, units)| {
            let parents = proptest::collection::vec(0..feds, feds - 1);
            let unit_parents = proptest::collection::vec(0..feds, units);
            let figures = proptest::collection::vec(proptest::option::of(-1_000i64..1_000_000), 3);
            let sub = (
                0..feds,
                proptest::collection::vec((0..units, figures), 0..6),
            );
            let submissions = proptest::collection::vec(sub, 1..10);
            (parents, unit_parents, submissions).prop_map(|(parents, unit_parents, submissions)| {
                Case {
                    parents,
                    unit_parents,
                    submissions,
                }
            })
        })
    }

    proptest! {
        /// Incremental equals full: the deltas of every acceptance, applied in
        /// turn, leave exactly the table a full recomputation of the final rows
        /// gives.
        #[test]
        fn incremental_deltas_equal_a_full_recomputation(c in case()) {
            let lines = lineages(&c.parents);
            let lineage = |n: NodeId| lines.get(n as usize).map(Vec::as_slice);
            let mut rows: HashMap<usize, Vec<Option<i64>>> = HashMap::new();
            let mut reporters: Vec<bool> = vec![false; lines.len()];
            let mut table = BTreeMap::new();
            for (reporter, units) in &c.submissions {
                let mut l = Ledger::new(3);
                for (u, figures) in units {
                    let parent = c.unit_parents[*u] as NodeId;
                    if let Some(old) = rows.get(u) {
                        l.unit(parent, old, -1);
                    }
                    l.unit(parent, figures, 1);
                    rows.insert(*u, figures.clone());
                }
                if !reporters[*reporter] {
                    reporters[*reporter] = true;
                    l.reporter(*reporter as NodeId, 1);
                }
                apply(&mut table, &l.spread(lineage));
            }
            let mut full = Ledger::new(3);
            for (u, figures) in &rows {
                full.unit(c.unit_parents[*u] as NodeId, figures, 1);
            }
            for (r, done) in reporters.iter().enumerate() {
                if *done {
                    full.reporter(r as NodeId, 1);
                }
            }
            prop_assert_eq!(table, full.spread(lineage));
        }
    }
}
