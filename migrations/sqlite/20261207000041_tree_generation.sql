-- The tree's generation: `answer_generation.tree`, bumped (with `n`) by every
-- change to the tree over time (versions, successors, the newest change).
-- An ingest job places its sheet's units (ids, paths in the month's tree, the
-- lineages) on a read connection, outside the single writer, and notes this
-- number; the writer uses that placement only if the number is unchanged in
-- its own transaction, and places the units again itself otherwise.
-- The twin is migrations/postgres/20261207000041_tree_generation.sql.
ALTER TABLE answer_generation ADD COLUMN tree INTEGER NOT NULL DEFAULT 0;

DROP TRIGGER answers_org_versions_i;
DROP TRIGGER answers_org_versions_u;
DROP TRIGGER answers_org_versions_d;
DROP TRIGGER answers_org_successors_i;
DROP TRIGGER answers_org_successors_u;
DROP TRIGGER answers_org_successors_d;
DROP TRIGGER answers_tree_state_u;
CREATE TRIGGER answers_org_versions_i AFTER INSERT ON org_versions BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_versions_u AFTER UPDATE ON org_versions BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_versions_d AFTER DELETE ON org_versions BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_i AFTER INSERT ON org_successors BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_u AFTER UPDATE ON org_successors BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_d AFTER DELETE ON org_successors BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
CREATE TRIGGER answers_tree_state_u AFTER UPDATE ON tree_state BEGIN UPDATE answer_generation SET n = n + 1, tree = tree + 1 WHERE id = 1; END;
