//! On-call: schedules (rotations, layers, overrides, time zones) and escalation policies
//! (work in progress).
