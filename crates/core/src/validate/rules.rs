use super::{Context, Header};
use crate::catalog::Catalog;
use crate::ingest::Workbook;
use crate::issue::Issue;
use crate::period::Period;

/// Decides reporter and period from the caller and the cover.
pub fn resolve_header(
    _wb: &Workbook,
    catalog: &Catalog,
    caller_reporter: Option<&str>,
    caller_period: Option<Period>,
) -> Result<Header, Vec<Issue>> {
    match (caller_reporter, caller_period) {
        (Some(r), Some(p)) => Ok(Header { reporter: r.to_string(), period: p }),
        _ => Err(vec![catalog.issue("reporter_missing", None, None, None, &[])]),
    }
}

/// Checks every rule; returns the findings (the reader's own issues not included).
pub fn validate(_wb: &Workbook, _ctx: &Context<'_>) -> Vec<Issue> {
    Vec::new()
}
