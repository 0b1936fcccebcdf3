-- Audit rows only where an earlier value is changed or removed (issue 13).
-- A unit's first figure row of a month writes no audit row: its submission
-- (unit_figures.submission_id, and that submission's `submission_accepted`
-- audit row) says who set the figures and when. `audited` is false on such a
-- row; when the row is replaced, the accept transaction first writes its
-- figures' audit rows (attributed to that submission, at its time), then the
-- changes, so the history keeps every value a figure had and who set it.
-- Rows written before this migration have their audit rows already.
ALTER TABLE unit_figures ADD COLUMN audited BOOLEAN NOT NULL DEFAULT TRUE;
