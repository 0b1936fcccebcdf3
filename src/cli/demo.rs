//! `unionstat demo`: a sample province in a fresh SQLite file, every town's
//! workbooks ingested through the real queue, then the roll-ups.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use unionstat_core::orgs::OrgKind;
use unionstat_sample::{self as sample, Shape};

use super::query::{table_header, table_row};
use super::submit::{print_issue, progress, store_and_queue, wait_for_verdicts, Upload};
use super::CliResult;
use crate::config::Settings;
use crate::context::AppContext;
use crate::flows::views::{indicators_view, Children};
use crate::passwords;
use crate::store::actor::Actor;
use crate::store::keys::Role;
use crate::store::orgs::TreeView;
use crate::store::people::NewUser;

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
    outln!(
        "sample province: {} org units ({} grassroots unions under {} reporting towns/streets), {} months",
        report.inserted,
        grassroots,
        reporters,
        shape.months.len()
    );

    let sheets = sample::sheets(&ctx.catalog, &shape, &orgs);
    let bar = progress(sheets.len(), "ingesting");
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
    outln!(
        "{} workbooks ingested through the queue: {} accepted, {} rejected ({:.1}s)",
        rows.len(),
        accepted,
        rows.len() - accepted,
        started.elapsed().as_secs_f64()
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
    outln!("roll-ups for {last} (ratio of sums; units = reported/expected grassroots unions)");
    outln!("{}", table_header());
    outln!("{}", table_row(&view));
    for c in view.children.iter().flatten() {
        outln!("{}", table_row(c));
    }

    let rejected: Vec<_> = sheets
        .iter()
        .zip(&rows)
        .filter(|(_, r)| r.status == "rejected")
        .collect();
    if !rejected.is_empty() {
        outln!();
        outln!("rejected sheets and their first errors:");
        for (s, r) in rejected {
            outln!(
                "{} (submission {}, {} {}):",
                s.file_name,
                r.id,
                s.reporter,
                s.period
            );
            for i in r.issues().iter().filter(|i| i.is_error()).take(3) {
                print_issue(i);
            }
        }
    }
    outln!();
    outln!("the demo database is {}; try:", db.display());
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
