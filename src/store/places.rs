//! Addresses, address hosts, occupancies and premises.
use chrono::{DateTime, Utc};
use entities::{address, address_host, occupancy, premises};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::WriteTx;

pub use entities::{
    address::Model as AddressRow, address_host::Model as HostRow, occupancy::Model as OccupancyRow,
    premises::Model as PremisesRow,
};

/// The address with this canonical key, created if it is new. Concurrent
/// creators of one address converge on the same row.
pub async fn find_or_create_address(
    db: &impl ConnectionTrait,
    township: &str,
    county: &str,
    detail: &str,
    canonical: &str,
    parent: Option<(Uuid, i32)>,
    now: DateTime<Utc>,
) -> Result<AddressRow, DbErr> {
    let am = address::ActiveModel {
        id: Set(Uuid::now_v7()),
        township_code: Set(township.to_string()),
        county_code: Set(county.to_string()),
        detail: Set(detail.to_string()),
        canonical: Set(canonical.to_string()),
        parent_id: Set(parent.map(|p| p.0)),
        unit_no: Set(parent.map(|p| p.1)),
        created_at: Set(now),
    };
    address::Entity::insert(am)
        .on_conflict(
            OnConflict::columns([address::Column::TownshipCode, address::Column::Canonical]).do_nothing().to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    address::Entity::find()
        .filter(address::Column::TownshipCode.eq(township))
        .filter(address::Column::Canonical.eq(canonical))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("address {township}:{canonical}")))
}

pub async fn address(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<AddressRow>, DbErr> {
    address::Entity::find_by_id(id).one(db).await
}

pub async fn find_address(
    db: &impl ConnectionTrait,
    township: &str,
    canonical: &str,
) -> Result<Option<AddressRow>, DbErr> {
    address::Entity::find()
        .filter(address::Column::TownshipCode.eq(township))
        .filter(address::Column::Canonical.eq(canonical))
        .one(db)
        .await
}

pub async fn insert_host(db: &impl ConnectionTrait, row: address_host::ActiveModel) -> Result<(), DbErr> {
    address_host::Entity::insert(row).exec_without_returning(db).await.map(|_| ())
}

pub async fn host(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<HostRow>, DbErr> {
    address_host::Entity::find_by_id(id).one(db).await
}

/// Reads the host for update, so places are counted and numbered one
/// transaction at a time (PostgreSQL row lock; SQLite has one writer).
pub async fn lock_host(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<HostRow>, DbErr> {
    let mut q = address_host::Entity::find_by_id(id);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        q = q.lock_exclusive();
    }
    q.one(db).await
}

pub async fn close_host(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> Result<bool, DbErr> {
    let r = address_host::Entity::update_many()
        .col_expr(address_host::Column::Status, Expr::value("closed"))
        .col_expr(address_host::Column::ClosedAt, Expr::value(now))
        .filter(address_host::Column::Id.eq(id))
        .filter(address_host::Column::Status.eq("active"))
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

fn live() -> Condition {
    Condition::any().add(occupancy::Column::State.eq("reserved")).add(occupancy::Column::State.eq("active"))
}

/// Places taken under a host (reserved or active).
pub async fn host_places_taken(db: &impl ConnectionTrait, host_id: Uuid) -> Result<u64, DbErr> {
    occupancy::Entity::find().filter(occupancy::Column::HostId.eq(host_id)).filter(live()).count(db).await
}

/// Distinct enterprises active at an address (for the concentration warning).
pub async fn active_occupants(db: &impl ConnectionTrait, address_id: Uuid) -> Result<u64, DbErr> {
    occupancy::Entity::find()
        .filter(occupancy::Column::AddressId.eq(address_id))
        .filter(occupancy::Column::State.eq("active"))
        .count(db)
        .await
}

pub async fn insert_occupancy(db: &impl ConnectionTrait, row: occupancy::Model) -> Result<(), DbErr> {
    occupancy::Entity::insert(occupancy::ActiveModel::from(row)).exec_without_returning(db).await.map(|_| ())
}

/// Occupants of an address, or of a host's places, oldest first, after a cursor.
pub async fn occupants(
    db: &impl ConnectionTrait,
    address_id: Option<Uuid>,
    host_id: Option<Uuid>,
    states: &[&str],
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<OccupancyRow>, DbErr> {
    let mut q = occupancy::Entity::find().filter(occupancy::Column::State.is_in(states.iter().copied()));
    if let Some(a) = address_id {
        q = q.filter(occupancy::Column::AddressId.eq(a));
    }
    if let Some(h) = host_id {
        q = q.filter(occupancy::Column::HostId.eq(h));
    }
    if let Some(c) = after {
        q = q.filter(occupancy::Column::Id.gt(c));
    }
    q.order_by_asc(occupancy::Column::Id).limit(limit).all(db).await
}

pub async fn occupancies_of_application(
    db: &impl ConnectionTrait,
    application_id: Uuid,
) -> Result<Vec<OccupancyRow>, DbErr> {
    occupancy::Entity::find().filter(occupancy::Column::ApplicationId.eq(application_id)).all(db).await
}

/// Reserved places of an application become the enterprise's.
/// Deferred ([`WriteTx::defer`]), as the enterprise the places now name.
pub async fn activate_occupancies(
    db: &WriteTx,
    application_id: Uuid,
    enterprise_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let stmt = occupancy::Entity::update_many()
        .col_expr(occupancy::Column::State, Expr::value("active"))
        .col_expr(occupancy::Column::EnterpriseId, Expr::value(enterprise_id))
        .col_expr(occupancy::Column::StartedAt, Expr::value(now))
        .filter(occupancy::Column::ApplicationId.eq(application_id))
        .filter(occupancy::Column::State.eq("reserved"))
        .build(db.get_database_backend());
    db.defer(stmt).await
}

/// Ends places held for an application (rejected, withdrawn, resubmitted).
pub async fn release_reservations(
    db: &impl ConnectionTrait,
    application_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    occupancy::Entity::update_many()
        .col_expr(occupancy::Column::State, Expr::value("ended"))
        .col_expr(occupancy::Column::EndedAt, Expr::value(now))
        .filter(occupancy::Column::ApplicationId.eq(application_id))
        .filter(occupancy::Column::State.eq("reserved"))
        .exec(db)
        .await?;
    premises::Entity::update_many()
        .col_expr(premises::Column::State, Expr::value("removed"))
        .col_expr(premises::Column::RemovedAt, Expr::value(now))
        .filter(premises::Column::ApplicationId.eq(application_id))
        .filter(premises::Column::State.eq("reserved"))
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends the enterprise's registered places (it moves or ends); `all` also
/// ends extra premises filed under its licence.
pub async fn end_registered(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    all: bool,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let mut prem = premises::Entity::find()
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"));
    if !all {
        prem = prem.filter(premises::Column::Registered.eq(true));
    }
    let ended: Vec<PremisesRow> = prem.all(db).await?;
    let occupancy_ids: Vec<Uuid> = ended.iter().filter_map(|p| p.occupancy_id).collect();
    premises::Entity::update_many()
        .col_expr(premises::Column::State, Expr::value("removed"))
        .col_expr(premises::Column::RemovedAt, Expr::value(now))
        .filter(premises::Column::Id.is_in(ended.iter().map(|p| p.id)))
        .exec(db)
        .await?;
    let mut occ = occupancy::Entity::update_many()
        .col_expr(occupancy::Column::State, Expr::value("ended"))
        .col_expr(occupancy::Column::EndedAt, Expr::value(now))
        .filter(occupancy::Column::EnterpriseId.eq(enterprise_id))
        .filter(occupancy::Column::State.eq("active"));
    if !all {
        // Domicile occupancies have no premises row; extra premises keep theirs.
        occ = occ.filter(
            Condition::any()
                .add(occupancy::Column::Role.eq("domicile"))
                .add(occupancy::Column::Id.is_in(occupancy_ids)),
        );
    }
    occ.exec(db).await.map(|_| ())
}

pub async fn confirm_occupancy(
    db: &impl ConnectionTrait,
    host_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let r = occupancy::Entity::update_many()
        .col_expr(occupancy::Column::ConfirmedAt, Expr::value(now))
        .filter(occupancy::Column::Id.eq(id))
        .filter(occupancy::Column::HostId.eq(host_id))
        .filter(live())
        .exec(db)
        .await?;
    Ok(r.rows_affected > 0)
}

pub async fn insert_premises(db: &impl ConnectionTrait, row: premises::Model) -> Result<(), DbErr> {
    premises::Entity::insert(premises::ActiveModel::from(row)).exec_without_returning(db).await.map(|_| ())
}

/// Deferred ([`WriteTx::defer`]), as the enterprise the premises now name.
pub async fn activate_premises(db: &WriteTx, application_id: Uuid, enterprise_id: Uuid) -> Result<(), DbErr> {
    let stmt = premises::Entity::update_many()
        .col_expr(premises::Column::State, Expr::value("active"))
        .col_expr(premises::Column::EnterpriseId, Expr::value(enterprise_id))
        .filter(premises::Column::ApplicationId.eq(application_id))
        .filter(premises::Column::State.eq("reserved"))
        .build(db.get_database_backend());
    db.defer(stmt).await
}

pub async fn premises_of(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<PremisesRow>, DbErr> {
    premises::Entity::find()
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"))
        .order_by_asc(premises::Column::CreatedAt)
        .order_by_asc(premises::Column::Id)
        .all(db)
        .await
}

pub async fn remove_premises(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Option<PremisesRow>, DbErr> {
    let Some(p) = premises::Entity::find_by_id(id)
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"))
        .filter(premises::Column::Registered.eq(false))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    premises::Entity::update_many()
        .col_expr(premises::Column::State, Expr::value("removed"))
        .col_expr(premises::Column::RemovedAt, Expr::value(now))
        .filter(premises::Column::Id.eq(id))
        .exec(db)
        .await?;
    if let Some(o) = p.occupancy_id {
        occupancy::Entity::update_many()
            .col_expr(occupancy::Column::State, Expr::value("ended"))
            .col_expr(occupancy::Column::EndedAt, Expr::value(now))
            .filter(occupancy::Column::Id.eq(o))
            .exec(db)
            .await?;
    }
    Ok(Some(p))
}

/// The enterprise's live occupancies.
pub async fn occupants_of_enterprise(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
) -> Result<Vec<OccupancyRow>, DbErr> {
    occupancy::Entity::find()
        .filter(occupancy::Column::EnterpriseId.eq(enterprise_id))
        .filter(occupancy::Column::State.eq("active"))
        .all(db)
        .await
}

/// Ends the enterprise's registered places except those it keeps (a change
/// of address moves occupancy; extra premises filed later stay).
pub async fn end_registered_except(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    keep_urls: &[String],
    keep_addresses: &[Uuid],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let registered: Vec<PremisesRow> = premises::Entity::find()
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"))
        .filter(premises::Column::Registered.eq(true))
        .all(db)
        .await?;
    let drop: Vec<&PremisesRow> = registered
        .iter()
        .filter(|p| match (&p.url, p.address_id) {
            (Some(u), _) => !keep_urls.contains(u),
            (None, Some(a)) => !keep_addresses.contains(&a),
            _ => true,
        })
        .collect();
    premises::Entity::update_many()
        .col_expr(premises::Column::State, Expr::value("removed"))
        .col_expr(premises::Column::RemovedAt, Expr::value(now))
        .filter(premises::Column::Id.is_in(drop.iter().map(|p| p.id)))
        .exec(db)
        .await?;
    let extra_occupancies: Vec<Uuid> = premises::Entity::find()
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"))
        .filter(premises::Column::Registered.eq(false))
        .all(db)
        .await?
        .into_iter()
        .filter_map(|p| p.occupancy_id)
        .collect();
    occupancy::Entity::update_many()
        .col_expr(occupancy::Column::State, Expr::value("ended"))
        .col_expr(occupancy::Column::EndedAt, Expr::value(now))
        .filter(occupancy::Column::EnterpriseId.eq(enterprise_id))
        .filter(occupancy::Column::State.eq("active"))
        .filter(occupancy::Column::AddressId.is_not_in(keep_addresses.iter().copied()))
        .filter(occupancy::Column::Id.is_not_in(extra_occupancies))
        .exec(db)
        .await
        .map(|_| ())
}
