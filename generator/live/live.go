package live

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/generator/plan"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/snapshot"
)

// Querier is what the checks need of a connection, pool or transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// maxExamples is how many violating document ids a check shows.
const maxExamples = 3

func quote(id string) string { return `"` + strings.ReplaceAll(id, `"`, `""`) + `"` }

// typeRes match the text of values a string column must hold to convert
// to a spec type.
var typeRes = map[string]string{
	"integer":  `^\s*-?[0-9]+\s*$`,
	"number":   `^\s*-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?\s*$`,
	"boolean":  `^\s*(?i:true|false|t|f|yes|no|on|off|1|0)\s*$`,
	"uuid":     `^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`,
	"date":     `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`,
	"datetime": `^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[-+][0-9]{2}:[0-9]{2})$`,
	"email":    `^[^@\s]+@[^@\s]+$`,
}

// condition is the WHERE clause selecting the rows violating k, with its
// arguments; goRe is set for a pattern, which is checked in Go (the
// spec's patterns are RE2, not PostgreSQL's dialect).
func condition(k *plan.Check) (where string, args []any, goRe *regexp.Regexp, err error) {
	if k.Path != "" {
		return nestedCondition(k)
	}
	col := quote(k.Field)
	num, _ := k.Value.(float64)
	switch k.Kind {
	case plan.CheckNewRequired, plan.CheckLostDocuments:
		return "true", nil, nil, nil
	case plan.CheckLostValues:
		return col + " IS NOT NULL", nil, nil, nil
	case plan.CheckRequired:
		return col + " IS NULL", nil, nil, nil
	case plan.CheckEnum:
		var vals []string
		list, _ := k.Value.([]any)
		for _, v := range list {
			vals = append(vals, fmt.Sprint(v))
		}
		return col + " IS NOT NULL AND NOT (" + col + "::text = ANY($1))", []any{vals}, nil, nil
	case plan.CheckMinimum:
		return col + " < $1", []any{num}, nil, nil
	case plan.CheckMaximum:
		return col + " > $1", []any{num}, nil, nil
	case plan.CheckMinLength:
		return "char_length(" + col + ") < $1", []any{int64(num)}, nil, nil
	case plan.CheckMaxLength:
		return "char_length(" + col + ") > $1", []any{int64(num)}, nil, nil
	case plan.CheckMinItems:
		return "jsonb_array_length(" + col + ") < $1", []any{int64(num)}, nil, nil
	case plan.CheckMaxItems:
		return "jsonb_array_length(" + col + ") > $1", []any{int64(num)}, nil, nil
	case plan.CheckPattern:
		re, err := regexp.Compile(fmt.Sprint(k.Value))
		if err != nil {
			return "", nil, nil, fmt.Errorf("pattern: %w", err)
		}
		return col + " IS NOT NULL", nil, re, nil
	case plan.CheckType:
		to := fmt.Sprint(k.Value)
		switch {
		case k.From == "number" && to == "integer":
			return col + " <> trunc(" + col + ")", nil, nil, nil
		case k.From == "datetime" && to == "date":
			return "(" + col + " AT TIME ZONE 'UTC')::time <> '00:00'", nil, nil, nil
		case typeRes[to] != "":
			return col + " IS NOT NULL AND " + col + "::text !~ $1", []any{typeRes[to]}, nil, nil
		}
	}
	return "", nil, nil, fmt.Errorf("no data check for %s", k.Kind)
}

// jsonTypes match the JSON values v a spec type accepts.
var jsonTypes = map[string]string{
	"integer": "jsonb_typeof(v) = 'number' AND v::numeric = trunc(v::numeric)",
	"number":  "jsonb_typeof(v) = 'number'",
	"boolean": "jsonb_typeof(v) = 'boolean'",
	"object":  "jsonb_typeof(v) = 'object'",
	"array":   "jsonb_typeof(v) = 'array'",
	"string":  "jsonb_typeof(v) = 'string'",
}

// nestedCondition is condition for a field nested in an object or array
// column: the documents having a value at the check's SQL/JSON path that
// violates it ($1 is the path). A required field is looked up in the
// objects holding it, so a document without the enclosing object does
// not count. Patterns are matched in Go on the string values.
func nestedCondition(k *plan.Check) (where string, args []any, goRe *regexp.Regexp, err error) {
	col := quote(k.Field)
	exists := func(cond string) string {
		return "EXISTS (SELECT 1 FROM jsonb_path_query(" + col + ", $1::jsonpath) v WHERE " + cond + ")"
	}
	num, _ := k.Value.(float64)
	switch k.Kind {
	case plan.CheckLostValues:
		return exists("jsonb_typeof(v) <> 'null'"), []any{k.Path}, nil, nil
	case plan.CheckNewRequired, plan.CheckRequired:
		i := strings.LastIndex(k.Path, ".")
		if i < 0 || !strings.HasPrefix(k.Path[i:], `."`) {
			return "", nil, nil, fmt.Errorf("no data check for %s at %s", k.Kind, k.Path)
		}
		key, err := strconv.Unquote(k.Path[i+1:])
		if err != nil {
			return "", nil, nil, fmt.Errorf("path %s: %w", k.Path, err)
		}
		return exists("jsonb_typeof(v) = 'object' AND coalesce(v -> $2, 'null') = 'null'"), []any{k.Path[:i], key}, nil, nil
	case plan.CheckEnum:
		var vals []string
		list, _ := k.Value.([]any)
		for _, v := range list {
			vals = append(vals, fmt.Sprint(v))
		}
		return exists("jsonb_typeof(v) = 'string' AND NOT (v #>> '{}') = ANY($2)"), []any{k.Path, vals}, nil, nil
	case plan.CheckMinimum:
		return exists("jsonb_typeof(v) = 'number' AND v::numeric < $2::numeric"), []any{k.Path, num}, nil, nil
	case plan.CheckMaximum:
		return exists("jsonb_typeof(v) = 'number' AND v::numeric > $2::numeric"), []any{k.Path, num}, nil, nil
	case plan.CheckMinLength:
		return exists("jsonb_typeof(v) = 'string' AND char_length(v #>> '{}') < $2"), []any{k.Path, int64(num)}, nil, nil
	case plan.CheckMaxLength:
		return exists("jsonb_typeof(v) = 'string' AND char_length(v #>> '{}') > $2"), []any{k.Path, int64(num)}, nil, nil
	case plan.CheckMinItems:
		return exists("jsonb_typeof(v) = 'array' AND jsonb_array_length(v) < $2"), []any{k.Path, int64(num)}, nil, nil
	case plan.CheckMaxItems:
		return exists("jsonb_typeof(v) = 'array' AND jsonb_array_length(v) > $2"), []any{k.Path, int64(num)}, nil, nil
	case plan.CheckPattern:
		re, err := regexp.Compile(fmt.Sprint(k.Value))
		if err != nil {
			return "", nil, nil, fmt.Errorf("pattern: %w", err)
		}
		return "", []any{k.Path}, re, nil
	case plan.CheckType:
		to := fmt.Sprint(k.Value)
		ok := jsonTypes[to]
		if ok == "" {
			ok = jsonTypes["string"]
		}
		args := []any{k.Path}
		if re := typeRes[to]; re != "" {
			ok += " AND (v #>> '{}') ~ $2"
			args = append(args, re)
		}
		return exists("jsonb_typeof(v) <> 'null' AND NOT (" + ok + ")"), args, nil, nil
	}
	return "", nil, nil, fmt.Errorf("no data check for %s", k.Kind)
}

// RunChecks runs every data check of p against q and records the results
// in the checks. A check that cannot run records its error; RunChecks only
// fails when the database does.
func RunChecks(ctx context.Context, q Querier, p *plan.Plan) error {
	for _, k := range p.Checks() {
		if err := runCheck(ctx, q, k); err != nil {
			if ctx.Err() != nil || db.IsUnavailable(err) {
				return fmt.Errorf("data check %q: %w", k.Describe(), err)
			}
			k.Error = err.Error()
		}
		k.Ran = true
	}
	p.Database = true
	return nil
}

// holders counts the users (group staff memberships) holding k's role.
func holders(ctx context.Context, q Querier, k *plan.Check) error {
	table, order := "users", "created_at, id"
	if k.GroupRole {
		table, order = "group_staff", "created_at, user_id, group_id"
	}
	id := "id::text"
	if k.GroupRole {
		id = "user_id::text"
	}
	k.Violations, k.Examples = 0, nil
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table).Scan(&exists); err != nil || !exists {
		return err
	}
	from := " FROM " + table + " WHERE roles @> ARRAY[$1]::text[]"
	if err := q.QueryRow(ctx, "SELECT count(*)"+from, k.Role).Scan(&k.Violations); err != nil || k.Violations == 0 {
		return err
	}
	rows, err := q.Query(ctx, "SELECT "+id+from+" ORDER BY "+order+fmt.Sprintf(" LIMIT %d", maxExamples), k.Role)
	if err != nil {
		return err
	}
	k.Examples, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}

func runCheck(ctx context.Context, q Querier, k *plan.Check) error {
	if k.Holders() {
		return holders(ctx, q, k)
	}
	table := generator.TableName(k.Model)
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", quote(table)).Scan(&exists); err != nil {
		return err
	}
	k.Violations, k.Examples = 0, nil
	if !exists {
		return nil
	}
	where, args, re, err := condition(k)
	if err != nil {
		return err
	}
	if re != nil && k.Path != "" {
		// Every string value at the path, matched in Go; a document counts
		// once.
		rows, err := q.Query(ctx, "SELECT d.id::text, v #>> '{}' FROM "+quote(table)+" d, jsonb_path_query(d."+quote(k.Field)+", $1::jsonpath) v WHERE jsonb_typeof(v) = 'string' ORDER BY d.created_at, d.id", args...)
		if err != nil {
			return err
		}
		var id, v, last string
		_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
			if id != last && !re.MatchString(v) {
				last = id
				k.Violations++
				if len(k.Examples) < maxExamples {
					k.Examples = append(k.Examples, id)
				}
			}
			return nil
		})
		return err
	}
	from := " FROM " + quote(table) + " WHERE " + where
	if re != nil {
		rows, err := q.Query(ctx, "SELECT id::text, "+quote(k.Field)+"::text"+from+" ORDER BY created_at, id")
		if err != nil {
			return err
		}
		var id, v string
		_, err = pgx.ForEachRow(rows, []any{&id, &v}, func() error {
			if !re.MatchString(v) {
				k.Violations++
				if len(k.Examples) < maxExamples {
					k.Examples = append(k.Examples, id)
				}
			}
			return nil
		})
		return err
	}
	if err := q.QueryRow(ctx, "SELECT count(*)"+from, args...).Scan(&k.Violations); err != nil {
		return err
	}
	if k.Violations == 0 {
		return nil
	}
	rows, err := q.Query(ctx, "SELECT id::text"+from+fmt.Sprintf(" ORDER BY created_at, id LIMIT %d", maxExamples), args...)
	if err != nil {
		return err
	}
	k.Examples, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return err
}

// liveTable is what the catalog says about one data_* table.
type liveTable struct {
	columns map[string]liveColumn
	checks  map[string]bool // name → validated
	indexes map[string]bool // name → valid
}

type liveColumn struct {
	typ     string
	notNull bool
}

// readSchema reads the data_* tables of the current schema.
func readSchema(ctx context.Context, q Querier) (map[string]*liveTable, error) {
	out := map[string]*liveTable{}
	get := func(name string) *liveTable {
		t := out[name]
		if t == nil {
			t = &liveTable{columns: map[string]liveColumn{}, checks: map[string]bool{}, indexes: map[string]bool{}}
			out[name] = t
		}
		return t
	}
	const tables = `c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'data\_%'`
	rows, err := q.Query(ctx, `SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		WHERE `+tables+` AND a.attnum > 0 AND NOT a.attisdropped`)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	var tname, name, typ string
	var flag bool
	if _, err := pgx.ForEachRow(rows, []any{&tname, &name, &typ, &flag}, func() error {
		get(tname).columns[name] = liveColumn{typ, flag}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	rows, err = q.Query(ctx, `SELECT c.relname, k.conname, k.convalidated FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE `+tables+` AND k.contype = 'c'`)
	if err != nil {
		return nil, fmt.Errorf("read checks: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&tname, &name, &flag}, func() error {
		get(tname).checks[name] = flag
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read checks: %w", err)
	}
	rows, err = q.Query(ctx, `SELECT c.relname, i.relname, x.indisvalid FROM pg_index x
		JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
		WHERE `+tables+` AND NOT x.indisprimary`)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	if _, err := pgx.ForEachRow(rows, []any{&tname, &name, &flag}, func() error {
		get(tname).indexes[name] = flag
		return nil
	}); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	return out, nil
}

// sqlTypes maps the snapshot's type names to format_type's.
var sqlTypes = map[string]string{"timestamptz": "timestamp with time zone"}

// Drift compares the live data_* tables with schema and returns the
// differences, sorted by address.
func Drift(ctx context.Context, q Querier, schema generator.Schema) ([]plan.Drift, error) {
	live, err := readSchema(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("drift: %w", err)
	}
	var out []plan.Drift
	add := func(addr, format string, args ...any) {
		out = append(out, plan.Drift{Address: addr, Message: fmt.Sprintf(format, args...)})
	}
	want := map[string]bool{}
	for _, t := range schema.Tables {
		want[t.Name] = true
		addr := "table." + t.Name
		lt := live[t.Name]
		if lt == nil {
			add(addr, "the snapshot has this table, the database does not")
			continue
		}
		cols := map[string]bool{}
		for _, c := range t.Columns {
			cols[c.Name] = true
			lc, ok := lt.columns[c.Name]
			typ := c.Type
			if s, ok := sqlTypes[typ]; ok {
				typ = s
			}
			switch {
			case !ok:
				add(addr+".column."+c.Name, "the snapshot has this column, the database does not")
			case lc.typ != typ:
				add(addr+".column."+c.Name, "type is %s in the database, %s in the snapshot", lc.typ, typ)
			case lc.notNull != (c.NotNull || c.Primary):
				add(addr+".column."+c.Name, "NOT NULL is %v in the database, %v in the snapshot", lc.notNull, c.NotNull || c.Primary)
			}
		}
		for name := range lt.columns {
			if !cols[name] {
				add(addr+".column."+name, "the database has this column, the snapshot does not")
			}
		}
		checks := map[string]bool{}
		for _, c := range t.Checks {
			checks[c.Name] = true
			valid, ok := lt.checks[c.Name]
			switch {
			case !ok:
				add(addr+".check."+c.Name, "the snapshot has this constraint, the database does not")
			case !valid:
				add(addr+".check."+c.Name, "the constraint is NOT VALID: its validation did not finish (apply again)")
			}
		}
		for name := range lt.checks {
			if !checks[name] {
				add(addr+".check."+name, "the database has this constraint, the snapshot does not")
			}
		}
		idx := map[string]bool{}
		for _, ix := range t.Indexes {
			idx[ix.Name] = true
			valid, ok := lt.indexes[ix.Name]
			switch {
			case !ok:
				add(addr+".index."+ix.Name, "the snapshot has this index, the database does not")
			case !valid:
				add(addr+".index."+ix.Name, "the index is invalid: its concurrent build failed (apply again)")
			}
		}
		for name := range lt.indexes {
			if !idx[name] {
				add(addr+".index."+name, "the database has this index, the snapshot does not")
			}
		}
	}
	for name := range live {
		if !want[name] {
			add("table."+name, "the database has this table, the snapshot does not")
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Address+out[i].Message < out[j].Address+out[j].Message })
	return out, nil
}

// Applied returns the names of the migrations recorded as applied, sorted.
func Applied(ctx context.Context, q Querier) ([]string, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", db.MigrationsTable).Scan(&exists); err != nil || !exists {
		return nil, err
	}
	rows, err := q.Query(ctx, "SELECT name FROM "+db.MigrationsTable+" ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("applied migrations: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("applied migrations: %w", err)
	}
	return names, nil
}

// Fingerprint hashes the database state a plan depends on: the recorded
// migrations with their checksums, the latest applied snapshot and the
// live schema of the data_*
// tables. Any migration applied, or any column, constraint or index
// changed, changes it.
func Fingerprint(ctx context.Context, q Querier) (string, error) {
	h := sha256.New()
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", db.MigrationsTable).Scan(&exists); err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	if exists {
		rows, err := q.Query(ctx, "SELECT name, checksum FROM "+db.MigrationsTable+" ORDER BY name")
		if err != nil {
			return "", fmt.Errorf("fingerprint: %w", err)
		}
		var name, sum string
		if _, err := pgx.ForEachRow(rows, []any{&name, &sum}, func() error {
			fmt.Fprintf(h, "migration %s %s\n", name, sum)
			return nil
		}); err != nil {
			return "", fmt.Errorf("fingerprint: %w", err)
		}
	}
	rec, err := snapshot.Latest(ctx, q)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	if rec != nil {
		fmt.Fprintf(h, "snapshot %d %s\n", rec.ID, rec.SHA256)
	}
	live, err := readSchema(ctx, q)
	if err != nil {
		return "", fmt.Errorf("fingerprint: %w", err)
	}
	var lines []string
	for t, lt := range live {
		for c, lc := range lt.columns {
			lines = append(lines, fmt.Sprintf("column %s.%s %s %v", t, c, lc.typ, lc.notNull))
		}
		for c, v := range lt.checks {
			lines = append(lines, fmt.Sprintf("check %s.%s %v", t, c, v))
		}
		for c, v := range lt.indexes {
			lines = append(lines, fmt.Sprintf("index %s.%s %v", t, c, v))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ErrMoved is returned when the database no longer is in the state a
// saved plan was made against.
var ErrMoved = errors.New("the database changed since the plan was made")
