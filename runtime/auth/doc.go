// Package auth authenticates callers: argon2id password hashing, the
// password policy, ES256 JWT access tokens with a rotating key set and a
// JWKS, and the Principal a verified request carries in its context.
//
// Passwords (SECURITY.md AUTH-1..AUTH-4) are NFKC-normalised and hashed with
// argon2id into PHC strings; parameters read back from stored hashes are
// bounded before any work is done, hashes made with weaker parameters are
// reported for rehashing, and concurrent hashing is capped by a Hasher
// (DefaultHasher caps it at the number of CPU cores for the whole process).
//
// Access tokens (TOK-1..TOK-5) are RFC 9068 JWTs: typ at+jwt, ES256 only, a
// kid naming a key from the local key set (never a key the token points
// to), required exp, and checked iss and aud. Keys live in the
// auth_signing_keys table (created by the user service's migrations); the
// first key is created on first use under an advisory lock so replicas
// agree, and Keys.Rotate retires the active key while it still verifies
// the tokens it signed.
//
// Authenticate resolves a token to a Principal with the roles stored for
// the user now, so role changes apply without waiting for tokens to expire,
// and refuses a token whose login session (sid) was revoked or has expired.
//
// The password policy (PasswordPolicy, AUTH-4, AUTH-5) also refuses the
// 197,545 breached or common passwords of an embedded offline list and
// passwords resembling the user's email address. RateLimiter is the per-IP
// limit on authentication attempts (AUTH-6). Wildcard permissions never
// cover ProtectedResources such as roles (AC-5).
package auth
