//! China's administrative divisions (NBS 2023 codes, vendored from the npm
//! package `china-division` 2.7.0 under `reference/`), embedded in the binary
//! and indexed once on first use.
use std::{collections::HashMap, sync::LazyLock};

const PROVINCES: &str = include_str!("../../reference/provinces.csv");
const CITIES: &str = include_str!("../../reference/cities.csv");
const AREAS: &str = include_str!("../../reference/areas.csv");
const STREETS: &str = include_str!("../../reference/streets.csv");

pub struct County {
    pub name: &'static str,
    pub city: &'static str,
    pub province: &'static str,
}

pub struct Township {
    pub name: &'static str,
    pub county: &'static str,
}

struct Index {
    provinces: HashMap<&'static str, &'static str>,
    cities: HashMap<&'static str, (&'static str, &'static str)>,
    counties: HashMap<&'static str, County>,
    townships: HashMap<&'static str, Township>,
}

/// `code,"name",rest…` rows after the header; the data has no commas in names.
fn rows(csv: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    csv.lines().skip(1).filter(|l| !l.is_empty()).map(|l| l.split(',').map(|f| f.trim_matches('"')).collect())
}

static INDEX: LazyLock<Index> = LazyLock::new(|| Index {
    provinces: rows(PROVINCES).map(|r| (r[0], r[1])).collect(),
    cities: rows(CITIES).map(|r| (r[0], (r[1], r[2]))).collect(),
    counties: rows(AREAS).map(|r| (r[0], County { name: r[1], city: r[2], province: r[3] })).collect(),
    townships: rows(STREETS).map(|r| (r[0], Township { name: r[1], county: r[2] })).collect(),
});

/// Builds the index now rather than on the first request that needs it.
pub fn warm() {
    LazyLock::force(&INDEX);
}

pub fn province_name(code: &str) -> Option<&'static str> {
    INDEX.provinces.get(code).copied()
}

/// City name, `None` for the "市辖区" placeholder of the municipalities.
pub fn city_name(code: &str) -> Option<&'static str> {
    INDEX
        .cities
        .get(code)
        .map(|(n, _)| *n)
        .filter(|n| !matches!(*n, "市辖区" | "县" | "省直辖县级行政区划" | "自治区直辖县级行政区划"))
}

pub fn county(code: &str) -> Option<&'static County> {
    INDEX.counties.get(code)
}

pub fn township(code: &str) -> Option<&'static Township> {
    INDEX.townships.get(code)
}

/// Every county-level division, for name-rule matching.
pub fn counties() -> impl Iterator<Item = (&'static str, &'static County)> {
    INDEX.counties.iter().map(|(k, v)| (*k, v))
}

/// The township codes of a county, in code order.
pub fn townships_of(county: &str) -> Vec<&'static str> {
    let mut v: Vec<&'static str> =
        INDEX.townships.iter().filter(|(_, t)| t.county == county).map(|(k, _)| *k).collect();
    v.sort_unstable();
    v
}

pub fn provinces() -> impl Iterator<Item = (&'static str, &'static str)> {
    INDEX.provinces.iter().map(|(k, v)| (*k, *v))
}

pub fn cities() -> impl Iterator<Item = (&'static str, &'static str)> {
    INDEX.cities.iter().map(|(k, (n, _))| (*k, *n))
}
