//! The electronic business licence (营业执照) as a one-page A4 PDF, laid out
//! like the printed duplicate: frame, title, credit code and QR at the top,
//! labelled fields, business scope, registration authority and date.
//!
//! Output is byte-for-byte deterministic: no creation date, the file ID is a
//! hash of the inputs and the font subset tag a hash of its glyphs. Anything
//! that does not depend on the document (the frame) is built once.

use std::sync::LazyLock;

use chrono::{DateTime, NaiveDate, Utc};
use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, TextStr};
use sha2::{Digest, Sha256};

use super::DocumentError;
use super::canvas::{Canvas, FONT_NAME, PAGE_H, PAGE_W};
use super::font::{FONT, FontRefs, Subset};
use super::qr;
use crate::domain::licence::{LicenceContent, date_in_china};

/// Marks an old licence version as replaced by a newer one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superseded {
    pub by_version: i32,
    pub at: DateTime<Utc>,
}

/// Text column edges (inside the frame and its corner ornaments).
const LEFT: f32 = 68.0;
const RIGHT: f32 = PAGE_W - 68.0;
const CENTRE: f32 = PAGE_W / 2.0;
/// Label column: labels are spread over six character widths.
const LABEL_X: f32 = LEFT + 8.0;
const LABEL_CHARS: f32 = 6.0;
const VALUE_X: f32 = LABEL_X + 12.0 * LABEL_CHARS + 18.0;
const VALUE_W: f32 = RIGHT - 4.0 - VALUE_X;
/// First body baseline and the lowest one allowed (above the authority block).
const BODY_TOP: f32 = 630.0;
const BODY_BOTTOM: f32 = 204.0;
/// Seal red for the frame and the superseded marks.
const RED: (f32, f32, f32) = (0.7, 0.09, 0.11);
const ALPHA: Name<'static> = Name(b"GS1");

/// (field size, scope size) pairs tried in order until the body fits.
const SIZES: [(f32, f32); 10] = [
    (12.0, 11.0),
    (12.0, 10.5),
    (12.0, 10.0),
    (12.0, 9.5),
    (12.0, 9.0),
    (11.0, 8.5),
    (11.0, 8.0),
    (10.5, 7.5),
    (10.0, 7.0),
    (9.0, 6.5),
];

/// Renders one licence version. `verify_url` goes into the QR code and the
/// footer; `superseded` stamps an old version as replaced.
pub fn render(
    content: &LicenceContent,
    verify_url: &str,
    superseded: Option<&Superseded>,
) -> Result<Vec<u8>, DocumentError> {
    let qr = qr::encode(verify_url)?;
    let premises = extra_premises(content);
    let body = Body::fit(content, &premises)?;

    let mut c = Canvas::new();
    header(&mut c, content, &qr);
    body.draw(&mut c);
    authority(&mut c, content);
    footer(&mut c, verify_url);
    if let Some(s) = superseded {
        stamp(&mut c, s);
    }

    let mut stream = Vec::with_capacity(FRAME.len() + c.content.len());
    stream.extend_from_slice(&FRAME);
    stream.push(b'\n');
    stream.extend_from_slice(c.content.finish().as_slice());
    assemble(content, verify_url, superseded, &stream, &c.font)
}

/// Premises not already printed as a field (an individual business prints
/// its main place of business as 经营场所), numbered when several remain.
fn extra_premises(content: &LicenceContent) -> (&'static str, Vec<String>) {
    let rest: Vec<&String> =
        content.premises.iter().filter(|p| !content.fields.iter().any(|f| &f.value == *p)).collect();
    let label = if content.field("经营场所").is_some() { "其他经营场所" } else { "经营场所" };
    let lines = if rest.len() == 1 {
        vec![rest[0].clone()]
    } else {
        rest.iter().enumerate().map(|(i, p)| format!("{}．{p}", i + 1)).collect()
    };
    (label, lines)
}

/// The frame: a heavy outer rule, a band of lozenges, a fine inner rule and
/// corner brackets. Independent of the document, so built once.
static FRAME: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut c = Content::new();
    c.save_state();
    c.set_stroke_rgb(RED.0, RED.1, RED.2).set_fill_rgb(RED.0, RED.1, RED.2);
    let inset_rect = |c: &mut Content, inset: f32| {
        c.rect(inset, inset, PAGE_W - 2.0 * inset, PAGE_H - 2.0 * inset);
    };
    c.set_line_width(2.4);
    inset_rect(&mut c, 22.0);
    c.stroke();
    c.set_line_width(0.8);
    inset_rect(&mut c, 34.0);
    c.stroke();
    // Lozenges along the band between the rules, evenly spread per side.
    let band = 28.0;
    let r = 2.4;
    let diamond = |c: &mut Content, x: f32, y: f32| {
        c.move_to(x, y - r).line_to(x + r, y).line_to(x, y + r).line_to(x - r, y).close_path();
    };
    for (from, to, horizontal) in [(band, PAGE_W - band, true), (band, PAGE_H - band, false)] {
        let n = ((to - from) / 9.0).round();
        let step = (to - from) / n;
        for i in 1..n as i32 {
            let t = from + step * i as f32;
            if horizontal {
                diamond(&mut c, t, band);
                diamond(&mut c, t, PAGE_H - band);
            } else {
                diamond(&mut c, band, t);
                diamond(&mut c, PAGE_W - band, t);
            }
        }
    }
    for (x, y) in [(band, band), (PAGE_W - band, band), (band, PAGE_H - band), (PAGE_W - band, PAGE_H - band)] {
        c.rect(x - 4.5, y - 4.5, 9.0, 9.0);
    }
    c.fill_nonzero();
    // Corner brackets inside the inner rule.
    for (inset, len, width) in [(40.0, 26.0, 1.4), (44.5, 15.0, 0.6)] {
        c.set_line_width(width);
        for (sx, sy) in [(1.0, 1.0), (-1.0, 1.0), (1.0, -1.0), (-1.0, -1.0)] {
            let x = if sx > 0.0 { inset } else { PAGE_W - inset };
            let y = if sy > 0.0 { inset } else { PAGE_H - inset };
            c.move_to(x, y + sy * len).line_to(x, y).line_to(x + sx * len, y);
        }
        c.stroke();
    }
    c.restore_state();
    c.finish().into_vec()
});

/// Credit code (top left), title (centre), QR and its caption (top right),
/// version (under the title).
fn header(c: &mut Canvas, content: &LicenceContent, qr: &qr::QrMatrix) {
    c.text(LEFT + 4.0, 772.0, 10.5, "统一社会信用代码");
    c.spaced(LEFT + 4.0, 753.0, 14.0, 0.6, &content.uscc);

    // The white quiet zone stays clear of the corner brackets (x ≥ 529).
    let size = 112.0;
    let (x, y) = (RIGHT + 1.0 - size, 678.0);
    qr.draw_pdf(&mut c.content, x, y, size);
    c.centred(x + size / 2.0, y - 9.0, 8.0, "扫描二维码核验");

    // The title in a heavier cut: fill plus a thin stroke of the outline.
    let (size, spacing) = (42.0, 14.0);
    let title = "营业执照";
    let width = FONT.text_width(title, size) + spacing * 3.0;
    c.content.save_state();
    c.content.set_line_width(0.9).set_text_rendering_mode(TextRenderingMode::FillStroke);
    c.spaced(CENTRE - width / 2.0, 700.0, size, spacing, title);
    c.content.restore_state();
    c.centred(CENTRE, 668.0, 11.0, &format!("（第{}版）", content.version));
}

/// One labelled block of the body.
struct Block<'a> {
    label: &'a str,
    lines: Vec<&'a str>,
    size: f32,
    leading: f32,
}

/// The labelled fields, the scope and any further premises, wrapped at the
/// largest type sizes that fit the space between header and authority.
struct Body<'a> {
    blocks: Vec<Block<'a>>,
    label_size: f32,
    gap: f32,
}

impl<'a> Body<'a> {
    fn fit(content: &'a LicenceContent, premises: &'a (&'static str, Vec<String>)) -> Result<Self, DocumentError> {
        for (size, scope_size) in SIZES {
            let body = Self::layout(content, premises, size, scope_size);
            if BODY_TOP - body.height() >= BODY_BOTTOM {
                return Ok(body);
            }
        }
        Err(DocumentError::TooLong)
    }

    fn layout(content: &'a LicenceContent, premises: &'a (&'static str, Vec<String>), size: f32, scope: f32) -> Self {
        let block = |label: &'a str, texts: &mut dyn Iterator<Item = &'a str>, size: f32, leading: f32| Block {
            label,
            lines: texts.flat_map(|t| FONT.wrap(t, VALUE_W, size)).collect(),
            size,
            leading,
        };
        let mut blocks: Vec<Block<'a>> = content
            .fields
            .iter()
            .map(|f| block(&f.label, &mut std::iter::once(f.value.as_str()), size, size * 1.45))
            .collect();
        blocks.push(block("经营范围", &mut content.scope_lines.iter().map(String::as_str), scope, scope * 1.6));
        let (label, lines) = premises;
        if !lines.is_empty() {
            blocks.push(block(label, &mut lines.iter().map(String::as_str), scope, scope * 1.6));
        }
        Self { blocks, label_size: size, gap: size * 0.75 }
    }

    /// From the first baseline to below the last line.
    fn height(&self) -> f32 {
        self.blocks.iter().map(|b| b.lines.len().max(1) as f32 * b.leading + self.gap).sum::<f32>() - self.gap
    }

    fn draw(&self, c: &mut Canvas) {
        let mut y = BODY_TOP;
        for b in &self.blocks {
            c.spread(LABEL_X, y, self.label_size, self.label_size * LABEL_CHARS, b.label);
            // A smaller value block shares the label's baseline.
            for (i, line) in b.lines.iter().enumerate() {
                c.text(VALUE_X, y - i as f32 * b.leading, b.size, line);
            }
            y -= b.lines.len().max(1) as f32 * b.leading + self.gap;
        }
    }
}

fn chinese_date(d: NaiveDate) -> String {
    d.format("%Y年%m月%d日").to_string()
}

/// 登记机关, the authority's name and the issue date (China time), bottom
/// right, centred on one axis like the seal they accompany on paper.
fn authority(c: &mut Canvas, content: &LicenceContent) {
    let cx = RIGHT - 104.0;
    c.spread(cx - 42.0, 178.0, 12.0, 84.0, "登记机关");
    let name = content.authority_name.as_str();
    let size = (12.0f32).min(12.0 * 216.0 / FONT.text_width(name, 12.0).max(1.0));
    c.centred(cx, 158.0, size, name);
    c.centred(cx, 138.0, 12.0, &chinese_date(date_in_china(content.issued_at)));
}

/// Legal note and where to verify, under a fine rule.
fn footer(c: &mut Canvas, verify_url: &str) {
    c.content.save_state();
    c.content.set_stroke_rgb(RED.0, RED.1, RED.2).set_line_width(0.5);
    c.content.move_to(LEFT, 117.0).line_to(RIGHT, 117.0).stroke();
    c.content.restore_state();
    c.centred(CENTRE, 103.0, 9.0, "电子营业执照与纸质营业执照具有同等法律效力");
    let note = format!("可通过扫描二维码或访问以下核验地址核验本执照：{verify_url}");
    let mut y = 90.0;
    for line in FONT.wrap(&note, RIGHT - LEFT, 7.5) {
        c.text(LEFT, y, 7.5, line);
        y -= 10.0;
    }
}

/// A boxed notice (bottom left) and a large translucent diagonal mark so a
/// superseded version cannot be mistaken for the current one.
fn stamp(c: &mut Canvas, s: &Superseded) {
    let mark = format!("已被第{}版取代", s.by_version);
    let when = format!("取代日期：{}", chinese_date(date_in_china(s.at)));

    c.content.save_state();
    c.content.set_stroke_rgb(RED.0, RED.1, RED.2).set_line_width(1.6);
    c.content.rect(LEFT + 8.0, 128.0, 196.0, 60.0).stroke();
    c.content.set_fill_rgb(RED.0, RED.1, RED.2);
    c.centred(LEFT + 106.0, 163.0, 18.0, &mark);
    c.centred(LEFT + 106.0, 141.0, 10.0, &when);

    let size = 64.0;
    let width = FONT.text_width(&mark, size);
    let (sin, cos) = 40f32.to_radians().sin_cos();
    c.content.set_parameters(ALPHA);
    c.content.transform([cos, sin, -sin, cos, CENTRE, PAGE_H * 0.46]);
    c.show(-width / 2.0, -size * 0.35, size, 0.0, &mark, true);
    c.content.restore_state();
}

/// Writes the objects around the page content. Ids are fixed so equal
/// inputs give equal bytes.
fn assemble(
    content: &LicenceContent,
    verify_url: &str,
    superseded: Option<&Superseded>,
    stream: &[u8],
    font: &Subset,
) -> Result<Vec<u8>, DocumentError> {
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let page = Ref::new(3);
    let contents = Ref::new(4);
    let info = Ref::new(5);
    let gs = Ref::new(6);
    let refs = FontRefs {
        type0: Ref::new(7),
        cid: Ref::new(8),
        descriptor: Ref::new(9),
        file: Ref::new(10),
        to_unicode: Ref::new(11),
    };

    let mut pdf = Pdf::with_capacity(stream.len() + 96 * 1024);
    pdf.catalog(catalog).pages(pages).lang(TextStr("zh-CN"));
    pdf.pages(pages).kids([page]).count(1);
    let mut p = pdf.page(page);
    p.parent(pages).media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).contents(contents);
    let mut res = p.resources();
    res.fonts().pair(FONT_NAME, refs.type0);
    if superseded.is_some() {
        res.ext_g_states().pair(ALPHA, gs);
    }
    res.finish();
    p.finish();
    pdf.stream(contents, &super::deflate(stream)).filter(pdf_writer::Filter::FlateDecode);
    if superseded.is_some() {
        pdf.ext_graphics(gs).non_stroking_alpha(0.16).stroking_alpha(0.16);
    }
    font.write(&mut pdf, refs)?;

    let title = format!("营业执照 {} 第{}版", content.uscc, content.version);
    pdf.document_info(info).title(TextStr(&title)).producer(TextStr("greenchannel"));
    pdf.set_file_id(file_id(content, verify_url, superseded));
    Ok(pdf.finish())
}

/// The trailer ID: a hash of everything the page shows, in place of the
/// random or time-based ID most writers use.
fn file_id(content: &LicenceContent, verify_url: &str, superseded: Option<&Superseded>) -> (Vec<u8>, Vec<u8>) {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(content).unwrap_or_default());
    h.update([0]);
    h.update(verify_url.as_bytes());
    if let Some(s) = superseded {
        h.update(s.by_version.to_be_bytes());
        h.update(s.at.timestamp().to_be_bytes());
    }
    let id = h.finalize()[..16].to_vec();
    (id.clone(), id)
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::documents::qr::tests::credential;
    use crate::documents::testing::{have, output_dir, run, scan};
    use crate::domain::licence::Field;
    use crate::domain::scope;
    use crate::domain::uscc::check_char;

    fn code(first17: &str) -> String {
        format!("{first17}{}", check_char(first17.as_bytes()).expect("valid first 17"))
    }

    fn field(label: &str, value: &str) -> Field {
        Field { label: label.into(), value: value.into() }
    }

    fn scope_of(codes: &[&str], online_only: bool) -> Vec<String> {
        let items: Vec<_> = codes.iter().map(|c| scope::lookup(c).expect("catalogue code")).collect();
        scope::licence_lines(&items, online_only)
    }

    /// An online shop run by one person, with licensed and general items.
    pub(crate) fn individual() -> LicenceContent {
        let shop = "网络经营场所：淘宝网 https://shop574839201.taobao.com";
        let mut codes: Vec<&str> = scope::all().iter().map(|i| i.code).take(24).collect();
        codes.push("L1001");
        LicenceContent {
            uscc: code("92610727MA6Y8K3L4"),
            version: 1,
            name: Some("略阳县禾木记土特产网店".into()),
            entity_type: "individual_business".into(),
            fields: vec![
                field("名称", "略阳县禾木记土特产网店"),
                field("类型", "个体工商户"),
                field("经营者", "欧阳堃喆"),
                field("组成形式", "个人经营"),
                field("注册日期", "2025年03月14日"),
                field("经营场所", shop),
            ],
            scope_lines: scope_of(&codes, true),
            premises: vec![shop.into()],
            authority_code: "610727".into(),
            authority_name: "略阳县市场监督管理局".into(),
            established_on: NaiveDate::from_ymd_opt(2025, 3, 14).unwrap(),
            issued_at: Utc.with_ymd_and_hms(2025, 3, 13, 17, 30, 0).unwrap(), // 01:30 on the 14th in China
        }
    }

    pub(crate) fn company() -> LicenceContent {
        LicenceContent {
            uscc: code("91610103MA7BQ2XN5"),
            version: 2,
            name: Some("西安秦岭云数字科技有限公司".into()),
            entity_type: "limited_company".into(),
            fields: vec![
                field("名称", "西安秦岭云数字科技有限公司"),
                field("类型", "有限责任公司（自然人投资或控股）"),
                field("法定代表人", "王建国"),
                field("注册资本", "100万元人民币"),
                field("成立日期", "2024年11月02日"),
                field("住所", "陕西省西安市碑林区南大街街道东木头市88号秦岭大厦B座1203室"),
            ],
            scope_lines: scope_of(&["G1001", "G1002", "G1003", "G1004"], false),
            premises: vec![
                "陕西省西安市碑林区南大街街道东木头市88号秦岭大厦B座1203室".into(),
                "网络经营场所：京东 https://mall.jd.com/index-1000123456.html".into(),
                "陕西省西安市雁塔区小寨东路126号百隆广场3层301".into(),
            ],
            authority_code: "610103".into(),
            authority_name: "西安市碑林区市场监督管理局".into(),
            established_on: NaiveDate::from_ymd_opt(2024, 11, 2).unwrap(),
            issued_at: Utc.with_ymd_and_hms(2025, 6, 30, 8, 0, 0).unwrap(),
        }
    }

    pub(crate) fn url(origin: &str) -> String {
        format!("{origin}/v/{}", credential(160))
    }

    #[test]
    fn rendering_is_deterministic() {
        let c = individual();
        let u = url("http://127.0.0.1:8080");
        let a = render(&c, &u, None).unwrap();
        assert_eq!(a, render(&c, &u, None).unwrap());
        let s = Superseded { by_version: 2, at: Utc.with_ymd_and_hms(2025, 5, 1, 2, 0, 0).unwrap() };
        assert_eq!(render(&c, &u, Some(&s)).unwrap(), render(&c, &u, Some(&s)).unwrap());
        assert_ne!(a, render(&c, &u, Some(&s)).unwrap());
        let text = String::from_utf8_lossy(&a);
        assert!(!text.contains("CreationDate") && !text.contains("ModDate"));
    }

    #[test]
    fn the_whole_scope_catalogue_still_fits_one_page() {
        let mut c = company();
        let items: Vec<_> = scope::all().iter().collect();
        c.scope_lines = scope::licence_lines(&items, true);
        check_with_tools("licence-full-scope", &c, &url("https://greenchannel.example.gov.cn"), None);
    }

    #[test]
    fn an_overlong_verify_url_is_an_error() {
        let u = format!("https://greenchannel.example.gov.cn/v/{}", credential(600));
        assert!(matches!(render(&company(), &u, None), Err(DocumentError::Qr(_))));
    }

    /// Writes the PDF, then checks it with qpdf, pdffonts and pdftotext,
    /// rasterises it and scans the QR code back.
    fn check_with_tools(stem: &str, content: &LicenceContent, verify_url: &str, superseded: Option<&Superseded>) {
        let pdf = render(content, verify_url, superseded).unwrap();
        let dir = output_dir();
        let path = dir.join(format!("{stem}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let p = path.to_str().unwrap();
        if !have(&[
            ("qpdf", "qpdf"),
            ("pdffonts", "poppler-utils"),
            ("pdftotext", "poppler-utils"),
            ("pdftoppm", "poppler-utils"),
            ("zbarimg", "zbar-tools"),
        ]) {
            return;
        }

        let check = run("qpdf", &["--check", p]);
        assert!(check.contains("No syntax or stream encoding errors"), "{check}");

        let fonts = run("pdffonts", &[p]);
        let line = fonts.lines().find(|l| l.contains("WenQuanYiMicroHei")).unwrap_or_else(|| panic!("{fonts}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (tag, _) = cols[0].split_once('+').expect("subset tag");
        assert!(tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()), "{line}");
        assert!(line.contains("CID TrueType") && line.contains("Identity-H"), "{line}");
        assert_eq!(cols[cols.len() - 5..cols.len() - 2], ["yes", "yes", "yes"], "emb sub uni: {line}");

        let text: String = run("pdftotext", &["-enc", "UTF-8", p, "-"]).split_whitespace().collect();
        let mut expected = vec!["营业执照".to_string(), "统一社会信用代码".into(), content.uscc.clone()];
        expected.extend(content.fields.iter().map(|f| f.value.replace(' ', "")));
        expected.extend(content.scope_lines.iter().map(|l| l.replace(' ', "")));
        expected.push(content.authority_name.clone());
        expected.push(chinese_date(date_in_china(content.issued_at)));
        expected.push(format!("（第{}版）", content.version));
        expected.push("电子营业执照与纸质营业执照具有同等法律效力".into());
        expected.push(verify_url.into());
        if let Some(s) = superseded {
            expected.push(format!("已被第{}版取代", s.by_version));
        }
        for e in &expected {
            assert!(text.contains(e.as_str()), "pdftotext lacks {e:?}:\n{text}");
        }

        let png = dir.join(stem);
        run("pdftoppm", &["-r", "150", "-png", "-singlefile", p, png.to_str().unwrap()]);
        assert_eq!(scan(&png.with_extension("png")), verify_url);
    }

    #[test]
    fn individual_online_shop_passes_qpdf_poppler_and_zbar() {
        check_with_tools("licence-individual", &individual(), &url("http://127.0.0.1:8080"), None);
    }

    #[test]
    fn company_passes_qpdf_poppler_and_zbar() {
        check_with_tools("licence-company", &company(), &url("https://greenchannel.example.gov.cn"), None);
    }

    #[test]
    fn characters_missing_from_the_font_still_extract() {
        // 𠮷 (U+20BB7, Extension B) is in real names but not in the font.
        assert!(!FONT.has_glyph('𠮷'));
        let mut c = individual();
        c.fields[2].value = "𠮷欣然".into();
        c.fields[0].value = "略阳县𠮷记农家小店".into();
        c.name = Some(c.fields[0].value.clone());
        check_with_tools("licence-rare-character", &c, &url("http://127.0.0.1:8080"), None);
    }

    #[test]
    fn superseded_version_passes_and_says_so() {
        let s = Superseded { by_version: 3, at: Utc.with_ymd_and_hms(2025, 8, 31, 23, 0, 0).unwrap() };
        check_with_tools(
            "licence-company-superseded",
            &company(),
            &url("https://greenchannel.example.gov.cn"),
            Some(&s),
        );
    }
}
