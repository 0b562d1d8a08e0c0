//! Judges SQL handed to a database client (`sqlite3 db "SELECT ..."`, `psql -c`, heredocs)
//! by its statement keywords and sqlite dot-commands.

use crate::model::{Risk, RiskClass};

/// Classifies a SQL script; the most dangerous statement wins.
pub fn risk(client: &str, sql: &str) -> Risk {
    let mut worst = Risk::new(RiskClass::ReadOnly, format!("{client} only queries"));
    for stmt in sql.split([';', '\n']) {
        let stmt = stmt.trim();
        if stmt.is_empty() || stmt.starts_with("--") {
            continue;
        }
        let upper = stmt.to_uppercase();
        let first = upper.split_whitespace().next().unwrap_or("");
        let (class, what) = match first {
            "DELETE" | "DROP" | "TRUNCATE" => (RiskClass::Destructive, first.to_string()),
            ".RESTORE" => (RiskClass::Destructive, ".restore overwrites the database".to_string()),
            "SELECT" | "EXPLAIN" | "SHOW" | "DESCRIBE" | "WITH" | ".TABLES" | ".SCHEMA" | ".DUMP" | ".INDEXES"
            | ".HEADERS" | ".MODE" | ".DATABASES" | ".DBINFO" | ".QUIT" | ".EXIT" | ".TIMER" | ".ECHO" | ".SHOW"
            | ".PRINT" | ".WIDTH" | ".NULLVALUE" | ".STATS" | "\\DT" | "\\L" | "\\D" | "\\DU" | "\\Q" | "BEGIN"
            | "COMMIT" => {
                if first == "WITH" && (upper.contains(" DELETE ") || upper.contains(" UPDATE ")) {
                    (RiskClass::Mutating, "WITH ... UPDATE/DELETE".to_string())
                } else {
                    (RiskClass::ReadOnly, first.to_string())
                }
            }
            "PRAGMA" => {
                if upper.contains('=') {
                    (RiskClass::Mutating, "PRAGMA assignment".to_string())
                } else {
                    (RiskClass::ReadOnly, "PRAGMA query".to_string())
                }
            }
            "INSERT" | "UPDATE" | "CREATE" | "ALTER" | "REPLACE" | "VACUUM" | "REINDEX" | "ATTACH" | "ANALYZE"
            | "GRANT" | "REVOKE" | ".BACKUP" | ".RECOVER" | ".IMPORT" | ".SAVE" | ".CLONE" => {
                (RiskClass::Mutating, first.to_string())
            }
            _ => (RiskClass::Unknown, format!("unrecognised statement {first}")),
        };
        if class > worst.class {
            let reason = match class {
                RiskClass::Destructive => format!("{what} in SQL via {client}"),
                _ => format!("{client}: {what}"),
            };
            worst = Risk::new(class, reason);
        }
    }
    worst
}
