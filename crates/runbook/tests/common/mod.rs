//! Locates the shared spec folder beside the repository (absent in a user's clone).

use std::path::PathBuf;

/// `<repo>/../shared`, or `None` (with a note) when it is absent, unless
/// `SEVWATCH_REQUIRE_ALL=1` demands it.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("SEVWATCH_REQUIRE_ALL").as_deref() == Ok("1") {
        panic!("../shared not found at {} and SEVWATCH_REQUIRE_ALL=1", dir.display());
    }
    println!("skipping: ../shared not found");
    None
}

/// Reads a file under the shared folder as (lossy) UTF-8.
#[allow(dead_code)]
pub fn read_shared(rel: &str) -> Option<String> {
    let path = shared_dir()?.join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    Some(String::from_utf8_lossy(&bytes).into_owned())
}
