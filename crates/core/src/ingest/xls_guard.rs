//! Checks on a legacy .xls (OLE compound file, BIFF5/8) before calamine opens it.
//!
//! calamine parses every sheet of an .xls when it opens it and trusts what the
//! records say: a DIMENSIONS record of 4 billion rows makes it reserve ~10^16
//! bytes, and two NUMBER cells at A1 and (65535, 65535) make it build a dense
//! range of 4 × 10^9 cells: both abort the process (measured, calamine 0.38). So
//! the `Workbook` stream is located here with a small, bounded compound-file
//! reader, and its cell and dimension records are checked against the limits.

use super::guard::{says, unreadable, Rejection, DAMAGED, PASSWORD, ROW_SLACK};
use super::ReadLimits;

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// Sector ids at or above this are markers (free, end of chain, FAT, DIFAT).
const MAX_REGULAR_SECTOR: u32 = 0xFFFF_FFFA;

fn damaged() -> Rejection {
    unreadable(DAMAGED)
}

/// An OLE file without a readable workbook stream.
pub(crate) const NOT_A_WORKBOOK_OR_DAMAGED: super::guard::Text = (
    "这不是 Excel 工作簿（.xlsx、.xls、.xlsb 或 .ods），或文件已损坏",
    "not an Excel workbook (xlsx/xls/xlsb/ods), or it is damaged",
);

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// A compound file: its sectors and allocation table, all within the bytes.
struct Compound<'a> {
    bytes: &'a [u8],
    sector_size: usize,
    fat: Vec<u32>,
}

impl<'a> Compound<'a> {
    /// A regular sector; the last one of a file may be cut short, as calamine
    /// accepts.
    fn sector(&self, id: u32) -> Option<&'a [u8]> {
        let start = (id as usize)
            .checked_add(1)?
            .checked_mul(self.sector_size)?;
        let end = start.checked_add(self.sector_size)?.min(self.bytes.len());
        (start < end).then(|| &self.bytes[start..end])
    }
}

/// Reads a chain the way calamine does (stopping once `len` bytes are had) but
/// refuses a chain longer than the sectors available: a loop would make calamine
/// grow a buffer until memory runs out.
fn read_chain<'s>(
    table: &[u32],
    start: u32,
    len: usize,
    max_steps: usize,
    sector: impl Fn(u32) -> Option<&'s [u8]>,
) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut id = start;
    let mut steps = 0;
    while id != END_OF_CHAIN && out.len() < len {
        steps += 1;
        if id >= MAX_REGULAR_SECTOR || steps > max_steps {
            return None;
        }
        let s = sector(id)?;
        out.extend_from_slice(&s[..s.len().min(len - out.len())]);
        id = *table.get(id as usize)?;
    }
    Some(out)
}

/// The `Workbook` (BIFF8) or `Book` (BIFF5) stream of a compound file, found as
/// calamine finds it, or `None` when the file is not a well-formed compound file
/// holding one (calamine could then only fail, or loop until memory runs out).
pub(crate) fn workbook_stream(bytes: &[u8]) -> Option<Vec<u8>> {
    if bytes.len() < 512 {
        return None;
    }
    let sector_size = match u16_at(bytes, 0x1E)? {
        9 => 512,
        12 => 4096,
        _ => return None,
    };
    if u16_at(bytes, 0x20)? != 6 {
        return None;
    }
    const MINI: usize = 64;
    let max_steps = bytes.len() / sector_size + 1;
    let mut cf = Compound {
        bytes,
        sector_size,
        fat: Vec::new(),
    };

    // The DIFAT: 109 ids in the header, then a chain of DIFAT sectors.
    let mut fat_sectors: Vec<u32> = (0..109)
        .filter_map(|i| u32_at(bytes, 0x4C + 4 * i))
        .collect();
    let mut difat = u32_at(bytes, 0x44)?;
    let per_sector = sector_size / 4 - 1;
    let mut steps = 0;
    while difat < MAX_REGULAR_SECTOR {
        steps += 1;
        if steps > max_steps {
            return None;
        }
        let s = cf.sector(difat)?;
        fat_sectors.extend((0..per_sector).filter_map(|i| u32_at(s, 4 * i)));
        difat = u32_at(s, 4 * per_sector)?;
    }
    for id in fat_sectors
        .into_iter()
        .filter(|&id| id < MAX_REGULAR_SECTOR)
    {
        let s = cf.sector(id)?;
        cf.fat
            .extend((0..s.len() / 4).filter_map(|i| u32_at(s, 4 * i)));
    }
    let regular = |id: u32| cf.sector(id);

    let dir = read_chain(
        &cf.fat,
        u32_at(bytes, 0x30)?,
        usize::MAX,
        max_steps,
        regular,
    )?;
    let entries: Vec<&[u8]> = dir.chunks_exact(128).collect();
    let size_of = |e: &[u8]| -> Option<usize> {
        let size = if sector_size == 512 {
            u64::from(u32_at(e, 120)?)
        } else {
            u64::from(u32_at(e, 120)?) | (u64::from(u32_at(e, 124)?) << 32)
        };
        usize::try_from(size).ok()
    };
    // calamine decodes all 64 name bytes and cuts at the first NUL.
    let name_of = |e: &[u8]| -> String {
        let units: Vec<u16> = (0..32)
            .filter_map(|i| u16_at(e, 2 * i))
            .take_while(|&u| u != 0)
            .collect();
        String::from_utf16_lossy(&units)
    };

    // calamine loads the mini stream whenever the header counts mini-FAT sectors.
    let (mini_fat, mini_stream) = if u32_at(bytes, 0x40)? > 0 {
        let root = entries.first()?;
        let mini_stream = read_chain(
            &cf.fat,
            u32_at(root, 116)?,
            size_of(root)?,
            max_steps,
            regular,
        )?;
        let mini_fat_len = (u32_at(bytes, 0x40)? as usize).saturating_mul(sector_size);
        let mini_fat_bytes = read_chain(
            &cf.fat,
            u32_at(bytes, 0x3C)?,
            mini_fat_len,
            max_steps,
            regular,
        )?;
        let mini_fat: Vec<u32> = mini_fat_bytes
            .chunks_exact(4)
            .filter_map(|c| u32_at(c, 0))
            .collect();
        (mini_fat, mini_stream)
    } else {
        (Vec::new(), Vec::new())
    };
    let mini = |id: u32| {
        let at = (id as usize).checked_mul(MINI)?;
        mini_stream.get(at..at.checked_add(MINI)?.min(mini_stream.len()))
    };

    ["workbook", "book"].iter().find_map(|want| {
        let entry = entries
            .iter()
            .find(|e| name_of(e).eq_ignore_ascii_case(want))?;
        let size = size_of(entry)?;
        let start = u32_at(entry, 116)?;
        if size < 4096 {
            read_chain(&mini_fat, start, size, bytes.len() / MINI + 1, mini)
        } else {
            read_chain(&cf.fat, start, size, max_steps, regular)
        }
    })
}

/// Refuses a BIFF workbook stream whose dimension or cell records reach beyond
/// the limits (for any sheet: calamine builds every sheet at open), or that is
/// encrypted.
pub(crate) fn check_biff(stream: &[u8], limits: &ReadLimits) -> Result<(), Rejection> {
    let max_rows = limits.max_rows.saturating_add(ROW_SLACK) as u64;
    let max_cols = limits.max_columns as u64;
    let too_large = |(zh, en): (&str, &str), n: u64, max: usize| {
        Rejection::TooLarge(says(
            format!("有一个工作表占 {n} {zh}，超过允许的 {max} {zh}"),
            format!("a sheet spans {n} {en}, more than the {max} allowed"),
        ))
    };
    let (rows, columns) = (("行", "rows"), ("列", "columns"));
    let check_cell = |row: u16, col: u16| -> Result<(), Rejection> {
        if u64::from(row) >= max_rows {
            return Err(too_large(rows, u64::from(row) + 1, limits.max_rows));
        }
        if u64::from(col) >= max_cols {
            return Err(too_large(columns, u64::from(col) + 1, limits.max_columns));
        }
        Ok(())
    };
    let mut at = 0usize;
    while let (Some(typ), Some(len)) = (u16_at(stream, at), u16_at(stream, at + 2)) {
        let start = at + 4;
        let end = (start + usize::from(len)).min(stream.len());
        let data = &stream[start..end];
        at = start + usize::from(len);
        match typ {
            0x002F => return Err(unreadable(PASSWORD)), // FilePass
            0x0200 => {
                // Dimensions: BIFF8 rows are u32, BIFF5 u16; the last row and
                // column are exclusive.
                let (rf, rl, cf, cl) = match data.len() {
                    10 => (
                        u64::from(u16_at(data, 0).unwrap_or(0)),
                        u64::from(u16_at(data, 2).unwrap_or(0)),
                        u64::from(u16_at(data, 4).unwrap_or(0)),
                        u64::from(u16_at(data, 6).unwrap_or(0)),
                    ),
                    14 | 16 => (
                        u64::from(u32_at(data, 0).unwrap_or(0)),
                        u64::from(u32_at(data, 4).unwrap_or(0)),
                        u64::from(u16_at(data, 8).unwrap_or(0)),
                        u64::from(u16_at(data, 10).unwrap_or(0)),
                    ),
                    _ => continue, // calamine refuses it itself
                };
                if rl > max_rows {
                    return Err(too_large(rows, rl, limits.max_rows));
                }
                if cl > max_cols {
                    return Err(too_large(columns, cl, limits.max_columns));
                }
                // calamine computes `last - first + 1` unchecked: first must not
                // pass last.
                let cf = if cf > 0xFF || cl < cf { 0 } else { cf };
                if rl >= 1 && cl >= 1 && (rf >= rl || cf >= cl) {
                    return Err(damaged());
                }
            }
            // Number, Label, RString, BoolErr, Rk, LabelSst, Formula: row, col first.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x027E | 0x00FD | 0x0006 => {
                if let (Some(row), Some(col)) = (u16_at(data, 0), u16_at(data, 2)) {
                    check_cell(row, col)?;
                }
            }
            0x00BD => {
                // MulRk: row, first column, RK values, last column.
                if let (Some(row), Some(first)) = (u16_at(data, 0), u16_at(data, 2)) {
                    check_cell(row, first)?;
                    if let Some(last) = data.len().checked_sub(2).and_then(|p| u16_at(data, p)) {
                        check_cell(row, last)?;
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Checks an .xls before calamine opens it.
pub(crate) fn check_xls(bytes: &[u8], limits: &ReadLimits) -> Result<(), Rejection> {
    let stream = workbook_stream(bytes).ok_or_else(|| unreadable(NOT_A_WORKBOOK_OR_DAMAGED))?;
    check_biff(&stream, limits)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn rec(typ: u16, data: &[u8]) -> Vec<u8> {
        let mut r = typ.to_le_bytes().to_vec();
        r.extend((data.len() as u16).to_le_bytes());
        r.extend(data);
        r
    }

    pub(crate) fn number_cell(row: u16, col: u16, v: f64) -> Vec<Vec<u8>> {
        vec![number(row, col, v)]
    }

    fn number(row: u16, col: u16, v: f64) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        d.extend(v.to_le_bytes());
        rec(0x0203, &d)
    }

    fn label(row: u16, col: u16, s: &str) -> Vec<u8> {
        let mut d = row.to_le_bytes().to_vec();
        d.extend(col.to_le_bytes());
        d.extend(0u16.to_le_bytes());
        let utf16: Vec<u8> = s.encode_utf16().flat_map(u16::to_le_bytes).collect();
        d.extend((utf16.len() as u16 / 2).to_le_bytes());
        d.push(1); // high byte: UTF-16
        d.extend(utf16);
        rec(0x0204, &d)
    }

    fn bof(kind: u16) -> Vec<u8> {
        let mut d = 0x0600u16.to_le_bytes().to_vec();
        d.extend(kind.to_le_bytes());
        d.extend([0u8; 12]);
        rec(0x0809, &d)
    }

    /// A BIFF8 workbook stream with one sheet of the given cell records.
    pub(crate) fn biff(sheet: &str, dims: (u32, u32, u16, u16), cells: &[Vec<u8>]) -> Vec<u8> {
        let name: Vec<u8> = sheet.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let boundsheet = |pos: u32| {
            let mut d = pos.to_le_bytes().to_vec();
            d.extend([0, 0, sheet.encode_utf16().count() as u8, 1]);
            d.extend(&name);
            rec(0x0085, &d)
        };
        let globals_len = bof(5).len() + boundsheet(0).len() + 4;
        let mut s = bof(5);
        s.extend(boundsheet(globals_len as u32));
        s.extend(rec(0x000A, &[]));
        s.extend(bof(0x10));
        let mut d = dims.0.to_le_bytes().to_vec();
        d.extend(dims.1.to_le_bytes());
        d.extend(dims.2.to_le_bytes());
        d.extend(dims.3.to_le_bytes());
        d.extend([0, 0]);
        s.extend(rec(0x0200, &d));
        for c in cells {
            s.extend(c);
        }
        s.extend(rec(0x000A, &[]));
        s
    }

    /// A compound file (v3, 512-byte sectors) holding `stream` as `Workbook`,
    /// padded past the mini-stream cutoff.
    pub(crate) fn compound(mut stream: Vec<u8>) -> Vec<u8> {
        const SS: usize = 512;
        while stream.len() < 4096 {
            stream.extend(rec(0x00E1, &[0; 64])); // InterfaceHdr, ignored by readers
        }
        let size = stream.len();
        stream.resize(size.div_ceil(SS) * SS, 0);
        let n = (stream.len() / SS) as u32;
        let mut fat = vec![0xFFFF_FFFDu32, END_OF_CHAIN];
        fat.extend((0..n).map(|i| if i + 1 < n { 3 + i } else { END_OF_CHAIN }));
        fat.resize(128, 0xFFFF_FFFF);
        let entry = |name: &str, typ: u8, start: u32, size: u32, child: u32| {
            let mut e: Vec<u8> = name
                .encode_utf16()
                .chain([0])
                .flat_map(u16::to_le_bytes)
                .collect();
            let name_len = e.len() as u16;
            e.resize(64, 0);
            e.extend(name_len.to_le_bytes());
            e.extend([typ, 1]);
            e.extend(0xFFFF_FFFFu32.to_le_bytes());
            e.extend(0xFFFF_FFFFu32.to_le_bytes());
            e.extend(child.to_le_bytes());
            e.resize(116, 0);
            e.extend(start.to_le_bytes());
            e.extend(size.to_le_bytes());
            e.extend([0; 4]);
            e
        };
        let mut out = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        out.resize(0x18, 0);
        for v in [0x3Eu16, 3, 0xFFFE, 9, 6] {
            out.extend(v.to_le_bytes());
        }
        out.resize(0x2C, 0);
        for v in [1u32, 1, 0, 4096, END_OF_CHAIN, 0, END_OF_CHAIN, 0, 0] {
            out.extend(v.to_le_bytes());
        }
        out.truncate(0x4C);
        out.extend(0u32.to_le_bytes());
        for _ in 1..109 {
            out.extend(0xFFFF_FFFFu32.to_le_bytes());
        }
        out.extend(fat.iter().flat_map(|v| v.to_le_bytes()));
        let mut dir = entry("Root Entry", 5, END_OF_CHAIN, 0, 1);
        dir.extend(entry("Workbook", 2, 2, size as u32, 0xFFFF_FFFF));
        dir.resize(SS, 0);
        out.extend(dir);
        out.extend(stream);
        out
    }

    pub(crate) fn header_and_unit() -> Vec<Vec<u8>> {
        vec![
            label(0, 0, "单位代码"),
            label(0, 1, "会员人数"),
            label(1, 0, "330102001001"),
            number(1, 1, 12.0),
        ]
    }

    #[test]
    fn finds_the_workbook_stream_and_accepts_honest_records() {
        let stream = biff("基层工会情况", (0, 2, 0, 2), &header_and_unit());
        let file = compound(stream.clone());
        let found = workbook_stream(&file).expect("stream");
        assert_eq!(&found[..stream.len()], stream.as_slice());
        assert_eq!(check_xls(&file, &ReadLimits::default()), Ok(()));
    }

    #[test]
    fn refuses_huge_dimensions_far_cells_and_inverted_ranges() {
        let l = ReadLimits::default();
        let too_large = |r: Result<(), Rejection>| matches!(r, Err(Rejection::TooLarge(_)));
        assert!(too_large(check_biff(
            &biff("s", (0, u32::MAX, 0, 0xFFFF), &[]),
            &l
        )));
        assert!(too_large(check_biff(
            &biff("s", (0, 3, 0, 2), &[number(65535, 65535, 1.0)]),
            &l
        )));
        assert!(too_large(check_biff(
            &biff("s", (0, 3, 0, 2), &[number(3, 300, 1.0)]),
            &l
        )));
        assert_eq!(
            check_biff(&biff("s", (100, 50, 0, 2), &[]), &l),
            Err(damaged())
        );
        assert_eq!(check_biff(&biff("s", (0, 0, 0, 0), &[]), &l), Ok(()));
        let mut enc = bof(5);
        enc.extend(rec(0x002F, &[0; 6]));
        assert_eq!(check_biff(&enc, &l), Err(unreadable(PASSWORD)));
    }

    #[test]
    fn malformed_compound_files_are_not_found() {
        let file = compound(biff("s", (0, 2, 0, 2), &header_and_unit()));
        for cut in [0, 8, 100, 512, 700, 1100, file.len() - 600] {
            let _ = workbook_stream(&file[..cut]); // must not panic
        }
        assert!(workbook_stream(&file[..1100]).is_none());
        // Sector 2 chained to itself under a 2 GB stream: calamine would grow a
        // buffer to 2 GB; a short loop within the declared size is read as
        // calamine reads it.
        let mut looped = file.clone();
        looped[512 + 8..512 + 12].copy_from_slice(&2u32.to_le_bytes());
        assert!(workbook_stream(&looped).is_some());
        looped[1024 + 128 + 120..1024 + 128 + 124].copy_from_slice(&0x7FFF_FFFFu32.to_le_bytes());
        assert!(workbook_stream(&looped).is_none());
        assert!(check_xls(&looped, &ReadLimits::default()).is_err());
    }
}
