//! The verification page a phone opens from a storefront QR code, rendered
//! from `templates/verify.html` (compiled into the binary). Text is chosen
//! here, per language; the template only lays it out (and escapes it).
use std::sync::OnceLock;

use minijinja::{Environment, context};
use poem_openapi::payload::Html;
use serde::Serialize;

use crate::{
    domain::{entity_type::EntityType, licence::LicenceContent, notification::PermitStatus, verification::Verdict},
    i18n::Lang,
    services::{notifications::Permit, verification::Outcome},
};

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.add_template("verify.html", include_str!("../../templates/verify.html")).expect("template parses");
        env
    })
}

#[derive(Serialize)]
struct Texts {
    title: &'static str,
    facts: &'static str,
    premises: &'static str,
    scope: &'static str,
    permits: &'static str,
    abnormal: &'static str,
    footer: &'static str,
    switch: &'static str,
}

fn texts(l: Lang) -> Texts {
    Texts {
        title: l.pick("电子营业执照核验", "Business licence check"),
        facts: l.pick("登记信息", "Registered facts"),
        premises: l.pick("经营场所", "Premises"),
        scope: l.pick("经营范围", "Business scope"),
        permits: l.pick("许可事项", "Licensed activities"),
        abnormal: l.pick("该主体已被列入经营异常名录。", "This business is listed for abnormal operation."),
        footer: l.pick("市场监督管理部门 · 电子营业执照核验", "Market regulation authority · licence verification"),
        switch: l.pick("English", "中文"),
    }
}

#[derive(Serialize)]
struct Fact {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct PermitLine {
    item: String,
    status: &'static str,
    label: &'static str,
    number: Option<String>,
}

/// (tone, mark, headline, explanation)
fn verdict_text(v: Verdict, l: Lang, current: Option<i32>) -> (&'static str, &'static str, String, String) {
    let s = |zh: &str, en: &str| l.pick(zh, en).to_string();
    match v {
        Verdict::Valid => (
            "ok",
            "✓",
            s("营业执照有效", "Licence valid"),
            s("该经营主体依法登记，执照为现行版本。", "This business is registered and the licence is current."),
        ),
        Verdict::Superseded => (
            "warn",
            "!",
            s("执照已更新", "Licence superseded"),
            match current {
                Some(n) => match l {
                    Lang::ZhCn => format!("此二维码对应旧版执照，现行为第 {n} 版；以下为现行登记信息。"),
                    Lang::En => format!(
                        "This code shows an older licence; version {n} is current. The facts below are current."
                    ),
                },
                None => s("此二维码对应旧版执照。", "This code shows an older licence."),
            },
        ),
        Verdict::Deregistered => (
            "bad",
            "✕",
            s("已注销", "Deregistered"),
            s("该经营主体已注销，不得继续经营。", "This business has been deregistered and may no longer trade."),
        ),
        Verdict::Revoked => (
            "bad",
            "✕",
            s("营业执照已吊销", "Licence revoked"),
            s("该经营主体的营业执照已被吊销。", "This business's licence has been revoked."),
        ),
        Verdict::NotFound => (
            "bad",
            "?",
            s("未找到登记信息", "Not registered"),
            s(
                "二维码有效，但登记簿中没有对应的现行执照。",
                "The code is genuine but no matching licence is on the register.",
            ),
        ),
        Verdict::InvalidSignature | Verdict::Malformed => (
            "bad",
            "✕",
            s("无效的执照二维码", "Not a genuine licence code"),
            s(
                "签名校验失败：该二维码并非登记机关签发，请谨慎交易。",
                "The signature does not verify: this code was not issued by the registration authority. Take care.",
            ),
        ),
        Verdict::NotDisplayedHere | Verdict::NameMismatch => (
            "bad",
            "✕",
            s("非本店亮照", "Not displayed here"),
            s("该执照未在此网店登记亮照。", "This licence is not declared for this shop."),
        ),
    }
}

fn permit_label(p: PermitStatus, l: Lang) -> &'static str {
    match p {
        PermitStatus::Pending => l.pick("许可办理中", "pending"),
        PermitStatus::Granted => l.pick("已取得许可", "licensed"),
        PermitStatus::Refused => l.pick("未获许可", "refused"),
        PermitStatus::NotRequired => l.pick("无需许可", "not required"),
    }
}

fn render(ctx: minijinja::Value) -> Html<String> {
    let body = env().get_template("verify.html").and_then(|t| t.render(ctx)).unwrap_or_else(|e| {
        tracing::error!(error = %e, "rendering the verification page");
        "<!doctype html><title>error</title>".to_string()
    });
    Html(body)
}

fn base(lang: Lang) -> (&'static str, &'static str, Texts) {
    (lang.tag(), if lang == Lang::En { "zh-CN" } else { "en" }, texts(lang))
}

pub fn verification(lang: Lang, o: &Outcome, facts: Option<&(LicenceContent, Vec<Permit>)>) -> Html<String> {
    let (tag, other, t) = base(lang);
    let (tone, mark, headline, explanation) =
        verdict_text(o.verdict, lang, o.snapshot.as_ref().map(|s| s.licence_version));
    let snap = o.snapshot.as_deref();
    let mut rows = Vec::new();
    if let (Some(s), Some((content, _))) = (snap, facts) {
        let ty = s.entity_type();
        let pair = |zh: &str, en: &str, v: String| Fact { label: lang.pick(zh, en).to_string(), value: v };
        rows.push(pair("统一社会信用代码", "Unified social credit code", s.uscc.to_string()));
        if let Some(n) = s.name() {
            rows.push(pair("名称", "Name", n.to_string()));
        }
        if let Some(ty) = ty {
            rows.push(pair("类型", "Type", lang.pick(ty.label_zh(), ty.label_en()).to_string()));
        }
        let person = match ty {
            Some(EntityType::IndividualBusiness) => ("经营者", "Operator"),
            Some(EntityType::SoleProprietorship) => ("投资人", "Investor"),
            _ => ("法定代表人", "Legal representative"),
        };
        rows.push(pair(person.0, person.1, s.representative().to_string()));
        for f in content
            .fields
            .iter()
            .filter(|f| matches!(f.label.as_str(), "注册资本" | "出资额" | "成员出资总额" | "组成形式" | "住所"))
        {
            let label = match (lang, f.label.as_str()) {
                (Lang::ZhCn, l) => l,
                (Lang::En, "注册资本") => "Registered capital",
                (Lang::En, "出资额") => "Investment",
                (Lang::En, "成员出资总额") => "Members' contributions",
                (Lang::En, "组成形式") => "Form",
                (Lang::En, "住所") => "Domicile",
                (Lang::En, l) => l,
            };
            rows.push(Fact { label: label.to_string(), value: f.value.clone() });
        }
        rows.push(pair("成立日期", "Established", s.established_on.to_string()));
        rows.push(pair("登记机关", "Registration authority", content.authority_name.clone()));
        rows.push(pair("执照版本", "Licence version", format!("{}", s.licence_version)));
        rows.push(pair("发照日期", "Issued", crate::domain::licence::date_in_china(content.issued_at).to_string()));
        let status = match s.status() {
            "active" => lang.pick("存续", "active"),
            "deregistered" => lang.pick("注销", "deregistered"),
            _ => lang.pick("吊销", "revoked"),
        };
        rows.push(pair("登记状态", "Status", status.to_string()));
    }
    let (premises, scope, permits) = match facts {
        Some((content, permits)) => (
            content.premises.clone(),
            content.scope_lines.clone(),
            permits
                .iter()
                .map(|p| PermitLine {
                    item: crate::domain::scope::lookup(&p.scope_code)
                        .map(|i| i.name.to_string())
                        .unwrap_or_else(|| p.permit.clone()),
                    status: p.status.as_str(),
                    label: permit_label(p.status, lang),
                    number: p.permit_no.clone(),
                })
                .collect::<Vec<_>>(),
        ),
        None => (vec![], vec![], vec![]),
    };
    render(context! {
        lang => tag, other_lang => other, t, tone, mark, headline, explanation,
        abnormal => snap.is_some_and(|s| s.abnormal),
        facts => rows, premises, scope, permits,
        checked_at => crate::domain::licence::date_in_china(chrono::Utc::now()).to_string(),
    })
}

pub fn malformed(lang: Lang) -> Html<String> {
    let (tag, other, t) = base(lang);
    let (tone, mark, headline, explanation) = verdict_text(Verdict::Malformed, lang, None);
    render(context! { lang => tag, other_lang => other, t, tone, mark, headline, explanation })
}

pub fn too_many(lang: Lang) -> Html<String> {
    let (tag, other, t) = base(lang);
    render(context! {
        lang => tag, other_lang => other, t, tone => "warn", mark => "…",
        headline => lang.pick("请求过于频繁", "Too many checks"),
        explanation => lang.pick("请稍后再试。", "Please try again in a minute."),
    })
}
