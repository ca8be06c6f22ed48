package user

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
)

// SecondFactor is what logins need of MFA (runtime/mfa implements it).
type SecondFactor interface {
	// Enrolled reports whether the user has a confirmed second factor.
	Enrolled(ctx context.Context, userID uuid.UUID) (bool, error)
	// NewChallenge stores a login challenge and returns its token.
	NewChallenge(ctx context.Context, userID uuid.UUID) (string, error)
	// Redeem checks a code for a challenge's user and returns the user.
	Redeem(ctx context.Context, token, code string) (uuid.UUID, error)
}

// WithMFA makes logins ask enrolled users for a second factor, and holders
// of one of requiredForRoles enrol first (the project's
// auth.mfa.required_for_roles).
func WithMFA(f SecondFactor, requiredForRoles []string) Option {
	return func(s *Service) { s.mfa, s.mfaRoles = f, slices.Clone(requiredForRoles) }
}

// GrantRevoker revokes, in tx, every OAuth grant of a user (refresh token
// families and their access tokens) except keep (runtime/oauth
// implements it). Password changes and resets call it (AUTH-8).
type GrantRevoker func(ctx context.Context, tx pgx.Tx, userID, keep uuid.UUID, reason string) error

// WithGrantRevoker sets the GrantRevoker of password changes and resets.
func WithGrantRevoker(r GrantRevoker) Option { return func(s *Service) { s.revokeGrants = r } }

// Stable public codes of the MFA login step.
const (
	CodeMFARequired           = "mfa_required"
	CodeMFAEnrollmentRequired = auth.CodeMFAEnrollmentRequired
	ActionLoginMFA            = "auth.login_mfa"
)

// Errors of the MFA login step.
var (
	ErrMFARequired = apierr.New(http.StatusForbidden, CodeMFARequired,
		"A second factor is required: send the mfa_token with a one-time or recovery code to POST /auth/login/mfa.")
	ErrMFAEnrollmentRequired = apierr.New(http.StatusForbidden, CodeMFAEnrollmentRequired,
		"Your role requires multi-factor authentication: set it up with the enrollment_token (POST /oauth/mfa/totp), then sign in again.")
)

// MFAError is Login's answer when the password is right but a second
// factor is needed: Err is ErrMFARequired with MFAToken to redeem
// (LoginMFA), or ErrMFAEnrollmentRequired with EnrollmentToken, the
// access token of a session that may only set up MFA.
type MFAError struct {
	Err             *apierr.Error
	MFAToken        string
	ExpiresIn       time.Duration
	EnrollmentToken *AccessToken
}

func (e *MFAError) Error() string { return e.Err.Error() }
func (e *MFAError) Unwrap() error { return e.Err }

// What a login needs after the password.
type nextFactor int

const (
	factorNone      nextFactor = iota
	factorChallenge            // enrolled: ask for a code
	factorEnroll               // required by a role, not enrolled
)

// secondFactor decides what user id (holding roles) must do after a right
// password.
func (s *Service) secondFactor(ctx context.Context, id uuid.UUID, roles []string) (nextFactor, error) {
	if s.mfa == nil {
		return factorNone, nil
	}
	enrolled, err := s.mfa.Enrolled(ctx, id)
	if err != nil {
		return 0, fmt.Errorf("login: mfa: %w", err)
	}
	if enrolled {
		return factorChallenge, nil
	}
	for _, r := range roles {
		if slices.Contains(s.mfaRoles, r) {
			return factorEnroll, nil
		}
	}
	return factorNone, nil
}

// MFAChallengeTTL is how long the mfa_token of a login stays valid.
const MFAChallengeTTL = 5 * time.Minute

// challenge answers a right password of an enrolled user.
func (s *Service) challenge(ctx context.Context, id uuid.UUID) error {
	token, err := s.mfa.NewChallenge(ctx, id)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}
	s.auditAlone(ctx, audit.Entry{ActorID: &id, Action: ActionLogin, Resource: "user", ResourceID: id.String(),
		Outcome: audit.Success, Reason: CodeMFARequired})
	return &MFAError{Err: ErrMFARequired, MFAToken: token, ExpiresIn: MFAChallengeTTL}
}

// LoginMFA completes a login that answered mfa_required: the challenge
// token and a TOTP or recovery code open the session. Wrong codes count
// toward the lockout (MFA-3) and a locked account is refused (429) even
// with the right code.
func (s *Service) LoginMFA(ctx context.Context, token, code string) (*AccessToken, error) {
	if s.mfa == nil {
		return nil, apierr.ErrNotFound
	}
	if err := s.limitIP(ctx); err != nil {
		return nil, err
	}
	id, err := s.mfa.Redeem(ctx, token, code)
	if err != nil {
		return nil, err
	}
	var (
		email string
		roles []string
	)
	err = db.QueryRow(ctx, s.pool, `SELECT email, roles FROM users WHERE id = $1 AND deleted_at IS NULL`, id).Scan(&email, &roles)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apierr.ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s.succeed(ctx, &firstFactor{id: id, email: email, roles: roles}, auth.SessionLogin, "mfa")
}

// CheckPassword checks a password for another login flow (the OAuth
// password grant): the same limits, lockout, audit and answers as Login,
// but no session. It returns the user's id; the caller asks for the second
// factor itself, so the failure count is reset here only when none will be
// asked (else the second factor's success resets it).
func (s *Service) CheckPassword(ctx context.Context, email, password string) (uuid.UUID, error) {
	f, err := s.firstFactor(ctx, Credentials{Email: email, Password: password})
	if err != nil {
		return uuid.Nil, err
	}
	next, err := s.secondFactor(ctx, f.id, f.roles)
	if err != nil {
		return uuid.Nil, err
	}
	if next == factorNone {
		if err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.resetFailures(ctx, tx, f.id) }); err != nil {
			return uuid.Nil, fmt.Errorf("login: %w", err)
		}
	}
	return f.id, nil
}

// CheckLocked returns 429 with a Retry-After while the user's account is
// locked (mfa.FailureRecorder).
func (s *Service) CheckLocked(ctx context.Context, id uuid.UUID) error {
	return s.checkLocked(ctx, id, ActionLoginMFA)
}

// checkLocked is CheckLocked auditing a refusal as action.
func (s *Service) checkLocked(ctx context.Context, id uuid.UUID, action string) error {
	var until *time.Time
	err := db.QueryRow(ctx, s.pool, `SELECT locked_until FROM users WHERE id = $1`, id).Scan(&until)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("check lockout: %w", err)
	}
	if now := s.now(); until != nil && now.Before(*until) {
		s.auditAlone(ctx, audit.Entry{ActorID: &id, Action: action, Resource: "user", ResourceID: id.String(),
			Outcome: audit.Denied, Reason: "locked"})
		return tooManyRequests(until.Sub(now))
	}
	return nil
}

// RecordFailure counts a wrong second factor like a wrong password
// (MFA-3, AUTH-6) and returns 429 when the account is locked now.
func (s *Service) RecordFailure(ctx context.Context, id uuid.UUID) error {
	if err := s.fail(ctx, failureTarget{table: "users", userID: id}); !errors.Is(err, ErrInvalidCredentials) {
		return err
	}
	return s.CheckLocked(ctx, id)
}

// RecordSuccess resets the failure count after a right second factor.
func (s *Service) RecordSuccess(ctx context.Context, id uuid.UUID) error {
	return db.InTx(ctx, s.pool, func(tx pgx.Tx) error { return s.resetFailures(ctx, tx, id) })
}
