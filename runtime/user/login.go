package user

import (
	"context"
	"errors"
	"fmt"
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
func (s *Service) Login(ctx context.Context, c Credentials) (*AccessToken, error) {
	if err := s.limitIP(ctx); err != nil {
		s.auditAlone(ctx, audit.Entry{Action: ActionLogin, Resource: "user", Outcome: audit.Denied, Reason: "ip_rate_limited"})
		return nil, err
	}
	var (
		id          uuid.UUID
		email       string
		hash        *string
		roles       []string
		lockedUntil *time.Time
	)
	err := db.QueryRow(ctx, s.pool, `SELECT id, email, password_hash, roles, locked_until
		FROM users WHERE email_key = $1 AND deleted_at IS NULL`,
		EmailKey(c.Email)).Scan(&id, &email, &hash, &roles, &lockedUntil)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && hash == nil) {
		return nil, s.failUnknown(ctx, c.Password)
	}
	if err != nil {
		return nil, fmt.Errorf("login: load user: %w", err)
	}
	now := s.now()
	if lockedUntil != nil && now.Before(*lockedUntil) {
		s.auditAlone(ctx, audit.Entry{ActorID: &id, Action: ActionLogin, Resource: "user", ResourceID: id.String(),
			Outcome: audit.Denied, Reason: "locked"})
		return nil, tooManyRequests(lockedUntil.Sub(now))
	}
	ok, rehash, err := s.hasher.Verify(ctx, *hash, c.Password)
	if errors.Is(err, auth.ErrInvalidHash) {
		s.logger.ErrorContext(ctx, "stored password hash is invalid", "user_id", id, "error", err)
		ok, err = false, nil
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return nil, s.failWrongPassword(ctx, id)
	}
	fresh := ""
	if rehash {
		if fresh, err = s.hasher.Hash(ctx, c.Password); err != nil {
			s.logger.WarnContext(ctx, "rehash password", "user_id", id, "error", err)
			fresh = ""
		}
	}
	var sid uuid.UUID
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		if _, err := tx.Exec(ctx, `UPDATE users SET failed_logins = 0, failed_since = NULL, locked_until = NULL
			WHERE id = $1 AND (failed_logins <> 0 OR locked_until IS NOT NULL)`, id); err != nil {
			return fmt.Errorf("reset failed logins: %w", err)
		}
		if fresh != "" {
			if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2
				WHERE id = $3 AND password_hash = $4`, fresh, now, id, *hash); err != nil {
				return fmt.Errorf("store rehashed password: %w", err)
			}
		}
		if sid, err = s.openSession(ctx, tx, id); err != nil {
			return err
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &id, Action: ActionLogin, Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success, Details: map[string]any{"session_id": sid.String()}})
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s.issue(ctx, &auth.Principal{UserID: id, SessionID: sid, Email: email, Roles: roles})
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
func (s *Service) openSession(ctx context.Context, tx pgx.Tx, id uuid.UUID) (uuid.UUID, error) {
	sid := uuid.New()
	now := s.now()
	if _, err := tx.Exec(ctx, `INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		sid, id, now, now.Add(SessionTTL)); err != nil {
		return uuid.Nil, fmt.Errorf("open session: %w", err)
	}
	return sid, nil
}

// failUnknown answers a login for an unknown address (or a user without a
// password) like a wrong password, at the same cost: one hash and one
// audit transaction (AUTH-7).
func (s *Service) failUnknown(ctx context.Context, password string) error {
	if _, _, err := s.hasher.Verify(ctx, s.decoy, password); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		return s.writeAudit(ctx, tx, audit.Entry{Action: ActionLogin, Resource: "user",
			Outcome: audit.Failure, Reason: apierr.CodeInvalidCredentials})
	})
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return ErrInvalidCredentials
}

// failWrongPassword counts a failure against the account, locks it once
// past the threshold, and commits that with its audit rows before
// answering 401 (AUTH-6).
func (s *Service) failWrongPassword(ctx context.Context, id uuid.UUID) error {
	l := s.lockout
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.now()
		var failures int
		// A failure more than Window after the first of the series starts
		// a new series.
		err := tx.QueryRow(ctx, `UPDATE users SET
			    failed_logins = CASE WHEN failed_since IS NULL OR failed_since <= $2 THEN 1 ELSE failed_logins + 1 END,
			    failed_since  = CASE WHEN failed_since IS NULL OR failed_since <= $2 THEN $1 ELSE failed_since END
			WHERE id = $3 RETURNING failed_logins`, now, now.Add(-l.Window), id).Scan(&failures)
		if err != nil {
			return fmt.Errorf("count failed login: %w", err)
		}
		if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: &id, Action: ActionLogin, Resource: "user",
			ResourceID: id.String(), Outcome: audit.Failure, Reason: apierr.CodeInvalidCredentials,
			Details: map[string]any{"failures": failures}}); err != nil {
			return err
		}
		if l.Threshold <= 0 || failures < l.Threshold {
			return nil
		}
		wait := min(time.Duration(failures-l.Threshold+1)*l.Step, l.MaxWait)
		if _, err := tx.Exec(ctx, `UPDATE users SET locked_until = $1 WHERE id = $2`, now.Add(wait), id); err != nil {
			return fmt.Errorf("lock account: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &id, Action: ActionLockout, Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success, Reason: "too_many_failures",
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
