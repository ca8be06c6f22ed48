package plan

import (
	"fmt"
	"strings"
)

// Check is a data check: the stored documents that would violate a
// tightened field. Kind says which condition; Model and Field name the
// table and column in the applied state (before any rename); Value is the
// new bound (a number, a pattern, the enum list, the new type). Package
// live runs it and fills in the results.
type Check struct {
	Kind  CheckKind `json:"kind"`
	Model string    `json:"model"`
	Field string    `json:"field"`
	Value any       `json:"value,omitempty"`
	// From is the field's old type, for a type check.
	From string `json:"from,omitempty"`
	// Path is, for a field nested in an object or array column, the SQL/JSON
	// path of its values inside the column Field ("$.\"serial\"",
	// "$[*].\"pressure\""), with the names of the applied state.
	Path string `json:"path,omitempty"`
	// Role is, for a holders check, the role (GroupRole: the group role)
	// removed or losing the permissions in Value.
	Role      string `json:"role,omitempty"`
	GroupRole bool   `json:"group_role,omitempty"`

	// Results, when the check ran against a database.
	Ran        bool     `json:"ran"`
	Violations int64    `json:"violations"`
	Examples   []string `json:"examples,omitempty"` // up to 3 document ids
	Error      string   `json:"error,omitempty"`
}

// CheckKind is the condition a data check counts.
type CheckKind string

const (
	CheckNewRequired CheckKind = "new_required" // a new required field without default: every row
	CheckRequired    CheckKind = "required"     // made required without default: rows where it is null
	CheckEnum        CheckKind = "enum"         // values outside the new enum
	CheckMinimum     CheckKind = "minimum"
	CheckMaximum     CheckKind = "maximum"
	CheckMinLength   CheckKind = "min_length"
	CheckMaxLength   CheckKind = "max_length"
	CheckPattern     CheckKind = "pattern"
	CheckMinItems    CheckKind = "min_items"
	CheckMaxItems    CheckKind = "max_items"
	CheckType        CheckKind = "type" // values the new type cannot hold

	// Loss checks count what a destructive change deletes: the documents
	// of a removed model, the values of a removed (or replaced) field.
	// They do not make apply fail; the change needs -allow-destructive.
	CheckLostDocuments CheckKind = "lost_documents"
	CheckLostValues    CheckKind = "lost_values"

	// Holders checks count the users (or group staff memberships) holding
	// a role the plan removes or takes permissions from. They do not make
	// apply fail, but holders found make it need -allow-destructive.
	CheckRoleHolders       CheckKind = "role_holders"
	CheckPermissionHolders CheckKind = "permission_holders"
)

// Holders reports whether the check counts role holders rather than
// documents violating the new schema.
func (k *Check) Holders() bool {
	return k.Kind == CheckRoleHolders || k.Kind == CheckPermissionHolders
}

// Lost reports whether the check counts stored data a change deletes.
func (k *Check) Lost() bool {
	return k.Kind == CheckLostDocuments || k.Kind == CheckLostValues
}

// Name is the field the check is about as people write it:
// "arm", "device.serial", "samples[].pressure".
func (k *Check) Name() string {
	if k.Path == "" {
		return k.Field
	}
	return k.Field + strings.NewReplacer("$", "", `"`, "", "[*]", "[]").Replace(k.Path)
}

// Describe says what the check counts, for people: "rows without arm".
func (k *Check) Describe() string {
	f, v := k.Name(), formatValue(k.Value)
	if k.Holders() {
		who, kind := "users", "role"
		if k.GroupRole {
			who, kind = "group staff memberships", "group role"
		}
		if k.Kind == CheckRoleHolders {
			return fmt.Sprintf("%s with the %s %q, which is removed", who, kind, k.Role)
		}
		return fmt.Sprintf("%s with the %s %q, which loses %s", who, kind, k.Role, strings.Join(quoteAll(toStrings(k.Value)), ", "))
	}
	switch k.Kind {
	case CheckLostDocuments:
		return fmt.Sprintf("%s documents stored, deleted with the table", k.Model)
	case CheckLostValues:
		return fmt.Sprintf("%s documents with a value for %s, which is deleted", k.Model, f)
	}
	if k.Path != "" && (k.Kind == CheckNewRequired || k.Kind == CheckRequired) {
		parent := f[:max(strings.LastIndexByte(f, '.'), 0)]
		return fmt.Sprintf("%s documents with %s but without the required %s", k.Model, parent, f)
	}
	switch k.Kind {
	case CheckNewRequired:
		return fmt.Sprintf("%s documents stored so far, all without the new required %s", k.Model, f)
	case CheckRequired:
		return fmt.Sprintf("%s documents without %s", k.Model, f)
	case CheckEnum:
		return fmt.Sprintf("%s documents whose %s is not one of %s", k.Model, f, v)
	case CheckMinimum:
		return fmt.Sprintf("%s documents whose %s is below %s", k.Model, f, v)
	case CheckMaximum:
		return fmt.Sprintf("%s documents whose %s is above %s", k.Model, f, v)
	case CheckMinLength:
		return fmt.Sprintf("%s documents whose %s is shorter than %s characters", k.Model, f, v)
	case CheckMaxLength:
		return fmt.Sprintf("%s documents whose %s is longer than %s characters", k.Model, f, v)
	case CheckPattern:
		return fmt.Sprintf("%s documents whose %s does not match %s", k.Model, f, v)
	case CheckMinItems:
		return fmt.Sprintf("%s documents with fewer than %s %s", k.Model, v, f)
	case CheckMaxItems:
		return fmt.Sprintf("%s documents with more than %s %s", k.Model, v, f)
	case CheckType:
		return fmt.Sprintf("%s documents whose %s is not a valid %v", k.Model, f, k.Value)
	}
	return fmt.Sprintf("%s documents violating %s on %s", k.Model, k.Kind, f)
}

func an(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "n"
	}
	return ""
}

func toStrings(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		out = append(out, fmt.Sprint(x))
	}
	return out
}

// formatValue renders an attribute value as HCL would write it.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return fmt.Sprintf("%q", v)
	case float64:
		return fmt.Sprint(v)
	case []any:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = formatValue(x)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}

// FormatValue renders an attribute value as HCL would write it.
func FormatValue(v any) string { return formatValue(v) }

type fieldComparer struct{}

// storageOf returns the model change owning a model's own field (its
// column), or nil for a nested field.
func storageOf(c *Change) *Change {
	if c.parent != nil && c.parent.Type == "model" && c.Type == "field" {
		return c.parent
	}
	return nil
}

// nestedPath returns the model field (column) a nested field c lives in
// and the SQL/JSON path of c's values inside it, with applied-state names;
// top is nil when c is not inside a model's field.
func nestedPath(c *Change) (top *Change, path string) {
	var segs []string
	for n := c; n != nil; n = n.parent {
		if storageOf(n) != nil {
			return n, "$" + strings.Join(segs, "")
		}
		switch n.Type {
		case "items":
			segs = append([]string{"[*]"}, segs...)
		case "field":
			segs = append([]string{"." + jsonPathKey(prevName(n))}, segs...)
		default:
			return nil, ""
		}
	}
	return nil, ""
}

// jsonPathKey quotes a member name for an SQL/JSON path.
func jsonPathKey(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// prevName is a block's name in the applied state.
func prevName(c *Change) string {
	if c.PrevName != "" {
		return c.PrevName
	}
	return c.Name
}

func (fieldComparer) Judge(c *Change) {
	model := storageOf(c)
	if c.parent != nil && (c.parent.Action == Create || c.parent.Action == Delete) {
		return // the parent's change says it all
	}
	name := c.Name
	if c.Type == "items" {
		name = "the items of " + c.parent.Name
	}
	check := func(kind CheckKind, v any) {
		from, _ := c.Before["type"].(string)
		if kind != CheckType {
			from = ""
		}
		if model == nil {
			top, path := nestedPath(c)
			if top == nil {
				return
			}
			c.Checks = append(c.Checks, &Check{Kind: kind, Model: prevName(top.parent), Field: prevName(top), Path: path, Value: v, From: from})
			return
		}
		c.Checks = append(c.Checks, &Check{Kind: kind, Model: prevName(model), Field: prevName(c), Value: v, From: from})
	}
	switch c.Action {
	case Create:
		if c.After["required"] != true {
			if def, ok := c.After["default"]; ok {
				c.reason("Documents stored so far are not given %s = %s: only a required field's default is backfilled.", name, formatValue(def))
			}
			return
		}
		c.breaks("Clients must now send %s.", name)
		if def, ok := c.After["default"]; ok {
			if model == nil {
				c.reason("Stored documents holding the enclosing object get %s = %s (rewritten by the migration).", name, formatValue(def))
				return
			}
			c.reason("Documents stored so far get %s = %s.", name, formatValue(def))
			return
		}
		c.destroy("%s is required and has no default: documents stored so far have no value for it.", name)
		check(CheckNewRequired, nil)
	case Delete:
		if model != nil {
			c.destroy("Drops the column %s and the values stored in it.", name)
		} else {
			c.destroy("Removes %s and its values from the stored documents.", name)
		}
		c.breaks("Removes %s from the API.", name)
		check(CheckLostValues, nil)
	case Update, Replace:
		if c.Renamed() {
			c.breaks("Renames %s to %s in the API.", c.PrevName, name)
			if model != nil {
				c.reason("Renames the column; the values are kept.")
			} else {
				c.reason("Renames the key %s to %s in the stored documents; the values are kept.", c.PrevName, name)
			}
		}
		for i := range c.Attrs {
			judgeFieldAttr(c, &c.Attrs[i], name, check)
		}
	}
}

func judgeFieldAttr(c *Change, a *AttrChange, name string, check func(CheckKind, any)) {
	switch a.Name {
	case "type":
		from, to := fmt.Sprint(a.Before), fmt.Sprint(a.After)
		c.breaks("The type of %s changes from %s to %s.", name, from, to)
		switch conversion(from, to) {
		case widen:
			c.reason("Every stored %s converts to %s.", from, to)
		case narrow:
			c.destroy("Narrows %s from %s to %s: stored values that are not valid %s values make the migration fail.", name, from, to, to)
			check(CheckType, to)
		case lossy:
			c.destroy("Converting %s from %s to %s loses information (fractions, times of day).", name, from, to)
			check(CheckType, to)
		default:
			a.ForcesReplacement = true
			c.destroy("A%s %s cannot be converted to a%s %s: %s is dropped and added again, empty.", an(from), from, an(to), to, name)
			check(CheckLostValues, nil)
		}
	case "required":
		if a.After == true {
			c.breaks("Clients must now send %s.", name)
			if def, ok := c.After["default"]; ok {
				c.reason("Documents stored without %s get %s.", name, formatValue(def))
			} else {
				c.destroy("Tightens %s to required: documents stored without it make the migration fail.", name)
				check(CheckRequired, nil)
			}
		} else {
			c.breaks("Responses may now omit %s.", name)
		}
	case "enum":
		switch {
		case a.After == nil:
			c.reason("Any string is allowed in %s now.", name)
		case a.Before == nil:
			c.destroy("Restricts %s to %s.", name, formatValue(a.After))
			c.breaks("Clients sending another value of %s get 400.", name)
			check(CheckEnum, a.After)
		default:
			if gone := missing(a.Before, a.After); len(gone) > 0 {
				c.destroy("Narrows the enum of %s: removes %s.", name, strings.Join(gone, ", "))
				c.breaks("Clients sending %s in %s get 400.", strings.Join(gone, " or "), name)
				check(CheckEnum, a.After)
			}
			if added := missing(a.After, a.Before); len(added) > 0 {
				c.reason("Adds %s to the enum of %s.", strings.Join(added, ", "), name)
			}
		}
	case "minimum", "min_length", "min_items":
		if tighter(a.Before, a.After, 1) {
			c.destroy("Raises the %s of %s to %s.", humanType(a.Name), name, formatValue(a.After))
			c.breaks("Clients sending a smaller %s get 400.", name)
			check(CheckKind(a.Name), a.After)
		}
	case "maximum", "max_length", "max_items":
		if tighter(a.Before, a.After, -1) {
			c.destroy("Lowers the %s of %s to %s.", humanType(a.Name), name, formatValue(a.After))
			c.breaks("Clients sending a larger %s get 400.", name)
			check(CheckKind(a.Name), a.After)
		}
	case "pattern":
		if a.After != nil {
			c.destroy("%s must now match %s.", name, formatValue(a.After))
			c.breaks("Clients sending a %s not matching it get 400.", name)
			check(CheckPattern, a.After)
		}
	case "indexed":
		if a.After == true {
			c.reason("Builds an index on %s concurrently, outside the transaction.", name)
		} else {
			c.reason("Drops the index on %s.", name)
		}
	case "default":
		switch {
		case c.After["required"] == true && a.After != nil && c.Attr("required") == nil:
			c.reason("The backfill value of %s changes; stored documents keep theirs.", name)
		case c.After["required"] != true && a.After != nil:
			c.reason("Documents stored without %s are not given %s: only a required field's default is backfilled.", name, formatValue(a.After))
		}
	}
}

// tighter reports whether bound after is stricter than before; dir is 1
// for a lower bound, -1 for an upper one. A new bound is stricter.
func tighter(before, after any, dir float64) bool {
	b, bok := before.(float64)
	a, aok := after.(float64)
	switch {
	case !aok:
		return false
	case !bok:
		return true
	}
	return (a-b)*dir > 0
}

type conversionKind int

const (
	impossible conversionKind = iota
	widen                     // every old value converts
	narrow                    // some old values may not convert (checked)
	lossy                     // every value converts, losing precision
)

// conversion classifies changing a field's type from one spec type to
// another.
func conversion(from, to string) conversionKind {
	scalar := func(t string) bool { return t != "object" && t != "array" }
	switch {
	case !scalar(from) || !scalar(to):
		return impossible
	case to == "string":
		return widen
	case from == "integer" && to == "number":
		return widen
	case from == "email" && to == "string", from == "date" && to == "datetime":
		return widen
	case from == "number" && to == "integer", from == "datetime" && to == "date":
		return lossy
	case from == "string" || from == "email":
		return narrow
	case from == "boolean" && (to == "integer" || to == "number"):
		return widen
	}
	return impossible
}
