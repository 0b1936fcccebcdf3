-- The answers' generation: a counter bumped, in the same transaction, by every
-- change to what an indicators answer is made of (figures, roll-ups, the tree
-- over time, approvals). A service keeps serialized answers keyed by it
-- (`server.answer_cache_mb`) and reads it before each answer: an answer made
-- before a change is never served after it, from any process. A row, not a
-- sequence: a sequence moves before the change commits, so an answer read
-- from the old rows could be kept under the new number.
--
-- The bump runs at commit (deferred), once per transaction: taken mid-way, the
-- row's lock would come before the roll-up locks in one writer and after them
-- in another (an acceptance writes figures, then roll-ups; a rebuild locks the
-- roll-ups, then writes them), and the two would deadlock. At commit every
-- other lock is already held, so writers only queue on it.
-- The twin is migrations/sqlite/20261207000031_answer_generation.sql. A later
-- migration that rebuilds one of these tables must create its trigger again.
CREATE TABLE answer_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n BIGINT NOT NULL
);
INSERT INTO answer_generation (id, n) VALUES (1, 0);

CREATE FUNCTION bump_answer_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('unionstat.answers_bumped', true) = 'yes' THEN
        RETURN NULL;
    END IF;
    PERFORM set_config('unionstat.answers_bumped', 'yes', true);
    UPDATE answer_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER answers_unit_figures AFTER INSERT OR UPDATE OR DELETE ON unit_figures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_rollup_figures AFTER INSERT OR UPDATE OR DELETE ON rollup_figures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_rollup_restated AFTER INSERT OR UPDATE OR DELETE ON rollup_restated
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_org_units AFTER INSERT OR UPDATE OR DELETE ON org_units
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_org_versions AFTER INSERT OR UPDATE OR DELETE ON org_versions
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_org_successors AFTER INSERT OR UPDATE OR DELETE ON org_successors
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_tree_state AFTER INSERT OR UPDATE OR DELETE ON tree_state
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
CREATE CONSTRAINT TRIGGER answers_approvals AFTER INSERT OR UPDATE OR DELETE ON approvals
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION bump_answer_generation();
