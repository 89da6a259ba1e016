//! [`StoreError`]: why session or Action state could not be saved or restored.

use std::path::PathBuf;

use crate::transport::BoxError;

/// Why session or Action state could not be saved or restored.
///
/// - [`Database`](Self::Database): the database failed (unreachable, full, locked); the source is sqlx's error.
/// - [`Corrupt`](Self::Corrupt): a stored value cannot be read back; it names the session and the column.
/// - [`Unstorable`](Self::Unstorable), [`Serialize`](Self::Serialize): a value cannot be written.
/// - [`Revive`](Self::Revive), [`UnknownAction`](Self::UnknownAction): a saved Action cannot be brought back.
///
/// ```
/// use moxl_core::session::StoreError;
/// let e = StoreError::Corrupt { session: "juliet@capulet.lit".into(), column: "credentials".into(), detail: "invalid JSON".into(), source: None };
/// assert_eq!(e.to_string(), "session juliet@capulet.lit: corrupt data in column credentials: invalid JSON");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
    #[error("{what}: {source}")]
    Database {
        /// What was being done (`opening the SQLite session store`, `session juliet@capulet.lit: save`…).
        what: String,
        /// sqlx's error.
        #[source]
        source: sqlx::Error,
    },
    /// The tables could not be created or upgraded.
    #[cfg(any(feature = "sqlite", feature = "postgres"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "sqlite", feature = "postgres"))))]
    #[error("migrating the {backend} session store: {source}")]
    Migrate {
        /// `SQLite` or `PostgreSQL`.
        backend: &'static str,
        /// sqlx's error.
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// The store URL names a backend that is not compiled in (cargo features `sqlite`, `postgres`).
    #[error("session store URL: unsupported scheme {scheme:?} (compiled in: {compiled})")]
    UnsupportedScheme {
        /// The URL's scheme.
        scheme: String,
        /// The backends compiled in.
        compiled: String,
    },
    /// The database did not answer in time.
    #[error("{what}: no answer within {after:?}")]
    NoAnswer {
        /// What was being done.
        what: String,
        /// The time allowed.
        after: std::time::Duration,
    },
    /// The SQLite file could not be created.
    #[error("creating the session store {}: {source}", path.display())]
    Create {
        /// The file.
        path: PathBuf,
        /// The system's error.
        #[source]
        source: std::io::Error,
    },
    /// A stored value cannot be read back: the row was changed outside moxl, or written by an incompatible version.
    #[error("session {session}: corrupt data in column {column}: {detail}")]
    Corrupt {
        /// The session's account.
        session: String,
        /// The column (or field) holding the bad value.
        column: String,
        /// What is wrong with it.
        detail: String,
        /// The decoding error, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// A value cannot be stored (a count or time out of the database's range, a record of another account).
    #[error("session {session}: {detail}")]
    Unstorable {
        /// The session's account.
        session: String,
        /// Why.
        detail: String,
    },
    /// A value could not be serialized.
    #[error("cannot serialize {what}: {source}")]
    Serialize {
        /// What (`session juliet@capulet.lit: credentials`, an Action type name).
        what: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
    /// The lease kept changing hands during a call: try again.
    #[error("{what}: the lease changed hands three times during the call; try again")]
    Contended {
        /// What was being done.
        what: String,
    },
    /// A saved Action names a type this program does not register.
    #[error("no registered Action type {type_name}")]
    UnknownAction {
        /// The saved type name.
        type_name: String,
    },
    /// A saved Action's state does not fit its type.
    #[error("cannot revive {type_name}: {source}")]
    Revive {
        /// The Action type.
        type_name: String,
        /// serde's error.
        #[source]
        source: serde_json::Error,
    },
}

impl StoreError {
    /// The session this error is about, when it names one.
    ///
    /// ```
    /// use moxl_core::session::StoreError;
    /// let e = StoreError::Unstorable { session: "juliet@capulet.lit".into(), detail: "too large".into() };
    /// assert_eq!(e.session(), Some("juliet@capulet.lit"));
    /// ```
    pub fn session(&self) -> Option<&str> {
        match self {
            StoreError::Corrupt { session, .. } | StoreError::Unstorable { session, .. } => Some(session),
            _ => None,
        }
    }
}
