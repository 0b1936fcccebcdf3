//! Template v1 from the bytes of an upload: picks the cover and units sheets,
//! finds the header row, maps columns to metrics and reads every unit's row.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::cells::{parse_number_text, Raw};
use super::grid::{Book, Bounds, Grid, GridCell};
use super::guard::{self, Rejection};
use super::layout::CellKeeper;
use super::{Cover, CoverValue, MetricColumn, ReadLimits, RowNote, UnitRow, Workbook};
use crate::catalog::{Catalog, CoverField, HeaderMeaning, Metric, MetricKind};
use crate::issue::{Issue, Message};
use crate::text::{cell_ref, column_name};

/// The header row is looked for among this many first non-empty rows.
const HEADER_SEARCH_ROWS: usize = 30;
/// Only text this short is compared with the total labels.
const MAX_LABEL_CHARS: usize = 64;

/// Reads Template v1 from the bytes of an upload. Never panics: bytes that cannot
/// be read give a workbook with one `unreadable` or `too_large` issue.
pub fn read_workbook(bytes: &[u8], catalog: &Catalog, limits: &ReadLimits) -> Workbook {
    match catch_unwind(AssertUnwindSafe(|| read(bytes, catalog, limits))) {
        Ok(Ok(workbook)) => workbook,
        Ok(Err(rejection)) => rejected(catalog, rejection),
        Err(_) => Workbook::unreadable(catalog, &guard::text(guard::DAMAGED)),
    }
}

fn rejected(catalog: &Catalog, rejection: Rejection) -> Workbook {
    match rejection {
        Rejection::Unreadable(reason) => Workbook::unreadable(catalog, &reason),
        Rejection::TooLarge(reason) => Workbook {
            issues: vec![catalog.bilingual_issue(
                "too_large",
                None,
                None,
                None,
                &[],
                &[("reason", &reason)],
            )],
            ..Workbook::default()
        },
    }
}

fn read(bytes: &[u8], catalog: &Catalog, limits: &ReadLimits) -> Result<Workbook, Rejection> {
    guard::refuse_legacy(bytes)?;
    if let Some(text) = super::csv_units::decode_text(bytes) {
        return super::csv_units::read_csv(bytes.len(), &text, catalog, limits);
    }
    let format = guard::preflight(bytes, limits)?;
    let patched = match format {
        guard::Format::Xlsx => guard::without_macro_sheets(bytes)?,
        _ => None,
    };
    let mut book = Book::open(patched.as_deref().unwrap_or(bytes), format)?;
    let sheets = book.worksheets();
    let cover_sheet = sheets.iter().find(|s| catalog.is_cover_sheet(s)).cloned();
    let catalog = which_form(&mut book, &sheets, cover_sheet.as_deref(), catalog, limits)?;
    let units_sheet = sheets
        .iter()
        .find(|s| catalog.is_units_sheet(s))
        .cloned()
        .or_else(|| {
            let mut others = sheets.iter().filter(|s| !catalog.is_cover_sheet(s));
            match (others.next(), others.next()) {
                (Some(only), None) => Some(only.clone()),
                _ => None,
            }
        });
    let mut workbook = Workbook {
        form: catalog.form.code.clone(),
        ..Workbook::default()
    };
    if let Some(name) = &cover_sheet {
        let grid = book.read(name, Bounds::cover(), limits)?;
        workbook.cover = Some(read_cover(&grid, name, catalog, limits));
    }
    let Some(units) = units_sheet else {
        workbook
            .issues
            .push(catalog.issue("sheet_missing", None, None, None, &[]));
        return Ok(workbook);
    };
    let grid = book.read(&units, Bounds::units(limits), limits)?;
    let merges = match &book {
        Book::Xls(xls) => xls.merge_cells_by_sheet_name(&units).ok(),
        _ => None,
    };
    drop(book);
    read_units(&grid, &units, catalog, limits, &mut workbook)?;
    drop(grid);
    if format == guard::Format::Xlsx {
        let extras = super::layout::xlsx_extras(patched.as_deref().unwrap_or(bytes), &units);
        workbook.layout.merges = extras.merges;
        workbook.layout.widths = extras.widths;
        workbook.layout.validations = extras.validations;
    } else if let Some(merges) = merges {
        workbook.layout.merges = super::layout::xls_merges(merges);
    }
    Ok(workbook)
}

/// The view of the form the workbook is (see [`Catalog::recognise`]): by its
/// sheet names, else by the texts of its cover (a title, the 表号); Template v1
/// when nothing names another form. A catalogue view (one form only) is kept.
fn which_form<'c>(
    book: &mut Book,
    sheets: &[String],
    cover_sheet: Option<&str>,
    catalog: &'c Catalog,
    limits: &ReadLimits,
) -> Result<&'c Catalog, Rejection> {
    if catalog.forms().len() < 2 {
        return Ok(catalog);
    }
    let names: Vec<&str> = sheets.iter().map(String::as_str).collect();
    let mut texts: Vec<String> = Vec::new();
    let by_sheet = catalog
        .recognise(&names, &[])
        .filter(|f| f.code != crate::form::MONTHLY);
    if by_sheet.is_none() {
        if let Some(name) = cover_sheet {
            let grid = book.read(name, Bounds::cover(), limits)?;
            texts = grid
                .rows()
                .flat_map(|(_, cells)| cells.iter().filter_map(|c| c.2.as_text()))
                .take(64)
                .map(|t| t.chars().take(limits.max_cell_chars).collect())
                .collect();
        }
    }
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let code = match by_sheet {
        Some(f) => f.code.clone(),
        None => catalog
            .recognise(&names, &texts)
            .map_or_else(|| catalog.form.code.clone(), |f| f.code.clone()),
    };
    Ok(catalog.form(&code).unwrap_or(catalog))
}

/// Label/value pairs in columns A/B; the first occurrence of a label wins.
fn read_cover(grid: &Grid, sheet: &str, catalog: &Catalog, limits: &ReadLimits) -> Cover {
    let mut cover = Cover {
        sheet: sheet.to_string(),
        ..Cover::default()
    };
    for (row, cells) in grid.rows() {
        let Some(label) = cells.iter().find(|c| c.1 == 0).and_then(|c| c.2.as_text()) else {
            continue;
        };
        let Some(field) = cover_field(catalog, label) else {
            continue;
        };
        let Some((_, _, raw)) = cells.iter().find(|c| c.1 == 1) else {
            continue;
        };
        let value = match field {
            CoverField::ReporterCode => raw.code_text(limits.max_cell_chars),
            _ => raw.name_text(limits.max_cell_chars),
        };
        if value.is_empty() {
            continue;
        }
        let slot = match field {
            CoverField::ReporterCode => &mut cover.reporter_code,
            CoverField::ReporterName => &mut cover.reporter_name,
            CoverField::Period => &mut cover.period,
            CoverField::Preparer => &mut cover.preparer,
            CoverField::Phone => &mut cover.phone,
            CoverField::Date => &mut cover.date,
            CoverField::Email => &mut cover.email,
            CoverField::NilReport => &mut cover.nil_report,
        };
        if slot.is_none() {
            *slot = Some(CoverValue {
                value,
                cell: cell_ref(row, 1),
            });
        }
    }
    cover
}

/// A cover label, also when written with a trailing colon (`报告期：`).
fn cover_field(catalog: &Catalog, label: &str) -> Option<CoverField> {
    catalog.cover_field(label).or_else(|| {
        let trimmed = label.trim().trim_end_matches([':', '：', '*']);
        catalog.cover_field(trimmed)
    })
}

/// What one column of the units sheet holds.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Ignored,
    Code,
    Name,
    /// Index into [`Workbook::columns`].
    Metric(usize),
    /// A rate column: index into [`Catalog::indicators`].
    Rate(usize),
    /// The 说明 column: the row's explanation of its explain-severity findings.
    Explanation,
    /// A text cover item of the form (904 组织类型): index into the form's items.
    Item(usize),
}

/// The columns found in the header row.
struct Layout {
    slots: Vec<Slot>,
    code_col: u32,
    /// Catalogue index of the metric of each [`Workbook::columns`] entry.
    metrics: Vec<usize>,
}

impl Layout {
    fn slot(&self, col: u32) -> Slot {
        self.slots
            .get(col as usize)
            .copied()
            .unwrap_or(Slot::Ignored)
    }
}

/// A stand-in metric so column findings about the unit columns read like the
/// ones about metric columns.
fn unit_column_label(meaning: &HeaderMeaning) -> Metric {
    let (zh, en) = match meaning {
        HeaderMeaning::UnitName => ("单位名称", "Unit name"),
        _ => ("单位代码", "Unit code"),
    };
    Metric {
        code: String::new(),
        zh: zh.to_string(),
        en: en.to_string(),
        kind: MetricKind::Stock,
        decimals: 0,
        aliases: Vec::new(),
        help_zh: String::new(),
        help_en: String::new(),
        form: None,
        reconciles_with: None,
    }
}

/// A header cell: zero-based row, zero-based column, value.
type HeaderCell<'g> = (u32, u32, &'g Raw);

/// A row right under the header that continues it: only non-numeric text (group
/// headers split over two rows, or a row of units such as `(人)`), nothing in
/// the code column but a header.
fn is_sub_header(cells: &[GridCell], code_col: Option<u32>, catalog: &Catalog) -> bool {
    let mut any = false;
    for (_, col, raw) in cells.iter().filter(|c| !c.2.is_blank()) {
        let Some(text) = raw.as_text() else {
            return false;
        };
        if parse_number_text(text, 4).is_ok() {
            return false;
        }
        if Some(*col) == code_col && catalog.header(text).is_none() {
            return false;
        }
        any = true;
    }
    any
}

/// The header cells, merging a continuation row: a sub-header that names a
/// column takes its place (its group title above is dropped); one that names
/// nothing (`(人)`) only fills a column the top row left empty.
fn header_cells<'g>(
    top: (u32, &'g [GridCell]),
    sub: Option<(u32, &'g [GridCell])>,
    catalog: &Catalog,
) -> Vec<HeaderCell<'g>> {
    let mut cells: Vec<HeaderCell<'g>> = top
        .1
        .iter()
        .filter(|c| !c.2.is_blank())
        .map(|c| (top.0, c.1, &c.2))
        .collect();
    let Some((sub_row, sub_cells)) = sub else {
        return cells;
    };
    for (_, col, raw) in sub_cells.iter().filter(|c| !c.2.is_blank()) {
        let names_a_column = raw.as_text().is_some_and(|t| catalog.header(t).is_some());
        match cells.iter_mut().find(|c| c.1 == *col) {
            Some(existing) if names_a_column => *existing = (sub_row, *col, raw),
            Some(_) => {}
            None if names_a_column => cells.push((sub_row, *col, raw)),
            None => {}
        }
    }
    cells.sort_by_key(|c| c.1);
    cells
}

/// A row of column numbers under the header (`甲 乙 1 2 3 …`): no digits in the
/// code column and at least two metric cells numbered consecutively.
fn is_column_numbers(cells: &[GridCell], layout: &Layout) -> bool {
    let mut numbers = Vec::new();
    for (_, col, raw) in cells.iter().filter(|c| !c.2.is_blank()) {
        match layout.slot(*col) {
            Slot::Code if raw.code_text(16).bytes().any(|b| b.is_ascii_digit()) => return false,
            Slot::Metric(_) => match raw.metric(0, 16) {
                Ok(Some(n)) => numbers.push(n),
                _ => return false,
            },
            _ => {}
        }
    }
    numbers.len() >= 2 && numbers.windows(2).all(|w| w[1] == w[0] + 1)
}

fn read_header(
    cells: &[HeaderCell<'_>],
    sheet: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) -> Result<Layout, Rejection> {
    let width = cells.last().map_or(0, |c| c.1 as usize + 1);
    let mut layout = Layout {
        slots: vec![Slot::Ignored; width],
        code_col: 0,
        metrics: Vec::new(),
    };
    let mut code_cell: Option<String> = None;
    let mut name_seen = false;
    let mut first_of_metric: Vec<Option<String>> = vec![None; catalog.metrics.len()];
    for &(row, ref col, raw) in cells {
        if raw.is_blank() {
            continue;
        }
        if *col as usize >= limits.max_columns {
            return Err(Rejection::TooLarge(guard::says(
                format!("工作表 {sheet} 超过 {} 列", limits.max_columns),
                format!("sheet {sheet} has more than {} columns", limits.max_columns),
            )));
        }
        let cell = cell_ref(row, *col);
        let text = raw.display(limits.max_cell_chars);
        match raw.as_text().and_then(|t| catalog.header(t)) {
            Some(HeaderMeaning::UnitCode) => match &code_cell {
                None => {
                    layout.slots[*col as usize] = Slot::Code;
                    layout.code_col = *col;
                    code_cell = Some(cell);
                }
                Some(first) => workbook.issues.push(catalog.metric_issue(
                    "duplicate_column",
                    &unit_column_label(&HeaderMeaning::UnitCode),
                    Some(sheet),
                    Some(&cell),
                    Some(&text),
                    &[("other_cell", first)],
                )),
            },
            // A second name column (an enterprise name beside the union's) is
            // only ignored: names are informative, never summed.
            Some(HeaderMeaning::UnitName) if !name_seen => {
                layout.slots[*col as usize] = Slot::Name;
                name_seen = true;
            }
            Some(HeaderMeaning::Metric(m)) => match &first_of_metric[m] {
                None => {
                    layout.slots[*col as usize] = Slot::Metric(workbook.columns.len());
                    layout.metrics.push(m);
                    workbook.columns.push(MetricColumn {
                        metric: catalog.metrics[m].code.clone(),
                        col: *col,
                        letter: column_name(*col),
                    });
                    first_of_metric[m] = Some(cell);
                }
                Some(first) => workbook.issues.push(catalog.metric_issue(
                    "duplicate_column",
                    &catalog.metrics[m],
                    Some(sheet),
                    Some(&cell),
                    Some(&text),
                    &[("other_cell", first)],
                )),
            },
            Some(HeaderMeaning::Indicator(i)) if !layout.slots.contains(&Slot::Rate(i)) => {
                layout.slots[*col as usize] = Slot::Rate(i);
            }
            Some(HeaderMeaning::Item(i)) if !layout.slots.contains(&Slot::Item(i)) => {
                layout.slots[*col as usize] = Slot::Item(i);
            }
            // The first 说明 column counts; a second one is only ignored.
            Some(HeaderMeaning::Explanation) => {
                if !layout.slots.contains(&Slot::Explanation) {
                    layout.slots[*col as usize] = Slot::Explanation;
                }
            }
            _ => workbook.issues.push(catalog.issue(
                "unknown_column",
                Some(sheet),
                Some(&cell),
                Some(&text),
                &[],
            )),
        }
    }
    Ok(layout)
}

/// Headers listed in a "not the template" finding.
const FOUND_HEADERS: usize = 12;

/// Why a header row with a unit-code column is still not the template, said
/// after "row N" (`只认出单位代码列“Code”…`), or `None` when it is the template.
///
/// The rule: the row is the template when it recognises a figure column (a
/// metric or a rate) and, besides, either the unit-name column, or a second
/// figure column, or at least as many of its headers as it does not know. So
/// an English table of another system (`Code`, `Description`, `Members`,
/// `Qty`, `Price`, `Supplier`), where one header happens to be a figure's
/// English label, is not the template: one figure column, no name column, and
/// four headers of six unknown. A genuine sheet names its units (单位名称) or
/// reports more than one figure; a minimal one (单位代码, 会员人数) knows all
/// its headers. Nothing here looks at the rows: the codes are judged against
/// master data later, and only for a sheet that is the template.
fn not_template_reason(
    cells: &[HeaderCell<'_>],
    layout: &Layout,
    catalog: &Catalog,
) -> Option<Message> {
    let code = cells
        .iter()
        .find(|c| c.1 == layout.code_col)
        .map(|c| c.2.display(64))
        .unwrap_or_default();
    let figures: Vec<&HeaderCell<'_>> = cells
        .iter()
        .filter(|c| matches!(layout.slot(c.1), Slot::Metric(_) | Slot::Rate(_)))
        .collect();
    let named = layout.slots.contains(&Slot::Name);
    let headers = cells.iter().filter(|c| !c.2.is_blank()).count();
    let known = cells
        .iter()
        .filter(|c| !c.2.is_blank() && layout.slot(c.1) != Slot::Ignored)
        .count();
    let unknown = headers - known;
    match figures.as_slice() {
        [] => Some(Message {
            zh: format!("只认出单位代码列“{code}”，没有认出任何指标列（如“职工人数”“会员人数”）"),
            en: format!(
                "has a unit code column (\"{code}\") but no figure column (such as 职工人数 / Employees, 会员人数 / Members)"
            ),
        }),
        [one] if !named && unknown > known => {
            let header = one.2.display(64);
            let (zh, en) = match layout.slot(one.1) {
                Slot::Metric(i) => {
                    let m = &catalog.metrics[layout.metrics[i]];
                    (m.zh.clone(), m.en.clone())
                }
                Slot::Rate(i) => {
                    let r = &catalog.indicators[i];
                    (r.zh.clone(), r.en.clone())
                }
                _ => (String::new(), String::new()),
            };
            Some(Message {
                zh: format!(
                    "只认出单位代码列“{code}”和一个指标列“{header}”（{zh}），没有单位名称列，另有 {unknown} 列表头都不认识"
                ),
                en: format!(
                    "has a unit code column (\"{code}\") and one figure column (\"{header}\", {zh} / {en}) but no unit name column, and {unknown} headers it does not know"
                ),
            })
        }
        _ => None,
    }
}

/// A sheet whose header row is not the template (see [`not_template_reason`]):
/// one finding that says what was looked for and what was found replaces the
/// column findings, and no row is read, so its rows do not each become
/// "unit unknown".
#[allow(clippy::too_many_arguments)]
fn not_the_template(
    cells: &[HeaderCell<'_>],
    header_row: u32,
    code_col: u32,
    why: &Message,
    sheet: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) {
    workbook.issues.retain(|i| i.rule != "unknown_column");
    let shown: Vec<String> = cells
        .iter()
        .filter(|c| !c.2.is_blank())
        .map(|c| c.2.display(64.min(limits.max_cell_chars)))
        .collect();
    let list = |quote: fn(&String) -> String, sep: &str| {
        let mut list = shown
            .iter()
            .take(FOUND_HEADERS)
            .map(quote)
            .collect::<Vec<_>>();
        if shown.len() > FOUND_HEADERS {
            list.push("…".to_string());
        }
        list.join(sep)
    };
    let found = Message {
        zh: list(|h| format!("“{h}”"), "、"),
        en: list(|h| format!("\"{h}\""), ", "),
    };
    let code = cells
        .iter()
        .find(|c| c.1 == code_col)
        .map(|c| c.2.display(64.min(limits.max_cell_chars)))
        .unwrap_or_default();
    let row = (header_row + 1).to_string();
    let cell = cell_ref(header_row, code_col);
    workbook.issues.push(catalog.bilingual_issue(
        "not_template",
        Some(sheet),
        Some(&cell),
        Some(&code),
        &[("row", &row)],
        &[("found", &found), ("recognised", why)],
    ));
}

fn is_header_row(cells: &[GridCell], catalog: &Catalog) -> bool {
    cells.iter().any(|c| {
        c.2.as_text().is_some_and(|t| {
            t.len() <= 4 * MAX_LABEL_CHARS && catalog.header(t) == Some(HeaderMeaning::UnitCode)
        })
    })
}

fn is_total(raw: &Raw, catalog: &Catalog) -> bool {
    raw.as_text()
        .is_some_and(|t| t.len() <= 4 * MAX_LABEL_CHARS && catalog.is_total_label(t))
}

pub(super) fn read_units(
    grid: &Grid,
    sheet: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) -> Result<(), Rejection> {
    workbook.units_sheet = sheet.to_string();
    let header = grid
        .rows()
        .filter(|(_, cells)| cells.iter().any(|c| !c.2.is_blank()))
        .take(HEADER_SEARCH_ROWS)
        .find(|(_, cells)| is_header_row(cells, catalog));
    let Some((header_row, top_cells)) = header else {
        workbook
            .issues
            .push(catalog.issue("header_missing", Some(sheet), None, None, &[]));
        return Ok(());
    };
    let code_col = top_cells.iter().find_map(|c| {
        let code = c.2.as_text().and_then(|t| catalog.header(t)) == Some(HeaderMeaning::UnitCode);
        code.then_some(c.1)
    });
    let sub = grid
        .rows()
        .find(|(r, _)| *r > header_row)
        .filter(|(r, cells)| *r == header_row + 1 && is_sub_header(cells, code_col, catalog));
    let last_header_row = sub.map_or(header_row, |s| s.0);
    let cells = header_cells((header_row, top_cells), sub, catalog);
    workbook.header_row = last_header_row + 1;
    let layout = read_header(&cells, sheet, catalog, limits, workbook)?;
    workbook.code_letter = column_name(layout.code_col);
    if let Some(col) = layout.slots.iter().position(|s| *s == Slot::Name) {
        workbook.name_letter = column_name(col as u32);
    }
    if let Some(why) = not_template_reason(&cells, &layout, catalog) {
        not_the_template(
            &cells,
            header_row,
            layout.code_col,
            &why,
            sheet,
            catalog,
            limits,
            workbook,
        );
        return Ok(());
    }

    // The clerk's cells the annotated copy keeps: titles above the header,
    // columns the template does not read, sub-headings and notes.
    let max_chars = limits.max_cell_chars;
    let mut keep = CellKeeper::default();
    for (row, cells) in grid.rows() {
        if row >= header_row {
            break;
        }
        for (_, col, raw) in cells {
            keep.outside(row, *col, raw, max_chars);
        }
    }
    for &(row, col, raw) in &cells {
        if layout.slot(col) == Slot::Ignored {
            keep.beside(row, col, raw, max_chars);
        }
    }
    let beside = |keep: &mut CellKeeper, cells: &[GridCell]| {
        for (row, col, raw) in cells {
            if layout.slot(*col) == Slot::Ignored {
                keep.beside(*row, *col, raw, max_chars);
            }
        }
    };
    let outside = |keep: &mut CellKeeper, cells: &[GridCell]| {
        for (row, col, raw) in cells {
            keep.outside(*row, *col, raw, max_chars);
        }
    };

    let mut data_rows = 0usize;
    let mut first_data_row = true;
    let mut rows = grid.rows().filter(|(r, _)| *r > last_header_row);
    for (row, cells) in rows.by_ref() {
        if std::mem::take(&mut first_data_row) && is_column_numbers(cells, &layout) {
            outside(&mut keep, cells);
            continue;
        }
        let mut first = None;
        let (mut code, mut name, mut any_metric) = (None, None, false);
        for (_, col, raw) in cells {
            if raw.is_blank() {
                continue;
            }
            first.get_or_insert(raw);
            match layout.slot(*col) {
                Slot::Code => code = Some(raw),
                Slot::Name => name = Some(raw),
                Slot::Metric(_) => any_metric = true,
                Slot::Rate(_) | Slot::Explanation | Slot::Item(_) | Slot::Ignored => {}
            }
        }
        let Some(first) = first else { continue }; // a blank row
        let name_text = name
            .map(|n| n.name_text(limits.max_cell_chars))
            .unwrap_or_default();

        if let Some(label) = [Some(first), code, name]
            .into_iter()
            .flatten()
            .find(|r| is_total(r, catalog))
        {
            beside(&mut keep, cells);
            let values = read_values(row, cells, &layout, sheet, catalog, limits, workbook);
            if workbook.total.is_none() {
                let code = label.name_text(limits.max_cell_chars);
                workbook.total = Some(UnitRow {
                    row: row + 1,
                    code,
                    name: name_text,
                    values,
                });
            }
            continue;
        }
        // Trailing notes (填表说明…): note text first and no unit code but the
        // note itself, whatever column it sits in (it may be a metric column).
        let is_note = |r: &Raw| r.as_text().is_some_and(|t| catalog.is_note(t));
        if is_note(first) && code.is_none_or(is_note) {
            outside(&mut keep, cells);
            break;
        }
        let code_text = code
            .map(|c| c.code_text(limits.max_cell_chars))
            .unwrap_or_default();
        if code_text.is_empty() && !any_metric {
            outside(&mut keep, cells);
            continue; // a sub-heading or a stray name: nothing reported
        }
        beside(&mut keep, cells);
        data_rows += 1;
        if data_rows > limits.max_rows {
            return Err(Rejection::TooLarge(guard::says(
                format!("工作表 {sheet} 的单位行超过 {} 行", limits.max_rows),
                format!("sheet {sheet} has more than {} unit rows", limits.max_rows),
            )));
        }
        let values = read_values(row, cells, &layout, sheet, catalog, limits, workbook);
        if code_text.is_empty() {
            let cell = cell_ref(row, layout.code_col);
            let row_text = (row + 1).to_string();
            workbook.issues.push(catalog.issue(
                "unit_code_missing",
                Some(sheet),
                Some(&cell),
                None,
                &[("row", &row_text)],
            ));
            continue;
        }
        read_rates(row, cells, &layout, catalog, limits, workbook);
        read_note(row, cells, &layout, workbook);
        read_items(row, cells, &layout, sheet, catalog, limits, workbook);
        workbook.rows.push(UnitRow {
            row: row + 1,
            code: code_text,
            name: name_text,
            values,
        });
    }
    // Everything after the notes began.
    for (_, cells) in rows {
        outside(&mut keep, cells);
    }
    workbook.layout.cells = keep.into_cells();
    Ok(())
}

/// The 说明 of a unit row, when it has one. Read up to one character past
/// the longest explanation kept, so one too long is seen as such.
fn read_note(row: u32, cells: &[GridCell], layout: &Layout, workbook: &mut Workbook) {
    let max = crate::validate::MAX_EXPLANATION_CHARS + 1;
    for (_, col, raw) in cells {
        if layout.slot(*col) != Slot::Explanation {
            continue;
        }
        let text = raw.name_text(max);
        if !text.is_empty() {
            workbook.notes.push(RowNote {
                row: row + 1,
                cell: cell_ref(row, *col),
                text,
            });
        }
    }
}

/// Checks the text cover items of a unit row (904 组织类型 单独/联合, 903
/// 行政区划代码 of 12 digits); an empty item is not checked.
fn read_items(
    row: u32,
    cells: &[GridCell],
    layout: &Layout,
    sheet: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) {
    for (_, col, raw) in cells {
        let Slot::Item(i) = layout.slot(*col) else {
            continue;
        };
        let Some(item) = catalog.form.items.get(i) else {
            continue;
        };
        let text = raw.code_text(limits.max_cell_chars);
        if text.is_empty() {
            continue;
        }
        if let Some((zh, en)) = item.check(&text) {
            let label = crate::issue::Message {
                zh: format!("{} {}", item.code, item.zh),
                en: format!("{} {}", item.code, item.en),
            };
            let reason = crate::issue::Message { zh, en };
            workbook.issues.push(catalog.bilingual_issue(
                "item_invalid",
                Some(sheet),
                Some(&cell_ref(row, *col)),
                Some(&text),
                &[],
                &[("item", &label), ("reason", &reason)],
            ));
        }
    }
}

/// Rates written in rate columns of a unit row. A rate cell that is not a number
/// is left alone: rate columns are the clerk's own arithmetic, never stored.
fn read_rates(
    row: u32,
    cells: &[GridCell],
    layout: &Layout,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) {
    for (_, col, raw) in cells {
        let Slot::Rate(i) = layout.slot(*col) else {
            continue;
        };
        let text = raw.display(limits.max_cell_chars);
        let ppm = match raw {
            Raw::Int(v) => Some(*v as f64),
            Raw::Float(v) => Some(*v),
            Raw::Text(t) => {
                let t = crate::text::to_half_width(t);
                let t = t.trim();
                match t.strip_suffix('%') {
                    Some(p) => p.trim().parse::<f64>().ok().map(|v| v / 100.0),
                    None => t.parse::<f64>().ok(),
                }
            }
            _ => None,
        }
        .filter(|v| v.is_finite() && *v >= 0.0 && *v <= 1000.0)
        // 98.9 means percent points; 0.989 a fraction.
        .map(|v| if v > 1.5 { v / 100.0 } else { v })
        .map(|v| (v * 1_000_000.0).round() as i64);
        if let Some(ppm) = ppm {
            workbook.rates.push(super::RateCell {
                indicator: catalog.indicators[i].code.clone(),
                row: row + 1,
                cell: cell_ref(row, *col),
                raw: text,
                ppm,
            });
        }
    }
}

/// The metric values of one row, aligned with [`Workbook::columns`]; each cell
/// that cannot be read adds an issue naming it and leaves `None`.
fn read_values(
    row: u32,
    cells: &[GridCell],
    layout: &Layout,
    sheet: &str,
    catalog: &Catalog,
    limits: &ReadLimits,
    workbook: &mut Workbook,
) -> Vec<Option<i64>> {
    let mut values = vec![None; workbook.columns.len()];
    for (_, col, raw) in cells {
        let Slot::Metric(i) = layout.slot(*col) else {
            continue;
        };
        let metric = &catalog.metrics[layout.metrics[i]];
        match raw.metric(metric.decimals, limits.max_cell_chars) {
            Ok(value) => values[i] = value,
            Err(problem) => workbook.issues.push(cell_issue(
                catalog,
                problem.rule(),
                metric,
                sheet,
                &format!("{}{}", workbook.columns[i].letter, row + 1),
                raw,
                limits,
            )),
        }
    }
    values
}

fn cell_issue(
    catalog: &Catalog,
    rule: &str,
    metric: &Metric,
    sheet: &str,
    cell: &str,
    raw: &Raw,
    limits: &ReadLimits,
) -> Issue {
    let value = raw.display(limits.max_cell_chars);
    let decimals = metric.decimals.to_string();
    catalog.metric_issue(
        rule,
        metric,
        Some(sheet),
        Some(cell),
        Some(&value),
        &[("decimals", &decimals)],
    )
}
