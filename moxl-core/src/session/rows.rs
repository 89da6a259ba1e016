//! Rows and records: the columns of a session as read and as written, and the conversions between them and the
//! [`SessionRecord`], with errors that name the session and the column.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jid::{BareJid, FullJid};
use sqlx::Row;

use super::record::{FastToken, ServerEndpoint, SessionRecord, SmState, TransportKind};
use crate::session::StoreError;
use crate::xec::StoredAction;
use crate::{Error, Result};

pub(super) fn corrupt(account: &str, column: &str, detail: impl std::fmt::Display) -> Error {
    StoreError::Corrupt {
        session: account.to_owned(),
        column: column.to_owned(),
        detail: detail.to_string(),
        source: None,
    }
    .into()
}

/// [`corrupt`] with the decoding error as the source.
pub(super) fn corrupt_by(
    account: &str,
    column: &str,
    detail: &str,
    source: impl Into<crate::transport::BoxError>,
) -> Error {
    let (session, column, detail) = (account.to_owned(), column.to_owned(), detail.to_owned());
    StoreError::Corrupt { session, column, detail, source: Some(source.into()) }.into()
}

/// Reads a column, naming the session and column when it cannot be read as `T`.
pub(super) fn get<'r, T, R>(row: &'r R, account: &str, column: &str) -> Result<T>
where
    R: Row,
    T: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'a> &'a str: sqlx::ColumnIndex<R>,
{
    let name = column.rsplit('.').next().unwrap_or(column);
    row.try_get::<T, _>(name).map_err(|e| corrupt_by(account, column, &e.to_string(), e))
}

pub(super) fn to_i64(value: u64, account: &str, what: &str) -> Result<i64> {
    i64::try_from(value).map_err(|_| unstorable(account, format!("{what} {value} is too large to store")))
}

pub(super) fn to_u64(value: i64, account: &str, column: &str) -> Result<u64> {
    u64::try_from(value).map_err(|_| corrupt(account, column, format!("negative count {value}")))
}

pub(super) fn ttl_ms(ttl: Duration, account: &str) -> Result<i64> {
    i64::try_from(ttl.as_millis()).map_err(|_| unstorable(account, format!("lease ttl {ttl:?} is too long")))
}

/// Milliseconds since the Unix epoch (negative before it).
pub(super) fn time_to_ms(time: SystemTime, account: &str) -> Result<i64> {
    let too_far = || unstorable(account, format!("time {time:?} cannot be stored"));
    match time.duration_since(UNIX_EPOCH) {
        Ok(after) => i64::try_from(after.as_millis()).map_err(|_| too_far()),
        Err(before) => i64::try_from(before.duration().as_millis()).map(|ms| -ms).map_err(|_| too_far()),
    }
}

pub(super) fn ms_to_time(ms: i64, account: &str, column: &str) -> Result<SystemTime> {
    let offset = Duration::from_millis(ms.unsigned_abs());
    let time = if ms >= 0 { UNIX_EPOCH.checked_add(offset) } else { UNIX_EPOCH.checked_sub(offset) };
    time.ok_or_else(|| corrupt(account, column, format!("time {ms} ms out of range")))
}

pub(super) fn to_json<T: serde::Serialize>(value: &T, account: &str, what: &str) -> Result<String> {
    serde_json::to_string(value)
        .map_err(|source| StoreError::Serialize { what: format!("session {account}: {what}"), source }.into())
}

pub(super) fn unstorable(account: &str, detail: String) -> Error {
    StoreError::Unstorable { session: account.to_owned(), detail }.into()
}

/// The single-valued columns, as read.
pub(super) struct RawSession {
    pub(super) bound_jid: Option<String>,
    pub(super) server_host: Option<String>,
    pub(super) server_port: Option<i64>,
    pub(super) server_transport: Option<String>,
    pub(super) server_url: Option<String>,
    pub(super) fast_mechanism: Option<String>,
    pub(super) fast_token: Option<String>,
    pub(super) fast_expires_ms: Option<i64>,
    pub(super) credentials: Option<String>,
    pub(super) sm_id: Option<String>,
    pub(super) sm_location: Option<String>,
    pub(super) sm_inbound: i64,
    pub(super) sm_outbound: i64,
    pub(super) roster_version: Option<String>,
}

impl RawSession {
    pub(super) fn read<R>(row: &R, key: &str) -> Result<RawSession>
    where
        R: Row,
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<i64>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(RawSession {
            bound_jid: get(row, key, "bound_jid")?,
            server_host: get(row, key, "server_host")?,
            server_port: get(row, key, "server_port")?,
            server_transport: get(row, key, "server_transport")?,
            server_url: get(row, key, "server_url")?,
            fast_mechanism: get(row, key, "fast_mechanism")?,
            fast_token: get(row, key, "fast_token")?,
            fast_expires_ms: get(row, key, "fast_expires_ms")?,
            credentials: get(row, key, "credentials")?,
            sm_id: get(row, key, "sm_id")?,
            sm_location: get(row, key, "sm_location")?,
            sm_inbound: get(row, key, "sm_inbound")?,
            sm_outbound: get(row, key, "sm_outbound")?,
            roster_version: get(row, key, "roster_version")?,
        })
    }

    pub(super) fn into_record(self, account: BareJid, key: &str) -> Result<SessionRecord> {
        let mut record = SessionRecord::new(account);
        record.bound = self
            .bound_jid
            .map(|j| j.parse::<FullJid>().map_err(|e| corrupt(key, "bound_jid", format!("not a full JID: {e}"))))
            .transpose()?;
        record.server = match (self.server_host, self.server_port, self.server_transport) {
            (Some(host), Some(port), Some(transport)) => {
                let port = u16::try_from(port).map_err(|_| corrupt(key, "server_port", format!("port {port}")))?;
                let transport = TransportKind::from_parts(&transport, self.server_url)
                    .map_err(|e| corrupt(key, "server_transport", e))?;
                Some(ServerEndpoint { host, port, transport })
            }
            (None, None, None) => None,
            _ => {
                return Err(corrupt(
                    key,
                    "server_host",
                    "server_host, server_port and server_transport must be set together",
                ))
            }
        };
        record.fast_token = match (self.fast_mechanism, self.fast_token, self.fast_expires_ms) {
            (Some(mechanism), Some(token), Some(expires)) => {
                Some(FastToken { mechanism, token, expires: ms_to_time(expires, key, "fast_expires_ms")? })
            }
            (None, None, None) => None,
            _ => {
                return Err(corrupt(
                    key,
                    "fast_token",
                    "fast_mechanism, fast_token and fast_expires_ms must be set together",
                ))
            }
        };
        record.credentials = self
            .credentials
            .map(|c| {
                serde_json::from_str(&c).map_err(|e| corrupt_by(key, "credentials", &format!("invalid JSON: {e}"), e))
            })
            .transpose()?;
        let inbound = to_u64(self.sm_inbound, key, "sm_inbound")?;
        let outbound = to_u64(self.sm_outbound, key, "sm_outbound")?;
        record.sm = self.sm_id.map(|id| SmState { id, location: self.sm_location, inbound, outbound });
        record.roster_version = self.roster_version;
        Ok(record)
    }
}

/// The single-valued columns, to write.
pub(super) struct SessionRow<'a> {
    pub(super) bound_jid: Option<String>,
    pub(super) server_host: Option<&'a str>,
    pub(super) server_port: Option<i64>,
    pub(super) server_transport: Option<&'static str>,
    pub(super) server_url: Option<&'a str>,
    pub(super) fast_mechanism: Option<&'a str>,
    pub(super) fast_token: Option<&'a str>,
    pub(super) fast_expires_ms: Option<i64>,
    pub(super) credentials: Option<String>,
    pub(super) sm_id: Option<&'a str>,
    pub(super) sm_location: Option<&'a str>,
    pub(super) sm_inbound: i64,
    pub(super) sm_outbound: i64,
}

impl<'a> SessionRow<'a> {
    pub(super) fn from_record(r: &'a SessionRecord, key: &str) -> Result<SessionRow<'a>> {
        Ok(SessionRow {
            bound_jid: r.bound.as_ref().map(|j| j.to_string()),
            server_host: r.server.as_ref().map(|s| s.host.as_str()),
            server_port: r.server.as_ref().map(|s| i64::from(s.port)),
            server_transport: r.server.as_ref().map(|s| s.transport.name()),
            server_url: r.server.as_ref().and_then(|s| s.transport.url()),
            fast_mechanism: r.fast_token.as_ref().map(|t| t.mechanism.as_str()),
            fast_token: r.fast_token.as_ref().map(|t| t.token.as_str()),
            fast_expires_ms: r.fast_token.as_ref().map(|t| time_to_ms(t.expires, key)).transpose()?,
            credentials: r.credentials.as_ref().map(|c| to_json(c, key, "credentials")).transpose()?,
            sm_id: r.sm.as_ref().map(|s| s.id.as_str()),
            sm_location: r.sm.as_ref().and_then(|s| s.location.as_deref()),
            sm_inbound: r.sm.as_ref().map(|s| to_i64(s.inbound, key, "the inbound count")).transpose()?.unwrap_or(0),
            sm_outbound: r.sm.as_ref().map(|s| to_i64(s.outbound, key, "the outbound count")).transpose()?.unwrap_or(0),
        })
    }
}

/// An Action's columns, to write.
pub(super) struct ActionRow<'a> {
    pub(super) id: &'a str,
    pub(super) type_name: &'a str,
    pub(super) state: &'a str,
    pub(super) addressee: Option<&'a str>,
    pub(super) deadline_ms: i64,
}

impl<'a> ActionRow<'a> {
    pub(super) fn from_action(a: &'a StoredAction, key: &str) -> Result<ActionRow<'a>> {
        Ok(ActionRow {
            id: &a.id,
            type_name: &a.type_name,
            state: &a.state,
            addressee: a.to.as_deref(),
            deadline_ms: time_to_ms(a.deadline, key)?,
        })
    }
}

/// An Action's columns, as read.
pub(super) struct RawAction {
    pub(super) id: String,
    pub(super) type_name: String,
    pub(super) state: String,
    pub(super) addressee: Option<String>,
    pub(super) deadline_ms: i64,
}

impl RawAction {
    pub(super) fn read<R>(row: &R, key: &str) -> Result<RawAction>
    where
        R: Row,
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(RawAction {
            id: get(row, key, "moxl_actions.id")?,
            type_name: get(row, key, "moxl_actions.type_name")?,
            state: get(row, key, "moxl_actions.state")?,
            addressee: get(row, key, "moxl_actions.addressee")?,
            deadline_ms: get(row, key, "moxl_actions.deadline_ms")?,
        })
    }

    pub(super) fn into_action(self, key: &str) -> Result<StoredAction> {
        Ok(StoredAction {
            deadline: ms_to_time(self.deadline_ms, key, "moxl_actions.deadline_ms")?,
            id: self.id,
            type_name: self.type_name,
            state: self.state,
            to: self.addressee,
        })
    }
}
