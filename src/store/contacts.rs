//! Contacts (联系人): one per reporter — who fills in its reports (填报人), a
//! phone and an email — kept as master data. Updated from every cover sheet
//! that carries them (a field the cover leaves blank keeps the known value)
//! and edited by the reporter's own federation and those above it.

use std::collections::HashMap;

use super::orgs::{OrgRow, TreeAt};

#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct ContactRow {
    pub org_code: String,
    /// 填报人; empty when unknown.
    pub name: String,
    pub phone: String,
    pub email: String,
    pub updated_at: String,
    /// Who last changed it: a person or key, or the actor of the upload whose
    /// cover brought it.
    pub updated_by: String,
    /// `cover`, `edit` or `migration`.
    pub source: String,
}

/// A change to a contact: `None` keeps the field, `Some("")` clears it.
#[derive(Debug, Clone, Default)]
pub struct ContactChange<'a> {
    pub name: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
}

delegate! {
    /// The contact of one reporter, if any is known.
    pub async fn contact(&self, org: &str) -> sqlx::Result<Option<ContactRow>>;
    /// The contacts of the expected reporters of the subtree of the tree `at`
    /// (`root` as that tree has it), by reporter.
    pub async fn contacts_under(&self, root: &OrgRow, at: TreeAt) -> sqlx::Result<HashMap<String, ContactRow>>;
    /// Applies an edit (audited as `contact_changed` under `actor`); returns
    /// the contact after it.
    pub async fn edit_contact(&self, org: &str, change: &ContactChange<'_>, actor: &str) -> sqlx::Result<ContactRow>;
}
