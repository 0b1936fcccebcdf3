//! The warehouse's metric columns. A grassroots unit's figures for a period are
//! one row of `unit_figures` with a nullable column `m_<metric>` per metric (NULL
//! = not reported); a federation's roll-up is one row of `rollup_figures` with
//! `s_<metric>` (Σ) and `n_<metric>` (units that reported it). The store adds the
//! columns of new catalogue metrics at start and records them in
//! `metric_columns`; the columns of metrics that left the catalogue stay, with
//! their figures. A metric's *slot* is its position in that record, the index of
//! its figure in the rows the store reads and writes.

use std::collections::HashMap;

use unionstat_core::form::{from_storage_key, storage_key};
use unionstat_core::period::ReportPeriod;
use unionstat_core::rollup::ledger::RollupRow;
use unionstat_core::rollup::{totals_with_capacity, Total, Totals};

/// Whether a metric code may name a column: a lower-case ASCII letter, then
/// lower-case letters, digits and `_`, at most 48 characters.
pub fn is_safe_identifier(code: &str) -> bool {
    let mut chars = code.chars();
    matches!(chars.next(), Some('a'..='z'))
        && code.len() <= 48
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// The metric columns this process knows, in slot order, and the SQL lists
/// built from them once.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    metrics: Vec<String>,
    slots: HashMap<String, usize>,
    /// `m_a, m_b, …`
    pub unit_list: String,
    /// `s_a, s_b, …, n_a, n_b, …`
    pub rollup_list: String,
    /// Each form's slots that a recomputation of its periods sums: its own
    /// metrics and those of no form (a metric that left the catalogue keeps
    /// its column and figures). Another form's columns are empty in its rows.
    forms: HashMap<String, Vec<usize>>,
}

impl Columns {
    /// Columns for these metric codes, in slot order (each a safe identifier).
    pub fn new(metrics: Vec<String>) -> Columns {
        let slots = metrics
            .iter()
            .enumerate()
            .map(|(i, m)| (m.clone(), i))
            .collect();
        let list = |prefix: &str| -> Vec<String> {
            metrics.iter().map(|m| format!("{prefix}{m}")).collect()
        };
        let unit_list = list("m_").join(", ");
        let mut rollup = list("s_");
        rollup.extend(list("n_"));
        Columns {
            unit_list,
            rollup_list: rollup.join(", "),
            metrics,
            slots,
            forms: HashMap::new(),
        }
    }

    /// Names each form's metrics (see [`Columns::form_slots`]).
    pub fn with_forms(mut self, forms: &[(String, Vec<String>)]) -> Columns {
        let owned: std::collections::HashSet<&str> = forms
            .iter()
            .flat_map(|(_, ms)| ms.iter().map(String::as_str))
            .collect();
        self.forms = forms
            .iter()
            .map(|(form, ms)| {
                let slots = self
                    .metrics
                    .iter()
                    .enumerate()
                    .filter(|(_, m)| ms.contains(m) || !owned.contains(m.as_str()))
                    .map(|(i, _)| i)
                    .collect();
                (form.clone(), slots)
            })
            .collect();
        self
    }

    /// The slots a recomputation of `form`'s periods sums: the form's own
    /// metrics and those of no form; every slot for a form not named.
    pub fn form_slots(&self, form: &str) -> Vec<usize> {
        self.forms
            .get(form)
            .cloned()
            .unwrap_or_else(|| (0..self.metrics.len()).collect())
    }

    /// Each metric column as `{before}{metric}{after}`, joined by commas, in
    /// slot order: `column_list("SUM(m_", ")")` is `SUM(m_a), SUM(m_b), …`.
    pub fn column_list(&self, before: &str, after: &str) -> String {
        self.slot_list(
            &(0..self.metrics.len()).collect::<Vec<_>>(),
            before,
            after,
            ", ",
        )
    }

    /// The columns of `slots` as `{before}{metric}{after}`, joined by `sep`.
    pub fn slot_list(&self, slots: &[usize], before: &str, after: &str, sep: &str) -> String {
        slots
            .iter()
            .map(|&i| format!("{before}{}{after}", self.metrics[i]))
            .collect::<Vec<_>>()
            .join(sep)
    }

    pub fn width(&self) -> usize {
        self.metrics.len()
    }

    pub fn metrics(&self) -> &[String] {
        &self.metrics
    }

    pub fn slot(&self, metric: &str) -> Option<usize> {
        self.slots.get(metric).copied()
    }

    /// A unit's figures keyed by metric code (each reported by one unit).
    pub fn unit_totals(&self, figures: &[Option<i64>]) -> Totals {
        self.totals_by_slot(|slot| {
            let value = (*figures.get(slot)?)?;
            Some(Total { value, units: 1 })
        })
    }

    /// A roll-up's totals keyed by metric code (metrics nobody reported left out).
    pub fn rollup_totals(&self, row: &RollupRow) -> Totals {
        self.totals_by_slot(|slot| row.total(slot))
    }

    /// Each metric's total that `total` gives for its slot, keyed by code.
    fn totals_by_slot(&self, total: impl Fn(usize) -> Option<Total>) -> Totals {
        let mut totals = totals_with_capacity(self.width());
        for (slot, m) in self.metrics.iter().enumerate() {
            if let Some(t) = total(slot) {
                totals.insert(m.clone(), t);
            }
        }
        totals
    }

    /// `SET` assignments that add an upsert's `excluded` row into the stored one.
    pub fn rollup_increments(&self, table: &str) -> String {
        let mut out = vec![
            format!("reported_units = {table}.reported_units + excluded.reported_units"),
            format!(
                "reported_reporters = {table}.reported_reporters + excluded.reported_reporters"
            ),
        ];
        for m in &self.metrics {
            for p in ["s_", "n_"] {
                out.push(format!("{p}{m} = {table}.{p}{m} + excluded.{p}{m}"));
            }
        }
        out.join(", ")
    }

    /// A condition true of a roll-up row that holds nothing.
    pub fn rollup_is_zero(&self) -> String {
        let mut out = vec![
            "reported_units = 0".to_string(),
            "reported_reporters = 0".to_string(),
        ];
        for m in &self.metrics {
            out.push(format!("s_{m} = 0 AND n_{m} = 0"));
        }
        out.join(" AND ")
    }

    /// `COUNT(m_a) + COUNT(m_b) + …`: the figures held by the rows selected.
    pub fn figure_count(&self) -> String {
        if self.metrics.is_empty() {
            return "0".into();
        }
        self.metrics
            .iter()
            .map(|m| format!("COUNT(m_{m})"))
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// Each form's storage slot (`form_slots`): a form's figures and roll-ups are
/// stored under the key `slot · 10⁷ + period key`
/// ([`unionstat_core::form::storage_key`]); `monthly` has slot 0, so its keys
/// are the period keys themselves.
#[derive(Debug, Clone, Default)]
pub struct FormSlots {
    slots: HashMap<String, i64>,
}

impl FormSlots {
    pub fn new(rows: impl IntoIterator<Item = (String, i64)>) -> FormSlots {
        FormSlots {
            slots: rows.into_iter().collect(),
        }
    }

    /// The slot of `form`, when it has one.
    pub fn slot(&self, form: &str) -> Option<i64> {
        self.slots.get(form).copied()
    }

    /// The storage key of `form`'s `period`, when the form has a slot.
    pub fn key(&self, form: &str, period: &ReportPeriod) -> Option<i64> {
        Some(storage_key(self.slot(form)?, period))
    }

    /// The form and period a storage key stands for.
    pub fn of_key(&self, key: i64) -> Option<(&str, ReportPeriod)> {
        let (slot, period) = from_storage_key(key)?;
        let form = self
            .slots
            .iter()
            .find(|(_, s)| **s == slot)
            .map(|(f, _)| f.as_str())?;
        Some((form, period))
    }

    /// The first slot no form holds.
    pub fn next_slot(&self) -> i64 {
        self.slots.values().max().map_or(0, |m| m + 1)
    }

    pub fn insert(&mut self, form: String, slot: i64) {
        self.slots.insert(form, slot);
    }

    /// Every form with its slot, by slot.
    pub fn all(&self) -> Vec<(&str, i64)> {
        let mut out: Vec<(&str, i64)> = self.slots.iter().map(|(f, s)| (f.as_str(), *s)).collect();
        out.sort_by_key(|(_, s)| *s);
        out
    }
}

delegate! {
    /// Each form's storage slot, as fixed when the store opened (a form the
    /// catalogue lists gets one at start; one that left it keeps its own).
    pub async fn form_slots(&self) -> FormSlots;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_lower_case_codes_name_columns() {
        for ok in ["members", "dues_collected_yuan", "a1", "x"] {
            assert!(is_safe_identifier(ok), "{ok}");
        }
        for bad in [
            "",
            "1a",
            "Members",
            "a-b",
            "a b",
            "a;drop",
            "_a",
            "会员",
            &"a".repeat(49),
        ] {
            assert!(!is_safe_identifier(bad), "{bad}");
        }
    }

    #[test]
    fn totals_skip_what_was_not_reported() {
        let c = Columns::new(vec!["members".into(), "employees".into()]);
        let t = c.unit_totals(&[None, Some(5)]);
        assert_eq!(t.len(), 1);
        assert_eq!(t["employees"], Total { value: 5, units: 1 });
        assert_eq!(c.unit_list, "m_members, m_employees");
        assert_eq!(
            c.rollup_list,
            "s_members, s_employees, n_members, n_employees"
        );
        assert_eq!(c.figure_count(), "COUNT(m_members) + COUNT(m_employees)");
    }

    #[test]
    fn form_slots_key_the_periods_of_each_form_apart() {
        let slots = FormSlots::new([("monthly".to_string(), 0), ("annual_survey".to_string(), 1)]);
        let oct: ReportPeriod = "2026-10".parse().unwrap();
        let sy: ReportPeriod = "2026SY".parse().unwrap();
        assert_eq!(slots.key("monthly", &oct), Some(202610));
        assert_eq!(slots.key("annual_survey", &sy), Some(14_202_600));
        assert_eq!(slots.key("service_half", &sy), None);
        assert_eq!(slots.of_key(14_202_600), Some(("annual_survey", sy)));
        assert_eq!(slots.next_slot(), 2);
    }
}
