//! Contacts (联系人) of reporters: read by whoever reads the reporter, edited by
//! submitters and admins over it (its own federation and those above it).

use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use crate::context::AppContext;
use crate::flows::contacts::{self, ContactView};
use crate::store::contacts::ContactChange;
use crate::store::keys::Role;
use crate::store::orgs::OrgRow;

/// A reporting federation the caller may read (a grassroots union has no contact).
async fn reporter_org(
    ctx: &AppContext,
    principal: &Principal,
    code: &str,
) -> Result<OrgRow, ApiError> {
    let org = principal.readable_org(ctx, code).await?;
    if org.is_grassroots() {
        return Err(ApiError::BadRequest(format!(
            "{code} 是基层工会，联系人属于报送单位 / {code} is a grassroots union; contacts belong to reporting federations"
        )));
    }
    Ok(org)
}

/// `GET /api/v1/orgs/{code}/contact`
#[utoipa::path(
    get,
    path = "/orgs/{code}/contact",
    tag = "reporting",
    params(("code" = String, Path, description = "A reporting federation", example = "330102001")),
    responses(
        (status = 200, description = "The reporter's contact (fields null when unknown)", body = ContactView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A grassroots union", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<ContactView>, ApiError> {
    let org = reporter_org(&ctx, &principal, &code).await?;
    let row = ctx.store.contact(&org.code).await?;
    Ok(Json(ContactView::of(&org, row.as_ref())))
}

/// A change to a contact: a field left out is kept, an empty string clears it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactEdit {
    /// 填报人.
    name: Option<String>,
    /// 联系电话.
    phone: Option<String>,
    /// Where reminders (催报) go.
    email: Option<String>,
}

/// `PUT /api/v1/orgs/{code}/contact`
#[utoipa::path(
    put,
    path = "/orgs/{code}/contact",
    tag = "reporting",
    params(("code" = String, Path, description = "A reporting federation", example = "330102001")),
    request_body = ContactEdit,
    responses(
        (status = 200, description = "The contact after the edit (audited as contact_changed)", body = ContactView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
        (status = 422, description = "A grassroots union, or a field too long or an email that is not one", body = ErrorBody),
    )
)]
pub async fn edit(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
    Json(body): Json<ContactEdit>,
) -> Result<Json<ContactView>, ApiError> {
    let org = reporter_org(&ctx, &principal, &code).await?;
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden(
            "只读账号不能修改联系人 / a viewer cannot change contacts".into(),
        ));
    }
    let change = ContactChange {
        name: body.name.as_deref(),
        phone: body.phone.as_deref(),
        email: body.email.as_deref(),
    };
    contacts::check_change(&change).map_err(ApiError::BadRequest)?;
    let actor = principal.actor().to_string();
    let row = ctx.store.edit_contact(&org.code, &change, &actor).await?;
    Ok(Json(ContactView::of(&org, Some(&row))))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ContactList {
    org: String,
    /// Every expected reporter of the subtree (today's tree), with or without a contact.
    contacts: Vec<ContactView>,
}

/// `GET /api/v1/orgs/{code}/contacts`
#[utoipa::path(
    get,
    path = "/orgs/{code}/contacts",
    tag = "reporting",
    params(("code" = String, Path, description = "Org unit code", example = "330102")),
    responses(
        (status = 200, description = "The contacts of the subtree's reporters", body = ContactList),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such org unit in the key's subtree: an unknown code and one outside the subtree answer alike", body = ErrorBody),
    )
)]
pub async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(code): Path<String>,
) -> Result<Json<ContactList>, ApiError> {
    let org = principal.readable_org(&ctx, &code).await?;
    Ok(Json(ContactList {
        contacts: contacts::contacts_under(&ctx, &org).await?,
        org: org.code,
    }))
}
