-- The federation tree over time (SQLite; the PostgreSQL twin is
-- migrations/postgres/20261205000001_tree_over_time.sql).
--
-- A unit's parent, name, kind and whether it is expected to report hold for a
-- range of months: one row of org_versions per unit and range, [valid_from,
-- valid_to) as month keys (yyyymm; 0 = since always, 999999 = still in force).
-- A month's tree is every version whose range holds the month; a unit closed
-- from a month has no version from then on. Each version carries its path,
-- depth and subtree counts in that tree, so a month's subtree is a path range
-- as before. org_units keeps every unit's identity and its newest attributes
-- (the current tree), with closed_from set once it is closed.
CREATE TABLE org_versions (
    code TEXT NOT NULL REFERENCES org_units(code),
    valid_from INTEGER NOT NULL,
    valid_to INTEGER NOT NULL,
    name TEXT NOT NULL,
    parent_code TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('federation', 'grassroots')),
    expected_to_report INTEGER NOT NULL DEFAULT 0,
    path TEXT NOT NULL,
    depth INTEGER NOT NULL,
    subtree_units INTEGER NOT NULL DEFAULT 0,
    subtree_reporters INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (code, valid_from),
    CHECK (valid_from < valid_to)
) WITHOUT ROWID;
CREATE INDEX org_versions_path ON org_versions(path, valid_from);
CREATE INDEX org_versions_parent ON org_versions(parent_code, valid_from);
CREATE INDEX org_versions_to ON org_versions(valid_to);
CREATE INDEX org_versions_from ON org_versions(valid_from);
INSERT INTO org_versions (code, valid_from, valid_to, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters)
    SELECT code, 0, 999999, name, parent_code, kind, expected_to_report, path, depth, subtree_units, subtree_reporters FROM org_units;
ALTER TABLE org_units ADD COLUMN closed_from INTEGER;

-- A unit merged into another: in the current-tree view its figures count as its
-- successor's (after merging A and B into C, C's earlier months are A + B).
CREATE TABLE org_successors (
    code TEXT PRIMARY KEY NOT NULL REFERENCES org_units(code),
    successor TEXT NOT NULL REFERENCES org_units(code),
    from_period INTEGER NOT NULL
);

-- Roll-ups of months before the newest tree change, restated under the
-- current tree (the same columns as rollup_figures; the store adds the metric
-- columns). Months from tree_state.newest_from on have none: their tree is the
-- current one, and rollup_figures serves both views.
CREATE TABLE rollup_restated (
    org_id INTEGER NOT NULL,
    period INTEGER NOT NULL,
    reported_units INTEGER NOT NULL DEFAULT 0,
    reported_reporters INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, period)
) WITHOUT ROWID;

-- The first month of the current tree: the latest month at which any version
-- starts or ends (0: the tree has never changed).
CREATE TABLE tree_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    newest_from INTEGER NOT NULL,
    -- metric slots that have their rollup_restated columns
    restated_slots INTEGER NOT NULL DEFAULT 0
);
INSERT INTO tree_state (id, newest_from) VALUES (1, 0);
