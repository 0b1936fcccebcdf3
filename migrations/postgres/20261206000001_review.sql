-- Review and return (审核与退回, issue 16): see
-- migrations/sqlite/20261206000001_review.sql for what each column means.
CREATE TABLE reviews (
    id BIGSERIAL PRIMARY KEY,
    submission_id BIGINT NOT NULL REFERENCES submissions(id),
    reporter TEXT COLLATE "C" NOT NULL REFERENCES org_units(code),
    period TEXT COLLATE "C" NOT NULL,
    decision TEXT NOT NULL,
    comment TEXT,
    reviewer_org TEXT COLLATE "C" NOT NULL REFERENCES org_units(code),
    reviewed_by TEXT NOT NULL,
    reviewed_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX reviews_submission ON reviews(submission_id, id);
CREATE INDEX reviews_period ON reviews(period, reporter);
