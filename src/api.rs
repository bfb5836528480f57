//! The HTTP API: one `#[OpenApi]` struct per audience, wired into one
//! service. [`openapi_service`] needs no runtime configuration, so the spec
//! can be printed (`greenchannel openapi`) and tested without a database.
// Operations take one argument per extractor (path, query, header, body…).
#![allow(clippy::too_many_arguments)]

use poem::{Endpoint, EndpointExt, FromRequest, Request, RequestBody, Route};
use poem_openapi::{OpenApiService, Tags};

use crate::{i18n::Lang, state::AppState};

pub mod admin;
pub mod applications;
pub mod auth;
pub mod body;
pub mod department;
pub mod enterprises;
pub mod form;
pub mod licences;
pub mod materials;
pub mod metrics;
pub mod ops;
pub mod page;
pub mod places;
pub mod platform;
pub mod problem;
pub mod public;
pub mod review;
pub mod security;
pub mod verify;
pub mod views;

#[derive(Tags)]
pub enum ApiTags {
    /// Mobile sign-in with a channel's real-name assertion.
    Auth,
    /// Entrepreneurs: name checks, the one form, signatures, submission.
    Applicant,
    /// Registration authority reviewers.
    Reviewer,
    /// Registered enterprises, premises and licences.
    Enterprises,
    /// Licensing departments: pushed registrations, claim, feedback.
    Department,
    /// Administration: channels, keys, departments, hosts, restrictions.
    Admin,
    /// E-commerce platforms: batch verification, watch-list, change feed.
    Platform,
    /// Verifying displayed licences: scans, the page, the public keys.
    Verification,
    /// Public register: disclosure search, deregistration notices.
    Public,
    /// Liveness, readiness, metrics.
    Operations,
}

pub type Apis = (
    auth::AuthApi,
    applications::ApplicationsApi,
    materials::MaterialsApi,
    review::ReviewApi,
    enterprises::EnterprisesApi,
    licences::LicencesApi,
    places::PlacesApi,
    department::DepartmentApi,
    verify::VerifyApi,
    platform::PlatformApi,
    public::PublicApi,
    admin::AdminApi,
    ops::OpsApi,
);

pub fn openapi_service(server_url: Option<&str>) -> OpenApiService<Apis, ()> {
    let apis = (
        auth::AuthApi,
        applications::ApplicationsApi,
        materials::MaterialsApi,
        review::ReviewApi,
        enterprises::EnterprisesApi,
        licences::LicencesApi,
        places::PlacesApi,
        department::DepartmentApi,
        verify::VerifyApi,
        platform::PlatformApi,
        public::PublicApi,
        admin::AdminApi,
        ops::OpsApi,
    );

    let svc = OpenApiService::new(apis, "greenchannel", env!("CARGO_PKG_VERSION")).description(
        "Electronic business registration and licence display for a market regulation bureau's e-commerce green channel. \
         Errors are application/problem+json (RFC 9457) in zh-CN or en per Accept-Language.",
    );
    match server_url {
        Some(u) => svc.server(u),
        None => svc,
    }
}

/// The spec as committed in `openapi/openapi.json`.
pub fn spec_json() -> String {
    openapi_service(None).spec()
}

/// The whole HTTP application around `state`.
pub fn app(state: AppState) -> impl Endpoint {
    let api = openapi_service(None);
    let spec = api.spec_endpoint();
    let docs = api.swagger_ui();
    Route::new()
        .nest("/", api)
        .at("/openapi.json", spec)
        .nest("/docs", docs)
        .with(problem::ProblemMiddleware)
        .with(metrics::MetricsMiddleware)
        .data(state)
}

impl<'a> FromRequest<'a> for Lang {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        Ok(Lang::from_accept_language(req.headers().get("accept-language").and_then(|v| v.to_str().ok())))
    }
}
