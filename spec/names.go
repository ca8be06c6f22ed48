package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agext/levenshtein"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// nameRule is the shape a kind of declared name must have.
type nameRule struct {
	kind     string         // "model", "field", ... as used in diagnostics
	re       *regexp.Regexp // the accepted form
	shape    string         // the accepted form, in words, ending a sentence
	reserved []string       // names taken by the platform
	reason   string         // why reserved names are reserved
}

var (
	projectNameRule = nameRule{
		kind:  "project",
		re:    regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`),
		shape: "1 to 63 lower-case letters, digits, underscores and hyphens, starting with a letter",
	}
	roleNameRule = nameRule{
		kind:  "role",
		re:    regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`),
		shape: "1 to 63 lower-case letters, digits and underscores, starting with a letter",
	}
	groupRoleNameRule = nameRule{
		kind:  "group role",
		re:    roleNameRule.re,
		shape: roleNameRule.shape,
	}
	modelNameRule = nameRule{
		kind:  "model",
		re:    regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`),
		shape: "1 to 41 lower-case letters, digits and underscores, starting with a letter",
		// Built-in services, and names whose generated schemas or
		// operations would collide with the fixed API's or the shared ones
		// (Page, Error, ErrorDetail, JWKS, getCurrentUser, ...).
		reserved: []string{"user", "users", "group", "groups", "auth", "error", "file", "files",
			"page", "error_detail", "jwks", "jwk", "well_known_jwks", "current_user", "register_request",
			"login_request", "token_response",
			// The names of the generated Go package's own types (ogen's).
			"bearer_auth", "client", "client_option", "error_handler", "error_status_code", "handler",
			"invoker", "middleware", "operation_name", "option", "request", "request_option", "response",
			"route", "security_handler", "security_source", "server", "server_option", "unimplemented_handler"},
		reason: "it names a built-in service or part of the built-in API",
	}
	fieldNameRule = nameRule{
		kind:  "field",
		re:    regexp.MustCompile(`^[a-z][a-z0-9_]{0,50}$`),
		shape: "1 to 51 lower-case letters, digits and underscores, starting with a letter",
		// Every document row has these columns (see the storage convention).
		reserved: []string{"id", "creator_id", "user_ids", "group_ids", "status", "status_changed_at", "created_at", "updated_at", "version", "data"},
		reason:   "every document already has it",
	}
)

// check reports whether name has the rule's shape and, when reserved is
// set, is not one of the reserved names. The subject is the label's range.
func (r nameRule) check(name string, subject hcl.Range, reserved bool) hcl.Diagnostics {
	if !r.re.MatchString(name) {
		detail := fmt.Sprintf("%s is not a valid %s name: use %s.", quote(name), r.kind, r.shape)
		if s := snakeCase(name); s != name && r.re.MatchString(s) {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		return hcl.Diagnostics{errorDiag(subject, fmt.Sprintf("Invalid %s name", r.kind), detail)}
	}
	if reserved && slices.Contains(r.reserved, name) {
		return hcl.Diagnostics{errorDiag(subject, fmt.Sprintf("Reserved %s name", r.kind),
			fmt.Sprintf("The %s name %q is reserved because %s; choose another name.", r.kind, name, r.reason))}
	}
	return nil
}

// snakeCase turns "BloodPressure", "blood-pressure" or "Blood pressure" into
// "blood_pressure", for suggestions.
func snakeCase(s string) string {
	var b strings.Builder
	prevLower := false
	for _, r := range s {
		switch {
		case r == '-' || r == ' ' || r == '.':
			b.WriteByte('_')
			prevLower = false
		case unicode.IsUpper(r):
			if prevLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			prevLower = false
		default:
			b.WriteRune(r)
			prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
		}
	}
	return b.String()
}

// maxSuggestLen bounds the inputs suggest compares, so that a huge name
// cannot make the quadratic distance computation slow.
const maxSuggestLen = 128

// suggest returns the candidate nearest to given by Levenshtein distance, or
// "" when none is close enough. Earlier candidates win ties.
func suggest(given string, candidates []string) string {
	if given == "" || len(given) > maxSuggestLen {
		return ""
	}
	best, bestDist := "", 0
	for _, c := range candidates {
		if c == given || len(c) > maxSuggestLen {
			continue
		}
		d := levenshtein.Distance(given, c, nil)
		if strings.EqualFold(given, c) {
			d = 1
		}
		// Close enough: at most two edits, and fewer edits than the
		// given name has characters (so "x" does not suggest "id").
		if d > 2 || d >= utf8.RuneCountInString(given) {
			continue
		}
		if best == "" || d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// quote quotes s for a diagnostic, shortening very long values.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q...", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// errorDiag builds an error diagnostic. Every diagnostic the loader emits is
// built here or by hcl itself.
func errorDiag(subject hcl.Range, summary, detail string) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   detail,
		Subject:  subject.Ptr(),
	}
}

// duplicateDiag reports a second declaration of a name; prev is the first
// one's declaration range.
// goName is the identifier generated Go code gives a name: the parts
// between underscores, each capitalised ("bp_2" and "bp2" are both "Bp2").
func goName(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// ogenMethodFields are field names that would become the Go names of
// methods ogen generates on every type (Encode, Validate, MarshalJSON, ...).
var ogenMethodFields = []string{"encode", "decode", "validate", "marshal_json", "unmarshal_json", "marshal_text", "unmarshal_text"}

// ogenWrapperPrefixes start the names of the wrapper types ogen generates
// (OptString, NilInt64, ...); a model named so could collide with one.
var ogenWrapperPrefixes = []string{"opt_", "nil_"}

// modelSchemaSuffixes are appended to a model's Go name to name the
// schemas generated for it (the document itself, its data, its patch, a
// page of it).
var modelSchemaSuffixes = []string{"", "Data", "Patch", "List"}

// sameGeneratedNames reports whether two models would give a generated
// schema the same name ("bp_2" and "bp2"; "note" and "note_data").
func sameGeneratedNames(a, b string) bool {
	for _, sa := range modelSchemaSuffixes {
		for _, sb := range modelSchemaSuffixes {
			if goName(a)+sa == goName(b)+sb {
				return true
			}
		}
	}
	return false
}

// sameGoNameDiag reports two names that generated code would spell alike.
func sameGoNameDiag(kind, name, other string, subject, prev hcl.Range) *hcl.Diagnostic {
	return errorDiag(subject, fmt.Sprintf("Conflicting %s names", kind),
		fmt.Sprintf("The %s names %s and %s (declared at %s) give the same name to generated code (%s); rename one of them.",
			kind, quote(name), quote(other), prev.String(), goName(name)))
}

func duplicateDiag(kind, name string, subject, prev hcl.Range) *hcl.Diagnostic {
	return errorDiag(subject, fmt.Sprintf("Duplicate %s %s", kind, quote(name)),
		fmt.Sprintf("A %s named %s was already declared at %s.", kind, quote(name), prev.String()))
}

// bodyContent is body.Content(schema), with a suggestion added where hcl
// gives none: for an unsupported argument whose nearest match is already
// set (hcl only suggests unset ones), and for a block or argument that
// belongs in another block.
func bodyContent(body hcl.Body, schema *hcl.BodySchema) (*hcl.BodyContent, hcl.Diagnostics) {
	content, diags := body.Content(schema)
	syn, ok := body.(*hclsyntax.Body)
	if !ok || !diags.HasErrors() {
		return content, diags
	}
	names := make([]string, len(schema.Attributes))
	for i, a := range schema.Attributes {
		names[i] = a.Name
	}
	for _, d := range diags {
		if d.Subject == nil || strings.Contains(d.Detail, "Did you mean") {
			continue
		}
		switch d.Summary {
		case "Unsupported argument":
			for name, attr := range syn.Attributes {
				if attr.NameRange != *d.Subject {
					continue
				}
				if s := suggest(name, names); s != "" {
					if prev := content.Attributes[s]; prev != nil {
						d.Detail += fmt.Sprintf(" Did you mean %q? It is already set at %s.", s, prev.NameRange.String())
					}
				} else if hint := misplaced[name]; hint != "" && schema == fileSchema {
					d.Detail += " " + hint
				}
			}
		case "Unsupported block type":
			for _, b := range syn.Blocks {
				if b.TypeRange == *d.Subject {
					if hint := misplaced[b.Type]; hint != "" {
						d.Detail += " " + hint
					}
				}
			}
		}
	}
	return content, diags
}

// misplaced says where names that are not expected where they were found
// belong.
var misplaced = map[string]string{
	"title":             "It belongs in the project block.",
	"description":       "It belongs in a project, role, model or field block.",
	"version":           "It belongs in the project block.",
	"languages":         "It belongs in the project block.",
	"access_token_ttl":  "It belongs in the auth block.",
	"refresh_token_ttl": "It belongs in the auth block.",
	"registration":      "It belongs in the auth block.",
	"permissions":       "It belongs in a role or group_role block.",
	"field":             "A field block belongs in a model block, or in a field of type \"object\".",
	"items":             "An items block belongs in a field of type \"array\".",
	"access":            "An access block belongs in a model block.",
}

// checkRenames reports renamed_from values that cannot say which old
// object is meant: one naming the object itself, one naming an object still
// declared beside it, and two objects claiming the same old name. get
// returns an object's name, its renamed_from and that value's range.
func checkRenames[T any](kind string, objs []T, get func(T) (name, from string, rng hcl.Range)) hcl.Diagnostics {
	var diags hcl.Diagnostics
	declared := make(map[string]bool, len(objs))
	for _, o := range objs {
		name, _, _ := get(o)
		declared[name] = true
	}
	claimed := make(map[string]hcl.Range)
	for _, o := range objs {
		name, from, rng := get(o)
		switch {
		case from == "":
		case from == name:
			diags = append(diags, errorDiag(rng, "Renamed from itself",
				fmt.Sprintf("The %s %s names itself in renamed_from; give its previous name, or remove renamed_from.", kind, quote(name))))
		case declared[from]:
			diags = append(diags, errorDiag(rng, "Ambiguous rename source",
				fmt.Sprintf("The %s %s is still declared, so %s cannot have been renamed from it: remove the old %s, or remove renamed_from.", kind, quote(from), quote(name), kind)))
		default:
			if prev, dup := claimed[from]; dup {
				diags = append(diags, errorDiag(rng, "Ambiguous rename source",
					fmt.Sprintf("Another %s is already renamed from %s at %s; an old %s becomes exactly one new one.", kind, quote(from), prev.String(), kind)))
				continue
			}
			claimed[from] = rng
		}
	}
	return diags
}
