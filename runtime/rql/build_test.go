package rql

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// strip zeroes the positions of a parsed query, to compare its shape.
func strip(q *Query) *Query {
	var node func(n Node) Node
	value := func(vs []Value) []Value {
		for i := range vs {
			vs[i].At = 0
		}
		return vs
	}
	node = func(n Node) Node {
		switch n := n.(type) {
		case *Logic:
			n.At = 0
			for i, t := range n.Terms {
				n.Terms[i] = node(t)
			}
		case *Compare:
			n.At, n.Path.At = 0, 0
			value(n.Values)
		case *Has:
			n.At, n.Path.At = 0, 0
			value(n.Values)
			if n.Cond != nil {
				n.Cond = node(n.Cond)
			}
		}
		return n
	}
	if q.Filter != nil {
		q.Filter = node(q.Filter)
	}
	for i := range q.Select {
		q.Select[i].At = 0
	}
	for i := range q.Sort {
		q.Sort[i].Path.At = 0
	}
	return q
}

func path(s string) Path { return Path{Parts: strings.Split(s, ".")} }

func str(s string, forced bool) Value { return Value{Kind: KindString, Text: s, Forced: forced} }

func cmp(op Op, p string, vs ...Value) *Compare { return &Compare{Op: op, Path: path(p), Values: vs} }

// TestBuilderRoundTrip: what the builder writes parses back to the query
// it describes, for values that need care.
func TestBuilderRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 1, 31, 8, 30, 0, 123456000, time.FixedZone("CET", 3600))
	id := uuid.MustParse("0b7e8f5e-1c2d-4e3f-8a9b-0c1d2e3f4a5b")
	for name, tc := range map[string]struct {
		b    Builder
		want *Query
	}{
		"structure characters": {Eq("note", "a (b), c & d = e % f + g; ?#/").Query(),
			&Query{Filter: cmp(OpEq, "note", str("a (b), c & d = e % f + g; ?#/", false))}},
		"string: prefix kept": {Eq("note", "string:x").Query(),
			&Query{Filter: cmp(OpEq, "note", str("string:x", true))}},
		"number-like string": {Eq("code", "140").Query(), &Query{Filter: cmp(OpEq, "code", str("140", true))}},
		"keyword-like strings": {In("code", "null", "true", "2026-01-31", "").Query(),
			&Query{Filter: cmp(OpIn, "code", str("null", true), str("true", true), str("2026-01-31", true), str("", true))}},
		"unicode": {Like("name", "Zoë ʼ 🩺 ü").Query(), &Query{Filter: cmp(OpLike, "name", str("Zoë ʼ 🩺 ü", false))}},
		"typed values": {And(Eq("n", 140), Gt("x", -1.5e-7), Eq("b", true), Ne("z", nil), Le("u", uint64(18446744073709551615))).Query(),
			&Query{Filter: &Logic{Op: OpAnd, Terms: []Node{
				cmp(OpEq, "n", Value{Kind: KindNumber, Text: "140"}),
				cmp(OpGt, "x", Value{Kind: KindNumber, Text: "-1.5e-07"}),
				cmp(OpEq, "b", Value{Kind: KindBool, Text: "true"}),
				cmp(OpNe, "z", Value{Kind: KindNull, Text: "null"}),
				cmp(OpLe, "u", Value{Kind: KindNumber, Text: "18446744073709551615"}),
			}}}},
		"dates": {Or(Ge("taken_at", at), Lt("day", DateOf(2026, time.February, 1)), Eq("id", id)).Query(),
			&Query{Filter: &Logic{Op: OpOr, Terms: []Node{
				cmp(OpGe, "taken_at", Value{Kind: KindDateTime, Text: "2026-01-31T08:30:00.123456+01:00"}),
				cmp(OpLt, "day", Value{Kind: KindDate, Text: "2026-02-01"}),
				cmp(OpEq, "id", str(id.String(), false)),
			}}}},
		"in with commas and parentheses": {Out("tags", "a,b", "(c)", ")").Query(),
			&Query{Filter: cmp(OpOut, "tags", str("a,b", false), str("(c)", false), str(")", false))}},
		"contains": {And(Contains("device.serial"), ExcludesWhere("samples", Eq("flag", "odd,(x)"))).Query(),
			&Query{Filter: &Logic{Op: OpAnd, Terms: []Node{
				&Has{Op: OpContains, Path: path("device.serial")},
				&Has{Op: OpExcludes, Path: path("samples"), Cond: cmp(OpEq, "flag", str("odd,(x)", false))},
			}}}},
		"the whole query": {Eq("systolic", 140).And(Gt("taken_at", at)).Sort("-taken_at", "+arm", "id").Select("systolic", "arm").Page(20, 40).SkipCount(),
			&Query{
				Filter: &Logic{Op: OpAnd, Terms: []Node{
					cmp(OpEq, "systolic", Value{Kind: KindNumber, Text: "140"}),
					cmp(OpGt, "taken_at", Value{Kind: KindDateTime, Text: "2026-01-31T08:30:00.123456+01:00"}),
				}},
				Select: []Path{path("systolic"), path("arm")},
				Sort:   []SortKey{{Path: path("taken_at"), Desc: true}, {Path: path("arm")}, {Path: path("id")}},
				Limit:  20, Offset: 40, HasLimit: true, SkipCount: true,
			}},
		"where adds terms": {Where(Eq("a", "x")).Where(Eq("b", "y")).Limit(5),
			&Query{Filter: &Logic{Op: OpAnd, Terms: []Node{cmp(OpEq, "a", str("x", false)), cmp(OpEq, "b", str("y", false))}},
				Limit: 5, HasLimit: true}},
		"empty": {Builder{}, &Query{}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			raw := tc.b.String()
			q, err := Parse(raw)
			if err != nil {
				t.Fatalf("parse %q: %v", raw, err)
			}
			if got := strip(q); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s parses to\n%#v\nwant\n%#v", raw, got, tc.want)
			}
		})
	}
}

func TestBuilderCopies(t *testing.T) {
	t.Parallel()
	base := Where(Eq("a", 1)).Sort("x")
	one, two := base.Sort("y"), base.Where(Eq("b", 2))
	if base.String() != "eq(a,1)&sort(x)" || one.String() != "eq(a,1)&sort(x,y)" || two.String() != "eq(a,1)&eq(b,2)&sort(x)" {
		t.Fatalf("%s | %s | %s", base, one, two)
	}
}

// FuzzBuilderString: any valid text survives the builder as a string value.
func FuzzBuilderString(f *testing.F) {
	for _, s := range []string{"", "a (b)", "%25", "string:", "1e5", "null", "Zoë", "'--/*$$", "\u02bc", "&=+#?", "2026-01-31T00:00:00Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) || len(s) > DefaultLimits().MaxValueBytes-len("string:") {
			return
		}
		raw := Eq("f", s).String()
		q, err := Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		c, ok := q.Filter.(*Compare)
		if !ok || len(c.Values) != 1 || c.Values[0].Kind != KindString || c.Values[0].Text != s || c.Path.String() != "f" {
			t.Fatalf("%q → %q → %#v", s, raw, q.Filter)
		}
	})
}
