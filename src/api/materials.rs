//! Application materials: upload as the raw file body, list, download, remove.
use chrono::{DateTime, Utc};
use poem::{Request, RequestBody, web::Data};
use poem_openapi::{
    ApiExtractor, ApiExtractorType, ApiResponse, Enum, ExtractParamOptions, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
    registry::{MetaMediaType, MetaRequest, MetaResponse, MetaResponses, MetaSchema, MetaSchemaRef, Registry},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{ApiTags, applications::ApplicationView, body::read_limited_to, security::BearerAuth};
use crate::{
    domain::materials::{self, MaterialKind},
    error::{Code, Error, Result},
    i18n::Lang,
    services::{self, materials::Upload},
    state::AppState,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Deserialize)]
#[oai(rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum MaterialKindWire {
    ArticlesOfAssociation,
    PremisesProof,
    AddressCommitment,
    ShareholderResolution,
    MemberRoster,
    FoundingMinutes,
    LiquidationReport,
    Other,
}

impl MaterialKindWire {
    fn domain(self) -> MaterialKind {
        match self {
            MaterialKindWire::ArticlesOfAssociation => MaterialKind::ArticlesOfAssociation,
            MaterialKindWire::PremisesProof => MaterialKind::PremisesProof,
            MaterialKindWire::AddressCommitment => MaterialKind::AddressCommitment,
            MaterialKindWire::ShareholderResolution => MaterialKind::ShareholderResolution,
            MaterialKindWire::MemberRoster => MaterialKind::MemberRoster,
            MaterialKindWire::FoundingMinutes => MaterialKind::FoundingMinutes,
            MaterialKindWire::LiquidationReport => MaterialKind::LiquidationReport,
            MaterialKindWire::Other => MaterialKind::Other,
        }
    }
}

#[derive(Debug, Object, serde::Serialize, Deserialize)]
pub struct MaterialView {
    pub id: Uuid,
    pub kind: String,
    /// Sniffed from the content: application/pdf, image/jpeg or image/png.
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    #[oai(skip_serializing_if_is_none)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<&crate::store::materials::Meta> for MaterialView {
    fn from(m: &crate::store::materials::Meta) -> Self {
        MaterialView {
            id: m.id,
            kind: m.kind.clone(),
            media_type: m.media_type.clone(),
            size: m.size,
            sha256: m.sha256.clone(),
            filename: m.filename.clone(),
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Object)]
pub struct MaterialAttached {
    pub material: MaterialView,
    pub application: ApplicationView,
}

/// A file as the request body: PDF, JPEG or PNG (the type is sniffed).
pub struct FileBody(pub Vec<u8>);

const ACCEPTED: [&str; 4] = ["application/pdf", "image/jpeg", "image/png", "application/octet-stream"];

impl<'a> ApiExtractor<'a> for FileBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn request_meta() -> Option<MetaRequest> {
        let schema =
            MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }));
        Some(MetaRequest {
            description: Some("The file's bytes. At most 10 MiB."),
            content: ACCEPTED.iter().map(|ct| MetaMediaType { content_type: ct, schema: schema.clone() }).collect(),
            required: true,
        })
    }

    fn register(_: &mut Registry) {}

    async fn from_request(req: &'a Request, body: &mut RequestBody, _: ExtractParamOptions<()>) -> poem::Result<Self> {
        let ct = req.content_type().unwrap_or_default();
        let mime = ct.split(';').next().unwrap_or_default().trim();
        if !ACCEPTED.contains(&mime) {
            return Err(Error::new(Code::UnsupportedMediaType)
                .detail(
                    "材料须为 PDF、JPEG 或 PNG 文件",
                    "Send the file as application/pdf, image/jpeg, image/png or application/octet-stream",
                )
                .into());
        }
        Ok(FileBody(read_limited_to(req, body, materials::MAX_BYTES).await?))
    }
}

#[derive(ApiResponse)]
enum Attached {
    #[oai(status = 201)]
    Created(Json<MaterialAttached>),
}

/// A stored file, served with the media type sniffed at upload.
pub struct StoredFile {
    pub bytes: Vec<u8>,
    pub media_type: String,
    pub sha256: String,
}

/// What upload sniffing leaves a stored file as.
const STORED: [&str; 3] = ["application/pdf", "image/jpeg", "image/png"];

/// One 200 listing each media type a stored file may be served as (a
/// payload type has only one).
impl ApiResponse for StoredFile {
    fn meta() -> MetaResponses {
        let schema =
            MetaSchemaRef::Inline(Box::new(MetaSchema { format: Some("binary"), ..MetaSchema::new("string") }));
        MetaResponses {
            responses: vec![MetaResponse {
                description: "The file, as application/pdf, image/jpeg or image/png.",
                status: Some(200),
                status_range: None,
                content: STORED.iter().map(|ct| MetaMediaType { content_type: ct, schema: schema.clone() }).collect(),
                headers: vec![],
            }],
        }
    }

    fn register(_: &mut Registry) {}
}

impl poem::IntoResponse for StoredFile {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(self.media_type)
            .header("X-Content-SHA256", self.sha256)
            .header("Cache-Control", "private, no-store")
            .body(self.bytes)
    }
}

pub struct MaterialsApi;

#[OpenApi(tag = "ApiTags::Applicant")]
impl MaterialsApi {
    /// Attach a material
    ///
    /// The body is the file itself. Attaching is an edit: a new version, and
    /// every party signs again (signatures bind the materials' SHA-256 too).
    #[oai(path = "/api/v1/applications/:id/materials", method = "post", operation_id = "attach_material")]
    async fn attach(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
        kind: Query<MaterialKindWire>,
        filename: Query<Option<String>>,
        body: FileBody,
    ) -> Result<Attached> {
        let a = auth.applicant()?;
        let (rec, material_id) = services::materials::upload(
            &state,
            a,
            id.0,
            Upload { kind: kind.0.domain(), filename: filename.0, bytes: body.0 },
        )
        .await?;
        let material =
            rec.materials.iter().find(|m| m.id == material_id).map(MaterialView::from).ok_or_else(Error::not_found)?;
        Ok(Attached::Created(Json(MaterialAttached {
            material,
            application: ApplicationView::new(&rec, &auth.0, state.now(), lang),
        })))
    }

    /// List an application's materials
    #[oai(path = "/api/v1/applications/:id/materials", method = "get", operation_id = "list_materials")]
    async fn list(&self, state: Data<&AppState>, auth: BearerAuth, id: Path<Uuid>) -> Result<Json<Vec<MaterialView>>> {
        let rec = services::registration::get(&state, &auth.0, id.0).await?;
        Ok(Json(rec.materials.iter().map(MaterialView::from).collect()))
    }

    /// Download a material
    #[oai(path = "/api/v1/applications/:id/materials/:material_id", method = "get", operation_id = "download_material")]
    async fn download(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        id: Path<Uuid>,
        material_id: Path<Uuid>,
    ) -> Result<StoredFile> {
        let m = services::materials::download(&state, &auth.0, id.0, material_id.0).await?;
        Ok(StoredFile { bytes: m.content, media_type: m.media_type, sha256: m.sha256 })
    }

    /// Remove a material
    #[oai(
        path = "/api/v1/applications/:id/materials/:material_id",
        method = "delete",
        operation_id = "remove_material"
    )]
    async fn remove(
        &self,
        state: Data<&AppState>,
        auth: BearerAuth,
        lang: Lang,
        id: Path<Uuid>,
        material_id: Path<Uuid>,
    ) -> Result<Json<ApplicationView>> {
        let a = auth.applicant()?;
        let rec = services::materials::remove(&state, a, id.0, material_id.0).await?;
        Ok(Json(ApplicationView::new(&rec, &auth.0, state.now(), lang)))
    }
}
