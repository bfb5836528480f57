//! The one registration form (一表式) for establishment, change and
//! deregistration, once parsed: every value in it is valid on its own.
//! Whether the form is *complete* for its entity type is [`Form::completeness`].
//!
//! The form serialises to the same JSON shape the API accepts; that canonical
//! JSON is what is stored and what signatures bind.
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{
    admin_code::{AdminCode, TownshipCode},
    entity_type::EntityType,
    field_error::FieldError,
    money::Money,
    resident_id::ResidentId,
    scope::{self, ScopeItem},
    uscc::Uscc,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Establish,
    Change,
    Deregister,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Establish => "establish",
            Kind::Change => "change",
            Kind::Deregister => "deregister",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    Investor,
    Shareholder,
    LegalRepresentative,
    Director,
    ExecutiveDirector,
    Supervisor,
    Member,
    Chair,
}

impl Role {
    pub fn label_zh(self) -> &'static str {
        match self {
            Role::Operator => "经营者",
            Role::Investor => "投资人",
            Role::Shareholder => "股东",
            Role::LegalRepresentative => "法定代表人",
            Role::Director => "董事",
            Role::ExecutiveDirector => "执行董事",
            Role::Supervisor => "监事",
            Role::Member => "成员",
            Role::Chair => "理事长",
        }
    }
}

/// 个人经营 or 家庭经营: how an individual business is composed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Composition {
    Individual,
    Family,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeregistrationMode {
    Ordinary,
    Simplified,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contribution {
    pub amount: Money,
    /// Date by which the subscribed amount is paid in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub id_number: ResidentId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub roles: Vec<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<Contribution>,
    /// Cooperatives: whether the member is a farmer (at least 80 % must be).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub farmer: Option<bool>,
}

impl Party {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub township_code: TownshipCode,
    pub detail: String,
    /// A place under an address host (e-commerce park, incubator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<Uuid>,
    /// A residence used as domicile, under the address-commitment system.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub residence: bool,
}

impl Address {
    /// "陕西省汉中市略阳县兴州街道东环路12号".
    pub fn full_text(&self) -> String {
        format!("{}{}", self.township_code.full_name(), self.detail)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Premises {
    /// 网络经营场所: a shop on an e-commerce platform.
    Online { platform: String, url: String },
    /// A physical place, possibly a numbered place under an address host, or
    /// a residence declared under the address-commitment system.
    Address {
        address: Address,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host_id: Option<Uuid>,
        #[serde(default)]
        residence: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deregistration {
    pub mode: DeregistrationMode,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Form {
    pub kind: Kind,
    pub entity_type: EntityType,
    pub admin_code: AdminCode,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<Uscc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default)]
    pub parties: Vec<Party>,
    #[serde(default, with = "scope_codes")]
    pub scope: Vec<&'static ScopeItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domicile: Option<Address>,
    #[serde(default)]
    pub premises: Vec<Premises>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<Composition>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistration: Option<Deregistration>,
}

mod scope_codes {
    use serde::{Deserialize, Deserializer, Serializer, ser::SerializeSeq};

    use crate::domain::scope::{self, ScopeItem};

    pub fn serialize<S: Serializer>(items: &[&'static ScopeItem], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(items.len()))?;
        for i in items {
            seq.serialize_element(i.code)?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<&'static ScopeItem>, D::Error> {
        let codes = Vec::<String>::deserialize(d)?;
        scope::parse_codes(&codes).map_err(|_| serde::de::Error::custom("unknown scope item"))
    }
}

impl Form {
    /// The canonical JSON: stored as is, and the input of [`Form::digest`].
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).expect("form serialises")
    }

    /// What a signature binds: this application, this exact content, and
    /// the SHA-256 of every attached material (in the order given).
    pub fn digest(&self, application_id: Uuid, material_hashes: &[&str]) -> String {
        let mut h = Sha256::new();
        h.update(b"greenchannel/form/v1\n");
        h.update(application_id.as_bytes());
        h.update(b"\n");
        h.update(self.canonical_json().as_bytes());
        for m in material_hashes {
            h.update(b"\nmaterial:");
            h.update(m.as_bytes());
        }
        hex::encode(h.finalize())
    }

    pub fn has_licensed_items(&self) -> bool {
        self.scope.iter().any(|i| i.class == scope::Class::Licensed)
    }

    /// Whether the business trades only through online shops.
    pub fn online_only(&self) -> bool {
        !self.premises.is_empty() && self.premises.iter().all(|p| matches!(p, Premises::Online { .. }))
    }

    /// The people who must sign: every natural person the form names.
    pub fn signatories(&self) -> Vec<&Party> {
        self.parties.iter().collect()
    }

    /// The person printed on the licence: operator, investor or legal representative.
    pub fn representative(&self) -> Option<&Party> {
        let role = match self.entity_type {
            EntityType::IndividualBusiness => Role::Operator,
            EntityType::SoleProprietorship => Role::Investor,
            EntityType::LimitedCompany | EntityType::FarmersCooperative => Role::LegalRepresentative,
        };
        self.parties.iter().find(|p| p.has(role))
    }

    /// Everything still missing or inconsistent before the form can be signed
    /// and submitted, by field. Empty means complete.
    pub fn completeness(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        match self.kind {
            Kind::Establish => {}
            Kind::Change | Kind::Deregister => {
                if self.uscc.is_none() {
                    e.push(FieldError::new("uscc", "required"));
                }
            }
        }
        if self.kind == Kind::Deregister {
            if self.deregistration.is_none() {
                e.push(FieldError::new("deregistration", "required"));
            }
            if self.parties.is_empty() {
                e.push(FieldError::new("parties", "required"));
            }
            return e;
        }
        if self.entity_type.name_required() && self.name.is_none() {
            e.push(FieldError::new("name", "required"));
        }
        if self.scope.is_empty() {
            e.push(FieldError::new("scope", "required"));
        }
        let roles_allowed: &[Role] = match self.entity_type {
            EntityType::IndividualBusiness => &[Role::Operator, Role::Member],
            EntityType::SoleProprietorship => &[Role::Investor],
            EntityType::LimitedCompany => &[
                Role::Shareholder,
                Role::LegalRepresentative,
                Role::Director,
                Role::ExecutiveDirector,
                Role::Supervisor,
            ],
            EntityType::FarmersCooperative => {
                &[Role::Member, Role::Chair, Role::LegalRepresentative, Role::Supervisor, Role::Director]
            }
        };
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.parties.iter().enumerate() {
            if !seen.insert(p.id_number.as_str()) {
                e.push(FieldError::new(format!("parties[{i}].id_number"), "duplicate"));
            }
            if p.roles.is_empty() {
                e.push(FieldError::new(format!("parties[{i}].roles"), "required"));
            }
            for (j, r) in p.roles.iter().enumerate() {
                if !roles_allowed.contains(r) {
                    e.push(
                        FieldError::new(format!("parties[{i}].roles[{j}]"), "role_not_allowed")
                            .with("entity_type", self.entity_type.as_str()),
                    );
                }
            }
        }
        e.extend(self.residence_problems());
        let count = |r: Role| self.parties.iter().filter(|p| p.has(r)).count();
        let exactly_one = |e: &mut Vec<FieldError>, r: Role| {
            let n = count(r);
            if n != 1 {
                e.push(
                    FieldError::new("parties", "role_count")
                        .with("role", format!("{r:?}"))
                        .with("expected", "1")
                        .with("found", n.to_string()),
                );
            }
        };
        match self.entity_type {
            EntityType::IndividualBusiness => {
                exactly_one(&mut e, Role::Operator);
                if self.premises.is_empty() {
                    e.push(FieldError::new("premises", "required"));
                }
                if self.composition == Some(Composition::Family) && count(Role::Member) == 0 {
                    e.push(FieldError::new("parties", "family_members_required"));
                }
            }
            EntityType::SoleProprietorship => {
                exactly_one(&mut e, Role::Investor);
                if self.parties.len() != 1 {
                    e.push(FieldError::new("parties", "single_investor_only"));
                }
                if self.domicile.is_none() {
                    e.push(FieldError::new("domicile", "required"));
                }
                if self.capital.is_none() {
                    e.push(FieldError::new("capital", "required"));
                }
            }
            EntityType::LimitedCompany => self.company_rules(&mut e),
            EntityType::FarmersCooperative => self.cooperative_rules(&mut e),
        }
        e
    }

    /// Places declared as residences, each checked against the activities
    /// that may never be carried on in a home (fumes, entertainment, internet
    /// cafés, hazardous goods, workshops…), naming the item and its basis.
    pub fn residence_problems(&self) -> Vec<FieldError> {
        let mut places: Vec<String> = Vec::new();
        if self.domicile.as_ref().is_some_and(|d| d.residence) {
            places.push("domicile.residence".into());
        }
        for (i, p) in self.premises.iter().enumerate() {
            if matches!(p, Premises::Address { residence: true, .. }) {
                places.push(format!("premises[{i}].residence"));
            }
        }
        let excluded: Vec<&ScopeItem> = self.scope.iter().copied().filter(|s| !s.residence_allowed).collect();
        places
            .iter()
            .flat_map(|field| {
                excluded.iter().map(move |s| {
                    FieldError::new(field.clone(), "residence_excluded")
                        .with("scope", s.code)
                        .with("item", s.name)
                        .with("basis", s.basis.unwrap_or("地方住所负面清单"))
                })
            })
            .collect()
    }

    fn company_rules(&self, e: &mut Vec<FieldError>) {
        let shareholders: Vec<(usize, &Party)> =
            self.parties.iter().enumerate().filter(|(_, p)| p.has(Role::Shareholder)).collect();
        if shareholders.is_empty() || shareholders.len() > 50 {
            e.push(
                FieldError::new("parties", "shareholder_count")
                    .with("expected", "1-50")
                    .with("found", shareholders.len().to_string()),
            );
        }
        let mut total = Money::default();
        for (i, p) in &shareholders {
            match &p.contribution {
                None => e.push(FieldError::new(format!("parties[{i}].contribution"), "required")),
                Some(c) => {
                    if c.amount.is_zero() {
                        e.push(FieldError::new(format!("parties[{i}].contribution.amount"), "must_be_positive"));
                    }
                    if c.due_date.is_none() {
                        e.push(FieldError::new(format!("parties[{i}].contribution.due_date"), "required"));
                    }
                    total = total + c.amount;
                }
            }
        }
        match self.capital {
            None => e.push(FieldError::new("capital", "required")),
            Some(c) if !shareholders.is_empty() && c != total => {
                e.push(FieldError::new("capital", "capital_mismatch").with("sum", total.to_decimal()))
            }
            _ => {}
        }
        if self.domicile.is_none() {
            e.push(FieldError::new("domicile", "required"));
        }
        let n_exec = self.parties.iter().filter(|p| p.has(Role::ExecutiveDirector)).count();
        let n_dir = self.parties.iter().filter(|p| p.has(Role::Director)).count();
        // Company Law (2023) arts. 68, 75: a board of at least three, or one director.
        match (n_exec, n_dir) {
            (1, 0) => {}
            (0, d) if d >= 3 => {}
            _ => e.push(
                FieldError::new("parties", "board_composition")
                    .with("expected", "one executive_director, or at least three directors"),
            ),
        }
        let reps: Vec<&Party> = self.parties.iter().filter(|p| p.has(Role::LegalRepresentative)).collect();
        if reps.len() != 1 {
            e.push(
                FieldError::new("parties", "role_count")
                    .with("role", "LegalRepresentative")
                    .with("expected", "1")
                    .with("found", reps.len().to_string()),
            );
        } else if !(reps[0].has(Role::Director) || reps[0].has(Role::ExecutiveDirector)) {
            // Art. 10: the legal representative is a director (or manager) who acts for the company.
            e.push(FieldError::new("parties", "legal_representative_not_director"));
        }
        for (i, p) in self.parties.iter().enumerate() {
            if p.has(Role::Supervisor) && (p.has(Role::Director) || p.has(Role::ExecutiveDirector)) {
                e.push(FieldError::new(format!("parties[{i}].roles"), "supervisor_is_director"));
            }
        }
    }

    fn cooperative_rules(&self, e: &mut Vec<FieldError>) {
        let members: Vec<&Party> = self.parties.iter().filter(|p| p.has(Role::Member)).collect();
        if members.len() < 5 {
            e.push(
                FieldError::new("parties", "member_count")
                    .with("expected", "5")
                    .with("found", members.len().to_string()),
            );
        }
        let farmers = members.iter().filter(|p| p.farmer == Some(true)).count();
        if !members.is_empty() && farmers * 5 < members.len() * 4 {
            e.push(
                FieldError::new("parties", "farmer_share")
                    .with("expected", "80%")
                    .with("found", format!("{farmers}/{}", members.len())),
            );
        }
        let chairs: Vec<&Party> = self.parties.iter().filter(|p| p.has(Role::Chair)).collect();
        if chairs.len() != 1 {
            e.push(
                FieldError::new("parties", "role_count")
                    .with("role", "Chair")
                    .with("expected", "1")
                    .with("found", chairs.len().to_string()),
            );
        } else if !chairs[0].has(Role::LegalRepresentative)
            || self.parties.iter().filter(|p| p.has(Role::LegalRepresentative)).count() != 1
        {
            // Farmers' Cooperatives Law art. 33: the chair is the legal representative.
            e.push(FieldError::new("parties", "chair_must_be_legal_representative"));
        }
        for (i, p) in self.parties.iter().enumerate() {
            if p.has(Role::Member) && p.contribution.is_none() {
                e.push(FieldError::new(format!("parties[{i}].contribution"), "required"));
            }
        }
        let total: Money = members.iter().filter_map(|p| p.contribution.as_ref().map(|c| c.amount)).sum();
        match self.capital {
            None => e.push(FieldError::new("capital", "required")),
            Some(c) if c != total => {
                e.push(FieldError::new("capital", "capital_mismatch").with("sum", total.to_decimal()))
            }
            _ => {}
        }
        if self.domicile.is_none() {
            e.push(FieldError::new("domicile", "required"));
        }
    }
}
