//! Dual notification rules: which department a licensed item goes to, and
//! what the department's answer means for the enterprise.
use super::{admin_code::AdminCode, scope::ScopeItem};

/// The admin code of the jurisdiction a department of `level` serves for a
/// registration at `authority`: the county itself, its city (`xxxx00`), its
/// province (`xx0000`) or the nation (`000000`).
pub fn jurisdiction(level: &str, authority: &AdminCode) -> String {
    match level {
        "city" => format!("{}00", authority.city_code()),
        "province" => format!("{}0000", authority.province_code()),
        "national" => "000000".into(),
        _ => authority.to_string(),
    }
}

/// The scope items a department must be told of: permits and filings.
pub fn notifiable<'a>(scope: &[&'a ScopeItem]) -> Vec<&'a ScopeItem> {
    scope.iter().copied().filter(|s| s.needs_department()).collect()
}

/// A department kind as people name it.
pub fn kind_label(kind: &str) -> (&'static str, &'static str) {
    match kind {
        "market_regulation" => ("市场监督管理部门", "market regulation"),
        "drug_administration" => ("药品监督管理部门", "drug administration"),
        "telecom_administration" => ("通信管理局", "telecommunications administration"),
        "cyberspace" => ("网信部门", "cyberspace administration"),
        "publishing" => ("出版主管部门", "publishing administration"),
        "culture_tourism" => ("文化和旅游部门", "culture and tourism"),
        "radio_television" => ("广播电视主管部门", "radio and television"),
        "emergency_management" => ("应急管理部门", "emergency management"),
        "transport" => ("交通运输部门", "transport"),
        "human_resources" => ("人力资源社会保障部门", "human resources and social security"),
        "tobacco_monopoly" => ("烟草专卖局", "tobacco monopoly"),
        "agriculture" => ("农业农村部门", "agriculture and rural affairs"),
        _ => ("主管部门", "competent department"),
    }
}

/// Every department kind in the catalogue.
pub fn kinds() -> Vec<&'static str> {
    let mut v: Vec<&'static str> = super::scope::all().iter().filter_map(|s| s.department_kind).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Where a licensed item stands for an enterprise, from its notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermitStatus {
    /// Pushed, not yet answered.
    Pending,
    Granted,
    Refused,
    /// The department found no permit is needed.
    NotRequired,
}

impl PermitStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PermitStatus::Pending => "pending",
            PermitStatus::Granted => "granted",
            PermitStatus::Refused => "refused",
            PermitStatus::NotRequired => "not_required",
        }
    }

    pub fn from_outcome(outcome: Option<&str>) -> Self {
        match outcome {
            Some("licensed") => PermitStatus::Granted,
            Some("refused") => PermitStatus::Refused,
            Some("not_required") => PermitStatus::NotRequired,
            _ => PermitStatus::Pending,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jurisdictions_follow_the_department_level() {
        let c = AdminCode::parse("610727").unwrap();
        assert_eq!(jurisdiction("county", &c), "610727");
        assert_eq!(jurisdiction("city", &c), "610700");
        assert_eq!(jurisdiction("province", &c), "610000");
        assert_eq!(jurisdiction("national", &c), "000000");
    }

    #[test]
    fn permits_and_filings_are_notified_general_items_are_not() {
        let items = super::super::scope::parse_codes(&["G1001".into(), "L1001".into(), "G3001".into(), "L4001".into()])
            .unwrap();
        let codes: Vec<&str> = notifiable(&items).iter().map(|s| s.code).collect();
        assert_eq!(codes, ["L1001", "G3001", "L4001"]);
        assert!(kinds().contains(&"publishing"));
    }
}
