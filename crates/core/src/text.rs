//! Text normalisation shared by header matching and cell parsing.

/// Folds full-width ASCII forms (U+FF01..U+FF5E) and the ideographic space to
/// their half-width equivalents.
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Normalises a header or label for alias matching: full-width → half-width, line
/// breaks and surrounding space dropped, inner runs of white space removed, a trailing
/// bracketed unit such as `(人)` or `（元）` dropped, ASCII lower-cased.
pub fn normalise_header(s: &str) -> String {
    let half = to_half_width(s);
    let mut out: String = half
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .collect::<String>()
        .to_lowercase();
    // Drop trailing bracketed units, possibly several: "金额(元)(本月)" keeps dropping.
    loop {
        let trimmed = out.trim_end();
        let Some(stripped) = trimmed.strip_suffix(')') else {
            break;
        };
        match stripped.rfind('(') {
            Some(open) if open > 0 => out = stripped[..open].to_string(),
            _ => break,
        }
    }
    out
}

/// Column letters for a zero-based column index (0 → A, 26 → AA).
pub fn column_name(mut col: u32) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A1-style reference for zero-based row and column.
pub fn cell_ref(row: u32, col: u32) -> String {
    format!("{}{}", column_name(col), row + 1)
}

/// A count with thousands separators: `4980` → `4,980`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The longest run of consecutive English words in `text`, with its words: a
/// Chinese message must hold none of two or more. A
/// word is a token of two or more ASCII letters only (trailing `,;:()"` aside);
/// identifiers (`unit_code`), cell references (`F12`), file extensions
/// (`.xlsx`), numbers and placeholders (`{metric}`) are not words, and any
/// non-ASCII character (Chinese, full-width marks) ends a run.
pub fn english_run(text: &str) -> (usize, String) {
    let (mut best, mut best_words) = (0, String::new());
    for segment in text.split(|c: char| !c.is_ascii()) {
        let mut words: Vec<&str> = Vec::new();
        for token in segment.split_whitespace() {
            let word =
                token.trim_matches(|c: char| matches!(c, ',' | ';' | ':' | '(' | ')' | '"' | '.'));
            let is_word = word.len() >= 2
                && word.chars().all(|c| c.is_ascii_alphabetic())
                && !token.starts_with('.');
            if is_word {
                words.push(word);
                if words.len() > best {
                    best = words.len();
                    best_words = words.join(" ");
                }
            } else {
                words.clear();
            }
        }
    }
    (best, best_words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups_by_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(4_980), "4,980");
        assert_eq!(thousands(1_048_576), "1,048,576");
    }

    #[test]
    fn headers_normalise_width_breaks_and_units() {
        assert_eq!(normalise_header(" 会员人数\n(人) "), "会员人数");
        assert_eq!(normalise_header("会员人数（人）"), "会员人数");
        assert_eq!(normalise_header("劳动争议涉及金额(元)"), "劳动争议涉及金额");
        assert_eq!(normalise_header("Members"), "members");
        assert_eq!(normalise_header("ｕｎｉｔ＿ｃｏｄｅ"), "unit_code");
        assert_eq!(normalise_header("(人)"), "(人)");
    }

    #[test]
    fn cell_refs() {
        assert_eq!(cell_ref(0, 0), "A1");
        assert_eq!(cell_ref(11, 5), "F12");
        assert_eq!(column_name(25), "Z");
        assert_eq!(column_name(26), "AA");
        assert_eq!(column_name(16383), "XFD");
    }
}
