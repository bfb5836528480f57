//! One address, many licences; one licence, many addresses; online shops.
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

async fn host(app: &TestApp, admin: &str, capacity: i32) -> (String, String) {
    let r = app
        .post(
            "/api/v1/admin/address-hosts",
            admin,
            &json!({
                "name": "略阳电商产业园", "address": address("滨江路1号电商产业园3楼"), "capacity": capacity,
                "entity_types": ["individual_business", "sole_proprietorship"], "industries": ["G1", "G2"],
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.body["id"].as_str().unwrap().to_string(), r.body["address_id"].as_str().unwrap().to_string())
}

/// A sole proprietorship with its domicile at a hosted place.
fn hosted_form(p: &Person, host_id: &str, name: &str) -> Value {
    json!({
        "kind": "establish", "entity_type": "sole_proprietorship", "admin_code": COUNTY, "name": name,
        "parties": [{ "name": p.name, "id_number": p.id_number, "roles": ["investor"] }],
        "scope": ["G1001"], "capital": "10000",
        "domicile": { "township_code": "610727001", "detail": "滨江路1号电商产业园3楼", "host_id": host_id },
    })
}

async fn draft_signed(app: &TestApp, p: &Person, form: &Value) -> (String, String) {
    let t = app.sign_in(p).await;
    let r = app.post("/api/v1/applications", &t, form).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[p]).await;
    (t, id)
}

#[tokio::test]
async fn three_enterprises_share_a_hosted_address_with_numbered_places_until_it_is_full() {
    let app = spawn_app_with(|s| s.auto_approval = true).await;
    let admin = app.key("admin", None, None, None).await;
    let (host_id, address_id) = host(&app, &admin, 3).await;
    let mut usccs = Vec::new();
    for (i, trade) in ["青山", "绿水", "白云"].iter().enumerate() {
        let p = Person::new(&format!("园区{i}"));
        let (t, id) = draft_signed(&app, &p, &hosted_form(&p, &host_id, &format!("略阳县{trade}商贸经营部"))).await;
        let r = app.submit(&t, &id).await;
        // Hosted places need no proof of premises and are plain cases.
        assert_eq!(r.ok()["status"], "approved", "{}", r.text);
        let uscc = r.body["uscc"].as_str().unwrap().to_string();
        let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
        let domicile =
            e.ok()["licence"]["fields"].as_array().unwrap().iter().find(|f| f["label"] == "住所").unwrap()["value"]
                .as_str()
                .unwrap()
                .to_string();
        assert!(domicile.ends_with(&format!("（略阳电商产业园集群注册第{:04}号）", i + 1)), "{domicile}");
        usccs.push(uscc);
    }
    // The fourth is refused: capacity.
    let p = Person::new("园区满");
    let (t, id) = draft_signed(&app, &p, &hosted_form(&p, &host_id, "略阳县红日商贸经营部")).await;
    let r = app.submit(&t, &id).await;
    r.problem(409, "capacity_exhausted");
    assert_eq!(r.fields(), vec![("domicile.host_id".to_string(), "capacity_exhausted".to_string())]);

    // A host sees and confirms its occupants; reviewers and admins see them too.
    let host_key = greenchannel::services::auth::create_api_key(
        &app.state,
        &greenchannel::domain::principal::Actor { role: "admin", id: "t".into(), channel: None },
        greenchannel::services::auth::NewApiKey {
            role: "host".into(),
            authority: None,
            department: None,
            platform: None,
            host: Some(host_id.parse().unwrap()),
            name: None,
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .key;
    let occ = app.get("/api/v1/host/occupants", &host_key).await;
    let items = occ.ok()["items"].as_array().unwrap().clone();
    assert_eq!(items.len(), 3);
    let units: Vec<i64> = items.iter().map(|o| o["unit_no"].as_i64().unwrap()).collect();
    assert_eq!(units, [1, 2, 3]);
    let confirm = app
        .post(
            &format!("/api/v1/host/occupants/{}/confirmation", items[0]["id"].as_str().unwrap()),
            &host_key,
            &json!({}),
        )
        .await;
    assert!(confirm.ok()["confirmed_at"].is_string());
    let reviewer = app.reviewer(COUNTY).await;
    let hosted = app.get(&format!("/api/v1/admin/address-hosts/{host_id}"), &reviewer).await;
    assert_eq!(hosted.ok()["taken"], 3);
    app.get(&format!("/api/v1/admin/address-hosts/{host_id}"), &app.reviewer(OTHER_COUNTY).await)
        .await
        .problem(404, "not_found");

    // Closing the host lists its businesses for follow-up and takes no more.
    let closed = app.post(&format!("/api/v1/admin/address-hosts/{host_id}/closure"), &admin, &json!({})).await;
    let follow: Vec<&str> = closed.ok()["occupants_for_follow_up"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["uscc"].as_str().unwrap())
        .collect();
    assert_eq!(follow.len(), 3);
    for u in &usccs {
        assert!(follow.contains(&u.as_str()));
    }
    app.withdraw(&t, &id).await;
    let (t2, id2) = draft_signed(&app, &p, &hosted_form(&p, &host_id, "略阳县红日商贸经营部")).await;
    let _ = t;
    app.submit(&t2, &id2).await.problem(409, "invalid_state");
    let _ = address_id;
}

#[tokio::test]
async fn racing_registrations_never_exceed_a_hosts_capacity() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let (host_id, _) = host(&app, &admin, 2).await;
    let mut drafts = Vec::new();
    for i in 0..8 {
        let p = Person::new(&format!("抢位{i}"));
        let trade = ["春风", "夏雨", "秋月", "冬雪", "晨光", "晚霞", "星河", "云海"][i];
        drafts.push(draft_signed(&app, &p, &hosted_form(&p, &host_id, &format!("略阳县{trade}商贸经营部"))).await);
    }
    let results = futures::future::join_all(drafts.iter().map(|(t, id)| app.submit(t, id))).await;
    let ok = results.iter().filter(|r| r.status == 200).count();
    let full = results.iter().filter(|r| r.status == 409 && r.body["code"] == "capacity_exhausted").count();
    assert_eq!((ok, full), (2, 6), "{:?}", results.iter().map(|r| r.text.clone()).collect::<Vec<_>>());
    let h = app.get(&format!("/api/v1/admin/address-hosts/{host_id}"), &admin).await;
    assert_eq!(h.ok()["taken"], 2);
}

#[tokio::test]
async fn a_residence_is_refused_for_an_excluded_industry_and_accepted_for_an_online_shop() {
    let app = spawn_app().await;
    let p = Person::new("住宅");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, None);
    form["premises"] = json!([{ "kind": "address", "address": address("东环路9号2单元101"), "residence": true }]);
    form["scope"] = json!(["G1001", "L1003"]);
    let r = app.post("/api/v1/applications", &t, &form).await;
    let outstanding = r.ok()["outstanding"].as_array().unwrap();
    let refusal = outstanding.iter().find(|o| o["code"] == "residence_excluded").expect("refused");
    assert_eq!(refusal["field"], "premises[0].residence");
    assert!(
        refusal["message"].as_str().unwrap().contains("餐饮服务")
            && refusal["message"].as_str().unwrap().contains("大气污染防治法"),
        "{refusal}"
    );
    let id = r.body["id"].as_str().unwrap();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await.problem(409, "form_incomplete");

    // An online shop run from home: the residence is the place, commitment signed.
    form["scope"] = json!(["G1001"]);
    form["premises"] = json!([
        { "kind": "online", "platform": "某电商平台", "url": "https://shop.example.com/home-shop" },
        { "kind": "address", "address": address("东环路9号2单元101"), "residence": true },
    ]);
    let (t, id) = draft_signed(&app, &p, &form).await;
    app.attach(&t, &id, "address_commitment", tiny_pdf(), "application/pdf").await.ok();
    app.sign_all(&id, &[&p]).await;
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
}

#[tokio::test]
async fn many_enterprises_at_one_declared_address_warn_the_reviewer_and_are_not_auto_approved() {
    let app = spawn_app_with(|s| {
        s.auto_approval = true;
        s.address_concentration_threshold = 2;
        s.auto_approval_entity_types = vec!["individual_business".into()];
    })
    .await;
    let reviewer = app.reviewer(COUNTY).await;
    let mut last = Value::Null;
    for i in 0..3 {
        let p = Person::new(&format!("同址{i}"));
        let mut form = online_shop_form(&p, None);
        // Written differently each time: the same place.
        let detail = ["东环路18号1单元301室", "东环路十八号一单元三〇一", "东环路 18号 1单元 301"][i];
        form["premises"] = json!([{ "kind": "address", "address": address(detail) }]);
        let (t, id) = draft_signed(&app, &p, &form).await;
        app.attach(&t, &id, "premises_proof", tiny_pdf(), "application/pdf").await.ok();
        app.sign_all(&id, &[&p]).await;
        last = app.submit(&t, &id).await.ok().clone();
        if last["status"] == "submitted" {
            app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok();
        }
    }
    let warnings = last["auto_review"]["warnings"].as_array().unwrap();
    assert_eq!(warnings[0]["code"], "address_concentration", "{last}");
    let failed: Vec<&str> = last["auto_review"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .map(|r| r["rule"].as_str().unwrap())
        .collect();
    assert!(failed.contains(&"no_address_concentration"), "{failed:?}");
    // The occupants of that one address, for staff.
    let uscc = last["uscc"].as_str().map(String::from);
    let _ = uscc;
    let search = app.get("/api/v1/review/applications?status=approved", &reviewer).await;
    let some = &search.ok()["items"][0];
    let owner_view = some["form"]["premises"][0]["address"]["detail"].as_str().unwrap().to_string();
    assert!(owner_view.contains("东环路"));
}

#[tokio::test]
async fn an_online_shop_is_the_premises_of_one_live_enterprise_only() {
    let app = spawn_app().await;
    let (a, b) = (Person::new("网店甲"), Person::new("网店乙"));
    let mut form = online_shop_form(&a, None);
    form["premises"][0]["url"] = json!("https://shop.example.com/item?id=42&spm=abc");
    let id = submitted_application(&app, &app.sign_in(&a).await, &form).await;
    let mut other = online_shop_form(&b, None);
    other["premises"][0]["url"] = json!("HTTP://WWW.SHOP.EXAMPLE.COM/item/?id=42#top");
    let (tb, idb) = draft_signed(&app, &b, &other).await;
    let r = app.submit(&tb, &idb).await;
    r.problem(409, "conflict");
    assert_eq!(r.fields(), vec![("premises[0].url".to_string(), "shop_url_taken".to_string())]);
    // Once the first is rejected, the shop is free again.
    let reviewer = app.reviewer(COUNTY).await;
    app.decide(&reviewer, &id, json!({ "decision": "reject", "reason": "非本人网店" })).await.ok();
    assert_eq!(app.submit(&tb, &idb).await.ok()["status"], "submitted");
}

#[tokio::test]
async fn extra_premises_are_filed_within_the_jurisdiction_and_listed_on_the_licence() {
    let app = spawn_app().await;
    let owner = Person::new("多址");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县多址土特产店")).await;
    let path = format!("/api/v1/enterprises/{uscc}/premises");
    let outside =
        app.post(&path, &t, &json!({ "address": { "township_code": "610726001", "detail": "汉源路1号" } })).await;
    outside.problem(422, "validation_failed");
    assert_eq!(outside.fields(), vec![("address.township_code".to_string(), "outside_jurisdiction".to_string())]);
    assert!(outside.body["detail"].as_str().unwrap().contains("分支机构"));
    let bad_scope = app.post(&path, &t, &json!({ "address": address("西街7号"), "activities": ["L1001"] })).await;
    assert_eq!(bad_scope.fields(), vec![("activities[0]".to_string(), "not_in_scope".to_string())]);

    let filed = app.post(&path, &t, &json!({ "address": address("西街7号仓库"), "activities": ["G1001"] })).await;
    assert_eq!(filed.status, 201, "{}", filed.text);
    assert_eq!(filed.body["licence_version"], 2);
    let premises_id = filed.body["id"].as_str().unwrap().to_string();
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    assert!(
        e.ok()["licence"]["premises"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("西街7号仓库")),
        "{}",
        e.body["licence"]
    );
    assert!(
        e.body["premises"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["registered"] == false && p["address"].as_str().unwrap().ends_with("西街7号仓库"))
    );
    // The address knows its occupant.
    let reviewer = app.reviewer(COUNTY).await;
    let address_id = filed.body["address_id"].as_str().unwrap();
    let occ = app.get(&format!("/api/v1/addresses/{address_id}/occupants"), &reviewer).await;
    assert_eq!(occ.ok()["items"][0]["uscc"], uscc.as_str());
    app.get(&format!("/api/v1/addresses/{address_id}/occupants"), &t).await.problem(404, "not_found");

    let removed = app.request(Method::DELETE, &format!("{path}/{premises_id}"), Some(&t), None, &[]).await;
    assert_eq!(removed.status, 204, "{}", removed.text);
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    assert_eq!(e.ok()["licence_version"], 3);
    assert!(
        !e.body["licence"]["premises"].as_array().unwrap().iter().any(|p| p.as_str().unwrap().contains("西街7号仓库"))
    );
    assert_eq!(app.get(&format!("/api/v1/addresses/{address_id}/occupants"), &reviewer).await.ok()["items"], json!([]));
    let stranger = app.sign_in(&Person::new("外人")).await;
    app.post(&path, &stranger, &json!({ "address": address("西街8号") })).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_change_of_address_moves_occupancy_in_the_same_transaction() {
    let app = spawn_app().await;
    let owner = Person::new("搬家");
    let t = app.sign_in(&owner).await;
    let mut form = online_shop_form(&owner, None);
    form["premises"] = json!([{ "kind": "address", "address": address("南街1号") }]);
    let (t, id) = {
        let r = app.post("/api/v1/applications", &t, &form).await;
        let id = r.ok()["id"].as_str().unwrap().to_string();
        app.attach(&t, &id, "premises_proof", tiny_pdf(), "application/pdf").await.ok();
        app.sign_all(&id, &[&owner]).await;
        (t, id)
    };
    app.submit(&t, &id).await.ok();
    let reviewer = app.reviewer(COUNTY).await;
    let uscc =
        app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok()["uscc"].as_str().unwrap().to_string();
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    let old_address = e.ok()["premises"][0]["address_id"].as_str().unwrap().to_string();
    let mut change = e.body["registered"].clone();
    change["kind"] = json!("change");
    change["uscc"] = json!(uscc);
    change["premises"] = json!([{ "kind": "address", "address": address("北街99号") }]);
    let cid = app.post("/api/v1/applications", &t, &change).await.ok()["id"].as_str().unwrap().to_string();
    app.attach(&t, &cid, "premises_proof", tiny_pdf(), "application/pdf").await.ok();
    app.sign_all(&cid, &[&owner]).await;
    app.submit(&t, &cid).await.ok();
    app.decide(&reviewer, &cid, json!({ "decision": "approve" })).await.ok();
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    let new_address = e.ok()["premises"][0]["address_id"].as_str().unwrap().to_string();
    assert_ne!(old_address, new_address);
    assert_eq!(
        app.get(&format!("/api/v1/addresses/{old_address}/occupants"), &reviewer).await.ok()["items"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/api/v1/addresses/{new_address}/occupants"), &reviewer).await.ok()["items"][0]["uscc"],
        uscc.as_str()
    );
}
