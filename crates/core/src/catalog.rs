//! The catalogue: metrics, indicators, rules and the aliases of Template v1, loaded
//! from TOML (`config/catalog.toml`). Strict: unknown keys, dangling references and
//! ambiguous aliases are errors at load time.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Deserialize;

use crate::issue::{Issue, Message, Severity};
use crate::text::normalise_header;

/// The catalogue shipped with unionstat.
pub const BUILTIN_CATALOG: &str = include_str!("../../../config/catalog.toml");

/// Built-in rules the code implements; the catalogue must give each one its
/// severity and words.
pub const BUILTIN_RULES: &[&str] = &[
    "unreadable",
    "too_large",
    "sheet_missing",
    "header_missing",
    "not_template",
    "unknown_column",
    "duplicate_column",
    "no_units",
    "no_figures",
    "nil_report_has_figures",
    "reporter_missing",
    "reporter_unknown",
    "reporter_out_of_scope",
    "cover_mismatch",
    "period_invalid",
    "period_missing",
    "period_future",
    "period_locked",
    "not_a_number",
    "negative_value",
    "decimal_places",
    "excel_error",
    "formula_no_value",
    "unit_code_missing",
    "unit_unknown",
    "unit_not_under_reporter",
    "duplicate_unit",
    "total_mismatch",
    "name_mismatch",
    "expected_unit_missing",
    "monthly_change",
    "outlier",
    "rate_mismatch",
    "explanation_too_long",
];

/// Built-in rules whose findings each name one cell of one unit's row, so a
/// clerk can explain them (besides every `le` and `sum_eq` rule): only these
/// may take `severity = "explain"`.
pub const EXPLAINABLE_BUILTINS: &[&str] = &["monthly_change", "outlier", "rate_mismatch"];

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("catalogue is not valid TOML or has an unknown key: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("catalogue: {0}")]
    Invalid(String),
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetricKind {
    /// A period-end figure (期末数): over time, the last month counts.
    Stock,
    /// A figure for the month (累计数): over time, months add up.
    Flow,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub kind: MetricKind,
    /// Decimal places allowed: 0 for counts, 2 for yuan. Values are stored as
    /// integers scaled by 10^decimals, so sums are exact.
    #[serde(default)]
    pub decimals: u32,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub help_zh: String,
    #[serde(default)]
    pub help_en: String,
}

impl Metric {
    /// 10^decimals.
    pub fn scale(&self) -> i64 {
        10i64.pow(self.decimals)
    }

    /// Formats a scaled integer as the clerk would write it.
    pub fn format(&self, scaled: i64) -> String {
        if self.decimals == 0 {
            return scaled.to_string();
        }
        let scale = self.scale();
        let sign = if scaled < 0 { "-" } else { "" };
        let abs = scaled.unsigned_abs();
        format!(
            "{sign}{}.{:0width$}",
            abs / scale as u64,
            abs % scale as u64,
            width = self.decimals as usize
        )
    }

    /// A scaled integer as a JSON-friendly number (yuan as a decimal).
    pub fn to_f64(&self, scaled: i64) -> f64 {
        scaled as f64 / self.scale() as f64
    }

    /// "会员人数 (Members)" for messages that must name the column.
    pub fn label(&self) -> (String, String) {
        (self.zh.clone(), self.en.clone())
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    pub code: String,
    pub zh: String,
    pub en: String,
    pub numerator: String,
    pub denominator: String,
    /// Header aliases of a rate column a clerk may add (code, zh and en count
    /// too); such a column is cross-checked against the row's own figures.
    #[serde(default)]
    pub aliases: Vec<String>,
    /// What the indicator measures and how it differs from its neighbours
    /// (e.g. the two definitions of 入会率), in Chinese and English.
    #[serde(default)]
    pub note_zh: String,
    #[serde(default)]
    pub note_en: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleCheck {
    /// left <= sum(right), per row.
    Le,
    /// left = sum(right), per row.
    SumEq,
    /// Implemented in code.
    Builtin,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub code: String,
    /// A short name of the rule, for headings: `会员人数不超过职工人数`.
    pub title_zh: String,
    pub title_en: String,
    pub check: RuleCheck,
    #[serde(default)]
    pub left: Option<String>,
    #[serde(default)]
    pub right: Vec<String>,
    pub severity: Severity,
    pub zh: String,
    pub en: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub unit_code: Vec<String>,
    pub unit_name: Vec<String>,
    /// The 说明 column: one text per row explaining that row's findings of
    /// explain-severity rules. Not a metric, not an unknown column.
    #[serde(default)]
    pub explanation: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sheets {
    pub cover: Vec<String>,
    pub units: Vec<String>,
    pub total_labels: Vec<String>,
    pub note_prefixes: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CoverLabels {
    pub reporter_code: Vec<String>,
    pub reporter_name: Vec<String>,
    pub period: Vec<String>,
    pub preparer: Vec<String>,
    pub phone: Vec<String>,
    pub date: Vec<String>,
    /// 电子邮箱: the preparer's email (optional line).
    #[serde(default)]
    pub email: Vec<String>,
    /// 零报告: a line whose value 是/yes declares a report with no figures.
    #[serde(default)]
    pub nil_report: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    columns: Columns,
    sheets: Sheets,
    cover: CoverLabels,
    metrics: Vec<Metric>,
    #[serde(default)]
    indicators: Vec<Indicator>,
    #[serde(default)]
    rules: Vec<Rule>,
}

/// What a normalised header of the units sheet means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderMeaning {
    UnitCode,
    UnitName,
    /// Index into [`Catalog::metrics`].
    Metric(usize),
    /// A rate column the clerk computed; index into [`Catalog::indicators`].
    Indicator(usize),
    /// The 说明 column: the row's explanation of its explain-severity findings.
    Explanation,
}

/// Which cover field a normalised label names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CoverField {
    ReporterCode,
    ReporterName,
    Period,
    Preparer,
    Phone,
    Date,
    Email,
    NilReport,
}

/// The validated catalogue with its lookup tables.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub metrics: Vec<Metric>,
    pub indicators: Vec<Indicator>,
    pub rules: Vec<Rule>,
    pub sheets: Sheets,
    pub columns: Columns,
    pub cover: CoverLabels,
    metric_index: HashMap<String, usize>,
    rule_index: HashMap<String, usize>,
    headers: HashMap<String, HeaderMeaning>,
    cover_labels: HashMap<String, CoverField>,
}

impl Catalog {
    /// The catalogue shipped in `config/catalog.toml`.
    pub fn builtin() -> Result<Catalog, CatalogError> {
        Catalog::from_toml(BUILTIN_CATALOG)
    }

    pub fn from_toml(text: &str) -> Result<Catalog, CatalogError> {
        let raw: RawCatalog = toml::from_str(text)?;
        Catalog::build(raw)
    }

    fn build(raw: RawCatalog) -> Result<Catalog, CatalogError> {
        let invalid = |m: String| Err(CatalogError::Invalid(m));
        if raw.metrics.is_empty() {
            return invalid("no [[metrics]]".into());
        }
        let mut metric_index = HashMap::new();
        for (i, m) in raw.metrics.iter().enumerate() {
            if !is_code(&m.code) {
                return invalid(format!(
                    "metric code {:?} must be lower-case letters, digits and _",
                    m.code
                ));
            }
            if m.decimals > 4 {
                return invalid(format!("metric {}: decimals must be 0..=4", m.code));
            }
            if metric_index.insert(m.code.clone(), i).is_some() {
                return invalid(format!("metric {} is defined twice", m.code));
            }
        }
        let known = |code: &str| metric_index.contains_key(code);

        let mut seen = HashSet::new();
        for ind in &raw.indicators {
            if !seen.insert(ind.code.clone()) {
                return invalid(format!("indicator {} is defined twice", ind.code));
            }
            for part in [&ind.numerator, &ind.denominator] {
                if !known(part) {
                    return invalid(format!(
                        "indicator {} refers to unknown metric {}",
                        ind.code, part
                    ));
                }
            }
        }

        let mut rule_index = HashMap::new();
        for (i, r) in raw.rules.iter().enumerate() {
            if rule_index.insert(r.code.clone(), i).is_some() {
                return invalid(format!("rule {} is defined twice", r.code));
            }
            if r.title_zh.trim().is_empty() || r.title_en.trim().is_empty() {
                return invalid(format!("rule {} needs title_zh and title_en", r.code));
            }
            let per_row = match r.check {
                RuleCheck::Builtin => EXPLAINABLE_BUILTINS.contains(&r.code.as_str()),
                RuleCheck::Le | RuleCheck::SumEq => true,
            };
            if r.severity == Severity::Explain && !per_row {
                return invalid(format!(
                    "rule {} cannot take severity = \"explain\": only a rule whose findings name one unit's cell can be explained (check = \"le\" or \"sum_eq\", or the built-in {})",
                    r.code,
                    EXPLAINABLE_BUILTINS.join(", ")
                ));
            }
            match r.check {
                RuleCheck::Builtin => {
                    if !BUILTIN_RULES.contains(&r.code.as_str()) {
                        return invalid(format!(
                            "rule {} says check = \"builtin\" but no such built-in rule exists (known: {})",
                            r.code,
                            BUILTIN_RULES.join(", ")
                        ));
                    }
                }
                RuleCheck::Le | RuleCheck::SumEq => {
                    let Some(left) = &r.left else {
                        return invalid(format!("rule {} needs left = \"metric\"", r.code));
                    };
                    if r.right.is_empty() {
                        return invalid(format!("rule {} needs right = [\"metric\", …]", r.code));
                    }
                    for part in std::iter::once(left).chain(r.right.iter()) {
                        if !known(part) {
                            return invalid(format!(
                                "rule {} refers to unknown metric {}",
                                r.code, part
                            ));
                        }
                    }
                }
            }
        }
        for b in BUILTIN_RULES {
            if !rule_index.contains_key(*b) {
                return invalid(format!(
                    "built-in rule {b} is missing: add a [[rules]] block with check = \"builtin\""
                ));
            }
        }

        let mut headers: HashMap<String, HeaderMeaning> = HashMap::new();
        let mut add = |alias: &str, meaning: HeaderMeaning| -> Result<(), CatalogError> {
            let key = normalise_header(alias);
            if key.is_empty() {
                return Err(CatalogError::Invalid(format!(
                    "empty header alias {alias:?}"
                )));
            }
            match headers.get(&key) {
                Some(existing) if *existing != meaning => Err(CatalogError::Invalid(format!(
                    "header alias {alias:?} is claimed twice ({existing:?} and {meaning:?})"
                ))),
                _ => {
                    headers.insert(key, meaning);
                    Ok(())
                }
            }
        };
        for a in &raw.columns.unit_code {
            add(a, HeaderMeaning::UnitCode)?;
        }
        for a in &raw.columns.unit_name {
            add(a, HeaderMeaning::UnitName)?;
        }
        for a in &raw.columns.explanation {
            add(a, HeaderMeaning::Explanation)?;
        }
        for (i, m) in raw.metrics.iter().enumerate() {
            for a in [&m.code, &m.zh, &m.en].into_iter().chain(m.aliases.iter()) {
                add(a, HeaderMeaning::Metric(i))?;
            }
        }

        for (i, ind) in raw.indicators.iter().enumerate() {
            for a in [&ind.code, &ind.zh, &ind.en]
                .into_iter()
                .chain(ind.aliases.iter())
            {
                add(a, HeaderMeaning::Indicator(i))?;
            }
        }

        let mut cover_labels = HashMap::new();
        let c = &raw.cover;
        for (field, list) in [
            (CoverField::ReporterCode, &c.reporter_code),
            (CoverField::ReporterName, &c.reporter_name),
            (CoverField::Period, &c.period),
            (CoverField::Preparer, &c.preparer),
            (CoverField::Phone, &c.phone),
            (CoverField::Date, &c.date),
            (CoverField::Email, &c.email),
            (CoverField::NilReport, &c.nil_report),
        ] {
            for label in list {
                if let Some(prev) = cover_labels.insert(normalise_header(label), field) {
                    if prev != field {
                        return invalid(format!("cover label {label:?} is claimed twice"));
                    }
                }
            }
        }

        Ok(Catalog {
            metrics: raw.metrics,
            indicators: raw.indicators,
            rules: raw.rules,
            sheets: raw.sheets,
            columns: raw.columns,
            cover: raw.cover,
            metric_index,
            rule_index,
            headers,
            cover_labels,
        })
    }

    pub fn metric(&self, code: &str) -> Option<&Metric> {
        self.metric_index.get(code).map(|&i| &self.metrics[i])
    }

    pub fn metric_position(&self, code: &str) -> Option<usize> {
        self.metric_index.get(code).copied()
    }

    pub fn rule(&self, code: &str) -> Option<&Rule> {
        self.rule_index.get(code).map(|&i| &self.rules[i])
    }

    /// A rule's short title in both languages, to head its issues.
    pub fn rule_title(&self, code: &str) -> Option<Message> {
        self.rule(code).map(|r| Message {
            zh: r.title_zh.clone(),
            en: r.title_en.clone(),
        })
    }

    /// What a raw header cell means, after normalisation.
    pub fn header(&self, raw: &str) -> Option<HeaderMeaning> {
        self.headers.get(&normalise_header(raw)).cloned()
    }

    /// Which cover field a raw label names, after normalisation.
    pub fn cover_field(&self, raw: &str) -> Option<CoverField> {
        self.cover_labels.get(&normalise_header(raw)).copied()
    }

    fn sheet_matches(list: &[String], name: &str) -> bool {
        let n = normalise_header(name);
        list.iter().any(|a| normalise_header(a) == n)
    }

    pub fn is_cover_sheet(&self, name: &str) -> bool {
        Self::sheet_matches(&self.sheets.cover, name)
    }

    pub fn is_units_sheet(&self, name: &str) -> bool {
        Self::sheet_matches(&self.sheets.units, name)
    }

    /// A first-column label of a total row (合计, 总计, total).
    pub fn is_total_label(&self, raw: &str) -> bool {
        let n = normalise_header(raw);
        !n.is_empty()
            && self
                .sheets
                .total_labels
                .iter()
                .any(|a| normalise_header(a) == n)
    }

    /// A trailing note (填表说明…) that ends the data.
    pub fn is_note(&self, raw: &str) -> bool {
        let n = normalise_header(raw);
        !n.is_empty()
            && self
                .sheets
                .note_prefixes
                .iter()
                .any(|p| n.starts_with(&normalise_header(p)))
    }

    /// Builds an issue for `rule`, filling the rule's zh/en templates with `params`
    /// (and {sheet}, {cell}, {value}). A rule missing from the catalogue still yields
    /// an error naming it, so no finding is ever dropped.
    pub fn issue(
        &self,
        rule: &str,
        sheet: Option<&str>,
        cell: Option<&str>,
        value: Option<&str>,
        params: &[(&str, &str)],
    ) -> Issue {
        let mut all: BTreeMap<&str, &str> = params.iter().copied().collect();
        all.insert("sheet", sheet.unwrap_or(""));
        all.insert("cell", cell.unwrap_or(""));
        all.insert("value", value.unwrap_or(""));
        let (severity, zh, en) = match self.rule(rule) {
            Some(r) => (r.severity, fill(&r.zh, &all), fill(&r.en, &all)),
            None => (Severity::Error, rule.to_string(), rule.to_string()),
        };
        let place = match (sheet, cell) {
            (Some(s), Some(c)) => Some(format!("{s}!{c}")),
            (Some(s), None) => Some(s.to_string()),
            _ => None,
        };
        let (zh, en) = match place {
            Some(p) => (format!("{p}：{zh}"), format!("{p}: {en}")),
            None => (zh, en),
        };
        Issue {
            severity,
            rule: rule.to_string(),
            sheet: sheet.map(str::to_string),
            cell: cell.map(str::to_string),
            value: value.map(str::to_string),
            message: Message { zh, en },
            unit: None,
            explanation: None,
        }
    }

    /// Like [`Catalog::issue`] with parameters that have a text per language:
    /// each `(name, text)` fills {name} with `text.zh` in zh and `text.en` in en.
    pub fn bilingual_issue(
        &self,
        rule: &str,
        sheet: Option<&str>,
        cell: Option<&str>,
        value: Option<&str>,
        params: &[(&str, &str)],
        texts: &[(&str, &Message)],
    ) -> Issue {
        let with = |pick: fn(&Message) -> &str| {
            let mut all: Vec<(&str, &str)> = params.to_vec();
            all.extend(texts.iter().map(|(name, text)| (*name, pick(text))));
            all
        };
        self.issue_per_language(rule, sheet, cell, value, &with(|m| &m.zh), &with(|m| &m.en))
    }

    /// Like [`Catalog::issue`] with one parameter list for the zh message and one
    /// for the en message (the other fields come from the zh call).
    pub fn issue_per_language(
        &self,
        rule: &str,
        sheet: Option<&str>,
        cell: Option<&str>,
        value: Option<&str>,
        zh: &[(&str, &str)],
        en: &[(&str, &str)],
    ) -> Issue {
        let mut issue = self.issue(rule, sheet, cell, value, zh);
        issue.message.en = self.issue(rule, sheet, cell, value, en).message.en;
        issue
    }

    /// Like [`Catalog::issue`] for a rule whose message names one metric: fills
    /// {metric} with the metric's Chinese label in zh and English label in en.
    pub fn metric_issue(
        &self,
        rule: &str,
        metric: &Metric,
        sheet: Option<&str>,
        cell: Option<&str>,
        value: Option<&str>,
        params: &[(&str, &str)],
    ) -> Issue {
        let label = Message {
            zh: metric.zh.clone(),
            en: metric.en.clone(),
        };
        self.bilingual_issue(rule, sheet, cell, value, params, &[("metric", &label)])
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Replaces `{name}` with its value; unknown placeholders stay as written.
fn fill(template: &str, params: &BTreeMap<&str, &str>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let key = &after[..close];
                match params.get(key) {
                    Some(v) => out.push_str(v),
                    None => {
                        out.push('{');
                        out.push_str(key);
                        out.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_loads_with_the_design_metrics() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.metrics.len(), 32);
        assert_eq!(c.metric("members").unwrap().zh, "会员人数");
        assert_eq!(c.metric("relief_yuan").unwrap().decimals, 2);
        assert_eq!(c.metric("new_members").unwrap().kind, MetricKind::Flow);
        let members = c.metric_position("members").unwrap();
        for alias in [
            "会员人数",
            "会员数",
            "工会会员数",
            "Members",
            "members",
            "会员人数（人）",
        ] {
            assert_eq!(
                c.header(alias),
                Some(HeaderMeaning::Metric(members)),
                "{alias}"
            );
        }
        let employees = c.metric_position("employees").unwrap();
        assert_eq!(c.header("职工数"), Some(HeaderMeaning::Metric(employees)));
        assert_eq!(c.header("组织代码"), Some(HeaderMeaning::UnitCode));
        assert_eq!(c.header("工会名称"), Some(HeaderMeaning::UnitName));
        assert_eq!(
            c.header("劳动争议涉及金额(元)"),
            Some(HeaderMeaning::Metric(
                c.metric_position("dispute_amount_yuan").unwrap()
            ))
        );
        assert_eq!(c.cover_field("报告期"), Some(CoverField::Period));
        assert!(c.is_total_label("合计") && c.is_total_label("总 计"));
        assert!(c.is_note("填表说明：1.本表…"));
        assert_eq!(c.indicators.len(), 11);
    }

    #[test]
    fn unknown_key_and_dangling_reference_are_named() {
        let bad = BUILTIN_CATALOG.replacen("kind = \"stock\"", "knd = \"stock\"", 1);
        let err = Catalog::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("knd"), "{err}");
        let bad = BUILTIN_CATALOG.replacen("numerator = \"members\"", "numerator = \"memberz\"", 1);
        let err = Catalog::from_toml(&bad).unwrap_err().to_string();
        assert!(err.contains("memberz"), "{err}");
    }

    #[test]
    fn a_new_metric_needs_only_config() {
        let extra = format!(
            "{BUILTIN_CATALOG}\n[[metrics]]\ncode = \"retirees\"\nzh = \"退休职工人数\"\nen = \"Retirees\"\nkind = \"stock\"\n"
        );
        let c = Catalog::from_toml(&extra).unwrap();
        assert_eq!(c.metrics.len(), 33);
        assert_eq!(
            c.header("退休职工人数（人）"),
            Some(HeaderMeaning::Metric(32))
        );
    }

    #[test]
    fn issues_fill_templates_in_both_languages() {
        let c = Catalog::builtin().unwrap();
        let m = c.metric("members").unwrap();
        let i = c.metric_issue(
            "not_a_number",
            m,
            Some("基层工会情况"),
            Some("F4"),
            Some("abc"),
            &[],
        );
        assert_eq!(i.severity, Severity::Error);
        assert!(i.message.zh.contains("基层工会情况!F4") && i.message.zh.contains("会员人数"));
        assert!(i.message.en.contains("Members") && i.message.en.contains("\"abc\""));
    }

    #[test]
    fn every_rule_has_a_short_title_in_both_languages() {
        let c = Catalog::builtin().unwrap();
        let r = c.rule("members_le_employees").unwrap();
        assert_eq!(
            (r.title_zh.as_str(), r.title_en.as_str()),
            ("会员人数不超过职工人数", "Members ≤ employees")
        );
        for r in &c.rules {
            assert!(
                r.title_zh.chars().count() <= 20,
                "{}: {}",
                r.code,
                r.title_zh
            );
            assert!(r.title_en.len() <= 50, "{}: {}", r.code, r.title_en);
        }
        let untitled = BUILTIN_CATALOG.replacen(
            "title_zh = \"会员人数不超过职工人数\"",
            "title_zh = \"\"",
            1,
        );
        let err = Catalog::from_toml(&untitled).unwrap_err().to_string();
        assert!(err.contains("members_le_employees needs title_zh"), "{err}");
    }

    #[test]
    fn scaled_values_format() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.metric("relief_yuan").unwrap().format(123405), "1234.05");
        assert_eq!(c.metric("members").unwrap().format(98), "98");
    }
}
