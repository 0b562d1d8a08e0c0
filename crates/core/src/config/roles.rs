//! The `[roles]` table: incident roles a team adds to the built-in ones.

use super::check::{is_kebab_case, Check};
use crate::role::BUILT_IN;
use crate::Policy;

/// `custom = ["security-lead"]`: kebab-case names that are not built in.
pub(super) fn read(c: &Check<'_>, policy: &mut Policy) {
    c.known_keys(&["custom"]);
    let custom = c.parsed_strings("custom", |name| {
        if BUILT_IN.contains(&name) {
            Err(format!("{name:?} is built in"))
        } else if is_kebab_case(name) {
            Ok(name.to_string())
        } else {
            Err(format!("{name:?} is not a kebab-case name like \"security-lead\""))
        }
    });
    policy.custom_roles.extend(custom.unwrap_or_default());
}
