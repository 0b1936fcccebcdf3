//! unionstat: monthly statistics of grassroots trade unions in, trustworthy
//! roll-ups for every federation above them out.
//!
//! The pure work (reading workbooks, the rules, the roll-up arithmetic) is
//! `unionstat_core` (crates/core). This crate is the service, in layers from
//! the bottom up; a module uses only modules of its own layer or below:
//!
//! 1. [`config`] (settings, job settings), [`telemetry`] (logs, metrics),
//!    [`passwords`] (hashes), [`allocator`] (the programs' memory allocator),
//!    [`answer_cache`] (serialized answers kept per warehouse state),
//!    [`workbook_budget`] (the workbooks ingest jobs may hold at once):
//!    foundations;
//! 2. [`store`]: the warehouse;
//! 3. [`queue`] (apalis plumbing), [`sandbox`] (the reader child processes)
//!    and [`mail`] (notices out, over SMTP);
//! 4. [`context`]: what every handler is given;
//! 5. [`flows`]: what the service does — [`flows::intake`] (an upload from
//!    bytes to figures), changes to the tree, lock rules, the answers, exports;
//! 6. [`jobs`]: the background jobs, one file each;
//! 7. [`api`], [`cli`], [`web`]: the front doors;
//! 8. [`startup`]: the server and workers of a process.

pub mod allocator;
pub mod answer_cache;
pub mod api;
pub mod cli;
pub mod config;
pub mod context;
pub mod flows;
pub mod jobs;
pub mod mail;
pub mod passwords;
pub mod queue;
pub mod sandbox;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod web;
pub mod workbook_budget;

pub use config::Settings;
pub use context::AppContext;
pub use startup::Application;
pub use unionstat_core as core;
