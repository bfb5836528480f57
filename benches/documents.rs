//! Document rendering per licence: the PDF (QR encode, layout, font subset,
//! PDF assembly) and the storefront badge SVG.
//!
//! `cargo bench --bench documents`. The target is at most 2 ms per licence
//! PDF in a release build.
mod common;

use chrono::{TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use greenchannel::documents::{badge, licence_pdf};
use std::hint::black_box;

fn documents(c: &mut Criterion) {
    let content = common::sample_licence();
    let url = format!("https://greenchannel.example.gov.cn/v/{}", "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".repeat(5));
    // Font parsing and the frame are one-off costs, paid before measuring.
    licence_pdf::render(&content, &url, None).unwrap();

    c.bench_function("licence_pdf", |b| {
        b.iter(|| licence_pdf::render(black_box(&content), black_box(&url), None).unwrap())
    });
    let superseded = licence_pdf::Superseded { by_version: 2, at: Utc.with_ymd_and_hms(2025, 5, 1, 2, 0, 0).unwrap() };
    c.bench_function("licence_pdf_superseded", |b| {
        b.iter(|| licence_pdf::render(black_box(&content), black_box(&url), Some(&superseded)).unwrap())
    });
    c.bench_function("badge_svg", |b| {
        b.iter(|| badge::svg(black_box(content.name.as_deref()), black_box(&content.uscc), black_box(&url)))
    });
}

criterion_group!(benches, documents);
criterion_main!(benches);
