//! [`PostgresDb`]: a throw-away database on the PostgreSQL server the tests use (127.0.0.1:5432, trust
//! authentication; `scripts/install-test-deps.sh` installs and starts one on a fresh machine).

use std::process::Command;

use crate::error::TestSupportError;

/// The server's administrative URL, overridable with `MOXL_TEST_POSTGRES_URL`.
fn admin_url() -> String {
    std::env::var("MOXL_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn psql(url: &str, sql: &str) -> Result<(), TestSupportError> {
    let output = Command::new("psql")
        .args(["--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .output()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => {
                TestSupportError::NotInstalled { binary: "psql", package: "postgresql-client" }
            }
            _ => TestSupportError::io("running psql", e),
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(TestSupportError::ServerStart {
        server: "postgresql",
        reason: format!(
            "{sql:?} on {url} failed (is PostgreSQL running on 127.0.0.1:5432? bash scripts/install-test-deps.sh)"
        ),
        log_tail: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// A fresh, uniquely named database, dropped (with its connections) when this value is dropped.
///
/// ```no_run
/// let db = moxl_test_support::PostgresDb::create().unwrap();
/// assert!(db.url().starts_with("postgres://"));
/// ```
#[derive(Debug)]
pub struct PostgresDb {
    admin: String,
    name: String,
}

impl PostgresDb {
    /// Creates the database. Fails (never skips) when the server is unreachable or `psql` is missing.
    pub fn create() -> Result<PostgresDb, TestSupportError> {
        let admin = admin_url();
        let name = format!("moxl_test_{}_{:016x}", std::process::id(), rand_u64());
        psql(&admin, &format!("CREATE DATABASE {name}"))?;
        Ok(PostgresDb { admin, name })
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        match self.admin.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{}", self.name),
            None => format!("{}/{}", self.admin, self.name),
        }
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for PostgresDb {
    fn drop(&mut self) {
        if let Err(e) = psql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)) {
            eprintln!("moxl-test-support: could not drop the test database {}: {e}", self.name);
        }
    }
}

/// A random number without a dependency: the standard library's randomly seeded hasher.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos()));
    hasher.finish()
}
