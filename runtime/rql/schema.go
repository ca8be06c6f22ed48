package rql

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/exhgen/exhgen/runtime/project"
)

// Field types: the spec's (project) field types.
const (
	String   = project.String
	Integer  = project.Integer
	Number   = project.Number
	Boolean  = project.Boolean
	DateTime = project.DateTime
	Date     = project.Date
	UUID     = project.UUID
	Email    = project.Email
	Object   = project.Object
	Array    = project.Array
)

// Field is one queryable field. A top-level field lives in a Column (an
// unquoted name, quoted by the compiler) or an Expr (trusted SQL written
// by the program, e.g. "lower(u.email)"), of SQL type SQLType: a scalar
// type, jsonb (objects and arrays: nested Fields / Items describe the
// JSON inside), or a PostgreSQL array such as uuid[] (Items describes the
// element). Nested fields have only Name, Type, Fields and Items.
type Field struct {
	Name     string
	Type     string
	Column   string
	Expr     string
	SQLType  string
	Indexed  bool // documentation for callers and tests; the SQL shapes do not depend on it
	Required bool // always present in a document (select keeps it)
	Fields   []Field
	Items    *Field
	// Fold, when set on a top-level string field, maps the query's values
	// before they are compared with the column (eq, ne, in, out, like,
	// ranges): the users list compares addresses with their stored key,
	// lower-cased NFC, so that eq(email,Ann@Clinic.example) finds ann and
	// uses the unique index on the key.
	Fold func(string) string
}

// Order is a default sort key.
type Order struct {
	Field string
	Desc  bool
}

// Schema is what queries are resolved against: a model's documents, the
// users table, … Build it once and share it: it is read-only.
type Schema struct {
	Fields []Field
	// Prefix is an optional first path part that may be skipped: "data"
	// lets document queries say data.systolic as well as systolic.
	Prefix       string
	DefaultLimit int
	MaxLimit     int
	DefaultSort  []Order
	// TieBreak is a unique column appended to every ORDER BY so that
	// pages never overlap ("id").
	TieBreak string

	byName map[string]*Field
	names  []string
}

var (
	identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// scalarCasts are the SQL types a scalar column may have, mapped to
	// the cast the compiler writes after its placeholders.
	scalarCasts = map[string]string{
		"text": "text", "bigint": "bigint", "integer": "integer", "smallint": "smallint",
		"numeric": "numeric", "double precision": "double precision", "real": "real",
		"boolean": "boolean", "timestamptz": "timestamptz", "date": "date", "uuid": "uuid",
	}
)

// Init checks the schema and indexes its fields; call it once after
// building a Schema by hand (the constructors do).
func (s *Schema) Init() error {
	if s.DefaultLimit < 1 || s.MaxLimit < s.DefaultLimit {
		return fmt.Errorf("rql schema: limits %d/%d: need 1 ≤ default ≤ max", s.DefaultLimit, s.MaxLimit)
	}
	if s.TieBreak != "" && !identRE.MatchString(s.TieBreak) {
		return fmt.Errorf("rql schema: tie-break column %q is not a plain identifier", s.TieBreak)
	}
	s.byName = make(map[string]*Field, len(s.Fields))
	s.names = s.names[:0]
	for i := range s.Fields {
		f := &s.Fields[i]
		if _, dup := s.byName[f.Name]; dup {
			return fmt.Errorf("rql schema: field %q twice", f.Name)
		}
		if f.Column == "" && f.Expr == "" {
			return fmt.Errorf("rql schema: field %q has neither column nor expression", f.Name)
		}
		if err := checkSQLType(f); err != nil {
			return err
		}
		if err := checkNested(f, 0); err != nil {
			return err
		}
		s.byName[f.Name] = f
		s.names = append(s.names, f.Name)
	}
	for _, o := range s.DefaultSort {
		f, ok := s.byName[o.Field]
		if !ok || f.storage() != storeScalar {
			return fmt.Errorf("rql schema: default sort field %q is not a scalar column", o.Field)
		}
	}
	return nil
}

func checkSQLType(f *Field) error {
	t := strings.ToLower(strings.TrimSpace(f.SQLType))
	switch {
	case t == "jsonb":
		if f.Type != Object && f.Type != Array {
			return fmt.Errorf("rql schema: field %q: jsonb holds objects and arrays, not %s", f.Name, f.Type)
		}
	case strings.HasSuffix(t, "[]"):
		if _, ok := scalarCasts[strings.TrimSuffix(t, "[]")]; !ok || f.Type != Array || f.Items == nil {
			return fmt.Errorf("rql schema: field %q: unsupported array type %q", f.Name, f.SQLType)
		}
	default:
		if _, ok := scalarCasts[t]; !ok {
			return fmt.Errorf("rql schema: field %q: unsupported SQL type %q", f.Name, f.SQLType)
		}
		if f.Type == Object || f.Type == Array {
			return fmt.Errorf("rql schema: field %q: %s needs jsonb or an array type", f.Name, f.Type)
		}
	}
	f.SQLType = t
	return nil
}

func checkNested(f *Field, depth int) error {
	if depth > 16 {
		return fmt.Errorf("rql schema: field %q nests too deep", f.Name)
	}
	if f.Type == Array && f.Items == nil {
		return fmt.Errorf("rql schema: array field %q has no items", f.Name)
	}
	for i := range f.Fields {
		if err := checkNested(&f.Fields[i], depth+1); err != nil {
			return err
		}
	}
	if f.Items != nil {
		return checkNested(f.Items, depth+1)
	}
	return nil
}

type storage int

const (
	storeScalar storage = iota // a typed column
	storeJSON                  // jsonb
	storeArray                 // a PostgreSQL array
)

func (f *Field) storage() storage {
	switch {
	case f.SQLType == "jsonb":
		return storeJSON
	case strings.HasSuffix(f.SQLType, "[]"):
		return storeArray
	}
	return storeScalar
}

// sql is the field's column (quoted) or expression.
func (f *Field) sql() string {
	if f.Expr != "" {
		return f.Expr
	}
	return quoteIdent(f.Column)
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// Document system fields and their columns (every document table has them).
var systemFields = []Field{
	{Name: "id", Type: UUID, Column: "id", SQLType: "uuid", Indexed: true, Required: true},
	{Name: "creator_id", Type: UUID, Column: "creator_id", SQLType: "uuid", Indexed: true, Required: true},
	{Name: "user_ids", Type: Array, Column: "user_ids", SQLType: "uuid[]", Indexed: true, Required: true, Items: &Field{Type: UUID}},
	{Name: "group_ids", Type: Array, Column: "group_ids", SQLType: "uuid[]", Indexed: true, Required: true, Items: &Field{Type: UUID}},
	{Name: "status", Type: String, Column: "status", SQLType: "text", Required: true},
	{Name: "status_changed_at", Type: DateTime, Column: "status_changed_at", SQLType: "timestamptz", Required: true},
	{Name: "created_at", Type: DateTime, Column: "created_at", SQLType: "timestamptz", Indexed: true, Required: true},
	{Name: "updated_at", Type: DateTime, Column: "updated_at", SQLType: "timestamptz", Required: true},
	{Name: "version", Type: Integer, Column: "version", SQLType: "bigint", Required: true},
}

// SystemFields lists the names of the server-owned fields of a document.
func SystemFields() []string {
	out := make([]string, len(systemFields))
	for i, f := range systemFields {
		out[i] = f.Name
	}
	return out
}

// Default list limits of a model that sets none.
const (
	DefaultLimit = 20
	MaxLimit     = 100
)

// FromModel is the schema of a model's documents: the system fields and
// the model's fields (top-level scalars in typed columns, objects and
// arrays in jsonb), which may also be reached under "data.". Lists are
// newest first by default.
func FromModel(m *project.Model) (*Schema, error) {
	s := &Schema{
		Prefix:       "data",
		DefaultLimit: m.List.DefaultLimit,
		MaxLimit:     m.List.MaxLimit,
		DefaultSort:  []Order{{Field: "created_at", Desc: true}},
		TieBreak:     "id",
	}
	if s.DefaultLimit == 0 {
		s.DefaultLimit = DefaultLimit
	}
	if s.MaxLimit == 0 {
		s.MaxLimit = max(MaxLimit, s.DefaultLimit)
	}
	sys := map[string]bool{}
	for _, f := range systemFields {
		c := f
		s.Fields = append(s.Fields, c)
		sys[f.Name] = true
	}
	for _, pf := range m.Fields {
		if sys[pf.Name] {
			return nil, fmt.Errorf("model %q: field %q shadows a system field", m.Name, pf.Name)
		}
		col := pf.Column
		if col == "" {
			col = pf.Name
		}
		f := fromProject(pf)
		f.Column = col
		f.SQLType = pf.SQLType
		if f.SQLType == "" || f.SQLType == "json" {
			f.SQLType = "jsonb"
		}
		if f.SQLType == "int8" {
			f.SQLType = "bigint"
		}
		s.Fields = append(s.Fields, f)
	}
	if err := s.Init(); err != nil {
		return nil, fmt.Errorf("model %q: %w", m.Name, err)
	}
	return s, nil
}

func fromProject(pf project.Field) Field {
	f := Field{Name: pf.Name, Type: pf.Type, Indexed: pf.Indexed, Required: pf.Required}
	for _, sub := range pf.Fields {
		f.Fields = append(f.Fields, fromProject(sub))
	}
	if pf.Items != nil {
		it := fromProject(*pf.Items)
		f.Items = &it
	}
	return f
}
