-- Mechanism pinning: the strongest SASL mechanism (and channel-binding type) the account has authenticated with,
-- written as `MECHANISM [BINDING]` (e.g. `SCRAM-SHA-256-PLUS tls-exporter`). A later login offered only weaker
-- mechanisms is refused unless the application allows it.
ALTER TABLE moxl_sessions ADD COLUMN auth_pin TEXT;
