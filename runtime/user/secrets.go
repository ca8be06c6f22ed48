package user

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/db"
)

// Purposes of single-use secrets (user_secrets.purpose).
const (
	purposeVerify = "verify_email"
	purposeReset  = "reset_password"
	purposeInvite = "invite"
)

// issued is a secret pair as mailed: a link token and, except for
// invitations, a PIN for typing on a phone.
type issued struct {
	Token string
	PIN   string
}

// consumed is what a used secret was for.
type consumed struct {
	UserID *uuid.UUID
	Email  string
}

// key returns the HMAC key of user_secrets, creating it on first use.
func (s *Service) key(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.secretKey != nil {
		return s.secretKey, nil
	}
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh) // never fails (crypto/rand, Go ≥1.24)
	if _, err := db.Exec(ctx, s.pool, `INSERT INTO user_secret_key (key) VALUES ($1) ON CONFLICT DO NOTHING`, fresh); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	var k []byte
	if err := db.QueryRow(ctx, s.pool, `SELECT key FROM user_secret_key`).Scan(&k); err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	s.secretKey = k
	return k, nil
}

// mac returns HMAC-SHA256(key, purpose ‖ 0 ‖ value): the only form in
// which a token or PIN is stored.
func mac(key []byte, purpose, value string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}

// issueSecret stores a new token (and a PIN unless withPIN is false) for
// purpose in tx, after retiring the unused secrets of the same purpose for
// the same address, and returns them for the mail.
func (s *Service) issueSecret(ctx context.Context, tx pgx.Tx, purpose string, userID *uuid.UUID, email string,
	ttl time.Duration, withPIN bool, createdBy *uuid.UUID) (issued, error) {
	key, err := s.key(ctx)
	if err != nil {
		return issued{}, err
	}
	now := s.now()
	if _, err := tx.Exec(ctx, `UPDATE user_secrets SET expires_at = $1
		WHERE email_key = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1`,
		now, EmailKey(email), purpose); err != nil {
		return issued{}, fmt.Errorf("retire secrets: %w", err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	out := issued{Token: base64.RawURLEncoding.EncodeToString(b)}
	insert := func(kind, value string, ttl time.Duration) error {
		_, err := tx.Exec(ctx, `INSERT INTO user_secrets
			(id, user_id, purpose, kind, hash, email, email_key, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			uuid.New(), userID, purpose, kind, mac(key, purpose, value), email, EmailKey(email), createdBy, now, now.Add(ttl))
		if err != nil {
			return fmt.Errorf("store %s %s: %w", purpose, kind, err)
		}
		return nil
	}
	if err := insert("token", out.Token, ttl); err != nil {
		return issued{}, err
	}
	if withPIN {
		n, _ := rand.Int(rand.Reader, big.NewInt(1_000_000))
		out.PIN = fmt.Sprintf("%0*d", PINDigits, n.Int64())
		if err := insert("pin", out.PIN, min(ttl, PINTTL)); err != nil {
			return issued{}, err
		}
	}
	return out, nil
}

// consumeToken marks the unused, unexpired token of purpose used, in tx,
// exactly once however many requests race for it.
func (s *Service) consumeToken(ctx context.Context, tx pgx.Tx, purpose, token string) (consumed, error) {
	key, err := s.key(ctx)
	if err != nil {
		return consumed{}, err
	}
	if token == "" || len(token) > 128 {
		return consumed{}, ErrInvalidSecret
	}
	now := s.now()
	var c consumed
	err = tx.QueryRow(ctx, `UPDATE user_secrets SET used_at = $1
		WHERE hash = $2 AND kind = 'token' AND purpose = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING user_id, email`, now, mac(key, purpose, token), purpose).Scan(&c.UserID, &c.Email)
	if errors.Is(err, pgx.ErrNoRows) {
		return consumed{}, ErrInvalidSecret
	}
	if err != nil {
		return consumed{}, fmt.Errorf("consume token: %w", err)
	}
	// The PIN mailed with the token is used up with it.
	if _, err := tx.Exec(ctx, `UPDATE user_secrets SET used_at = $1
		WHERE email_key = $2 AND purpose = $3 AND used_at IS NULL`, now, EmailKey(c.Email), purpose); err != nil {
		return consumed{}, fmt.Errorf("retire pin: %w", err)
	}
	return c, nil
}

// consumePIN checks pin against the latest PIN of purpose sent to email.
// Every check counts one attempt, the PIN is void after MaxPINAttempts, and
// a right PIN is marked used in the same statement. It returns ok=false
// (and no error) for a wrong PIN so the caller can commit the attempt.
func (s *Service) consumePIN(ctx context.Context, tx pgx.Tx, purpose, email, pin string) (consumed, bool, error) {
	key, err := s.key(ctx)
	if err != nil {
		return consumed{}, false, err
	}
	if len(pin) != PINDigits || strings.Trim(pin, "0123456789") != "" {
		pin = "" // never matches, but still counts as an attempt
	}
	now := s.now()
	var (
		c    consumed
		used bool
	)
	// The conditions are repeated in the outer WHERE so that a request
	// that waited for the row lock re-checks them (READ COMMITTED).
	err = tx.QueryRow(ctx, `UPDATE user_secrets
		SET attempts = attempts + 1,
		    used_at = CASE WHEN hash = $4 THEN $3 END
		WHERE id = (SELECT id FROM user_secrets
		            WHERE email_key = $1 AND purpose = $2 AND kind = 'pin'
		              AND used_at IS NULL AND expires_at > $3 AND attempts < $5
		            ORDER BY created_at DESC LIMIT 1 FOR UPDATE)
		  AND used_at IS NULL AND expires_at > $3 AND attempts < $5
		RETURNING user_id, email, used_at IS NOT NULL`,
		EmailKey(email), purpose, now, mac(key, purpose, pin), MaxPINAttempts).Scan(&c.UserID, &c.Email, &used)
	if errors.Is(err, pgx.ErrNoRows) {
		return consumed{}, false, nil
	}
	if err != nil {
		return consumed{}, false, fmt.Errorf("check pin: %w", err)
	}
	if !used {
		return consumed{}, false, nil
	}
	// The link sent with the PIN is used up with it.
	if _, err := tx.Exec(ctx, `UPDATE user_secrets SET used_at = $1
		WHERE email_key = $2 AND purpose = $3 AND used_at IS NULL`, now, EmailKey(email), purpose); err != nil {
		return consumed{}, false, fmt.Errorf("retire token: %w", err)
	}
	return c, true, nil
}
