//! Setting text on a PDF page in the embedded font: the drawing helper the
//! licence and the notice letter share. Positions are PDF points from the
//! bottom-left corner; `y` is a baseline.

use pdf_writer::{Content, Name, Str, TextStr};

use super::font::{FONT, Subset};

/// A4 in points.
pub(super) const PAGE_W: f32 = 595.276;
pub(super) const PAGE_H: f32 = 841.89;

/// The resource name every document gives the embedded font.
pub(crate) const FONT_NAME: Name<'static> = Name(b"F1");

/// Text and drawing operations on a page, with the document's font subset.
pub(crate) struct Canvas {
    pub content: Content,
    pub font: Subset,
    scratch: Vec<u8>,
}

impl Canvas {
    pub fn new() -> Self {
        Self { content: Content::with_capacity(16 * 1024), font: Subset::new(), scratch: Vec::with_capacity(256) }
    }

    /// Starts a new page with the same font subset, returning the content
    /// stream of the page drawn so far.
    pub fn next_page(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.content, Content::with_capacity(16 * 1024)).finish().into_vec()
    }

    /// Shows `text` with its baseline starting at (`x`, `y`); `spacing` is
    /// extra space after each character (Tc).
    pub fn spaced(&mut self, x: f32, y: f32, size: f32, spacing: f32, text: &str) {
        self.show(x, y, size, spacing, text, false);
    }

    /// `actual` wraps the text in a span whose ActualText is `text`: spread
    /// labels and rotated marks then extract as words, not scattered
    /// characters. Text with characters the font lacks (rare ideographs
    /// beyond the basic block draw as .notdef) gets one too, so that
    /// copying and search still see the right characters.
    pub fn show(&mut self, x: f32, y: f32, size: f32, spacing: f32, text: &str, actual: bool) {
        let actual = actual || text.chars().any(|ch| !FONT.has_glyph(ch));
        if actual {
            self.content.begin_marked_content_with_properties(Name(b"Span")).properties().actual_text(TextStr(text));
        }
        self.scratch.clear();
        self.font.encode_into(text, &mut self.scratch);
        let c = &mut self.content;
        c.begin_text().set_font(FONT_NAME, size).set_char_spacing(spacing).next_line(x, y);
        c.show(Str(&self.scratch)).end_text();
        if actual {
            c.end_marked_content();
        }
    }

    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        self.spaced(x, y, size, 0.0, text);
    }

    pub fn centred(&mut self, cx: f32, y: f32, size: f32, text: &str) {
        self.text(cx - FONT.text_width(text, size) / 2.0, y, size, text);
    }

    /// Spreads `text` evenly over `width`, as printed forms set labels
    /// (名　　　　称); shrinks it if it is wider than `width`.
    pub fn spread(&mut self, x: f32, y: f32, size: f32, width: f32, text: &str) {
        let n = text.chars().count();
        let natural = FONT.text_width(text, size);
        let size = if natural > width { size * width / natural } else { size };
        let spacing = if n > 1 { (width - FONT.text_width(text, size)).max(0.0) / (n - 1) as f32 } else { 0.0 };
        self.show(x, y, size, spacing, text, true);
    }
}
