//! Changes to the federation tree, shared by the CLI (`orgs import|move|close|
//! merge|split`) and the admin HTTP routes: each is a set of edits effective
//! from a month on, checked against the month's lock here and against
//! approvals in the store, then applied in one transaction (see
//! [`crate::store::orgs`]).
//!
//! The effective month defaults to the current month (the federation's
//! calendar month today): a change takes effect from now on and leaves every
//! month already being reported as it was. A unit that master data names for
//! the first time, with no month given, holds since always (it is being
//! registered, not founded).

use std::collections::BTreeMap;

use unionstat_core::orgs::{OrgKind, OrgLine};
use unionstat_core::Period;

use crate::config::ReportingSettings;
use crate::context::AppContext;
use crate::store::orgs::{ImportError, ImportReport, OrgEdit, TreeAt, TreeChange, UnitChange};

/// Why a change was refused: the caller's mistake, in both languages.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("{zh} / {en}")]
    Refused { zh: String, en: String },
    #[error(transparent)]
    Tree(#[from] ImportError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl ChangeError {
    fn refused(zh: impl Into<String>, en: impl Into<String>) -> ChangeError {
        ChangeError::Refused {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// The refusal in Chinese, then English.
    pub fn bilingual(&self) -> String {
        let zh = match self {
            ChangeError::Refused { zh, en } => return format!("{zh} / {en}"),
            ChangeError::Tree(e) => match e {
                ImportError::DuplicateCode { code } => format!("单位代码 {code} 出现了不止一次"),
                ImportError::MissingParent { code, parent } => {
                    format!("单位 {code} 的上级 {parent} 不在组织树中")
                }
                ImportError::GrassrootsParent { code, parent } => {
                    format!("单位 {code} 的上级 {parent} 是基层工会：只有总工会可以有下级")
                }
                ImportError::Cycle { codes } => format!("上级关系形成了环：{}", codes.join(" → ")),
                ImportError::NotInTree { code, period } => {
                    format!("单位 {code} 在 {period} 的组织树中不存在")
                }
                ImportError::ClosesWithChildren { code, child, period } => {
                    format!("单位 {code} 不能自 {period} 起撤销：{child} 仍在其下")
                }
                ImportError::Approved { org, period, from } => format!(
                    "{period} 已由 {org} 审核通过：自 {from} 起的变更会改动该月（管理员可说明理由后变更）"
                ),
                ImportError::Database(_) => "数据库错误".to_string(),
            },
            ChangeError::Database(_) => "数据库错误".to_string(),
        };
        format!("{zh} / {self}")
    }

    /// Whether the change was refused for what it asked (not a server fault).
    pub fn is_callers(&self) -> bool {
        !matches!(
            self,
            ChangeError::Database(_) | ChangeError::Tree(ImportError::Database(_))
        )
    }
}

/// Who changes the tree and why.
#[derive(Debug, Clone)]
pub struct Changer {
    pub actor: String,
    /// Required to change from a locked or approved month.
    pub reason: Option<String>,
}

/// The month a change takes effect from when none is given: the current one.
pub fn default_from(r: &ReportingSettings) -> Period {
    r.current_month(chrono::Utc::now())
}

/// Refuses a month closed by time, unless the changer gives a reason.
fn check_open(ctx: &AppContext, from: Period, who: &Changer) -> Result<(), ChangeError> {
    let r = &ctx.settings.reporting;
    if who.reason.is_none() && r.is_closed(from, chrono::Utc::now()) {
        return Err(ChangeError::refused(
            format!("{from} 已锁定：变更须从未锁定的月份起生效，或由管理员说明理由（--reason）"),
            format!("{from} is locked: a change must take effect from an open month, or an admin gives a reason (--reason)"),
        ));
    }
    Ok(())
}

/// A code and a name as master data takes them (the importer's own rules).
fn check_unit(e: &OrgEdit) -> Result<(), ChangeError> {
    let code = &e.code;
    if code.is_empty()
        || code.chars().count() > 64
        || code
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
    {
        return Err(ChangeError::refused(
            format!("单位代码 {code:?} 须为 1–64 个字符，不含空格和 '/'"),
            format!("unit code {code:?} must be 1–64 characters without spaces or '/'"),
        ));
    }
    if let Some(name) = &e.name {
        if name.trim().is_empty()
            || name.chars().count() > 200
            || name.chars().any(char::is_control)
        {
            return Err(ChangeError::refused(
                format!("单位 {code} 的名称须为 1–200 个字符"),
                format!("the name of unit {code} must be 1–200 characters"),
            ));
        }
    }
    Ok(())
}

async fn apply(
    ctx: &AppContext,
    edits: Vec<(Option<Period>, OrgEdit)>,
    action: &str,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    for (from, e) in &edits {
        check_unit(e)?;
        if let Some(parent) = e.parent.as_ref().and_then(|p| p.as_deref()) {
            check_unit(&OrgEdit {
                code: parent.to_string(),
                ..OrgEdit::default()
            })?;
        }
        if let Some(f) = from {
            check_open(ctx, *f, who)?;
        }
    }
    Ok(ctx
        .store
        .change_tree(&TreeChange {
            edits,
            action: action.to_string(),
            actor: who.actor.clone(),
            reason: who.reason.clone(),
        })
        .await?)
}

/// Master data from a file: each line from its own `effective_from`, else
/// from `from`, else (a unit not yet known) since always or (a known unit)
/// from the current month. `active=false` closes the unit from that month.
pub async fn import(
    ctx: &AppContext,
    lines: &[OrgLine],
    from: Option<Period>,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    let codes: Vec<String> = lines.iter().map(|l| l.record.code.clone()).collect();
    let known = ctx.store.existing_codes(&codes).await?;
    let edits = lines
        .iter()
        .map(|l| {
            let month = l.effective_from.or(from).or_else(|| {
                known
                    .contains(&l.record.code)
                    .then(|| default_from(&ctx.settings.reporting))
            });
            let edit = if l.active {
                OrgEdit::set(&l.record)
            } else {
                OrgEdit {
                    code: l.record.code.clone(),
                    close: true,
                    ..OrgEdit::default()
                }
            };
            (month, edit)
        })
        .collect();
    apply(ctx, edits, "orgs_import", who).await
}

/// A unit (and everything under it) goes under another parent.
pub async fn move_unit(
    ctx: &AppContext,
    code: &str,
    parent: &str,
    from: Period,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    let edit = OrgEdit {
        code: code.to_string(),
        parent: Some(Some(parent.to_string())),
        ..OrgEdit::default()
    };
    apply(ctx, vec![(Some(from), edit)], "org_move", who).await
}

/// A unit closes: it is in no tree from the month on (it must have nothing
/// under it then).
pub async fn close(
    ctx: &AppContext,
    code: &str,
    from: Period,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    let edit = OrgEdit {
        code: code.to_string(),
        close: true,
        ..OrgEdit::default()
    };
    apply(ctx, vec![(Some(from), edit)], "org_close", who).await
}

/// Units merge into `into` from the month on. Grassroots units close and, in
/// the current-tree view, count as `into` in every earlier month; federations
/// hand every unit under them to `into`, then close. `into` is created (a unit
/// of the sources' kind under the first source's parent) when it does not exist
/// and `name` is given.
pub async fn merge(
    ctx: &AppContext,
    sources: &[String],
    into: &str,
    name: Option<&str>,
    from: Period,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    let at = TreeAt::Month(from);
    if sources.is_empty() {
        return Err(ChangeError::refused("没有要合并的单位", "no unit to merge"));
    }
    let mut rows = Vec::new();
    for s in sources {
        if s == into {
            return Err(ChangeError::refused(
                format!("{s} 不能合并到自身"),
                format!("{s} cannot merge into itself"),
            ));
        }
        let Some(r) = ctx.store.org_at(s, at).await? else {
            return Err(ImportError::NotInTree {
                code: s.clone(),
                period: from.to_string(),
            }
            .into());
        };
        rows.push(r);
    }
    let kind = rows[0].kind.clone();
    if rows.iter().any(|r| r.kind != kind) {
        return Err(ChangeError::refused(
            "只能合并同类单位（基层工会与基层工会，总工会与总工会）",
            "only units of one kind merge (grassroots with grassroots, federations with federations)",
        ));
    }
    let mut edits = Vec::new();
    match ctx.store.org_at(into, at).await? {
        Some(target) if target.kind != kind => {
            return Err(ChangeError::refused(
                format!("{into} 与被合并单位不是同类单位"),
                format!("{into} is not of the merged units' kind"),
            ))
        }
        Some(_) => {}
        None => {
            let Some(name) = name else {
                return Err(ChangeError::refused(
                    format!("{into} 在 {from} 的组织树中不存在：请给出新单位的名称（--name）"),
                    format!(
                        "{into} is not in the tree of {from}: give the new unit's name (--name)"
                    ),
                ));
            };
            edits.push(OrgEdit {
                code: into.to_string(),
                name: Some(name.to_string()),
                parent: Some(rows[0].parent_code.clone()),
                kind: Some(if rows[0].is_grassroots() {
                    OrgKind::Grassroots
                } else {
                    OrgKind::Federation
                }),
                expected_to_report: Some(rows.iter().any(|r| r.expected_to_report)),
                ..OrgEdit::default()
            });
        }
    }
    for r in &rows {
        if !r.is_grassroots() {
            for child in ctx.store.children(&r.code, at).await? {
                edits.push(OrgEdit {
                    code: child.code,
                    parent: Some(Some(into.to_string())),
                    ..OrgEdit::default()
                });
            }
        }
        edits.push(OrgEdit {
            code: r.code.clone(),
            close: true,
            successor: r.is_grassroots().then(|| into.to_string()),
            ..OrgEdit::default()
        });
    }
    let edits = edits.into_iter().map(|e| (Some(from), e)).collect();
    apply(ctx, edits, "org_merge", who).await
}

/// A federation splits: every unit directly under it goes where `units` says
/// (each must be named), new federations in `new` (code → name) are created
/// beside it first, and it closes.
pub async fn split(
    ctx: &AppContext,
    code: &str,
    units: &BTreeMap<String, String>,
    new: &BTreeMap<String, String>,
    from: Period,
    who: &Changer,
) -> Result<(ImportReport, Vec<UnitChange>), ChangeError> {
    let at = TreeAt::Month(from);
    let Some(split) = ctx.store.org_at(code, at).await? else {
        return Err(ImportError::NotInTree {
            code: code.to_string(),
            period: from.to_string(),
        }
        .into());
    };
    if split.is_grassroots() {
        return Err(ChangeError::refused(
            format!("{code} 是基层工会：只有总工会可以拆分（基层工会的数字无法按单位拆开）"),
            format!("{code} is a grassroots union: only federations split (a union's figures cannot be divided by unit)"),
        ));
    }
    let children = ctx.store.children(code, at).await?;
    let unnamed: Vec<&str> = children
        .iter()
        .filter(|c| !units.contains_key(&c.code))
        .map(|c| c.code.as_str())
        .collect();
    if !unnamed.is_empty() {
        return Err(ChangeError::refused(
            format!("拆分须为每个下属单位指明去向，缺少：{}", unnamed.join("、")),
            format!(
                "a split names where every unit under it goes; missing: {}",
                unnamed.join(", ")
            ),
        ));
    }
    if let Some(stray) = units
        .keys()
        .find(|u| !children.iter().any(|c| &c.code == *u))
    {
        return Err(ChangeError::refused(
            format!("{stray} 在 {from} 不在 {code} 之下"),
            format!("{stray} is not under {code} in {from}"),
        ));
    }
    let mut edits: Vec<OrgEdit> = new
        .iter()
        .map(|(c, name)| OrgEdit {
            code: c.clone(),
            name: Some(name.clone()),
            parent: Some(split.parent_code.clone()),
            kind: Some(OrgKind::Federation),
            expected_to_report: Some(split.expected_to_report),
            ..OrgEdit::default()
        })
        .collect();
    for (unit, target) in units {
        if target == code {
            return Err(ChangeError::refused(
                format!("{unit} 不能留在被拆分的 {code} 之下"),
                format!("{unit} cannot stay under {code}, which closes"),
            ));
        }
        edits.push(OrgEdit {
            code: unit.clone(),
            parent: Some(Some(target.clone())),
            ..OrgEdit::default()
        });
    }
    edits.push(OrgEdit {
        code: code.to_string(),
        close: true,
        ..OrgEdit::default()
    });
    let edits = edits.into_iter().map(|e| (Some(from), e)).collect();
    apply(ctx, edits, "org_split", who).await
}
