//! Calendar dates as programmes spell them (`2018-04-03`), and the UTC minute a letter prints
//! ("5 April 2018, 18:00 UTC"). Civil dates from days since the epoch, after Howard Hinnant's
//! `civil_from_days` / `days_from_civil`: a few lines, where a calendar crate would be one
//! more dependency of every client.

/// A day of the Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct CalendarDate {
    pub year: i64,
    pub month: u32,
    pub day: u32,
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl CalendarDate {
    /// Days since 1970-01-01.
    pub fn days(self) -> i64 {
        let y = if self.month <= 2 {
            self.year - 1
        } else {
            self.year
        };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    pub fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        CalendarDate { year, month, day }
    }

    /// "3 April 2018".
    pub fn long(self) -> String {
        let month = MONTHS[(self.month.clamp(1, 12) - 1) as usize];
        format!("{} {month} {}", self.day, self.year)
    }
}

/// Reads `YYYY-MM-DD`, a real day (no 31 April), years 1900 to 9999.
pub fn parse_date(text: &str) -> Option<CalendarDate> {
    let mut parts = text.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y) && digits(m) && digits(d)) {
        return None;
    }
    let date = CalendarDate {
        year: y.parse().ok()?,
        month: m.parse().ok()?,
        day: d.parse().ok()?,
    };
    let valid = (1900..=9999).contains(&date.year)
        && (1..=12).contains(&date.month)
        && date.day >= 1
        && CalendarDate::from_days(date.days()) == date;
    valid.then_some(date)
}

/// "5 April 2018, 18:00 UTC" for a Unix time in milliseconds.
pub fn utc_minute(ms: u64) -> String {
    let minutes = ms / 60_000;
    let day = CalendarDate::from_days((minutes / 1440) as i64);
    let minute_of_day = minutes % 1440;
    format!(
        "{}, {:02}:{:02} UTC",
        day.long(),
        minute_of_day / 60,
        minute_of_day % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_dates_round_trip_and_match_known_days() {
        let date = parse_date("2018-04-03").expect("a date");
        assert_eq!(date.days(), 17_624);
        assert_eq!(date.long(), "3 April 2018");
        assert_eq!(CalendarDate::from_days(0).long(), "1 January 1970");
        for days in (-50_000..50_000).step_by(37) {
            assert_eq!(CalendarDate::from_days(days).days(), days);
        }
        assert_eq!(utc_minute(1_522_951_200_000), "5 April 2018, 18:00 UTC");
    }

    #[test]
    fn only_real_days_parse() {
        for bad in [
            "2018-04-31",
            "2019-02-29",
            "2018-4-03",
            "2018-04-03x",
            "18-04-03",
            "",
            "2018-13-01",
            "2018-00-10",
            "+018-04-03",
            "1899-12-31",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        assert!(parse_date("2020-02-29").is_some());
    }
}
