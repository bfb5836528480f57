//! Documents rendered from a licence version: the licence PDF and the
//! storefront badge (亮照) SVG, with their QR codes and embedded font; and
//! the dual-notification letter (双告知书) of an application.
//!
//! Everything here is a pure function of its arguments: no I/O, no clock, no
//! randomness, no hash-map order. The same licence content always renders to
//! the same bytes, so a document can be re-rendered on demand, cached by
//! content, and compared byte for byte in tests.

pub mod badge;
mod canvas;
pub mod font;
pub mod licence_pdf;
pub mod notice_pdf;
pub mod qr;

/// Deflates a PDF stream (zlib, as `FlateDecode` expects). Level 1: most of
/// the saving (78 KB to 55 KB a licence) at a quarter of level 6's time. A fixed level and
/// a pure-Rust encoder keep documents byte-for-byte reproducible.
pub(crate) fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 1)
}

/// Why a document could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error(transparent)]
    Qr(#[from] qr::QrError),
    #[error("font subsetting failed: {0}")]
    Font(String),
    /// The content does not fit on one page even at the smallest type size.
    #[error("the licence content does not fit on one page")]
    TooLong,
}

/// Runs the external tools the end-to-end document tests check output with
/// (qpdf, poppler, zbar, librsvg, chromium). Shared by the unit tests here
/// and the black-box tests in `tests/`; nothing in the service calls it.
#[doc(hidden)]
pub mod testing {
    use std::io::Write as _;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// `target/test-output/`, where rendered documents are left for review.
    pub fn output_dir() -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-output");
        std::fs::create_dir_all(&dir).expect("create target/test-output");
        dir
    }

    /// Whether all `tools` are on PATH. A missing tool fails the test when
    /// `GREENCHANNEL_REQUIRE_TOOLS=1` (CI installs them) and otherwise
    /// skips the check with a message saying which package to install.
    pub fn have(tools: &[(&str, &str)]) -> bool {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let missing: Vec<String> = tools
            .iter()
            .filter(|(tool, _)| !std::env::split_paths(&path).any(|d| d.join(tool).is_file()))
            .map(|(tool, package)| format!("{tool} (Debian package {package})"))
            .collect();
        if missing.is_empty() {
            return true;
        }
        let msg = format!("missing document tools: {}", missing.join(", "));
        if std::env::var("GREENCHANNEL_REQUIRE_TOOLS").as_deref() == Ok("1") {
            panic!("{msg}; GREENCHANNEL_REQUIRE_TOOLS=1 requires them");
        }
        // Straight to stderr: the harness captures `eprintln!` of passing tests.
        let _ = writeln!(std::io::stderr(), "SKIPPED end-to-end document checks: {msg}");
        false
    }

    /// Runs `tool args…`, asserting it exits 0, and returns its stdout.
    pub fn run(tool: &str, args: &[&str]) -> String {
        let out = Command::new(tool).args(args).output().unwrap_or_else(|e| panic!("run {tool}: {e}"));
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "{tool} {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// Decodes the QR codes in a PNG with zbarimg.
    pub fn scan(png: &Path) -> String {
        run("zbarimg", &["--raw", "-q", png.to_str().expect("utf-8 path")]).trim_end_matches('\n').to_string()
    }
}
