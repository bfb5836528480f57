//! Public disclosure of registered facts (企业信息公示): what anyone may
//! know about an enterprise. Never resident ID numbers or phones.
use crate::{
    domain::{form::Form, licence, text, uscc::Uscc},
    error::Result,
    state::AppState,
    store,
};

pub struct PublicFacts {
    pub row: store::enterprises::Row,
    pub profile: Form,
}

impl PublicFacts {
    /// The domicile, or the main business premises.
    pub fn address(&self) -> Option<String> {
        self.profile
            .domicile
            .as_ref()
            .map(|d| d.full_text())
            .or_else(|| self.profile.premises.first().map(licence::premises_text))
    }
}

pub async fn search(state: &AppState, q: &str, authority: Option<&str>, limit: u64) -> Result<Vec<PublicFacts>> {
    let q = text::to_half_width(q.trim());
    let key = match Uscc::parse(&q) {
        Ok(code) => code.to_string(),
        Err(_) => crate::domain::name::normalize(&q),
    };
    let rows = store::enterprises::search(state.db.conn(), &key, authority, limit).await?;
    rows.into_iter()
        .map(|row| {
            let profile: Form =
                serde_json::from_str(&row.profile).map_err(|e| crate::error::Error::internal(anyhow::anyhow!(e)))?;
            Ok(PublicFacts { row, profile })
        })
        .collect()
}
