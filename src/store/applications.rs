//! Applications, the parties they name, and their signatures.
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::LazyLock;

use entities::{application, application_party, material, restriction, signature};
use sea_orm::{
    ActiveModelTrait, ActiveValue, ActiveValue::Set, ColumnTrait, ColumnType, Condition, ConnectionTrait, DbBackend,
    DbErr, EntityName, EntityTrait, FromQueryResult, Iterable, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Statement, TryIntoModel, sea_query::Query,
};
use uuid::Uuid;

use super::{WriteTx, materials::Meta};

pub use entities::application::{ActiveModel as Changes, Model as Row};

/// The insert of a new application, for a batch.
pub fn insert(backend: DbBackend, row: application::ActiveModel) -> Statement {
    application::Entity::insert(row).build(backend)
}

/// The insert of a new application's parties, for a batch; `None` when
/// there are none.
pub fn insert_parties(backend: DbBackend, application_id: Uuid, parties: Vec<PartyRow<'_>>) -> Option<Statement> {
    if parties.is_empty() {
        return None;
    }
    Some(application_party::Entity::insert_many(party_rows(application_id, parties)).build(backend))
}

fn party_rows(
    application_id: Uuid,
    parties: Vec<PartyRow<'_>>,
) -> impl Iterator<Item = application_party::ActiveModel> {
    parties.into_iter().map(move |p| application_party::ActiveModel {
        application_id: Set(application_id),
        id_number: Set(p.id_number.to_string()),
        name: Set(p.name.to_string()),
        roles: Set(p.roles),
    })
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Row>, DbErr> {
    application::Entity::find_by_id(id).one(db).await
}

/// The application alone, with its row lock held as
/// [`find_with_children_locked`] takes it.
pub async fn find_locked(tx: &WriteTx, id: Uuid) -> Result<Option<Row>, DbErr> {
    let mut q = application::Entity::find_by_id(id);
    if tx.get_database_backend() == DbBackend::Postgres {
        q = q.lock(sea_orm::sea_query::LockType::NoKeyUpdate);
    }
    let found = q.one(tx).await?;
    if found.is_some() {
        tx.note_row_lock(application::Entity.table_name(), id);
    }
    Ok(found)
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

/// Writes `changes` to an application whose row lock this transaction
/// holds ([`find_with_children_locked`]), deferred ([`WriteTx::defer`]),
/// and returns the row as it now reads. Under the lock the row is still the
/// one read, so the answer is worked out here rather than returned by the
/// database; the version and status conditions stay in the statement all
/// the same. A row read without the lock is refused: its update could
/// silently match nothing.
pub async fn update_locked(db: &WriteTx, row: &Row, changes: Changes) -> Result<Row, DbErr> {
    if !db.holds_row_lock(application::Entity.table_name(), row.id) {
        return Err(DbErr::Custom(format!("application {} updated without its row lock", row.id)));
    }
    let after = with_changes(row, &changes)?;
    let stmt = application::Entity::update_many()
        .set(changes)
        .filter(application::Column::Id.eq(row.id))
        .filter(application::Column::Version.eq(row.version))
        .filter(application::Column::Status.eq(row.status.as_str()))
        .build(db.get_database_backend());
    db.defer(stmt).await?;
    Ok(after)
}

/// `row` with the columns `changes` sets.
fn with_changes(row: &Row, changes: &Changes) -> Result<Row, DbErr> {
    let mut merged = application::ActiveModel::from(row.clone());
    for c in application::Column::iter() {
        if let ActiveValue::Set(v) = changes.get(c) {
            merged.set(c, v);
        }
    }
    merged.try_into_model()
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
/// Replaces an application's parties after an edit.
pub async fn replace_parties(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    parties: Vec<PartyRow<'_>>,
) -> Result<(), DbErr> {
    application_party::Entity::delete_many()
        .filter(application_party::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    if parties.is_empty() {
        return Ok(());
    }
    application_party::Entity::insert_many(party_rows(application_id, parties))
        .exec_without_returning(db)
        .await
        .map(|_| ())
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

/// Deferred ([`WriteTx::defer`]); a second signature by the same person on
/// the same version fails the commit.
pub async fn insert_signature(db: &WriteTx, s: NewSignature<'_>) -> Result<signature::Model, DbErr> {
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
    db.defer(signature::Entity::insert(signature::ActiveModel::from(row.clone())).build(db.get_database_backend()))
        .await?;
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

/// An application with the signatures on its current version and its
/// materials (without their bytes), and, when asked for, the restrictions
/// in force on the people it names.
pub struct WithChildren {
    pub row: Row,
    pub signatures: Vec<signature::Model>,
    pub materials: Vec<Meta>,
    pub restrictions: Vec<restriction::Model>,
}

/// Reads an application, its current signatures and its materials in one
/// statement, and with `restrictions_on` also the credit restrictions in
/// force that day on any of its parties (what a submission checks). Every
/// step of a registration reads these, and on PostgreSQL each round trip is
/// a measurable share of a step's cost (BENCHMARKS.md), so they come back as
/// one `UNION ALL`: the `k` column says which part a row is, and each
/// part's columns carry a prefix.
pub async fn find_with_children(
    db: &impl ConnectionTrait,
    id: Uuid,
    restrictions_on: Option<NaiveDate>,
) -> Result<Option<WithChildren>, DbErr> {
    read_with_children(db, id, restrictions_on, false).await
}

/// As [`find_with_children`], and PostgreSQL also takes the application's
/// row lock until the transaction ends: two instances deciding at once
/// queue, the second sees the first's decision, and the caller may write
/// the row back without a version check that could fail
/// ([`update_locked`], which refuses a row not locked this way). SQLite's
/// write transactions are exclusive anyway. `FOR NO KEY UPDATE`, the lock
/// an update that keeps the key takes, so signatures and materials being
/// added meanwhile (whose foreign keys take a key-share lock) do not wait.
pub async fn find_with_children_locked(
    tx: &WriteTx,
    id: Uuid,
    restrictions_on: Option<NaiveDate>,
) -> Result<Option<WithChildren>, DbErr> {
    let found = read_with_children(tx, id, restrictions_on, true).await?;
    if found.is_some() {
        tx.note_row_lock(application::Entity.table_name(), id);
    }
    Ok(found)
}

async fn read_with_children(
    db: &impl ConnectionTrait,
    id: Uuid,
    restrictions_on: Option<NaiveDate>,
    lock: bool,
) -> Result<Option<WithChildren>, DbErr> {
    let backend = db.get_database_backend();
    let lock = lock && backend == DbBackend::Postgres;
    let sql = match (restrictions_on.is_some(), lock) {
        (false, false) => &WITH_CHILDREN,
        (false, true) => &WITH_CHILDREN_LOCKED,
        (true, false) => &WITH_RESTRICTIONS,
        (true, true) => &WITH_RESTRICTIONS_LOCKED,
    };
    let stmt = match restrictions_on {
        None => Statement::from_sql_and_values(backend, sql.as_str(), [id.into()]),
        Some(day) => Statement::from_sql_and_values(backend, sql.as_str(), [id.into(), day.into()]),
    };
    let rows = db.query_all_raw(stmt).await?;
    let mut out: Option<WithChildren> = None;
    for r in rows {
        let kind: i32 = r.try_get("", "k")?;
        match (kind, out.as_mut()) {
            (0, None) => {
                out = Some(WithChildren {
                    row: Row::from_query_result(&r, "a_")?,
                    signatures: vec![],
                    materials: vec![],
                    restrictions: vec![],
                })
            }
            (1, Some(w)) => w.signatures.push(signature::Model::from_query_result(&r, "s_")?),
            (2, Some(w)) => w.materials.push(Meta::from_query_result(&r, "m_")?),
            (3, Some(w)) => w.restrictions.push(restriction::Model::from_query_result(&r, "r_")?),
            _ => return Err(DbErr::Custom(format!("application {id}: unexpected part {kind} in its combined read"))),
        }
    }
    // The locked row is the newest version, which may be newer than the
    // statement's snapshot that the signatures part joined on if an edit
    // committed while this read waited for the lock. Signatures on any
    // other version do not count.
    if let Some(w) = out.as_mut() {
        let version = w.row.version;
        w.signatures.retain(|s| s.version == version);
    }
    Ok(out)
}

/// The statements behind [`find_with_children`], built from the entities'
/// columns so they follow them. A part's absent columns are typed `NULL`s,
/// which PostgreSQL needs to match the parts' column types (SQLite ignores
/// the type). `$1` works as a numbered parameter on both engines.
static WITH_CHILDREN: LazyLock<String> = LazyLock::new(|| combined_read(false, false));
static WITH_CHILDREN_LOCKED: LazyLock<String> = LazyLock::new(|| combined_read(false, true));
static WITH_RESTRICTIONS: LazyLock<String> = LazyLock::new(|| combined_read(true, false));
static WITH_RESTRICTIONS_LOCKED: LazyLock<String> = LazyLock::new(|| combined_read(true, true));

/// `lock` is PostgreSQL syntax (a locking clause in a subquery, which
/// PostgreSQL allows where it refuses one on a `UNION` itself).
fn combined_read(with_restrictions: bool, lock: bool) -> String {
    fn cols<C: ColumnTrait>(prefix: &str, source: Option<&str>, skip: &[&str]) -> Vec<String> {
        C::iter()
            .filter(|c| !skip.contains(&c.as_str()))
            .map(|c| {
                let name = c.as_str();
                match source {
                    Some(t) => format!("{t}.\"{name}\" AS \"{prefix}{name}\""),
                    None => format!("CAST(NULL AS {}) AS \"{prefix}{name}\"", sql_type(c.def().get_column_type())),
                }
            })
            .collect()
    }
    let part = |k: u8, from: &str| {
        let source = |t: &'static str| (t == from).then_some(t);
        let mut all = vec![format!("{k} AS k")];
        all.extend(cols::<application::Column>("a_", source("a"), &[]));
        all.extend(cols::<signature::Column>("s_", source("s"), &[]));
        all.extend(cols::<material::Column>("m_", source("m"), &["content"]));
        if with_restrictions {
            all.extend(cols::<restriction::Column>("r_", source("r"), &[]));
        }
        all.join(", ")
    };
    let application = if lock {
        "(SELECT * FROM applications WHERE id = $1 FOR NO KEY UPDATE) a"
    } else {
        "applications a WHERE a.id = $1"
    };
    let mut sql = format!(
        "SELECT {} FROM {application} \
         UNION ALL SELECT {} FROM signatures s JOIN applications a ON a.id = s.application_id AND a.version = s.version \
         WHERE s.application_id = $1 \
         UNION ALL SELECT {} FROM materials m WHERE m.application_id = $1",
        part(0, "a"),
        part(1, "s"),
        part(2, "m"),
    );
    if with_restrictions {
        // As `restrictions::in_force`, for the ID numbers of the parties.
        sql += &format!(
            " UNION ALL SELECT {} FROM restrictions r WHERE r.subject_key IN \
             (SELECT p.id_number FROM application_parties p WHERE p.application_id = $1) \
             AND r.lifted_at IS NULL AND r.listed_on <= $2 AND (r.expires_on IS NULL OR r.expires_on >= $2)",
            part(3, "r")
        );
    }
    sql + " ORDER BY k, s_signed_at, m_created_at, m_id"
}

/// PostgreSQL's name for a column type used by the parts above.
fn sql_type(t: &ColumnType) -> &'static str {
    match t {
        ColumnType::Uuid => "uuid",
        ColumnType::Integer => "integer",
        ColumnType::BigInteger => "bigint",
        ColumnType::TimestampWithTimeZone => "timestamptz",
        ColumnType::Date => "date",
        ColumnType::Boolean => "boolean",
        ColumnType::Binary(_) | ColumnType::VarBinary(_) => "bytea",
        _ => "text",
    }
}
