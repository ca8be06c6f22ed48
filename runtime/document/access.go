package document

import (
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
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
	actionCreate = "create"
	actionRead   = "read"
	actionUpdate = "update"
	actionDelete = "delete"
)

// rules is the compiled form of the rule list of one action of one model.
//
// Evaluation is deny by default: a caller is granted the action on a
// document when at least one rule matches. A rule list holding an unknown
// rule cannot be evaluated, and an evaluation error means deny (AC-1), so
// such a list denies everybody.
type rules struct {
	invalid     bool   // an unknown rule: deny all
	allUsers    bool   // any authenticated caller
	permission  string // non-empty when the "permission" rule is listed: the permission to hold
	creator     bool   // creator_id = caller
	linkedUsers bool   // caller ∈ user_ids
}

func compileRules(model, action string, names []string) (rules, error) {
	r := rules{}
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
			r.permission = "data:" + model + ":" + action
		case RuleLinkedGroupStaff, RuleLinkedGroupPatients:
			// Group membership is not modelled yet: these never grant.
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
type docMeta struct {
	creatorID uuid.UUID
	userIDs   []uuid.UUID
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

// restricted reports whether some documents (but maybe not all) may be
// granted through document-dependent rules; filter builds the SQL for them.
func (r rules) restricted() bool {
	return !r.invalid && (r.creator || r.linkedUsers)
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
	return false
}

// filter returns the SQL condition selecting the documents the
// document-dependent rules grant; callerParam is the placeholder ("$2") bound
// to the caller's id. The caller checks unrestricted and restricted first.
func (r rules) filter(callerParam string) string {
	var conds []string
	if r.creator {
		conds = append(conds, "creator_id = "+callerParam)
	}
	if r.linkedUsers {
		// Containment, not "= ANY(user_ids)": only @> can use the GIN
		// index on user_ids (the same goes for group_ids, once groups
		// are matched).
		conds = append(conds, "user_ids @> ARRAY["+callerParam+"]::uuid[]")
	}
	if len(conds) == 0 {
		return "FALSE"
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}
