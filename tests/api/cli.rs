//! The binary, as operators and scripts run it.

use std::process::Output;

use crate::helpers::*;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

const ORGS_CSV: &str = "code,name,parent_code,kind,expected_to_report
330102,上城区总工会,,federation,false
330102001,湖滨街道总工会,330102,federation,true
330102001001,甲公司工会,330102001,grassroots,false
330102001002,乙公司工会,330102001,grassroots,false
330102001003,丙公司工会,330102001,grassroots,false
";

#[test]
fn import_submit_query_and_verify_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("orgs.csv"), ORGS_CSV).unwrap();
    let out = unionstat(d, &["orgs", "import", "orgs.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("5 inserted"), "{}", text(&out));
    // Importing again changes nothing.
    let out = unionstat(d, &["orgs", "import", "orgs.csv"]);
    assert!(
        text(&out).contains("0 inserted, 0 updated, 5 unchanged"),
        "{}",
        text(&out)
    );

    std::fs::write(d.join("good.xlsx"), town_a_sheet()).unwrap();
    let bad = workbook(
        None,
        BASIC,
        &[basic_row(
            "330102001001",
            "甲公司工会",
            2.0,
            1.0,
            1200.0,
            1205.0,
        )],
    );
    std::fs::write(d.join("bad.xlsx"), bad).unwrap();
    let out = unionstat(
        d,
        &[
            "submit",
            "good.xlsx",
            "--as",
            "330102001",
            "--period",
            "2026-10",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("accepted"), "{}", text(&out));
    let out = unionstat(
        d,
        &[
            "submit",
            "bad.xlsx",
            "--as",
            "330102001",
            "--period",
            "2026-10",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let verdicts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json verdicts");
    assert_eq!(verdicts[0]["status"], "rejected");
    let cells: Vec<&str> = verdicts[0]["issues"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["cell"].as_str())
        .collect();
    assert!(cells.contains(&"F3"), "{cells:?}");
    // A missing file is a usage/IO error.
    let out = unionstat(
        d,
        &[
            "submit",
            "nope.xlsx",
            "--as",
            "330102001",
            "--period",
            "2026-10",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    let out = unionstat(
        d,
        &[
            "indicators",
            "--org",
            "330102",
            "--period",
            "2026-10",
            "--json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["org"], "330102");
    assert_eq!(v["metrics"]["members"], 196_000.0);
    assert_eq!(v["indicators"]["membership_rate"]["denominator"], 198_000.0);
    let out = unionstat(
        d,
        &[
            "indicators",
            "--org",
            "330102",
            "--period",
            "2026-10",
            "--children",
        ],
    );
    assert!(text(&out).contains("98.99%"), "{}", text(&out));
    assert_tables_line_up(&String::from_utf8_lossy(&out.stdout));
    // Nothing was reported before 2026-10: no change to show, and the
    // earlier months' coverage is said to differ.
    let shown = text(&out);
    assert!(
        shown.contains("环比(pts)") && shown.contains("同比(pts)"),
        "{shown}"
    );
    assert!(
        shown.contains("环比 against 2026-09 — 口径不同 coverage differs: 已报基层工会：2026-09 0/3，本期 3/3 units reported: 2026-09 0 of 3, now 3 of 3; 已报单位：2026-09 0/1，本期 1/1 reporters reported: 2026-09 0 of 1, now 1 of 1"),
        "{shown}"
    );
    assert!(
        shown.contains("同比 against 2025-10 — 口径不同 coverage differs"),
        "{shown}"
    );
    let out = unionstat(
        d,
        &[
            "completeness",
            "--org",
            "330102",
            "--period",
            "2026-10",
            "--json",
        ],
    );
    let c: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(c["reported"], 1);

    let out = unionstat(d, &["rollup", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // Break a roll-up by hand: verify fails, rebuild repairs.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let url = cli_database_url(d);
        let settings = unionstat::config::Settings::load_from(None, Some(&url), &[]).unwrap();
        let store = unionstat::store::Store::open(&settings).await.unwrap();
        store
            .first_row_i64(
                "UPDATE rollup_figures SET s_members = s_members + 1 WHERE org_id = (SELECT id FROM org_ids WHERE code = '330102') RETURNING s_members",
            )
            .await
            .unwrap();
    });
    let out = unionstat(d, &["rollup", "verify", "--period", "2026-10"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("330102 2026-10 members"),
        "{}",
        text(&out)
    );
    let out = unionstat(d, &["rollup", "rebuild"]);
    assert!(out.status.success(), "{}", text(&out));
    let out = unionstat(d, &["rollup", "verify"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let out = unionstat(
        d,
        &[
            "keys",
            "create",
            "--org",
            "330102001",
            "--role",
            "submitter",
            "--label",
            "town import",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout)
        .trim()
        .starts_with("us_"));
}

#[test]
fn master_data_errors_name_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [
        ("missing.csv", "code,name,parent_code,kind,expected_to_report\n1,a,9,federation,false\n", "parent 9"),
        ("dup.csv", "code,name,parent_code,kind,expected_to_report\n1,a,,federation,false\n1,b,,federation,false\n", "more than once"),
        ("cycle.csv", "code,name,parent_code,kind,expected_to_report\n1,a,2,federation,false\n2,b,1,federation,false\n", "cycle"),
        ("kind.csv", "code,name,parent_code,kind,expected_to_report\n1,a,,club,false\n", "line 2"),
    ];
    for (file, content, needle) in cases {
        std::fs::write(d.join(file), content).unwrap();
        let out = unionstat(d, &["orgs", "import", file]);
        // A file that cannot be read is a usage error (2); a tree that would
        // not hold is a refused change (1).
        let code = if file == "kind.csv" { 2 } else { 1 };
        assert_eq!(out.status.code(), Some(code), "{file}: {}", text(&out));
        assert!(text(&out).contains(needle), "{file}: {}", text(&out));
    }
    // A mistyped setting is named.
    let out = unionstat_command(d)
        .env("UNIONSTAT_SERVER__BINDD", "x")
        .args(["migrate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("server.bindd"), "{}", text(&out));
}

/// `serve` answers on the address it prints, and on SIGTERM stops taking work,
/// finishes, and exits 0.
#[test]
fn serve_stops_cleanly_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("orgs.csv"), ORGS_CSV).unwrap();
    assert!(unionstat(d, &["orgs", "import", "orgs.csv"])
        .status
        .success());
    let mut child = unionstat_command(d)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start serve");
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = String::new();
    for _ in 0..50 {
        let mut line = String::new();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(a) = line.trim().strip_prefix("unionstat listening on http://") {
            addr = a.to_string();
            break;
        }
    }
    assert!(!addr.is_empty(), "serve did not say where it listens");
    let mut conn = std::net::TcpStream::connect(&addr).expect("connect");
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGTERM) }, 0);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed().as_secs() < 30,
            "serve did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "serve exited with {status}");
}

postgres_twins!(
    import_submit_query_and_verify_from_the_command_line,
    master_data_errors_name_the_problem,
    serve_stops_cleanly_on_sigterm,
    completeness_prints_on_time_late_returned_rejected_and_missing_per_level,
);

/// `unionstat … | head`: the reader of a command's output goes away early. The
/// command ends as usual (its own exit code) without a panic message, for a
/// table and for JSON, each far larger than a pipe's buffer.
#[test]
fn a_reader_that_goes_away_early_ends_the_output_quietly() {
    use std::io::{BufRead, BufReader, Read};

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("orgs.csv"), orgs_csv(1500, 0)).unwrap();
    let out = unionstat(d, &["orgs", "import", "orgs.csv"]);
    assert!(out.status.success(), "{}", text(&out));
    let completeness = ["completeness", "--org", "330102", "--period", "2026-10"];
    for json in [false, true] {
        let mut args = completeness.to_vec();
        if json {
            args.push("--json");
        }
        let mut child = unionstat_command(d)
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start unionstat");
        // `head -n 1`: one line, then the pipe closes.
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{args:?} printed nothing");
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        let status = child.wait().unwrap();
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(status.success(), "{args:?} exited with {status}: {stderr}");
    }
}

/// Tables with Chinese names and headers line up in `indicators` output: each
/// table there ends in a right-aligned column, so every line of one table is
/// as wide as its header on screen (a Chinese character takes two columns).
fn assert_tables_line_up(stdout: &str) {
    let width = unicode_width::UnicodeWidthStr::width;
    let table = |header: &str| -> Vec<&str> {
        stdout
            .lines()
            .skip_while(|l| !l.starts_with(header))
            .take_while(|l| !l.trim().is_empty())
            .collect()
    };
    // The roll-up table: 上城区总工会 and 湖滨街道总工会 under 建会率, 入会率, 报送率.
    let rollup = table("代码 code ");
    assert_eq!(rollup.len(), 3, "{stdout}");
    assert!(rollup[2].contains("湖滨街道总工会"), "{stdout}");
    // The indicators: 建会率 unionisation_rate, … with their figures.
    let figures = table("indicator ");
    assert!(figures.len() > 5, "{stdout}");
    for lines in [rollup, figures] {
        for l in &lines {
            assert_eq!(
                width(*l),
                width(lines[0]),
                "misaligned:\n{}",
                lines.join("\n")
            );
        }
    }
}

/// `unionstat completeness` prints every state of each level's reporters:
/// here the city with one town on time, one late, one whose upload was
/// rejected, one returned in review and one that sent nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn completeness_prints_on_time_late_returned_rejected_and_missing_per_level() {
    let app = spawn_app().await;
    app.add_orgs(&[
        fed("330103002", "天水街道总工会", Some("330103"), true),
        fed("330103003", "潮鸣街道总工会", Some("330103"), true),
        unit("330103003001", "庚公司工会", "330103003"),
    ])
    .await;
    // 2026-09 is due on 2026-10-10 (Asia/Shanghai).
    let on_time = app.submit(town_a_sheet(), "330102001", "2026-09").await;
    app.set_received_at(on_time["id"].as_i64().unwrap(), "2026-10-01T02:00:00.000Z")
        .await;
    let town_b = workbook(
        None,
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 3.0, 2.0, 500.0, 450.0),
            basic_row("330102002002", "戊公司工会", 1.0, 1.0, 70.0, 70.0),
        ],
    );
    let late = app.submit(town_b, "330102002", "2026-09").await;
    assert_eq!(late["status"], "accepted", "{late}");
    app.set_received_at(late["id"].as_i64().unwrap(), "2026-10-20T02:00:00.000Z")
        .await;
    let bad = workbook(
        None,
        BASIC,
        &[basic_row(
            "330103001001",
            "己公司工会",
            2.0,
            1.0,
            100.0,
            105.0,
        )],
    );
    assert_eq!(
        app.submit(bad, "330103001", "2026-09").await["status"],
        "rejected"
    );
    let returned = workbook(
        None,
        BASIC,
        &[basic_row(
            "330103003001",
            "庚公司工会",
            1.0,
            1.0,
            30.0,
            20.0,
        )],
    );
    let returned = app.submit(returned, "330103003", "2026-09").await;
    let resp = app
        .client
        .post(format!(
            "{}/api/v1/submissions/{}/review",
            app.addr, returned["id"]
        ))
        .bearer_auth(&app.admin_key)
        .json(&serde_json::json!({"decision": "return", "comment": "请核对职工人数"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        resp.status().as_u16(),
        200,
        "{}",
        resp.text().await.unwrap()
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_unionstat"))
        .args(["--database", &app.ctx.settings.database.url])
        .args(["completeness", "--org", "330100", "--period", "2026-09"])
        .env("UNIONSTAT_LOG__LEVEL", "warn")
        .output()
        .unwrap();
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let header = |first: &str| -> Vec<String> {
        let line = shown.lines().find(|l| l.starts_with(first)).unwrap_or("");
        line.split_whitespace().map(str::to_string).collect()
    };
    assert_eq!(
        header("层级").join(" "),
        "层级 名称 应报 已报 按时 迟报 处理中 审核退回 被拒收 未报 报送率 及时率"
    );
    assert_eq!(
        header("level").join(" "),
        "level name expected reported on time late pending returned rejected missing reporting timely"
    );
    // Each level: code, then the counts and rates after the name.
    let levels: Vec<(String, Vec<String>)> = shown
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<&str>>())
        .filter(|cells| cells.len() == 12 && cells[0].starts_with("3301"))
        .map(|cells| {
            let tail = cells[2..].iter().map(|c| c.to_string());
            (cells[0].to_string(), tail.collect())
        })
        .collect();
    let row = |code: &str, cells: &str| {
        (
            code.to_string(),
            cells.split(' ').map(str::to_string).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        levels,
        [
            row("330100", "5 2 1 1 0 1 1 1 40.00% 20.00%"),
            row("330102", "2 2 1 1 0 0 0 0 100.00% 50.00%"),
            row("330103", "3 0 0 0 0 1 1 1 0.00% 0.00%"),
        ],
        "{shown}"
    );
    app.stop().await;
}

/// The demo ends with the one command that serves its database, the address
/// and a sign-in made for it; that command serves the page and the printed
/// password signs in. (The demo always writes SQLite: no PostgreSQL twin.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_how_to_serve_it_and_a_sign_in_that_works() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = unionstat(d, &["demo", "--dir", "demo"]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    let db = d.join("demo/unionstat-demo.db");
    let url = format!("sqlite://{}", db.display());
    let line = |prefix: &str| -> String {
        let found = shown.lines().find(|l| l.trim_start().starts_with(prefix));
        found
            .unwrap_or_else(|| panic!("no line {prefix:?}: {shown}"))
            .trim()
            .to_string()
    };
    // The older lines say it in Chinese first, then in English.
    assert_eq!(
        line("示例省："),
        "示例省：2969 个组织单位（2880 个基层工会，属 72 个报送的乡镇街道），统计年度 2026SY 的 12 个月（2025-10 至 2026-09） / \
         sample province: 2969 org units (2880 grassroots unions under 72 reporting towns/streets), \
         the 12 months of the statistical year 2026SY (2025-10 … 2026-09)"
    );
    // Twelve months of 72 towns, less the one town that misses September.
    let ingested = line("经队列读入");
    assert!(
        ingested.starts_with("经队列读入 863 份工作簿：接受 859 份，退回 4 份（")
            && ingested.contains(
                " 秒） / 863 workbooks ingested through the queue: 859 accepted, 4 rejected ("
            ),
        "{ingested}"
    );
    assert_eq!(
        line("2026-09 汇总"),
        "2026-09 汇总（比率为合计之比；基层列为已报送/应报送的基层工会） / \
         roll-ups for 2026-09 (ratio of sums; units = reported/expected grassroots unions)"
    );
    assert_eq!(
        line("代码 code"),
        "代码 code      名称 name             建会率    入会率    报送率 职工 employees 会员 members  基层 units"
    );
    // The province's row of September, then of the statistical year: the
    // same stock figures (as of September), and 报送率 over the year's
    // 12 × 72 = 864 expected returns (859 accepted).
    let province: Vec<Vec<&str>> = shown
        .lines()
        .filter(|l| l.starts_with("330000 "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        province,
        [
            "330000 示例省总工会 91.99% 92.26% 93.06% 854943 788810 2680/2880",
            "330000 示例省总工会 91.99% 92.26% 99.42% 854943 788810 2680/2880",
        ]
        .map(|l| l.split(' ').collect::<Vec<_>>()),
        "{shown}"
    );
    assert_eq!(
        line("2026SY 统计年度汇总"),
        "2026SY 统计年度汇总（期末数取自 2026-09，累计数为 12 个月之和；比率为合计之比） / \
         roll-ups for the statistical year 2026SY (stock figures as of 2026-09, flows summed over 12 months; ratio of sums)"
    );
    assert_eq!(
        line("退回的工作簿"),
        "退回的工作簿及其前几个错误 / rejected sheets and their first errors:"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("330403003_2026-09.xlsx（提交 ")
                && l.contains("，330403003，2026-09） / 330403003_2026-09.xlsx (submission ")),
        "{shown}"
    );
    let db_shown = db.display().to_string();
    assert_eq!(
        line("演示数据库为"),
        format!(
            "演示数据库为 {db_shown}；可以试试下面的命令 / the demo database is {db_shown}; try:"
        )
    );
    for prefix in [
        "示例省：",
        "经队列读入",
        "2026-09 汇总",
        "2026SY 统计年度汇总",
        "统计年报 2026SY",
        "年报核对 330102001",
        "330102 云墩区总工会 2026SY",
        "退回的工作簿",
        "演示数据库为",
    ] {
        let zh = line(prefix);
        let zh = zh.split(" / ").next().unwrap_or_default();
        let (run, words) = unionstat::core::text::english_run(zh);
        assert!(run < 2, "English words ({words}) in the Chinese of: {zh}");
    }
    // The annual surveys of the six towns of one county, stored through the
    // queue, each against its town's September return: the first town's
    // 职工人数 raised by a tenth is warned about, the others' 2% is not; every
    // town's 40 rows are fewer than its 已建会单位数 (联合工会 count several).
    assert_eq!(
        line("统计年报 2026SY"),
        "统计年报 2026SY：330102 云墩区总工会所属 6 个乡镇街道各报一份基层工会调查表，经队列存储；\
         每份与本乡镇街道 2026-09 的月报（9 月，统计年度最后一个月）核对 / \
         annual survey 2026SY: each of the 6 towns of 330102 云墩区总工会 sends its grassroots survey, stored through the queue; \
         each is reconciled with its town's monthly return of 2026-09 (September, the statistical year's last month)"
    );
    assert_eq!(
        line("年报核对 330102001"),
        "年报核对 330102001 永河街道总工会：40 个基层工会，职工人数上调一成；接受，0 个错误，2 个提醒 / \
         survey of 330102001: 40 unions, 职工人数 raised by a tenth; accepted, 0 errors, 2 warnings"
    );
    assert_eq!(
        line("年报核对 330102002"),
        "年报核对 330102002 湖川街道总工会：40 个基层工会，职工人数上调 2%；接受，0 个错误，1 个提醒 / \
         survey of 330102002: 40 unions, 职工人数 raised by 2%; accepted, 0 errors, 1 warning"
    );
    assert_eq!(
        shown.lines().filter(|l| l.starts_with("年报核对 ")).count(),
        6,
        "{shown}"
    );
    let mismatches: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("reconcile_mismatch"))
        .map(|l| l.split("reconcile_mismatch").nth(1).unwrap_or("").trim())
        .collect();
    assert_eq!(
        mismatches[..2],
        [
            "职工人数：本表合计 12904，2026-09 月报为 11747，相差 9.8%，超过 5%。请核对。",
            "基层工会数（本表行数，对应已建会单位数）：本表合计 40，2026-09 月报为 59，相差 32.2%，超过 5%。请核对。",
        ],
        "{shown}"
    );
    assert_eq!(mismatches.len(), 7, "{shown}");
    // The county's roll-up of the surveys next to its September figures.
    assert_eq!(
        line("330102 云墩区总工会 2026SY"),
        "330102 云墩区总工会 2026SY 年报汇总与 2026-09 月报对照（6/6 个乡镇街道已报年报） / \
         330102 云墩区总工会: the 2026SY survey's roll-up next to the monthly figures of 2026-09 (6 of 6 towns sent the survey)"
    );
    let county = |prefix: &str| -> Vec<String> {
        line(prefix)
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        county("职工人数 sy_employees"),
        ["职工人数", "sy_employees", "87790", "85268"]
    );
    assert_eq!(
        county("会员人数 sy_members"),
        ["会员人数", "sy_members", "79477", "79477"]
    );
    assert_eq!(
        county("基层工会 units"),
        ["基层工会", "units", "240", "356"]
    );
    assert_eq!(
        line("打开网页"),
        "打开网页：先用下面的命令启动服务（使用演示数据库），再用浏览器访问 http://127.0.0.1:8080/ ，以演示账号登录。"
    );
    assert_eq!(
        line("Open the web page"),
        "Open the web page: serve the demo database with the command below, then browse to http://127.0.0.1:8080/ and sign in with the demo account."
    );
    let serve = shown.lines().find(|l| l.ends_with(" serve")).unwrap_or("");
    assert_eq!(
        serve,
        format!("  cargo run --release -- --database {url} serve"),
        "{shown}"
    );
    assert_eq!(
        line("网址 URL:"),
        "网址 URL:          http://127.0.0.1:8080/"
    );
    assert_eq!(line("登录名 login:"), "登录名 login:      demo");
    assert!(
        line("单位 org:").starts_with("单位 org:          330000 示例省总工会（admin"),
        "{shown}"
    );
    let password_line = line("密码 password:");
    let password = password_line.split_whitespace().nth(2).unwrap().to_string();
    assert_eq!(password.len(), 20, "{password_line}");
    // Shown once: the store keeps only its hash.
    let stored = std::fs::read(&db).unwrap();
    assert!(!stored.windows(20).any(|w| w == password.as_bytes()));

    // The printed command (on port 0 here) serves the page, and the printed
    // sign-in works while a wrong password does not.
    let (_server, addr) = serve_with(d, &["--database", &url], &[]);
    let client = reqwest::Client::new();
    let page = client.get(format!("{addr}/")).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let sign_in = |password: String| {
        client
            .post(format!("{addr}/api/v1/session"))
            .json(&serde_json::json!({"login": "demo", "password": password}))
            .send()
    };
    let wrong = sign_in(format!("{password}x")).await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
    let ok = sign_in(password).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let me: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(
        (
            &me["me"]["org"],
            &me["me"]["role"],
            &me["me"]["actor"]["login"]
        ),
        (
            &serde_json::json!("330000"),
            &serde_json::json!("admin"),
            &serde_json::json!("demo")
        ),
        "{me}"
    );
}
