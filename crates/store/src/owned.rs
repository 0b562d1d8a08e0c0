//! The tables only the writer writes. The warm cache mirrors some of them and is correct only
//! because nothing else changes them; every write to them is a function that takes the
//! writer's [`crate::db::Tx`] inside a [`crate::batch::Batch`] (`incident_rows`, `alert_rows`,
//! `jobs`, `outbox::enqueue`, `repeat_log`), and the test below keeps any other module from
//! writing them.

/// Written only by the writer's batches. (Read by the test below; the list is the contract.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) const WRITER_TABLES: [&str; 8] =
    ["incidents", "events", "counters", "alerts", "alert_groups", "alert_repeats", "alert_counts", "jobs"];

/// The modules whose SQL may write them.
#[cfg(test)]
const WRITER_MODULES: [&str; 5] = ["incident_rows.rs", "alert_rows.rs", "jobs.rs", "repeat_log.rs", "batch.rs"];

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `INSERT INTO t`, `UPDATE t`, `DELETE FROM t` of a writer table in the store's
    /// source is in a writer module.
    #[test]
    fn only_the_writer_modules_write_the_writer_tables() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if !name.ends_with(".rs") || WRITER_MODULES.contains(&name.as_str()) || name == "owned.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            for table in WRITER_TABLES {
                for verb in ["insert into", "update", "delete from"] {
                    if text.contains(&format!("{verb} {table} ")) || text.contains(&format!("{verb} {table}(")) {
                        offenders.push(format!("{name}: {verb} {table}"));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "writer tables written outside the writer: {offenders:?}");
        // The check itself can fail.
        assert!("update incidents set".contains(&format!("update {} ", WRITER_TABLES[0])));
    }
}
