// Package permission is the one definition of the permission strings a
// project may grant: the fixed catalogue of services, resources and actions,
// and the matching rule with its wildcards. The spec loader validates every
// declared permission against it and the runtime matches grants with it, so
// the two cannot drift apart.
//
// A permission is `service:action` or `service:resource:action`, each
// segment lower-case letters, digits and underscores, or `*` in a grant.
// Data permissions name a model: `data:measurement:read`.
package permission

import (
	"slices"
	"strings"
)

// Data actions: the last segment of `data:<model>:<action>`.
const (
	Create = "create"
	Read   = "read"
	Update = "update"
	Delete = "delete"
	Link   = "link"   // link a user or group to a document
	Unlink = "unlink" // remove such a link
)

// DataActions are the actions of a data permission, in the order
// diagnostics suggest them.
var DataActions = []string{Create, Read, Update, Delete, Link, Unlink}

// CRUD are the actions of the services without resources.
var CRUD = []string{Create, Read, Update, Delete}

// Service is one service of the catalogue.
type Service struct {
	Name string
	// Actions are those of the two-segment form `service:action`.
	Actions []string
	// Resources are those of the three-segment form
	// `service:resource:action`. The data service's resources are the
	// project's models, which the catalogue does not know (DataService).
	Resources map[string][]string
}

// DataService is the name of the service whose resources are models.
const DataService = "data"

// Group membership resources (AC-5): `groups:patients:<action>` and
// `groups:staff:<action>`.
const (
	Groups         = "groups"
	GroupPatients  = "patients"
	GroupStaff     = "staff"
	RolesService   = "roles"
	RolesResource  = "roles"
	GroupsPatients = Groups + ":" + GroupPatients
	GroupsStaff    = Groups + ":" + GroupStaff
	// OAuth1Credentials are credentials that act as a user: issuing one
	// for another user is acting as them, so, like roles, the resource
	// must be named (Protected).
	OAuth1Credentials = "oauth1_credentials"
	Users             = "users"
	AuthService       = "auth"
	Applications      = "applications"
	Keys              = "keys"
)

// Catalogue lists every service, sorted by name. data is listed with no
// resources: its resources are the models (see Valid).
var Catalogue = []Service{
	{Name: AuthService, Actions: CRUD, Resources: map[string][]string{
		"applications":    {Read, Update},         // registered OAuth2 clients: list, rotate secrets
		"keys":            {Update},               // rotate the token signing key (TOK-4)
		OAuth1Credentials: {Read, Create, Delete}, // OAuth 1.0 machine credentials acting as a user
	}},
	{Name: DataService},
	{Name: "events", Actions: CRUD},
	{Name: "files", Actions: CRUD},
	{Name: Groups, Actions: CRUD, Resources: map[string][]string{
		GroupPatients: CRUD, // read the list, create (enlist), update (expiry), delete (unenlist)
		GroupStaff:    CRUD, // read the list, create (add), update (group roles), delete (remove)
	}},
	{Name: "localizations", Actions: CRUD},
	{Name: "mail", Actions: CRUD},
	{Name: "notifications", Actions: CRUD},
	{Name: "payments", Actions: CRUD},
	{Name: RolesService, Actions: CRUD},
	{Name: "tasks", Actions: CRUD},
	{Name: "templates", Actions: CRUD},
	{Name: Users, Actions: CRUD, Resources: map[string][]string{
		RolesResource: {Read, Create, Delete}, // a user's roles: read, grant, revoke
	}},
}

// Protected are the permission prefixes a `*` never reaches: a grant
// covers a permission under one of them only by naming every segment of
// the prefix (AC-5). Roles and group memberships (`*:*`, `groups:*:*` or
// `users:*:*` never let a user change roles or memberships, their own or
// anybody's), and everything of the auth service: applications and their
// secrets, the token signing keys and OAuth 1.0 credentials that act as a
// user. Prefixes, not bare segments: a model named `keys` or `roles` is an
// ordinary data resource.
var Protected = []string{
	RolesService,
	Users + ":" + RolesResource,
	GroupsPatients,
	GroupsStaff,
	AuthService,
	AuthService + ":" + Applications,
	AuthService + ":" + Keys,
	AuthService + ":" + OAuth1Credentials,
}

// Lookup returns the named service.
func Lookup(name string) (Service, bool) {
	i := slices.IndexFunc(Catalogue, func(s Service) bool { return s.Name == name })
	if i < 0 {
		return Service{}, false
	}
	return Catalogue[i], true
}

// ServiceNames lists the services, sorted.
func ServiceNames() []string {
	out := make([]string, len(Catalogue))
	for i, s := range Catalogue {
		out[i] = s.Name
	}
	return out
}

// ResourceNames lists a service's resources, sorted.
func (s Service) ResourceNames() []string {
	out := make([]string, 0, len(s.Resources))
	for r := range s.Resources {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Data returns the data permission for an action on a model.
func Data(model, action string) string { return DataService + ":" + model + ":" + action }

// Match reports whether the granted permission pattern covers the wanted
// permission. Both are colon-separated segments with the same count; a `*`
// segment in granted matches any one segment of wanted: `data:*:read`
// covers `data:measurement:read`, `data:*` does not. A wanted permission
// under a Protected prefix is covered only by a grant naming every
// segment of that prefix: `groups:staff:*` covers
// `groups:staff:create`, while `groups:*:create`, `*:staff:create` and
// `*:*:*` do not.
func Match(granted, wanted string) bool {
	g, w := strings.Split(granted, ":"), strings.Split(wanted, ":")
	if len(g) != len(w) {
		return false
	}
	named := protectedPrefix(w)
	for i := range g {
		switch {
		case g[i] == w[i]:
		case g[i] == "*" && i >= named:
		default:
			return false
		}
	}
	return true
}

// protectedPrefix returns how many leading segments of wanted a grant
// must name: the length of its longest Protected prefix (0 if none).
func protectedPrefix(wanted []string) int {
	n := 0
	for _, p := range Protected {
		ps := strings.Split(p, ":")
		if len(ps) > n && len(ps) < len(wanted)+1 && slices.Equal(ps, wanted[:len(ps)]) {
			n = len(ps)
		}
	}
	return n
}

// MatchAny reports whether one of granted covers wanted.
func MatchAny(granted []string, wanted string) bool {
	for _, g := range granted {
		if Match(g, wanted) {
			return true
		}
	}
	return false
}
