-- Warehouse v2 (SQLite; the PostgreSQL twin is migrations/postgres/20261204000001_warehouse_v2.sql):
-- one row per (grassroots unit, period) holding the unit's figures, and one row per
-- (federation, period) holding its roll-up, both keyed by integers. The metric
-- columns are not listed here: the store adds one per catalogue metric at start
-- (recorded in metric_columns), so a metric added to the catalogue needs no release,
-- and the column of a metric that leaves the catalogue is kept with its figures.

-- A unit's compact identity. It stays the unit's when the unit later moves in the
-- tree; every new org unit gets one (trigger below).
CREATE TABLE org_ids (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE
);
INSERT INTO org_ids (code) SELECT code FROM org_units ORDER BY path;
CREATE TRIGGER org_ids_of_new_units AFTER INSERT ON org_units
BEGIN
    INSERT OR IGNORE INTO org_ids (code) VALUES (NEW.code);
END;

-- The metric columns, in slot order: unit_figures.m_<metric> (NULL = not
-- reported), rollup_figures.s_<metric> (Σ) and n_<metric> (units that reported it).
CREATE TABLE metric_columns (
    metric TEXT PRIMARY KEY NOT NULL,
    slot INTEGER NOT NULL UNIQUE,
    added_at TEXT NOT NULL
);

-- A grassroots unit's accepted figures for a period (period: the integer key,
-- yyyymm for a month), scaled by 10^decimals. The period comes first, so a month's
-- rows are written together and a month is read as one range; the unit index
-- serves a unit's series.
CREATE TABLE unit_figures (
    period INTEGER NOT NULL,
    unit_id INTEGER NOT NULL,
    submission_id INTEGER NOT NULL REFERENCES submissions(id),
    PRIMARY KEY (period, unit_id)
) WITHOUT ROWID;
CREATE INDEX unit_figures_unit ON unit_figures(unit_id, period);
CREATE INDEX unit_figures_submission ON unit_figures(submission_id);

-- A federation's roll-up for a period: per metric Σ and count (columns added by
-- the store), grassroots units with any figure, expected reporters with an
-- accepted report. A row that comes to nothing is removed.
CREATE TABLE rollup_figures (
    org_id INTEGER NOT NULL,
    period INTEGER NOT NULL,
    reported_units INTEGER NOT NULL DEFAULT 0,
    reported_reporters INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, period)
) WITHOUT ROWID;

-- The figures of the first layout wait in legacy_facts until the store, at its
-- next start, has added their metric columns and moved them into unit_figures
-- (one transaction, counted) and recomputed the roll-ups; the old roll-up tables
-- held nothing that cannot be recomputed from the figures.
ALTER TABLE facts RENAME TO legacy_facts;
DROP TABLE rollups;
DROP TABLE rollup_coverage;
CREATE TABLE legacy_conversion (pending INTEGER NOT NULL);
INSERT INTO legacy_conversion (pending) VALUES (1);
