package fixedapi

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/fixedapi/oas"
	"github.com/exhgen/exhgen/runtime/group"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/server"
	"github.com/exhgen/exhgen/runtime/user"
)

//go:embed openapi.yaml
var fragment []byte

// Fragment returns the OpenAPI 3.0.3 document (YAML) of the fixed identity
// endpoints, to be merged into the backend's published document. Its
// components.schemas.Error, components.responses.Error and
// components.securitySchemes.bearerAuth are the shared ones.
func Fragment() []byte {
	return append([]byte(nil), fragment...)
}

// NewHandler returns the HTTP handler of the fixed identity endpoints
// (/auth/..., /.well-known/jwks.json, /users/...). Errors are written as the shared Error schema; mount it
// inside server.Server so requests carry an id and a logger.
func NewHandler(users *user.Service, tokens *auth.Tokens, opts ...HandlerOption) (http.Handler, error) {
	h := &handler{users: users, tokens: tokens}
	for _, o := range opts {
		o(h)
	}
	srv, err := oas.NewServer(h, security{tokens: tokens},
		oas.WithErrorHandler(server.ErrorHandler),
		oas.WithNotFound(server.NotFound),
		oas.WithMethodNotAllowed(server.MethodNotAllowed),
	)
	if err != nil {
		return nil, fmt.Errorf("fixed api server: %w", err)
	}
	// The list operations read their RQL query from the raw query string
	// in the context.
	return server.BearerChallenge(rql.Middleware(withResponseHeader(srv))), nil
}

// HandlerOption configures the handler of NewHandler.
type HandlerOption func(*handler)

type handler struct {
	users  *user.Service
	tokens *auth.Tokens
	groups *group.Service
}

var _ oas.Handler = (*handler)(nil)

func (h *handler) RegisterUser(ctx context.Context, req *oas.RegisterRequest) (*oas.User, error) {
	u, err := h.users.Register(ctx, user.Registration{
		Email:      req.Email,
		Password:   req.Password,
		FirstName:  req.FirstName.Or(""),
		LastName:   req.LastName.Or(""),
		Phone:      req.Phone.Or(""),
		Language:   req.Language.Or(""),
		TimeZone:   req.TimeZone.Or(""),
		Invitation: req.InvitationToken.Or(""),
	})
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

func (h *handler) Login(ctx context.Context, req *oas.LoginRequest) (oas.LoginRes, error) {
	t, err := h.users.Login(ctx, user.Credentials{Email: req.Email, Password: req.Password})
	var me *user.MFAError
	if errors.As(err, &me) {
		out := &oas.MFAChallenge{Code: oas.MFAChallengeCode(me.Err.Code), Message: me.Err.Message}
		if me.MFAToken != "" {
			out.MfaToken = oas.NewOptString(me.MFAToken)
			out.ExpiresIn = oas.NewOptInt64(int64(me.ExpiresIn / time.Second))
		}
		if me.EnrollmentToken != nil {
			out.EnrollmentToken = oas.NewOptString(me.EnrollmentToken.AccessToken)
			out.ExpiresIn = oas.NewOptInt64(int64(me.EnrollmentToken.ExpiresIn / time.Second))
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	return tokenResponse(t), nil
}

func (h *handler) LoginMFA(ctx context.Context, req *oas.LoginMFARequest) (*oas.TokenResponse, error) {
	t, err := h.users.LoginMFA(ctx, req.MfaToken, req.Code)
	if err != nil {
		return nil, err
	}
	return tokenResponse(t), nil
}

func tokenResponse(t *user.AccessToken) *oas.TokenResponse {
	return &oas.TokenResponse{
		AccessToken: t.AccessToken,
		TokenType:   oas.TokenResponseTokenTypeBearer,
		ExpiresIn:   int64(t.ExpiresIn.Seconds()),
	}
}

func (h *handler) GetJWKS(ctx context.Context) (*oas.JWKS, error) {
	keys, err := h.tokens.PublicKeys(ctx)
	if err != nil {
		return nil, err
	}
	out := &oas.JWKS{Keys: make([]oas.JWK, len(keys))}
	for i, k := range keys {
		out.Keys[i] = oas.JWK{Kty: k.Kty, Crv: k.Crv, X: k.X, Y: k.Y, Kid: k.Kid, Alg: k.Alg, Use: k.Use}
	}
	return out, nil
}

func (h *handler) GetWellKnownJWKS(ctx context.Context) (*oas.JWKS, error) {
	return h.GetJWKS(ctx)
}

func (h *handler) GetCurrentUser(ctx context.Context) (*oas.User, error) {
	u, err := h.users.Me(ctx)
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

// NewError turns any error of an operation or of the security check into
// the shared Error response, via server.Public (which logs the causes of
// 5xx; IN-5). A failed security requirement is a 401, except when checking
// the token failed for another reason (the database is down, say), which
// auth.Tokens.Authenticate reports as a 5xx.
func (h *handler) NewError(ctx context.Context, err error) *oas.ErrorStatusCode {
	setRetryAfter(ctx, err)
	status, body := server.Public(ctx, err)
	out := oas.Error{Code: body.Code, Message: body.Message}
	if body.RequestID != "" {
		out.RequestID = oas.NewOptString(body.RequestID)
	}
	for _, d := range body.Details {
		out.Details = append(out.Details, oas.ErrorDetail{Field: d.Field, Code: d.Code, Message: d.Message})
	}
	return &oas.ErrorStatusCode{StatusCode: status, Response: out}
}

func toUser(u *user.User) *oas.User {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return &oas.User{
		ID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone,
		Language: u.Language, TimeZone: u.TimeZone, Roles: roles,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

// security authenticates bearer tokens with auth.Tokens.
type security struct{ tokens *auth.Tokens }

func (s security) HandleBearerAuth(ctx context.Context, _ oas.OperationName, t oas.BearerAuth) (context.Context, error) {
	return s.tokens.Authenticate(ctx, t.Token)
}
