//! Dual notification: the applicant's notice, the push to departments with
//! a real webhook receiver, claims, feedback, deadlines and delivery retries.
use greenchannel::documents::testing::{have, output_dir, run};
use reqwest::Method;
use serde_json::{Value, json};

use crate::{helpers::*, receiver::Receiver};

const SECRET: &str = "department-webhook-secret-0001";

async fn department(app: &TestApp, admin: &str, code: &str, kind: &str, webhook: Option<&Receiver>) {
    let mut body = json!({ "code": code, "name": format!("略阳县{kind}"), "kind": kind, "admin_code": COUNTY, "claim_days": 3, "feedback_days": 10 });
    if let Some(r) = webhook {
        body["webhook_url"] = json!(r.url);
        body["webhook_secret"] = json!(r.secret);
    }
    let r = app.post("/api/v1/admin/departments", admin, &body).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

/// An approved online shop selling food and books: returns (token, uscc).
async fn food_and_books(app: &TestApp, p: &Person) -> (String, String) {
    let t = app.sign_in(p).await;
    let mut form = online_shop_form(p, Some("略阳县书香食品店"));
    form["scope"] = json!(["G1001", "L1001", "L4001"]);
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[p]).await;
    let refused = app.submit(&t, &id).await;
    refused.problem(409, "submission_incomplete");
    assert!(refused.fields().contains(&("notice".to_string(), "acknowledgement_missing".to_string())));
    app.request(Method::POST, &format!("/api/v1/applications/{id}/notice/acknowledgement"), Some(&t), None, &[])
        .await
        .ok();
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
    let reviewer = app.reviewer(COUNTY).await;
    let uscc =
        app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok()["uscc"].as_str().unwrap().to_string();
    (t, uscc)
}

#[tokio::test]
async fn food_and_book_sales_are_notified_pushed_claimed_and_answered() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let market = Receiver::start(SECRET).await;
    department(&app, &admin, "LY-SCJG", "market_regulation", Some(&market)).await;
    department(&app, &admin, "LY-CB", "publishing", None).await;

    // The notice names both permits and their departments, before submission.
    let p = Person::new("书香");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, None);
    form["scope"] = json!(["G1001", "L1001", "L4001"]);
    let draft = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    let notice = app.get(&format!("/api/v1/applications/{draft}/notice"), &t).await;
    let items = notice.ok()["items"].as_array().unwrap().clone();
    let permits: Vec<(&str, &str)> =
        items.iter().map(|i| (i["permit"].as_str().unwrap(), i["department_code"].as_str().unwrap())).collect();
    assert_eq!(permits, [("食品经营许可", "LY-SCJG"), ("出版物经营许可证", "LY-CB")]);
    assert!(items[0]["basis"].as_str().unwrap().contains("食品安全法"));
    assert_eq!(notice.body["acknowledgement_required"], true);

    let (owner, uscc) = food_and_books(&app, &Person::new("书香二")).await;
    // The market regulator receives a signed push; the publisher pulls.
    market.wait_for(1, 10).await;
    {
        let log = market.log.lock().unwrap();
        assert_eq!(log.bad_signatures, 0);
        let body: Value = serde_json::from_str(&log.requests[0].2).unwrap();
        assert_eq!(body["enterprise"]["uscc"], uscc.as_str());
        assert_eq!(body["item"]["code"], "L1001");
        assert_eq!(log.requests[0].1, "notification.pushed");
    }
    let market_key = app.key("department", None, Some("LY-SCJG"), None).await;
    let books_key = app.key("department", None, Some("LY-CB"), None).await;
    let pending = app.get("/api/v1/department/notifications?status=pending", &books_key).await;
    let items = pending.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["permit"], "出版物经营许可证");
    let nid = items[0]["id"].as_str().unwrap().to_string();
    // Other departments cannot see or act on it.
    app.post(&format!("/api/v1/department/notifications/{nid}/claim"), &market_key, &json!({}))
        .await
        .problem(404, "not_found");

    let claimed = app.post(&format!("/api/v1/department/notifications/{nid}/claim"), &books_key, &json!({})).await;
    assert_eq!(claimed.ok()["status"], "claimed");
    assert!(claimed.body["feedback_due_at"].is_string());
    app.post(
        &format!("/api/v1/department/notifications/{nid}/feedback"),
        &books_key,
        &json!({ "outcome": "licensed" }),
    )
    .await
    .problem(422, "validation_failed");
    let done = app
        .post(
            &format!("/api/v1/department/notifications/{nid}/feedback"),
            &books_key,
            &json!({ "outcome": "licensed", "permit_no": "新出发陕字第610727001号", "valid_until": "2031-12-31" }),
        )
        .await;
    assert_eq!(done.ok()["status"], "closed");
    let food = app.get("/api/v1/department/notifications", &market_key).await.ok()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(
        &format!("/api/v1/department/notifications/{food}/feedback"),
        &market_key,
        &json!({ "outcome": "refused", "reason": "经营场所不符合食品安全要求" }),
    )
    .await
    .ok();

    // The enterprise shows each permit's status, to its owner and to the departments.
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &owner).await;
    let permits: Vec<(String, String)> = e.ok()["permits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["scope_code"].as_str().unwrap().into(), p["status"].as_str().unwrap().into()))
        .collect();
    assert_eq!(permits, [("L1001".to_string(), "refused".to_string()), ("L4001".to_string(), "granted".to_string())]);
    assert_eq!(
        app.get(&format!("/api/v1/enterprises/{uscc}"), &books_key).await.ok()["permits"][1]["permit_no"],
        "新出发陕字第610727001号"
    );
    let other_dept = app.key("department", None, Some("NOT-MINE"), None).await;
    app.get(&format!("/api/v1/enterprises/{uscc}"), &other_dept).await.problem(404, "not_found");

    // Every step is in the audit trail.
    let conn = app.state.db.conn();
    let n = greenchannel::store::audit::for_subject(conn, "notification", &nid).await.unwrap();
    let actions: Vec<&str> = n.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["notification.pushed", "notification.claimed", "notification.feedback"]);
    let delivered = app.poll_delivered(&admin, 1).await[0];
    let attempts = greenchannel::store::audit::for_subject(conn, "outbox", &delivered.to_string()).await.unwrap();
    assert_eq!(attempts.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(), ["delivery.succeeded"]);
}

#[tokio::test]
async fn a_receiver_that_fails_three_times_gets_the_message_on_the_fourth_attempt() {
    let app = spawn_app_with(|s| s.delivery_backoff_ms = 20).await;
    let admin = app.key("admin", None, None, None).await;
    let rx = Receiver::start(SECRET).await;
    rx.log.lock().unwrap().fail_first = 3;
    department(&app, &admin, "LY-SCJG", "market_regulation", Some(&rx)).await;
    let mut form_person = Person::new("重试");
    form_person.name = "重试".into();
    let t = app.sign_in(&form_person).await;
    let mut form = online_shop_form(&form_person, None);
    form["scope"] = json!(["G1001", "G3001"]);
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&form_person]).await;
    app.submit(&t, &id).await.ok();
    app.decide(&app.reviewer(COUNTY).await, &id, json!({ "decision": "approve" })).await.ok();
    rx.wait_for(1, 20).await;
    {
        let log = rx.log.lock().unwrap();
        assert_eq!(log.requests.len(), 4, "three failures, then success");
        assert!(log.requests.iter().all(|r| r.0 == log.requests[0].0), "one delivery id across attempts");
    }
    // The worker records the outcome just after the receiver answers.
    let did = app.poll_delivered(&admin, 1).await[0];
    let detail = app.get(&format!("/api/v1/admin/deliveries/{did}"), &admin).await;
    let codes: Vec<i64> =
        detail.ok()["attempt_log"].as_array().unwrap().iter().map(|a| a["status_code"].as_i64().unwrap()).collect();
    assert_eq!(codes, [500, 500, 500, 200]);
    assert_eq!(detail.body["attempts"], 4);
}

#[tokio::test]
async fn a_receiver_that_never_succeeds_ends_dead_and_an_admin_can_retry_it() {
    let app = spawn_app_with(|s| {
        s.delivery_backoff_ms = 10;
        s.delivery_max_attempts = 3;
    })
    .await;
    let admin = app.key("admin", None, None, None).await;
    let rx = Receiver::start(SECRET).await;
    rx.log.lock().unwrap().always_fail = true;
    department(&app, &admin, "LY-SCJG", "market_regulation", Some(&rx)).await;
    food_and_books(&app, &Person::new("死信")).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let dead = loop {
        let d = app.get("/api/v1/admin/deliveries?status=dead", &admin).await;
        if let Some(item) = d.ok()["items"].as_array().unwrap().first() {
            break item.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "never dead");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(dead["attempts"], 3);
    assert_eq!(rx.log.lock().unwrap().requests.len(), 3);
    assert_eq!(dead["last_error"], "HTTP 500");
    rx.log.lock().unwrap().always_fail = false;
    let id = dead["id"].as_i64().unwrap();
    let retried = app.post(&format!("/api/v1/admin/deliveries/{id}/retry"), &admin, &json!({})).await;
    assert_eq!(retried.ok()["status"], "pending");
    rx.wait_for(1, 10).await;
    app.post(&format!("/api/v1/admin/deliveries/{id}/retry"), &admin, &json!({})).await.problem(409, "invalid_state");
}

#[tokio::test]
async fn unassigned_items_go_to_the_jurisdictions_pool_and_deadlines_make_them_overdue() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    // Only a market regulator is configured; book sales have no publisher here.
    department(&app, &admin, "LY-SCJG", "market_regulation", None).await;
    let (_, uscc) = food_and_books(&app, &Person::new("池子")).await;
    let key = app.key("department", None, Some("LY-SCJG"), None).await;
    let all = app.get("/api/v1/department/notifications", &key).await;
    let items = all.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 2, "its own and the pool's");
    let pooled = items.iter().find(|i| i["department_code"].is_null()).unwrap();
    assert_eq!(pooled["permit"], "出版物经营许可证");
    let claimed = app
        .post(&format!("/api/v1/department/notifications/{}/claim", pooled["id"].as_str().unwrap()), &key, &json!({}))
        .await;
    assert_eq!(claimed.ok()["department_code"], "LY-SCJG");

    // Four working days later the unclaimed one is overdue (claim_days = 3).
    app.clock.advance(chrono::Duration::days(7));
    let overdue = app.get("/api/v1/department/notifications?overdue=true", &key).await;
    let o = overdue.ok()["items"].as_array().unwrap();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0]["overdue"], true);
    assert_eq!(o[0]["uscc"], uscc.as_str());
    let report = app.get("/api/v1/admin/reports/overdue-notifications", &admin).await;
    assert_eq!(report.ok()[0]["department"], "LY-SCJG");
    assert_eq!(report.body[0]["overdue_claims"], 1);
}

#[tokio::test]
async fn new_premises_with_licensed_activities_and_deregistration_with_permits_are_pushed_too() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    department(&app, &admin, "LY-SCJG", "market_regulation", None).await;
    let (owner, uscc) = food_and_books(&app, &Person::new("分店")).await;
    let key = app.key("department", None, Some("LY-SCJG"), None).await;
    let first =
        app.get("/api/v1/department/notifications", &key).await.ok()["items"][0]["id"].as_str().unwrap().to_string();
    app.post(
        &format!("/api/v1/department/notifications/{first}/feedback"),
        &key,
        &json!({ "outcome": "licensed", "permit_no": "JY16107270000001" }),
    )
    .await
    .ok();
    let filed = app
        .post(
            &format!("/api/v1/enterprises/{uscc}/premises"),
            &owner,
            &json!({ "address": address("北关街2号门面"), "activities": ["L1001"] }),
        )
        .await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    let items = app.get("/api/v1/department/notifications", &key).await.ok()["items"].as_array().unwrap().clone();
    let premises = items.iter().find(|i| i["reason"] == "premises").expect("premises push");
    assert!(premises["record"]["enterprise"]["address"].as_str().unwrap().contains("北关街2号门面"));

    let p = app.get(&format!("/api/v1/enterprises/{uscc}"), &owner).await.ok()["registered"].clone();
    let _ = p;
    let dereg = json!({ "kind": "deregister", "entity_type": "individual_business", "admin_code": COUNTY, "uscc": uscc, "deregistration": { "mode": "ordinary", "reason": "停业" } });
    let id = app.post("/api/v1/applications", &owner, &dereg).await.ok()["id"].as_str().unwrap().to_string();
    app.request(Method::POST, &format!("/api/v1/applications/{id}/signatures"), Some(&owner), None, &[]).await.ok();
    app.submit(&owner, &id).await.ok();
    app.decide(&app.reviewer(COUNTY).await, &id, json!({ "decision": "approve" })).await.ok();
    let items = app.get("/api/v1/department/notifications", &key).await.ok()["items"].as_array().unwrap().clone();
    let gone = items.iter().find(|i| i["reason"] == "deregister").expect("deregistration push");
    assert_eq!(gone["scope_code"], "L1001", "only the department that granted a permit is told");
}

/// GETs `path` with a bearer token, returning status, content type and the raw body.
async fn fetch_bytes(app: &TestApp, path: &str, token: &str) -> (u16, String, Vec<u8>) {
    let r = app.client.get(format!("{}{path}", app.base)).bearer_auth(token).send().await.unwrap();
    let status = r.status().as_u16();
    let ct = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    (status, ct, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn the_notice_is_also_served_as_a_pdf_letter() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    for (code, name, kind) in [
        ("LY-SCJG", "略阳县市场监管局食品经营许可科", "market_regulation"),
        ("LY-CB", "略阳县文化和旅游广电局", "publishing"),
    ] {
        let body = json!({ "code": code, "name": name, "kind": kind, "admin_code": COUNTY, "claim_days": 3, "feedback_days": 10 });
        assert_eq!(app.post("/api/v1/admin/departments", &admin, &body).await.status, 201);
    }
    let p = Person::new("书香");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, Some("略阳县书香食品店"));
    form["scope"] = json!(["G1001", "L1001", "L4001"]);
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/applications/{id}/notice.pdf");

    let (status, ct, pdf) = fetch_bytes(&app, &path, &t).await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&pdf));
    assert_eq!(ct, "application/pdf");
    assert!(pdf.starts_with(b"%PDF-"));

    // Same access rules as the JSON notice: someone else's application is not there.
    let stranger = app.sign_in(&Person::new("路人")).await;
    app.get(&path, &stranger).await.problem(404, "not_found");
    app.get(&format!("/api/v1/applications/{}/notice.pdf", uuid::Uuid::now_v7()), &t).await.problem(404, "not_found");
    let anonymous = app.request(Method::GET, &path, None, None, &[]).await;
    assert_eq!(anonymous.status, 401, "{}", anonymous.text);

    app.request(Method::POST, &format!("/api/v1/applications/{id}/notice/acknowledgement"), Some(&t), None, &[])
        .await
        .ok();
    let (_, _, acknowledged) = fetch_bytes(&app, &path, &t).await;
    assert_ne!(acknowledged, pdf, "the letter says it was acknowledged");

    if !have(&[("qpdf", "qpdf"), ("pdftotext", "poppler-utils")]) {
        return;
    }
    let dir = output_dir();
    let file = dir.join("served-notice.pdf");
    std::fs::write(&file, &acknowledged).unwrap();
    let f = file.to_str().unwrap();
    run("qpdf", &["--check", f]);
    let text: String = run("pdftotext", &["-enc", "UTF-8", f, "-"]).split_whitespace().collect();
    for expected in [
        "经营范围涉及许可事项告知书",
        "略阳县书香食品店：",
        "食品经营许可",
        "出版物经营许可证",
        "略阳县市场监管局食品经营许可科",
        "略阳县文化和旅游广电局",
        "略阳县市场监督管理局",
        "确认知悉上述事项并作出承诺",
        id.as_str(),
    ] {
        assert!(text.contains(expected), "pdftotext lacks {expected:?}:\n{text}");
    }
}
