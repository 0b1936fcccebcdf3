//! One finding about a submission: which rule, where, what, and how to fix it.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Blocks acceptance.
    Error,
    /// Reported; the submission is accepted.
    Warning,
    /// A figure that may be right although it breaks the rule (a merger makes
    /// a unit's employees double): accepted only with the submitter's
    /// explanation (说明), which the reviewer sees. Unexplained, it blocks
    /// acceptance as an error does.
    Explain,
}

/// Where an explanation came from.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplanationSource {
    /// The 说明 column of the finding's row in the workbook.
    Column,
    /// Given with the upload for this finding (rule and cell).
    Upload,
}

/// The submitter's explanation (说明) of a finding of an explain-severity rule.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    pub text: String,
    pub source: ExplanationSource,
    /// The 说明 cell it was read from (`K3`), for one from the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_cell: Option<String>,
    /// The unit code of the finding's row, as typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// The metric of the finding's cell.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub zh: String,
    pub en: String,
}

/// The wire shape of DESIGN.md: `{"severity","rule","sheet","cell","value","message"}`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    pub severity: Severity,
    pub rule: String,
    pub sheet: Option<String>,
    pub cell: Option<String>,
    pub value: Option<String>,
    pub message: Message,
    /// The unit of the row the issue's cell lies in, for a cell of a unit row
    /// of the units sheet; absent for anything else.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<IssueUnit>,
    /// The submitter's explanation, for a finding of an explain-severity rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
}

/// The unit a finding is about: its code as typed and, for one of the
/// reporter's own units, its name as typed. A unit elsewhere carries its code
/// alone, so it reads exactly like a code that exists nowhere.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IssueUnit {
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl IssueUnit {
    /// `510104001002 甲公司工会`, or the code alone.
    pub fn label(&self) -> String {
        match &self.name {
            Some(name) => format!("{} {name}", self.code),
            None => self.code.clone(),
        }
    }
}

impl Issue {
    /// Whether the finding blocks acceptance: an error, or a finding of an
    /// explain-severity rule without its explanation.
    pub fn is_error(&self) -> bool {
        match self.severity {
            Severity::Error => true,
            Severity::Warning => false,
            Severity::Explain => self.explanation.is_none(),
        }
    }

    /// A finding of an explain-severity rule still waiting for its explanation.
    pub fn needs_explanation(&self) -> bool {
        self.severity == Severity::Explain && self.explanation.is_none()
    }
}

/// Counts the findings that block acceptance (errors and unexplained
/// explain-severity findings).
pub fn error_count(issues: &[Issue]) -> usize {
    issues.iter().filter(|i| i.is_error()).count()
}

/// The issues of one rule in a report: how many there are, how many an answer
/// lists, and the rule's short title to head them.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCount {
    pub rule: String,
    pub severity: Severity,
    /// The rule's short title (`title_zh`, `title_en` of the catalogue).
    pub title: Message,
    /// Issues of the rule in the report.
    pub count: usize,
    /// Of them, listed in the answer (the first ones, in report order).
    pub listed: usize,
    /// What is left out, `另有 4,980 条未列出…` / `4,980 more not listed…`;
    /// absent when every issue of the rule is listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more: Option<Message>,
}

/// The first `per_rule` issues of each rule (every issue when `per_rule` is 0),
/// in report order, with the count of each rule: errors first, then findings
/// to explain, then warnings, each the rules with most issues first. `title` gives a rule's short title (None: the rule code in
/// both languages). The annotated workbook is made from every issue; an answer
/// that a person reads lists a bounded number.
pub fn cap_per_rule(
    issues: &[Issue],
    per_rule: usize,
    title: impl Fn(&str) -> Option<Message>,
) -> (Vec<Issue>, Vec<RuleCount>) {
    let mut counts: Vec<RuleCount> = Vec::new();
    let mut index: std::collections::HashMap<(&str, Severity), usize> =
        std::collections::HashMap::new();
    let mut listed = Vec::new();
    for issue in issues {
        let at = *index
            .entry((issue.rule.as_str(), issue.severity))
            .or_insert_with(|| {
                counts.push(RuleCount {
                    rule: issue.rule.clone(),
                    severity: issue.severity,
                    title: title(&issue.rule).unwrap_or_else(|| Message {
                        zh: issue.rule.clone(),
                        en: issue.rule.clone(),
                    }),
                    count: 0,
                    listed: 0,
                    more: None,
                });
                counts.len() - 1
            });
        let c = &mut counts[at];
        c.count += 1;
        if per_rule == 0 || c.listed < per_rule {
            c.listed += 1;
            listed.push(issue.clone());
        }
    }
    for c in &mut counts {
        let left = c.count - c.listed;
        if left > 0 {
            let n = crate::text::thousands(left as u64);
            c.more = Some(Message {
                zh: format!("另有 {n} 条未列出；标注问题的工作簿列有全部问题。"),
                en: format!("{n} more not listed; the annotated workbook marks them all."),
            });
        }
    }
    let rank = |s: Severity| match s {
        Severity::Error => 0,
        Severity::Explain => 1,
        Severity::Warning => 2,
    };
    counts.sort_by_key(|c| (rank(c.severity), std::cmp::Reverse(c.count)));
    (listed, counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issue(rule: &str, severity: Severity, cell: &str) -> Issue {
        Issue {
            severity,
            rule: rule.into(),
            sheet: Some("基层工会情况".into()),
            cell: Some(cell.into()),
            value: None,
            message: Message {
                zh: cell.into(),
                en: cell.into(),
            },
            unit: None,
            explanation: None,
        }
    }

    #[test]
    fn cap_per_rule_lists_the_first_of_each_rule_and_counts_them_all() {
        let mut issues = Vec::new();
        for r in 0..5_000 {
            issues.push(issue(
                "unit_unknown",
                Severity::Error,
                &format!("A{}", r + 4),
            ));
        }
        issues.push(issue("name_mismatch", Severity::Warning, "B4"));
        issues.push(issue("members_le_employees", Severity::Error, "F9"));
        issues.push(issue("monthly_change", Severity::Explain, "E5"));
        let title = |rule: &str| {
            (rule == "unit_unknown").then(|| Message {
                zh: "单位代码不在组织机构库".into(),
                en: "Unit code not in master data".into(),
            })
        };
        let (listed, counts) = cap_per_rule(&issues, 20, title);
        assert_eq!(listed.len(), 23);
        assert_eq!(listed[0].cell.as_deref(), Some("A4"));
        assert_eq!(listed[19].cell.as_deref(), Some("A23"));
        assert_eq!(listed[20].rule, "name_mismatch");
        let rules: Vec<(&str, usize, usize)> = counts
            .iter()
            .map(|c| (c.rule.as_str(), c.count, c.listed))
            .collect();
        assert_eq!(
            rules,
            [
                ("unit_unknown", 5_000, 20),
                ("members_le_employees", 1, 1),
                ("monthly_change", 1, 1),
                ("name_mismatch", 1, 1)
            ]
        );
        assert_eq!(counts[0].title.zh, "单位代码不在组织机构库");
        assert_eq!(counts[1].title.en, "members_le_employees");
        let more = counts[0].more.as_ref().unwrap();
        assert_eq!(
            more.zh,
            "另有 4,980 条未列出；标注问题的工作簿列有全部问题。"
        );
        assert_eq!(
            more.en,
            "4,980 more not listed; the annotated workbook marks them all."
        );
        assert_eq!(counts[1].more, None);

        let (all, counts) = cap_per_rule(&issues, 0, title);
        assert_eq!(all.len(), 5_003);
        assert!(counts
            .iter()
            .all(|c| c.more.is_none() && c.listed == c.count));
    }
}
