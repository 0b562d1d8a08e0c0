//! How much one alert may carry. Every label and annotation is stored with the alert, copied
//! into its JSON on every repeat, matched by routes and silences and shown on the timeline, so
//! a sender that puts a log file in a label or ten thousand labels on an alert (a templating
//! mistake, or a leaked ingest token) would otherwise cost every later request.
//!
//! | what | at most | why this much |
//! |---|---|---|
//! | labels per alert | 64 | Prometheus rules carry 5-20; Alertmanager's own UI truncates long before 64 |
//! | label name | 128 bytes | names are identifiers (`[a-zA-Z_][a-zA-Z0-9_]*`) |
//! | label value | 1 KiB | labels identify; a value longer than a line is text, which belongs in an annotation |
//! | annotations per alert | 64 | as for labels |
//! | annotation name | 128 bytes | as for label names |
//! | annotation value | 16 KiB | descriptions with a table or a stack trace; an incident keeps 16 KiB of one as its summary |
//! | fingerprint, dedup key | 255 characters | PagerDuty's own limit for `dedup_key`, kept for every source |
//!
//! A value the sender gave over its cap is refused with its path (`alerts[3].labels.team`), so
//! the sender hears about it; a value Sevwatch derives (a Grafana notification title used as a
//! missing rule name, the joined `evalMatches`) is cut to fit instead, since the sender did
//! nothing wrong. [`check_alert`] holds every parser's output to the caps whatever path a value
//! took into the alert.

use std::collections::BTreeMap;

use super::json::join;
use super::{Alert, ParseError};

pub const MAX_LABELS: usize = 64;
pub const MAX_LABEL_NAME_BYTES: usize = 128;
pub const MAX_LABEL_VALUE_BYTES: usize = 1024;
pub const MAX_ANNOTATIONS: usize = 64;
pub const MAX_ANNOTATION_NAME_BYTES: usize = 128;
pub const MAX_ANNOTATION_VALUE_BYTES: usize = 16 * 1024;
pub const MAX_FINGERPRINT_CHARS: usize = 255;

/// Labels or annotations: the two maps an alert carries, each with its caps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Labels,
    Annotations,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Labels => "label",
            Kind::Annotations => "annotation",
        }
    }

    fn max_count(self) -> usize {
        match self {
            Kind::Labels => MAX_LABELS,
            Kind::Annotations => MAX_ANNOTATIONS,
        }
    }

    fn max_name(self) -> usize {
        match self {
            Kind::Labels => MAX_LABEL_NAME_BYTES,
            Kind::Annotations => MAX_ANNOTATION_NAME_BYTES,
        }
    }

    pub fn max_value(self) -> usize {
        match self {
            Kind::Labels => MAX_LABEL_VALUE_BYTES,
            Kind::Annotations => MAX_ANNOTATION_VALUE_BYTES,
        }
    }

    /// One value that becomes a label or an annotation, at the path the sender wrote it.
    pub fn check_value(self, path: impl FnOnce() -> String, value: &str) -> Result<(), ParseError> {
        if value.len() > self.max_value() {
            return Err(ParseError::new(
                path(),
                format!("{} value is {} bytes; at most {} are accepted", self.noun(), value.len(), self.max_value()),
            ));
        }
        Ok(())
    }

    /// A whole map, found at `path`: its size, then each name and value.
    pub fn check_map(self, path: impl Fn() -> String, map: &BTreeMap<String, String>) -> Result<(), ParseError> {
        if map.len() > self.max_count() {
            return Err(ParseError::new(
                path(),
                format!("has {} {}s; at most {} are accepted", map.len(), self.noun(), self.max_count()),
            ));
        }
        for (name, value) in map {
            if name.len() > self.max_name() {
                return Err(ParseError::new(
                    join(&path(), name),
                    format!("{} name is {} bytes; at most {} are accepted", self.noun(), name.len(), self.max_name()),
                ));
            }
            self.check_value(|| join(&path(), name), value)?;
        }
        Ok(())
    }
}

/// A fingerprint or dedup key the sender gave, at its path.
pub(crate) fn check_fingerprint(path: impl FnOnce() -> String, key: &str) -> Result<(), ParseError> {
    if key.chars().count() > MAX_FINGERPRINT_CHARS {
        return Err(ParseError::new(path(), format!("must be at most {MAX_FINGERPRINT_CHARS} characters")));
    }
    Ok(())
}

/// Every cap, on a parsed alert found at `path` (`alerts[3]`, or `""` for a body that is one
/// alert). The parsers check each value where the sender wrote it first, with its own path;
/// this catches what was merged or copied on the way (common annotations, a `name` that
/// became the `alertname` label).
pub(crate) fn check_alert(a: &Alert, path: &str) -> Result<(), ParseError> {
    Kind::Labels.check_map(|| join(path, "labels"), &a.labels)?;
    Kind::Annotations.check_map(|| join(path, "annotations"), &a.annotations)?;
    check_fingerprint(|| join(path, "fingerprint"), &a.fingerprint)
}

/// `s` cut to at most `max` bytes on a character boundary, for values Sevwatch derives.
pub(crate) fn cut(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(n: usize, name_len: usize, value_len: usize) -> BTreeMap<String, String> {
        (0..n).map(|i| (format!("{i:0>width$}", width = name_len), "v".repeat(value_len))).collect()
    }

    #[test]
    fn maps_at_their_caps_pass_and_one_more_of_anything_is_refused_with_its_path() {
        let path = || "alerts[3].labels".to_string();
        assert!(Kind::Labels.check_map(path, &map(MAX_LABELS, MAX_LABEL_NAME_BYTES, MAX_LABEL_VALUE_BYTES)).is_ok());
        let cases = [
            (map(MAX_LABELS + 1, 2, 1), "alerts[3].labels", "has 65 labels; at most 64"),
            (map(1, MAX_LABEL_NAME_BYTES + 1, 1), "alerts[3].labels.000", "label name is 129 bytes; at most 128"),
            (map(1, 4, MAX_LABEL_VALUE_BYTES + 1), "alerts[3].labels.0000", "label value is 1025 bytes; at most 1024"),
        ];
        for (m, want_path, want) in cases {
            let e = Kind::Labels.check_map(path, &m).unwrap_err();
            assert!(e.path.starts_with(want_path), "{e}");
            assert!(e.message.contains(want), "{e}");
        }
        let a = Kind::Annotations.check_map(|| "annotations".into(), &map(1, 3, MAX_ANNOTATION_VALUE_BYTES + 1));
        assert!(a.unwrap_err().message.contains("annotation value is 16385 bytes"));
    }

    #[test]
    fn fingerprints_count_characters_as_pagerduty_does() {
        assert!(check_fingerprint(String::new, &"ü".repeat(MAX_FINGERPRINT_CHARS)).is_ok());
        let e = check_fingerprint(|| "alerts[0].fingerprint".into(), &"k".repeat(MAX_FINGERPRINT_CHARS + 1));
        assert_eq!(e.unwrap_err().path, "alerts[0].fingerprint");
    }

    #[test]
    fn derived_values_are_cut_on_a_character_boundary() {
        assert_eq!(cut("short".into(), 10), "short");
        assert_eq!(cut("aé".into(), 2), "a");
        assert_eq!(cut("🚀🚀".into(), 5), "🚀");
    }
}
