//! The 催报 list (reminder list) staff download: the reporters of a subtree
//! without an accepted report for a month, with their contact and the
//! reminders already sent, to chase by phone or mail.

use rust_xlsxwriter::{Format, FormatAlign, Workbook};

use super::{header_format, write_text, WriteError};

/// The sheet's name.
pub const CHASE_SHEET: &str = "催报名单 To chase";

/// The columns, Chinese and English.
pub const CHASE_COLUMNS: [&str; 8] = [
    "报送单位代码 Code",
    "报送单位名称 Reporter",
    "上级单位 Parent",
    "状态 Status",
    "填报人 Preparer",
    "联系电话 Phone",
    "电子邮箱 Email",
    "已发催报 Reminders sent",
];

/// One reporter to chase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaseLine {
    pub code: String,
    pub name: String,
    /// The federation it reports to (code and name).
    pub parent: String,
    /// Its state in both languages (`未报送 missing`).
    pub status: String,
    pub preparer: String,
    pub phone: String,
    pub email: String,
    /// The reminders of the month so far, in words (`逾期 overdue: 已发送 sent 2026-12-11`).
    pub reminders: String,
}

/// Everything the list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChaseBook {
    /// `330102 上城区总工会 — 2026-11 催报名单 …`.
    pub title: String,
    /// Under the title: the deadline, the counts, what the statuses mean.
    pub note: String,
    pub lines: Vec<ChaseLine>,
}

/// The list as an .xlsx: a title row, a note row, the header and one row per
/// reporter, with an autofilter and the header frozen. Every text goes
/// through [`write_text`], so a name or phone that starts like a formula stays
/// text.
pub fn chase_workbook(book: &ChaseBook) -> Result<Vec<u8>, WriteError> {
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    sheet.set_name(CHASE_SHEET)?;
    let title_fmt = Format::new()
        .set_bold()
        .set_font_size(14)
        .set_align(FormatAlign::Left);
    write_text(sheet, 0, 0, &book.title, Some(&title_fmt))?;
    write_text(sheet, 1, 0, &book.note, None)?;
    let header = header_format();
    let widths = [16.0, 28.0, 28.0, 16.0, 12.0, 16.0, 28.0, 40.0];
    for (c, (label, width)) in CHASE_COLUMNS.iter().zip(widths).enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(2, c, *label, &header)?;
        sheet.set_column_width(c, width)?;
    }
    let mut r = 3;
    for l in &book.lines {
        for (c, text) in [
            &l.code,
            &l.name,
            &l.parent,
            &l.status,
            &l.preparer,
            &l.phone,
            &l.email,
            &l.reminders,
        ]
        .into_iter()
        .enumerate()
        {
            write_text(sheet, r, c as u16, text, None)?;
        }
        r += 1;
    }
    let last = (CHASE_COLUMNS.len() - 1) as u16;
    sheet.autofilter(2, 0, (r - 1).max(2), last)?;
    sheet.set_freeze_panes(3, 0)?;
    Ok(wb.save_to_buffer()?)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use crate::workbook_out::tests::part;

    fn line(code: &str, phone: &str) -> ChaseLine {
        ChaseLine {
            code: code.into(),
            name: "湖滨街道总工会".into(),
            parent: "330102 上城区总工会".into(),
            status: "未报送 missing".into(),
            preparer: "张三".into(),
            phone: phone.into(),
            email: "hubin@example.cn".into(),
            reminders: String::new(),
        }
    }

    #[test]
    fn workbook_out_chase_list_has_a_row_per_reporter_and_keeps_text_text() {
        let book = ChaseBook {
            title: "330102 上城区总工会 — 2026-11 催报名单".into(),
            note: "截止 due 2026-12-10".into(),
            lines: vec![line("330102001", "0571-1"), line("330102002", "=1+1")],
        };
        let bytes = chase_workbook(&book).unwrap();
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.clone())).unwrap();
        let range = wb.worksheet_range(CHASE_SHEET).unwrap();
        let rows: Vec<Vec<Data>> = range.rows().map(|r| r.to_vec()).collect();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0][0], Data::String(book.title.clone()));
        assert_eq!(rows[2][0], Data::String("报送单位代码 Code".into()));
        assert_eq!(rows[2][7], Data::String("已发催报 Reminders sent".into()));
        assert_eq!(rows[3][0], Data::String("330102001".into()));
        assert_eq!(rows[3][5], Data::String("0571-1".into()));
        assert_eq!(
            rows[4][5],
            Data::String("=1+1".into()),
            "a string, not a formula"
        );
        let ws = part(&bytes, "xl/worksheets/sheet1.xml");
        assert!(ws.contains("<autoFilter ref=\"A3:H5\""), "{ws}");
        assert!(!ws.contains("<f>"), "no formula: {ws}");
    }
}
