//! Licence documents and storefront display: the PDF of any licence
//! version, the badge a shop embeds, and the shop URLs it is declared for.
//! Documents are public (they carry only public facts) and cacheable: a
//! strong ETag, and `304 Not Modified` for a client that has them.
use std::sync::Arc;

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    registry::{MetaSchema, MetaSchemaRef},
};
use serde::Deserialize;

use super::{ApiTags, body::JsonBody, enterprises::parse_uscc, security::BearerAuth};
use crate::{
    error::Result,
    services::{self, licence_documents::Document},
    state::AppState,
};

/// A document payload and its 200/304 response, per media type.
macro_rules! document_response {
    ($body:ident, $response:ident, $ct:literal, $ct_full:literal) => {
        pub struct $body(pub Arc<Document>);

        impl poem_openapi::payload::Payload for $body {
            const CONTENT_TYPE: &'static str = $ct;

            fn schema_ref() -> MetaSchemaRef {
                MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }))
            }
        }

        impl poem::IntoResponse for $body {
            fn into_response(self) -> poem::Response {
                poem::Response::builder().content_type($ct_full).body(poem::Body::from_bytes(self.0.bytes.clone()))
            }
        }

        #[derive(ApiResponse)]
        pub enum $response {
            /// The document.
            #[oai(status = 200)]
            Ok(
                $body,
                #[oai(header = "ETag")] String,
                #[oai(header = "Cache-Control")] String,
                #[oai(header = "X-Licence-Version")] i32,
            ),
            /// The client's copy (`If-None-Match`) is current.
            #[oai(status = 304)]
            NotModified(#[oai(header = "ETag")] String),
        }

        impl $response {
            fn new(req: &Request, doc: Arc<Document>) -> Self {
                if is_fresh(req, &doc.etag) {
                    Self::NotModified(doc.etag.clone())
                } else {
                    let (etag, version) = (doc.etag.clone(), doc.version);
                    Self::Ok($body(doc), etag, CACHE.into(), version)
                }
            }
        }
    };
}

document_response!(PdfBody, PdfResponse, "application/pdf", "application/pdf");
document_response!(SvgBody, SvgResponse, "image/svg+xml", "image/svg+xml; charset=utf-8");

/// Revalidate each time (a new licence version replaces the current one)
/// but never download again what the client has.
const CACHE: &str = "public, no-cache";

fn is_fresh(req: &Request, etag: &str) -> bool {
    req.headers()
        .get("if-none-match")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim().trim_start_matches("W/") == etag || t.trim() == "*"))
}

#[derive(Debug, Object, Deserialize)]
pub struct DisplayUrlsInput {
    /// Shop URLs where the licence is displayed (up to 50); replaces the list.
    pub urls: Vec<String>,
}

#[derive(Debug, Object)]
pub struct DisplayUrlsView {
    /// Declared by the owner.
    pub declared: Vec<String>,
    /// Online shops registered as premises (declared by registration).
    pub registered_shops: Vec<String>,
}

pub struct LicencesApi;

#[OpenApi(tag = "ApiTags::Enterprises")]
impl LicencesApi {
    /// Licence PDF
    ///
    /// The electronic business licence: the current version, or `?version=`
    /// for an older one (stamped as superseded). Its QR code opens the
    /// verification page. Public; same version, same bytes.
    #[oai(path = "/api/v1/enterprises/:uscc/licence.pdf", method = "get", operation_id = "licence_pdf")]
    async fn pdf(
        &self,
        state: Data<&AppState>,
        req: &Request,
        uscc: Path<String>,
        version: Query<Option<i32>>,
    ) -> Result<PdfResponse> {
        let code = parse_uscc(&uscc.0)?;
        let doc = services::licence_documents::licence_pdf(&state, &code, version.0).await?;
        Ok(PdfResponse::new(req, doc))
    }

    /// Storefront badge
    ///
    /// An SVG with the name, code and QR code. With `?shop_url=` (a URL the
    /// owner declared) the QR credential is bound to that shop, so the badge
    /// copied to another shop verifies as `not_displayed_here`.
    #[oai(path = "/api/v1/enterprises/:uscc/badge.svg", method = "get", operation_id = "licence_badge")]
    async fn badge(
        &self,
        state: Data<&AppState>,
        req: &Request,
        uscc: Path<String>,
        shop_url: Query<Option<String>>,
    ) -> Result<SvgResponse> {
        let code = parse_uscc(&uscc.0)?;
        let doc = services::licence_documents::badge(&state, &code, shop_url.0.as_deref()).await?;
        Ok(SvgResponse::new(req, doc))
    }

    /// Shop URLs where the licence is displayed
    #[oai(path = "/api/v1/enterprises/:uscc/display-urls", method = "get", operation_id = "get_display_urls")]
    async fn display_urls(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
    ) -> Result<Json<DisplayUrlsView>> {
        let code = parse_uscc(&uscc.0)?;
        let (declared, registered_shops) = services::display::urls(&state, &auth.0, &code).await?;
        Ok(Json(DisplayUrlsView { declared, registered_shops }))
    }

    /// Declare where the licence is displayed
    ///
    /// The owner lists the shop URLs that show its licence (亮照); a
    /// verification from any other shop answers `not_displayed_here`.
    #[oai(path = "/api/v1/enterprises/:uscc/display-urls", method = "put", operation_id = "declare_display_urls")]
    async fn declare(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        uscc: Path<String>,
        body: JsonBody<DisplayUrlsInput>,
    ) -> Result<Json<DisplayUrlsView>> {
        let code = parse_uscc(&uscc.0)?;
        auth.applicant()?;
        services::display::declare(&state, &auth.0, &code, &body.0.urls).await?;
        let (declared, registered_shops) = services::display::urls(&state, &auth.0, &code).await?;
        Ok(Json(DisplayUrlsView { declared, registered_shops }))
    }
}
