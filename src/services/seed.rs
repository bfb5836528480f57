//! Realistic volume for benchmarks and demos: `greenchannel seed
//! --enterprises N` writes N registered enterprises (all four types, names,
//! scopes, online shops and addresses, licence versions) in batched
//! transactions. Deterministic for a given `--seed`, so runs compare.
use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ActiveValue::Set, ConnectionTrait, Statement};
use uuid::Uuid;

use crate::{
    domain::{
        admin_code::{AdminCode, TownshipCode},
        divisions,
        entity_type::EntityType,
        form::{Address, Composition, Contribution, Form, Kind, Party, Premises, Role},
        licence::LicenceContent,
        money::Money,
        resident_id::{self, ResidentId},
        scope::{self, ScopeItem},
        uscc::{self, Uscc},
    },
    error::Result,
    state::AppState,
    store::{self, Db},
};

/// The registration authorities seeded: Hanzhong's counties, half of the
/// enterprises in 略阳县 (610727) so one county carries a large register.
pub const COUNTIES: [&str; 11] =
    ["610702", "610703", "610722", "610723", "610724", "610725", "610726", "610727", "610728", "610729", "610730"];
pub const HOME_COUNTY: &str = "610727";

/// Enterprises per transaction.
const BATCH: usize = 5_000;

/// SplitMix64: small, fast, good enough for test data, reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

const TRADE_CHARS: &str = "青禾秦巴山珍嘉陵江汉水龙凤金银星月春秋华夏东方南北兴盛隆昌泰和顺达通利源丰裕鑫淼森林峰岭云雾溪泉雨露朝阳晨曦瑞祥福禄康宁安乐美佳优品尚雅致远博学文墨翰宇轩阁楼台亭苑园庭芳菲兰桂竹梅松柏杨柳桃李杏梨枣栗茶稻麦禾粟豆麻桑蚕锦绣丝绸彩虹霞光明辉耀灿烁晶莹珠玉宝石翠碧蓝红黄绿紫白";
const FAMILY: &str = "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文";
const GIVEN: &str =
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英文华建国建华志强海燕红梅玉兰春梅晓东晓明小红丽娟";

const INDUSTRIES: [(&str, &[&str]); 8] = [
    ("电子商务", &["G1001", "G1002", "G1003", "G1008"]),
    ("农产品", &["G1021", "G1022", "G1023", "G1024"]),
    ("茶叶", &["G1017", "G1021", "G1001"]),
    ("服装", &["G1003", "G1004", "G1001"]),
    ("网络科技", &["G2001", "G2002", "G2003"]),
    ("商贸", &["G1002", "G1007", "G1018", "G1019"]),
    ("文化传媒", &["G2004", "G2005", "G2006", "G2013"]),
    ("食品", &["G1001", "G1021", "L1001", "L1002"]),
];

fn chars(s: &'static str) -> Vec<char> {
    s.chars().collect()
}

struct Gen {
    rng: Rng,
    trade: Vec<char>,
    family: Vec<char>,
    given: Vec<char>,
    townships: HashMap<&'static str, Vec<&'static str>>,
    person_seq: u64,
}

impl Gen {
    fn person(&mut self, county: &str) -> (String, ResidentId) {
        self.person_seq += 1;
        let s = self.person_seq;
        let name: String =
            [*self.rng.pick(&self.family), *self.rng.pick(&self.given), *self.rng.pick(&self.given)].iter().collect();
        let year = 1960 + self.rng.below(45);
        let first17 =
            format!("{county}{year}{:02}{:02}{:03}", 1 + self.rng.below(12), 1 + self.rng.below(28), s % 1000);
        let id = format!("{first17}{}", resident_id::check_char(first17.as_bytes()));
        (name, ResidentId::parse(&id).expect("generated IDs are valid"))
    }

    fn address(&mut self, county: &'static str) -> Address {
        let list = self.townships.entry(county).or_insert_with(|| divisions::townships_of(county));
        let township = list[(self.rng.next_u64() % list.len() as u64) as usize];
        let detail = format!(
            "{}路{}号{}单元{}室",
            ["东环", "西环", "南大街", "北大街", "兴州", "滨江", "新华", "人民"][self.rng.below(8)],
            1 + self.rng.below(300),
            1 + self.rng.below(6),
            101 + self.rng.below(1500)
        );
        Address {
            township_code: TownshipCode::parse(township).expect("table township"),
            detail,
            host_id: None,
            residence: false,
        }
    }

    fn form(&mut self, n: u64) -> Form {
        let county: &'static str =
            if self.rng.chance(50) { HOME_COUNTY } else { COUNTIES[self.rng.below(COUNTIES.len())] };
        let authority = AdminCode::parse(county).expect("seed county");
        let t = match self.rng.below(100) {
            0..70 => EntityType::IndividualBusiness,
            70..90 => EntityType::LimitedCompany,
            90..97 => EntityType::SoleProprietorship,
            _ => EntityType::FarmersCooperative,
        };
        let (industry, scope_pool) = INDUSTRIES[self.rng.below(INDUSTRIES.len())];
        let trade_len = if self.rng.chance(60) { 2 } else { 3 };
        let trade: String = (0..trade_len).map(|_| *self.rng.pick(&self.trade)).collect();
        let form_word = match t {
            EntityType::IndividualBusiness => ["店", "经营部", "商行", "工作室"][self.rng.below(4)],
            EntityType::SoleProprietorship => ["经营部", "商行", "工作室"][self.rng.below(3)],
            EntityType::LimitedCompany => "有限公司",
            EntityType::FarmersCooperative => "农民专业合作社",
        };
        let industry = if t == EntityType::FarmersCooperative { "种植" } else { industry };
        let name = (t != EntityType::IndividualBusiness || self.rng.chance(85))
            .then(|| format!("{}{trade}{industry}{form_word}", authority.name()));
        let mut scope_codes: Vec<String> =
            (0..1 + self.rng.below(3)).map(|_| self.rng.pick(scope_pool).to_string()).collect();
        scope_codes.sort();
        scope_codes.dedup();
        let scope: Vec<&'static ScopeItem> = scope::parse_codes(&scope_codes).expect("catalogue codes");
        let mut parties = Vec::new();
        let mut premises = Vec::new();
        let mut domicile = None;
        let mut capital = None;
        let mut composition = None;
        match t {
            EntityType::IndividualBusiness => {
                let (name, id) = self.person(county);
                parties.push(Party {
                    name,
                    id_number: id,
                    phone: None,
                    roles: vec![Role::Operator],
                    contribution: None,
                    farmer: None,
                });
                composition = Some(Composition::Individual);
                premises.push(if self.rng.chance(60) {
                    let platform = ["某电商平台", "某短视频平台", "某社交电商"][self.rng.below(3)];
                    Premises::Online { platform: platform.into(), url: format!("https://shop.example.com/{n}") }
                } else {
                    Premises::Address { address: self.address(county), host_id: None, residence: self.rng.chance(30) }
                });
            }
            EntityType::SoleProprietorship => {
                let (name, id) = self.person(county);
                parties.push(Party {
                    name,
                    id_number: id,
                    phone: None,
                    roles: vec![Role::Investor],
                    contribution: None,
                    farmer: None,
                });
                domicile = Some(self.address(county));
                capital = Some(Money::from_fen(100 * 10_000 * (1 + self.rng.below(20)) as i64));
            }
            EntityType::LimitedCompany => {
                let holders = 1 + self.rng.below(3);
                let each = Money::from_fen(100 * 100_000 * (1 + self.rng.below(10)) as i64);
                let due = NaiveDate::from_ymd_opt(2030, 12, 31);
                for k in 0..holders {
                    let (name, id) = self.person(county);
                    let roles = if k == 0 {
                        vec![Role::Shareholder, Role::ExecutiveDirector, Role::LegalRepresentative]
                    } else {
                        vec![Role::Shareholder]
                    };
                    parties.push(Party {
                        name,
                        id_number: id,
                        phone: None,
                        roles,
                        contribution: Some(Contribution { amount: each, due_date: due }),
                        farmer: None,
                    });
                }
                let (name, id) = self.person(county);
                parties.push(Party {
                    name,
                    id_number: id,
                    phone: None,
                    roles: vec![Role::Supervisor],
                    contribution: None,
                    farmer: None,
                });
                capital = Some(Money::from_fen(each.fen() * holders as i64));
                domicile = Some(self.address(county));
            }
            EntityType::FarmersCooperative => {
                let each = Money::from_fen(100 * 10_000);
                for k in 0..5 {
                    let (name, id) = self.person(county);
                    let roles = if k == 0 {
                        vec![Role::Member, Role::Chair, Role::LegalRepresentative]
                    } else {
                        vec![Role::Member]
                    };
                    parties.push(Party {
                        name,
                        id_number: id,
                        phone: None,
                        roles,
                        contribution: Some(Contribution { amount: each, due_date: None }),
                        farmer: Some(k < 4),
                    });
                }
                capital = Some(Money::from_fen(each.fen() * 5));
                domicile = Some(self.address(county));
            }
        }
        Form {
            kind: Kind::Establish,
            entity_type: t,
            admin_code: authority,
            uscc: None,
            name,
            parties,
            scope,
            domicile,
            premises,
            capital,
            composition,
            deregistration: None,
        }
    }
}

/// Reads the code counters so seeded codes never collide with issued ones.
async fn counters(db: &impl ConnectionTrait) -> Result<HashMap<String, i64>> {
    let rows = db
        .query_all_raw(Statement::from_string(db.get_database_backend(), "SELECT name, next_value FROM code_sequences"))
        .await?;
    let mut m = HashMap::new();
    for r in rows {
        m.insert(r.try_get::<String>("", "name")?, r.try_get::<i64>("", "next_value")?);
    }
    Ok(m)
}

async fn save_counters(db: &impl ConnectionTrait, counters: &HashMap<String, i64>) -> Result<()> {
    for (name, value) in counters {
        store::sequences::next(db, name).await?;
        let stmt = Statement::from_sql_and_values(
            db.get_database_backend(),
            if db.get_database_backend() == sea_orm::DbBackend::Postgres {
                "UPDATE code_sequences SET next_value = $1 WHERE name = $2"
            } else {
                "UPDATE code_sequences SET next_value = ? WHERE name = ?"
            },
            [(*value).into(), name.clone().into()],
        );
        db.execute_raw(stmt).await?;
    }
    Ok(())
}

/// Writes `n` enterprises. `progress` is told after every batch.
pub async fn seed(state: &AppState, n: u64, seed: u64, progress: impl Fn(u64)) -> Result<()> {
    seed_db(&state.db, n, seed, progress).await
}

pub async fn seed_db(db: &Db, n: u64, seed: u64, progress: impl Fn(u64)) -> Result<()> {
    let mut g = Gen {
        rng: Rng::new(seed),
        trade: chars(TRADE_CHARS),
        family: chars(FAMILY),
        given: chars(GIVEN),
        townships: HashMap::new(),
        person_seq: seed % 1000,
    };
    let mut codes = counters(db.conn()).await?;
    let kid = store::signing_keys::signing_kid(db.conn()).await?;
    let base = Utc.with_ymd_and_hms(2022, 1, 1, 2, 0, 0).single().expect("valid date");
    let mut done = 0u64;
    while done < n {
        let batch = (n - done).min(BATCH as u64);
        let (mut ents, mut lics, mut names) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..batch {
            let i = done + k;
            let form = g.form(i);
            let category = form.entity_type.uscc_category();
            let key = format!("org:{category:?}:{}", form.admin_code);
            let counter = codes.entry(key).or_insert(0);
            let code = Uscc::issue(category, &form.admin_code, &uscc::org_body(*counter as u64));
            *counter += 1;
            let at: DateTime<Utc> = base + Duration::minutes((i as i64 * 7919) % (4 * 365 * 24 * 60));
            let established = crate::domain::licence::date_in_china(at);
            let id = Uuid::now_v7();
            let versions = if g.rng.chance(10) { 2 } else { 1 };
            for v in 1..=versions {
                let issued = at + Duration::days(90 * (v as i64 - 1));
                let content = LicenceContent::new(&form, &code, v, established, issued);
                lics.push(entities::licence_version::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    enterprise_id: Set(id),
                    version: Set(v),
                    content: Set(serde_json::to_string(&content).expect("serialises")),
                    issued_at: Set(issued),
                    application_id: Set(None),
                    superseded_at: Set((v < versions).then(|| issued + Duration::days(90))),
                    signing_kid: Set(kid),
                });
            }
            if let Some(full) = &form.name
                && let Some(parts) = crate::domain::name::check(full, form.entity_type, &form.admin_code).parts
            {
                names.push(entities::name_record::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    authority: Set(form.admin_code.to_string()),
                    full_name: Set(parts.full.clone()),
                    trade_name: Set(parts.trade_name.clone()),
                    industry: Set(parts.industry.clone()),
                    state: Set("registered".into()),
                    application_id: Set(None),
                    enterprise_id: Set(Some(id)),
                    uscc: Set(Some(code.to_string())),
                    reserved_until: Set(None),
                    released_at: Set(None),
                    created_at: Set(at),
                });
            }
            ents.push(entities::enterprise::ActiveModel {
                id: Set(id),
                uscc: Set(code.to_string()),
                name: Set(form.name.clone()),
                entity_type: Set(form.entity_type.as_str().into()),
                status: Set(if g.rng.chance(3) { "deregistered".into() } else { "active".into() }),
                abnormal: Set(g.rng.chance(2)),
                abnormal_reason: Set(None),
                abnormal_since: Set(None),
                authority: Set(form.admin_code.to_string()),
                established_on: Set(established),
                licence_version: Set(versions),
                owner_id_number: Set(form.parties[0].id_number.to_string()),
                representative_name: Set(form.representative().map(|p| p.name.clone()).unwrap_or_default()),
                profile: Set(form.canonical_json()),
                created_at: Set(at),
                updated_at: Set(at),
                deregistered_at: Set(None),
                revoked_at: Set(None),
                revocation_reason: Set(None),
            });
        }
        let tx = db.write().await?;
        store::bulk::enterprises(&tx, ents).await?;
        store::bulk::licences(&tx, lics).await?;
        store::bulk::names(&tx, names).await?;
        tx.commit().await?;
        done += batch;
        progress(done);
    }
    let tx = db.write().await?;
    save_counters(&tx, &codes).await?;
    tx.commit().await?;
    if db.backend() == sea_orm::DbBackend::Postgres {
        // What autovacuum would otherwise do under the first load: set hint
        // bits and the visibility map (the first readers would dirty every
        // page they touch, and index-only scans need it) and the statistics
        // the planner chooses indexes by.
        db.conn().execute_unprepared("VACUUM (ANALYZE)").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_forms_are_complete_and_their_names_follow_the_rules() {
        let mut g = Gen {
            rng: Rng::new(7),
            trade: chars(TRADE_CHARS),
            family: chars(FAMILY),
            given: chars(GIVEN),
            townships: HashMap::new(),
            person_seq: 0,
        };
        let mut named = 0;
        for i in 0..2_000 {
            let f = g.form(i);
            assert!(f.completeness().is_empty(), "{:?}: {:?}", f.entity_type, f.completeness());
            if let Some(n) = &f.name {
                let r = crate::domain::name::check(n, f.entity_type, &f.admin_code);
                // Random trade names may hit a forbidden word; most must pass.
                if r.violations.is_empty() {
                    named += 1;
                }
            }
        }
        assert!(named > 1_500, "{named}");
    }
}
