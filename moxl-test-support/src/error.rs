//! The one error type of this crate.

use std::path::PathBuf;

/// Why a test server could not be set up, started or changed.
///
/// Every variant carries what is needed to act on it: the command to run when Prosody is missing, the
/// output of a failed `prosodyctl`, or the last lines of the server log when the server did not come up.
///
/// ```
/// use moxl_test_support::TestSupportError;
///
/// let err = TestSupportError::ProsodyNotInstalled { binary: "prosody" };
/// assert!(err.to_string().contains("scripts/install-test-deps.sh"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestSupportError {
    /// The `prosody` or `prosodyctl` binary was not found.
    #[error(
        "`{binary}` was not found in PATH, /usr/bin, /usr/sbin or /usr/local/bin: install the test dependencies \
         with `bash scripts/install-test-deps.sh` (Debian/Ubuntu, as root)"
    )]
    ProsodyNotInstalled {
        /// The binary that is missing.
        binary: &'static str,
    },
    /// A file-system or process operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The throw-away CA or the server certificate could not be generated.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// An argument cannot be used (for example an empty password, or a name with characters Prosody rejects).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// `prosodyctl register` failed.
    #[error("`prosodyctl register {user} {host}` failed ({status}): {output}")]
    Register {
        /// The local part of the account.
        user: String,
        /// The virtual host of the account.
        host: String,
        /// The exit status of `prosodyctl`.
        status: String,
        /// What `prosodyctl` printed.
        output: String,
    },
    /// Prosody exited, failed to bind its ports or did not listen in time.
    #[error("prosody did not start: {reason}\n--- last lines of {} ---\n{log_tail}", .log.display())]
    Start {
        /// What went wrong.
        reason: String,
        /// The log file of the server.
        log: PathBuf,
        /// The last lines of that log.
        log_tail: String,
    },
    /// Another test server's binary (e.g. `dnsmasq`) was not found.
    #[error(
        "`{binary}` was not found in PATH, /usr/sbin, /usr/bin or /usr/local/sbin: install the test dependencies \
         with `bash scripts/install-test-deps.sh` (Debian/Ubuntu, as root; package `{package}`)"
    )]
    NotInstalled {
        /// The binary that is missing.
        binary: &'static str,
        /// The Debian package that has it.
        package: &'static str,
    },
    /// A test server other than Prosody (e.g. `dnsmasq`) exited or did not listen in time.
    #[error("{server} did not start: {reason}\n--- its output and log ---\n{log_tail}")]
    ServerStart {
        /// Which server.
        server: &'static str,
        /// What went wrong.
        reason: String,
        /// The last lines of its output and log.
        log_tail: String,
    },
}

impl TestSupportError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { context: context.into(), source }
    }
}
