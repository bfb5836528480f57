//! Registered enterprises and their licence versions.
use entities::{enterprise, licence_version};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait};
use uuid::Uuid;

use super::WriteTx;

pub use entities::{enterprise::Model as Row, licence_version::Model as LicenceRow};

/// Deferred ([`WriteTx::defer`]), like the licence that goes with it.
pub async fn insert(db: &WriteTx, row: enterprise::ActiveModel) -> Result<(), DbErr> {
    db.defer(enterprise::Entity::insert(row).build(db.get_database_backend())).await
}

pub async fn find_by_uscc(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<Row>, DbErr> {
    enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc)).one(db).await
}

pub async fn update(db: &impl ConnectionTrait, row: enterprise::ActiveModel) -> Result<(), DbErr> {
    enterprise::Entity::update(row).exec(db).await.map(|_| ())
}

/// Reads the enterprise for update: PostgreSQL locks the row until the
/// transaction ends, so concurrent changes to one enterprise queue up.
pub async fn lock_by_uscc(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<Row>, DbErr> {
    let mut q = enterprise::Entity::find().filter(enterprise::Column::Uscc.eq(uscc));
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db).await
}

/// Marks every current licence version of the enterprise superseded.
pub async fn supersede_licences(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(), DbErr> {
    licence_version::Entity::update_many()
        .col_expr(licence_version::Column::SupersededAt, sea_orm::sea_query::Expr::value(now))
        .filter(licence_version::Column::EnterpriseId.eq(enterprise_id))
        .filter(licence_version::Column::SupersededAt.is_null())
        .exec(db)
        .await
        .map(|_| ())
}

/// Deferred ([`WriteTx::defer`]).
pub async fn insert_licence(db: &WriteTx, row: licence_version::ActiveModel) -> Result<(), DbErr> {
    db.defer(licence_version::Entity::insert(row).build(db.get_database_backend())).await
}

pub async fn licences(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<LicenceRow>, DbErr> {
    licence_version::Entity::find()
        .filter(licence_version::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(licence_version::Column::Version)
        .all(db)
        .await
}

/// Disclosure search: by exact code, exact full name, or trade name (through
/// the name register), each an index lookup, newest first.
pub async fn search(
    db: &impl ConnectionTrait,
    q: &str,
    authority: Option<&str>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    use entities::name_record;
    use sea_orm::{Condition, sea_query::Query};
    let by_trade_name = Query::select()
        .column(name_record::Column::EnterpriseId)
        .from(name_record::Entity)
        .and_where(name_record::Column::TradeName.eq(q))
        .and_where(name_record::Column::EnterpriseId.is_not_null())
        .to_owned();
    let mut find = enterprise::Entity::find().filter(
        Condition::any()
            .add(enterprise::Column::Uscc.eq(q))
            .add(enterprise::Column::Name.eq(q))
            .add(enterprise::Column::Id.in_subquery(by_trade_name)),
    );
    if let Some(a) = authority {
        find = find.filter(enterprise::Column::Authority.eq(a));
    }
    find.order_by_desc(enterprise::Column::CreatedAt).limit(limit).all(db).await
}

pub async fn by_ids(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<Row>, DbErr> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    enterprise::Entity::find().filter(enterprise::Column::Id.is_in(ids.iter().copied())).all(db).await
}

/// The columns verification needs, without the profile.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct StandingRow {
    pub id: Uuid,
    pub uscc: String,
    pub name: Option<String>,
    pub entity_type: String,
    pub status: String,
    pub abnormal: bool,
    pub authority: String,
    pub established_on: chrono::NaiveDate,
    pub licence_version: i32,
    pub representative_name: String,
}

/// The enterprises table, selecting only [`StandingRow`]'s columns.
fn standing_select() -> sea_orm::Select<enterprise::Entity> {
    use enterprise::Column as C;
    enterprise::Entity::find().select_only().columns([
        C::Id,
        C::Uscc,
        C::Name,
        C::EntityType,
        C::Status,
        C::Abnormal,
        C::Authority,
        C::EstablishedOn,
        C::LicenceVersion,
        C::RepresentativeName,
    ])
}

pub async fn standing(db: &impl ConnectionTrait, uscc: &str) -> Result<Option<StandingRow>, DbErr> {
    standing_select().filter(enterprise::Column::Uscc.eq(uscc)).into_model::<StandingRow>().one(db).await
}

/// One licence version of an enterprise.
pub async fn licence(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    version: i32,
) -> Result<Option<LicenceRow>, DbErr> {
    licence_version::Entity::find()
        .filter(licence_version::Column::EnterpriseId.eq(enterprise_id))
        .filter(licence_version::Column::Version.eq(version))
        .one(db)
        .await
}

/// [`standing`] for many codes in one query.
pub async fn standings(db: &impl ConnectionTrait, usccs: &[String]) -> Result<Vec<StandingRow>, DbErr> {
    let mut out = Vec::with_capacity(usccs.len());
    for chunk in usccs.chunks(500) {
        let q = standing_select().filter(enterprise::Column::Uscc.is_in(chunk.iter().cloned()));
        out.extend(q.into_model::<StandingRow>().all(db).await?);
    }
    Ok(out)
}
