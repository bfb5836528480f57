//! Automatic approval (秒批): plain cases are approved at submission by
//! rule; anything else goes to a reviewer with the reasons. Every rule is
//! evaluated and recorded, passed or not, so the decision explains itself.
use serde::Serialize;

use super::{
    entity_type::EntityType,
    form::{Form, Kind, Premises},
    scope::Class,
};

/// Which cases the bureau lets through (configuration).
#[derive(Debug, Clone)]
pub struct Policy {
    pub enabled: bool,
    pub entity_types: Vec<EntityType>,
}

/// Facts about one submission that need the database to establish.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The name check found nothing, not even a similar name (or no name).
    pub name_clean: bool,
    /// Parties on a credit-restriction list.
    pub restricted_parties: usize,
    /// Registered enterprises already at a non-hosted address above the threshold.
    pub address_concentration: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleResult {
    pub rule: &'static str,
    pub passed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub approved: bool,
    pub rules: Vec<RuleResult>,
}

impl Outcome {
    pub fn failed(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.rules.iter().filter(|r| !r.passed).map(|r| r.rule)
    }
}

pub fn evaluate(policy: &Policy, form: &Form, facts: &Facts) -> Outcome {
    let standard_premises = {
        let places_ok = form.premises.iter().all(|p| match p {
            Premises::Online { .. } => true,
            Premises::Address { host_id, .. } => host_id.is_some(),
        });
        let domicile_ok = form.domicile.as_ref().is_none_or(|d| d.host_id.is_some());
        places_ok && domicile_ok
    };
    let r = |rule, passed| RuleResult { rule, passed };
    let rules = vec![
        r("auto_approval_enabled", policy.enabled),
        r("establishment", form.kind == Kind::Establish),
        r("entity_type_eligible", policy.entity_types.contains(&form.entity_type)),
        r("general_scope_only", form.scope.iter().all(|s| s.class == Class::General && s.permit.is_none())),
        r("clean_name", facts.name_clean),
        r("standard_or_online_premises", standard_premises),
        r("no_restricted_party", facts.restricted_parties == 0),
        r("no_address_concentration", !facts.address_concentration),
    ];
    Outcome { approved: rules.iter().all(|x| x.passed), rules }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{
        admin_code::AdminCode,
        form::{Address, Party, Role},
        resident_id::ResidentId,
        scope,
    };

    fn plain_online_shop() -> Form {
        Form {
            kind: Kind::Establish,
            entity_type: EntityType::IndividualBusiness,
            admin_code: AdminCode::parse("610727").unwrap(),
            uscc: None,
            name: Some("略阳县青禾电子商务店".into()),
            parties: vec![Party {
                name: "张三".into(),
                id_number: ResidentId::parse("11010519491231002X").unwrap(),
                phone: None,
                roles: vec![Role::Operator],
                contribution: None,
                farmer: None,
            }],
            scope: scope::parse_codes(&["G1001".into()]).unwrap(),
            domicile: None,
            premises: vec![Premises::Online {
                platform: "某电商平台".into(),
                url: "https://shop.example.com/1".into(),
            }],
            capital: None,
            composition: None,
            deregistration: None,
        }
    }

    fn policy() -> Policy {
        Policy { enabled: true, entity_types: vec![EntityType::IndividualBusiness, EntityType::SoleProprietorship] }
    }

    fn clean() -> Facts {
        Facts { name_clean: true, ..Default::default() }
    }

    fn failed(form: &Form, facts: &Facts, policy: &Policy) -> Vec<&'static str> {
        evaluate(policy, form, facts).failed().collect()
    }

    #[test]
    fn a_plain_online_shop_is_approved() {
        assert!(evaluate(&policy(), &plain_online_shop(), &clean()).approved);
    }

    #[test]
    fn each_rule_alone_sends_the_case_to_a_reviewer() {
        let f = plain_online_shop();
        assert_eq!(failed(&f, &clean(), &Policy { enabled: false, ..policy() }), ["auto_approval_enabled"]);
        assert_eq!(failed(&Form { kind: Kind::Change, ..f.clone() }, &clean(), &policy()), ["establishment"]);
        assert_eq!(
            failed(&Form { entity_type: EntityType::LimitedCompany, ..f.clone() }, &clean(), &policy()),
            ["entity_type_eligible"]
        );
        assert_eq!(
            failed(&Form { scope: scope::parse_codes(&["L1001".into()]).unwrap(), ..f.clone() }, &clean(), &policy()),
            ["general_scope_only"]
        );
        // A filing item (pre-packaged food) still tells a department: not plain.
        assert_eq!(
            failed(&Form { scope: scope::parse_codes(&["G3001".into()]).unwrap(), ..f.clone() }, &clean(), &policy()),
            ["general_scope_only"]
        );
        assert_eq!(failed(&f, &Facts::default(), &policy()), ["clean_name"]);
        let home = Premises::Address {
            address: Address {
                township_code: crate::domain::admin_code::TownshipCode::parse("610727001").unwrap(),
                detail: "东环路1号".into(),
                host_id: None,
                residence: false,
            },
            host_id: None,
            residence: true,
        };
        assert_eq!(
            failed(&Form { premises: vec![home], ..f.clone() }, &clean(), &policy()),
            ["standard_or_online_premises"]
        );
        assert_eq!(failed(&f, &Facts { restricted_parties: 1, ..clean() }, &policy()), ["no_restricted_party"]);
        assert_eq!(
            failed(&f, &Facts { address_concentration: true, ..clean() }, &policy()),
            ["no_address_concentration"]
        );
    }
}
