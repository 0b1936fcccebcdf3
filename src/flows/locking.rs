//! Whether a month is open for changes under an org unit: it closes
//! `reporting.lock_after_days` after its deadline, and an approval (逐级审核)
//! of the unit or of a federation above it locks it at once. A locked month
//! takes changes only from an admin key with a reason (audited).

use std::collections::HashMap;

use serde::Serialize;
use unionstat_core::{Message, Period};

use crate::context::AppContext;
use crate::store::approvals::ApprovalRow;
use crate::store::orgs::{lineage, OrgRow};

/// The lock of one unit's month.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockState {
    /// The last day the month is open (None: it never closes by time).
    pub closes_on: Option<chrono::NaiveDate>,
    pub closed_by_time: bool,
    /// The approval (of the unit or the nearest federation above) that locks it.
    pub approval: Option<ApprovalRow>,
}

impl LockState {
    pub fn locked(&self) -> bool {
        self.closed_by_time || self.approval.is_some()
    }

    /// What locks the month, in both languages, for messages and the audit:
    /// `2026-10 已于 2026-11-30 后关闭 / 2026-10 closed after 2026-11-30`.
    pub fn describe(&self, period: Period) -> Message {
        let (mut zh, mut en) = (Vec::new(), Vec::new());
        if self.closed_by_time {
            if let Some(c) = self.closes_on {
                zh.push(format!("{period} 已于 {c} 后关闭"));
                en.push(format!("{period} closed after {c}"));
            }
        }
        if let Some(a) = &self.approval {
            zh.push(format!(
                "{period} 已由 {} 于 {} 审核通过",
                a.org_code, a.approved_at
            ));
            en.push(format!(
                "{period} approved by {} at {}",
                a.org_code, a.approved_at
            ));
        }
        if zh.is_empty() {
            return Message {
                zh: format!("{period} 未锁定"),
                en: format!("{period} is open"),
            };
        }
        Message {
            zh: zh.join("；"),
            en: en.join("; "),
        }
    }
}

/// The lock of a unit's month from the live approvals already loaded for its
/// lineage (`line`: codes from the root down to the unit).
pub fn lock_from(
    ctx: &AppContext,
    period: Period,
    line: &[&str],
    live: &HashMap<String, ApprovalRow>,
) -> LockState {
    let r = &ctx.settings.reporting;
    LockState {
        closes_on: period.closes_on(r.deadline_day, r.lock_after_days),
        closed_by_time: r.is_closed(period, chrono::Utc::now()),
        approval: line.iter().rev().find_map(|c| live.get(*c).cloned()),
    }
}

/// The approval view of every unit in `orgs` for a month, in two queries.
pub async fn approval_views(
    ctx: &AppContext,
    period: Period,
    orgs: &[&OrgRow],
) -> sqlx::Result<HashMap<String, ApprovalView>> {
    let mut codes: Vec<&str> = orgs.iter().flat_map(|o| lineage(&o.path)).collect();
    codes.sort_unstable();
    codes.dedup();
    let live = ctx
        .store
        .live_approvals(&period.to_string(), &codes)
        .await?;
    Ok(orgs
        .iter()
        .map(|o| {
            let lock = lock_from(ctx, period, &lineage(&o.path), &live);
            (o.code.clone(), ApprovalView::of(&lock, live.get(&o.code)))
        })
        .collect())
}

/// The lock of `org`'s month.
pub async fn lock_state(ctx: &AppContext, org: &OrgRow, period: Period) -> sqlx::Result<LockState> {
    let r = &ctx.settings.reporting;
    let closes_on = period.closes_on(r.deadline_day, r.lock_after_days);
    Ok(LockState {
        closes_on,
        closed_by_time: r.is_closed(period, chrono::Utc::now()),
        approval: ctx.store.locking_approval(org, &period.to_string()).await?,
    })
}

/// Approval and lock of a node's month, as answers show them.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ApprovalView {
    /// The node itself has approved its subtree for the month.
    pub approved: bool,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    /// Changes need an admin key and a reason.
    pub locked: bool,
    /// `time`, `approval`, or both (`time,approval`); null when open.
    pub locked_by: Option<String>,
    /// The federation whose approval locks the month (the node or one above).
    pub locked_by_org: Option<String>,
    /// The last day the month is open by time (null: never closes by time).
    pub closes_on: Option<String>,
}

impl ApprovalView {
    pub fn of(lock: &LockState, own: Option<&ApprovalRow>) -> ApprovalView {
        let by: Vec<&str> = [
            lock.closed_by_time.then_some("time"),
            lock.approval.is_some().then_some("approval"),
        ]
        .into_iter()
        .flatten()
        .collect();
        ApprovalView {
            approved: own.is_some(),
            approved_by: own.map(|a| a.approved_by.clone()),
            approved_at: own.map(|a| a.approved_at.clone()),
            locked: lock.locked(),
            locked_by: (!by.is_empty()).then(|| by.join(",")),
            locked_by_org: lock.approval.as_ref().map(|a| a.org_code.clone()),
            closes_on: lock.closes_on.map(|d| d.to_string()),
        }
    }
}
