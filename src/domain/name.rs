//! Enterprise name self-declaration rules (企业名称自主申报): structure,
//! characters, forbidden and restricted content. Conflicts with names in use
//! need the database and live in `services::names`; this module says what a
//! name *is* (division, trade name, industry, organisational form) so that
//! search can compare like with like.
//!
//! Sources: 企业名称登记管理规定 (2020) arts. 5–12, 17; its 实施办法 (SAMR
//! Order 82, 2023); 个体工商户名称 rules for the forms individual businesses use.
use std::{collections::HashSet, sync::LazyLock};

use super::{admin_code::AdminCode, divisions, entity_type::EntityType, text};

/// One broken rule, with the provision it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    pub code: &'static str,
    pub rule: &'static str,
    /// The words that triggered it, when there are some.
    pub detail: Option<String>,
}

/// The parts of a well-formed name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameParts {
    pub full: String,
    pub division: String,
    pub trade_name: String,
    pub industry: Option<String>,
    pub org_form: String,
}

impl NameParts {
    /// Industry wording reduced to its synonym group, so 房地产 and 置业
    /// compare equal for the "similar name" warning.
    pub fn industry_group(&self) -> Option<&'static str> {
        self.industry.as_deref().map(industry_group)
    }

    /// The industry words a registered name with the same trade name must
    /// use to conflict with this one: the same word, or one of its synonym
    /// group (names recorded without an industry conflict with any).
    pub fn comparable_industries(&self) -> Vec<&str> {
        let Some(word) = self.industry.as_deref() else { return vec![] };
        let mut words = vec![word];
        if let Some(group) = INDUSTRY_GROUPS.iter().find(|g| g.contains(&word)) {
            words.extend(group.iter().copied().filter(|w| *w != word));
        }
        words
    }
}

#[derive(Debug, Clone)]
pub struct NameCheck {
    pub parts: Option<NameParts>,
    pub violations: Vec<Violation>,
}

const ART5: &str = "企业名称登记管理规定 第五条";
const ART6: &str = "企业名称登记管理规定 第六条";
const ART7: &str = "企业名称登记管理规定 第七条";
const ART8: &str = "企业名称登记管理规定 第八条";
const ART9: &str = "企业名称登记管理规定 第九条";
const ART10: &str = "企业名称登记管理规定 第十条";
const ART11: &str = "企业名称登记管理规定 第十一条";
const ART12: &str = "企业名称登记管理规定 第十二条";
const MEASURES: &str = "企业名称登记管理规定实施办法 第十四条";

/// Organisational forms each entity type may end its name with, longest first.
fn org_forms(t: EntityType) -> &'static [&'static str] {
    match t {
        EntityType::LimitedCompany => &["有限责任公司", "有限公司"],
        EntityType::FarmersCooperative => &["农民专业合作社联合社", "专业合作社联合社", "农民专业合作社", "专业合作社"],
        EntityType::IndividualBusiness | EntityType::SoleProprietorship => &[
            "工作室",
            "经营部",
            "服务部",
            "门市部",
            "商行",
            "中心",
            "超市",
            "厂",
            "店",
            "馆",
            "部",
            "行",
            "坊",
            "铺",
            "社",
        ],
    }
}

/// Industry wording (GB/T 4754 based), grouped by synonym; the first word of
/// a group is its key.
const INDUSTRY_GROUPS: &[&[&str]] = &[
    &["电子商务", "电商"],
    &["网络科技", "互联网科技", "网络技术"],
    &["信息技术", "信息科技"],
    &["科技", "技术"],
    &["软件", "软件开发"],
    &["商贸", "贸易", "商务"],
    &["房地产", "地产", "置业"],
    &["文化传媒", "传媒", "文化传播", "文化"],
    &["广告", "广告设计"],
    &["设计"],
    &["管理咨询", "企业管理咨询", "咨询", "企业管理"],
    &["供应链管理", "供应链"],
    &["物流", "货运代理"],
    &["电子", "电子产品"],
    &["食品", "食品销售"],
    &["农业", "农业开发", "农业科技"],
    &["农产品", "土特产", "特产"],
    &["种植", "种养殖"],
    &["养殖"],
    &["茶叶", "茶业", "茶"],
    &["果业", "水果"],
    &["蔬菜"],
    &["服装", "服饰"],
    &["鞋业", "鞋帽"],
    &["百货", "日用百货", "日用品"],
    &["五金", "五金交电"],
    &["建材", "建筑材料"],
    &["家居", "家具"],
    &["装饰", "装饰工程"],
    &["工艺品", "工艺美术"],
    &["陶瓷"],
    &["文具", "文体用品"],
    &["玩具"],
    &["母婴用品", "母婴"],
    &["化妆品", "美妆"],
    &["电器", "家用电器"],
    &["数码", "数码产品"],
    &["餐饮", "餐饮管理", "餐饮服务"],
    &["旅游", "旅行"],
    &["教育咨询", "教育科技"],
    &["印刷", "包装", "印刷包装"],
    &["摄影", "图文设计"],
    &["医疗器械"],
    &["药房", "大药房", "医药"],
    &["酒业", "酒"],
    &["粮油"],
    &["蜂业", "蜂产品"],
    &["中药材", "药材"],
];

/// The synonym-group key of an industry word ("" when it has none).
pub fn industry_group(word: &str) -> &'static str {
    INDUSTRY_GROUPS.iter().find(|g| g.contains(&word)).map(|g| g[0]).unwrap_or("")
}

static INDUSTRY_WORDS: LazyLock<Vec<&'static str>> = LazyLock::new(|| {
    let mut v: Vec<&'static str> = INDUSTRY_GROUPS.iter().flat_map(|g| g.iter().copied()).collect();
    v.sort_by_key(|w| std::cmp::Reverse(w.chars().count()));
    v
});

/// Words a name may not contain, by rule.
const FORBIDDEN: &[(&str, &str, &[&str])] = &[
    (
        "state_or_military_organ",
        ART11,
        &[
            "共产党",
            "国务院",
            "人民代表大会",
            "人大常委",
            "政协",
            "人民政府",
            "政府",
            "公安",
            "检察院",
            "法院",
            "解放军",
            "武警",
            "军区",
            "部队",
            "军队",
        ],
    ),
    ("mass_organisation", ART11, &["共青团", "妇联", "工会", "红十字", "残联", "科协"]),
    (
        "foreign_or_international",
        ART11,
        &["联合国", "世界卫生组织", "欧盟", "北约", "美国", "日本", "英国", "法国", "德国", "韩国", "俄罗斯", "意大利"],
    ),
    (
        "prohibited_content",
        ART11,
        &["色情", "淫", "赌", "博彩", "算命", "占卜", "风水", "迷信", "邪教", "恐怖", "暴力", "毒品", "黑社会"],
    ),
    ("superlative", MEASURES, &["国家级", "最高级", "最佳", "最好", "第一", "顶级", "首席", "至尊"]),
    ("implies_state_backing", MEASURES, &["国有", "国资", "官方", "特供", "专供", "机关", "政府采购"]),
    (
        "implies_non_profit",
        MEASURES,
        &["基金会", "慈善", "公益", "协会", "学会", "研究会", "促进会", "联合会", "研究院"],
    ),
    (
        "imitates_well_known_name",
        MEASURES,
        &[
            "阿里巴巴",
            "淘宝",
            "天猫",
            "腾讯",
            "微信",
            "华为",
            "京东",
            "拼多多",
            "美团",
            "抖音",
            "字节跳动",
            "百度",
            "小米",
            "茅台",
        ],
    ),
];

/// Prefixes only the State Council may approve (art. 12): refused here.
const RESERVED_PREFIXES: &[&str] = &["中国", "中华", "中央", "全国", "国家"];

/// Division names a trade name may not be (art. 8) and a name may not start
/// with when they are not the authority's own: full names at every level,
/// short forms ("陕西", "汉中") for provinces and cities only, since the short
/// forms of 2,800 counties are ordinary words (和平, 新华, 长安).
static DIVISION_NAMES: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    let mut set = HashSet::new();
    let upper = divisions::provinces().map(|(_, n)| n).chain(divisions::cities().map(|(_, n)| n));
    for n in upper {
        if matches!(n, "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划") {
            continue;
        }
        set.insert(n);
        let short = short_form(n);
        if short.chars().count() >= 2 {
            set.insert(short);
        }
    }
    set.extend(divisions::counties().map(|(_, c)| c.name).filter(|n| *n != "市辖区"));
    set
});

/// "陕西省" → "陕西", "汉中市" → "汉中", "略阳县" → "略阳", "广西壮族自治区" → "广西".
pub fn short_form(name: &'static str) -> &'static str {
    const SUFFIXES: &[&str] = &[
        "维吾尔自治区",
        "壮族自治区",
        "回族自治区",
        "自治区",
        "特别行政区",
        "自治州",
        "自治县",
        "地区",
        "省",
        "市",
        "县",
        "区",
        "旗",
        "盟",
    ];
    for s in SUFFIXES {
        if let Some(stripped) = name.strip_suffix(s)
            && stripped.chars().count() >= 2
        {
            return stripped;
        }
    }
    name
}

/// Canonical spelling: no spaces, ASCII parentheses as full-width ones.
pub fn normalize(name: &str) -> String {
    text::to_half_width(name)
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '(' => '（',
            ')' => '）',
            c => c,
        })
        .collect()
}

/// Checks one proposed name for an entity of `entity_type` registered by
/// `authority`. Never touches the database.
pub fn check(raw: &str, entity_type: EntityType, authority: &AdminCode) -> NameCheck {
    let full = normalize(raw);
    let mut violations = Vec::new();
    let v = |code, rule, detail: Option<String>| Violation { code, rule, detail };

    let len = full.chars().count();
    if !(4..=50).contains(&len) {
        violations.push(v("invalid_length", ART6, Some(len.to_string())));
    }
    let bad_chars: String = full.chars().filter(|&c| !(text::is_han(c) || c == '（' || c == '）')).collect();
    if !bad_chars.is_empty() {
        violations.push(v("non_standard_characters", ART10, Some(bad_chars)));
    }
    let mut traditional = String::new();
    for c in full.chars().filter(|&c| text::is_traditional(c)) {
        if !traditional.contains(c) {
            traditional.push(c);
        }
    }
    if !traditional.is_empty() {
        violations.push(v("traditional_characters", ART5, Some(traditional)));
    }
    for p in RESERVED_PREFIXES {
        if full.contains(p) {
            violations.push(v("reserved_prefix", ART12, Some((*p).into())));
        }
    }
    for (code, rule, words) in FORBIDDEN {
        if let Some(w) = words.iter().find(|w| full.contains(*w)) {
            violations.push(v(code, rule, Some((*w).into())));
        }
    }

    let parts = parse_structure(&full, entity_type, authority, &mut violations);
    NameCheck { parts: if violations.is_empty() { parts } else { None }, violations }
}

fn parse_structure(
    full: &str,
    entity_type: EntityType,
    authority: &AdminCode,
    violations: &mut Vec<Violation>,
) -> Option<NameParts> {
    let v = |code, rule, detail: Option<String>| Violation { code, rule, detail };
    let Some(org_form) = org_forms(entity_type).iter().find(|f| full.ends_with(*f)) else {
        violations.push(v("missing_organisational_form", ART6, Some(org_forms(entity_type).join("、"))));
        return None;
    };
    if entity_type != EntityType::LimitedCompany && full.contains("公司") {
        violations.push(v("organisational_form_mismatch", ART6, Some("公司".into())));
    }
    let body = &full[..full.len() - org_form.len()];

    // The authority's own levels, as they may be written: full or short.
    let levels: Vec<Vec<&'static str>> = {
        let mut l = vec![vec![authority.province_name(), short_form(authority.province_name())]];
        if let Some(city) = authority.city_name() {
            l.push(vec![city, short_form(city)]);
        }
        l.push(vec![authority.name(), short_form(authority.name())]);
        l
    };

    // Division as a prefix: any run of the authority's levels, in order.
    let mut rest = body;
    let mut division = String::new();
    let mut used_levels = Vec::new();
    for (i, names) in levels.iter().enumerate() {
        if let Some(n) = names.iter().filter(|n| rest.starts_with(**n)).max_by_key(|n| n.len()) {
            division.push_str(n);
            rest = &rest[n.len()..];
            used_levels.push(i);
        }
    }
    // Or in brackets after the trade name: 青禾（略阳）电子商务有限公司.
    let mut bracketed = None;
    if division.is_empty()
        && let (Some(open), Some(close)) = (body.find('（'), body.find('）'))
        && open < close
    {
        let inner = &body[open + '（'.len_utf8()..close];
        if levels.iter().flatten().any(|n| *n == inner) {
            bracketed = Some((inner.to_string(), format!("{}{}", &body[..open], &body[close + '）'.len_utf8()..])));
        }
    }
    if let Some((d, remainder)) = &bracketed {
        division = d.clone();
        rest = remainder.as_str();
    }
    if division.is_empty() {
        let foreign = (2..=8)
            .filter_map(|n| body.char_indices().nth(n).map(|(i, _)| &body[..i]))
            .find(|p| DIVISION_NAMES.contains(p));
        match foreign {
            Some(p) => violations.push(v("division_not_of_authority", ART7, Some(p.to_string()))),
            None => violations.push(v("missing_division", ART6, None)),
        }
        return None;
    }
    // A city district stands behind its city (art. 7): "碑林区" alone is not enough.
    let county_only = used_levels.len() == 1 && used_levels[0] == levels.len() - 1 && bracketed.is_none();
    if county_only && authority.name().ends_with('区') {
        violations.push(v("district_without_city", ART7, Some(division.clone())));
    }

    let industry = INDUSTRY_WORDS.iter().find(|w| rest.ends_with(**w) && rest.len() > w.len()).copied();
    let Some(industry) = industry else {
        violations.push(v("missing_industry", ART9, None));
        return None;
    };
    let trade_name = &rest[..rest.len() - industry.len()];
    let trade_len = trade_name.chars().count();
    if trade_len < 2 {
        violations.push(v("trade_name_too_short", ART8, Some(trade_name.to_string())));
    } else if DIVISION_NAMES.contains(trade_name) {
        violations.push(v("trade_name_is_division", ART8, Some(trade_name.to_string())));
    } else if INDUSTRY_WORDS.contains(&trade_name) {
        violations.push(v("trade_name_is_industry", ART8, Some(trade_name.to_string())));
    }
    if trade_name.contains('（') || trade_name.contains('）') {
        violations.push(v("non_standard_characters", ART5, Some(trade_name.to_string())));
    }
    Some(NameParts {
        full: full.to_string(),
        division,
        trade_name: trade_name.to_string(),
        industry: Some(industry.to_string()),
        org_form: org_form.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ck(name: &str, t: EntityType, county: &str) -> NameCheck {
        check(name, t, &AdminCode::parse(county).unwrap())
    }

    #[test]
    fn allowed_names_parse_into_their_parts() {
        use EntityType::*;
        let cases: &[(&str, EntityType, &str, &str, &str, &str)] = &[
            ("略阳县青禾电子商务店", IndividualBusiness, "610727", "略阳县", "青禾", "电子商务"),
            ("汉中市略阳县秦巴山珍农产品经营部", IndividualBusiness, "610727", "汉中市略阳县", "秦巴山珍", "农产品"),
            ("陕西青禾网络科技有限公司", LimitedCompany, "610727", "陕西", "青禾", "网络科技"),
            ("青禾（略阳）电子商务有限公司", LimitedCompany, "610727", "略阳", "青禾", "电子商务"),
            ("西安市碑林区墨香文化传媒有限公司", LimitedCompany, "610103", "西安市碑林区", "墨香", "文化传媒"),
            ("北京市东城区京韵茶叶店", IndividualBusiness, "110101", "北京市东城区", "京韵", "茶叶"),
            ("略阳县乌鸡养殖农民专业合作社", FarmersCooperative, "610727", "略阳县", "乌鸡", "养殖"),
            ("略阳县嘉陵江茶业工作室", SoleProprietorship, "610727", "略阳县", "嘉陵江", "茶业"),
            // Standard characters that are also traditional forms.
            ("略阳县乾丰电子商务店", IndividualBusiness, "610727", "略阳县", "乾丰", "电子商务"),
            ("略阳县著禾电子商务店", IndividualBusiness, "610727", "略阳县", "著禾", "电子商务"),
        ];
        for (name, t, county, division, trade, industry) in cases {
            let r = ck(name, *t, county);
            assert!(r.violations.is_empty(), "{name}: {:?}", r.violations);
            let p = r.parts.unwrap();
            assert_eq!(
                (p.division.as_str(), p.trade_name.as_str(), p.industry.as_deref()),
                (*division, *trade, Some(*industry)),
                "{name}"
            );
        }
    }

    #[test]
    fn refused_names_name_their_rule() {
        use EntityType::*;
        let cases: &[(&str, EntityType, &str, &str)] = &[
            ("中国青禾电子商务有限公司", LimitedCompany, "610727", "reserved_prefix"),
            ("略阳县国家级电子商务有限公司", LimitedCompany, "610727", "superlative"),
            ("略阳县最佳青禾电子商务店", IndividualBusiness, "610727", "superlative"),
            ("略阳县青禾博彩电子商务有限公司", LimitedCompany, "610727", "prohibited_content"),
            ("略阳县解放军青禾商贸有限公司", LimitedCompany, "610727", "state_or_military_organ"),
            ("略阳县美国青禾商贸有限公司", LimitedCompany, "610727", "foreign_or_international"),
            ("略阳县青禾慈善商贸有限公司", LimitedCompany, "610727", "implies_non_profit"),
            ("略阳县国资青禾商贸有限公司", LimitedCompany, "610727", "implies_state_backing"),
            ("略阳县淘宝青禾商贸有限公司", LimitedCompany, "610727", "imitates_well_known_name"),
            ("略阳县Qinghe商贸有限公司", LimitedCompany, "610727", "non_standard_characters"),
            ("略阳县龍鳳电子商务店", IndividualBusiness, "610727", "traditional_characters"),
            ("略陽縣青禾電子商務有限公司", LimitedCompany, "610727", "traditional_characters"),
            ("略阳县青禾电子商务", LimitedCompany, "610727", "missing_organisational_form"),
            ("略阳县青禾电子商务有限公司", IndividualBusiness, "610727", "missing_organisational_form"),
            ("略阳县青禾电子商务公司店", IndividualBusiness, "610727", "organisational_form_mismatch"),
            ("青禾电子商务有限公司", LimitedCompany, "610727", "missing_division"),
            ("宁强县青禾电子商务有限公司", LimitedCompany, "610727", "division_not_of_authority"),
            ("碑林区墨香文化传媒有限公司", LimitedCompany, "610103", "district_without_city"),
            ("略阳县青禾有限公司", LimitedCompany, "610727", "missing_industry"),
            ("略阳县禾电子商务店", IndividualBusiness, "610727", "trade_name_too_short"),
            ("略阳县汉中电子商务店", IndividualBusiness, "610727", "trade_name_is_division"),
            ("略阳县宁强县电子商务店", IndividualBusiness, "610727", "trade_name_is_division"),
            ("略阳县商贸电子商务店", IndividualBusiness, "610727", "trade_name_is_industry"),
            ("略阳店", IndividualBusiness, "610727", "invalid_length"),
        ];
        for (name, t, county, code) in cases {
            let r = ck(name, *t, county);
            assert!(r.violations.iter().any(|v| v.code == *code), "{name}: expected {code}, got {:?}", r.violations);
            assert!(r.violations.iter().all(|v| v.rule.contains("第")), "{name}: every refusal cites its provision");
            assert!(r.parts.is_none());
        }
    }

    #[test]
    fn synonymous_industries_share_a_group() {
        assert_eq!(industry_group("地产"), industry_group("置业"));
        assert_eq!(industry_group("电商"), "电子商务");
        assert_ne!(industry_group("服装"), industry_group("食品"));
    }

    #[test]
    fn spacing_and_ascii_brackets_are_normalised() {
        assert_eq!(normalize(" 青禾(略阳) 电子商务有限公司 "), "青禾（略阳）电子商务有限公司");
    }
}
