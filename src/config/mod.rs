//! Layered settings: `config/default.toml` (built in) → `--config FILE` →
//! `UNIONSTAT_<SECTION>__<KEY>` environment variables, validated once at start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::Deserialize;
use unionstat_core::ingest::ReadLimits;

mod database;
mod jobs;

mod clock;
pub use clock::TimeZone;
pub use database::{redact, Dialect};
pub use jobs::JobSettings;

pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub worker: WorkerSettings,
    pub ingest: IngestSettings,
    pub validation: ValidationSettings,
    pub reporting: ReportingSettings,
    pub catalog: CatalogSettings,
    pub log: LogSettings,
    #[serde(default)]
    pub telemetry: TelemetrySettings,
    pub auth: AuthSettings,
    pub reminders: ReminderSettings,
    pub mail: MailSettings,
    /// Each background job's settings, `[jobs.NAME]`; the names are those of
    /// the jobs in `src/jobs/` (an unknown name is an unknown key).
    pub jobs: BTreeMap<String, JobSettings>,
}

/// Reminders (催报): e-mails to expected reporters who have not reported.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    /// Run the reminder job in every worker process.
    pub enabled: bool,
    /// When the job runs: a cron expression with seconds, in UTC
    /// (`sec min hour day month weekday`).
    pub schedule: String,
    /// The `due_soon` notice goes this many days before the deadline (and up to it).
    pub days_before_deadline: u32,
    /// The `overdue` notice goes from this many days after the deadline.
    pub days_after_deadline: u32,
}

impl ReminderSettings {
    /// The parsed schedule.
    pub fn cron(&self) -> anyhow::Result<cron::Schedule> {
        self.schedule.parse::<cron::Schedule>().with_context(|| {
            format!(
                "reminders.schedule = {:?} is not a cron expression with seconds (e.g. \"0 0 1 * * *\")",
                self.schedule
            )
        })
    }
}

/// The SMTP server reminders are sent through.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailSettings {
    /// Empty: no mail is sent (each reminder is logged as failed, and tried again).
    pub smtp_host: String,
    pub smtp_port: u16,
    /// "none" (plain), "starttls" or "tls".
    pub tls: String,
    /// Empty: no authentication.
    pub username: String,
    pub password: String,
    /// The sender, e.g. `统计催报 <noreply@example.org>`.
    pub from: String,
    pub timeout_seconds: u64,
}

/// Sign-in, sessions and the throttling of failed sign-ins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    /// Send the session cookie with `Secure` (only over HTTPS).
    pub cookie_secure: bool,
    /// A session unused this long ends (minutes; fractions allowed).
    pub session_idle_minutes: f64,
    /// A session ends this long after sign-in, used or not (hours; fractions allowed).
    pub session_absolute_hours: f64,
    /// Failed sign-ins are counted over this window (minutes).
    pub login_window_minutes: f64,
    /// Failed sign-ins of one login within the window before it is refused (429).
    pub max_failures_per_login: i64,
    /// Failed sign-ins from one client address within the window before it is refused.
    pub max_failures_per_address: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
    pub queue_url: String,
    pub max_connections: u32,
    pub busy_timeout_ms: u64,
    /// How long `worker` and `serve` keep retrying an unreachable database
    /// before they exit non-zero; 0: for ever.
    pub outage_give_up_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub max_upload_bytes: usize,
    pub shutdown_grace_seconds: u64,
    /// Open connections at most; further ones wait to be accepted.
    pub max_connections: usize,
    /// A request's header must arrive within this (also closes idle connections).
    pub header_read_timeout_seconds: u64,
    /// A request body must arrive at this average rate, after the grace below.
    pub body_min_bytes_per_second: u64,
    pub body_grace_seconds: u64,
    /// `/readyz` answers within this, naming what did not answer in time.
    pub readiness_timeout_ms: u64,
    /// Megabytes of serialized indicators answers kept for repeated requests
    /// (0: none kept); a change to the figures, the tree or the approvals
    /// drops them all (`answer_cache`).
    pub answer_cache_mb: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub poll_interval_ms: u64,
    pub heartbeat_seconds: u64,
    pub missed_heartbeats: usize,
    /// Where `unionstat worker` serves `/metrics`; empty: nowhere.
    pub metrics_bind: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    pub max_bytes: usize,
    pub max_rows: usize,
    pub max_columns: usize,
    pub max_cell_chars: usize,
    /// "process": read untrusted workbooks in a child process with a memory limit
    /// and a timeout; "inline": in the service process (trusted files only).
    pub isolation: String,
    /// The executable run as the reader child; empty: this program.
    pub reader_exe: String,
    pub reader_memory_mb: u64,
    pub reader_timeout_seconds: u64,
    /// Reader child processes kept running, shared by dry runs and jobs.
    pub readers: usize,
    /// How long a dry run waits for a free reader before it is answered 503.
    pub reader_wait_seconds: u64,
    /// MiB of workbook files the ingest jobs of one process hold at once
    /// (see `workbook_budget`).
    pub workbooks_in_flight_mb: u64,
}

impl IngestSettings {
    pub fn limits(&self) -> ReadLimits {
        ReadLimits {
            max_bytes: self.max_bytes,
            max_rows: self.max_rows,
            max_columns: self.max_columns,
            max_cell_chars: self.max_cell_chars,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ValidationSettings {
    pub max_monthly_change: f64,
    pub min_change_base: i64,
    /// The outlier test's fence (C of Hidiroglou–Berthelot), least change
    /// against the sheet's common change, and least units to compare.
    pub outlier_fence: f64,
    pub outlier_min_change: f64,
    pub outlier_min_units: usize,
}

impl ValidationSettings {
    pub fn outlier_test(&self) -> unionstat_core::validate::OutlierTest {
        unionstat_core::validate::OutlierTest {
            fence: self.outlier_fence,
            min_change: self.outlier_min_change,
            min_units: self.outlier_min_units,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportingSettings {
    pub deadline_day: u32,
    /// Days after the deadline a month stays open; 0: never closes by time.
    pub lock_after_days: u32,
    /// The federation's clock (IANA name): see [`ReportingSettings::today`].
    pub time_zone: TimeZone,
    /// The share of a node's units a month must cover for its figures to
    /// stand (see [`unionstat_core::rollup::FullCoverage`]).
    pub full_coverage_share: f64,
    /// The share by which an annual figure may differ from the monthly figure
    /// measuring the same thing before its upload warns (see
    /// [`unionstat_core::reconcile`]).
    pub reconcile_share: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogSettings {
    pub path: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: String,
    pub level: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetrySettings {
    /// Org units at depth <= this (root = 0) feed the `unionstat_reports_*`
    /// gauges, summed per depth (label `level`).
    pub report_depth: u32,
}

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings { report_depth: 1 }
    }
}

impl Settings {
    /// The catalogue named by `catalog.path`, or the built-in one.
    pub fn load_catalog(&self) -> anyhow::Result<unionstat_core::Catalog> {
        if self.catalog.path.is_empty() {
            return unionstat_core::Catalog::builtin().context("built-in catalogue");
        }
        let text = std::fs::read_to_string(&self.catalog.path)
            .with_context(|| format!("cannot read catalogue {}", self.catalog.path))?;
        unionstat_core::Catalog::from_toml(&text)
            .with_context(|| format!("catalogue {}", self.catalog.path))
    }

    /// Loads the layers from the process environment.
    pub fn load(file: Option<&Path>, database: Option<&str>) -> anyhow::Result<Settings> {
        let env: Vec<(String, String)> = std::env::vars().collect();
        Settings::load_from(file, database, &env)
    }

    /// Loads the layers with an explicit environment (tests).
    pub fn load_from(
        file: Option<&Path>,
        database: Option<&str>,
        env: &[(String, String)],
    ) -> anyhow::Result<Settings> {
        let mut merged: toml::Table =
            toml::from_str(DEFAULT_TOML).context("built-in config/default.toml")?;
        let file: Option<PathBuf> = file.map(Path::to_path_buf).or_else(|| {
            env.iter()
                .find(|(k, _)| k == "UNIONSTAT_CONFIG")
                .map(|(_, v)| PathBuf::from(v))
        });
        if let Some(path) = &file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file {}", path.display()))?;
            let table: toml::Table = toml::from_str(&text)
                .with_context(|| format!("config file {} is not valid TOML", path.display()))?;
            merge(&mut merged, table, "")
                .with_context(|| format!("in config file {}", path.display()))?;
        }
        for (key, value) in env {
            let Some(rest) = key.strip_prefix("UNIONSTAT_") else {
                continue;
            };
            if rest == "DATABASE_URL" {
                set(
                    &mut merged,
                    "database",
                    "url",
                    toml::Value::String(value.clone()),
                )?;
                continue;
            }
            let path: Vec<String> = rest.split("__").map(str::to_lowercase).collect();
            if path.len() < 2 {
                continue;
            }
            set_path(&mut merged, &path, env_value(value))
                .with_context(|| format!("environment variable {key}"))?;
        }
        if let Some(url) = database {
            set(
                &mut merged,
                "database",
                "url",
                toml::Value::String(url.to_string()),
            )?;
        }
        let settings: Settings =
            toml::Value::Table(merged)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    anyhow::anyhow!("invalid configuration: {}", e.message())
                })?;
        settings.check()?;
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        let dialect = Dialect::of_url(&self.database.url).with_context(|| {
            format!(
                "database.url = {:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DB",
                redact(&self.database.url)
            )
        })?;
        let queue = &self.database.queue_url;
        match dialect {
            Dialect::Sqlite if !queue.is_empty() && !queue.starts_with("sqlite:") => bail!(
                "database.queue_url = {:?}: with a SQLite warehouse the queue is a SQLite file",
                redact(queue)
            ),
            Dialect::Postgres if !queue.is_empty() && queue != &self.database.url => bail!(
                "database.queue_url: with PostgreSQL the queue lives in the warehouse database (schema apalis), so an upload and its job commit together; leave queue_url empty"
            ),
            _ => {}
        }
        for (name, job) in &self.jobs {
            job.check(name)?;
        }
        if self.worker.heartbeat_seconds == 0 || self.worker.missed_heartbeats == 0 {
            bail!("worker.heartbeat_seconds and worker.missed_heartbeats must be above 0");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections must be at least 1");
        }
        if !["text", "json"].contains(&self.log.format.as_str()) {
            bail!(
                "log.format = {:?}: use \"text\" or \"json\"",
                self.log.format
            );
        }
        if !(1..=28).contains(&self.reporting.deadline_day) {
            bail!("reporting.deadline_day must be 1..=28");
        }
        let share = self.reporting.full_coverage_share;
        if !(0.0..=1.0).contains(&share) {
            bail!("reporting.full_coverage_share = {share}: must be between 0 and 1");
        }
        let share = self.reporting.reconcile_share;
        if !(0.0..=1.0).contains(&share) {
            bail!("reporting.reconcile_share = {share}: must be between 0 and 1");
        }
        let auth = &self.auth;
        for (key, v) in [
            ("auth.session_idle_minutes", auth.session_idle_minutes),
            ("auth.session_absolute_hours", auth.session_absolute_hours),
            ("auth.login_window_minutes", auth.login_window_minutes),
        ] {
            if !(v > 0.0 && v < 1.0e6) {
                bail!("{key} = {v}: must be above 0");
            }
        }
        if auth.max_failures_per_login < 1 || auth.max_failures_per_address < 1 {
            bail!(
                "auth.max_failures_per_login and auth.max_failures_per_address must be at least 1"
            );
        }
        self.reminders.cron()?;
        if !["none", "starttls", "tls"].contains(&self.mail.tls.as_str()) {
            bail!(
                "mail.tls = {:?}: use \"none\", \"starttls\" or \"tls\"",
                self.mail.tls
            );
        }
        if self.mail.timeout_seconds == 0 {
            bail!("mail.timeout_seconds must be above 0");
        }
        if self.telemetry.report_depth > 8 {
            bail!("telemetry.report_depth must be 0..=8");
        }
        if !(self.validation.max_monthly_change > 0.0) {
            bail!("validation.max_monthly_change must be above 0");
        }
        if !(self.validation.outlier_fence > 0.0) {
            bail!("validation.outlier_fence must be above 0");
        }
        if !(self.validation.outlier_min_change >= 0.0) {
            bail!("validation.outlier_min_change must be 0 or more");
        }
        if self.validation.outlier_min_units < 3 {
            bail!("validation.outlier_min_units must be 3 or more");
        }
        if self.ingest.max_bytes == 0 || self.ingest.max_rows == 0 || self.ingest.max_columns == 0 {
            bail!("ingest limits must be above 0");
        }
        if !["process", "inline"].contains(&self.ingest.isolation.as_str()) {
            bail!(
                "ingest.isolation = {:?}: use \"process\" or \"inline\"",
                self.ingest.isolation
            );
        }
        if self.ingest.reader_memory_mb < 16 || self.ingest.reader_timeout_seconds == 0 {
            bail!("ingest.reader_memory_mb must be at least 16 and ingest.reader_timeout_seconds above 0");
        }
        if self.ingest.readers == 0 {
            bail!("ingest.readers must be at least 1");
        }
        if self.ingest.workbooks_in_flight_mb == 0 {
            bail!("ingest.workbooks_in_flight_mb must be at least 1");
        }
        if self.server.max_connections == 0
            || self.server.header_read_timeout_seconds == 0
            || self.server.body_min_bytes_per_second == 0
            || self.server.readiness_timeout_ms == 0
        {
            bail!("server.max_connections, server.header_read_timeout_seconds, server.body_min_bytes_per_second and server.readiness_timeout_ms must be above 0");
        }
        self.server
            .bind
            .parse::<std::net::SocketAddr>()
            .with_context(|| format!("server.bind = {:?} is not an address", self.server.bind))?;
        let metrics_bind = &self.worker.metrics_bind;
        if !metrics_bind.is_empty() {
            metrics_bind
                .parse::<std::net::SocketAddr>()
                .with_context(|| {
                    format!("worker.metrics_bind = {metrics_bind:?} is not an address")
                })?;
        }
        Ok(())
    }

    /// The queue database URL: explicit, or a "-queue" file beside the warehouse.
    pub fn queue_url(&self) -> String {
        if !self.database.queue_url.is_empty() {
            return self.database.queue_url.clone();
        }
        let url = &self.database.url;
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, format!("?{q}")),
            None => (url.as_str(), String::new()),
        };
        match base.rsplit_once('.') {
            Some((stem, ext)) if !ext.contains('/') => format!("{stem}-queue.{ext}{query}"),
            _ => format!("{base}-queue{query}"),
        }
    }
}

fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

fn set(root: &mut toml::Table, section: &str, key: &str, value: toml::Value) -> anyhow::Result<()> {
    set_path(root, &[section.to_string(), key.to_string()], value)
}

/// Sets the key at `path` (sections, then the key), which the defaults must have.
fn set_path(root: &mut toml::Table, path: &[String], value: toml::Value) -> anyhow::Result<()> {
    let (key, sections) = path.split_last().context("an empty config key")?;
    let mut table = root;
    for (depth, section) in sections.iter().enumerate() {
        let Some(toml::Value::Table(t)) = table.get_mut(section) else {
            bail!("unknown config section [{}]", sections[..=depth].join("."));
        };
        table = t;
    }
    let full = path.join(".");
    let Some(old) = table.get(key) else {
        bail!("unknown config key {full}");
    };
    // Keep the documented type: "8" from the environment may set a string key.
    let value = match (old, value) {
        (toml::Value::String(_), toml::Value::Integer(i)) => toml::Value::String(i.to_string()),
        (toml::Value::String(_), toml::Value::Float(f)) => toml::Value::String(f.to_string()),
        (toml::Value::String(_), toml::Value::Boolean(b)) => toml::Value::String(b.to_string()),
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, v) => v,
    };
    if old.type_str() != value.type_str() {
        bail!(
            "config key {full} must be {}, not {}",
            old.type_str(),
            value.type_str()
        );
    }
    table.insert(key.to_string(), value);
    Ok(())
}

/// Merges `over` into `base`, refusing keys the defaults do not have.
fn merge(base: &mut toml::Table, over: toml::Table, path: &str) -> anyhow::Result<()> {
    for (key, value) in over {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o, &full)?,
            (Some(slot), v) => {
                let v = match (&*slot, v) {
                    (toml::Value::Float(_), toml::Value::Integer(i)) => {
                        toml::Value::Float(i as f64)
                    }
                    (_, v) => v,
                };
                if slot.type_str() != v.type_str() {
                    bail!(
                        "config key {full} must be {}, not {}",
                        slot.type_str(),
                        v.type_str()
                    );
                }
                *slot = v;
            }
            (None, _) => bail!("unknown config key {full}"),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_and_env_overrides() {
        let s = Settings::load_from(None, None, &[]).unwrap();
        assert_eq!(s.database.url, "sqlite://data/unionstat.db");
        assert_eq!(s.queue_url(), "sqlite://data/unionstat-queue.db");
        assert_eq!(s.reporting.deadline_day, 10);
        let s = Settings::load_from(
            None,
            None,
            &env(&[
                ("UNIONSTAT_SERVER__BIND", "0.0.0.0:9000"),
                ("UNIONSTAT_DATABASE_URL", "sqlite:///tmp/x.db"),
                ("UNIONSTAT_VALIDATION__MAX_MONTHLY_CHANGE", "1"),
                ("UNIONSTAT_TEST_PG_URL", "ignored"),
            ]),
        )
        .unwrap();
        assert_eq!(s.server.bind, "0.0.0.0:9000");
        assert_eq!(s.database.url, "sqlite:///tmp/x.db");
        assert_eq!(s.validation.max_monthly_change, 1.0);
    }

    #[test]
    fn unknown_keys_are_named() {
        let err =
            Settings::load_from(None, None, &env(&[("UNIONSTAT_SERVER__BINDD", "x")])).unwrap_err();
        assert!(format!("{err:#}").contains("server.bindd"), "{err:#}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        std::fs::write(&path, "[ingest]\nmax_rowz = 5\n").unwrap();
        let err = Settings::load_from(Some(&path), None, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("ingest.max_rowz"), "{err:#}");
        std::fs::write(&path, "[server]\nbind = 5\n").unwrap();
        let err = Settings::load_from(Some(&path), None, &[]).unwrap_err();
        assert!(format!("{err:#}").contains("bind"), "{err:#}");
    }
}
