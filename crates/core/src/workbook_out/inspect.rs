//! Reading back what a written workbook shows: the number format of each
//! styled cell of a sheet, so tests (and anyone checking an export) can see
//! that counts, yuan, rates and changes look as intended in Excel or WPS.

use std::collections::BTreeMap;
use std::io::Read;

/// Excel's built-in number formats that writers refer to by id alone.
fn builtin_format(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "General",
        1 => "0",
        2 => "0.00",
        3 => "#,##0",
        4 => "#,##0.00",
        9 => "0%",
        10 => "0.00%",
        _ => return None,
    })
}

/// The value of `name="…"` in the attributes of an XML tag.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("{name}=\"");
    let start = if attrs.starts_with(&key) {
        key.len()
    } else {
        attrs.find(&format!(" {key}"))? + key.len() + 1
    };
    attrs[start..].split('"').next()
}

/// The number format code of every cell with a style on the `index`-th
/// (zero-based) worksheet, keyed by its reference (`G5`). None when the bytes
/// are not a workbook or lack that sheet.
pub fn cell_number_formats(bytes: &[u8], index: usize) -> Option<BTreeMap<String, String>> {
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let mut read = |part: &str| -> Option<String> {
        let mut s = String::new();
        zip.by_name(part).ok()?.read_to_string(&mut s).ok()?;
        Some(s)
    };
    let styles = read("xl/styles.xml")?;
    let sheet = read(&format!("xl/worksheets/sheet{}.xml", index + 1))?;
    let custom: BTreeMap<u32, String> = styles
        .split("<numFmt ")
        .skip(1)
        .filter_map(|t| {
            let id = attr(t, "numFmtId")?.parse().ok()?;
            let code = attr(t, "formatCode")?;
            Some((id, code.replace("&quot;", "\"").replace("&amp;", "&")))
        })
        .collect();
    let xfs = styles
        .split("<cellXfs")
        .nth(1)?
        .split("</cellXfs>")
        .next()?;
    let formats: Vec<String> = xfs
        .split("<xf ")
        .skip(1)
        .map(|xf| {
            let id: u32 = attr(xf, "numFmtId")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            custom
                .get(&id)
                .cloned()
                .or_else(|| builtin_format(id).map(str::to_string))
                .unwrap_or_else(|| format!("builtin {id}"))
        })
        .collect();
    Some(
        sheet
            .split("<c ")
            .skip(1)
            .filter_map(|c| {
                let head = c.split('>').next()?;
                let style: usize = attr(head, "s")?.parse().ok()?;
                Some((attr(head, "r")?.to_string(), formats.get(style)?.clone()))
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn attributes_are_read_first_in_the_tag_or_after_a_space() {
        assert_eq!(super::attr(r#"r="A1" s="1" t="s""#, "s"), Some("1"));
        assert_eq!(super::attr(r#"r="A1" s="1" t="s""#, "r"), Some("A1"));
    }
}
