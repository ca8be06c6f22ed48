package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// Login sessions (AUTH-8). A session is a row of auth_sessions
// (runtime/user opens them); the access tokens of /auth/login name it.
const (
	// SessionTTL is the absolute lifetime of a login session.
	SessionTTL = 12 * time.Hour
	// SessionIdle ends a session nobody used for that long: Authenticate
	// refuses its tokens even before they expire.
	SessionIdle = 30 * time.Minute
	// sessionTouchEvery bounds how often a session's last use is written:
	// at most once a minute per session, not on every request.
	sessionTouchEvery = time.Minute
	// RecentAuthAge is how old an authentication may be for a sensitive
	// action (password or email change, MFA changes, SSO links).
	RecentAuthAge = time.Hour
)

// Session purposes (auth_sessions.purpose).
const (
	// SessionLogin is an ordinary login session.
	SessionLogin = "login"
	// SessionMFAEnrollment is the session of a user whose role requires
	// MFA but who has not enrolled: its tokens only set up MFA
	// (AuthenticateEnrollment); everything else answers 403
	// mfa_enrollment_required.
	SessionMFAEnrollment = "mfa_enrollment"
)

// Errors of sessions and re-authentication, as clients see them.
var (
	ErrReauthRequired = apierr.New(http.StatusForbidden, CodeReauthRequired,
		"Sign in again: this action needs a sign-in less than an hour old.")
	ErrMFAEnrollmentRequired = apierr.New(http.StatusForbidden, CodeMFAEnrollmentRequired,
		"Your role requires multi-factor authentication: set it up before using this session.")
)

// Stable public codes.
const (
	CodeReauthRequired        = "reauthentication_required"
	CodeMFAEnrollmentRequired = "mfa_enrollment_required"
)

// RequireRecentAuth is the one check of sensitive actions (AUTH-8,
// MFA-5): the caller authenticated (password, second factor or SSO) at
// most RecentAuthAge before now. Requests authenticated otherwise than by
// a sign-in (OAuth 1.0 credentials, client credentials) never pass.
func (p *Principal) RequireRecentAuth(now time.Time) error {
	if p == nil || p.AuthTime.IsZero() || now.Sub(p.AuthTime) > RecentAuthAge {
		return ErrReauthRequired
	}
	return nil
}

// RequireRecentAuth returns the context's principal when its
// authentication is recent enough for a sensitive action: 401 without a
// principal, 403 reauthentication_required when it is too old.
func RequireRecentAuth(ctx context.Context, now time.Time) (*Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return nil, apierr.ErrUnauthorized
	}
	if err := p.RequireRecentAuth(now); err != nil {
		return nil, err
	}
	return p, nil
}
