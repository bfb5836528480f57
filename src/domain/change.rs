//! What a change application changes, compared with the registered facts.
use super::form::{Form, Role};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    Name,
    Domicile,
    Premises,
    Scope,
    Representative,
    Capital,
    Parties,
    Composition,
}

impl Item {
    pub fn as_str(self) -> &'static str {
        match self {
            Item::Name => "name",
            Item::Domicile => "domicile",
            Item::Premises => "premises",
            Item::Scope => "scope",
            Item::Representative => "representative",
            Item::Capital => "capital",
            Item::Parties => "parties",
            Item::Composition => "composition",
        }
    }
}

/// The registered items `new` changes relative to `old`.
pub fn diff(old: &Form, new: &Form) -> Vec<Item> {
    let mut v = Vec::new();
    if old.name != new.name {
        v.push(Item::Name);
    }
    if old.domicile != new.domicile {
        v.push(Item::Domicile);
    }
    if old.premises != new.premises {
        v.push(Item::Premises);
    }
    let codes = |f: &Form| {
        let mut c: Vec<&str> = f.scope.iter().map(|s| s.code).collect();
        c.sort();
        c
    };
    if codes(old) != codes(new) {
        v.push(Item::Scope);
    }
    if old.representative().map(|p| &p.id_number) != new.representative().map(|p| &p.id_number) {
        v.push(Item::Representative);
    }
    if old.capital != new.capital {
        v.push(Item::Capital);
    }
    let people = |f: &Form| {
        let mut p: Vec<(String, Vec<Role>, Option<i64>)> = f
            .parties
            .iter()
            .map(|p| (p.id_number.to_string(), p.roles.clone(), p.contribution.as_ref().map(|c| c.amount.fen())))
            .collect();
        p.sort();
        p
    };
    if people(old) != people(new) {
        v.push(Item::Parties);
    }
    if old.composition != new.composition {
        v.push(Item::Composition);
    }
    v
}

/// Licensed scope items `new` adds (these are pushed to departments).
pub fn added_scope<'a>(old: &Form, new: &'a Form) -> Vec<&'a str> {
    new.scope.iter().filter(|s| !old.scope.iter().any(|o| o.code == s.code)).map(|s| s.code).collect()
}
