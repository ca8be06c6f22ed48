-- Second-factor challenges of first-party logins (POST /auth/login answers
-- mfa_required with a token, POST /auth/login/mfa redeems it with a code).
-- Only the token's HMAC is stored (TOK-7). A challenge is single-use,
-- short-lived and void after a few wrong codes; each wrong code also counts
-- toward the account lockout (MFA-3).
CREATE TABLE mfa_challenges (
    hash       bytea PRIMARY KEY CHECK (length(hash) = 32),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    attempts   integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id);
