package rql

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SQL is a compiled query. Where and OrderBy reference the arguments as
// $first, $first+1, …; every value of the query is in Args.
type SQL struct {
	Where     string // a boolean SQL expression; "TRUE" when the query has no condition
	Args      []any
	OrderBy   string   // "key DESC, id DESC", without ORDER BY
	Limit     int      // clamped to the schema's MaxLimit
	Offset    int      // capped by the parser
	Select    []string // top-level field names to return; nil: all
	SkipCount bool
}

// Compile compiles q over s; placeholders start at $first.
func (s *Schema) Compile(q *Query, first int) (*SQL, error) {
	c := &compiler{s: s, first: first}
	out := &SQL{Where: "TRUE", Limit: s.DefaultLimit, Offset: q.Offset, SkipCount: q.SkipCount}
	if q.Filter != nil {
		w, err := c.node(q.Filter, scope{})
		if err != nil {
			return nil, err
		}
		out.Where = w
	}
	if q.HasLimit {
		out.Limit = min(q.Limit, s.MaxLimit)
	}
	ob, err := c.orderBy(q.Sort)
	if err != nil {
		return nil, err
	}
	out.OrderBy = ob
	seen := map[string]bool{}
	for _, p := range q.Select {
		f, _, err := c.top(p)
		if err != nil {
			return nil, err
		}
		if !seen[f.Name] {
			seen[f.Name] = true
			out.Select = append(out.Select, f.Name)
		}
	}
	out.Args = c.args
	return out, nil
}

// Filter compiles only the condition of q ("TRUE" when it has none), for
// guards on writes; placeholders start at $first.
func (s *Schema) Filter(q *Query, first int) (string, []any, error) {
	if q == nil || q.Filter == nil {
		return "TRUE", nil, nil
	}
	c := &compiler{s: s, first: first}
	w, err := c.node(q.Filter, scope{})
	if err != nil {
		return "", nil, err
	}
	return w, c.args, nil
}

type compiler struct {
	s       *Schema
	first   int
	args    []any
	aliases int
}

// scope is where paths are resolved: the schema's top level, or (inside
// contains(path, cond)) the elements of an array of objects, bound to the
// jsonb expression base.
type scope struct {
	elem *Field // the element (an object field); nil at top level
	base string
}

func (c *compiler) arg(v any, cast string) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(c.first+len(c.args)-1) + "::" + cast
}

func (c *compiler) alias() string {
	c.aliases++
	return "exh_j" + strconv.Itoa(c.aliases)
}

func (c *compiler) node(n Node, sc scope) (string, error) {
	switch n := n.(type) {
	case *Logic:
		parts := make([]string, 0, len(n.Terms))
		for _, t := range n.Terms {
			p, err := c.node(t, sc)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		if len(parts) == 1 {
			return parts[0], nil
		}
		sep := " AND "
		if n.Op == OpOr {
			sep = " OR "
		}
		return "(" + strings.Join(parts, sep) + ")", nil
	case *Compare:
		r, err := c.resolve(n.Path, sc)
		if err != nil {
			return "", err
		}
		return c.compare(n.Op, r, n.Values, n.At)
	case *Has:
		r, err := c.resolve(n.Path, sc)
		if err != nil {
			return "", err
		}
		return c.has(n, r)
	}
	return "", fmt.Errorf("rql: unknown node %T", n)
}

// seg is one step below a field: a key of an object, every element of an
// array ("*"), or one element (an index).
type seg struct {
	key   string
	star  bool
	index int
}

// resolved is a path resolved against the schema.
type resolved struct {
	top  *Field // the top-level field (nil in an element scope)
	base string // SQL of the top-level field or the element
	segs []seg  // below base
	leaf *Field
	path string // as written, for messages
	at   int
}

func (r *resolved) hasIndex() bool {
	for _, s := range r.segs {
		if !s.star && s.key == "" {
			return true
		}
	}
	return false
}

func (c *compiler) unknown(p Path, i int, name string, candidates []string) *Error {
	prefix := strings.Join(p.Parts[:i], ".")
	where := "The field"
	if prefix != "" {
		where = "The field " + strconv.Quote(prefix) + " has no field"
	}
	e := errAt(CodeUnknownField, p.At, "%s %q is unknown%s", where, name, suggest(name, candidates))
	e.Field = p.String()
	return e
}

// top resolves the first part(s) of p to a top-level field.
func (c *compiler) top(p Path) (*Field, int, error) {
	parts := p.Parts
	if f, ok := c.s.byName[parts[0]]; ok {
		return f, 1, nil
	}
	if c.s.Prefix != "" && parts[0] == c.s.Prefix && len(parts) > 1 {
		if f, ok := c.s.byName[parts[1]]; ok {
			return f, 2, nil
		}
		return nil, 0, c.unknown(p, 1, parts[1], c.s.names)
	}
	return nil, 0, c.unknown(p, 0, parts[0], c.s.names)
}

func (c *compiler) resolve(p Path, sc scope) (*resolved, error) {
	r := &resolved{path: p.String(), at: p.At}
	var cur *Field
	i := 0
	if sc.elem == nil {
		f, n, err := c.top(p)
		if err != nil {
			return nil, err
		}
		r.top, r.base, cur, i = f, f.sql(), f, n
	} else {
		r.base, cur = sc.base, sc.elem
	}
	for ; i < len(p.Parts); i++ {
		part := p.Parts[i]
		if cur.Type == Array {
			if isIndex(part) {
				n, _ := strconv.Atoi(part)
				r.segs = append(r.segs, seg{index: n})
				cur = cur.Items
				continue
			}
			if cur.Items.Type != Object {
				return nil, c.unknown(p, i, part, nil)
			}
			r.segs = append(r.segs, seg{star: true})
			cur = cur.Items
		}
		if cur.Type != Object {
			return nil, c.unknown(p, i, part, nil)
		}
		var next *Field
		names := make([]string, 0, len(cur.Fields))
		for j := range cur.Fields {
			names = append(names, cur.Fields[j].Name)
			if cur.Fields[j].Name == part {
				next = &cur.Fields[j]
			}
		}
		if next == nil {
			return nil, c.unknown(p, i, part, names)
		}
		r.segs = append(r.segs, seg{key: part})
		cur = next
	}
	r.leaf = cur
	if r.top != nil && r.top.storage() == storeArray && len(r.segs) > 0 && r.segs[0].key != "" {
		return nil, c.unknown(p, 1, p.Parts[1], nil)
	}
	return r, nil
}

func isIndex(s string) bool {
	return s != "" && len(s) <= 6 && strings.TrimLeft(s, "0123456789") == "" && (s == "0" || s[0] != '0')
}

// jsonPath is the SQL/JSON path of r's segments ("$.\"a\"[*].\"b\""),
// with [*] appended when the leaf is an array and elems is set. Keys come
// from the schema; it is always passed as a bind parameter.
func jsonPath(segs []seg, leaf *Field, elems bool) string {
	var b strings.Builder
	b.WriteString("$")
	for _, s := range segs {
		switch {
		case s.star:
			b.WriteString("[*]")
		case s.key != "":
			b.WriteString("." + strconv.Quote(s.key))
		default:
			b.WriteString("[" + strconv.Itoa(s.index) + "]")
		}
	}
	if elems && leaf.Type == Array {
		b.WriteString("[*]")
	}
	return b.String()
}

func (c *compiler) invalid(r *resolved, at int, format string, args ...any) *Error {
	e := errAt(CodeInvalidValue, at, format, args...)
	e.Field = r.path
	return e
}

func (c *compiler) unsupported(r *resolved, at int, format string, args ...any) *Error {
	e := errAt(CodeUnsupported, at, format, args...)
	e.Field = r.path
	return e
}

// scalarType is the type compared: the leaf's, or its items' for an array
// of scalars.
func scalarType(f *Field) (string, bool) {
	if f.Type == Array {
		if f.Items.Type == Object || f.Items.Type == Array {
			return "", false
		}
		return f.Items.Type, true
	}
	if f.Type == Object {
		return "", false
	}
	return f.Type, true
}

func (c *compiler) compare(op Op, r *resolved, vals []Value, at int) (string, error) {
	typ, ok := scalarType(r.leaf)
	if !ok {
		return "", c.unsupported(r, at, "%s compares values, but %q is an %s; name a field inside it", op, r.path, r.leaf.Type)
	}
	for _, v := range vals {
		if v.Kind == KindNull && op != OpEq && op != OpNe {
			return "", c.invalid(r, v.At, "null only works with eq and ne")
		}
	}
	if op == OpLike && typ != String && typ != Email {
		return "", c.unsupported(r, at, "like needs a string field, and %q is of type %s", r.path, typ)
	}
	switch {
	case r.top != nil && r.top.storage() == storeScalar:
		return c.scalarColumn(op, r, typ, r.base, r.top.SQLType, vals)
	case r.top != nil && r.top.storage() == storeArray:
		return c.arrayColumn(op, r, typ, vals)
	}
	return c.jsonField(op, r, typ, vals)
}

// typed converts a value for a field of type typ into a Go value pgx
// binds for that type.
func (c *compiler) typed(r *resolved, typ string, v Value) (any, error) {
	bad := func(want string) error {
		return c.invalid(r, v.At, "%q is of type %s: %q is not %s", r.path, typ, v.Text, want)
	}
	switch typ {
	case String, Email:
		return fold(r, v.Text), nil
	case UUID:
		id, err := uuid.Parse(v.Text)
		if err != nil || len(v.Text) != 36 {
			return nil, bad("a UUID")
		}
		return id, nil
	case Integer, Number:
		if v.Kind != KindNumber {
			return nil, bad("a number")
		}
		if typ == Integer {
			r, ok := new(big.Rat).SetString(v.Text)
			if !ok {
				return nil, bad("a number")
			}
			return r, nil
		}
		f, err := strconv.ParseFloat(v.Text, 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, bad("a number in range")
		}
		return f, nil
	case Boolean:
		if v.Kind != KindBool {
			return nil, bad("true or false")
		}
		return v.Text == "true", nil
	case DateTime:
		switch v.Kind {
		case KindDateTime:
			t, _ := time.Parse(time.RFC3339Nano, v.Text)
			return t, nil
		case KindDate:
			t, _ := time.Parse(time.DateOnly, v.Text)
			return t, nil
		}
		return nil, bad("a date-time (RFC 3339) or date")
	case Date:
		if v.Kind != KindDate {
			return nil, bad("a date (YYYY-MM-DD)")
		}
		t, _ := time.Parse(time.DateOnly, v.Text)
		return t, nil
	}
	return nil, bad("comparable")
}

var sqlOps = map[Op]string{OpEq: "=", OpGt: ">", OpGe: ">=", OpLt: "<", OpLe: "<="}

// intArg narrows an integer comparison with a rational bound to an int64
// one: x > 1.5 is x > 1, x ≥ 1.5 is x > 1, x < 1.5 is x ≤ 1, x ≤ 1.5 is
// x ≤ 1. konst is "FALSE" or "NOTNULL" when the answer does not depend on
// the stored value (never equal to a fraction, beyond int64, …).
func intArg(op Op, r *big.Rat) (newOp Op, n int64, konst string) {
	b := r.Num()
	if !r.IsInt() {
		if op == OpEq {
			return op, 0, "FALSE"
		}
		b = new(big.Int).Div(r.Num(), r.Denom()) // floor: the denominator is positive
		if op == OpGe {
			op = OpGt
		} else if op == OpLt {
			op = OpLe
		}
	}
	if b.IsInt64() {
		return op, b.Int64(), ""
	}
	huge := b.Sign() > 0
	switch op {
	case OpEq:
		return op, 0, "FALSE"
	case OpGt, OpGe:
		if huge {
			return op, 0, "FALSE"
		}
	case OpLt, OpLe:
		if !huge {
			return op, 0, "FALSE"
		}
	}
	return op, 0, "NOTNULL"
}

// scalarColumn compares a typed column (or a typed expression) expr.
func (c *compiler) scalarColumn(op Op, r *resolved, typ, expr, sqlType string, vals []Value) (string, error) {
	cast := scalarCasts[sqlType]
	switch op {
	case OpEq, OpNe:
		v := vals[0]
		if v.Kind == KindNull {
			if op == OpEq {
				return expr + " IS NULL", nil
			}
			return expr + " IS NOT NULL", nil
		}
		cond, err := c.scalarCmp(OpEq, r, typ, expr, cast, v)
		if err != nil || op == OpEq {
			return cond, err
		}
		return "NOT coalesce(" + cond + ", FALSE)", nil
	case OpGt, OpGe, OpLt, OpLe:
		return c.scalarCmp(op, r, typ, expr, cast, vals[0])
	case OpLike:
		return expr + " ILIKE " + c.arg(likePattern(fold(r, vals[0].Text)), "text"), nil
	case OpIn, OpOut:
		list, err := c.typedList(r, typ, vals)
		if err != nil {
			return "", err
		}
		cond := "FALSE"
		if list != nil {
			cond = expr + " = ANY(" + c.arg(list, cast+"[]") + ")"
		}
		if op == OpIn {
			return cond, nil
		}
		return "NOT coalesce(" + cond + ", FALSE)", nil
	}
	return "", c.unsupported(r, vals[0].At, "%s does not apply here", op)
}

func (c *compiler) scalarCmp(op Op, r *resolved, typ, expr, cast string, v Value) (string, error) {
	tv, err := c.typed(r, typ, v)
	if err != nil {
		return "", err
	}
	if rat, ok := tv.(*big.Rat); ok {
		newOp, n, konst := intArg(op, rat)
		switch konst {
		case "FALSE":
			return "FALSE", nil
		case "NOTNULL":
			return expr + " IS NOT NULL", nil
		}
		return expr + " " + sqlOps[newOp] + " " + c.arg(n, cast), nil
	}
	return expr + " " + sqlOps[op] + " " + c.arg(tv, cast), nil
}

// typedList converts the values of in/out into a slice pgx binds as an
// array of the field's type; integers that cannot be equal to any stored
// value (fractions, beyond int64) are left out. nil: no value left.
func (c *compiler) typedList(r *resolved, typ string, vals []Value) (any, error) {
	var (
		strs  []string
		ints  []int64
		flts  []float64
		bools []bool
		times []time.Time
		ids   []uuid.UUID
	)
	for _, v := range vals {
		tv, err := c.typed(r, typ, v)
		if err != nil {
			return nil, err
		}
		switch tv := tv.(type) {
		case string:
			strs = append(strs, tv)
		case *big.Rat:
			if tv.IsInt() && tv.Num().IsInt64() {
				ints = append(ints, tv.Num().Int64())
			}
		case float64:
			flts = append(flts, tv)
		case bool:
			bools = append(bools, tv)
		case time.Time:
			times = append(times, tv)
		case uuid.UUID:
			ids = append(ids, tv)
		}
	}
	switch {
	case strs != nil:
		return strs, nil
	case ints != nil:
		return ints, nil
	case flts != nil:
		return flts, nil
	case bools != nil:
		return bools, nil
	case times != nil:
		return times, nil
	case ids != nil:
		return ids, nil
	}
	return nil, nil
}

// fold applies the field's Fold to a string value compared with it.
func fold(r *resolved, s string) string {
	if r.leaf != nil && r.leaf.Fold != nil {
		return r.leaf.Fold(s)
	}
	return s
}

// likePattern is an ILIKE pattern matching s anywhere, with s's own
// wildcards escaped.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}

// arrayColumn compares a PostgreSQL array column (uuid[], text[]).
func (c *compiler) arrayColumn(op Op, r *resolved, typ string, vals []Value) (string, error) {
	col := r.base
	elemCast := scalarCasts[strings.TrimSuffix(r.top.SQLType, "[]")]
	if len(r.segs) == 1 { // one element: col[i]
		expr := "(" + col + ")[" + c.arg(r.segs[0].index+1, "integer") + "]"
		return c.scalarColumn(op, r, typ, expr, strings.TrimSuffix(r.top.SQLType, "[]"), vals)
	}
	switch op {
	case OpEq, OpNe:
		v := vals[0]
		if v.Kind == KindNull {
			if op == OpEq {
				return col + " IS NULL", nil
			}
			return col + " IS NOT NULL", nil
		}
		tv, err := c.typed(r, typ, v)
		if err != nil {
			return "", err
		}
		cond := col + " @> ARRAY[" + c.arg(tv, elemCast) + "]"
		if op == OpEq {
			return cond, nil
		}
		return "NOT coalesce(" + cond + ", FALSE)", nil
	case OpIn, OpOut:
		list, err := c.typedList(r, typ, vals)
		if err != nil {
			return "", err
		}
		cond := "FALSE"
		if list != nil {
			cond = col + " && " + c.arg(list, elemCast+"[]")
		}
		if op == OpIn {
			return cond, nil
		}
		return "NOT coalesce(" + cond + ", FALSE)", nil
	case OpGt, OpGe, OpLt, OpLe:
		// some element > v  ⇔  v < ANY(col)
		flip := map[Op]string{OpGt: "<", OpGe: "<=", OpLt: ">", OpLe: ">="}
		tv, err := c.typed(r, typ, vals[0])
		if err != nil {
			return "", err
		}
		return c.arg(tv, elemCast) + " " + flip[op] + " ANY(" + col + ")", nil
	case OpLike:
		a := c.alias()
		return "EXISTS (SELECT FROM unnest(" + col + ") AS " + a + "(v) WHERE " + a + ".v ILIKE " + c.arg(likePattern(vals[0].Text), "text") + ")", nil
	}
	return "", c.unsupported(r, vals[0].At, "%s does not apply here", op)
}

// jsonValue is the JSON of a value for a field of type typ.
func (c *compiler) jsonValue(r *resolved, typ string, v Value) (any, error) {
	tv, err := c.typed(r, typ, v)
	if err != nil {
		return nil, err
	}
	switch tv := tv.(type) {
	case *big.Rat, float64:
		return json.Number(v.Text), nil
	case time.Time:
		if typ == Date {
			return v.Text, nil
		}
		return tv, nil
	case uuid.UUID:
		return tv.String(), nil
	}
	return tv, nil
}

// containment builds the jsonb a document's field contains when the value
// sits at r's path: {"a":[{"b":v}]} for a.b through an array.
func containment(r *resolved, v any) any {
	if r.leaf.Type == Array {
		v = []any{v}
	}
	for i := len(r.segs) - 1; i >= 0; i-- {
		s := r.segs[i]
		if s.star {
			v = []any{v}
		} else {
			v = map[string]any{s.key: v}
		}
	}
	return v
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("rql: encode %T: %v", v, err)) // only JSON-safe values are built
	}
	return b
}

// jsonField compares inside a jsonb field (or array element).
func (c *compiler) jsonField(op Op, r *resolved, typ string, vals []Value) (string, error) {
	if len(r.segs) == 0 && r.leaf.Type != Array {
		return "", c.unsupported(r, r.at, "%s compares values, but %q is an %s", op, r.path, r.leaf.Type)
	}
	// Containment serves eq and in from a GIN index; it cannot address one
	// array index, and date-times must compare as instants, not text.
	contain := !r.hasIndex() && typ != DateTime
	neg := op == OpNe || op == OpOut
	switch op {
	case OpEq, OpNe, OpIn, OpOut:
		if vals[0].Kind == KindNull {
			cond := "coalesce(jsonb_path_exists(" + r.base + ", " + c.arg(jsonPath(r.segs, r.leaf, true)+" ? (@ != null)", "jsonpath") + "), FALSE)"
			if op == OpEq {
				return "NOT " + cond, nil
			}
			return cond, nil
		}
		var parts []string
		for _, v := range vals {
			var p string
			if contain {
				jv, err := c.jsonValue(r, typ, v)
				if err != nil {
					return "", err
				}
				p = r.base + " @> " + c.arg(mustJSON(containment(r, jv)), "jsonb")
			} else {
				var err error
				if p, err = c.jsonCmp(OpEq, r, typ, v); err != nil {
					return "", err
				}
			}
			parts = append(parts, p)
		}
		cond := parts[0]
		if len(parts) > 1 {
			cond = "(" + strings.Join(parts, " OR ") + ")"
		}
		if neg {
			return "NOT coalesce(" + cond + ", FALSE)", nil
		}
		return cond, nil
	case OpGt, OpGe, OpLt, OpLe:
		return c.jsonCmp(op, r, typ, vals[0])
	case OpLike:
		a := c.alias()
		return "EXISTS (SELECT FROM jsonb_path_query(" + r.base + ", " + c.arg(jsonPath(r.segs, r.leaf, true), "jsonpath") + ") AS " + a +
			"(v) WHERE (" + a + ".v #>> ARRAY[]::text[]) ILIKE " + c.arg(likePattern(vals[0].Text), "text") + ")", nil
	}
	return "", c.unsupported(r, r.at, "%s does not apply here", op)
}

var pathOps = map[Op]string{OpEq: "==", OpGt: ">", OpGe: ">=", OpLt: "<", OpLe: "<="}

// jsonCmp: some value at r's path compares with v. Date-times compare as
// timestamptz in SQL (SQL/JSON's datetime() does not read "Z"); the rest in
// SQL/JSON with v as a variable.
func (c *compiler) jsonCmp(op Op, r *resolved, typ string, v Value) (string, error) {
	jv, err := c.jsonValue(r, typ, v)
	if err != nil {
		return "", err
	}
	if typ == DateTime {
		a := c.alias()
		return "EXISTS (SELECT FROM jsonb_path_query(" + r.base + ", " + c.arg(jsonPath(r.segs, r.leaf, true), "jsonpath") + ") AS " + a +
			"(v) WHERE (" + a + ".v #>> ARRAY[]::text[])::timestamptz " + sqlOps[op] + " " + c.arg(jv, "timestamptz") + ")", nil
	}
	path := jsonPath(r.segs, r.leaf, true) + " ? (@ " + pathOps[op] + " $v)"
	vars := mustJSON(map[string]any{"v": jv})
	return "coalesce(jsonb_path_exists(" + r.base + ", " + c.arg(path, "jsonpath") + ", " + c.arg(vars, "jsonb") + "), FALSE)", nil
}

// has compiles contains / excludes.
func (c *compiler) has(n *Has, r *resolved) (string, error) {
	neg := n.Op == OpExcludes
	wrap := func(cond string) string {
		if neg {
			return "NOT coalesce(" + cond + ", FALSE)"
		}
		return cond
	}
	switch {
	case n.Values != nil:
		if r.leaf.Type != Array {
			return "", c.unsupported(r, n.At, "%s(path, values) needs an array, and %q is of type %s", n.Op, r.path, r.leaf.Type)
		}
		var parts []string
		for _, v := range n.Values {
			p, err := c.compare(OpEq, r, []Value{v}, n.At)
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		cond := parts[0]
		if len(parts) > 1 {
			cond = "(" + strings.Join(parts, " AND ") + ")"
		}
		return wrap(cond), nil
	case n.Cond != nil:
		if r.leaf.Type != Array || r.leaf.Items.Type != Object || (r.top != nil && r.top.storage() != storeJSON) {
			return "", c.unsupported(r, n.At, "%s(path, condition) needs an array of objects, and %q is not one", n.Op, r.path)
		}
		a := c.alias()
		inner, err := c.node(n.Cond, scope{elem: r.leaf.Items, base: a + ".v"})
		if err != nil {
			return "", err
		}
		cond := "EXISTS (SELECT FROM jsonb_path_query(" + r.base + ", " + c.arg(jsonPath(r.segs, r.leaf, true), "jsonpath") + ") AS " + a + "(v) WHERE " + inner + ")"
		if neg {
			return "NOT " + cond, nil
		}
		return cond, nil
	}
	// Existence of the property or array index.
	if r.top != nil && len(r.segs) == 0 {
		if neg {
			return r.base + " IS NULL", nil
		}
		return r.base + " IS NOT NULL", nil
	}
	if r.top != nil && r.top.storage() == storeArray {
		// segs is one index
		return wrap("cardinality(" + r.base + ") > " + c.arg(r.segs[0].index, "integer")), nil
	}
	if r.top != nil && r.top.storage() == storeScalar {
		return "", c.unsupported(r, n.At, "%q has no properties", r.path)
	}
	return wrap("jsonb_path_exists(" + r.base + ", " + c.arg(jsonPath(r.segs, r.leaf, false)+" ? (@ != null)", "jsonpath") + ")"), nil
}

func (c *compiler) orderBy(keys []SortKey) (string, error) {
	var parts []string
	desc := false
	tie := c.s.TieBreak != ""
	dir := func(d bool) string {
		if d {
			return " DESC"
		}
		return " ASC"
	}
	if len(keys) == 0 {
		for _, o := range c.s.DefaultSort {
			f := c.s.byName[o.Field]
			parts = append(parts, f.sql()+dir(o.Desc))
			desc = o.Desc
			if f.Column == c.s.TieBreak {
				tie = false
			}
		}
	}
	for _, k := range keys {
		r, err := c.resolve(k.Path, scope{})
		if err != nil {
			return "", err
		}
		if _, ok := scalarType(r.leaf); !ok || r.leaf.Type == Array || hasStar(r.segs) {
			return "", c.unsupported(r, k.Path.At, "sort needs a single value, and %q is not one", r.path)
		}
		var expr string
		switch {
		case len(r.segs) == 0:
			expr = r.base
			if r.top.Column == c.s.TieBreak && r.top.Expr == "" {
				tie = false
			}
		case r.top.storage() == storeArray:
			expr = "(" + r.base + ")[" + c.arg(r.segs[0].index+1, "integer") + "]"
		default:
			steps := make([]string, len(r.segs))
			for i, s := range r.segs {
				if s.key != "" {
					steps[i] = s.key
				} else {
					steps[i] = strconv.Itoa(s.index)
				}
			}
			expr = "(" + r.base + " #> " + c.arg(steps, "text[]") + ")"
		}
		parts = append(parts, expr+dir(k.Desc))
		desc = k.Desc
	}
	if tie {
		parts = append(parts, quoteIdent(c.s.TieBreak)+dir(desc))
	}
	return strings.Join(parts, ", "), nil
}

func hasStar(segs []seg) bool {
	for _, s := range segs {
		if s.star {
			return true
		}
	}
	return false
}
