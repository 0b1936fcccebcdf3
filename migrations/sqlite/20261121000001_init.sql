-- unionstat warehouse schema (SQLite). Append-only: change the schema in a new file.

-- The federation tree. path holds the codes from the root down to the unit itself,
-- '/330000/330100/330102/', so a subtree is a range scan on path and ancestors are
-- read off the path without recursion.
CREATE TABLE org_units (
    code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    parent_code TEXT REFERENCES org_units(code),
    kind TEXT NOT NULL CHECK (kind IN ('federation', 'grassroots')),
    expected_to_report INTEGER NOT NULL DEFAULT 0,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    -- grassroots units and expected reporters in the subtree (itself included)
    subtree_units INTEGER NOT NULL DEFAULT 0,
    subtree_reporters INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
CREATE INDEX org_units_parent ON org_units(parent_code);
CREATE UNIQUE INDEX org_units_path ON org_units(path);

-- One uploaded file. req_reporter/req_period are what the caller named ('' when
-- the cover decides); reporter/period are what was resolved while processing.
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL,
    req_reporter TEXT NOT NULL DEFAULT '',
    req_period TEXT NOT NULL DEFAULT '',
    reporter TEXT,
    period TEXT,
    filename TEXT NOT NULL DEFAULT '',
    size_bytes INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'processing', 'accepted', 'rejected', 'superseded')),
    attempts INTEGER NOT NULL DEFAULT 0,
    uploaded_by TEXT NOT NULL,
    -- the uploader's org: the reporter must lie in its subtree (NULL: any)
    scope_org TEXT,
    received_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    superseded_by INTEGER REFERENCES submissions(id),
    error_count INTEGER NOT NULL DEFAULT 0,
    warning_count INTEGER NOT NULL DEFAULT 0,
    rows_read INTEGER NOT NULL DEFAULT 0,
    issues TEXT NOT NULL DEFAULT '[]',
    cover TEXT
);
-- The same bytes for the same requested reporter and period are one submission
-- (while it is not superseded).
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period)
    WHERE status <> 'superseded';
CREATE INDEX submissions_reporter_period ON submissions(reporter, period, status);
CREATE INDEX submissions_status ON submissions(status);

-- The uploaded bytes, kept for ever (superseded ones too).
CREATE TABLE submission_files (
    submission_id INTEGER PRIMARY KEY NOT NULL REFERENCES submissions(id),
    content BLOB NOT NULL
);

-- Accepted figures: one per (unit, month, metric), scaled by 10^decimals.
CREATE TABLE facts (
    unit_code TEXT NOT NULL,
    period TEXT NOT NULL,
    metric TEXT NOT NULL,
    value INTEGER NOT NULL,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    PRIMARY KEY (unit_code, period, metric)
) WITHOUT ROWID;
CREATE INDEX facts_submission ON facts(submission_id);
CREATE INDEX facts_period ON facts(period);

-- Σ of each metric over each federation's subtree, and how many units reported it.
CREATE TABLE rollups (
    org_code TEXT NOT NULL,
    period TEXT NOT NULL,
    metric TEXT NOT NULL,
    value INTEGER NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (org_code, period, metric)
) WITHOUT ROWID;

-- Per federation and month: grassroots units with any figure, and expected
-- reporters with an accepted submission.
CREATE TABLE rollup_coverage (
    org_code TEXT NOT NULL,
    period TEXT NOT NULL,
    reported_units INTEGER NOT NULL,
    reported_reporters INTEGER NOT NULL,
    PRIMARY KEY (org_code, period)
) WITHOUT ROWID;

-- Who changed what, when, from which submission. Never updated or deleted.
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    submission_id INTEGER,
    unit_code TEXT,
    period TEXT,
    metric TEXT,
    old_value INTEGER,
    new_value INTEGER,
    detail TEXT
);
CREATE INDEX audit_fact ON audit(unit_code, period, metric);
CREATE INDEX audit_submission ON audit(submission_id);

-- API keys, stored as SHA-256 of the key; the key itself is shown once.
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units(code),
    role TEXT NOT NULL CHECK (role IN ('submitter', 'viewer', 'admin')),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
