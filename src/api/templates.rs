//! `GET /api/v1/templates/{reporter}/{period}.xlsx`: the blank Template v1 of a
//! reporter for a month.

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use unionstat_core::form::MONTHLY;
use unionstat_core::period::ReportPeriod;
use unionstat_core::Period;

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::openapi::XlsxFile;
use crate::context::AppContext;
use crate::flows::workbooks::{self, safe_file_name, XLSX_MEDIA_TYPE};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    /// The form (`monthly`, the default; `annual_survey`, `service_half`, or
    /// one the catalogue adds); its period is then written as its
    /// periodicity says (`2026SY.xlsx`, `2026H1.xlsx`).
    #[param(example = "annual_survey")]
    form: Option<String>,
}

/// The template of `reporter` for the month in `file` (`2026-10.xlsx`). The route
/// captures the whole segment (axum cannot capture a parameter with a literal
/// suffix), so a segment without `.xlsx` is 404.
#[utoipa::path(
    get,
    path = "/templates/{reporter}/{file}",
    tag = "submissions",
    params(
        ("reporter" = String, Path, description = "A reporting federation's code", example = "330102001"),
        ("file" = String, Path, description = "The month and extension", example = "2026-10.xlsx"),
        TemplateParams,
    ),
    responses(
        (status = 200, description = "The blank Template v1", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = XlsxFile),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such reporter in the key's subtree (an unknown code and one outside it answer alike), or not .xlsx", body = ErrorBody),
        (status = 422, description = "A grassroots union or a bad month", body = ErrorBody),
    )
)]
pub async fn template(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path((reporter, file)): Path<(String, String)>,
    Query(params): Query<TemplateParams>,
) -> Result<Response, ApiError> {
    let period = file.strip_suffix(".xlsx").ok_or_else(|| {
        ApiError::NotFound("templates are .xlsx files: /templates/{reporter}/{YYYY-MM}.xlsx".into())
    })?;
    let org = principal.readable_org(&ctx, &reporter).await?;
    if org.is_grassroots() {
        return Err(ApiError::BadRequest(format!(
            "{reporter} is a grassroots union; templates are for the federations that report"
        )));
    }
    if let Some(form) = params.form.as_deref().filter(|f| *f != MONTHLY) {
        let period: ReportPeriod = period.parse().map_err(|_| {
            ApiError::BadRequest(format!(
                "报告期 {period:?} 无法识别（如 2026SY、2026H1） / period {period:?} is not valid (e.g. 2026SY, 2026H1)"
            ))
        })?;
        let bytes = workbooks::form_template(&ctx, &org, form, period)
            .await?
            .map_err(|refusal| ApiError::BadRequest(refusal.to_string()))?;
        return Ok(xlsx(bytes, &format!("{}_{form}_{period}.xlsx", org.code)));
    }
    let period: Period = period
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("period {period:?} is not YYYY-MM")))?;
    let bytes = workbooks::template(&ctx, &org, period).await?;
    Ok(xlsx(bytes, &format!("{}_{period}.xlsx", org.code)))
}

/// An .xlsx download named `file_name`.
pub(super) fn xlsx(bytes: Vec<u8>, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX_MEDIA_TYPE.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", safe_file_name(file_name)),
            ),
        ],
        bytes,
    )
        .into_response()
}
