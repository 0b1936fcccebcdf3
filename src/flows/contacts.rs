//! Contacts (联系人): reading a reporter's contact and the contacts of a
//! subtree's reporters, and checking an edit before the store applies it.
//! Covers update contacts inside the verdict's transaction (`store::contacts`).

use serde::Serialize;

use crate::context::AppContext;
use crate::store::contacts::{ContactChange, ContactRow};
use crate::store::orgs::{OrgRow, TreeAt};

/// One reporter's contact, as the API and the CLI show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ContactView {
    /// The reporter's code and name.
    pub org: String,
    pub org_name: String,
    /// 填报人; null when unknown.
    pub name: Option<String>,
    /// 联系电话.
    pub phone: Option<String>,
    pub email: Option<String>,
    /// When and by whom it last changed, and how: `cover` (an upload's cover
    /// sheet), `edit` (staff) or `migration` (the last cover known at upgrade).
    pub updated_at: Option<String>,
    pub updated_by: Option<String>,
    pub source: Option<String>,
}

impl ContactView {
    pub fn of(org: &OrgRow, row: Option<&ContactRow>) -> ContactView {
        let field = |pick: fn(&ContactRow) -> &str| {
            row.map(pick).filter(|v| !v.is_empty()).map(str::to_string)
        };
        ContactView {
            org: org.code.clone(),
            org_name: org.name.clone(),
            name: field(|c| &c.name),
            phone: field(|c| &c.phone),
            email: field(|c| &c.email),
            updated_at: row.map(|c| c.updated_at.clone()),
            updated_by: row.map(|c| c.updated_by.clone()),
            source: row.map(|c| c.source.clone()),
        }
    }
}

/// The contacts of every expected reporter of `root`'s subtree (today's
/// tree), those without one included, in code order.
pub async fn contacts_under(ctx: &AppContext, root: &OrgRow) -> sqlx::Result<Vec<ContactView>> {
    let reporters = ctx.store.expected_reporters(root, TreeAt::Current).await?;
    let mut known = ctx.store.contacts_under(root, TreeAt::Current).await?;
    let mut out: Vec<ContactView> = reporters
        .iter()
        .map(|r| ContactView::of(r, known.remove(&r.code).as_ref()))
        .collect();
    out.sort_by(|a, b| a.org.cmp(&b.org));
    Ok(out)
}

/// Why an edit is refused, in Chinese and English.
pub fn check_change(change: &ContactChange<'_>) -> Result<(), String> {
    let fields = [
        ("填报人", "name", change.name, 50),
        ("联系电话", "phone", change.phone, 40),
        ("电子邮箱", "email", change.email, 254),
    ];
    for (zh, en, value, max) in fields {
        let Some(v) = value else { continue };
        if v.chars().any(char::is_control) {
            return Err(format!(
                "{zh}不能含有控制字符 / {en} must not hold control characters"
            ));
        }
        if v.trim().chars().count() > max {
            return Err(format!(
                "{zh}最多 {max} 个字符 / {en} takes at most {max} characters"
            ));
        }
    }
    match change.email.map(str::trim) {
        Some(e) if !e.is_empty() && !is_email(e) => Err(format!(
            "电子邮箱“{e}”格式不对，应如 name@example.com / {e:?} is not an email address such as name@example.com"
        )),
        _ => Ok(()),
    }
}

/// An address of the form local@domain.tld, without spaces.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == '<' || c == '>' || c == ',')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_checked_for_their_shape_only() {
        assert!(is_email("zhang.san@example.com"));
        assert!(is_email("李四@例子.中国"));
        for bad in [
            "", "a@b", "@b.cn", "a b@c.cn", "a@b@c.cn", "a@.cn", "<a@b.cn>",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        let e = check_change(&ContactChange {
            email: Some("zhangsan"),
            ..Default::default()
        })
        .unwrap_err();
        assert!(
            e.contains("电子邮箱“zhangsan”格式不对") && e.contains("is not an email address"),
            "{e}"
        );
        assert!(check_change(&ContactChange {
            email: Some(""),
            ..Default::default()
        })
        .is_ok());
    }
}
