//! Review and return (审核与退回): reviews of accepted submissions, each with
//! its audit row. Portable SQL throughout.

use std::collections::HashMap;

use sqlx::{QueryBuilder, Row};

use super::{Db, Repo};
use crate::store::completeness::Reporters;
use crate::store::orgs::OrgRow;
use crate::store::reviews::{ChildReview, Decision, NewReview, ReviewError, ReviewRow};
use crate::store::{now, BATCH};

const REVIEW_COLUMNS: &str = "r.id, r.submission_id, r.reporter, r.period, r.decision, r.comment, r.reviewer_org, r.reviewed_by, r.reviewed_at";

fn review_from(r: &<Db as sqlx::Database>::Row) -> ReviewRow {
    let decision: String = r.get(4);
    ReviewRow {
        id: r.get(0),
        submission_id: r.get(1),
        reporter: r.get(2),
        period: r.get(3),
        // Only the two decisions are ever written.
        decision: Decision::parse(&decision).unwrap_or(Decision::Returned),
        comment: r.get(5),
        reviewer_org: r.get(6),
        reviewed_by: r.get(7),
        reviewed_at: r.get(8),
    }
}

impl Repo {
    /// Records a review of an accepted submission with its audit row, in one
    /// transaction that checks the submission is still accepted.
    pub async fn review(&self, new: &NewReview<'_>) -> Result<ReviewRow, ReviewError> {
        let actor = new.actor.to_string();
        let id = new.submission_id;
        let mut tx = self.begin_write().await?;
        // Two reviews of one submission at once: the second waits for the first.
        super::super::lock_key(&mut tx, &format!("review|{id}")).await?;
        let sub =
            sqlx::query("SELECT status, reporter, period, form FROM submissions WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(sub) = sub else {
            return Err(ReviewError::NotAccepted {
                id,
                status: "unknown".into(),
            });
        };
        let status: String = sub.get(0);
        let (Some(reporter), Some(period)) = (
            sub.get::<Option<String>, _>(1),
            sub.get::<Option<String>, _>(2),
        ) else {
            return Err(ReviewError::NotAccepted { id, status });
        };
        if status != "accepted" {
            return Err(ReviewError::NotAccepted { id, status });
        }
        let form: String = sub.get(3);
        let last = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews r WHERE r.submission_id = $1 ORDER BY r.id DESC LIMIT 1"
        )))
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| review_from(&r));
        match &last {
            Some(r) if r.decision == Decision::Returned => {
                return Err(ReviewError::AlreadyReturned {
                    id,
                    at: r.reviewed_at.clone(),
                });
            }
            Some(r) if new.decision == Decision::Approved => {
                tx.rollback().await?;
                return Ok(r.clone());
            }
            _ => {}
        }
        let stamp = now();
        let review_id: i64 = sqlx::query_scalar(
            "INSERT INTO reviews (submission_id, reporter, period, decision, comment, reviewer_org, reviewed_by, reviewed_at, form) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(id)
        .bind(&reporter)
        .bind(&period)
        .bind(new.decision.as_str())
        .bind(new.comment)
        .bind(&new.reviewer.code)
        .bind(&actor)
        .bind(&stamp)
        .bind(&form)
        .fetch_one(&mut *tx)
        .await?;
        // The detail names no federation: the reporter reads its own history,
        // and a reviewer above its parent is outside the reporter's subtree.
        // Chinese first, then English; the comment once, after both.
        let note = new.comment.map(|c| format!("：{c}")).unwrap_or_default();
        let (action, detail) = match new.decision {
            Decision::Approved => (
                "report_approved",
                format!(
                    "{reporter} {period} 报表（报送记录 {id}）审核通过 / {reporter}'s report for {period} (submission {id}) approved in review{note}"
                ),
            ),
            Decision::Returned => (
                "report_returned",
                format!("{reporter} {period} 报表（报送记录 {id}）被退回 / {reporter}'s report for {period} (submission {id}) returned{note}"),
            ),
        };
        sqlx::query(
            "INSERT INTO audit (at, actor, action, submission_id, unit_code, period, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&stamp)
        .bind(&actor)
        .bind(action)
        .bind(id)
        .bind(&reporter)
        .bind(&period)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReviewRow {
            id: review_id,
            submission_id: id,
            reporter,
            period,
            decision: new.decision,
            comment: new.comment.map(str::to_string),
            reviewer_org: new.reviewer.code.clone(),
            reviewed_by: actor,
            reviewed_at: stamp,
        })
    }

    /// The latest review of each of the given submissions (those with one).
    pub async fn latest_reviews(
        &self,
        submission_ids: &[i64],
    ) -> sqlx::Result<HashMap<i64, ReviewRow>> {
        let mut out: HashMap<i64, ReviewRow> = HashMap::new();
        for chunk in submission_ids.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {REVIEW_COLUMNS} FROM reviews r WHERE r.submission_id IN "
            ));
            super::push_list(&mut qb, chunk.iter().copied());
            qb.push(" ORDER BY r.id");
            // Oldest first: the latest of each submission is written last.
            for r in qb.build().fetch_all(&self.pool).await? {
                let row = review_from(&r);
                out.insert(row.submission_id, row);
            }
        }
        Ok(out)
    }

    /// `SELECT {select} FROM submissions WHERE {filter} id IN (…)` over the
    /// given ids, in batches.
    async fn submissions_by_id(
        &self,
        select: &str,
        filter: &str,
        submission_ids: &[i64],
    ) -> sqlx::Result<Vec<<Db as sqlx::Database>::Row>> {
        let mut rows = Vec::new();
        for chunk in submission_ids.chunks(BATCH) {
            let mut qb: QueryBuilder<Db> = QueryBuilder::new(format!(
                "SELECT {select} FROM submissions WHERE {filter} id IN "
            ));
            super::push_list(&mut qb, chunk.iter().copied());
            rows.extend(qb.build().fetch_all(&self.pool).await?);
        }
        Ok(rows)
    }

    /// Errors and warnings of each of the given submissions.
    pub async fn issue_counts(
        &self,
        submission_ids: &[i64],
    ) -> sqlx::Result<HashMap<i64, (i64, i64)>> {
        let rows = self
            .submissions_by_id("id, error_count, warning_count", "", submission_ids)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<i64, _>(0), (r.get(1), r.get(2))))
            .collect())
    }

    pub async fn explained_issues(
        &self,
        submission_ids: &[i64],
    ) -> sqlx::Result<HashMap<i64, Vec<unionstat_core::Issue>>> {
        // Only reports holding an explanation are read whole.
        let rows = self
            .submissions_by_id(
                "id, issues",
                "issues LIKE '%\"explanation\"%' AND",
                submission_ids,
            )
            .await?;
        let mut out = HashMap::new();
        for r in rows {
            let issues: Vec<unionstat_core::Issue> =
                serde_json::from_str(&r.get::<String, _>(1)).unwrap_or_default();
            let explained: Vec<_> = issues
                .into_iter()
                .filter(|i| i.explanation.is_some())
                .collect();
            if !explained.is_empty() {
                out.insert(r.get::<i64, _>(0), explained);
            }
        }
        Ok(out)
    }

    /// Every review of a reporter's reports for a month, oldest first.
    pub async fn reporter_reviews(
        &self,
        reporter: &str,
        form: &str,
        period: &str,
    ) -> sqlx::Result<Vec<ReviewRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews r WHERE r.period = $1 AND r.reporter = $2 AND r.form = $3 ORDER BY r.id"
        )))
        .bind(period)
        .bind(reporter)
        .bind(form)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(review_from).collect())
    }

    /// Every review of a submission, oldest first.
    pub async fn reviews_of(&self, submission_id: i64) -> sqlx::Result<Vec<ReviewRow>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {REVIEW_COLUMNS} FROM reviews r WHERE r.submission_id = $1 ORDER BY r.id"
        )))
        .bind(submission_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.iter().map(review_from).collect())
    }
}

/// The accepted reports of `who`'s form for `period` of its expected
/// reporters directly under `org` (in the tree of the period's last month), each with its latest review; on the
/// approval's transaction.
pub(crate) async fn child_reviews_in(
    conn: &mut <Db as sqlx::Database>::Connection,
    org: &OrgRow,
    who: Reporters<'_>,
    period: &str,
) -> sqlx::Result<Vec<ChildReview>> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT o.code, s.id, (SELECT r.decision FROM reviews r WHERE r.submission_id = s.id ORDER BY r.id DESC LIMIT 1) FROM {} o JOIN submissions s ON s.reporter = o.code AND s.period = $2 AND s.form = $3 AND s.status = 'accepted' WHERE o.parent_code = $1 AND {} ORDER BY o.code",
        super::month_tree(period),
        who.expected_sql("o")
    )))
    .bind(&org.code)
    .bind(period)
    .bind(who.form)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows
        .iter()
        .map(|r| ChildReview {
            reporter: r.get(0),
            submission_id: r.get(1),
            decision: r
                .get::<Option<String>, _>(2)
                .as_deref()
                .and_then(Decision::parse),
        })
        .collect())
}
