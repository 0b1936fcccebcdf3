//! The pure core of unionstat.
//!
//! Everything here works on bytes and numbers: reading a workbook into typed rows,
//! normalising cells, validating against the catalogue, and the arithmetic of
//! roll-ups and indicators. Nothing here touches a database, a queue or HTTP; the
//! service crate loads, calls into this crate, and stores.

pub mod catalog;
pub mod form;
pub mod ingest;
pub mod issue;
pub mod orgs;
pub mod period;
pub mod reconcile;
pub mod rollup;
pub mod text;
pub mod validate;
pub mod workbook_out;

pub use catalog::Catalog;
pub use issue::{Issue, Message, Severity};
pub use period::Period;

/// A hash map keyed by the catalogue's own codes and labels (metric codes,
/// rule codes, header texts), which the catalogue fixes, not the input: a
/// fast hash serves them, where the default one (built to resist keys
/// chosen by an attacker) was a sixth of the instructions of an indicators
/// answer with 100 children (BENCHMARKS.md).
pub type CodeMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
