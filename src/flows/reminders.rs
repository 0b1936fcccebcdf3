//! Reminders (催报): for a month, every expected reporter of a subtree without
//! an accepted report (missing, or only rejected uploads) gets a notice at its
//! contact's email — `due_soon` before the deadline, `overdue` after it — once
//! per month and notice. Each notice is claimed in the sent log before it goes,
//! so a second run or a second worker sends nothing twice; a failed delivery is
//! logged and tried again by a later run; a reporter without an email is
//! listed as unreachable.

use anyhow::Context as _;
use chrono::NaiveDate;
use serde::Serialize;
use unionstat_core::workbook_out::chase::{chase_workbook, ChaseBook, ChaseLine};
use unionstat_core::Period;

use crate::config::ReminderSettings;
use crate::context::AppContext;
use crate::mail::{Channel, Notice};
use crate::store::orgs::{OrgRow, TreeAt};

/// A run that claimed a notice and never finished it (killed mid-send) is
/// taken over by another after this long.
const STALE_CLAIM: chrono::Duration = chrono::Duration::minutes(10);

/// Which notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Before the deadline (from `reminders.days_before_deadline` days before).
    DueSoon,
    /// After it (from `reminders.days_after_deadline` days after).
    Overdue,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DueSoon => "due_soon",
            Kind::Overdue => "overdue",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "due_soon" => Some(Kind::DueSoon),
            "overdue" => Some(Kind::Overdue),
            _ => None,
        }
    }

    /// The notice a chase on `today` sends: due soon up to the deadline,
    /// overdue after it.
    pub fn on(today: NaiveDate, deadline: NaiveDate) -> Kind {
        if today <= deadline {
            Kind::DueSoon
        } else {
            Kind::Overdue
        }
    }
}

/// The notice the schedule sends on `today` for a month due on `deadline`.
pub fn due(today: NaiveDate, deadline: NaiveDate, settings: &ReminderSettings) -> Option<Kind> {
    let before = deadline - chrono::Days::new(u64::from(settings.days_before_deadline));
    let after = deadline + chrono::Days::new(u64::from(settings.days_after_deadline));
    if today >= before && today <= deadline {
        Some(Kind::DueSoon)
    } else if today > deadline && today >= after {
        Some(Kind::Overdue)
    } else {
        None
    }
}

/// A reporter a notice went to, or failed to reach.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Delivery {
    pub org: String,
    pub name: String,
    /// The address (empty for an unreachable reporter).
    pub address: String,
    /// Why the delivery failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// What one run did for one subtree and month.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    pub org: String,
    pub period: String,
    pub deadline: String,
    pub kind: Kind,
    /// Sent now.
    pub sent: Vec<Delivery>,
    /// Tried now and failed (tried again by a later run).
    pub failed: Vec<Delivery>,
    /// Not reported and without an email in their contact: nobody was told.
    pub unreachable: Vec<Delivery>,
    /// Sent before (or being sent by another run): nothing sent again.
    pub already_sent: Vec<String>,
}

/// The subject and body of a notice, in Chinese and English.
pub fn compose(
    kind: Kind,
    reporter: &OrgRow,
    period: Period,
    deadline: NaiveDate,
    zone: &str,
) -> (String, String) {
    let (name, code) = (&reporter.name, &reporter.code);
    let month_zh = format!("{}年{}月", period.year(), period.month());
    let subject = match kind {
        Kind::DueSoon => format!(
            "【催报】{name}：{month_zh}统计月报请于 {deadline} 前报送 / Reminder: the {period} report of {name} is due by {deadline}"
        ),
        Kind::Overdue => format!(
            "【催报】{name}：{month_zh}统计月报已逾期（应于 {deadline} 前报送）/ Overdue: the {period} report of {name} was due by {deadline}"
        ),
    };
    let (state_zh, state_en) = match kind {
        Kind::DueSoon => (
            format!("应于 {deadline}（{zone} 当日 24 时）前报送"),
            format!("is due by {deadline} (end of day, {zone})"),
        ),
        Kind::Overdue => (
            format!("应于 {deadline}（{zone} 当日 24 时）前报送，现已逾期"),
            format!("was due by {deadline} (end of day, {zone}) and is overdue"),
        ),
    };
    let body = format!(
        "{name}（{code}）：\n\n\
         贵单位 {month_zh}（{period}）的工会统计月报{state_zh}，目前尚未收到被接受的报表。请尽快上报；本月确无数据的，请以零报告（零报告）上报。\n\n\
         ——\n\n\
         {name} ({code}):\n\n\
         the trade-union statistics report for {period} {state_en}, and no accepted report has arrived yet. Please upload it soon; if there is nothing to report this month, upload a nil report (零报告).\n"
    );
    (subject, body)
}

/// Sends the notice `kind` of `period` to every reporter of `root`'s subtree
/// (`root` as the month's tree has it) without an accepted report.
pub async fn run_for<C: Channel>(
    ctx: &AppContext,
    channel: &C,
    root: &OrgRow,
    period: Period,
    kind: Kind,
) -> anyhow::Result<RunReport> {
    let store = &ctx.store;
    let reporting = &ctx.settings.reporting;
    let deadline = period.deadline(reporting.deadline_day);
    let month = period.to_string();
    let at = TreeAt::Month(period);
    let states = store
        .reporter_states(
            root,
            crate::store::completeness::Reporters::MONTHLY,
            &month,
            at,
        )
        .await?;
    let contacts = store.contacts_under(root, at).await?;
    let reporters: std::collections::HashMap<String, OrgRow> = store
        .expected_reporters(root, at)
        .await?
        .into_iter()
        .map(|o| (o.code.clone(), o))
        .collect();
    let mut report = RunReport {
        org: root.code.clone(),
        period: month.clone(),
        deadline: deadline.to_string(),
        kind,
        sent: Vec::new(),
        failed: Vec::new(),
        unreachable: Vec::new(),
        already_sent: Vec::new(),
    };
    let zone = reporting.time_zone.0.name().to_string();
    for s in states
        .iter()
        .filter(|s| matches!(s.status.as_str(), "missing" | "rejected"))
    {
        let Some(org) = reporters.get(&s.code) else {
            continue;
        };
        let address = contacts
            .get(&s.code)
            .map(|c| c.email.trim().to_string())
            .unwrap_or_default();
        let stale =
            (chrono::Utc::now() - STALE_CLAIM).to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let Some(id) = store
            .claim_reminder(&s.code, &month, kind.as_str(), &address, &stale)
            .await?
        else {
            report.already_sent.push(s.code.clone());
            continue;
        };
        let mut delivery = Delivery {
            org: s.code.clone(),
            name: org.name.clone(),
            address: address.clone(),
            error: None,
        };
        if address.is_empty() {
            store.finish_reminder(id, "unreachable", None).await?;
            ctx.metrics
                .reminder(kind.as_str(), channel.name(), "unreachable");
            report.unreachable.push(delivery);
            continue;
        }
        let (subject, body) = compose(kind, org, period, deadline, &zone);
        let notice = Notice {
            to: address,
            subject,
            body,
        };
        match channel.deliver(&notice).await {
            Ok(()) => {
                store.finish_reminder(id, "sent", None).await?;
                ctx.metrics.reminder(kind.as_str(), channel.name(), "sent");
                report.sent.push(delivery);
            }
            Err(e) => {
                tracing::warn!(reporter = %s.code, period = %month, error = %e, "reminder not delivered; a later run tries again");
                store.finish_reminder(id, "failed", Some(&e)).await?;
                ctx.metrics
                    .reminder(kind.as_str(), channel.name(), "failed");
                delivery.error = Some(e);
                report.failed.push(delivery);
            }
        }
    }
    Ok(report)
}

/// What the schedule sends now: for the month being reported, the notice due
/// today (if any), to every tree root's subtree.
pub async fn run_scheduled<C: Channel>(
    ctx: &AppContext,
    channel: &C,
) -> anyhow::Result<Vec<RunReport>> {
    let now = chrono::Utc::now();
    let reporting = &ctx.settings.reporting;
    let period = reporting.reporting_period(now);
    let deadline = period.deadline(reporting.deadline_day);
    let Some(kind) = due(reporting.today(now), deadline, &ctx.settings.reminders) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for code in ctx.store.root_orgs().await? {
        if let Some(root) = ctx.store.org_at(&code, TreeAt::Month(period)).await? {
            out.push(run_for(ctx, channel, &root, period, kind).await?);
        }
    }
    Ok(out)
}

/// The completeness states the 催报 list holds: no accepted report that
/// stands (nothing uploaded, only rejected uploads, or returned in review).
pub const TO_CHASE: &[&str] = &["missing", "rejected", "returned"];

/// A completeness state in both languages, as the list writes it.
fn status_words(status: &str) -> &'static str {
    match status {
        "missing" => "未报送 missing",
        "rejected" => "未通过校验 rejected",
        "returned" => "审核退回 returned in review",
        "pending" => "处理中 pending",
        "late" => "逾期报送 late",
        _ => "按时报送 on time",
    }
}

/// One sent-log row in words: `逾期 overdue：已发送 sent 2026-12-11`.
fn notice_words(kind: &str, status: &str, at: &str) -> String {
    let kind = match kind {
        "due_soon" => "到期提醒 due soon",
        _ => "逾期催报 overdue",
    };
    let status = match status {
        "sent" => "已发送 sent",
        "failed" => "发送失败 failed",
        "unreachable" => "无邮箱 no email",
        _ => "发送中 sending",
    };
    let day: String = at.chars().take(10).collect();
    format!("{kind}：{status} {day}")
}

/// The 催报 list of `org`'s subtree for `period` as an .xlsx: every expected
/// reporter of the month's tree in a [`TO_CHASE`] state, with its parent,
/// contact and the reminders sent so far, by code.
pub async fn chase_list(ctx: &AppContext, org: &OrgRow, period: Period) -> anyhow::Result<Vec<u8>> {
    use crate::flows::views::completeness_view;
    use crate::store::orgs::TreeView;
    let view = completeness_view(ctx, org, period, TreeView::AsReported)
        .await
        .context("loading completeness")?;
    let month = period.to_string();
    let mut sent: std::collections::HashMap<String, Vec<String>> = Default::default();
    for r in ctx
        .store
        .reminders_log(org, &month)
        .await
        .context("loading the sent log")?
    {
        let at = r.sent_at.as_deref().unwrap_or(&r.claimed_at);
        sent.entry(r.org_code.clone())
            .or_default()
            .push(notice_words(&r.kind, &r.status, at));
    }
    // Parents named only when they lie in the subtree (the levels shown).
    let at = TreeAt::Month(period);
    let parents = match ctx.store.org_at(&org.code, at).await? {
        Some(root) => ctx
            .store
            .expected_reporters(&root, at)
            .await
            .context("loading the reporters")?
            .into_iter()
            .filter_map(|o| Some((o.code, o.parent_code?)))
            .collect(),
        None => std::collections::HashMap::new(),
    };
    let names: std::collections::HashMap<&str, &str> = view
        .levels
        .iter()
        .map(|l| (l.org.as_str(), l.name.as_str()))
        .collect();
    let lines: Vec<ChaseLine> = view
        .reporters
        .iter()
        .filter(|r| TO_CHASE.contains(&r.status.as_str()))
        .map(|r| ChaseLine {
            code: r.code.clone(),
            name: r.name.clone(),
            parent: parents
                .get(&r.code)
                .and_then(|p| names.get(p.as_str()).map(|n| format!("{p} {n}")))
                .unwrap_or_default(),
            status: status_words(&r.status).to_string(),
            preparer: r.preparer.clone().unwrap_or_default(),
            phone: r.phone.clone().unwrap_or_default(),
            email: r.email.clone().unwrap_or_default(),
            reminders: sent.remove(&r.code).unwrap_or_default().join("；"),
        })
        .collect();
    let book = ChaseBook {
        title: format!("{} {} — {} 催报名单 Reporters to chase", view.org, view.name, view.period),
        note: format!(
            "截止 due {}；应报 expected {}，未报送 missing {}，未通过校验 rejected {}，审核退回 returned {}；列出 listed {}",
            view.deadline,
            view.expected_reporters,
            view.missing,
            view.rejected,
            view.returned,
            lines.len()
        ),
        lines,
    };
    let bytes = tokio::task::spawn_blocking(move || chase_workbook(&book))
        .await
        .context("writing the list stopped")??;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(before: u32, after: u32) -> ReminderSettings {
        ReminderSettings {
            enabled: true,
            schedule: "0 0 1 * * *".into(),
            days_before_deadline: before,
            days_after_deadline: after,
        }
    }

    #[test]
    fn the_notice_due_follows_the_deadline() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let deadline = d("2026-12-10");
        let s = settings(3, 1);
        assert_eq!(due(d("2026-12-06"), deadline, &s), None);
        assert_eq!(due(d("2026-12-07"), deadline, &s), Some(Kind::DueSoon));
        assert_eq!(due(d("2026-12-10"), deadline, &s), Some(Kind::DueSoon));
        assert_eq!(due(d("2026-12-11"), deadline, &s), Some(Kind::Overdue));
        let s = settings(0, 3);
        assert_eq!(due(d("2026-12-09"), deadline, &s), None);
        assert_eq!(due(d("2026-12-12"), deadline, &s), None);
        assert_eq!(due(d("2026-12-13"), deadline, &s), Some(Kind::Overdue));
    }
}
