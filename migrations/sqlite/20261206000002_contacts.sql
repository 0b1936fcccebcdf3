-- Nil reports (零报告). `nil_requested`: the uploader declared the workbook a
-- report without figures (the upload's flag); the same bytes with and
-- without it are two submissions. `nil_report`: the accepted report is a nil
-- report (the flag or the cover's 零报告 line), set with the verdict.
ALTER TABLE submissions ADD COLUMN nil_requested BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE submissions ADD COLUMN nil_report BOOLEAN NOT NULL DEFAULT FALSE;
DROP INDEX submissions_dedup;
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period, COALESCE(scope_org, ''), nil_requested)
    WHERE status <> 'superseded';

-- Contacts (联系人) as master data: one per reporter, read and edited by its
-- federation and those above it, updated from covers that carry them (a
-- blank cover field never erases one). `source`: cover, edit or migration.
CREATE TABLE contacts (
    org_code TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    email TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    source TEXT NOT NULL
);
-- Each field from the reporter's latest cover that had it, of any month or verdict.
INSERT INTO contacts (org_code, name, phone, email, updated_at, updated_by, source)
SELECT r.reporter,
    COALESCE((SELECT TRIM(json_extract(s.cover, '$.preparer.value')) FROM submissions s
              WHERE s.reporter = r.reporter AND TRIM(COALESCE(json_extract(s.cover, '$.preparer.value'), '')) <> ''
              ORDER BY s.id DESC LIMIT 1), ''),
    COALESCE((SELECT TRIM(json_extract(s.cover, '$.phone.value')) FROM submissions s
              WHERE s.reporter = r.reporter AND TRIM(COALESCE(json_extract(s.cover, '$.phone.value'), '')) <> ''
              ORDER BY s.id DESC LIMIT 1), ''),
    '',
    strftime('%Y-%m-%dT%H:%M:%fZ', 'now'),
    'migration',
    'migration'
FROM (SELECT DISTINCT reporter FROM submissions WHERE reporter IS NOT NULL AND cover IS NOT NULL) r
WHERE EXISTS (SELECT 1 FROM submissions s WHERE s.reporter = r.reporter
              AND (TRIM(COALESCE(json_extract(s.cover, '$.preparer.value'), '')) <> ''
                   OR TRIM(COALESCE(json_extract(s.cover, '$.phone.value'), '')) <> ''));

-- Reminders (催报) sent: one row per reporter, month and notice (due_soon,
-- overdue). A run claims a row before sending (status 'sending'), so two
-- workers never send the same notice; 'failed' and 'unreachable' (no email)
-- are tried again by a later run; 'sent' never.
CREATE TABLE reminders_sent (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    org_code TEXT NOT NULL,
    period TEXT NOT NULL,
    kind TEXT NOT NULL,
    address TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'unreachable')),
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    claimed_at TEXT NOT NULL,
    sent_at TEXT,
    UNIQUE (org_code, period, kind)
);
CREATE INDEX reminders_sent_period ON reminders_sent(period, org_code);
