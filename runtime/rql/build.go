package rql

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A typed query builder for clients (a generated Go client, tests):
//
//	q := rql.Gt("systolic", 140).And(rql.Eq("arm", "left")).Sort("-taken_at").Limit(20)
//	page, err := c.ListMeasurementDocuments(q.Context(ctx)) // with rql.Client
//
// Values are Go values: a string is always compared as a string (the
// builder adds `string:` when the text would otherwise be guessed as a
// number, boolean, null or date), time.Time is an RFC 3339 date-time,
// LocalDate a date; numbers, booleans, nil, uuid.UUID and fmt.Stringer as
// expected. Values and paths are percent-encoded twice, as the grammar
// wants, so any text survives: parentheses, commas, `&`, `%`, unicode.

// Cond is a condition of a query.
type Cond struct{ s string }

// LocalDate is a calendar date without a time, a `date` value (2026-01-31).
type LocalDate struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the calendar date y-m-d.
func DateOf(y int, m time.Month, d int) LocalDate { return LocalDate{Year: y, Month: m, Day: d} }

func (d LocalDate) String() string {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
}

func call(op Op, args ...string) Cond { return Cond{string(op) + "(" + strings.Join(args, ",") + ")"} }

// Eq is eq(path,v): equal (on an array: contains).
func Eq(path string, v any) Cond { return call(OpEq, encodePath(path), encodeValue(v)) }

// Ne is ne(path,v): not equal (on an array: does not contain).
func Ne(path string, v any) Cond { return call(OpNe, encodePath(path), encodeValue(v)) }

// Gt is gt(path,v).
func Gt(path string, v any) Cond { return call(OpGt, encodePath(path), encodeValue(v)) }

// Ge is ge(path,v).
func Ge(path string, v any) Cond { return call(OpGe, encodePath(path), encodeValue(v)) }

// Lt is lt(path,v).
func Lt(path string, v any) Cond { return call(OpLt, encodePath(path), encodeValue(v)) }

// Le is le(path,v).
func Le(path string, v any) Cond { return call(OpLe, encodePath(path), encodeValue(v)) }

// In is in(path,vs…): any of the values.
func In(path string, vs ...any) Cond { return call(OpIn, encodeList(path, vs)...) }

// Out is out(path,vs…): none of the values.
func Out(path string, vs ...any) Cond { return call(OpOut, encodeList(path, vs)...) }

// Like is like(path,text): a case-insensitive substring.
func Like(path, text string) Cond { return call(OpLike, encodePath(path), encodeText(text)) }

// Contains is contains(path): the property or array index exists.
func Contains(path string) Cond { return call(OpContains, encodePath(path)) }

// Excludes is excludes(path): the property or array index is absent.
func Excludes(path string) Cond { return call(OpExcludes, encodePath(path)) }

// ContainsWhere is contains(path,cond): some element of an array of
// objects matches cond (its paths relative to the element).
func ContainsWhere(path string, c Cond) Cond { return call(OpContains, encodePath(path), c.s) }

// ExcludesWhere is excludes(path,cond): no element matches cond.
func ExcludesWhere(path string, c Cond) Cond { return call(OpExcludes, encodePath(path), c.s) }

// And is and(conds…).
func And(conds ...Cond) Cond { return logic(OpAnd, conds) }

// Or is or(conds…).
func Or(conds ...Cond) Cond { return logic(OpOr, conds) }

func logic(op Op, conds []Cond) Cond {
	if len(conds) == 1 {
		return conds[0]
	}
	args := make([]string, len(conds))
	for i, c := range conds {
		args[i] = c.s
	}
	return call(op, args...)
}

// And is and(c, others…).
func (c Cond) And(others ...Cond) Cond { return And(append([]Cond{c}, others...)...) }

// Or is or(c, others…).
func (c Cond) Or(others ...Cond) Cond { return Or(append([]Cond{c}, others...)...) }

// String is the condition as a query string term.
func (c Cond) String() string { return c.s }

// Query turns c into a query, to add sort, limit, …
func (c Cond) Query() Builder { return Builder{conds: []Cond{c}} }

// Select is c.Query().Select(paths…).
func (c Cond) Select(paths ...string) Builder { return c.Query().Select(paths...) }

// Sort is c.Query().Sort(keys…).
func (c Cond) Sort(keys ...string) Builder { return c.Query().Sort(keys...) }

// Limit is c.Query().Limit(n).
func (c Cond) Limit(n int) Builder { return c.Query().Limit(n) }

// Page is c.Query().Page(n, offset).
func (c Cond) Page(n, offset int) Builder { return c.Query().Page(n, offset) }

// SkipCount is c.Query().SkipCount().
func (c Cond) SkipCount() Builder { return c.Query().SkipCount() }

// Builder is a query under construction; its methods return changed
// copies. The zero Builder is the empty query.
type Builder struct {
	conds   []Cond
	sel     []string
	sort    []string
	limit   string
	noCount bool
}

// Where returns a query of the conditions (ANDed).
func Where(conds ...Cond) Builder { return Builder{conds: conds} }

// Where adds conditions (ANDed with the others).
func (b Builder) Where(conds ...Cond) Builder {
	b.conds = append(cloneCond(b.conds), conds...)
	return b
}

// Select adds select(paths…): the fields to return.
func (b Builder) Select(paths ...string) Builder {
	b.sel = append(clone(b.sel), paths...)
	return b
}

// Sort adds sort keys: "field" or "+field" ascending, "-field" descending.
func (b Builder) Sort(keys ...string) Builder {
	b.sort = append(clone(b.sort), keys...)
	return b
}

// Limit sets limit(n): the page size (the server clamps it).
func (b Builder) Limit(n int) Builder {
	b.limit = "limit(" + strconv.Itoa(n) + ")"
	return b
}

// Page sets limit(n,offset).
func (b Builder) Page(n, offset int) Builder {
	b.limit = "limit(" + strconv.Itoa(n) + "," + strconv.Itoa(offset) + ")"
	return b
}

// SkipCount adds skipCount(): the answer leaves page.total out.
func (b Builder) SkipCount() Builder {
	b.noCount = true
	return b
}

// String is the raw query string (without "?").
func (b Builder) String() string {
	var terms []string
	for _, c := range b.conds {
		terms = append(terms, c.s)
	}
	if len(b.sel) > 0 {
		paths := make([]string, len(b.sel))
		for i, p := range b.sel {
			paths[i] = encodePath(p)
		}
		terms = append(terms, "select("+strings.Join(paths, ",")+")")
	}
	if len(b.sort) > 0 {
		keys := make([]string, len(b.sort))
		for i, k := range b.sort {
			sign := ""
			if strings.HasPrefix(k, "-") || strings.HasPrefix(k, "+") {
				sign, k = k[:1], k[1:]
			}
			keys[i] = sign + encodePath(k)
		}
		terms = append(terms, "sort("+strings.Join(keys, ",")+")")
	}
	if b.limit != "" {
		terms = append(terms, b.limit)
	}
	if b.noCount {
		terms = append(terms, "skipCount()")
	}
	return strings.Join(terms, "&")
}

// Context returns ctx carrying the query (WithRawQuery), for a generated
// client sending requests through rql.Client.
func (b Builder) Context(ctx context.Context) context.Context {
	return WithRawQuery(ctx, b.String())
}

// Context returns ctx carrying the condition as the query.
func (c Cond) Context(ctx context.Context) context.Context { return WithRawQuery(ctx, c.s) }

func clone(s []string) []string { return append([]string(nil), s...) }
func cloneCond(s []Cond) []Cond { return append([]Cond(nil), s...) }

func encodeList(path string, vs []any) []string {
	out := make([]string, 0, len(vs)+1)
	out = append(out, encodePath(path))
	for _, v := range vs {
		out = append(out, encodeValue(v))
	}
	return out
}

// encodeValue writes v as a value token: typed, then percent-encoded twice.
func encodeValue(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		return encodeText(v)
	case bool:
		return strconv.FormatBool(v)
	case int:
		return escape2(strconv.Itoa(v))
	case int8:
		return escape2(strconv.FormatInt(int64(v), 10))
	case int16:
		return escape2(strconv.FormatInt(int64(v), 10))
	case int32:
		return escape2(strconv.FormatInt(int64(v), 10))
	case int64:
		return escape2(strconv.FormatInt(v, 10))
	case uint:
		return strconv.FormatUint(uint64(v), 10)
	case uint8:
		return strconv.FormatUint(uint64(v), 10)
	case uint16:
		return strconv.FormatUint(uint64(v), 10)
	case uint32:
		return strconv.FormatUint(uint64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float32:
		return encodeFloat(float64(v), 32)
	case float64:
		return encodeFloat(v, 64)
	case time.Time:
		return escape2(v.Format(time.RFC3339Nano))
	case LocalDate:
		return escape2(v.String())
	case uuid.UUID:
		return v.String()
	case fmt.Stringer:
		return encodeText(v.String())
	}
	return encodeText(fmt.Sprint(v))
}

func encodeFloat(f float64, bits int) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		// Not a number in JSON syntax: sent as text, which a number
		// field refuses (rql_invalid_value).
		return encodeText(strconv.FormatFloat(f, 'g', -1, bits))
	}
	return escape2(strconv.FormatFloat(f, 'g', -1, bits))
}

// encodeText encodes a string value: with `string:` unless the server
// would guess it as a string anyway.
func encodeText(s string) string {
	if s == "" || guess(s, 0).Kind != KindString || strings.HasPrefix(s, "string:") {
		s = "string:" + s
	}
	return escape2(s)
}

func encodePath(p string) string { return escape2(p) }

// escape2 percent-encodes s twice: every byte but the unreserved ones
// (RFC 3986) and ':' becomes %25XX, which the query string's decoding
// turns into %XX and the value's own decoding into the byte.
func escape2(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == ':':
			b.WriteByte(c)
		default:
			b.WriteString("%25")
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
