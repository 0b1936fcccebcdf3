-- The form an uploader names (`form=annual_survey`), kept with the upload so
-- the ingest job checks the workbook against it as a dry run does: a workbook
-- of another form is refused (form_mismatch). '' when none is named (the
-- workbook's own form). `form` stays the form the accepted upload is of.
-- Portable DDL: the twin is migrations/sqlite/20261207000021_submission_req_form.sql.
--
-- The same bytes named as another form are another upload.
ALTER TABLE submissions ADD COLUMN req_form TEXT NOT NULL DEFAULT '';

DROP INDEX submissions_dedup;
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period, COALESCE(scope_org, ''), nil_requested, explanations_sha256, form, req_form)
    WHERE status <> 'superseded';
