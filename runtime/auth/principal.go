package auth

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/permission"
	"github.com/exhgen/exhgen/runtime/project"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID uuid.UUID
	// SessionID is the login session the token belongs to (uuid.Nil when
	// it names none).
	SessionID uuid.UUID
	// GrantID is the OAuth2 grant an access token belongs to (uuid.Nil
	// for login sessions and OAuth 1.0 requests).
	GrantID uuid.UUID
	// AuthTime is when the user last signed in (password, second factor
	// or SSO): the token's auth_time, else its iat (login tokens are only
	// issued at sign-in). Zero for OAuth 1.0 requests. See
	// RequireRecentAuth.
	AuthTime time.Time
	// EnrollmentOnly marks a session that may only set up MFA
	// (SessionMFAEnrollment; see Tokens.AuthenticateEnrollment).
	EnrollmentOnly bool
	Email          string
	// Roles are the user's global roles as currently stored (not as they
	// were when the token was issued).
	Roles []string
	// Permissions are the union of the permissions of Roles, per the
	// project's role definitions, sorted and de-duplicated.
	Permissions []string
	// GroupPermissions maps each group the user is staff of to the union
	// of the permissions of the user's group roles there.
	GroupPermissions map[uuid.UUID][]string
	// PatientGroups are the groups the user is enlisted in as a patient,
	// unexpired when loaded, sorted.
	PatientGroups []uuid.UUID
}

type principalKey struct{}

// WithPrincipal returns a copy of ctx carrying p.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the Principal stored in ctx by WithPrincipal.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok && p != nil
}

// HasRole reports whether the principal holds the global role.
func (p *Principal) HasRole(role string) bool {
	return slices.Contains(p.Roles, role)
}

// Can reports whether one of the principal's permissions grants
// permission (see MatchPermission).
func (p *Principal) Can(permission string) bool {
	for _, g := range p.Permissions {
		if MatchPermission(g, permission) {
			return true
		}
	}
	return false
}

// CanInGroup reports whether the principal's group roles in group grant
// permission.
func (p *Principal) CanInGroup(group uuid.UUID, permission string) bool {
	for _, g := range p.GroupPermissions[group] {
		if MatchPermission(g, permission) {
			return true
		}
	}
	return false
}

// GroupsWith returns, sorted, the groups in which the principal's group
// roles grant permission.
func (p *Principal) GroupsWith(permission string) []uuid.UUID {
	var out []uuid.UUID
	for g := range p.GroupPermissions {
		if p.CanInGroup(g, permission) {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// StaffOf reports whether the principal is staff of group, whatever its
// group roles.
func (p *Principal) StaffOf(group uuid.UUID) bool {
	_, ok := p.GroupPermissions[group]
	return ok
}

// PatientOf reports whether the principal is an enlisted patient of group.
func (p *Principal) PatientOf(group uuid.UUID) bool {
	return slices.Contains(p.PatientGroups, group)
}

// MatchPermission reports whether the granted permission pattern covers
// the wanted permission (permission.Match: `*` matches one segment, but
// never a role or membership resource, which must be named).
func MatchPermission(granted, wanted string) bool {
	return permission.Match(granted, wanted)
}

// RolePermissions maps role names to the permissions they grant.
type RolePermissions map[string][]string

// NewRolePermissions indexes role definitions by name.
func NewRolePermissions(roles []project.Role) RolePermissions {
	m := make(RolePermissions, len(roles))
	for _, r := range roles {
		m[r.Name] = append(m[r.Name], r.Permissions...)
	}
	return m
}

// Permissions returns the sorted, de-duplicated union of the permissions
// of roles. Roles without a definition grant nothing.
func (rp RolePermissions) Permissions(roles []string) []string {
	var out []string
	for _, r := range roles {
		out = append(out, rp[r]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
