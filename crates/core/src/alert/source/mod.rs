//! One parser per webhook format, each turning a request body into normalised alerts or a
//! [`ParseError`](super::ParseError) naming the offending field. The parsers are pure and never
//! panic on any input; the proptests in `tests/alert_parse_properties.rs` and the fuzz targets
//! in `crates/core/fuzz` hold them to that.

pub mod alertmanager;
pub mod generic;
pub mod grafana;
pub mod pagerduty;
