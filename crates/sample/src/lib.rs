//! Synthetic federations and Template v1 workbooks, for `unionstat demo`, tests and
//! benchmarks.
//!
//! Everything here is deterministic: the same [`Shape`] (seed included) gives the same
//! tree, the same figures and byte-identical workbooks.
//!
//! - [`org_tree`] builds the federation tree (province → cities → counties → towns →
//!   grassroots unions) with Chinese names and codes that append digits per level
//!   (`330000`, `330100`, `330102`, `330102001`, `330102001017`).
//! - [`unit_figures`] gives one grassroots union's figures for a month, consistent
//!   with every catalogue rule and drifting only a few per cent month to month.
//! - [`workbook`] writes a Template v1 `.xlsx` (`封面` + `基层工会情况`).
//! - [`sheets_iter`] / [`sheets`] give one workbook per expected reporter (the towns)
//!   per month, a few of them with a deliberate error, and one town missing in the
//!   last month.

use std::collections::{HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rust_xlsxwriter::{DocProperties, ExcelDateTime};

use unionstat_core::catalog::Catalog;
use unionstat_core::period::Period;
use unionstat_core::text::cell_ref;
// One row of the units sheet (values in catalogue order) is a template's line.
use unionstat_core::workbook_out::{
    write_template, CoverFields, TemplateSpec, Total, UnitLine as Row,
};

pub use unionstat_core::orgs::{OrgKind, OrgRecord};
/// The layout of Template v1, shared with the templates unionstat hands out.
pub use unionstat_core::workbook_out::{
    COVER_SHEET, FIRST_METRIC_COL, FIRST_UNIT_ROW, HEADER_ROW, UNITS_SHEET,
};

/// Code of the province at the root of a sample tree.
pub const PROVINCE_CODE: &str = "330000";
/// Name of the province federation of a sample tree.
pub const PROVINCE_NAME: &str = "示例省总工会";

// ------------------------------------------------------------------------ shape

/// The size of a synthetic federation and what to generate for it.
///
/// The tree is uniform: every city has `counties_per_city` counties, every county
/// `towns_per_county` towns, every town `units_per_town` grassroots unions. Codes
/// bound the counts: `cities` ≤ 99, `counties_per_city` ≤ 98, `towns_per_county` ≤
/// 999, `units_per_town` ≤ 998.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    pub cities: usize,
    pub counties_per_city: usize,
    pub towns_per_county: usize,
    pub units_per_town: usize,
    /// The months to generate workbooks for, oldest first.
    pub months: Vec<Period>,
    /// Seed of every random choice (names, figures, which workbooks are wrong).
    pub seed: u64,
    /// Number of workbooks given a deliberate error (each in a different town, all in
    /// the last month). Capped at the number of towns that report that month.
    pub mistakes: usize,
}

impl Shape {
    /// The demo province: 4 cities × 3 counties × 6 towns × 40 units = 2,880
    /// grassroots unions under 72 towns, the twelve months of the statistical
    /// year 2026SY (2025-10..=2026-09), 4 workbooks of 2026-09 with a deliberate
    /// error (one of each kind) and one town missing in 2026-09.
    pub fn demo() -> Shape {
        Shape {
            cities: 4,
            counties_per_city: 3,
            towns_per_county: 6,
            units_per_town: 40,
            months: month_range(period(2025, 10), 12),
            seed: 20_260_930,
            mistakes: 4,
        }
    }

    /// A province of about `towns` towns (rounded up to fill a uniform tree of up to
    /// 11 cities; exact when `towns` factors nicely, e.g. 1,500 = 10 × 10 × 15) with
    /// `units_per_town` grassroots unions each, for benchmarks: 1,500 × 100 is a large
    /// real province (150k units). No deliberate mistakes (set [`Shape::mistakes`] for
    /// some); one town is still missing in the last month.
    pub fn province(towns: usize, units_per_town: usize, months: Vec<Period>) -> Shape {
        let towns = towns.max(1);
        let mut best: Option<((usize, usize), (usize, usize, usize))> = None;
        for cities in 1..=11usize {
            for counties in 1..=12usize {
                let per_county = towns.div_ceil(cities * counties);
                if per_county > 999 {
                    continue;
                }
                let overshoot = cities * counties * per_county - towns;
                let score = (overshoot, per_county.abs_diff(15) + cities.abs_diff(11));
                if best.is_none_or(|(s, _)| score < s) {
                    best = Some((score, (cities, counties, per_county)));
                }
            }
        }
        let (cities, counties_per_city, towns_per_county) =
            best.map(|(_, t)| t).unwrap_or((11, 12, 999));
        Shape {
            cities,
            counties_per_city,
            towns_per_county,
            units_per_town,
            months,
            seed: 20_260_101,
            mistakes: 0,
        }
    }

    /// Number of towns (the expected reporters).
    pub fn towns(&self) -> usize {
        self.cities * self.counties_per_city * self.towns_per_county
    }

    /// Number of grassroots unions.
    pub fn units(&self) -> usize {
        self.towns() * self.units_per_town
    }
}

/// `count` consecutive months starting at `first`.
pub fn month_range(first: Period, count: usize) -> Vec<Period> {
    let mut out = Vec::with_capacity(count);
    let mut p = first;
    for _ in 0..count {
        out.push(p);
        p = p.next();
    }
    out
}

fn period(year: i32, month: u32) -> Period {
    Period::new(year, month).expect("a valid month")
}

// ------------------------------------------------------------------------ hashing

/// A stable 64-bit hash of a seed and some byte strings (FNV-1a + splitmix64
/// finaliser), to seed one random stream per unit or per unit and month.
fn mix(seed: u64, parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut z = h.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn rng_for(seed: u64, parts: &[&[u8]]) -> StdRng {
    StdRng::seed_from_u64(mix(seed, parts))
}

// ------------------------------------------------------------------------ names

const PLACE_A: [&str; 30] = [
    "东", "西", "南", "北", "青", "清", "安", "平", "长", "永", "新", "兴", "宁", "和", "嘉", "丰",
    "华", "江", "海", "山", "云", "金", "玉", "明", "泰", "瑞", "湖", "松", "桐", "临",
];
const PLACE_B: [&str; 30] = [
    "阳", "州", "川", "溪", "源", "城", "桥", "林", "塘", "浦", "港", "亭", "泉", "岭", "坪", "河",
    "丘", "原", "口", "坝", "渚", "埠", "田", "坂", "洲", "里", "墩", "湾", "堰", "岙",
];
const BRANDS: [&str; 40] = [
    "恒达", "华信", "永盛", "金帆", "宏远", "鑫源", "天成", "博瑞", "卓越", "汇通", "远航", "嘉禾",
    "瑞丰", "新峰", "德隆", "佳美", "龙腾", "星辰", "凯利", "安泰", "富达", "宏泰", "明辉", "海润",
    "润泽", "隆鑫", "益康", "广源", "振华", "同创", "立信", "东升", "银河", "万象", "金桥", "春晖",
    "和顺", "诚信", "兴旺", "永新",
];
const INDUSTRIES: [&str; 25] = [
    "机械",
    "电子",
    "纺织",
    "服饰",
    "食品",
    "物流",
    "建材",
    "化工",
    "科技",
    "塑业",
    "五金",
    "印染",
    "包装",
    "汽配",
    "医疗器械",
    "家居",
    "新材料",
    "光电",
    "精密",
    "电器",
    "建设",
    "物业",
    "商贸",
    "信息技术",
    "环保",
];
const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "郑",
];
const GIVEN: [&str; 20] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀英", "霞", "建华",
];

/// A two-character place name; distinct for `index` < 900 under one `salt`.
fn place_name(index: usize, salt: u64) -> String {
    let n = PLACE_A.len() * PLACE_B.len();
    // 17 is coprime with 900: a bijection that does not look sequential.
    let p = (index % n * 17 + (salt % n as u64) as usize) % n;
    let a = p % PLACE_A.len();
    let b = (p / PLACE_A.len() + a) % PLACE_B.len();
    let mut s = format!("{}{}", PLACE_A[a], PLACE_B[b]);
    if index >= n {
        s.push_str(&(index / n + 1).to_string());
    }
    s
}

/// A company name (brand + industry); distinct for `index` < 1,000 under one `salt`.
fn company_name(index: usize, salt: u64, big: bool) -> String {
    let n = BRANDS.len() * INDUSTRIES.len();
    // 37 is coprime with 1,000: a bijection that does not look sequential.
    let q = (index % n * 37 + (salt % n as u64) as usize) % n;
    let a = q % BRANDS.len();
    let b = (q / BRANDS.len() + a) % INDUSTRIES.len();
    let form = if big {
        if salt % 2 == 0 {
            "集团有限公司"
        } else {
            "股份有限公司"
        }
    } else {
        "有限公司"
    };
    format!("{}{}{}", BRANDS[a], INDUSTRIES[b], form)
}

fn person_name(h: u64) -> String {
    format!(
        "{}{}",
        SURNAMES[(h % SURNAMES.len() as u64) as usize],
        GIVEN[((h >> 16) % GIVEN.len() as u64) as usize]
    )
}

// ------------------------------------------------------------------------ tree

/// The federation tree of `shape`, parents before children: the province
/// ([`PROVINCE_CODE`]), its cities (`330100`, `330200`, …), their counties
/// (`330102`, `330103`, …), their towns (`330102001`, …; `expected_to_report`) and
/// the grassroots unions of each town (`330102001001`, …).
///
/// # Panics
/// When a count exceeds what the codes can hold (see [`Shape`]).
pub fn org_tree(shape: &Shape) -> Vec<OrgRecord> {
    assert!(shape.cities <= 99, "at most 99 cities (two code digits)");
    assert!(
        shape.counties_per_city <= 98,
        "at most 98 counties per city (codes 02..99)"
    );
    assert!(
        shape.towns_per_county <= 999,
        "at most 999 towns per county (three code digits)"
    );
    assert!(
        shape.units_per_town <= 998,
        "at most 998 units per town (three code digits)"
    );
    let seed = shape.seed;
    let mut out = Vec::with_capacity(
        1 + shape.cities * (1 + shape.counties_per_city) + shape.towns() + shape.units(),
    );
    let fed = |code: String, name: String, parent: &str, expected: bool| OrgRecord {
        code,
        name,
        parent_code: Some(parent.to_string()),
        kind: OrgKind::Federation,
        expected_to_report: expected,
    };
    out.push(OrgRecord {
        code: PROVINCE_CODE.to_string(),
        name: PROVINCE_NAME.to_string(),
        parent_code: None,
        kind: OrgKind::Federation,
        expected_to_report: false,
    });
    let city_salt = mix(seed, &[b"cities"]);
    for ci in 0..shape.cities {
        let city_code = format!("33{:02}00", ci + 1);
        let city_place = place_name(ci, city_salt);
        out.push(fed(
            city_code.clone(),
            format!("{city_place}市总工会"),
            PROVINCE_CODE,
            false,
        ));
        let county_salt = mix(seed, &[city_code.as_bytes()]);
        for ki in 0..shape.counties_per_city {
            let county_code = format!("33{:02}{:02}", ci + 1, ki + 2);
            // The first half are urban districts (区, with 街道), the rest counties (县, with 镇).
            let district = ki < shape.counties_per_city.div_ceil(2);
            let county_place = place_name(ki, county_salt);
            let suffix = if district { "区" } else { "县" };
            out.push(fed(
                county_code.clone(),
                format!("{county_place}{suffix}总工会"),
                &city_code,
                false,
            ));
            let town_salt = mix(seed, &[county_code.as_bytes()]);
            for ti in 0..shape.towns_per_county {
                let town_code = format!("{county_code}{:03}", ti + 1);
                let town_label = format!(
                    "{}{}",
                    place_name(ti, town_salt),
                    if district { "街道" } else { "镇" }
                );
                out.push(fed(
                    town_code.clone(),
                    format!("{town_label}总工会"),
                    &county_code,
                    true,
                ));
                let unit_salt = mix(seed, &[town_code.as_bytes()]);
                for ui in 0..shape.units_per_town {
                    let code = format!("{town_code}{:03}", ui + 1);
                    let profile = Profile::of(&code, seed);
                    let name = match profile.kind {
                        UnitType::Company => format!(
                            "{city_place}{}工会",
                            company_name(ui, unit_salt, profile.employees >= 1000.0)
                        ),
                        UnitType::Joint => {
                            let village = place_name(ui, unit_salt);
                            if profile.gig_share > 0.2 {
                                format!("{town_label}{village}快递物流行业联合工会")
                            } else {
                                format!("{town_label}{village}村联合工会")
                            }
                        }
                        UnitType::School => {
                            format!("{town_label}{}小学工会", place_name(ui, unit_salt))
                        }
                        UnitType::Clinic => {
                            format!(
                                "{town_label}{}社区卫生服务站工会",
                                place_name(ui, unit_salt)
                            )
                        }
                    };
                    out.push(OrgRecord {
                        code,
                        name,
                        parent_code: Some(town_code.clone()),
                        kind: OrgKind::Grassroots,
                        expected_to_report: false,
                    });
                }
            }
        }
    }
    out
}

/// Master data as CSV (RFC 4180, UTF-8, no BOM) with the header
/// `code,name,parent_code,kind,expected_to_report`; an absent parent is an empty
/// field, `kind` is `federation`/`grassroots`, `expected_to_report` `true`/`false`.
pub fn orgs_csv(orgs: &[OrgRecord]) -> String {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(orgs.len() * 64 + 64));
    let io = "writing CSV to memory cannot fail";
    w.write_record(["code", "name", "parent_code", "kind", "expected_to_report"])
        .expect(io);
    for o in orgs {
        w.write_record([
            o.code.as_str(),
            o.name.as_str(),
            o.parent_code.as_deref().unwrap_or(""),
            o.kind.as_str(),
            if o.expected_to_report {
                "true"
            } else {
                "false"
            },
        ])
        .expect(io);
    }
    let bytes = w.into_inner().expect(io);
    String::from_utf8(bytes).expect("CSV of UTF-8 strings is UTF-8")
}

// ------------------------------------------------------------------------ figures

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UnitType {
    /// One enterprise with its own union.
    Company,
    /// A joint union (联合工会) of several small enterprises.
    Joint,
    School,
    Clinic,
}

/// Groups of optional metrics a sloppy unit may leave empty, all or none.
const OPTIONAL_GROUPS: &[&[&str]] = &[
    &["migrant_workers", "migrant_members"],
    &["gig_workers", "gig_members"],
    &["enterprises_100plus", "unions_100plus"],
    &["wcc_units", "openness_units"],
    &["collective_contracts", "cc_covered_employees"],
    &[
        "needy_workers",
        "needy_national",
        "needy_provincial",
        "needy_local",
    ],
    &["fulltime_cadres", "parttime_cadres"],
    &["new_members"],
    &["skill_contests", "contest_participants"],
    &[
        "disputes_received",
        "disputes_closed",
        "dispute_amount_yuan",
    ],
    &["relief_persons", "relief_yuan"],
    &["dues_collected_yuan"],
];

/// The stable traits of one grassroots union; months add small noise around them.
#[derive(Debug, Clone)]
struct Profile {
    kind: UnitType,
    employees: f64,
    /// Relative change of headcount per month.
    growth: f64,
    required: i64,
    established: i64,
    e100: i64,
    u100: i64,
    wcc: i64,
    openness: i64,
    member_rate: f64,
    female_share: f64,
    female_rate: f64,
    migrant_share: f64,
    migrant_rate: f64,
    gig_share: f64,
    gig_rate: f64,
    contracts: i64,
    cc_coverage: f64,
    needy: [i64; 3],
    fulltime: i64,
    parttime: i64,
    turnover: f64,
    contest_p: f64,
    dispute_p: f64,
    /// Average monthly wage in cents.
    wage_cents: f64,
    /// Bit i set: [`OPTIONAL_GROUPS`]\[i\] is not reported.
    omit: u32,
}

fn log_uniform(r: &mut StdRng, lo: f64, hi: f64) -> f64 {
    (lo.ln() + r.random::<f64>() * (hi.ln() - lo.ln())).exp()
}

impl Profile {
    fn of(code: &str, seed: u64) -> Profile {
        let r = &mut rng_for(seed, &[b"unit", code.as_bytes()]);
        let kind = match r.random_range(0..100) {
            0..65 => UnitType::Company,
            65..87 => UnitType::Joint,
            87..95 => UnitType::School,
            _ => UnitType::Clinic,
        };
        let employees = match kind {
            UnitType::Company => log_uniform(r, 20.0, 2000.0),
            UnitType::Joint => log_uniform(r, 25.0, 600.0),
            UnitType::School => log_uniform(r, 30.0, 200.0),
            UnitType::Clinic => log_uniform(r, 20.0, 150.0),
        };
        let required = match kind {
            UnitType::Joint => r.random_range(2..=5),
            _ => 1,
        };
        let established = if required > 1 {
            match r.random_range(0..10) {
                0..5 => required,
                5..9 => required - 1,
                _ => (required - 2).max(1),
            }
        } else {
            1
        };
        let e100 = match kind {
            UnitType::Joint => i64::from(employees >= 300.0 && r.random_bool(0.6)),
            _ => i64::from(employees >= 100.0),
        };
        let u100 = if e100 > 0 && established < required && r.random_bool(0.3) {
            0
        } else {
            e100
        };
        let share_of = |r: &mut StdRng, n: i64, p: f64| -> i64 {
            if n <= 1 {
                i64::from(r.random_bool(p))
            } else {
                r.random_range((n + 1) / 2..=n)
            }
        };
        let wcc = share_of(r, established, 0.9);
        let openness = share_of(r, established, 0.85);
        let (female_share, migrant_share) = match kind {
            UnitType::Company => (r.random_range(0.2..0.6), r.random_range(0.1..0.6)),
            UnitType::Joint => (r.random_range(0.25..0.6), r.random_range(0.3..0.8)),
            UnitType::School => (r.random_range(0.6..0.8), r.random_range(0.0..0.05)),
            UnitType::Clinic => (r.random_range(0.6..0.8), r.random_range(0.0..0.1)),
        };
        let gig_share = match kind {
            UnitType::Company if r.random_bool(0.1) => r.random_range(0.01..0.2),
            UnitType::Joint if r.random_bool(0.3) => r.random_range(0.05..0.4),
            _ => 0.0,
        };
        let contracts = match kind {
            UnitType::Company => {
                i64::from(r.random_bool(0.85))
                    + i64::from(r.random_bool(0.6))
                    + i64::from(r.random_bool(0.4))
            }
            UnitType::Joint => {
                if r.random_bool(0.8) {
                    r.random_range(1..=2)
                } else {
                    0
                }
            }
            _ => i64::from(r.random_bool(0.7)),
        };
        let needy_total = if r.random_bool(0.4) {
            r.random_range(0..=((employees / 150.0) as i64).max(1))
        } else {
            0
        };
        let national = (needy_total as f64 * r.random_range(0.0..0.4)).round() as i64;
        let provincial =
            ((needy_total - national) as f64 * r.random_range(0.3..0.7)).round() as i64;
        let local = needy_total - national - provincial;
        let fulltime = if employees >= 200.0 {
            1 + i64::from(employees >= 1000.0) + (employees / 3000.0) as i64
        } else {
            i64::from(kind == UnitType::Joint && r.random_bool(0.3))
        };
        let parttime = if employees < 25.0 {
            r.random_range(1..=3)
        } else {
            (3 + (employees / 200.0) as i64).min(21)
        };
        let mut omit = 0u32;
        if r.random_bool(0.2) {
            for i in 0..OPTIONAL_GROUPS.len() {
                if r.random_bool(0.25) {
                    omit |= 1 << i;
                }
            }
        }
        Profile {
            kind,
            employees,
            growth: r.random_range(-0.004..0.006),
            required,
            established,
            e100,
            u100,
            wcc,
            openness,
            member_rate: r.random_range(0.85..0.995),
            female_share,
            female_rate: r.random_range(0.85..1.0),
            migrant_share,
            migrant_rate: r.random_range(0.75..0.97),
            gig_share,
            gig_rate: r.random_range(0.5..0.95),
            contracts,
            cc_coverage: r.random_range(0.9..1.0),
            needy: [national, provincial, local],
            fulltime,
            parttime,
            turnover: r.random_range(0.0..0.02),
            contest_p: r.random_range(0.0..0.3),
            dispute_p: (employees / 5000.0).min(0.3),
            wage_cents: r.random_range(4_500.0..15_000.0) * 100.0,
            omit,
        }
    }

    /// Every known metric's value for `period` (before omissions).
    fn month(&self, code: &str, period: Period, seed: u64) -> Vec<(&'static str, i64)> {
        let key = period.to_string();
        let r = &mut rng_for(seed, &[b"month", code.as_bytes(), key.as_bytes()]);
        let t = f64::from(period.year() * 12 + period.month() as i32 - (2026 * 12 + 1));
        let trend = (1.0 + self.growth * t).clamp(0.5, 1.6);
        let employees = ((self.employees * trend * (1.0 + r.random_range(-0.015..0.015))).round()
            as i64)
            .max(3);
        let ratio = |n: i64, share: f64| -> i64 {
            ((n as f64 * share.clamp(0.0, 1.0)).round() as i64).clamp(0, n)
        };
        let members = ratio(employees, self.member_rate + r.random_range(-0.003..0.003));
        let female_employees = ratio(employees, self.female_share + r.random_range(-0.002..0.002));
        let female_members = ratio(female_employees, self.female_rate).min(members);
        let migrant_workers = ratio(employees, self.migrant_share);
        let migrant_members = ratio(migrant_workers, self.migrant_rate).min(members);
        let gig_workers = ratio(employees, self.gig_share);
        let gig_members = ratio(gig_workers, self.gig_rate).min(members);
        let cc_covered = if self.contracts > 0 {
            ratio(employees, self.cc_coverage)
        } else {
            0
        };

        let mut needy = self.needy;
        if r.random_bool(0.1) {
            let i = r.random_range(0..3);
            needy[i] = (needy[i] + if r.random_bool(0.5) { 1 } else { -1 }).max(0);
        }

        // Flows of the month.
        let new_members =
            (employees as f64 * self.turnover * r.random_range(0.5..1.5)).round() as i64;
        let skill_contests = if r.random_bool(self.contest_p) {
            r.random_range(1..=2)
        } else {
            0
        };
        let contest_participants = (0..skill_contests)
            .map(|_| r.random_range(5..=employees.clamp(5, 150)))
            .sum::<i64>();
        let disputes_received = if r.random_bool(self.dispute_p) {
            if r.random_bool(0.2) {
                2
            } else {
                1
            }
        } else {
            0
        };
        let disputes_closed = if disputes_received > 0 && r.random_bool(0.3) {
            disputes_received - 1
        } else {
            disputes_received
        };
        let dispute_amount = (0..disputes_received)
            .map(|_| r.random_range(3_000_00..=150_000_00i64))
            .sum::<i64>();
        let festival = match period.month() {
            1 | 2 => 3.0,
            6..=8 => 1.5,
            9 => 1.2,
            _ => 1.0,
        };
        let needy_total: i64 = needy.iter().sum();
        let relief_persons =
            ((needy_total + r.random_range(0..=employees / 40)) as f64 * festival).round() as i64;
        let mut relief_cents: i64 = (0..relief_persons.min(500))
            .map(|_| r.random_range(2..=10i64) * 100_00)
            .sum::<i64>();
        if relief_persons > 500 {
            relief_cents = relief_cents * relief_persons / 500;
        }
        if relief_cents > 0 && r.random_bool(0.3) {
            relief_cents += r.random_range(1..100);
        }
        let dues_cents =
            (employees as f64 * self.wage_cents * 0.02 * r.random_range(0.95..1.05)).round() as i64;

        vec![
            ("enterprises_required", self.required),
            ("unions_established", self.established),
            ("employees", employees),
            ("members", members),
            ("female_employees", female_employees),
            ("female_members", female_members),
            ("migrant_workers", migrant_workers),
            ("migrant_members", migrant_members),
            ("gig_workers", gig_workers),
            ("gig_members", gig_members),
            ("enterprises_100plus", self.e100),
            ("unions_100plus", self.u100),
            ("wcc_units", self.wcc),
            ("openness_units", self.openness),
            ("collective_contracts", self.contracts),
            ("cc_covered_employees", cc_covered),
            ("needy_workers", needy_total),
            ("needy_national", needy[0]),
            ("needy_provincial", needy[1]),
            ("needy_local", needy[2]),
            ("fulltime_cadres", self.fulltime),
            ("parttime_cadres", self.parttime),
            ("new_members", new_members),
            ("skill_contests", skill_contests),
            ("contest_participants", contest_participants),
            ("disputes_received", disputes_received),
            ("disputes_closed", disputes_closed),
            ("dispute_amount_yuan", dispute_amount),
            ("relief_persons", relief_persons),
            ("relief_yuan", relief_cents),
            ("dues_collected_yuan", dues_cents),
        ]
    }

    fn omits(&self, metric: &str) -> bool {
        OPTIONAL_GROUPS
            .iter()
            .enumerate()
            .any(|(i, g)| self.omit & (1 << i) != 0 && g.contains(&metric))
    }
}

/// One unit's figures in catalogue order: `None` where the unit does not report
/// (a sloppy unit's optional metric, or a catalogue metric this generator does not
/// know). Values are scaled by 10^decimals, i.e. yuan in cents.
fn row_values(catalog: &Catalog, unit_code: &str, period: Period, seed: u64) -> Vec<Option<i64>> {
    let profile = Profile::of(unit_code, seed);
    let all = profile.month(unit_code, period, seed);
    catalog
        .metrics
        .iter()
        .map(|m| {
            if profile.omits(&m.code) {
                return None;
            }
            all.iter().find(|(c, _)| *c == m.code).map(|&(_, v)| v)
        })
        .collect()
}

/// The figures grassroots union `unit_code` reports for `period`, as (metric code,
/// value scaled by 10^decimals) in catalogue order. Metrics the unit leaves empty
/// (and catalogue metrics this generator does not know) are absent.
///
/// Deterministic in (`unit_code`, `period`, `seed`) and consistent with every
/// catalogue rule (members ≤ employees, needy_workers = its three parts, …). Stock
/// figures derive from a per-unit base with a slow trend and ±1.5 % monthly noise, so
/// no month-on-month change warning fires; flows vary freely. About one unit in
/// five leaves a few optional metric groups empty (≈5 % of those cells); employees,
/// members, enterprises_required and unions_established are always reported.
pub fn unit_figures(
    catalog: &Catalog,
    unit_code: &str,
    period: Period,
    seed: u64,
) -> Vec<(String, i64)> {
    catalog
        .metrics
        .iter()
        .zip(row_values(catalog, unit_code, period, seed))
        .filter_map(|(m, v)| v.map(|v| (m.code.clone(), v)))
        .collect()
}

// ------------------------------------------------------------------------ workbook

fn column_sums(width: usize, rows: &[Row]) -> Vec<Option<i64>> {
    let mut sums: Vec<Option<i64>> = vec![None; width];
    for row in rows {
        for (s, v) in sums.iter_mut().zip(&row.values) {
            if let Some(v) = v {
                *s = Some(s.unwrap_or(0) + v);
            }
        }
    }
    sums
}

/// Writes the workbook. `total`: the values of a 合计 row, when there is one.
fn render(
    catalog: &Catalog,
    reporter: &OrgRecord,
    period: Period,
    rows: &[Row],
    total: Option<&[Option<i64>]>,
) -> Vec<u8> {
    let h = mix(0, &[reporter.code.as_bytes()]);
    // The filing date: a working day early in the following month, fixed so the
    // bytes are reproducible (docProps/core.xml carries it).
    let next = period.next();
    let day = 3 + (h % 6) as u8;
    let created = ExcelDateTime::from_ymd(next.year() as u16, next.month() as u8, day)
        .and_then(|d| d.and_hms(9, 30, 0))
        .expect("a valid filing date");
    let properties = DocProperties::new()
        .set_title(format!(
            "{}年{}月基层工会统计月报表",
            period.year(),
            period.month()
        ))
        .set_author(reporter.name.as_str())
        .set_creation_datetime(&created);
    let cover = CoverFields {
        preparer: person_name(h >> 32),
        phone: format!("057{}-8{:07}", (h >> 8) % 10, (h >> 20) % 10_000_000),
        date: format!("{}-{:02}-{:02}", next.year(), next.month(), day),
        ..CoverFields::new(&reporter.code, &reporter.name, period)
    };
    write_template(
        catalog,
        &TemplateSpec {
            cover: &cover,
            rows,
            total: total.map_or(Total::Omit, Total::Values),
            guide: false,
            properties: Some(properties),
        },
    )
    .expect("writing a sample workbook in memory")
}

/// A Template v1 workbook (`.xlsx` bytes) from `reporter` for `period` listing
/// `units` with the figures `figures` gives for each ((metric code, scaled value or
/// `None` for an empty cell); unknown codes are ignored, catalogue metrics it does
/// not name stay empty).
///
/// Sheet `封面`: label/value pairs in A/B (报送单位代码, 报送单位名称, 报告期 as
/// `YYYY-MM` text, 填报人, 联系电话, 填报日期). Sheet `基层工会情况`: a merged title
/// in row 1, a subtitle in row 2, the header in row 3 (单位代码, 单位名称, then every
/// catalogue metric's canonical header with its unit in brackets), one row per unit
/// from row 4 (codes as text, figures as numbers, yuan to 2 decimals), with
/// `with_total` a 合计 row of the column sums (numbers, not formulas), then a blank
/// row and a 填表说明 note. The document's creation time is fixed, so equal inputs
/// give equal bytes.
pub fn workbook(
    catalog: &Catalog,
    reporter: &OrgRecord,
    period: Period,
    units: &[&OrgRecord],
    figures: &dyn Fn(&OrgRecord) -> Vec<(String, Option<i64>)>,
    with_total: bool,
) -> Vec<u8> {
    let rows: Vec<Row> = units
        .iter()
        .map(|u| {
            let mut values = vec![None; catalog.metrics.len()];
            for (code, v) in figures(u) {
                if let Some(i) = catalog.metric_position(&code) {
                    values[i] = v;
                }
            }
            Row {
                code: u.code.clone(),
                name: u.name.clone(),
                values,
            }
        })
        .collect();
    let total = with_total.then(|| column_sums(catalog.metrics.len(), &rows));
    render(catalog, reporter, period, &rows, total.as_deref())
}

// ------------------------------------------------------------------------ sheets

/// One generated workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleSheet {
    /// Code of the reporting town.
    pub reporter: String,
    pub period: Period,
    /// `{reporter}_{period}.xlsx`, e.g. `330102001_2026-09.xlsx`.
    pub file_name: String,
    /// The `.xlsx` file.
    pub bytes: Vec<u8>,
    /// What is deliberately wrong, with the cell, e.g. "members above employees at
    /// 基层工会情况!F7 (…)"; `None` for a correct workbook.
    pub mistake: Option<String>,
    /// The catalogue rule the deliberate error breaks (`members_le_employees`,
    /// `needy_parts_sum`, `total_mismatch`, `unit_unknown`); `None` for a correct
    /// workbook.
    pub mistake_rule: Option<&'static str>,
}

/// The kinds of deliberate error, assigned in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mistake {
    MembersAboveEmployees,
    NeedyParts,
    TotalMismatch,
    UnknownCode,
}

const MISTAKES: [Mistake; 4] = [
    Mistake::MembersAboveEmployees,
    Mistake::NeedyParts,
    Mistake::TotalMismatch,
    Mistake::UnknownCode,
];

/// Who reports what, decided once for all months.
struct Plan<'a> {
    reporters: Vec<&'a OrgRecord>,
    /// Grassroots units directly under each reporter, in master-data order.
    units: Vec<Vec<&'a OrgRecord>>,
    /// (reporter index, month index) → mistake number.
    mistakes: HashMap<(usize, usize), usize>,
    /// (reporter index, month index) that is not generated.
    missing: Option<(usize, usize)>,
    codes: HashSet<&'a str>,
}

impl<'a> Plan<'a> {
    fn new(shape: &Shape, orgs: &'a [OrgRecord]) -> Plan<'a> {
        let reporters: Vec<&OrgRecord> = orgs.iter().filter(|o| o.expected_to_report).collect();
        let index: HashMap<&str, usize> = reporters
            .iter()
            .enumerate()
            .map(|(i, o)| (o.code.as_str(), i))
            .collect();
        let mut units = vec![Vec::new(); reporters.len()];
        for o in orgs {
            if o.kind != OrgKind::Grassroots {
                continue;
            }
            if let Some(&i) = o.parent_code.as_deref().and_then(|p| index.get(p)) {
                units[i].push(o);
            }
        }
        let n = reporters.len();
        let months = shape.months.len();
        let missing = (n >= 2 && months >= 1).then(|| (n - 1, months - 1));
        let candidates = if missing.is_some() { n - 1 } else { n };
        let m = shape.mistakes.min(candidates);
        let mut mistakes = HashMap::new();
        if months >= 1 {
            for k in 0..m {
                // Midpoints of m equal slices: distinct towns spread over the province.
                let ri = (2 * k + 1) * candidates / (2 * m);
                mistakes.insert((ri, months - 1), k);
            }
        }
        let codes = orgs.iter().map(|o| o.code.as_str()).collect();
        Plan {
            reporters,
            units,
            mistakes,
            missing,
            codes,
        }
    }

    /// A unit code under `reporter` that master data does not have.
    fn unknown_code(&self, reporter: &str, units: usize) -> String {
        (units + 1..=999)
            .chain(0..=units)
            .map(|n| format!("{reporter}{n:03}"))
            .find(|c| !self.codes.contains(c.as_str()))
            .unwrap_or_else(|| format!("{reporter}X01"))
    }
}

/// Gives a row a deliberate error of kind `kind`; returns the description and rule,
/// and for a total mismatch (column, delta) to add to the 合计 row.
#[allow(clippy::type_complexity)]
fn apply_mistake(
    catalog: &Catalog,
    plan: &Plan,
    reporter: &OrgRecord,
    k: usize,
    rows: &mut [Row],
) -> Option<(String, &'static str, Option<(usize, i64)>)> {
    if rows.is_empty() {
        return None;
    }
    let len = rows.len();
    let target = (k * 7 + len / 2) % len;
    let pos = |code: &str| catalog.metric_position(code);
    let sheet_cell = |row: usize, col: usize| {
        format!(
            "{UNITS_SHEET}!{}",
            cell_ref(FIRST_UNIT_ROW + row as u32, col as u32)
        )
    };
    let metric_col = |i: usize| FIRST_METRIC_COL as usize + i;
    let mut kind = MISTAKES[k % MISTAKES.len()];
    let members_ok = pos("members").is_some() && pos("employees").is_some();
    let needy = [
        "needy_workers",
        "needy_national",
        "needy_provincial",
        "needy_local",
    ]
    .map(pos);
    let needy_ok = needy.iter().all(Option::is_some);
    if (kind == Mistake::MembersAboveEmployees && !members_ok)
        || (kind == Mistake::NeedyParts && !needy_ok)
        || (kind == Mistake::TotalMismatch && catalog.metrics.is_empty())
    {
        kind = Mistake::UnknownCode;
    }
    match kind {
        Mistake::MembersAboveEmployees => {
            let (mi, ei) = (pos("members")?, pos("employees")?);
            let row = &mut rows[target];
            let employees = row.values[ei].unwrap_or(100);
            row.values[ei] = Some(employees);
            let members = employees + (employees / 20).max(3);
            row.values[mi] = Some(members);
            Some((
                format!(
                    "members above employees at {}: unit {} reports {members} members but {employees} employees",
                    sheet_cell(target, metric_col(mi)),
                    row.code
                ),
                "members_le_employees",
                None,
            ))
        }
        Mistake::NeedyParts => {
            let [total_i, a, b, c] = needy.map(|p| p.expect("checked above"));
            let r = (0..len)
                .map(|d| (target + d) % len)
                .find(|&r| {
                    needy
                        .iter()
                        .all(|p| rows[r].values[p.expect("checked")].is_some())
                })
                .unwrap_or(target);
            let row = &mut rows[r];
            let parts = [a, b, c].map(|i| row.values[i].unwrap_or(1));
            for (i, v) in [a, b, c].into_iter().zip(parts) {
                row.values[i] = Some(v);
            }
            let sum: i64 = parts.iter().sum();
            let wrong = sum + 1 + (k % 3) as i64;
            row.values[total_i] = Some(wrong);
            Some((
                format!(
                    "needy_workers is not the sum of its parts at {}: unit {} reports {wrong} but {}+{}+{} = {sum}",
                    sheet_cell(r, metric_col(total_i)),
                    row.code,
                    parts[0],
                    parts[1],
                    parts[2]
                ),
                "needy_parts_sum",
                None,
            ))
        }
        Mistake::TotalMismatch => {
            let col = pos("members").unwrap_or(0);
            let sum: i64 = rows.iter().filter_map(|r| r.values[col]).sum();
            let delta = 100;
            Some((
                format!(
                    "a 合计 row that disagrees at {}: {} total written as {}, the rows add up to {sum}",
                    sheet_cell(len, metric_col(col)),
                    catalog.metrics[col].code,
                    sum + delta
                ),
                "total_mismatch",
                Some((col, delta)),
            ))
        }
        Mistake::UnknownCode => {
            let bad = plan.unknown_code(&reporter.code, len);
            let row = &mut rows[target];
            let good = std::mem::replace(&mut row.code, bad.clone());
            Some((
                format!(
                    "a unit code that does not exist at {}: {bad} (typed instead of {good})",
                    sheet_cell(target, 0)
                ),
                "unit_unknown",
                None,
            ))
        }
    }
}

struct SheetIter<'a> {
    catalog: &'a Catalog,
    months: Vec<Period>,
    seed: u64,
    plan: Plan<'a>,
    month: usize,
    reporter: usize,
}

impl SheetIter<'_> {
    fn make(&self, mi: usize, ri: usize) -> SampleSheet {
        let catalog = self.catalog;
        let reporter = self.plan.reporters[ri];
        let period = self.months[mi];
        let mut rows: Vec<Row> = self.plan.units[ri]
            .iter()
            .map(|u| Row {
                code: u.code.clone(),
                name: u.name.clone(),
                values: row_values(catalog, &u.code, period, self.seed),
            })
            .collect();
        // Every other town adds a (correct) 合计 row.
        let mut with_total = ri % 2 == 0;
        let mut mistake = None;
        let mut mistake_rule = None;
        let mut total_delta = None;
        if let Some(&k) = self.plan.mistakes.get(&(ri, mi)) {
            if let Some((text, rule, delta)) =
                apply_mistake(catalog, &self.plan, reporter, k, &mut rows)
            {
                mistake = Some(text);
                mistake_rule = Some(rule);
                if delta.is_some() {
                    with_total = true;
                    total_delta = delta;
                }
            }
        }
        let total = with_total.then(|| {
            let mut t = column_sums(catalog.metrics.len(), &rows);
            if let Some((col, delta)) = total_delta {
                t[col] = Some(t[col].unwrap_or(0) + delta);
            }
            t
        });
        SampleSheet {
            reporter: reporter.code.clone(),
            period,
            file_name: format!("{}_{}.xlsx", reporter.code, period),
            bytes: render(catalog, reporter, period, &rows, total.as_deref()),
            mistake,
            mistake_rule,
        }
    }

    fn remaining(&self) -> usize {
        let n = self.plan.reporters.len();
        let total = self.months.len() * n;
        let done = (self.month * n + self.reporter).min(total);
        let missing_ahead = match self.plan.missing {
            Some((ri, mi)) if mi * n + ri >= self.month * n + self.reporter => 1,
            _ => 0,
        };
        total - done - missing_ahead
    }
}

impl Iterator for SheetIter<'_> {
    type Item = SampleSheet;

    fn next(&mut self) -> Option<SampleSheet> {
        loop {
            if self.month >= self.months.len() || self.plan.reporters.is_empty() {
                return None;
            }
            let (mi, ri) = (self.month, self.reporter);
            self.reporter += 1;
            if self.reporter >= self.plan.reporters.len() {
                self.reporter = 0;
                self.month += 1;
            }
            if self.plan.missing == Some((ri, mi)) {
                continue;
            }
            return Some(self.make(mi, ri));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

/// The workbooks of `orgs` (typically [`org_tree`]`(shape)`) for `shape.months`,
/// built lazily one at a time: month by month, for every `expected_to_report`
/// federation in master-data order, listing the grassroots units directly under it.
///
/// Every other reporter adds a correct 合计 row. `shape.mistakes` workbooks of the
/// last month, in different towns spread over the list, carry one deliberate error
/// each, cycling through: members above employees in one row; needy_workers ≠ the
/// sum of its parts; a 合计 row that disagrees with the column sums; a unit code that
/// does not exist (replacing a real unit's code, which then is also missing). The
/// last reporter does not report in the last month (see [`missing_report`]).
pub fn sheets_iter<'a>(
    catalog: &'a Catalog,
    shape: &'a Shape,
    orgs: &'a [OrgRecord],
) -> impl Iterator<Item = SampleSheet> + 'a {
    SheetIter {
        catalog,
        months: shape.months.clone(),
        seed: shape.seed,
        plan: Plan::new(shape, orgs),
        month: 0,
        reporter: 0,
    }
}

/// All of [`sheets_iter`] at once.
pub fn sheets(catalog: &Catalog, shape: &Shape, orgs: &[OrgRecord]) -> Vec<SampleSheet> {
    sheets_iter(catalog, shape, orgs).collect()
}

/// The (reporter code, period) that [`sheets_iter`] leaves out on purpose: the last
/// expected reporter in the last month (when there are at least two reporters).
pub fn missing_report(shape: &Shape, orgs: &[OrgRecord]) -> Option<(String, Period)> {
    let reporters: Vec<&OrgRecord> = orgs.iter().filter(|o| o.expected_to_report).collect();
    let last = shape.months.last()?;
    (reporters.len() >= 2).then(|| (reporters[reporters.len() - 1].code.clone(), *last))
}

// ------------------------------------------------------------------------ tests

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use calamine::{Data, Reader, Xlsx};

    use super::*;
    use unionstat_core::catalog::{MetricKind, RuleCheck};

    fn catalog() -> Catalog {
        Catalog::builtin().unwrap()
    }

    fn small() -> Shape {
        Shape {
            cities: 2,
            counties_per_city: 2,
            towns_per_county: 3,
            units_per_town: 12,
            months: month_range(period(2026, 8), 2),
            seed: 7,
            mistakes: 4,
        }
    }

    fn read_sheet(bytes: &[u8], name: &str) -> Vec<Vec<Data>> {
        let mut wb: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
        let range = wb.worksheet_range(name).unwrap();
        assert_eq!(range.start(), Some((0, 0)));
        range.rows().map(|r| r.to_vec()).collect()
    }

    fn text(d: &Data) -> String {
        match d {
            Data::String(s) => s.clone(),
            other => panic!("expected text, got {other:?}"),
        }
    }

    fn num(d: &Data) -> f64 {
        match d {
            Data::Float(f) => *f,
            Data::Int(i) => *i as f64,
            other => panic!("expected a number, got {other:?}"),
        }
    }

    #[test]
    fn sample_demo_tree_has_the_promised_shape() {
        let shape = Shape::demo();
        let orgs = org_tree(&shape);
        assert_eq!(shape.towns(), 72);
        assert_eq!(shape.units(), 2880);
        assert_eq!(orgs.len(), 1 + 4 + 12 + 72 + 2880);
        let grassroots = orgs
            .iter()
            .filter(|o| o.kind == OrgKind::Grassroots)
            .count();
        assert_eq!(grassroots, 2880);
        let reporters: Vec<_> = orgs.iter().filter(|o| o.expected_to_report).collect();
        assert_eq!(reporters.len(), 72);
        assert!(reporters
            .iter()
            .all(|o| o.kind == OrgKind::Federation && o.code.len() == 9));
        assert_eq!(orgs[0].code, "330000");
        assert_eq!(orgs[0].name, "示例省总工会");
        assert_eq!(orgs[1].code, "330100");
        assert_eq!(orgs[2].code, "330102");
        assert_eq!(orgs[3].code, "330102001");
        assert_eq!(orgs[4].code, "330102001001");
        assert!(orgs[1].name.ends_with("市总工会"));
        assert!(orgs[2].name.ends_with("区总工会"));
        assert!(orgs[3].name.ends_with("街道总工会"));
        assert!(orgs[4].name.ends_with("工会"));
        for o in &orgs {
            let want = match o.kind {
                OrgKind::Grassroots => 12,
                OrgKind::Federation => o.code.len(),
            };
            assert_eq!(o.code.len(), want);
            assert!(o.code.chars().all(|c| c.is_ascii_digit()), "{}", o.code);
            if let Some(p) = &o.parent_code {
                if o.code.len() > 6 {
                    assert!(o.code.starts_with(p.as_str()), "{} under {p}", o.code);
                }
            }
        }
        // Names of the units of one town are distinct.
        for town in &reporters {
            let names: HashSet<&str> = orgs
                .iter()
                .filter(|o| o.parent_code.as_deref() == Some(town.code.as_str()))
                .map(|o| o.name.as_str())
                .collect();
            assert_eq!(names.len(), 40, "{}", town.code);
        }
        assert!(orgs.iter().any(|o| o.name.contains("有限公司工会")));
        assert!(orgs.iter().any(|o| o.name.contains("联合工会")));
    }

    #[test]
    fn sample_codes_are_unique_and_parents_come_first() {
        for shape in [Shape::demo(), small()] {
            let orgs = org_tree(&shape);
            let mut seen = HashSet::new();
            for o in &orgs {
                if let Some(p) = &o.parent_code {
                    assert!(
                        seen.contains(p.as_str()),
                        "{} before its parent {p}",
                        o.code
                    );
                }
                assert!(seen.insert(o.code.as_str()), "duplicate code {}", o.code);
            }
            assert_eq!(orgs.iter().filter(|o| o.parent_code.is_none()).count(), 1);
        }
    }

    #[test]
    fn sample_province_shapes() {
        let months = month_range(period(2026, 1), 12);
        let p = Shape::province(1500, 100, months.clone());
        assert_eq!(p.towns(), 1500);
        assert_eq!(p.units(), 150_000);
        assert_eq!(p.months.len(), 12);
        for towns in [1, 7, 97, 1499, 2000] {
            let p = Shape::province(towns, 10, months.clone());
            assert!(
                p.towns() >= towns && p.towns() <= towns + towns / 10 + 12,
                "{towns}: {p:?}"
            );
            assert!(p.cities <= 99 && p.counties_per_city <= 98 && p.towns_per_county <= 999);
        }
        assert_eq!(
            month_range(period(2026, 11), 3),
            vec![period(2026, 11), period(2026, 12), period(2027, 1)]
        );
    }

    #[test]
    fn sample_csv_parses_back() {
        let orgs = org_tree(&small());
        let text = orgs_csv(&orgs);
        assert!(text.starts_with("code,name,parent_code,kind,expected_to_report\n"));
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), orgs.len());
        for (row, o) in rows.iter().zip(&orgs) {
            assert_eq!(&row[0], o.code);
            assert_eq!(&row[1], o.name);
            assert_eq!(&row[2], o.parent_code.as_deref().unwrap_or(""));
            assert_eq!(&row[3], o.kind.as_str());
            assert_eq!(
                &row[4],
                if o.expected_to_report {
                    "true"
                } else {
                    "false"
                }
            );
        }
        // And the master-data importer reads it into the same records.
        assert_eq!(
            unionstat_core::orgs::parse_orgs(text.as_bytes()).unwrap(),
            orgs
        );
        // Quoting per RFC 4180.
        let odd = [OrgRecord {
            code: "1".into(),
            name: "a,\"b\"".into(),
            parent_code: None,
            kind: OrgKind::Grassroots,
            expected_to_report: false,
        }];
        assert!(orgs_csv(&odd).contains("\"a,\"\"b\"\"\""));
    }

    #[test]
    fn sample_figures_satisfy_every_rule() {
        let c = catalog();
        let shape = Shape::demo();
        let orgs = org_tree(&shape);
        let mut checked = 0;
        for unit in orgs
            .iter()
            .filter(|o| o.kind == OrgKind::Grassroots)
            .step_by(3)
        {
            for &p in &[
                period(2026, 1),
                period(2026, 7),
                period(2026, 9),
                period(2027, 12),
            ] {
                let figs: HashMap<String, i64> = unit_figures(&c, &unit.code, p, shape.seed)
                    .into_iter()
                    .collect();
                for rule in &c.rules {
                    let left = rule.left.as_deref().and_then(|l| figs.get(l));
                    let right: Option<Vec<i64>> =
                        rule.right.iter().map(|r| figs.get(r).copied()).collect();
                    let (Some(&left), Some(right)) = (left, right) else {
                        continue;
                    };
                    let sum: i64 = right.iter().sum();
                    match rule.check {
                        RuleCheck::Le => assert!(
                            left <= sum,
                            "{} {}: {} {left} > {sum}",
                            unit.code,
                            p,
                            rule.code
                        ),
                        RuleCheck::SumEq => {
                            assert_eq!(left, sum, "{} {}: {}", unit.code, p, rule.code)
                        }
                        RuleCheck::Builtin => continue,
                    }
                    checked += 1;
                }
                for (code, v) in &figs {
                    assert!(*v >= 0, "{code} negative");
                }
            }
        }
        assert!(checked > 10_000, "{checked}");
    }

    #[test]
    fn sample_figures_are_realistic_and_stable() {
        let c = catalog();
        let shape = Shape::demo();
        let orgs = org_tree(&shape);
        let units: Vec<&OrgRecord> = orgs
            .iter()
            .filter(|o| o.kind == OrgKind::Grassroots)
            .collect();
        let core = [
            "employees",
            "members",
            "enterprises_required",
            "unions_established",
        ];
        let optional: Vec<&str> = OPTIONAL_GROUPS
            .iter()
            .flat_map(|g| g.iter().copied())
            .collect();
        let (mut employees, mut members, mut required, mut established) = (0i64, 0i64, 0i64, 0i64);
        let (mut empty, mut cells) = (0usize, 0usize);
        for u in &units {
            let july: HashMap<String, i64> = unit_figures(&c, &u.code, period(2026, 7), shape.seed)
                .into_iter()
                .collect();
            let aug: HashMap<String, i64> = unit_figures(&c, &u.code, period(2026, 8), shape.seed)
                .into_iter()
                .collect();
            for k in core {
                assert!(aug.contains_key(k), "{} lacks {k}", u.code);
            }
            assert!((1..=5).contains(&aug["enterprises_required"]));
            assert!(
                (10..=2200).contains(&aug["employees"]),
                "{}",
                aug["employees"]
            );
            employees += aug["employees"];
            members += aug["members"];
            required += aug["enterprises_required"];
            established += aug["unions_established"];
            for m in &optional {
                cells += 1;
                empty += usize::from(!aug.contains_key(*m));
            }
            // Stocks move well under the 50 % month-on-month warning.
            for m in c.metrics.iter().filter(|m| m.kind == MetricKind::Stock) {
                if let (Some(&a), Some(&b)) = (july.get(&m.code), aug.get(&m.code)) {
                    if a >= 20 {
                        let change = (b - a).abs() as f64 / a as f64;
                        assert!(change < 0.1, "{} {}: {a} → {b}", u.code, m.code);
                    }
                }
            }
            // Yuan carry cents.
            if let Some(&d) = aug.get("dues_collected_yuan") {
                assert!(d > 0);
            }
        }
        let rate = members as f64 / employees as f64;
        assert!((0.85..0.99).contains(&rate), "membership rate {rate}");
        let unionisation = established as f64 / required as f64;
        assert!(
            (0.85..0.99).contains(&unionisation),
            "unionisation rate {unionisation}"
        );
        let share = empty as f64 / cells as f64;
        assert!((0.02..0.09).contains(&share), "empty share {share}");
        // Same inputs, same figures; another seed, other figures.
        let a = unit_figures(&c, "330102001001", period(2026, 9), 1);
        assert_eq!(a, unit_figures(&c, "330102001001", period(2026, 9), 1));
        assert_ne!(a, unit_figures(&c, "330102001001", period(2026, 9), 2));
    }

    #[test]
    fn sample_workbook_follows_template_v1() {
        let c = catalog();
        let shape = small();
        let orgs = org_tree(&shape);
        let town = orgs.iter().find(|o| o.expected_to_report).unwrap();
        let units: Vec<&OrgRecord> = orgs
            .iter()
            .filter(|o| o.parent_code.as_deref() == Some(town.code.as_str()))
            .collect();
        let p = period(2026, 9);
        let figures = |u: &OrgRecord| -> Vec<(String, Option<i64>)> {
            let mut v: Vec<(String, Option<i64>)> = unit_figures(&c, &u.code, p, shape.seed)
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect();
            if u.code.ends_with("002") {
                v.retain(|(k, _)| k != "new_members" && k != "relief_yuan");
                v.push(("relief_yuan".into(), Some(123_456)));
                v.push(("no_such_metric".into(), Some(1)));
            }
            v
        };
        let bytes = workbook(&c, town, p, &units, &figures, true);
        assert!(bytes.starts_with(b"PK\x03\x04"));

        let cover = read_sheet(&bytes, COVER_SHEET);
        let pairs: Vec<(String, String)> =
            cover.iter().map(|r| (text(&r[0]), text(&r[1]))).collect();
        assert_eq!(pairs[0], ("报送单位代码".into(), town.code.clone()));
        assert_eq!(pairs[1], ("报送单位名称".into(), town.name.clone()));
        assert_eq!(pairs[2], ("报告期".into(), "2026-09".into()));
        assert_eq!(pairs[3].0, "填报人");
        assert_eq!(pairs[4].0, "联系电话");
        assert_eq!(pairs[5].0, "填报日期");
        assert!(pairs[5].1.starts_with("2026-10-"));

        let rows = read_sheet(&bytes, UNITS_SHEET);
        assert_eq!(text(&rows[0][0]), "2026年9月基层工会统计月报表");
        assert!(text(&rows[1][0]).starts_with("填报单位："));
        let header = &rows[HEADER_ROW as usize];
        assert_eq!(text(&header[0]), "单位代码");
        assert_eq!(text(&header[1]), "单位名称");
        assert_eq!(header.len(), 2 + c.metrics.len());
        for i in 0..c.metrics.len() {
            let h = text(&header[2 + i]);
            assert_eq!(
                c.header(&h),
                Some(unionstat_core::catalog::HeaderMeaning::Metric(i)),
                "{h}"
            );
        }
        assert_eq!(
            text(&header[2 + c.metric_position("members").unwrap()]),
            "会员人数（人）"
        );
        assert_eq!(
            text(&header[2 + c.metric_position("relief_yuan").unwrap()]),
            "帮扶慰问金额（元）"
        );

        let first = FIRST_UNIT_ROW as usize;
        for (i, u) in units.iter().enumerate() {
            let row = &rows[first + i];
            assert_eq!(text(&row[0]), u.code, "codes are text");
            assert_eq!(text(&row[1]), u.name);
        }
        let second = &rows[first + 1];
        assert_eq!(
            second[2 + c.metric_position("new_members").unwrap()],
            Data::Empty
        );
        assert_eq!(
            num(&second[2 + c.metric_position("relief_yuan").unwrap()]),
            1234.56
        );

        let total = &rows[first + units.len()];
        assert_eq!(text(&total[0]), "合计");
        for (i, m) in c.metrics.iter().enumerate() {
            let sum: Option<i64> = units.iter().fold(None, |acc, u| {
                let v = figures(u)
                    .into_iter()
                    .find(|(k, _)| *k == m.code)
                    .and_then(|(_, v)| v);
                match (acc, v) {
                    (None, None) => None,
                    (a, v) => Some(a.unwrap_or(0) + v.unwrap_or(0)),
                }
            });
            match sum {
                Some(s) => assert!(
                    (num(&total[2 + i]) - m.to_f64(s)).abs() < 1e-6,
                    "{}",
                    m.code
                ),
                None => assert_eq!(total[2 + i], Data::Empty),
            }
        }
        let note = &rows[first + units.len() + 2];
        assert!(text(&note[0]).starts_with("填表说明"));
        assert!(c.is_note(&text(&note[0])));

        let no_total = workbook(&c, town, p, &units, &figures, false);
        let rows = read_sheet(&no_total, UNITS_SHEET);
        assert!(rows[first + units.len()].iter().all(|d| *d == Data::Empty));
    }

    #[test]
    fn sample_workbooks_are_deterministic() {
        let c = catalog();
        let shape = small();
        let orgs = org_tree(&shape);
        let a: Vec<SampleSheet> = sheets_iter(&c, &shape, &orgs).take(4).collect();
        let b: Vec<SampleSheet> = sheets_iter(&c, &shape, &orgs).take(4).collect();
        assert_eq!(a, b, "same seed, same bytes");
        let other = Shape { seed: 8, ..small() };
        let other_orgs = org_tree(&other);
        let d: Vec<SampleSheet> = sheets_iter(&c, &other, &other_orgs).take(4).collect();
        assert_ne!(a[0].bytes, d[0].bytes);
        assert_eq!(org_tree(&shape), orgs);
    }

    #[test]
    fn sample_sheets_carry_the_planned_mistakes_and_one_missing_town() {
        let c = catalog();
        let shape = Shape::demo();
        let orgs = org_tree(&shape);
        let started = std::time::Instant::now();
        let all = sheets(&c, &shape, &orgs);
        eprintln!(
            "demo sheets: {} workbooks in {:?}",
            all.len(),
            started.elapsed()
        );
        assert_eq!(all.len(), 72 * 12 - 1);
        assert_eq!(sheets_iter(&c, &shape, &orgs).size_hint(), (863, Some(863)));

        let (missing, last) = missing_report(&shape, &orgs).unwrap();
        assert_eq!(last, period(2026, 9));
        assert_eq!(shape.months[0], period(2025, 10));
        assert_eq!(all.iter().filter(|s| s.reporter == missing).count(), 11);
        assert!(!all
            .iter()
            .any(|s| s.reporter == missing && s.period == last));

        let wrong: Vec<&SampleSheet> = all.iter().filter(|s| s.mistake.is_some()).collect();
        assert_eq!(wrong.len(), 4);
        assert_eq!(all.iter().filter(|s| s.mistake_rule.is_some()).count(), 4);
        let towns: HashSet<&str> = wrong.iter().map(|s| s.reporter.as_str()).collect();
        assert_eq!(towns.len(), 4, "different towns");
        assert!(wrong
            .iter()
            .all(|s| s.period == last && s.reporter != missing));
        let rules: Vec<&str> = wrong.iter().filter_map(|s| s.mistake_rule).collect();
        for r in [
            "members_le_employees",
            "needy_parts_sum",
            "total_mismatch",
            "unit_unknown",
        ] {
            assert!(rules.contains(&r), "{r} in {rules:?}");
        }
        for s in &all {
            assert!(s.bytes.starts_with(b"PK\x03\x04"));
            assert_eq!(s.file_name, format!("{}_{}.xlsx", s.reporter, s.period));
        }

        // The cells the descriptions name hold the error.
        let known: HashSet<&str> = orgs.iter().map(|o| o.code.as_str()).collect();
        let col = |code: &str| 2 + c.metric_position(code).unwrap();
        for s in &wrong {
            let rows = read_sheet(&s.bytes, UNITS_SHEET);
            let desc = s.mistake.as_deref().unwrap();
            let cell = desc.split(&format!("{UNITS_SHEET}!")).nth(1).unwrap();
            let cell: String = cell
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric())
                .collect();
            let row_no: usize = cell
                .trim_start_matches(|ch: char| ch.is_ascii_alphabetic())
                .parse()
                .unwrap();
            let row = &rows[row_no - 1];
            match s.mistake_rule.unwrap() {
                "members_le_employees" => {
                    assert!(cell.starts_with('F'), "{desc}");
                    assert!(
                        num(&row[col("members")]) > num(&row[col("employees")]),
                        "{desc}"
                    );
                }
                "needy_parts_sum" => {
                    let parts: f64 = ["needy_national", "needy_provincial", "needy_local"]
                        .iter()
                        .map(|m| num(&row[col(m)]))
                        .sum();
                    assert_ne!(num(&row[col("needy_workers")]), parts, "{desc}");
                }
                "total_mismatch" => {
                    assert_eq!(text(&row[0]), "合计");
                    let units = &rows[FIRST_UNIT_ROW as usize..row_no - 1];
                    let sum: f64 = units.iter().map(|r| num(&r[col("members")])).sum();
                    assert_eq!(num(&row[col("members")]), sum + 100.0, "{desc}");
                }
                "unit_unknown" => {
                    assert!(cell.starts_with('A'));
                    assert!(!known.contains(text(&row[0]).as_str()), "{desc}");
                }
                other => panic!("unexpected rule {other}"),
            }
        }

        // Correct workbooks list exactly the units under the town, some with a 合计.
        let ok = all
            .iter()
            .find(|s| s.mistake.is_none() && s.bytes.len() > 0)
            .unwrap();
        let rows = read_sheet(&ok.bytes, UNITS_SHEET);
        let codes: Vec<String> = rows[FIRST_UNIT_ROW as usize..]
            .iter()
            .take_while(|r| matches!(&r[0], Data::String(s) if s.len() == 12))
            .map(|r| text(&r[0]))
            .collect();
        let expected: Vec<&str> = orgs
            .iter()
            .filter(|o| o.parent_code.as_deref() == Some(ok.reporter.as_str()))
            .map(|o| o.code.as_str())
            .collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn sample_small_shapes_do_not_break() {
        let c = catalog();
        let one = Shape {
            cities: 1,
            counties_per_city: 1,
            towns_per_county: 1,
            units_per_town: 1,
            mistakes: 3,
            ..small()
        };
        let orgs = org_tree(&one);
        let s = sheets(&c, &one, &orgs);
        // One town: nobody is left out; one mistake at most.
        assert_eq!(s.len(), 2);
        assert_eq!(s.iter().filter(|s| s.mistake.is_some()).count(), 1);
        assert!(missing_report(&one, &orgs).is_none());
        let none = Shape {
            months: vec![],
            ..small()
        };
        assert!(sheets(&c, &none, &org_tree(&none)).is_empty());
    }
}
