package oauth

import (
	"context"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/project"
)

// requireMFA answers mfa_required when the user must give a second factor
// before tokens are issued. MFA is not implemented yet: nothing requires it.
func (s *Server) requireMFA(ctx context.Context, app *project.Application, userID uuid.UUID, scopes []string) *Error {
	return nil
}

// mfaGrant exchanges an mfa_token and a one-time code for tokens.
func (s *Server) mfaGrant(ctx context.Context, app *project.Application, form map[string][]string) (*TokenResponse, *Error) {
	return nil, badRequest(errUnsupportedGrantType, "The grant type is not supported.")
}
