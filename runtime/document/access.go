package document

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/permission"
)

// Access rule names (project.Access).
const (
	RuleAllUsers            = "all_users"
	RuleCreator             = "creator"
	RuleLinkedUsers         = "linked_users"
	RulePermission          = "permission"
	RuleLinkedGroupStaff    = "linked_group_staff"
	RuleLinkedGroupPatients = "linked_group_patients"
)

// Actions.
const (
	actionCreate = permission.Create
	actionRead   = permission.Read
	actionUpdate = permission.Update
	actionDelete = permission.Delete
	actionLink   = permission.Link
	actionUnlink = permission.Unlink
)

// rules is the compiled form of the rule list of one action of one model.
//
// Evaluation is deny by default: a caller is granted the action on a
// document when at least one rule matches. A rule list holding an unknown
// rule cannot be evaluated, and an evaluation error means deny (AC-1), so
// such a list denies everybody.
type rules struct {
	invalid       bool   // an unknown rule: deny all
	allUsers      bool   // any authenticated caller
	permission    string // non-empty when the "permission" rule is listed: the permission to hold
	creator       bool   // creator_id = caller
	linkedUsers   bool   // caller ∈ user_ids
	groupStaff    bool   // caller is staff of a group in group_ids with groupPerm there
	groupPatients bool   // caller is an enlisted patient of a group in group_ids
	groupPerm     string // data:<model>:<action>, what linked_group_staff needs in the group
}

func compileRules(model, action string, names []string) (rules, error) {
	r := rules{groupPerm: permission.Data(model, action)}
	var unknown []string
	for _, n := range names {
		switch n {
		case RuleAllUsers:
			r.allUsers = true
		case RuleCreator:
			r.creator = true
		case RuleLinkedUsers:
			r.linkedUsers = true
		case RulePermission:
			r.permission = permission.Data(model, action)
		case RuleLinkedGroupStaff:
			r.groupStaff = true
		case RuleLinkedGroupPatients:
			r.groupPatients = true
		default:
			unknown = append(unknown, n)
		}
	}
	if len(unknown) > 0 {
		return rules{invalid: true}, fmt.Errorf("model %q: %s access: unknown rule(s) %q", model, action, unknown)
	}
	return r, nil
}

// docMeta is the server-owned state of a document that access rules read.
// Rules never read the document's data, which its writers control (AC-5).
type docMeta struct {
	creatorID uuid.UUID
	userIDs   []uuid.UUID
	groupIDs  []uuid.UUID
}

// unrestricted reports whether the caller is granted the action on every
// document of the model, whatever its state.
func (r rules) unrestricted(p *auth.Principal) bool {
	if r.invalid || p == nil {
		return false
	}
	if r.allUsers {
		return true
	}
	return r.permission != "" && p.Can(r.permission)
}

// allows evaluates the rules against one document's state.
func (r rules) allows(p *auth.Principal, m docMeta) bool {
	if r.invalid || p == nil {
		return false
	}
	if r.unrestricted(p) {
		return true
	}
	if r.creator && m.creatorID == p.UserID {
		return true
	}
	if r.linkedUsers && slices.Contains(m.userIDs, p.UserID) {
		return true
	}
	if r.groupStaff && slices.ContainsFunc(m.groupIDs, func(g uuid.UUID) bool { return p.CanInGroup(g, r.groupPerm) }) {
		return true
	}
	if r.groupPatients && slices.ContainsFunc(m.groupIDs, p.PatientOf) {
		return true
	}
	return false
}

// params collects the bind arguments of a statement whose first arguments
// are fixed (id, limit, ...) and whose access condition adds the caller's
// values after them. Any other clause (a query filter, say) can add its
// own the same way: conditions compose with AND.
type params struct {
	args   []any
	caller string // the caller's placeholder, once added
}

func newParams(fixed ...any) *params { return &params{args: fixed} }

// add appends v and returns its placeholder.
func (a *params) add(v any) string {
	a.args = append(a.args, v)
	return "$" + strconv.Itoa(len(a.args))
}

// callerID returns the placeholder of the caller's id, adding it once.
func (a *params) callerID(p *auth.Principal) string {
	if a.caller == "" {
		a.caller = a.add(p.UserID) + "::uuid"
	}
	return a.caller
}

// cond returns the SQL condition selecting the documents the
// document-dependent rules grant the caller, adding the caller's values to
// a. ok is false when they grant nothing whatever the document (then the
// condition is not needed). Group rules compare group_ids with the caller's
// groups by overlap (&&) and user_ids by containment (@>): the GIN indexes
// on both arrays serve these operators, not "= ANY".
func (r rules) cond(p *auth.Principal, a *params) (string, bool) {
	if r.invalid || p == nil {
		return "", false
	}
	var conds []string
	if r.creator {
		conds = append(conds, "creator_id = "+a.callerID(p))
	}
	if r.linkedUsers {
		conds = append(conds, "user_ids @> ARRAY["+a.callerID(p)+"]")
	}
	if r.groupStaff {
		if gs := p.GroupsWith(r.groupPerm); len(gs) > 0 {
			conds = append(conds, "group_ids && "+a.add(gs)+"::uuid[]")
		}
	}
	if r.groupPatients && len(p.PatientGroups) > 0 {
		conds = append(conds, "group_ids && "+a.add(p.PatientGroups)+"::uuid[]")
	}
	if len(conds) == 0 {
		return "", false
	}
	return "(" + strings.Join(conds, " OR ") + ")", true
}

// accessCond is the condition under which every one of sets grants the
// caller the document: "TRUE" for a set granting every document, the
// set's cond otherwise. ok is false when some set grants nothing.
func accessCond(p *auth.Principal, a *params, sets ...rules) (string, bool) {
	var conds []string
	for _, r := range sets {
		if r.unrestricted(p) {
			continue
		}
		c, ok := r.cond(p, a)
		if !ok {
			return "", false
		}
		if !slices.Contains(conds, c) {
			conds = append(conds, c)
		}
	}
	if len(conds) == 0 {
		return "TRUE", true
	}
	return strings.Join(conds, " AND "), true
}
