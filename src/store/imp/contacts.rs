//! Contacts (联系人) as master data: read, edited, and taken from covers.

use std::collections::HashMap;

use super::{Db, Repo};
use crate::store::contacts::{ContactChange, ContactRow};
use crate::store::now;
use crate::store::orgs::{subtree_end, tree_sql, OrgRow, TreeAt};

const COLUMNS: &str = "org_code, name, phone, email, updated_at, updated_by, source";

impl Repo {
    pub async fn contact(&self, org: &str) -> sqlx::Result<Option<ContactRow>> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM contacts WHERE org_code = $1"
        )))
        .bind(org)
        .fetch_optional(&self.pool)
        .await
    }

    pub async fn contacts_under(
        &self,
        root: &OrgRow,
        at: TreeAt,
    ) -> sqlx::Result<HashMap<String, ContactRow>> {
        let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT c.org_code, c.name, c.phone, c.email, c.updated_at, c.updated_by, c.source FROM contacts c JOIN {} o ON o.code = c.org_code WHERE o.path >= $1 AND o.path < $2 AND o.expected_to_report",
            tree_sql(at)
        )))
        .bind(&root.path)
        .bind(subtree_end(&root.path))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|c| (c.org_code.clone(), c)).collect())
    }

    pub async fn edit_contact(
        &self,
        org: &str,
        change: &ContactChange<'_>,
        actor: &str,
    ) -> sqlx::Result<ContactRow> {
        let mut tx = self.begin_write().await?;
        let before: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM contacts WHERE org_code = $1"
        )))
        .bind(org)
        .fetch_optional(&mut *tx)
        .await?;
        let before = before.unwrap_or_default();
        let pick = |new: Option<&str>, old: &str| new.map(str::trim).unwrap_or(old).to_string();
        let after = ContactRow {
            org_code: org.to_string(),
            name: pick(change.name, &before.name),
            phone: pick(change.phone, &before.phone),
            email: pick(change.email, &before.email),
            updated_at: now(),
            updated_by: actor.to_string(),
            source: "edit".into(),
        };
        sqlx::query(
            "INSERT INTO contacts (org_code, name, phone, email, updated_at, updated_by, source) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_code) DO UPDATE SET name = excluded.name, phone = excluded.phone, email = excluded.email, updated_at = excluded.updated_at, updated_by = excluded.updated_by, source = excluded.source",
        )
        .bind(&after.org_code)
        .bind(&after.name)
        .bind(&after.phone)
        .bind(&after.email)
        .bind(&after.updated_at)
        .bind(&after.updated_by)
        .bind(&after.source)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO audit (at, actor, action, unit_code, detail) VALUES ($1, $2, 'contact_changed', $3, $4)",
        )
        .bind(&after.updated_at)
        .bind(actor)
        .bind(org)
        .bind(format!(
            "填报人 {:?} → {:?}; 联系电话 {:?} → {:?}; email {:?} → {:?}",
            before.name, after.name, before.phone, after.phone, before.email, after.email
        ))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(after)
    }
}

/// Takes the contact fields a cover sheet (as stored JSON) carries into the
/// reporter's contact, inside the transaction that records the verdict. A
/// field the cover leaves blank keeps the known value; a cover with none
/// changes nothing.
pub(crate) async fn contact_from_cover(
    conn: &mut <Db as sqlx::Database>::Connection,
    reporter: &str,
    cover: Option<&str>,
    actor: &str,
) -> sqlx::Result<()> {
    let Some(cover) =
        cover.and_then(|c| serde_json::from_str::<unionstat_core::ingest::Cover>(c).ok())
    else {
        return Ok(());
    };
    let (name, phone, email) = cover.contact();
    if name.is_none() && phone.is_none() && email.is_none() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO contacts (org_code, name, phone, email, updated_at, updated_by, source) VALUES ($1, COALESCE($2, ''), COALESCE($3, ''), COALESCE($4, ''), $5, $6, 'cover') ON CONFLICT (org_code) DO UPDATE SET name = COALESCE($2, contacts.name), phone = COALESCE($3, contacts.phone), email = COALESCE($4, contacts.email), updated_at = excluded.updated_at, updated_by = excluded.updated_by, source = excluded.source",
    )
    .bind(reporter)
    .bind(name)
    .bind(phone)
    .bind(email)
    .bind(now())
    .bind(actor)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
