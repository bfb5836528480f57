//! The registration form on the wire, and its parsing into
//! [`domain::form::Form`]: every value checked, every error with its path.
use chrono::NaiveDate;
use poem_openapi::{Enum, Object};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    FieldError,
    admin_code::{AdminCode, TownshipCode},
    entity_type::EntityType,
    field_error::Errors,
    form::{Address, Composition, Contribution, Deregistration, DeregistrationMode, Form, Kind, Party, Premises, Role},
    money::Money,
    name,
    resident_id::{self, ResidentId},
    scope, text,
    uscc::Uscc,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    Establish,
    Change,
    Deregister,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum EntityTypeWire {
    IndividualBusiness,
    LimitedCompany,
    SoleProprietorship,
    FarmersCooperative,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum RoleWire {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum PremisesKind {
    Online,
    Address,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum CompositionWire {
    /// 个人经营
    Individual,
    /// 家庭经营
    Family,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum DeregistrationModeWire {
    Ordinary,
    /// 简易注销: public notice, then deregistration unless someone objects.
    Simplified,
}

/// A structured address: a township from the national division table and
/// the detailed part.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct AddressInput {
    /// 9-digit township (街道/镇/乡) code.
    pub township_code: String,
    /// Road, number, building, room.
    pub detail: String,
    /// An address host (e-commerce park, incubator) to take a numbered place under.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<Uuid>,
    /// Domicile in a residence (address commitment); refused for activities
    /// that may not be carried on in a home.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<bool>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct ContributionInput {
    /// Subscribed amount, decimal yuan.
    pub amount: String,
    /// Date by which it is paid in.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_date: Option<NaiveDate>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PartyInput {
    pub name: String,
    /// 18-character resident ID (GB 11643). Masked in views for others.
    pub id_number: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    pub roles: Vec<RoleWire>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contribution: Option<ContributionInput>,
    /// Cooperatives: whether this member is a farmer.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub farmer: Option<bool>,
}

/// `online`: `platform` and `url`. `address`: `address`, optionally
/// `host_id` and `residence`.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct PremisesInput {
    pub kind: PremisesKind,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<AddressInput>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_id: Option<Uuid>,
    /// A residence used as premises (address commitment).
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub residence: Option<bool>,
}

#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct DeregistrationInput {
    pub mode: DeregistrationModeWire,
    pub reason: String,
}

/// The one form for establishment, change and deregistration.
#[derive(Debug, Clone, Object, Serialize, Deserialize)]
pub struct FormInput {
    pub kind: ApplicationKind,
    pub entity_type: EntityTypeWire,
    /// County-level code of the registration authority.
    pub admin_code: String,
    /// Change and deregistration: the enterprise concerned.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[oai(default)]
    #[serde(default)]
    pub parties: Vec<PartyInput>,
    /// Business-scope catalogue codes.
    #[oai(default)]
    #[serde(default)]
    pub scope: Vec<String>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domicile: Option<AddressInput>,
    #[oai(default)]
    #[serde(default)]
    pub premises: Vec<PremisesInput>,
    /// Registered capital / contribution total, decimal yuan.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital: Option<String>,
    /// Individual businesses: individual or family operation.
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<CompositionWire>,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deregistration: Option<DeregistrationInput>,
}

fn at<T>(r: Result<T, FieldError>, path: &str) -> Result<T, FieldError> {
    r.map_err(|e| e.under(path))
}

/// Free text: trimmed, not empty, at most `max` characters, no control characters.
pub fn text_field(v: &str, path: &str, max: usize) -> Result<String, FieldError> {
    let t = text::to_half_width(v.trim()).trim().to_string();
    if t.is_empty() {
        return Err(FieldError::new(path, "empty"));
    }
    if t.chars().count() > max {
        return Err(FieldError::new(path, "too_long").with("max", max.to_string()));
    }
    if t.chars().any(|c| c.is_control() || text::is_invisible_format(c)) {
        return Err(FieldError::new(path, "invalid_character"));
    }
    Ok(t)
}

/// Mainland mobile numbers: 11 digits starting 13–19.
pub fn phone(v: &str, path: &str) -> Result<String, FieldError> {
    let t = text::to_half_width(v.trim()).replace([' ', '-'], "");
    let t = t.strip_prefix("+86").unwrap_or(&t).to_string();
    let ok = t.len() == 11
        && t.bytes().all(|b| b.is_ascii_digit())
        && t.starts_with('1')
        && (b'3'..=b'9').contains(&t.as_bytes()[1]);
    if ok { Ok(t) } else { Err(FieldError::new(path, "invalid_phone")) }
}

/// Shop URLs, in the normalised form one shop has however it is written.
pub fn shop_url(v: &str, path: &str) -> Result<String, FieldError> {
    crate::domain::shop_url::normalize(v).map_err(|e| e.under(path))
}

fn address(a: &AddressInput, path: &str) -> Result<Address, Vec<FieldError>> {
    let mut e = Errors::default();
    let township = e.take(at(TownshipCode::parse(&a.township_code), &format!("{path}.township_code")));
    let detail = e.take(text_field(&a.detail, &format!("{path}.detail"), 120));
    e.into_result(|| Address {
        township_code: township.expect("ok"),
        detail: detail.expect("ok"),
        host_id: a.host_id,
        residence: a.residence.unwrap_or(false),
    })
}

impl FormInput {
    /// Parses every field; reports all problems at once.
    pub fn parse(&self) -> Result<Form, Vec<FieldError>> {
        let mut e = Errors::default();
        let admin_code = e.take(at(AdminCode::parse(&self.admin_code), "admin_code"));
        let uscc = self.uscc.as_deref().and_then(|u| e.take(at(Uscc::parse(u), "uscc")));
        let name = self
            .name
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .and_then(|n| e.take(text_field(n, "name", 60)).map(|n| name::normalize(&n)));
        let mut parties = Vec::new();
        for (i, p) in self.parties.iter().enumerate() {
            let path = format!("parties[{i}]");
            let pname = e.take(text_field(&p.name, &format!("{path}.name"), 50));
            let id = e.take(at(ResidentId::parse(&p.id_number), &format!("{path}.id_number")));
            let ph = p
                .phone
                .as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| e.take(phone(s, &format!("{path}.phone"))));
            let contribution = p.contribution.as_ref().and_then(|c| {
                let amount = e.take(at(Money::parse(&c.amount), &format!("{path}.contribution.amount")))?;
                Some(Contribution { amount, due_date: c.due_date })
            });
            let mut roles: Vec<Role> = p.roles.iter().map(|r| role(*r)).collect();
            roles.sort();
            roles.dedup();
            if let (Some(name), Some(id_number)) = (pname, id) {
                parties.push(Party { name, id_number, phone: ph, roles, contribution, farmer: p.farmer });
            }
        }
        let scope = match scope::parse_codes(&self.scope) {
            Ok(s) => s,
            Err(errs) => {
                for x in errs {
                    e.push(x.under("scope"));
                }
                vec![]
            }
        };
        let domicile = self.domicile.as_ref().and_then(|d| match address(d, "domicile") {
            Ok(a) => Some(a),
            Err(errs) => {
                errs.into_iter().for_each(|x| e.push(x));
                None
            }
        });
        let mut premises = Vec::new();
        for (i, p) in self.premises.iter().enumerate() {
            let path = format!("premises[{i}]");
            match p.kind {
                PremisesKind::Online => {
                    let platform = match &p.platform {
                        Some(x) => e.take(text_field(x, &format!("{path}.platform"), 60)),
                        None => {
                            e.push(FieldError::new(format!("{path}.platform"), "required"));
                            None
                        }
                    };
                    let url = match &p.url {
                        Some(x) => e.take(shop_url(x, &format!("{path}.url"))),
                        None => {
                            e.push(FieldError::new(format!("{path}.url"), "required"));
                            None
                        }
                    };
                    if let (Some(platform), Some(url)) = (platform, url) {
                        premises.push(Premises::Online { platform, url });
                    }
                }
                PremisesKind::Address => match &p.address {
                    None => e.push(FieldError::new(format!("{path}.address"), "required")),
                    Some(a) => match address(a, &format!("{path}.address")) {
                        Ok(addr) => premises.push(Premises::Address {
                            address: addr,
                            host_id: p.host_id,
                            residence: p.residence.unwrap_or(false),
                        }),
                        Err(errs) => errs.into_iter().for_each(|x| e.push(x)),
                    },
                },
            }
        }
        let capital = self.capital.as_deref().and_then(|c| e.take(at(Money::parse(c), "capital")));
        let deregistration = self.deregistration.as_ref().and_then(|d| {
            let reason = e.take(text_field(&d.reason, "deregistration.reason", 500))?;
            Some(Deregistration {
                mode: match d.mode {
                    DeregistrationModeWire::Ordinary => DeregistrationMode::Ordinary,
                    DeregistrationModeWire::Simplified => DeregistrationMode::Simplified,
                },
                reason,
            })
        });
        e.into_result(|| Form {
            kind: match self.kind {
                ApplicationKind::Establish => Kind::Establish,
                ApplicationKind::Change => Kind::Change,
                ApplicationKind::Deregister => Kind::Deregister,
            },
            entity_type: entity_type(self.entity_type),
            admin_code: admin_code.expect("ok"),
            uscc,
            name,
            parties,
            scope,
            domicile,
            premises,
            capital,
            composition: self.composition.map(|c| match c {
                CompositionWire::Individual => Composition::Individual,
                CompositionWire::Family => Composition::Family,
            }),
            deregistration,
        })
    }

    /// The wire shape of a stored form. ID numbers of people other than
    /// `viewer` are masked unless `full` (the creator and staff see all).
    pub fn from_form(f: &Form, viewer: Option<&ResidentId>, full: bool) -> Self {
        let addr = |a: &Address| AddressInput {
            township_code: a.township_code.as_str().into(),
            detail: a.detail.clone(),
            host_id: a.host_id,
            residence: a.residence.then_some(true),
        };
        FormInput {
            kind: match f.kind {
                Kind::Establish => ApplicationKind::Establish,
                Kind::Change => ApplicationKind::Change,
                Kind::Deregister => ApplicationKind::Deregister,
            },
            entity_type: entity_type_wire(f.entity_type),
            admin_code: f.admin_code.to_string(),
            uscc: f.uscc.as_ref().map(|u| u.to_string()),
            name: f.name.clone(),
            parties: f
                .parties
                .iter()
                .map(|p| PartyInput {
                    name: p.name.clone(),
                    id_number: if full || viewer == Some(&p.id_number) {
                        p.id_number.to_string()
                    } else {
                        resident_id::mask(p.id_number.as_str())
                    },
                    phone: if full || viewer == Some(&p.id_number) { p.phone.clone() } else { None },
                    roles: p.roles.iter().map(|r| role_wire(*r)).collect(),
                    contribution: p
                        .contribution
                        .as_ref()
                        .map(|c| ContributionInput { amount: c.amount.to_decimal(), due_date: c.due_date }),
                    farmer: p.farmer,
                })
                .collect(),
            scope: f.scope.iter().map(|s| s.code.to_string()).collect(),
            domicile: f.domicile.as_ref().map(addr),
            premises: f
                .premises
                .iter()
                .map(|p| match p {
                    Premises::Online { platform, url } => PremisesInput {
                        kind: PremisesKind::Online,
                        platform: Some(platform.clone()),
                        url: Some(url.clone()),
                        address: None,
                        host_id: None,
                        residence: None,
                    },
                    Premises::Address { address, host_id, residence } => PremisesInput {
                        kind: PremisesKind::Address,
                        platform: None,
                        url: None,
                        address: Some(addr(address)),
                        host_id: *host_id,
                        residence: Some(*residence),
                    },
                })
                .collect(),
            capital: f.capital.map(|c| c.to_decimal()),
            composition: f.composition.map(|c| match c {
                Composition::Individual => CompositionWire::Individual,
                Composition::Family => CompositionWire::Family,
            }),
            deregistration: f.deregistration.as_ref().map(|d| DeregistrationInput {
                mode: match d.mode {
                    DeregistrationMode::Ordinary => DeregistrationModeWire::Ordinary,
                    DeregistrationMode::Simplified => DeregistrationModeWire::Simplified,
                },
                reason: d.reason.clone(),
            }),
        }
    }
}

pub fn entity_type(t: EntityTypeWire) -> EntityType {
    match t {
        EntityTypeWire::IndividualBusiness => EntityType::IndividualBusiness,
        EntityTypeWire::LimitedCompany => EntityType::LimitedCompany,
        EntityTypeWire::SoleProprietorship => EntityType::SoleProprietorship,
        EntityTypeWire::FarmersCooperative => EntityType::FarmersCooperative,
    }
}

pub fn entity_type_wire(t: EntityType) -> EntityTypeWire {
    match t {
        EntityType::IndividualBusiness => EntityTypeWire::IndividualBusiness,
        EntityType::LimitedCompany => EntityTypeWire::LimitedCompany,
        EntityType::SoleProprietorship => EntityTypeWire::SoleProprietorship,
        EntityType::FarmersCooperative => EntityTypeWire::FarmersCooperative,
    }
}

fn role(r: RoleWire) -> Role {
    match r {
        RoleWire::Operator => Role::Operator,
        RoleWire::Investor => Role::Investor,
        RoleWire::Shareholder => Role::Shareholder,
        RoleWire::LegalRepresentative => Role::LegalRepresentative,
        RoleWire::Director => Role::Director,
        RoleWire::ExecutiveDirector => Role::ExecutiveDirector,
        RoleWire::Supervisor => Role::Supervisor,
        RoleWire::Member => Role::Member,
        RoleWire::Chair => Role::Chair,
    }
}

fn role_wire(r: Role) -> RoleWire {
    match r {
        Role::Operator => RoleWire::Operator,
        Role::Investor => RoleWire::Investor,
        Role::Shareholder => RoleWire::Shareholder,
        Role::LegalRepresentative => RoleWire::LegalRepresentative,
        Role::Director => RoleWire::Director,
        Role::ExecutiveDirector => RoleWire::ExecutiveDirector,
        Role::Supervisor => RoleWire::Supervisor,
        Role::Member => RoleWire::Member,
        Role::Chair => RoleWire::Chair,
    }
}
