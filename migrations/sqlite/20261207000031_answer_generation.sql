-- The answers' generation: a counter bumped, in the same transaction, by every
-- change to what an indicators answer is made of (figures, roll-ups, the tree
-- over time, approvals). A service keeps serialized answers keyed by it
-- (`server.answer_cache_mb`) and reads it before each answer: an answer made
-- before a change is never served after it, from any process.
-- The twin is migrations/postgres/20261207000031_answer_generation.sql. A later
-- migration that rebuilds one of these tables must create its triggers again.
CREATE TABLE answer_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n INTEGER NOT NULL
);
INSERT INTO answer_generation (id, n) VALUES (1, 0);

CREATE TRIGGER answers_unit_figures_i AFTER INSERT ON unit_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_unit_figures_u AFTER UPDATE ON unit_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_unit_figures_d AFTER DELETE ON unit_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_figures_i AFTER INSERT ON rollup_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_figures_u AFTER UPDATE ON rollup_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_figures_d AFTER DELETE ON rollup_figures BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_restated_i AFTER INSERT ON rollup_restated BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_restated_u AFTER UPDATE ON rollup_restated BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_rollup_restated_d AFTER DELETE ON rollup_restated BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_units_i AFTER INSERT ON org_units BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_units_u AFTER UPDATE ON org_units BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_units_d AFTER DELETE ON org_units BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_versions_i AFTER INSERT ON org_versions BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_versions_u AFTER UPDATE ON org_versions BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_versions_d AFTER DELETE ON org_versions BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_i AFTER INSERT ON org_successors BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_u AFTER UPDATE ON org_successors BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_org_successors_d AFTER DELETE ON org_successors BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_tree_state_u AFTER UPDATE ON tree_state BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_approvals_i AFTER INSERT ON approvals BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_approvals_u AFTER UPDATE ON approvals BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER answers_approvals_d AFTER DELETE ON approvals BEGIN UPDATE answer_generation SET n = n + 1 WHERE id = 1; END;
