-- The federation tree over time (PostgreSQL; the same tables as
-- migrations/sqlite/20261205000001_tree_over_time.sql, which explains them).
CREATE TABLE org_versions (
    code TEXT COLLATE "C" NOT NULL REFERENCES org_units(code),
    valid_from BIGINT NOT NULL,
    valid_to BIGINT NOT NULL,
    name TEXT NOT NULL,
    parent_code TEXT COLLATE "C",
    kind TEXT NOT NULL CHECK (kind IN ('federation', 'grassroots')),
    expected_to_report BOOLEAN NOT NULL DEFAULT FALSE,
    path TEXT COLLATE "C" NOT NULL,
    depth BIGINT NOT NULL,
    subtree_units BIGINT NOT NULL DEFAULT 0,
    subtree_reporters BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (code, valid_from),
    CHECK (valid_from < valid_to)
);
CREATE INDEX org_versions_path ON org_versions(path, valid_from);
CREATE INDEX org_versions_parent ON org_versions(parent_code, valid_from);
CREATE INDEX org_versions_to ON org_versions(valid_to);
CREATE INDEX org_versions_from ON org_versions(valid_from);
INSERT INTO org_versions (code, valid_from, valid_to, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters)
    SELECT code, 0, 999999, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units;
ALTER TABLE org_units ADD COLUMN closed_from BIGINT;

CREATE TABLE org_successors (
    code TEXT COLLATE "C" PRIMARY KEY NOT NULL REFERENCES org_units(code),
    successor TEXT COLLATE "C" NOT NULL REFERENCES org_units(code),
    from_period BIGINT NOT NULL
);

CREATE TABLE rollup_restated (
    org_id BIGINT NOT NULL,
    period BIGINT NOT NULL,
    reported_units BIGINT NOT NULL DEFAULT 0,
    reported_reporters BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, period)
);

CREATE TABLE tree_state (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    newest_from BIGINT NOT NULL,
    restated_slots BIGINT NOT NULL DEFAULT 0
);
INSERT INTO tree_state (id, newest_from) VALUES (1, 0);
