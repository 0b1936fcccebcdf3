//! Logs (text or JSON) and Prometheus metrics in one registry. Labels come from
//! small fixed sets only: outcomes, job names, rule codes of the catalogue, route
//! templates, status codes.

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};
use tracing_subscriber::{fmt, EnvFilter};

use crate::config::LogSettings;

/// Installs the global tracing subscriber (once; later calls are ignored).
pub fn init_tracing(log: &LogSettings) {
    use std::io::IsTerminal;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&log.level));
    let builder = fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if log.format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
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
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let c = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
            registry
                .register(Box::new(c.clone()))
                .expect("metric registered once");
            c
        };
        let uploads = counter(
            "unionstat_uploads_total",
            "Uploads by outcome (created, duplicate, refused).",
            &["outcome"],
        );
        let submissions = counter(
            "unionstat_submissions_total",
            "Submissions processed to a verdict, by outcome (accepted, rejected).",
            &["outcome"],
        );
        let issues = counter(
            "unionstat_validation_issues_total",
            "Validation findings by catalogue rule.",
            &["rule"],
        );
        let jobs = counter(
            "unionstat_jobs_total",
            "Job runs by job and outcome.",
            &["job", "outcome"],
        );
        let http = counter(
            "unionstat_http_requests_total",
            "HTTP requests by route template and status.",
            &["route", "status"],
        );
        let rows = IntCounter::new(
            "unionstat_rows_read_total",
            "Unit rows read from workbooks.",
        )
        .expect("valid metric");
        registry
            .register(Box::new(rows.clone()))
            .expect("metric registered once");
        let hist = |name: &str, help: &str, labels: &[&str], buckets: Vec<f64>| {
            let h = HistogramVec::new(HistogramOpts::new(name, help).buckets(buckets), labels)
                .expect("valid metric");
            registry
                .register(Box::new(h.clone()))
                .expect("metric registered once");
            h
        };
        let job_seconds = hist(
            "unionstat_job_duration_seconds",
            "Job run time.",
            &["job"],
            vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ],
        );
        let http_seconds = hist(
            "unionstat_http_request_duration_seconds",
            "HTTP request latency by route template.",
            &["route"],
            vec![
                0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ],
        );
        let gauge = |name: &str, help: &str| {
            let g = IntGaugeVec::new(Opts::new(name, help), &["queue"]).expect("valid metric");
            registry
                .register(Box::new(g.clone()))
                .expect("metric registered once");
            g
        };
        let queue_depth = gauge(
            "unionstat_queue_depth",
            "Jobs waiting or running, per queue (read at scrape time).",
        );
        let queue_oldest_age = gauge(
            "unionstat_queue_oldest_age_seconds",
            "Age of the oldest job waiting or running, per queue (read at scrape time).",
        );
        let build = IntGaugeVec::new(
            Opts::new(
                "unionstat_build_info",
                "Build information; the value is always 1.",
            ),
            &["version"],
        )
        .expect("valid metric");
        registry
            .register(Box::new(build.clone()))
            .expect("metric registered once");
        build.with_label_values(&[env!("CARGO_PKG_VERSION")]).set(1);
        Metrics {
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
        }
    }

    pub fn upload(&self, outcome: &str) {
        self.uploads.with_label_values(&[outcome]).inc();
    }

    pub fn submission_outcome(&self, outcome: &str) {
        self.submissions.with_label_values(&[outcome]).inc();
    }

    /// Rule codes come from the catalogue, a fixed set.
    pub fn issue(&self, rule: &str) {
        self.issues.with_label_values(&[rule]).inc();
    }

    pub fn rows_read(&self, n: usize) {
        self.rows.inc_by(n as u64);
    }

    pub fn job(&self, job: &str, outcome: &str, seconds: f64) {
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

    /// The registry in Prometheus text format.
    pub fn render(&self) -> String {
        let mut buf = Vec::new();
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut buf);
        String::from_utf8(buf).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
