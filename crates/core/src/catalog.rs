//! The catalogue: forms, metrics, indicators, rules and the aliases of Template v1, loaded
//! from TOML (`config/catalog.toml`). Strict: unknown keys, dangling references and
//! ambiguous aliases are errors at load time.
//!
//! A [`Catalog`] is one form's view: its metrics, indicators, rules and header
//! aliases. The view that [`Catalog::from_toml`] returns is the first form's,
//! `monthly` (Template v1), so everything written for Template v1 reads it as
//! before; [`Catalog::form`] gives the view of any other form, and
//! [`Catalog::stored_metrics`] the metric codes of every form (the warehouse
//! holds them all).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use crate::form::{Form, ItemRole, MONTHLY};
use crate::CodeMap;

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
    "item_invalid",
    "period_wrong_kind",
    "reconcile_mismatch",
    "form_mismatch",
    "form_not_stored",
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
    /// The form that carries the metric; absent: `monthly`.
    #[serde(default)]
    pub form: Option<String>,
    /// The monthly metric that measures the same thing (an annual survey's
    /// 会员人数 and the monthly 会员人数): an upload of this metric's form
    /// warns when the two differ by more than `reporting.reconcile_share` in
    /// the period's last month.
    #[serde(default)]
    pub reconciles_with: Option<String>,
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
    /// The form the indicator is answered for; absent: the numerator's form.
    #[serde(default)]
    pub form: Option<String>,
    /// For a denominator of another form with a shorter periodicity (a rate
    /// with an annual numerator over a monthly denominator): which month of
    /// the indicator's period the denominator is read from. Only `"last"`
    /// (the period's last month, e.g. September for a statistical year) is
    /// known; an indicator that spans forms of different periodicity must say it.
    #[serde(default)]
    pub denominator_month: Option<String>,
}

impl Indicator {
    /// Whether the denominator is read from another form's month.
    pub fn spans_forms(&self) -> bool {
        self.denominator_month.is_some()
    }
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
    /// The form whose rows the rule checks (`le`, `sum_eq`); absent: `monthly`.
    /// Built-in rules serve every form and take none.
    #[serde(default)]
    pub form: Option<String>,
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
    /// The forms; absent: `monthly` alone.
    #[serde(default)]
    forms: Vec<Form>,
    columns: Columns,
    sheets: Sheets,
    cover: CoverLabels,
    metrics: Vec<Metric>,
    #[serde(default)]
    indicators: Vec<Indicator>,
    #[serde(default)]
    rules: Vec<Rule>,
}

/// The parts of one form's view.
struct ViewParts {
    metrics: Vec<Metric>,
    indicators: Vec<Indicator>,
    rules: Vec<Rule>,
    sheets: Sheets,
    columns: Columns,
    cover: CoverLabels,
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
    /// A text cover item of the form carried as a column (904 组织类型):
    /// index into the form's `items`.
    Item(usize),
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

/// The validated catalogue, seen as one form, with its lookup tables.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The form this view is of.
    pub form: Form,
    /// This form's metrics.
    pub metrics: Vec<Metric>,
    pub indicators: Vec<Indicator>,
    pub rules: Vec<Rule>,
    pub sheets: Sheets,
    pub columns: Columns,
    pub cover: CoverLabels,
    metric_index: CodeMap<String, usize>,
    rule_index: CodeMap<String, usize>,
    headers: CodeMap<String, HeaderMeaning>,
    cover_labels: CodeMap<String, CoverField>,
    /// Every form's view (the first one's too), in catalogue order; empty in
    /// those views themselves.
    views: Arc<Vec<Catalog>>,
    /// Every form's metric codes, first form first, in catalogue order.
    stored: Arc<Vec<String>>,
}

/// A catalogue error in Chinese and English.
fn bilingual(zh: String, en: String) -> CatalogError {
    CatalogError::Invalid(format!("{zh} / {en}"))
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

    /// Checks the forms and what refers to them, then builds each form's view.
    fn build(mut raw: RawCatalog) -> Result<Catalog, CatalogError> {
        if raw.forms.is_empty() {
            raw.forms.push(Form::monthly());
        }
        let first = &raw.forms[0];
        if first.code != MONTHLY {
            return Err(bilingual(
                format!(
                    "第一个报表（[[forms]]）必须是 monthly（模板 v1），不是 {}",
                    first.code
                ),
                format!(
                    "the first [[forms]] must be monthly (Template v1), not {}",
                    first.code
                ),
            ));
        }
        let mut codes = HashSet::new();
        for f in &raw.forms {
            if !is_code(&f.code) {
                return Err(bilingual(
                    format!("报表代码 {:?} 只能由小写字母、数字和 _ 组成", f.code),
                    format!(
                        "form code {:?} must be lower-case letters, digits and _",
                        f.code
                    ),
                ));
            }
            if !codes.insert(f.code.as_str()) {
                return Err(bilingual(
                    format!("报表 {} 重复定义", f.code),
                    format!("form {} is defined twice", f.code),
                ));
            }
            if f.zh.trim().is_empty() || f.en.trim().is_empty() {
                return Err(bilingual(
                    format!("报表 {} 需要中文名（zh）和英文名（en）", f.code),
                    format!("form {} needs zh and en names", f.code),
                ));
            }
            if f.deadline_day.is_some_and(|d| !(1..=31).contains(&d)) {
                return Err(bilingual(
                    format!("报表 {} 的 deadline_day 应在 1 至 31 之间", f.code),
                    format!("form {}: deadline_day must be 1..=31", f.code),
                ));
            }
            if !(1..=12).contains(&f.deadline_months_after) {
                return Err(bilingual(
                    format!("报表 {} 的 deadline_months_after 应在 1 至 12 之间", f.code),
                    format!("form {}: deadline_months_after must be 1..=12", f.code),
                ));
            }
            let mut items = HashSet::new();
            for item in &f.items {
                if !items.insert(item.code.as_str()) {
                    return Err(bilingual(
                        format!("报表 {} 的封面项目 {} 重复定义", f.code, item.code),
                        format!("form {}: cover item {} is defined twice", f.code, item.code),
                    ));
                }
            }
        }
        let form_of = |what: (&str, &str),
                       code: &str,
                       form: &Option<String>|
         -> Result<String, CatalogError> {
            let f = form.clone().unwrap_or_else(|| MONTHLY.to_string());
            if codes.contains(f.as_str()) {
                Ok(f)
            } else {
                Err(bilingual(
                    format!("{} {code} 所属的报表 {f} 未定义", what.0),
                    format!("{} {code} names unknown form {f}", what.1),
                ))
            }
        };
        let mut metric_form: HashMap<&str, String> = HashMap::new();
        for m in &raw.metrics {
            let f = form_of(("指标项", "metric"), &m.code, &m.form)?;
            if metric_form.insert(m.code.as_str(), f).is_some() {
                return Err(bilingual(
                    format!("指标项 {} 重复定义", m.code),
                    format!("metric {} is defined twice", m.code),
                ));
            }
        }
        for m in &raw.metrics {
            let Some(other) = &m.reconciles_with else {
                continue;
            };
            if metric_form.get(other.as_str()).map(String::as_str) != Some(MONTHLY)
                || metric_form.get(m.code.as_str()).map(String::as_str) == Some(MONTHLY)
            {
                return Err(bilingual(
                    format!("指标项 {} 的 reconciles_with = {other:?} 应为月报的指标项，且 {} 本身不属于月报", m.code, m.code),
                    format!("metric {}: reconciles_with = {other:?} must name a metric of the monthly form, from a metric of another form", m.code),
                ));
            }
            if raw
                .metrics
                .iter()
                .any(|o| o.code == *other && o.decimals != m.decimals)
            {
                return Err(bilingual(
                    format!("指标项 {} 与 {other} 的小数位数不同，不能核对", m.code),
                    format!(
                        "metric {} and {other} differ in decimals and cannot be reconciled",
                        m.code
                    ),
                ));
            }
        }
        for f in &raw.forms {
            if let Some(other) = &f.rows_reconcile_with {
                if metric_form.get(other.as_str()).map(String::as_str) != Some(MONTHLY) {
                    return Err(bilingual(
                        format!("报表 {} 的 rows_reconcile_with = {other:?} 应为月报的指标项", f.code),
                        format!("form {}: rows_reconcile_with = {other:?} must name a metric of the monthly form", f.code),
                    ));
                }
            }
        }
        let periodicity = |f: &str| {
            raw.forms
                .iter()
                .find(|x| x.code == f)
                .map(|x| x.periodicity)
        };
        let mut indicator_form: HashMap<&str, String> = HashMap::new();
        for ind in &raw.indicators {
            let Some(num_form) = metric_form.get(ind.numerator.as_str()) else {
                return Err(CatalogError::Invalid(format!(
                    "indicator {} refers to unknown metric {}",
                    ind.code, ind.numerator
                )));
            };
            let Some(den_form) = metric_form.get(ind.denominator.as_str()) else {
                return Err(CatalogError::Invalid(format!(
                    "indicator {} refers to unknown metric {}",
                    ind.code, ind.denominator
                )));
            };
            let own = match &ind.form {
                Some(_) => form_of(("指标", "indicator"), &ind.code, &ind.form)?,
                None => num_form.clone(),
            };
            if own != *num_form {
                return Err(bilingual(
                    format!(
                        "指标 {} 属于报表 {own}，其分子 {} 却属于报表 {num_form}",
                        ind.code, ind.numerator
                    ),
                    format!(
                        "indicator {} is of form {own} but its numerator {} is of form {num_form}",
                        ind.code, ind.numerator
                    ),
                ));
            }
            match ind.denominator_month.as_deref() {
                None if periodicity(den_form) != periodicity(num_form) => {
                    return Err(bilingual(
                        format!(
                            "指标 {} 的分子（报表 {num_form}）与分母（报表 {den_form}）周期不同：请写明分母取哪个月（denominator_month = \"last\"）",
                            ind.code
                        ),
                        format!(
                            "indicator {}: numerator (form {num_form}) and denominator (form {den_form}) differ in periodicity; say which month the denominator is read from (denominator_month = \"last\")",
                            ind.code
                        ),
                    ));
                }
                None => {
                    if den_form != num_form {
                        return Err(bilingual(
                            format!("指标 {} 跨报表（{num_form} 与 {den_form}）：请写明 denominator_month = \"last\"", ind.code),
                            format!("indicator {} spans forms ({num_form} and {den_form}): state denominator_month = \"last\"", ind.code),
                        ));
                    }
                }
                Some("last") => {
                    if periodicity(den_form) != Some(crate::form::Periodicity::Month)
                        || den_form == num_form
                    {
                        return Err(bilingual(
                            format!("指标 {} 的 denominator_month 只用于分母属于另一个月报报表的情形", ind.code),
                            format!("indicator {}: denominator_month is only for a denominator of another, monthly form", ind.code),
                        ));
                    }
                    if !ind.aliases.is_empty() {
                        return Err(bilingual(
                            format!("跨报表的指标 {} 不能作为表内的列（aliases）", ind.code),
                            format!("indicator {} spans forms and cannot be a column of a sheet (aliases)", ind.code),
                        ));
                    }
                }
                Some(other) => {
                    return Err(bilingual(
                        format!("指标 {} 的 denominator_month = {other:?} 无效，只能是 \"last\"", ind.code),
                        format!("indicator {}: denominator_month = {other:?} is not known; use \"last\"", ind.code),
                    ));
                }
            }
            indicator_form.insert(ind.code.as_str(), own);
        }
        let mut rule_form: Vec<Option<String>> = Vec::with_capacity(raw.rules.len());
        for r in &raw.rules {
            match r.check {
                RuleCheck::Builtin => {
                    if r.form.is_some() {
                        return Err(bilingual(
                            format!("内置规则 {} 适用于所有报表，不能写 form", r.code),
                            format!(
                                "built-in rule {} serves every form and takes no form",
                                r.code
                            ),
                        ));
                    }
                    rule_form.push(None);
                }
                RuleCheck::Le | RuleCheck::SumEq => {
                    let f = form_of(("规则", "rule"), &r.code, &r.form)?;
                    for part in r.left.iter().chain(r.right.iter()) {
                        if let Some(mf) = metric_form.get(part.as_str()) {
                            if *mf != f {
                                return Err(bilingual(
                                    format!("规则 {} 属于报表 {f}，其指标项 {part} 却属于报表 {mf}", r.code),
                                    format!("rule {} is of form {f} but its metric {part} is of form {mf}", r.code),
                                ));
                            }
                        }
                    }
                    rule_form.push(Some(f));
                }
            }
        }
        let stored: Vec<String> = raw
            .forms
            .iter()
            .flat_map(|f| {
                raw.metrics
                    .iter()
                    .filter(|m| metric_form.get(m.code.as_str()) == Some(&f.code))
                    .map(|m| m.code.clone())
            })
            .collect();
        let all_metrics = raw.metrics.clone();
        let mut views = Vec::with_capacity(raw.forms.len());
        for form in &raw.forms {
            let metrics: Vec<Metric> = raw
                .metrics
                .iter()
                .filter(|m| metric_form.get(m.code.as_str()) == Some(&form.code))
                .cloned()
                .collect();
            let indicators: Vec<Indicator> = raw
                .indicators
                .iter()
                .filter(|i| indicator_form.get(i.code.as_str()) == Some(&form.code))
                .cloned()
                .collect();
            let rules: Vec<Rule> = raw
                .rules
                .iter()
                .zip(&rule_form)
                .filter(|(_, f)| f.as_ref().is_none_or(|f| *f == form.code))
                .map(|(r, _)| r.clone())
                .collect();
            let mut columns = raw.columns.clone();
            for item in &form.items {
                match item.role {
                    ItemRole::UnitCode => columns.unit_code.extend(item.headers()),
                    ItemRole::UnitName => columns.unit_name.extend(item.headers()),
                    ItemRole::Text => {}
                }
            }
            let mut sheets = raw.sheets.clone();
            if !form.recognise.sheets.is_empty() {
                sheets.units = form.recognise.sheets.clone();
            }
            let view = Catalog::build_view(
                form.clone(),
                ViewParts {
                    metrics,
                    indicators,
                    rules,
                    sheets,
                    columns,
                    cover: raw.cover.clone(),
                },
                &all_metrics,
            )
            .map_err(|e| match e {
                CatalogError::Invalid(m) if form.code != MONTHLY => {
                    CatalogError::Invalid(format!("form {}: {m}", form.code))
                }
                other => other,
            })?;
            views.push(view);
        }
        let views = Arc::new(views);
        let stored = Arc::new(stored);
        let mut first = views[0].clone();
        first.views = views;
        first.stored = stored;
        Ok(first)
    }

    /// One form's view: its metrics and indicators, the built-in rules and its
    /// own, the header aliases of its sheet.
    fn build_view(
        form: Form,
        parts: ViewParts,
        all_metrics: &[Metric],
    ) -> Result<Catalog, CatalogError> {
        let ViewParts {
            metrics,
            indicators,
            rules,
            sheets,
            columns,
            cover,
        } = parts;
        let raw = RawCatalog {
            forms: Vec::new(),
            columns,
            sheets,
            cover,
            metrics,
            indicators,
            rules,
        };
        let invalid = |m: String| Err(CatalogError::Invalid(m));
        if raw.metrics.is_empty() {
            return invalid(format!("no [[metrics]] of form {}", form.code));
        }
        let mut metric_index = CodeMap::default();
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
                let elsewhere = ind.spans_forms() && all_metrics.iter().any(|m| m.code == *part);
                if !known(part) && !elsewhere {
                    return invalid(format!(
                        "indicator {} refers to unknown metric {}",
                        ind.code, part
                    ));
                }
            }
        }

        let mut rule_index = CodeMap::default();
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

        let mut headers: CodeMap<String, HeaderMeaning> = CodeMap::default();
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
        for (i, item) in form.items.iter().enumerate() {
            if item.role == ItemRole::Text {
                for a in item.headers() {
                    add(&a, HeaderMeaning::Item(i))?;
                }
            }
        }

        for (i, ind) in raw.indicators.iter().enumerate() {
            if ind.spans_forms() {
                continue;
            }
            for a in [&ind.code, &ind.zh, &ind.en]
                .into_iter()
                .chain(ind.aliases.iter())
            {
                add(a, HeaderMeaning::Indicator(i))?;
            }
        }

        let mut cover_labels = CodeMap::default();
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
            form,
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
            views: Arc::default(),
            stored: Arc::default(),
        })
    }

    /// The view of form `code` (this one's when it is `code`).
    pub fn form(&self, code: &str) -> Option<&Catalog> {
        if self.form.code == code {
            return Some(self);
        }
        self.views.iter().find(|v| v.form.code == code)
    }

    /// Every form, first (`monthly`) first.
    pub fn forms(&self) -> Vec<&Form> {
        if self.views.is_empty() {
            return vec![&self.form];
        }
        self.views.iter().map(|v| &v.form).collect()
    }

    /// Every form's metric codes, first form first, in catalogue order: the
    /// metrics the warehouse keeps a column for.
    pub fn stored_metrics(&self) -> Vec<String> {
        if self.stored.is_empty() {
            return self.metrics.iter().map(|m| m.code.clone()).collect();
        }
        self.stored.to_vec()
    }

    /// A metric of any form.
    pub fn any_metric(&self, code: &str) -> Option<&Metric> {
        self.metric(code)
            .or_else(|| self.views.iter().find_map(|v| v.metric(code)))
    }

    /// The form a workbook is, from its sheet names and the texts of its
    /// cover (title, 表号): the first form (after `monthly`) that names one of
    /// them, else `monthly` when its units sheet is there. `None`: no form
    /// recognised.
    pub fn recognise(&self, sheet_names: &[&str], cover_texts: &[&str]) -> Option<&Form> {
        let forms = self.forms();
        let by_text = forms.iter().skip(1).find(|f| {
            sheet_names.iter().any(|s| f.names_sheet(s))
                || cover_texts.iter().any(|t| f.names_title(t))
        });
        if let Some(f) = by_text {
            return Some(f);
        }
        let monthly = self.form(MONTHLY)?;
        sheet_names
            .iter()
            .any(|s| monthly.is_units_sheet(s))
            .then_some(&monthly.form)
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

    /// The built-in catalogue without its forms and what belongs to the
    /// forms after the first: a catalogue written before forms existed.
    fn without_forms() -> String {
        let mut t: toml::Table = toml::from_str(BUILTIN_CATALOG).unwrap();
        t.remove("forms");
        for key in ["metrics", "indicators", "rules"] {
            if let Some(toml::Value::Array(items)) = t.get_mut(key) {
                items.retain(|i| {
                    i.get("form").is_none()
                        && i.get("denominator_month").is_none()
                        && !i
                            .get("numerator")
                            .and_then(|n| n.as_str())
                            .is_some_and(|n| n.starts_with("sy_"))
                });
            }
        }
        toml::to_string(&t).unwrap()
    }

    #[test]
    fn the_monthly_form_is_template_v1_and_two_more_ship() {
        let c = Catalog::builtin().unwrap();
        let codes: Vec<&str> = c.forms().iter().map(|f| f.code.as_str()).collect();
        assert_eq!(codes, vec!["monthly", "annual_survey", "service_half"]);
        assert_eq!(c.form.code, "monthly");
        assert!(std::ptr::eq(c.form("monthly").unwrap(), &c));
        // The monthly view is what it was before forms.
        let old = Catalog::from_toml(&without_forms()).unwrap();
        assert_eq!(old.forms().len(), 1);
        assert_eq!(old.form.code, "monthly");
        let codes = |c: &Catalog| c.metrics.iter().map(|m| m.code.clone()).collect::<Vec<_>>();
        assert_eq!(codes(&c), codes(&old));
        assert_eq!(c.indicators.len(), old.indicators.len());
        assert_eq!(c.rules.len(), old.rules.len());
        assert_eq!(old.stored_metrics().len(), 32);
        // Every form's metrics are stored, the monthly ones first.
        let stored = c.stored_metrics();
        assert_eq!(stored.len(), 32 + 15 + 14);
        assert_eq!(stored[..32], codes(&c)[..]);
        assert_eq!(stored[32], "sy_members");
        assert_eq!(stored[47], "sv_model_workers_visited");

        let annual = c.form("annual_survey").unwrap();
        assert_eq!(annual.form.periodicity, crate::form::Periodicity::StatYear);
        assert_eq!(annual.metrics.len(), 15);
        // The same header means the annual form's own metric in its view.
        assert_eq!(annual.header("会员人数"), Some(HeaderMeaning::Metric(0)));
        assert_eq!(
            c.header("会员人数"),
            Some(HeaderMeaning::Metric(c.metric_position("members").unwrap()))
        );
        assert_eq!(annual.header("901 统计代码"), Some(HeaderMeaning::UnitCode));
        assert_eq!(annual.header("统计代码"), Some(HeaderMeaning::UnitCode));
        assert_eq!(annual.header("902名称"), Some(HeaderMeaning::UnitName));
        assert_eq!(annual.header("904 组织类型"), Some(HeaderMeaning::Item(3)));
        assert_eq!(c.header("统计代码"), None);
        assert!(annual.is_units_sheet("基层工会调查表"));
        assert!(!annual.is_units_sheet("基层工会情况"));
        // Its own rules and every built-in one, none of the monthly form's.
        assert!(annual.rule("sy_members_le_employees").is_some());
        assert!(annual.rule("period_locked").is_some());
        assert!(annual.rule("members_le_employees").is_none());
        assert!(c.rule("sy_members_le_employees").is_none());
        // The rate that spans forms: annual numerator, September's monthly denominator.
        let span = annual
            .indicators
            .iter()
            .find(|i| i.code == "sy_women_committee_rate")
            .unwrap();
        assert_eq!(span.denominator_month.as_deref(), Some("last"));
        assert_eq!(c.any_metric(&span.denominator).unwrap().zh, "已建会单位数");
        assert_eq!(annual.header("女职工委员会建会率"), None);

        let service = c.form("service_half").unwrap();
        assert_eq!(
            service.form.reporter,
            crate::form::ReporterKind::FederationSelf
        );
        assert_eq!(service.metrics.len(), 14);
        assert!(c.form("weekly").is_none());
    }

    #[test]
    fn a_workbook_names_its_form_by_sheet_or_cover() {
        let c = Catalog::builtin().unwrap();
        let code =
            |sheets: &[&str], texts: &[&str]| c.recognise(sheets, texts).map(|f| f.code.clone());
        assert_eq!(
            code(&["封面", "基层工会情况"], &[]).as_deref(),
            Some("monthly")
        );
        assert_eq!(code(&["units"], &[]).as_deref(), Some("monthly"));
        assert_eq!(
            code(&["封面", "基层工会调查表"], &[]).as_deref(),
            Some("annual_survey")
        );
        assert_eq!(
            code(&["Sheet1"], &["2026年工会统计年报"]).as_deref(),
            Some("annual_survey")
        );
        assert_eq!(
            code(&["Sheet1"], &["工统基1表"]).as_deref(),
            Some("annual_survey")
        );
        assert_eq!(
            code(&["服务职工工作情况"], &[]).as_deref(),
            Some("service_half")
        );
        assert_eq!(code(&["Sheet1"], &["随便"]), None);
    }

    fn refused(text: &str) -> String {
        Catalog::from_toml(text).unwrap_err().to_string()
    }

    #[test]
    fn form_mistakes_are_refused_at_start_in_both_languages() {
        let err =
            refused(&BUILTIN_CATALOG.replacen("form = \"annual_survey\"", "form = \"annual\"", 1));
        assert!(
            err.contains("报表 annual 未定义") && err.contains("names unknown form annual"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen(
            "code = \"service_half\"",
            "code = \"annual_survey\"",
            1,
        ));
        assert!(
            err.contains("报表 annual_survey 重复定义")
                && err.contains("form annual_survey is defined twice"),
            "{err}"
        );
        let err =
            refused(&BUILTIN_CATALOG.replacen("code = \"monthly\"", "code = \"monthly_v1\"", 1));
        assert!(
            err.contains("必须是 monthly") && err.contains("must be monthly"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen(
            "code = \"sv_ankang_units\"",
            "code = \"members\"",
            1,
        ));
        assert!(
            err.contains("指标项 members 重复定义")
                && err.contains("metric members is defined twice"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen("denominator_month = \"last\"\n", "", 1));
        assert!(
            err.contains("周期不同") && err.contains("differ in periodicity"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen(
            "denominator_month = \"last\"",
            "denominator_month = \"first\"",
            1,
        ));
        assert!(
            err.contains("无效") && err.contains("is not known"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen(
            "right = [\"sy_members\"]",
            "right = [\"members\"]",
            1,
        ));
        assert!(
            err.contains("却属于报表 monthly") && err.contains("is of form monthly"),
            "{err}"
        );
        let err = refused(&BUILTIN_CATALOG.replacen(
            "periodicity = \"half_year\"",
            "periodicity = \"fortnight\"",
            1,
        ));
        assert!(err.contains("fortnight"), "{err}");
        let err = refused(&BUILTIN_CATALOG.replacen(
            "deadline_months_after = 2",
            "deadline_monts_after = 2",
            1,
        ));
        assert!(err.contains("deadline_monts_after"), "{err}");
        let err = refused(&BUILTIN_CATALOG.replacen(
            "values = [\"单独\", \"联合\"]",
            "values = [\"单独\", \"联合\"]\ncolour = 1",
            1,
        ));
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn scaled_values_format() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.metric("relief_yuan").unwrap().format(123405), "1234.05");
        assert_eq!(c.metric("members").unwrap().format(98), "98");
    }
}
