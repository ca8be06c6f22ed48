package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/mfa"
	"github.com/exhgen/exhgen/runtime/project"
)

// mfaTokenTTL bounds how long a login may wait for its second factor.
const mfaTokenTTL = 5 * time.Minute

// errMFAEnrollment answers a login of a user whose role requires MFA but who
// has not enrolled: they enrol with a first-party session (/auth/login).
var errMFAEnrollment = oauthErr(http.StatusForbidden, "mfa_enrollment_required",
	"Your role requires multi-factor authentication: set it up before signing in to applications.")

// mfaNeeded reports whether the user must give a second factor now.
func (s *Server) mfaNeeded(ctx context.Context, userID uuid.UUID) (bool, *Error) {
	if s.cfg.MFA == nil {
		return false, nil
	}
	enrolled, err := s.cfg.MFA.Enrolled(ctx, userID)
	if err != nil {
		return false, unavailable(err)
	}
	if enrolled {
		return true, nil
	}
	if len(s.cfg.MFARoles) > 0 {
		var roles []string
		if err := db.QueryRow(ctx, s.pool, `SELECT roles FROM users WHERE id = $1`, userID).Scan(&roles); err != nil {
			return false, unavailable(err)
		}
		for _, r := range roles {
			if slices.Contains(s.cfg.MFARoles, r) {
				return false, errMFAEnrollment
			}
		}
	}
	return false, nil
}

// grantPredatesMFA reports whether a grant authenticated at authTime was
// issued without the second factor the user now has or needs: TOTP
// confirmed after authTime, or a role requiring MFA while not enrolled.
// Grants issued after enrolment went through the MFA step (every user
// grant path asks for it), so they are not stale.
func (s *Server) grantPredatesMFA(ctx context.Context, tx pgx.Tx, userID uuid.UUID, authTime time.Time) (bool, error) {
	if s.cfg.MFA == nil {
		return false, nil
	}
	var (
		confirmed *time.Time
		roles     []string
	)
	err := tx.QueryRow(ctx, `SELECT (SELECT confirmed_at FROM mfa_totp WHERE user_id = u.id), u.roles FROM users u WHERE u.id = $1`, userID).
		Scan(&confirmed, &roles)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil // a deleted user: Authenticate refuses the tokens
	}
	if err != nil {
		return false, fmt.Errorf("check grant against mfa: %w", err)
	}
	if confirmed != nil {
		return confirmed.After(authTime), nil
	}
	for _, r := range roles {
		if slices.Contains(s.cfg.MFARoles, r) {
			return true, nil
		}
	}
	return false, nil
}

// requireMFA answers mfa_required with an mfa_token when the user must
// give a second factor before tokens are issued (the mfa grant redeems it).
func (s *Server) requireMFA(ctx context.Context, app *project.Application, userID uuid.UUID, scopes []string) *Error {
	need, e := s.mfaNeeded(ctx, userID)
	if e != nil || !need {
		return e
	}
	token := newToken(prefixMFA)
	now := s.now()
	if scopes == nil {
		scopes = []string{}
	}
	_, err := db.Exec(ctx, s.pool, `INSERT INTO oauth_mfa_challenges (hash, user_id, client_id, scopes, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.sig("mfa", token), userID, app.Name, scopes, now, now.Add(mfaTokenTTL))
	if err != nil {
		return unavailable(err)
	}
	return &Error{Status: http.StatusForbidden, Code: errMFARequired,
		Description: "A second factor is required: use the mfa grant with mfa_token and otp.", MFAToken: token}
}

// mfaGrant exchanges an mfa_token and a one-time (or recovery) code for
// tokens. The token is single-use once a code was right.
// mfaGrantAttempts is how many wrong codes one mfa_token survives.
const mfaGrantAttempts = 5

func (s *Server) mfaGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	token, code := first(form["mfa_token"]), first(form["otp"])
	if code == "" {
		code = first(form["recovery_code"])
	}
	if token == "" || code == "" {
		return nil, badRequest(errInvalidRequest, "mfa_token and otp (or recovery_code) are required.")
	}
	if s.cfg.MFA == nil {
		return nil, badRequest(errUnsupportedGrantType, "The grant type is not supported.")
	}
	h := s.sig("mfa", token)
	var (
		userID   uuid.UUID
		clientID string
		scopes   []string
		expires  time.Time
		used     *time.Time
	)
	invalid := badRequest(errInvalidGrant, "The mfa_token is invalid or expired.")
	err := db.QueryRow(ctx, s.pool, `SELECT user_id, client_id, scopes, expires_at, used_at FROM oauth_mfa_challenges WHERE hash = $1`, h).
		Scan(&userID, &clientID, &scopes, &expires, &used)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && (clientID != app.Name || used != nil || !s.now().Before(expires))) {
		return nil, invalid
	}
	if err != nil {
		return nil, unavailable(err)
	}
	if e := s.verifySecondFactor(ctx, userID, code); e != nil {
		// A wrong code spends one of the token's attempts; the last one
		// spends the token (a right code after that is refused too).
		if _, err := db.Exec(ctx, s.pool, `UPDATE oauth_mfa_challenges SET attempts = attempts + 1,
			used_at = CASE WHEN attempts + 1 >= $3 THEN $2 ELSE used_at END
			WHERE hash = $1 AND used_at IS NULL`, h, s.now(), mfaGrantAttempts); err != nil {
			return nil, unavailable(err)
		}
		return nil, e
	}
	tag, err := db.Exec(ctx, s.pool, `UPDATE oauth_mfa_challenges SET used_at = $2 WHERE hash = $1 AND used_at IS NULL`, h, s.now())
	if err != nil {
		return nil, unavailable(err)
	}
	if tag.RowsAffected() != 1 {
		return nil, invalid
	}
	return s.grantForUser(ctx, app, project.GrantPassword, userID, scopes, s.now())
}

// verifySecondFactor maps mfa.Verify's answer to OAuth errors.
func (s *Server) verifySecondFactor(ctx context.Context, userID uuid.UUID, code string) *Error {
	err := s.cfg.MFA.Verify(ctx, userID, code)
	var ae *apierr.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mfa.ErrInvalidCode), errors.Is(err, mfa.ErrNotEnrolled):
		return badRequest(errInvalidGrant, "The one-time code is not valid.")
	case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
		return oauthErr(http.StatusTooManyRequests, errAccessDenied, ae.Message)
	}
	s.logger.ErrorContext(ctx, "verify second factor", "error", err)
	return unavailable(err)
}

// mfaCaller authenticates an MFA management request and returns the user,
// the email and when the user last signed in (auth.Principal.AuthTime;
// MFA-5 needs it recent). enrol accepts the tokens of an enrolment-only
// session (a user whose role requires MFA and who has not set it up).
func (s *Server) mfaCaller(r *http.Request, enrol bool) (context.Context, uuid.UUID, string, time.Time, error) {
	if s.cfg.MFA == nil {
		return nil, uuid.Nil, "", time.Time{}, apierr.ErrNotFound
	}
	authenticate := s.tokens.Authenticate
	if enrol {
		authenticate = s.tokens.AuthenticateEnrollment
	}
	ctx, p, err := s.bearerWith(r, authenticate)
	if err != nil {
		return nil, uuid.Nil, "", time.Time{}, err
	}
	return ctx, p.UserID, p.Email, p.AuthTime, nil
}

func (s *Server) beginTOTP(w http.ResponseWriter, r *http.Request) {
	ctx, uid, email, at, err := s.mfaCaller(r, true)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	e, err := s.cfg.MFA.BeginTOTP(ctx, uid, email, at)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"secret": e.Secret, "otpauth_url": e.URL})
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) {
	ctx, uid, email, at, err := s.mfaCaller(r, true)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	var body struct {
		Code string `json:"code"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Code == "" {
		writeAPIError(w, r, apierr.Validation("The request is invalid.",
			apierr.FieldError{Field: "/code", Code: "required", Message: "The one-time code is required."}))
		return
	}
	codes, err := s.cfg.MFA.ConfirmTOTP(ctx, uid, email, body.Code, at)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (s *Server) disableTOTP(w http.ResponseWriter, r *http.Request) {
	ctx, uid, email, at, err := s.mfaCaller(r, false)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	if err := s.cfg.MFA.Disable(ctx, uid, email, at); err != nil {
		writeAPIError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) regenerateCodes(w http.ResponseWriter, r *http.Request) {
	ctx, uid, email, at, err := s.mfaCaller(r, false)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	codes, err := s.cfg.MFA.RegenerateRecoveryCodes(ctx, uid, email, at)
	if err != nil {
		writeAPIError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}
