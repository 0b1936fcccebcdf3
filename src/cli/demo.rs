//! `unionstat demo`: a sample province in a fresh SQLite file, every town's
//! workbooks of the twelve months of a statistical year ingested through the
//! real queue, then the roll-ups of its last month and of the year, and the
//! annual surveys of one county's towns, stored through the same queue and
//! each reconciled with its town's September return.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use unionstat_core::orgs::OrgKind;
use unionstat_core::period::ReportPeriod;
use unionstat_core::workbook_out::{self, FormLine};
use unionstat_core::Catalog;
use unionstat_sample::{self as sample, Shape};

use super::query::{num, table_header, table_row};
use super::submit::{print_issue, progress, store_and_queue, wait_for_verdicts, Upload};
use super::table::{row, Col::L, Col::R};
use super::CliResult;
use crate::config::Settings;
use crate::context::AppContext;
use crate::flows::views::form_figures::form_figures;
use crate::flows::views::{indicators_view, Children, IndicatorsView};
use crate::passwords;
use crate::store::actor::Actor;
use crate::store::keys::Role;
use crate::store::orgs::{OrgRow, TreeAt, TreeView};
use crate::store::people::NewUser;
use crate::store::periods::Spans;
use crate::store::submissions::SubmissionRow;

pub async fn run(mut settings: Settings, dir: PathBuf) -> CliResult {
    let started = Instant::now();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    // Absolute, so the printed commands work from any directory.
    let db = std::path::absolute(dir.join("unionstat-demo.db")).context("the demo directory")?;
    for suffix in ["", "-wal", "-shm"] {
        for name in ["unionstat-demo.db", "unionstat-demo-queue.db"] {
            let _ = std::fs::remove_file(dir.join(format!("{name}{suffix}")));
        }
    }
    settings.database.url = format!("sqlite://{}", db.display());
    settings.database.queue_url = String::new();
    settings.worker.poll_interval_ms = settings.worker.poll_interval_ms.min(50);
    // The demo replays past months: they must not be closed by time.
    settings.reporting.lock_after_days = 0;
    let ctx = AppContext::build(settings).await?;

    let shape = Shape::demo();
    let orgs = sample::org_tree(&shape);
    let report = ctx.store.import_orgs(&orgs).await?;
    let grassroots = orgs
        .iter()
        .filter(|o| o.kind == OrgKind::Grassroots)
        .count();
    let reporters = orgs.iter().filter(|o| o.expected_to_report).count();
    let (units, months) = (report.inserted, shape.months.len());
    let first = *shape.months.first().context("the sample has no month")?;
    let last = *shape.months.last().context("the sample has no month")?;
    // The sample's months are the statistical year ending in its last month.
    let year = ReportPeriod::StatYear(last.year());
    outln!(
        "示例省：{units} 个组织单位（{grassroots} 个基层工会，属 {reporters} 个报送的乡镇街道），统计年度 {year} 的 {months} 个月（{first} 至 {last}） / \
         sample province: {units} org units ({grassroots} grassroots unions under {reporters} reporting towns/streets), the {months} months of the statistical year {year} ({first} … {last})"
    );

    let sheets = sample::sheets(&ctx.catalog, &shape, &orgs);
    let bar = progress(sheets.len(), "读入 ingesting");
    let mut ids = Vec::with_capacity(sheets.len());
    for s in &sheets {
        let upload = Upload {
            filename: &s.file_name,
            actor: "demo",
            ..Upload::default()
        };
        let row = store_and_queue(&ctx, &s.bytes, &upload).await?;
        ids.push(row.id);
    }
    let rows = wait_for_verdicts(&ctx, &ids, Some(&bar)).await?;
    bar.finish_and_clear();
    let accepted = rows.iter().filter(|r| r.status == "accepted").count();
    let (all, rejected, secs) = (
        rows.len(),
        rows.len() - accepted,
        started.elapsed().as_secs_f64(),
    );
    outln!(
        "经队列读入 {all} 份工作簿：接受 {accepted} 份，退回 {rejected} 份（{secs:.1} 秒） / \
         {all} workbooks ingested through the queue: {accepted} accepted, {rejected} rejected ({secs:.1}s)"
    );

    let province = orgs
        .iter()
        .find(|o| o.parent_code.is_none())
        .context("the sample has no root")?;
    let node = ctx
        .store
        .org(&province.code)
        .await?
        .context("province missing")?;
    let view = indicators_view(
        &ctx,
        &node,
        last.into(),
        Children::Figures,
        TreeView::AsReported,
    )
    .await?;
    outln!();
    outln!(
        "{last} 汇总（比率为合计之比；基层列为已报送/应报送的基层工会） / \
         roll-ups for {last} (ratio of sums; units = reported/expected grassroots unions)"
    );
    print_rollups(&view);

    // The statistical year: stock figures as of its last month that enough
    // units reported, flows summed over its months.
    let view = indicators_view(&ctx, &node, year, Children::Figures, TreeView::AsReported).await?;
    let (stock, summed) = (
        view.months.stock_month.as_deref().unwrap_or("—"),
        view.months.present.len(),
    );
    outln!();
    outln!(
        "{year} 统计年度汇总（期末数取自 {stock}，累计数为 {summed} 个月之和；比率为合计之比） / \
         roll-ups for the statistical year {year} (stock figures as of {stock}, flows summed over {summed} months; ratio of sums)"
    );
    print_rollups(&view);

    // The annual surveys of every town of the first county.
    let county = orgs
        .iter()
        .find(|o| o.expected_to_report)
        .and_then(|t| t.parent_code.as_deref())
        .context("the sample has no reporting town")?;
    let county = ctx.store.org(county).await?.context("county missing")?;
    annual_surveys(&ctx, &county, year).await?;

    let rejected: Vec<_> = sheets
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.status == "rejected")
        .collect();
    if !rejected.is_empty() {
        outln!();
        outln!("退回的工作簿及其前几个错误 / rejected sheets and their first errors:");
        for (s, r) in rejected {
            let (file, id, reporter, period) = (&s.file_name, r.id, &s.reporter, &s.period);
            outln!(
                "{file}（提交 {id}，{reporter}，{period}） / {file} (submission {id}, {reporter} {period}):"
            );
            for i in r.issues().iter().filter(|i| i.is_error()).take(3) {
                print_issue(i);
            }
        }
    }
    outln!();
    outln!(
        "演示数据库为 {db}；可以试试下面的命令 / the demo database is {db}; try:",
        db = db.display()
    );
    outln!(
        "  cargo run --release -- --database sqlite://{} completeness --org {} --period {last}",
        db.display(),
        province.code
    );
    let login = demo_sign_in(&ctx, &province.code).await?;
    let url = format!("http://{}/", browsable(&ctx.settings.server.bind));
    outln!();
    outln!("打开网页：先用下面的命令启动服务（使用演示数据库），再用浏览器访问 {url} ，以演示账号登录。");
    outln!("Open the web page: serve the demo database with the command below, then browse to {url} and sign in with the demo account.");
    outln!(
        "  cargo run --release -- --database sqlite://{} serve",
        db.display()
    );
    outln!("  网址 URL:          {url}");
    outln!("  登录名 login:      {}", login.login);
    outln!(
        "  密码 password:     {}    （仅显示这一次，重新运行演示会生成新密码 / shown only once; a new demo run makes a new one）",
        login.password
    );
    outln!(
        "  单位 org:          {} {}（{}，可查看全省 / {}, sees the whole province）",
        province.code,
        province.name,
        DEMO_ROLE.as_str(),
        DEMO_ROLE.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// The roll-up table of a view: the node, then each child.
fn print_rollups(view: &IndicatorsView) {
    outln!("{}", table_header());
    outln!("{}", table_row(view));
    for c in view.children.iter().flatten() {
        outln!("{}", table_row(c));
    }
}

/// How the demo's survey of a town differs from its September figures: the
/// first town's 职工人数 raised by a tenth (past the reconciliation's share,
/// so it is warned about), the others' by a fiftieth (within it).
fn raise(town: usize) -> (i64, &'static str, &'static str) {
    match town {
        0 => (10, "上调一成", "raised by a tenth"),
        _ => (50, "上调 2%", "raised by 2%"),
    }
}

/// The annual surveys (工会统计年报·基层工会调查表) of `year` of every town of
/// `county`, made from their units' figures of the year's last month
/// (September) with 职工人数 raised (see [`raise`]), stored through the queue
/// like any upload; each town's reconciliation with its own September return
/// is printed, then the county's roll-up of the surveys next to its
/// September monthly figures.
async fn annual_surveys(
    ctx: &AppContext,
    county: &OrgRow,
    year: ReportPeriod,
) -> anyhow::Result<()> {
    let view = ctx
        .catalog
        .form("annual_survey")
        .context("the catalogue has no annual_survey form")?;
    let september = year.last();
    let towns: Vec<OrgRow> = ctx
        .store
        .children(&county.code, TreeAt::Month(september))
        .await?
        .into_iter()
        .filter(|t| t.expected_to_report)
        .collect();
    let mut sheets = Vec::with_capacity(towns.len());
    for (t, town) in towns.iter().enumerate() {
        let units = ctx
            .store
            .children_months(
                town,
                &Spans::range(september, september),
                TreeView::AsReported,
            )
            .await?;
        let (share, _, _) = raise(t);
        let mut lines = Vec::new();
        for (unit, months) in units.into_iter().filter(|(u, _)| u.is_grassroots()) {
            let Some(figures) = months.get(&september) else {
                continue;
            };
            let values = view
                .metrics
                .iter()
                .map(|m| {
                    let v = figures.totals.get(m.reconciles_with.as_ref()?)?.value;
                    Some(if m.code == "sy_employees" {
                        v + v / share
                    } else {
                        v
                    })
                })
                .collect();
            lines.push(FormLine {
                code: unit.code,
                name: unit.name,
                items: Vec::new(),
                values,
            });
        }
        let bytes = workbook_out::form_workbook(view, (&town.code, &town.name), &year, &lines)?;
        sheets.push((bytes, lines.len()));
    }
    let mut ids = Vec::with_capacity(sheets.len());
    for (town, (bytes, _)) in towns.iter().zip(&sheets) {
        let upload = Upload {
            filename: &format!("{}_{year}.xlsx", town.code),
            actor: "demo",
            // The survey closes 30 days after its own deadline (15 November):
            // the demo replays a past year, so it is stored as an admin's
            // late change would be.
            lock_reason: Some("演示：补报往年的统计年报 / demo: a past year's survey"),
            ..Upload::default()
        };
        ids.push(store_and_queue(ctx, bytes, &upload).await?.id);
    }
    let rows = wait_for_verdicts(ctx, &ids, None).await?;
    outln!();
    outln!(
        "统计年报 {year}：{code} {name}所属 {n} 个乡镇街道各报一份基层工会调查表，经队列存储；\
         每份与本乡镇街道 {september} 的月报（9 月，统计年度最后一个月）核对 / \
         annual survey {year}: each of the {n} towns of {code} {name} sends its grassroots survey, stored through the queue; \
         each is reconciled with its town's monthly return of {september} (September, the statistical year's last month)",
        code = county.code,
        name = county.name,
        n = towns.len(),
    );
    for (t, ((town, (_, unions)), r)) in towns.iter().zip(&sheets).zip(&rows).enumerate() {
        print_survey(t, town, *unions, r);
    }
    survey_rollup(ctx, view, county, year).await
}

/// One town's survey: its verdict and every issue (the reconciliation's
/// warnings among them).
fn print_survey(t: usize, town: &OrgRow, unions: usize, r: &SubmissionRow) {
    let issues = r.issues();
    let errors = issues.iter().filter(|i| i.is_error()).count();
    let warnings = issues.len() - errors;
    let (_, zh, en) = raise(t);
    let (code, name) = (&town.code, &town.name);
    let verdict = if r.status == "accepted" {
        "接受"
    } else {
        "退回"
    };
    outln!(
        "年报核对 {code} {name}：{unions} 个基层工会，职工人数{zh}；{verdict}，{errors} 个错误，{warnings} 个提醒 / \
         survey of {code}: {unions} unions, 职工人数 {en}; {status}, {}, {}",
        counted(errors, "error"),
        counted(warnings, "warning"),
        status = r.status
    );
    for i in &issues {
        print_issue(i);
    }
}

/// `n` and the English `noun`, plural unless one.
fn counted(n: usize, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// The county's roll-up of the surveys (`GET /orgs/{code}/forms/annual_survey`)
/// next to its monthly figures of the year's last month.
async fn survey_rollup(
    ctx: &AppContext,
    view: &Catalog,
    county: &OrgRow,
    year: ReportPeriod,
) -> anyhow::Result<()> {
    let september = year.last();
    let survey = match form_figures(ctx, county, &view.form.code, year).await? {
        Ok(f) => f,
        Err(e) => anyhow::bail!("{e}"),
    };
    let monthly = indicators_view(
        ctx,
        county,
        september.into(),
        Children::None,
        TreeView::AsReported,
    )
    .await?;
    let (code, name) = (&county.code, &county.name);
    let (reported, expected) = (
        survey.reported.len(),
        survey.reported.len() + survey.not_reported.len(),
    );
    outln!();
    outln!(
        "{code} {name} {year} 年报汇总与 {september} 月报对照（{reported}/{expected} 个乡镇街道已报年报） / \
         {code} {name}: the {year} survey's roll-up next to the monthly figures of {september} ({reported} of {expected} towns sent the survey)"
    );
    let cols = [L(34), R(14), R(16)];
    outln!(
        "  {}",
        row(
            &cols,
            &[
                "指标 metric",
                "年报 survey",
                &format!("{september} 月报 monthly")
            ]
        )
    );
    let monthly_value = |code: &str| num(monthly.metrics.get(code).copied().flatten());
    for m in view.metrics.iter() {
        let Some(other) = m.reconciles_with.as_deref() else {
            continue;
        };
        let mine = survey.totals.get(&m.code).map(|t| m.format(t.value));
        let theirs = monthly_value(other);
        outln!(
            "  {}",
            row(
                &cols,
                &[
                    &format!("{} {}", m.zh, m.code),
                    mine.as_deref().unwrap_or("—"),
                    &theirs,
                ]
            )
        );
    }
    if let Some(rows) = view.form.rows_reconcile_with.as_deref() {
        let theirs = monthly_value(rows);
        outln!(
            "  {}",
            row(
                &cols,
                &[
                    "基层工会 units",
                    &survey.reported_units.to_string(),
                    &theirs,
                ]
            )
        );
    }
    Ok(())
}

/// The demo's sign-in: its login and the password generated for it.
struct DemoSignIn {
    login: &'static str,
    password: String,
}

/// The login of the demo's person.
pub const DEMO_LOGIN: &str = "demo";
/// The demo's person administers the province, so every view of the page works.
const DEMO_ROLE: Role = Role::Admin;

/// A person for the province with a generated password (stored as its
/// argon2id hash; the password itself only ever reaches the terminal).
async fn demo_sign_in(ctx: &AppContext, province: &str) -> anyhow::Result<DemoSignIn> {
    let password = passwords::generate();
    let hash = passwords::hash(&password)?;
    ctx.store
        .create_user(&NewUser {
            login: DEMO_LOGIN,
            name: "演示用户",
            org_code: province,
            role: DEMO_ROLE,
            password_hash: &hash,
            created_by: &Actor::cli(),
        })
        .await
        .context("creating the demo sign-in")?;
    Ok(DemoSignIn {
        login: DEMO_LOGIN,
        password,
    })
}

/// An address a browser on this machine can open: a wildcard bind
/// (`0.0.0.0`, `[::]`) is reached at the loopback address.
fn browsable(bind: &str) -> String {
    match bind.rsplit_once(':') {
        Some(("0.0.0.0", port)) => format!("127.0.0.1:{port}"),
        Some(("[::]", port)) => format!("[::1]:{port}"),
        _ => bind.to_string(),
    }
}
