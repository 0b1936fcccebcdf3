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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// The submitter's explanation, for a finding of an explain-severity rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Explanation>,
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
