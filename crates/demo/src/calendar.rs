//! Calendar rules the demo's people live by: month arithmetic, weekends, working days.

use time::{Date, Duration, Month, OffsetDateTime, Weekday};

pub fn months_before(d: Date, n: u32) -> Date {
    let total = d.year() * 12 + i32::from(u8::from(d.month())) - 1 - i32::try_from(n).unwrap_or(0);
    clamp_day(total.div_euclid(12), total.rem_euclid(12) + 1, d.day())
}

pub fn clamp_day(year: i32, month: i32, day: u8) -> Date {
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| Month::try_from(m).ok())
        .unwrap_or(Month::January);
    let day = day.min(month.length(year)).max(1);
    Date::from_calendar_date(year, month, day).unwrap_or(Date::MIN)
}

pub fn is_weekend(d: Date) -> bool {
    matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// Employers pay early when payday falls on a weekend.
pub fn working_day_before(mut d: Date) -> Date {
    while is_weekend(d) {
        d = d.previous_day().unwrap_or(d);
    }
    d
}

/// Bacs collects on the next working day when the due day falls on a weekend.
pub fn working_day_after(mut d: Date) -> Date {
    while is_weekend(d) {
        d = d.next_day().unwrap_or(d);
    }
    d
}

pub fn at(day: Date, seconds: i64) -> OffsetDateTime {
    day.midnight().assume_utc() + Duration::seconds(seconds)
}
