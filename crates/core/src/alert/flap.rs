//! Flapping: an alert that changes state (firing <-> resolved) too often in a short window is
//! flagged, so responders know its pages are noise and its rule needs a longer `for`. The
//! record keeps only the recent change times, which is all the rule needs.

use serde::{Deserialize, Serialize};

use crate::{Duration, Timestamp};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlapRule {
    /// This many state changes ...
    pub changes: u32,
    /// ... within this window make an alert flapping.
    pub window: Duration,
}

impl Default for FlapRule {
    fn default() -> Self {
        FlapRule { changes: 4, window: Duration::from_mins(10) }
    }
}

impl FlapRule {
    /// Adds a change at `now` to `history`, drops changes older than the window and returns
    /// whether the alert is flapping. The history never grows beyond `changes` entries.
    pub fn record(&self, history: &mut Vec<Timestamp>, now: Timestamp) -> bool {
        history.push(now);
        self.is_flapping(history, now)
    }

    /// Prunes `history` to the window and says whether it holds enough changes.
    pub fn is_flapping(&self, history: &mut Vec<Timestamp>, now: Timestamp) -> bool {
        let since = now.saturating_sub(self.window.to_signed()).unwrap_or(now);
        history.retain(|t| *t > since && *t <= now);
        history.sort();
        let keep = self.changes.max(1) as usize;
        if history.len() > keep {
            history.drain(..history.len() - keep);
        }
        self.changes > 0 && history.len() >= self.changes as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64, sec: i64) -> Timestamp {
        Timestamp::from_second(1_800_000_000 + min * 60 + sec).unwrap()
    }

    #[test]
    fn four_changes_within_ten_minutes_flap_and_slower_ones_do_not() {
        let rule = FlapRule::default();
        let cases: &[(&[(i64, i64)], bool)] = &[
            (&[(0, 0), (1, 0), (2, 0)], false),
            (&[(0, 0), (1, 0), (2, 0), (3, 0)], true),
            (&[(0, 0), (3, 0), (6, 0), (9, 59)], true),
            (&[(0, 0), (4, 0), (8, 0), (12, 0)], false),
            (&[(0, 0), (4, 0), (8, 0), (12, 0), (13, 0)], true),
        ];
        for (changes, want) in cases {
            let mut history = Vec::new();
            let mut flapping = false;
            for (m, s) in changes.iter() {
                flapping = rule.record(&mut history, at(*m, *s));
            }
            assert_eq!(flapping, *want, "{changes:?}");
            assert!(history.len() <= rule.changes as usize);
        }
    }

    #[test]
    fn flapping_ends_once_the_window_passes_quietly() {
        let rule = FlapRule::default();
        let mut history = Vec::new();
        for m in 0..4 {
            rule.record(&mut history, at(m, 0));
        }
        assert!(rule.is_flapping(&mut history, at(5, 0)));
        assert!(!rule.is_flapping(&mut history, at(25, 0)));
        assert!(history.is_empty());
    }
}
