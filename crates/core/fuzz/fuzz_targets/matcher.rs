//! Fuzz target: matcher parsing must not panic, and a parsed matcher must print back to text
//! that parses to the same matcher.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(m) = text.parse::<sevwatch_core::alert::Matcher>() {
        let again: sevwatch_core::alert::Matcher = m.to_string().parse().expect("printed matchers parse back");
        assert_eq!(again, m);
    }
});
