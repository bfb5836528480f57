//! Shop URLs where an enterprise displays its licence: the ones it declared,
//! and the online shops it registered as premises.
use chrono::{DateTime, Utc};
use entities::{display_url, premises};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// Declared URLs, in order.
pub async fn declared(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<String>, DbErr> {
    Ok(display_url::Entity::find()
        .filter(display_url::Column::EnterpriseId.eq(enterprise_id))
        .order_by_asc(display_url::Column::Url)
        .all(db)
        .await?
        .into_iter()
        .map(|r| r.url)
        .collect())
}

/// Declared URLs and live online premises: everywhere the licence may show.
pub async fn all_valid(db: &impl ConnectionTrait, enterprise_id: Uuid) -> Result<Vec<String>, DbErr> {
    let mut urls = declared(db, enterprise_id).await?;
    let shops: Vec<Option<String>> = premises::Entity::find()
        .select_only()
        .column(premises::Column::Url)
        .filter(premises::Column::EnterpriseId.eq(enterprise_id))
        .filter(premises::Column::State.eq("active"))
        .filter(premises::Column::Url.is_not_null())
        .into_tuple()
        .all(db)
        .await?;
    urls.extend(shops.into_iter().flatten());
    urls.sort();
    urls.dedup();
    Ok(urls)
}

/// [`all_valid`] for many enterprises, in two queries per 500.
pub async fn all_valid_many(
    db: &impl ConnectionTrait,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, Vec<String>>, DbErr> {
    let mut out: std::collections::HashMap<Uuid, Vec<String>> = ids.iter().map(|i| (*i, Vec::new())).collect();
    for chunk in ids.chunks(500) {
        let declared: Vec<(Uuid, String)> = display_url::Entity::find()
            .select_only()
            .columns([display_url::Column::EnterpriseId, display_url::Column::Url])
            .filter(display_url::Column::EnterpriseId.is_in(chunk.iter().copied()))
            .into_tuple()
            .all(db)
            .await?;
        let shops: Vec<(Option<Uuid>, Option<String>)> = premises::Entity::find()
            .select_only()
            .columns([premises::Column::EnterpriseId, premises::Column::Url])
            .filter(premises::Column::EnterpriseId.is_in(chunk.iter().copied()))
            .filter(premises::Column::State.eq("active"))
            .filter(premises::Column::Url.is_not_null())
            .into_tuple()
            .all(db)
            .await?;
        let shops = shops.into_iter().filter_map(|(e, u)| Some((e?, u?)));
        for (e, u) in declared.into_iter().chain(shops) {
            out.entry(e).or_default().push(u);
        }
    }
    for urls in out.values_mut() {
        urls.sort();
        urls.dedup();
    }
    Ok(out)
}

/// Replaces the declared set.
pub async fn replace(
    db: &impl ConnectionTrait,
    enterprise_id: Uuid,
    urls: &[String],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    display_url::Entity::delete_many().filter(display_url::Column::EnterpriseId.eq(enterprise_id)).exec(db).await?;
    if urls.is_empty() {
        return Ok(());
    }
    let rows = urls.iter().map(|u| display_url::ActiveModel {
        enterprise_id: Set(enterprise_id),
        url: Set(u.clone()),
        declared_at: Set(now),
    });
    display_url::Entity::insert_many(rows).exec_without_returning(db).await.map(|_| ())
}
