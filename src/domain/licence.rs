//! What a business licence prints (Rules art. 23), per entity type. A
//! licence version's content is computed once at issue and stored; the PDF,
//! badge and verification page all render this one value.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::{
    admin_code::AdminCode,
    entity_type::EntityType,
    form::{Composition, Form, Premises},
    scope,
    uscc::Uscc,
    working_days::cst,
};

/// One labelled line of the licence, e.g. ("法定代表人", "张三").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub label: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceContent {
    pub uscc: String,
    pub version: i32,
    /// Empty for an individual business registered without a name.
    pub name: Option<String>,
    pub entity_type: String,
    /// Labelled fields in print order (name, type, person, capital, date, place).
    pub fields: Vec<Field>,
    /// The scope as printed: licensed group, general group, online-only note.
    pub scope_lines: Vec<String>,
    /// Business premises (the main one first), as printed.
    pub premises: Vec<String>,
    pub authority_code: String,
    /// "略阳县市场监督管理局".
    pub authority_name: String,
    pub established_on: NaiveDate,
    pub issued_at: DateTime<Utc>,
}

/// The registration authority's name for a county.
pub fn authority_name(authority: &AdminCode) -> String {
    let county = authority.name();
    let prefix = if county.ends_with('区') { authority.city_name().unwrap_or(authority.province_name()) } else { "" };
    format!("{prefix}{county}市场监督管理局")
}

pub fn premises_text(p: &Premises) -> String {
    match p {
        Premises::Online { platform, url } => format!("网络经营场所：{platform} {url}"),
        Premises::Address { address, .. } => address.full_text(),
    }
}

impl LicenceContent {
    /// Builds the content from a complete form. `issued_at` is passed in:
    /// documents never read the clock.
    pub fn new(form: &Form, uscc: &Uscc, version: i32, established_on: NaiveDate, issued_at: DateTime<Utc>) -> Self {
        let t = form.entity_type;
        let person = form.representative().map(|p| p.name.clone()).unwrap_or_default();
        let f = |label: &str, value: String| Field { label: label.into(), value };
        let mut fields = Vec::new();
        fields.push(f("名称", form.name.clone().unwrap_or_else(|| "（无）".into())));
        let premises: Vec<String> = form.premises.iter().map(premises_text).collect();
        let date = established_on.format("%Y年%m月%d日").to_string();
        match t {
            EntityType::IndividualBusiness => {
                fields.push(f("类型", t.label_zh().into()));
                fields.push(f("经营者", person));
                let comp = match form.composition.unwrap_or(Composition::Individual) {
                    Composition::Individual => "个人经营",
                    Composition::Family => "家庭经营",
                };
                fields.push(f("组成形式", comp.into()));
                fields.push(f("注册日期", date));
                fields.push(f("经营场所", premises.first().cloned().unwrap_or_default()));
            }
            EntityType::SoleProprietorship => {
                fields.push(f("类型", t.label_zh().into()));
                fields.push(f("投资人", person));
                fields.push(f("出资额", form.capital.map(|c| c.to_licence_text()).unwrap_or_default()));
                fields.push(f("成立日期", date));
                fields.push(f("住所", form.domicile.as_ref().map(|a| a.full_text()).unwrap_or_default()));
            }
            EntityType::LimitedCompany => {
                fields.push(f("类型", t.label_zh().into()));
                fields.push(f("法定代表人", person));
                fields.push(f("注册资本", form.capital.map(|c| c.to_licence_text()).unwrap_or_default()));
                fields.push(f("成立日期", date));
                fields.push(f("住所", form.domicile.as_ref().map(|a| a.full_text()).unwrap_or_default()));
            }
            EntityType::FarmersCooperative => {
                fields.push(f("类型", t.label_zh().into()));
                fields.push(f("法定代表人", person));
                fields.push(f("成员出资总额", form.capital.map(|c| c.to_licence_text()).unwrap_or_default()));
                fields.push(f("成立日期", date));
                fields.push(f("住所", form.domicile.as_ref().map(|a| a.full_text()).unwrap_or_default()));
            }
        }
        Self {
            uscc: uscc.to_string(),
            version,
            name: form.name.clone(),
            entity_type: t.as_str().into(),
            fields,
            scope_lines: scope::licence_lines(&form.scope, form.online_only()),
            premises,
            authority_code: form.admin_code.to_string(),
            authority_name: authority_name(&form.admin_code),
            established_on,
            issued_at,
        }
    }

    pub fn field(&self, label: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.label == label).map(|f| f.value.as_str())
    }
}

/// The registration date of a licence issued at `at`: the date in China.
pub fn date_in_china(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&cst()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_names_put_the_city_before_a_district() {
        assert_eq!(authority_name(&AdminCode::parse("610727").unwrap()), "略阳县市场监督管理局");
        assert_eq!(authority_name(&AdminCode::parse("610103").unwrap()), "西安市碑林区市场监督管理局");
        assert_eq!(authority_name(&AdminCode::parse("110101").unwrap()), "北京市东城区市场监督管理局");
    }
}
