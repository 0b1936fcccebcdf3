-- Explained exceptions (强制上报 with 说明). `explanations`: the explanations
-- the uploader gave with the upload, one per finding (JSON
-- [{"rule","cell","text"}], '' for none), read by the ingest job; once
-- judged, each explanation is kept on its finding in `issues` and, when the
-- submission is accepted, in an audit row `issue_explained`. The same bytes
-- with other explanations are another submission: `explanations_sha256`
-- (of that JSON, '' for none) joins the dedup key.
ALTER TABLE submissions ADD COLUMN explanations TEXT NOT NULL DEFAULT '';
ALTER TABLE submissions ADD COLUMN explanations_sha256 TEXT NOT NULL DEFAULT '';
DROP INDEX submissions_dedup;
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period, COALESCE(scope_org, ''), nil_requested, explanations_sha256)
    WHERE status <> 'superseded';
