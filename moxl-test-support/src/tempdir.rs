//! A temporary directory removed on drop (no extra dependency).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::TestSupportError;

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh directory under the system temp dir (`TMPDIR`), removed with its contents on drop.
///
/// ```
/// let dir = moxl_test_support::TempDir::new("moxl-doc").unwrap();
/// assert!(dir.path().is_dir());
/// ```
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `TMPDIR/<prefix>-<pid>-<unique>`.
    pub fn new(prefix: &str) -> Result<Self, TestSupportError> {
        let base = std::env::temp_dir();
        let mut last_err = None;
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let mut hasher = RandomState::new().build_hasher();
            hasher.write_u64(n);
            let random = hasher.finish();
            let path = base.join(format!("{prefix}-{}-{n}-{random:016x}", std::process::id()));
            match std::fs::create_dir(&path) {
                Ok(()) => return Ok(Self { path }),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last_err = Some(e),
                Err(e) => {
                    return Err(TestSupportError::io(format!("creating temp dir {}", path.display()), e));
                }
            }
        }
        Err(TestSupportError::io(
            format!("creating a temp dir under {}", base.display()),
            last_err.unwrap_or_else(|| std::io::Error::other("no unique name found")),
        ))
    }

    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}
