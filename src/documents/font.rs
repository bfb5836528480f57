//! The CJK font every document is set in: WenQuanYi Micro Hei (Apache-2.0),
//! shipped in `templates/fonts/` and compiled into the binary so rendering
//! never depends on what is installed on the host.
//!
//! The font is parsed once into lookup tables ([`FONT`]); each document then
//! collects the glyphs it uses in a [`Subset`], which writes a subsetted
//! Type0 / CIDFontType2 font (Identity-H, ToUnicode) into the PDF.

use std::sync::LazyLock;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Chunk, Finish, Name, Rect, Ref, Str};
use sha2::{Digest, Sha256};
use subsetter::GlyphRemapper;

use super::DocumentError;

/// One TrueType face extracted from Debian's `fonts-wqy-microhei`; see
/// `templates/fonts/README.md` for provenance and licence.
pub static FONT_DATA: &[u8] = include_bytes!("../../templates/fonts/wqy-microhei.ttf");

/// The font's PostScript name, written after the subset tag.
const POSTSCRIPT_NAME: &str = "WenQuanYiMicroHei";

/// The embedded font, parsed on first use into tables that make glyph and
/// width lookups O(1): layout measures every character several times.
pub static FONT: LazyLock<Font> = LazyLock::new(|| Font::parse(FONT_DATA).expect("the embedded font parses"));

/// Glyph lookup and metrics of the embedded font, in PDF text space units
/// (1/1000 em) so callers multiply by the font size and divide by 1000.
pub struct Font {
    /// Glyph id for every BMP code point (0 = missing).
    bmp: Vec<u16>,
    /// Glyph ids outside the BMP, sorted by code point.
    astral: Vec<(u32, u16)>,
    /// Advance width of each glyph, in 1/1000 em.
    advances: Vec<f32>,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    bbox: Rect,
    stem_v: f32,
}

impl Font {
    fn parse(data: &[u8]) -> Result<Self, ttf_parser::FaceParsingError> {
        let face = ttf_parser::Face::parse(data, 0)?;
        let scale = 1000.0 / f32::from(face.units_per_em());
        let mut bmp = vec![0u16; 0x1_0000];
        let mut astral = Vec::new();
        if let Some(cmap) = face.tables().cmap {
            for table in cmap.subtables.into_iter().filter(|t| t.is_unicode()) {
                table.codepoints(|cp| {
                    let Some(gid) = table.glyph_index(cp) else { return };
                    match usize::try_from(cp) {
                        Ok(i) if i < bmp.len() => {
                            if bmp[i] == 0 {
                                bmp[i] = gid.0;
                            }
                        }
                        _ => astral.push((cp, gid.0)),
                    }
                });
            }
        }
        astral.sort_unstable();
        astral.dedup_by_key(|(cp, _)| *cp);
        let advances = (0..face.number_of_glyphs())
            .map(|g| f32::from(face.glyph_hor_advance(ttf_parser::GlyphId(g)).unwrap_or(0)) * scale)
            .collect();
        let b = face.global_bounding_box();
        let s = |v: i16| f32::from(v) * scale;
        Ok(Self {
            bmp,
            astral,
            advances,
            ascent: s(face.ascender()),
            descent: s(face.descender()),
            cap_height: s(face.capital_height().unwrap_or(face.ascender())),
            bbox: Rect::new(s(b.x_min), s(b.y_min), s(b.x_max), s(b.y_max)),
            // The usual estimate from the weight class (PDF needs some value).
            stem_v: 10.0 + 0.244 * (f32::from(face.weight().to_number()) - 50.0),
        })
    }

    /// The glyph id for `c`, 0 (.notdef) when the font lacks it.
    pub fn glyph(&self, c: char) -> u16 {
        let cp = u32::from(c);
        match self.bmp.get(cp as usize) {
            Some(&g) => g,
            None => self.astral.binary_search_by_key(&cp, |&(k, _)| k).map(|i| self.astral[i].1).unwrap_or(0),
        }
    }

    pub fn has_glyph(&self, c: char) -> bool {
        self.glyph(c) != 0
    }

    /// Advance width of `c` in 1/1000 em.
    pub fn advance(&self, c: char) -> f32 {
        self.advances.get(usize::from(self.glyph(c))).copied().unwrap_or(0.0)
    }

    /// Width of `text` set at `size` points, without kerning (we do not shape).
    pub fn text_width(&self, text: &str, size: f32) -> f32 {
        text.chars().map(|c| self.advance(c)).sum::<f32>() * size / 1000.0
    }

    /// Greedy line breaking to `width` points at `size`. CJK breaks between
    /// any two characters, Latin words at spaces and after `/ . - ? & =`, and a
    /// run longer than a line (a URL, a credential) anywhere. Closing
    /// punctuation does not start a line, nor opening punctuation end one,
    /// as Chinese typesetting expects (unless a line has no other break).
    pub fn wrap<'a>(&self, text: &'a str, width: f32, size: f32) -> Vec<&'a str> {
        let limit = width * 1000.0 / size;
        let mut lines = Vec::new();
        let mut start = 0; // byte index where the current line begins
        let mut used = 0.0; // width of text[start..i], 1/1000 em
        let mut brk: Option<(usize, f32)> = None; // last break opportunity, width before it
        let mut prev: Option<char> = None;
        for (i, c) in text.char_indices() {
            if i == start && c == ' ' {
                start = i + 1;
                prev = None;
                continue;
            }
            if i > start && prev.is_some_and(|p| can_break_between(p, c)) {
                brk = Some((i, used));
            }
            let w = self.advance(c);
            if used + w > limit && i > start {
                let (at, w_at) = match brk {
                    Some((b, wb)) if b > start => (b, wb),
                    _ => (i, used),
                };
                lines.push(text[start..at].trim());
                start = at;
                used -= w_at;
                brk = None;
                if at == i && c == ' ' {
                    start = i + 1;
                    used = 0.0;
                    prev = None;
                    continue;
                }
            }
            used += w;
            prev = Some(c);
        }
        lines.push(text[start..].trim());
        lines.retain(|l| !l.is_empty());
        lines
    }
}

fn is_cjk(c: char) -> bool {
    matches!(u32::from(c),
        0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

/// Characters that must not begin a line (closing marks and stops).
fn no_line_start(c: char) -> bool {
    "，。、；：？！）】」』》〉”’·…—％,.;:?!)]}%".contains(c)
}

/// Characters that must not end a line (opening brackets and quotes).
fn no_line_end(c: char) -> bool {
    "（【「『《〈“‘([{".contains(c)
}

fn can_break_between(prev: char, next: char) -> bool {
    if no_line_start(next) || no_line_end(prev) {
        return false;
    }
    prev == ' '
        || is_cjk(prev)
        || is_cjk(next)
        || (matches!(prev, '/' | '.' | '-' | '?' | '&' | '=' | '_') && next.is_ascii_alphanumeric())
}

/// The glyphs one document uses. Glyph ids in the subset are assigned in
/// order of first use, so the bytes of a document depend only on its text.
pub struct Subset {
    remapper: GlyphRemapper,
    /// The character each new glyph id stands for (for ToUnicode).
    chars: Vec<Option<char>>,
    /// Advance of each new glyph id, 1/1000 em.
    widths: Vec<f32>,
}

/// Object ids of the five PDF objects one embedded font needs.
#[derive(Debug, Clone, Copy)]
pub struct FontRefs {
    pub type0: Ref,
    pub cid: Ref,
    pub descriptor: Ref,
    pub file: Ref,
    pub to_unicode: Ref,
}

impl Default for Subset {
    fn default() -> Self {
        Self::new()
    }
}

impl Subset {
    pub fn new() -> Self {
        Self { remapper: GlyphRemapper::new(), chars: vec![None], widths: vec![FONT.advances[0]] }
    }

    /// Encodes `text` as two-byte CIDs for an Identity-H font, appending to
    /// `out`, and records the glyphs used.
    pub fn encode_into(&mut self, text: &str, out: &mut Vec<u8>) {
        let font = &*FONT;
        for c in text.chars() {
            let old = font.glyph(c);
            let before = self.remapper.num_gids();
            let new = self.remapper.remap(old);
            if self.remapper.num_gids() != before {
                self.chars.push(Some(c));
                self.widths.push(font.advances[usize::from(old)]);
            }
            out.extend_from_slice(&new.to_be_bytes());
        }
    }

    pub fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        self.encode_into(text, &mut out);
        out
    }

    /// The six-letter subset tag PDF requires (`ABCDEF+Name`), derived from
    /// the glyph list so that equal documents carry equal tags.
    pub fn tag(&self) -> String {
        let mut h = Sha256::new();
        for g in self.remapper.remapped_gids() {
            h.update(g.to_be_bytes());
        }
        h.finalize().iter().take(6).map(|b| char::from(b'A' + b % 26)).collect()
    }

    /// Writes the subsetted font's objects into `chunk`.
    pub fn write(&self, chunk: &mut Chunk, refs: FontRefs) -> Result<(), DocumentError> {
        let font = &*FONT;
        let data = subsetter::subset(FONT_DATA, 0, &self.remapper).map_err(|e| DocumentError::Font(e.to_string()))?;
        let base = format!("{}+{POSTSCRIPT_NAME}", self.tag());
        let base = Name(base.as_bytes());
        let info = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };

        chunk
            .type0_font(refs.type0)
            .base_font(base)
            .encoding_predefined(Name(b"Identity-H"))
            .descendant_font(refs.cid)
            .to_unicode(refs.to_unicode);

        let mut cid = chunk.cid_font(refs.cid);
        cid.subtype(CidFontType::Type2)
            .base_font(base)
            .system_info(info)
            .font_descriptor(refs.descriptor)
            .default_width(1000.0)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        cid.widths().consecutive(0, self.widths.iter().copied());
        cid.finish();

        chunk
            .font_descriptor(refs.descriptor)
            .name(base)
            .flags(FontFlags::SYMBOLIC)
            .bbox(font.bbox)
            .italic_angle(0.0)
            .ascent(font.ascent)
            .descent(font.descent)
            .cap_height(font.cap_height)
            .stem_v(font.stem_v)
            .font_file2(refs.file);

        let len = i32::try_from(data.len()).map_err(|_| DocumentError::Font("subset too large".into()))?;
        chunk
            .stream(refs.file, &super::deflate(&data))
            .filter(pdf_writer::Filter::FlateDecode)
            .pair(Name(b"Length1"), len);

        let mut cmap = UnicodeCmap::new(Name(b"Custom"), info);
        for (gid, c) in self.chars.iter().enumerate() {
            if let (Some(c), Ok(gid)) = (c, u16::try_from(gid)) {
                cmap.pair(gid, *c);
            }
        }
        let cmap = cmap.finish();
        chunk.cmap(refs.to_unicode, cmap.as_slice());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_the_basic_cjk_block_and_name_characters() {
        let f = &*FONT;
        let missing = (0x4E00..=0x9FA5).filter_map(char::from_u32).filter(|&c| !f.has_glyph(c)).count();
        assert_eq!(missing, 0, "every CJK Unified Ideograph U+4E00..U+9FA5 has a glyph");
        for c in "堃喆玥珺翀啰昇淼犇鑫垚〇·（）：；。、营业执照ABCxyz0123456789/".chars() {
            assert!(f.has_glyph(c), "{c}");
        }
    }

    #[test]
    fn cjk_is_one_em_wide() {
        assert!((FONT.text_width("营业执照", 10.0) - 40.0).abs() < 0.01);
        assert!(FONT.text_width("abc", 10.0) < 20.0);
    }

    #[test]
    fn wraps_cjk_per_character_and_keeps_punctuation_off_line_starts() {
        let lines = FONT.wrap("一二三四五，六七八九十", 50.0, 10.0);
        assert_eq!(lines, ["一二三四", "五，六七八", "九十"]);
    }

    #[test]
    fn wraps_latin_runs_and_urls() {
        let url = format!("https://greenchannel.example.gov.cn/v/{}", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".repeat(5));
        let lines = FONT.wrap(&url, 120.0, 8.0);
        assert!(lines.len() > 2);
        assert_eq!(lines.concat(), url);
        for l in &lines {
            assert!(FONT.text_width(l, 8.0) <= 120.0 + 1e-3, "{l}");
        }
        assert_eq!(FONT.wrap("hello wide world", 40.0, 10.0), ["hello", "wide", "world"]);
    }

    #[test]
    fn subset_tag_is_deterministic_and_depends_on_glyphs() {
        let mut a = Subset::new();
        let mut b = Subset::new();
        assert_eq!(a.encode("营业执照"), b.encode("营业执照"));
        assert_eq!(a.tag(), b.tag());
        assert_eq!(a.tag().len(), 6);
        assert!(a.tag().chars().all(|c| c.is_ascii_uppercase()));
        b.encode("张");
        assert_ne!(a.tag(), b.tag());
    }
}
