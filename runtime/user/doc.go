// Package user manages the people who use a backend and the core identity
// migrations (users, sessions, single-use secrets, and the signing keys of
// runtime/auth).
//
// Accounts: registration per the project's mode (open, invite with a
// single-use invitation token, closed); profiles (names, phone, language,
// time zone); email verification and password reset by a 256-bit link token
// or a 6-digit PIN, both stored only as HMAC-SHA256, expiring, a PIN void
// after MaxPINAttempts, consumed by one UPDATE ... WHERE used_at IS NULL
// RETURNING; email change with re-verification; password change (other
// sessions end) and reset (all sessions end). Mails go to the mail outbox
// in the transaction of the change (runtime/outbox).
//
// Logins (SECURITY.md AUTH-2, AUTH-6..8): a per-IP limit (in memory, per
// replica); a per-account lockout stored in the users row so replicas
// agree, counted the same way in login_throttle for addresses without an
// account, so neither the answer, the lockout nor the time taken tells
// whether an address has an account; outdated hashes are rehashed; each
// login opens a session (auth_sessions) its tokens name, which logout,
// password changes and deletion revoke; a session unused for 30 minutes or
// older than 12 hours ends (runtime/auth). Password changes and resets
// also revoke the user's OAuth grants (WithGrantRevoker), a change keeping
// the caller's own session or grant; they and email changes need a sign-in
// at most an hour old (auth.RequireRecentAuth).
//
// MFA (WithMFA, runtime/mfa): a user with a second factor gets no session
// for the password alone but 403 mfa_required with a challenge token that
// LoginMFA (POST /auth/login/mfa) redeems with a TOTP or recovery code; the
// failure count is reset only then, and wrong codes count toward the
// lockout (the Service is runtime/mfa's FailureRecorder; MFA-3). A user
// whose role requires MFA and who has not enrolled gets 403
// mfa_enrollment_required with the token of a session that may only enrol
// (auth.SessionMFAEnrollment). CheckPassword serves the OAuth password
// grant, which asks for the second factor itself.
//
// Administration: list, get, update and delete users, grant and revoke
// global roles, reset failed logins, invite, each behind a permission.
// AC-5: nobody changes their own roles or grants a role with permissions
// they lack, and wildcard grants never cover role resources
// (auth.MatchPermission). Deleting removes or anonymises the user as the
// project's auth.user_deletion says and queues a user.deleted event.
//
// Every login outcome, lockout, password change or reset, role change and
// denied request writes an audit row (runtime/audit) in the transaction of
// what it describes; a failed login's row commits although the login fails.
//
// Email addresses are unique by their normalised identifier (EmailKey:
// lower-cased, NFC). Registering a taken address answers 409 email_taken:
// sign-up forms need that answer, and the per-IP limit bounds how fast
// addresses can be probed; every other flow answers alike for unknown
// addresses.
package user
