//! The OpenAPI 3 document, generated from the handlers' `#[utoipa::path]`
//! annotations and the types they take and answer with. Every route of the API
//! is registered through [`routes`], so a route cannot exist without its
//! description; `GET /api/v1/openapi.json` serves the document.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{
    approvals, catalog, contacts, entry, health, history, keys, me, orgs, reminders, reviews,
    session, submission_list, submissions, templates, tree,
};
use crate::context::AppContext;

/// A binary spreadsheet (or any uploaded workbook) in a request or answer.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct XlsxFile(#[allow(dead_code)] Vec<u8>);

#[derive(OpenApi)]
#[openapi(
    info(
        title = "unionstat",
        description = "Monthly statistics of grassroots trade unions: workbook uploads, validation, and roll-up indicators for every federation level. Scripts: `Authorization: Bearer KEY`. People: sign in with `POST /api/v1/session`, then the `unionstat_session` cookie, with `X-CSRF-Token` on every write."
    ),
    modifiers(&BearerKeys),
    security(("bearer" = [])),
    tags(
        (name = "submissions", description = "Uploads, verdicts, templates"),
        (name = "figures", description = "Indicators, series, exports, the catalogue"),
        (name = "reporting", description = "Completeness and timeliness"),
        (name = "approval", description = "逐级审核, review and return (审核与退回), locks and the audit"),
        (name = "tree", description = "The federation tree over time: units, their history, and changes effective from a month on"),
        (name = "people", description = "Sign-in sessions and API keys"),
        (name = "operations", description = "Health and metrics"),
    )
)]
struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every route of the service with its description; paths under `/api/v1`.
pub fn routes() -> OpenApiRouter<AppContext> {
    let api = OpenApiRouter::new()
        .routes(routes!(me::show))
        .routes(routes!(session::sign_in, session::show, session::sign_out))
        .routes(routes!(keys::list, keys::create))
        .routes(routes!(keys::revoke))
        .routes(routes!(submissions::create, submission_list::list))
        .routes(routes!(submissions::show))
        .routes(routes!(submissions::annotated))
        .routes(routes!(reviews::review))
        .routes(routes!(templates::template))
        .routes(routes!(entry::form, entry::submit))
        .routes(routes!(orgs::indicators))
        .routes(routes!(orgs::form_figures))
        .routes(routes!(orgs::completeness))
        .routes(routes!(contacts::show, contacts::edit))
        .routes(routes!(contacts::list))
        .routes(routes!(reminders::chase, reminders::log))
        .routes(routes!(reminders::chase_list))
        .routes(routes!(orgs::series))
        .routes(routes!(orgs::export))
        .routes(routes!(tree::show))
        .routes(routes!(tree::children))
        .routes(routes!(tree::move_unit))
        .routes(routes!(tree::close))
        .routes(routes!(tree::merge))
        .routes(routes!(tree::split))
        .routes(routes!(tree::import))
        .routes(routes!(history::history))
        .routes(routes!(
            approvals::show,
            approvals::approve,
            approvals::revoke
        ))
        .routes(routes!(reviews::queue))
        .routes(routes!(catalog::catalog))
        .routes(routes!(openapi_json));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", api)
        .routes(routes!(health::metrics))
        .routes(routes!(health::healthz))
        .routes(routes!(health::readyz))
}

/// The route template of every API route, as the HTTP metrics label them
/// (`/api/v1/orgs/{code}/indicators`).
pub fn route_templates() -> Vec<String> {
    let (_, doc) = routes().split_for_parts();
    doc.paths.paths.into_keys().collect()
}

/// The document as served, built once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let (_, doc) = routes().split_for_parts();
    doc.to_pretty_json().unwrap_or_else(|e| {
        tracing::error!(error = %e, "cannot render the OpenAPI document");
        "{}".to_string()
    })
});

/// The OpenAPI document.
pub fn document() -> &'static str {
    &DOCUMENT
}

#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "This OpenAPI 3 document", content_type = "application/json", body = Object))
)]
pub async fn openapi_json() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], document())
}
