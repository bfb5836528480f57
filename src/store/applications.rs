//! Applications, the parties they name, and their signatures.
use chrono::{DateTime, Utc};
use entities::{application, application_party, signature};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Query,
};
use uuid::Uuid;

pub use entities::application::{ActiveModel as Changes, Model as Row};

pub async fn insert(db: &impl ConnectionTrait, row: application::ActiveModel) -> Result<(), DbErr> {
    application::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

/// Holds the application's row lock until the transaction ends (PostgreSQL),
/// so two instances deciding at once queue, and the second sees the first's
/// decision instead of racing it. SQLite write transactions are exclusive.
pub async fn lock(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        application::Entity::find_by_id(id)
            .select_only()
            .column(application::Column::Id)
            .lock_exclusive()
            .into_tuple::<Uuid>()
            .one(db)
            .await?;
    }
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Row>, DbErr> {
    application::Entity::find_by_id(id).one(db).await
}

/// Applies `changes` only if the row is still at `version` with `status`;
/// false means someone else moved it first (the caller answers 412 or 409).
pub async fn update_if(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    status: &str,
    changes: Changes,
) -> Result<bool, DbErr> {
    let r = application::Entity::update_many()
        .set(changes)
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Version.eq(version))
        .filter(application::Column::Status.eq(status))
        .exec(db)
        .await?;
    Ok(r.rows_affected == 1)
}

/// Like [`update_if`], returning the updated row (one round trip).
pub async fn update_returning(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
    status: &str,
    changes: Changes,
) -> Result<Option<Row>, DbErr> {
    let mut rows = application::Entity::update_many()
        .set(changes)
        .filter(application::Column::Id.eq(id))
        .filter(application::Column::Version.eq(version))
        .filter(application::Column::Status.eq(status))
        .exec_with_returning(db)
        .await?;
    Ok(rows.pop())
}

/// The person's applications: created by them or naming them as a party,
/// newest first, after `before` (a cursor of ids, which are time-ordered).
pub async fn list_for_person(
    db: &impl ConnectionTrait,
    id_number: &str,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Row>, DbErr> {
    let mine = Condition::any().add(application::Column::ApplicantIdNumber.eq(id_number)).add(
        application::Column::Id.in_subquery(
            Query::select()
                .column(application_party::Column::ApplicationId)
                .from(application_party::Entity)
                .and_where(application_party::Column::IdNumber.eq(id_number))
                .to_owned(),
        ),
    );
    let mut q = application::Entity::find().filter(mine);
    if let Some(b) = before {
        q = q.filter(application::Column::Id.lt(b));
    }
    q.order_by_desc(application::Column::Id).limit(limit).all(db).await
}

/// Whether the person is named as a party of the application.
pub async fn is_party(db: &impl ConnectionTrait, application_id: Uuid, id_number: &str) -> Result<bool, DbErr> {
    Ok(application_party::Entity::find_by_id((application_id, id_number.to_string())).one(db).await?.is_some())
}

pub struct QueueFilter<'a> {
    pub authority: &'a str,
    pub status: &'a str,
    pub overdue_at: Option<DateTime<Utc>>,
    pub after: Option<(DateTime<Utc>, Uuid)>,
    pub limit: u64,
}

/// A reviewer's queue: oldest submission first; `overdue_at` keeps only
/// those due before it.
pub async fn queue(db: &impl ConnectionTrait, f: QueueFilter<'_>) -> Result<Vec<Row>, DbErr> {
    let mut q = application::Entity::find()
        .filter(application::Column::Authority.eq(f.authority))
        .filter(application::Column::Status.eq(f.status));
    if let Some(t) = f.overdue_at {
        q = q.filter(application::Column::DueAt.lt(t));
    }
    if let Some((at, id)) = f.after {
        q =
            q.filter(Condition::any().add(application::Column::SubmittedAt.gt(at)).add(
                Condition::all().add(application::Column::SubmittedAt.eq(at)).add(application::Column::Id.gt(id)),
            ));
    }
    q.order_by_asc(application::Column::SubmittedAt).order_by_asc(application::Column::Id).limit(f.limit).all(db).await
}

pub struct PartyRow<'a> {
    pub id_number: &'a str,
    pub name: &'a str,
    pub roles: String,
}

/// Writes the parties of an application, replacing any earlier list
/// (`fresh`: the application was just created, there is none).
pub async fn replace_parties(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    parties: Vec<PartyRow<'_>>,
    fresh: bool,
) -> Result<(), DbErr> {
    if !fresh {
        application_party::Entity::delete_many()
            .filter(application_party::Column::ApplicationId.eq(application_id))
            .exec(db)
            .await?;
    }

    if parties.is_empty() {
        return Ok(());
    }
    let rows = parties.into_iter().map(|p| application_party::ActiveModel {
        application_id: Set(application_id),
        id_number: Set(p.id_number.to_string()),
        name: Set(p.name.to_string()),
        roles: Set(p.roles),
    });
    application_party::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}

pub struct NewSignature<'a> {
    pub application_id: Uuid,
    pub version: i32,
    pub id_number: &'a str,
    pub name: &'a str,
    pub digest: &'a str,
    pub channel_id: &'a str,
    pub session_id: Uuid,
    pub at: DateTime<Utc>,
}

pub async fn insert_signature(db: &impl ConnectionTrait, s: NewSignature<'_>) -> Result<signature::Model, DbErr> {
    let row = signature::Model {
        id: Uuid::now_v7(),
        application_id: s.application_id,
        version: s.version,
        id_number: s.id_number.to_string(),
        name: s.name.to_string(),
        digest: s.digest.to_string(),
        channel_id: s.channel_id.to_string(),
        session_id: s.session_id,
        signed_at: s.at,
    };
    signature::Entity::insert(signature::ActiveModel::from(row.clone())).exec_without_returning(db).await?;
    Ok(row)
}

pub async fn signatures(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    version: i32,
) -> Result<Vec<signature::Model>, DbErr> {
    signature::Entity::find()
        .filter(signature::Column::ApplicationId.eq(application_id))
        .filter(signature::Column::Version.eq(version))
        .order_by_asc(signature::Column::SignedAt)
        .all(db)
        .await
}
