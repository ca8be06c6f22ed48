-- Identity: users and the JWT signing keys of runtime/auth.

CREATE TABLE users (
    id            uuid PRIMARY KEY,
    -- email is the address as the user typed it (trimmed); email_key is the
    -- identifier uniqueness and login use: lower-cased, then NFC (RFC 8265).
    email         text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    email_key     text NOT NULL,
    password_hash text,
    first_name    text NOT NULL DEFAULT '',
    last_name     text NOT NULL DEFAULT '',
    language      text NOT NULL,
    time_zone     text NOT NULL DEFAULT 'UTC',
    roles         text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    CONSTRAINT users_email_key_unique UNIQUE (email_key)
);

CREATE INDEX users_roles_idx ON users USING gin (roles);

CREATE TABLE auth_signing_keys (
    kid         text PRIMARY KEY,
    alg         text NOT NULL,
    -- PKCS #8 DER. TODO(iam): encrypt at rest with a key-encryption key.
    private_key bytea NOT NULL,
    public_jwk  jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    retired_at  timestamptz
);

-- At most one active key, whatever the replicas do.
CREATE UNIQUE INDEX auth_signing_keys_one_active ON auth_signing_keys ((true)) WHERE retired_at IS NULL;
