//! Logs (text or JSON) and Prometheus metrics in one registry. Labels come from
//! small fixed sets only: outcomes, job names, rule codes of the catalogue, route
//! templates, status codes. Every series whose label values are known at start
//! (all but the status codes) is exported from the start at 0, so `rate()` and
//! `increase()` see a counter's first step and dashboards and alerts have
//! series to work on before the first upload; see [`Metrics::start_at_zero`].

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::{LogSettings, Settings};

/// `unionstat_uploads_total{outcome}`.
pub const UPLOAD_OUTCOMES: &[&str] = &["created", "duplicate", "refused", "failed"];
/// `unionstat_submissions_total{outcome,form}`.
pub const SUBMISSION_OUTCOMES: &[&str] = &["accepted", "rejected"];
/// `unionstat_jobs_total{outcome}`: a verdict, a job already done, or a run
/// that will be retried (a failure or a timeout).
pub const JOB_OUTCOMES: &[&str] = &["accepted", "rejected", "skipped", "retry", "timeout"];
/// `unionstat_answer_cache_total{outcome}`: an indicators answer served from the
/// cache, made and kept, or made without the cache (see `answer_cache`).
pub const ANSWER_CACHE_OUTCOMES: &[&str] = &["hit", "miss", "bypass"];
/// `unionstat_reminders_*_total{notice}`: the reminder (催报) notices.
pub const REMINDER_NOTICES: &[&str] = &["due_soon", "overdue"];
/// `unionstat_reminders_*_total{channel}`: what a notice goes through.
pub const REMINDER_CHANNELS: &[&str] = &["email"];

/// Installs the global tracing subscriber (once; later calls are ignored).
pub fn init_tracing(log: &LogSettings) {
    use std::io::IsTerminal;
    let ansi = std::io::stderr().is_terminal();
    let _ = subscriber(log, ansi, std::io::stderr).try_init();
}

/// The subscriber for `log`: text lines, or one JSON object per event with the
/// fields of its spans (request_id, route; job, submission_id).
fn subscriber<W>(
    log: &LogSettings,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.level));
    let builder = fmt().with_env_filter(filter).with_writer(writer);
    if log.format == "json" {
        Box::new(builder.json().with_ansi(false).finish())
    } else {
        Box::new(builder.with_ansi(ansi).finish())
    }
}

#[derive(Debug, Clone)]
pub struct Metrics {
    pub registry: Registry,
    uploads: IntCounterVec,
    submissions: IntCounterVec,
    issues: IntCounterVec,
    rows: IntCounter,
    jobs: IntCounterVec,
    job_seconds: HistogramVec,
    http: IntCounterVec,
    http_seconds: HistogramVec,
    pub queue_depth: IntGaugeVec,
    pub queue_oldest_age: IntGaugeVec,
    submission_latency: HistogramVec,
    reports_expected: IntGaugeVec,
    reports_received: IntGaugeVec,
    reports_late: IntGaugeVec,
    reports_deadline: IntGauge,
    /// HTTP connections open now (at most `server.max_connections`).
    pub http_connections: IntGauge,
    /// Reader child processes started (a pool keeps them; a crash or a timeout
    /// replaces one).
    pub reader_children_started: IntCounter,
    /// Reads turned away because every reader stayed busy for `ingest.reader_wait_seconds`.
    pub reader_busy: IntCounter,
    /// The highest peak resident memory (VmHWM) of any reader child of this
    /// process, in bytes, read from `/proc` after each read.
    pub reader_peak_resident: IntGauge,
    /// Times a worker asked its queue for work (each may run a fetch query).
    pub queue_polls: IntCounter,
    answer_cache: IntCounterVec,
    reminders_sent: IntCounterVec,
    reminders_failed: IntCounterVec,
    reminders_unreachable: IntCounterVec,
}

impl Metrics {
    /// The registry with every unionstat metric. The definitions are static, so
    /// this fails only on a programming error (a duplicate or malformed name).
    pub fn new() -> Metrics {
        Metrics::try_new().expect("static metric definitions are valid and unique")
    }

    fn try_new() -> prometheus::Result<Metrics> {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels)?;
            registry.register(Box::new(c.clone()))?;
            Ok::<_, prometheus::Error>(c)
        };
        let uploads = counter(
            "unionstat_uploads_total",
            "Uploads by outcome (created, duplicate, refused, failed).",
            &["outcome"],
        )?;
        let submissions = counter(
            "unionstat_submissions_total",
            "Submissions processed to a verdict, by outcome (accepted, rejected) and form (the catalogue's form the workbook is read as: monthly, annual_survey, …).",
            &["outcome", "form"],
        )?;
        let issues = counter(
            "unionstat_validation_issues_total",
            "Validation findings by catalogue rule.",
            &["rule"],
        )?;
        let jobs = counter(
            "unionstat_jobs_total",
            "Job runs by job and outcome.",
            &["job", "outcome"],
        )?;
        let http = counter(
            "unionstat_http_requests_total",
            "HTTP requests by route template and status.",
            &["route", "status"],
        )?;
        let reminders_sent = counter(
            "unionstat_reminders_sent_total",
            "Reminder (催报) notices delivered, by notice (due_soon, overdue) and channel (email).",
            &["notice", "channel"],
        )?;
        let reminders_failed = counter(
            "unionstat_reminders_failed_total",
            "Reminder notices whose delivery failed (logged failed, tried again by a later run), by notice and channel.",
            &["notice", "channel"],
        )?;
        let reminders_unreachable = counter(
            "unionstat_reminders_unreachable_total",
            "Reminder notices not sent because the reporter's contact has no address, by notice.",
            &["notice"],
        )?;
        let answer_cache = counter(
            "unionstat_answer_cache_total",
            "Indicators answers by how they were made: hit (served from the cache of serialized answers), miss (made and kept), bypass (made without the cache: children filtered for the caller, or the cache off).",
            &["outcome"],
        )?;
        let rows = IntCounter::new(
            "unionstat_rows_read_total",
            "Unit rows read from workbooks.",
        )?;
        registry.register(Box::new(rows.clone()))?;
        let hist = |name: &str, help: &str, labels: &[&str], buckets: Vec<f64>| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)?;
            registry.register(Box::new(h.clone()))?;
            Ok::<_, prometheus::Error>(h)
        };
        let job_seconds = hist(
            "unionstat_job_duration_seconds",
            "Job run time.",
            &["job"],
            vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ],
        )?;
        let http_seconds = hist(
            "unionstat_http_request_duration_seconds",
            "HTTP request latency by route template.",
            &["route"],
            vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ],
        )?;
        let submission_latency = hist(
            "unionstat_submission_latency_seconds",
            "Time from an upload received to its roll-ups visible (accepted submissions), by form.",
            &["form"],
            vec![
                0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0,
                3600.0,
            ],
        )?;
        let gauge = |name: &str, help: &str, label: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help), &[label])?;
            registry.register(Box::new(g.clone()))?;
            Ok::<_, prometheus::Error>(g)
        };
        let queue_depth = gauge(
            "unionstat_queue_depth",
            "Jobs waiting or running, per queue (read at scrape time).",
            "queue",
        )?;
        let queue_oldest_age = gauge(
            "unionstat_queue_oldest_age_seconds",
            "Age of the oldest job waiting or running, per queue (read at scrape time).",
            "queue",
        )?;
        let reports_expected = gauge(
            "unionstat_reports_expected",
            "Expected reporters at or below the org units of a tree depth (level, root = 0), for the current reporting period (last month); read at scrape time.",
            "level",
        )?;
        let reports_received = gauge(
            "unionstat_reports_received",
            "Of the expected reporters, those with an accepted report for the current reporting period, per tree depth (level).",
            "level",
        )?;
        let reports_late = gauge(
            "unionstat_reports_late",
            "Of the received reports, those received after the deadline day, per tree depth (level).",
            "level",
        )?;
        let reports_deadline = IntGauge::new(
            "unionstat_reports_deadline_timestamp_seconds",
            "End of the deadline day (reporting.deadline_day, in reporting.time_zone) of the current reporting period, as Unix time: reports received from then on are late.",
        )?;
        registry.register(Box::new(reports_deadline.clone()))?;
        let http_connections =
            IntGauge::new("unionstat_http_connections", "HTTP connections open now.")?;
        registry.register(Box::new(http_connections.clone()))?;
        let reader_children_started = IntCounter::new(
            "unionstat_reader_children_started_total",
            "Workbook reader child processes started (the pool replaces one that dies or times out).",
        )?;
        registry.register(Box::new(reader_children_started.clone()))?;
        let reader_busy = IntCounter::new(
            "unionstat_reader_busy_total",
            "Reads refused because every workbook reader stayed busy for ingest.reader_wait_seconds.",
        )?;
        registry.register(Box::new(reader_busy.clone()))?;
        let reader_peak_resident = IntGauge::new(
            "unionstat_reader_peak_resident_bytes",
            "Highest peak resident memory (VmHWM) of any workbook reader child of this process since it started, read after each read.",
        )?;
        registry.register(Box::new(reader_peak_resident.clone()))?;
        let queue_polls = IntCounter::new(
            "unionstat_queue_polls_total",
            "Times a worker asked its job queue for work (each may run a fetch query): about one per worker.poll_interval_ms when idle or busy.",
        )?;
        registry.register(Box::new(queue_polls.clone()))?;
        let build = IntGaugeVec::new(
            Opts::new(
                "unionstat_build_info",
                "Build information; the value is always 1.",
            ),
            &["version"],
        )?;
        registry.register(Box::new(build.clone()))?;
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        // process_cpu_seconds_total, process_resident_memory_bytes,
        // process_open_fds, process_start_time_seconds, … of this process.
        #[cfg(target_os = "linux")]
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;
        Ok(Metrics {
            registry,
            uploads,
            submissions,
            issues,
            rows,
            jobs,
            job_seconds,
            http,
            http_seconds,
            queue_depth,
            queue_oldest_age,
            submission_latency,
            reports_expected,
            reports_received,
            reports_late,
            reports_deadline,
            http_connections,
            reader_children_started,
            reader_busy,
            reader_peak_resident,
            queue_polls,
            answer_cache,
            reminders_sent,
            reminders_failed,
            reminders_unreachable,
        })
    }

    /// Exports at 0 every series whose label values are known now: outcomes,
    /// the catalogue's rule codes, each job and its queue, the reporting
    /// levels 0..=`telemetry.report_depth`, and the API's route templates
    /// (their latency, and their requests answered 500: the status codes
    /// beyond are not a fixed set).
    pub fn start_at_zero(&self, catalog: &unionstat_core::Catalog, settings: &Settings) {
        for outcome in UPLOAD_OUTCOMES {
            self.uploads.with_label_values(&[outcome]);
        }
        for outcome in ANSWER_CACHE_OUTCOMES {
            self.answer_cache.with_label_values(&[outcome]);
        }
        for form in catalog.forms() {
            for outcome in SUBMISSION_OUTCOMES {
                self.submissions
                    .with_label_values(&[*outcome, form.code.as_str()]);
            }
            self.submission_latency
                .with_label_values(&[form.code.as_str()]);
        }
        for rule in &catalog.rules {
            self.issues.with_label_values(&[&rule.code]);
        }
        for (job, spec) in &settings.jobs {
            for outcome in JOB_OUTCOMES {
                self.jobs.with_label_values(&[job.as_str(), outcome]);
            }
            self.job_seconds.with_label_values(&[job]);
            let q = [spec.queue.as_str()];
            self.queue_depth.with_label_values(&q);
            self.queue_oldest_age.with_label_values(&q);
        }
        for level in 0..=i64::from(settings.telemetry.report_depth) {
            self.reports(level, 0, 0, 0);
        }
        for notice in REMINDER_NOTICES {
            for channel in REMINDER_CHANNELS {
                self.reminders_sent.with_label_values(&[notice, channel]);
                self.reminders_failed.with_label_values(&[notice, channel]);
            }
            self.reminders_unreachable.with_label_values(&[notice]);
        }
    }

    /// The HTTP series of each route, at 0 from the start (the API names its routes).
    pub fn start_routes_at_zero(&self, routes: &[String]) {
        for route in routes {
            self.http.with_label_values(&[route.as_str(), "500"]);
            self.http_seconds.with_label_values(&[route.as_str()]);
        }
    }

    /// An indicators answer, by `outcome` (one of [`ANSWER_CACHE_OUTCOMES`]).
    pub fn answer_cache(&self, outcome: &str) {
        self.answer_cache.with_label_values(&[outcome]).inc();
    }

    pub fn upload(&self, outcome: &str) {
        debug_assert!(UPLOAD_OUTCOMES.contains(&outcome), "{outcome}");
        self.uploads.with_label_values(&[outcome]).inc();
    }

    /// A verdict on a submission of `form` (a form of the catalogue: a fixed set).
    pub fn submission_outcome(&self, outcome: &str, form: &str) {
        debug_assert!(SUBMISSION_OUTCOMES.contains(&outcome), "{outcome}");
        self.submissions.with_label_values(&[outcome, form]).inc();
    }

    /// Rule codes come from the catalogue, a fixed set.
    pub fn issue(&self, rule: &str) {
        self.issues.with_label_values(&[rule]).inc();
    }

    /// One reminder notice ended: `sent`, `failed` or `unreachable` (no
    /// address; no channel was tried).
    pub fn reminder(&self, notice: &str, channel: &str, outcome: &str) {
        debug_assert!(REMINDER_NOTICES.contains(&notice), "{notice}");
        debug_assert!(REMINDER_CHANNELS.contains(&channel), "{channel}");
        match outcome {
            "sent" => self
                .reminders_sent
                .with_label_values(&[notice, channel])
                .inc(),
            "failed" => self
                .reminders_failed
                .with_label_values(&[notice, channel])
                .inc(),
            _ => self
                .reminders_unreachable
                .with_label_values(&[notice])
                .inc(),
        }
    }

    pub fn rows_read(&self, n: usize) {
        self.rows.inc_by(n as u64);
    }

    pub fn job(&self, job: &str, outcome: &str, seconds: f64) {
        debug_assert!(JOB_OUTCOMES.contains(&outcome), "{outcome}");
        self.jobs.with_label_values(&[job, outcome]).inc();
        self.job_seconds.with_label_values(&[job]).observe(seconds);
    }

    pub fn http(&self, route: &str, status: u16, seconds: f64) {
        self.http
            .with_label_values(&[route, &status.to_string()])
            .inc();
        self.http_seconds
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// An accepted submission: its roll-ups became visible when the accept
    /// transaction committed (`finished_at`); the clock starts at the upload.
    /// Times are the stored RFC 3339 stamps; unreadable ones are skipped.
    pub fn submission_latency(&self, form: &str, received_at: &str, finished_at: Option<&str>) {
        let parse = |t: &str| chrono::DateTime::parse_from_rfc3339(t).ok();
        if let (Some(from), Some(to)) = (parse(received_at), finished_at.and_then(parse)) {
            let ms = (to - from).num_milliseconds().max(0);
            self.submission_latency
                .with_label_values(&[form])
                .observe(ms as f64 / 1000.0);
        }
    }

    /// Reporting counts of one tree depth for the current period.
    pub fn reports(&self, level: i64, expected: i64, received: i64, late: i64) {
        let level = level.to_string();
        let l = [level.as_str()];
        self.reports_expected.with_label_values(&l).set(expected);
        self.reports_received.with_label_values(&l).set(received);
        self.reports_late.with_label_values(&l).set(late);
    }

    /// When reports for the current reporting period become late.
    pub fn reports_deadline(&self, late_from: chrono::DateTime<chrono::Utc>) {
        self.reports_deadline.set(late_from.timestamp());
    }

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

/// A memory field (`VmRSS`, `VmHWM`, …) of `/proc/<pid>/status` in kB: `pid`
/// is a process id or `"self"`. None off Linux, for a process that has exited,
/// or when the field is absent.
pub fn proc_status_kb(pid: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status_field_kb(&text, field)
}

fn status_field_kb(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);

    impl Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buf {
        type Writer = Buf;
        fn make_writer(&'a self) -> Buf {
            self.clone()
        }
    }

    #[test]
    fn json_logs_are_one_object_per_line_with_the_job_span_fields() {
        let buf = Buf::default();
        let log = LogSettings {
            format: "json".into(),
            level: "info".into(),
        };
        tracing::subscriber::with_default(subscriber(&log, true, buf.clone()), || {
            let span = tracing::info_span!("job", job = "ingest", submission_id = 42_i64);
            span.in_scope(|| tracing::info!(errors = 3_u64, "submission rejected"));
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let v: serde_json::Value = serde_json::from_str(lines[0]).expect("a JSON object");
        assert_eq!(v["level"], "INFO");
        assert_eq!(v["fields"]["message"], "submission rejected");
        assert_eq!(v["fields"]["errors"], 3);
        assert_eq!(v["span"]["name"], "job");
        assert_eq!(v["span"]["job"], "ingest");
        assert_eq!(v["span"]["submission_id"], 42);
        assert!(!text.contains('\u{1b}'), "no colour codes in JSON: {text}");
    }

    #[test]
    fn submission_latency_is_received_to_finished() {
        let m = Metrics::new();
        let form = "annual_survey";
        m.submission_latency(
            form,
            "2026-11-03T08:00:00.000Z",
            Some("2026-11-03T08:00:02.500Z"),
        );
        m.submission_latency(form, "not a time", Some("2026-11-03T08:00:02.500Z"));
        m.submission_latency(form, "2026-11-03T08:00:00.000Z", None);
        let text = m.render();
        assert!(
            text.contains("unionstat_submission_latency_seconds_count{form=\"annual_survey\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("unionstat_submission_latency_seconds_sum{form=\"annual_survey\"} 2.5\n"),
            "{text}"
        );
        assert!(
            text.contains("unionstat_submission_latency_seconds_bucket{form=\"annual_survey\",le=\"2.5\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "unionstat_submission_latency_seconds_bucket{form=\"annual_survey\",le=\"1\"} 0\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn status_fields_are_read_in_kb() {
        let status = "Name:\tunionstat\nVmHWM:\t  112344 kB\nVmRSS:\t   20480 kB\n";
        assert_eq!(super::status_field_kb(status, "VmHWM"), Some(112_344));
        assert_eq!(super::status_field_kb(status, "VmRSS"), Some(20_480));
        assert_eq!(super::status_field_kb(status, "VmSwap"), None);
        assert_eq!(super::status_field_kb("VmHWMx: 1 kB", "VmHWM"), None);
        // This process has a peak (on Linux, where the service runs).
        assert!(super::proc_status_kb("self", "VmHWM").is_some_and(|kb| kb > 0));
    }

    #[test]
    fn report_gauges_are_labelled_by_level_only() {
        let m = Metrics::new();
        m.reports(0, 3, 1, 0);
        m.reports(1, 3, 1, 1);
        let text = m.render();
        for line in [
            "unionstat_reports_expected{level=\"0\"} 3",
            "unionstat_reports_received{level=\"0\"} 1",
            "unionstat_reports_late{level=\"0\"} 0",
            "unionstat_reports_late{level=\"1\"} 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} in {text}");
        }
    }
}
