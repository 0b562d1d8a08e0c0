//! Schedules: named layers (primary, secondary, ...) each driven by a rotation, plus overrides
//! in which one person covers a time range. This file answers the two questions the rest of
//! Sevwatch asks: who is on call for each layer at an instant ([`oncall`]), and the list of
//! shifts over a range ([`shifts`]) for display and calendar export.
//!
//! A layer name may appear more than once when a rotation is replaced: each entry covers
//! `[start, end)` and entries with the same name must not overlap (config validation checks).
//! Overrides are painted over the layer's rotation shifts in list order, so a later override
//! wins where two overlap; an override without a layer covers every layer.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;

use super::rotation::Rotation;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub name: String,
    pub rotation: Rotation,
    /// The layer stops at the hand-off time on this date (in the rotation's zone); the last
    /// shift is cut short there. `None` runs forever.
    pub end: Option<Date>,
}

impl Layer {
    /// When the layer begins (the rotation's first hand-off).
    pub fn starts_at(&self) -> Option<Timestamp> {
        self.rotation.begins_at()
    }

    /// When the layer stops; `None` for an open-ended layer.
    pub fn ends_at(&self) -> Option<Timestamp> {
        let end = self.end?;
        let local = end.to_datetime(self.rotation.handoff);
        Some(self.rotation.time_zone.to_ambiguous_zoned(local).compatible().ok()?.timestamp())
    }

    /// The layer's own span, with an open end as `Timestamp::MAX`.
    fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let start = self.starts_at()?;
        let end = if self.end.is_some() { self.ends_at()? } else { Timestamp::MAX };
        Some((start, end))
    }
}

/// One person covering `[start, end)`, for one layer or (with `layer: None`) all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Override {
    pub user: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub layer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// Kebab-case id that policies reference (`schedule:platform/primary`).
    pub id: String,
    pub name: String,
    pub layers: Vec<Layer>,
    pub overrides: Vec<Override>,
}

/// One person on call for one layer over `[start, end)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub layer: String,
    pub user: String,
    pub start: Timestamp,
    pub end: Timestamp,
    /// True when an override, not the rotation, put this person here.
    pub overridden: bool,
}

/// Who is on call at one instant: at most one shift per layer name, in layer order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OnCall {
    pub at: Timestamp,
    pub layers: Vec<Shift>,
}

impl OnCall {
    /// The shift of the named layer, if anyone holds it.
    pub fn layer(&self, name: &str) -> Option<&Shift> {
        self.layers.iter().find(|s| s.layer == name)
    }
}

impl Schedule {
    /// Distinct layer names in the order they first appear.
    pub fn layer_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for l in &self.layers {
            if !names.contains(&l.name.as_str()) {
                names.push(&l.name);
            }
        }
        names
    }

    /// From when every layer name has begun: the start of the range in which [`oncall`]
    /// names someone for each layer (provided a replaced layer leaves no gap).
    pub fn valid_from(&self) -> Option<Timestamp> {
        self.layer_names()
            .iter()
            .map(|n| self.layers.iter().filter(|l| l.name == *n).filter_map(Layer::starts_at).min())
            .try_fold(Timestamp::MIN, |acc, s| s.map(|s| acc.max(s)))
    }

    /// The rotation shift of layer `name` containing `t`, cut to its layer entry's span.
    fn base_shift_at(&self, name: &str, t: Timestamp) -> Option<Shift> {
        self.layers.iter().filter(|l| l.name == name).find_map(|l| {
            let (start, end) = l.span()?;
            if t < start || t >= end {
                return None;
            }
            let s = l.rotation.shift_at(t)?;
            Some(Shift {
                layer: name.to_string(),
                user: s.user,
                start: s.start,
                end: s.end.min(end),
                overridden: false,
            })
        })
    }

    /// Rotation shifts of layer `name` inside `[a, b)`; `a` and `b` must be shift boundaries
    /// (or fall where no entry of the layer runs) so no shift is cut.
    fn base_shifts(&self, name: &str, a: Timestamp, b: Timestamp) -> Vec<Shift> {
        let mut out = Vec::new();
        for l in self.layers.iter().filter(|l| l.name == name) {
            let Some((start, end)) = l.span() else { continue };
            let (lo, hi) = (a.max(start), b.min(end));
            let Some(mut k) = (lo < hi).then(|| l.rotation.shift_at(lo)).flatten().map(|s| s.index) else {
                continue;
            };
            while let Some(s) = l.rotation.shift(k) {
                if s.start >= hi {
                    break;
                }
                out.push(Shift {
                    layer: name.to_string(),
                    user: s.user,
                    start: s.start,
                    end: s.end.min(end),
                    overridden: false,
                });
                k += 1;
            }
        }
        out.sort_by_key(|s| s.start);
        out
    }

    fn overrides_for<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Override> + 'a {
        self.overrides.iter().filter(move |o| o.start < o.end && o.layer.as_deref().is_none_or(|l| l == name))
    }

    /// The final shifts of layer `name` that intersect `[from, to)`, each whole (not cut to
    /// the window), so the same shift has the same bounds whatever window asked for it.
    fn layer_shifts(&self, name: &str, from: Timestamp, to: Timestamp) -> Vec<Shift> {
        // Widen the window until neither end falls inside a rotation shift or an override;
        // each pass can only add overrides, so this stops after at most one pass per override.
        let (mut a, mut b) = (from, to);
        loop {
            let (a0, b0) = (a, b);
            if let Some(s) = self.base_shift_at(name, a) {
                a = s.start;
            }
            if let Some(s) =
                b.checked_sub(jiff::SignedDuration::from_nanos(1)).ok().and_then(|t| self.base_shift_at(name, t))
            {
                b = b.max(s.end);
            }
            let hits: Vec<&Override> = self.overrides_for(name).filter(|o| o.start < b && o.end > a).collect();
            for o in hits {
                a = a.min(o.start);
                b = b.max(o.end);
            }
            if (a, b) == (a0, b0) {
                break;
            }
        }
        let mut segs = self.base_shifts(name, a, b);
        for o in self.overrides_for(name).filter(|o| o.start < b && o.end > a) {
            let mut painted = Vec::with_capacity(segs.len() + 2);
            for s in segs {
                if s.end <= o.start || s.start >= o.end {
                    painted.push(s);
                    continue;
                }
                if s.start < o.start {
                    painted.push(Shift { end: o.start, ..s.clone() });
                }
                if s.end > o.end {
                    painted.push(Shift { start: o.end, ..s });
                }
            }
            painted.push(Shift {
                layer: name.to_string(),
                user: o.user.clone(),
                start: o.start,
                end: o.end,
                overridden: true,
            });
            painted.sort_by_key(|s| s.start);
            segs = painted;
        }
        segs.retain(|s| s.start < to && s.end > from);
        segs
    }
}

/// Who is on call for each layer of `schedule` at `at`. A layer that has not begun (or has a
/// gap between replaced entries) at `at` is left out rather than guessed.
pub fn oncall(schedule: &Schedule, at: Timestamp) -> OnCall {
    let until = at.checked_add(jiff::SignedDuration::from_nanos(1)).unwrap_or(Timestamp::MAX);
    let layers = schedule
        .layer_names()
        .into_iter()
        .filter_map(|name| schedule.layer_shifts(name, at, until).into_iter().find(|s| s.start <= at && at < s.end))
        .collect();
    OnCall { at, layers }
}

/// Every shift of every layer that intersects `[from, to)`, sorted by start and then layer
/// order. Shifts are whole: the first may start before `from` and the last end after `to`.
/// Within one layer the shifts tile time: each ends where the next begins.
pub fn shifts(schedule: &Schedule, from: Timestamp, to: Timestamp) -> Vec<Shift> {
    if from >= to {
        return Vec::new();
    }
    let names = schedule.layer_names();
    let mut out: Vec<Shift> = names.iter().flat_map(|n| schedule.layer_shifts(n, from, to)).collect();
    let order = |s: &Shift| names.iter().position(|n| *n == s.layer).unwrap_or(usize::MAX);
    out.sort_by(|x, y| x.start.cmp(&y.start).then(order(x).cmp(&order(y))));
    out
}
