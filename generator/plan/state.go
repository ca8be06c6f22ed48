package plan

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"unicode"

	"github.com/exhgen/exhgen/spec"
)

// State is a project's spec as a plan compares it: the top-level blocks
// (project, auth, roles, models, ...), each with its attributes and nested
// blocks. It is kept in the schema snapshot next to the migrations.
type State struct {
	Blocks []*Block `json:"blocks"`
}

// Block is one object of the spec: a model, a field, a role, the auth
// settings. Attrs holds JSON values (string, float64, bool, []any, map);
// zero values (false, "", 0-length lists, absent pointers) are left out, so
// an attribute the spec gains later does not change old snapshots.
type Block struct {
	Type   string         `json:"type"`
	Name   string         `json:"name,omitempty"`
	Attrs  map[string]any `json:"attrs,omitempty"`
	Blocks []*Block       `json:"blocks,omitempty"`
	// RenamedFrom is the spec's renamed_from: an instruction for one
	// comparison, never part of a snapshot.
	RenamedFrom string `json:"-"`
}

// FromSpec reduces a project to its State. The project block holds the
// project's own attributes; its nested blocks (auth, roles, models, ...) are
// top-level blocks of the state.
func FromSpec(p *spec.Project) State {
	root := blockOf("project", reflect.ValueOf(p).Elem())
	project := &Block{Type: "project", Attrs: root.Attrs}
	if p.Name != "" {
		if project.Attrs == nil {
			project.Attrs = map[string]any{}
		}
		project.Attrs["name"] = p.Name
	}
	st := State{Blocks: append([]*Block{project}, root.Blocks...)}
	for _, b := range st.Blocks {
		normalize(b)
	}
	return st
}

// normalize lets each block's comparer fill in implied values.
func normalize(b *Block) {
	if n, ok := comparerFor(b.Type).(Normalizer); ok {
		n.Normalize(b)
	}
	for _, c := range b.Blocks {
		normalize(c)
	}
}

// blockOf reads the exported fields of struct value v into a block.
func blockOf(typ string, v reflect.Value) *Block {
	b := &Block{Type: typ}
	t := v.Type()
	for i := range t.NumField() {
		sf := t.Field(i)
		if !sf.IsExported() || skipType(sf.Type) {
			continue
		}
		fv := v.Field(i)
		switch sf.Name {
		case "Name":
			if fv.Kind() == reflect.String {
				b.Name = fv.String()
				continue
			}
		case "RenamedFrom":
			if fv.Kind() == reflect.String {
				b.RenamedFrom = fv.String()
				continue
			}
		}
		name := snake(sf.Name)
		switch {
		case isStruct(sf.Type):
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue
				}
				fv = fv.Elem()
			}
			b.Blocks = append(b.Blocks, blockOf(name, fv))
		case fv.Kind() == reflect.Slice && isStruct(sf.Type.Elem()):
			for j := range fv.Len() {
				ev := fv.Index(j)
				if ev.Kind() == reflect.Pointer {
					if ev.IsNil() {
						continue
					}
					ev = ev.Elem()
				}
				b.Blocks = append(b.Blocks, blockOf(singular(name), ev))
			}
		default:
			if val, ok := attrValue(fv); ok {
				if b.Attrs == nil {
					b.Attrs = map[string]any{}
				}
				b.Attrs[name] = val
			}
		}
	}
	return b
}

// skipType reports types that are not state: source ranges, parsed files,
// expressions (hcl and cty values), functions and channels.
func skipType(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice || t.Kind() == reflect.Array || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	pkg := t.PkgPath()
	if strings.Contains(pkg, "hashicorp/hcl") || strings.Contains(pkg, "zclconf/go-cty") {
		return true
	}
	switch t.Kind() {
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return true
	}
	return false
}

// isStruct reports whether t (or what it points to) is a struct that is a
// block rather than a value (time.Time is a value).
func isStruct(t reflect.Type) bool {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return false
	}
	return t.PkgPath() != "time"
}

// attrValue turns a field value into a JSON value; ok is false for a zero
// value.
func attrValue(v reflect.Value) (any, bool) {
	if !v.IsValid() || v.IsZero() {
		return nil, false
	}
	if (v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.Len() == 0 {
		return nil, false
	}
	data, err := json.Marshal(v.Interface())
	if err != nil {
		return nil, false
	}
	var out any
	if json.Unmarshal(data, &out) != nil || out == nil {
		return nil, false
	}
	return out, true
}

// snake turns a Go field name into the spec's attribute style:
// "MinLength" → "min_length", "ServerURL" → "server_url",
// "AccessTokenTTL" → "access_token_ttl", "RedirectURIs" → "redirect_uris".
func snake(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) {
			prevLower := i > 0 && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]))
			// An upper-case run followed by a lower-case letter starts a
			// new word at its last letter ("JSONSchema" → "json_schema"),
			// except for an acronym's plural "s" ("RedirectURIs" →
			// "redirect_uris").
			nextLower := i > 0 && i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]) &&
				(rs[i+1] != 's' || i+2 < len(rs) && !unicode.IsUpper(rs[i+2]))
			if prevLower || nextLower {
				b.WriteByte('_')
			}
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// singular names the blocks of a list field: "models" → "model",
// "policies" → "policy", "group_roles" → "group_role".
func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "ches"), strings.HasSuffix(s, "shes"), strings.HasSuffix(s, "xes"):
		return strings.TrimSuffix(s, "es")
	case strings.HasSuffix(s, "s") && !strings.HasSuffix(s, "ss"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

// Find returns the block of the given type and name among bs, or nil.
func Find(bs []*Block, typ, name string) *Block {
	i := slices.IndexFunc(bs, func(b *Block) bool { return b.Type == typ && b.Name == name })
	if i < 0 {
		return nil
	}
	return bs[i]
}

// Block returns the top-level block of the given type and name, or nil.
func (s State) Block(typ, name string) *Block { return Find(s.Blocks, typ, name) }

// Empty reports whether the state holds nothing (no snapshot yet).
func (s State) Empty() bool { return len(s.Blocks) == 0 }
