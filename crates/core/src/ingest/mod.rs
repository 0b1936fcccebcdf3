//! Workbook → typed rows. Reads Template v1 (cover + units sheet) from the bytes of
//! an upload, normalising the cell forms clerks type, and reports every unreadable
//! cell as an [`Issue`] with its sheet and cell. Never panics on user input.

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::issue::{Issue, IssueUnit, Message};

mod cells;
mod csv_units;
mod grid;
mod guard;
#[cfg(test)]
mod hazard_tests;
pub mod layout;
#[cfg(test)]
mod message_tests;
mod reader;
#[cfg(test)]
mod sample_files;
#[cfg(test)]
mod tests;
mod xls_guard;

pub use cells::{parse_number_float, parse_number_int, parse_number_text, CellProblem};
pub use layout::SheetLayout;
pub use reader::read_workbook;

/// Bounds on what one workbook may make us read. Checked before and while reading.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadLimits {
    /// Largest upload accepted, in bytes.
    pub max_bytes: usize,
    /// Most data rows in the units sheet.
    pub max_rows: usize,
    /// Most columns in the units sheet.
    pub max_columns: usize,
    /// Longest text in one cell, in characters.
    pub max_cell_chars: usize,
}

impl Default for ReadLimits {
    fn default() -> Self {
        ReadLimits {
            max_bytes: 20 * 1024 * 1024,
            max_rows: 200_000,
            max_columns: 256,
            max_cell_chars: 1_000,
        }
    }
}

/// A value read from the cover, with the cell it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverValue {
    pub value: String,
    pub cell: String,
}

/// The cover sheet (封面), when present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cover {
    /// Sheet name as written in the workbook.
    pub sheet: String,
    pub reporter_code: Option<CoverValue>,
    pub reporter_name: Option<CoverValue>,
    /// Raw text of the period; a date cell is given as `YYYY-MM-DD`.
    pub period: Option<CoverValue>,
    pub preparer: Option<CoverValue>,
    pub phone: Option<CoverValue>,
    pub date: Option<CoverValue>,
    /// 电子邮箱: the preparer's email, an optional line (reminders go there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<CoverValue>,
    /// 零报告: the clerk declares a report with no figures (`是`/`yes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nil_report: Option<CoverValue>,
}

impl Cover {
    /// The cover declares a nil report (零报告): its line reads yes
    /// (是, 有, Y, yes, true, 1, ✓, √). Anything else, or no line, does not.
    pub fn declares_nil_report(&self) -> bool {
        self.nil_report.as_ref().is_some_and(|v| is_yes(&v.value))
    }

    /// The contact the cover carries: 填报人, 联系电话 and 电子邮箱, each
    /// trimmed, `None` where the cover leaves it blank.
    pub fn contact(&self) -> (Option<String>, Option<String>, Option<String>) {
        let field = |v: &Option<CoverValue>| {
            v.as_ref()
                .map(|v| v.value.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        (
            field(&self.preparer),
            field(&self.phone),
            field(&self.email),
        )
    }
}

/// A cover or form value that means yes.
pub fn is_yes(value: &str) -> bool {
    let v = crate::text::to_half_width(value.trim()).to_lowercase();
    matches!(
        v.as_str(),
        "是" | "有" | "y" | "yes" | "true" | "1" | "✓" | "√" | "是的" | "零报告"
    )
}

/// A metric column of the units sheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricColumn {
    /// Metric code from the catalogue.
    pub metric: String,
    /// Zero-based column index.
    pub col: u32,
    /// Column letters, e.g. `F`.
    pub letter: String,
}

/// One grassroots unit's row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRow {
    /// One-based spreadsheet row number.
    pub row: u32,
    pub code: String,
    pub name: String,
    /// Aligned with [`Workbook::columns`]: the value scaled by 10^decimals of the
    /// metric, or `None` when the cell is empty ("not reported") or unreadable
    /// (then an issue names it).
    pub values: Vec<Option<i64>>,
}

/// A rate the clerk wrote in a rate column (e.g. 入会率 `98.9%`), kept to be
/// cross-checked against the row's own figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateCell {
    /// Indicator code from the catalogue.
    pub indicator: String,
    /// One-based row number of the unit's row.
    pub row: u32,
    pub cell: String,
    /// As written.
    pub raw: String,
    /// The rate in parts per million (98.9 % → 989000).
    pub ppm: i64,
}

/// A unit row's 说明 (explanation column): it explains every finding of an
/// explain-severity rule on that row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowNote {
    /// One-based row number of the unit's row.
    pub row: u32,
    /// The 说明 cell: `K12`.
    pub cell: String,
    /// As written (trimmed), cut one character past the longest kept.
    pub text: String,
}

/// A workbook read into typed rows, with every problem found while reading.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workbook {
    /// The form the workbook is (recognised by the reader; empty: `monthly`).
    #[serde(default)]
    pub form: String,
    pub cover: Option<Cover>,
    /// Name of the units sheet as written in the workbook.
    pub units_sheet: String,
    /// One-based row number of the header row.
    pub header_row: u32,
    /// Column letters of the unit-code column (`A` in the template), so unit
    /// findings can name the code cell.
    pub code_letter: String,
    /// Column letters of the unit-name column, when the sheet has one (`B` in
    /// the template), so the annotated copy writes names where they were.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_letter: String,
    pub columns: Vec<MetricColumn>,
    pub rows: Vec<UnitRow>,
    /// The 合计/总计 row, when present; `code` holds its label.
    pub total: Option<UnitRow>,
    /// Rates written in rate columns, by unit row.
    #[serde(default)]
    pub rates: Vec<RateCell>,
    /// The 说明 texts of unit rows (the explanation column), by row.
    #[serde(default)]
    pub notes: Vec<RowNote>,
    /// The clerk's layout of the units sheet outside the figures (titles,
    /// notes, merges, widths, validations), for the annotated copy.
    #[serde(default, skip_serializing_if = "SheetLayout::is_empty")]
    pub layout: SheetLayout,
    pub issues: Vec<Issue>,
}

impl Workbook {
    /// A workbook that could not be read at all.
    pub fn unreadable(catalog: &Catalog, reason: &Message) -> Workbook {
        Workbook {
            issues: vec![catalog.bilingual_issue(
                "unreadable",
                None,
                None,
                None,
                &[],
                &[("reason", reason)],
            )],
            ..Workbook::default()
        }
    }

    /// The cell holding a row's unit code: `A12`.
    pub fn code_cell(&self, row: &UnitRow) -> String {
        let letter = if self.code_letter.is_empty() {
            "A"
        } else {
            &self.code_letter
        };
        format!("{letter}{}", row.row)
    }

    /// Names the row's unit in each issue about a cell of a unit row of the units
    /// sheet, as the clerk typed it: in the issue's `unit` and in its messages,
    /// `基层工会情况!F12（510104001050 甲公司工会）：…`, so a finding can be told
    /// apart from its neighbours without the sheet open. The typed name is added
    /// only for a code `own` accepts (the reporter's own units): a row naming a
    /// unit elsewhere reads exactly like one naming a code that exists nowhere.
    /// An issue already naming its unit is left as it is.
    pub fn name_units(&self, issues: &mut [Issue], own: impl Fn(&str) -> bool) {
        if self.rows.is_empty() {
            return;
        }
        let by_row: std::collections::HashMap<u32, &UnitRow> =
            self.rows.iter().map(|r| (r.row, r)).collect();
        for issue in issues.iter_mut() {
            if issue.unit.is_some() {
                continue;
            }
            let (Some(sheet), Some(cell)) = (&issue.sheet, &issue.cell) else {
                continue;
            };
            if *sheet != self.units_sheet {
                continue;
            }
            let digits = cell.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let Some(row) = digits.parse().ok().and_then(|r: u32| by_row.get(&r)) else {
                continue;
            };
            if row.code.is_empty() {
                continue;
            }
            let unit = IssueUnit {
                code: row.code.clone(),
                name: Some(row.name.trim())
                    .filter(|name| !name.is_empty() && own(&row.code))
                    .map(str::to_string),
            };
            let label = unit.label();
            let place = format!("{sheet}!{cell}");
            let m = &mut issue.message;
            if let Some(rest) = m.zh.strip_prefix(&format!("{place}：")) {
                m.zh = format!("{place}（{label}）：{rest}");
            }
            if let Some(rest) = m.en.strip_prefix(&format!("{place}: ")) {
                m.en = format!("{place} ({label}): {rest}");
            }
            issue.unit = Some(unit);
        }
    }

    /// The cell reference of a value of a row: `F12`.
    pub fn cell_of(&self, row: &UnitRow, column: usize) -> String {
        match self.columns.get(column) {
            Some(c) => format!("{}{}", c.letter, row.row),
            None => format!("?{}", row.row),
        }
    }
}
