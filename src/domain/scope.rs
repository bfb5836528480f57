//! The business-scope catalogue (经营范围): general items anyone may
//! carry on, licensed items that need a permit from a named kind of
//! department. Vendored under `reference/business-scope.csv`.
use std::{collections::HashMap, sync::LazyLock};

use super::field_error::FieldError;

const CATALOGUE: &str = include_str!("../../reference/business-scope.csv");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    General,
    Licensed,
}

/// When the permit is needed relative to registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// 前置: approval before registration.
    Pre,
    /// 后置: register first, get the permit before trading.
    Post,
    /// 备案: a filing with the department, no approval.
    Filing,
}

/// Catalogue items are static and identified by code.
#[derive(Debug)]
pub struct ScopeItem {
    pub code: &'static str,
    pub name: &'static str,
    pub class: Class,
    pub permit: Option<&'static str>,
    pub department_kind: Option<&'static str>,
    pub department_level: Option<&'static str>,
    pub timing: Option<Timing>,
    /// Whether the activity may be carried on in a residence.
    pub residence_allowed: bool,
    pub basis: Option<&'static str>,
}

impl PartialEq for ScopeItem {
    fn eq(&self, other: &Self) -> bool {
        self.code == other.code
    }
}

impl Eq for ScopeItem {}

impl ScopeItem {
    /// True when a department must be told (a permit or a filing).
    pub fn needs_department(&self) -> bool {
        self.permit.is_some()
    }
}

fn nonempty(s: &'static str) -> Option<&'static str> {
    (!s.is_empty()).then_some(s)
}

static ITEMS: LazyLock<(Vec<ScopeItem>, HashMap<&'static str, usize>)> = LazyLock::new(|| {
    let items: Vec<ScopeItem> = CATALOGUE
        .lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|line| {
            // The basis column may contain commas? It does not; names use 、 and ，.
            let f: Vec<&'static str> = line.splitn(9, ',').collect();
            ScopeItem {
                code: f[0],
                name: f[1],
                class: if f[2] == "licensed" { Class::Licensed } else { Class::General },
                permit: nonempty(f[3]),
                department_kind: nonempty(f[4]),
                department_level: nonempty(f[5]),
                timing: match f[6] {
                    "pre" => Some(Timing::Pre),
                    "post" => Some(Timing::Post),
                    "filing" => Some(Timing::Filing),
                    _ => None,
                },
                residence_allowed: f[7] != "excluded",
                basis: f.get(8).copied().and_then(nonempty),
            }
        })
        .collect();
    let by_code = items.iter().enumerate().map(|(i, it)| (it.code, i)).collect();
    (items, by_code)
});

pub fn lookup(code: &str) -> Option<&'static ScopeItem> {
    let (items, by_code) = &*ITEMS;
    by_code.get(code).map(|&i| &items[i])
}

pub fn all() -> &'static [ScopeItem] {
    &ITEMS.0
}

/// Parses a list of catalogue codes: known, no duplicates, at least one.
pub fn parse_codes(codes: &[String]) -> Result<Vec<&'static ScopeItem>, Vec<FieldError>> {
    let mut out = Vec::with_capacity(codes.len());
    let mut errors = Vec::new();
    for (i, raw) in codes.iter().enumerate() {
        let code = super::text::normalize_code(raw);
        match lookup(&code) {
            Some(item) if out.iter().any(|o: &&ScopeItem| o.code == item.code) => {
                errors.push(FieldError::new(format!("[{i}]"), "duplicate").with("value", code))
            }
            Some(item) => out.push(item),
            None => errors.push(FieldError::new(format!("[{i}]"), "unknown_scope_item").with("value", code)),
        }
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// The two groups a licence prints (Rules on scope wording, see DOMAIN.md §3).
pub fn licence_lines(items: &[&ScopeItem], online_only: bool) -> Vec<String> {
    let licensed: Vec<&str> = items.iter().filter(|i| i.class == Class::Licensed).map(|i| i.name).collect();
    let general: Vec<&str> = items.iter().filter(|i| i.class == Class::General).map(|i| i.name).collect();
    let mut lines = Vec::new();
    if !licensed.is_empty() {
        lines.push(format!(
            "许可项目：{}。（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以相关部门批准文件或许可证件为准）",
            licensed.join("；")
        ));
    }
    if !general.is_empty() {
        lines.push(format!(
            "一般项目：{}。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
            general.join("；")
        ));
    }
    if online_only {
        lines.push("（仅限于通过互联网从事经营活动）".to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_loads_every_row() {
        assert_eq!(all().len(), 68);
        let food = lookup("L1001").unwrap();
        assert_eq!(food.class, Class::Licensed);
        assert_eq!(food.permit, Some("食品经营许可"));
        assert_eq!(food.department_kind, Some("market_regulation"));
        assert_eq!(food.timing, Some(Timing::Post));
        assert!(!lookup("L1003").unwrap().residence_allowed);
    }

    #[test]
    fn unknown_and_duplicate_codes_are_named() {
        let e = parse_codes(&["G1001".into(), "X9".into(), "g1001".into()]).unwrap_err();
        assert_eq!(e[0].field, "[1]");
        assert_eq!(e[0].code, "unknown_scope_item");
        assert_eq!(e[1].code, "duplicate");
    }

    #[test]
    fn licence_prints_licensed_then_general_with_the_statutory_notes() {
        let items = parse_codes(&["G1001".into(), "L1001".into(), "G1016".into()]).unwrap();
        let lines = licence_lines(&items, true);
        assert!(lines[0].starts_with("许可项目：食品销售。"));
        assert!(lines[1].starts_with("一般项目：互联网销售（除销售需要许可的商品）；日用陶瓷制品销售。"));
        assert_eq!(lines[2], "（仅限于通过互联网从事经营活动）");
    }
}
