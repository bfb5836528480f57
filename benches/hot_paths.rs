//! The registration slice's hot paths, in process: verifying a channel's
//! assertion, checking a name (rules alone, and against a database of
//! registered names), and allocating a unified social credit code.
//!
//! `cargo bench --bench hot_paths` (BENCH_NAMES sets the number of names
//! seeded for the database check; default 100 000).
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use greenchannel::{
    domain::{admin_code::AdminCode, entity_type::EntityType, form::Form, name, resident_id, uscc, uscc::Uscc},
    services::{
        self,
        auth::{ChannelKey, verify_assertion},
    },
    store::{self, Db},
};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

fn claims() -> serde_json::Value {
    let now = Utc::now().timestamp();
    let first17 = "61072719900101123";
    let id = format!("{first17}{}", resident_id::check_char(first17.as_bytes()));
    json!({ "iss": "bench", "sub": "u1", "name": "张三", "id_number": id, "phone": "13800000000", "iat": now, "exp": now + 300, "jti": "j1" })
}

fn assertions(c: &mut Criterion) {
    let secret = "bench-secret-0123456789abcdef0123";
    let hs = jsonwebtoken::encode(&Header::default(), &claims(), &EncodingKey::from_secret(secret.as_bytes())).unwrap();
    let hs_key = ChannelKey::Hs256(secret.into());
    let signing = SigningKey::from_bytes(&[9u8; 32]);
    let ed = jsonwebtoken::encode(
        &Header::new(Algorithm::EdDSA),
        &claims(),
        &EncodingKey::from_ed_der(signing.to_pkcs8_der().unwrap().as_bytes()),
    )
    .unwrap();
    let ed_key = ChannelKey::EdDsa(signing.verifying_key().to_bytes());
    let now = Utc::now();
    c.bench_function("assertion/verify_hs256", |b| b.iter(|| verify_assertion(&hs_key, "bench", &hs, now).unwrap()));
    c.bench_function("assertion/verify_eddsa", |b| b.iter(|| verify_assertion(&ed_key, "bench", &ed, now).unwrap()));
}

fn name_rules(c: &mut Criterion) {
    let county = AdminCode::parse("610727").unwrap();
    name::check("预热", EntityType::IndividualBusiness, &county);
    c.bench_function("name/rules_only", |b| {
        b.iter(|| name::check("略阳县青禾电子商务店", EntityType::IndividualBusiness, &county))
    });
}

/// A database with `n` registered names in one county (and as many spread
/// over its neighbours), then the full check against it.
fn name_check_against_database(c: &mut Criterion) {
    let n: usize = std::env::var("BENCH_NAMES").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = rt.block_on(async {
        let db = Db::connect_url(&format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()), 4, "normal")
            .await
            .unwrap();
        db.migrate().await.unwrap();
        let now = Utc::now();
        let chars: Vec<char> = "青禾秦巴山珍嘉陵江汉水龙凤金银星月春秋华夏东方南北".chars().collect();
        let industries = ["电子商务", "商贸", "农产品", "茶叶", "服装", "网络科技"];
        for chunk in 0..n.div_ceil(10_000) {
            let tx = db.write().await.unwrap();
            for i in chunk * 10_000..((chunk + 1) * 10_000).min(n) {
                let trade: String =
                    [chars[i % chars.len()], chars[(i / chars.len()) % chars.len()], chars[(i / 600) % chars.len()]]
                        .iter()
                        .collect::<String>()
                        + &format!("{}", i / 18_000);
                let industry = industries[i % industries.len()];
                let authority = if i % 2 == 0 { "610727" } else { "610726" };
                let full = format!("略阳县{trade}{industry}店");
                store::names::insert(
                    &tx,
                    store::names::NewName {
                        authority,
                        full_name: &full,
                        trade_name: &trade,
                        industry: Some(industry),
                        state: "registered",
                        application_id: None,
                        enterprise_id: None,
                        uscc: None,
                        reserved_until: None,
                        now,
                    },
                )
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        }
        db
    });
    let county = AdminCode::parse("610727").unwrap();
    let mut g = c.benchmark_group(format!("name/check_against_{n}_names"));
    g.bench_function("available", |b| {
        b.to_async(&rt).iter(|| {
            services::names::check(
                db.conn(),
                "略阳县青禾电子商务店",
                EntityType::IndividualBusiness,
                &county,
                Default::default(),
                Utc::now(),
            )
        })
    });
    g.finish();
}

fn uscc_allocation(c: &mut Criterion) {
    let county = AdminCode::parse("610727").unwrap();
    c.bench_function("uscc/issue_pure", |b| {
        let mut n = 0u64;
        b.iter(|| {
            n += 1;
            Uscc::issue(uscc::Category::IndividualBusiness, &county, &uscc::org_body(n))
        })
    });
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let db = rt.block_on(async {
        let db = Db::connect_url(&format!("sqlite://{}/bench.db?mode=rwc", dir.path().display()), 4, "normal")
            .await
            .unwrap();
        db.migrate().await.unwrap();
        db
    });
    let form: Form = serde_json::from_value(json!({
        "kind": "establish", "entity_type": "individual_business", "admin_code": "610727", "parties": [], "scope": [], "premises": []
    }))
    .unwrap();
    c.bench_function("uscc/allocate_in_transaction_sqlite", |b| {
        b.to_async(&rt).iter(|| async {
            let tx = db.write().await.unwrap();
            let code = services::issuance::allocate_uscc(&db, &tx, &form).await.unwrap();
            tx.commit().await.unwrap();
            code
        })
    });
}

/// The credential in a licence QR: minting, and a cold check (decode and
/// Ed25519 verification), which is what a cache miss on the verification
/// path costs before any standing is read.
fn credentials(c: &mut Criterion) {
    use greenchannel::domain::{
        credential::{self, Claims},
        verification::{Standing, judge_credential},
    };
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public = key.verifying_key();
    let claims = Claims {
        kid: 1,
        uscc: greenchannel::domain::uscc::Uscc::parse("92610727MA0000007X").unwrap(),
        version: 2,
        issued_at: chrono::Utc::now(),
        shop: Some(credential::shop_binding("https://shop.example.com/1")),
    };
    let text = credential::issue(&key, &claims);
    c.bench_function("credential/issue", |b| b.iter(|| credential::issue(&key, &claims)));
    c.bench_function("credential/parse_and_verify", |b| {
        b.iter(|| {
            let p = credential::parse(&text).unwrap();
            assert!(p.verify(&public));
        })
    });
    let urls = vec!["https://shop.example.com/1".to_string()];
    let standing = Standing { status: "active", licence_version: 2, name_key: None, display_urls: &urls };
    c.bench_function("credential/judge", |b| {
        b.iter(|| judge_credential(true, &claims, Some(standing), Some("https://shop.example.com/1")))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = assertions, name_rules, name_check_against_database, uscc_allocation, credentials
}
criterion_main!(benches);
