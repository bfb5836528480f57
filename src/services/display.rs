//! Storefront display (亮照): the owner declares the shop URLs where the
//! licence is shown; a badge verified anywhere else is not valid there.
//! Online shops registered as premises count as declared.
use serde_json::json;

use super::{
    audit::{self, Subject},
    events, premises,
};
use crate::{
    domain::{FieldError, principal::Principal, shop_url, uscc::Uscc},
    error::{Error, Result},
    state::AppState,
    store,
};

pub const MAX_URLS: usize = 50;
pub const DISPLAY_CHANGED: &str = "display.changed";

/// Every URL where the licence may be shown: (declared, registered shops).
pub async fn urls(state: &AppState, p: &Principal, uscc: &Uscc) -> Result<(Vec<String>, Vec<String>)> {
    let rec = super::enterprises::get(state, p, uscc).await?;
    let declared = store::display_urls::declared(state.db.conn(), rec.row.id).await?;
    let all = store::display_urls::all_valid(state.db.conn(), rec.row.id).await?;
    let shops = all.into_iter().filter(|u| !declared.contains(u)).collect();
    Ok((declared, shops))
}

/// Replaces the declared URLs (owner only, active enterprises).
pub async fn declare(state: &AppState, p: &Principal, uscc: &Uscc, raw: &[String]) -> Result<()> {
    if raw.len() > MAX_URLS {
        return Err(Error::validation(vec![FieldError::new("urls", "too_many").with("max", MAX_URLS.to_string())]));
    }
    let mut errors = Vec::new();
    let mut urls = Vec::new();
    for (i, u) in raw.iter().enumerate() {
        match shop_url::normalize(u) {
            Ok(n) => urls.push(n),
            Err(e) => errors.push(e.under(&format!("urls[{i}]"))),
        }
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors));
    }
    urls.sort();
    urls.dedup();
    let now = state.now();
    let tx = state.db.write().await?;
    let (ent, _) = premises::own_active(&tx, p, uscc).await?;
    let before = store::display_urls::declared(&tx, ent.id).await?;
    if before == urls {
        return Ok(());
    }
    store::display_urls::replace(&tx, ent.id, &urls, now).await?;
    let actor = p.actor();
    audit::record(
        &tx,
        now,
        &actor,
        "licence.display_declared",
        Subject { kind: "enterprise", id: &ent.uscc },
        None,
        None,
        json!({ "before": before, "after": urls }),
    )
    .await?;
    events::record(&tx, &ent.uscc, DISPLAY_CHANGED, json!({ "urls": urls }), now).await?;
    tx.commit().await?;
    Ok(())
}
