//! Review and return (审核与退回): the level above a reporter approves its
//! accepted report for a month, or returns it with a comment. A review belongs
//! to one submission, so the next accepted upload (a new submission) starts
//! unreviewed and a return no longer applies to it; every review stays, with
//! its audit row. Portable SQL throughout.

use std::collections::HashMap;

use super::actor::Actor;
use super::orgs::OrgRow;

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Approved,
    Returned,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Approved => "approved",
            Decision::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<Decision> {
        match s {
            "approved" => Some(Decision::Approved),
            "returned" => Some(Decision::Returned),
            _ => None,
        }
    }
}

/// One review of a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewRow {
    pub id: i64,
    pub submission_id: i64,
    pub reporter: String,
    pub period: String,
    pub decision: Decision,
    pub comment: Option<String>,
    pub reviewer_org: String,
    pub reviewed_by: String,
    pub reviewed_at: String,
}

/// A review to record.
#[derive(Debug, Clone)]
pub struct NewReview<'a> {
    pub submission_id: i64,
    pub decision: Decision,
    pub comment: Option<&'a str>,
    /// The federation above the reporter that reviews.
    pub reviewer: &'a OrgRow,
    pub actor: &'a Actor,
}

/// Why a review cannot be recorded now.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("报送 #{id} 当前状态为 {status}，只有已接受的报送可以审核 / submission {id} is {status}: only an accepted report is reviewed")]
    NotAccepted { id: i64, status: String },
    #[error("报送 #{id} 已于 {at} 被退回，等待重新上报 / submission {id} was already returned at {at}: a new upload for the month is awaited")]
    AlreadyReturned { id: i64, at: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// An accepted report of a reporter directly under a federation with its
/// latest review, as the federation's approval checks them (in its
/// transaction: `imp/reviews.rs` `child_reviews_in`).
#[derive(Debug, Clone)]
pub struct ChildReview {
    pub reporter: String,
    pub submission_id: i64,
    pub decision: Option<Decision>,
}

delegate! {
    /// Records a review of an accepted submission with its audit row, in one
    /// transaction that checks the submission is still accepted. Approving an
    /// approved submission answers the existing review; a returned one
    /// refuses both (a new upload is awaited).
    pub async fn review(&self, new: &NewReview<'_>) -> Result<ReviewRow, ReviewError>;
    /// The latest review of each of the given submissions (those with one).
    pub async fn latest_reviews(&self, submission_ids: &[i64]) -> sqlx::Result<HashMap<i64, ReviewRow>>;
    /// Errors and warnings of each of the given submissions.
    pub async fn issue_counts(&self, submission_ids: &[i64]) -> sqlx::Result<HashMap<i64, (i64, i64)>>;
    /// The findings with an explanation (说明) of each of the given
    /// submissions (those with one), in the order of their report.
    pub async fn explained_issues(&self, submission_ids: &[i64]) -> sqlx::Result<HashMap<i64, Vec<unionstat_core::Issue>>>;
    /// Every review of a reporter's reports of `form` for a period, whatever
    /// submission they were of (a return stays after the next upload),
    /// oldest first.
    pub async fn reporter_reviews(&self, reporter: &str, form: &str, period: &str) -> sqlx::Result<Vec<ReviewRow>>;
    /// Every review of a submission, oldest first.
    pub async fn reviews_of(&self, submission_id: i64) -> sqlx::Result<Vec<ReviewRow>>;
}

impl ChildReview {
    /// Not approved by a reviewer: unreviewed or returned.
    pub fn blocks_approval(&self) -> bool {
        self.decision != Some(Decision::Approved)
    }
}

/// The reporters of `children` named by state, for a refusal: (unreviewed,
/// returned).
pub fn blocking(children: &[ChildReview]) -> (Vec<String>, Vec<String>) {
    let mut unreviewed = Vec::new();
    let mut returned = Vec::new();
    for c in children.iter().filter(|c| c.blocks_approval()) {
        match c.decision {
            Some(Decision::Returned) => returned.push(c.reporter.clone()),
            _ => unreviewed.push(c.reporter.clone()),
        }
    }
    (unreviewed, returned)
}
