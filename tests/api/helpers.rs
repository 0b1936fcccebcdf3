//! Test harness: the real service on port 0 with its own warehouse and queue
//! (SQLite files, or a fresh PostgreSQL database: see `backends`), master data,
//! keys, workbooks written by rust_xlsxwriter, and HTTP helpers.

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;

use rust_xlsxwriter::Workbook;
use serde_json::Value;
use unionstat::config::Settings;
use unionstat::core::orgs::{OrgKind, OrgRecord};
use unionstat::store::actor::Actor;
use unionstat::store::keys::{NewKey, Role};
use unionstat::store::people::NewUser;
use unionstat::{AppContext, Application};

pub use crate::backends::*;

pub struct TestApp {
    pub addr: String,
    pub ctx: AppContext,
    pub client: reqwest::Client,
    pub admin_key: String,
    _dir: tempfile::TempDir,
    /// The PostgreSQL test database, dropped by `stop`.
    pg_url: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The test federation:
/// 330000 province → 330100 city → 330102 county → towns 330102001, 330102002
///                                → 330103 county → town 330103001
/// Grassroots units: 330102001001..003, 330102002001..002, 330103001001.
/// A federation record (`reports`: expected to upload every month).
pub fn fed(code: &str, name: &str, parent: Option<&str>, reports: bool) -> OrgRecord {
    OrgRecord {
        code: code.into(),
        name: name.into(),
        parent_code: parent.map(Into::into),
        kind: OrgKind::Federation,
        expected_to_report: reports,
    }
}

/// A grassroots union record.
pub fn unit(code: &str, name: &str, parent: &str) -> OrgRecord {
    OrgRecord {
        code: code.into(),
        name: name.into(),
        parent_code: Some(parent.into()),
        kind: OrgKind::Grassroots,
        expected_to_report: false,
    }
}

pub fn test_orgs() -> Vec<OrgRecord> {
    vec![
        fed("330000", "示例省总工会", None, false),
        fed("330100", "示例市总工会", Some("330000"), false),
        fed("330102", "上城区总工会", Some("330100"), false),
        fed("330103", "下城区总工会", Some("330100"), false),
        fed("330102001", "湖滨街道总工会", Some("330102"), true),
        fed("330102002", "清波街道总工会", Some("330102"), true),
        fed("330103001", "武林街道总工会", Some("330103"), true),
        unit("330102001001", "甲公司工会", "330102001"),
        unit("330102001002", "乙公司工会", "330102001"),
        unit("330102001003", "丙公司工会", "330102001"),
        unit("330102002001", "丁公司工会", "330102002"),
        unit("330102002002", "戊公司工会", "330102002"),
        unit("330103001001", "己公司工会", "330103001"),
    ]
}

/// A key made by the command line, labelled.
pub fn new_key<'a>(org: &'a str, role: Role, label: &'a str) -> NewKey<'a> {
    static CLI: std::sync::OnceLock<Actor> = std::sync::OnceLock::new();
    NewKey {
        org_code: org,
        role,
        label,
        expires_at: None,
        created_by: CLI.get_or_init(Actor::cli),
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings adjusted before the start.
pub async fn spawn_app_with(tune: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, pg_url) = match backend() {
        Backend::Sqlite => (
            format!("sqlite://{}", dir.path().join("warehouse.db").display()),
            None,
        ),
        Backend::Postgres => {
            let url = fresh_pg_database().await;
            (url.clone(), Some(url))
        }
    };
    let mut settings = Settings::load_from(None, Some(&url), &[]).expect("settings");
    settings.worker.poll_interval_ms = 20;
    settings.log.level = "warn".into();
    // The tests' months are fixed: they must not close by time as the calendar
    // moves (the locking tests turn it on).
    settings.reporting.lock_after_days = 0;
    // Uploads are read by the real binary as an isolated child, as in production.
    settings.ingest.reader_exe = env!("CARGO_BIN_EXE_unionstat").into();
    tune(&mut settings);
    let ctx = AppContext::build(settings).await.expect("app context");
    ctx.store
        .import_orgs(&test_orgs())
        .await
        .expect("import orgs");
    let (_, admin_key) = ctx
        .store
        .create_key(&new_key("330000", Role::Admin, "test admin"))
        .await
        .expect("admin key");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let app = Application::build(ctx.clone(), Some(listener), true)
        .await
        .expect("app");
    let addr = format!("http://{}", app.local_addr());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = rx.await;
    }));
    TestApp {
        addr,
        ctx,
        client: reqwest::Client::new(),
        admin_key,
        _dir: dir,
        pg_url,
        stop: Some(tx),
        server: Some(server),
    }
}

impl TestApp {
    /// The PostgreSQL database the app runs on (None: SQLite).
    pub fn pg_url(&self) -> Option<&str> {
        self.pg_url.as_deref()
    }

    /// The single integer a counting query returns.
    pub async fn count(&self, sql: &str) -> i64 {
        self.ctx.store.first_row_i64(sql).await.expect(sql)[0].expect("a count")
    }

    pub async fn key(&self, org: &str, role: Role) -> String {
        let label = format!("test {org} {}", role.as_str());
        self.ctx
            .store
            .create_key(&new_key(org, role, &label))
            .await
            .expect("key")
            .1
    }

    /// Creates a person who can sign in; returns the user id.
    pub async fn create_user(
        &self,
        login: &str,
        name: &str,
        org: &str,
        role: Role,
        password: &str,
    ) -> i64 {
        let hash = unionstat::passwords::hash(password).expect("hash");
        self.ctx
            .store
            .create_user(&NewUser {
                login,
                name,
                org_code: org,
                role,
                password_hash: &hash,
                created_by: &Actor::cli(),
            })
            .await
            .expect("create user")
    }

    /// Uploads bytes with the given key and query; returns (status, body).
    pub async fn upload_as(&self, key: Option<&str>, bytes: Vec<u8>, query: &str) -> (u16, Value) {
        let mut req = self
            .client
            .post(format!("{}/api/v1/submissions?{query}", self.addr))
            .body(bytes);
        if let Some(k) = key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("upload request");
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    /// Uploads as admin a multipart form: the text `fields` first, then the
    /// file (part `file`, named `filename`); returns (status, body).
    pub async fn upload_form(
        &self,
        query: &str,
        fields: &[(&str, &str)],
        filename: &str,
        bytes: &[u8],
    ) -> (u16, Value) {
        let boundary = "unionstat-test-boundary";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\nContent-Type: application/octet-stream\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let resp = self
            .client
            .post(format!("{}/api/v1/submissions?{query}", self.addr))
            .bearer_auth(&self.admin_key)
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(body)
            .send()
            .await
            .expect("upload request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// Uploads as admin for a reporter and month, waits for the verdict.
    pub async fn submit(&self, bytes: Vec<u8>, reporter: &str, period: &str) -> Value {
        let (status, body) = self
            .upload_as(
                Some(&self.admin_key),
                bytes,
                &format!("reporter={reporter}&period={period}"),
            )
            .await;
        assert!(
            status == 202 || status == 200,
            "upload answered {status}: {body}"
        );
        let id = body["id"].as_i64().expect("submission id");
        self.wait(id).await
    }

    /// Sets when a submission was received (RFC 3339), to place it around a
    /// deadline.
    pub async fn set_received_at(&self, id: i64, at: &str) {
        assert!(at
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || ":-.".contains(c)));
        self.ctx
            .store
            .first_row_i64(&format!(
                "UPDATE submissions SET received_at = '{at}' WHERE id = {id} RETURNING id"
            ))
            .await
            .expect("set received_at");
    }

    /// Adds org units to the test federation.
    pub async fn add_orgs(&self, records: &[OrgRecord]) {
        self.ctx
            .store
            .import_orgs(records)
            .await
            .expect("import orgs");
    }

    /// Polls a submission until it is final (at most 30 s: the machines running
    /// the suite are shared and busy).
    pub async fn wait(&self, id: i64) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let (status, body) = self
                .get(&self.admin_key, &format!("/api/v1/submissions/{id}"))
                .await;
            assert_eq!(status, 200, "{body}");
            if ["accepted", "rejected", "superseded"]
                .contains(&body["status"].as_str().unwrap_or(""))
            {
                return body;
            }
            if std::time::Instant::now() > deadline {
                panic!("submission {id} had no verdict within 30 s; last seen: {body}");
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn get(&self, key: &str, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(format!("{}{path}", self.addr))
            .bearer_auth(key)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    pub async fn indicators(&self, org: &str, period: &str) -> Value {
        let (status, body) = self
            .get(
                &self.admin_key,
                &format!("/api/v1/orgs/{org}/indicators?period={period}"),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Approves a submission in review (审核) with `key`, a federation above
    /// its reporter: a federation's approval of its subtree needs its
    /// children's reports approved so.
    pub async fn approve_in_review(&self, key: &str, submission_id: i64) {
        let resp = self
            .client
            .post(format!(
                "{}/api/v1/submissions/{submission_id}/review",
                self.addr
            ))
            .bearer_auth(key)
            .json(&serde_json::json!({"decision": "approve"}))
            .send()
            .await
            .expect("review");
        let status = resp.status().as_u16();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        assert_eq!(status, 200, "review of {submission_id}: {body}");
        assert_eq!(body["review"]["decision"], "approved", "{body}");
    }

    pub async fn verify(&self) -> unionstat::store::rollups::VerifyReport {
        self.ctx.store.verify_rollups(None).await.expect("verify")
    }

    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(s) = self.server.take() {
            s.await
                .expect("server task")
                .expect("server stopped cleanly");
        }
        if let Some(url) = self.pg_url.take() {
            drop(self.ctx);
            drop_pg_database(&url).await;
        }
    }
}

/// A cell of a test workbook.
#[derive(Debug, Clone)]
pub enum C {
    S(&'static str),
    N(f64),
    E,
}

/// A new workbook whose bytes depend only on what is written into it: its
/// creation time is fixed (rust_xlsxwriter stamps the current second
/// otherwise), so the same sheet written twice is the same upload.
pub fn new_workbook() -> Workbook {
    let mut wb = Workbook::new();
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 1).expect("a fixed date");
    wb.set_properties(&rust_xlsxwriter::DocProperties::new().set_creation_datetime(&created));
    wb
}

/// A Template v1 workbook: cover (when given), a title row, the header, rows.
pub fn workbook(cover: Option<(&str, &str)>, header: &[&str], rows: &[Vec<C>]) -> Vec<u8> {
    workbook_with_cover(cover.map(|(r, p)| (r, p, "张三", None)), header, rows)
}

/// Like [`workbook`], with the cover's preparer (填报人) and phone (联系电话):
/// (reporter, period, preparer, phone).
pub fn workbook_with_cover(
    cover: Option<(&str, &str, &str, Option<&str>)>,
    header: &[&str],
    rows: &[Vec<C>],
) -> Vec<u8> {
    let mut wb = new_workbook();
    if let Some((reporter, period, preparer, phone)) = cover {
        let ws = wb.add_worksheet().set_name("封面").expect("sheet name");
        ws.write_string(0, 0, "报送单位代码").unwrap();
        ws.write_string(0, 1, reporter).unwrap();
        ws.write_string(1, 0, "报告期").unwrap();
        ws.write_string(1, 1, period).unwrap();
        ws.write_string(2, 0, "填报人").unwrap();
        ws.write_string(2, 1, preparer).unwrap();
        if let Some(phone) = phone {
            ws.write_string(3, 0, "联系电话").unwrap();
            ws.write_string(3, 1, phone).unwrap();
        }
    }
    let ws = wb
        .add_worksheet()
        .set_name("基层工会情况")
        .expect("sheet name");
    ws.write_string(0, 0, "基层工会统计月报表").unwrap();
    for (c, h) in header.iter().enumerate() {
        ws.write_string(1, c as u16, *h).unwrap();
    }
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            let (r, c) = (r as u32 + 2, c as u16);
            match cell {
                C::S(s) => {
                    ws.write_string(r, c, *s).unwrap();
                }
                C::N(n) => {
                    ws.write_number(r, c, *n).unwrap();
                }
                C::E => {}
            }
        }
    }
    wb.save_to_buffer().expect("workbook bytes")
}

/// The columns most tests use (header row 2, data from row 3):
/// A 单位代码, B 单位名称, C 应建会单位数, D 已建会单位数, E 职工人数, F 会员人数.
pub const BASIC: &[&str] = &[
    "单位代码",
    "单位名称",
    "应建会单位数",
    "已建会单位数",
    "职工人数",
    "会员人数",
];

pub fn basic_row(
    code: &'static str,
    name: &'static str,
    req: f64,
    est: f64,
    emp: f64,
    mem: f64,
) -> Vec<C> {
    vec![
        C::S(code),
        C::S(name),
        C::N(req),
        C::N(est),
        C::N(emp),
        C::N(mem),
    ]
}

/// A unit's row of the basic sheet: (unit, enterprises required, unionised,
/// employees, members).
pub type FigureRow = (&'static str, f64, f64, f64, f64);

/// Uploads `rows` as `reporter`'s report for `month`, which must be accepted.
pub async fn submit_rows(app: &TestApp, month: &str, reporter: &str, rows: &[FigureRow]) {
    let rows: Vec<Vec<C>> = rows
        .iter()
        .map(|&(code, req, est, emp, mem)| basic_row(code, "工会", req, est, emp, mem))
        .collect();
    let sub = app
        .submit(workbook(None, BASIC, &rows), reporter, month)
        .await;
    assert_eq!(sub["status"], "accepted", "{reporter} {month}: {sub}");
}

/// Town 330102001's three units: 41 enterprises required, 39 unionised,
/// 198,000 employees, 196,000 members.
pub fn town_a_rows() -> Vec<Vec<C>> {
    vec![
        basic_row(
            "330102001001",
            "甲公司工会",
            20.0,
            19.0,
            100_000.0,
            99_000.0,
        ),
        basic_row("330102001002", "乙公司工会", 15.0, 14.0, 60_000.0, 59_500.0),
        basic_row("330102001003", "丙公司工会", 6.0, 6.0, 38_000.0, 37_500.0),
    ]
}

/// [`town_a_rows`] as a workbook.
pub fn town_a_sheet() -> Vec<u8> {
    workbook(None, BASIC, &town_a_rows())
}

/// [`town_a_rows`] with one unit's employees (column E) set to `employees`.
pub fn town_a_sheet_with(unit: usize, employees: f64) -> Vec<u8> {
    let mut rows = town_a_rows();
    rows[unit][4] = C::N(employees);
    workbook(None, BASIC, &rows)
}

pub fn metric(v: &Value, code: &str) -> Option<f64> {
    v["metrics"][code].as_f64()
}

pub fn rate(v: &Value, code: &str) -> Option<f64> {
    v["indicators"][code]["value"].as_f64()
}

/// The issue of a rule in a submission's report.
pub fn issue<'a>(sub: &'a Value, rule: &str) -> Option<&'a Value> {
    sub["issues"].as_array()?.iter().find(|i| i["rule"] == rule)
}

// ------------------------------------------------------------ processes

/// A child process killed (SIGKILL) when dropped, so a failing test leaves none.
pub struct Proc(pub Child);

impl Proc {
    pub fn kill9(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// `unionstat ARGS` started in `dir` (see [`unionstat_command`]), stderr piped:
/// a worker silent for 2 s is taken for dead.
pub fn process(dir: &Path, args: &[&str], extra_env: &[(&str, &str)]) -> Proc {
    let mut cmd = unionstat_command(dir);
    cmd.env("UNIONSTAT_WORKER__HEARTBEAT_SECONDS", "1")
        .env("UNIONSTAT_WORKER__MISSED_HEARTBEATS", "2")
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    Proc(cmd.spawn().expect("start unionstat"))
}

/// Starts `serve` and returns it with the address it listens on.
pub fn serve(dir: &Path) -> (Proc, String) {
    serve_with(dir, &[], &[])
}

/// Starts `serve --bind 127.0.0.1:0 EXTRA_ARGS` with extra environment and
/// returns it with the address it listens on.
pub fn serve_with(dir: &Path, extra_args: &[&str], env: &[(&str, &str)]) -> (Proc, String) {
    let mut args = vec!["serve", "--bind", "127.0.0.1:0"];
    args.extend_from_slice(extra_args);
    let mut p = process(dir, &args, env);
    let addr = said_after(&mut p, "unionstat listening on ");
    (p, addr)
}

/// The rest of the first line of `p`'s stderr that starts with `prefix` (within
/// its first 100 lines); stderr is drained from then on, so the process never
/// blocks on a full pipe.
pub fn said_after(p: &mut Proc, prefix: &str) -> String {
    let mut stderr = BufReader::new(p.0.stderr.take().expect("stderr"));
    let mut line = String::new();
    for _ in 0..100 {
        line.clear();
        if stderr.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        if let Some(rest) = line.trim().strip_prefix(prefix) {
            let rest = rest.to_string();
            std::thread::spawn(move || for _ in stderr.lines() {});
            return rest;
        }
    }
    panic!("no line starting {prefix:?} on stderr, last: {line}");
}

/// Master data: the province, city and county of the test federation, with
/// `towns` towns of `units` grassroots units each under county 330102.
pub fn orgs_csv(towns: usize, units: usize) -> String {
    let mut csv = String::from("code,name,parent_code,kind,expected_to_report\n");
    csv.push_str("330000,示例省总工会,,federation,false\n");
    csv.push_str("330100,示例市总工会,330000,federation,false\n");
    csv.push_str("330102,上城区总工会,330100,federation,false\n");
    for t in 1..=towns {
        let town = format!("330102{t:03}");
        let _ = writeln!(csv, "{town},街道{t},330102,federation,true");
        for u in 1..=units {
            let _ = writeln!(csv, "{town}{u:05},工会{t}-{u},{town},grassroots,false");
        }
    }
    csv
}

/// A town's sheet: unit u reports employees = base + u and members = base.
/// Returns the bytes and the (employees, members) sums.
pub fn town_sheet(town: usize, units: usize, period: &str, base: i64) -> (Vec<u8>, i64, i64) {
    let town_code = format!("330102{town:03}");
    let mut wb = new_workbook();
    let cover = wb.add_worksheet().set_name("封面").expect("sheet");
    cover.write_string(0, 0, "报送单位代码").expect("cell");
    cover.write_string(0, 1, &town_code).expect("cell");
    cover.write_string(1, 0, "报告期").expect("cell");
    cover.write_string(1, 1, period).expect("cell");
    let ws = wb.add_worksheet().set_name("基层工会情况").expect("sheet");
    for (c, h) in BASIC.iter().enumerate() {
        ws.write_string(0, c as u16, *h).expect("cell");
    }
    let (mut emp, mut mem) = (0, 0);
    for u in 1..=units {
        let r = u as u32;
        let (e, m) = (base + u as i64, base);
        ws.write_string(r, 0, format!("{town_code}{u:05}"))
            .expect("cell");
        ws.write_string(r, 1, format!("工会{town}-{u}"))
            .expect("cell");
        ws.write_number(r, 2, 2.0).expect("cell");
        ws.write_number(r, 3, 1.0).expect("cell");
        ws.write_number(r, 4, e as f64).expect("cell");
        ws.write_number(r, 5, m as f64).expect("cell");
        emp += e;
        mem += m;
    }
    (wb.save_to_buffer().expect("bytes"), emp, mem)
}

/// `unionstat keys create` of an admin key of the province, run by `cmd` (from
/// [`unionstat_command`], with any environment added); returns the key.
pub fn cli_admin_key(cmd: &mut std::process::Command, label: &str) -> String {
    let out = cmd
        .args([
            "keys", "create", "--org", "330000", "--role", "admin", "--label", label,
        ])
        .output()
        .expect("run unionstat keys create");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Uploads a workbook to the service at `addr` (`http://…`) with `key`;
/// returns (status, body).
pub async fn post_submission(addr: &str, key: &str, bytes: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{addr}/api/v1/submissions"))
        .bearer_auth(key)
        .body(bytes)
        .send()
        .await
        .expect("upload");
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

/// GET `path` of the service at `addr` with `key`; the JSON answer.
pub async fn get_json(addr: &str, key: &str, path: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{addr}{path}"))
        .bearer_auth(key)
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("a JSON answer")
}

/// Moves `unit` under `to` from `from` on, as a test actor without a reason.
pub async fn move_unit(app: &TestApp, unit: &str, to: &str, from: &str) {
    let who = unionstat::flows::tree_changes::Changer {
        actor: "test".into(),
        reason: None,
    };
    let from = from.parse().expect("a month");
    unionstat::flows::tree_changes::move_unit(&app.ctx, unit, to, from, &who)
        .await
        .unwrap_or_else(|e| panic!("moving {unit} to {to} from {from}: {e:#}"));
}

/// One reporter of a completeness answer, by code.
pub fn reporter_in<'a>(completeness: &'a Value, code: &str) -> &'a Value {
    completeness["reporters"]
        .as_array()
        .expect("reporters")
        .iter()
        .find(|r| r["code"] == code)
        .unwrap_or_else(|| panic!("no reporter {code} in {completeness}"))
}
