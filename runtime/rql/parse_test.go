package rql

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, raw string
		check     func(t *testing.T, q *Query)
	}{
		{"empty", "", func(t *testing.T, q *Query) {
			if !q.Empty() {
				t.Errorf("not empty: %+v", q)
			}
		}},
		{"top-level and", "eq(a,1)&gt(b,2)&", func(t *testing.T, q *Query) {
			l, ok := q.Filter.(*Logic)
			if !ok || l.Op != OpAnd || len(l.Terms) != 2 {
				t.Fatalf("filter %#v", q.Filter)
			}
		}},
		{"typing", "in(a,null,true,-1.5e3,2026-01-31,2026-01-31T10:00:00Z,string:5,007,x)", func(t *testing.T, q *Query) {
			want := []Kind{KindNull, KindBool, KindNumber, KindDate, KindDateTime, KindString, KindString, KindString}
			vals := q.Filter.(*Compare).Values
			if len(vals) != len(want) {
				t.Fatalf("values %v", vals)
			}
			for i, k := range want {
				if vals[i].Kind != k {
					t.Errorf("value %d %q: kind %v, want %v", i, vals[i].Text, vals[i].Kind, k)
				}
			}
			if vals[5].Text != "5" || !vals[5].Forced {
				t.Errorf("string: value %+v", vals[5])
			}
		}},
		{"double encoding", "eq(note,a%2528b%252C%2526c)", func(t *testing.T, q *Query) {
			if got := q.Filter.(*Compare).Values[0].Text; got != "a(b,&c" {
				t.Errorf("value %q", got)
			}
		}},
		{"single-encoded structure", "eq%28note%2Cx%29", func(t *testing.T, q *Query) {
			if c := q.Filter.(*Compare); c.Path.String() != "note" || c.Values[0].Text != "x" {
				t.Errorf("compare %+v", c)
			}
		}},
		{"list form of in", "out(tags,(a,b))", func(t *testing.T, q *Query) {
			if n := len(q.Filter.(*Compare).Values); n != 2 {
				t.Errorf("%d values", n)
			}
		}},
		{"directives", "select(a,b.c)&sort(-a,+b,c)&limit(10,30)&skipCount()", func(t *testing.T, q *Query) {
			if len(q.Select) != 2 || len(q.Sort) != 3 || !q.Sort[0].Desc || q.Sort[1].Desc || q.Limit != 10 || q.Offset != 30 || !q.SkipCount {
				t.Errorf("query %+v", q)
			}
		}},
		{"nested", "or(and(eq(a,1),contains(s,eq(x,2))),excludes(t.1))", func(t *testing.T, q *Query) {
			if l := q.Filter.(*Logic); l.Op != OpOr || len(l.Terms) != 2 {
				t.Errorf("filter %+v", l)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, q)
		})
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat("and(", 10) + "eq(a,1)" + strings.Repeat(")", 10)
	many := strings.Repeat("eq(a,1)&", 65)
	tests := []struct {
		raw  string
		code string
		pos  int
	}{
		{"eq(a,1", CodeSyntax, 6},
		{"eq(a,1))", CodeSyntax, 7},
		{"(a,1)", CodeSyntax, 0},
		{"eq a", CodeSyntax, 2},
		{"foo(a,1)", CodeSyntax, 0},
		{"eq(a)", CodeSyntax, 0},
		{"eq(a,b,c)", CodeSyntax, 0},
		{"and(x)", CodeSyntax, 4},
		{"and(eq(a,1),limit(3))", CodeSyntax, 12},
		{"eq(a,%zz)", CodeSyntax, 5},
		{"eq(a,%25zz)", CodeSyntax, 5},
		{"eq(a,%2500)", CodeInvalidValue, 5},
		{"eq(a,%25ff)", CodeInvalidValue, 5},
		{"eq(a..b,1)", CodeSyntax, 3},
		{"limit(0)", CodeInvalidValue, 6},
		{"limit(x)", CodeInvalidValue, 6},
		{"limit(10,100001)", CodeInvalidValue, 9},
		{"sort(a)&sort(b)", CodeSyntax, 8},
		{"sort(a,b,c,d,e,f)", CodeTooComplex, 0},
		{deep, CodeTooComplex, 32},
		{many, CodeTooComplex, 512},
		{"eq(a,1)eq(b,2)", CodeSyntax, 7},
		{"skipCount(1)", CodeSyntax, 0},
	}
	for _, tt := range tests {
		t.Run(tt.raw[:min(len(tt.raw), 30)], func(t *testing.T) {
			t.Parallel()
			_, err := Parse(tt.raw)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want *Error", tt.raw, err)
			}
			if e.Code != tt.code || e.Pos != tt.pos {
				t.Errorf("Parse(%q) = %s (code %s, pos %d), want code %s pos %d", tt.raw, e, e.Code, e.Pos, tt.code, tt.pos)
			}
		})
	}
}
