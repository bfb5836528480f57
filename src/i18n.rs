//! zh-CN (the default) and en text for everything a client may show a
//! person: problem titles and per-field messages. Chosen per request from
//! `Accept-Language`.
use crate::domain::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    /// Picks the supported language with the highest q-value; zh-CN when
    /// nothing matches or the header is absent.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::ZhCn };
        let mut best: Option<(f32, Lang)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it.find_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = if tag.starts_with("zh") {
                Lang::ZhCn
            } else if tag.starts_with("en") {
                Lang::En
            } else {
                continue;
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    pub fn pick<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

/// The message for one field error, quoting its parameters where useful.
pub fn field_message(e: &FieldError, lang: Lang) -> String {
    let p = |k| e.param(k).unwrap_or("");
    let (zh, en): (String, String) = match e.code {
        "required" => ("必填项".into(), "is required".into()),
        "invalid_length" => (
            format!("长度不正确，应为 {} 位", p("expected")),
            format!("has the wrong length; expected {}", p("expected")),
        ),
        "invalid_character" => ("含有不允许的字符".into(), "contains characters that are not allowed".into()),
        "invalid_division" => ("行政区划代码部分无效".into(), "has an invalid division code part".into()),
        "invalid_birth_date" => ("出生日期无效".into(), "has an invalid date of birth".into()),
        "invalid_check_digit" => ("校验码错误".into(), "fails its check digit".into()),
        "invalid_format" => {
            (format!("格式不正确，应为 {}", p("expected")), format!("is malformed; expected {}", p("expected")))
        }
        "unknown_division" => {
            ("不是现行有效的行政区划代码".into(), "is not a current administrative division code".into())
        }
        "unknown_scope_item" => (
            format!("经营范围目录中没有 {}", p("value")),
            format!("{} is not in the business-scope catalogue", p("value")),
        ),
        "duplicate" => ("重复".into(), "is a duplicate".into()),
        "malformed" => (
            "不是本系统签发的执照凭证或统一社会信用代码".into(),
            "is not a licence credential or code this service issues".into(),
        ),
        "not_declared" => (
            "该网店网址未登记为亮照地址，请先申报".into(),
            "is not a shop URL declared for displaying this licence".into(),
        ),
        "too_many" => {
            (format!("条目过多，最多 {} 条", p("max")), format!("has too many entries; at most {}", p("max")))
        }
        "conflicts" => (format!("不能与 {} 同时提供", p("with")), format!("cannot be combined with {}", p("with"))),
        "invalid_amount" => (
            "金额格式不正确，应为以元为单位、最多两位小数的数字字符串".into(),
            "must be a decimal amount in yuan with at most two decimals".into(),
        ),
        "invalid_phone" => ("手机号码格式不正确".into(), "is not a valid mainland mobile number".into()),
        "invalid_url" => ("网址无效，须为 http(s) 网址".into(), "must be an http(s) URL".into()),
        "invalid_type" => (format!("类型错误：{}", p("detail")), format!("has the wrong type: {}", p("detail"))),
        "invalid_value" => (format!("取值无效：{}", p("detail")), format!("has an invalid value: {}", p("detail"))),
        "too_long" => {
            (format!("过长，最多 {} 个字符", p("max")), format!("is too long; at most {} characters", p("max")))
        }
        "empty" => ("不能为空".into(), "must not be empty".into()),
        "role_not_allowed" => ("该主体类型不使用此角色".into(), format!("is not a role used by {}", p("entity_type"))),
        "role_count" => (
            format!("角色 {} 应有 {} 人，实际 {} 人", p("role"), p("expected"), p("found")),
            format!("role {} needs {} person(s); found {}", p("role"), p("expected"), p("found")),
        ),
        "single_investor_only" => (
            "个人独资企业只能有一名自然人投资人".into(),
            "a sole proprietorship has exactly one natural-person investor".into(),
        ),
        "family_members_required" => (
            "家庭经营须列明参加经营的家庭成员".into(),
            "family operation must list the family members taking part".into(),
        ),
        "shareholder_count" => {
            ("有限责任公司股东应为1至50人".into(), "a limited company has 1 to 50 shareholders".into())
        }
        "must_be_positive" => ("必须大于零".into(), "must be greater than zero".into()),
        "capital_mismatch" => {
            (format!("应等于各出资之和 {}", p("sum")), format!("must equal the sum of contributions, {}", p("sum")))
        }
        "board_composition" => (
            "应设一名执行董事，或设三人以上董事会".into(),
            "needs one executive director, or a board of at least three directors".into(),
        ),
        "legal_representative_not_director" => (
            "法定代表人应由执行公司事务的董事担任".into(),
            "the legal representative must be a director acting for the company".into(),
        ),
        "supervisor_is_director" => ("董事不得兼任监事".into(), "a director may not also be a supervisor".into()),
        "member_count" => {
            ("农民专业合作社应有五名以上成员".into(), "a farmers' cooperative needs at least five members".into())
        }
        "farmer_share" => {
            ("农民成员应占成员总数的百分之八十以上".into(), "farmers must be at least 80% of the members".into())
        }
        "chair_must_be_legal_representative" => {
            ("理事长为合作社的法定代表人".into(), "the chair is the cooperative's legal representative".into())
        }
        "signature_missing" => (format!("{} 尚未签名", p("name")), format!("{} has not signed", p("name"))),
        "acknowledgement_missing" => {
            ("尚未确认双告知书".into(), "the dual-notification letter is not acknowledged".into())
        }
        "name_conflict" => (
            format!("与已登记或已保留的名称“{}”冲突", p("conflict")),
            format!("conflicts with the registered or reserved name \"{}\"", p("conflict")),
        ),
        "name_rule" => (format!("名称不符合规定（{}）", p("rule")), format!("breaks a naming rule ({})", p("rule"))),
        "unknown_field" => ("未知字段".into(), "is not a known field".into()),
        "missing" => ("缺少该字段".into(), "is missing".into()),
        "claim_missing" => ("断言缺少该声明".into(), "is missing from the assertion".into()),
        "party_restricted" => (
            "该人员被列入严重失信名单，不得担任此职务".into(),
            "is barred from this office (serious-dishonesty list)".into(),
        ),
        "not_a_party" => {
            ("当前登录人不是本申请的当事人".into(), "the signed-in person is not a party to this application".into())
        }
        "wrong_kind" => ("与申请类型不符".into(), "does not fit the application kind".into()),
        "enterprise_not_changeable" => {
            ("该市场主体当前状态不允许办理此业务".into(), "the enterprise's status does not allow this".into())
        }
        "not_found" => ("不存在".into(), "was not found".into()),
        "no_change" => {
            ("变更申请未改变任何登记事项".into(), "the change application changes no registered item".into())
        }
        "residence_excluded" => (
            format!("住宅不得用于“{}”（{}）", p("item"), p("basis")),
            format!("a residence may not be used for {} ({})", p("scope"), p("basis")),
        ),
        "shop_url_taken" => (
            "该网店已是另一存续市场主体的经营场所".into(),
            "this shop is already the premises of another live enterprise".into(),
        ),
        "capacity_exhausted" => {
            (format!("托管名额（{}个）已满", p("capacity")), format!("all {} hosted places are taken", p("capacity")))
        }
        "host_closed" => ("该托管地址已停止托管".into(), "the address host has closed".into()),
        "host_not_accepting" => (
            format!("该托管地址不接受此类主体（{}）", p("detail")),
            format!("the host does not accept this ({})", p("detail")),
        ),
        "outside_jurisdiction" => (
            "不在登记机关辖区内，辖区外的经营场所须办理分支机构登记".into(),
            "outside the registration authority's jurisdiction: register a branch for premises elsewhere".into(),
        ),
        "branch_required" => (
            format!("“{}”属于前置许可事项，另设经营场所须办理分支机构登记", p("value")),
            format!("{} needs approval before registration: premises for it need a branch registration", p("value")),
        ),
        "not_in_scope" => {
            (format!("{} 不在登记的经营范围内", p("value")), format!("{} is not in the registered scope", p("value")))
        }
        "material_missing" => (format!("缺少材料：{}", p("any_of")), format!("a material is missing: {}", p("any_of"))),
        "simplified_excluded" => (
            format!("不适用简易注销（{}）", p("reason")),
            format!("simplified deregistration is not available ({})", p("reason")),
        ),
        "malformed_json" => (
            format!("第 {} 行第 {} 列附近不是有效的 JSON", p("line"), p("column")),
            format!("is not valid JSON near line {}, column {}", p("line"), p("column")),
        ),
        _ => (e.code.to_string(), e.code.replace('_', " ")),
    };
    match lang {
        Lang::ZhCn => zh,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_best_supported_tag() {
        assert_eq!(Lang::from_accept_language(None), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr, en;q=0.5, zh-CN;q=0.8")), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::ZhCn);
        assert_eq!(Lang::from_accept_language(Some("en;q=0, zh;q=0.1")), Lang::ZhCn);
    }
}
