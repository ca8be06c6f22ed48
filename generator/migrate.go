package generator

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/exhgen/exhgen/spec"
)

// Schema is the storage schema the spec implies. A snapshot of it is kept
// next to the migrations; the next generate diffs against it.
type Schema struct {
	Tables []Table `json:"tables"`
}

// Table is one model's table.
type Table struct {
	Name    string   `json:"name"`
	Model   string   `json:"model"`
	Columns []Column `json:"columns"`
	Checks  []Check  `json:"checks,omitempty"`
	Indexes []Index  `json:"indexes"`
}

// Column is a table column.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	Default string `json:"default,omitempty"` // SQL expression
	Primary bool   `json:"primary,omitempty"`
}

// Check is a named CHECK constraint.
type Check struct {
	Name string `json:"name"`
	Expr string `json:"expr"`
}

// Index is a named index.
type Index struct {
	Name   string `json:"name"`
	Method string `json:"method,omitempty"` // "" (btree) or "gin"
	Expr   string `json:"expr"`             // the parenthesised key list
}

// systemColumns are the columns every document table starts with.
var systemColumns = []Column{
	{Name: "id", Type: "uuid", NotNull: true, Primary: true},
	{Name: "creator_id", Type: "uuid", NotNull: true},
	{Name: "user_ids", Type: "uuid[]", NotNull: true, Default: "'{}'"},
	{Name: "group_ids", Type: "uuid[]", NotNull: true, Default: "'{}'"},
	{Name: "status", Type: "text", NotNull: true, Default: "'active'"},
	{Name: "status_changed_at", Type: "timestamptz", NotNull: true},
	{Name: "created_at", Type: "timestamptz", NotNull: true},
	{Name: "updated_at", Type: "timestamptz", NotNull: true},
	{Name: "version", Type: "bigint", NotNull: true, Default: "1"},
}

// StorageSchema computes the tables a project needs, sorted by name.
func StorageSchema(p *spec.Project) Schema {
	var s Schema
	for _, m := range p.Models {
		s.Tables = append(s.Tables, modelTable(m))
	}
	sort.Slice(s.Tables, func(i, j int) bool { return s.Tables[i].Name < s.Tables[j].Name })
	return s
}

func modelTable(m *spec.Model) Table {
	name := tableName(m.Name)
	t := Table{Name: name, Model: m.Name, Columns: append([]Column{}, systemColumns...)}
	t.Indexes = []Index{
		{Name: ident(name, "creator_id", "idx"), Expr: `("creator_id")`},
		{Name: ident(name, "user_ids", "idx"), Method: "gin", Expr: `("user_ids")`},
		{Name: ident(name, "group_ids", "idx"), Method: "gin", Expr: `("group_ids")`},
		{Name: ident(name, "created_at", "idx"), Expr: `("created_at" DESC, "id" DESC)`},
	}
	for _, f := range m.Fields {
		col := quote(f.Name)
		t.Columns = append(t.Columns, Column{Name: f.Name, Type: sqlType(f.Type), NotNull: f.Required})
		if expr := checkExpr(col, f); expr != "" {
			t.Checks = append(t.Checks, Check{Name: ident(name, f.Name, "check"), Expr: expr})
		}
		if f.Indexed {
			t.Indexes = append(t.Indexes, Index{Name: ident(name, f.Name, "idx"), Expr: "(" + col + ")"})
		}
	}
	return t
}

// checkExpr is the CHECK a column can hold for a field's constraints.
// Patterns stay in the runtime's JSON Schema validation: PostgreSQL regular
// expressions differ from ECMA-262's.
func checkExpr(col string, f *spec.Field) string {
	var parts []string
	if len(f.Enum) > 0 {
		lits := make([]string, len(f.Enum))
		for i, e := range f.Enum {
			lits[i] = literal(e)
		}
		parts = append(parts, col+" IN ("+strings.Join(lits, ", ")+")")
	}
	if f.Minimum != nil {
		parts = append(parts, col+" >= "+strconv.FormatFloat(*f.Minimum, 'f', -1, 64))
	}
	if f.Maximum != nil {
		parts = append(parts, col+" <= "+strconv.FormatFloat(*f.Maximum, 'f', -1, 64))
	}
	if f.MinLength != nil && *f.MinLength > 0 {
		parts = append(parts, fmt.Sprintf("char_length(%s) >= %d", col, *f.MinLength))
	}
	if f.MaxLength != nil {
		parts = append(parts, fmt.Sprintf("char_length(%s) <= %d", col, *f.MaxLength))
	}
	if f.Type == spec.TypeArray {
		parts = append(parts, "jsonb_typeof("+col+") = 'array'")
	}
	if f.Type == spec.TypeObject {
		parts = append(parts, "jsonb_typeof("+col+") = 'object'")
	}
	return strings.Join(parts, " AND ")
}

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

func literal(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ident joins parts into an identifier of at most 63 bytes (PostgreSQL's
// limit); longer names are shortened with a hash so they stay unique.
func ident(parts ...string) string {
	s := strings.Join(parts, "_")
	if len(s) <= 63 {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return s[:54] + "_" + hex.EncodeToString(sum[:4])
}

// Step is one change of a migration.
type Step struct {
	SQL         string
	Destructive bool
}

// Diff returns the SQL steps that turn storage schema from into to.
func Diff(from, to Schema) []Step {
	var steps []Step
	old := map[string]Table{}
	for _, t := range from.Tables {
		old[t.Name] = t
	}
	seen := map[string]bool{}
	for _, t := range to.Tables {
		seen[t.Name] = true
		prev, ok := old[t.Name]
		if !ok {
			steps = append(steps, createTable(t)...)
			continue
		}
		steps = append(steps, alterTable(prev, t)...)
	}
	for _, t := range from.Tables {
		if !seen[t.Name] {
			steps = append(steps, Step{SQL: "DROP TABLE " + quote(t.Name) + ";", Destructive: true})
		}
	}
	return steps
}

func columnDef(c Column) string {
	s := quote(c.Name) + " " + c.Type
	if c.Primary {
		return s + " PRIMARY KEY"
	}
	if c.NotNull {
		s += " NOT NULL"
	}
	if c.Default != "" {
		s += " DEFAULT " + c.Default
	}
	return s
}

func createTable(t Table) []Step {
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE %s (\n", quote(t.Name))
	lines := make([]string, 0, len(t.Columns)+len(t.Checks))
	for _, c := range t.Columns {
		lines = append(lines, "    "+columnDef(c))
	}
	for _, c := range t.Checks {
		lines = append(lines, fmt.Sprintf("    CONSTRAINT %s CHECK (%s)", quote(c.Name), c.Expr))
	}
	b.WriteString(strings.Join(lines, ",\n"))
	b.WriteString("\n);")
	steps := []Step{{SQL: b.String()}}
	for _, ix := range t.Indexes {
		steps = append(steps, Step{SQL: createIndex(t.Name, ix)})
	}
	return steps
}

func createIndex(table string, ix Index) string {
	using := ""
	if ix.Method != "" {
		using = " USING " + ix.Method
	}
	return fmt.Sprintf("CREATE INDEX %s ON %s%s %s;", quote(ix.Name), quote(table), using, ix.Expr)
}

func alterTable(from, to Table) []Step {
	var steps []Step
	tq := "ALTER TABLE " + quote(to.Name)
	oldCols := map[string]Column{}
	for _, c := range from.Columns {
		oldCols[c.Name] = c
	}
	newCols := map[string]bool{}
	// Constraints and indexes that change are dropped first, re-added last.
	oldChecks, newChecks := checkMap(from.Checks), checkMap(to.Checks)
	for _, c := range from.Checks {
		if n, ok := newChecks[c.Name]; !ok || n.Expr != c.Expr {
			steps = append(steps, Step{SQL: fmt.Sprintf("%s DROP CONSTRAINT %s;", tq, quote(c.Name))})
		}
	}
	oldIdx, newIdx := indexMap(from.Indexes), indexMap(to.Indexes)
	for _, ix := range from.Indexes {
		if n, ok := newIdx[ix.Name]; !ok || n != ix {
			steps = append(steps, Step{SQL: "DROP INDEX " + quote(ix.Name) + ";"})
		}
	}
	for _, c := range to.Columns {
		newCols[c.Name] = true
		prev, ok := oldCols[c.Name]
		if !ok {
			steps = append(steps, Step{SQL: fmt.Sprintf("%s ADD COLUMN %s;", tq, columnDef(c))})
			continue
		}
		if prev.Type != c.Type {
			steps = append(steps, Step{
				SQL:         fmt.Sprintf("%s ALTER COLUMN %s TYPE %s USING %s::%s;", tq, quote(c.Name), c.Type, quote(c.Name), c.Type),
				Destructive: true,
			})
		}
		if prev.NotNull != c.NotNull {
			verb := "DROP NOT NULL"
			if c.NotNull {
				verb = "SET NOT NULL"
			}
			steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s %s;", tq, quote(c.Name), verb)})
		}
		if prev.Default != c.Default {
			if c.Default == "" {
				steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s DROP DEFAULT;", tq, quote(c.Name))})
			} else {
				steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s SET DEFAULT %s;", tq, quote(c.Name), c.Default)})
			}
		}
	}
	for _, c := range from.Columns {
		if !newCols[c.Name] {
			steps = append(steps, Step{SQL: fmt.Sprintf("%s DROP COLUMN %s;", tq, quote(c.Name)), Destructive: true})
		}
	}
	for _, c := range to.Checks {
		if o, ok := oldChecks[c.Name]; !ok || o.Expr != c.Expr {
			steps = append(steps, Step{SQL: fmt.Sprintf("%s ADD CONSTRAINT %s CHECK (%s);", tq, quote(c.Name), c.Expr)})
		}
	}
	for _, ix := range to.Indexes {
		if o, ok := oldIdx[ix.Name]; !ok || o != ix {
			steps = append(steps, Step{SQL: createIndex(to.Name, ix)})
		}
	}
	return steps
}

func checkMap(cs []Check) map[string]Check {
	m := map[string]Check{}
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

func indexMap(ix []Index) map[string]Index {
	m := map[string]Index{}
	for _, i := range ix {
		m[i.Name] = i
	}
	return m
}

// SnapshotFile and MigrationsDir are where a project keeps its migrations,
// relative to the spec directory.
const (
	MigrationsDir = "migrations"
	SnapshotFile  = "migrations/schema.json"
)

// migrationFiles returns the project files generate writes: a new migration
// and the updated snapshot when the storage schema changed, nothing otherwise.
func migrationFiles(p *spec.Project, existing []File, snapshot []byte) ([]File, error) {
	var prev Schema
	if len(snapshot) > 0 {
		if err := json.Unmarshal(snapshot, &prev); err != nil {
			return nil, fmt.Errorf("read %s: %w", SnapshotFile, err)
		}
	}
	next := StorageSchema(p)
	steps := Diff(prev, next)
	if len(steps) == 0 {
		return nil, nil
	}
	seq := 1
	for _, f := range existing {
		if n, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(f.Path, MigrationsDir+"/"), "_", 2)[0]); err == nil && n >= seq {
			seq = n + 1
		}
	}
	slug := "init"
	if seq > 1 {
		slug = "change"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "-- Migration %04d of project %q, written by `exhgen generate` from the spec.\n", seq, p.Name)
	b.WriteString("-- Review it and commit it with the spec; never edit it once applied.\n")
	for _, s := range steps {
		b.WriteString("\n")
		if s.Destructive {
			b.WriteString("-- DESTRUCTIVE: loses data.\n")
		}
		b.WriteString(s.SQL)
		b.WriteString("\n")
	}
	snap, err := encodeJSON(next)
	if err != nil {
		return nil, err
	}
	return []File{
		{Path: fmt.Sprintf("%s/%04d_%s.sql", MigrationsDir, seq, slug), Data: []byte(b.String())},
		{Path: SnapshotFile, Data: snap},
	}, nil
}
