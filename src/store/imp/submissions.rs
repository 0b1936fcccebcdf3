//! Submissions: durable upload records, their files, and their life cycle.

use sha2::Digest as _;
use sqlx::Row;
use unionstat_core::Issue;

use super::Repo;
use crate::store::now;
use crate::store::orgs::{subtree_end, tree_sql, TreeAt};
use crate::store::submissions::{
    Claim, NewSubmission, RejectedAs, SubmissionFilter, SubmissionListRow, SubmissionRow,
    Unfinished,
};
use crate::store::JobTarget;

const COLUMNS: &str = "id, sha256, req_reporter, req_period, reporter, period, filename, size_bytes, status, attempts, uploaded_by, scope_org, received_at, finished_at, superseded_by, error_count, warning_count, rows_read, issues, nil_requested, nil_report, explanations, form";

impl Repo {
    pub async fn create_submission(
        &self,
        new: &NewSubmission<'_>,
        job: &JobTarget<'_>,
    ) -> sqlx::Result<(SubmissionRow, bool, bool)> {
        let req_reporter = new.req_reporter.unwrap_or("");
        let req_period = new.req_period.unwrap_or("");
        // Who may see the submission is part of its identity: the same bytes
        // from another scope are another submission.
        let scope = new.scope_org.unwrap_or("");
        // The form named is part of it too.
        let req_form = new.req_form.unwrap_or("");
        // Explanations are part of it too: the same file resubmitted with
        // explanations is a new submission.
        let explanations = unionstat_core::validate::given_json(new.explanations);
        let explanations_key = if explanations.is_empty() {
            String::new()
        } else {
            hex::encode(sha2::Sha256::digest(explanations.as_bytes()))
        };
        let mut tx = self.begin_write().await?;
        // Two identical uploads at once: the second waits and finds the first.
        super::super::lock_key(
            &mut tx,
            &format!(
                "upload|{}|{req_reporter}|{req_period}|{scope}|{}|{explanations_key}|{req_form}",
                new.sha256, new.nil_report
            ),
        )
        .await?;
        let existing: Option<SubmissionRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM submissions WHERE sha256 = $1 AND req_reporter = $2 AND req_period = $3 AND COALESCE(scope_org, '') = $4 AND nil_requested = $5 AND explanations_sha256 = $6 AND req_form = $7 AND status <> 'superseded'"
        )))
        .bind(&new.sha256)
        .bind(req_reporter)
        .bind(req_period)
        .bind(scope)
        .bind(new.nil_report)
        .bind(&explanations_key)
        .bind(req_form)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing {
            tx.rollback().await?;
            return Ok((row, false, false));
        }
        let id: i64 = sqlx::query(
            "INSERT INTO submissions (sha256, req_reporter, req_period, filename, size_bytes, status, uploaded_by, scope_org, received_at, nil_requested, explanations, explanations_sha256, req_form) VALUES ($1, $2, $3, $4, $5, 'received', $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(&new.sha256)
        .bind(req_reporter)
        .bind(req_period)
        .bind(new.filename)
        .bind(new.bytes.len() as i64)
        .bind(new.uploaded_by)
        .bind(new.scope_org)
        .bind(now())
        .bind(new.nil_report)
        .bind(&explanations)
        .bind(&explanations_key)
        .bind(req_form)
        .fetch_one(&mut *tx)
        .await?
        .get(0);
        sqlx::query("INSERT INTO submission_files (submission_id, content) VALUES ($1, $2)")
            .bind(id)
            .bind(new.bytes)
            .execute(&mut *tx)
            .await?;
        if let Some(reason) = new.lock_reason {
            sqlx::query(
                "INSERT INTO lock_overrides (submission_id, actor, reason, at) VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(new.uploaded_by)
            .bind(reason)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        }
        let queued = super::super::enqueue_in_tx(&mut tx, job, id).await?;
        tx.commit().await?;
        let row = self.submission(id).await?.ok_or(sqlx::Error::RowNotFound)?;
        Ok((row, true, queued))
    }

    pub async fn submission(&self, id: i64) -> sqlx::Result<Option<SubmissionRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM submissions WHERE id = $1"
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
            "UPDATE submissions SET status = 'processing', attempts = attempts + 1, started_at = $1 WHERE id = $2 AND status IN ('received', 'processing') RETURNING attempts, req_reporter, req_period, scope_org, uploaded_by, nil_requested, explanations, req_form, size_bytes",
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
                nil_requested: r.get(5),
                explanations: serde_json::from_str(&r.get::<String, _>(6)).unwrap_or_default(),
                req_form: opt(r.get(7)),
                size_bytes: r.get(8),
            }
        }))
    }

    pub async fn submission_bytes(&self, id: i64) -> sqlx::Result<Vec<u8>> {
        sqlx::query("SELECT content FROM submission_files WHERE submission_id = $1")
            .bind(id)
            .fetch_one(&self.pool)
            .await
            .map(|r| r.get(0))
    }

    /// Records a rejection: the report is kept, no fact is written.
    pub async fn reject(
        &self,
        id: i64,
        found: RejectedAs<'_>,
        issues: &[Issue],
        rows_read: usize,
        cover: Option<&str>,
    ) -> sqlx::Result<bool> {
        let errors = issues.iter().filter(|i| i.is_error()).count() as i64;
        let warnings = issues.len() as i64 - errors;
        let json = serde_json::to_string(issues).unwrap_or_else(|_| "[]".into());
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE submissions SET status = 'rejected', reporter = $1, period = $2, issues = $3, error_count = $4, warning_count = $5, rows_read = $6, cover = $7, finished_at = $8, form = $10 WHERE id = $9 AND status = 'processing'",
        )
        .bind(found.reporter)
        .bind(found.period)
        .bind(json)
        .bind(errors)
        .bind(warnings)
        .bind(rows_read as i64)
        .bind(cover)
        .bind(now())
        .bind(id)
        .bind(found.form)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        // A rejected sheet's cover still says who fills in the reports.
        if let (true, Some(reporter)) = (done, found.reporter) {
            let actor: String =
                sqlx::query_scalar("SELECT uploaded_by FROM submissions WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
            super::contacts::contact_from_cover(&mut *tx, reporter, cover, &actor).await?;
        }
        tx.commit().await?;
        Ok(done)
    }

    pub async fn list_submissions(
        &self,
        filter: &SubmissionFilter<'_>,
    ) -> sqlx::Result<Vec<SubmissionListRow>> {
        // Empty strings stand for "any": one portable statement for both
        // backends, without typing a NULL parameter.
        let (from, to) = match filter.under_path {
            Some(p) => (p.to_string(), subtree_end(p)),
            None => (String::new(), String::new()),
        };
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT s.id, COALESCE(s.reporter, NULLIF(s.req_reporter, '')) AS reporter, COALESCE(s.period, NULLIF(s.req_period, '')) AS period, s.status, s.filename, s.uploaded_by, s.received_at, s.finished_at, s.error_count, s.warning_count, (s.nil_report OR s.nil_requested) AS nil_report FROM submissions s LEFT JOIN {} o ON o.code = COALESCE(s.reporter, NULLIF(s.req_reporter, ''), s.scope_org) WHERE ($1 = '' OR (o.path >= $1 AND o.path < $2)) AND ($3 = '' OR COALESCE(s.reporter, NULLIF(s.req_reporter, '')) = $3) AND ($4 = '' OR COALESCE(s.period, NULLIF(s.req_period, '')) = $4) AND s.id < $5 ORDER BY s.id DESC LIMIT $6",
            tree_sql(TreeAt::Current)
        )))
        .bind(from)
        .bind(to)
        .bind(filter.reporter.unwrap_or(""))
        .bind(filter.period.unwrap_or(""))
        .bind(filter.before_id.unwrap_or(i64::MAX))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Submissions not yet final, oldest first (for the reconciler).
    pub async fn unfinished_submissions(&self) -> sqlx::Result<Vec<Unfinished>> {
        sqlx::query_as(
            "SELECT id, received_at FROM submissions WHERE status IN ('received', 'processing') ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
    }
}
