//! Bad input is a problem+json naming the field, never a 500.
use reqwest::Method;
use serde_json::json;

use crate::helpers::*;

async fn raw(app: &TestApp, token: &str, body: &'static [u8], content_type: &str, lang: &str) -> Resp {
    let r = app
        .client
        .post(format!("{}/api/v1/applications", app.base))
        .bearer_auth(token)
        .header("content-type", content_type)
        .header("accept-language", lang)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap();
    Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
}

#[tokio::test]
async fn malformed_json_is_a_400_naming_line_and_column() {
    let app = spawn_app().await;
    let t = app.sign_in(&Person::new("张三")).await;
    let r = raw(&app, &t, br#"{"kind": "establish", "#, "application/json", "en").await;
    r.problem(400, "malformed_json");
    assert_eq!(r.body["errors"][0]["params"]["line"], "1");
    assert_eq!(r.body["title"], "The request body is not valid JSON");
    let zh = raw(&app, &t, b"{oops", "application/json", "zh-CN").await;
    assert_eq!(zh.problem(400, "malformed_json")["title"], "请求体不是有效的 JSON");
    assert_eq!(zh.headers["content-language"], "zh-CN");
    raw(&app, &t, b"{\"kind\": \"\xff\xfe\"}", "application/json", "en").await.problem(400, "malformed_json");
}

#[tokio::test]
async fn a_wrong_type_and_a_missing_field_are_422_naming_the_path() {
    let app = spawn_app().await;
    let p = Person::new("李四");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, None);
    form["parties"][0]["roles"] = json!(["operator", 7]);
    let r = app.post("/api/v1/applications", &t, &form).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), vec![("parties[0].roles[1]".to_string(), "invalid_type".to_string())]);

    let mut form = online_shop_form(&p, None);
    form.as_object_mut().unwrap().remove("entity_type");
    let r = app.post("/api/v1/applications", &t, &form).await;
    r.problem(422, "validation_failed");
    assert_eq!(r.fields(), vec![("entity_type".to_string(), "required".to_string())]);

    let mut form = online_shop_form(&p, None);
    form["kind"] = json!("merge");
    let r = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(r.fields(), vec![("kind".to_string(), "invalid_value".to_string())]);
}

#[tokio::test]
async fn every_invalid_value_in_a_form_is_reported_at_once_with_its_path() {
    let app = spawn_app().await;
    let p = Person::new("王五");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, None);
    let bad_id = format!("{}{}", &p.id_number[..17], if p.id_number.ends_with('0') { '1' } else { '0' });
    form["parties"][0]["id_number"] = json!(bad_id);
    form["parties"][0]["phone"] = json!("12345");
    form["scope"] = json!(["G1001", "Z9999"]);
    form["admin_code"] = json!("999999");
    form["premises"][0]["url"] = json!("ftp://shop");
    let r =
        app.request(Method::POST, "/api/v1/applications", Some(&t), Some(&form), &[("accept-language", "en")]).await;
    r.problem(422, "validation_failed");
    let fields = r.fields();
    for expected in [
        ("admin_code", "unknown_division"),
        ("parties[0].id_number", "invalid_check_digit"),
        ("parties[0].phone", "invalid_phone"),
        ("scope[1]", "unknown_scope_item"),
        ("premises[0].url", "invalid_url"),
    ] {
        assert!(fields.contains(&(expected.0.to_string(), expected.1.to_string())), "{expected:?} in {fields:?}");
    }
    assert!(r.body["errors"].as_array().unwrap().iter().all(|e| !e["message"].as_str().unwrap().is_empty()));
    // Nothing was written.
    assert_eq!(app.get("/api/v1/applications", &t).await.ok()["items"], json!([]));
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let app = spawn_app().await;
    let t = app.sign_in(&Person::new("赵六")).await;
    let big = format!("{{\"name\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = app
        .client
        .post(format!("{}/api/v1/applications", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/problem+json"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "payload_too_large");
}

#[tokio::test]
async fn a_wrong_content_type_is_415_and_an_empty_body_422() {
    let app = spawn_app().await;
    let t = app.sign_in(&Person::new("钱七")).await;
    raw(&app, &t, b"kind=establish", "application/x-www-form-urlencoded", "en")
        .await
        .problem(415, "unsupported_media_type");
    let r = raw(&app, &t, b"", "application/json", "en").await;
    r.problem(422, "validation_failed");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_problems_too() {
    let app = spawn_app().await;
    let r = app.request(Method::GET, "/api/v1/nowhere", None, None, &[("accept-language", "en")]).await;
    assert_eq!(r.problem(404, "not_found")["title"], "Not found");
    app.request(Method::PATCH, "/api/v1/applications", None, None, &[]).await.problem(405, "method_not_allowed");
    let t = app.sign_in(&Person::new("孙八")).await;
    app.get("/api/v1/applications/not-a-uuid", &t).await.problem(422, "validation_failed");
    app.get("/api/v1/enterprises/not-a-code", &t).await.problem(422, "validation_failed");
}

#[tokio::test]
async fn hostile_strings_are_data_not_code() {
    let app = spawn_app().await;
    let p = Person::new("周九");
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, Some("略阳县'; DROP TABLE applications; --店"));
    form["premises"][0]["platform"] = json!("{{7*7}}<script>alert(1)</script>");
    let r = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["form"]["premises"][0]["platform"], "{{7*7}}<script>alert(1)</script>");
    let check = app
        .post(
            "/api/v1/name-checks",
            &t,
            &json!({ "name": "' OR 1=1 --", "entity_type": "individual_business", "admin_code": COUNTY }),
        )
        .await;
    assert_eq!(check.ok()["available"], false);
    assert_eq!(app.get("/api/v1/applications", &t).await.ok()["items"].as_array().unwrap().len(), 1);
}
