//! unionstat: monthly statistics of grassroots trade unions in, trustworthy
//! roll-ups for every federation above them out.
//!
//! Where things live: `unionstat_core` (crates/core) reads workbooks, validates
//! and does the roll-up arithmetic; here, [`store`] keeps the warehouse,
//! [`pipeline`] processes one submission, [`jobs`] runs it on apalis, [`api`]
//! and [`cli`] are the two front doors, [`web`] the page served over the API,
//! [`views`] shapes the answers; [`passwords`] hashes and checks the
//! passwords of the people who sign in.

pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod export;
pub mod jobs;
pub mod locking;
pub mod passwords;
pub mod pipeline;
pub mod reader;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod tree_changes;
pub mod views;
pub mod web;
pub mod workbooks;

pub use app::{AppContext, Application};
pub use config::Settings;
pub use unionstat_core as core;
