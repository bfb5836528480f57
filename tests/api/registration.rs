//! Full electronic registration: every entity type, changes, ordinary and
//! simplified deregistration, materials, restrictions, automatic approval,
//! deadlines and public disclosure.
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::*;

fn party(p: &Person, roles: &[&str], contribution: Option<(&str, &str)>) -> Value {
    json!({
        "name": p.name, "id_number": p.id_number, "phone": p.phone, "roles": roles,
        "contribution": contribution.map(|(a, d)| json!({ "amount": a, "due_date": d })),
    })
}

/// Creates a draft, attaches the materials, has everyone sign, submits, and
/// has the county's reviewer approve. Returns the approved application.
async fn establish(app: &TestApp, applicant: &Person, form: Value, materials: &[&str], signers: &[&Person]) -> Value {
    let t = app.sign_in(applicant).await;
    let created = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = created.body["id"].as_str().unwrap().to_string();
    for kind in materials {
        assert_eq!(app.attach(&t, &id, kind, tiny_pdf(), "application/pdf").await.status, 201);
    }
    app.sign_all(&id, signers).await;
    let submitted = app.submit(&t, &id).await;
    assert_eq!(submitted.ok()["status"], "submitted", "{}", submitted.text);
    let reviewer = app.reviewer(COUNTY).await;
    let approved = app.decide(&reviewer, &id, json!({ "decision": "approve" })).await;
    assert_eq!(approved.ok()["status"], "approved", "{}", approved.text);
    approved.body.clone()
}

async fn licence(app: &TestApp, token: &str, uscc: &str) -> Value {
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), token).await;
    e.ok().clone()
}

fn field<'a>(e: &'a Value, label: &str) -> &'a str {
    e["licence"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["label"] == label)
        .map(|f| f["value"].as_str().unwrap())
        .unwrap_or("")
}

#[tokio::test]
async fn a_sole_proprietorship_is_established_with_its_investor_capital_and_domicile() {
    let app = spawn_app().await;
    let investor = Person::new("陈独资");
    let form = json!({
        "kind": "establish", "entity_type": "sole_proprietorship", "admin_code": COUNTY, "name": "略阳县陈记茶叶经营部",
        "parties": [party(&investor, &["investor"], None)], "scope": ["G1017", "G1021"],
        "domicile": address("东环路8号"), "capital": "50000",
    });
    let approved = establish(&app, &investor, form, &["address_commitment"], &[&investor]).await;
    let uscc = approved["uscc"].as_str().unwrap();
    assert!(uscc.starts_with("91610727"), "sole proprietorships are enterprises (category 1): {uscc}");
    let t = app.sign_in(&investor).await;
    let e = licence(&app, &t, uscc).await;
    assert_eq!(field(&e, "类型"), "个人独资企业");
    assert_eq!(field(&e, "投资人"), "陈独资");
    assert_eq!(field(&e, "出资额"), "5万元人民币");
    assert_eq!(field(&e, "住所"), "陕西省汉中市略阳县兴州街道东环路8号");
}

#[tokio::test]
async fn a_limited_company_needs_its_board_articles_and_every_signature() {
    let app = spawn_app().await;
    let (a, b, s) = (Person::new("王股东"), Person::new("李股东"), Person::new("赵监事"));
    let mut form = json!({
        "kind": "establish", "entity_type": "limited_company", "admin_code": COUNTY, "name": "略阳县青禾网络科技有限公司",
        "parties": [
            party(&a, &["shareholder", "executive_director", "legal_representative"], Some(("600000", "2030-12-31"))),
            party(&b, &["shareholder"], Some(("400000", "2030-12-31"))),
            party(&s, &["supervisor"], None),
        ],
        "scope": ["G2001", "G2002"], "domicile": address("东环路12号3单元201室"), "capital": "1000000",
    });
    let t = app.sign_in(&a).await;
    // Capital that is not the sum of contributions, and no board, are named.
    let mut bad = form.clone();
    bad["capital"] = json!("900000");
    bad["parties"][0]["roles"] = json!(["shareholder", "legal_representative"]);
    let draft = app.post("/api/v1/applications", &t, &bad).await;
    let codes: Vec<&str> =
        draft.ok()["outstanding"].as_array().unwrap().iter().map(|o| o["code"].as_str().unwrap()).collect();
    for c in ["capital_mismatch", "board_composition", "legal_representative_not_director", "material_missing"] {
        assert!(codes.contains(&c), "{c} in {codes:?}");
    }
    let id = draft.body["id"].as_str().unwrap();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await.problem(409, "form_incomplete");

    form["parties"][2]["roles"] = json!(["supervisor"]);
    let approved = establish(&app, &a, form, &["articles_of_association", "address_commitment"], &[&a, &b, &s]).await;
    let e = licence(&app, &t, approved["uscc"].as_str().unwrap()).await;
    assert_eq!(field(&e, "法定代表人"), "王股东");
    assert_eq!(field(&e, "注册资本"), "100万元人民币");
    assert_eq!(field(&e, "类型"), "有限责任公司（自然人投资或控股）");
}

#[tokio::test]
async fn a_company_is_not_submitted_until_every_party_has_signed_and_the_refusal_names_them() {
    let app = spawn_app().await;
    let (a, b) = (Person::new("钱董事"), Person::new("孙股东"));
    let form = json!({
        "kind": "establish", "entity_type": "limited_company", "admin_code": COUNTY, "name": "略阳县钱孙商贸有限公司",
        "parties": [
            party(&a, &["shareholder", "executive_director", "legal_representative"], Some(("10000", "2030-01-01"))),
            party(&b, &["shareholder"], Some(("10000", "2030-01-01"))),
        ],
        "scope": ["G1002"], "domicile": address("南街1号"), "capital": "20000",
    });
    let t = app.sign_in(&a).await;
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.attach(&t, &id, "articles_of_association", tiny_pdf(), "application/pdf").await.ok();
    app.attach(&t, &id, "premises_proof", tiny_png(), "image/png").await.ok();
    app.sign_all(&id, &[&a]).await;
    let r = app.submit(&t, &id).await;
    r.problem(409, "submission_incomplete");
    assert_eq!(r.fields(), vec![("parties[1]".to_string(), "signature_missing".to_string())]);
    assert_eq!(r.body["errors"][0]["params"]["name"], "孙股东");
    let view = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!(view.ok()["unsigned"][0]["name"], "孙股东");
    assert_eq!(view.body["signatures"][0]["name"], "钱董事");
    app.sign_all(&id, &[&b]).await;
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
}

#[tokio::test]
async fn a_farmers_cooperative_needs_five_members_mostly_farmers_and_its_chair_as_representative() {
    let app = spawn_app().await;
    let members: Vec<Person> = (0..5).map(|i| Person::new(&format!("社员{i}"))).collect();
    let mut parties: Vec<Value> =
        members.iter().map(|m| party(m, &["member"], Some(("10000", "2027-12-31")))).collect();
    for p in &mut parties {
        p["farmer"] = json!(true);
    }
    parties[4]["farmer"] = json!(false);
    parties[0]["roles"] = json!(["member", "chair", "legal_representative"]);
    let mut form = json!({
        "kind": "establish", "entity_type": "farmers_cooperative", "admin_code": COUNTY, "name": "略阳县乌鸡养殖农民专业合作社",
        "parties": parties, "scope": ["G1022"], "domicile": address("接官亭镇1号"), "capital": "50000",
    });
    let t = app.sign_in(&members[0]).await;
    let mut too_few = form.clone();
    too_few["parties"][1]["farmer"] = json!(false);
    let d = app.post("/api/v1/applications", &t, &too_few).await;
    assert!(d.ok()["outstanding"].as_array().unwrap().iter().any(|o| o["code"] == "farmer_share"), "{}", d.text);
    form["parties"][4]["farmer"] = json!(false);
    let signers: Vec<&Person> = members.iter().collect();
    let approved = establish(
        &app,
        &members[0],
        form,
        &["articles_of_association", "member_roster", "founding_minutes", "address_commitment"],
        &signers,
    )
    .await;
    let uscc = approved["uscc"].as_str().unwrap();
    assert!(uscc.starts_with("93610727"), "cooperatives are category 3: {uscc}");
    let e = licence(&app, &t, uscc).await;
    assert_eq!(field(&e, "法定代表人"), "社员0");
    assert_eq!(field(&e, "成员出资总额"), "5万元人民币");
}

#[tokio::test]
async fn changes_of_name_premises_scope_and_operator_each_issue_a_new_licence_version() {
    let app = spawn_app().await;
    let owner = Person::new("周店主");
    let (t, uscc) = app.establish_shop(&owner, Some("略阳县周记土特产店")).await;
    let reviewer = app.reviewer(COUNTY).await;
    let registered = licence(&app, &t, &uscc).await["registered"].clone();

    let change = |edit: &dyn Fn(&mut Value)| {
        let mut f = registered.clone();
        f["kind"] = json!("change");
        f["uscc"] = json!(uscc);
        edit(&mut f);
        f
    };
    let new_operator = Person::new("周新主");
    let cases: Vec<(&str, Value, Vec<&Person>)> = vec![
        ("name", change(&|f| f["name"] = json!("略阳县周氏农产品店")), vec![&owner]),
        ("premises", change(&|f| f["premises"][0]["url"] = json!("https://shop.example.com/new-home")), vec![&owner]),
        ("scope", change(&|f| f["scope"] = json!(["G1001", "G1021", "G1023"])), vec![&owner]),
        (
            "representative",
            change(&|f| f["parties"] = json!([party(&new_operator, &["operator"], None)])),
            vec![&new_operator],
        ),
    ];
    let mut version = 1;
    let mut current = registered.clone();
    for (item, mut form, signers) in cases {
        // Each change starts from what is registered now.
        for k in ["name", "premises", "scope", "parties"] {
            if form[k] == registered[k] {
                form[k] = current[k].clone();
            }
        }
        let created = app.post("/api/v1/applications", &t, &form).await;
        assert_eq!(created.status, 201, "{item}: {}", created.text);
        assert!(
            created.body["changes"].as_array().unwrap().iter().any(|c| c == item),
            "{item}: {}",
            created.body["changes"]
        );
        let id = created.body["id"].as_str().unwrap().to_string();
        app.sign_all(&id, &signers).await;
        assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
        let d = app.decide(&reviewer, &id, json!({ "decision": "approve" })).await;
        assert_eq!(d.ok()["status"], "approved", "{item}: {}", d.text);
        version += 1;
        let e = licence(&app, &t, &uscc).await;
        assert_eq!(e["licence_version"], version, "{item}");
        let versions = e["licences"].as_array().unwrap();
        assert_eq!(versions.len(), version as usize);
        assert!(
            versions[..versions.len() - 1].iter().all(|v| v["superseded_at"].is_string()),
            "old versions are kept and superseded"
        );
        assert!(versions.last().unwrap()["superseded_at"].is_null());
        current = e["registered"].clone();
    }
    let e = licence(&app, &t, &uscc).await;
    assert_eq!(e["name"], "略阳县周氏农产品店");
    assert_eq!(field(&e, "经营者"), "周新主");
    assert!(e["licence"]["premises"][0].as_str().unwrap().ends_with("/new-home"));
    // The old name is released but its trade name stays barred for a year.
    let check = app
        .post(
            "/api/v1/name-checks",
            &t,
            &json!({ "name": "略阳县周记土特产店", "entity_type": "individual_business", "admin_code": COUNTY }),
        )
        .await;
    assert_eq!(check.ok()["available"], false);
    assert_eq!(check.body["conflicts"][0]["state"], "released");
    // A change that changes nothing is not signable.
    let mut same = e["registered"].clone();
    same["kind"] = json!("change");
    same["uscc"] = json!(uscc);
    let t2 = app.sign_in(&new_operator).await;
    let id = app.post("/api/v1/applications", &t2, &same).await.ok()["id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/api/v1/applications/{id}/signatures"), &t2, &json!({})).await;
    r.problem(409, "form_incomplete");
    assert_eq!(r.fields(), vec![(String::new(), "no_change".to_string())]);
}

#[tokio::test]
async fn a_company_changes_its_capital_and_shareholders() {
    let app = spawn_app().await;
    let (a, b, c) = (Person::new("吴甲"), Person::new("吴乙"), Person::new("吴丙"));
    let form = json!({
        "kind": "establish", "entity_type": "limited_company", "admin_code": COUNTY, "name": "略阳县吴氏商贸有限公司",
        "parties": [
            party(&a, &["shareholder", "executive_director", "legal_representative"], Some(("50000", "2030-01-01"))),
            party(&b, &["shareholder"], Some(("50000", "2030-01-01"))),
        ],
        "scope": ["G1002"], "domicile": address("北街2号"), "capital": "100000",
    });
    let approved = establish(&app, &a, form, &["articles_of_association", "address_commitment"], &[&a, &b]).await;
    let uscc = approved["uscc"].as_str().unwrap().to_string();
    let t = app.sign_in(&a).await;
    let mut f = licence(&app, &t, &uscc).await["registered"].clone();
    f["kind"] = json!("change");
    f["uscc"] = json!(uscc);
    f["capital"] = json!("300000");
    f["parties"] = json!([
        party(&a, &["shareholder", "executive_director", "legal_representative"], Some(("150000", "2030-01-01"))),
        party(&c, &["shareholder"], Some(("150000", "2030-01-01"))),
    ]);
    let id = app.post("/api/v1/applications", &t, &f).await.ok()["id"].as_str().unwrap().to_string();
    let view = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    let changes = view.ok()["changes"].clone();
    assert!(
        changes.as_array().unwrap().contains(&json!("capital"))
            && changes.as_array().unwrap().contains(&json!("parties")),
        "{changes}"
    );
    assert_eq!(view.body["required_materials"][0]["any_of"][0], "shareholder_resolution");
    app.attach(&t, &id, "shareholder_resolution", tiny_pdf(), "application/pdf").await.ok();
    app.sign_all(&id, &[&a, &c]).await;
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
    let reviewer = app.reviewer(COUNTY).await;
    app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok();
    let e = licence(&app, &t, &uscc).await;
    assert_eq!(field(&e, "注册资本"), "30万元人民币");
    assert_eq!(e["licence_version"], 2);
}

#[tokio::test]
async fn ordinary_deregistration_ends_the_enterprise_and_nothing_can_change_it_afterwards() {
    let app = spawn_app().await;
    let owner = Person::new("郑注销");
    let (t, uscc) = app.establish_shop(&owner, None).await;
    let form = json!({ "kind": "deregister", "entity_type": "individual_business", "admin_code": COUNTY, "uscc": uscc,
                       "deregistration": { "mode": "ordinary", "reason": "停止经营" } });
    let created = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.body["form"]["parties"][0]["name"], "郑注销", "the registered parties sign a deregistration");
    let id = created.body["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&owner]).await;
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
    let reviewer = app.reviewer(COUNTY).await;
    assert_eq!(app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok()["status"], "approved");
    let e = licence(&app, &t, &uscc).await;
    assert_eq!(e["status"], "deregistered");
    let mut change = e["registered"].clone();
    change["kind"] = json!("change");
    change["uscc"] = json!(uscc);
    change["scope"] = json!(["G1002"]);
    let r = app.post("/api/v1/applications", &t, &change).await;
    r.problem(409, "invalid_state");
    assert_eq!(r.fields(), vec![("uscc".to_string(), "enterprise_not_changeable".to_string())]);
}

async fn simplified_deregistration(app: &TestApp, owner: &Person) -> (String, String, String) {
    let investor = owner;
    let form = json!({
        "kind": "establish", "entity_type": "sole_proprietorship", "admin_code": COUNTY, "name": format!("略阳县{}茶叶经营部", investor.name),

        "parties": [party(investor, &["investor"], None)], "scope": ["G1017"], "domicile": address("西街3号"), "capital": "10000",
    });
    let approved = establish(app, investor, form, &["address_commitment"], &[investor]).await;
    let uscc = approved["uscc"].as_str().unwrap().to_string();
    let t = app.sign_in(investor).await;
    let id = app
        .post(
            "/api/v1/applications",
            &t,
            &json!({ "kind": "deregister", "entity_type": "sole_proprietorship", "admin_code": COUNTY, "uscc": uscc,
            "deregistration": { "mode": "simplified", "reason": "未开业" } }),
        )
        .await
        .ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sign_all(&id, &[investor]).await;
    let submitted = app.submit(&t, &id).await;
    assert_eq!(submitted.ok()["deregistration_notice"]["status"], "open", "{}", submitted.text);
    let notice = submitted.body["deregistration_notice"]["id"].as_str().unwrap().to_string();
    (id, uscc, notice)
}

#[tokio::test]
async fn simplified_deregistration_without_objection_completes_after_the_twenty_day_notice() {
    let app = spawn_app().await;
    let owner = Person::new("冯简易");
    let (id, uscc, notice) = simplified_deregistration(&app, &owner).await;
    let listed = app.request(Method::GET, "/api/v1/public/deregistration-notices", None, None, &[]).await;
    let items = listed.ok()["items"].as_array().unwrap().clone();
    assert!(items.iter().any(|n| n["id"] == notice.as_str() && n["uscc"] == uscc.as_str()));
    let ends = chrono::DateTime::parse_from_rfc3339(items[0]["ends_at"].as_str().unwrap()).unwrap();
    let starts = chrono::DateTime::parse_from_rfc3339(items[0]["starts_at"].as_str().unwrap()).unwrap();
    assert_eq!((ends - starts).num_days(), 20);

    let reviewer = app.reviewer(COUNTY).await;
    app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.problem(409, "invalid_state");
    app.clock.advance(chrono::Duration::days(21));
    assert_eq!(
        app.request(Method::GET, "/api/v1/public/deregistration-notices", None, None, &[]).await.ok()["items"],
        json!([])
    );
    let late = app
        .request(
            Method::POST,
            &format!("/api/v1/public/deregistration-notices/{notice}/objections"),
            None,
            Some(&json!({ "name": "某债权人", "reason": "货款未结清" })),
            &[],
        )
        .await;
    late.problem(409, "invalid_state");
    assert_eq!(app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok()["status"], "approved");
    let t = app.sign_in(&owner).await;
    assert_eq!(licence(&app, &t, &uscc).await["status"], "deregistered");
}

#[tokio::test]
async fn an_objection_during_the_notice_stops_simplified_deregistration() {
    let app = spawn_app().await;
    let owner = Person::new("卫异议");
    let (id, uscc, notice) = simplified_deregistration(&app, &owner).await;
    let bad = app
        .request(
            Method::POST,
            &format!("/api/v1/public/deregistration-notices/{notice}/objections"),
            None,
            Some(&json!({ "name": " ", "reason": "" })),
            &[],
        )
        .await;
    bad.problem(422, "validation_failed");
    let r = app
        .request(
            Method::POST,
            &format!("/api/v1/public/deregistration-notices/{notice}/objections"),
            None,
            Some(&json!({ "name": "某供应商", "contact": "0916-1234567", "reason": "尚有货款未结清" })),
            &[],
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let t = app.sign_in(&owner).await;
    let view = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!(view.ok()["status"], "rejected");
    assert_eq!(view.body["decided_by"], "auto");
    assert_eq!(view.body["deregistration_notice"]["status"], "objected");
    assert_eq!(licence(&app, &t, &uscc).await["status"], "active");
    assert_eq!(
        app.request(Method::GET, "/api/v1/public/deregistration-notices", None, None, &[]).await.ok()["items"],
        json!([])
    );
}

#[tokio::test]
async fn an_objection_arriving_while_a_reviewer_returns_the_application_waits_and_is_refused() {
    // A reviewer's decision holds the application, then closes the notice;
    // an objection takes them in the same order, so it waits rather than
    // locking the notice first and deadlocking with the decision. It then
    // finds the notice closed.
    use greenchannel::{services::registration::ApplicationRecord, store};
    use sea_orm::ActiveValue::Set;

    let app = spawn_app().await;
    let owner = Person::new("韩并发");
    let (id, _, notice) = simplified_deregistration(&app, &owner).await;

    let tx = app.state.db.write().await.unwrap();
    let held = ApplicationRecord::load_locked(&tx, id.parse().unwrap()).await.unwrap().unwrap();
    let objection = app.request_in_background(
        Method::POST,
        &format!("/api/v1/public/deregistration-notices/{notice}/objections"),
        None,
        Some(&json!({ "name": "某供应商", "reason": "尚有货款未结清" })),
        &[],
    );
    app.until_someone_waits_for_a_lock().await;
    assert!(store::notices::set_status(&tx, notice.parse().unwrap(), "open", "closed").await.unwrap());
    let returned = store::applications::Changes { status: Set("returned".into()), ..Default::default() };
    store::applications::update_locked(&tx, &held.row, returned).await.unwrap();
    tx.commit().await.unwrap();

    objection.await.unwrap().problem(409, "invalid_state");
    let t = app.sign_in(&owner).await;
    let view = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!(view.ok()["status"], "returned");
    assert_eq!(view.body["deregistration_notice"]["status"], "closed");
}

#[tokio::test]
async fn abnormal_enterprises_cannot_use_simplified_deregistration_and_revoked_ones_cannot_change() {
    let app = spawn_app().await;
    let owner = Person::new("蒋异常");
    let (t, uscc) = app.establish_shop(&owner, None).await;
    let admin = app.key("admin", None, None, None).await;
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/abnormal"), &admin, &json!({ "abnormal": true }))
        .await
        .problem(422, "validation_failed");
    let flagged = app
        .post(
            &format!("/api/v1/admin/enterprises/{uscc}/abnormal"),
            &admin,
            &json!({ "abnormal": true, "reason": "通过登记的住所无法联系" }),
        )
        .await;
    assert_eq!(flagged.ok()["abnormal"], true);
    let form = json!({ "kind": "deregister", "entity_type": "individual_business", "admin_code": COUNTY, "uscc": uscc,
                       "deregistration": { "mode": "simplified", "reason": "不再经营" } });
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&owner]).await;
    let r = app.submit(&t, &id).await;
    r.problem(409, "invalid_state");
    assert_eq!(r.body["errors"][0]["params"]["reason"], "abnormal_operations");

    let revoked = app
        .post(
            &format!("/api/v1/admin/enterprises/{uscc}/revocation"),
            &admin,
            &json!({ "reason": "提交虚假材料取得登记" }),
        )
        .await;
    assert_eq!(revoked.ok()["status"], "revoked");
    app.post(&format!("/api/v1/admin/enterprises/{uscc}/revocation"), &admin, &json!({ "reason": "again" }))
        .await
        .problem(409, "invalid_state");
    assert_eq!(licence(&app, &t, &uscc).await["status"], "revoked");
}

#[tokio::test]
async fn a_restricted_person_blocks_submission_and_restrictions_import_from_csv() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let barred = Person::new("失信人");
    let r = app
        .post("/api/v1/admin/restrictions", &admin, &json!({ "kind": "person", "id_number": barred.id_number, "reason": "失信被执行人", "source": "最高人民法院失信被执行人名单", "listed_on": "2026-01-01" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (t, id) = app.signed_draft(&barred, &online_shop_form(&barred, None)).await;
    let refused = app.submit(&t, &id).await;
    refused.problem(409, "party_restricted");
    assert_eq!(refused.fields(), vec![("parties[0]".to_string(), "party_restricted".to_string())]);
    assert_eq!(refused.body["errors"][0]["params"]["source"], "最高人民法院失信被执行人名单");

    // Lifting it lets the same application through.
    let rid = r.body["id"].as_str().unwrap();
    assert_eq!(
        app.request(Method::DELETE, &format!("/api/v1/admin/restrictions/{rid}"), Some(&admin), None, &[]).await.status,
        204
    );
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");

    let other = Person::new("另一失信人");
    let csv = format!(
        "kind,subject,name,reason,source,listed_on,expires_on\nperson,{},另一失信人,严重失信,信用中国,2026-03-01,\nenterprise,91330100799655058B,,严重违法失信,市场监管总局,2026-03-01,2029-03-01\n",
        other.id_number
    );
    let imported = app.post("/api/v1/admin/restrictions/import", &admin, &json!({ "csv": csv })).await;
    assert_eq!(imported.status, 201, "{}", imported.text);
    assert_eq!(imported.body["ids"].as_array().unwrap().len(), 2);
    let (t, id) = app.signed_draft(&other, &online_shop_form(&other, None)).await;
    app.submit(&t, &id).await.problem(409, "party_restricted");

    // Only a restriction in force today counts: not one that has expired,
    // nor one listed from a later date.
    for (name, listed_on, expires_on) in [("已过期", "2025-01-01", Some("2026-01-31")), ("未生效", "2099-01-01", None)]
    {
        let p = Person::new(name);
        let r = app
            .post("/api/v1/admin/restrictions", &admin, &json!({ "kind": "person", "id_number": p.id_number, "reason": "失信", "source": "信用中国", "listed_on": listed_on, "expires_on": expires_on }))
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let (t, id) = app.signed_draft(&p, &online_shop_form(&p, None)).await;
        assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted", "{name}");
    }
    let broken = app
        .post("/api/v1/admin/restrictions/import", &admin, &json!({ "csv": "h\nperson,123,x,r,s,2026-01-01\n" }))
        .await;
    broken.problem(422, "validation_failed");
    assert_eq!(broken.body["errors"][0]["field"], "line 2.subject");
}

#[tokio::test]
async fn plain_cases_are_approved_automatically_and_others_say_why_not() {
    let app = spawn_app_with(|s| s.auto_approval = true).await;
    let p = Person::new("秒批");
    let t = app.sign_in(&p).await;
    let id = app.post("/api/v1/applications", &t, &online_shop_form(&p, Some("略阳县秒批电子商务店"))).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sign_all(&id, &[&p]).await;
    let r = app.submit(&t, &id).await;
    assert_eq!(r.ok()["status"], "approved", "{}", r.text);
    assert_eq!(r.body["decided_by"], "auto");
    assert!(r.body["uscc"].is_string());
    assert!(r.body["auto_review"]["rules"].as_array().unwrap().iter().all(|x| x["passed"] == true));
    let events = greenchannel::store::audit::for_subject(app.state.db.conn(), "application", &id).await.unwrap();
    let approved = events.iter().find(|e| e.action == "application.approved").unwrap();
    assert_eq!((approved.actor_role.as_str(), approved.actor_id.as_str()), ("system", "greenchannel"));

    // A licensed item sends it to a reviewer, with the rule that failed.
    let q = Person::new("许可");
    let tq = app.sign_in(&q).await;
    let mut form = online_shop_form(&q, None);
    form["scope"] = json!(["G1001", "L1002"]);
    let id = app.post("/api/v1/applications", &tq, &form).await.ok()["id"].as_str().unwrap().to_string();
    app.sign_all(&id, &[&q]).await;
    app.submit(&tq, &id).await.problem(409, "submission_incomplete");
    app.request(Method::POST, &format!("/api/v1/applications/{id}/notice/acknowledgement"), Some(&tq), None, &[])
        .await
        .ok();
    let r = app.submit(&tq, &id).await;
    assert_eq!(r.ok()["status"], "submitted");
    let failed: Vec<&str> = r.body["auto_review"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["passed"] == false)
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["general_scope_only"]);

    // A similar registered name (synonymous industry) also needs a person.
    let s = Person::new("相似");
    let ts = app.sign_in(&s).await;
    let id = app.post("/api/v1/applications", &ts, &online_shop_form(&s, Some("略阳县秒批电商店"))).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sign_all(&id, &[&s]).await;
    let r = app.submit(&ts, &id).await;
    assert_eq!(r.ok()["status"], "submitted", "{}", r.text);
    let failed: Vec<&str> = r.body["auto_review"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["passed"] == false)
        .map(|x| x["rule"].as_str().unwrap())
        .collect();
    assert_eq!(failed, ["clean_name"]);
}

#[tokio::test]
async fn the_queue_is_oldest_first_with_due_dates_and_an_overdue_filter() {
    let app = spawn_app_with(|s| s.holidays = vec!["2099-01-01".into()]).await;
    let reviewer = app.reviewer(COUNTY).await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let p = Person::new(&format!("排队{i}"));
        let t = app.sign_in(&p).await;
        ids.push(submitted_application(&app, &t, &online_shop_form(&p, None)).await);
        app.clock.advance(chrono::Duration::days(2));
    }
    let q = app.get("/api/v1/review/applications?status=submitted", &reviewer).await;
    let got: Vec<&str> = q.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(got, ids.iter().map(String::as_str).collect::<Vec<_>>(), "oldest first");
    assert!(q.body["items"].as_array().unwrap().iter().all(|i| i["due_at"].is_string()));
    // Six days on, the first two are past three working days.
    let overdue = app.get("/api/v1/review/applications?status=submitted&overdue=true", &reviewer).await;
    let n_overdue = overdue.ok()["items"].as_array().unwrap().len();
    assert!((1..3).contains(&n_overdue), "{}", overdue.text);
    assert!(overdue.body["items"].as_array().unwrap().iter().all(|i| i["overdue"] == true));
    let on_time = app.get("/api/v1/review/applications?status=submitted&overdue=false", &reviewer).await;
    assert_eq!(on_time.ok()["items"].as_array().unwrap().len() + n_overdue, 3);
    let page = app.get("/api/v1/review/applications?status=submitted&limit=2", &reviewer).await;
    let cursor = page.ok()["next_cursor"].as_str().unwrap().to_string();
    let rest =
        app.get(&format!("/api/v1/review/applications?status=submitted&limit=2&cursor={cursor}"), &reviewer).await;
    assert_eq!(rest.ok()["items"][0]["id"], ids[2].as_str());
}

#[tokio::test]
async fn materials_are_sniffed_capped_hashed_and_signed_with_the_form() {
    let app = spawn_app().await;
    let p = Person::new("材料");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, None);
    form["premises"] = json!([{ "kind": "address", "address": address("东环路5号") }]);
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    let view = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!(
        view.ok()["required_materials"],
        json!([{ "any_of": ["premises_proof", "address_commitment"], "present": false }])
    );
    app.sign_all(&id, &[&p]).await;

    app.attach(&t, &id, "premises_proof", b"GIF89a....".to_vec(), "application/pdf")
        .await
        .problem(415, "unsupported_media_type");
    app.attach(&t, &id, "premises_proof", tiny_pdf(), "text/plain").await.problem(415, "unsupported_media_type");
    app.attach(&t, &id, "premises_proof", vec![b'%'; 11 * 1024 * 1024], "application/pdf")
        .await
        .problem(413, "payload_too_large");
    let up = app.attach(&t, &id, "address_commitment", tiny_png(), "application/octet-stream").await;
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.body["material"]["media_type"], "image/png");
    use sha2::Digest;
    assert_eq!(up.body["material"]["sha256"], hex::encode(sha2::Sha256::digest(tiny_png())));
    assert_eq!(up.body["application"]["signatures"], json!([]), "attaching is an edit: parties sign again");
    assert_eq!(up.body["application"]["required_materials"][0]["present"], true);
    let mid = up.body["material"]["id"].as_str().unwrap();
    let dl = app
        .client
        .get(format!("{}/api/v1/applications/{id}/materials/{mid}", app.base))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(dl.headers()["content-type"], "image/png");
    assert_eq!(dl.bytes().await.unwrap().to_vec(), tiny_png());
    let stranger = app.sign_in(&Person::new("旁人")).await;
    app.get(&format!("/api/v1/applications/{id}/materials"), &stranger).await.problem(404, "not_found");
    app.sign_all(&id, &[&p]).await;
    assert_eq!(app.submit(&t, &id).await.ok()["status"], "submitted");
}

#[tokio::test]
async fn the_public_register_shows_public_facts_only() {
    let app = spawn_app().await;
    let p = Person::new("公示");
    let (_, uscc) = app.establish_shop(&p, Some("略阳县公示电子商务店")).await;
    for q in [uscc.as_str(), "略阳县公示电子商务店", "公示"] {
        let r =
            app.request(Method::GET, &format!("/api/v1/public/enterprises?q={}", urlencode(q)), None, None, &[]).await;
        let items = r.ok()["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{q}: {}", r.text);
        assert_eq!(items[0]["uscc"], uscc.as_str());
        assert_eq!(items[0]["representative_name"], "公示");
        assert!(
            !r.text.contains(&p.id_number) && !r.text.contains(&p.phone),
            "no ID numbers or phones in public output"
        );
    }
    let none = app.request(Method::GET, "/api/v1/public/enterprises?q=不存在的名称", None, None, &[]).await;
    assert_eq!(none.ok()["items"], json!([]));
    app.request(Method::GET, "/api/v1/public/enterprises?q=x", None, None, &[]).await.problem(422, "validation_failed");
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn a_trade_name_shared_by_many_other_industries_still_finds_the_one_that_conflicts() {
    use greenchannel::store::names::{NewName, insert};
    let app = spawn_app().await;
    let now = chrono::Utc::now();
    // Eighty enterprises of the county share the trade name 青禾 in other
    // lines of business; the one e-commerce shop among them is recorded last.
    let tx = app.state.db.write().await.unwrap();
    let others: Vec<(String, String)> =
        (0..80).map(|i| (format!("略阳县青禾{i}号行业店"), format!("{i}号行业"))).collect();
    for (full, industry) in others
        .iter()
        .map(|(f, i)| (f.as_str(), Some(i.as_str())))
        .chain([("略阳县青禾电子商务经营部", Some("电子商务"))])
    {
        insert(
            &tx,
            NewName {
                authority: COUNTY,
                full_name: full,
                trade_name: "青禾",
                industry,
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
    let t = app.sign_in(&Person::new("青禾")).await;
    let check = |name: &'static str| {
        let (app, t) = (&app, &t);
        async move {
            let body = json!({ "name": name, "entity_type": "individual_business", "admin_code": COUNTY });
            app.post("/api/v1/name-checks", t, &body).await.ok().clone()
        }
    };
    // The same trade name in the same industry: a conflict, however many
    // other 青禾 there are.
    let r = check("略阳县青禾电子商务店").await;
    assert_eq!(r["available"], false, "{r}");
    let kinds: Vec<&str> = r["conflicts"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["略阳县青禾电子商务经营部"], "only the e-commerce shop conflicts");
    // Another industry altogether is free.
    assert_eq!(check("略阳县青禾服装店").await["available"], true);
}
