//! The storefront display badge (亮照): a small SVG a shop embeds on its page
//! to show its licence, with a QR code leading to the verification page.
//!
//! Text stays text (searchable, accessible, crisp); it is measured with the
//! embedded font's metrics, which CJK fonts share closely enough (one em per
//! ideograph) for the layout to hold with whatever font the viewer has.

use std::fmt::Write as _;

use super::font::FONT;
use super::qr::{self, QrMatrix};

const WIDTH: f32 = 320.0;
const HEIGHT: f32 = 120.0;
const RED: &str = "#b3171c";
const FAMILY: &str =
    "'WenQuanYi Micro Hei','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif";
/// The QR square (quiet zone included) and the text column to its right.
const QR_X: f32 = 6.0;
const QR_Y: f32 = 4.0;
const QR_SIZE: f32 = 100.0;
const TEXT_X: f32 = 114.0;
const TEXT_W: f32 = WIDTH - TEXT_X - 10.0;

/// Renders the badge. `name` is `None` for an individual business registered
/// without a name. A URL too long for a scannable QR code yields a badge
/// without one rather than an error: the text still identifies the licence.
pub fn svg(name: Option<&str>, uscc: &str, verify_url: &str) -> String {
    let qr = qr::encode(verify_url).ok();
    let shown = name.unwrap_or("个体工商户");
    let mut s = String::with_capacity(8 * 1024);
    let label = format!("电子营业执照 {shown} 统一社会信用代码 {uscc}");
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}"><title>{label}</title>"#,
        label = escape(&label),
    );
    let _ = write!(
        s,
        r##"<rect x="1" y="1" width="{w}" height="{h}" rx="8" fill="#fff" stroke="{RED}" stroke-width="2"/>"##,
        w = WIDTH - 2.0,
        h = HEIGHT - 2.0,
    );
    if let Some(qr) = &qr {
        qr_group(&mut s, qr);
    }
    let _ = write!(s, r#"<g font-family="{FAMILY}">"#);
    text(&mut s, QR_X + QR_SIZE / 2.0, 114.0, 10.0, "#555", "middle", "扫码核验");
    text(&mut s, TEXT_X, 29.0, 19.0, RED, "start", "电子营业执照");
    let (size, lines) = fit_name(shown);
    let first = if lines.len() > 1 { 52.0 } else { 58.0 };
    for (i, line) in lines.iter().enumerate() {
        text(&mut s, TEXT_X, first + i as f32 * (size + 3.0), size, "#111", "start", line);
    }
    text(&mut s, TEXT_X, 91.0, 10.0, "#555", "start", "统一社会信用代码");
    text(&mut s, TEXT_X, 108.0, 14.0, "#111", "start", uscc);
    s.push_str("</g></svg>");
    s
}

/// The QR on a white square (quiet zone included), scaled from module units.
fn qr_group(s: &mut String, qr: &QrMatrix) {
    let n = qr.width_with_quiet_zone();
    let scale = QR_SIZE / n as f32;
    let _ = write!(
        s,
        r##"<g transform="translate({QR_X} {QR_Y}) scale({scale})"><rect width="{n}" height="{n}" fill="#fff"/><path d="{}" fill="#000" shape-rendering="crispEdges"/></g>"##,
        qr.svg_path()
    );
}

/// The largest size (15 down to 10 px) at which the name fits two lines;
/// beyond that the second line is cut with an ellipsis.
fn fit_name(name: &str) -> (f32, Vec<String>) {
    for size in [15.0, 14.0, 13.0, 12.0, 11.0, 10.0] {
        let lines = FONT.wrap(name, TEXT_W, size);
        if lines.len() <= 2 {
            return (size, lines.into_iter().map(String::from).collect());
        }
    }
    let size = 10.0;
    let lines = FONT.wrap(name, TEXT_W, size);
    let mut second: String = lines[1].to_string();
    while FONT.text_width(&second, size) + FONT.text_width("…", size) > TEXT_W {
        second.pop();
    }
    second.push('…');
    (size, vec![lines[0].to_string(), second])
}

fn text(s: &mut String, x: f32, y: f32, size: f32, fill: &str, anchor: &str, content: &str) {
    let _ = write!(
        s,
        r#"<text x="{x}" y="{y}" font-size="{size}" fill="{fill}" text-anchor="{anchor}">{}</text>"#,
        escape(content)
    );
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::licence_pdf::tests::url;
    use crate::documents::testing::{have, output_dir, run, scan};

    #[test]
    fn badge_is_deterministic_and_escapes_text() {
        let u = url("https://greenchannel.example.gov.cn");
        let a = svg(Some("A&B<商行>\"'"), "92610727MA6Y8K3L44", &u);
        assert_eq!(a, svg(Some("A&B<商行>\"'"), "92610727MA6Y8K3L44", &u));
        assert!(a.contains("A&amp;B&lt;商行&gt;&quot;&apos;"));
        assert!(!a.contains("A&B"));
        assert!(a.starts_with("<svg ") && a.ends_with("</svg>"));
        assert!(svg(None, "92610727MA6Y8K3L44", &u).contains(">个体工商户</text>"));
    }

    #[test]
    fn long_names_take_two_lines_and_never_overflow() {
        let (size, lines) = fit_name("西安秦岭云数字科技有限公司");
        assert_eq!((size, lines.len()), (15.0, 1));
        let (_, lines) = fit_name("陕西省汉中市略阳县接官亭镇何家岩村秦岭生态农业专业合作社联合社电子商务服务中心");
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
        assert!(lines.iter().all(|l| FONT.text_width(l, 10.0) <= TEXT_W));
    }

    /// Rasterises the badge with rsvg-convert at 4× and scans the QR back.
    fn check_with_tools(stem: &str, name: Option<&str>, uscc: &str, verify_url: &str) {
        let dir = output_dir();
        let path = dir.join(format!("{stem}.svg"));
        std::fs::write(&path, svg(name, uscc, verify_url)).unwrap();
        if !have(&[("rsvg-convert", "librsvg2-bin"), ("zbarimg", "zbar-tools")]) {
            return;
        }
        let png = path.with_extension("png");
        run("rsvg-convert", &["-z", "4", "-o", png.to_str().unwrap(), path.to_str().unwrap()]);
        assert_eq!(scan(&png), verify_url);
    }

    #[test]
    fn badge_qr_scans_after_rasterising() {
        check_with_tools(
            "badge-company",
            Some("西安秦岭云数字科技有限公司"),
            "91610103MA7BQ2XN5E",
            &url("https://greenchannel.example.gov.cn"),
        );
        check_with_tools("badge-individual", None, "92610727MA6Y8K3L44", &url("http://127.0.0.1:8080"));
        check_with_tools(
            "badge-long-name",
            Some("略阳县接官亭镇何家岩村秦岭生态农业专业合作社"),
            "93610727MA6Y8K3L4X",
            &url("https://greenchannel.example.gov.cn"),
        );
    }
}
