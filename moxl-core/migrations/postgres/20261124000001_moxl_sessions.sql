-- moxl session store, PostgreSQL. Times are integer milliseconds since the Unix epoch; JSON is kept as TEXT.
-- Every table is prefixed `moxl_` so that moxl can share a database with the application's own tables.

-- One row per account: the session record's single-valued fields.
CREATE TABLE IF NOT EXISTS moxl_sessions (
    account          TEXT    NOT NULL PRIMARY KEY, -- bare JID
    bound_jid        TEXT,                         -- full JID from resource binding
    server_host      TEXT,
    server_port      BIGINT,
    server_transport TEXT,                         -- 'starttls' | 'direct-tls' | 'websocket'
    server_url       TEXT,                         -- the WebSocket URL
    fast_mechanism   TEXT,                         -- XEP-0484 token: mechanism, secret, expiry
    fast_token       TEXT,
    fast_expires_ms  BIGINT,
    credentials      TEXT,                         -- JSON: SCRAM keys, only when the user opted in
    sm_id            TEXT,                         -- XEP-0198 session: id, location, counters
    sm_location      TEXT,
    sm_inbound       BIGINT NOT NULL DEFAULT 0,
    sm_outbound      BIGINT NOT NULL DEFAULT 0,
    roster_version   TEXT
);

-- The unacknowledged outbound queue (XEP-0198), by sequence number.
CREATE TABLE IF NOT EXISTS moxl_unacked (
    account TEXT    NOT NULL REFERENCES moxl_sessions (account) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    stanza  TEXT    NOT NULL,
    PRIMARY KEY (account, seq)
);

-- Entity capabilities (XEP-0115): verification string -> serialized disco#info.
CREATE TABLE IF NOT EXISTS moxl_caps (
    account TEXT NOT NULL REFERENCES moxl_sessions (account) ON DELETE CASCADE,
    ver     TEXT NOT NULL,
    info    TEXT NOT NULL,
    PRIMARY KEY (account, ver)
);

-- Pending Actions (moxl_core::xec::StoredAction).
CREATE TABLE IF NOT EXISTS moxl_actions (
    account     TEXT    NOT NULL REFERENCES moxl_sessions (account) ON DELETE CASCADE,
    id          TEXT    NOT NULL,
    type_name   TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    addressee   TEXT,
    deadline_ms BIGINT NOT NULL,
    PRIMARY KEY (account, id)
);

-- Who drives a session: one live lease per account. `token` changes with every acquisition, so a writer whose
-- lease was taken over is fenced off even if its owner id is reused.
CREATE TABLE IF NOT EXISTS moxl_leases (
    account    TEXT    NOT NULL PRIMARY KEY,
    owner      TEXT    NOT NULL,
    token      BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
