//! Fuzz target: the grafana webhook parser must refuse or accept any bytes without panicking.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sevwatch_core::alert::source::grafana::parse(data);
});
