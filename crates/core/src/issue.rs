//! One finding about a submission: which rule, where, what, and how to fix it.

use serde::{Deserialize, Serialize};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
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
}

impl Issue {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Counts errors in a list of issues.
pub fn error_count(issues: &[Issue]) -> usize {
    issues.iter().filter(|i| i.is_error()).count()
}
