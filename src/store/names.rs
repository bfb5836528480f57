//! Names in use or reserved, per registration authority.
use chrono::{DateTime, Utc};
use entities::name_record;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};
use uuid::Uuid;

pub use entities::name_record::Model as Row;

/// Records of the authority that still block a name at `now`: registered,
/// reserved and unexpired, or released less than a year ago (art. 17),
/// matching either the full name, or the trade name in one of `industries`
/// (or recorded without one). Filtering by industry here, not after, keeps
/// the answer exact and its cost flat however many enterprises of other
/// industries share the trade name.
pub async fn blocking(
    db: &impl ConnectionTrait,
    authority: &str,
    full_name: &str,
    trade_names: &[String],
    industries: &[&str],
    now: DateTime<Utc>,
) -> Result<Vec<Row>, DbErr> {
    let live = Condition::any()
        .add(name_record::Column::State.eq("registered"))
        .add(
            Condition::all()
                .add(name_record::Column::State.eq("reserved"))
                .add(name_record::Column::ReservedUntil.gt(now)),
        )
        .add(
            Condition::all()
                .add(name_record::Column::State.eq("released"))
                .add(name_record::Column::ReleasedAt.gt(now - chrono::Duration::days(365))),
        );
    // Each arm repeats the authority so both engines can answer it from its
    // own (authority, …) index (SQLite: MULTI-INDEX OR; PostgreSQL: BitmapOr)
    // instead of scanning the authority's names. "No industry" and "one of
    // these industries" are separate arms, not `industry IS NULL OR …`
    // inside one: PostgreSQL's generic plan for the prepared statement
    // (chosen after five executions) cannot use an OR within an arm as an
    // index condition, and read every namesake in the county instead.
    let mut which = Condition::any().add(
        Condition::all()
            .add(name_record::Column::Authority.eq(authority))
            .add(name_record::Column::FullName.eq(full_name)),
    );
    if !trade_names.is_empty() {
        let trade_name = || {
            Condition::all()
                .add(name_record::Column::Authority.eq(authority))
                .add(name_record::Column::TradeName.is_in(trade_names.iter().cloned()))
        };
        which = which.add(trade_name().add(name_record::Column::Industry.is_null()));
        if !industries.is_empty() {
            which = which.add(trade_name().add(name_record::Column::Industry.is_in(industries.iter().copied())));
        }
    }
    name_record::Entity::find().filter(which).filter(live).limit(50).all(db).await
}

pub struct NewName<'a> {
    pub authority: &'a str,
    pub full_name: &'a str,
    pub trade_name: &'a str,
    pub industry: Option<&'a str>,
    pub state: &'a str,
    pub application_id: Option<Uuid>,
    pub enterprise_id: Option<Uuid>,
    pub uscc: Option<&'a str>,
    pub reserved_until: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
}

pub async fn insert(db: &impl ConnectionTrait, n: NewName<'_>) -> Result<(), DbErr> {
    let am = name_record::ActiveModel {
        id: Set(Uuid::now_v7()),
        authority: Set(n.authority.to_string()),
        full_name: Set(n.full_name.to_string()),
        trade_name: Set(n.trade_name.to_string()),
        industry: Set(n.industry.map(str::to_string)),
        state: Set(n.state.to_string()),
        application_id: Set(n.application_id),
        enterprise_id: Set(n.enterprise_id),
        uscc: Set(n.uscc.map(str::to_string)),
        reserved_until: Set(n.reserved_until),
        released_at: Set(None),
        created_at: Set(n.now),
    };
    name_record::Entity::insert(am).exec_without_returning(db).await.map(|_| ())
}

/// Drops an application's live reservation (decision, withdrawal, edit).
pub async fn release_reservation(db: &impl ConnectionTrait, application_id: Uuid) -> Result<(), DbErr> {
    name_record::Entity::delete_many()
        .filter(name_record::Column::ApplicationId.eq(application_id))
        .filter(name_record::Column::State.eq("reserved"))
        .exec(db)
        .await
        .map(|_| ())
}

/// Turns an application's reservation into the enterprise's registered name.
pub async fn register_reserved(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    enterprise_id: Uuid,
    uscc: &str,
) -> Result<u64, DbErr> {
    name_record::Entity::update_many()
        .col_expr(name_record::Column::State, Expr::value("registered"))
        .col_expr(name_record::Column::EnterpriseId, Expr::value(enterprise_id))
        .col_expr(name_record::Column::Uscc, Expr::value(uscc))
        .col_expr(name_record::Column::ReservedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(name_record::Column::ApplicationId.eq(application_id))
        .filter(name_record::Column::State.eq("reserved"))
        .exec(db)
        .await
        .map(|r| r.rows_affected)
}

/// Marks an enterprise's registered name released (changed away or cancelled).
pub async fn release_registered(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    name_record::Entity::update_many()
        .col_expr(name_record::Column::State, Expr::value("released"))
        .col_expr(name_record::Column::ReleasedAt, Expr::value(now))
        .filter(name_record::Column::EnterpriseId.eq(enterprise_id))
        .filter(name_record::Column::State.eq("registered"))
        .exec(db)
        .await
        .map(|_| ())
}
