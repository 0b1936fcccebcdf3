//! Cell values as clerks type them, and their exact reading.
//!
//! Pure functions: no workbook, no catalogue. A metric value is an `i64` scaled by
//! 10^decimals. Text is parsed as an exact decimal string (never through `f64`);
//! numeric cells are floats that must sit on the decimal grid.

use calamine::{CellErrorType, Data, DataRef, ExcelDateTime};

use crate::text::to_half_width;

/// Why a metric cell could not be read. Each maps to a built-in catalogue rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    NotANumber,
    Negative,
    DecimalPlaces,
    ExcelError,
    FormulaNoValue,
}

impl CellProblem {
    /// The catalogue rule code reporting this problem.
    pub fn rule(self) -> &'static str {
        match self {
            CellProblem::NotANumber => "not_a_number",
            CellProblem::Negative => "negative_value",
            CellProblem::DecimalPlaces => "decimal_places",
            CellProblem::ExcelError => "excel_error",
            CellProblem::FormulaNoValue => "formula_no_value",
        }
    }
}

/// Excel's error literals, as shown in a cell.
const EXCEL_ERRORS: &[&str] = &[
    "#DIV/0!",
    "#N/A",
    "#NAME?",
    "#NULL!",
    "#NUM!",
    "#REF!",
    "#VALUE!",
    "#DATA!",
    "#GETTING_DATA",
    "#SPILL!",
    "#CALC!",
];

/// Largest |value| a float cell may scale to and still fit an `i64`.
const F64_I64_LIMIT: f64 = 9.0e18;

/// One non-empty cell as read from a workbook.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Raw {
    Int(i64),
    Float(f64),
    Text(Box<str>),
    Bool(bool),
    Date(ExcelDateTime),
    /// ISO date/time or duration text (ODS, xlsx `t="d"`).
    DateIso(Box<str>),
    Error(CellErrorType),
    /// A formula without a cached value; holds the formula text when known.
    FormulaNoValue(Box<str>),
}

// A sheet's cells are held at once (1.65 million for 50,000 rows × 33 columns):
// text as `Box<str>` keeps a cell at 24 bytes.
const _: () = assert!(std::mem::size_of::<Raw>() == 24);

impl Raw {
    /// Converts a calamine value; `None` for an empty cell.
    pub(crate) fn from_data(d: &Data) -> Option<Raw> {
        Some(match d {
            Data::Int(i) => Raw::Int(*i),
            Data::Float(f) => Raw::Float(*f),
            Data::String(s) => Raw::Text(s.as_str().into()),
            Data::Bool(b) => Raw::Bool(*b),
            Data::DateTime(d) => Raw::Date(*d),
            Data::DateTimeIso(s) | Data::DurationIso(s) => Raw::DateIso(s.as_str().into()),
            Data::Error(e) => Raw::Error(e.clone()),
            Data::Empty => return None,
        })
    }

    /// Converts a borrowed calamine value; `None` for an empty cell.
    pub(crate) fn from_data_ref(d: DataRef<'_>) -> Option<Raw> {
        Some(match d {
            DataRef::Int(i) => Raw::Int(i),
            DataRef::Float(f) => Raw::Float(f),
            DataRef::String(s) => Raw::Text(s.into()),
            DataRef::SharedString(s) => Raw::Text(s.into()),
            DataRef::Bool(b) => Raw::Bool(b),
            DataRef::DateTime(d) => Raw::Date(d),
            DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => Raw::DateIso(s.into()),
            DataRef::Error(e) => Raw::Error(e),
            DataRef::Empty => return None,
        })
    }

    /// True for text that is empty or only white space: such a cell is blank.
    pub(crate) fn is_blank(&self) -> bool {
        matches!(self, Raw::Text(s) if s.trim().is_empty())
    }

    /// The text of a text cell.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Raw::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The cell as the clerk sees it, for an issue's `value`: text as written
    /// (cut at `max_chars`), numbers without a spurious `.0`, dates as `YYYY-MM-DD`,
    /// errors as `#DIV/0!`, a formula as `=…`.
    pub(crate) fn display(&self, max_chars: usize) -> String {
        match self {
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => format_float(*f),
            Raw::Text(s) => truncate(s, max_chars),
            Raw::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
            Raw::Date(d) => format_date(d),
            Raw::DateIso(s) => truncate(s, max_chars),
            Raw::Error(e) => e.to_string(),
            Raw::FormulaNoValue(f) => {
                // ODS writes `of:=[.B2]+1`; xlsx stores the formula without `=`.
                let f = f.strip_prefix("of:").unwrap_or(f);
                match f {
                    "" => String::new(),
                    _ if f.starts_with('=') => truncate(f, max_chars),
                    _ => truncate(&format!("={f}"), max_chars),
                }
            }
        }
    }

    /// The cell read as a code or name: trimmed, full-width folded to half-width for
    /// codes, numbers as integers without `.0`. Empty text gives `""`.
    pub(crate) fn code_text(&self, max_chars: usize) -> String {
        match self {
            Raw::Text(s) => {
                let t = s.trim();
                let t = if t.is_ascii() {
                    t.to_string()
                } else {
                    to_half_width(t).trim().to_string()
                };
                truncate(&t, max_chars)
            }
            Raw::FormulaNoValue(_) => String::new(),
            other => other.display(max_chars),
        }
    }

    /// A unit name: trimmed text as written.
    pub(crate) fn name_text(&self, max_chars: usize) -> String {
        match self {
            Raw::Text(s) => truncate(s.trim(), max_chars),
            Raw::FormulaNoValue(_) => String::new(),
            other => other.display(max_chars),
        }
    }

    /// Reads a metric value with `decimals` places: `Ok(None)` for a blank cell
    /// ("not reported"), the scaled value, or why it cannot be read.
    pub(crate) fn metric(
        &self,
        decimals: u32,
        max_chars: usize,
    ) -> Result<Option<i64>, CellProblem> {
        match self {
            Raw::Int(i) => parse_number_int(*i, decimals),
            Raw::Float(f) => parse_number_float(*f, decimals),
            Raw::Text(s) => {
                // Byte length bounds char count from above: count only when needed.
                if s.len() > max_chars && s.chars().count() > max_chars {
                    return Err(CellProblem::NotANumber);
                }
                parse_number_text(s, decimals)
            }
            Raw::Bool(_) | Raw::Date(_) | Raw::DateIso(_) => Err(CellProblem::NotANumber),
            Raw::Error(_) => Err(CellProblem::ExcelError),
            Raw::FormulaNoValue(_) => Err(CellProblem::FormulaNoValue),
        }
    }
}

/// Cuts text at `max` characters, marking the cut with `…`.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

/// A float as Excel shows it in General format: `202610`, not `202610.0`.
pub(crate) fn format_float(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e17 {
        format!("{f:.0}")
    } else {
        format!("{f}")
    }
}

/// `YYYY-MM-DD`, with the time when it is not midnight.
pub(crate) fn format_date(d: &ExcelDateTime) -> String {
    let (y, m, day, h, min, s, _) = d.to_ymd_hms_milli();
    if d.is_duration() {
        return format_float(d.as_f64());
    }
    if (h, min, s) == (0, 0, 0) {
        format!("{y:04}-{m:02}-{day:02}")
    } else {
        format!("{y:04}-{m:02}-{day:02} {h:02}:{min:02}:{s:02}")
    }
}

/// An integer cell scaled by 10^decimals.
pub fn parse_number_int(value: i64, decimals: u32) -> Result<Option<i64>, CellProblem> {
    if value < 0 {
        return Err(CellProblem::Negative);
    }
    pow10(decimals)
        .and_then(|s| value.checked_mul(s))
        .map(Some)
        .ok_or(CellProblem::NotANumber)
}

/// A numeric (float) cell scaled by 10^decimals. It must lie on the decimal grid:
/// within 1e-6 (or a few ulps for huge values) of an integer after scaling.
pub fn parse_number_float(value: f64, decimals: u32) -> Result<Option<i64>, CellProblem> {
    if !value.is_finite() {
        return Err(CellProblem::NotANumber);
    }
    let scaled = value * 10f64.powi(decimals as i32);
    let rounded = scaled.round();
    if rounded.abs() >= F64_I64_LIMIT {
        return Err(if value < 0.0 {
            CellProblem::Negative
        } else {
            CellProblem::NotANumber
        });
    }
    if rounded < 0.0 {
        return Err(CellProblem::Negative);
    }
    let tolerance = 1e-6f64.max(scaled.abs() * 4.0 * f64::EPSILON);
    if (scaled - rounded).abs() > tolerance {
        return Err(if value < 0.0 {
            CellProblem::Negative
        } else {
            CellProblem::DecimalPlaces
        });
    }
    Ok(Some(rounded as i64))
}

/// A number typed as text, read exactly and scaled by 10^decimals.
///
/// Accepts white space around, full-width digits and punctuation, thousands
/// separators in correct groups of three (`1,234`, `1，234`), a leading `+`,
/// a decimal point, an exponent (`1.2E+04`), and a trailing `万` (×10^4) or `亿`
/// (×10^8). Blank text is `Ok(None)`.
pub fn parse_number_text(text: &str, decimals: u32) -> Result<Option<i64>, CellProblem> {
    let folded;
    let s = if text.is_ascii() {
        text
    } else {
        folded = to_half_width(text).replace('\u{2212}', "-");
        &folded
    };
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    if s.starts_with('#') && EXCEL_ERRORS.iter().any(|e| e.eq_ignore_ascii_case(s)) {
        return Err(CellProblem::ExcelError);
    }
    let (s, multiplier) = if let Some(r) = s.strip_suffix('万') {
        (r.trim_end(), 4i64)
    } else if let Some(r) = s.strip_suffix('亿') {
        (r.trim_end(), 8i64)
    } else {
        (s, 0)
    };
    let (negative, s) = match s.as_bytes().first() {
        Some(b'+') => (false, &s[1..]),
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(at) => (&s[..at], parse_exponent(&s[at + 1..])?),
        None => (s, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if !valid_integer_part(int_part) || !frac_part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CellProblem::NotANumber);
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(CellProblem::NotANumber);
    }
    // value = D × 10^(multiplier + exponent − |frac|), D = all digits.
    let digits = int_part
        .bytes()
        .filter(u8::is_ascii_digit)
        .chain(frac_part.bytes());
    let mut significant: Vec<u8> = digits.skip_while(|&b| b == b'0').collect();
    if significant.is_empty() {
        return Ok(Some(0));
    }
    if negative {
        return Err(CellProblem::Negative);
    }
    let mut shift = multiplier + exponent + i64::from(decimals) - frac_part.len() as i64;
    while shift < 0 && significant.last() == Some(&b'0') {
        significant.pop();
        shift += 1;
    }
    if shift < 0 {
        return Err(CellProblem::DecimalPlaces);
    }
    if significant.len() as i64 + shift > 19 {
        return Err(CellProblem::NotANumber);
    }
    let mut value: i64 = 0;
    for d in significant {
        value = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(i64::from(d - b'0')))
            .ok_or(CellProblem::NotANumber)?;
    }
    pow10(shift as u32)
        .and_then(|p| value.checked_mul(p))
        .map(Some)
        .ok_or(CellProblem::NotANumber)
}

/// Digits, optionally in thousands groups: `1234`, `1,234`, `12,345,678`; may be
/// empty (for `.5`).
fn valid_integer_part(s: &str) -> bool {
    if !s.contains(',') {
        return s.bytes().all(|b| b.is_ascii_digit());
    }
    let mut groups = s.split(',');
    let first = groups.next().unwrap_or("");
    (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && groups.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// `+04`, `-2`, `7`: at most three digits.
fn parse_exponent(s: &str) -> Result<i64, CellProblem> {
    let (sign, digits) = match s.as_bytes().first() {
        Some(b'+') => (1, &s[1..]),
        Some(b'-') => (-1, &s[1..]),
        _ => (1, s),
    };
    if digits.is_empty() || digits.len() > 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CellProblem::NotANumber);
    }
    digits
        .parse::<i64>()
        .map(|e| sign * e)
        .map_err(|_| CellProblem::NotANumber)
}

fn pow10(exp: u32) -> Option<i64> {
    10i64.checked_pow(exp)
}

#[cfg(test)]
mod tests {
    use super::CellProblem::*;
    use super::*;

    fn t(s: &str, d: u32) -> Result<Option<i64>, CellProblem> {
        parse_number_text(s, d)
    }

    #[test]
    fn blank_text_is_not_reported() {
        for s in ["", " ", "\t", "\u{3000}", " \u{a0} "] {
            assert_eq!(t(s, 0), Ok(None), "{s:?}");
        }
    }

    #[test]
    fn plain_and_padded_integers() {
        assert_eq!(t("1234", 0), Ok(Some(1234)));
        assert_eq!(t(" 1234 ", 0), Ok(Some(1234)));
        assert_eq!(t("+1234", 0), Ok(Some(1234)));
        assert_eq!(t("0", 0), Ok(Some(0)));
        assert_eq!(t("007", 0), Ok(Some(7)));
        assert_eq!(t("-0", 0), Ok(Some(0)));
        assert_eq!(t("1234.", 0), Ok(Some(1234)));
    }

    #[test]
    fn thousands_separators_half_and_full_width() {
        assert_eq!(t("1,234", 0), Ok(Some(1234)));
        assert_eq!(t("12,345,678", 0), Ok(Some(12_345_678)));
        assert_eq!(t("1，234", 0), Ok(Some(1234)));
        assert_eq!(t("1,234.50", 2), Ok(Some(123_450)));
        // Bad grouping could be a European decimal comma: refuse rather than guess.
        assert_eq!(t("1,5", 0), Err(NotANumber));
        assert_eq!(t("1234,567", 0), Err(NotANumber));
        assert_eq!(t(",123", 0), Err(NotANumber));
        assert_eq!(t("1,,234", 0), Err(NotANumber));
        assert_eq!(t("1.234,5", 0), Err(NotANumber));
    }

    #[test]
    fn full_width_digits_and_signs() {
        assert_eq!(t("１２３４", 0), Ok(Some(1234)));
        assert_eq!(t("　１２３４　", 0), Ok(Some(1234)));
        assert_eq!(t("１２．５", 2), Ok(Some(1250)));
        assert_eq!(t("＋５", 0), Ok(Some(5)));
        assert_eq!(t("－５", 0), Err(Negative));
        assert_eq!(t("\u{2212}5", 0), Err(Negative));
    }

    #[test]
    fn wan_and_yi() {
        assert_eq!(t("1.2万", 0), Ok(Some(12_000)));
        assert_eq!(t("1.2 万", 0), Ok(Some(12_000)));
        assert_eq!(t("3.5亿", 0), Ok(Some(350_000_000)));
        assert_eq!(t("3亿", 2), Ok(Some(30_000_000_000)));
        assert_eq!(t("1,000万", 0), Ok(Some(10_000_000)));
        assert_eq!(t("1.23456万", 0), Err(DecimalPlaces));
        assert_eq!(t("1.23456万", 2), Ok(Some(1_234_560)));
        assert_eq!(t("万", 0), Err(NotANumber));
        assert_eq!(t("-1万", 0), Err(Negative));
    }

    #[test]
    fn decimals_exact_without_floats() {
        assert_eq!(t("1234.56", 2), Ok(Some(123_456)));
        assert_eq!(t("0.1", 2), Ok(Some(10)));
        assert_eq!(t(".5", 2), Ok(Some(50)));
        assert_eq!(t("12.00", 0), Ok(Some(12)));
        assert_eq!(t("12.5", 0), Err(DecimalPlaces));
        assert_eq!(t("0.001", 2), Err(DecimalPlaces));
        assert_eq!(t("1.10", 1), Ok(Some(11)));
        // Exactness where f64 would drift: 0.29 * 100 = 28.999999999999996.
        assert_eq!(t("0.29", 2), Ok(Some(29)));
        assert_eq!(t("9007199254740993", 0), Ok(Some(9_007_199_254_740_993)));
    }

    #[test]
    fn exponents() {
        assert_eq!(t("1.2E+04", 0), Ok(Some(12_000)));
        assert_eq!(t("1e3", 0), Ok(Some(1000)));
        assert_eq!(t("15e-1", 0), Err(DecimalPlaces));
        assert_eq!(t("15e-1", 1), Ok(Some(15)));
        assert_eq!(t("1e", 0), Err(NotANumber));
        assert_eq!(t("1e9999", 0), Err(NotANumber));
    }

    #[test]
    fn rejections() {
        for s in [
            "abc", "12a", "1 234", "--5", "-", "/", "无", "N/A", "1.2.3", "12%", "(5)", "+-5", ".",
        ] {
            assert_eq!(t(s, 0), Err(NotANumber), "{s:?}");
        }
        assert_eq!(t("-5", 0), Err(Negative));
        assert_eq!(t("-1.5", 0), Err(Negative));
        assert_eq!(t("#DIV/0!", 0), Err(ExcelError));
        assert_eq!(t(" #n/a ", 0), Err(ExcelError));
    }

    #[test]
    fn overflow_is_not_a_number_not_a_panic() {
        assert_eq!(t("9223372036854775807", 0), Ok(Some(i64::MAX)));
        assert_eq!(t("9223372036854775808", 0), Err(NotANumber));
        assert_eq!(t("99999999999999999999999", 0), Err(NotANumber));
        assert_eq!(t("92233720368547758.07", 2), Ok(Some(i64::MAX)));
        assert_eq!(t("92233720368547758.08", 2), Err(NotANumber));
        assert_eq!(t("1亿亿", 0), Err(NotANumber));
        assert_eq!(t("9e18", 2), Err(NotANumber));
        let long = "1".repeat(5000);
        assert_eq!(t(&long, 0), Err(NotANumber));
        assert_eq!(t(&format!("0.{}", "0".repeat(5000)), 0), Ok(Some(0)));
    }

    #[test]
    fn floats_on_the_decimal_grid() {
        assert_eq!(parse_number_float(1234.0, 0), Ok(Some(1234)));
        assert_eq!(parse_number_float(1234.56, 2), Ok(Some(123_456)));
        assert_eq!(parse_number_float(0.1 + 0.2, 2), Ok(Some(30)));
        assert_eq!(parse_number_float(0.29, 2), Ok(Some(29)));
        assert_eq!(parse_number_float(12.5, 0), Err(DecimalPlaces));
        assert_eq!(parse_number_float(1.005, 2), Err(DecimalPlaces));
        assert_eq!(parse_number_float(-3.0, 0), Err(Negative));
        assert_eq!(parse_number_float(-0.5, 0), Err(Negative));
        assert_eq!(parse_number_float(-0.0, 0), Ok(Some(0)));
        assert_eq!(parse_number_float(f64::NAN, 0), Err(NotANumber));
        assert_eq!(parse_number_float(f64::INFINITY, 0), Err(NotANumber));
        assert_eq!(parse_number_float(1e19, 0), Err(NotANumber));
        assert_eq!(
            parse_number_float(12_345_678_901.23, 2),
            Ok(Some(1_234_567_890_123))
        );
    }

    #[test]
    fn integers_scale_and_check() {
        assert_eq!(parse_number_int(42, 0), Ok(Some(42)));
        assert_eq!(parse_number_int(42, 2), Ok(Some(4200)));
        assert_eq!(parse_number_int(-1, 0), Err(Negative));
        assert_eq!(parse_number_int(i64::MAX, 2), Err(NotANumber));
    }

    #[test]
    fn raw_cells_read_as_metrics_and_display() {
        assert_eq!(Raw::Text(" 1,234 ".into()).metric(0, 1000), Ok(Some(1234)));
        assert_eq!(
            Raw::Text("x".repeat(20).into()).metric(0, 10),
            Err(NotANumber)
        );
        assert_eq!(Raw::Bool(true).metric(0, 10), Err(NotANumber));
        assert_eq!(
            Raw::Error(CellErrorType::Div0).metric(0, 10),
            Err(ExcelError)
        );
        assert_eq!(Raw::Error(CellErrorType::Div0).display(10), "#DIV/0!");
        assert_eq!(
            Raw::FormulaNoValue("B5+C5".into()).metric(0, 10),
            Err(FormulaNoValue)
        );
        assert_eq!(Raw::FormulaNoValue("B5+C5".into()).display(100), "=B5+C5");
        assert_eq!(Raw::Float(202610.0).display(10), "202610");
        assert_eq!(Raw::Float(12.5).display(10), "12.5");
        assert_eq!(Raw::Float(330102001.0).code_text(10), "330102001");
        assert_eq!(Raw::Text(" ３３０１０２ ".into()).code_text(100), "330102");
        assert_eq!(Raw::Text("abcdef".into()).display(3), "abc…");
        let date = ExcelDateTime::new(46296.0, calamine::ExcelDateTimeType::DateTime, false);
        assert_eq!(Raw::Date(date).display(10), "2026-10-01");
        assert_eq!(Raw::Date(date).metric(0, 10), Err(NotANumber));
    }

    #[test]
    fn problems_name_their_rules() {
        assert_eq!(NotANumber.rule(), "not_a_number");
        assert_eq!(Negative.rule(), "negative_value");
        assert_eq!(DecimalPlaces.rule(), "decimal_places");
        assert_eq!(ExcelError.rule(), "excel_error");
        assert_eq!(FormulaNoValue.rule(), "formula_no_value");
    }
}
