package auth

import (
	"context"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/project"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID uuid.UUID
	// SessionID is the login session the token belongs to (uuid.Nil when
	// it names none).
	SessionID uuid.UUID
	Email     string
	// Roles are the user's global roles as currently stored (not as they
	// were when the token was issued).
	Roles []string
	// Permissions are the union of the permissions of Roles, per the
	// project's role definitions, sorted and de-duplicated.
	Permissions []string
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

// ProtectedResources are the resources whose permissions change who may do
// what: roles, group roles, memberships, enlistments and applications.
// Wildcards never grant them (AC-5): `*:*:*`, `users:*:update` and
// `users:roles:*`... only a grant naming the service and the resource, such
// as `users:roles:update`, covers `users:roles:update`.
var ProtectedResources = []string{"roles", "group_roles", "memberships", "enlistments", "staff", "applications"}

// MatchPermission reports whether the granted permission pattern covers
// the wanted permission. Both are colon-separated segments
// (`service:resource:action`); a `*` segment in granted matches any one
// segment, and the segment counts must be equal: `data:*:read` covers
// `data:measurement:read`, but `data:*` does not. For a wanted permission
// on one of ProtectedResources, the service and resource segments must be
// named, not wildcards.
func MatchPermission(granted, wanted string) bool {
	g, w := strings.Split(granted, ":"), strings.Split(wanted, ":")
	if len(g) != len(w) {
		return false
	}
	protected := len(w) == 3 && slices.Contains(ProtectedResources, w[1])
	for i := range g {
		if g[i] == w[i] {
			continue
		}
		if g[i] != "*" || (protected && i < 2) {
			return false
		}
	}
	return true
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
