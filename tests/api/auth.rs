//! Mobile sign-in: every way an assertion can be wrong has its own problem.
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use ed25519_dalek::{SigningKey, pkcs8::EncodePrivateKey};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_dev_assertion_is_exchanged_for_a_session_that_identifies_the_person() {
    let app = spawn_app().await;
    let p = Person::new("张三");
    let r = app.sign_in_with("dev", &app.assertion(&p, |_| {})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let token = r.body["token"].as_str().unwrap();
    assert!(token.starts_with("gcs_"));
    assert_eq!(r.body["id_number_masked"], format!("{}***********{}", &p.id_number[..3], &p.id_number[14..]));
    let me = app.get("/api/v1/auth/me", token).await;
    assert_eq!(me.ok()["role"], "applicant");
    assert_eq!(me.body["name"], "张三");
    assert!(!me.text.contains(&p.id_number), "the full ID number is never echoed");
}

#[tokio::test]
async fn an_unknown_channel_is_refused() {
    let app = spawn_app().await;
    let r = app.sign_in_with("no-such-channel", &app.assertion(&Person::new("李四"), |_| {})).await;
    r.problem(401, "unknown_channel");
}

#[tokio::test]
async fn the_dev_channel_exists_only_in_dev_mode() {
    let app = spawn_app_with(|s| s.dev = false).await;
    let r = app.sign_in_with("dev", &app.assertion(&Person::new("李四"), |_| {})).await;
    r.problem(401, "unknown_channel");
}

#[tokio::test]
async fn a_bad_signature_is_refused() {
    let app = spawn_app().await;
    let p = Person::new("王五");
    let good = app.assertion(&p, |_| {});
    let forged = jsonwebtoken::encode(
        &Header::default(),
        &jsonwebtoken::dangerous::insecure_decode::<serde_json::Value>(&good).unwrap().claims,
        &EncodingKey::from_secret(b"not-the-dev-secret-at-all-000000"),
    )
    .unwrap();
    app.sign_in_with("dev", &forged).await.problem(401, "assertion_signature_invalid");
    // Tampering with the payload after signing breaks it too.
    let mut parts: Vec<String> = good.split('.').map(String::from).collect();
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    claims["name"] = json!("冒名者");
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    app.sign_in_with("dev", &parts.join(".")).await.problem(401, "assertion_signature_invalid");
    app.sign_in_with("dev", "not-a-jwt").await.problem(401, "assertion_malformed");
}

#[tokio::test]
async fn an_expired_assertion_is_refused() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let a = app.assertion(&Person::new("赵六"), |c| {
        c["iat"] = json!(now - 900);
        c["exp"] = json!(now - 400);
    });
    app.sign_in_with("dev", &a).await.problem(401, "assertion_expired");
}

#[tokio::test]
async fn an_assertion_valid_for_more_than_ten_minutes_is_refused() {
    let app = spawn_app().await;
    let now = chrono::Utc::now().timestamp();
    let a = app.assertion(&Person::new("钱七"), |c| c["exp"] = json!(now + 601));
    app.sign_in_with("dev", &a).await.problem(401, "assertion_lifetime_too_long");
}

#[tokio::test]
async fn a_replayed_assertion_is_refused() {
    let app = spawn_app().await;
    let p = Person::new("孙八");
    let a = app.assertion(&p, |_| {});
    assert_eq!(app.sign_in_with("dev", &a).await.status, 201);
    app.sign_in_with("dev", &a).await.problem(401, "assertion_replayed");
    // The refused sign-in wrote nothing: its session, replay record and
    // audit event commit together or not at all.
    let db = app.state.db.conn();
    let count = |sql: String| async move {
        let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let id = &p.id_number;
    assert_eq!(count(format!("SELECT COUNT(*) AS n FROM sessions WHERE id_number = '{id}'")).await, 1);
    let events =
        format!("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'session.created' AND actor_id = '{id}'");
    assert_eq!(count(events).await, 1);
    assert_eq!(count("SELECT COUNT(*) AS n FROM used_assertions".into()).await, 1);
}

#[tokio::test]
async fn a_resident_id_with_a_wrong_check_digit_is_refused_naming_the_claim() {
    let app = spawn_app().await;
    let p = Person::new("周九");
    let last = p.id_number.chars().last().unwrap();
    let wrong = if last == '1' { '2' } else { '1' };
    let bad = format!("{}{wrong}", &p.id_number[..17]);
    let r = app.sign_in_with("dev", &app.assertion(&p, |c| c["id_number"] = json!(bad))).await;
    r.problem(422, "assertion_claims_invalid");
    assert_eq!(r.fields(), vec![("assertion.id_number".to_string(), "invalid_check_digit".to_string())]);
}

#[tokio::test]
async fn missing_claims_are_named() {
    let app = spawn_app().await;
    let r = app
        .sign_in_with(
            "dev",
            &app.assertion(&Person::new("吴十"), |c| {
                c.as_object_mut().unwrap().remove("jti");
                c.as_object_mut().unwrap().remove("name");
            }),
        )
        .await;
    r.problem(422, "assertion_claims_invalid");
    let fields = r.fields();
    assert!(fields.contains(&("assertion.jti".into(), "claim_missing".into())), "{fields:?}");
    assert!(fields.contains(&("assertion.name".into(), "claim_missing".into())), "{fields:?}");
}

#[tokio::test]
async fn an_eddsa_channel_verifies_with_its_public_key_and_refuses_other_algorithms() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let signing = SigningKey::from_bytes(&[7u8; 32]);
    let public = URL_SAFE_NO_PAD.encode(signing.verifying_key().to_bytes());
    let r = app
        .post(
            "/api/v1/admin/channels",
            &admin,
            &json!({ "id": "gov-app", "name": "某政务App", "algorithm": "EdDSA", "key": public }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);

    let p = Person::new("郑一");
    let now = chrono::Utc::now().timestamp();
    let claims = json!({ "iss": "gov-app", "sub": "u1", "name": p.name, "id_number": p.id_number, "phone": p.phone, "iat": now, "exp": now + 120, "jti": "j-1" });
    let der = signing.to_pkcs8_der().unwrap();
    let key = EncodingKey::from_ed_der(der.as_bytes());
    let good = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &key).unwrap();
    assert_eq!(app.sign_in_with("gov-app", &good).await.status, 201);

    // The same claims as HS256 keyed with the public key (algorithm confusion).
    let mut claims2 = claims.clone();
    claims2["jti"] = json!("j-2");
    let confused =
        jsonwebtoken::encode(&Header::default(), &claims2, &EncodingKey::from_secret(public.as_bytes())).unwrap();
    app.sign_in_with("gov-app", &confused).await.problem(401, "assertion_signature_invalid");
    // Another channel's id in iss is refused.
    let wrong_iss = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &json!({ "iss": "dev", "sub": "u1", "name": p.name, "id_number": p.id_number, "iat": now, "exp": now + 120, "jti": "j-3" }), &key).unwrap();
    app.sign_in_with("gov-app", &wrong_iss).await.problem(422, "assertion_claims_invalid");
}

#[tokio::test]
async fn signing_out_revokes_the_session() {
    let app = spawn_app().await;
    let token = app.sign_in(&Person::new("冯二")).await;
    assert_eq!(app.request(Method::DELETE, "/api/v1/auth/session", Some(&token), None, &[]).await.status, 204);
    app.get("/api/v1/auth/me", &token).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn sessions_expire() {
    let app = spawn_app().await;
    let token = app.sign_in(&Person::new("陈三")).await;
    app.clock.advance(chrono::Duration::minutes(121));
    app.get("/api/v1/auth/me", &token).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn api_keys_are_stored_hashed_and_can_be_revoked() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let r = app
        .post("/api/v1/admin/api-keys", &admin, &json!({ "role": "reviewer", "authority": COUNTY, "name": "窗口1" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let key = r.body["key"].as_str().unwrap().to_string();
    let id = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/auth/me", &key).await.ok()["authority"], COUNTY);

    let rows = greenchannel::store::api_keys::list(app.state.db.conn()).await.unwrap();
    assert!(
        rows.iter().all(|k| k.key_hash != key && !k.key_hash.contains(&key[4..])),
        "keys are stored as hashes only"
    );

    assert_eq!(
        app.request(Method::DELETE, &format!("/api/v1/admin/api-keys/{id}"), Some(&admin), None, &[]).await.status,
        204
    );
    app.get("/api/v1/auth/me", &key).await.problem(401, "unauthorized");
    app.get("/api/v1/auth/me", "gck_made-up").await.problem(401, "unauthorized");
    app.request(Method::GET, "/api/v1/auth/me", None, None, &[]).await.problem(401, "unauthorized");
}

#[tokio::test]
async fn a_reviewer_key_needs_a_real_county() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let r = app.post("/api/v1/admin/api-keys", &admin, &json!({ "role": "reviewer", "authority": "610700" })).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), vec![("authority".to_string(), "unknown_division".to_string())]);
}

/// A batch (what a sign-in or a new draft commits) is all or nothing: when
/// a later part fails, the parts before it and its audit event are gone too.
#[tokio::test]
async fn a_batch_whose_later_part_fails_writes_none_of_it() {
    use greenchannel::{
        domain::principal::Actor,
        services::audit::{self, Subject},
        store::channels::use_assertion,
    };
    let app = spawn_app().await;
    let db = &app.state.db;
    let exp = chrono::Utc::now() + chrono::Duration::minutes(5);
    let mut first = db.batch();
    first.push(use_assertion(first.backend(), "dev", "taken", exp));
    db.commit_batch(first).await.unwrap();

    let mut batch = db.batch();
    let backend = batch.backend();
    batch.push(use_assertion(backend, "dev", "fresh", exp));
    batch.push(use_assertion(backend, "dev", "taken", exp));
    let subject = Subject { kind: "test", id: "batch" };
    audit::record(&batch, chrono::Utc::now(), &Actor::system(), "test.batch", subject, None, None, json!({}))
        .await
        .unwrap();
    assert!(db.commit_batch(batch).await.is_err());

    let conn = db.conn();
    let count = |sql: &'static str| async move {
        let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) AS n FROM used_assertions WHERE jti = 'fresh'").await, 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM audit_events WHERE action = 'test.batch'").await, 0);
    assert_eq!(count("SELECT COUNT(*) AS n FROM used_assertions WHERE jti = 'taken'").await, 1);
}
