//! Alerts in: normalisation of every source format to one `Alert`, fingerprints, severity
//! mapping, routing, grouping, silences, maintenance windows and flapping (work in progress).
