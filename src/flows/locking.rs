//! Whether a month (or another form's period) is open for changes under an
//! org unit: it closes `reporting.lock_after_days` (a form's own
//! `lock_after_days`) after its deadline, and an approval (逐级审核) of the
//! form's period by the unit or a federation above it locks it at once. A
//! locked period takes changes only from an admin key with a reason
//! (audited). An approval locks its own form only: the annual survey's
//! 2026SY approved leaves the monthly 2026-09 open, and the reverse.

use std::collections::HashMap;

use serde::Serialize;
use unionstat_core::{Message, Period};

use crate::context::AppContext;
use crate::flows::form_period::FormPeriod;
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
    pub fn describe(&self, period: impl std::fmt::Display) -> Message {
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

impl LockState {
    /// What a check-only upload in a locked month says beside its findings:
    /// what locks the month, and that a real upload would be refused.
    pub fn check_only_note(&self, period: impl std::fmt::Display) -> unionstat_core::Message {
        let mut zh = Vec::new();
        let mut en = Vec::new();
        if self.closed_by_time {
            if let Some(c) = self.closes_on {
                zh.push(format!("报送期已于 {c} 结束"));
                en.push(format!("it closed after {c}"));
            }
        }
        if let Some(a) = &self.approval {
            let day: String = a.approved_at.chars().take(10).collect();
            zh.push(format!("{} 已于 {day} 审核通过", a.org_code));
            en.push(format!("{} approved it on {day}", a.org_code));
        }
        unionstat_core::Message {
            zh: format!(
                "{period} 已锁定（{}）。本次仅检查，什么也没有保存；正式上报会被拒绝，如需更改请联系管理员并说明理由。",
                zh.join("；")
            ),
            en: format!(
                "{period} is locked ({}). This was a check only and nothing was stored; a real upload would be refused: to change the month, ask an admin, with a reason.",
                en.join("; ")
            ),
        }
    }
}

/// The lock of a unit's period of a form from the live approvals of that
/// form's period already loaded for its lineage (`line`: codes from the root
/// down to the unit).
pub fn lock_from(
    ctx: &AppContext,
    fp: &FormPeriod,
    line: &[&str],
    live: &HashMap<String, ApprovalRow>,
) -> LockState {
    let r = &ctx.settings.reporting;
    LockState {
        closes_on: fp.closes_on(r),
        closed_by_time: fp.is_closed(r, chrono::Utc::now()),
        approval: line.iter().rev().find_map(|c| live.get(*c).cloned()),
    }
}

/// The approval view of every unit in `orgs` for a month, in two queries.
pub async fn approval_views(
    ctx: &AppContext,
    period: Period,
    orgs: &[&OrgRow],
) -> sqlx::Result<HashMap<String, ApprovalView>> {
    let fp = FormPeriod::monthly(ctx, period);
    let mut codes: Vec<&str> = orgs.iter().flat_map(|o| lineage(&o.path)).collect();
    codes.sort_unstable();
    codes.dedup();
    let live = ctx
        .store
        .live_approvals(fp.code(), &fp.text(), &codes)
        .await?;
    Ok(orgs
        .iter()
        .map(|o| {
            let lock = lock_from(ctx, &fp, &lineage(&o.path), &live);
            (o.code.clone(), ApprovalView::of(&lock, live.get(&o.code)))
        })
        .collect())
}

/// The lock of `org`'s month.
pub async fn lock_state(ctx: &AppContext, org: &OrgRow, period: Period) -> sqlx::Result<LockState> {
    form_lock_state(ctx, org, &FormPeriod::monthly(ctx, period)).await
}

/// The lock of `org`'s period of a form.
pub async fn form_lock_state(
    ctx: &AppContext,
    org: &OrgRow,
    fp: &FormPeriod,
) -> sqlx::Result<LockState> {
    let r = &ctx.settings.reporting;
    Ok(LockState {
        closes_on: fp.closes_on(r),
        closed_by_time: fp.is_closed(r, chrono::Utc::now()),
        approval: ctx
            .store
            .locking_approval(org, fp.code(), &fp.text())
            .await?,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn period() -> Period {
        "2026-10".parse().unwrap()
    }

    #[test]
    fn a_check_only_note_names_what_locks_the_month_in_both_languages() {
        let by_time = LockState {
            closes_on: "2026-11-30".parse().ok(),
            closed_by_time: true,
            approval: None,
        };
        let note = by_time.check_only_note(period());
        assert_eq!(
            note.zh,
            "2026-10 已锁定（报送期已于 2026-11-30 结束）。本次仅检查，什么也没有保存；正式上报会被拒绝，如需更改请联系管理员并说明理由。"
        );
        assert_eq!(
            note.en,
            "2026-10 is locked (it closed after 2026-11-30). This was a check only and nothing was stored; a real upload would be refused: to change the month, ask an admin, with a reason."
        );
        let both = LockState {
            approval: Some(ApprovalRow {
                id: 1,
                org_code: "330102".into(),
                period: "2026-10".into(),
                approved_by: "张三 (zhangsan)".into(),
                approved_at: "2026-11-20T08:00:00.000Z".into(),
            }),
            ..by_time
        };
        let note = both.check_only_note(period());
        assert!(
            note.zh.starts_with(
                "2026-10 已锁定（报送期已于 2026-11-30 结束；330102 已于 2026-11-20 审核通过）。"
            ),
            "{}",
            note.zh
        );
        assert!(
            note.en.starts_with(
                "2026-10 is locked (it closed after 2026-11-30; 330102 approved it on 2026-11-20)."
            ),
            "{}",
            note.en
        );
        // No one's name goes into the note, only the approving federation.
        assert!(!note.zh.contains("张三") && !note.en.contains("zhangsan"));
    }
}
