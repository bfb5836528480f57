//! QR codes for verification URLs, drawn as vector shapes (never bitmaps) so
//! they stay sharp at any print or screen size.
//!
//! Level Q (25% recovery) survives a worn or partly covered storefront sticker;
//! capping the version at 11 (61×61 modules) keeps modules large enough for
//! phone cameras at the sizes the licence and badge print them.

use std::sync::OnceLock;

use pdf_writer::Content;
use qrcode::canvas::{Canvas, MaskPattern};
use qrcode::{Color, EcLevel, Version};

/// Highest QR version we accept: bigger symbols get too dense to scan from a
/// licence or badge at their printed size.
pub const MAX_VERSION: i16 = 11;

/// Light modules required around the symbol by ISO/IEC 18004.
pub const QUIET_ZONE: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("the URL needs QR version {0}, above the maximum {MAX_VERSION}")]
    TooDense(i16),
    #[error("the URL cannot be encoded as a QR code: {0}")]
    Encode(String),
}

/// An encoded symbol: a square of dark and light modules, one `u64` per row
/// (bit x = column x; version 11 is 61 wide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrMatrix {
    width: usize,
    version: i16,
    rows: Vec<u64>,
}

/// Encodes `url` at level Q with the crate's optimal mix of byte and
/// alphanumeric segments (an uppercase base32 credential packs at 5.5 bits a
/// character), refusing anything above [`MAX_VERSION`].
///
/// This is `QrCode::with_error_correction_level` step by step, except for
/// choosing the mask: the crate masks eight canvas copies and scores them
/// with an allocation per module (~2.5 ms a symbol, more than the rest of a
/// licence PDF). Here the masked function patterns come from a per-version
/// [`Template`] and scoring works on bit rows. Tests check the symbols are
/// identical to the crate's.
pub fn encode(url: &str) -> Result<QrMatrix, QrError> {
    let err = |e: qrcode::types::QrError| QrError::Encode(e.to_string());
    let bits = qrcode::bits::encode_auto(url.as_bytes(), EcLevel::Q).map_err(err)?;
    let version = bits.version();
    let number = match version {
        Version::Normal(v) | Version::Micro(v) => v,
    };
    if !(1..=MAX_VERSION).contains(&number) || version.is_micro() {
        return Err(QrError::TooDense(number));
    }
    let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::Q).map_err(err)?;
    let mut canvas = Canvas::new(version, EcLevel::Q);
    canvas.draw_all_functional_patterns();
    canvas.draw_data(&data, &ec);
    let width = version.width() as usize;
    let template = Template::get(version, number);
    // Data modules only: function patterns are equal in both and cancel out.
    let data: Vec<u64> = pack(canvas.into_colors(), width).iter().zip(&template.unmasked).map(|(u, f)| u ^ f).collect();
    let rows = template
        .masked
        .iter()
        .map(|m| m.iter().zip(&data).map(|(m, d)| m ^ d).collect::<Vec<u64>>())
        .min_by_key(|rows| penalty(rows, width))
        .expect("eight masks");
    Ok(QrMatrix { width, version: number, rows })
}

/// Mask patterns in the crate's order, so ties resolve the same way.
const MASKS: [MaskPattern; 8] = [
    MaskPattern::Checkerboard,
    MaskPattern::HorizontalLines,
    MaskPattern::VerticalLines,
    MaskPattern::DiagonalLines,
    MaskPattern::LargeCheckerboard,
    MaskPattern::Fields,
    MaskPattern::Diamonds,
    MaskPattern::Meadow,
];

/// What masking does to a symbol of one version, independent of its data.
/// A canvas holding only function patterns (data modules empty, i.e. light)
/// gives `unmasked`; masked with pattern m it gives `masked[m]`: the
/// function patterns with the format information for m, and m itself on
/// the data modules. For a symbol with data colours U the masked symbol is
/// then `masked[m] ^ (U ^ unmasked)`.
struct Template {
    unmasked: Vec<u64>,
    masked: Vec<Vec<u64>>,
}

impl Template {
    fn get(version: Version, number: i16) -> &'static Template {
        static TEMPLATES: [OnceLock<Template>; MAX_VERSION as usize] =
            [const { OnceLock::new() }; MAX_VERSION as usize];
        TEMPLATES[(number - 1) as usize].get_or_init(|| {
            let width = version.width() as usize;
            let mut canvas = Canvas::new(version, EcLevel::Q);
            canvas.draw_all_functional_patterns();
            let masked = MASKS
                .iter()
                .map(|&m| {
                    let mut c = canvas.clone();
                    c.apply_mask(m);
                    pack(c.into_colors(), width)
                })
                .collect();
            Template { unmasked: pack(canvas.into_colors(), width), masked }
        })
    }
}

fn pack(colors: Vec<Color>, width: usize) -> Vec<u64> {
    colors
        .chunks(width)
        .map(|row| row.iter().enumerate().fold(0u64, |acc, (x, &c)| acc | (u64::from(c == Color::Dark) << x)))
        .collect()
}

/// ISO/IEC 18004 mask penalty (rules N1–N4), scored exactly as the
/// `qrcode` crate does (balance unrounded, finder surroundings outside the
/// symbol counted as light), with rows and columns as bit sets so that the
/// eight candidates cost microseconds.
fn penalty(rows: &[u64], w: usize) -> u32 {
    let mut cols = [0u64; 64];
    for (y, &row) in rows.iter().enumerate() {
        let mut r = row;
        while r != 0 {
            cols[r.trailing_zeros() as usize] |= 1 << y;
            r &= r - 1;
        }
    }
    let cols = &cols[..w];
    let bits = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let mut score = 0u32;
    for &line in rows.iter().chain(cols) {
        // N1: runs of five or more of one colour score (length - 2). Bit x
        // of `changes` is set where module x differs from module x + 1.
        let mut changes = (line ^ (line >> 1)) & bits(w - 1);
        let mut start = 0u32;
        while changes != 0 {
            let end = changes.trailing_zeros() + 1;
            let run = end - start;
            if run >= 5 {
                score += run - 2;
            }
            start = end;
            changes &= changes - 1;
        }
        let run = w as u32 - start;
        if run >= 5 {
            score += run - 2;
        }
        // N3: 1:1:3:1:1 finder look-alikes (bit j set = pattern starts at
        // j) without four light modules on at least one side.
        const PATTERN: [bool; 7] = [true, false, true, true, true, false, true];
        let mut found = bits(w - 6);
        for (k, &d) in PATTERN.iter().enumerate() {
            found &= if d { line >> k } else { !(line >> k) };
        }
        while found != 0 {
            let j = found.trailing_zeros() as usize;
            let dark_in = |from: usize, to: usize| (line >> from) & bits(to.min(w).saturating_sub(from)) != 0;
            if !dark_in(j.saturating_sub(4), j) || !dark_in(j + 7, j + 11) {
                score += 40;
            }
            found &= found - 1;
        }
    }
    // N2: every 2×2 block of one colour, overlaps counted.
    for pair in rows.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let same = !(a ^ b) & !(a ^ (a >> 1)) & !(b ^ (b >> 1)) & bits(w - 1);
        score += 3 * same.count_ones();
    }
    // N4: distance of the dark ratio from 50%.
    let dark: u32 = rows.iter().map(|r| r.count_ones()).sum();
    let ratio = dark as usize * 200 / (w * w);
    score + ratio.abs_diff(100) as u32
}

impl QrMatrix {
    /// Width of the symbol in modules, without the quiet zone.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Width in modules including the quiet zone on both sides.
    pub fn width_with_quiet_zone(&self) -> usize {
        self.width + 2 * QUIET_ZONE
    }

    pub fn version(&self) -> i16 {
        self.version
    }

    /// Whether the module at column `x`, row `y` (from the top left) is dark.
    pub fn is_dark(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.width && self.rows[y] >> x & 1 == 1
    }

    /// Horizontal runs of dark modules as (row, first column, length): one
    /// shape per run instead of per module keeps the output small.
    pub fn dark_runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        self.rows.iter().enumerate().flat_map(|(y, &row)| {
            let mut rest = row;
            std::iter::from_fn(move || {
                if rest == 0 {
                    return None;
                }
                let start = rest.trailing_zeros() as usize;
                let len = (!(rest >> start)).trailing_zeros() as usize;
                rest &= !(((1u64 << len) - 1) << start);
                Some((y, start, len))
            })
        })
    }

    /// An SVG path in module units whose origin is the outer corner of the
    /// quiet zone, for a viewBox of `0 0 w w` with `w = width_with_quiet_zone()`.
    pub fn svg_path(&self) -> String {
        // Hand-formatted: `write!` per run was a third of the badge's time.
        fn num(d: &mut String, n: usize) {
            debug_assert!(n < 100, "version 11 with quiet zone is 69 wide");
            if n >= 10 {
                d.push(char::from(b'0' + (n / 10) as u8));
            }
            d.push(char::from(b'0' + (n % 10) as u8));
        }
        let mut d = String::with_capacity(self.width * self.width * 2);
        for (y, x, len) in self.dark_runs() {
            d.push('M');
            num(&mut d, x + QUIET_ZONE);
            d.push(' ');
            num(&mut d, y + QUIET_ZONE);
            d.push('h');
            num(&mut d, len);
            d.push_str("v1h-");
            num(&mut d, len);
            d.push('z');
        }
        d
    }

    /// Draws the symbol with its quiet zone (painted white, so it also works
    /// on a tinted background) into the square whose bottom-left corner is
    /// (`x`, `y`) and side `size`, in PDF user space units.
    pub fn draw_pdf(&self, content: &mut Content, x: f32, y: f32, size: f32) {
        let total = self.width_with_quiet_zone() as f32;
        content.save_state();
        content.set_fill_gray(1.0).rect(x, y, size, size).fill_nonzero();
        // One module = one unit, y pointing down: integer coordinates only.
        let m = size / total;
        content.transform([m, 0.0, 0.0, -m, x, y + size]);
        content.set_fill_gray(0.0);
        for (row, col, len) in self.dark_runs() {
            content.rect((col + QUIET_ZONE) as f32, (row + QUIET_ZONE) as f32, len as f32, 1.0);
        }
        content.fill_nonzero();
        content.restore_state();
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A credential like the ones the verification service issues: 160
    /// characters of RFC 4648 base32 (`A-Z2-7`), uppercase, unpadded.
    pub(crate) fn credential(len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        (0..len).map(|i| char::from(ALPHABET[(i * 7 + i / 3) % 32])).collect()
    }

    #[test]
    fn a_160_character_credential_behind_a_40_character_origin_fits_version_11() {
        let origin = "https://greenchannel.example.gov.cn:8443";
        assert_eq!(origin.len(), 40);
        let url = format!("{origin}/v/{}", credential(160));
        let qr = encode(&url).unwrap();
        assert!(qr.version() <= MAX_VERSION, "version {}", qr.version());
        assert_eq!(qr.width(), 17 + 4 * qr.version() as usize);

        let local = format!("http://127.0.0.1:8080/v/{}", credential(160));
        assert!(encode(&local).unwrap().version() <= MAX_VERSION);
    }

    #[test]
    fn a_much_longer_url_is_refused() {
        let url = format!("https://greenchannel.example.gov.cn/v/{}", credential(400));
        assert!(matches!(encode(&url), Err(QrError::TooDense(v)) if v > MAX_VERSION));
        let lower = format!("https://greenchannel.example.gov.cn/v/{}", credential(200).to_lowercase());
        assert!(matches!(encode(&lower), Err(QrError::TooDense(_))), "lowercase packs as bytes");
    }

    /// The crate's scoring transcribed module by module, as a reference.
    fn penalty_reference(dark: &[bool], w: usize) -> u32 {
        let at = |x: usize, y: usize, horizontal: bool| if horizontal { dark[y * w + x] } else { dark[x * w + y] };
        let mut score = 0u32;
        for horizontal in [true, false] {
            for i in 0..w {
                let mut run = 1u32;
                for j in 1..=w {
                    if j < w && at(j, i, horizontal) == at(j - 1, i, horizontal) {
                        run += 1;
                    } else {
                        if run >= 5 {
                            score += run - 2;
                        }
                        run = 1;
                    }
                }
                const PATTERN: [bool; 7] = [true, false, true, true, true, false, true];
                for j in 0..w - 6 {
                    if (0..7).any(|k| at(j + k, i, horizontal) != PATTERN[k]) {
                        continue;
                    }
                    let dark_in = |from: usize, to: usize| (from..to.min(w)).any(|k| at(k, i, horizontal));
                    if !dark_in(j.saturating_sub(4), j) || !dark_in(j + 7, j + 11) {
                        score += 40;
                    }
                }
            }
        }
        for y in 0..w - 1 {
            for x in 0..w - 1 {
                let c = dark[y * w + x];
                if dark[y * w + x + 1] == c && dark[(y + 1) * w + x] == c && dark[(y + 1) * w + x + 1] == c {
                    score += 3;
                }
            }
        }
        let ratio = dark.iter().filter(|&&d| d).count() * 200 / dark.len();
        score + ratio.abs_diff(100) as u32
    }

    fn sample_urls() -> Vec<String> {
        let mut urls = vec!["http://127.0.0.1:8080/v/ABC".to_string(), "https://example.com/a-b?c=d".to_string()];
        for len in (0..=180).step_by(12) {
            urls.push(format!("http://127.0.0.1:8080/v/{}", credential(len)));
            urls.push(format!("https://greenchannel.example.gov.cn/v/{}", credential(len)));
        }
        urls
    }

    #[test]
    fn packed_penalty_equals_the_reference_for_every_mask() {
        for url in sample_urls() {
            let bits = qrcode::bits::encode_auto(url.as_bytes(), EcLevel::Q).unwrap();
            let version = bits.version();
            let (data, ec) = qrcode::ec::construct_codewords(&bits.into_bytes(), version, EcLevel::Q).unwrap();
            let mut canvas = Canvas::new(version, EcLevel::Q);
            canvas.draw_all_functional_patterns();
            canvas.draw_data(&data, &ec);
            let w = version.width() as usize;
            for mask in MASKS {
                let mut c = canvas.clone();
                c.apply_mask(mask);
                let colors = c.into_colors();
                let dark: Vec<bool> = colors.iter().map(|&c| c == Color::Dark).collect();
                assert_eq!(penalty(&pack(colors, w), w), penalty_reference(&dark, w), "{url} {mask:?}");
            }
        }
    }

    #[test]
    fn symbols_match_the_qrcode_crate_exactly() {
        for url in sample_urls() {
            let ours = encode(&url).unwrap();
            let theirs = qrcode::QrCode::with_error_correction_level(url.as_bytes(), EcLevel::Q).unwrap();
            assert_eq!(ours.width, theirs.width());
            for y in 0..ours.width {
                for x in 0..ours.width {
                    assert_eq!(ours.is_dark(x, y), theirs[(x, y)] == Color::Dark, "{url} ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn svg_path_covers_exactly_the_dark_modules() {
        let qr = encode("http://127.0.0.1:8080/v/ABC").unwrap();
        let dark =
            (0..qr.width()).flat_map(|y| (0..qr.width()).map(move |x| (x, y))).filter(|&(x, y)| qr.is_dark(x, y));
        let runs: usize = qr.dark_runs().map(|(_, _, len)| len).sum();
        assert_eq!(dark.count(), runs);
        // The finder pattern's top-left corner sits inside the quiet zone.
        assert!(qr.svg_path().starts_with("M4 4h7v1h-7z"));
        assert_eq!(encode("http://127.0.0.1:8080/v/ABC").unwrap(), qr);
    }
}
