package generator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/exhgen/exhgen/generator/plan"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/spec"
)

// Schema is the storage schema the spec implies. A snapshot of it is kept
// next to the migrations; the next generate diffs against it.
type Schema struct {
	Tables []Table `json:"tables"`
}

// Table is one model's table.
type Table struct {
	Name string `json:"name"`
	// RenamedFrom is the table's name before the model's renamed_from:
	// Diff renames it instead of dropping one table and creating another.
	RenamedFrom string   `json:"-"`
	Model       string   `json:"model"`
	Columns     []Column `json:"columns"`
	Checks      []Check  `json:"checks,omitempty"`
	Indexes     []Index  `json:"indexes"`
	// JSON are the rewrites of the stored documents that changes of
	// nested fields need (jsonSteps): run by Diff once the columns are
	// renamed, before checks are added.
	JSON []Step `json:"-"`
}

// Column is a table column.
type Column struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	NotNull bool   `json:"not_null,omitempty"`
	Default string `json:"default,omitempty"` // SQL expression
	Primary bool   `json:"primary,omitempty"`
	// RenamedFrom is the column's name before the field's renamed_from.
	RenamedFrom string `json:"-"`
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
	if m.RenamedFrom != "" {
		t.RenamedFrom = tableName(m.RenamedFrom)
	}
	t.Indexes = []Index{
		{Name: ident(name, "creator_id", "idx"), Expr: `("creator_id")`},
		{Name: ident(name, "user_ids", "idx"), Method: "gin", Expr: `("user_ids")`},
		{Name: ident(name, "group_ids", "idx"), Method: "gin", Expr: `("group_ids")`},
		{Name: ident(name, "created_at", "idx"), Expr: `("created_at" DESC, "id" DESC)`},
	}
	for _, f := range m.Fields {
		col := quote(f.Name)
		c := Column{Name: f.Name, Type: sqlType(f.Type), NotNull: f.Required, RenamedFrom: f.RenamedFrom}
		if f.Required && f.Default != nil {
			// The backfill of documents stored before the field was
			// required (spec.Field.Default); the API always sends it.
			c.Default = sqlLiteral(f.Default)
		}
		t.Columns = append(t.Columns, c)
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
	// Concurrent steps (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT)
	// run after the transaction, each on its own, so they take no long
	// lock: they go into a migration marked -- exhgen:no-transaction.
	Concurrent bool
}

// Diff returns the SQL steps that turn storage schema from into to.
// Tables and columns whose RenamedFrom names one of from that to no longer
// has are renamed, keeping their data.
func Diff(from, to Schema) []Step {
	var steps []Step
	old := map[string]Table{}
	for _, t := range from.Tables {
		old[t.Name] = t
	}
	kept := map[string]bool{}
	for _, t := range to.Tables {
		kept[t.Name] = true
	}
	seen := map[string]bool{}
	for _, t := range to.Tables {
		prev, ok := old[t.Name]
		if !ok && t.RenamedFrom != "" && !kept[t.RenamedFrom] && !seen[t.RenamedFrom] {
			if p, found := old[t.RenamedFrom]; found {
				seen[p.Name] = true
				var renames []Step
				prev, renames = renameTable(p, t)
				steps = append(steps, renames...)
				ok = true
			}
		}
		seen[t.Name] = true
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

// renameTable renames table from to to's name, with its primary key; the
// indexes and checks are renamed by alterTable once columns match.
func renameTable(from, to Table) (Table, []Step) {
	steps := []Step{
		{SQL: fmt.Sprintf("ALTER TABLE %s RENAME TO %s;", quote(from.Name), quote(to.Name))},
		{SQL: fmt.Sprintf("ALTER INDEX %s RENAME TO %s;", quote(from.Name+"_pkey"), quote(to.Name+"_pkey"))},
	}
	renamed := from
	renamed.Name = to.Name
	renamed.Model = to.Model
	return renamed, steps
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
		steps = append(steps, Step{SQL: createIndex(t.Name, ix, false)})
	}
	return steps
}

func createIndex(table string, ix Index, concurrently bool) string {
	using := ""
	if ix.Method != "" {
		using = " USING " + ix.Method
	}
	if concurrently {
		// Safe to run again: a failed concurrent build leaves an invalid
		// index behind.
		return fmt.Sprintf("DROP INDEX CONCURRENTLY IF EXISTS %s;\nCREATE INDEX CONCURRENTLY %s ON %s%s %s;",
			quote(ix.Name), quote(ix.Name), quote(table), using, ix.Expr)
	}
	return fmt.Sprintf("CREATE INDEX %s ON %s%s %s;", quote(ix.Name), quote(table), using, ix.Expr)
}

// renameInExpr replaces the quoted column name old by new in an index or
// check expression.
func renameInExpr(expr, old, new string) string {
	return strings.ReplaceAll(expr, quote(old), quote(new))
}

func alterTable(from, to Table) []Step {
	var steps []Step
	tq := "ALTER TABLE " + quote(to.Name)
	oldCols := map[string]Column{}
	for _, c := range from.Columns {
		oldCols[c.Name] = c
	}
	// Renamed columns first: afterwards from describes the table with the
	// new column names, and what else changed is compared as usual.
	newNames := map[string]bool{}
	for _, c := range to.Columns {
		newNames[c.Name] = true
	}
	for _, c := range to.Columns {
		prev, ok := oldCols[c.RenamedFrom]
		if _, exists := oldCols[c.Name]; exists || c.RenamedFrom == "" || !ok || newNames[c.RenamedFrom] {
			continue
		}
		steps = append(steps, Step{SQL: fmt.Sprintf("%s RENAME COLUMN %s TO %s;", tq, quote(prev.Name), quote(c.Name))})
		delete(oldCols, prev.Name)
		prev.Name = c.Name
		oldCols[c.Name] = prev
		from = renameColumn(from, c.RenamedFrom, c.Name)
	}
	// Indexes and checks that only changed name (a renamed table or
	// column) are renamed, not rebuilt.
	from = renameObjects(from, to, &steps)

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
		prev, ok := oldCols[c.Name]
		if !ok {
			// A constant default makes PostgreSQL (11+) add the column
			// without rewriting the table, existing rows included.
			steps = append(steps, Step{SQL: fmt.Sprintf("%s ADD COLUMN %s;", tq, columnDef(c))})
			continue
		}
		if prev.Type != c.Type {
			using, ok := usingExpr(quote(c.Name), prev.Type, c.Type)
			if !ok {
				// No conversion: the column is replaced, empty.
				steps = append(steps,
					Step{SQL: fmt.Sprintf("%s DROP COLUMN %s;", tq, quote(c.Name)), Destructive: true},
					Step{SQL: fmt.Sprintf("%s ADD COLUMN %s;", tq, columnDef(c))})
				continue
			}
			steps = append(steps, Step{
				SQL:         fmt.Sprintf("%s ALTER COLUMN %s TYPE %s USING %s;", tq, quote(c.Name), c.Type, using),
				Destructive: !widening(prev.Type, c.Type),
			})
		}
		if prev.Default != c.Default {
			if c.Default == "" {
				steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s DROP DEFAULT;", tq, quote(c.Name))})
			} else {
				steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s SET DEFAULT %s;", tq, quote(c.Name), c.Default)})
			}
		}
		if prev.NotNull != c.NotNull {
			if c.NotNull {
				if c.Default != "" {
					// Backfill before the constraint, so it holds.
					steps = append(steps, Step{SQL: fmt.Sprintf("UPDATE %s SET %s = %s WHERE %s IS NULL;", quote(to.Name), quote(c.Name), c.Default, quote(c.Name))})
				}
				steps = append(steps, setNotNull(to.Name, c.Name)...)
			} else {
				steps = append(steps, Step{SQL: fmt.Sprintf("%s ALTER COLUMN %s DROP NOT NULL;", tq, quote(c.Name))})
			}
		}
	}
	steps = append(steps, to.JSON...)
	for _, c := range from.Columns {
		if !newNames[c.Name] {
			steps = append(steps, Step{SQL: fmt.Sprintf("%s DROP COLUMN %s;", tq, quote(c.Name)), Destructive: true})
		}
	}
	// New checks are added NOT VALID (new writes are checked at once,
	// under a short lock) and validated after the transaction, which scans
	// the stored rows without blocking writes.
	for _, c := range to.Checks {
		if o, ok := oldChecks[c.Name]; !ok || o.Expr != c.Expr {
			steps = append(steps,
				Step{SQL: fmt.Sprintf("%s ADD CONSTRAINT %s CHECK (%s) NOT VALID;", tq, quote(c.Name), c.Expr)},
				Step{SQL: fmt.Sprintf("%s VALIDATE CONSTRAINT %s;", tq, quote(c.Name)), Concurrent: true})
		}
	}
	for _, ix := range to.Indexes {
		if o, ok := oldIdx[ix.Name]; !ok || o != ix {
			steps = append(steps, Step{SQL: createIndex(to.Name, ix, true), Concurrent: true})
		}
	}
	return steps
}

// setNotNull makes a populated column NOT NULL without scanning the table
// under an exclusive lock: a helper CHECK (col IS NOT NULL) is added NOT
// VALID in the transaction (new writes are checked at once), validated
// after it without blocking writes, and then SET NOT NULL, which
// PostgreSQL 12+ proves from the validated check without a scan; the
// helper is dropped last. The concurrent steps are safe to run again: the
// validation is skipped once the helper is gone.
func setNotNull(table, column string) []Step {
	tq, col := "ALTER TABLE "+quote(table), quote(column)
	helper := ident(table, column, "not_null")
	return []Step{
		{SQL: fmt.Sprintf("%s ADD CONSTRAINT %s CHECK (%s IS NOT NULL) NOT VALID;", tq, quote(helper), col)},
		{SQL: fmt.Sprintf("-- %s.%s becomes NOT NULL: the validated helper check spares SET NOT NULL its scan.\n"+
			"DO $$ BEGIN IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = %s::regclass AND conname = %s) THEN %s VALIDATE CONSTRAINT %s; END IF; END $$;",
			table, column, literal(quote(table)), literal(helper), tq, quote(helper)), Concurrent: true},
		{SQL: fmt.Sprintf("%s ALTER COLUMN %s SET NOT NULL;", tq, col), Concurrent: true},
		{SQL: fmt.Sprintf("%s DROP CONSTRAINT IF EXISTS %s;", tq, quote(helper)), Concurrent: true},
	}
}

// renameColumn renames a column of t, in its checks and indexes too.
func renameColumn(t Table, old, new string) Table {
	out := t
	out.Columns = append([]Column{}, t.Columns...)
	for i := range out.Columns {
		if out.Columns[i].Name == old {
			out.Columns[i].Name = new
		}
	}
	out.Checks = append([]Check{}, t.Checks...)
	for i := range out.Checks {
		out.Checks[i].Expr = renameInExpr(out.Checks[i].Expr, old, new)
	}
	out.Indexes = append([]Index{}, t.Indexes...)
	for i := range out.Indexes {
		out.Indexes[i].Expr = renameInExpr(out.Indexes[i].Expr, old, new)
	}
	return out
}

// renameObjects renames the indexes and checks of from that match one of
// to by definition but not by name, and returns from with the new names.
func renameObjects(from, to Table, steps *[]Step) Table {
	out := from
	out.Indexes = append([]Index{}, from.Indexes...)
	for i, ix := range out.Indexes {
		for _, n := range to.Indexes {
			if n.Name != ix.Name && n.Expr == ix.Expr && n.Method == ix.Method && !hasIndex(from.Indexes, n.Name) {
				*steps = append(*steps, Step{SQL: fmt.Sprintf("ALTER INDEX %s RENAME TO %s;", quote(ix.Name), quote(n.Name))})
				out.Indexes[i].Name = n.Name
				break
			}
		}
	}
	out.Checks = append([]Check{}, from.Checks...)
	for i, c := range out.Checks {
		for _, n := range to.Checks {
			if n.Name != c.Name && n.Expr == c.Expr && !hasCheck(from.Checks, n.Name) {
				*steps = append(*steps, Step{SQL: fmt.Sprintf("ALTER TABLE %s RENAME CONSTRAINT %s TO %s;", quote(to.Name), quote(c.Name), quote(n.Name))})
				out.Checks[i].Name = n.Name
				break
			}
		}
	}
	return out
}

func hasIndex(ix []Index, name string) bool {
	_, ok := indexMap(ix)[name]
	return ok
}

func hasCheck(cs []Check, name string) bool {
	_, ok := checkMap(cs)[name]
	return ok
}

// usingExpr is the USING expression converting a column of SQL type from
// to type to, false when there is none (jsonb and scalars).
func usingExpr(col, from, to string) (string, bool) {
	if (from == "jsonb") != (to == "jsonb") {
		return "", false
	}
	switch {
	case to == "text" && from == "timestamptz":
		// RFC 3339, as the API writes date-times, not PostgreSQL's form.
		return "to_json(" + col + ") #>> '{}'", true
	case to == "bigint" && from == "double precision":
		return "round(" + col + ")::bigint", true
	case to == "bigint" && from == "boolean":
		return col + "::int::bigint", true
	case to == "double precision" && from == "boolean":
		return col + "::int::double precision", true
	case to == "timestamptz" && from == "date":
		return "(" + col + "::timestamp AT TIME ZONE 'UTC')", true
	}
	return col + "::" + to, true
}

// widening reports whether every value of SQL type from converts to type
// to without loss.
func widening(from, to string) bool {
	switch {
	case to == "text":
		return true
	case from == "bigint" && to == "double precision":
		return true
	case from == "date" && to == "timestamptz":
		return true
	case from == "boolean" && (to == "bigint" || to == "double precision"):
		return true
	}
	return false
}

// sqlLiteral writes a spec default as an SQL constant.
func sqlLiteral(v any) string {
	switch v := v.(type) {
	case bool:
		if v {
			return "true"
		}
		return "false"
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case string:
		return literal(v)
	}
	return "NULL"
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

// Snapshot is what migrations/schema.json holds: the storage schema the
// migrations so far produce and the spec state they were written from (the
// base `exhgen plan` compares the spec with).
type Snapshot struct {
	Tables []Table     `json:"tables"`
	Spec   *plan.State `json:"spec,omitempty"`
}

// ReadSnapshot decodes a snapshot; empty data is the empty snapshot.
func ReadSnapshot(data []byte) (Snapshot, error) {
	var s Snapshot
	if len(data) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return s, fmt.Errorf("read %s: %w", SnapshotFile, err)
	}
	return s, nil
}

// State is the spec state of a snapshot (empty when it has none).
func (s Snapshot) State() plan.State {
	if s.Spec == nil {
		return plan.State{}
	}
	return *s.Spec
}

// Schema is the storage schema of a snapshot.
func (s Snapshot) Schema() Schema { return Schema{Tables: s.Tables} }

// ConcurrentSuffix ends the name of the migration holding a change's
// concurrent steps (index builds, constraint validation).
const ConcurrentSuffix = "_concurrently"

// migrationFiles returns the project files generate writes: new migrations
// when the storage schema changed, and the updated snapshot when the spec
// changed; nothing otherwise. The steps that must run outside a
// transaction go into a second migration marked -- exhgen:no-transaction.
// Numbering continues after the highest-numbered migration present,
// hand-written ones included.
func migrationFiles(p *spec.Project, existing []File, snapshot []byte) ([]File, error) {
	prev, err := ReadSnapshot(snapshot)
	if err != nil {
		return nil, err
	}
	next := StorageSchema(p)
	state := plan.FromSpec(p)
	nested := jsonSteps(prev.State(), state)
	for i := range next.Tables {
		next.Tables[i].JSON = nested[next.Tables[i].Name]
	}
	steps := Diff(prev.Schema(), next)
	nextSnap := Snapshot{Tables: next.Tables, Spec: &state}
	snap, err := encodeJSON(nextSnap)
	if err != nil {
		return nil, err
	}
	if len(steps) == 0 {
		if bytes.Equal(snap, snapshot) {
			return nil, nil
		}
		return []File{{Path: SnapshotFile, Data: snap}}, nil
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
	var tx, conc []Step
	for _, s := range steps {
		if s.Concurrent {
			conc = append(conc, s)
		} else {
			tx = append(tx, s)
		}
	}
	var files []File
	write := func(seq int, name string, header string, steps []Step) {
		var b strings.Builder
		b.WriteString(header)
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
		files = append(files, File{Path: fmt.Sprintf("%s/%04d_%s.sql", MigrationsDir, seq, name), Data: []byte(b.String())})
	}
	if len(tx) > 0 {
		write(seq, slug, "", tx)
		seq++
	}
	if len(conc) > 0 {
		write(seq, slug+ConcurrentSuffix, db.NoTransactionHeader+"\n-- Index builds and constraint validations: each statement runs on its\n-- own, outside a transaction, without blocking writes; safe to run again.\n", conc)
	}
	return append(files, File{Path: SnapshotFile, Data: snap}), nil
}
