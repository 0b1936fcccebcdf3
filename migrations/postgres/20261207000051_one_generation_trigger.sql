-- One trigger function for both generations (it replaces the separate
-- `bump_tree_generation()` of 20261207000041): a change to a tree table
-- (versions, successors, the newest change) bumps `n` and `tree`, any other
-- change `n` alone; each at most once per transaction, at commit, as before.
-- The tree tables' `answers_*` triggers now do what their `tree_*` twins did.
-- SQLite's triggers already bump both in one statement (no migration there).
CREATE OR REPLACE FUNCTION bump_answer_generation() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    flag text := CASE WHEN TG_TABLE_NAME IN ('org_versions', 'org_successors', 'tree_state')
                      THEN 'unionstat.tree_bumped' ELSE 'unionstat.answers_bumped' END;
BEGIN
    IF current_setting(flag, true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config(flag, 'yes', true);
    IF flag = 'unionstat.tree_bumped' THEN
        UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1;
    ELSE
        UPDATE answer_generation SET n = n + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;

DROP TRIGGER tree_org_versions ON org_versions;
DROP TRIGGER tree_org_successors ON org_successors;
DROP TRIGGER tree_tree_state ON tree_state;
DROP FUNCTION bump_tree_generation();
