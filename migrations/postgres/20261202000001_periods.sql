-- Locking, approval (逐级审核) and audit history (issue 6). The same schema as
-- migrations/sqlite/20261202000001_periods.sql, in PostgreSQL types.

CREATE TABLE lock_overrides (
    submission_id BIGINT PRIMARY KEY NOT NULL REFERENCES submissions(id),
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TEXT COLLATE "C" NOT NULL,
    used BIGINT NOT NULL DEFAULT 0,
    lock_detail TEXT
);

CREATE TABLE approvals (
    id BIGSERIAL PRIMARY KEY,
    org_code TEXT COLLATE "C" NOT NULL REFERENCES org_units(code),
    period TEXT COLLATE "C" NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at TEXT COLLATE "C" NOT NULL,
    revoked_by TEXT,
    revoked_at TEXT COLLATE "C",
    revoke_reason TEXT
);
CREATE UNIQUE INDEX approvals_live ON approvals(org_code, period) WHERE revoked_at IS NULL;
CREATE INDEX approvals_period ON approvals(period, org_code);

CREATE INDEX audit_period_unit ON audit(period, unit_code);
