//! Addresses as shared records: the structured part (township from the
//! national table) plus the detailed part, and a canonical form of the
//! detail so the same place written two ways is one address.
//!
//! The canonical form is for matching only; what people wrote is kept for
//! display.
use super::{admin_code::TownshipCode, divisions, text};

/// Units that follow a number in a detailed address, with the spelling they
/// are reduced to. Longest first.
const UNIT_SYNONYMS: &[(&str, &str)] = &[
    ("号楼", "栋"),
    ("#楼", "栋"),
    ("幢", "栋"),
    ("座", "栋"),
    ("栋楼", "栋"),
    ("單元", "单元"),
    ("層", "层"),
    ("号院", "号院"),
    ("#", "号"),
];

/// Words at the end that say "room" and add nothing when a number precedes them.
const ROOM_SUFFIXES: &[&str] = &["室", "房", "户", "号房"];

fn digit(c: char) -> Option<u32> {
    match c {
        '〇' | '零' => Some(0),
        '一' | '壹' => Some(1),
        '二' | '两' | '贰' => Some(2),
        '三' | '叁' => Some(3),
        '四' | '肆' => Some(4),
        '五' | '伍' => Some(5),
        '六' | '陆' => Some(6),
        '七' | '柒' => Some(7),
        '八' | '捌' => Some(8),
        '九' | '玖' => Some(9),
        _ => None,
    }
}

fn is_numeral(c: char) -> bool {
    digit(c).is_some() || matches!(c, '十' | '拾' | '百' | '佰' | '千' | '仟')
}

/// Reads a run of Chinese numerals: positional ("十二" = 12, "一百零五" = 105)
/// or digit by digit ("二〇一" = 201).
fn numeral_value(run: &[char]) -> Option<u64> {
    let has_unit = run.iter().any(|c| matches!(c, '十' | '拾' | '百' | '佰' | '千' | '仟'));
    if !has_unit {
        return run.iter().try_fold(0u64, |acc, c| digit(*c).map(|d| acc * 10 + u64::from(d)));
    }
    let (mut total, mut current) = (0u64, 0u64);
    for &c in run {
        match c {
            '十' | '拾' => {
                total += if current == 0 { 10 } else { current * 10 };
                current = 0;
            }
            '百' | '佰' => {
                total += current * 100;
                current = 0;
            }
            '千' | '仟' => {
                total += current * 1000;
                current = 0;
            }
            c => current = u64::from(digit(c)?),
        }
    }
    Some(total + current)
}

/// Replaces every run of Chinese numerals with its Arabic value.
fn arabic_numerals(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        if is_numeral(chars[i]) {
            let start = i;
            while i < chars.len() && is_numeral(chars[i]) {
                i += 1;
            }
            match numeral_value(&chars[start..i]) {
                Some(v) => out.push_str(&v.to_string()),
                None => out.extend(&chars[start..i]),
            }
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The canonical form of a detailed address within `township`: width,
/// spacing and case unified, punctuation dropped, Chinese numerals made
/// Arabic, unit words reduced to one spelling, a trailing room word dropped,
/// and division names the structured part already says stripped.
pub fn canonical_detail(township: &TownshipCode, detail: &str) -> String {
    let mut s: String = text::to_half_width(detail)
        .to_uppercase()
        .chars()
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, ',' | '，' | '、' | '.' | '。' | '(' | ')' | '（' | '）' | '"' | '“' | '”')
        })
        .map(|c| match c {
            '－' | '—' | '–' | '―' | '~' | '～' => '-',
            c => c,
        })
        .collect();
    // Division names repeated in the detail ("略阳县兴州街道东环路…").
    let county = township.county();
    let prefixes = [county.province_name(), county.city_name().unwrap_or_default(), county.name(), township.name()];
    loop {
        let before = s.len();
        for p in prefixes.iter().filter(|p| !p.is_empty()) {
            if let Some(rest) = s.strip_prefix(p) {
                s = rest.to_string();
            }
        }
        if s.len() == before {
            break;
        }
    }
    s = arabic_numerals(&s);
    for (from, to) in UNIT_SYNONYMS {
        s = s.replace(from, to);
    }
    // "3号栋" and "3栋" are the same building.
    s = s.replace("号栋", "栋");
    // A trailing room word after a number: "201室" = "201".
    for suffix in ROOM_SUFFIXES {
        if let Some(rest) = s.strip_suffix(suffix)
            && rest.ends_with(|c: char| c.is_ascii_digit())
        {
            s = rest.to_string();
            break;
        }
    }
    s
}

/// A structured address: township plus detail, with its canonical key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalAddress {
    pub township: TownshipCode,
    pub detail: String,
    pub canonical: String,
}

impl CanonicalAddress {
    pub fn new(township: TownshipCode, detail: &str) -> Self {
        let canonical = canonical_detail(&township, detail);
        CanonicalAddress { township, detail: detail.trim().to_string(), canonical }
    }

    /// The key two writings of one place share.
    pub fn key(&self) -> String {
        format!("{}:{}", self.township.as_str(), self.canonical)
    }
}

/// Whether the county of `township` exists (for completeness of the API).
pub fn township_known(code: &str) -> bool {
    divisions::township(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(township: &str, detail: &str) -> String {
        CanonicalAddress::new(TownshipCode::parse(township).unwrap(), detail).key()
    }

    const T: &str = "610727001";

    #[test]
    fn chinese_numerals_are_read_both_ways() {
        assert_eq!(arabic_numerals("十二号"), "12号");
        assert_eq!(arabic_numerals("二十号"), "20号");
        assert_eq!(arabic_numerals("一百零五室"), "105室");
        assert_eq!(arabic_numerals("二〇一室"), "201室");
        assert_eq!(arabic_numerals("两千零三号"), "2003号");
        assert_eq!(arabic_numerals("三单元"), "3单元");
    }

    /// Pairs that name the same place.
    const SAME: &[(&str, &str)] = &[
        ("东环路12号3单元201室", "东环路12号3单元201"),
        ("东环路12号3单元201室", "东环路１２号３单元２０１室"),
        ("东环路12号3单元201室", "东环路 12 号 3 单元 201 室"),
        ("东环路12号3单元201室", "东环路十二号三单元二〇一室"),
        ("东环路12号3单元201室", "东环路十二号三单元二零一室"),
        ("东环路12号3单元201室", "略阳县兴州街道东环路12号3单元201室"),
        ("东环路12号3单元201室", "陕西省汉中市略阳县兴州街道东环路12号3单元201室"),
        ("东环路12号3单元201室", "兴州街道东环路12号3单元201室"),
        ("东环路12号3单元201室", "东环路12号，3单元，201室"),
        ("东环路12号3单元201室", "东环路12号3單元201室"),
        ("东环路12号3单元201室", "东环路12号3单元201房"),
        ("东环路12号3单元201室", "东环路12号3单元201户"),
        ("东环路12号3单元201室", "东环路（12号）3单元201室"),
        ("滨江花园3号楼2单元502", "滨江花园3栋2单元502室"),
        ("滨江花园3号楼2单元502", "滨江花园3幢2单元502"),
        ("滨江花园3号楼2单元502", "滨江花园3#楼2单元502"),
        ("滨江花园3号楼2单元502", "滨江花园三号楼二单元五〇二"),
        ("滨江花园3号楼2单元502", "滨江花园3座2单元502"),
        ("滨江花园3号楼2单元502", "滨江花园3号栋2单元502"),
        ("电商产业园A座15层1502", "电商产业园a座15层1502室"),
        ("电商产业园A座15层1502", "电商产业园A栋十五层一五〇二"),
        ("电商产业园A座15层1502", "电商产业园Ａ座１５层１５０２"),
        ("电商产业园A座15层1502", "电商产业园A座15層1502"),
        ("人民路100号", "人民路一百号"),
        ("人民路100号", "人民路壹佰号"),
        ("人民路100号", "人民路100#"),
        ("人民路100号", " 人民路100号 "),
        ("新华街8-2号", "新华街8－2号"),
        ("新华街8-2号", "新华街8—2号"),
        ("北大街二十一号附1号", "北大街21号附1号"),
        ("南街两号", "南街2号"),
        ("西环路3号院5号楼", "西环路三号院五号楼"),
    ];

    /// Pairs that must stay apart.
    const DIFFERENT: &[(&str, &str)] = &[
        ("东环路12号3单元201室", "东环路12号3单元202室"),
        ("东环路12号3单元201室", "东环路12号2单元201室"),
        ("东环路12号3单元201室", "东环路21号3单元201室"),
        ("东环路12号3单元201室", "西环路12号3单元201室"),
        ("滨江花园3号楼2单元502", "滨江花园3号楼2单元52"),
        ("人民路100号", "人民路10号"),
        ("人民路100号", "人民路1000号"),
        ("电商产业园A座15层1502", "电商产业园B座15层1502"),
        ("新华街8-2号", "新华街82号"),
        ("西环路3号院5号楼", "西环路5号院3号楼"),
        ("东环路12号3单元201室", "东环路12号3单元201室前院"),
    ];

    #[test]
    fn the_same_place_written_two_ways_is_one_address() {
        assert!(SAME.len() >= 30);
        for (a, b) in SAME {
            assert_eq!(key(T, a), key(T, b), "{a} vs {b}");
        }
    }

    #[test]
    fn different_places_stay_apart() {
        assert!(DIFFERENT.len() >= 10);
        for (a, b) in DIFFERENT {
            assert_ne!(key(T, a), key(T, b), "{a} vs {b}");
        }
        // The same words in another township are another place.
        assert_ne!(key("610727001", "东环路12号"), key("610727002", "东环路12号"));
    }
}
