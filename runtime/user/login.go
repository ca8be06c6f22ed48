package user

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
)

// Audit actions of logins and sessions.
const (
	ActionLogin          = "auth.login"
	ActionLockout        = "auth.lockout"
	ActionLogout         = "auth.logout"
	ActionLockoutReset   = "auth.lockout_reset"
	ActionPasswordChange = "auth.password_change"
	ActionPasswordCheck  = "auth.password_check" // the current password, checked for a sensitive change
	ActionPasswordReset  = "auth.password_reset"
	ActionEmailVerify    = "auth.email_verify"
)

// Login checks credentials and opens a session (AUTH-6, AUTH-7, AUTH-8):
//   - beyond the per-IP limit, or while the account is locked, it answers
//     429 with a Retry-After, even for the right password;
//   - an unknown email address and a wrong password give the same 401
//     invalid_credentials and cost one password hash each;
//   - a wrong password counts towards the account's lockout; a success
//     resets the count;
//   - a hash made with outdated parameters is replaced (AUTH-2).
//
// Every outcome writes an auth.login audit row that commits even though the
// login fails.
//
// A user who enrolled in MFA gets no token for the password alone: the
// answer is 403 mfa_required with a challenge token that LoginMFA redeems
// with a code, and the failure count is only reset once the second factor
// is right (so right passwords cannot wipe wrong codes off the lockout,
// MFA-3). A user whose role requires MFA but who has not enrolled gets 403
// mfa_enrollment_required with the token of a session that may only set
// MFA up (auth.SessionMFAEnrollment).
func (s *Service) Login(ctx context.Context, c Credentials) (*AccessToken, error) {
	f, err := s.firstFactor(ctx, c)
	if err != nil {
		return nil, err
	}
	next, err := s.secondFactor(ctx, f.id, f.roles)
	if err != nil {
		return nil, err
	}
	switch next {
	case factorChallenge:
		return nil, s.challenge(ctx, f.id)
	case factorEnroll:
		t, err := s.succeed(ctx, f, auth.SessionMFAEnrollment, "password")
		if err != nil {
			return nil, err
		}
		return nil, &MFAError{Err: ErrMFAEnrollmentRequired, EnrollmentToken: t}
	}
	return s.succeed(ctx, f, auth.SessionLogin, "password")
}

// firstFactor is a checked password: the user and what succeed needs.
type firstFactor struct {
	id       uuid.UUID
	email    string
	roles    []string
	hash     string
	password string
	rehash   bool
}

// firstFactor checks an email address and password (AUTH-6, AUTH-7; see
// Login) without opening a session or resetting the failure count.
func (s *Service) firstFactor(ctx context.Context, c Credentials) (*firstFactor, error) {
	if err := s.limitIP(ctx); err != nil {
		s.auditAlone(ctx, audit.Entry{Action: ActionLogin, Resource: "user", Outcome: audit.Denied, Reason: "ip_rate_limited"})
		return nil, err
	}
	key, err := s.key(ctx)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	throttleKey := mac(key, "login", EmailKey(c.Email))
	// One statement whether or not the address has an account, so both
	// cost the same; an unknown address has its own failure count.
	var (
		id          *uuid.UUID
		email       *string
		hash        *string
		roles       []string
		lockedUntil *time.Time
	)
	err = db.QueryRow(ctx, s.pool, `SELECT u.id, u.email, u.password_hash, u.roles,
		    CASE WHEN u.id IS NULL THEN t.locked_until ELSE u.locked_until END
		FROM (VALUES (1)) AS one (x)
		LEFT JOIN users u ON u.email_key = $1 AND u.deleted_at IS NULL
		LEFT JOIN login_throttle t ON t.key = $2`,
		EmailKey(c.Email), throttleKey).Scan(&id, &email, &hash, &roles, &lockedUntil)
	if err != nil {
		return nil, fmt.Errorf("login: load user: %w", err)
	}
	target := failureTarget{table: "login_throttle", key: throttleKey}
	if id != nil {
		target = failureTarget{table: "users", userID: *id}
	}
	now := s.now()
	if lockedUntil != nil && now.Before(*lockedUntil) {
		s.auditAlone(ctx, audit.Entry{ActorID: id, Action: ActionLogin, Resource: "user", ResourceID: target.resourceID(),
			Outcome: audit.Denied, Reason: "locked"})
		return nil, tooManyRequests(lockedUntil.Sub(now))
	}
	if id == nil || hash == nil {
		// Verify against a decoy: the same cost as a wrong password.
		if _, _, err := s.hasher.Verify(ctx, s.decoy, c.Password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, s.fail(ctx, target)
	}
	ok, rehash, err := s.hasher.Verify(ctx, *hash, c.Password)
	if errors.Is(err, auth.ErrInvalidHash) {
		s.logger.ErrorContext(ctx, "stored password hash is invalid", "user_id", *id, "error", err)
		if _, _, err = s.hasher.Verify(ctx, s.decoy, c.Password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return nil, s.fail(ctx, target)
	}
	return &firstFactor{id: *id, email: *email, roles: roles, hash: *hash, password: c.Password, rehash: rehash}, nil
}

// succeed resets the failure count, stores a rehashed password when
// needed, opens a session of the given purpose and issues its token.
func (s *Service) succeed(ctx context.Context, f *firstFactor, purpose, method string) (*AccessToken, error) {
	var err error
	fresh := ""
	if f.rehash {
		if fresh, err = s.hasher.Hash(ctx, f.password); err != nil {
			s.logger.WarnContext(ctx, "rehash password", "user_id", f.id, "error", err)
			fresh = ""
		}
	}
	var sid uuid.UUID
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		if err := s.resetFailures(ctx, tx, f.id); err != nil {
			return err
		}
		if fresh != "" {
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2
				WHERE id = $3 AND password_hash = $4`, fresh, now, f.id, f.hash); err != nil {
				return fmt.Errorf("store rehashed password: %w", err)
			}
		}
		if sid, err = s.openSession(ctx, tx, f.id, purpose); err != nil {
			return err
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &f.id, Action: ActionLogin, Resource: "user",
			ResourceID: f.id.String(), Outcome: audit.Success,
			Details: map[string]any{"session_id": sid.String(), "method": method, "purpose": purpose}})
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s.issue(ctx, &auth.Principal{UserID: f.id, SessionID: sid, Email: f.email, Roles: f.roles})
}

// resetFailures clears the user's failed-login count in tx.
func (s *Service) resetFailures(ctx context.Context, tx pgx.Tx, id uuid.UUID) error {
	if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, failed_since = NULL, locked_until = NULL
		WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)`, id); err != nil {
		return fmt.Errorf("reset failed logins: %w", err)
	}
	return nil
}

// issue signs an access token for p.
func (s *Service) issue(ctx context.Context, p *auth.Principal) (*AccessToken, error) {
	token, expiresIn, err := s.tokens.Issue(ctx, p)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return &AccessToken{AccessToken: token, TokenType: "Bearer", ExpiresIn: expiresIn}, nil
}

// openSession inserts a session of SessionTTL for user id (a new 128-bit
// random id, AUTH-8).
func (s *Service) openSession(ctx context.Context, tx pgx.Tx, id uuid.UUID, purpose string) (uuid.UUID, error) {
	sid := uuid.New()
	now := s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, expires_at, last_seen_at, purpose)
		VALUES ($1, $2, $3, $4, $3, $5)`, sid, id, now, now.Add(SessionTTL), purpose); err != nil {
		return uuid.Nil, fmt.Errorf("open session: %w", err)
	}
	return sid, nil
}

// failureTarget is where a failed login is counted: the user's row, or
// the login_throttle row of an address without an account.
type failureTarget struct {
	table  string // "users" or "login_throttle"
	userID uuid.UUID
	key    []byte
}

func (t failureTarget) resourceID() string {
	if t.table == "users" {
		return t.userID.String()
	}
	return ""
}

func (t failureTarget) actor() *uuid.UUID {
	if t.table == "users" {
		return &t.userID
	}
	return nil
}

// failWrongPassword counts a failed password check of user id (a
// sensitive change) like a failed login.
func (s *Service) failWrongPassword(ctx context.Context, id uuid.UUID) error {
	return s.fail(ctx, failureTarget{table: "users", userID: id})
}

// fail counts a failed login against t, locks it once past the threshold,
// and commits that with its audit rows before answering 401 (AUTH-6). An
// unknown address goes through the same statements as a wrong password,
// so the two take the same time (AUTH-7) and lock alike.
func (s *Service) fail(ctx context.Context, t failureTarget) error {
	l := s.lockout
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		var failures int
		// A failure more than Window after the first of the series starts
		// a new series.
		count := strings.ReplaceAll(`
			    failed_logins = CASE WHEN T.failed_since IS NULL OR T.failed_since <= $2 THEN 1 ELSE T.failed_logins + 1 END,
			    failed_since  = CASE WHEN T.failed_since IS NULL OR T.failed_since <= $2 THEN $1 ELSE T.failed_since END`,
			"T.", t.table+".")
		var err error
		if t.table == "users" {
			err = tx.QueryRow(ctx, `UPDATE users SET`+count+` WHERE id = $3 RETURNING failed_logins`,
				now, now.Add(-l.Window), t.userID).Scan(&failures)
		} else {
			err = tx.QueryRow(ctx, `INSERT INTO login_throttle (key, failed_logins, failed_since) VALUES ($3, 1, $1)
				ON CONFLICT (key) DO UPDATE SET`+count+` RETURNING failed_logins`,
				now, now.Add(-l.Window), t.key).Scan(&failures)
		}
		if err != nil {
			return fmt.Errorf("count failed login: %w", err)
		}
		if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: t.actor(), Action: ActionLogin, Resource: "user",
			ResourceID: t.resourceID(), Outcome: audit.Failure, Reason: apierr.CodeInvalidCredentials,
			Details: map[string]any{"failures": failures}}); err != nil {
			return err
		}
		if l.Threshold <= 0 || failures < l.Threshold {
			return nil
		}
		wait := min(time.Duration(failures-l.Threshold+1)*l.Step, l.MaxWait)
		if t.table == "users" {
			_, err = tx.Exec(ctx, `UPDATE users SET locked_until = $1 WHERE id = $2`, now.Add(wait), t.userID)
		} else {
			_, err = tx.Exec(ctx, `UPDATE login_throttle SET locked_until = $1 WHERE key = $2`, now.Add(wait), t.key)
		}
		if err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: t.actor(), Action: ActionLockout, Resource: "user",
			ResourceID: t.resourceID(), Outcome: audit.Success, Reason: "too_many_failures",
			Details: map[string]any{"failures": failures, "wait_seconds": int(wait.Seconds())}})
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return ErrInvalidCredentials
}

// Logout revokes the caller's session: its access tokens stop working at
// once on this replica and within the user cache TTL on the others.
func (s *Service) Logout(ctx context.Context) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE auth_sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL`,
			s.now(), p.SessionID, p.UserID); err != nil {
			return fmt.Errorf("revoke session: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: ActionLogout, Resource: "user",
			ResourceID: p.UserID.String(), Outcome: audit.Success, Details: map[string]any{"session_id": p.SessionID.String()}})
	})
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	s.tokens.ForgetUser(p.UserID)
	return nil
}

// revokeSessions revokes every session of user id except keep, in tx.
func (s *Service) revokeSessions(ctx context.Context, tx pgx.Tx, id, keep uuid.UUID) error {
	if _, err := tx.Exec(ctx, `UPDATE auth_sessions SET revoked_at = $1
		WHERE user_id = $2 AND id <> $3 AND revoked_at IS NULL`, s.now(), id, keep); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// ResetFailedLogins clears a user's failed-login count and lock (admin;
// users:login_attempts:delete).
func (s *Service) ResetFailedLogins(ctx context.Context, id uuid.UUID) error {
	p, err := s.require(ctx, PermResetLoginLimit)
	if err != nil {
		return err
	}
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, failed_since = NULL, locked_until = NULL
			WHERE id = $1 AND deleted_at IS NULL`, id)
		if err != nil {
			return fmt.Errorf("reset failed logins: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: ActionLockoutReset, Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success})
	})
}
