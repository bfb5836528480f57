//! Electronic licences and their verification: the PDF and badge with
//! their QR codes (checked with real tools), every result value, key
//! rotation, batches, rate limits, the change feed, offline verification
//! and the page a phone opens (rendered in headless Chromium).
use std::collections::HashMap;

use greenchannel::{
    documents::testing::{have, output_dir, run, scan},
    domain::{
        admin_code::AdminCode,
        credential::{self, Claims},
        uscc::{Category, Uscc},
    },
    services,
};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn shop_of(p: &Person) -> String {
    format!("https://shop.example.com/{}", &p.id_number[12..])
}

/// The verification URL of the current licence, as the owner sees it.
async fn verify_url(app: &TestApp, token: &str, uscc: &str) -> String {
    app.get(&format!("/api/v1/enterprises/{uscc}"), token).await.ok()["verify_url"].as_str().unwrap().to_string()
}

fn credential_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

async fn verify(app: &TestApp, cred: &str, shop: Option<&str>) -> Value {
    let mut path = format!("/api/v1/verify/{cred}");
    if let Some(s) = shop {
        path.push_str(&format!("?shop_url={}", urlencode(s)));
    }
    let r = app.request(Method::GET, &path, None, None, &[]).await;
    r.ok().clone()
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn fetch(app: &TestApp, path: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut rb = app.client.get(format!("{}{path}", app.base));
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    rb.send().await.unwrap()
}

/// Signs claims with the instance's current signing key (a credential the
/// service could have issued).
fn sign(app: &TestApp, claims: Claims) -> String {
    let keys = app.state.keys.current();
    let (kid, key) = keys.for_version(None).unwrap();
    credential::issue(key, &Claims { kid, ..claims })
}

#[tokio::test]
async fn the_licence_pdf_and_badge_carry_a_credential_that_scans_and_verifies() {
    let app = spawn_app().await;
    let owner = Person::new("亮照人");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县亮照土特产店")).await;
    let url = verify_url(&app, &t, &uscc).await;
    assert!(url.starts_with(&format!("{}/v/", app.base)), "{url}");
    assert_eq!(credential_of(&url).len(), 149);

    // The PDF: public, deterministic, cacheable.
    let path = format!("/api/v1/enterprises/{uscc}/licence.pdf");
    let r = fetch(&app, &path, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(r.headers()["x-licence-version"], "1");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let pdf = r.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(fetch(&app, &path, &[]).await.bytes().await.unwrap(), pdf, "same version, same bytes");
    let again = fetch(&app, &path, &[("if-none-match", &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);

    // The badge: for a shop the owner registered; not for one it did not.
    let shop = shop_of(&owner);
    let badge_path = format!("/api/v1/enterprises/{uscc}/badge.svg?shop_url={}", urlencode(&shop));
    let b = fetch(&app, &badge_path, &[]).await;
    assert_eq!(b.status(), 200);
    assert!(b.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));
    let svg = b.text().await.unwrap();
    assert!(svg.contains("略阳县亮照土特产店") && svg.contains(&uscc));
    let undeclared = app
        .request(
            Method::GET,
            &format!("/api/v1/enterprises/{uscc}/badge.svg?shop_url={}", urlencode("https://elsewhere.example.net/1")),
            None,
            None,
            &[],
        )
        .await;
    undeclared.problem(422, "validation_failed");
    assert_eq!(undeclared.fields(), vec![("shop_url".to_string(), "not_declared".to_string())]);

    let v = verify(&app, &credential_of(&url), None).await;
    assert_eq!(v["result"], "valid", "{v}");
    assert_eq!(v["enterprise"]["name"], "略阳县亮照土特产店");
    assert_eq!(v["enterprise"]["representative_name"], "亮照人");
    assert_eq!(v["credential"]["shop_bound"], false);
    assert!(!v.to_string().contains(&owner.id_number), "no ID numbers in public output");

    // Real tools: the PDF is valid with an embedded CJK subset, and the QR
    // codes of the rendered page and the rasterised badge decode to URLs
    // that verify.
    if !have(&[
        ("qpdf", "qpdf"),
        ("pdffonts", "poppler-utils"),
        ("pdftoppm", "poppler-utils"),
        ("zbarimg", "zbar-tools"),
        ("rsvg-convert", "librsvg2-bin"),
    ]) {
        return;
    }
    let dir = output_dir();
    let pdf_file = dir.join("served-licence.pdf");
    std::fs::write(&pdf_file, &pdf).unwrap();
    let pdf_path = pdf_file.to_str().unwrap();
    run("qpdf", &["--check", pdf_path]);
    let fonts = run("pdffonts", &[pdf_path]);
    let font_line = fonts.lines().find(|l| l.contains("Identity-H")).unwrap_or_else(|| panic!("{fonts}"));
    assert!(font_line.contains("yes yes yes"), "embedded, subset, unicode: {font_line}");
    assert!(font_line.split_whitespace().next().unwrap().contains('+'), "subset tag: {font_line}");
    let png_prefix = dir.join("served-licence");
    run("pdftoppm", &["-png", "-r", "150", "-singlefile", pdf_path, png_prefix.to_str().unwrap()]);
    assert_eq!(scan(&dir.join("served-licence.png")), url, "the PDF's QR is the verification URL");

    let svg_file = dir.join("served-badge.svg");
    std::fs::write(&svg_file, &svg).unwrap();
    let badge_png = dir.join("served-badge.png");
    run("rsvg-convert", &["-z", "3", "-b", "white", "-o", badge_png.to_str().unwrap(), svg_file.to_str().unwrap()]);
    let badge_url = scan(&badge_png);
    assert!(badge_url.starts_with(&format!("{}/v/", app.base)), "{badge_url}");
    let bc = credential_of(&badge_url);
    let at_shop = verify(&app, &bc, Some(&shop)).await;
    assert_eq!(at_shop["result"], "valid", "{at_shop}");
    assert_eq!(at_shop["credential"]["shop_bound"], true);

    // The owner declares a second shop: the first shop's badge copied there
    // is not valid there, and neither is any badge on an undeclared shop.
    let second = "https://m.example.org/store/88";
    let declared = app
        .request(
            Method::PUT,
            &format!("/api/v1/enterprises/{uscc}/display-urls"),
            Some(&t),
            Some(&json!({ "urls": [second] })),
            &[],
        )
        .await;
    assert_eq!(declared.ok()["declared"], json!([second]));
    assert_eq!(declared.body["registered_shops"], json!([shop]));
    assert_eq!(verify(&app, &bc, Some(second)).await["result"], "not_displayed_here");
    assert_eq!(verify(&app, &bc, Some("https://evil.example.com/x")).await["result"], "not_displayed_here");
    assert_eq!(verify(&app, &credential_of(&url), Some(second)).await["result"], "valid", "unbound: any declared shop");
    assert_eq!(
        verify(&app, &credential_of(&url), Some("https://evil.example.com/x")).await["result"],
        "not_displayed_here"
    );
}

#[tokio::test]
async fn every_result_value_and_status_changes_show_at_the_next_verification() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let owner = Person::new("核验人");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县核验土特产店")).await;
    let v1 = credential_of(&verify_url(&app, &t, &uscc).await);
    assert_eq!(verify(&app, &v1, None).await["result"], "valid");

    // Re-issue (extra premises): the old credential is superseded at once.
    let filed = app
        .post(&format!("/api/v1/enterprises/{uscc}/premises"), &t, &json!({ "address": address("西街9号仓库") }))
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let superseded = verify(&app, &v1, None).await;
    assert_eq!(superseded["result"], "superseded");
    assert_eq!(superseded["enterprise"]["licence_version"], 2);
    let v2 = credential_of(&verify_url(&app, &t, &uscc).await);
    assert_eq!(verify(&app, &v2, None).await["result"], "valid");
    // The old version's PDF is still served, differently (stamped superseded).
    let old = fetch(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf?version=1"), &[]).await;
    assert_eq!(old.status(), 200);
    assert_eq!(old.headers()["x-licence-version"], "1");
    let cur = fetch(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf"), &[]).await;
    assert_eq!(cur.headers()["x-licence-version"], "2");
    assert_ne!(old.headers()["etag"], cur.headers()["etag"]);
    let none =
        app.request(Method::GET, &format!("/api/v1/enterprises/{uscc}/licence.pdf?version=3"), None, None, &[]).await;
    none.problem(404, "not_found");

    // Abnormal is a flag: still valid, and it says so.
    app.post(
        &format!("/api/v1/admin/enterprises/{uscc}/abnormal"),
        &admin,
        &json!({ "abnormal": true, "reason": "通过登记的住所无法联系" }),
    )
    .await
    .ok();
    let flagged = verify(&app, &v2, None).await;
    assert_eq!((flagged["result"].as_str(), flagged["enterprise"]["abnormal"].as_bool()), (Some("valid"), Some(true)));

    // Revocation: the very next verification.
    app.post(
        &format!("/api/v1/admin/enterprises/{uscc}/revocation"),
        &admin,
        &json!({ "reason": "提交虚假材料取得登记" }),
    )
    .await
    .ok();
    assert_eq!(verify(&app, &v2, None).await["result"], "revoked");
    assert_eq!(verify(&app, &v1, None).await["result"], "revoked");

    // Deregistration.
    let other = Person::new("注销人");
    let (t2, uscc2) = app.establish_shop(&other, None).await;
    let c2 = credential_of(&verify_url(&app, &t2, &uscc2).await);
    assert_eq!(verify(&app, &c2, None).await["result"], "valid");
    let form = json!({ "kind": "deregister", "entity_type": "individual_business", "admin_code": COUNTY, "uscc": uscc2,
                       "deregistration": { "mode": "ordinary", "reason": "停止经营" } });
    let id = app.post("/api/v1/applications", &t2, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&other]).await;
    app.submit(&t2, &id).await.ok();
    let reviewer = app.reviewer(COUNTY).await;
    app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok();
    assert_eq!(verify(&app, &c2, None).await["result"], "deregistered");

    // Genuine signature, well-formed code, no such enterprise.
    let ghost_code = Uscc::issue(
        Category::IndividualBusiness,
        &AdminCode::parse(COUNTY).unwrap(),
        &greenchannel::domain::uscc::org_body(987_654),
    );
    let ghost = sign(&app, Claims { kid: 0, uscc: ghost_code, version: 1, issued_at: chrono::Utc::now(), shop: None });
    let nf = verify(&app, &ghost, None).await;
    assert_eq!(nf["result"], "not_found", "{nf}");

    // Tampered: one character of the signed part changed.
    let mut tampered = v2.clone().into_bytes();
    tampered[100] = if tampered[100] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    let forged = verify(&app, &tampered, None).await;
    assert_eq!(forged["result"], "invalid_signature");
    assert!(forged.get("enterprise").is_none(), "a forgery shows no enterprise");

    // Signed by a key the service never published.
    let stranger = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let parsed = credential::parse(&v2).unwrap();
    let unknown = credential::issue(&stranger, &Claims { kid: 4242, ..parsed.claims.clone() });
    assert_eq!(verify(&app, &unknown, None).await["result"], "invalid_signature");
    let same_kid = credential::issue(&stranger, &parsed.claims);
    assert_eq!(verify(&app, &same_kid, None).await["result"], "invalid_signature");

    // Not a credential at all: 400 naming the field.
    for junk in ["hello", &"A".repeat(149), "%E4%BD%A0"] {
        let r = app.request(Method::GET, &format!("/api/v1/verify/{junk}"), None, None, &[]).await;
        r.problem(400, "bad_request");
        assert_eq!(r.fields(), vec![("credential".to_string(), "malformed".to_string())], "{junk}");
    }
}

#[tokio::test]
async fn rotation_keeps_old_credentials_verifiable_and_retirement_withdraws_them() {
    let app = spawn_app_with(|s| s.cache_sync_ms = 50).await;
    let owner = Person::new("轮换人");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县轮换土特产店")).await;
    let url = verify_url(&app, &t, &uscc).await;
    let old = credential_of(&url);
    let pdf_before = fetch(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf"), &[]).await.bytes().await.unwrap();
    let keys: Value = fetch(&app, "/.well-known/greenchannel/keys.json", &[]).await.json().await.unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    assert_eq!((keys["keys"][0]["kty"].as_str(), keys["keys"][0]["crv"].as_str()), (Some("OKP"), Some("Ed25519")));

    // Offline, with the published keys only.
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys.json");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    let offline = |input: &str, keys: &std::path::Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_greenchannel"))
            .args(["verify-offline", input, "--keys", keys.to_str().unwrap()])
            .env_remove("DATABASE_URL")
            .output()
            .unwrap();
        (out.status.code(), serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null))
    };
    let (code, report) = offline(&url, &keys_file);
    assert_eq!(code, Some(0), "{report}");
    assert_eq!((report["result"].as_str(), report["uscc"].as_str()), (Some("signature_valid"), Some(uscc.as_str())));
    let (code, report) = offline(&old.replace('A', "B"), &keys_file);
    assert_ne!(code, Some(0), "{report}");
    assert_eq!(offline("not-a-credential", &keys_file).0, Some(2));

    // Rotate: both keys published; the old credential still verifies; the
    // old licence keeps its key (same bytes); a new licence uses the new key.
    let new_kid = services::signing::rotate(&app.state.db, app.clock.now()).await.unwrap();
    app.state.keys.refresh(&app.state.db).await.unwrap();
    let keys: Value = fetch(&app, "/.well-known/greenchannel/keys.json", &[]).await.json().await.unwrap();
    let kids: Vec<&str> = keys["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    assert_eq!(kids, vec!["1".to_string(), new_kid.to_string()]);
    assert_eq!(verify(&app, &old, None).await["result"], "valid");
    assert_eq!(
        fetch(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf"), &[]).await.bytes().await.unwrap(),
        pdf_before
    );
    let other = Person::new("新钥人");
    let (t2, uscc2) = app.establish_shop(&other, None).await;
    let fresh = credential_of(&verify_url(&app, &t2, &uscc2).await);
    assert_eq!(credential::parse(&fresh).unwrap().claims.kid, new_kid);
    assert_eq!(verify(&app, &fresh, None).await["result"], "valid");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    assert_eq!(offline(&fresh, &keys_file).0, Some(0));
    assert_eq!(offline(&old, &keys_file).0, Some(0));

    // Retire the old key: unpublished, its credentials no longer verify,
    // and the licence is re-minted with the signing key. Other instances
    // learn of it from the database (here: the sync tick).
    services::signing::retire(&app.state.db, 1, app.clock.now()).await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while app.state.keys.current().verifying.contains_key(&1) {
        assert!(std::time::Instant::now() < deadline, "key ring did not pick up the retirement");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(verify(&app, &old, None).await["result"], "invalid_signature");
    let keys: Value = fetch(&app, "/.well-known/greenchannel/keys.json", &[]).await.json().await.unwrap();
    assert_eq!(keys["keys"].as_array().unwrap().len(), 1);
    let pdf_after = fetch(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf"), &[]).await.bytes().await.unwrap();
    assert_ne!(pdf_after, pdf_before, "the cached PDF with the retired key's credential is dropped");
    let reminted = credential_of(&verify_url(&app, &t, &uscc).await);
    assert_eq!(credential::parse(&reminted).unwrap().claims.kid, new_kid);
    assert_eq!(verify(&app, &reminted, None).await["result"], "valid");
    std::fs::write(&keys_file, keys.to_string()).unwrap();
    assert_eq!(offline(&old, &keys_file).0, Some(1));
    // The signing key itself cannot be retired.
    assert!(services::signing::retire(&app.state.db, new_kid, app.clock.now()).await.is_err());
}

#[tokio::test]
async fn a_batch_of_a_thousand_answers_each_item_in_order() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;
    let a = Person::new("甲店主");
    let (ta, ua) = app.establish_shop(&a, Some("略阳县甲乙土特产店")).await;
    let ca = credential_of(&verify_url(&app, &ta, &ua).await);
    let b = Person::new("乙店主");
    let (_, ub) = app.establish_shop(&b, Some("略阳县乙丙土特产店")).await;
    app.post(&format!("/api/v1/admin/enterprises/{ub}/revocation"), &admin, &json!({ "reason": "虚假登记" }))
        .await
        .ok();
    let mut forged = ca.clone().into_bytes();
    forged[100] = if forged[100] == b'Q' { b'R' } else { b'Q' };
    let forged = String::from_utf8(forged).unwrap();

    let ghost = Uscc::issue(
        Category::IndividualBusiness,
        &AdminCode::parse(COUNTY).unwrap(),
        &greenchannel::domain::uscc::org_body(987_654),
    );
    let kinds: Vec<(Value, &str)> = vec![
        (json!({ "uscc": ua, "name": "略阳县甲乙土特产店" }), "valid"),
        (json!({ "uscc": ua, "name": "略阳县甲乙 土特产店", "shop_url": shop_of(&a) }), "valid"),
        (json!({ "uscc": ua, "name": "略阳县别家网店" }), "name_mismatch"),
        (json!({ "uscc": ub, "name": "略阳县乙丙土特产店" }), "revoked"),
        (json!({ "uscc": ghost.to_string(), "name": "无此店" }), "not_found"),
        (json!({ "uscc": "92610727MA000000I0", "name": "坏代码" }), "malformed"),
        (json!({ "credential": ca }), "valid"),
        (json!({ "credential": ca, "shop_url": "https://elsewhere.example.com/1" }), "not_displayed_here"),
        (json!({ "credential": forged }), "invalid_signature"),
        (json!({ "credential": "not-a-credential" }), "malformed"),
        (json!({ "uscc": ua, "credential": ca }), "malformed"),
    ];
    let items: Vec<Value> = (0..1000).map(|i| kinds[i % kinds.len()].0.clone()).collect();
    let r = app.post("/api/v1/platform/verifications", &platform, &json!({ "items": items })).await;
    let results = r.ok()["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    let mut tally: HashMap<String, usize> = HashMap::new();
    for (i, res) in results.iter().enumerate() {
        assert_eq!(res["index"], i);
        assert_eq!(res["result"], kinds[i % kinds.len()].1, "item {i}: {res}");
        *tally.entry(res["result"].as_str().unwrap().to_string()).or_default() += 1;
        if res["result"] == "valid" {
            assert_eq!(res["enterprise"]["uscc"], ua.as_str());
        }
    }
    assert_eq!(tally.len(), 7, "{tally:?}");
    assert_eq!(results[5]["problem"], "uscc");
    assert_eq!(results[9]["problem"], "credential");

    let too_many: Vec<Value> = (0..1001).map(|_| json!({ "uscc": ua })).collect();
    let r = app.post("/api/v1/platform/verifications", &platform, &json!({ "items": too_many })).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), vec![("items".to_string(), "invalid_length".to_string())]);
    // Platforms only.
    app.post("/api/v1/platform/verifications", &admin, &json!({ "items": [{ "uscc": ua }] }))
        .await
        .problem(403, "forbidden");
    app.post("/api/v1/platform/verifications", &ta, &json!({ "items": [{ "uscc": ua }] }))
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn rate_limits_answer_429_with_retry_after_per_key_and_per_client() {
    let app = spawn_app_with(|s| {
        s.platform_verify_per_second = 5;
        s.public_verify_per_minute = 3;
    })
    .await;
    let owner = Person::new("限流人");
    let (t, uscc) = app.establish_shop(&owner, None).await;
    let cred = credential_of(&verify_url(&app, &t, &uscc).await);
    let path = format!("/api/v1/verify/{cred}");
    for _ in 0..3 {
        app.request(Method::GET, &path, None, None, &[]).await.ok();
    }
    let limited = app.request(Method::GET, &path, None, None, &[]).await;
    limited.problem(429, "rate_limited");
    assert!(limited.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // The page shares the public budget and says so in HTML.
    let page = fetch(&app, &format!("/v/{cred}"), &[]).await;
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));

    // A platform key has its own budget; a batch spends one per item.
    let key = app.key("platform", None, None, Some("limited-mall")).await;
    let other = app.key("platform", None, None, Some("other-mall")).await;
    for _ in 0..5 {
        app.get(&path, &key).await.ok();
    }
    let r = app.get(&path, &key).await;
    r.problem(429, "rate_limited");
    assert!(r.headers.contains_key("retry-after"));
    app.get(&path, &other).await.ok();
    let batch =
        app.post("/api/v1/platform/verifications", &other, &json!({ "items": vec![json!({ "uscc": uscc }); 6] })).await;
    batch.problem(429, "rate_limited");
    // A bad key is refused, not treated as anonymous.
    app.get(&path, "gck_not-a-key").await.problem(401, "unauthorized");
}

#[tokio::test]
async fn the_event_feed_resumes_from_any_cursor_without_gaps_or_repeats_and_is_pushed_signed() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let platform = app.key("platform", None, None, Some("feedmall")).await;
    let receiver = crate::receiver::Receiver::start("feedmall-webhook-secret-0123").await;
    let hook = app
        .request(
            Method::PUT,
            "/api/v1/platform/webhook",
            Some(&platform),
            Some(&json!({ "url": receiver.url, "secret": receiver.secret })),
            &[],
        )
        .await;
    assert_eq!(hook.ok()["id"], "feedmall");

    let mut shops = Vec::new();
    for n in ["甲", "乙", "丙"] {
        let p = Person::new(&format!("{n}订阅"));
        shops.push((p.clone(), app.establish_shop(&p, None).await));
    }
    let unwatched = Person::new("未订阅");
    let (_, u_unwatched) = app.establish_shop(&unwatched, None).await;
    let watched: Vec<String> = shops.iter().map(|(_, (_, u))| u.clone()).collect();
    let w = app
        .request(Method::PUT, "/api/v1/platform/watchlist", Some(&platform), Some(&json!({ "usccs": watched })), &[])
        .await;
    assert_eq!(w.ok()["watched"], 3);
    let bad = app
        .request(Method::PUT, "/api/v1/platform/watchlist", Some(&platform), Some(&json!({ "usccs": ["123"] })), &[])
        .await;
    assert_eq!(bad.fields()[0].0, "usccs[0]");

    // Changes: abnormal on/off, re-issue, display declared, revocation; and
    // one on an enterprise the platform does not watch.
    let (u0, u1, u2) = (&watched[0], &watched[1], &watched[2]);
    abnormal(&app, &admin, u0, true).await;
    abnormal(&app, &admin, &u_unwatched, true).await;
    abnormal(&app, &admin, u0, false).await;
    let t1 = &shops[1].1.0;
    app.post(&format!("/api/v1/enterprises/{u1}/premises"), t1, &json!({ "address": address("东街1号") })).await.ok();
    app.request(
        Method::PUT,
        &format!("/api/v1/enterprises/{u1}/display-urls"),
        Some(t1),
        Some(&json!({ "urls": ["https://m.example.org/s/1"] })),
        &[],
    )
    .await
    .ok();
    app.post(&format!("/api/v1/admin/enterprises/{u2}/revocation"), &admin, &json!({ "reason": "虚假登记" }))
        .await
        .ok();

    // On PostgreSQL the feed stops below the oldest transaction still running
    // anywhere in the cluster (other tests' included), so it may lag a moment.
    let all = feed_until(&app, &platform, "", 5).await;
    let kinds: Vec<(&str, &str)> =
        all.iter().map(|e| (e["uscc"].as_str().unwrap(), e["kind"].as_str().unwrap())).collect();
    assert_eq!(
        kinds,
        vec![
            (u0.as_str(), "abnormal.changed"),
            (u0.as_str(), "abnormal.changed"),
            (u1.as_str(), "licence.reissued"),
            (u1.as_str(), "display.changed"),
            (u2.as_str(), "status.changed"),
        ],
        "{all:?}"
    );
    assert_eq!(all[4]["enterprise"]["status"], "revoked");

    // Page through two at a time: the same events, none twice.
    let mut cursor = String::new();
    let mut paged = Vec::new();
    loop {
        let page = app.get(&format!("/api/v1/platform/events?limit=2&after={cursor}"), &platform).await;
        let events = page.ok()["events"].as_array().unwrap().clone();
        cursor = page.body["next_cursor"].as_str().unwrap().to_string();
        if events.is_empty() {
            break;
        }
        paged.extend(events);
    }
    assert_eq!(paged, all);
    // Resume from the middle.
    let mid = all[1]["cursor"].as_str().unwrap();
    let tail = app.get(&format!("/api/v1/platform/events?after={mid}&limit=1000"), &platform).await;
    assert_eq!(tail.ok()["events"].as_array().unwrap()[..], all[2..]);
    // Nothing new after the end; a later change appears after it.
    assert!(
        app.get(&format!("/api/v1/platform/events?after={cursor}"), &platform).await.ok()["events"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    abnormal(&app, &admin, u1, true).await;
    let next = feed_until(&app, &platform, &cursor, 1).await;
    assert_eq!(next[0]["uscc"], u1.as_str());
    app.get("/api/v1/platform/events?after=garbage", &platform).await.problem(422, "validation_failed");
    app.get("/api/v1/platform/events", &admin).await.problem(403, "forbidden");

    // The same events, pushed and signed (the receiver checks the HMAC).
    receiver.wait_for(6, 20).await;
    let log = receiver.log.lock().unwrap();
    assert_eq!(log.bad_signatures, 0);
    let pushed: Vec<Value> = log.requests.iter().map(|(_, _, body)| serde_json::from_str(body).unwrap()).collect();
    assert!(pushed.iter().all(|p| p["uscc"] != u_unwatched.as_str()), "only watched enterprises are pushed");
    assert!(pushed.iter().any(|p| p["kind"] == "status.changed" && p["uscc"] == u2.as_str()));
}

/// The feed after `after`, once it holds at least `n` events.
async fn feed_until(app: &TestApp, platform: &str, after: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let page = app.get(&format!("/api/v1/platform/events?limit=1000&after={after}"), platform).await;
        let events = page.ok()["events"].as_array().unwrap().clone();
        if events.len() >= n || std::time::Instant::now() > deadline {
            return events;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn abnormal(app: &TestApp, admin: &str, uscc: &str, on: bool) {
    let body = json!({ "abnormal": on, "reason": "住所无法联系" });
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/abnormal"), admin, &body).await.ok();
}

#[tokio::test]
async fn another_instance_sees_a_revocation_through_the_change_feed() {
    let app = spawn_app_with(|s| s.cache_sync_ms = 50).await;
    let mut settings = test_settings();
    settings.cache_sync_ms = 50;
    settings.data_dir = app.state.settings.data_dir.clone();
    settings.database_url = app.state.settings.database_url.clone();
    let other = spawn_with_settings(settings, tempfile::tempdir().unwrap()).await;
    let admin = app.key("admin", None, None, None).await;
    let owner = Person::new("双实例");
    let (t, uscc) = app.establish_shop(&owner, None).await;
    let cred = credential_of(&verify_url(&app, &t, &uscc).await);
    assert_eq!(verify(&other, &cred, None).await["result"], "valid", "warms the other instance's cache");
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/revocation"), &admin, &json!({ "reason": "虚假登记" }))
        .await
        .ok();
    assert_eq!(verify(&app, &cred, None).await["result"], "revoked", "the instance that made the change: at once");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if verify(&other, &cred, None).await["result"] == "revoked" {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the other instance never saw the revocation");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_verification_page_shows_the_verdict_and_public_facts_in_both_languages() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let owner = Person::new("页面人");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县页面土特产店")).await;
    let url = verify_url(&app, &t, &uscc).await;
    let path = format!("/v/{}", credential_of(&url));
    let zh = fetch(&app, &path, &[]).await;
    assert_eq!(zh.status(), 200);
    assert!(zh.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = zh.text().await.unwrap();
    for expected in ["营业执照有效", "略阳县页面土特产店", &uscc, "页面人", "经营范围", "lang=\"zh-CN\""]
    {
        assert!(html.contains(expected), "missing {expected}");
    }
    assert!(!html.contains(&owner.id_number) && !html.contains(&owner.phone), "no personal numbers");
    let en = fetch(&app, &path, &[("accept-language", "en-GB,en;q=0.9")]).await.text().await.unwrap();
    assert!(en.contains("Licence valid") && en.contains("lang=\"en\""));
    let bad = fetch(&app, "/v/NOTACREDENTIAL", &[]).await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("无效的执照二维码"));

    let shots = output_dir();
    let valid_png = shots.join("verify-page-valid.png");
    // Chromium asks for en-US; the page's own switch picks Chinese.
    screenshot(format!("{}{path}?lang=zh-CN", app.base), valid_png).await;
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/revocation"), &admin, &json!({ "reason": "虚假登记" }))
        .await
        .ok();
    let revoked = fetch(&app, &path, &[]).await.text().await.unwrap();
    assert!(revoked.contains("营业执照已吊销"));
    screenshot(format!("{}{path}?lang=en", app.base), shots.join("verify-page-revoked-en.png")).await;
}

/// A phone-width screenshot in headless Chromium, when it is installed.
/// Off the test's runtime thread: the server answers Chromium on it.
async fn screenshot(url: String, png: std::path::PathBuf) {
    if !have(&[("chromium", "chromium")]) {
        return;
    }
    tokio::task::spawn_blocking(move || chromium_screenshot(&url, &png)).await.unwrap();
}

fn chromium_screenshot(url: &str, png: &std::path::Path) {
    let _ = std::fs::remove_file(png);
    let profile = tempfile::tempdir().unwrap();
    run(
        "chromium",
        &[
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            "--window-size=390,844",
            &format!("--user-data-dir={}", profile.path().display()),
            &format!("--screenshot={}", png.display()),
            url,
        ],
    );
    let bytes = std::fs::read(png).expect("chromium wrote the screenshot");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000, "a real render ({} bytes)", bytes.len());
}

#[tokio::test]
async fn display_urls_are_the_owners_to_declare_and_bad_ones_are_named() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let owner = Person::new("申报人");
    let (t, uscc) = app.establish_shop(&owner, None).await;
    let path = format!("/api/v1/enterprises/{uscc}/display-urls");
    let put = |token: &str, body: Value| {
        let (path, token) = (path.clone(), token.to_string());
        let app = &app;
        async move { app.request(Method::PUT, &path, Some(&token), Some(&body), &[]).await }
    };
    let bad = put(&t, json!({ "urls": ["https://ok.example.com/1", "ftp://x.example.com", "not a url"] })).await;
    bad.problem(422, "validation_failed");
    assert_eq!(
        bad.fields(),
        vec![("urls[1]".to_string(), "invalid_url".to_string()), ("urls[2]".to_string(), "invalid_url".to_string())]
    );
    let too_many: Vec<String> = (0..51).map(|i| format!("https://s.example.com/{i}")).collect();
    assert_eq!(put(&t, json!({ "urls": too_many })).await.fields()[0], ("urls".to_string(), "too_many".to_string()));
    // Someone else's enterprise: not found, whoever asks.
    let stranger = app.sign_in(&Person::new("旁人")).await;
    put(&stranger, json!({ "urls": ["https://x.example.com/1"] })).await.problem(404, "not_found");
    app.get(&path, &stranger).await.problem(404, "not_found");
    // Nothing was written by the refused requests.
    assert_eq!(app.get(&path, &t).await.ok()["declared"], json!([]));
    // A revoked licence gets no badge.
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/revocation"), &admin, &json!({ "reason": "虚假登记" }))
        .await
        .ok();
    let badge = app.request(Method::GET, &format!("/api/v1/enterprises/{uscc}/badge.svg"), None, None, &[]).await;
    badge.problem(409, "invalid_state");
    put(&t, json!({ "urls": ["https://x.example.com/1"] })).await.problem(409, "invalid_state");
}
