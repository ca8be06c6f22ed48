-- Accounts: profile fields, email verification, login lockout state,
-- server-side sessions, single-use tokens and PINs, invitations.

ALTER TABLE users
    ADD COLUMN phone             text NOT NULL DEFAULT '' CHECK (length(phone) <= 32),
    ADD COLUMN email_verified_at timestamptz,
    -- Lockout (SECURITY.md AUTH-6), per account so every replica agrees:
    -- consecutive failures since failed_since (reset on success or when
    -- older than the window), and the time before which logins are refused.
    ADD COLUMN failed_logins     integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
    ADD COLUMN failed_since      timestamptz,
    ADD COLUMN locked_until      timestamptz,
    -- Set when the user was deleted with user_deletion = "anonymise": the
    -- row stays (documents name their creator) without personal data.
    ADD COLUMN deleted_at        timestamptz;

-- A login session. Access tokens carry its id (sid); a revoked or expired
-- session makes them fail at once (AUTH-8).
CREATE TABLE auth_sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id) WHERE revoked_at IS NULL;

-- Single-use secrets mailed to users: links (kind 'token', 256 bits) and
-- short numeric PINs (kind 'pin'). Only their HMAC-SHA256 is stored; they
-- are consumed with UPDATE ... WHERE used_at IS NULL RETURNING.
CREATE TABLE user_secrets (
    id         uuid PRIMARY KEY,
    -- NULL for an invitation, which names an address that has no user yet.
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password', 'invite')),
    kind       text NOT NULL CHECK (kind IN ('token', 'pin')),
    hash       bytea NOT NULL CHECK (length(hash) = 32),
    -- The address the secret was sent to (and, for a changed email
    -- address, the one being verified).
    email      text NOT NULL,
    email_key  text NOT NULL,
    attempts   integer NOT NULL DEFAULT 0,
    created_by uuid,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE UNIQUE INDEX user_secrets_token_hash ON user_secrets (hash) WHERE kind = 'token';
CREATE INDEX user_secrets_pin_idx ON user_secrets (email_key, purpose) WHERE kind = 'pin' AND used_at IS NULL;
CREATE INDEX user_secrets_user_idx ON user_secrets (user_id);

-- The HMAC key of user_secrets, created once on first use.
CREATE TABLE user_secret_key (
    id  boolean PRIMARY KEY DEFAULT true CHECK (id),
    key bytea NOT NULL CHECK (length(key) = 32)
);

-- Failed logins for addresses without an account, counted like a user's
-- (AUTH-6) so that neither the lockout nor the time a failure takes tells
-- whether an address has an account (AUTH-7). The key is the HMAC of the
-- address (user_secret_key), never the address.
CREATE TABLE login_throttle (
    key           bytea PRIMARY KEY,
    failed_logins integer NOT NULL DEFAULT 0,
    failed_since  timestamptz,
    locked_until  timestamptz
);
