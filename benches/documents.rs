//! Document rendering per licence: the PDF (QR encode, layout, font subset,
//! PDF assembly) and the storefront badge SVG.
//!
//! `cargo bench --bench documents`. The target is at most 2 ms per licence
//! PDF in a release build.
use chrono::{NaiveDate, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use greenchannel::documents::{badge, licence_pdf};
use greenchannel::domain::licence::{Field, LicenceContent};
use greenchannel::domain::scope;
use std::hint::black_box;

fn content() -> LicenceContent {
    let f = |label: &str, value: &str| Field { label: label.into(), value: value.into() };
    let shop = "网络经营场所：淘宝网 https://shop574839201.taobao.com";
    let items: Vec<_> = scope::all().iter().take(24).collect();
    LicenceContent {
        uscc: "92610727MA6Y8K3L4X".into(),
        version: 1,
        name: Some("略阳县禾木记土特产网店".into()),
        entity_type: "individual_business".into(),
        fields: vec![
            f("名称", "略阳县禾木记土特产网店"),
            f("类型", "个体工商户"),
            f("经营者", "欧阳堃喆"),
            f("组成形式", "个人经营"),
            f("注册日期", "2025年03月14日"),
            f("经营场所", shop),
        ],
        scope_lines: scope::licence_lines(&items, true),
        premises: vec![shop.into()],
        authority_code: "610727".into(),
        authority_name: "略阳县市场监督管理局".into(),
        established_on: NaiveDate::from_ymd_opt(2025, 3, 14).unwrap(),
        issued_at: Utc.with_ymd_and_hms(2025, 3, 13, 17, 30, 0).unwrap(),
    }
}

fn documents(c: &mut Criterion) {
    let content = content();
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
