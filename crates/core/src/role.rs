//! Incident roles. The four from the runbooks are built in; organisations add their own through
//! configuration (`[roles] custom = ["security-lead"]`). Role names are kebab-case.

use serde::{Deserialize, Serialize};

/// A validated role name (`commander`, `tech-lead`, `comms-lead`, `scribe` or a configured one).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Role(String);

pub const BUILT_IN: [&str; 4] = ["commander", "tech-lead", "comms-lead", "scribe"];

/// Short and long forms responders type, mapped to the built-in names.
const ALIASES: &[(&str, &str)] = &[
    ("ic", "commander"),
    ("incident-commander", "commander"),
    ("tl", "tech-lead"),
    ("technical-lead", "tech-lead"),
    ("cl", "comms-lead"),
    ("communications-lead", "comms-lead"),
];

impl Role {
    /// Resolve what a responder typed (`IC`, `tech_lead`, `Comms Lead`) against the built-in and
    /// custom roles.
    pub fn parse(input: &str, custom: &[String]) -> Result<Role, String> {
        let norm: String =
            input.trim().to_ascii_lowercase().chars().map(|c| if c == '_' || c == ' ' { '-' } else { c }).collect();
        let name = ALIASES.iter().find(|(a, _)| *a == norm).map(|(_, r)| *r).unwrap_or(&norm);
        if BUILT_IN.contains(&name) || custom.iter().any(|c| c == name) {
            Ok(Role(name.to_string()))
        } else {
            let mut known: Vec<&str> = BUILT_IN.to_vec();
            known.extend(custom.iter().map(String::as_str));
            Err(format!("unknown role {input:?} (known roles: {})", known.join(", ")))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_built_in_roles_aliases_and_custom_roles() {
        let custom = vec!["security-lead".to_string()];
        assert_eq!(Role::parse("IC", &custom).unwrap().as_str(), "commander");
        assert_eq!(Role::parse("tech_lead", &custom).unwrap().as_str(), "tech-lead");
        assert_eq!(Role::parse("Comms Lead", &custom).unwrap().as_str(), "comms-lead");
        assert_eq!(Role::parse("security-lead", &custom).unwrap().as_str(), "security-lead");
        let err = Role::parse("janitor", &custom).unwrap_err();
        assert!(err.contains("security-lead"), "{err}");
    }
}
