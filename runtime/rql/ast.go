package rql

import "strings"

// Op is an RQL operator. The set is closed: the parser accepts no other.
type Op string

// Operators.
const (
	OpEq        Op = "eq"
	OpNe        Op = "ne"
	OpGt        Op = "gt"
	OpGe        Op = "ge"
	OpLt        Op = "lt"
	OpLe        Op = "le"
	OpIn        Op = "in"
	OpOut       Op = "out"
	OpLike      Op = "like"
	OpContains  Op = "contains"
	OpExcludes  Op = "excludes"
	OpAnd       Op = "and"
	OpOr        Op = "or"
	OpSelect    Op = "select"
	OpSort      Op = "sort"
	OpLimit     Op = "limit"
	OpSkipCount Op = "skipCount"
)

// Query is a parsed RQL query.
type Query struct {
	Filter    Node // nil when the query has no condition
	Select    []Path
	Sort      []SortKey
	Limit     int // 0: not given
	Offset    int
	HasLimit  bool
	SkipCount bool
}

// Empty reports whether the query holds nothing at all.
func (q *Query) Empty() bool {
	return q == nil || (q.Filter == nil && len(q.Select) == 0 && len(q.Sort) == 0 && !q.HasLimit && !q.SkipCount)
}

// Node is a condition: *Logic, *Compare or *Has.
type Node interface {
	// Pos is the byte offset of the node in the raw query string.
	Pos() int
}

// Logic is and(…) / or(…); the top-level `&` is an and.
type Logic struct {
	Op    Op // OpAnd, OpOr
	Terms []Node
	At    int
}

// Compare is eq ne gt ge lt le in out like.
type Compare struct {
	Op     Op
	Path   Path
	Values []Value // one, except for in and out
	At     int
}

// Has is contains / excludes: with Cond nil and no Values, the property
// (or array index) exists / does not; with Cond, some / no element of an
// array of objects matches it; with Values, the array holds / lacks them
// (as eq / ne).
type Has struct {
	Op     Op // OpContains, OpExcludes
	Path   Path
	Cond   Node
	Values []Value
	At     int
}

func (n *Logic) Pos() int   { return n.At }
func (n *Compare) Pos() int { return n.At }
func (n *Has) Pos() int     { return n.At }

// Path is a dotted field path, decoded.
type Path struct {
	Parts []string
	At    int
}

func (p Path) String() string { return strings.Join(p.Parts, ".") }

// SortKey is one key of sort(…).
type SortKey struct {
	Path Path
	Desc bool
}

// Kind is the guessed type of a value.
type Kind int

// Value kinds.
const (
	KindString Kind = iota
	KindNumber
	KindBool
	KindNull
	KindDate
	KindDateTime
)

func (k Kind) String() string {
	return [...]string{"string", "number", "boolean", "null", "date", "date-time"}[k]
}

// Value is a decoded value and its guessed kind. Text is the decoded
// text (without a `string:` prefix); Forced is set when `string:` was given.
type Value struct {
	Kind   Kind
	Text   string
	Forced bool
	At     int
}
