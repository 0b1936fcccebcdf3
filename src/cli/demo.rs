//! `unionstat demo`: a sample province in a fresh SQLite file, every town's
//! workbooks ingested through the real queue, then the roll-ups, and one
//! town's annual survey checked against its September return.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use unionstat_core::orgs::OrgKind;
use unionstat_core::period::ReportPeriod;
use unionstat_core::workbook_out::{self, FormLine};
use unionstat_core::Period;
use unionstat_sample::{self as sample, Shape};

use super::query::{table_header, table_row};
use super::submit::{print_issue, progress, store_and_queue, wait_for_verdicts, Upload};
use super::CliResult;
use crate::config::Settings;
use crate::context::AppContext;
use crate::flows::intake;
use crate::flows::views::{indicators_view, Children};
use crate::passwords;
use crate::store::actor::Actor;
use crate::store::keys::Role;
use crate::store::orgs::{OrgRow, TreeView};
use crate::store::people::NewUser;
use crate::store::periods::Spans;

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
    outln!(
        "示例省：{units} 个组织单位（{grassroots} 个基层工会，属 {reporters} 个报送的乡镇街道），{months} 个月 / \
         sample province: {units} org units ({grassroots} grassroots unions under {reporters} reporting towns/streets), {months} months"
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

    let last = *shape.months.last().context("the sample has no month")?;
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
    outln!("{}", table_header());
    outln!("{}", table_row(&view));
    for c in view.children.iter().flatten() {
        outln!("{}", table_row(c));
    }

    let town = orgs
        .iter()
        .find(|o| o.expected_to_report)
        .context("the sample has no reporting town")?;
    let town = ctx.store.org(&town.code).await?.context("town missing")?;
    annual_survey(&ctx, &town, last).await?;

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

/// The annual survey (工会统计年报) of `town` for the statistical year ending
/// in `september`, made from its units' September figures with every
/// 职工人数 raised by a tenth, checked as an upload (a dry run: forms other
/// than monthly are not stored yet) and its reconciliation with the monthly
/// return printed.
async fn annual_survey(ctx: &AppContext, town: &OrgRow, september: Period) -> anyhow::Result<()> {
    let view = ctx
        .catalog
        .form("annual_survey")
        .context("the catalogue has no annual_survey form")?;
    let year = ReportPeriod::StatYear(september.year());
    if year.last() != september {
        return Ok(());
    }
    let units = ctx
        .store
        .children_months(
            town,
            &Spans::range(september, september),
            TreeView::AsReported,
        )
        .await?;
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
                    v + v / 10
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
    let req = intake::Request {
        check_only: true,
        lock_override: true,
        ..intake::Request::default()
    };
    let check = intake::check(ctx, bytes, &req, None, None).await?;
    outln!();
    outln!(
        "年报核对 / annual survey {year} of {} {} ({} unions, 职工人数 raised by a tenth), checked against the monthly return of {september}: {} ({} errors, {} warnings)",
        town.code,
        town.name,
        lines.len(),
        check.status,
        check.error_count,
        check.warning_count
    );
    for i in &check.issues {
        print_issue(i);
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
