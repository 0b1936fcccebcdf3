//! Master data records: the federation tree as imported from CSV or XLSX
//! (`code,name,parent_code,kind,expected_to_report`).

use std::collections::HashMap;
use std::io::Cursor;

use calamine::{Data, Reader};
use serde::{Deserialize, Serialize};

use crate::text::to_half_width;
use crate::Period;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    Federation,
    Grassroots,
}

impl OrgKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            OrgKind::Federation => "federation",
            OrgKind::Grassroots => "grassroots",
        }
    }

    pub fn parse(raw: &str) -> Option<OrgKind> {
        match to_half_width(raw).trim().to_lowercase().as_str() {
            "federation" | "联合会" | "总工会" | "工会联合会" => {
                Some(OrgKind::Federation)
            }
            "grassroots" | "基层" | "基层工会" => Some(OrgKind::Grassroots),
            _ => None,
        }
    }
}

/// One org unit of the master data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRecord {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub kind: OrgKind,
    pub expected_to_report: bool,
}

/// A problem in a master-data file, with its line (1-based, header = line 1).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct OrgLineError {
    pub line: usize,
    pub message: String,
}

const COLUMNS: [&str; 5] = ["code", "name", "parent_code", "kind", "expected_to_report"];
/// Optional columns: the month a row takes effect (`YYYY-MM`), and whether the
/// unit is active (`false`: it closes from that month).
const OPTIONAL: [&str; 2] = ["effective_from", "active"];

/// One line of a master-data file: the unit, and when the line takes effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgLine {
    /// 1-based, the header being line 1.
    pub line: usize,
    pub record: OrgRecord,
    /// The month the line takes effect from (the `effective_from` column), if
    /// it gives one.
    pub effective_from: Option<Period>,
    /// `false` (the `active` column): the unit closes from that month.
    pub active: bool,
}

/// Reads master data from CSV (UTF-8, BOM allowed) or, when the bytes are a zip
/// or OLE workbook, from the first sheet of an XLSX/XLS/ODS file.
pub fn parse_orgs(bytes: &[u8]) -> Result<Vec<OrgRecord>, Vec<OrgLineError>> {
    Ok(parse_org_lines(bytes)?
        .into_iter()
        .map(|l| l.record)
        .collect())
}

/// Like [`parse_orgs`], with each line's optional `effective_from` and `active`
/// columns. A column the importer does not know is an error naming it.
pub fn parse_org_lines(bytes: &[u8]) -> Result<Vec<OrgLine>, Vec<OrgLineError>> {
    let rows = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        workbook_rows(bytes)?
    } else {
        csv_rows(bytes)?
    };
    records(rows)
}

fn csv_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<OrgLineError>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        match rec {
            Ok(r) => rows.push(r.iter().map(str::to_string).collect()),
            Err(e) => {
                return Err(vec![OrgLineError {
                    line: i + 1,
                    message: format!("not valid CSV: {e}"),
                }])
            }
        }
    }
    Ok(rows)
}

fn workbook_rows(bytes: &[u8]) -> Result<Vec<Vec<String>>, Vec<OrgLineError>> {
    let fail = |m: String| {
        vec![OrgLineError {
            line: 0,
            message: m,
        }]
    };
    let result = std::panic::catch_unwind(|| -> Result<Vec<Vec<String>>, String> {
        let mut wb = calamine::open_workbook_auto_from_rs(Cursor::new(bytes))
            .map_err(|e| format!("not a readable workbook: {e}"))?;
        let name = wb
            .sheet_names()
            .first()
            .cloned()
            .ok_or("the workbook has no sheet")?;
        let range = wb
            .worksheet_range(&name)
            .map_err(|e| format!("sheet {name}: {e}"))?;
        Ok(range
            .rows()
            .map(|r| {
                r.iter()
                    .map(|c| match c {
                        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => {
                            format!("{}", *f as i64)
                        }
                        Data::Empty => String::new(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .collect())
    });
    match result {
        Ok(Ok(rows)) => Ok(rows),
        Ok(Err(m)) => Err(fail(m)),
        Err(_) => Err(fail("the workbook could not be read".into())),
    }
}

fn records(rows: Vec<Vec<String>>) -> Result<Vec<OrgLine>, Vec<OrgLineError>> {
    let mut errors = Vec::new();
    let Some(header) = rows.first() else {
        return Err(vec![OrgLineError {
            line: 1,
            message: "the file is empty".into(),
        }]);
    };
    let header: Vec<String> = header
        .iter()
        .map(|h| to_half_width(h).trim().to_lowercase())
        .collect();
    let mut index = HashMap::new();
    for col in COLUMNS {
        match header.iter().position(|h| h == col) {
            Some(i) => {
                index.insert(col, i);
            }
            None => errors.push(OrgLineError {
                line: 1,
                message: format!("missing column {col} (expected {})", COLUMNS.join(",")),
            }),
        }
    }
    for (i, h) in header.iter().enumerate() {
        let h = match h.as_str() {
            "from" | "effective" => "effective_from",
            other => other,
        };
        if OPTIONAL.contains(&h) {
            index.insert(h, i);
        } else if !h.is_empty() && !COLUMNS.contains(&h) {
            errors.push(OrgLineError {
                line: 1,
                message: format!(
                    "unknown column {h:?}: the columns are {}, and optionally {}",
                    COLUMNS.join(","),
                    OPTIONAL.join(",")
                ),
            });
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate().skip(1) {
        let line = i + 1;
        let cell = |c: &str| -> String {
            index
                .get(c)
                .and_then(|&i| row.get(i))
                .map(|v| to_half_width(v).trim().to_string())
                .unwrap_or_default()
        };
        if row.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let code = cell("code");
        let name = cell("name");
        let parent = cell("parent_code");
        let mut bad = |m: String| errors.push(OrgLineError { line, message: m });
        if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c == '/') || code.len() > 64
        {
            bad(format!(
                "code {code:?} must be 1–64 characters without spaces or '/'"
            ));
            continue;
        }
        if name.is_empty() {
            bad(format!("unit {code} has no name"));
            continue;
        }
        let Some(kind) = OrgKind::parse(&cell("kind")) else {
            bad(format!(
                "unit {code}: kind {:?} must be federation or grassroots",
                cell("kind")
            ));
            continue;
        };
        let expected = match cell("expected_to_report").to_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "是" => true,
            "false" | "0" | "no" | "n" | "否" | "" => false,
            other => {
                bad(format!(
                    "unit {code}: expected_to_report {other:?} must be true or false"
                ));
                continue;
            }
        };
        let effective_from = match cell("effective_from").as_str() {
            "" => None,
            raw => match raw.parse::<Period>() {
                Ok(p) => Some(p),
                Err(e) => {
                    bad(format!("unit {code}: effective_from {raw:?}: {e}"));
                    continue;
                }
            },
        };
        let active = match cell("active").to_lowercase().as_str() {
            "true" | "1" | "yes" | "y" | "是" | "" => true,
            "false" | "0" | "no" | "n" | "否" => false,
            other => {
                bad(format!(
                    "unit {code}: active {other:?} must be true or false"
                ));
                continue;
            }
        };
        out.push(OrgLine {
            line,
            record: OrgRecord {
                code,
                name,
                parent_code: (!parent.is_empty()).then_some(parent),
                kind,
                expected_to_report: expected,
            },
            effective_from,
            active,
        });
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_bom_and_chinese_kinds() {
        let text = "\u{feff}code,name,parent_code,kind,expected_to_report\n330102,上城区总工会,,federation,false\n330102001,湖滨街道总工会,330102,联合会,true\n330102001017,某公司工会,330102001,grassroots,\n";
        let orgs = parse_orgs(text.as_bytes()).unwrap();
        assert_eq!(orgs.len(), 3);
        assert_eq!(orgs[1].kind, OrgKind::Federation);
        assert!(orgs[1].expected_to_report);
        assert_eq!(orgs[2].parent_code.as_deref(), Some("330102001"));
    }

    #[test]
    fn effective_months_and_closures_are_read_and_unknown_columns_refused() {
        let text = "code,name,parent_code,kind,expected_to_report,effective_from,active\n1,a,,federation,false,2026-11,\n2,b,1,grassroots,false,,false\n";
        let lines = parse_org_lines(text.as_bytes()).unwrap();
        assert_eq!(lines[0].effective_from, Some("2026-11".parse().unwrap()));
        assert!(lines[0].active);
        assert_eq!(lines[1].effective_from, None);
        assert!(!lines[1].active);
        assert_eq!(lines[1].line, 3);
        let errs = parse_org_lines(
            b"code,name,parent_code,kind,expected_to_report,active,status\n1,a,,federation,false,true,x\n",
        )
        .unwrap_err();
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].message.contains("\"status\""),
            "{}",
            errs[0].message
        );
        let errs = parse_org_lines(
            b"code,name,parent_code,kind,expected_to_report,effective_from\n1,a,,federation,false,2026-13\n",
        )
        .unwrap_err();
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("2026-13"), "{}", errs[0].message);
    }

    #[test]
    fn bad_lines_are_named() {
        let text = "code,name,parent_code,kind,expected_to_report\n1,a,,club,false\n2,,1,grassroots,false\n";
        let errs = parse_orgs(text.as_bytes()).unwrap_err();
        assert_eq!(errs.len(), 2);
        assert_eq!(errs[0].line, 2);
        assert!(errs[0].message.contains("club"));
        assert_eq!(errs[1].line, 3);
        let errs = parse_orgs(b"code,name\n").unwrap_err();
        assert!(errs[0].message.contains("parent_code"));
    }
}
