//! Fuzz target: the shell risk classifier must accept any bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = sevwatch_runbook::classify(&String::from_utf8_lossy(data));
});
