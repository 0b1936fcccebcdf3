-- Locking, approval (逐级审核) and audit history (issue 6). Portable DDL: the
-- PostgreSQL twin is migrations/postgres/20261202000001_periods.sql.

-- An admin's reason to change a locked month, one per submission. used = 1 once
-- the submission was processed while its month was locked (the override took
-- effect and the accept transaction writes an audit row from it).
CREATE TABLE lock_overrides (
    submission_id BIGINT PRIMARY KEY NOT NULL REFERENCES submissions(id),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    lock_detail TEXT
);

-- A federation's sign-off of its subtree for a month. Live while revoked_at is
-- NULL; a revoked approval is kept. id: INTEGER PRIMARY KEY (the rowid) here,
-- BIGSERIAL in PostgreSQL.
CREATE TABLE approvals (
    id INTEGER PRIMARY KEY,
    org_code TEXT NOT NULL REFERENCES org_units(code),
    period TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT,
    revoke_reason TEXT
);
-- At most one live approval per federation and month.
CREATE UNIQUE INDEX approvals_live ON approvals(org_code, period) WHERE revoked_at IS NULL;
CREATE INDEX approvals_period ON approvals(period, org_code);

-- History of a subtree for a month: audit rows by month and unit.
CREATE INDEX audit_period_unit ON audit(period, unit_code);
