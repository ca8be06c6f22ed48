package rql

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agext/levenshtein"
)

// Limits cap what one query may ask for (IN-4).
type Limits struct {
	MaxQueryBytes int // raw query string length
	MaxTerms      int // calls in the whole query
	MaxDepth      int // nesting of calls
	MaxValues     int // values of one in/out/contains
	MaxValueBytes int // one decoded value or path
	MaxPathParts  int // segments of one path
	MaxSelect     int // paths of select
	MaxSortKeys   int // keys of sort
	MaxOffset     int // the offset of limit
}

// DefaultLimits are the caps Parse applies.
func DefaultLimits() Limits {
	return Limits{
		MaxQueryBytes: 8192,
		MaxTerms:      64,
		MaxDepth:      8,
		MaxValues:     100,
		MaxValueBytes: 512,
		MaxPathParts:  8,
		MaxSelect:     64,
		MaxSortKeys:   5,
		MaxOffset:     100000,
	}
}

// Parse parses a raw (still percent-encoded) query string with
// DefaultLimits. An empty string gives an empty Query.
func Parse(raw string) (*Query, error) {
	return ParseWith(raw, DefaultLimits())
}

// ParseWith parses raw under the given limits.
func ParseWith(raw string, lim Limits) (*Query, error) {
	if len(raw) > lim.MaxQueryBytes {
		return nil, errAt(CodeTooComplex, lim.MaxQueryBytes, "The query is longer than %d bytes", lim.MaxQueryBytes)
	}
	s, pos, err := unescapeMapped(raw)
	if err != nil {
		return nil, err
	}
	p := &parser{s: s, pos: pos, lim: lim}
	return p.query()
}

// unescapeMapped percent-decodes raw once (a `+` stays a plus: RQL uses it
// in sort) and maps every byte of the result to its offset in raw.
func unescapeMapped(raw string) (string, []int, error) {
	if !strings.Contains(raw, "%") {
		pos := make([]int, len(raw)+1)
		for i := range pos {
			pos[i] = i
		}
		return raw, pos, nil
	}
	var b strings.Builder
	pos := make([]int, 0, len(raw)+1)
	for i := 0; i < len(raw); i++ {
		if raw[i] != '%' {
			b.WriteByte(raw[i])
			pos = append(pos, i)
			continue
		}
		c, ok := hexByte(raw, i)
		if !ok {
			return "", nil, errAt(CodeSyntax, i, "Invalid percent-encoding")
		}
		b.WriteByte(c)
		pos = append(pos, i)
		i += 2
	}
	pos = append(pos, len(raw))
	return b.String(), pos, nil
}

func hexByte(s string, i int) (byte, bool) {
	if i+2 >= len(s) {
		return 0, false
	}
	h, ok1 := unhex(s[i+1])
	l, ok2 := unhex(s[i+2])
	return h<<4 | l, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// unescape is the second percent-decoding, of one value or path; at is
// the raw offset of its first byte, for errors.
func unescape(s string, at int) (string, error) {
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		c, ok := hexByte(s, i)
		if !ok {
			return "", errAt(CodeSyntax, at, "Invalid percent-encoding in a value")
		}
		b.WriteByte(c)
		i += 2
	}
	return b.String(), nil
}

// The raw tree: calls, value tokens and parenthesised value lists.
type rawCall struct {
	name string
	at   int
	args []rawArg
}

type rawArg struct {
	call *rawCall
	list []rawTok // a parenthesised list
	tok  *rawTok
	at   int
}

type rawTok struct {
	text string // decoded once
	at   int
}

type parser struct {
	s     string
	pos   []int
	i     int
	calls int
	lim   Limits
}

func (p *parser) at(i int) int { return p.pos[i] }

func (p *parser) syntax(format string, args ...any) *Error {
	return errAt(CodeSyntax, p.at(p.i), format, args...)
}

func (p *parser) query() (*Query, error) {
	q := &Query{}
	var conds []Node
	seen := map[Op]int{}
	for p.i < len(p.s) {
		if p.s[p.i] == '&' {
			p.i++
			continue
		}
		c, err := p.call(1)
		if err != nil {
			return nil, err
		}
		if p.i < len(p.s) && p.s[p.i] != '&' {
			return nil, p.syntax("Expected '&' between terms, found %q", p.s[p.i])
		}
		switch Op(c.name) {
		case OpSelect, OpSort, OpLimit, OpSkipCount:
			if seen[Op(c.name)] > 0 {
				return nil, errAt(CodeSyntax, c.at, "%s is given twice", c.name)
			}
			seen[Op(c.name)]++
			if err := p.directive(q, c); err != nil {
				return nil, err
			}
		default:
			n, err := p.cond(c)
			if err != nil {
				return nil, err
			}
			conds = append(conds, n)
		}
	}
	switch len(conds) {
	case 0:
	case 1:
		q.Filter = conds[0]
	default:
		q.Filter = &Logic{Op: OpAnd, Terms: conds, At: conds[0].Pos()}
	}
	return q, nil
}

func isNameByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// call parses name(args…).
func (p *parser) call(depth int) (*rawCall, error) {
	if depth > p.lim.MaxDepth {
		return nil, errAt(CodeTooComplex, p.at(p.i), "The query nests deeper than %d levels", p.lim.MaxDepth)
	}
	p.calls++
	if p.calls > p.lim.MaxTerms {
		return nil, errAt(CodeTooComplex, p.at(p.i), "The query has more than %d terms", p.lim.MaxTerms)
	}
	start := p.i
	for p.i < len(p.s) && isNameByte(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		if p.i < len(p.s) {
			return nil, p.syntax("Expected an operator such as eq(…), found %q", p.s[p.i])
		}
		return nil, p.syntax("Expected an operator such as eq(…)")
	}
	c := &rawCall{name: p.s[start:p.i], at: p.at(start)}
	if p.i >= len(p.s) || p.s[p.i] != '(' {
		return nil, p.syntax("Expected '(' after %q", c.name)
	}
	p.i++
	if p.i < len(p.s) && p.s[p.i] == ')' {
		p.i++
		return c, nil
	}
	for {
		a, err := p.arg(depth)
		if err != nil {
			return nil, err
		}
		c.args = append(c.args, a)
		if p.i >= len(p.s) {
			return nil, p.syntax("Missing ')' to close %s(", c.name)
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case ')':
			p.i++
			return c, nil
		default:
			return nil, p.syntax("Expected ',' or ')', found %q", p.s[p.i])
		}
	}
}

// token reads up to the next structural byte.
func (p *parser) token() rawTok {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune("(),&", rune(p.s[p.i])) {
		p.i++
	}
	return rawTok{text: p.s[start:p.i], at: p.at(start)}
}

func (p *parser) arg(depth int) (rawArg, error) {
	at := p.at(p.i)
	if p.i < len(p.s) && p.s[p.i] == '(' {
		// A parenthesised list of values: in(tags,(a,b)).
		p.i++
		var list []rawTok
		for {
			t := p.token()
			if p.i < len(p.s) && p.s[p.i] == '(' {
				return rawArg{}, p.syntax("A list holds values, not calls")
			}
			list = append(list, t)
			if len(list) > p.lim.MaxValues {
				return rawArg{}, errAt(CodeTooComplex, t.at, "A list holds more than %d values", p.lim.MaxValues)
			}
			if p.i >= len(p.s) {
				return rawArg{}, p.syntax("Missing ')' to close a list")
			}
			if p.s[p.i] == ')' {
				p.i++
				return rawArg{list: list, at: at}, nil
			}
			if p.s[p.i] != ',' {
				return rawArg{}, p.syntax("Expected ',' or ')', found %q", p.s[p.i])
			}
			p.i++
		}
	}
	save := p.i
	t := p.token()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i = save
		c, err := p.call(depth + 1)
		if err != nil {
			return rawArg{}, err
		}
		return rawArg{call: c, at: at}, nil
	}
	return rawArg{tok: &t, at: at}, nil
}

// directive interprets select, sort, limit and skipCount.
func (p *parser) directive(q *Query, c *rawCall) error {
	switch Op(c.name) {
	case OpSelect:
		if len(c.args) == 0 {
			return errAt(CodeSyntax, c.at, "select needs at least one path")
		}
		if len(c.args) > p.lim.MaxSelect {
			return errAt(CodeTooComplex, c.at, "select has more than %d paths", p.lim.MaxSelect)
		}
		for _, a := range c.args {
			path, err := p.path(a)
			if err != nil {
				return err
			}
			q.Select = append(q.Select, path)
		}
	case OpSort:
		if len(c.args) == 0 {
			return errAt(CodeSyntax, c.at, "sort needs at least one key")
		}
		if len(c.args) > p.lim.MaxSortKeys {
			return errAt(CodeTooComplex, c.at, "sort has more than %d keys", p.lim.MaxSortKeys)
		}
		for _, a := range c.args {
			desc := false
			if a.tok != nil && a.tok.text != "" && (a.tok.text[0] == '-' || a.tok.text[0] == '+') {
				desc = a.tok.text[0] == '-'
				t := rawTok{text: a.tok.text[1:], at: a.tok.at + 1}
				a = rawArg{tok: &t, at: t.at}
			}
			path, err := p.path(a)
			if err != nil {
				return err
			}
			q.Sort = append(q.Sort, SortKey{Path: path, Desc: desc})
		}
	case OpLimit:
		if len(c.args) < 1 || len(c.args) > 2 {
			return errAt(CodeSyntax, c.at, "limit takes a count and an optional offset: limit(20) or limit(20,40)")
		}
		n, err := p.count(c.args[0], "limit")
		if err != nil {
			return err
		}
		if n < 1 {
			return errAt(CodeInvalidValue, c.args[0].at, "The limit must be at least 1")
		}
		q.Limit, q.HasLimit = n, true
		if len(c.args) == 2 {
			off, err := p.count(c.args[1], "offset")
			if err != nil {
				return err
			}
			if off > p.lim.MaxOffset {
				return errAt(CodeInvalidValue, c.args[1].at, "The offset must not exceed %d", p.lim.MaxOffset)
			}
			q.Offset = off
		}
	case OpSkipCount:
		if len(c.args) != 0 {
			return errAt(CodeSyntax, c.at, "skipCount takes no arguments")
		}
		q.SkipCount = true
	}
	return nil
}

func (p *parser) count(a rawArg, what string) (int, error) {
	if a.tok == nil {
		return 0, errAt(CodeSyntax, a.at, "The %s must be a number", what)
	}
	s := a.tok.text
	if s == "" || len(s) > 9 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errAt(CodeInvalidValue, a.at, "The %s must be a whole number of at most 9 digits", what)
	}
	n, _ := strconv.Atoi(s)
	return n, nil
}

// path reads a dotted path argument.
func (p *parser) path(a rawArg) (Path, error) {
	if a.tok == nil {
		return Path{}, errAt(CodeSyntax, a.at, "Expected a field path")
	}
	s, err := unescape(a.tok.text, a.tok.at)
	if err != nil {
		return Path{}, err
	}
	if s == "" {
		return Path{}, errAt(CodeSyntax, a.at, "Expected a field path")
	}
	if len(s) > p.lim.MaxValueBytes {
		return Path{}, errAt(CodeTooComplex, a.at, "A path is longer than %d bytes", p.lim.MaxValueBytes)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return Path{}, errAt(CodeSyntax, a.at, "A path must be valid UTF-8 without NUL")
	}
	parts := strings.Split(s, ".")
	if len(parts) > p.lim.MaxPathParts {
		return Path{}, errAt(CodeTooComplex, a.at, "A path has more than %d parts", p.lim.MaxPathParts)
	}
	for _, part := range parts {
		if part == "" {
			return Path{}, errAt(CodeSyntax, a.at, "A path has an empty part")
		}
	}
	return Path{Parts: parts, At: a.at}, nil
}

// cond interprets a condition call.
func (p *parser) cond(c *rawCall) (Node, error) {
	op := Op(c.name)
	switch op {
	case OpAnd, OpOr:
		if len(c.args) == 0 {
			return nil, errAt(CodeSyntax, c.at, "%s needs at least one condition", c.name)
		}
		n := &Logic{Op: op, At: c.at}
		for _, a := range c.args {
			if a.call == nil {
				return nil, errAt(CodeSyntax, a.at, "%s takes conditions such as eq(…), not values", c.name)
			}
			t, err := p.cond(a.call)
			if err != nil {
				return nil, err
			}
			n.Terms = append(n.Terms, t)
		}
		return n, nil
	case OpEq, OpNe, OpGt, OpGe, OpLt, OpLe, OpLike:
		if len(c.args) != 2 {
			return nil, errAt(CodeSyntax, c.at, "%s takes a path and a value: %s(field,value)", c.name, c.name)
		}
		path, err := p.path(c.args[0])
		if err != nil {
			return nil, err
		}
		v, err := p.value(c.args[1])
		if err != nil {
			return nil, err
		}
		return &Compare{Op: op, Path: path, Values: []Value{v}, At: c.at}, nil
	case OpIn, OpOut:
		if len(c.args) < 2 {
			return nil, errAt(CodeSyntax, c.at, "%s takes a path and values: %s(field,a,b) or %s(field,(a,b))", c.name, c.name, c.name)
		}
		path, err := p.path(c.args[0])
		if err != nil {
			return nil, err
		}
		vals, err := p.values(c.args[1:])
		if err != nil {
			return nil, err
		}
		return &Compare{Op: op, Path: path, Values: vals, At: c.at}, nil
	case OpContains, OpExcludes:
		if len(c.args) < 1 {
			return nil, errAt(CodeSyntax, c.at, "%s takes a path and an optional condition", c.name)
		}
		path, err := p.path(c.args[0])
		if err != nil {
			return nil, err
		}
		n := &Has{Op: op, Path: path, At: c.at}
		rest := c.args[1:]
		if len(rest) == 1 && rest[0].call != nil {
			if n.Cond, err = p.cond(rest[0].call); err != nil {
				return nil, err
			}
			return n, nil
		}
		if len(rest) > 0 {
			if n.Values, err = p.values(rest); err != nil {
				return nil, err
			}
		}
		return n, nil
	case OpSelect, OpSort, OpLimit, OpSkipCount:
		return nil, errAt(CodeSyntax, c.at, "%s belongs at the top level of the query", c.name)
	}
	return nil, errAt(CodeSyntax, c.at, "Unknown operator %q%s", c.name, suggest(c.name, operatorNames))
}

var operatorNames = []string{"eq", "ne", "gt", "ge", "lt", "le", "in", "out", "like", "contains", "excludes", "and", "or", "select", "sort", "limit", "skipCount"}

func (p *parser) values(args []rawArg) ([]Value, error) {
	var out []Value
	for _, a := range args {
		if a.list != nil {
			for _, t := range a.list {
				v, err := p.value(rawArg{tok: &t, at: t.at})
				if err != nil {
					return nil, err
				}
				out = append(out, v)
			}
		} else {
			v, err := p.value(a)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if len(out) > p.lim.MaxValues {
			return nil, errAt(CodeTooComplex, a.at, "More than %d values", p.lim.MaxValues)
		}
	}
	return out, nil
}

var (
	numberRE   = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)
	dateRE     = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	dateTimeRE = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$`)
)

// value decodes a value argument and guesses its kind.
func (p *parser) value(a rawArg) (Value, error) {
	if a.tok == nil {
		if a.call != nil {
			return Value{}, errAt(CodeSyntax, a.at, "Expected a value, found the operator %q", a.call.name)
		}
		return Value{}, errAt(CodeSyntax, a.at, "Expected a value, found a list")
	}
	s, err := unescape(a.tok.text, a.tok.at)
	if err != nil {
		return Value{}, err
	}
	if len(s) > p.lim.MaxValueBytes {
		return Value{}, errAt(CodeTooComplex, a.at, "A value is longer than %d bytes", p.lim.MaxValueBytes)
	}
	if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
		return Value{}, errAt(CodeInvalidValue, a.at, "A value must be valid UTF-8 without NUL")
	}
	return guess(s, a.at), nil
}

// guess types a decoded value.
func guess(s string, at int) Value {
	if rest, ok := strings.CutPrefix(s, "string:"); ok {
		return Value{Kind: KindString, Text: rest, Forced: true, At: at}
	}
	v := Value{Kind: KindString, Text: s, At: at}
	switch {
	case s == "null":
		v.Kind = KindNull
	case s == "true" || s == "false":
		v.Kind = KindBool
	case numberRE.MatchString(s):
		v.Kind = KindNumber
	case dateRE.MatchString(s):
		if _, err := time.Parse(time.DateOnly, s); err == nil {
			v.Kind = KindDate
		}
	case dateTimeRE.MatchString(s):
		if _, err := time.Parse(time.RFC3339Nano, s); err == nil {
			v.Kind = KindDateTime
		}
	}
	return v
}

// suggest returns ` (did you mean "x"?)` for the candidate nearest to name,
// or "" when none is near.
func suggest(name string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := distance(strings.ToLower(name), strings.ToLower(c))
		if d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(name)/3) {
		return ""
	}
	return ` (did you mean "` + best + `"?)`
}

// distance is the Levenshtein distance of a and b (in runes), bounded: the
// names compared are field names, and a long input is never near one.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	return levenshtein.Distance(a, b, nil)
}
