-- OAuth 1.0 (RFC 5849, HMAC-SHA1) machine credentials (runtime/oauth,
-- oauth1.go): a consumer key and secret with a token and token secret,
-- acting as one user.
--
-- The secrets are stored encrypted (AES-256-GCM under a key derived from
-- the server secret, the row id as associated data), not hashed: an
-- HMAC-SHA1 signature can only be checked by recomputing it with the
-- secrets themselves (RFC 5849 §3.4.2). The TOTP secrets of runtime/mfa are
-- kept the same way for the same reason.
CREATE TABLE oauth1_credentials (
    id                  uuid PRIMARY KEY,
    consumer_key        text NOT NULL UNIQUE,
    token               text NOT NULL UNIQUE,
    secrets_enc         bytea NOT NULL,
    user_id             uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    description         text NOT NULL DEFAULT '',
    created_by          uuid,
    created_at          timestamptz NOT NULL,
    revoked_at          timestamptz
);
CREATE INDEX oauth1_credentials_user_idx ON oauth1_credentials (user_id);

-- Nonces seen (RFC 5849 §3.3): a second request with the same nonce from
-- the same credentials is refused. A row is kept until its request's
-- timestamp leaves the accepted window; after that the timestamp check
-- refuses a replay anyway.
CREATE TABLE oauth1_nonces (
    credential_id uuid NOT NULL REFERENCES oauth1_credentials (id) ON DELETE CASCADE,
    nonce         text NOT NULL,
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (credential_id, nonce)
);
CREATE INDEX oauth1_nonces_expiry_idx ON oauth1_nonces (expires_at);
