-- Sessions (SECURITY.md AUTH-8): the last use of a session, so one left
-- unused for 30 minutes ends (runtime/auth.SessionIdle), and its purpose:
-- 'mfa_enrollment' sessions belong to users whose role requires MFA and
-- who have not set it up; their tokens may only enrol.

ALTER TABLE auth_sessions
    ADD COLUMN last_seen_at timestamptz,
    ADD COLUMN purpose      text NOT NULL DEFAULT 'login' CHECK (purpose IN ('login', 'mfa_enrollment'));

UPDATE auth_sessions SET last_seen_at = created_at;

ALTER TABLE auth_sessions ALTER COLUMN last_seen_at SET NOT NULL;
