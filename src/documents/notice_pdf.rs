//! The dual-notification letter (双告知书) as an A4 PDF: which permits the
//! chosen business scope needs, which department grants each, on what legal
//! basis and when, and the commitment the applicant makes.
//!
//! The letter flows over as many pages as its items need. Layout is done
//! first (rows of text grouped into blocks that are kept on one page), then
//! the pages are drawn, so every page footer can say how many there are.
//!
//! Output is byte-for-byte deterministic, as for the licence: fixed object
//! ids, no creation date, the file ID a hash of the letter.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use pdf_writer::types::TextRenderingMode;
use pdf_writer::{Finish, Pdf, Rect, Ref, TextStr};
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::DocumentError;
use super::canvas::{Canvas, FONT_NAME, PAGE_H, PAGE_W};
use super::font::{FONT, FontRefs};
use crate::domain::working_days::cst;

/// The letter's title as printed.
pub const TITLE: &str = "经营范围涉及许可事项告知书";

/// Everything the letter shows; plain data, so rendering reads no state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeLetter {
    pub title: String,
    /// Whom the letter is addressed to: the name applied for, or the
    /// operator of an individual business without one.
    pub applicant: String,
    pub application_id: Uuid,
    /// The registration authority giving notice, "略阳县市场监督管理局".
    pub authority_name: String,
    pub date: NaiveDate,
    pub items: Vec<NoticeLetterItem>,
    /// The commitment the applicant makes by acknowledging.
    pub commitment: String,
    pub acknowledged_at: Option<DateTime<Utc>>,
}

/// One licensed scope item and who grants its permit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeLetterItem {
    pub scope_name: String,
    pub permit: String,
    pub department_name: String,
    /// The area the department serves, "陕西省汉中市略阳县".
    pub jurisdiction: String,
    /// When the permit is needed, in words.
    pub timing: String,
    pub basis: Option<String>,
}

const LEFT: f32 = 72.0;
const RIGHT: f32 = PAGE_W - 72.0;
const CENTRE: f32 = PAGE_W / 2.0;
/// Where the flow starts on the first page (above the title's baseline).
const FIRST_TOP: f32 = 800.0;
/// The first baseline of a continuation page.
const TOP: f32 = 772.0;
/// The lowest body baseline (above the footer).
const BOTTOM: f32 = 84.0;
const FOOTER_Y: f32 = 48.0;

/// Body text: addressee, introduction, commitment.
const BODY: f32 = 12.0;
const BODY_LEADING: f32 = 21.0;
/// Item fields: a label column, then the wrapped value.
const FIELD: f32 = 10.5;
const FIELD_LEADING: f32 = 16.0;
const ITEM_X: f32 = LEFT + 2.0 * BODY;
const LABEL_W: f32 = 4.0 * FIELD;
const VALUE_X: f32 = ITEM_X + LABEL_W + 14.0;
/// Axis the authority name and date are centred on.
const SIGN_CX: f32 = RIGHT - 84.0;

const RED: (f32, f32, f32) = (0.7, 0.09, 0.11);
const GREY: f32 = 0.35;

const INTRO: &str = "你（单位）申请登记的经营范围中，下列经营项目依法须经有关部门许可或者办理备案。\
现将各项目的许可事项、审批部门、办理时点和设定依据告知如下：";
const NOTHING_LICENSED: &str = "你（单位）申请登记的经营范围中，没有依法须经有关部门许可或者办理备案的经营项目。";
const AFTER_ITEMS: &str = "请在取得许可证件或者完成备案后，方可开展相关经营活动。\
审批部门的具体要求以其公布的办事指南为准。";

/// Renders the letter.
pub fn render(letter: &NoticeLetter) -> Result<Vec<u8>, DocumentError> {
    let blocks = blocks(letter);
    let pages = paginate(&blocks);
    let total = pages.len();
    let mut c = Canvas::new();
    let mut streams = Vec::with_capacity(total);
    for (i, page) in pages.iter().enumerate() {
        if i > 0 {
            streams.push(super::deflate(&c.next_page()));
        }
        for (y, piece) in page {
            draw(&mut c, *y, piece);
        }
        footer(&mut c, letter, i + 1, total);
    }
    streams.push(super::deflate(&c.next_page()));
    assemble(letter, &streams, &c.font)
}

/// Something drawn on a row's baseline.
#[derive(Debug)]
enum Piece<'a> {
    Text {
        x: f32,
        size: f32,
        text: Cow<'a, str>,
        style: Style,
    },
    /// A horizontal rule this far above the baseline.
    Rule {
        x0: f32,
        x1: f32,
        above: f32,
        width: f32,
    },
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Style {
    Plain,
    /// Fill plus a thin stroke of the outline: the font has no bold cut.
    Bold,
    /// The title: heavier, letter-spaced.
    Title,
    /// Smaller print in grey.
    Muted,
}

/// One baseline: how far below the previous one it sits, and what is on it.
#[derive(Debug)]
struct Row<'a> {
    lead: f32,
    pieces: Vec<Piece<'a>>,
}

/// Rows kept together on one page where they fit on one.
type Block<'a> = Vec<Row<'a>>;

fn text<'a>(x: f32, size: f32, text: impl Into<Cow<'a, str>>, style: Style) -> Piece<'a> {
    Piece::Text { x, size, text: text.into(), style }
}

/// A paragraph whose first line is indented by two characters, as Chinese
/// prose is set. `lead` is the space above the first line.
fn paragraph<'a>(text: &str, lead: f32) -> Vec<Row<'a>> {
    let indent = 2.0 * BODY;
    let Some(&first) = FONT.wrap(text, RIGHT - LEFT - indent, BODY).first() else { return Vec::new() };
    // `wrap` returns slices of its input: continue after the first line.
    let rest = &text[first.as_ptr() as usize - text.as_ptr() as usize + first.len()..];
    let mut rows = vec![Row { lead, pieces: vec![text_piece(LEFT + indent, first)] }];
    rows.extend(
        FONT.wrap(rest, RIGHT - LEFT, BODY)
            .into_iter()
            .map(|l| Row { lead: BODY_LEADING, pieces: vec![text_piece(LEFT, l)] }),
    );
    rows
}

fn text_piece<'a>(x: f32, line: &str) -> Piece<'a> {
    text(x, BODY, line.to_string(), Style::Plain)
}

/// The letter as blocks, in reading order.
fn blocks(letter: &NoticeLetter) -> Vec<Block<'_>> {
    let mut out: Vec<Block<'_>> = Vec::new();

    // Title, rule, application number and addressee stay together.
    let title_w = FONT.text_width(&letter.title, 20.0) + 2.0 * letter.title.chars().count().saturating_sub(1) as f32;
    let number = format!("申请编号：{}", letter.application_id);
    let number_x = RIGHT - FONT.text_width(&number, 9.0);
    out.push(vec![
        Row { lead: 40.0, pieces: vec![text(CENTRE - title_w / 2.0, 20.0, letter.title.as_str(), Style::Title)] },
        Row { lead: 24.0, pieces: vec![text(number_x, 9.0, number, Style::Muted)] },
        Row { lead: 0.0, pieces: vec![Piece::Rule { x0: LEFT, x1: RIGHT, above: -7.0, width: 1.2 }] },
        Row { lead: 34.0, pieces: vec![text(LEFT, BODY, format!("{}：", letter.applicant), Style::Plain)] },
    ]);
    if letter.items.is_empty() {
        out.push(paragraph(NOTHING_LICENSED, BODY_LEADING + 2.0));
    } else {
        out.push(paragraph(INTRO, BODY_LEADING + 2.0));
    }

    for (i, item) in letter.items.iter().enumerate() {
        out.push(item_block(i + 1, item));
    }

    // The closing: what to do, the commitment, then the authority and date
    // (kept with the commitment, so the signature never stands alone).
    let mut closing = Vec::new();
    if !letter.items.is_empty() {
        out.push(paragraph(AFTER_ITEMS, 26.0));
        closing.push(Row { lead: 30.0, pieces: vec![text(LEFT, BODY, "申请人承诺", Style::Bold)] });
        closing.extend(paragraph(&letter.commitment, BODY_LEADING + 2.0));
        let status = match letter.acknowledged_at {
            Some(at) => format!(
                "申请人已于{}确认知悉上述事项并作出承诺。",
                at.with_timezone(&cst()).format("%Y年%m月%d日 %H:%M")
            ),
            None => "申请人尚未确认本告知书。".to_string(),
        };
        closing.extend(paragraph(&status, BODY_LEADING));
    }

    // The authority and date, bottom right, centred on one axis.
    let name = letter.authority_name.as_str();
    let name_size = BODY.min(BODY * 200.0 / FONT.text_width(name, BODY).max(1.0));
    let date = letter.date.format("%Y年%m月%d日").to_string();
    let name_x = SIGN_CX - FONT.text_width(name, name_size) / 2.0;
    closing.push(Row { lead: 52.0, pieces: vec![text(name_x, name_size, name, Style::Plain)] });
    let date_x = SIGN_CX - FONT.text_width(&date, BODY) / 2.0;
    closing.push(Row { lead: 22.0, pieces: vec![text(date_x, BODY, date, Style::Plain)] });
    out.push(closing);
    out
}

/// "1．食品销售", then labelled fields with wrapped values.
fn item_block(n: usize, item: &NoticeLetterItem) -> Block<'_> {
    let mut rows = Vec::new();
    let heading = format!("{n}．{}", item.scope_name);
    for (i, line) in FONT.wrap(&heading, RIGHT - LEFT, BODY).into_iter().enumerate() {
        let lead = if i == 0 { 26.0 } else { BODY_LEADING };
        rows.push(Row { lead, pieces: vec![text(LEFT, BODY, line.to_string(), Style::Bold)] });
    }
    let mut fields: Vec<(&str, &str)> = vec![
        ("许可事项", &item.permit),
        ("审批部门", &item.department_name),
        ("管辖区域", &item.jurisdiction),
        ("办理时点", &item.timing),
    ];
    if let Some(basis) = &item.basis {
        fields.push(("设定依据", basis));
    }
    for (f, (label, value)) in fields.into_iter().enumerate() {
        let lines = FONT.wrap(value, RIGHT - VALUE_X, FIELD);
        let lead = if f == 0 { BODY_LEADING - 1.0 } else { FIELD_LEADING };
        let mut pieces = vec![text(ITEM_X, FIELD, label, Style::Muted)];
        if let Some(first) = lines.first() {
            pieces.push(text(VALUE_X, FIELD, *first, Style::Plain));
        }
        rows.push(Row { lead, pieces });
        for l in lines.into_iter().skip(1) {
            rows.push(Row { lead: FIELD_LEADING, pieces: vec![text(VALUE_X, FIELD, l, Style::Plain)] });
        }
    }
    rows
}

/// Places the blocks on pages: a block that does not fit below the last
/// one starts a new page; a block taller than a page breaks between rows.
/// Returns each page's pieces with their baselines.
fn paginate<'a>(blocks: &'a [Block<'a>]) -> Vec<Vec<(f32, &'a Piece<'a>)>> {
    let mut pages: Vec<Vec<(f32, &Piece<'_>)>> = vec![Vec::new()];
    let mut y = FIRST_TOP;
    for block in blocks {
        let Some(first) = block.first() else { continue };
        let height: f32 = block.iter().map(|r| r.lead).sum();
        let fits_a_page = height - first.lead <= TOP - BOTTOM;
        let page_has_text = pages.last().is_some_and(|p| !p.is_empty());
        if y - height < BOTTOM && fits_a_page && page_has_text {
            pages.push(Vec::new());
            y = TOP + first.lead;
        }
        for row in block {
            y -= row.lead;
            if y < BOTTOM {
                pages.push(Vec::new());
                y = TOP;
            }
            let page = pages.last_mut().expect("at least one page");
            page.extend(row.pieces.iter().map(|p| (y, p)));
        }
    }
    pages
}

fn draw(c: &mut Canvas, y: f32, piece: &Piece<'_>) {
    match piece {
        Piece::Text { x, size, text, style } => match style {
            Style::Plain => c.text(*x, y, *size, text),
            Style::Muted => {
                c.content.save_state();
                c.content.set_fill_gray(GREY);
                c.text(*x, y, *size, text);
                c.content.restore_state();
            }
            Style::Bold | Style::Title => {
                let (width, spacing) = if *style == Style::Title { (0.7, 2.0) } else { (0.35, 0.0) };
                c.content.save_state();
                c.content.set_line_width(width).set_text_rendering_mode(TextRenderingMode::FillStroke);
                c.spaced(*x, y, *size, spacing, text);
                c.content.restore_state();
            }
        },
        Piece::Rule { x0, x1, above, width } => {
            c.content.save_state();
            c.content.set_stroke_rgb(RED.0, RED.1, RED.2).set_line_width(*width);
            c.content.move_to(*x0, y + above).line_to(*x1, y + above).stroke();
            c.content.restore_state();
        }
    }
}

/// Page number (right) and the application number (left) under a fine rule.
fn footer(c: &mut Canvas, letter: &NoticeLetter, page: usize, total: usize) {
    c.content.save_state();
    c.content.set_stroke_gray(0.6).set_line_width(0.4);
    c.content.move_to(LEFT, FOOTER_Y + 14.0).line_to(RIGHT, FOOTER_Y + 14.0).stroke();
    c.content.set_fill_gray(GREY);
    c.text(LEFT, FOOTER_Y, 8.0, &format!("{}　申请编号：{}", letter.title, letter.application_id));
    let number = format!("第{page}页　共{total}页");
    c.text(RIGHT - FONT.text_width(&number, 9.0), FOOTER_Y, 9.0, &number);
    c.content.restore_state();
}

/// Writes the objects around the page contents. Ids are fixed (the pages
/// follow the font) so equal letters give equal bytes.
fn assemble(letter: &NoticeLetter, streams: &[Vec<u8>], font: &super::font::Subset) -> Result<Vec<u8>, DocumentError> {
    let catalog = Ref::new(1);
    let pages = Ref::new(2);
    let info = Ref::new(3);
    let refs = FontRefs {
        type0: Ref::new(4),
        cid: Ref::new(5),
        descriptor: Ref::new(6),
        file: Ref::new(7),
        to_unicode: Ref::new(8),
    };
    let page_ref = |i: usize| Ref::new(9 + 2 * i as i32);
    let content_ref = |i: usize| Ref::new(10 + 2 * i as i32);

    let len: usize = streams.iter().map(Vec::len).sum();
    let mut pdf = Pdf::with_capacity(len + 96 * 1024);
    pdf.catalog(catalog).pages(pages).lang(TextStr("zh-CN"));
    pdf.pages(pages).kids((0..streams.len()).map(page_ref)).count(streams.len() as i32);
    for (i, stream) in streams.iter().enumerate() {
        let mut p = pdf.page(page_ref(i));
        p.parent(pages).media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H)).contents(content_ref(i));
        p.resources().fonts().pair(FONT_NAME, refs.type0);
        p.finish();
        pdf.stream(content_ref(i), stream).filter(pdf_writer::Filter::FlateDecode);
    }
    font.write(&mut pdf, refs)?;

    let title = format!("{} {}", letter.title, letter.application_id);
    pdf.document_info(info).title(TextStr(&title)).producer(TextStr("greenchannel"));
    pdf.set_file_id(file_id(letter));
    Ok(pdf.finish())
}

/// The trailer ID: a hash of the letter.
fn file_id(letter: &NoticeLetter) -> (Vec<u8>, Vec<u8>) {
    let id = Sha256::digest(serde_json::to_vec(letter).unwrap_or_default())[..16].to_vec();
    (id.clone(), id)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::documents::testing::{have, output_dir, run};
    use crate::domain::scope;

    fn item(code: &str, department: &str, jurisdiction: &str) -> NoticeLetterItem {
        let s = scope::lookup(code).expect("catalogue code");
        NoticeLetterItem {
            scope_name: s.name.into(),
            permit: s.permit.expect("a licensed item").into(),
            department_name: department.into(),
            jurisdiction: jurisdiction.into(),
            timing: match s.timing {
                Some(scope::Timing::Pre) => "前置许可：须在申请登记前取得许可".into(),
                Some(scope::Timing::Filing) => "备案：领取营业执照后向审批部门办理备案".into(),
                _ => "后置许可：领取营业执照后，取得许可前不得开展该项经营活动".into(),
            },
            basis: s.basis.map(str::to_string),
        }
    }

    /// An online shop selling food and books.
    fn food_and_books() -> NoticeLetter {
        NoticeLetter {
            title: TITLE.into(),
            applicant: "略阳县书香食品店".into(),
            application_id: Uuid::parse_str("0197a3c2-5b1e-7c4d-8e9f-0a1b2c3d4e5f").unwrap(),
            authority_name: "略阳县市场监督管理局".into(),
            date: NaiveDate::from_ymd_opt(2025, 3, 14).unwrap(),
            items: vec![
                item("L1001", "略阳县市场监督管理局", "陕西省汉中市略阳县"),
                item("L4001", "略阳县文化和旅游广电局（新闻出版）", "陕西省汉中市略阳县"),
            ],
            commitment: "本人已知晓上述经营项目须取得相关许可证件，承诺在取得许可前不开展相关经营活动。".into(),
            acknowledged_at: Some(Utc.with_ymd_and_hms(2025, 3, 14, 2, 30, 0).unwrap()),
        }
    }

    /// Every item of the catalogue that needs a permit or a filing.
    fn everything() -> NoticeLetter {
        let mut l = food_and_books();
        l.applicant = "西安秦岭云数字科技有限公司".into();
        l.authority_name = "西安市碑林区市场监督管理局".into();
        l.acknowledged_at = None;
        l.items = scope::all()
            .iter()
            .filter(|s| s.permit.is_some())
            .map(|s| {
                let kind = crate::domain::notification::kind_label(s.department_kind.unwrap_or_default()).0;
                let area = match s.department_level {
                    Some("national") => "全国",
                    Some("province") => "陕西省",
                    Some("city") => "陕西省西安市",
                    _ => "陕西省西安市碑林区",
                };
                item(s.code, &format!("{area}{kind}"), area)
            })
            .collect();
        l
    }

    fn pages_of(letter: &NoticeLetter) -> usize {
        paginate(&blocks(letter)).len()
    }

    #[test]
    fn rendering_is_deterministic() {
        let l = food_and_books();
        let a = render(&l).unwrap();
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, render(&l).unwrap());
        let all = everything();
        assert_eq!(render(&all).unwrap(), render(&all).unwrap());
        let mut other = l.clone();
        other.acknowledged_at = None;
        assert_ne!(a, render(&other).unwrap());
        let text = String::from_utf8_lossy(&a);
        assert!(!text.contains("CreationDate") && !text.contains("ModDate"));
    }

    /// No two pieces of text on a page overlap, and all stay inside the
    /// margins and above the footer.
    fn assert_no_overlap(letter: &NoticeLetter) {
        let blocks = blocks(letter);
        for (n, page) in paginate(&blocks).iter().enumerate() {
            let boxes: Vec<(f32, f32, f32, f32, &str)> = page
                .iter()
                .filter_map(|(y, p)| match p {
                    Piece::Text { x, size, text, style } => {
                        let spacing = if *style == Style::Title { 2.0 * text.chars().count() as f32 } else { 0.0 };
                        let w = FONT.text_width(text, *size) + spacing;
                        Some((*x, y - 0.2 * size, x + w, y + 0.85 * size, text.as_ref()))
                    }
                    Piece::Rule { .. } => None,
                })
                .collect();
            for (i, a) in boxes.iter().enumerate() {
                assert!(a.0 >= LEFT - 0.01 && a.2 <= RIGHT + 0.01, "page {n}: {:?} outside the margins", a.4);
                assert!(a.1 >= BOTTOM - 0.3 * BODY && a.3 <= PAGE_H - 30.0, "page {n}: {:?} off the body", a.4);
                for b in &boxes[i + 1..] {
                    let apart = a.2 <= b.0 || b.2 <= a.0 || a.3 <= b.1 || b.3 <= a.1;
                    assert!(apart, "page {n}: {:?} overlaps {:?}", a.4, b.4);
                }
            }
        }
    }

    #[test]
    fn nothing_overlaps_or_leaves_the_page() {
        assert_no_overlap(&food_and_books());
        assert_no_overlap(&everything());
        let mut long = food_and_books();
        long.items[0].basis = Some("《中华人民共和国食品安全法》第三十五条；".repeat(60));
        long.items[1].department_name = "略阳县文化和旅游广电局（新闻出版）".repeat(4);
        assert_no_overlap(&long);
        assert!(pages_of(&long) > 1);
    }

    #[test]
    fn blocks_are_kept_whole_on_a_page() {
        let l = everything();
        let blocks = blocks(&l);
        let pages = paginate(&blocks);
        assert!(pages.len() > 1);
        let page_of = |piece: &Piece<'_>| {
            pages.iter().position(|p| p.iter().any(|(_, q)| std::ptr::eq(*q, piece))).expect("placed")
        };
        for block in &blocks {
            let on: Vec<usize> = block.iter().flat_map(|r| r.pieces.iter().map(page_of)).collect();
            assert!(on.windows(2).all(|w| w[0] == w[1]), "a block split over pages {on:?}: {block:?}");
        }
        // Every item is there, in order.
        let headings: Vec<&str> = pages
            .iter()
            .flatten()
            .filter_map(|(_, p)| match p {
                Piece::Text { text, style: Style::Bold, .. } => text.split_once('．').map(|(_, name)| name),
                _ => None,
            })
            .collect();
        let names: Vec<&str> = l.items.iter().map(|i| i.scope_name.as_str()).collect();
        assert_eq!(headings, names);
    }

    /// Writes the PDF, checks it with qpdf, pdffonts and pdftotext and
    /// rasterises each page for review. Returns the page count.
    fn check_with_tools(stem: &str, letter: &NoticeLetter) -> Option<usize> {
        let pdf = render(letter).unwrap();
        let dir = output_dir();
        let path = dir.join(format!("{stem}.pdf"));
        std::fs::write(&path, &pdf).unwrap();
        let p = path.to_str().unwrap();
        if !have(&[
            ("qpdf", "qpdf"),
            ("pdffonts", "poppler-utils"),
            ("pdftotext", "poppler-utils"),
            ("pdftoppm", "poppler-utils"),
        ]) {
            return None;
        }

        let check = run("qpdf", &["--check", p]);
        assert!(check.contains("No syntax or stream encoding errors"), "{check}");
        let pages: usize = run("qpdf", &["--show-npages", p]).trim().parse().unwrap();
        assert_eq!(pages, pages_of(letter));

        let fonts = run("pdffonts", &[p]);
        let line = fonts.lines().find(|l| l.contains("WenQuanYiMicroHei")).unwrap_or_else(|| panic!("{fonts}"));
        let cols: Vec<&str> = line.split_whitespace().collect();
        let (tag, _) = cols[0].split_once('+').expect("subset tag");
        assert!(tag.len() == 6 && tag.chars().all(|c| c.is_ascii_uppercase()), "{line}");
        assert!(line.contains("CID TrueType") && line.contains("Identity-H"), "{line}");
        assert_eq!(cols[cols.len() - 5..cols.len() - 2], ["yes", "yes", "yes"], "emb sub uni: {line}");
        assert_eq!(fonts.lines().filter(|l| l.contains("WenQuanYiMicroHei")).count(), 1, "one font for all pages");

        let text: String = run("pdftotext", &["-enc", "UTF-8", p, "-"]).split_whitespace().collect();
        let mut expected = vec![
            letter.title.clone(),
            format!("{}：", letter.applicant),
            letter.commitment.clone(),
            letter.authority_name.clone(),
            letter.date.format("%Y年%m月%d日").to_string(),
            format!("第{pages}页共{pages}页"),
        ];
        for it in &letter.items {
            expected.extend([it.scope_name.clone(), it.permit.clone(), it.department_name.clone(), it.timing.clone()]);
            expected.extend(it.basis.iter().map(|b| b.replace(' ', "")));
        }
        for e in &expected {
            assert!(text.contains(e.as_str()), "pdftotext lacks {e:?}:\n{text}");
        }

        let png = dir.join(stem);
        run("pdftoppm", &["-r", "110", "-png", p, png.to_str().unwrap()]);
        Some(pages)
    }

    #[test]
    fn a_two_item_letter_passes_qpdf_and_poppler_on_one_page() {
        if let Some(pages) = check_with_tools("notice-food-and-books", &food_and_books()) {
            assert_eq!(pages, 1);
        }
    }

    #[test]
    fn the_whole_catalogue_spans_several_pages() {
        let l = everything();
        assert!(l.items.len() >= 25, "{}", l.items.len());
        if let Some(pages) = check_with_tools("notice-whole-catalogue", &l) {
            assert!(pages > 1, "{pages}");
        }
    }

    #[test]
    fn a_letter_without_licensed_items_says_so() {
        let mut l = food_and_books();
        l.items.clear();
        assert_no_overlap(&l);
        assert_eq!(pages_of(&l), 1);
        let blocks = blocks(&l);
        let texts: Vec<&str> = blocks
            .iter()
            .flatten()
            .flat_map(|r| &r.pieces)
            .filter_map(|p| match p {
                Piece::Text { text, .. } => Some(text.as_ref()),
                Piece::Rule { .. } => None,
            })
            .collect();
        assert!(texts.concat().contains("没有依法须经有关部门许可"));
        assert!(!texts.contains(&"申请人承诺"));
        assert!(render(&l).unwrap().starts_with(b"%PDF-"));
    }

    #[test]
    fn an_item_longer_than_a_page_breaks_between_lines() {
        let mut l = food_and_books();
        let unit = "《中华人民共和国食品安全法》第三十五条";
        l.items[0].basis = Some(format!("{unit}；").repeat(150));
        l.items[1].department_name = "略阳县文化和旅游广电局（新闻出版）".repeat(4);
        assert_no_overlap(&l);
        let pages = pages_of(&l);
        assert!(pages >= 3, "{pages}");
        let pdf = render(&l).unwrap();
        let path = output_dir().join("notice-overlong-item.pdf");
        std::fs::write(&path, &pdf).unwrap();
        let p = path.to_str().unwrap();
        if !have(&[("qpdf", "qpdf"), ("pdftotext", "poppler-utils"), ("pdftoppm", "poppler-utils")]) {
            return;
        }
        run("qpdf", &["--check", p]);
        assert_eq!(run("qpdf", &["--show-npages", p]).trim(), pages.to_string());
        let mut text: String = run("pdftotext", &["-enc", "UTF-8", p, "-"]).split_whitespace().collect();
        // Without the footers, the basis reads on from page to page.
        text = text.replace(&format!("{}申请编号：{}", l.title, l.application_id), "");
        for n in 1..=pages {
            text = text.replace(&format!("第{n}页共{pages}页"), "");
        }
        assert_eq!(text.matches(unit).count(), 150, "every line of the basis is there once:\n{text}");
        assert!(text.contains(&l.items[1].department_name));
        run("pdftoppm", &["-r", "110", "-png", p, output_dir().join("notice-overlong-item").to_str().unwrap()]);
    }

    #[test]
    fn characters_missing_from_the_font_still_extract() {
        assert!(!FONT.has_glyph('𠮷'));
        let mut l = food_and_books();
        l.applicant = "略阳县𠮷记农家小店".into();
        check_with_tools("notice-rare-character", &l);
    }
}
