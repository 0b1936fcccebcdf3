//! The domain flows, shared by the front doors (HTTP, CLI, web) and the job
//! handlers: each is what the service does for one kind of request, on the
//! shared context, with the store's operations underneath.

pub mod answers;
pub mod contacts;
pub mod entry;
pub mod export;
pub mod form_period;
pub mod intake;
pub mod locking;
pub mod reminders;
pub mod review;
pub mod tree_changes;
pub mod views;
pub mod workbooks;
