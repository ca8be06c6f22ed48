package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Permission services: the first segment of a permission string.
var PermissionServices = []string{
	"data", "users", "groups", "roles", "auth", "files", "tasks", "events",
	"mail", "notifications", "localizations", "payments", "templates", "*",
}

// PermissionActions are the last segment of a permission string.
var PermissionActions = []string{"create", "read", "update", "delete", "*"}

// permissionSegmentRe is one segment of a permission string.
var permissionSegmentRe = regexp.MustCompile(`^([a-z0-9_]+|\*)$`)

// link resolves cross-references once every block is decoded: each role's
// permissions against the declared models.
func (l *loader) link() hcl.Diagnostics {
	var diags hcl.Diagnostics
	models := make([]string, len(l.project.Models))
	for i, m := range l.project.Models {
		models[i] = m.Name
	}
	for _, roles := range [][]*Role{l.project.Roles, l.project.GroupRoles} {
		for _, role := range roles {
			ranges := l.permRanges[role]
			for i, perm := range role.Permissions {
				if d := checkPermission(perm, ranges[i], models); d != nil {
					diags = append(diags, d)
				}
			}
		}
	}
	return append(diags, l.checkModelRenames()...)
}

// checkPermission validates one permission string: service:action or
// service:resource:action, where a data permission's resource is a model.
func checkPermission(perm string, subject hcl.Range, models []string) *hcl.Diagnostic {
	segs := strings.Split(perm, ":")
	invalid := func(why string) *hcl.Diagnostic {
		return errorDiag(subject, "Invalid permission",
			fmt.Sprintf("%s is not a valid permission: %s", quote(perm), why))
	}
	if len(segs) == 4 && segs[0] == "data" && segs[2] == "transition" {
		return errorDiag(subject, "Unsupported permission",
			fmt.Sprintf("%s is a workflow transition permission, which is not supported yet.", quote(perm)))
	}
	if len(segs) < 2 || len(segs) > 3 {
		return invalid(`use "service:resource:action" or "service:action", such as "data:measurement:read" or "users:read".`)
	}
	for _, seg := range segs {
		if !permissionSegmentRe.MatchString(seg) {
			return invalid(fmt.Sprintf("each segment is lower-case letters, digits and underscores, or *, and %s is not.", quote(seg)))
		}
	}
	service, action := segs[0], segs[len(segs)-1]
	// with returns perm with segment i replaced by s, for suggestions.
	with := func(i int, s string) string {
		c := slices.Clone(segs)
		c[i] = s
		return strings.Join(c, ":")
	}
	if !slices.Contains(PermissionServices, service) {
		detail := fmt.Sprintf("%s is not a service: use %s.", quote(service), quotedList(PermissionServices))
		if s := suggest(service, PermissionServices); s != "" {
			detail = fmt.Sprintf("%s is not a service. Did you mean %q?", quote(service), with(0, s))
		}
		return errorDiag(subject, "Unknown permission service", detail)
	}
	if service == "data" {
		if len(segs) == 2 {
			return invalid(fmt.Sprintf(`a data permission names a model, as in "data:<model>:<action>". Did you mean %q?`, "data:*:"+action))
		}
		if model := segs[1]; model != "*" && !slices.Contains(models, model) {
			detail := fmt.Sprintf("No model named %q is declared.", model)
			if s := suggest(model, models); s != "" {
				detail += fmt.Sprintf(" Did you mean %q?", with(1, s))
			}
			return errorDiag(subject, "Unknown model in permission", detail)
		}
	}
	if !slices.Contains(PermissionActions, action) {
		detail := fmt.Sprintf("%s is not an action: use %s.", quote(action), quotedList(PermissionActions))
		if s := suggest(action, PermissionActions); s != "" {
			detail = fmt.Sprintf("%s is not an action. Did you mean %q?", quote(action), with(len(segs)-1, s))
		}
		return errorDiag(subject, "Unknown permission action", detail)
	}
	return nil
}
