-- Named people (users), their cookie sessions, throttling of failed sign-ins,
-- and the API key lifecycle (label, expiry, who created it). Portable DDL: the
-- PostgreSQL twin is migrations/postgres/20261203000002_people.sql.

-- A person who signs in with login and password (argon2id PHC string). A
-- disabled user cannot sign in and has no live session.
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    org_code TEXT NOT NULL REFERENCES org_units(code),
    role TEXT NOT NULL CHECK (role IN ('submitter', 'viewer', 'admin')),
    password_hash TEXT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    password_changed_at TEXT NOT NULL
);

-- A signed-in browser. id_hash is the SHA-256 of the random cookie value (the
-- value itself is never stored); the CSRF token goes with every write.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

-- Failed sign-ins, counted per login and per client address over a window.
CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    login TEXT NOT NULL,
    address TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_login ON login_failures(login, at);
CREATE INDEX login_failures_address ON login_failures(address, at);
CREATE INDEX login_failures_at ON login_failures(at);

-- Keys name the system that uses them, may expire, and say who made them.
ALTER TABLE api_keys ADD COLUMN label TEXT NOT NULL DEFAULT '';
ALTER TABLE api_keys ADD COLUMN expires_at TEXT;
ALTER TABLE api_keys ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
