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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_digits_letters_and_spaces_become_ascii() {
        assert_eq!(to_half_width("９１ＡＢｘ　１"), "91ABx 1");
        assert_eq!(normalize_code(" ９１ａｂ "), "91AB");
    }
}
