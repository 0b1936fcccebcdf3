//! Indicators answers as JSON, kept for repeated requests (see
//! [`crate::answer_cache`] for what makes a kept answer safe).

use bytes::Bytes;

use crate::answer_cache::State;
use crate::context::AppContext;
use crate::flows::views::{indicators_view, Children};
use crate::store::orgs::{OrgRow, TreeView};
use unionstat_core::period::ReportPeriod;

/// A node's indicators answer as JSON (see [`indicators_view`]), the same for
/// every caller who may see the node and all its children: from the cache
/// when the warehouse has not changed since it was made.
pub async fn indicators_json(
    ctx: &AppContext,
    org: &OrgRow,
    period: ReportPeriod,
    children: Children,
    tree: TreeView,
) -> anyhow::Result<Bytes> {
    let make = async || -> anyhow::Result<Bytes> {
        let view = indicators_view(ctx, org, period, children, tree).await?;
        Ok(Bytes::from(serde_json::to_vec(&view)?))
    };
    if !ctx.answers.enabled() {
        ctx.metrics.answer_cache("bypass");
        return make().await;
    }
    // Read before the answer is made: the answer reflects at least this state.
    let state = State {
        generation: ctx.store.answer_generation().await?,
        day: ctx.settings.reporting.today(chrono::Utc::now()),
    };
    let key = format!("{}|{period}|{children:?}|{tree:?}", org.code);
    if let Some(answer) = ctx.answers.get(state, &key) {
        ctx.metrics.answer_cache("hit");
        return Ok(answer);
    }
    let answer = make().await?;
    ctx.answers.put(state, key, answer.clone());
    ctx.metrics.answer_cache("miss");
    Ok(answer)
}
