//! Opening a workbook with calamine and reading one sheet into a sparse grid of
//! its non-empty cells, bounded by the read limits.
//!
//! xlsx and xlsb are streamed cell by cell, so no dense range is ever built from
//! positions a file declares; the cells kept are checked against the bounds as
//! they arrive. Their declared extent is not checked: formatting applied down a
//! whole sheet declares a million rows around a handful of values, and only
//! cells that hold a value count. xls and ods are parsed whole by calamine at open: an .xls has had
//! its records checked by `xls_guard` first, and calamine caps ods at 10^8 cells.

use std::io::Cursor;

use calamine::{
    Data, DataType, Dimensions, Ods, OdsError, Range, Reader, SheetType, Xls, XlsError, Xlsb,
    XlsbError, Xlsx, XlsxError, XlsxFormulaMetadata,
};

use super::cells::Raw;
use super::guard::{self, says, unreadable, Format, Rejection, DAMAGED, PASSWORD, ROW_SLACK};
use super::ReadLimits;

/// How much of a sheet to keep.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    /// Rows kept: zero-based row index below this.
    rows: u32,
    /// Columns kept: zero-based column index below this.
    cols: u32,
    /// Refuse (`too_large`) a non-empty cell outside the bounds, rather than
    /// ignore it; also checks the sheet's declared extent first.
    strict: bool,
}

impl Bounds {
    /// The cover: labels in A, values in B, in the first rows.
    pub(crate) fn cover() -> Bounds {
        Bounds {
            rows: 1_000,
            cols: 2,
            strict: false,
        }
    }

    /// The units sheet: the read limits plus room for titles, header and notes.
    pub(crate) fn units(limits: &ReadLimits) -> Bounds {
        let rows = limits
            .max_rows
            .saturating_add(ROW_SLACK)
            .min(u32::MAX as usize) as u32;
        let cols = limits.max_columns.min(u32::MAX as usize) as u32;
        Bounds {
            rows,
            cols,
            strict: true,
        }
    }
}

/// One cell: zero-based row, zero-based column, value.
pub(crate) type GridCell = (u32, u32, Raw);

/// Most cells in one chunk of a [`Grid`] (2.5 MB).
const CHUNK_CELLS: usize = 64 * 1024;

/// The non-empty cells of a sheet, in row-major order, in chunks that each hold
/// whole rows. A sheet of 50,000 rows × 33 columns is 1.65 million cells: one
/// growing vector would double past 2 million and, while it moves, hold the old
/// and the new copy at once; chunks allocated at their final size never move.
#[derive(Debug, Default)]
pub(crate) struct Grid {
    chunks: Vec<Vec<GridCell>>,
    sorted: bool,
}

impl Grid {
    pub(crate) fn new() -> Grid {
        Grid {
            chunks: Vec::new(),
            sorted: true,
        }
    }

    pub(crate) fn push(
        &mut self,
        row: u32,
        col: u32,
        raw: Raw,
        bounds: Bounds,
        sheet: &str,
    ) -> Result<(), Rejection> {
        if row >= bounds.rows || col >= bounds.cols {
            if !bounds.strict || raw.is_blank() {
                return Ok(());
            }
            return Err(Rejection::TooLarge(if col >= bounds.cols {
                let letter = crate::text::column_name(col);
                says(
                    format!(
                        "工作表 {sheet} 的 {letter} 列有数据，超出允许的 {} 列",
                        bounds.cols
                    ),
                    format!(
                        "sheet {sheet} has a value in column {letter}, beyond the {} columns allowed",
                        bounds.cols
                    ),
                )
            } else {
                let (row, max) = (
                    u64::from(row) + 1,
                    u64::from(bounds.rows).saturating_sub(ROW_SLACK as u64),
                );
                says(
                    format!("工作表 {sheet} 第 {row} 行有数据，超出允许的 {max} 行"),
                    format!(
                        "sheet {sheet} has a value in row {row}, beyond the {max} rows allowed"
                    ),
                )
            }));
        }
        let last = self
            .chunks
            .last()
            .and_then(|c| c.last())
            .map(|c| (c.0, c.1));
        if let Some(last) = last {
            if last >= (row, col) {
                self.sorted = false;
            }
        }
        // A new row starts a new chunk when the current one could not take a
        // whole row without growing.
        let row_width = bounds.cols.min(16_384) as usize;
        let new_row = last.is_none_or(|(r, _)| r != row);
        match self.chunks.last_mut() {
            Some(chunk) if !new_row || chunk.len() + row_width <= chunk.capacity() => {
                chunk.push((row, col, raw));
            }
            _ => {
                // Chunks grow with the grid (a cover sheet stays small), up to
                // CHUNK_CELLS.
                let held: usize = self.chunks.iter().map(Vec::len).sum();
                let mut chunk = Vec::with_capacity(held.clamp(1024, CHUNK_CELLS).max(row_width));
                chunk.push((row, col, raw));
                self.chunks.push(chunk);
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> Grid {
        if !self.sorted {
            // Stable: of two cells at one position, the first written wins.
            let mut cells: Vec<GridCell> = self.chunks.drain(..).flatten().collect();
            cells.sort_by_key(|c| (c.0, c.1));
            cells.dedup_by_key(|c| (c.0, c.1));
            self.chunks = vec![cells];
            self.sorted = true;
        }
        self
    }

    /// Rows with at least one stored cell: (zero-based row, its cells by column).
    pub(crate) fn rows(&self) -> impl Iterator<Item = (u32, &[GridCell])> {
        self.chunks.iter().flat_map(|chunk| {
            chunk
                .chunk_by(|a, b| a.0 == b.0)
                .map(|cells| (cells[0].0, cells))
        })
    }
}

/// An open workbook of any supported format.
pub(crate) enum Book<'a> {
    Xlsx(Xlsx<Cursor<&'a [u8]>>),
    Xlsb(Xlsb<Cursor<&'a [u8]>>),
    Xls(Xls<Cursor<&'a [u8]>>),
    Ods(Ods<Cursor<&'a [u8]>>),
}

fn damaged() -> Rejection {
    unreadable(DAMAGED)
}

impl<'a> Book<'a> {
    /// Opens bytes that passed [`guard::preflight`] as `format`.
    pub(crate) fn open(bytes: &'a [u8], format: Format) -> Result<Book<'a>, Rejection> {
        let cursor = Cursor::new(bytes);
        let password = || unreadable(PASSWORD);
        match format {
            Format::Xlsx => Xlsx::new(cursor).map(Book::Xlsx).map_err(|e| match e {
                XlsxError::Password => password(),
                _ => damaged(),
            }),
            Format::Xlsb => Xlsb::new(cursor).map(Book::Xlsb).map_err(|e| match e {
                XlsbError::Password => password(),
                _ => damaged(),
            }),
            Format::Xls => Xls::new(cursor).map(Book::Xls).map_err(|e| match e {
                XlsError::Password => password(),
                _ => unreadable(super::xls_guard::NOT_A_WORKBOOK_OR_DAMAGED),
            }),
            Format::Ods => Ods::new(cursor).map(Book::Ods).map_err(|e| match e {
                OdsError::Password => password(),
                _ => damaged(),
            }),
        }
    }

    /// Names of the worksheets (not chart or macro sheets), in workbook order.
    pub(crate) fn worksheets(&self) -> Vec<String> {
        let sheets = match self {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xlsb(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => b.sheets_metadata(),
        };
        sheets
            .iter()
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .collect()
    }

    /// Reads one sheet's non-empty cells within `bounds`.
    pub(crate) fn read(
        &mut self,
        sheet: &str,
        bounds: Bounds,
        limits: &ReadLimits,
    ) -> Result<Grid, Rejection> {
        let grid = match self {
            Book::Xlsx(b) => read_xlsx(b, sheet, bounds)?,
            Book::Xlsb(b) => read_xlsb(b, sheet, bounds)?,
            Book::Xls(b) => read_dense(b, sheet, bounds, limits)?,
            Book::Ods(b) => read_dense(b, sheet, bounds, limits)?,
        };
        Ok(grid.finish())
    }
}

fn check_declared(
    dims: Dimensions,
    bounds: Bounds,
    limits: &ReadLimits,
    sheet: &str,
) -> Result<(), Rejection> {
    if bounds.strict {
        guard::check_dimensions(dims, limits, sheet)?;
    }
    Ok(())
}

/// Streams an xlsx sheet with formulas in one pass: a formula whose cell has no
/// cached value becomes [`Raw::FormulaNoValue`].
fn read_xlsx(
    book: &mut Xlsx<Cursor<&[u8]>>,
    sheet: &str,
    bounds: Bounds,
) -> Result<Grid, Rejection> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(|_| damaged())?;
    let mut grid = Grid::new();
    while let Some(rec) = reader
        .next_cell_with_formula_metadata()
        .map_err(|_| damaged())?
    {
        let (row, col) = rec.pos;
        let raw = match Raw::from_data_ref(rec.value) {
            Some(raw) => raw,
            None => match rec.formula {
                Some(XlsxFormulaMetadata::Normal { formula })
                | Some(XlsxFormulaMetadata::Shared { formula, .. }) => {
                    Raw::FormulaNoValue(formula.into())
                }
                Some(_) => Raw::FormulaNoValue("".into()),
                None => continue,
            },
        };
        grid.push(row, col, raw, bounds, sheet)?;
    }
    Ok(grid)
}

/// Streams an xlsb sheet. Formula records of xlsb always carry their value.
fn read_xlsb(
    book: &mut Xlsb<Cursor<&[u8]>>,
    sheet: &str,
    bounds: Bounds,
) -> Result<Grid, Rejection> {
    let mut reader = book.worksheet_cells_reader(sheet).map_err(|_| damaged())?;
    let mut grid = Grid::new();
    while let Some(cell) = reader.next_cell().map_err(|_| damaged())? {
        let (row, col) = cell.get_position();
        if let Some(raw) = Raw::from_data_ref(cell.get_value().clone()) {
            grid.push(row, col, raw, bounds, sheet)?;
        }
    }
    Ok(grid)
}

/// Reads an xls or ods sheet from calamine's ranges, with its formulas.
fn read_dense<'b, R>(
    book: &mut R,
    sheet: &str,
    bounds: Bounds,
    limits: &ReadLimits,
) -> Result<Grid, Rejection>
where
    R: Reader<Cursor<&'b [u8]>>,
{
    let range: Range<Data> = book.worksheet_range(sheet).map_err(|_| damaged())?;
    let Some(start) = range.start() else {
        return Ok(Grid::new());
    };
    let end = range.end().unwrap_or(start);
    check_declared(Dimensions { start, end }, bounds, limits, sheet)?;
    let mut grid = Grid::new();
    for (r, c, value) in range.used_cells() {
        if let Some(raw) = Raw::from_data(value) {
            grid.push(start.0 + r as u32, start.1 + c as u32, raw, bounds, sheet)?;
        }
    }
    if let Ok(formulas) = book.worksheet_formula(sheet) {
        let Some(fstart) = formulas.start() else {
            return Ok(grid);
        };
        for (r, c, formula) in formulas.used_cells() {
            let pos = (fstart.0 + r as u32, fstart.1 + c as u32);
            if !formula.is_empty() && range.get_value(pos).is_none_or(|v| v.is_empty()) {
                grid.push(
                    pos.0,
                    pos.1,
                    Raw::FormulaNoValue(formula.as_str().into()),
                    bounds,
                    sheet,
                )?;
            }
        }
    }
    Ok(grid)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows stay whole across chunks: a sheet far larger than one chunk comes
    /// back row by row, every cell in place, in order.
    #[test]
    fn a_large_grid_spans_chunks_with_whole_rows() {
        let b = Bounds {
            rows: 100_000,
            cols: 33,
            strict: true,
        };
        let mut g = Grid::new();
        for r in 0..20_000u32 {
            for c in 0..33u32 {
                g.push(r, c, Raw::Int(i64::from(r * 100 + c)), b, "s")
                    .unwrap();
            }
        }
        let g = g.finish();
        assert!(g.chunks.len() > 1, "{} chunk(s)", g.chunks.len());
        let mut next = 0u32;
        for (r, cells) in g.rows() {
            assert_eq!(r, next);
            assert_eq!(cells.len(), 33, "row {r}");
            for (c, cell) in cells.iter().enumerate() {
                assert_eq!((cell.0, cell.1), (r, c as u32));
                assert_eq!(cell.2, Raw::Int(i64::from(r * 100 + c as u32)));
            }
            next += 1;
        }
        assert_eq!(next, 20_000);
    }

    #[test]
    fn grid_sorts_groups_and_bounds() {
        let mut g = Grid::new();
        let b = Bounds {
            rows: 10,
            cols: 3,
            strict: true,
        };
        g.push(2, 1, Raw::Int(5), b, "s").unwrap();
        g.push(0, 0, Raw::Int(1), b, "s").unwrap();
        g.push(2, 0, Raw::Int(4), b, "s").unwrap();
        g.push(2, 0, Raw::Int(9), b, "s").unwrap();
        g.push(9, 5, Raw::Text("  ".into()), b, "s").unwrap();
        assert!(
            matches!(g.push(0, 3, Raw::Int(1), b, "s"), Err(Rejection::TooLarge(r)) if r.en.contains("column D") && r.zh.contains("D 列"))
        );
        assert!(matches!(
            g.push(10, 0, Raw::Int(1), b, "s"),
            Err(Rejection::TooLarge(_))
        ));
        let g = g.finish();
        let rows: Vec<(u32, Vec<(u32, Raw)>)> = g
            .rows()
            .map(|(r, cells)| (r, cells.iter().map(|c| (c.1, c.2.clone())).collect()))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0, vec![(0, Raw::Int(1))]),
                (2, vec![(0, Raw::Int(4)), (1, Raw::Int(5))])
            ]
        );
        let mut cover = Grid::new();
        cover
            .push(5000, 7, Raw::Int(1), Bounds::cover(), "c")
            .unwrap();
        assert_eq!(cover.finish().rows().count(), 0);
    }
}
