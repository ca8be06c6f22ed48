package mfa

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
)

// Login challenges: a first factor that succeeded for a user who must give
// a second one yields a challenge token instead of a session; Redeem
// exchanges it and a code for the user's id.
const (
	// ChallengeTTL bounds how long a login may wait for its second factor.
	ChallengeTTL = 5 * time.Minute
	// MaxChallengeAttempts wrong codes void a challenge (the lockout
	// counts them as well).
	MaxChallengeAttempts = 5
	challengePrefix      = "exh_mfa_"
)

// ErrInvalidChallenge answers an unknown, used, expired or exhausted
// challenge token.
var ErrInvalidChallenge = apierr.New(http.StatusUnauthorized, "mfa_token_invalid",
	"The sign-in has expired or was completed already. Sign in again.")

// NewChallenge stores a login challenge for the user and returns its
// token (256 random bits; only its HMAC is stored).
func (s *Service) NewChallenge(ctx context.Context, userID uuid.UUID) (string, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (Go ≥1.24)
	token := challengePrefix + base64.RawURLEncoding.EncodeToString(b)
	now := s.clock().UTC()
	if _, err := db.Exec(ctx, s.pool, `INSERT INTO mfa_challenges (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.challengeHash(token), userID, now, now.Add(ChallengeTTL)); err != nil {
		return "", fmt.Errorf("new mfa challenge: %w", err)
	}
	return token, nil
}

// Redeem checks code (TOTP or recovery code, see Verify) for the user of
// the challenge token and, when it is right, uses the challenge up and
// returns the user's id. A wrong code counts toward the lockout and the
// challenge's attempts; a locked account is refused even with the right
// code.
func (s *Service) Redeem(ctx context.Context, token, code string) (uuid.UUID, error) {
	h := s.challengeHash(token)
	var userID uuid.UUID
	err := db.QueryRow(ctx, s.pool, `SELECT user_id FROM mfa_challenges
		WHERE hash = $1 AND used_at IS NULL AND expires_at > $2 AND attempts < $3`,
		h, s.clock().UTC(), MaxChallengeAttempts).Scan(&userID)
	if errors.Is(err, pgx.ErrNoRows) {
		return uuid.Nil, ErrInvalidChallenge
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("redeem mfa challenge: %w", err)
	}
	if err := s.Verify(ctx, userID, code); err != nil {
		if errors.Is(err, ErrInvalidCode) || errors.Is(err, ErrNotEnrolled) {
			if _, uerr := db.Exec(ctx, s.pool, `UPDATE mfa_challenges SET attempts = attempts + 1 WHERE hash = $1`, h); uerr != nil {
				return uuid.Nil, fmt.Errorf("redeem mfa challenge: %w", uerr)
			}
			return uuid.Nil, ErrInvalidCode
		}
		return uuid.Nil, err
	}
	tag, err := db.Exec(ctx, s.pool, `UPDATE mfa_challenges SET used_at = $2 WHERE hash = $1 AND used_at IS NULL`, h, s.clock().UTC())
	if err != nil {
		return uuid.Nil, fmt.Errorf("redeem mfa challenge: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return uuid.Nil, ErrInvalidChallenge // a concurrent redemption won
	}
	return userID, nil
}

func (s *Service) challengeHash(token string) []byte {
	m := hmac.New(sha256.New, s.hmacKey)
	m.Write([]byte("login challenge\x00"))
	m.Write([]byte(token))
	return m.Sum(nil)
}
