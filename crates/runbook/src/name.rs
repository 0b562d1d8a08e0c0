//! What a runbook may be called. A name is how responders, the CLI and the API refer to a
//! runbook (`sevwatch runbook run INC-7 rollback#Deploy`), and tools around Sevwatch use it as
//! a file or directory name (an export, a checkout of the runbook repository), so a name is one
//! plain path segment: never `.` or `..`, no `/`, no control characters, and no leading `-`
//! that a command line would read as an option.

/// The longest name, in bytes.
pub const MAX_NAME: usize = 100;

/// `Ok` when `name` can name a runbook, else why not (the name quoted, its odd characters
/// escaped).
pub fn check_name(name: &str) -> Result<(), String> {
    let why = if name.is_empty() {
        "must not be empty"
    } else if name.len() > MAX_NAME {
        "is longer than 100 bytes"
    } else if name == "." || name == ".." {
        "is `.` or `..`, which name directories, not runbooks"
    } else if name.starts_with('-') {
        "must not start with '-' (a command line would read it as an option)"
    } else if name.contains(['/', '\\']) {
        "must not contain '/' or '\\' (a name is one path segment)"
    } else if name.chars().any(char::is_control) {
        "must not contain control characters"
    } else if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
        "may hold only letters, digits, '.', '_' and '-'"
    } else {
        return Ok(());
    };
    Err(format!("runbook name {name:?} {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass_and_each_kind_of_bad_name_says_why() {
        for ok in ["rollback", "db-failover.v2", "002_10fec5055860d3f4", "a", "x..y", ".hidden", "trailing-"] {
            assert_eq!(check_name(ok), Ok(()), "{ok:?}");
        }
        let long = "a".repeat(MAX_NAME + 1);
        let cases = [
            ("", "must not be empty"),
            (long.as_str(), "longer than 100 bytes"),
            (".", "`.` or `..`"),
            ("..", "`.` or `..`"),
            ("-rf", "must not start with '-'"),
            ("--help", "must not start with '-'"),
            ("../etc", "'/'"),
            ("a/b", "'/'"),
            ("a\\b", "'/'"),
            ("bell\u{7}", "control characters"),
            ("new\nline", "control characters"),
            ("spa ce", "only letters"),
            ("ünï", "only letters"),
        ];
        for (bad, want) in cases {
            let e = check_name(bad).expect_err(bad);
            assert!(e.contains(want), "{bad:?}: {e}");
            assert!(!e.contains('\u{7}') && !e.contains('\n'), "the message quotes the name escaped: {e}");
        }
    }
}
