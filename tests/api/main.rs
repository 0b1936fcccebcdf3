//! Integration tests: the real service (HTTP on port 0, SQLite files, apalis queue).

mod auth;
mod cli;
mod completeness;
mod corpus;
mod export;
mod helpers;
mod hostile;
mod ingest;
mod locking;
mod metrics;
mod openapi;
mod periods;
mod rollups;
mod templates;
