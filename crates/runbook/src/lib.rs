//! Runbook parsing (work in progress).
