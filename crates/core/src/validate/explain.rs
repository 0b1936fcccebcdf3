//! Explained exceptions (强制上报 with 说明): a finding of a rule whose
//! severity is `explain` is accepted only with the submitter's explanation.
//!
//! An explanation comes from the 说明 column of the finding's row (one text
//! explains every such finding of the row), or with the upload for one finding,
//! named by its rule and cell. [`explain`] attaches them after validation; a
//! finding left without one blocks acceptance and says how to give one.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::catalog::Catalog;
use crate::ingest::Workbook;
use crate::issue::{Explanation, ExplanationSource, Issue, Message, Severity};

/// The longest explanation kept, in characters.
pub const MAX_EXPLANATION_CHARS: usize = 500;
/// The most explanations one upload may give.
pub const MAX_EXPLANATIONS: usize = 200;

/// An explanation given with an upload for one finding: its rule and cell
/// (`F12`, or `基层工会情况!F12` as findings name it).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GivenExplanation {
    pub rule: String,
    pub cell: String,
    pub text: String,
}

/// Why the explanations of an upload are refused, in Chinese and English.
fn refused(zh: String, en: String) -> Message {
    Message { zh, en }
}

/// The text as kept: trimmed, control characters (but line breaks) dropped.
fn clean(text: &str) -> String {
    let kept: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .collect();
    kept.trim().to_string()
}

/// The cell a finding names, without its sheet, upper-case: `F12`.
fn bare_cell(cell: &str) -> String {
    let cell = cell.rsplit('!').next().unwrap_or(cell);
    cell.trim().to_ascii_uppercase()
}

/// Checks and tidies the explanations of an upload: at most
/// [`MAX_EXPLANATIONS`], each with a rule, a cell and a text of at most
/// [`MAX_EXPLANATION_CHARS`] characters; an empty text is dropped (the box was
/// left blank). Refused with a bilingual message naming the first bad one.
pub fn check_given(given: Vec<GivenExplanation>) -> Result<Vec<GivenExplanation>, Message> {
    if given.len() > MAX_EXPLANATIONS {
        return Err(refused(
            format!(
                "说明过多：一次上传最多 {MAX_EXPLANATIONS} 条，收到 {} 条",
                given.len()
            ),
            format!(
                "too many explanations: at most {MAX_EXPLANATIONS} with one upload, got {}",
                given.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(given.len());
    for (i, g) in given.into_iter().enumerate() {
        let n = i + 1;
        let text = clean(&g.text);
        if text.is_empty() {
            continue;
        }
        let (rule, cell) = (g.rule.trim().to_string(), bare_cell(&g.cell));
        if rule.is_empty() || cell.is_empty() {
            return Err(refused(
                format!("第 {n} 条说明缺少规则（rule）或单元格（cell），无法对应到问题"),
                format!("explanation {n} needs the rule and the cell of the issue it explains"),
            ));
        }
        let chars = text.chars().count();
        if chars > MAX_EXPLANATION_CHARS {
            return Err(refused(
                format!(
                    "第 {n} 条说明（{rule}，{cell}）有 {chars} 个字，最多 {MAX_EXPLANATION_CHARS} 个字，请精简后重新提交"
                ),
                format!(
                    "explanation {n} ({rule} at {cell}) has {chars} characters; at most {MAX_EXPLANATION_CHARS} are kept: shorten it and submit again"
                ),
            ));
        }
        out.push(GivenExplanation { rule, cell, text });
    }
    Ok(out)
}

/// A stable key of a set of explanations (their JSON), empty for none: the
/// same bytes uploaded with other explanations are another submission.
pub fn given_json(given: &[GivenExplanation]) -> String {
    if given.is_empty() {
        String::new()
    } else {
        serde_json::to_string(given).unwrap_or_default()
    }
}

/// Attaches explanations to the findings of explain-severity rules: the one
/// given with the upload for the finding's rule and cell, else the 说明 of the
/// finding's row. A finding left without one gets the words saying how to
/// explain it (and blocks acceptance); a 说明 too long is an error of its own.
pub fn explain(
    issues: &mut Vec<Issue>,
    wb: &Workbook,
    given: &[GivenExplanation],
    catalog: &Catalog,
) {
    let by_key: HashMap<(&str, String), &str> = given
        .iter()
        .map(|g| ((g.rule.as_str(), bare_cell(&g.cell)), g.text.as_str()))
        .collect();
    let notes: HashMap<u32, &crate::ingest::RowNote> =
        wb.notes.iter().map(|n| (n.row, n)).collect();
    let rows: HashMap<u32, &str> = wb.rows.iter().map(|r| (r.row, r.code.as_str())).collect();
    let mut too_long: Vec<&crate::ingest::RowNote> = Vec::new();
    for issue in issues.iter_mut() {
        if issue.severity != Severity::Explain || issue.explanation.is_some() {
            continue;
        }
        let on_units = issue.sheet.as_deref() == Some(wb.units_sheet.as_str());
        let Some(cell) = issue.cell.as_deref().filter(|_| on_units) else {
            continue;
        };
        let cell = bare_cell(cell);
        let letters: String = cell
            .chars()
            .take_while(|c| c.is_ascii_alphabetic())
            .collect();
        let row: Option<u32> = cell[letters.len()..].parse().ok();
        let unit = row.and_then(|r| rows.get(&r)).map(|c| c.to_string());
        let metric = wb
            .columns
            .iter()
            .find(|c| c.letter == letters)
            .map(|c| c.metric.clone());
        let note = row.and_then(|r| notes.get(&r)).copied();
        let found = match (by_key.get(&(issue.rule.as_str(), cell.clone())), note) {
            (Some(text), _) => Some((text.to_string(), ExplanationSource::Upload, None)),
            (None, Some(n)) if n.text.chars().count() <= MAX_EXPLANATION_CHARS => Some((
                n.text.clone(),
                ExplanationSource::Column,
                Some(n.cell.clone()),
            )),
            (None, Some(n)) => {
                if !too_long.iter().any(|t| t.row == n.row) {
                    too_long.push(n);
                }
                None
            }
            (None, None) => None,
        };
        match found {
            Some((text, source, note_cell)) => {
                issue.explanation = Some(Explanation {
                    text,
                    source,
                    note_cell,
                    unit,
                    metric,
                });
            }
            None => {
                let (zh, en) = how_to_explain(row);
                issue.message.zh.push_str(&zh);
                issue.message.en.push(' ');
                issue.message.en.push_str(&en);
            }
        }
    }
    let max = MAX_EXPLANATION_CHARS.to_string();
    for n in too_long {
        issues.push(catalog.issue(
            "explanation_too_long",
            Some(&wb.units_sheet),
            Some(&n.cell),
            None,
            &[("max", &max)],
        ));
    }
}

/// What an unexplained finding adds: where to give the explanation.
fn how_to_explain(row: Option<u32>) -> (String, String) {
    let (zh_row, en_row) = match row {
        Some(r) => (format!("第 {r} 行"), format!("row {r}")),
        None => ("该行".to_string(), "the row".to_string()),
    };
    (
        format!(
            "如数字属实（例如单位合并、拆分），须说明原因后方可上报：在上传页该问题下的“说明”框填写后点“附说明重新提交”（接口参数 explanations），或在本表{zh_row}的“说明”列填写原因后重新上传。"
        ),
        format!(
            "If the figure is right (say, after a merger or a split), it is accepted with an explanation: type it in the Explanation box under this issue on the upload page and choose “Resubmit with explanations” (API field explanations), or write it in the 说明 (Explanation) column of {en_row} and upload again."
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{MetricColumn, RowNote, UnitRow};

    fn sheet() -> Workbook {
        Workbook {
            units_sheet: "基层工会情况".into(),
            header_row: 2,
            code_letter: "A".into(),
            columns: vec![MetricColumn {
                metric: "employees".into(),
                col: 4,
                letter: "E".into(),
            }],
            rows: vec![
                UnitRow {
                    row: 3,
                    code: "330102001001".into(),
                    name: "甲".into(),
                    values: vec![Some(2000)],
                },
                UnitRow {
                    row: 4,
                    code: "330102001002".into(),
                    name: "乙".into(),
                    values: vec![Some(900)],
                },
            ],
            ..Workbook::default()
        }
    }

    fn finding(c: &Catalog, rule: &str, cell: &str) -> Issue {
        c.issue(rule, Some("基层工会情况"), Some(cell), Some("2000"), &[])
    }

    fn explain_catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    #[test]
    fn an_unexplained_explain_finding_blocks_and_says_how_to_explain() {
        let c = explain_catalog();
        let mut issues = vec![finding(&c, "monthly_change", "E3")];
        assert_eq!(issues[0].severity, Severity::Explain);
        explain(&mut issues, &sheet(), &[], &c);
        assert!(issues[0].is_error() && issues[0].needs_explanation());
        assert_eq!(crate::issue::error_count(&issues), 1);
        assert!(
            issues[0]
                .message
                .zh
                .ends_with("或在本表第 3 行的“说明”列填写原因后重新上传。"),
            "{}",
            issues[0].message.zh
        );
        assert!(
            issues[0].message.en.ends_with(
                "or write it in the 说明 (Explanation) column of row 3 and upload again."
            ),
            "{}",
            issues[0].message.en
        );
    }

    #[test]
    fn the_row_note_explains_every_finding_of_its_row_only() {
        let c = explain_catalog();
        let mut wb = sheet();
        wb.notes.push(RowNote {
            row: 3,
            cell: "K3".into(),
            text: "甲乙两厂合并".into(),
        });
        let mut issues = vec![
            finding(&c, "monthly_change", "E3"),
            finding(&c, "monthly_change", "E4"),
            finding(&c, "members_le_employees", "E3"),
        ];
        explain(&mut issues, &wb, &[], &c);
        let e = issues[0].explanation.as_ref().unwrap();
        assert_eq!(
            (e.text.as_str(), e.source, e.note_cell.as_deref()),
            ("甲乙两厂合并", ExplanationSource::Column, Some("K3"))
        );
        assert_eq!(
            (e.unit.as_deref(), e.metric.as_deref()),
            (Some("330102001001"), Some("employees"))
        );
        assert!(!issues[0].is_error());
        // Row 4 has no 说明; an error is never explained away.
        assert!(issues[1].needs_explanation());
        assert!(issues[2].is_error() && issues[2].explanation.is_none());
        assert_eq!(crate::issue::error_count(&issues), 2);
    }

    #[test]
    fn an_upload_explains_one_finding_by_rule_and_cell() {
        let c = explain_catalog();
        let mut issues = vec![
            finding(&c, "monthly_change", "E3"),
            finding(&c, "monthly_change", "E4"),
        ];
        let given = check_given(vec![
            GivenExplanation {
                rule: "monthly_change".into(),
                cell: "基层工会情况!e4".into(),
                text: "  新厂区投产 \u{7}".into(),
            },
            GivenExplanation {
                rule: "outlier".into(),
                cell: "E3".into(),
                text: "wrong rule".into(),
            },
            GivenExplanation {
                rule: "monthly_change".into(),
                cell: "E3".into(),
                text: "   ".into(),
            },
        ])
        .unwrap();
        assert_eq!(given.len(), 2, "the blank one is dropped");
        explain(&mut issues, &sheet(), &given, &c);
        assert!(issues[0].needs_explanation());
        let e = issues[1].explanation.as_ref().unwrap();
        assert_eq!(
            (e.text.as_str(), e.source),
            ("新厂区投产", ExplanationSource::Upload)
        );
        assert_eq!(e.unit.as_deref(), Some("330102001002"));
    }

    #[test]
    fn explanations_are_bounded_in_length_and_number() {
        let long = GivenExplanation {
            rule: "monthly_change".into(),
            cell: "E3".into(),
            text: "字".repeat(MAX_EXPLANATION_CHARS + 1),
        };
        let err = check_given(vec![long.clone()]).unwrap_err();
        assert_eq!(
            err.zh,
            "第 1 条说明（monthly_change，E3）有 501 个字，最多 500 个字，请精简后重新提交"
        );
        assert_eq!(
            err.en,
            "explanation 1 (monthly_change at E3) has 501 characters; at most 500 are kept: shorten it and submit again"
        );
        let ok = GivenExplanation {
            text: "字".repeat(MAX_EXPLANATION_CHARS),
            ..long
        };
        assert_eq!(check_given(vec![ok.clone()]).unwrap().len(), 1);
        let err = check_given(vec![ok; MAX_EXPLANATIONS + 1]).unwrap_err();
        assert!(
            err.en.starts_with("too many explanations: at most 200"),
            "{}",
            err.en
        );

        // A 说明 cell too long explains nothing and is named.
        let c = explain_catalog();
        let mut wb = sheet();
        wb.notes.push(RowNote {
            row: 3,
            cell: "K3".into(),
            text: "字".repeat(MAX_EXPLANATION_CHARS + 1),
        });
        let mut issues = vec![finding(&c, "monthly_change", "E3")];
        explain(&mut issues, &wb, &[], &c);
        assert!(issues[0].needs_explanation());
        assert_eq!(issues[1].rule, "explanation_too_long");
        assert_eq!(issues[1].cell.as_deref(), Some("K3"));
        assert!(issues[1].is_error());
    }

    #[test]
    fn only_rules_about_one_cell_may_be_explained() {
        let text = crate::catalog::BUILTIN_CATALOG.replacen(
            "code = \"period_future\"\ntitle_zh = \"报告期尚未到来\"\ntitle_en = \"Period in the future\"\ncheck = \"builtin\"\nseverity = \"error\"",
            "code = \"period_future\"\ntitle_zh = \"报告期尚未到来\"\ntitle_en = \"Period in the future\"\ncheck = \"builtin\"\nseverity = \"explain\"",
            1,
        );
        assert_ne!(text, crate::catalog::BUILTIN_CATALOG);
        let err = Catalog::from_toml(&text).unwrap_err().to_string();
        assert!(
            err.contains("rule period_future cannot take severity = \"explain\""),
            "{err}"
        );
        let text = crate::catalog::BUILTIN_CATALOG.replacen(
            "left = \"members\"\nright = [\"employees\"]\nseverity = \"error\"",
            "left = \"members\"\nright = [\"employees\"]\nseverity = \"explain\"",
            1,
        );
        let c = Catalog::from_toml(&text).unwrap();
        assert_eq!(
            c.rule("members_le_employees").unwrap().severity,
            Severity::Explain
        );
        assert_eq!(
            c.header("说明"),
            Some(crate::catalog::HeaderMeaning::Explanation)
        );
    }
}
