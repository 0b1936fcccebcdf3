//! Integration tests: the real service (HTTP on port 0, apalis queue) on SQLite
//! and, for the tests each module lists in `postgres_twins!`, on PostgreSQL.

#[macro_use]
mod backends;
mod annotated;
mod auth;
mod clerk;
mod cli;
mod compare;
mod completeness;
mod contacts;
mod corpus;
mod crash;
mod diagnoses;
mod entry;
mod explain;
mod export;
mod forms;
mod forms_cycle;
mod forms_export;
mod forms_stored;
mod helpers;
mod hostile;
mod ingest;
mod locking;
mod metrics;
mod migration;
mod nil_reports;
mod openapi;
mod partial;
mod people;
mod periods;
mod pgbouncer;
mod reminders;
mod resilience;
mod review;
mod rollups;
mod scope;
mod smtp;
mod templates;
mod tree;
mod web;
mod web_figures;
mod web_forms;
mod web_issues;
mod web_staff;
mod webdriver;
