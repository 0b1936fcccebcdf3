//! /metrics after real uploads, request ids, the reporting gauges, and that the
//! Grafana dashboard and the alert rules name only metrics the service exports,
//! every one of them from the start.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use unionstat::core::Period;

use crate::helpers::*;

/// One sample of the Prometheus text format.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// A scrape: its samples and its `# TYPE` lines (family → type).
#[derive(Debug, Clone)]
struct Scrape {
    text: String,
    samples: Vec<Sample>,
    types: BTreeMap<String, String>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        let mut samples = Vec::new();
        let mut types = BTreeMap::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect("# TYPE name kind");
                types.insert(name.to_string(), kind.to_string());
                continue;
            }
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            samples.push(parse_sample(line));
        }
        Scrape {
            text: text.to_string(),
            samples,
            types,
        }
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let found: Vec<f64> = self
            .samples
            .iter()
            .filter(|s| {
                s.name == name
                    && labels
                        .iter()
                        .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .collect();
        assert!(
            found.len() <= 1,
            "{name} {labels:?} matches {} samples",
            found.len()
        );
        found.first().copied()
    }

    /// The sum of every sample named `name`.
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|s| s.name == name)
            .map(|s| s.value)
            .sum()
    }

    /// Whether `family` (a metric name, or a histogram's `_bucket`/`_sum`/
    /// `_count` series) has at least one sample.
    fn has_samples(&self, name: &str) -> bool {
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| self.types.contains_key(*f)))
            .unwrap_or(name);
        self.types.contains_key(family)
            && self.samples.iter().any(|s| {
                s.name == family
                    || s.name
                        .strip_prefix(family)
                        .is_some_and(|rest| ["_bucket", "_sum", "_count"].contains(&rest))
            })
    }
}

/// `name{k="v",…} value` or `name value`.
fn parse_sample(line: &str) -> Sample {
    let (name, rest) = match line.find(['{', ' ']) {
        Some(i) => line.split_at(i),
        None => panic!("not a sample line: {line}"),
    };
    let mut labels = BTreeMap::new();
    let mut rest = rest;
    if let Some(body) = rest.strip_prefix('{') {
        let mut chars = body.char_indices();
        let mut key = String::new();
        let end = loop {
            let (i, c) = chars
                .next()
                .unwrap_or_else(|| panic!("unclosed {{: {line}"));
            match c {
                '}' => break i,
                ',' => {}
                '=' => {
                    assert_eq!(chars.next().map(|(_, c)| c), Some('"'), "{line}");
                    let mut value = String::new();
                    loop {
                        let (_, c) = chars.next().unwrap_or_else(|| panic!("{line}"));
                        match c {
                            '"' => break,
                            '\\' => match chars.next().map(|(_, c)| c) {
                                Some('n') => value.push('\n'),
                                Some(c) => value.push(c),
                                None => panic!("{line}"),
                            },
                            c => value.push(c),
                        }
                    }
                    labels.insert(std::mem::take(&mut key), value);
                }
                c => key.push(c),
            }
        };
        rest = &body[end + 1..];
    }
    let value = rest
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("no value: {line}"));
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
    };
    Sample {
        name: name.to_string(),
        labels,
        value,
    }
}

async fn scrape(app: &TestApp) -> Scrape {
    let resp = app
        .client
        .get(format!("{}/metrics", app.addr))
        .send()
        .await
        .expect("scrape");
    assert_eq!(resp.status().as_u16(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    Scrape::parse(&resp.text().await.expect("scrape body"))
}

/// Scrapes until the ingest queue is empty and `jobs` job runs are counted
/// (the queue acknowledges a job just after its verdict is stored), for up to
/// 20 s.
async fn scrape_when_idle(app: &TestApp, jobs: f64) -> Scrape {
    for _ in 0..400 {
        let s = scrape(app).await;
        if s.value("unionstat_queue_depth", &[("queue", "unionstat.ingest")]) == Some(0.0)
            && s.sum("unionstat_jobs_total") == jobs
        {
            return s;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let s = scrape(app).await;
    panic!(
        "the queue did not drain to 0 with {jobs} job runs:\n{}",
        s.text
    );
}

/// One accepted (town A, 3 rows) and one rejected by members_le_employees
/// (town B, 2 rows) upload, both final.
async fn upload_good_and_bad(app: &TestApp) {
    let good = app.submit(town_a_sheet(), "330102001", "2026-10").await;
    assert_eq!(good["status"], "accepted", "{good}");
    let bad = workbook(
        None,
        BASIC,
        &[
            basic_row("330102002001", "丁公司工会", 2.0, 1.0, 100.0, 90.0),
            basic_row("330102002002", "戊公司工会", 2.0, 2.0, 1200.0, 1205.0),
        ],
    );
    let bad = app.submit(bad, "330102002", "2026-10").await;
    assert_eq!(bad["status"], "rejected", "{bad}");
    assert!(issue(&bad, "members_le_employees").is_some(), "{bad}");
}

/// The month being reported now: the one before today's, by the service's
/// clock (reporting.time_zone).
fn current_period(app: &TestApp) -> Period {
    app.ctx
        .settings
        .reporting
        .reporting_period(chrono::Utc::now())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_move_with_one_accepted_and_one_rejected_upload() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    // Known outcomes are there from the start, at 0, for every form.
    for form in ["monthly", "annual_survey", "service_half"] {
        for outcome in ["accepted", "rejected"] {
            let o = [("outcome", outcome), ("form", form)];
            assert_eq!(before.value("unionstat_submissions_total", &o), Some(0.0));
        }
        assert_eq!(
            before.value(
                "unionstat_submission_latency_seconds_count",
                &[("form", form)]
            ),
            Some(0.0)
        );
    }
    assert_eq!(
        before.value(
            "unionstat_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))]
        ),
        Some(1.0)
    );
    upload_good_and_bad(&app).await;
    // An upload for a reporter that does not exist is refused (404, as an
    // unknown org code on every route), not stored.
    let (status, _) = app
        .upload_as(
            Some(&app.admin_key),
            town_a_sheet(),
            "reporter=999999&period=2026-10",
        )
        .await;
    assert_eq!(status, 404);
    let s = scrape_when_idle(&app, 2.0).await;

    let v = |name: &str, labels: &[(&str, &str)]| {
        s.value(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in\n{}", s.text))
    };
    assert_eq!(v("unionstat_uploads_total", &[("outcome", "created")]), 2.0);
    assert_eq!(v("unionstat_uploads_total", &[("outcome", "refused")]), 1.0);
    assert_eq!(s.sum("unionstat_uploads_total"), 3.0);
    let monthly = |outcome| [("outcome", outcome), ("form", "monthly")];
    assert_eq!(v("unionstat_submissions_total", &monthly("accepted")), 1.0);
    assert_eq!(v("unionstat_submissions_total", &monthly("rejected")), 1.0);
    assert_eq!(s.sum("unionstat_submissions_total"), 2.0);
    assert!(
        v(
            "unionstat_validation_issues_total",
            &[("rule", "members_le_employees")]
        ) >= 1.0
    );
    assert_eq!(v("unionstat_rows_read_total", &[]), 5.0);
    assert_eq!(
        v(
            "unionstat_jobs_total",
            &[("job", "ingest"), ("outcome", "accepted")]
        ),
        1.0
    );
    assert_eq!(
        v(
            "unionstat_jobs_total",
            &[("job", "ingest"), ("outcome", "rejected")]
        ),
        1.0
    );
    assert_eq!(
        v("unionstat_job_duration_seconds_count", &[("job", "ingest")]),
        2.0
    );
    assert_eq!(
        v("unionstat_queue_depth", &[("queue", "unionstat.ingest")]),
        0.0
    );
    assert_eq!(
        v(
            "unionstat_queue_oldest_age_seconds",
            &[("queue", "unionstat.ingest")]
        ),
        0.0
    );
    // Upload received → roll-ups visible, for the accepted one only.
    let form = [("form", "monthly")];
    assert_eq!(v("unionstat_submission_latency_seconds_count", &form), 1.0);
    let latency = v("unionstat_submission_latency_seconds_sum", &form);
    assert!((0.0..60.0).contains(&latency), "{latency}");

    // HTTP by route template: two uploads answered 202, polls by id counted
    // under the template, never under a path with the id in it.
    assert_eq!(
        v(
            "unionstat_http_requests_total",
            &[("route", "/api/v1/submissions"), ("status", "202")]
        ),
        2.0
    );
    assert!(
        v(
            "unionstat_http_requests_total",
            &[("route", "/api/v1/submissions/{id}"), ("status", "200")]
        ) >= 2.0
    );
    assert_eq!(
        v(
            "unionstat_http_requests_total",
            &[("route", "/api/v1/submissions"), ("status", "404")]
        ),
        1.0
    );
    assert_eq!(
        v(
            "unionstat_http_request_duration_seconds_count",
            &[("route", "/api/v1/submissions")]
        ),
        3.0
    );
    for sample in &s.samples {
        for value in sample.labels.values() {
            let raw_path = value.starts_with('/')
                && value
                    .split('/')
                    .any(|seg| !seg.is_empty() && seg.chars().all(|c| c.is_ascii_digit()));
            assert!(!raw_path, "a raw path as label: {sample:?}");
        }
        assert!(
            !sample.labels.contains_key("org"),
            "no org label: {sample:?}"
        );
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_echoed_or_made() {
    let app = spawn_app().await;
    let get = |id: Option<&'static str>| {
        let mut req = app.client.get(format!("{}/healthz", app.addr));
        if let Some(id) = id {
            req = req.header("x-request-id", id);
        }
        req.send()
    };
    let resp = get(Some("ops-check-42")).await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["x-request-id"], "ops-check-42");

    let made =
        |resp: &reqwest::Response| resp.headers()["x-request-id"].to_str().unwrap().to_string();
    let a = made(&get(None).await.unwrap());
    let b = made(&get(None).await.unwrap());
    assert_eq!(a.len(), 36, "{a}");
    assert_ne!(a, b);
    // An id that could break a log line is replaced, not echoed.
    let c = made(&get(Some("bad id\twith spaces")).await.unwrap());
    assert_eq!(c.len(), 36, "{c}");
    // Unknown routes are counted under one label, not their path.
    let resp = app
        .client
        .get(format!("{}/no/such/1234", app.addr))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert!(resp.headers().contains_key("x-request-id"));
    let s = scrape(&app).await;
    assert_eq!(
        s.value(
            "unionstat_http_requests_total",
            &[("route", "/healthz"), ("status", "200")]
        ),
        Some(4.0)
    );
    assert_eq!(
        s.value(
            "unionstat_http_requests_total",
            &[("route", "unmatched"), ("status", "404")]
        ),
        Some(1.0)
    );
    assert!(!s.text.contains("/no/such"), "{}", s.text);
    app.stop().await;
}

/// The metric names a PromQL expression reads: identifiers that are not
/// functions, aggregations, keywords, label names (in `{…}` or `by (…)`),
/// strings, numbers, durations or Grafana variables.
fn expr_metric_names(expr: &str) -> BTreeSet<String> {
    // Besides the words that open a label list.
    const KEYWORDS: &[&str] = &[
        "and",
        "or",
        "unless",
        "bool",
        "offset",
        "inf",
        "nan",
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
    ];
    const LABEL_LISTS: &[&str] = &[
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
    ];
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    let chars: Vec<char> = expr.chars().collect();
    let mut out = BTreeSet::new();
    let mut i = 0;
    let mut last_word = String::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            // Label matchers (whose values may hold braces), range selectors
            // and strings hold no metric names.
            '{' | '[' | '"' | '\'' | '`' => {
                let close = match c {
                    '{' => '}',
                    '[' => ']',
                    q => q,
                };
                let mut quote = None;
                i += 1;
                while i < chars.len() {
                    let ch = chars[i];
                    match quote {
                        Some(_) if ch == '\\' => i += 1,
                        Some(q) if ch == q => quote = None,
                        Some(_) => {}
                        None if ch == close => break,
                        None if c == '{' && ['"', '\'', '`'].contains(&ch) => quote = Some(ch),
                        None => {}
                    }
                    i += 1;
                }
                i += 1;
            }
            '(' if LABEL_LISTS.contains(&last_word.as_str()) => {
                while i < chars.len() && chars[i] != ')' {
                    i += 1;
                }
                i += 1;
                last_word.clear();
            }
            '$' => {
                i += 1;
                while i < chars.len() && ident(chars[i]) {
                    i += 1;
                }
            }
            c if c.is_ascii_digit() || c == '.' => {
                while i < chars.len() && (ident(chars[i]) || chars[i] == '.') {
                    i += 1;
                }
            }
            c if ident(c) => {
                let start = i;
                while i < chars.len() && ident(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                let next = chars[i..].iter().find(|c| !c.is_whitespace());
                let lower = word.to_lowercase();
                let keyword =
                    KEYWORDS.contains(&lower.as_str()) || LABEL_LISTS.contains(&lower.as_str());
                if next != Some(&'(') && !keyword {
                    out.insert(word.clone());
                }
                last_word = word;
            }
            _ => i += 1,
        }
    }
    out
}

/// The `expr` of every target of the dashboard's panels (rows' panels too).
fn dashboard_exprs(dashboard: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for p in std::iter::once(panel).chain(panel["panels"].as_array().into_iter().flatten()) {
            for t in p["targets"].as_array().into_iter().flatten() {
                out.extend(t["expr"].as_str().map(str::to_string));
            }
        }
    }
    out
}

/// The rule file's expressions (`expr: …` on its line, or a `|` block below
/// it) and the names its recording rules define (`record: …`).
fn rule_exprs(yaml: &str) -> (Vec<String>, BTreeSet<String>) {
    let (mut exprs, mut records) = (Vec::new(), BTreeSet::new());
    let lines: Vec<&str> = yaml.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        let indent = line.len() - line.trim_start().len();
        // A key may open a list item (`- record: …`).
        let line = line.trim_start().trim_start_matches("- ");
        if let Some(name) = line.strip_prefix("record:") {
            records.insert(name.trim().to_string());
        }
        let Some(value) = line.strip_prefix("expr:").map(str::trim) else {
            continue;
        };
        if !value.starts_with(['|', '>']) {
            exprs.push(value.to_string());
            continue;
        }
        let block: Vec<&str> = lines[n + 1..]
            .iter()
            .take_while(|l| l.trim().is_empty() || l.len() - l.trim_start().len() > indent)
            .copied()
            .collect();
        exprs.push(block.join("\n"));
    }
    (exprs, records)
}

/// The metric names the dashboard's and the alert rules' expressions read,
/// apart from `up` (Prometheus's own) and the names of recording rules.
fn names_in_dashboard_and_alerts() -> (BTreeSet<String>, BTreeSet<String>) {
    let root = env!("CARGO_MANIFEST_DIR");
    let dashboard = std::fs::read_to_string(format!("{root}/config/grafana/unionstat.json"))
        .expect("config/grafana/unionstat.json");
    let alerts = std::fs::read_to_string(format!("{root}/config/prometheus/alerts.yml"))
        .expect("config/prometheus/alerts.yml");
    let json: serde_json::Value = serde_json::from_str(&dashboard).expect("dashboard is JSON");
    assert_eq!(json["uid"], "unionstat");
    assert!(json["schemaVersion"].as_i64().unwrap() >= 36);
    let (rule_exprs, records) = rule_exprs(&alerts);
    let names = |exprs: &[String]| -> BTreeSet<String> {
        exprs
            .iter()
            .flat_map(|e| expr_metric_names(e))
            .filter(|n| n != "up" && !records.contains(n))
            .collect()
    };
    (names(&dashboard_exprs(&json)), names(&rule_exprs))
}

#[test]
fn metric_names_are_read_out_of_expressions() {
    let names = expr_metric_names(
        r#"sum by (job, le) (rate(unionstat_jobs_total{job="ingest",route="/x/{code}/y",outcome=~"a|b"}[$__rate_interval])) / on () group_left(x) max(up{job="unionstat"}) and time() > max(unionstat_reports_deadline_timestamp_seconds) + 5 * 86400 or vector(1.5e3)"#,
    );
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "unionstat_jobs_total",
            "unionstat_reports_deadline_timestamp_seconds",
            "up"
        ]
    );
    let (exprs, records) = rule_exprs(
        "rules:\n  - record: job:x:rate5m\n    expr: rate(x_total[5m])\n  - alert: A\n    expr: |\n      a_total\n      / b_total\n    for: 1m\n",
    );
    assert_eq!(
        exprs,
        ["rate(x_total[5m])", "      a_total\n      / b_total"]
    );
    assert!(records.contains("job:x:rate5m"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_alerts_name_only_exported_metrics() {
    let (in_dashboard, in_alerts) = names_in_dashboard_and_alerts();
    assert!(in_dashboard.len() >= 10, "{in_dashboard:?}");
    assert!(in_alerts.len() >= 4, "{in_alerts:?}");

    // Every counter and histogram gets samples: uploads, jobs, HTTP.
    let app = spawn_app().await;
    upload_good_and_bad(&app).await;
    let s = scrape_when_idle(&app, 2.0).await;
    if let Ok(path) = std::env::var("UNIONSTAT_SCRAPE_OUT") {
        std::fs::write(&path, &s.text).expect("write the scrape");
    }
    for name in in_dashboard.iter().chain(&in_alerts) {
        assert!(
            s.has_samples(name),
            "{name} is used in the dashboard or alerts but has no sample in\n{}",
            s.text
        );
    }
    // …and the dashboard shows every family the service exports.
    let shown: BTreeSet<&str> = in_dashboard
        .iter()
        .map(|n| {
            ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|suf| n.strip_suffix(suf))
                .unwrap_or(n)
        })
        .collect();
    for family in s.types.keys() {
        assert!(
            shown.contains(family.as_str()),
            "{family} has no dashboard panel"
        );
    }
    assert!(s.types.len() >= 15, "{:?}", s.types);
    app.stop().await;
}

/// A `unionstat serve` that has taken no upload yet exports every family the
/// dashboard and the alert rules read, and its process metrics: a rate() over
/// a counter that appears only at its first event misses that event, and an
/// alert or panel with no series shows nothing at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_serve_exports_every_family_the_dashboard_and_alerts_name() {
    let (in_dashboard, in_alerts) = names_in_dashboard_and_alerts();
    let dir = tempfile::tempdir().unwrap();
    let (_serve, addr) = serve(dir.path());
    let text = reqwest::get(format!("{addr}/metrics"))
        .await
        .expect("scrape")
        .text()
        .await
        .expect("scrape body");
    let s = Scrape::parse(&text);
    for name in in_dashboard.iter().chain(&in_alerts) {
        assert!(
            s.has_samples(name),
            "{name} is read by the dashboard or the alerts but a fresh serve has no sample of it in\n{text}"
        );
    }
    for family in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
    ] {
        assert!(s.has_samples(family), "{family} in\n{text}");
    }
    let v = |name: &str, labels: &[(&str, &str)]| s.value(name, labels);
    let started = v("process_start_time_seconds", &[]).unwrap();
    let now = chrono::Utc::now().timestamp() as f64;
    assert!((now - 600.0..=now + 1.0).contains(&started), "{started}");
    // Known label values at 0: every outcome, job, catalogue rule, queue, level.
    let ingest = [("job", "ingest"), ("outcome", "retry")];
    assert_eq!(v("unionstat_jobs_total", &ingest), Some(0.0));
    assert_eq!(
        v("unionstat_uploads_total", &[("outcome", "refused")]),
        Some(0.0)
    );
    for rule in ["members_le_employees", "period_future", "unit_unknown"] {
        let r = [("rule", rule)];
        assert_eq!(
            v("unionstat_validation_issues_total", &r),
            Some(0.0),
            "{rule}"
        );
    }
    let q = [("queue", "unionstat.ingest")];
    assert_eq!(v("unionstat_queue_depth", &q), Some(0.0));
    for level in ["0", "1"] {
        let l = [("level", level)];
        assert_eq!(v("unionstat_reports_expected", &l), Some(0.0), "{level}");
    }
    let upload_500 = [("route", "/api/v1/submissions"), ("status", "500")];
    assert_eq!(v("unionstat_http_requests_total", &upload_500), Some(0.0));
}

/// A worker-only process has no API listener; with `worker.metrics_bind` it
/// serves /metrics (its job runs and its process metrics) and /healthz there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_serves_its_metrics_on_worker_metrics_bind() {
    let dir = tempfile::tempdir().unwrap();
    let bind = [("UNIONSTAT_WORKER__METRICS_BIND", "127.0.0.1:0")];
    let mut worker = process(dir.path(), &["worker"], &bind);
    let url = said_after(&mut worker, "unionstat worker metrics on ");
    assert!(url.ends_with("/metrics"), "{url}");
    let text = reqwest::get(&url).await.unwrap().text().await.unwrap();
    let s = Scrape::parse(&text);
    for family in ["process_cpu_seconds_total", "process_resident_memory_bytes"] {
        assert!(s.has_samples(family), "{family} in\n{text}");
    }
    let ingest = [("job", "ingest"), ("outcome", "accepted")];
    assert_eq!(
        s.value("unionstat_jobs_total", &ingest),
        Some(0.0),
        "{text}"
    );
    let q = [("queue", "unionstat.ingest")];
    assert_eq!(s.value("unionstat_queue_depth", &q), Some(0.0), "{text}");
    let health = url.replace("/metrics", "/healthz");
    assert_eq!(reqwest::get(&health).await.unwrap().status().as_u16(), 200);
    let other = url.replace("/metrics", "/api/v1/me");
    assert_eq!(reqwest::get(&other).await.unwrap().status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_gauges_count_last_months_reporters_per_level() {
    let app = spawn_app().await;
    let s = scrape(&app).await;
    // Three expected reporters (the towns) under the province (level 0) and the
    // city (level 1); depth 2 is below the default telemetry.report_depth = 1.
    for level in ["0", "1"] {
        let l = [("level", level)];
        assert_eq!(s.value("unionstat_reports_expected", &l), Some(3.0));
        assert_eq!(s.value("unionstat_reports_received", &l), Some(0.0));
        assert_eq!(s.value("unionstat_reports_late", &l), Some(0.0));
    }
    assert_eq!(
        s.value("unionstat_reports_expected", &[("level", "2")]),
        None
    );

    // A report for another month does not count; one for last month does.
    let period = current_period(&app);
    let other = app
        .submit(town_a_sheet(), "330102001", &period.previous().to_string())
        .await;
    assert_eq!(other["status"], "accepted", "{other}");
    let today = || app.ctx.settings.reporting.today(chrono::Utc::now());
    let day_before = today();
    let sub = app
        .submit(town_a_sheet(), "330102001", &period.to_string())
        .await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let day_after = today();
    let s = scrape(&app).await;
    let reporting = &app.ctx.settings.reporting;
    let deadline = period.deadline(reporting.deadline_day);
    // Late from the end of the deadline day in the federation's zone (the
    // alert ReportsMissingAfterDeadline counts from it).
    assert_eq!(
        s.value("unionstat_reports_deadline_timestamp_seconds", &[]),
        Some(reporting.late_from(period).timestamp() as f64)
    );
    for level in ["0", "1"] {
        let l = [("level", level)];
        assert_eq!(s.value("unionstat_reports_expected", &l), Some(3.0));
        assert_eq!(s.value("unionstat_reports_received", &l), Some(1.0));
        let late = s.value("unionstat_reports_late", &l).unwrap();
        if day_before == day_after {
            // Late when it arrived after the deadline day (in reporting.time_zone),
            // as completeness says.
            assert_eq!(late, f64::from(u8::from(day_after > deadline)), "{level}");
        }
    }
    let (status, completeness) = app
        .get(
            &app.admin_key,
            &format!("/api/v1/orgs/330000/completeness?period={period}"),
        )
        .await;
    assert_eq!(status, 200, "{completeness}");
    assert_eq!(
        s.value("unionstat_reports_late", &[("level", "0")]),
        completeness["late"].as_f64()
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_depth_adds_levels_summed_over_their_units() {
    let app = spawn_app_with(|s| s.telemetry.report_depth = 2).await;
    let sub = app
        .submit(
            town_a_sheet(),
            "330103001",
            &current_period(&app).to_string(),
        )
        .await;
    // 330103001 has one unit only; town A's rows are not under it.
    assert_eq!(sub["status"], "rejected", "{sub}");
    let sheet = workbook(
        None,
        BASIC,
        &[basic_row(
            "330103001001",
            "己公司工会",
            3.0,
            2.0,
            500.0,
            450.0,
        )],
    );
    let sub = app
        .submit(sheet, "330103001", &current_period(&app).to_string())
        .await;
    assert_eq!(sub["status"], "accepted", "{sub}");
    let s = scrape(&app).await;
    // Level 2 = the counties 330102 (2 towns) and 330103 (1 town), summed.
    assert_eq!(
        s.value("unionstat_reports_expected", &[("level", "2")]),
        Some(3.0)
    );
    for level in ["0", "1", "2"] {
        assert_eq!(
            s.value("unionstat_reports_received", &[("level", level)]),
            Some(1.0),
            "level {level}"
        );
    }
    assert_eq!(
        s.value("unionstat_reports_expected", &[("level", "3")]),
        None
    );
    let series = s
        .samples
        .iter()
        .filter(|x| x.name.starts_with("unionstat_reports_") && x.labels.contains_key("level"))
        .count();
    assert_eq!(series, 9, "3 gauges × 3 levels");
    app.stop().await;
}

/// While a job runs the worker polls its queue on its interval, not on every
/// wake-up of the job: a job of a few thousand rows (hundreds of queries and
/// reads) leaves the poll count near `elapsed / worker.poll_interval_ms`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_running_job_does_not_make_the_worker_poll_its_queue_in_a_loop() {
    let app = spawn_app_with(|s| s.worker.poll_interval_ms = 500).await;
    // The test workbook's cells are `&'static str`.
    let codes: &'static [String] = (0..3000)
        .map(|i| format!("3301020019{i:04}"))
        .collect::<Vec<_>>()
        .leak();
    let units: Vec<_> = codes
        .iter()
        .map(|c| unit(c, "某公司工会", "330102001"))
        .collect();
    app.add_orgs(&units).await;
    let rows: Vec<_> = codes
        .iter()
        .map(|c| basic_row(c.as_str(), "某公司工会", 2.0, 1.0, 100.0, 90.0))
        .collect();
    let sheet = workbook(None, BASIC, &rows);
    let before = scrape(&app).await.sum("unionstat_queue_polls_total");
    let started = std::time::Instant::now();
    let sub = app.submit(sheet, "330102001", "2026-10").await;
    let elapsed = started.elapsed();
    assert_eq!(sub["status"], "accepted", "{sub}");
    let s = scrape(&app).await;
    let polls = s.sum("unionstat_queue_polls_total") - before;
    // A fetch is a few polls (a connection, BEGIN, the query, COMMIT), one
    // fetch per interval, a few more around the job (on a loaded machine up
    // to ~35 for a job of about a second). With the job polled inside the
    // worker this was over a thousand polls a second.
    let bound = 6.0 * elapsed.as_secs_f64() / 0.5 + 40.0;
    assert!(
        polls <= bound,
        "{polls} polls in {elapsed:?}, bound {bound:.0}"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submissions_are_counted_by_the_form_their_workbook_is() {
    let app = spawn_app().await;
    // An annual survey accepted, a monthly sheet named as the survey refused.
    crate::forms::store_survey(
        &app,
        crate::forms::annual_of(
            ("330102001", "湖滨街道总工会"),
            &[("330102001001", "甲公司工会", 430, 200, 520, "单独")],
        ),
    )
    .await;
    crate::forms_stored::monthly_named_as_survey(&app).await;
    let s = scrape_when_idle(&app, 2.0).await;
    let v = |outcome: &str, form: &str| {
        s.value(
            "unionstat_submissions_total",
            &[("outcome", outcome), ("form", form)],
        )
    };
    assert_eq!(v("accepted", "annual_survey"), Some(1.0));
    // The refused workbook is a monthly one: counted as what it is.
    assert_eq!(v("rejected", "monthly"), Some(1.0));
    assert_eq!(v("accepted", "monthly"), Some(0.0));
    assert_eq!(v("rejected", "annual_survey"), Some(0.0));
    assert_eq!(
        s.value(
            "unionstat_submission_latency_seconds_count",
            &[("form", "annual_survey")]
        ),
        Some(1.0)
    );
    assert_eq!(
        s.value(
            "unionstat_submission_latency_seconds_count",
            &[("form", "monthly")]
        ),
        Some(0.0)
    );
    app.stop().await;
}

postgres_twins!(
    submissions_are_counted_by_the_form_their_workbook_is,
    metrics_move_with_one_accepted_and_one_rejected_upload,
    a_running_job_does_not_make_the_worker_poll_its_queue_in_a_loop,
    request_ids_are_echoed_or_made,
    dashboard_and_alerts_name_only_exported_metrics,
    a_fresh_serve_exports_every_family_the_dashboard_and_alerts_name,
    a_worker_serves_its_metrics_on_worker_metrics_bind,
    report_gauges_count_last_months_reporters_per_level,
    report_depth_adds_levels_summed_over_their_units,
);
