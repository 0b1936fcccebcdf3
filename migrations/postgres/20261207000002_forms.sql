-- Forms (报表, issue 18): the monthly Template v1 is the first form of several.
-- Portable DDL: the twin is migrations/sqlite/20261207000002_forms.sql.
--
-- A form's figures share unit_figures and rollup_figures with the monthly ones:
-- their integer period key is the form's storage key, slot · 10^7 + period key
-- (crates/core/src/form.rs). monthly has slot 0, so every row already stored
-- keeps its key and nothing is rewritten; each other form gets the next free
-- slot when the store first starts with a catalogue that lists it (like
-- metric_columns). One table per form was the alternative: it would duplicate
-- every figure and roll-up statement per form, and a form added to the
-- catalogue would need its tables created at start all the same.
CREATE TABLE form_slots (
    form TEXT PRIMARY KEY NOT NULL,
    slot BIGINT NOT NULL UNIQUE,
    added_at TEXT NOT NULL
);
INSERT INTO form_slots (form, slot, added_at) VALUES ('monthly', 0, '2026-12-07T00:00:00.000Z');

-- Whatever is keyed by reporter and period is keyed by form too: an upload, its
-- review and a federation's sign-off are each of one form (a lock override
-- belongs to its submission, so to its form). Rows written before this
-- migration are all of the monthly form. Reminders stay keyed by period text:
-- forms of different periodicity never share one (2026-10, 2026SY, 2026H1).
ALTER TABLE submissions ADD COLUMN form TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE approvals ADD COLUMN form TEXT NOT NULL DEFAULT 'monthly';
ALTER TABLE reviews ADD COLUMN form TEXT NOT NULL DEFAULT 'monthly';

DROP INDEX submissions_dedup;
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period, COALESCE(scope_org, ''), nil_requested, explanations_sha256, form)
    WHERE status <> 'superseded';
DROP INDEX approvals_live;
CREATE UNIQUE INDEX approvals_live ON approvals(org_code, period, form) WHERE revoked_at IS NULL;
