//! Hostile input: bodies over the limit, JSON nested past any sane depth,
//! bytes that are not UTF-8 (or NUL) in every part of a request, SQL and
//! template metacharacters in every free-text field, and look-alike
//! characters in names, codes and ID numbers. Every refusal is a
//! problem+json naming the field; nothing is a 5xx, a hang or a half-written
//! record; what is accepted is stored and shown verbatim (escaped in HTML).
use std::io::{Read, Write};

use reqwest::{Method, header::HeaderValue};
use serde_json::{Value, json};

use crate::helpers::*;

const NAME: &str = "略阳县书香食品店";

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let headers = r.headers().clone();
    let text = r.text().await.unwrap_or_default();
    Resp { status, headers, body: serde_json::from_str(&text).unwrap_or_default(), text }
}

/// POSTs raw bytes as JSON (with a Content-Length).
async fn post_raw(app: &TestApp, path: &str, token: Option<&str>, body: Vec<u8>) -> Resp {
    let mut rb = app.client.post(format!("{}{path}", app.base)).header("content-type", "application/json").body(body);
    if let Some(t) = token {
        rb = rb.bearer_auth(t);
    }
    into_resp(rb.send().await.expect("request")).await
}

/// GETs a path given exactly as written (percent-escapes are not touched).
async fn get_raw(app: &TestApp, path: &str, token: Option<&str>) -> Resp {
    app.request(Method::GET, path, token, None, &[]).await
}

/// POSTs `len` bytes of a JSON string with `Transfer-Encoding: chunked` (no
/// Content-Length, so the limit must hold while reading) over a bare socket;
/// returns the status and the body of the answer.
async fn post_chunked(app: &TestApp, path: &str, token: &str, len: usize) -> (u16, String, Value) {
    let (addr, path, token) = (app.addr, path.to_string(), token.to_string());
    tokio::task::spawn_blocking(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        s.write_all(head.as_bytes()).unwrap();
        let mut body = format!("{{\"name\":\"{}\"}}", "x".repeat(len)).into_bytes();
        body.truncate(len);
        // The server may answer and close before the rest is sent.
        for chunk in body.chunks(64 * 1024) {
            if s.write_all(format!("{:x}\r\n", chunk.len()).as_bytes()).is_err()
                || s.write_all(chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = s.write_all(b"0\r\n\r\n");
        let mut raw = Vec::new();
        let _ = s.read_to_end(&mut raw);
        let text = String::from_utf8_lossy(&raw).into_owned();
        let status = text.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let (headers, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        // The problem is small: one chunk or a Content-Length body.
        let json = rest.find('{').zip(rest.rfind('}')).map(|(a, b)| &rest[a..=b]).unwrap_or("");
        (status, headers.to_string(), serde_json::from_str(json).unwrap_or_default())
    })
    .await
    .unwrap()
}

/// Percent-encodes for a query value or a path segment (space as `%20`).
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20")
}

/// Full-width forms of ASCII letters and digits (what a phone IME types).
fn full_width(s: &str) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c }).collect()
}

/// A problem+json with this status and code, the case named if not.
#[track_caller]
fn refused(r: &Resp, case: &str, status: u16, code: &str) {
    assert_eq!((r.status.as_u16(), r.body["code"].as_str()), (status, Some(code)), "{case}: {}", r.text);
    r.problem(status, code);
}

/// A success, the case named if not; the body.
#[track_caller]
fn ok_for<'a>(r: &'a Resp, case: &str) -> &'a Value {
    assert!(r.status.is_success(), "{case}: {} {}", r.status, r.text);
    &r.body
}

fn field_pairs(fields: &[(&str, &str)]) -> Vec<(String, String)> {
    fields.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect()
}

/// The server still answers, and an ordinary request still works.
async fn still_serving(app: &TestApp, token: &str) {
    assert_eq!(get_raw(app, "/healthz", None).await.status, 200);
    app.get("/api/v1/applications", token).await.ok();
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_while_declared_or_while_streamed_and_nothing_is_written() {
    let app = spawn_app().await;
    let limit = app.state.settings.max_body_bytes;
    assert_eq!(limit, 1024 * 1024, "the documented default (README: GREENCHANNEL_MAX_BODY_BYTES)");
    let p = Person::new("胖子");
    let t = app.sign_in(&p).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;

    // A valid form padded with whitespace to exactly the limit is read.
    let mut at_limit = serde_json::to_vec(&online_shop_form(&p, None)).unwrap();
    at_limit.resize(limit, b' ');
    post_raw(&app, "/api/v1/applications", Some(&t), at_limit).await.ok();

    let one_item = format!("{{\"items\":[{{\"uscc\":\"{}\",\"pad\":\"", "9".repeat(18));
    for (path, token) in [("/api/v1/applications", &t), ("/api/v1/platform/verifications", &platform)] {
        // Declared too large: refused before reading.
        let mut over = one_item.clone().into_bytes();
        over.resize(limit + 1, b'x');
        let r = post_raw(&app, path, Some(token), over).await;
        refused(&r, path, 413, "payload_too_large");
        assert!(r.body["detail"].as_str().unwrap().contains(&limit.to_string()), "{path}: {}", r.text);
        // Far too large (16 MiB): the same, promptly.
        let huge = vec![b'['; 16 * 1024 * 1024];
        refused(&post_raw(&app, path, Some(token), huge).await, path, 413, "payload_too_large");
        // Streamed without a length: refused once the limit is crossed.
        let (status, headers, body) = post_chunked(&app, path, token, limit + 200 * 1024).await;
        assert_eq!(status, 413, "{path} chunked: {headers}");
        assert!(headers.to_ascii_lowercase().contains("application/problem+json"), "{path}: {headers}");
        assert_eq!(body["code"], "payload_too_large", "{path}");
        still_serving(&app, &t).await;
    }
    // Only the at-limit draft exists; the refused bodies wrote nothing.
    assert_eq!(app.get("/api/v1/applications", &t).await.ok()["items"].as_array().unwrap().len(), 1);
    let batch = json!({ "items": [{ "uscc": "92610727MA0000007X" }] });
    assert_eq!(app.post("/api/v1/platform/verifications", &platform, &batch).await.status, 200);
}

#[tokio::test]
async fn json_nested_a_hundred_thousand_deep_is_a_400_not_a_stack_overflow() {
    let app = spawn_app().await;
    let t = app.sign_in(&Person::new("套娃")).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;
    let n = 100_000;
    let arrays = format!("{}{}", "[".repeat(n), "]".repeat(n));
    let objects = format!("{}1{}", "{\"a\":".repeat(n), "}".repeat(n));
    let mixed = format!("{}{}", "[{\"a\":".repeat(n / 2), "}]".repeat(n / 2));
    let cases: Vec<(&str, &str, Option<&str>, String)> = vec![
        ("arrays as the form", "/api/v1/applications", Some(&t), arrays.clone()),
        ("objects as the form", "/api/v1/applications", Some(&t), objects.clone()),
        ("arrays and objects", "/api/v1/applications", Some(&t), mixed.clone()),
        (
            "inside a party's roles",
            "/api/v1/applications",
            Some(&t),
            format!("{{\"kind\":\"establish\",\"parties\":[{{\"roles\":{arrays}}}]}}"),
        ),
        ("a batch item", "/api/v1/platform/verifications", Some(&platform), format!("{{\"items\":[{objects}]}}")),
        (
            "unauthenticated sign-in",
            "/api/v1/auth/channel",
            None,
            format!("{{\"channel\":\"dev\",\"assertion\":{mixed}}}"),
        ),
        ("a name check", "/api/v1/name-checks", Some(&t), format!("{{\"name\":{arrays}}}")),
        // Unterminated: the parser must give up at its depth, not at the end.
        ("unterminated", "/api/v1/applications", Some(&t), "[".repeat(n)),
    ];
    for (label, path, token, body) in cases {
        let r = post_raw(&app, path, token, body.into_bytes()).await;
        refused(&r, label, 400, "malformed_json");
        assert_eq!(r.fields(), field_pairs(&[("", "malformed_json")]), "{label}");
        assert!(r.body["detail"].as_str().unwrap().contains("recursion limit"), "{label}: {}", r.text);
        assert!(r.body["errors"][0]["params"]["column"].as_str().is_some(), "{label}: where it gave up");
    }
    still_serving(&app, &t).await;
    assert_eq!(app.get("/api/v1/applications", &t).await.ok()["items"], json!([]));
}

#[tokio::test]
async fn bytes_that_are_not_utf8_are_refused_wherever_they_appear() {
    let app = spawn_app().await;
    let p = Person::new("乱码");
    let t = app.sign_in(&p).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;

    // In a JSON string.
    for (label, path, token) in [
        ("form", "/api/v1/applications", Some(t.as_str())),
        ("batch", "/api/v1/platform/verifications", Some(platform.as_str())),
        ("sign-in", "/api/v1/auth/channel", None),
    ] {
        let r = post_raw(&app, path, token, b"{\"name\": \"\xff\xfe\xc0\x80\", \"items\": []}".to_vec()).await;
        refused(&r, label, 400, "malformed_json");
        assert_eq!(r.fields(), field_pairs(&[("", "malformed_json")]), "{label}");
    }

    // In a path segment or a query value: named, never decoded into U+FFFD.
    let cases: &[(&str, &str)] = &[
        ("/api/v1/applications/%FF%FE", "path"),
        ("/api/v1/enterprises/%FF%FE", "path"),
        ("/api/v1/verify/%FF%FE", "path"),
        ("/v/%FF%FE", "path"),
        ("/api/v1/verify/%C0%80", "path"),
        ("/api/v1/public/enterprises?q=%FF", "q"),
        ("/api/v1/public/enterprises?q=%FF%FE%FD", "q"),
        ("/api/v1/public/enterprises?q=%E4%BD", "q"),
        ("/api/v1/public/enterprises?q=%ED%A0%80%ED%B0%80", "q"),
        ("/api/v1/public/enterprises?q=ab&admin_code=%FF%FE", "admin_code"),
        ("/api/v1/public/enterprises?q=a%00b", "q"),
        ("/api/v1/applications?cursor=%FF%FE", "cursor"),
        ("/api/v1/verify/x?shop_url=https://shop.example.com/%FF", "shop_url"),
    ];
    for (path, field) in cases {
        let r = get_raw(&app, path, Some(&t)).await;
        refused(&r, path, 400, "bad_request");
        assert_eq!(r.fields(), field_pairs(&[(field, "invalid_character")]), "{path}");
    }

    // In a header: not silently treated as absent.
    let created = app.post("/api/v1/applications", &t, &online_shop_form(&p, None)).await;
    let id = created.ok()["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await.ok();
    for bytes in [&b"\x80\x81\x82\xff"[..], b"key-\xe4\xbd\xa0", b"\xc3\xa9t\xc3\xa9"] {
        let r = app
            .client
            .post(format!("{}/api/v1/applications/{id}/submit", app.base))
            .bearer_auth(&t)
            .header("Idempotency-Key", HeaderValue::from_bytes(bytes).unwrap())
            .send()
            .await
            .unwrap();
        let r = into_resp(r).await;
        refused(&r, &format!("{bytes:?}"), 400, "bad_request");
        assert_eq!(r.fields(), field_pairs(&[("Idempotency-Key", "invalid_format")]), "{bytes:?}");
        let r = app
            .client
            .put(format!("{}/api/v1/applications/{id}", app.base))
            .bearer_auth(&t)
            .header("If-Match", HeaderValue::from_bytes(bytes).unwrap())
            .json(&online_shop_form(&p, Some(NAME)))
            .send()
            .await
            .unwrap();
        let r = into_resp(r).await;
        refused(&r, &format!("{bytes:?}"), 400, "bad_request");
        assert_eq!(r.fields(), field_pairs(&[("If-Match", "invalid_format")]), "{bytes:?}");
    }
    // Neither the submission nor the edit happened.
    let a = app.get(&format!("/api/v1/applications/{id}"), &t).await;
    assert_eq!((a.body["status"].as_str(), a.body["version"].as_i64()), (Some("draft"), Some(1)), "{}", a.text);
    assert!(a.body["form"]["name"].is_null());
    // A header the service only reads for preference falls back to the default.
    let r = app
        .client
        .get(format!("{}/api/v1/nowhere", app.base))
        .header("accept-language", HeaderValue::from_bytes(b"\xff\xfe").unwrap())
        .send()
        .await
        .unwrap();
    let r = into_resp(r).await;
    r.problem(404, "not_found");
    assert_eq!(r.headers["content-language"], "zh-CN");
    let r = app
        .client
        .get(format!("{}/api/v1/applications", app.base))
        .header("authorization", HeaderValue::from_bytes(b"Bearer \x80\xff").unwrap())
        .send()
        .await
        .unwrap();
    into_resp(r).await.problem(401, "unauthorized");
}

/// (label, method, path, credential, body, the field the refusal names)
type Case<'a> = (&'a str, Method, String, Option<&'a str>, Value, &'a str);

#[tokio::test]
async fn nul_in_any_json_string_is_a_422_naming_it_on_every_engine() {
    // PostgreSQL cannot store U+0000 in text: each of these was a 500 there.
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;
    let p = Person::new("空字符");
    let (t, uscc) = app.establish_shop(&p, Some(NAME)).await;
    let nul = "a\u{0000}b";
    let secret = format!("{nul}0123456789abcdef");
    let cases: Vec<Case> = vec![
        (
            "sign-in channel",
            Method::POST,
            "/api/v1/auth/channel".into(),
            None,
            json!({ "channel": nul, "assertion": "x.y.z" }),
            "channel",
        ),
        (
            "webhook secret",
            Method::PUT,
            "/api/v1/platform/webhook".into(),
            Some(&platform),
            json!({ "url": "https://hook.example.com/x", "secret": secret }),
            "secret",
        ),
        (
            "webhook url",
            Method::PUT,
            "/api/v1/platform/webhook".into(),
            Some(&platform),
            json!({ "url": format!("https://hook.example.com/{nul}"), "secret": "0123456789abcdef0123" }),
            "url",
        ),
        (
            "revocation reason",
            Method::POST,
            format!("/api/v1/admin/enterprises/{uscc}/revocation"),
            Some(&admin),
            json!({ "reason": nul }),
            "reason",
        ),
        (
            "abnormal reason",
            Method::POST,
            format!("/api/v1/admin/enterprises/{uscc}/abnormal"),
            Some(&admin),
            json!({ "abnormal": true, "reason": nul }),
            "reason",
        ),
        (
            "batch item name",
            Method::POST,
            "/api/v1/platform/verifications".into(),
            Some(&platform),
            json!({ "items": [{ "uscc": uscc }, { "uscc": uscc, "name": nul }] }),
            "items[1].name",
        ),
        (
            "display URL",
            Method::PUT,
            format!("/api/v1/enterprises/{uscc}/display-urls"),
            Some(&t),
            json!({ "urls": [format!("https://shop.example.com/{nul}")] }),
            "urls[0]",
        ),
        (
            "name check",
            Method::POST,
            "/api/v1/name-checks".into(),
            Some(&t),
            json!({ "name": nul, "entity_type": "individual_business", "admin_code": COUNTY }),
            "name",
        ),
    ];
    for (label, method, path, token, body, field) in cases {
        let r = app.request(method, &path, token, Some(&body), &[]).await;
        refused(&r, label, 422, "validation_failed");
        assert_eq!(r.fields(), field_pairs(&[(field, "invalid_character")]), "{label}");
    }
    // Nothing was half-applied: still active, not abnormal, no webhook, no display URL.
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    assert_eq!((e.body["status"].as_str(), e.body["abnormal"].as_bool()), (Some("active"), Some(false)));
    let d = app.get(&format!("/api/v1/enterprises/{uscc}/display-urls"), &t).await;
    assert!(
        !d.ok()["declared"].as_array().unwrap().iter().any(|u| u.as_str().unwrap().contains("a%00b")),
        "{}",
        d.text
    );
    let v = app
        .post("/api/v1/platform/verifications", &platform, &json!({ "items": [{ "uscc": uscc, "name": NAME }] }))
        .await;
    assert_eq!(v.ok()["results"][0]["result"], "valid");
}

/// Strings that mean something to SQL, template engines, log formatters,
/// HTML and terminals. (label, input, the name as stored: names lose their
/// spaces and take full-width brackets, see `domain::name::normalize`).
const METACHARACTERS: &[(&str, &str, &str)] = &[
    ("sql tautology", "' OR 1=1 --", "'OR1=1--"),
    ("sql stacked query", "\"; DROP TABLE applications; --", "\";DROPTABLEapplications;--"),
    ("sql comment and quote", "x'/**/UNION/**/SELECT/**/1--", "x'/**/UNION/**/SELECT/**/1--"),
    ("jinja expression", "{{7*7}}", "{{7*7}}"),
    ("jinja statement", "{% raw %}", "{%raw%}"),
    ("log4j lookup", "${jndi:ldap://x}", "${jndi:ldap://x}"),
    ("html script", "<script>alert(1)</script>", "<script>alert（1）</script>"),
    ("printf", "%s%n%x", "%s%n%x"),
    ("backslashes and json", "\\\"},{\"kind\":\"x", "\\\"},{\"kind\":\"x"),
];

#[tokio::test]
async fn metacharacters_in_every_form_field_are_stored_verbatim_or_refused_by_field() {
    let app = spawn_app().await;
    let p = Person::new("元字符");
    let t = app.sign_in(&p).await;
    // Bidi overrides and zero-width characters make one text display as
    // another: refused in every free-text field, each named.
    for (label, s) in [("rtl override", "略阳\u{202e}县书香"), ("zero-width joiner", "略阳县\u{200d}书香")] {
        let mut form = online_shop_form(&p, Some(s));
        form["parties"][0]["name"] = json!(s);
        form["premises"][0]["platform"] = json!(s);
        form["domicile"] = address(s);
        let r = app.post("/api/v1/applications", &t, &form).await;
        refused(&r, label, 422, "validation_failed");
        assert_eq!(
            r.fields(),
            field_pairs(&[
                ("name", "invalid_character"),
                ("parties[0].name", "invalid_character"),
                ("domicile.detail", "invalid_character"),
                ("premises[0].platform", "invalid_character"),
            ]),
            "{label}"
        );
    }
    let mut created = Vec::new();
    for (label, s, stored_name) in METACHARACTERS {
        let mut form = online_shop_form(&p, Some(s));
        form["parties"][0]["name"] = json!(s);
        form["premises"][0]["platform"] = json!(s);
        form["domicile"] = address(s);
        form["premises"].as_array_mut().unwrap().push(json!({ "kind": "address", "address": address(s) }));
        let r = app.post("/api/v1/applications", &t, &form).await;
        assert_eq!(r.status, 201, "{label}: {}", r.text);
        let id = r.body["id"].as_str().unwrap().to_string();
        // Read back from storage, not from the create response.
        let f = ok_for(&app.get(&format!("/api/v1/applications/{id}"), &t).await, label)["form"].clone();
        assert_eq!(f["name"], *stored_name, "{label}: name");
        for path in ["/parties/0/name", "/premises/0/platform", "/domicile/detail", "/premises/1/address/detail"] {
            assert_eq!(f.pointer(path).and_then(Value::as_str), Some(*s), "{label}: {path}");
        }
        created.push(id);

        // A scope item is a catalogue code: anything else is named.
        let mut form = online_shop_form(&p, None);
        form["scope"] = json!(["G1001", s]);
        let r = app.post("/api/v1/applications", &t, &form).await;
        refused(&r, label, 422, "validation_failed");
        assert_eq!(r.fields(), field_pairs(&[("scope[1]", "unknown_scope_item")]), "{label}");

        // A shop URL: refused, or kept only in its normalised, escaped form.
        let mut form = online_shop_form(&p, None);
        form["premises"][0]["url"] = json!(format!("https://shop.example.com/{s}"));
        let r = app.post("/api/v1/applications", &t, &form).await;
        if r.status == 201 {
            let url = r.body["form"]["premises"][0]["url"].as_str().unwrap().to_string();
            assert!(url.starts_with("https://shop.example.com/"), "{label}: {url}");
            assert!(!url.contains(['<', '>', '"', '{', '}', ' ', '\u{202e}']), "{label}: {url}");
            created.push(r.body["id"].as_str().unwrap().to_string());
        } else {
            refused(&r, label, 422, "validation_failed");
            assert_eq!(r.fields(), field_pairs(&[("premises[0].url", "invalid_url")]), "{label}");
        }

        // The name check reads it as a (bad) name, nothing more.
        let check = json!({ "name": s, "entity_type": "individual_business", "admin_code": COUNTY });
        let r = app.post("/api/v1/name-checks", &t, &check).await;
        assert_eq!(ok_for(&r, label)["available"], false, "{label}");
        let rules: Vec<&str> =
            r.body["violations"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect();
        assert!(rules.contains(&"non_standard_characters"), "{label}: {rules:?}");
    }
    // NUL: every free-text field named at once.
    let mut form = online_shop_form(&p, Some("略阳县\u{0000}书香食品店"));
    form["parties"][0]["name"] = json!("张\u{0000}三");
    form["premises"][0]["platform"] = json!("\u{0000}");
    form["domicile"] = address("东环路\u{0000}12号");
    let r = app.post("/api/v1/applications", &t, &form).await;
    r.problem(422, "validation_failed");
    let mut fields = r.fields();
    fields.sort();
    assert_eq!(
        fields,
        field_pairs(&[
            ("domicile.detail", "invalid_character"),
            ("name", "invalid_character"),
            ("parties[0].name", "invalid_character"),
            ("premises[0].platform", "invalid_character"),
        ])
    );
    // Other C0 controls are refused by the text rules, by field.
    let mut form = online_shop_form(&p, None);
    form["parties"][0]["name"] = json!("张\u{0007}三\u{001b}[2J");
    let r = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(r.fields(), field_pairs(&[("parties[0].name", "invalid_character")]));

    // The table and its neighbours are intact: every draft lists, in order.
    let list = app.get("/api/v1/applications?limit=100", &t).await;
    let mut listed: Vec<String> =
        list.ok()["items"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect();
    listed.sort();
    created.sort();
    assert_eq!(listed, created);
}

#[tokio::test]
async fn search_parameters_are_values_not_sql_and_never_return_the_whole_register() {
    let app = spawn_app().await;
    let (_, uscc) = app.establish_shop(&Person::new("书香"), Some(NAME)).await;
    let (_, other) = app.establish_shop(&Person::new("墨香"), Some("略阳县墨香茶叶店")).await;
    let search = |q: String| {
        let app = &app;
        async move { get_raw(app, &format!("/api/v1/public/enterprises?q={q}"), None).await }
    };
    for (label, s, _) in METACHARACTERS {
        let r = search(enc(s)).await;
        assert_eq!(ok_for(&r, label)["items"], json!([]), "{label}");
    }
    for (label, q) in [
        ("like wildcard", "%25%25"),
        ("like underscore", "__________________"),
        ("or in the trade name", "%E4%B9%A6%E9%A6%99'%20OR%20'1'%3D'1"),
        ("name plus tautology", &enc(&format!("{NAME}' OR '1'='1"))),
        ("code plus comment", &enc(&format!("{uscc}'--"))),
    ] {
        let r = search(q.to_string()).await;
        assert_eq!(ok_for(&r, label)["items"], json!([]), "{label}");
    }
    // The register is there: exact queries still find exactly one each.
    for (label, q, expected) in [("full name", NAME, &uscc), ("code", &other, &other), ("trade name", "书香", &uscc)]
    {
        let r = search(enc(q)).await;
        let items = ok_for(&r, label)["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{label}: {}", r.text);
        assert_eq!(items[0]["uscc"], expected.as_str(), "{label}");
    }
    // A filter is a code: anything else is named.
    for bad in ["'%20OR%201=1", "610727'--", "%7B%7B7*7%7D%7D"] {
        let r = get_raw(&app, &format!("/api/v1/public/enterprises?q=ab&admin_code={bad}"), None).await;
        refused(&r, bad, 422, "validation_failed");
        assert_eq!(r.fields()[0].0, "admin_code", "{bad}");
    }
}

#[tokio::test]
async fn hostile_text_on_a_licence_is_escaped_on_the_page_and_renders_in_documents() {
    let app = spawn_app().await;
    let admin = app.key("admin", None, None, None).await;
    let dept = json!({ "code": "LY-SCJG", "name": "<b>许可科</b>{{7*7}}", "kind": "market_regulation", "admin_code": COUNTY, "claim_days": 3, "feedback_days": 10 });
    assert_eq!(app.post("/api/v1/admin/departments", &admin, &dept).await.status, 201);
    let operator = "<script>alert(1)</script>😀{{7*7}}";
    let platform = "<img src=x onerror=alert(1)>&amp;{{7*7}}";
    let p = Person::new(operator);
    let t = app.sign_in(&p).await;
    let mut form = online_shop_form(&p, Some(NAME));
    form["premises"][0]["platform"] = json!(platform);
    form["scope"] = json!(["G1001", "L1001"]);
    let id = app.post("/api/v1/applications", &t, &form).await.ok()["id"].as_str().unwrap().to_string();
    let notice = app.get(&format!("/api/v1/applications/{id}/notice.pdf"), &t).await;
    assert_eq!((notice.status.as_u16(), notice.content_type()), (200, "application/pdf"), "{}", notice.text);
    app.post(&format!("/api/v1/applications/{id}/notice/acknowledgement"), &t, &json!({})).await.ok();
    app.post(&format!("/api/v1/applications/{id}/signatures"), &t, &json!({})).await.ok();
    app.submit(&t, &id).await.ok();
    let reviewer = app.reviewer(COUNTY).await;
    let uscc =
        app.decide(&reviewer, &id, json!({ "decision": "approve" })).await.ok()["uscc"].as_str().unwrap().to_string();

    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    assert_eq!(e.ok()["representative_name"], operator);
    assert_eq!(e.body["registered"]["premises"][0]["platform"], platform);
    let credential = e.body["verify_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let v = get_raw(&app, &format!("/api/v1/verify/{credential}"), None).await;
    assert_eq!(v.ok()["enterprise"]["representative_name"], operator, "JSON carries it verbatim");

    for lang in ["zh-CN", "en"] {
        let page = get_raw(&app, &format!("/v/{credential}?lang={lang}"), None).await;
        assert_eq!(page.status, 200, "{lang}");
        assert!(page.content_type().starts_with("text/html"), "{lang}");
        let html = &page.text;
        for raw in ["<script>alert", "</script>", "<img", "onerror=alert(1)>", "<b>"] {
            assert!(!html.contains(raw), "{lang}: {raw} unescaped in\n{html}");
        }
        assert!(html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"), "{lang}: {html}");
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;amp;{{7*7}}"), "{lang}: {html}");
        assert!(html.contains("{{7*7}}") && !html.contains(">49<"), "{lang}: data is not a template");
    }
    let pdf = get_raw(&app, &format!("/api/v1/enterprises/{uscc}/licence.pdf"), None).await;
    assert_eq!((pdf.status.as_u16(), pdf.content_type()), (200, "application/pdf"));
    let badge = get_raw(&app, &format!("/api/v1/enterprises/{uscc}/badge.svg"), None).await;
    assert_eq!(badge.status, 200);
    assert!(!badge.text.contains("<script"), "{}", badge.text);
}

#[tokio::test]
async fn look_alike_codes_are_normalised_when_they_are_the_same_code_and_refused_when_not() {
    let app = spawn_app().await;
    let p = Person::new("代码");
    let (t, uscc) = app.establish_shop(&p, Some(NAME)).await;
    let platform = app.key("platform", None, None, Some("shopmall")).await;
    assert!(uscc.contains('A') && uscc.contains('M'), "{uscc}");
    let cyrillic = uscc.replacen('A', "\u{0410}", 1).replacen('M', "\u{041C}", 1);
    let greek = uscc.replacen('A', "\u{0391}", 1);
    let with_zwsp = format!("{}\u{200b}{}", &uscc[..9], &uscc[9..]);
    let same =
        [("full width", full_width(&uscc)), ("lower case", uscc.to_lowercase()), ("padded", format!(" {uscc} "))];
    let different = [("cyrillic А and М", cyrillic), ("greek Α", greek), ("zero-width space", with_zwsp)];

    for (label, code) in &same {
        let r = app.get(&format!("/api/v1/enterprises/{}", enc(code)), &t).await;
        assert_eq!(ok_for(&r, label)["uscc"], uscc.as_str(), "{label}");
        let r = get_raw(&app, &format!("/api/v1/public/enterprises?q={}", enc(code)), None).await;
        assert_eq!(ok_for(&r, label)["items"][0]["uscc"], uscc.as_str(), "{label}");
    }
    for (label, code) in &different {
        let r = app.get(&format!("/api/v1/enterprises/{}", enc(code)), &t).await;
        refused(&r, label, 422, "validation_failed");
        assert_eq!(r.fields()[0].0, "uscc", "{label}");
        let r = get_raw(&app, &format!("/api/v1/public/enterprises?q={}", enc(code)), None).await;
        assert_eq!(ok_for(&r, label)["items"], json!([]), "{label}");
    }
    let items: Vec<Value> =
        same.iter().chain(&different).map(|(_, code)| json!({ "uscc": code, "name": NAME })).collect();
    let r = app.post("/api/v1/platform/verifications", &platform, &json!({ "items": items })).await;
    let results: Vec<(&str, &str)> = r.ok()["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["result"].as_str().unwrap(), x["problem"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        results,
        [
            ("valid", ""),
            ("valid", ""),
            ("valid", ""),
            ("malformed", "uscc"),
            ("malformed", "uscc"),
            ("malformed", "uscc")
        ]
    );

    // A credential with one character swapped for its look-alike is not a credential.
    let e = app.get(&format!("/api/v1/enterprises/{uscc}"), &t).await;
    let credential = e.ok()["verify_url"].as_str().unwrap().rsplit('/').next().unwrap().to_string();
    let i = credential.find(|c: char| c.is_ascii_alphabetic() && "AEOPCXaeopcx".contains(c)).unwrap();
    let homoglyph = |c: char| match c {
        'A' => 'А',
        'E' => 'Е',
        'O' => 'О',
        'P' => 'Р',
        'C' => 'С',
        'X' => 'Х',
        'a' => 'а',
        'e' => 'е',
        'o' => 'о',
        'p' => 'р',
        'c' => 'с',
        _ => 'х',
    };
    let fake = format!("{}{}{}", &credential[..i], homoglyph(credential.as_bytes()[i] as char), &credential[i + 1..]);
    let fw = full_width(&credential);
    for (label, c) in [("one homoglyph", &fake), ("full width", &fw)] {
        let r = get_raw(&app, &format!("/api/v1/verify/{}", enc(c)), None).await;
        refused(&r, label, 400, "bad_request");
        assert_eq!(r.fields(), field_pairs(&[("credential", "malformed")]), "{label}");
        // The page says so in HTML, as documented for /v/.
        let page = get_raw(&app, &format!("/v/{}", enc(c)), None).await;
        assert_eq!(page.status, 400, "{label}");
        assert!(page.content_type().starts_with("text/html"), "{label}");
    }
    assert_eq!(get_raw(&app, &format!("/api/v1/verify/{credential}"), None).await.ok()["result"], "valid");

    // A shop on a look-alike host is another shop (IDN homograph).
    let real_shop = format!("https://shop.example.com/{}", &p.id_number[12..]);
    let spoof = real_shop.replace("example", "ex\u{0430}mple");
    let items = json!({ "items": [
        { "credential": credential, "shop_url": real_shop },
        { "credential": credential, "shop_url": spoof },
        { "credential": credential, "shop_url": full_width(&real_shop) },
    ] });
    let r = app.post("/api/v1/platform/verifications", &platform, &items).await;
    let results: Vec<&str> =
        r.ok()["results"].as_array().unwrap().iter().map(|x| x["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["valid", "not_displayed_here", "valid"]);
    let d = app
        .request(
            Method::PUT,
            &format!("/api/v1/enterprises/{uscc}/display-urls"),
            Some(&t),
            Some(&json!({ "urls": [spoof] })),
            &[],
        )
        .await;
    let declared = d.ok()["declared"].as_array().unwrap();
    assert!(declared.iter().any(|u| u.as_str().unwrap().starts_with("https://shop.xn--")), "punycode: {}", d.text);
}

#[tokio::test]
async fn look_alike_resident_ids_sign_in_as_the_same_person_or_not_at_all() {
    let app = spawn_app().await;
    // GB 11643's own example, whose check character is X.
    let p = Person { name: "证号".into(), id_number: "11010519491231002X".into(), phone: "13800000000".into() };
    let t = app.sign_in(&p).await;
    let id = app.post("/api/v1/applications", &t, &online_shop_form(&p, None)).await.ok()["id"].clone();

    // The same number typed in full width (and a lower-case x) is the same person.
    for (label, typed) in [("full width", full_width(&p.id_number)), ("lower-case x", p.id_number.to_lowercase())] {
        let r = app.sign_in_with("dev", &app.assertion(&p, |c| c["id_number"] = json!(typed))).await;
        let token = ok_for(&r, label)["token"].as_str().unwrap().to_string();
        assert_eq!(r.body["id_number_masked"], "110***********002X", "{label}");
        let mine = app.get("/api/v1/applications", &token).await;
        assert_eq!(ok_for(&mine, label)["items"][0]["id"], id, "{label}: sees the applications of the same person");
    }
    // Look-alikes are not digits or X: refused, naming the claim.
    let x = p.id_number.len() - 1;
    for (label, typed) in [
        ("cyrillic Х", format!("{}\u{0425}", &p.id_number[..x])),
        ("greek Χ", format!("{}\u{03A7}", &p.id_number[..x])),
        ("arabic-indic digit", p.id_number.replacen('1', "\u{0661}", 1)),
        ("zero-width space", format!("{}\u{200b}{}", &p.id_number[..6], &p.id_number[6..])),
        ("superscript one", p.id_number.replacen('1', "\u{00b9}", 1)),
    ] {
        let r = app.sign_in_with("dev", &app.assertion(&p, |c| c["id_number"] = json!(typed))).await;
        refused(&r, label, 422, "assertion_claims_invalid");
        let fields = r.fields();
        assert_eq!(fields.len(), 1, "{label}: {fields:?}");
        assert_eq!(fields[0].0, "assertion.id_number", "{label}");

        // In a form: the same refusal, on the party's field.
        let mut form = online_shop_form(&p, None);
        form["parties"][0]["id_number"] = json!(typed);
        let r = app.post("/api/v1/applications", &t, &form).await;
        refused(&r, label, 422, "validation_failed");
        assert_eq!(r.fields()[0].0, "parties[0].id_number", "{label}");
    }
    // In a form, full width is stored as the plain number.
    let mut form = online_shop_form(&p, None);
    form["parties"][0]["id_number"] = json!(full_width(&p.id_number));
    let r = app.post("/api/v1/applications", &t, &form).await;
    assert_eq!(r.ok()["form"]["parties"][0]["id_number"], p.id_number.as_str());
    assert_eq!(app.get("/api/v1/applications", &t).await.ok()["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_name_that_only_looks_like_a_registered_one_is_caught_or_refused() {
    let app = spawn_app().await;
    let (_, uscc) = app.establish_shop(&Person::new("书香"), Some(NAME)).await;
    let t = app.sign_in(&Person::new("仿冒")).await;
    enum Expect {
        /// Normalised to the registered name (or its trade name): a conflict.
        Conflict(&'static str),
        /// Not a standard character: refused by the naming rules.
        Refused,
        /// A traditional spelling: refused, naming those characters.
        Traditional(&'static str),
    }
    use Expect::*;
    let cases: &[(&str, &str, Expect)] = &[
        ("zero-width space", "略阳县书\u{200b}香食品店", Refused),
        ("zero-width joiner", "略阳县书香\u{200d}食品店", Refused),
        ("zero-width non-joiner", "略阳县\u{200c}书香食品店", Refused),
        ("word joiner", "略阳县书香食\u{2060}品店", Refused),
        ("byte order mark", "\u{feff}略阳县书香食品店", Refused),
        ("variation selector", "略阳县书\u{fe0f}香食品店", Refused),
        ("ideographic variation selector", "略阳县书\u{e0100}香食品店", Refused),
        ("hangul filler", "略阳县书\u{3164}香食品店", Refused),
        ("rtl override", "略阳县\u{202e}书香食品店", Refused),
        ("kangxi radicals ⾹⾷", "略阳县书⾹⾷品店", Refused),
        ("compatibility ideograph 略 U+F976", "\u{f976}阳县书香食品店", Refused),
        ("ideographic space", "略阳县书\u{3000}香食品店", Conflict("identical")),
        ("no-break space", "略阳县书\u{00a0}香食品店", Conflict("identical")),
        ("narrow no-break space", "略阳县\u{202f}书香食品店", Conflict("identical")),
        ("spaces around", " 略阳县 书香 食品店 ", Conflict("identical")),
        ("ascii brackets, division after", "书香(略阳)食品店", Conflict("same_trade_name")),
        ("full-width brackets", "书香（略阳县）食品店", Conflict("same_trade_name")),
        ("another form, same trade name", "略阳县书香食品商行", Conflict("same_trade_name")),
        ("traditional characters", "略陽縣書香食品店", Traditional("陽縣書")),
        ("one traditional character in the trade name", "略阳县書香食品店", Traditional("書")),
    ];
    for (label, name, expect) in cases {
        let body = json!({ "name": name, "entity_type": "individual_business", "admin_code": COUNTY });
        let r = app.post("/api/v1/name-checks", &t, &body).await;
        // Invisible formatting characters are refused at the edge, before
        // any name rule runs (see `domain::text::is_invisible_format`).
        if matches!(expect, Refused) && r.status == 422 {
            assert_eq!(r.fields(), field_pairs(&[("name", "invalid_character")]), "{label}");
            continue;
        }
        assert_eq!(ok_for(&r, label)["available"], false, "{label}: {}", r.text);
        match expect {
            Conflict(kind) => {
                let c = &r.body["conflicts"][0];
                assert_eq!((c["name"].as_str(), c["uscc"].as_str()), (Some(NAME), Some(uscc.as_str())), "{label}");
                assert_eq!(c["kind"], *kind, "{label}");
            }
            Refused => {
                let v: Vec<&str> =
                    r.body["violations"].as_array().unwrap().iter().map(|v| v["code"].as_str().unwrap()).collect();
                assert!(v.contains(&"non_standard_characters"), "{label}: {v:?}");
            }
            Traditional(chars) => {
                let v = r.body["violations"].as_array().unwrap();
                let t = v.iter().find(|v| v["code"] == "traditional_characters").expect(label);
                assert_eq!(t["words"], *chars, "{label}: {t}");
            }
        }
    }
    // The form refuses invisible characters outright; a look-alike that is
    // visible text is refused at submission and gets no reservation.
    let p = Person::new("仿冒者");
    let tp = app.sign_in(&p).await;
    let r = app.post("/api/v1/applications", &tp, &online_shop_form(&p, Some("略阳县书\u{200b}香食品店"))).await;
    refused(&r, "zero-width space", 422, "validation_failed");
    assert_eq!(r.fields(), field_pairs(&[("name", "invalid_character")]));
    for (label, name, code) in [("ideographic space", "略阳县书\u{3000}香食品店", "name_conflict")] {
        let p = Person::new("仿冒者");
        let tp = app.sign_in(&p).await;
        let id = app.post("/api/v1/applications", &tp, &online_shop_form(&p, Some(name))).await.ok()["id"]
            .as_str()
            .unwrap()
            .to_string();
        app.post(&format!("/api/v1/applications/{id}/signatures"), &tp, &json!({})).await.ok();
        let r = app.submit(&tp, &id).await;
        refused(&r, label, 409, "name_unavailable");
        assert!(r.fields().contains(&("name".to_string(), code.to_string())), "{label}: {:?}", r.fields());
        let a = app.get(&format!("/api/v1/applications/{id}"), &tp).await;
        assert_eq!(ok_for(&a, label)["status"], "draft", "{label}: not submitted");
    }
    // A platform comparing a displayed name: width and spacing are the same
    // name; invisible or look-alike characters are not.
    let platform = app.key("platform", None, None, Some("shopmall")).await;
    let items: Vec<Value> =
        ["略阳县书香 食品店", "略阳县书香食品店\u{3000}", "略阳县书\u{200b}香食品店", "略阳县书⾹⾷品店"]
            .iter()
            .map(|n| json!({ "uscc": uscc, "name": n }))
            .collect();
    let r = app.post("/api/v1/platform/verifications", &platform, &json!({ "items": items })).await;
    let results: Vec<&str> =
        r.ok()["results"].as_array().unwrap().iter().map(|x| x["result"].as_str().unwrap()).collect();
    assert_eq!(results, ["valid", "valid", "name_mismatch", "name_mismatch"]);
}
