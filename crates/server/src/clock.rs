//! Where the API reads the time. Every handler stamps its command with [`AppState::now`]
//! (`crate::AppState`), and the engine and the delivery worker take the time as an argument,
//! so one clock decides when things happen. `serve` reads the system clock; a test starts the
//! app with a [`ManualClock`], moves it, and calls `engine::tick` and `Deliverer::drain_once`
//! with the same time: a timer an hour away comes due without anybody waiting an hour.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use sevwatch_core::Timestamp;

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Timestamp;
}

/// The time of day.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that stands still until it is moved (to the millisecond, as times are stored).
#[derive(Debug)]
pub struct ManualClock {
    ms: AtomicI64,
}

impl ManualClock {
    pub fn starting_at(t: Timestamp) -> ManualClock {
        ManualClock { ms: AtomicI64::new(t.as_millisecond()) }
    }

    /// Move the clock forward by `d` and return the new time.
    pub fn advance(&self, d: Duration) -> Timestamp {
        let by = i64::try_from(d.as_millis()).expect("a test moves the clock by less than 292 million years");
        ms_to_time(self.ms.fetch_add(by, Ordering::SeqCst) + by)
    }

    /// Set the clock to `t` (later than now, or time would run backwards for the app).
    pub fn set(&self, t: Timestamp) {
        let before = self.ms.swap(t.as_millisecond(), Ordering::SeqCst);
        assert!(before <= t.as_millisecond(), "the clock only moves forward ({before} -> {t})");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        ms_to_time(self.ms.load(Ordering::SeqCst))
    }
}

fn ms_to_time(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).expect("a manual clock stays within jiff's range")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let t0 = Timestamp::from_millisecond(1_800_000_000_000).unwrap();
        let clock = ManualClock::starting_at(t0);
        assert_eq!(clock.now(), t0);
        assert_eq!(clock.advance(Duration::from_millis(1500)).as_millisecond(), t0.as_millisecond() + 1500);
        assert_eq!(clock.now().as_millisecond(), t0.as_millisecond() + 1500);
    }

    #[test]
    #[should_panic(expected = "only moves forward")]
    fn a_manual_clock_never_runs_backwards() {
        let clock = ManualClock::starting_at(Timestamp::from_millisecond(2_000).unwrap());
        clock.set(Timestamp::from_millisecond(1_000).unwrap());
    }
}
