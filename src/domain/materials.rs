//! Materials (申请材料): which documents each entity type and kind of
//! application needs, defined here and nowhere else, and what an upload is
//! (sniffed from its bytes, never from the client's word).
//!
//! Data the government already holds (identity documents verified by the
//! mobile channel, registered facts) is not asked for again.
use super::{
    entity_type::EntityType,
    form::{DeregistrationMode, Form, Kind, Premises},
};

pub const MAX_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MaterialKind {
    /// 公司章程 / 合作社章程.
    ArticlesOfAssociation,
    /// 住所（经营场所）使用证明: lease, title deed, host's confirmation.
    PremisesProof,
    /// 住所（经营场所）申报承诺书: replaces the proof where allowed.
    AddressCommitment,
    /// 股东会决议 for a company's change or deregistration.
    ShareholderResolution,
    /// 成员名册 and proof of farmer status.
    MemberRoster,
    /// 设立大会纪要.
    FoundingMinutes,
    /// 清算报告 for ordinary deregistration of a company or cooperative.
    LiquidationReport,
    Other,
}

impl MaterialKind {
    pub const ALL: [MaterialKind; 8] = [
        MaterialKind::ArticlesOfAssociation,
        MaterialKind::PremisesProof,
        MaterialKind::AddressCommitment,
        MaterialKind::ShareholderResolution,
        MaterialKind::MemberRoster,
        MaterialKind::FoundingMinutes,
        MaterialKind::LiquidationReport,
        MaterialKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialKind::ArticlesOfAssociation => "articles_of_association",
            MaterialKind::PremisesProof => "premises_proof",
            MaterialKind::AddressCommitment => "address_commitment",
            MaterialKind::ShareholderResolution => "shareholder_resolution",
            MaterialKind::MemberRoster => "member_roster",
            MaterialKind::FoundingMinutes => "founding_minutes",
            MaterialKind::LiquidationReport => "liquidation_report",
            MaterialKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            MaterialKind::ArticlesOfAssociation => "章程",
            MaterialKind::PremisesProof => "住所（经营场所）使用证明",
            MaterialKind::AddressCommitment => "住所（经营场所）申报承诺书",
            MaterialKind::ShareholderResolution => "股东会决议",
            MaterialKind::MemberRoster => "成员名册",
            MaterialKind::FoundingMinutes => "设立大会纪要",
            MaterialKind::LiquidationReport => "清算报告",
            MaterialKind::Other => "其他材料",
        }
    }
}

/// One requirement: any one of these kinds satisfies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    pub any_of: Vec<MaterialKind>,
}

impl Requirement {
    fn one(k: MaterialKind) -> Self {
        Requirement { any_of: vec![k] }
    }

    /// The key submission errors name: `materials.<first kind>`.
    pub fn key(&self) -> &'static str {
        self.any_of[0].as_str()
    }
}

/// Whether the form needs a physical place proven: any address premises or
/// a domicile. Online-shop premises are proven by the platform's record.
fn needs_place(form: &Form) -> bool {
    form.domicile.is_some() || form.premises.iter().any(|p| matches!(p, Premises::Address { .. }))
}

/// The materials `form` needs before it can be submitted.
pub fn required(form: &Form) -> Vec<Requirement> {
    use MaterialKind as M;
    let mut out = Vec::new();
    let place = || Requirement {
        // The address-commitment system (住所申报承诺制) lets a signed
        // commitment replace the proof; hosted places are confirmed by the host.
        any_of: vec![M::PremisesProof, M::AddressCommitment],
    };
    let hosted_only = form.domicile.as_ref().is_none_or(|d| d.host_id.is_some())
        && form.premises.iter().all(|p| match p {
            Premises::Online { .. } => true,
            Premises::Address { host_id, .. } => host_id.is_some(),
        });
    match form.kind {
        Kind::Establish => {
            if needs_place(form) && !hosted_only {
                out.push(place());
            }
            match form.entity_type {
                EntityType::LimitedCompany => out.push(Requirement::one(M::ArticlesOfAssociation)),
                EntityType::FarmersCooperative => {
                    out.push(Requirement::one(M::ArticlesOfAssociation));
                    out.push(Requirement::one(M::MemberRoster));
                    out.push(Requirement::one(M::FoundingMinutes));
                }
                EntityType::IndividualBusiness | EntityType::SoleProprietorship => {}
            }
        }
        Kind::Change => {
            if form.entity_type == EntityType::LimitedCompany {
                out.push(Requirement::one(M::ShareholderResolution));
            }
        }
        Kind::Deregister => {
            let simplified = form.deregistration.as_ref().is_some_and(|d| d.mode == DeregistrationMode::Simplified);
            if !simplified && matches!(form.entity_type, EntityType::LimitedCompany | EntityType::FarmersCooperative) {
                out.push(Requirement::one(M::LiquidationReport));
            }
            if form.entity_type == EntityType::LimitedCompany {
                out.push(Requirement::one(M::ShareholderResolution));
            }
        }
    }
    out
}

/// A change application must also prove a new place when it moves.
pub fn required_for_change(old: &Form, new: &Form) -> Vec<Requirement> {
    let mut out = required(new);
    let moved = old.domicile != new.domicile
        || new
            .premises
            .iter()
            .any(|p| matches!(p, Premises::Address { host_id: None, .. }) && !old.premises.contains(p));
    if moved && needs_place(new) {
        out.push(Requirement { any_of: vec![MaterialKind::PremisesProof, MaterialKind::AddressCommitment] });
    }
    out
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Pdf,
    Jpeg,
    Png,
}

impl MediaType {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaType::Pdf => "application/pdf",
            MediaType::Jpeg => "image/jpeg",
            MediaType::Png => "image/png",
        }
    }
}

/// Identifies PDF, JPEG and PNG by their signatures; anything else is `None`.
pub fn sniff(bytes: &[u8]) -> Option<MediaType> {
    if bytes.starts_with(b"%PDF-") {
        Some(MediaType::Pdf)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(MediaType::Jpeg)
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        Some(MediaType::Png)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_sniffed_from_content() {
        assert_eq!(sniff(b"%PDF-1.7\n..."), Some(MediaType::Pdf));
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some(MediaType::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some(MediaType::Png));
        assert_eq!(sniff(b"GIF89a"), None);
        assert_eq!(sniff(b"<html>%PDF-"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn kinds_round_trip() {
        for k in MaterialKind::ALL {
            assert_eq!(MaterialKind::parse(k.as_str()), Some(k));
        }
    }
}
