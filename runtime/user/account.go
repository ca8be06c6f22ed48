package user

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
)

func (s *Service) inTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return db.InTx(ctx, s.pool, fn)
}

// Secret is a single-use token from a link, or an email address and the
// PIN mailed to it.
type Secret struct {
	Token string
	Email string
	PIN   string
}

// consume uses sec for purpose in tx. A wrong PIN still counts an attempt,
// so it reports ok=false instead of an error: the caller commits and then
// answers ErrInvalidSecret.
func (s *Service) consume(ctx context.Context, tx pgx.Tx, purpose string, sec Secret) (consumed, bool, error) {
	if sec.Token != "" {
		c, err := s.consumeToken(ctx, tx, purpose, sec.Token)
		if errors.Is(err, ErrInvalidSecret) {
			return consumed{}, false, nil
		}
		return c, err == nil, err
	}
	if sec.Email == "" || sec.PIN == "" {
		return consumed{}, false, nil
	}
	return s.consumePIN(ctx, tx, purpose, sec.Email, sec.PIN)
}

// RequestVerification mails a new verification link and PIN to the
// caller's address (or the address being changed to, when a change is
// pending it is re-sent by ChangeEmail instead).
func (s *Service) RequestVerification(ctx context.Context) error {
	p, err := caller(ctx)
	if err != nil {
		return err
	}
	u, err := s.Get(ctx, p.UserID)
	if err != nil {
		return err
	}
	if u.EmailVerified {
		return nil
	}
	return s.inTx(ctx, func(tx pgx.Tx) error { return s.sendVerification(ctx, tx, u.ID, u.Email, u.Language) })
}

// VerifyEmail uses a verification secret. If it was sent for a new
// address (ChangeEmail), the user's address becomes that one. Invalid,
// used and expired secrets, and the sixth try of a PIN, are 400
// invalid_code.
func (s *Service) VerifyEmail(ctx context.Context, sec Secret) error {
	if err := s.limitIP(ctx); err != nil {
		return err
	}
	ok := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		c, used, err := s.consume(ctx, tx, purposeVerify, sec)
		if err != nil || !used {
			return err
		}
		if c.UserID == nil {
			return nil
		}
		now := s.now()
		_, err = tx.Exec(ctx, `UPDATE users SET email = $1, email_key = $2, email_verified_at = $3, updated_at = $3
			WHERE id = $4 AND deleted_at IS NULL`, c.Email, EmailKey(c.Email), now, *c.UserID)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			return ErrEmailTaken // another account took the address meanwhile
		}
		if err != nil {
			return fmt.Errorf("verify email: %w", err)
		}
		ok = true
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: c.UserID, Action: ActionEmailVerify, Resource: "user",
			ResourceID: c.UserID.String(), Outcome: audit.Success})
	})
	if err != nil {
		return err
	}
	if !ok {
		return ErrInvalidSecret
	}
	return nil
}

// ChangeEmail starts changing the caller's address to email: it checks the
// current password, mails a verification link and PIN to the new address
// and a notice to the old one. The address changes when the new one is
// verified (VerifyEmail). A taken address answers as a free one (no
// verification mail is sent), so this does not reveal accounts.
func (s *Service) ChangeEmail(ctx context.Context, email, currentPassword string) error {
	p, err := auth.RequireRecentAuth(ctx, s.now())
	if err != nil {
		return err
	}
	email = norm.NFC.String(strings.TrimSpace(email))
	if d := checkEmail(email); d != nil {
		return apierr.Validation("The email address is invalid.", *d)
	}
	u, err := s.checkPassword(ctx, p.UserID, currentPassword)
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email_key = $1)`, EmailKey(email)).Scan(&taken); err != nil {
			return fmt.Errorf("look up address: %w", err)
		}
		if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: "user.email_change", Resource: "user",
			ResourceID: p.UserID.String(), Outcome: audit.Success}); err != nil {
			return err
		}
		if err := s.mail(ctx, tx, &u.ID, u.Email, MailEmailChanged, u.Language, map[string]any{}); err != nil {
			return err
		}
		if taken {
			return nil
		}
		return s.sendVerification(ctx, tx, u.ID, email, u.Language)
	})
}

// checkPassword verifies the password of user id for a sensitive change;
// a wrong one is 401 invalid_credentials and counts towards the lockout.
// Like a login it is refused (429) while the account is locked, even with
// the right password, and counts against the per-IP limit: a stolen
// session must not become an unthrottled password oracle (AUTH-6).
func (s *Service) checkPassword(ctx context.Context, id uuid.UUID, password string) (*User, error) {
	if err := s.limitIP(ctx); err != nil {
		return nil, err
	}
	if err := s.checkLocked(ctx, id, ActionPasswordCheck); err != nil {
		return nil, err
	}
	u, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	var hash *string
	if err := db.QueryRow(ctx, s.pool, `SELECT password_hash FROM users WHERE id = $1`, id).Scan(&hash); err != nil {
		return nil, fmt.Errorf("load password: %w", err)
	}
	if hash == nil {
		return nil, ErrInvalidCredentials
	}
	ok, _, err := s.hasher.Verify(ctx, *hash, password)
	if err != nil && !errors.Is(err, auth.ErrInvalidHash) {
		return nil, err
	}
	if !ok {
		return nil, s.failWrongPassword(ctx, id)
	}
	return u, nil
}

// ChangePassword sets the caller's password after checking the current
// one and revokes every other session and OAuth grant of the user (AUTH-8);
// the caller's own session or grant stays valid. It needs a sign-in at
// most auth.RecentAuthAge old.
func (s *Service) ChangePassword(ctx context.Context, current, next string) error {
	p, err := auth.RequireRecentAuth(ctx, s.now())
	if err != nil {
		return err
	}
	u, err := s.checkPassword(ctx, p.UserID, current)
	if err != nil {
		return err
	}
	if err := s.policy.Check(next, u.Email); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, next)
	if err != nil {
		return fmt.Errorf("change password: %w", err)
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
			hash, s.now(), p.UserID); err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if err := s.revokeSessions(ctx, tx, p.UserID, p.SessionID); err != nil {
			return err
		}
		if s.revokeGrants != nil {
			if err := s.revokeGrants(ctx, tx, p.UserID, p.GrantID, "password_change"); err != nil {
				return err
			}
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: ActionPasswordChange, Resource: "user",
			ResourceID: p.UserID.String(), Outcome: audit.Success})
	})
	if err != nil {
		return err
	}
	s.tokens.ForgetUser(p.UserID)
	return nil
}

// RequestPasswordReset mails a reset link and PIN to email if it belongs
// to a user. The answer is the same either way.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	if err := s.limitIP(ctx); err != nil {
		return err
	}
	var (
		id   uuid.UUID
		addr string
		lang string
	)
	err := db.QueryRow(ctx, s.pool, `SELECT id, email, language FROM users WHERE email_key = $1 AND deleted_at IS NULL`,
		EmailKey(email)).Scan(&id, &addr, &lang)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("password reset: %w", err)
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		sec, err := s.issueSecret(ctx, tx, purposeReset, &id, addr, ResetTokenTTL, true, nil)
		if err != nil {
			return err
		}
		return s.mail(ctx, tx, &id, addr, MailPasswordReset, lang, map[string]any{"token": sec.Token, "pin": sec.PIN})
	})
}

// ResetPassword sets a new password with a reset secret, revokes every
// session of the user, clears the lockout and marks the address verified
// (the secret came through it).
func (s *Service) ResetPassword(ctx context.Context, sec Secret, password string) error {
	if err := s.limitIP(ctx); err != nil {
		return err
	}
	// The policy's similarity check needs the address: with a token it is
	// only known once the token is used, so check the rest first and the
	// similarity inside the transaction.
	if err := s.policy.Check(password); err != nil {
		return err
	}
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return fmt.Errorf("reset password: %w", err)
	}
	var id uuid.UUID
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		c, used, err := s.consume(ctx, tx, purposeReset, sec)
		if err != nil || !used || c.UserID == nil {
			return err
		}
		if err := s.policy.Check(password, c.Email); err != nil {
			return err // rolls the use of the secret back: it can be retried
		}
		now := s.now()
		tag, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1, updated_at = $2,
			    failed_logins = 0, failed_since = NULL, locked_until = NULL,
			    email_verified_at = COALESCE(email_verified_at, $2)
			WHERE id = $3 AND deleted_at IS NULL`, hash, now, *c.UserID)
		if err != nil {
			return fmt.Errorf("store password: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if err := s.revokeSessions(ctx, tx, *c.UserID, uuid.Nil); err != nil {
			return err
		}
		if s.revokeGrants != nil {
			if err := s.revokeGrants(ctx, tx, *c.UserID, uuid.Nil, "password_reset"); err != nil {
				return err
			}
		}
		id = *c.UserID
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: c.UserID, Action: ActionPasswordReset, Resource: "user",
			ResourceID: c.UserID.String(), Outcome: audit.Success})
	})
	if err != nil {
		return err
	}
	if id == uuid.Nil {
		return ErrInvalidSecret
	}
	s.tokens.ForgetUser(id)
	return nil
}
