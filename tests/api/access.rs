//! Each caller sees only its own scope; outside it the answer is 404.
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn an_applicant_cannot_see_or_touch_another_applicants_application() {
    let app = spawn_app().await;
    let (a, b) = (Person::new("张三"), Person::new("李四"));
    let (ta, tb) = (app.sign_in(&a).await, app.sign_in(&b).await);
    let id = app.post("/api/v1/applications", &ta, &online_shop_form(&a, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/api/v1/applications/{id}");
    app.get(&path, &tb).await.problem(404, "not_found");
    app.get(&format!("{path}/notice"), &tb).await.problem(404, "not_found");
    app.post(&format!("{path}/signatures"), &tb, &json!({})).await.problem(404, "not_found");
    app.request(Method::PUT, &path, Some(&tb), Some(&online_shop_form(&b, None)), &[("If-Match", "1")])
        .await
        .problem(404, "not_found");
    app.request(Method::POST, &format!("{path}/submit"), Some(&tb), None, &[]).await.problem(404, "not_found");
    app.request(Method::POST, &format!("{path}/withdraw"), Some(&tb), None, &[]).await.problem(404, "not_found");
    assert_eq!(app.get("/api/v1/applications", &tb).await.ok()["items"], json!([]));
    // A random id is indistinguishable from someone else's.
    app.get(&format!("/api/v1/applications/{}", uuid::Uuid::now_v7()), &tb).await.problem(404, "not_found");
}

#[tokio::test]
async fn a_party_named_in_an_application_sees_it_with_others_id_numbers_masked_and_may_sign_but_not_edit() {
    let app = spawn_app().await;
    let (creator, member) = (Person::new("王五"), Person::new("王小五"));
    let (tc, tm) = (app.sign_in(&creator).await, app.sign_in(&member).await);
    let mut form = online_shop_form(&creator, None);
    form["composition"] = json!("family");
    form["parties"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": member.name, "id_number": member.id_number, "roles": ["member"] }));
    let id = app.post("/api/v1/applications", &tc, &form).await.ok()["id"].as_str().unwrap().to_string();
    let seen = app.get(&format!("/api/v1/applications/{id}"), &tm).await;
    assert_eq!(seen.ok()["form"]["parties"][1]["id_number"], member.id_number);
    assert_ne!(seen.body["form"]["parties"][0]["id_number"], creator.id_number, "another party's ID is masked");
    assert!(!seen.text.contains(&creator.id_number));
    assert_eq!(app.get("/api/v1/applications", &tm).await.ok()["items"].as_array().unwrap().len(), 1);
    assert_eq!(app.post(&format!("/api/v1/applications/{id}/signatures"), &tm, &json!({})).await.status, 201);
    app.request(Method::PUT, &format!("/api/v1/applications/{id}"), Some(&tm), Some(&form), &[("If-Match", "1")])
        .await
        .problem(403, "forbidden");
}

#[tokio::test]
async fn a_reviewer_of_another_county_cannot_see_or_decide() {
    let app = spawn_app().await;
    let p = Person::new("赵六");
    let t = app.sign_in(&p).await;
    let id = submitted_application(&app, &t, &online_shop_form(&p, None)).await;
    let other = app.reviewer(OTHER_COUNTY).await;
    app.get(&format!("/api/v1/applications/{id}"), &other).await.problem(404, "not_found");
    app.post(&format!("/api/v1/review/applications/{id}/decision"), &other, &json!({ "decision": "approve" }))
        .await
        .problem(404, "not_found");
    assert_eq!(app.get("/api/v1/review/applications", &other).await.ok()["items"], json!([]));

    let own = app.reviewer(COUNTY).await;
    let uscc = app
        .post(&format!("/api/v1/review/applications/{id}/decision"), &own, &json!({ "decision": "approve" }))
        .await
        .ok()["uscc"]
        .as_str()
        .unwrap()
        .to_string();
    app.get(&format!("/api/v1/enterprises/{uscc}"), &other).await.problem(404, "not_found");
    let stranger = app.sign_in(&Person::new("路人")).await;
    app.get(&format!("/api/v1/enterprises/{uscc}"), &stranger).await.problem(404, "not_found");
}

#[tokio::test]
async fn drafts_are_invisible_to_reviewers() {
    let app = spawn_app().await;
    let p = Person::new("钱七");
    let t = app.sign_in(&p).await;
    let id = app.post("/api/v1/applications", &t, &online_shop_form(&p, None)).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let reviewer = app.reviewer(COUNTY).await;
    app.get(&format!("/api/v1/applications/{id}"), &reviewer).await.problem(404, "not_found");
    app.post(&format!("/api/v1/review/applications/{id}/decision"), &reviewer, &json!({ "decision": "approve" }))
        .await
        .problem(404, "not_found");
}

#[tokio::test]
async fn roles_cannot_use_each_others_operations() {
    let app = spawn_app().await;
    let p = Person::new("孙八");
    let t = app.sign_in(&p).await;
    let reviewer = app.reviewer(COUNTY).await;
    app.get("/api/v1/review/applications", &t).await.problem(403, "forbidden");
    app.post("/api/v1/applications", &reviewer, &online_shop_form(&p, None)).await.problem(403, "forbidden");
    app.post("/api/v1/admin/api-keys", &reviewer, &json!({ "role": "admin" })).await.problem(403, "forbidden");
    app.post("/api/v1/admin/api-keys", &t, &json!({ "role": "admin" })).await.problem(403, "forbidden");
}

#[tokio::test]
async fn a_signature_binds_the_verified_name_not_the_name_the_form_gives() {
    let app = spawn_app().await;
    let p = Person::new("周九");
    let t = app.sign_in(&p).await;
    // The form gives the signer's ID number another person's name.
    let mut form = online_shop_form(&p, None);
    form["parties"][0]["name"] = json!("吴十");
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    let r = app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await;
    r.problem(409, "conflict");
    assert_eq!(r.fields(), vec![("parties[0].name".to_string(), "not_the_verified_name".to_string())]);
    let a = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!(a.ok()["signatures"], json!([]), "nothing was signed");
    // Written with full-width spacing it is the same name, and signs.
    form["parties"][0]["name"] = json!(format!(" {}\u{3000}", p.name));
    let v = a.body["version"].as_i64().unwrap();
    let put = app
        .request(
            reqwest::Method::PUT,
            &format!("/api/v1/applications/{id}"),
            Some(&t),
            Some(&form),
            &[("If-Match", &format!("\"{v}\""))],
        )
        .await;
    put.ok();
    assert_eq!(app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await.status, 201);
}
