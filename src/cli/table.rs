//! Columns of the CLI's tables, padded by display width: a Chinese character
//! takes two columns of a terminal, so `format!("{:<18}")`, which counts
//! characters, would push every later column of a row with Chinese names.

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// A column: left- or right-aligned in this many terminal columns.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    L(usize),
    R(usize),
}

/// One line of a table: each cell padded to its column, one space between
/// columns, no trailing spaces. A cell wider than its column pushes the rest
/// (cut it with [`cut`] first where that may happen).
pub fn row(cols: &[Col], cells: &[&str]) -> String {
    let mut line = String::new();
    for (i, (col, cell)) in cols.iter().zip(cells).enumerate() {
        if i > 0 {
            line.push(' ');
        }
        let (width, right) = match *col {
            Col::L(w) => (w, false),
            Col::R(w) => (w, true),
        };
        let pad = " ".repeat(width.saturating_sub(cell.width()));
        if right {
            line.push_str(&pad);
            line.push_str(cell);
        } else {
            line.push_str(cell);
            line.push_str(&pad);
        }
    }
    line.truncate(line.trim_end().len());
    line
}

/// `s` cut to at most `width` terminal columns, ending in `…` when cut.
pub fn cut(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where each column of `line` starts, in terminal columns (cells hold no spaces).
    fn starts(line: &str) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = 0;
        let mut prev_space = true;
        for c in line.chars() {
            if c != ' ' && prev_space {
                out.push(at);
            }
            prev_space = c == ' ';
            at += c.width().unwrap_or(0);
        }
        out
    }

    #[test]
    fn columns_line_up_for_chinese_names() {
        let cols = [Col::L(14), Col::L(18), Col::R(9), Col::L(6)];
        let lines = [
            row(&cols, &["code", "name", "入会率", "unit"]),
            row(&cols, &["330102001", "湖滨街道总工会", "98.90%", "人"]),
            row(&cols, &["330102002", "Town_B", "100.00%", "x"]),
            row(
                &cols,
                &[
                    "330102003",
                    &cut("杭州市上城区某某科技有限公司工会", 18),
                    "—",
                    "个",
                ],
            ),
        ];
        // The right-aligned column ends at the same place; the others start there.
        let ends: Vec<usize> = lines
            .iter()
            .map(|l| {
                l.split(' ')
                    .filter(|s| !s.is_empty())
                    .take(3)
                    .collect::<Vec<_>>()
            })
            .zip(&lines)
            .map(|(cells, l)| {
                l.find(cells[2])
                    .map(|i| l[..i].width() + cells[2].width())
                    .unwrap()
            })
            .collect();
        assert!(
            ends.iter().all(|e| *e == 14 + 1 + 18 + 1 + 9),
            "{ends:?}\n{}",
            lines.join("\n")
        );
        for l in &lines {
            let s = starts(l);
            assert_eq!((s[0], s[1], s[3]), (0, 15, 44), "{}", lines.join("\n"));
        }
        let long = lines[3].split_whitespace().nth(1).unwrap();
        assert!(long.ends_with('…') && long.width() <= 18, "{}", lines[3]);
    }

    #[test]
    fn cut_keeps_short_text_and_marks_a_cut() {
        assert_eq!(cut("上城区总工会", 12), "上城区总工会");
        assert_eq!(cut("上城区总工会", 11), "上城区总工…");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
