-- Review and return (审核与退回, issue 16). The level above a reporter reviews
-- its accepted report for a month: approves it, or returns it with a comment.
-- A review belongs to one submission: a new accepted upload for the month is
-- a new submission with no review yet, so a return is cleared by the next
-- accepted upload while the old review stays here (and in the audit).
-- Portable DDL: the PostgreSQL twin is
-- migrations/postgres/20261206000001_review.sql. id: INTEGER PRIMARY KEY (the
-- rowid) here, BIGSERIAL there.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions(id),
    reporter TEXT NOT NULL REFERENCES org_units(code),
    period TEXT NOT NULL,
    -- approved | returned
    decision TEXT NOT NULL,
    -- Required for a return; optional for an approval.
    comment TEXT,
    -- The federation above the reporter that reviewed.
    reviewer_org TEXT NOT NULL REFERENCES org_units(code),
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT NOT NULL
);
-- The latest review of a submission: the highest id.
CREATE INDEX reviews_submission ON reviews(submission_id, id);
CREATE INDEX reviews_period ON reviews(period, reporter);
