package fixedapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/exhgen/exhgen/runtime/fixedapi/oas"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/user"
)

// Handlers of the account and user administration endpoints (issue 3).

func (h *handler) Logout(ctx context.Context) error { return h.users.Logout(ctx) }

func (h *handler) VerifyEmail(ctx context.Context, req *oas.SecretRequest) error {
	return h.users.VerifyEmail(ctx, user.Secret{Token: req.Token.Or(""), Email: req.Email.Or(""), PIN: req.Pin.Or("")})
}

func (h *handler) RequestPasswordReset(ctx context.Context, req *oas.EmailRequest) error {
	return h.users.RequestPasswordReset(ctx, req.Email)
}

func (h *handler) ResetPassword(ctx context.Context, req *oas.ResetPasswordRequest) error {
	return h.users.ResetPassword(ctx, user.Secret{Token: req.Token.Or(""), Email: req.Email.Or(""), PIN: req.Pin.Or("")},
		req.Password)
}

func (h *handler) UpdateCurrentUser(ctx context.Context, req *oas.ProfileUpdate) (*oas.User, error) {
	return userOrErr(h.users.UpdateMe(ctx, toProfile(req)))
}

func (h *handler) ChangePassword(ctx context.Context, req *oas.ChangePasswordRequest) error {
	return h.users.ChangePassword(ctx, req.CurrentPassword, req.NewPassword)
}

func (h *handler) ChangeEmail(ctx context.Context, req *oas.ChangeEmailRequest) error {
	return h.users.ChangeEmail(ctx, req.Email, req.CurrentPassword)
}

func (h *handler) ResendVerification(ctx context.Context) error {
	return h.users.RequestVerification(ctx)
}

// ListUsers passes on the raw query string (RQL), which rql.Middleware
// keeps in the request context: ogen cannot parse it.
func (h *handler) ListUsers(ctx context.Context) (*oas.UserPage, error) {
	page, err := h.users.List(ctx, rql.RawQuery(ctx))
	if err != nil {
		return nil, err
	}
	out := &oas.UserPage{
		Page: listPage(page.Limit, page.Offset, page.Total),
		Data: make([]oas.User, len(page.Users)),
	}
	for i, u := range page.Users {
		out.Data[i] = *toUser(u)
	}
	return out, nil
}

func (h *handler) InviteUser(ctx context.Context, req *oas.InvitationRequest) (*oas.Invitation, error) {
	inv, err := h.users.Invite(ctx, req.Email, req.Language.Or(""))
	if err != nil {
		return nil, err
	}
	return &oas.Invitation{Email: inv.Email, ExpiresAt: inv.ExpiresAt}, nil
}

func (h *handler) GetUser(ctx context.Context, params oas.GetUserParams) (*oas.User, error) {
	return userOrErr(h.users.GetAsAdmin(ctx, params.UserID))
}

func (h *handler) UpdateUser(ctx context.Context, req *oas.ProfileUpdate, params oas.UpdateUserParams) (*oas.User, error) {
	return userOrErr(h.users.Update(ctx, params.UserID, toProfile(req)))
}

func (h *handler) DeleteUser(ctx context.Context, params oas.DeleteUserParams) error {
	return h.users.Delete(ctx, params.UserID)
}

func (h *handler) GrantRole(ctx context.Context, params oas.GrantRoleParams) (*oas.User, error) {
	return userOrErr(h.users.GrantRole(ctx, params.UserID, params.Role))
}

func (h *handler) RevokeRole(ctx context.Context, params oas.RevokeRoleParams) (*oas.User, error) {
	return userOrErr(h.users.RevokeRole(ctx, params.UserID, params.Role))
}

func (h *handler) ResetLoginAttempts(ctx context.Context, params oas.ResetLoginAttemptsParams) error {
	return h.users.ResetFailedLogins(ctx, params.UserID)
}

func userOrErr(u *user.User, err error) (*oas.User, error) {
	if err != nil {
		return nil, err
	}
	return toUser(u), nil
}

func toProfile(req *oas.ProfileUpdate) user.Profile {
	opt := func(o oas.OptString) *string {
		if v, ok := o.Get(); ok {
			return &v
		}
		return nil
	}
	return user.Profile{FirstName: opt(req.FirstName), LastName: opt(req.LastName), Phone: opt(req.Phone),
		Language: opt(req.Language), TimeZone: opt(req.TimeZone)}
}

// responseHeader carries the response's header map to NewError, which
// ogen calls without the ResponseWriter: a 429 needs its Retry-After.
type responseHeaderKey struct{}

func withResponseHeader(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), responseHeaderKey{}, w.Header())))
	})
}

// setRetryAfter sets Retry-After (whole seconds, at least 1) when err asks
// the client to wait.
func setRetryAfter(ctx context.Context, err error) {
	wait, ok := user.RetryAfterOf(err)
	h, hok := ctx.Value(responseHeaderKey{}).(http.Header)
	if !ok || !hok {
		return
	}
	secs := int64((wait + time.Second - 1) / time.Second)
	h.Set("Retry-After", strconv.FormatInt(max(secs, 1), 10))
}
