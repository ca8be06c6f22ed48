-- The OAuth mfa grant's token (oauth_mfa_challenges) stops working after a
-- few wrong codes, like the /auth/login/mfa challenge: one password step
-- must not buy an unbounded run of code guesses.
ALTER TABLE oauth_mfa_challenges ADD COLUMN attempts integer NOT NULL DEFAULT 0;
