package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/exhgen/exhgen/runtime/permission"
)

// PermissionServices are the first segment of a permission string: the
// services of the runtime's permission catalogue, and *.
var PermissionServices = append(permission.ServiceNames(), "*")

// PermissionActions are the last segment of a permission string: every
// action some service or resource of the catalogue takes, and *.
var PermissionActions = func() []string {
	out := slices.Clone(permission.DataActions)
	for _, svc := range permission.Catalogue {
		out = append(out, svc.Actions...)
		for _, r := range svc.ResourceNames() {
			out = append(out, svc.Resources[r]...)
		}
	}
	seen := map[string]bool{}
	uniq := out[:0]
	for _, a := range out {
		if !seen[a] {
			seen[a] = true
			uniq = append(uniq, a)
		}
	}
	return append(uniq, "*")
}()

// groupRoleServices are the services a group role's permissions may name:
// a group role grants rights within one group only, over its documents and
// its members.
var groupRoleServices = []string{permission.DataService, permission.Groups}

// permissionSegmentRe is one segment of a permission string.
var permissionSegmentRe = regexp.MustCompile(`^([a-z0-9_]+|\*)$`)

// link resolves cross-references once every block is decoded: each role's
// permissions against the catalogue and the declared models, and each
// model's group access rules against the group roles.
func (l *loader) link() hcl.Diagnostics {
	var diags hcl.Diagnostics
	models := make([]string, len(l.project.Models))
	for i, m := range l.project.Models {
		models[i] = m.Name
	}
	for _, kind := range []struct {
		roles []*Role
		group bool
	}{{l.project.Roles, false}, {l.project.GroupRoles, true}} {
		group := kind.group
		for _, role := range kind.roles {
			ranges := l.permRanges[role]
			for i, perm := range role.Permissions {
				if d := checkPermission(perm, ranges[i], models); d != nil {
					diags = append(diags, d)
					continue
				}
				if svc, _, _ := strings.Cut(perm, ":"); group && !slices.Contains(groupRoleServices, svc) {
					diags = append(diags, errorDiag(ranges[i], "Permission not available to a group role",
						fmt.Sprintf("A group role grants rights within one group, over its documents and members, so its permissions start with %s; %s does not. Grant it with a global role instead.",
							quotedList(groupRoleServices), quote(perm))))
				}
				if group && permission.Match(perm, permission.GroupsPatients+":"+permission.Create) {
					diags = append(diags, &hcl.Diagnostic{
						Severity: hcl.DiagWarning,
						Summary:  "Group staff can enlist any user",
						Detail: fmt.Sprintf("The group role %s lets its holders enlist any user of the backend as a patient of their group, without the user's consent; with group_sync, the user's earlier documents then join the group and its staff can read them. Prefer granting %q with a global role held by trusted administrators.",
							quote(role.Name), permission.GroupsPatients+":"+permission.Create),
						Subject: ranges[i].Ptr(),
					})
				}
			}
		}
	}
	for _, m := range l.project.Models {
		diags = append(diags, l.checkGroupRules(m)...)
	}
	diags = append(diags, linkMFARoles(l.project)...)
	diags = append(diags, linkSSOProviders(l.project)...)
	return append(diags, l.checkModelRenames()...)
}

// checkGroupRules reports linked_group_staff rules no group role can
// satisfy: the rule grants an action to staff whose group role holds the
// action's data permission, so without one it grants nobody.
func (l *loader) checkGroupRules(m *Model) hcl.Diagnostics {
	if len(m.Access.RuleRanges) == 0 {
		return nil // no access block: the defaults use no group rules
	}
	var diags hcl.Diagnostics
	for _, ar := range m.Access.Effective().Actions() {
		i := slices.Index(ar.Rules, RuleLinkedGroupStaff)
		if i < 0 {
			continue
		}
		want := permission.Data(m.Name, ar.Action)
		granted := false
		for _, r := range l.project.GroupRoles {
			if permission.MatchAny(r.Permissions, want) {
				granted = true
				break
			}
		}
		if granted {
			continue
		}
		subject := m.Access.DeclRange
		rs, ok := m.Access.RuleRanges[ar.Action]
		if !ok && ar.Action == "unlink" {
			rs = m.Access.RuleRanges["link"] // unlink defaults to link's rules
		}
		if i < len(rs) {
			subject = rs[i]
		}
		diags = append(diags, errorDiag(subject, "Access rule grants nobody",
			fmt.Sprintf("%q grants %s on %s to staff of a linked group whose group role holds %q, and no group_role does. Add the permission to a group role, or remove the rule.",
				RuleLinkedGroupStaff, ar.Action, quote(m.Name), want)))
	}
	return diags
}

// checkPermission validates one permission string against the catalogue:
// service:action or service:resource:action, where a data permission's
// resource is a model.
func checkPermission(perm string, subject hcl.Range, models []string) *hcl.Diagnostic {
	segs := strings.Split(perm, ":")
	invalid := func(why string) *hcl.Diagnostic {
		return errorDiag(subject, "Invalid permission",
			fmt.Sprintf("%s is not a valid permission: %s", quote(perm), why))
	}
	if len(segs) == 4 && segs[0] == permission.DataService && segs[2] == "transition" {
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
	unknownAction := func(actions []string) *hcl.Diagnostic {
		actions = append(slices.Clone(actions), "*")
		detail := fmt.Sprintf("%s is not an action here: use %s.", quote(action), quotedList(actions))
		if s := suggest(action, actions); s != "" {
			detail = fmt.Sprintf("%s is not an action here. Did you mean %q?", quote(action), with(len(segs)-1, s))
		}
		return errorDiag(subject, "Unknown permission action", detail)
	}
	if service == "*" {
		if action != "*" && !slices.Contains(PermissionActions, action) {
			return unknownAction(PermissionActions[:len(PermissionActions)-1])
		}
		return nil
	}
	svc, ok := permission.Lookup(service)
	if !ok {
		detail := fmt.Sprintf("%s is not a service: use %s.", quote(service), quotedList(PermissionServices))
		if s := suggest(service, PermissionServices); s != "" {
			detail = fmt.Sprintf("%s is not a service. Did you mean %q?", quote(service), with(0, s))
		}
		return errorDiag(subject, "Unknown permission service", detail)
	}
	if service == permission.DataService {
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
		if action != "*" && !slices.Contains(permission.DataActions, action) {
			return unknownAction(permission.DataActions)
		}
		return nil
	}
	actions := svc.Actions
	if len(segs) == 3 {
		resource := segs[1]
		names := svc.ResourceNames()
		switch {
		case resource == "*":
			// Any resource: the action must exist on one of them.
			actions = nil
			for _, r := range names {
				actions = append(actions, svc.Resources[r]...)
			}
		case len(names) == 0:
			return errorDiag(subject, "Unknown permission resource",
				fmt.Sprintf("The %s service has no resources: use %q.", quote(service), service+":"+action))
		default:
			var ok bool
			if actions, ok = svc.Resources[resource]; !ok {
				detail := fmt.Sprintf("%s is not a resource of the %s service: use %s.", quote(resource), quote(service), quotedList(names))
				if s := suggest(resource, names); s != "" {
					detail = fmt.Sprintf("%s is not a resource of the %s service. Did you mean %q?", quote(resource), quote(service), with(1, s))
				}
				return errorDiag(subject, "Unknown permission resource", detail)
			}
		}
	}
	if action != "*" && !slices.Contains(actions, action) {
		return unknownAction(actions)
	}
	return nil
}
