//! The reminder (催报) job: an apalis worker driven by a cron schedule
//! (`reminders.schedule`), in every worker process when `reminders.enabled`.
//! Each tick sends the notices due for the month being reported
//! ([`crate::flows::reminders::run_scheduled`]); the sent log makes a notice go
//! once however many processes tick. A tick that fails (the database, the SMTP
//! server) is logged, and the next tick tries again.

use apalis::prelude::*;
use apalis_cron::{CronScheduler, Tick};

use crate::context::AppContext;
use crate::flows::reminders::run_scheduled;
use crate::mail::Mailer;

/// The job's name in logs and worker names.
pub const NAME: &str = "reminders";

/// Adds the reminder worker to `monitor` (the schedule was checked when the
/// settings were read).
pub fn register(monitor: Monitor, ctx: AppContext) -> Monitor {
    let schedule = match ctx.settings.reminders.cron() {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(job = NAME, error = %format!("{e:#}"), "reminders not scheduled");
            return monitor;
        }
    };
    let name = format!(
        "{NAME}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    );
    monitor.register(move |_| {
        WorkerBuilder::new(name.clone())
            .backend(CronScheduler::new(schedule.clone()))
            .data(ctx.clone())
            .build(tick)
    })
}

async fn tick(_tick: Tick, ctx: Data<AppContext>) -> Result<(), BoxDynError> {
    let mailer = Mailer::new(&ctx.settings.mail);
    match run_scheduled(&ctx, &mailer).await {
        Ok(reports) => {
            for r in reports {
                tracing::info!(
                    job = NAME,
                    org = %r.org,
                    period = %r.period,
                    kind = r.kind.as_str(),
                    sent = r.sent.len(),
                    failed = r.failed.len(),
                    unreachable = r.unreachable.len(),
                    already_sent = r.already_sent.len(),
                    "reminders run"
                );
            }
        }
        Err(e) => {
            tracing::warn!(job = NAME, error = %format!("{e:#}"), "reminders failed; the next run tries again")
        }
    }
    Ok(())
}
