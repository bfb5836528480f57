//! Input normalisation shared by every parser: phones and government forms
//! mix full-width and half-width characters freely.

/// Full-width ASCII variants (U+FF01..U+FF5E) and the ideographic space to
/// their ASCII forms; everything else unchanged.
pub fn to_half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Trim, convert to half width and upper-case: the form codes are compared in.
pub fn normalize_code(s: &str) -> String {
    to_half_width(s.trim()).trim().to_ascii_uppercase()
}

/// True for CJK unified ideographs (the basic block and extension A), the
/// characters a standard-script name may use.
pub fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}')
}

/// A traditional character (龍, 縣, 電 …), not a standard one: names use
/// standard characters, and a traditional spelling of a registered name
/// would otherwise not be seen as the same name. The list and where it
/// comes from: `reference/traditional-characters.txt`.
pub fn is_traditional(c: char) -> bool {
    static LIST: std::sync::LazyLock<Vec<char>> = std::sync::LazyLock::new(|| {
        let mut v: Vec<char> = include_str!("../../reference/traditional-characters.txt")
            .lines()
            .filter(|l| !l.starts_with('#'))
            .flat_map(str::chars)
            .collect();
        v.sort_unstable();
        v
    });
    is_han(c) && LIST.binary_search(&c).is_ok()
}

/// Invisible formatting characters: zero-width spaces and joiners, bidi
/// embeddings, overrides and isolates, the BOM, soft hyphen. They carry no
/// meaning in a name or address and are used to make one text look like
/// another (a "李\u{200B}四" that displays as 李四, a reversed URL).
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invisible_formatting_is_recognised_and_visible_text_is_not() {
        for c in ['\u{200B}', '\u{200D}', '\u{202E}', '\u{2066}', '\u{FEFF}', '\u{00AD}', '\u{FE0F}'] {
            assert!(is_invisible_format(c), "{:X}", c as u32);
        }
        for c in ['李', 'a', ' ', '\u{3000}', '·', '（'] {
            assert!(!is_invisible_format(c), "{c}");
        }
    }

    #[test]
    fn full_width_digits_letters_and_spaces_become_ascii() {
        assert_eq!(to_half_width("９１ＡＢｘ　１"), "91ABx 1");
        assert_eq!(normalize_code(" ９１ａｂ "), "91AB");
    }
}
