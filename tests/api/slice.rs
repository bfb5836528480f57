//! The first registration end to end: an online-shop individual business
//! from mobile sign-in to an issued licence record.
use greenchannel::domain::uscc::Uscc;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::*;

#[tokio::test]
async fn an_online_shop_goes_from_sign_in_to_an_issued_licence() {
    let app = spawn_app().await;
    let operator = Person::new("张三");
    let token = app.sign_in(&operator).await;

    // 1. Name check.
    let check = app
        .post(
            "/api/v1/name-checks",
            &token,
            &json!({ "name": "略阳县青禾电子商务店", "entity_type": "individual_business", "admin_code": COUNTY }),
        )
        .await;
    assert_eq!(check.ok()["available"], true, "{}", check.text);
    assert_eq!(check.body["structure"]["trade_name"], "青禾");

    // 2. Draft.
    let form = online_shop_form(&operator, Some("略阳县青禾电子商务店"));
    let created = app.post("/api/v1/applications", &token, &form).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["version"], 1);
    assert_eq!(created.headers["etag"], "\"1\"");
    assert_eq!(created.body["unsigned"][0]["name"], "张三");
    assert_eq!(created.body["outstanding"][0]["code"], "signature_missing");

    // 3. Signature binds the digest of this version.
    let signed = app.post(&format!("/api/v1/applications/{id}/signatures"), &token, &json!({})).await;
    assert_eq!(signed.status, 201, "{}", signed.text);
    assert_eq!(signed.body["signatures"][0]["digest"], created.body["form_digest"]);
    assert_eq!(signed.body["outstanding"], json!([]));

    // 4. Submit with an Idempotency-Key.
    let key = Uuid::new_v4().to_string();
    let submitted = app
        .request(
            Method::POST,
            &format!("/api/v1/applications/{id}/submit"),
            Some(&token),
            None,
            &[("Idempotency-Key", &key)],
        )
        .await;
    assert_eq!(submitted.ok()["status"], "submitted", "{}", submitted.text);
    assert!(submitted.body["due_at"].is_string());

    // 5. The county's reviewer sees it and approves.
    let reviewer = app.reviewer(COUNTY).await;
    let queue = app.get("/api/v1/review/applications?status=submitted", &reviewer).await;
    let items = queue.ok()["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["form"]["parties"][0]["id_number"], operator.id_number, "reviewers see the full form");
    let decided = app
        .post(&format!("/api/v1/review/applications/{id}/decision"), &reviewer, &json!({ "decision": "approve" }))
        .await;
    assert_eq!(decided.ok()["status"], "approved", "{}", decided.text);
    assert_eq!(decided.body["decided_by"], "reviewer");
    let uscc = decided.body["uscc"].as_str().unwrap().to_string();

    // The code is a valid GB 32100 code of this county and category 92.
    let code = Uscc::parse(&uscc).unwrap();
    assert!(code.warnings().is_empty());
    assert!(uscc.starts_with(&format!("92{COUNTY}")), "{uscc}");

    // 6. Owner and reviewer see the enterprise and licence version 1.
    for t in [&token, &reviewer] {
        let e = app.get(&format!("/api/v1/enterprises/{uscc}"), t).await;
        assert_eq!(e.ok()["status"], "active", "{}", e.text);
        assert_eq!(e.body["licence_version"], 1);
        assert_eq!(e.body["name"], "略阳县青禾电子商务店");
        assert_eq!(e.body["representative_name"], "张三");
        assert_eq!(e.body["licence"]["fields"][2]["label"], "经营者");
        let premises = e.body["licence"]["premises"][0].as_str().unwrap();
        assert!(premises.starts_with("网络经营场所：某电商平台 https://shop.example.com/"), "{premises}");
        let scope = e.body["licence"]["scope_lines"].as_array().unwrap();
        assert!(scope.iter().any(|l| l == "（仅限于通过互联网从事经营活动）"));
        assert_eq!(e.body["authority_name"], "略阳县市场监督管理局");
    }

    // Every step is in the audit trail, written with the change.
    let events = greenchannel::store::audit::for_subject(app.state.db.conn(), "application", &id).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["application.created", "application.signed", "application.submitted", "application.approved"]);
    let ent_events = greenchannel::store::audit::for_subject(app.state.db.conn(), "enterprise", &uscc).await.unwrap();
    assert_eq!(
        ent_events.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["enterprise.registered", "licence.issued"]
    );

    // The name is now taken in this county.
    let again = app
        .post(
            "/api/v1/name-checks",
            &token,
            &json!({ "name": "略阳县青禾电子商务店", "entity_type": "individual_business", "admin_code": COUNTY }),
        )
        .await;
    assert_eq!(again.ok()["available"], false);
    assert_eq!(again.body["conflicts"][0]["kind"], "identical");
    assert_eq!(again.body["conflicts"][0]["uscc"], uscc.as_str());
}

#[tokio::test]
async fn a_repeated_submission_with_the_same_key_returns_the_first_answer_and_submits_once() {
    let app = spawn_app().await;
    let p = Person::new("李四");
    let token = app.sign_in(&p).await;
    let id = app.post("/api/v1/applications", &token, &online_shop_form(&p, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &token, &json!({})).await.ok();
    let path = format!("/api/v1/applications/{id}/submit");
    let first = app.request(Method::POST, &path, Some(&token), None, &[("Idempotency-Key", "phone-retry-1")]).await;
    assert_eq!(first.status, 200, "{}", first.text);
    // The phone lost the answer and retries, twice, even concurrently.
    let (a, b) = tokio::join!(
        app.request(Method::POST, &path, Some(&token), None, &[("Idempotency-Key", "phone-retry-1")]),
        app.request(Method::POST, &path, Some(&token), None, &[("Idempotency-Key", "phone-retry-1")]),
    );
    assert_eq!(a.status, 200);
    assert_eq!(a.text, first.text, "a replay is the first answer, byte for byte");
    assert_eq!(b.text, first.text);
    let events = greenchannel::store::audit::for_subject(app.state.db.conn(), "application", &id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "application.submitted").count(), 1);
    // Without the key, a second submit is a state conflict, not a second submission.
    app.request(Method::POST, &path, Some(&token), None, &[]).await.problem(409, "invalid_state");
    // The same key on another request is refused.
    let other = app.post("/api/v1/applications", &token, &online_shop_form(&p, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.request(
        Method::POST,
        &format!("/api/v1/applications/{other}/submit"),
        Some(&token),
        None,
        &[("Idempotency-Key", "phone-retry-1")],
    )
    .await
    .problem(422, "idempotency_key_reused");
}

#[tokio::test]
async fn edits_need_the_current_version_and_clear_signatures() {
    let app = spawn_app().await;
    let p = Person::new("王五");
    let token = app.sign_in(&p).await;
    let form = online_shop_form(&p, None);
    let id = app.post("/api/v1/applications", &token, &form).await.ok()["id"].as_str().unwrap().to_string();
    let path = format!("/api/v1/applications/{id}");
    app.post(&format!("{path}/signatures"), &token, &json!({})).await.ok();

    app.request(Method::PUT, &path, Some(&token), Some(&form), &[]).await.problem(428, "precondition_required");
    let mut edited = form.clone();
    edited["scope"] = json!(["G1001", "G1003"]);
    let updated = app.request(Method::PUT, &path, Some(&token), Some(&edited), &[("If-Match", "\"1\"")]).await;
    assert_eq!(updated.ok()["version"], 2, "{}", updated.text);
    assert_eq!(updated.body["signatures"], json!([]), "an edit clears the signatures");
    assert_eq!(updated.body["unsigned"].as_array().unwrap().len(), 1);
    assert_ne!(updated.body["form_digest"], json!(null));
    // A client still holding version 1 is told so.
    let stale = app.request(Method::PUT, &path, Some(&token), Some(&form), &[("If-Match", "1")]).await;
    stale.problem(412, "precondition_failed");
    // Submission now names the missing signature.
    let r = app.request(Method::POST, &format!("{path}/submit"), Some(&token), None, &[]).await;
    r.problem(409, "submission_incomplete");
    assert_eq!(r.fields(), vec![("parties[0]".to_string(), "signature_missing".to_string())]);
}

#[tokio::test]
async fn a_returned_application_is_corrected_re_signed_and_approved() {
    let app = spawn_app().await;
    let p = Person::new("赵六");
    let token = app.sign_in(&p).await;
    let form = online_shop_form(&p, Some("略阳县赵记土特产店"));
    let id = submitted_application(&app, &token, &form).await;
    let reviewer = app.reviewer(COUNTY).await;
    let decision = format!("/api/v1/review/applications/{id}/decision");

    app.post(&decision, &reviewer, &json!({ "decision": "return" })).await.problem(422, "validation_failed");
    let returned = app.post(&decision, &reviewer, &json!({ "decision": "return", "reason": "经营范围需调整", "field_comments": [{ "field": "scope", "comment": "请补充食用农产品零售" }] })).await;
    assert_eq!(returned.ok()["status"], "returned");
    let mine = app.get(&format!("/api/v1/applications/{id}"), &token).await;
    assert_eq!(mine.ok()["field_comments"][0]["field"], "scope");
    assert_eq!(mine.body["decision_reason"], "经营范围需调整");

    let mut corrected = form.clone();
    corrected["scope"] = json!(["G1001", "G1021"]);
    let v = mine.body["version"].to_string();
    app.request(
        Method::PUT,
        &format!("/api/v1/applications/{id}"),
        Some(&token),
        Some(&corrected),
        &[("If-Match", &v)],
    )
    .await
    .ok();
    app.request(Method::POST, &format!("/api/v1/applications/{id}/submit"), Some(&token), None, &[])
        .await
        .problem(409, "submission_incomplete");
    app.post(&format!("/api/v1/applications/{id}/signatures"), &token, &json!({})).await.ok();
    let resubmitted =
        app.request(Method::POST, &format!("/api/v1/applications/{id}/submit"), Some(&token), None, &[]).await;
    assert_eq!(resubmitted.ok()["status"], "submitted");
    let approved = app.post(&decision, &reviewer, &json!({ "decision": "approve" })).await;
    assert_eq!(approved.ok()["status"], "approved");
    let uscc = approved.body["uscc"].as_str().unwrap();
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &token).await;
    assert!(e.ok()["licence"]["scope_lines"][0].as_str().unwrap().contains("食用农产品零售"));
}

#[tokio::test]
async fn a_rejection_needs_reasons_is_final_and_releases_the_name() {
    let app = spawn_app().await;
    let p = Person::new("钱七");
    let token = app.sign_in(&p).await;
    let name = "略阳县钱记五金店";
    let id = submitted_application(&app, &token, &online_shop_form(&p, Some(name))).await;
    let reviewer = app.reviewer(COUNTY).await;
    let decision = format!("/api/v1/review/applications/{id}/decision");
    let check = json!({ "name": name, "entity_type": "individual_business", "admin_code": COUNTY });
    assert_eq!(
        app.post("/api/v1/name-checks", &token, &check).await.ok()["conflicts"][0]["state"],
        "reserved",
        "submission reserves the name"
    );

    app.post(&decision, &reviewer, &json!({ "decision": "reject" })).await.problem(422, "validation_failed");
    let rejected =
        app.post(&decision, &reviewer, &json!({ "decision": "reject", "reason": "经营场所网址无法访问" })).await;
    assert_eq!(rejected.ok()["status"], "rejected");
    app.post(&decision, &reviewer, &json!({ "decision": "approve" })).await.problem(409, "invalid_state");
    app.request(Method::POST, &format!("/api/v1/applications/{id}/withdraw"), Some(&token), None, &[])
        .await
        .problem(409, "invalid_state");
    assert_eq!(
        app.post("/api/v1/name-checks", &token, &check).await.ok()["available"],
        true,
        "a decision releases the reservation"
    );
}

#[tokio::test]
async fn a_name_taken_in_the_county_cannot_be_submitted_but_is_free_in_another_county() {
    let app = spawn_app().await;
    let (a, b) = (Person::new("孙八"), Person::new("周九"));
    let (ta, tb) = (app.sign_in(&a).await, app.sign_in(&b).await);
    let name = "略阳县青峰电子商务店";
    submitted_application(&app, &ta, &online_shop_form(&a, Some(name))).await;

    let id = app.post("/api/v1/applications", &tb, &online_shop_form(&b, Some(name))).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &tb, &json!({})).await.ok();
    let r = app.request(Method::POST, &format!("/api/v1/applications/{id}/submit"), Some(&tb), None, &[]).await;
    r.problem(409, "name_unavailable");
    assert_eq!(r.fields(), vec![("name".to_string(), "name_conflict".to_string())]);

    let elsewhere = app.post("/api/v1/name-checks", &tb, &json!({ "name": "宁强县青峰电子商务店", "entity_type": "individual_business", "admin_code": OTHER_COUNTY })).await;
    assert_eq!(elsewhere.ok()["available"], true, "{}", elsewhere.text);
    let forbidden = app
        .post(
            "/api/v1/name-checks",
            &tb,
            &json!({ "name": "略阳县最佳电子商务店", "entity_type": "individual_business", "admin_code": COUNTY }),
        )
        .await;
    assert_eq!(forbidden.ok()["available"], false);
    assert_eq!(forbidden.body["violations"][0]["code"], "superlative");
}

#[tokio::test]
async fn concurrent_approvals_issue_distinct_codes() {
    let app = spawn_app().await;
    let reviewer = app.reviewer(COUNTY).await;
    let mut ids = Vec::new();
    for i in 0..12 {
        let p = Person::new(&format!("店主{i}"));
        let t = app.sign_in(&p).await;
        ids.push(submitted_application(&app, &t, &online_shop_form(&p, None)).await);
    }
    let approve = json!({ "decision": "approve" });
    let decisions = futures::future::join_all(ids.iter().map(|id| {
        let (app, reviewer, approve) = (&app, &reviewer, &approve);
        async move { app.post(&format!("/api/v1/review/applications/{id}/decision"), reviewer, approve).await }
    }))
    .await;
    let mut codes: Vec<String> = decisions.iter().map(|d| d.ok()["uscc"].as_str().unwrap().to_string()).collect();
    codes.sort();
    codes.dedup();
    assert_eq!(codes.len(), 12, "every approval has its own code");
    for c in &codes {
        assert!(Uscc::parse(c).unwrap().warnings().is_empty());
    }
}

#[tokio::test]
async fn a_withdrawn_draft_cannot_be_signed_or_edited() {
    let app = spawn_app().await;
    let p = Person::new("吴十");
    let token = app.sign_in(&p).await;
    let id = app.post("/api/v1/applications", &token, &online_shop_form(&p, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let w = app.request(Method::POST, &format!("/api/v1/applications/{id}/withdraw"), Some(&token), None, &[]).await;
    assert_eq!(w.ok()["status"], "withdrawn");
    app.post(&format!("/api/v1/applications/{id}/signatures"), &token, &json!({})).await.problem(409, "invalid_state");
    app.request(
        Method::PUT,
        &format!("/api/v1/applications/{id}"),
        Some(&token),
        Some(&online_shop_form(&p, None)),
        &[("If-Match", "1")],
    )
    .await
    .problem(409, "invalid_state");
}

#[tokio::test]
async fn my_applications_are_listed_newest_first_with_a_cursor() {
    let app = spawn_app().await;
    let p = Person::new("郑一");
    let token = app.sign_in(&p).await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        ids.push(
            app.post("/api/v1/applications", &token, &online_shop_form(&p, None)).await.ok()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    let page1 = app.get("/api/v1/applications?limit=3", &token).await;
    let got: Vec<&str> = page1.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[4].as_str(), ids[3].as_str(), ids[2].as_str()]);
    let cursor = page1.body["next_cursor"].as_str().unwrap();
    let page2 = app.get(&format!("/api/v1/applications?limit=3&cursor={cursor}"), &token).await;
    let got: Vec<&str> = page2.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[1].as_str(), ids[0].as_str()]);
    assert_eq!(page2.body["next_cursor"], json!(null));
    app.get("/api/v1/applications?cursor=%%%", &token).await.problem(422, "validation_failed");
    app.get("/api/v1/applications?limit=1000", &token).await.problem(422, "validation_failed");
}

/// A signed draft whose premises are a street address (with its proof),
/// which nothing but the application itself stops being submitted twice.
async fn street_address_draft_signed(app: &TestApp, p: &Person) -> (String, String) {
    let mut form = online_shop_form(p, None);
    form["premises"] = json!([{ "kind": "address", "address": address(&format!("江南路{}号", &p.id_number[14..17])) }]);
    let token = app.sign_in(p).await;
    let id = app.post("/api/v1/applications", &token, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.attach(&token, &id, "premises_proof", tiny_pdf(), "application/pdf").await.ok();
    app.sign_all(&id, &[p]).await;
    (token, id)
}

#[tokio::test]
async fn racing_submissions_of_one_application_submit_it_once() {
    // A phone that retries under new keys, and a second phone, at once. The
    // application's row lock, taken by the submission's first read, makes
    // the others wait and then find it submitted. A street address, not an
    // online shop, whose URL index would also stop a second submission.
    // Whether the submissions overlap is up to the scheduler; the test after
    // this one makes the wait certain.
    let app = spawn_app().await;
    let (token, id) = street_address_draft_signed(&app, &Person::new("抢交")).await;
    let results = futures::future::join_all((0..6).map(|_| app.submit(&token, &id))).await;
    let ok: Vec<_> = results.iter().filter(|r| r.status == 200).collect();
    assert_eq!(ok.len(), 1, "{:?}", results.iter().map(|r| &r.text).collect::<Vec<_>>());
    for r in results.iter().filter(|r| r.status != 200) {
        r.problem(409, "invalid_state");
    }
    let events = greenchannel::store::audit::for_subject(app.state.db.conn(), "application", &id).await.unwrap();
    assert_eq!(events.iter().filter(|e| e.action == "application.submitted").count(), 1);
    let shown = app.get(&format!("/api/v1/applications/{id}"), &token).await;
    assert_eq!(shown.ok()["status"], ok[0].body["status"]);
}

#[tokio::test]
async fn a_submission_waits_for_another_holder_of_the_application_and_then_sees_its_change() {
    // Another instance holds the application (its row lock, as a
    // submission or a reviewer's decision takes it) and withdraws it. A
    // submission arriving meanwhile must wait and then find it withdrawn,
    // not write a submission over it. On SQLite the write transaction
    // itself makes the submission wait.
    use greenchannel::{services::registration::ApplicationRecord, store};
    use sea_orm::ActiveValue::Set;

    let app = spawn_app().await;
    let (token, id) = street_address_draft_signed(&app, &Person::new("等锁")).await;

    let tx = app.state.db.write().await.unwrap();
    let held = ApplicationRecord::load_locked(&tx, id.parse().unwrap()).await.unwrap().unwrap();
    let submission = app.request_in_background(
        Method::POST,
        &format!("/api/v1/applications/{id}/submit"),
        Some(&token),
        None,
        &[("Idempotency-Key", "waits-for-the-lock")],
    );
    app.until_someone_waits_for_a_lock().await;
    assert!(!submission.is_finished(), "the submission waits while the application is held");
    let withdrawn = store::applications::Changes { status: Set("withdrawn".into()), ..Default::default() };
    store::applications::update_locked(&tx, &held.row, withdrawn).await.unwrap();
    tx.commit().await.unwrap();

    submission.await.unwrap().problem(409, "invalid_state");
    let shown = app.get(&format!("/api/v1/applications/{id}"), &token).await;
    assert_eq!(shown.ok()["status"], "withdrawn");
}
