//! Maintenance windows from configuration: during one, alerts for the window's service are
//! recorded but open and page nothing. A window is one-off (two instants) or recurring (a local
//! wall-clock time in an IANA time zone, daily or on given weekdays, for a fixed length).
//! Recurring windows are evaluated in their own zone, so "02:00 Europe/Berlin" stays 02:00
//! local across daylight-saving changes.

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::Zoned;

use crate::{Duration, Timestamp};

#[derive(Clone, Debug, PartialEq)]
pub struct MaintenanceWindow {
    /// The service this window quiets; `"*"` quiets every service.
    pub service: String,
    pub name: Option<String>,
    pub schedule: WindowSchedule,
}

#[derive(Clone, Debug, PartialEq)]
pub enum WindowSchedule {
    Once { start: Timestamp, end: Timestamp },
    Recurring(Recurrence),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Recurrence {
    /// Empty means every day.
    pub days: Vec<Weekday>,
    /// Local start time. A time skipped by a spring-forward change starts at the first
    /// instant after the gap; a repeated autumn time starts at its first occurrence.
    pub at: Time,
    /// Elapsed time, not wall-clock time: a 2h window over a DST change still lasts 2h.
    pub duration: Duration,
    pub timezone: TimeZone,
}

impl Recurrence {
    /// The start of the occurrence on `date` (local), if the window recurs on that day.
    fn start_on(&self, date: Date) -> Option<Timestamp> {
        if !self.days.is_empty() && !self.days.contains(&date.weekday()) {
            return None;
        }
        // `to_zoned` resolves gaps and folds "compatibly" (later for gaps, earlier for folds).
        date.to_datetime(self.at).to_zoned(self.timezone.clone()).ok().map(|z| z.timestamp())
    }

    fn covers(&self, now: Timestamp) -> bool {
        let local: Zoned = now.to_zoned(self.timezone.clone());
        // An occurrence that started up to `duration` ago may still be running; look back that
        // many days plus one for the day boundary.
        let back = self.duration.as_millis() / 86_400_000 + 1;
        let mut date = local.date();
        for _ in 0..=back {
            if let Some(start) = self.start_on(date) {
                if let Ok(end) = start.checked_add(self.duration.to_signed()) {
                    if start <= now && now < end {
                        return true;
                    }
                }
            }
            match date.yesterday() {
                Ok(d) => date = d,
                Err(_) => break,
            }
        }
        false
    }
}

/// True when `window` applies to `service` and covers `now`.
pub fn in_maintenance(window: &MaintenanceWindow, service: &str, now: Timestamp) -> bool {
    if window.service != "*" && window.service != service {
        return false;
    }
    match &window.schedule {
        WindowSchedule::Once { start, end } => *start <= now && now < *end,
        WindowSchedule::Recurring(r) => r.covers(now),
    }
}

/// `"sat"`, `"Saturday"`, ... -> a weekday.
pub(crate) fn parse_weekday(s: &str) -> Option<Weekday> {
    let lower = s.trim().to_ascii_lowercase();
    let days = [
        ("mon", Weekday::Monday),
        ("tue", Weekday::Tuesday),
        ("wed", Weekday::Wednesday),
        ("thu", Weekday::Thursday),
        ("fri", Weekday::Friday),
        ("sat", Weekday::Saturday),
        ("sun", Weekday::Sunday),
    ];
    days.iter().find(|(short, d)| lower == *short || lower == format!("{d:?}").to_ascii_lowercase()).map(|(_, d)| *d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn recurring(days: &[Weekday], at: &str, duration: &str, tz: &str) -> MaintenanceWindow {
        MaintenanceWindow {
            service: "db".into(),
            name: None,
            schedule: WindowSchedule::Recurring(Recurrence {
                days: days.to_vec(),
                at: at.parse().unwrap(),
                duration: duration.parse().unwrap(),
                timezone: TimeZone::get(tz).unwrap(),
            }),
        }
    }

    #[test]
    fn one_off_windows_cover_start_inclusive_to_end_exclusive() {
        let w = MaintenanceWindow {
            service: "db".into(),
            name: Some("upgrade".into()),
            schedule: WindowSchedule::Once { start: ts("2026-05-01T10:00:00Z"), end: ts("2026-05-01T11:00:00Z") },
        };
        let cases = [
            ("db", "2026-05-01T09:59:59Z", false),
            ("db", "2026-05-01T10:00:00Z", true),
            ("db", "2026-05-01T10:59:59Z", true),
            ("db", "2026-05-01T11:00:00Z", false),
            ("api", "2026-05-01T10:30:00Z", false),
        ];
        for (service, now, want) in cases {
            assert_eq!(in_maintenance(&w, service, ts(now)), want, "{service} {now}");
        }
    }

    #[test]
    fn weekly_windows_keep_local_time_across_the_spring_dst_change() {
        // Saturdays and Sundays 02:00-04:00 in Berlin. DST starts on Sunday 2026-03-29, when
        // 02:00 CET jumps to 03:00 CEST: that day's window starts at 03:00 CEST (01:00Z) and
        // lasts two real hours.
        let w = recurring(&[Weekday::Saturday, Weekday::Sunday], "02:00", "2h", "Europe/Berlin");
        let cases = [
            ("2026-03-28T00:59:59Z", false), // Sat 01:59 CET
            ("2026-03-28T01:00:00Z", true),  // Sat 02:00 CET
            ("2026-03-28T02:59:59Z", true),
            ("2026-03-28T03:00:00Z", false), // Sat 04:00 CET
            ("2026-03-29T00:30:00Z", false), // Sun 01:30 CET, before the gap
            ("2026-03-29T01:00:00Z", true),  // Sun 03:00 CEST, first instant after the gap
            ("2026-03-29T02:59:59Z", true),
            ("2026-03-29T03:00:00Z", false),
            ("2026-04-04T23:59:59Z", false), // Sun 01:59 CEST
            ("2026-04-04T00:00:00Z", true),  // Sat 02:00 CEST is 00:00Z in summer
            ("2026-04-04T01:59:59Z", true),
            ("2026-04-04T02:00:00Z", false),
            ("2026-04-06T00:30:00Z", false), // Monday
        ];
        for (now, want) in cases {
            assert_eq!(in_maintenance(&w, "db", ts(now)), want, "{now}");
        }
    }

    #[test]
    fn daily_windows_take_the_first_of_a_repeated_autumn_hour() {
        // 2026-10-25 in Berlin: 03:00 CEST falls back to 02:00 CET, so 02:30 happens twice.
        let w = recurring(&[], "02:30", "30m", "Europe/Berlin");
        assert!(in_maintenance(&w, "db", ts("2026-10-25T00:30:00Z")), "02:30 CEST, first occurrence");
        assert!(!in_maintenance(&w, "db", ts("2026-10-25T01:30:00Z")), "02:30 CET, the repeat");
        assert!(in_maintenance(&w, "db", ts("2026-10-26T01:45:00Z")), "02:45 CET the next day");
    }

    #[test]
    fn windows_running_past_midnight_count_from_the_previous_day() {
        let w = recurring(&[Weekday::Friday], "23:00", "3h", "UTC");
        assert!(in_maintenance(&w, "db", ts("2026-05-02T01:30:00Z")), "Saturday 01:30 is in Friday's window");
        assert!(!in_maintenance(&w, "db", ts("2026-05-02T02:00:00Z")));
        assert!(!in_maintenance(&w, "db", ts("2026-05-03T01:30:00Z")));
    }

    #[test]
    fn a_star_window_covers_every_service() {
        let mut w = recurring(&[], "00:00", "1d", "UTC");
        w.service = "*".into();
        assert!(in_maintenance(&w, "anything", ts("2026-05-02T13:00:00Z")));
    }

    #[test]
    fn weekdays_parse_short_and_long_names() {
        assert_eq!(parse_weekday("sat"), Some(Weekday::Saturday));
        assert_eq!(parse_weekday("Sunday"), Some(Weekday::Sunday));
        assert_eq!(parse_weekday("funday"), None);
    }
}
