package rql

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// seeds are queries the fuzzers start from: valid ones of every shape and
// SQL injection attempts (IN-4) in paths, values and operator names, raw
// and percent-encoded once and twice.
var seeds = []string{
	"",
	"eq(systolic,120)&sort(-taken_at)&limit(20,40)&skipCount()",
	"and(gt(systolic,140),or(eq(note,x),like(device.serial,bp)))",
	"in(tags,(a,b))&out(samples.flag,ok,low)&select(note,device.serial)",
	"contains(samples,and(eq(flag,ok),gt(p,85)))&excludes(tags.1)&contains(user_ids.0)",
	"eq(note,string:140)&eq(taken_at,2026-01-01T00:00:00Z)&eq(born,2026-01-01)&eq(ok,true)&eq(weight,null)",
	"eq(note,a%2528b%252C%2526c)",
	"eq(note,')",
	"eq(note,'; DROP TABLE data_reading; --)",
	"eq(note,%27%3B%20DROP%20TABLE%20x%3B--)",
	"eq(note,%2527%253B--)",
	"eq(note,x/*y*/)",
	"eq(note,$$x$$)",
	"eq(note,\u02bc or 1=1)",
	"eq(note,a\x00b)",
	"eq(note,a%00b)",
	"eq(note,a%2500b)",
	"eq(note\",x)",
	"eq(device.serial\"--,x)",
	"sort(-note\")&select(\"x)",
	"eq(device.'x,1)",
	"like(note,%25_\\)",
	"eq(systolic,1e400)",
	"gt(systolic,-99999999999999999999.5)",
	"eq(tags.99999999,x)",
	"eq($1,x)",
	"contains(samples,contains(x,eq(y,1)))",
}

func FuzzParse(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := Parse(raw)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q): %v is not an *Error", raw, err)
			}
			if e.Pos < -1 || e.Pos > len(raw) {
				t.Fatalf("Parse(%q): position %d outside the query", raw, e.Pos)
			}
			return
		}
		if q == nil {
			t.Fatal("nil query without error")
		}
	})
}

func FuzzCompile(f *testing.F) {
	for _, s := range seeds {
		f.Add(s)
	}
	s, err := FromModel(testModel())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := Parse(raw)
		if err != nil {
			return
		}
		c, err := s.Compile(q, 3)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Compile(%q): %v is not an *Error", raw, err)
			}
			return
		}
		if err := checkSQL(s, c.Where+" ORDER BY "+c.OrderBy, 3, len(c.Args)); err != nil {
			t.Fatalf("Compile(%q): %v\nWHERE %s ORDER BY %s", raw, err, c.Where, c.OrderBy)
		}
	})
}

// TestIN4_UserBytesOnlyInArgs runs the seeds through the SQL check.
func TestIN4_UserBytesOnlyInArgs(t *testing.T) {
	t.Parallel()
	s, err := FromModel(testModel())
	if err != nil {
		t.Fatal(err)
	}
	compiled := 0
	for _, raw := range seeds {
		q, err := Parse(raw)
		if err != nil {
			continue
		}
		c, err := s.Compile(q, 3)
		if err != nil {
			continue
		}
		compiled++
		if err := checkSQL(s, c.Where+" ORDER BY "+c.OrderBy, 3, len(c.Args)); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
	if compiled < 8 {
		t.Errorf("only %d seeds compiled", compiled)
	}
}

// sqlWords are all the bare words the compiler writes.
var sqlWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`AND OR NOT TRUE FALSE IS NULL DISTINCT FROM coalesce ANY ARRAY ILIKE
		EXISTS SELECT AS WHERE ORDER BY ASC DESC jsonb_path_exists jsonb_path_query unnest cardinality v
		text bigint integer smallint numeric double precision real boolean timestamptz date uuid jsonb jsonpath`) {
		sqlWords[w] = true
	}
}

var (
	tokenRE   = regexp.MustCompile(`^(?:"(?:[^"]|"")*"|\$[0-9]+|[A-Za-z_][A-Za-z0-9_]*|[()\[\],.:=<>!@&#* ]+)`)
	aliasRE   = regexp.MustCompile(`^exh_j[0-9]+$`)
	forbidden = []string{"'", "--", "/*", ";", "$$", "\x00", "\u02bc"}
)

// checkSQL proves that sql holds no user bytes: it is made only of the
// compiler's own words and punctuation, the schema's quoted identifiers
// and placeholders $first…$first+nargs-1.
func checkSQL(s *Schema, sql string, first, nargs int) error {
	for _, f := range forbidden {
		if strings.Contains(sql, f) {
			return fmt.Errorf("SQL contains %q", f)
		}
	}
	idents := map[string]bool{}
	for _, f := range s.Fields {
		idents[quoteIdent(f.Column)] = true
	}
	for rest := sql; rest != ""; {
		tok := tokenRE.FindString(rest)
		if tok == "" {
			return fmt.Errorf("unexpected text %q", rest[:min(len(rest), 20)])
		}
		rest = rest[len(tok):]
		switch {
		case tok[0] == '"':
			if !idents[tok] {
				return fmt.Errorf("identifier %s is not a schema column", tok)
			}
		case tok[0] == '$':
			n, _ := strconv.Atoi(tok[1:])
			if n < first || n >= first+nargs {
				return fmt.Errorf("placeholder %s without an argument", tok)
			}
		case tok[0] == '_' || tok[0] >= 'A' && tok[0] <= 'z' && tok[0] != '[' && tok[0] != ']':
			if !sqlWords[tok] && !aliasRE.MatchString(tok) {
				return fmt.Errorf("word %q is not the compiler's", tok)
			}
		}
	}
	return nil
}

// TestCheckSQLRejects shows the check would catch user bytes.
func TestCheckSQLRejects(t *testing.T) {
	t.Parallel()
	s, err := FromModel(testModel())
	if err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{`"note" = 'x'`, `"note" = x`, `"nope" = $3`, `"note" = $4`, `"note" = $3; --`} {
		if checkSQL(s, sql, 3, 1) == nil {
			t.Errorf("checkSQL accepted %s", sql)
		}
	}
	if err := checkSQL(s, `"note" = $3::text`, 3, 1); err != nil {
		t.Errorf("checkSQL rejected good SQL: %v", err)
	}
}
