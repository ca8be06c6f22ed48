// Package mfa is multi-factor authentication: TOTP (RFC 6238) with
// encrypted secrets and replay protection, and single-use recovery codes.
//
//   - MFA-1: 160-bit secrets encrypted at rest (AES-256-GCM, the user id as
//     associated data), 6 digits, 30 s steps, ±1 step accepted.
//   - MFA-2: a code is accepted only for a step later than the last one
//     accepted, recorded by the same UPDATE that accepts it, so the same
//     code twice, or an older one after a newer one, is refused even when
//     the requests race.
//   - MFA-3: every wrong code is reported to the FailureRecorder (the
//     AUTH-6 lockout of runtime/user); while the account is locked even a
//     right code is refused, before any code is looked at or consumed.
//   - MFA-4: ten recovery codes of 50 bits, stored as HMACs, consumed with
//     one UPDATE … WHERE used_at IS NULL RETURNING; regenerating replaces
//     the set.
//   - MFA-5: enrolling, confirming and removing need an authentication at
//     most RecentAuth old; each change is audited and mails the user
//     through the outbox in the same transaction.
package mfa

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"embed"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/outbox"
)

// TOTP parameters (MFA-1).
const (
	Digits    = 6
	Period    = 30 * time.Second
	Skew      = 1 // steps accepted either side of now
	secretLen = 20
	// RecentAuth is how recent an authentication must be to change MFA (MFA-5, AUTH-8).
	RecentAuth        = auth.RecentAuthAge
	RecoveryCodeCount = 10
	recoveryCodeBytes = 7 // 56 random bits, 50 kept in 10 base32 characters
)

// Errors, as clients see them.
var (
	ErrInvalidCode = apierr.New(http.StatusUnauthorized, "mfa_invalid_code", "The one-time code is not valid.")
	ErrReauth      = auth.ErrReauthRequired
	ErrNotEnrolled = apierr.New(http.StatusConflict, "mfa_not_enrolled", "Multi-factor authentication is not set up.")
	ErrEnrolled    = apierr.New(http.StatusConflict, "mfa_already_enrolled", "Multi-factor authentication is already set up.")
)

// FailureRecorder is the account lockout as second factors see it
// (MFA-3); runtime/user's AUTH-6 lockout implements it.
type FailureRecorder interface {
	// CheckLocked returns the error (429) a locked account's attempts
	// get, or nil.
	CheckLocked(ctx context.Context, userID uuid.UUID) error
	// RecordFailure counts a wrong code like a wrong password; it returns
	// the 429 error when the account is locked now.
	RecordFailure(ctx context.Context, userID uuid.UUID) error
	// RecordSuccess resets the count: the sign-in is complete.
	RecordSuccess(ctx context.Context, userID uuid.UUID) error
}

// Service manages users' second factors.
type Service struct {
	pool     *pgxpool.Pool
	aead     cipher.AEAD
	hmacKey  []byte
	clock    func() time.Time
	issuer   string
	failures FailureRecorder
	// verifying serialises the verifications of one user (striped by user
	// id; a buffered channel per stripe, so waiting honours ctx).
	verifying [verifyStripes]chan struct{}
}

// verifyStripes bounds the per-user verification locks' memory.
const verifyStripes = 256

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the MFA tables (core/0021_mfa.sql).
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("mfa: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// New returns the service. secret is the server secret (at least 32
// bytes); issuer names the service in authenticator apps. failures may be
// nil.
func New(pool *pgxpool.Pool, secret []byte, issuer string, clock func() time.Time, failures FailureRecorder) (*Service, error) {
	if len(secret) < 32 {
		return nil, errors.New("mfa: server secret must be at least 32 bytes")
	}
	encKey, err := hkdf.Key(sha256.New, secret, nil, "exhgen mfa totp aes-gcm v1", 32)
	if err != nil {
		return nil, err
	}
	macKey, err := hkdf.Key(sha256.New, secret, nil, "exhgen mfa recovery hmac v1", 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	if clock == nil {
		clock = time.Now
	}
	s := &Service{pool: pool, aead: aead, hmacKey: macKey, clock: clock, issuer: issuer, failures: failures}
	for k := range s.verifying {
		s.verifying[k] = make(chan struct{}, 1)
	}
	return s, nil
}

// Enrollment is a TOTP secret waiting for confirmation.
type Enrollment struct {
	Secret string // base32, for manual entry
	URL    string // otpauth:// URI, for a QR code
}

// CheckRecent returns ErrReauth unless authTime is within RecentAuth (the
// one rule of auth.Principal.RequireRecentAuth).
func (s *Service) CheckRecent(authTime time.Time) error {
	return (&auth.Principal{AuthTime: authTime}).RequireRecentAuth(s.clock())
}

// BeginTOTP creates (or replaces an unconfirmed) TOTP secret for the user.
func (s *Service) BeginTOTP(ctx context.Context, userID uuid.UUID, account string, authTime time.Time) (*Enrollment, error) {
	if err := s.CheckRecent(authTime); err != nil {
		return nil, err
	}
	raw := make([]byte, secretLen)
	_, _ = rand.Read(raw)
	enc := s.seal(userID, raw)
	now := s.clock().UTC()
	tag, err := db.Exec(ctx, s.pool, `INSERT INTO mfa_totp (user_id, secret_enc, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret_enc = EXCLUDED.secret_enc, created_at = EXCLUDED.created_at, last_step = 0
		WHERE mfa_totp.confirmed_at IS NULL`, userID, enc, now)
	if err != nil {
		return nil, fmt.Errorf("begin totp: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return nil, ErrEnrolled
	}
	secret := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw)
	v := url.Values{"secret": {secret}, "issuer": {s.issuer}, "algorithm": {"SHA1"}, "digits": {"6"}, "period": {"30"}}
	u := "otpauth://totp/" + url.PathEscape(s.issuer+":"+account) + "?" + v.Encode()
	return &Enrollment{Secret: secret, URL: u}, nil
}

// ConfirmTOTP activates the pending secret when code is valid for it and
// returns the recovery codes, shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, userID uuid.UUID, email, code string, authTime time.Time) ([]string, error) {
	if err := s.CheckRecent(authTime); err != nil {
		return nil, err
	}
	if s.failures != nil {
		if err := s.failures.CheckLocked(ctx, userID); err != nil {
			return nil, err
		}
	}
	var codes []string
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var (
			enc       []byte
			confirmed *time.Time
		)
		err := tx.QueryRow(ctx, `SELECT secret_enc, confirmed_at FROM mfa_totp WHERE user_id = $1 FOR UPDATE`, userID).Scan(&enc, &confirmed)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotEnrolled
		}
		if err != nil {
			return err
		}
		if confirmed != nil {
			return ErrEnrolled
		}
		ok, err := s.acceptTOTP(ctx, tx, userID, enc, code)
		if err != nil {
			return err
		}
		if !ok {
			return ErrInvalidCode
		}
		if _, err := tx.Exec(ctx, `UPDATE mfa_totp SET confirmed_at = $2 WHERE user_id = $1`, userID, s.clock().UTC()); err != nil {
			return err
		}
		if codes, err = s.newRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		return s.changed(ctx, tx, userID, email, "mfa.enable")
	})
	if err != nil {
		return nil, s.wrongCode(ctx, userID, err)
	}
	return codes, nil
}

// Disable removes the user's TOTP and recovery codes.
func (s *Service) Disable(ctx context.Context, userID uuid.UUID, email string, authTime time.Time) error {
	if err := s.CheckRecent(authTime); err != nil {
		return err
	}
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM mfa_totp WHERE user_id = $1`, userID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotEnrolled
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID); err != nil {
			return err
		}
		return s.changed(ctx, tx, userID, email, "mfa.disable")
	})
}

// changed audits an MFA change and mails the user about it (MFA-5).
func (s *Service) changed(ctx context.Context, tx pgx.Tx, userID uuid.UUID, email, action string) error {
	if err := audit.Write(ctx, tx, audit.Entry{ActorID: &userID, Action: action, Resource: "user",
		ResourceID: userID.String(), Outcome: audit.Success, Details: map[string]any{"factor": "totp"}}); err != nil {
		return err
	}
	_, err := outbox.Mail(ctx, tx, outbox.MailRecord{UserID: &userID, To: email, Template: "mfa_changed",
		Data: map[string]any{"action": action}})
	return err
}

// Enrolled reports whether the user has a confirmed second factor.
func (s *Service) Enrolled(ctx context.Context, userID uuid.UUID) (bool, error) {
	var ok bool
	err := db.QueryRow(ctx, s.pool, `SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)`, userID).Scan(&ok)
	return ok, err
}

// Verify checks a second factor at login: a TOTP code, or a recovery code.
// A wrong one is ErrInvalidCode and is reported to the FailureRecorder.
//
// Verifications of one user run one at a time in this process, from the
// lockout check to the recorded outcome, so a burst of parallel guesses
// cannot all pass the check before any failure is counted (MFA-3, AUTH-6).
func (s *Service) Verify(ctx context.Context, userID uuid.UUID, code string) error {
	stripe := s.verifying[int(binary.BigEndian.Uint16(userID[14:]))%verifyStripes]
	select {
	case stripe <- struct{}{}:
		defer func() { <-stripe }()
	case <-ctx.Done():
		return fmt.Errorf("verify second factor: %w", ctx.Err())
	}
	if s.failures != nil {
		if err := s.failures.CheckLocked(ctx, userID); err != nil {
			return err
		}
	}
	code = strings.ReplaceAll(strings.TrimSpace(code), " ", "")
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if len(code) == Digits {
			var enc []byte
			err := tx.QueryRow(ctx, `SELECT secret_enc FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL`, userID).Scan(&enc)
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotEnrolled
			}
			if err != nil {
				return err
			}
			ok, err := s.acceptTOTP(ctx, tx, userID, enc, code)
			if err != nil {
				return err
			}
			if !ok {
				return ErrInvalidCode
			}
			return nil
		}
		// MFA-4: one atomic UPDATE consumes a recovery code.
		var id uuid.UUID
		err := tx.QueryRow(ctx, `UPDATE mfa_recovery_codes SET used_at = $3 WHERE hash = $1 AND user_id = $2 AND used_at IS NULL
			RETURNING user_id`, s.recoveryHash(code), userID, s.clock().UTC()).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrInvalidCode
		}
		return err
	})
	if err == nil && s.failures != nil {
		if err := s.failures.RecordSuccess(ctx, userID); err != nil {
			return fmt.Errorf("verify second factor: %w", err)
		}
	}
	return s.wrongCode(ctx, userID, err)
}

// wrongCode reports ErrInvalidCode to the lockout (MFA-3).
func (s *Service) wrongCode(ctx context.Context, userID uuid.UUID, err error) error {
	if errors.Is(err, ErrInvalidCode) && s.failures != nil {
		if ferr := s.failures.RecordFailure(ctx, userID); ferr != nil {
			return ferr // a lockout answer (429) wins
		}
	}
	return err
}

// acceptTOTP checks code against the secret at steps now-1..now+1 and, for
// a match later than the recorded last step, records it in tx (MFA-2). The
// code that confirmed an enrolment is recorded too: it cannot log in.
func (s *Service) acceptTOTP(ctx context.Context, tx pgx.Tx, userID uuid.UUID, enc []byte, code string) (bool, error) {
	secret, err := s.open(userID, enc)
	if err != nil {
		return false, fmt.Errorf("decrypt totp secret: %w", err)
	}
	now := s.clock().Unix() / int64(Period/time.Second)
	for _, step := range []int64{now, now - 1, now + 1} {
		if !hmac.Equal([]byte(hotp(secret, uint64(step))), []byte(code)) {
			continue
		}
		tag, err := tx.Exec(ctx, `UPDATE mfa_totp SET last_step = $2 WHERE user_id = $1 AND last_step < $2`, userID, step)
		if err != nil {
			return false, err
		}
		return tag.RowsAffected() == 1, nil
	}
	return false, nil
}

// hotp is RFC 4226 HOTP with SHA-1 and Digits digits.
func hotp(secret []byte, counter uint64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1000000)
}

func (s *Service) seal(userID uuid.UUID, plain []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, userID[:])
}

func (s *Service) open(userID uuid.UUID, enc []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(enc) < n {
		return nil, errors.New("ciphertext too short")
	}
	return s.aead.Open(nil, enc[:n], enc[n:], userID[:])
}

func (s *Service) recoveryHash(code string) []byte {
	m := hmac.New(sha256.New, s.hmacKey)
	m.Write([]byte(strings.ToLower(strings.ReplaceAll(code, "-", ""))))
	return m.Sum(nil)
}

// newRecoveryCodes replaces the user's recovery codes (MFA-4).
func (s *Service) newRecoveryCodes(ctx context.Context, tx pgx.Tx, userID uuid.UUID) ([]string, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return nil, err
	}
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	codes := make([]string, RecoveryCodeCount)
	now := s.clock().UTC()
	for i := range codes {
		b := make([]byte, recoveryCodeBytes)
		_, _ = rand.Read(b)
		c := strings.ToLower(enc.EncodeToString(b))[:10] // 50 bits
		codes[i] = c[:5] + "-" + c[5:]
		if _, err := tx.Exec(ctx, `INSERT INTO mfa_recovery_codes (hash, user_id, created_at) VALUES ($1, $2, $3)`,
			s.recoveryHash(codes[i]), userID, now); err != nil {
			return nil, err
		}
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces the recovery codes (MFA-5: recent auth).
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, userID uuid.UUID, email string, authTime time.Time) ([]string, error) {
	if err := s.CheckRecent(authTime); err != nil {
		return nil, err
	}
	var codes []string
	err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		ok := false
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM mfa_totp WHERE user_id = $1 AND confirmed_at IS NOT NULL)`, userID).Scan(&ok); err != nil {
			return err
		}
		if !ok {
			return ErrNotEnrolled
		}
		var err error
		if codes, err = s.newRecoveryCodes(ctx, tx, userID); err != nil {
			return err
		}
		return s.changed(ctx, tx, userID, email, "mfa.recovery_codes.regenerate")
	})
	return codes, err
}
