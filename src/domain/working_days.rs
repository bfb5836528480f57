//! Statutory time limits count working days (工作日) in China's time zone:
//! weekends are skipped, public holidays too, and make-up working Saturdays
//! or Sundays (调休) count. The holiday calendar is configuration.
use std::collections::HashSet;

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Utc, Weekday};

/// China Standard Time: UTC+8 all year.
pub fn cst() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("valid offset")
}

#[derive(Debug, Clone, Default)]
pub struct Calendar {
    pub holidays: HashSet<NaiveDate>,
    /// Weekend days that are working days.
    pub extra_working_days: HashSet<NaiveDate>,
}

impl Calendar {
    pub fn is_working_day(&self, d: NaiveDate) -> bool {
        if self.extra_working_days.contains(&d) {
            return true;
        }
        !matches!(d.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&d)
    }

    /// The deadline `days` working days after `from`: the end (24:00 CST) of
    /// the `days`-th working day after the day of `from`. The day itself does
    /// not count, as in the Civil Code's rule for periods (art. 201).
    pub fn add_working_days(&self, from: DateTime<Utc>, days: u32) -> DateTime<Utc> {
        let mut d = from.with_timezone(&cst()).date_naive();
        let mut left = days;
        while left > 0 {
            d += Duration::days(1);
            if self.is_working_day(d) {
                left -= 1;
            }
        }
        let end = (d + Duration::days(1)).and_hms_opt(0, 0, 0).expect("midnight");
        cst().from_local_datetime(&end).single().expect("fixed offset").with_timezone(&Utc)
    }

    /// Parses `YYYY-MM-DD` lists (configuration); bad entries are errors.
    pub fn from_lists(holidays: &[String], extra_working_days: &[String]) -> Result<Self, String> {
        let parse = |v: &[String]| -> Result<HashSet<NaiveDate>, String> {
            v.iter()
                .filter(|s| !s.trim().is_empty())
                .map(|s| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|e| format!("{s}: {e}")))
                .collect()
        };
        Ok(Self { holidays: parse(holidays)?, extra_working_days: parse(extra_working_days)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn cal(holidays: &[&str], extra: &[&str]) -> Calendar {
        let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        Calendar::from_lists(&v(holidays), &v(extra)).unwrap()
    }

    #[test]
    fn three_working_days_from_a_monday_end_on_thursday_midnight() {
        // Monday 2026-11-23 10:00 CST → end of Thursday 2026-11-26 CST.
        let due = cal(&[], &[]).add_working_days(at("2026-11-23T02:00:00Z"), 3);
        assert_eq!(due, at("2026-11-26T16:00:00Z"));
    }

    #[test]
    fn weekends_are_skipped() {
        // Thursday 2026-11-26 → Fri 27, Mon 30, Tue Dec 1.
        let due = cal(&[], &[]).add_working_days(at("2026-11-26T02:00:00Z"), 3);
        assert_eq!(due, at("2026-12-01T16:00:00Z"));
    }

    #[test]
    fn a_submission_late_friday_utc_is_already_saturday_in_china() {
        // 2026-11-27T17:00Z is Saturday 01:00 CST: Mon, Tue, Wed.
        let due = cal(&[], &[]).add_working_days(at("2026-11-27T17:00:00Z"), 3);
        assert_eq!(due, at("2026-12-02T16:00:00Z"));
    }

    #[test]
    fn holidays_are_skipped_and_make_up_days_count() {
        // New Year 2027: Fri Jan 1 a holiday; Sun Jan 3 a make-up working day.
        let c = cal(&["2027-01-01"], &["2027-01-03"]);
        // From Thu 2026-12-31: Jan 1 holiday, Jan 2 Sat, Jan 3 make-up, Jan 4 Mon, Jan 5 Tue.
        let due = c.add_working_days(at("2026-12-31T02:00:00Z"), 3);
        assert_eq!(due, at("2027-01-05T16:00:00Z"));
        assert!(!c.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap()));
        assert!(c.is_working_day(NaiveDate::from_ymd_opt(2027, 1, 3).unwrap()));
    }

    #[test]
    fn bad_calendar_entries_are_reported() {
        assert!(Calendar::from_lists(&["2027-13-01".into()], &[]).is_err());
    }
}
