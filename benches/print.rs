//! The licence PDF made here (pdf-writer, in-process) against the same
//! licence as HTML printed to PDF by headless Chromium (Debian's
//! `chromium --headless --print-to-pdf`, one browser process per document,
//! which is how a service without a resident browser would do it).
//!
//! `cargo bench --bench print` (`BENCH_PRINT_RUNS`, default 5 Chromium runs;
//! the PDF is rendered 200 times). Prints medians and their ratio; appends a
//! JSON line to `bench-results/print.jsonl`. Both PDFs are written to
//! `target/bench-print/` to look at.
mod common;

use std::{path::PathBuf, process::Command, time::Instant};

use greenchannel::documents::{licence_pdf, qr};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let runs: usize = common::env("BENCH_PRINT_RUNS", 5);
    let content = common::sample_licence();
    let url = format!("https://greenchannel.example.gov.cn/v/{}", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".repeat(5));
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-print");
    std::fs::create_dir_all(&out).unwrap();

    // pdf-writer: the font is parsed once per process (as in the server).
    std::fs::write(out.join("pdf-writer.pdf"), licence_pdf::render(&content, &url, None).unwrap()).unwrap();
    let ours = median(
        (0..200)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(licence_pdf::render(&content, &url, None).unwrap());
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect(),
    );

    // The same facts as HTML, with the same font file and QR.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let symbol = qr::encode(&url).unwrap();
    let mut env = minijinja::Environment::new();
    env.add_template("licence", include_str!("print/licence.html")).unwrap();
    let html = env
        .get_template("licence")
        .unwrap()
        .render(minijinja::context! {
            font_url => format!("file://{}", root.join("templates/fonts/wqy-microhei.ttf").display()),
            qr_size => symbol.width_with_quiet_zone(),
            qr_path => symbol.svg_path(),
            uscc => content.uscc,
            version => content.version,
            fields => content.fields.iter().map(|f| minijinja::context! { label => f.label, value => f.value }).collect::<Vec<_>>(),
            scope_lines => content.scope_lines,
            authority_name => content.authority_name,
            issued_on => content.established_on.format("%Y年%m月%d日").to_string(),
        })
        .unwrap();
    let page = out.join("licence.html");
    std::fs::write(&page, html).unwrap();
    let chromium = median(
        (0..runs)
            .map(|i| {
                let profile = tempfile::tempdir().unwrap();
                let pdf = out.join(format!("chromium-{i}.pdf"));
                let t = Instant::now();
                let status = Command::new("chromium")
                    .args([
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--no-pdf-header-footer",
                        &format!("--user-data-dir={}", profile.path().display()),
                        &format!("--print-to-pdf={}", pdf.display()),
                        &format!("file://{}", page.display()),
                    ])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .status()
                    .expect("chromium (Debian package chromium) is needed for this benchmark");
                let ms = t.elapsed().as_secs_f64() * 1e3;
                assert!(status.success() && std::fs::metadata(&pdf).map(|m| m.len() > 1000).unwrap_or(false));
                ms
            })
            .collect(),
    );
    let ratio = chromium / ours;
    println!("\n| document | median ms per licence |");
    println!("| --- | --- |");
    println!("| pdf-writer, in-process | {ours:.2} |");
    println!("| headless Chromium, HTML printed to PDF (one process each) | {chromium:.0} |");
    println!("| Chromium ÷ pdf-writer | {ratio:.0}× |");
    use std::io::Write;
    let results = root.join("bench-results");
    std::fs::create_dir_all(&results).unwrap();
    let mut log = std::fs::OpenOptions::new().create(true).append(true).open(results.join("print.jsonl")).unwrap();
    writeln!(
        log,
        "{}",
        serde_json::json!({ "at": chrono::Utc::now(), "run": common::run_id(), "pdf_writer_ms": ours, "chromium_ms": chromium, "ratio": ratio, "chromium_runs": runs })
    )
    .unwrap();
}
