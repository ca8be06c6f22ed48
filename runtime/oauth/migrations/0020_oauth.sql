-- OAuth2 / OpenID Connect provider (runtime/oauth). Opaque tokens (codes,
-- refresh tokens, client secrets, login-request cookies) are stored only as
-- HMAC-SHA-256 signatures under the server secret (SECURITY.md TOK-7).

-- The server secret, when EXH_SECRET_KEY does not provide one: created on
-- first use. Keys for HMACs and encryption are derived from it with HKDF.
CREATE TABLE oauth_server_secret (
    id         smallint PRIMARY KEY CHECK (id = 1),
    secret     bytea NOT NULL CHECK (length(secret) >= 32),
    created_at timestamptz NOT NULL
);

-- Secrets of confidential applications (OA-5). The current secret has
-- expires_at NULL; rotation gives the previous ones an expiry (the overlap).
CREATE TABLE oauth_client_secrets (
    id         uuid PRIMARY KEY,
    client_id  text NOT NULL,
    hash       bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz
);
CREATE INDEX oauth_client_secrets_client_idx ON oauth_client_secrets (client_id);

-- A grant is one authorization of a client (for a user, or for itself): the
-- family of every refresh and access token issued from it. Revoking it
-- revokes them all (TOK-6, TOK-7, OA-3).
CREATE TABLE oauth_grants (
    id             uuid PRIMARY KEY,
    client_id      text NOT NULL,
    user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
    scopes         text[] NOT NULL,
    grant_type     text NOT NULL,
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    -- Absolute end of the family: refreshing never extends it (TOK-5).
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz,
    revoked_reason text
);
CREATE INDEX oauth_grants_user_idx ON oauth_grants (user_id) WHERE user_id IS NOT NULL;

CREATE TABLE oauth_codes (
    hash           bytea PRIMARY KEY,
    client_id      text NOT NULL,
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri   text NOT NULL,
    scopes         text[] NOT NULL,
    code_challenge text NOT NULL,
    nonce          text NOT NULL DEFAULT '',
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    used_at        timestamptz,
    -- The grant the code was redeemed for: revoked if the code is reused (OA-3).
    grant_id       uuid REFERENCES oauth_grants (id) ON DELETE CASCADE
);

CREATE TABLE oauth_refresh_tokens (
    hash       bytea PRIMARY KEY,
    grant_id   uuid NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    -- Set when the token is rotated; a later use is a reuse (TOK-6).
    used_at    timestamptz
);
CREATE INDEX oauth_refresh_tokens_grant_idx ON oauth_refresh_tokens (grant_id);

-- Pending /oauth/authorize requests, bound to the browser by a cookie whose
-- HMAC is the key (OA-6: state and the login form's CSRF token are bound to it).
CREATE TABLE oauth_authorize_requests (
    hash           bytea PRIMARY KEY,
    client_id      text NOT NULL,
    redirect_uri   text NOT NULL,
    scopes         text[] NOT NULL,
    state          text NOT NULL,
    code_challenge text NOT NULL,
    nonce          text NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    -- Set once the password was right and a second factor is pending.
    user_id        uuid REFERENCES users (id) ON DELETE CASCADE,
    auth_time      timestamptz
);
