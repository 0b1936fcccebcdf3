//! The `unionstat` command line: parse, open what the command needs, call the
//! library, print. Exit codes: 0 success, 1 a verdict or check failed (a rejected
//! submission, a roll-up mismatch), 2 usage or I/O problems.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::context::AppContext;
use crate::store::orgs::TreeView;

#[macro_use]
pub(crate) mod out;
mod contacts;
mod demo;
mod orgs;
mod people;
mod query;
mod review;
pub mod submit;
mod table;
mod template;

#[derive(Debug, Parser)]
#[command(
    name = "unionstat",
    version,
    about = "Monthly trade-union statistics: workbook ingest, validation and federation roll-ups"
)]
pub struct Cli {
    /// Settings file layered over config/default.toml.
    #[arg(long, global = true, env = "UNIONSTAT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Warehouse URL (default sqlite://data/unionstat.db; also UNIONSTAT_DATABASE_URL).
    #[arg(long, global = true)]
    pub database: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// HTTP API with embedded workers.
    Serve {
        /// Address to listen on (overrides server.bind).
        #[arg(long)]
        bind: Option<String>,
        /// Serve the API only; run workers elsewhere with `unionstat worker`.
        #[arg(long)]
        no_workers: bool,
    },
    /// Workers only, for more processing capacity.
    Worker,
    /// Apply the database migrations.
    Migrate,
    /// Master data.
    Orgs {
        #[command(subcommand)]
        command: OrgsCommand,
    },
    /// API keys of scripts and other systems: create, list, revoke.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// People who sign in on the web page: create, list, disable, reset a password.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Contacts (联系人) of reporters: show, list a subtree's, set.
    Contacts {
        #[command(subcommand)]
        command: ContactsCommand,
    },
    /// Reminders (催报): send a month's now, read what was sent.
    Reminders {
        #[command(subcommand)]
        command: RemindersCommand,
    },
    /// Store workbooks, queue them, and wait for the verdicts.
    Submit {
        /// Workbooks to submit.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Reporter code (otherwise the cover sheet's 报送单位代码).
        #[arg(long = "as")]
        reporter: Option<String>,
        /// Month YYYY-MM (otherwise the cover sheet's 报告期).
        #[arg(long)]
        period: Option<String>,
        /// Print the verdicts as JSON.
        #[arg(long)]
        json: bool,
        /// Do not process here; only store and queue (a running worker processes).
        #[arg(long)]
        no_wait: bool,
        /// Read and check the files and print the verdicts they would get; store nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write each file's annotated workbook (issues marked at their cells): to
        /// this file for one input, into this directory (NAME.annotated.xlsx) for several.
        #[arg(long, value_name = "OUT")]
        annotate: Option<PathBuf>,
        /// Change a locked month anyway (closed by time or approved), with this
        /// reason; each accepted change is audited with it.
        #[arg(long)]
        reason: Option<String>,
        /// A nil report (零报告): the workbook holds no figures on purpose
        /// (without it a workbook with no figures is rejected).
        #[arg(long)]
        nil_report: bool,
        /// Explain a finding of an explain-severity rule (说明), named by its
        /// rule and cell: `monthly_change:E3=两厂合并` (repeatable; at most 500
        /// characters each). The 说明 column of the sheet works too.
        #[arg(long = "explain", value_name = "RULE:CELL=TEXT")]
        explain: Vec<String>,
        /// The form the files are (default: each file's own, recognised by
        /// its sheet, cover title or 表号); a file of another form is
        /// rejected. Forms other than monthly are stored as over the API,
        /// their period written 2026SY, 2026H1, ….
        #[arg(long)]
        form: Option<String>,
    },
    /// Blank Template v1 workbook of a reporter for a month.
    Template {
        /// The reporting federation.
        #[arg(long)]
        org: String,
        /// Month YYYY-MM (for another form its period: 2026SY, 2026H1, …).
        #[arg(long)]
        period: String,
        /// The form: monthly (Template v1), annual_survey, service_half, or
        /// one the catalogue adds.
        #[arg(long, default_value = "monthly")]
        form: String,
        /// Where to write the .xlsx.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
    },
    /// Roll-up figures and rates of a node.
    Indicators {
        #[arg(long)]
        org: String,
        /// A month 2026-10, a quarter 2026Q4, a year 2026 or a statistical year
        /// 2026SY (2025-10 … 2026-09).
        #[arg(long)]
        period: String,
        /// Also list the node's children.
        #[arg(long)]
        children: bool,
        /// as_reported: each month under the tree in force in that month;
        /// current: history restated under today's tree.
        #[arg(long, default_value = "as_reported", value_parser = ["as_reported", "current"])]
        tree: String,
        #[arg(long)]
        json: bool,
    },
    /// An indicator of a node month by month, with numerator and denominator.
    Series {
        #[arg(long)]
        org: String,
        /// An indicator code (membership_rate, unionisation_rate, reporting_rate)
        /// or a metric code (members, new_members): its total month by month.
        #[arg(long)]
        indicator: String,
        /// First month YYYY-MM.
        #[arg(long)]
        from: String,
        /// Last month YYYY-MM.
        #[arg(long)]
        to: String,
        /// as_reported: each month under the tree in force in that month;
        /// current: history restated under today's tree.
        #[arg(long, default_value = "as_reported", value_parser = ["as_reported", "current"])]
        tree: String,
        #[arg(long)]
        json: bool,
    },
    /// The roll-up workbook of a node: indicators of the node and each child, a
    /// chart of 入会率 by child, completeness.
    Export {
        #[arg(long)]
        org: String,
        /// A month 2026-10, a quarter 2026Q4, a year 2026 or a statistical year 2026SY.
        #[arg(long)]
        period: String,
        /// Where to write the .xlsx.
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: PathBuf,
        /// as_reported: each month under the tree in force in that month;
        /// current: history restated under today's tree.
        #[arg(long, default_value = "as_reported", value_parser = ["as_reported", "current"])]
        tree: String,
        /// Another form than `monthly` (annual_survey, service_half): the
        /// node's figures of that form and each unit's below it, as reported;
        /// --period is of the form's kind (2026SY, 2026H1).
        #[arg(long)]
        form: Option<String>,
    },
    /// Who reported, on time, late, rejected or missing.
    Completeness {
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: String,
        /// The form whose reports are counted (default monthly; annual_survey
        /// with --period 2026SY, service_half with 2026H1).
        #[arg(long)]
        form: Option<String>,
        /// as_reported: each month under the tree in force in that month;
        /// current: history restated under today's tree.
        #[arg(long, default_value = "as_reported", value_parser = ["as_reported", "current"])]
        tree: String,
        #[arg(long)]
        json: bool,
    },
    /// Review and return (审核与退回): a federation's queue, approving or
    /// returning a reporter's accepted report, a reporter's reviews.
    Review {
        #[command(subcommand)]
        command: ReviewCommand,
    },
    /// Check or repair the incremental roll-ups.
    Rollup {
        #[command(subcommand)]
        command: RollupCommand,
    },
    /// Internal: read a workbook from stdin as the isolated reader child.
    #[command(name = "read-workbook", hide = true)]
    ReadWorkbook {
        #[arg(long, default_value = "")]
        catalog: String,
        #[arg(long)]
        limits: String,
    },
    /// A sample province ingested through the queue, then its roll-ups.
    Demo {
        /// Where the demo database goes (recreated).
        #[arg(long, default_value = "data/demo")]
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgsCommand {
    /// Units from CSV or XLSX (code,name,parent_code,kind,expected_to_report
    /// and optionally effective_from,active). Each line takes effect from its
    /// effective_from, else --from, else (a unit already known) the current
    /// month; a unit new to the master data with no month holds since always.
    /// active=false closes the unit.
    Import {
        file: PathBuf,
        /// The month the file's changes take effect from, YYYY-MM.
        #[arg(long)]
        from: Option<String>,
        /// Change from a locked or approved month anyway (audited).
        #[arg(long)]
        reason: Option<String>,
    },
    /// A unit and everything under it go under another parent from a month on.
    Move {
        code: String,
        /// The new parent.
        #[arg(long)]
        to: String,
        /// YYYY-MM (default: the current month).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// A unit closes from a month on (nothing may be under it then).
    Close {
        code: String,
        /// YYYY-MM (default: the current month).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Units merge into one from a month on; in the current-tree view the
    /// merged unit's earlier months are the sum of the units merged.
    Merge {
        #[arg(required = true)]
        sources: Vec<String>,
        #[arg(long)]
        into: String,
        /// The name of `--into` when it is a new unit.
        #[arg(long)]
        name: Option<String>,
        /// YYYY-MM (default: the current month).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// A federation splits: every unit under it goes where --unit says, new
    /// federations come from --new, and it closes.
    Split {
        code: String,
        /// UNIT=TARGET for every unit directly under CODE.
        #[arg(long = "unit", value_name = "UNIT=TARGET")]
        units: Vec<String>,
        /// CODE=NAME of a new federation beside CODE.
        #[arg(long = "new", value_name = "CODE=NAME")]
        new: Vec<String>,
        /// YYYY-MM (default: the current month).
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        reason: Option<String>,
    },
    /// A unit's versions over time and its audited changes.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a key; it is printed once.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long, value_parser = ["submitter", "viewer", "admin"])]
        role: String,
        /// The system or script that uses the key, e.g. "nightly import".
        #[arg(long)]
        label: String,
        /// Last day the key works (YYYY-MM-DD, UTC) or an RFC 3339 instant.
        #[arg(long, value_name = "YYYY-MM-DD")]
        expires: Option<String>,
    },
    /// Every key (never the secret), newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key by id; it stops working at once.
    Revoke { id: i64 },
}

#[derive(Debug, Subcommand)]
pub enum RemindersCommand {
    /// Send the notice to the reporters without an accepted report, now; each
    /// reporter still gets each notice once a month. Exit 1 if a delivery failed.
    Run {
        /// The subtree (default: the whole tree).
        #[arg(long)]
        org: Option<String>,
        /// Month YYYY-MM (default: the month being reported).
        #[arg(long)]
        period: Option<String>,
        /// due_soon or overdue (default: due soon up to the deadline, overdue after).
        #[arg(long)]
        kind: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The sent log of a month for a subtree.
    Log {
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ContactsCommand {
    /// One reporter's contact.
    Show {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// The contacts of every expected reporter under a node.
    List {
        #[arg(long)]
        org: String,
        #[arg(long)]
        json: bool,
    },
    /// Change a reporter's contact; a field not given is kept, an empty one cleared.
    Set {
        code: String,
        /// 填报人.
        #[arg(long)]
        name: Option<String>,
        /// 联系电话.
        #[arg(long)]
        phone: Option<String>,
        /// Where reminders (催报) go.
        #[arg(long)]
        email: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a person. The password comes from stdin (--password-stdin), a
    /// prompt on a terminal, or is generated and printed once.
    Create {
        /// The person's name as audit rows show it, e.g. 张三.
        #[arg(long)]
        name: String,
        /// What they sign in with, e.g. zhangsan.
        #[arg(long)]
        login: String,
        /// Their org unit: the root of what they may see.
        #[arg(long)]
        org: String,
        #[arg(long, value_parser = ["submitter", "viewer", "admin"])]
        role: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Everyone, by login.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Disable a person; their sessions end at once.
    Disable { login: String },
    /// Set a new password (stdin, prompt or generated); their sessions end.
    ResetPassword {
        login: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

/// The report a review is of, and who reviews it.
#[derive(Debug, clap::Args)]
pub struct ReviewTarget {
    reporter: String,
    #[arg(long)]
    period: String,
    /// The form of the report (default monthly).
    #[arg(long)]
    form: Option<String>,
    /// The federation above the reporter that reviews (default: its parent).
    #[arg(long)]
    by: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ReviewCommand {
    /// The reports of the reporters directly under a federation (and its own):
    /// status, issues, review, members and 入会率 against the month before.
    List {
        #[arg(long)]
        org: String,
        #[arg(long)]
        period: String,
        /// The form whose reports are listed (default monthly).
        #[arg(long)]
        form: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Approve a reporter's accepted report for a month.
    Approve {
        #[command(flatten)]
        target: ReviewTarget,
        #[arg(long)]
        comment: Option<String>,
    },
    /// Return (退回) a reporter's accepted report with a comment: it counts as
    /// not reported until a new upload for the month is accepted.
    Return {
        #[command(flatten)]
        target: ReviewTarget,
        /// What to correct (required, at most 500 characters).
        #[arg(long)]
        comment: String,
    },
    /// A reporter's state for a month and every review of its reports
    /// (returns with their comments), oldest first.
    Show {
        reporter: String,
        #[arg(long)]
        period: String,
        /// The form of the reports (default monthly).
        #[arg(long)]
        form: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RollupCommand {
    /// Exit 0 only if the incremental roll-ups equal a full recomputation.
    Verify {
        #[arg(long)]
        period: Option<String>,
    },
    /// Replace the roll-ups with a full recomputation.
    Rebuild {
        #[arg(long)]
        period: Option<String>,
    },
}

/// A failure with its exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 2,
            error: e.into(),
        }
    }
}

pub type CliResult = Result<ExitCode, Failure>;

pub fn strict_period(raw: &str) -> anyhow::Result<unionstat_core::Period> {
    raw.parse().with_context(|| format!("--period {raw}"))
}

/// `--form` (absent: monthly) and `--period` as one form's period: the
/// monthly return takes a month (`--period 2026-10`), another form a period
/// of its kind (`--form annual_survey --period 2026SY`).
pub fn form_period(
    ctx: &AppContext,
    form: Option<&str>,
    period: &str,
) -> anyhow::Result<crate::flows::form_period::FormPeriod> {
    use crate::flows::form_period::FormPeriod;
    match form.map(str::trim).filter(|f| !f.is_empty()) {
        None | Some(unionstat_core::form::MONTHLY) => {
            Ok(FormPeriod::monthly(ctx, strict_period(period)?))
        }
        Some(f) => FormPeriod::parse(ctx, Some(f), Some(period)).map_err(anyhow::Error::msg),
    }
}

/// The global flags of this command line, for a command to suggest (passwords
/// in a database URL redacted).
fn global_flags(config: Option<&std::path::Path>, database: Option<&str>) -> String {
    let mut out = String::new();
    if let Some(c) = config {
        out.push_str(&format!(" --config {}", c.display()));
    }
    if let Some(d) = database {
        out.push_str(&format!(" --database {}", crate::config::redact(d)));
    }
    out
}

/// What a command line comes to: done, with its exit status, or one of the
/// long-running processes, which start-up (`crate::startup`) runs.
pub enum Outcome {
    Exit(ExitCode),
    /// `serve`: the HTTP API, and the workers unless `workers` is false.
    Serve {
        ctx: AppContext,
        workers: bool,
    },
    /// `worker`: the workers alone.
    Work {
        ctx: AppContext,
    },
}

/// Runs a parsed command line, up to the start of a long-running process.
pub async fn run(cli: Cli) -> Outcome {
    match dispatch(cli).await {
        Ok(Outcome::Exit(_)) if out::failed() => Outcome::Exit(ExitCode::from(2)),
        Ok(outcome) => outcome,
        Err(f) => Outcome::Exit(fail(f)),
    }
}

/// Prints a failure and gives its exit status.
pub fn fail(f: Failure) -> ExitCode {
    eprintln!("error: {:#}", f.error);
    ExitCode::from(f.code)
}

async fn dispatch(cli: Cli) -> Result<Outcome, Failure> {
    if let Command::ReadWorkbook { catalog, limits } = &cli.command {
        return Ok(Outcome::Exit(crate::sandbox::child_main(catalog, limits)));
    }
    let settings = Settings::load(cli.config.as_deref(), cli.database.as_deref())?;
    // Long-running processes log at the configured level; one-shot commands print
    // their own results and log only warnings unless RUST_LOG asks for more.
    let mut log = settings.log.clone();
    if !matches!(cli.command, Command::Serve { .. } | Command::Worker) {
        log.level = "warn".into();
    }
    crate::telemetry::init_tracing(&log);
    let config = cli.config.clone();
    let command = match cli.command {
        Command::Serve { bind, no_workers } => {
            let mut settings = settings;
            if let Some(b) = bind {
                settings.server.bind = b;
            }
            let ctx = AppContext::build(settings).await?;
            let global = global_flags(config.as_deref(), cli.database.as_deref());
            if let Some(hint) = people::first_admin_hint(&ctx, &global).await? {
                tracing::warn!("{hint}");
                eprintln!("{hint}");
            }
            return Ok(Outcome::Serve {
                ctx,
                workers: !no_workers,
            });
        }
        Command::Worker => {
            let ctx = AppContext::build(settings).await?;
            return Ok(Outcome::Work { ctx });
        }
        command => command,
    };
    commands(command, settings).await.map(Outcome::Exit)
}

/// The one-shot commands.
async fn commands(command: Command, settings: Settings) -> CliResult {
    match command {
        // Started by `dispatch` (the processes) before the settings load (the reader child).
        Command::Serve { .. } | Command::Worker | Command::ReadWorkbook { .. } => {
            Err(anyhow::anyhow!("not a one-shot command").into())
        }
        Command::Migrate => {
            AppContext::build(settings).await?;
            outln!("migrations applied");
            Ok(ExitCode::SUCCESS)
        }
        Command::Orgs { command } => {
            let ctx = AppContext::build(settings).await?;
            match command {
                OrgsCommand::Import { file, from, reason } => {
                    orgs::import(&ctx, &file, from.as_deref(), reason).await
                }
                OrgsCommand::Move {
                    code,
                    to,
                    from,
                    reason,
                } => orgs::move_unit(&ctx, &code, &to, from.as_deref(), reason).await,
                OrgsCommand::Close { code, from, reason } => {
                    orgs::close(&ctx, &code, from.as_deref(), reason).await
                }
                OrgsCommand::Merge {
                    sources,
                    into,
                    name,
                    from,
                    reason,
                } => {
                    orgs::merge(
                        &ctx,
                        &sources,
                        &into,
                        name.as_deref(),
                        from.as_deref(),
                        reason,
                    )
                    .await
                }
                OrgsCommand::Split {
                    code,
                    units,
                    new,
                    from,
                    reason,
                } => orgs::split(&ctx, &code, &units, &new, from.as_deref(), reason).await,
                OrgsCommand::Show { code, json } => orgs::show(&ctx, &code, json).await,
            }
        }
        Command::Keys { command } => {
            let ctx = AppContext::build(settings).await?;
            let code = match command {
                KeysCommand::Create {
                    org,
                    role,
                    label,
                    expires,
                } => people::create_key(&ctx, &org, &role, &label, expires.as_deref()).await?,
                KeysCommand::List { json } => people::list_keys(&ctx, json).await?,
                KeysCommand::Revoke { id } => people::revoke_key(&ctx, id).await?,
            };
            Ok(code)
        }
        Command::Contacts { command } => {
            let ctx = AppContext::build(settings).await?;
            match command {
                ContactsCommand::Show { code, json } => contacts::show(&ctx, &code, json).await,
                ContactsCommand::List { org, json } => contacts::list(&ctx, &org, json).await,
                ContactsCommand::Set {
                    code,
                    name,
                    phone,
                    email,
                } => {
                    let change = crate::store::contacts::ContactChange {
                        name: name.as_deref(),
                        phone: phone.as_deref(),
                        email: email.as_deref(),
                    };
                    contacts::set(&ctx, &code, change).await
                }
            }
        }
        Command::Reminders { command } => {
            let ctx = AppContext::build(settings).await?;
            match command {
                RemindersCommand::Run {
                    org,
                    period,
                    kind,
                    json,
                } => {
                    contacts::remind(
                        &ctx,
                        org.as_deref(),
                        period.as_deref(),
                        kind.as_deref(),
                        json,
                    )
                    .await
                }
                RemindersCommand::Log { org, period, json } => {
                    contacts::reminders_log(&ctx, &org, period.as_deref(), json).await
                }
            }
        }
        Command::Users { command } => {
            let ctx = AppContext::build(settings).await?;
            let code = match command {
                UsersCommand::Create {
                    name,
                    login,
                    org,
                    role,
                    password_stdin,
                } => {
                    let args = people::NewUserArgs {
                        name,
                        login,
                        org,
                        role,
                        password_stdin,
                    };
                    people::create_user(&ctx, args).await?
                }
                UsersCommand::List { json } => people::list_users(&ctx, json).await?,
                UsersCommand::Disable { login } => people::disable_user(&ctx, &login).await?,
                UsersCommand::ResetPassword {
                    login,
                    password_stdin,
                } => people::reset_password(&ctx, &login, password_stdin).await?,
            };
            Ok(code)
        }
        Command::Submit {
            files,
            reporter,
            period,
            json,
            no_wait,
            dry_run,
            annotate,
            reason,
            nil_report,
            explain,
            form,
        } => {
            let ctx = AppContext::build(settings).await?;
            let args = submit::SubmitArgs {
                files,
                reporter,
                period,
                json,
                no_wait,
                dry_run,
                annotate,
                reason,
                nil_report,
                explanations: submit::explanations(&explain)?,
                form,
            };
            submit::run(ctx, args).await
        }
        Command::Template {
            org,
            period,
            form,
            output,
        } => {
            let ctx = AppContext::build(settings).await?;
            template::run(&ctx, &org, &period, &form, &output).await
        }
        Command::Indicators {
            org,
            period,
            children,
            tree,
            json,
        } => {
            let ctx = AppContext::build(settings).await?;
            query::indicators(&ctx, &org, &period, children, tree_view(&tree)?, json).await
        }
        Command::Series {
            org,
            indicator,
            from,
            to,
            tree,
            json,
        } => {
            let ctx = AppContext::build(settings).await?;
            query::series(&ctx, &org, &indicator, &from, &to, tree_view(&tree)?, json).await
        }
        Command::Export {
            org,
            period,
            output,
            tree,
            form,
        } => {
            let ctx = AppContext::build(settings).await?;
            let tree = tree_view(&tree)?;
            query::export(&ctx, &org, &period, &output, tree, form.as_deref()).await
        }
        Command::Completeness {
            org,
            period,
            form,
            tree,
            json,
        } => {
            let ctx = AppContext::build(settings).await?;
            let fp = form_period(&ctx, form.as_deref(), &period)?;
            query::completeness(&ctx, &org, &fp, tree_view(&tree)?, json).await
        }
        Command::Review { command } => {
            let ctx = AppContext::build(settings).await?;
            match command {
                ReviewCommand::List {
                    org,
                    period,
                    form,
                    json,
                } => {
                    let fp = form_period(&ctx, form.as_deref(), &period)?;
                    review::list(&ctx, &org, &fp, json).await
                }
                ReviewCommand::Approve { target, comment } => {
                    let decision = crate::store::reviews::Decision::Approved;
                    review::decide(&ctx, &target, decision, comment.as_deref()).await
                }
                ReviewCommand::Return { target, comment } => {
                    let decision = crate::store::reviews::Decision::Returned;
                    review::decide(&ctx, &target, decision, Some(&comment)).await
                }
                ReviewCommand::Show {
                    reporter,
                    period,
                    form,
                    json,
                } => {
                    let fp = form_period(&ctx, form.as_deref(), &period)?;
                    review::show(&ctx, &reporter, &fp, json).await
                }
            }
        }
        Command::Rollup { command } => {
            let ctx = AppContext::build(settings).await?;
            match command {
                RollupCommand::Verify { period } => {
                    let period = period.map(|p| strict_period(&p)).transpose()?;
                    let report = ctx.store.verify_rollups(period).await?;
                    if report.ok() {
                        outln!(
                            "roll-ups verified: {} figure rows and {} coverage rows equal a full recomputation",
                            report.rollup_rows, report.coverage_rows
                        );
                        Ok(ExitCode::SUCCESS)
                    } else {
                        outln!("{} mismatch(es) between incremental roll-ups and a full recomputation:", report.mismatch_count);
                        for m in &report.mismatches {
                            outln!("  {m}");
                        }
                        outln!("repair with: unionstat rollup rebuild");
                        Ok(ExitCode::from(1))
                    }
                }
                RollupCommand::Rebuild { period } => {
                    let period = period.map(|p| strict_period(&p)).transpose()?;
                    let rows = ctx.store.rebuild_rollups(period).await?;
                    outln!("roll-ups rebuilt: {rows} rows");
                    Ok(ExitCode::SUCCESS)
                }
            }
        }
        Command::Demo { dir } => demo::run(settings, dir).await,
    }
}

/// The `--tree` switch of the queries.
fn tree_view(raw: &str) -> anyhow::Result<TreeView> {
    raw.parse()
        .map_err(|e: String| anyhow::anyhow!("--tree: {e}"))
}
