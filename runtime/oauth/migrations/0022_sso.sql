-- Single sign-on through external OpenID Connect providers (runtime/oauth,
-- sso.go).

-- A user's account at a provider. (provider, subject) is the provider's
-- stable id for the person (OIDC Core §5.7: sub, not email, is unique and
-- never reassigned); one account per provider per user.
CREATE TABLE sso_identities (
    id            uuid PRIMARY KEY,
    provider      text NOT NULL,
    subject       text NOT NULL,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz,
    UNIQUE (provider, subject),
    UNIQUE (provider, user_id)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- Round trips to a provider in progress. hash is the HMAC of the state sent
-- to the provider (or of a link ticket); the PKCE verifier and the nonce
-- are HMACs of the state too, so nothing here lets anyone finish a flow.
-- binding is the HMAC of the browser cookie the flow is bound to (OA-6):
-- for a sign-in, the pending authorization request's.
CREATE TABLE sso_requests (
    hash       bytea PRIMARY KEY,
    kind       text NOT NULL CHECK (kind IN ('login', 'link_ticket', 'link', 'link_confirm')),
    provider   text NOT NULL,
    binding    bytea,
    -- Linking: the signed-in account the provider's account is linked to.
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    -- link_confirm: the verified account at the provider awaiting the
    -- user's confirmation.
    subject    text,
    email      text,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
