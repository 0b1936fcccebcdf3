//! Submissions: durable upload records, their files, and their life cycle
//! received → processing → accepted | rejected (→ superseded).

use sqlx::Row;
use unionstat_core::Issue;

use super::{now, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SubmissionRow {
    pub id: i64,
    pub sha256: String,
    pub req_reporter: String,
    pub req_period: String,
    pub reporter: Option<String>,
    pub period: Option<String>,
    pub filename: String,
    pub size_bytes: i64,
    pub status: String,
    pub attempts: i64,
    pub uploaded_by: String,
    pub scope_org: Option<String>,
    pub received_at: String,
    pub finished_at: Option<String>,
    pub superseded_by: Option<i64>,
    pub error_count: i64,
    pub warning_count: i64,
    pub rows_read: i64,
    pub issues: String,
}

impl SubmissionRow {
    pub fn issues(&self) -> Vec<Issue> {
        serde_json::from_str(&self.issues).unwrap_or_default()
    }

    pub fn is_final(&self) -> bool {
        matches!(self.status.as_str(), "accepted" | "rejected" | "superseded")
    }

    /// The reporter as resolved, else as requested.
    pub fn reporter_code(&self) -> Option<&str> {
        self.reporter
            .as_deref()
            .or((!self.req_reporter.is_empty()).then_some(self.req_reporter.as_str()))
    }
}

const COLUMNS: &str = "id, sha256, req_reporter, req_period, reporter, period, filename, size_bytes, status, attempts, uploaded_by, scope_org, received_at, finished_at, superseded_by, error_count, warning_count, rows_read, issues";

/// What an upload brings.
#[derive(Debug, Clone)]
pub struct NewSubmission<'a> {
    pub sha256: String,
    pub req_reporter: Option<&'a str>,
    pub req_period: Option<&'a str>,
    pub filename: &'a str,
    pub bytes: &'a [u8],
    pub uploaded_by: &'a str,
    pub scope_org: Option<&'a str>,
}

/// What processing needs of a claimed submission.
#[derive(Debug, Clone)]
pub struct Claim {
    pub id: i64,
    pub attempts: i64,
    pub req_reporter: Option<String>,
    pub req_period: Option<String>,
    pub scope_org: Option<String>,
    pub uploaded_by: String,
}

impl Store {
    /// Records an upload with its bytes, durably, unless the same bytes for the same
    /// requested reporter and period are already there: then that one is returned.
    /// The bool says whether a new submission was created.
    pub async fn create_submission(
        &self,
        new: &NewSubmission<'_>,
    ) -> sqlx::Result<(SubmissionRow, bool)> {
        let req_reporter = new.req_reporter.unwrap_or("");
        let req_period = new.req_period.unwrap_or("");
        let mut tx = self.begin_write().await?;
        let existing: Option<SubmissionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM submissions WHERE sha256 = ? AND req_reporter = ? AND req_period = ? AND status <> 'superseded'"
        )))
        .bind(&new.sha256)
        .bind(req_reporter)
        .bind(req_period)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            tx.rollback().await?;
            return Ok((row, false));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO submissions (sha256, req_reporter, req_period, filename, size_bytes, status, uploaded_by, scope_org, received_at) VALUES (?, ?, ?, ?, ?, 'received', ?, ?, ?) RETURNING id",
        )
        .bind(&new.sha256)
        .bind(req_reporter)
        .bind(req_period)
        .bind(new.filename)
        .bind(new.bytes.len() as i64)
        .bind(new.uploaded_by)
        .bind(new.scope_org)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        sqlx::query("INSERT INTO submission_files (submission_id, content) VALUES (?, ?)")
            .bind(id)
            .bind(new.bytes)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        let row = self.submission(id).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok((row, true))
    }

    pub async fn submission(&self, id: i64) -> sqlx::Result<Option<SubmissionRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM submissions WHERE id = ?"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Marks a submission as being processed and counts the attempt, or returns
    /// None when it is already final (a duplicate delivery of its job).
    pub async fn claim(&self, id: i64) -> sqlx::Result<Option<Claim>> {
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(
            "UPDATE submissions SET status = 'processing', attempts = attempts + 1, started_at = ? WHERE id = ? AND status IN ('received', 'processing') RETURNING attempts, req_reporter, req_period, scope_org, uploaded_by",
        )
        .bind(now())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.map(|r| {
            let opt = |s: String| (!s.is_empty()).then_some(s);
            Claim {
                id,
                attempts: r.get(0),
                req_reporter: opt(r.get(1)),
                req_period: opt(r.get(2)),
                scope_org: r.get(3),
                uploaded_by: r.get(4),
            }
        }))
    }

    pub async fn submission_bytes(&self, id: i64) -> sqlx::Result<Vec<u8>> {
        sqlx::query("SELECT content FROM submission_files WHERE submission_id = ?")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
    }

    /// Records a rejection: the report is kept, no fact is written.
    pub async fn reject(
        &self,
        id: i64,
        reporter: Option<&str>,
        period: Option<&str>,
        issues: &[Issue],
        rows_read: usize,
        cover: Option<&str>,
    ) -> sqlx::Result<bool> {
        let errors = issues.iter().filter(|i| i.is_error()).count() as i64;
        let warnings = issues.len() as i64 - errors;
        let json = serde_json::to_string(issues).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE submissions SET status = 'rejected', reporter = ?, period = ?, issues = ?, error_count = ?, warning_count = ?, rows_read = ?, cover = ?, finished_at = ? WHERE id = ? AND status = 'processing'",
        )
        .bind(reporter)
        .bind(period)
        .bind(json)
        .bind(errors)
        .bind(warnings)
        .bind(rows_read as i64)
        .bind(cover)
        .bind(now())
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        tx.commit().await?;
        Ok(done)
    }

    /// Submissions not yet final, oldest first (for the reconciler).
    pub async fn unfinished_submissions(&self) -> sqlx::Result<Vec<i64>> {
        sqlx::query_scalar(
            "SELECT id FROM submissions WHERE status IN ('received', 'processing') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
    }
}
