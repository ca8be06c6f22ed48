-- Multi-factor authentication (runtime/mfa): TOTP and recovery codes.

CREATE TABLE mfa_totp (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- AES-256-GCM of the 160-bit secret under a key derived from the
    -- server secret, the user id as associated data (MFA-1).
    secret_enc   bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    -- The last time step accepted: only later steps are (MFA-2).
    last_step    bigint NOT NULL DEFAULT 0
);

CREATE TABLE mfa_recovery_codes (
    hash       bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX mfa_recovery_codes_user_idx ON mfa_recovery_codes (user_id);

-- Pending second steps of a login (the mfa grant's mfa_token).
CREATE TABLE oauth_mfa_challenges (
    hash       bytea PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    client_id  text NOT NULL,
    scopes     text[] NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
