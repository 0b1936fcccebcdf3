-- The tree's generation: `answer_generation.tree`, bumped by every change to
-- the tree over time (versions, successors, the newest change), at commit and
-- once per transaction like `n`. An ingest job places its sheet's units (ids,
-- paths in the month's tree, the lineages) on a read connection, outside the
-- writer, and notes this number; the writer uses that placement only if the
-- number is unchanged once it holds the tree in share mode, and places the
-- units again itself otherwise.
-- The twin is migrations/sqlite/20261207000041_tree_generation.sql.
ALTER TABLE answer_generation ADD COLUMN tree BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_tree_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('unionstat.tree_bumped', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('unionstat.tree_bumped', 'yes', true);
    UPDATE answer_generation SET tree = tree + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER tree_org_versions AFTER INSERT OR UPDATE OR DELETE ON org_versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tree_generation();
CREATE CONSTRAINT TRIGGER tree_org_successors AFTER INSERT OR UPDATE OR DELETE ON org_successors
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tree_generation();
CREATE CONSTRAINT TRIGGER tree_tree_state AFTER INSERT OR UPDATE OR DELETE ON tree_state
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_tree_generation();
