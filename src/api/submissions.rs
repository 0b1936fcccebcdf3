use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use unionstat_core::form::MONTHLY;
use unionstat_core::issue::{cap_per_rule, RuleCount};
use unionstat_core::period::ReportPeriod;
use unionstat_core::validate::{check_given, GivenExplanation};
use unionstat_core::{Issue, Period};

use super::auth::Principal;
use super::error::{ApiError, ErrorBody};
use super::openapi::XlsxFile;
use crate::context::AppContext;
use crate::flows::intake;
use crate::store::keys::Role;
use crate::store::submissions::{NewSubmission, SubmissionRow};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    /// The reporting federation (otherwise the cover's 报送单位代码).
    #[param(example = "330102001")]
    pub(super) reporter: Option<String>,
    /// The month `YYYY-MM` (otherwise the cover's 报告期); for a form that is
    /// not monthly, its period (`2026SY`, `2026H1`).
    #[param(example = "2026-10")]
    pub(super) period: Option<String>,
    /// The form (default: the one the workbook is, recognised by its sheet,
    /// its cover title or 表号). A workbook of another form is refused
    /// (`form_mismatch`).
    #[param(example = "monthly")]
    pub(super) form: Option<String>,
    /// The file's name, kept with the submission.
    pub(super) filename: Option<String>,
    /// Validate and report now; store nothing.
    #[serde(default)]
    pub(super) dry_run: bool,
    /// Why a locked month must change (admin keys only; audited).
    pub(super) reason: Option<String>,
    /// A nil report (零报告): the workbook holds no figures on purpose. Without
    /// it a workbook with no figures is rejected (`no_figures`); with it, one
    /// with figures is (`nil_report_has_figures`). A multipart form may send it
    /// as the field `nil_report` (`true`, `on`, `1`) before `file`; the cover's
    /// 零报告 line declares it too.
    #[serde(default)]
    pub(super) nil_report: bool,
    /// Explanations (说明) of findings of explain-severity rules, as JSON:
    /// `[{"rule":"monthly_change","cell":"F3","text":"两厂合并"}]` — each names
    /// the finding by its rule and cell; at most 200, each at most 500
    /// characters (else 422). A multipart form may send it as the field
    /// `explanations` before `file`. The same bytes with other explanations
    /// are another submission.
    pub(super) explanations: Option<String>,
    /// A dry run lists at most this many issues of each rule (default 100;
    /// 0: every issue); `rules` counts them all.
    #[param(example = "100")]
    pub(super) issues_per_rule: Option<String>,
}

/// Issues of one rule an answer lists unless the caller asks otherwise: a
/// sheet of thousands of unknown codes answers in kilobytes, and the annotated
/// workbook marks every one.
pub const ISSUES_PER_RULE: usize = 100;

/// The bound asked for by `issues_per_rule`: a count, 0 for every issue.
fn per_rule(asked: Option<&str>) -> Result<usize, ApiError> {
    match asked.map(str::trim).filter(|a| !a.is_empty()) {
        None => Ok(ISSUES_PER_RULE),
        Some(a) => a.parse().map_err(|_| {
            ApiError::BadRequest(
                "issues_per_rule 应为不小于 0 的整数 / issues_per_rule: a whole number, 0 or more"
                    .into(),
            )
        }),
    }
}

/// The issues an answer lists (the first `per_rule` of each rule, all with 0)
/// and every rule's count and title.
fn listed_issues(
    ctx: &AppContext,
    issues: &[Issue],
    per_rule: usize,
) -> (Vec<Issue>, Vec<RuleCount>) {
    cap_per_rule(issues, per_rule, |rule| ctx.catalog.rule_title(rule))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShowParams {
    /// List at most this many issues of each rule (default 100; 0: every
    /// issue); `rules` counts them all.
    #[param(example = "100")]
    issues_per_rule: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Accepted {
    id: i64,
    status: String,
    sha256: String,
}

/// `POST /api/v1/submissions`: the file as the body (or multipart field `file`).
/// Stored durably (bytes + sha256) and queued before answering 202; the same bytes
/// for the same reporter and period answer 200 with the existing submission.
/// With `dry_run=true` the file is read and checked at once and nothing is stored:
/// 200 with the verdict it would get.
#[utoipa::path(
    post,
    path = "/submissions",
    tag = "submissions",
    params(UploadParams),
    request_body(content = XlsxFile, description = "The workbook (.xlsx, .xls, .xlsb, .ods or a .csv of the units table)", content_type = "application/octet-stream"),
    responses(
        (status = 202, description = "Stored and queued", body = Accepted),
        (status = 200, description = "The same bytes for the same reporter and month: the existing submission; or a dry run's verdict", body = Accepted),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 403, description = "A viewer key, or a locked month", body = ErrorBody),
        (status = 404, description = "`reporter` names no org unit in the key's subtree: an unknown code and one outside it answer alike", body = ErrorBody),
        (status = 413, description = "Larger than server.max_upload_bytes", body = ErrorBody),
        (status = 408, description = "The body arrived slower than server.body_min_bytes_per_second", body = ErrorBody),
        (status = 422, description = "A grassroots reporter, a bad month or reason", body = ErrorBody),
        (status = 503, description = "A dry run found every workbook reader busy for ingest.reader_wait_seconds; try again after Retry-After seconds", body = ErrorBody),
    )
)]
pub async fn create(
    State(ctx): State<AppContext>,
    principal: Principal,
    Query(params): Query<UploadParams>,
    req: Request,
) -> Result<Response, ApiError> {
    let result = store_upload(&ctx, principal, params, req).await;
    if let Err(e) = &result {
        // Not stored: refused (the caller's request is wrong) or failed (ours).
        ctx.metrics
            .upload(if e.is_internal() { "failed" } else { "refused" });
    }
    result
}

async fn store_upload(
    ctx: &AppContext,
    principal: Principal,
    params: UploadParams,
    req: Request,
) -> Result<Response, ApiError> {
    let target = check_target(ctx, &principal, &params).await?;
    let body = read_body(ctx, req).await?;
    take_upload(ctx, principal, params, target, body).await
}

/// An upload whose bytes the service wrote itself (the page's entered figures):
/// checked, stored, queued and answered exactly as `POST /api/v1/submissions`
/// with the same parameters and `bytes` as the body.
pub(super) async fn upload_bytes(
    ctx: &AppContext,
    principal: Principal,
    params: UploadParams,
    bytes: Vec<u8>,
) -> Result<Response, ApiError> {
    let result = async {
        let target = check_target(ctx, &principal, &params).await?;
        let body = UploadBody {
            bytes,
            file_name: None,
            nil_report: false,
            explanations: None,
        };
        take_upload(ctx, principal, params, target, body).await
    }
    .await;
    if let Err(e) = &result {
        ctx.metrics
            .upload(if e.is_internal() { "failed" } else { "refused" });
    }
    result
}

/// Where an upload goes, as its parameters name it and the key may write.
struct Target {
    reporter: Option<String>,
    period: Option<String>,
    reason: Option<String>,
    /// The form named (none: the workbook's own).
    form: Option<String>,
}

/// The checks made before the body is read: the key may upload, the reporter
/// is a federation in its subtree, the month parses, a locked month takes the
/// upload only as a dry run or with an admin's reason.
async fn check_target(
    ctx: &AppContext,
    principal: &Principal,
    params: &UploadParams,
) -> Result<Target, ApiError> {
    if principal.0.role == Role::Viewer {
        return Err(ApiError::Forbidden(
            "只读账号或密钥不能上报 / a viewer key cannot upload".into(),
        ));
    }
    let reporter = params
        .reporter
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if let Some(code) = reporter {
        // A reporter outside the key's subtree is answered as an unknown one.
        let org = match ctx.store.org(code).await? {
            Some(org) if principal.can_submit_for(&org) => org,
            _ => return Err(ApiError::no_such_org()),
        };
        if org.is_grassroots() {
            return Err(ApiError::BadRequest(format!(
                "{code} 是基层工会，不是报送单位；请填写其上级总工会 / reporter {code} is a grassroots union, not a federation"
            )));
        }
    }
    let form = params
        .form
        .as_deref()
        .map(str::trim)
        .filter(|f| !f.is_empty());
    let other_form = match form {
        Some(f) if f != MONTHLY => {
            if ctx.catalog.form(f).is_none() {
                return Err(ApiError::BadRequest(
                    crate::flows::workbooks::FormRefusal::unknown(&ctx, f).to_string(),
                ));
            }
            true
        }
        _ => false,
    };
    let period = match params
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        Some(p) if other_form => Some(
            p.parse::<ReportPeriod>()
                .map_err(|_| {
                    ApiError::BadRequest(format!(
                        "报告期 {p:?} 无法识别（如 2026SY、2026H1） / period {p:?} is not valid (e.g. 2026SY, 2026H1)"
                    ))
                })?
                .to_string(),
        ),
        Some(p) => Some(
            p.parse::<Period>()
                .map_err(|e| {
                    ApiError::BadRequest(format!("报告期应为“年-月”，例如 2026-10 / period: {e}"))
                })?
                .to_string(),
        ),
        None => None,
    };
    let reason = super::approvals::lock_reason(&params.reason)?;
    // A check-only upload changes nothing, so a locked month is checked too
    // (its answer says the month is locked).
    if let (Some(code), Some(p), false) = (reporter, period.as_deref(), params.dry_run) {
        super::approvals::guard_locked_upload(ctx, principal, code, (form, p), reason.as_deref())
            .await?;
    }
    Ok(Target {
        reporter: reporter.map(str::to_string),
        period,
        reason,
        form: form.map(str::to_string),
    })
}

/// Stores (or, for a dry run, checks) an upload whose target passed
/// [`check_target`].
async fn take_upload(
    ctx: &AppContext,
    principal: Principal,
    params: UploadParams,
    target: Target,
    body: UploadBody,
) -> Result<Response, ApiError> {
    let (reporter, period, reason) = (target.reporter.as_deref(), target.period, target.reason);
    let (bytes, part_name) = (body.bytes, body.file_name);
    let nil_report = params.nil_report || body.nil_report;
    let explanations = explanations(params.explanations.as_deref(), body.explanations)?;
    if params.dry_run {
        let per_rule = per_rule(params.issues_per_rule.as_deref())?;
        let req = intake::Request {
            reporter: reporter.map(str::to_string),
            period: period.as_deref().and_then(|p| p.parse().ok()),
            scope_org: principal.scope_org().map(str::to_string),
            // Nothing is stored, so a locked month is checked as an open one and
            // the answer says it is locked.
            lock_override: true,
            // Someone waits for the answer: a busy pool of readers is a 503.
            reader_wait: Some(std::time::Duration::from_secs(
                ctx.settings.ingest.reader_wait_seconds,
            )),
            nil_report,
            explanations,
            form: target.form,
            form_period: period.as_deref().and_then(|p| p.parse().ok()),
            check_only: true,
        };
        return dry_run(ctx, &req, period.as_deref(), bytes, per_rule).await;
    }
    let filename = params.filename.or(part_name).unwrap_or_default();
    let filename: String = filename
        .chars()
        .filter(|c| !c.is_control())
        .take(255)
        .collect();
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let actor = principal.actor().to_string();
    let (row, created) = crate::jobs::ingest::submit(
        ctx,
        &NewSubmission {
            sha256,
            req_reporter: reporter,
            req_period: period.as_deref(),
            filename: &filename,
            bytes: &bytes,
            uploaded_by: &actor,
            scope_org: principal.scope_org(),
            // An admin's reason to change a locked month, stored with the
            // upload so the job sees it.
            lock_reason: match principal.0.role {
                Role::Admin => reason.as_deref(),
                _ => None,
            },
            nil_report,
            explanations: &explanations,
            req_form: target.form.as_deref(),
        },
    )
    .await?;
    if created {
        ctx.metrics.upload("created");
    } else {
        ctx.metrics.upload("duplicate");
    }
    let status = if created {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let location = format!("/api/v1/submissions/{}", row.id);
    Ok((
        status,
        [(header::LOCATION, location)],
        Json(Accepted {
            id: row.id,
            status: row.status,
            sha256: row.sha256,
        }),
    )
        .into_response())
}

/// The answer to a dry run: what the upload would come to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DryRun {
    dry_run: bool,
    /// `accepted` or `rejected`: the verdict the upload would get.
    status: &'static str,
    reporter: Option<String>,
    period: Option<String>,
    /// The form the workbook is (`monthly`: Template v1).
    form: String,
    error_count: usize,
    warning_count: usize,
    /// The first issues of each rule (`issues_per_rule`, default 100).
    issues: Vec<Issue>,
    /// Every rule with issues: title, severity, count, how many are listed and
    /// what is left out; errors first, then findings to explain, then warnings.
    rules: Vec<RuleCount>,
    /// Declared a nil report (零报告), by the upload or the cover.
    nil_report: bool,
    /// The month is locked for the reporter: the issues are those of an open
    /// month, and a real upload would be refused.
    locked: bool,
    /// Why, in both languages, when `locked`.
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<unionstat_core::Message>,
}

/// The explanations of an upload, from the query or the multipart field
/// (JSON), checked: 422 with a bilingual reason when they cannot be taken.
fn explanations(
    query: Option<&str>,
    field: Option<String>,
) -> Result<Vec<GivenExplanation>, ApiError> {
    let Some(json) = field
        .as_deref()
        .or(query)
        .map(str::trim)
        .filter(|j| !j.is_empty())
    else {
        return Ok(Vec::new());
    };
    let given: Vec<GivenExplanation> = serde_json::from_str(json).map_err(|e| {
        ApiError::BadRequest(format!(
            "说明（explanations）应为 JSON 数组，每条含 rule、cell、text / explanations must be a JSON array of {{\"rule\",\"cell\",\"text\"}}: {e}"
        ))
    })?;
    check_given(given).map_err(|m| ApiError::BadRequest(format!("{} / {}", m.zh, m.en)))
}

/// Reads and checks `bytes` as `req` asks (`period` as typed), and stores
/// nothing; lists the first `issues_per_rule` issues of each rule.
async fn dry_run(
    ctx: &AppContext,
    req: &intake::Request,
    period: Option<&str>,
    bytes: Vec<u8>,
    issues_per_rule: usize,
) -> Result<Response, ApiError> {
    let reporter = req.reporter.as_deref();
    let check = intake::check(ctx, bytes, req, reporter, period).await?;
    let (issues, rules) = listed_issues(ctx, &check.issues, issues_per_rule);
    Ok(Json(DryRun {
        dry_run: true,
        status: check.status,
        reporter: check.reporter,
        period: check.period,
        form: check.form,
        error_count: check.error_count,
        warning_count: check.warning_count,
        issues,
        rules,
        nil_report: check.nil_report,
        locked: check.lock_note.is_some(),
        note: check.lock_note,
    })
    .into_response())
}

/// An upload's body: the file, its name in a multipart form, and the form's
/// `nil_report` and `explanations` fields.
struct UploadBody {
    bytes: Vec<u8>,
    file_name: Option<String>,
    nil_report: bool,
    explanations: Option<String>,
}

async fn read_body(ctx: &AppContext, req: Request) -> Result<UploadBody, ApiError> {
    let limit = ctx.settings.server.max_upload_bytes;
    let is_multipart = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let too_large = |status: StatusCode| status == StatusCode::PAYLOAD_TOO_LARGE;
    if is_multipart {
        let mut mp = Multipart::from_request(req, &())
            .await
            .map_err(|e| ApiError::BadRequest(format!("上传的表单有误 / multipart body: {e}")))?;
        let mut nil_report = false;
        let mut explanations = None;
        loop {
            let field = mp.next_field().await.map_err(|e| {
                if too_large(e.status()) {
                    ApiError::TooLarge(limit)
                } else {
                    ApiError::BadRequest(format!("上传的表单有误 / multipart body: {e}"))
                }
            })?;
            let Some(field) = field else {
                return Err(ApiError::BadRequest(
                    "上传的表单中没有文件（字段 file） / multipart body has no field named file"
                        .into(),
                ));
            };
            if field.name() == Some("nil_report") {
                let value = field.text().await.unwrap_or_default();
                nil_report = matches!(value.trim(), "true" | "on" | "1")
                    || unionstat_core::ingest::is_yes(&value);
                continue;
            }
            if field.name() == Some("explanations") {
                // Bounded by the body's limit; check_given bounds the rest.
                explanations = Some(field.text().await.map_err(|e| {
                    ApiError::BadRequest(format!("multipart field explanations: {e}"))
                })?);
                continue;
            }
            if field.name() == Some("file") {
                let name = field.file_name().map(str::to_string);
                let data = field.bytes().await.map_err(|e| {
                    if too_large(e.status()) {
                        ApiError::TooLarge(limit)
                    } else {
                        ApiError::BadRequest(format!("上传的表单有误 / multipart body: {e}"))
                    }
                })?;
                if data.len() > limit {
                    return Err(ApiError::TooLarge(limit));
                }
                return Ok(UploadBody {
                    bytes: data.to_vec(),
                    file_name: name,
                    nil_report,
                    explanations,
                });
            }
        }
    }
    let body = axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::TooLarge(limit))?;
    Ok(UploadBody {
        bytes: body.to_vec(),
        file_name: None,
        nil_report: false,
        explanations: None,
    })
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubmissionView {
    id: i64,
    status: String,
    reporter: Option<String>,
    period: Option<String>,
    sha256: String,
    filename: String,
    size_bytes: i64,
    received_at: String,
    finished_at: Option<String>,
    superseded_by: Option<i64>,
    attempts: i64,
    rows_read: i64,
    error_count: i64,
    warning_count: i64,
    /// A nil report (零报告): declared by the upload, or accepted as one.
    nil_report: bool,
    /// The first issues of each rule (`issues_per_rule`, default 100); the
    /// annotated workbook marks every one.
    issues: Vec<Issue>,
    /// Every rule with issues: title, severity, count, how many are listed and
    /// what is left out; errors first, then findings to explain, then warnings.
    rules: Vec<RuleCount>,
    /// The latest review (审核) by a federation above the reporter: approved,
    /// or returned (退回) with its comment; null while unreviewed. A new
    /// accepted upload for the month is a new submission, unreviewed.
    review: Option<crate::flows::review::ReviewView>,
    /// Every review of this submission, oldest first.
    reviews: Vec<crate::flows::review::ReviewView>,
}

impl From<SubmissionRow> for SubmissionView {
    fn from(r: SubmissionRow) -> Self {
        let issues = r.issues();
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_string());
        SubmissionView {
            id: r.id,
            status: r.status,
            reporter: r.reporter.or_else(|| opt(&r.req_reporter)),
            period: r.period.or_else(|| opt(&r.req_period)),
            sha256: r.sha256,
            filename: r.filename,
            size_bytes: r.size_bytes,
            received_at: r.received_at,
            finished_at: r.finished_at,
            superseded_by: r.superseded_by,
            attempts: r.attempts,
            rows_read: r.rows_read,
            error_count: r.error_count,
            warning_count: r.warning_count,
            nil_report: r.nil_report || r.nil_requested,
            issues,
            rules: Vec::new(),
            review: None,
            reviews: Vec::new(),
        }
    }
}

/// `GET /api/v1/submissions/{id}`: status and the per-cell report.
#[utoipa::path(
    get,
    path = "/submissions/{id}",
    tag = "submissions",
    params(("id" = i64, Path, description = "Submission id"), ShowParams),
    responses(
        (status = 200, description = "Status and the per-cell report", body = SubmissionView),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such submission for this key: an unknown id and another subtree's answer alike", body = ErrorBody),
    )
)]
pub async fn show(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(id): Path<i64>,
    Query(params): Query<ShowParams>,
) -> Result<Json<SubmissionView>, ApiError> {
    let per_rule = per_rule(params.issues_per_rule.as_deref())?;
    let row = visible_submission(&ctx, &principal, id).await?;
    let reviews = super::reviews::reviews_for(&ctx, &principal, &row).await?;
    let mut view = SubmissionView::from(row);
    (view.issues, view.rules) = listed_issues(&ctx, &view.issues, per_rule);
    view.review = reviews.last().cloned();
    view.reviews = reviews;
    Ok(Json(view))
}

/// `GET /api/v1/submissions/{id}/annotated.xlsx`: the submitter's own workbook
/// with every issue marked at its cell, after a sheet listing them all.
#[utoipa::path(
    get,
    path = "/submissions/{id}/annotated.xlsx",
    tag = "submissions",
    params(("id" = i64, Path, description = "Submission id")),
    responses(
        (status = 200, description = "The workbook with every issue marked at its cell", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = XlsxFile),
        (status = 401, description = "No or unknown API key", body = ErrorBody),
        (status = 404, description = "No such submission for this key: an unknown id and another subtree's answer alike", body = ErrorBody),
        (status = 409, description = "No verdict yet", body = ErrorBody),
    )
)]
pub async fn annotated(
    State(ctx): State<AppContext>,
    principal: Principal,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let row = visible_submission(&ctx, &principal, id).await?;
    if !row.is_final() {
        return Err(ApiError::Conflict(format!(
            "报送记录 {id} 尚在检查中，问题清单还没有出来 / submission {id} is {}; its report is not ready yet",
            row.status
        )));
    }
    let bytes = ctx.store.submission_bytes(id).await?;
    let out = crate::flows::workbooks::annotate_file(&ctx, bytes, row.issues()).await?;
    Ok(super::templates::xlsx(
        out,
        &format!("submission_{id}_annotated.xlsx"),
    ))
}

/// The submission, when this key may see it: keys over the reporter, or (before
/// the reporter is known) over the uploader's org.
pub(super) async fn visible_submission(
    ctx: &AppContext,
    principal: &Principal,
    id: i64,
) -> Result<SubmissionRow, ApiError> {
    let row = ctx
        .store
        .submission(id)
        .await?
        .ok_or_else(ApiError::no_such_submission)?;
    let anchor = row
        .reporter_code()
        .map(str::to_string)
        .or_else(|| row.scope_org.clone());
    let visible = match anchor {
        Some(code) => match ctx.store.org(&code).await? {
            Some(org) => principal.can_read(&org),
            None => principal.scope_org().is_none(),
        },
        None => principal.scope_org().is_none(),
    };
    if !visible {
        // Answered as a submission that does not exist: ids cannot be probed.
        return Err(ApiError::no_such_submission());
    }
    Ok(row)
}
