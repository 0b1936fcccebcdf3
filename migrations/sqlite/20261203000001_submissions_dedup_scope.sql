-- The same bytes are one submission only for the same requested reporter and
-- period AND the same uploader's scope (NULL: an admin or the CLI): an upload
-- of another scope's bytes is never answered with that scope's submission.
DROP INDEX submissions_dedup;
CREATE UNIQUE INDEX submissions_dedup ON submissions(sha256, req_reporter, req_period, COALESCE(scope_org, ''))
    WHERE status <> 'superseded';
