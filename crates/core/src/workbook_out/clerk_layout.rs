//! The clerk's layout written back into the annotated copy of the units sheet:
//! merged ranges, column widths and data validations, as the reader kept them
//! ([`crate::ingest::layout`]). What came from a hostile file is bounded again
//! here, where it would cost: a merge is padded cell by cell by rust_xlsxwriter,
//! so merges are limited in area, and overlapping ones (which Excel refuses to
//! open) are skipped before they touch the sheet.

use std::collections::HashMap;

use rust_xlsxwriter::{
    DataValidation, DataValidationErrorStyle, DataValidationRule, Format, FormatAlign, Formula,
    Worksheet,
};

use super::WriteError;
use crate::ingest::layout::{CellRange, LayoutValue, SheetLayout, Validation, ValidationKind};

/// Most cells one merged range may cover in the copy.
const MAX_MERGE_CELLS: u64 = 20_000;
/// Most cells all merged ranges together may cover.
const MAX_MERGED_CELLS: u64 = 200_000;
/// Columns beyond this keep the default width.
const MAX_WIDTH_COLUMN: u32 = 1_023;

fn area(r: &CellRange) -> u64 {
    u64::from(r.last_row - r.first_row + 1) * u64::from(r.last_col - r.first_col + 1)
}

fn overlaps(a: &CellRange, b: &CellRange) -> bool {
    a.first_row <= b.last_row
        && b.first_row <= a.last_row
        && a.first_col <= b.last_col
        && b.first_col <= a.last_col
}

/// The merges the copy can write: within Excel's sheet, more than one cell,
/// bounded in area, none overlapping an earlier one.
pub(crate) fn writable_merges(layout: &SheetLayout) -> Vec<CellRange> {
    let mut kept: Vec<CellRange> = Vec::new();
    let mut total = 0u64;
    for m in &layout.merges {
        let single = m.first_row == m.last_row && m.first_col == m.last_col;
        let inside = m.last_row < 1_048_576 && m.last_col < 16_384;
        let a = area(m);
        if single || !inside || a > MAX_MERGE_CELLS || total + a > MAX_MERGED_CELLS {
            continue;
        }
        if kept.iter().any(|k| overlaps(k, m)) {
            continue;
        }
        total += a;
        kept.push(*m);
    }
    kept
}

/// The format of a merged range: centred, as 合并居中 leaves it.
pub(crate) fn merge_format() -> Format {
    Format::new()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_text_wrap()
}

/// Writes the merges, each with the clerk's value of its first cell; returns
/// the first cells written, which the caller then leaves alone.
pub(crate) fn write_merges(
    sheet: &mut Worksheet,
    layout: &SheetLayout,
) -> Result<Vec<(u32, u16)>, WriteError> {
    let values: HashMap<(u32, u32), &LayoutValue> = layout
        .cells
        .iter()
        .map(|c| ((c.row, c.col), &c.value))
        .collect();
    let fmt = merge_format();
    let mut firsts = Vec::new();
    for m in writable_merges(layout) {
        let (r, c) = (m.first_row, m.first_col as u16);
        let value = values.get(&(m.first_row, m.first_col));
        let text = match value {
            Some(LayoutValue::Text(t)) => t.as_str(),
            _ => "",
        };
        // Checked above; one rust_xlsxwriter still refuses is left out.
        if sheet
            .merge_range(r, c, m.last_row, m.last_col as u16, text, &fmt)
            .is_err()
        {
            continue;
        }
        if let Some(LayoutValue::Number(n)) = value {
            sheet.write_number_with_format(r, c, *n, &fmt)?;
        }
        firsts.push((r, c));
    }
    Ok(firsts)
}

/// The clerk's column widths, over whatever widths the copy set before.
pub(crate) fn write_widths(sheet: &mut Worksheet, layout: &SheetLayout) -> Result<(), WriteError> {
    for w in &layout.widths {
        let width = user_width(w.width);
        for col in w.first..=w.last.min(MAX_WIDTH_COLUMN) {
            sheet.set_column_width(col as u16, width)?;
        }
    }
    Ok(())
}

/// The width to give rust_xlsxwriter so the file states `stored` again: the
/// file's width counts the cell's 5 pixels of padding (at 7 pixels a digit),
/// the width a person types (and rust_xlsxwriter takes) does not.
fn user_width(stored: f64) -> f64 {
    let pixels = stored * 7.0;
    if pixels >= 12.0 {
        (pixels - 5.0) / 7.0
    } else {
        pixels / 12.0
    }
}

/// The clerk's data validations; one rust_xlsxwriter refuses is left out.
pub(crate) fn write_validations(sheet: &mut Worksheet, layout: &SheetLayout) {
    for v in &layout.validations {
        let (Some(first), Some(dv)) = (v.ranges.first(), data_validation(v)) else {
            continue;
        };
        let dv = if v.ranges.len() > 1 {
            let all: Vec<String> = v.ranges.iter().map(range_text).collect();
            dv.set_multi_range(all.join(" "))
        } else {
            dv
        };
        let _ = sheet.add_data_validation(
            first.first_row,
            first.first_col as u16,
            first.last_row,
            first.last_col as u16,
            &dv,
        );
    }
}

fn range_text(r: &CellRange) -> String {
    let a = crate::text::cell_ref(r.first_row, r.first_col);
    if r.first_row == r.last_row && r.first_col == r.last_col {
        a
    } else {
        format!("{a}:{}", crate::text::cell_ref(r.last_row, r.last_col))
    }
}

fn rule(v: &Validation) -> Option<DataValidationRule<Formula>> {
    let f1 = Formula::new(&v.formula1);
    let f2 = || v.formula2.as_ref().map(Formula::new);
    Some(match v.operator.as_deref().unwrap_or("between") {
        "between" => DataValidationRule::Between(f1, f2()?),
        "notBetween" => DataValidationRule::NotBetween(f1, f2()?),
        "equal" => DataValidationRule::EqualTo(f1),
        "notEqual" => DataValidationRule::NotEqualTo(f1),
        "lessThan" => DataValidationRule::LessThan(f1),
        "lessThanOrEqual" => DataValidationRule::LessThanOrEqualTo(f1),
        "greaterThan" => DataValidationRule::GreaterThan(f1),
        "greaterThanOrEqual" => DataValidationRule::GreaterThanOrEqualTo(f1),
        _ => return None,
    })
}

fn data_validation(v: &Validation) -> Option<DataValidation> {
    let dv = DataValidation::new();
    let dv = match v.kind {
        ValidationKind::Any => dv,
        ValidationKind::List => dv.allow_list_formula(Formula::new(&v.formula1)),
        ValidationKind::Whole => dv.allow_whole_number_formula(rule(v)?),
        ValidationKind::Decimal => dv.allow_decimal_number_formula(rule(v)?),
        ValidationKind::Date => dv.allow_date_formula(rule(v)?),
        ValidationKind::Time => dv.allow_time_formula(rule(v)?),
        ValidationKind::TextLength => dv.allow_text_length_formula(rule(v)?),
        ValidationKind::Custom => dv.allow_custom(Formula::new(&v.formula1)),
    };
    let mut dv = dv
        .ignore_blank(v.allow_blank)
        .show_dropdown(v.show_dropdown)
        .show_input_message(v.show_input)
        .show_error_message(v.show_error)
        .set_error_style(match v.error_style.as_str() {
            "warning" => DataValidationErrorStyle::Warning,
            "information" => DataValidationErrorStyle::Information,
            _ => DataValidationErrorStyle::Stop,
        });
    // Texts over Excel's lengths were cut by the reader; one still refused
    // (counted in UTF-16 units) is left out rather than the validation.
    if !v.prompt_title.is_empty() {
        dv = dv
            .clone()
            .set_input_title(v.prompt_title.as_str())
            .unwrap_or(dv);
    }
    if !v.prompt.is_empty() {
        dv = dv
            .clone()
            .set_input_message(v.prompt.as_str())
            .unwrap_or(dv);
    }
    if !v.error_title.is_empty() {
        dv = dv
            .clone()
            .set_error_title(v.error_title.as_str())
            .unwrap_or(dv);
    }
    if !v.error.is_empty() {
        dv = dv.clone().set_error_message(v.error.as_str()).unwrap_or(dv);
    }
    Some(dv)
}
