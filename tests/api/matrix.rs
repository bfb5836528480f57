//! The access matrix, generated from the served OpenAPI document: every
//! operation, called as every role (and anonymously) on resources that
//! caller does not own. No stranger ever gets a 2xx; strangers of the
//! operation's own audience reading someone else's resource get 404 (its
//! existence is not confirmed); nobody gets a 5xx; lists never carry
//! another's private ids. Then the server's debug log is searched for every
//! key, token, assertion, secret and ID number that crossed it.
//!
//! An operation added to the API without teaching [`fill`] its path
//! parameters fails this test, so the matrix always covers the whole spec.
use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{crash::Process, helpers::*};

/// Resources owned by someone other than every caller in the matrix.
struct World {
    application: String,
    /// Submitted, awaiting a reviewer of the owner's county.
    pending: String,
    material: String,
    uscc: String,
    premises: String,
    address: String,
    host: String,
    occupancy: String,
    notification: String,
    credential: String,
    /// Ids no stranger may ever see in a response.
    private: Vec<String>,
}

/// The path with its parameters filled from `w`, chosen by where they sit.
fn fill(path: &str, w: &World) -> String {
    let mut out = path.to_string();
    let params: Vec<String> = path
        .split('/')
        .filter(|s| s.starts_with('{'))
        .map(|s| s.trim_matches(|c| c == '{' || c == '}').to_string())
        .collect();
    for p in params {
        let value = match (p.as_str(), path) {
            ("id", x) if x.starts_with("/api/v1/applications/") => w.application.clone(),
            ("id", x) if x.starts_with("/api/v1/review/applications/") => w.pending.clone(),
            ("material_id", _) => w.material.clone(),
            ("uscc", _) => w.uscc.clone(),
            ("id", x) if x.starts_with("/api/v1/enterprises/{uscc}/premises/") => w.premises.clone(),
            ("id", x) if x.starts_with("/api/v1/addresses/") => w.address.clone(),
            ("id", x) if x.starts_with("/api/v1/admin/address-hosts/") => w.host.clone(),
            ("id", x) if x.starts_with("/api/v1/host/occupants/") => w.occupancy.clone(),
            ("id", x) if x.starts_with("/api/v1/department/notifications/") => w.notification.clone(),
            ("id", "/api/v1/admin/deliveries/{id}" | "/api/v1/admin/deliveries/{id}/retry") => "1".into(),
            ("id", x) if x.starts_with("/api/v1/admin/") || x.starts_with("/api/v1/public/") => {
                Uuid::new_v4().to_string()
            }
            ("credential", _) => w.credential.clone(),
            _ => panic!("the access matrix does not know how to fill {{{p}}} in {path}: teach `fill`"),
        };
        out = out.replace(&format!("{{{p}}}"), &value);
    }
    out
}

/// Who an operation is for, by where it sits: the roles it serves within
/// their own scope, and the roles that see everything of it (the bureau's
/// administrators supervise enterprises and addresses).
fn audience(path: &str, tag: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match tag {
        "Applicant" => (&["applicant"], &[]),
        "Reviewer" => (&["reviewer"], &[]),
        "Department" => (&["department"], &[]),
        "Platform" => (&["platform"], &[]),
        "Admin" => (&[], &["admin"]),
        "Auth" => (&["applicant", "reviewer", "department", "platform", "host", "admin"], &[]),
        _ if path.starts_with("/api/v1/host/") => (&["host"], &[]),
        _ if path.starts_with("/api/v1/addresses/") => (&["reviewer", "host"], &["admin"]),
        _ if path.starts_with("/api/v1/enterprises/") => (&["applicant", "reviewer"], &["admin"]),
        _ => (&[], &[]),
    }
}

/// A well-formed body, so the request reaches the access check rather than
/// stopping at parsing.
fn body_for(operation_id: &str, w: &World, p: &Person) -> Option<Value> {
    Some(match operation_id {
        "decide_application" => json!({ "decision": "approve" }),
        "update_application" | "create_application" => online_shop_form(p, None),
        "sign_application" | "confirm_occupant" | "claim_notification" => json!({}),
        "notification_feedback" => {
            json!({ "outcome": "licensed", "permit_no": "JY16107270000001", "valid_until": "2031-11-22" })
        }
        "declare_display_urls" => json!({ "urls": ["https://shop.example.com/matrix"] }),
        "file_premises" => json!({ "address": address("西街9号"), "activities": ["G1001"] }),
        "verify_batch" => json!({ "items": [{ "uscc": w.uscc, "name": "x" }] }),
        "set_watchlist" => json!({ "usccs": [w.uscc] }),
        "set_platform_webhook" => {
            json!({ "url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123456789abcdef" })
        }
        "check_name" => json!({ "admin_code": COUNTY, "name": "略阳县矩阵测试商店" }),
        _ => json!({}),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_as_every_role_on_what_it_does_not_own() {
    // Owners and their resources, prepared in-process.
    let mut app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let reviewer = app.reviewer(COUNTY).await;
    for (code, kind) in [("MX-SCJG", "market_regulation"), ("MX-CB", "publishing")] {
        let d = json!({ "code": code, "name": format!("略阳县{kind}"), "kind": kind, "admin_code": COUNTY, "webhook_url": "http://127.0.0.1:9/hook", "webhook_secret": "matrix-webhook-secret-000000001" });
        assert_eq!(app.post("/api/v1/admin/departments", &admin, &d).await.status, 201);
    }
    let host = |n: &str| {
        json!({ "name": n, "address": address(&format!("滨江路{}号", n.len())), "capacity": 5,
                "entity_types": ["individual_business", "sole_proprietorship"], "industries": ["G1", "G2"] })
    };
    let h1 = app.post("/api/v1/admin/address-hosts", &admin, &host("矩阵园区")).await.ok().clone();
    let h2 = app.post("/api/v1/admin/address-hosts", &admin, &host("另一个园区")).await.ok().clone();
    let key = |body: Value| {
        let (app, admin) = (&app, &admin);
        async move { app.post("/api/v1/admin/api-keys", admin, &body).await.ok()["key"].as_str().unwrap().to_string() }
    };
    let h1_key = key(json!({ "role": "host", "host": h1["id"] })).await;

    // Applicant A: a food shop (notified to MX-SCJG) with extra premises,
    // a hosted sole proprietorship, and a draft with a material.
    let a = Person::new("矩阵甲");
    let ta = app.sign_in(&a).await;
    let mut form = online_shop_form(&a, None);
    form["scope"] = json!(["G1001", "L1001"]);
    let id = app.post("/api/v1/applications", &ta, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&a]).await;
    app.request(Method::POST, &format!("/api/v1/applications/{id}/notice/acknowledgement"), Some(&ta), None, &[])
        .await
        .ok();
    app.submit(&ta, &id).await.ok();
    let approved = app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok().clone();
    let uscc = approved["uscc"].as_str().unwrap().to_string();
    let filed = app
        .post(&format!("/api/v1/enterprises/{uscc}/premises"), &ta, &json!({ "address": address("西街7号仓库") }))
        .await
        .ok()
        .clone();
    let hosted = json!({
        "kind": "establish", "entity_type": "sole_proprietorship", "admin_code": COUNTY, "name": "略阳县矩阵商贸经营部",
        "parties": [{ "name": a.name, "id_number": a.id_number, "roles": ["investor"] }],
        "scope": ["G1001"], "capital": "10000",
        "domicile": { "township_code": "610727001", "detail": "滨江路4号", "host_id": h1["id"] },
    });
    let hid = app.post("/api/v1/applications", &ta, &hosted).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&hid, &[&a]).await;
    app.submit(&ta, &hid).await.ok();
    app.decide(&reviewer, &hid, json!({ "decision": "approve" })).await.ok();
    let occupancy =
        app.get("/api/v1/host/occupants", &h1_key).await.ok()["items"][0]["id"].as_str().unwrap().to_string();
    let d1_key = key(json!({ "role": "department", "department": "MX-SCJG" })).await;
    let notification =
        app.get("/api/v1/department/notifications", &d1_key).await.ok()["items"][0]["id"].as_str().unwrap().to_string();
    let draft = app.post("/api/v1/applications", &ta, &online_shop_form(&a, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let material = app.attach(&ta, &draft, "address_commitment", tiny_pdf(), "application/pdf").await.ok()["material"]
        ["id"]
        .as_str()
        .unwrap()
        .to_string();
    let mut form = online_shop_form(&a, Some("略阳县矩阵待审服装店"));
    form["premises"][0]["url"] = json!("https://shop.example.com/matrix-pending");
    let pending = submitted_application(&app, &ta, &form).await;
    let credential = app.get(&format!("/api/v1/enterprises/{uscc}"), &ta).await.ok()["verify_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let world = World {
        application: draft.clone(),
        pending: pending.clone(),
        material: material.clone(),
        uscc,
        premises: filed["id"].as_str().unwrap().to_string(),
        address: filed["address_id"].as_str().unwrap().to_string(),
        host: h1["id"].as_str().unwrap().to_string(),
        occupancy: occupancy.clone(),
        notification: notification.clone(),
        credential,
        private: vec![draft, pending, id, hid, material, occupancy, notification],
    };

    // The strangers: one caller per role, none owning any of the above.
    let b = Person::new("矩阵乙");
    let tb = app.sign_in(&b).await;
    let mut callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("applicant", Some(tb.clone())),
        ("reviewer", Some(app.reviewer(OTHER_COUNTY).await)),
        ("department", Some(key(json!({ "role": "department", "department": "MX-CB" })).await)),
        ("platform", Some(key(json!({ "role": "platform", "platform": "矩阵平台" })).await)),
        ("host", Some(key(json!({ "role": "host", "host": h2["id"] })).await)),
        ("admin", Some(admin.clone())),
    ];
    let mut secrets: Vec<String> =
        vec![ta.clone(), reviewer.clone(), h1_key.clone(), d1_key.clone(), DEV_SECRET.into(), a.id_number.clone()];
    secrets.extend(callers.iter().filter_map(|c| c.1.clone()));
    secrets.push("matrix-webhook-secret-000000001".into());
    app.stop().await;

    // The matrix runs against the real binary, logging at debug level.
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut server = Process::for_database_of(&app);
    server.env = vec![
        ("RUST_LOG", "debug".into()),
        ("GREENCHANNEL_DEV", "true".into()),
        ("GREENCHANNEL_DEV_CHANNEL_SECRET", DEV_SECRET.into()),
        ("GREENCHANNEL_PUBLIC_VERIFY_PER_MINUTE", "100000".into()),
    ];
    server.log = Some(log.path().to_path_buf());
    server.start();
    server.ready().await;
    let client = reqwest::Client::builder().no_proxy().build().unwrap();
    // A sign-in through the logged server: its assertion and token are secrets too.
    let assertion = app.assertion(&b, |_| {});
    let r = client
        .post(format!("{}/api/v1/auth/channel", server.base()))
        .json(&json!({ "channel": "dev", "assertion": assertion }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let fresh: Value = r.json().await.unwrap();
    let fresh = fresh["token"].as_str().unwrap().to_string();
    callers[1].1 = Some(fresh.clone());
    secrets.extend([assertion, fresh]);

    let spec: Value = client.get(format!("{}/openapi.json", server.base())).send().await.unwrap().json().await.unwrap();
    let mut table: BTreeMap<String, String> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut calls = 0;
    let mut operations: Vec<(&String, &String, &Value)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| ops.as_object().unwrap().iter().map(move |(m, op)| (path, m, op)))
        .collect();
    // Signing out ends the callers' sessions: last.
    operations.sort_by_key(|(_, _, op)| op["operationId"] == "sign_out");
    {
        for (path, method, op) in operations {
            let op_id = op["operationId"].as_str().unwrap_or_default();
            let tag = op["tags"][0].as_str().unwrap_or_default();
            let security = op["security"].as_array().cloned().unwrap_or_default();
            // No security, or an empty alternative: public by design.
            let public = security.is_empty() || security.iter().any(|s| s.as_object().is_some_and(|o| o.is_empty()));
            let resource = path.contains('{');
            let url = format!("{}{}", server.base(), fill(path, &world));
            let mut row = Vec::new();
            for (role, token) in &callers {
                let m: Method = method.to_uppercase().parse().unwrap();
                let mut rb = client.request(m.clone(), &url);
                if let Some(t) = token {
                    rb = rb.bearer_auth(t);
                }
                if m != Method::GET && m != Method::DELETE {
                    rb = rb.json(&body_for(op_id, &world, &b));
                }
                if m == Method::PUT {
                    // Edits need a version; this one is current.
                    rb = rb.header("If-Match", "\"1\"");
                }
                let resp = rb.send().await.unwrap();
                calls += 1;
                let status = resp.status().as_u16();
                let text = resp.text().await.unwrap_or_default();
                row.push(format!("{role}={status}"));
                let what = format!(
                    "{} {path} as {role}: {status} {}",
                    method.to_uppercase(),
                    text.chars().take(160).collect::<String>()
                );
                if status >= 500 {
                    failures.push(format!("5xx: {what}"));
                }
                if public {
                    continue;
                }
                let (serves, sees_all) = audience(path, tag);
                let in_audience = serves.contains(role);
                let admin_global = sees_all.contains(role);
                if token.is_none() && status != 401 {
                    failures.push(format!("anonymous must get 401: {what}"));
                }
                if resource && !admin_global && (200..300).contains(&status) {
                    failures.push(format!("a stranger got a 2xx: {what}"));
                }
                if resource && in_audience && !admin_global && method == "get" && status != 404 {
                    failures.push(format!("an out-of-scope read must answer 404: {what}"));
                }
                if !resource && !admin_global && (200..300).contains(&status) {
                    for id in &world.private {
                        if text.contains(id.as_str()) {
                            failures.push(format!("another's id {id} leaked: {what}"));
                        }
                    }
                }
                if !in_audience && !admin_global && token.is_some() && (200..300).contains(&status) {
                    failures.push(format!("a 2xx outside the operation's audience: {what}"));
                }
            }
            table.insert(format!("{:6} {path}", method.to_uppercase()), row.join(" "));
        }
    }
    let printed: Vec<String> = table.iter().map(|(k, v)| format!("{k:70} {v}")).collect();
    assert!(failures.is_empty(), "{}\n\n{}", failures.join("\n"), printed.join("\n"));
    let operations = table.len();
    assert!(operations >= 60, "the matrix covers the spec: {operations} operations");
    drop(server);

    // Nothing secret in the log, though it recorded every one of those calls.
    let logged = std::fs::read_to_string(log.path()).unwrap();
    std::fs::write(greenchannel::documents::testing::output_dir().join("matrix-server.log"), &logged).unwrap();
    assert!(
        logged.lines().count() >= calls / 2,
        "the debug log recorded the requests ({} lines)",
        logged.lines().count()
    );
    for s in &secrets {
        assert!(!logged.contains(s.as_str()), "a secret was logged: {}…", &s[..s.len().min(12)]);
    }
    eprintln!(
        "{operations} operations × {} callers = {calls} calls; {} log lines, no secret in them",
        callers.len(),
        logged.lines().count()
    );
}
