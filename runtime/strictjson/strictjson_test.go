package strictjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

type parseCase struct {
	name    string
	in      string
	want    any
	wantErr string // substring of the message; "" means success
	ptr     string
}

// parseCases are TestParse's inputs; TestCheckAgreesWithParse runs them
// through Check too.
func parseCases() []parseCase {
	return []parseCase{
		{name: "object", in: ` {"a":1,"b":[true,false,null],"c":{"d":"e"}} `, want: map[string]any{
			"a": json.Number("1"), "b": []any{true, false, nil}, "c": map[string]any{"d": "e"}}},
		{name: "numbers", in: `[0,-0,1.5,-2e10,3E+2,4e-2,12345678901234567890123]`, want: []any{
			json.Number("0"), json.Number("-0"), json.Number("1.5"), json.Number("-2e10"), json.Number("3E+2"),
			json.Number("4e-2"), json.Number("12345678901234567890123")}},
		{name: "escapes", in: `"a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00"`, want: "a\"b\\c/d\b\f\n\r\té😀"},
		{name: "empty containers", in: `[{},[]]`, want: []any{map[string]any{}, []any{}}},
		{name: "NUL escape", in: `{"a":["x","\u0000"]}`, wantErr: "U+0000", ptr: "/a/1"},
		{name: "raw NUL", in: "\"a\x00\"", wantErr: "U+0000"},
		{name: "control", in: "\"a\nb\"", wantErr: "control character"},
		{name: "duplicate", in: `{"a":{"b~/":1,"b~/":2}}`, wantErr: "duplicate", ptr: "/a/b~0~1"},
		{name: "invalid UTF-8", in: "\"\xc3\x28\"", wantErr: "UTF-8"},
		{name: "lone high surrogate", in: `"\ud83d"`, wantErr: "surrogate"},
		{name: "lone low surrogate", in: `"\ude00x"`, wantErr: "surrogate"},
		{name: "bad escape", in: `"\x"`, wantErr: "escape"},
		{name: "bad unicode escape", in: `"\u12g4"`, wantErr: "escape"},
		{name: "trailing", in: `{} {}`, wantErr: "trailing"},
		{name: "trailing comma", in: `[1,]`, wantErr: "invalid character", ptr: "/1"},
		{name: "leading zero", in: `01`, wantErr: "trailing"},
		{name: "bare minus", in: `-`, wantErr: "number"},
		{name: "dot", in: `1.`, wantErr: "number"},
		{name: "exponent", in: `1e`, wantErr: "number"},
		{name: "literal", in: `nul`, wantErr: "literal"},
		{name: "unterminated", in: `"abc`, wantErr: "unterminated"},
		{name: "eof", in: `{"a":`, wantErr: "end of JSON", ptr: "/a"},
		{name: "empty", in: ``, wantErr: "end of JSON"},
		{name: "key not string", in: `{a:1}`, wantErr: "key"},
		{name: "deep ok", in: strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth), want: nest(MaxDepth)},
		{name: "too deep", in: strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), wantErr: "nesting", ptr: strings.Repeat("/0", MaxDepth)},
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tt := range parseCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse([]byte(tt.in))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("got %#v, want %#v", got, tt.want)
				}
				return
			}
			var se *Error
			if !errors.As(err, &se) || !strings.Contains(strings.ToLower(se.Message), strings.ToLower(tt.wantErr)) {
				t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
			}
			if se.Pointer() != tt.ptr {
				t.Fatalf("pointer %q, want %q", se.Pointer(), tt.ptr)
			}
		})
	}
}

func nest(n int) any {
	var v any = []any{}
	for range n - 1 {
		v = []any{v}
	}
	return v
}

// fuzzSeeds are FuzzParse's seed corpus.
func fuzzSeeds() []string {
	return []string{
		`{"systolic":120,"taken_at":"2026-11-26T08:00:00Z"}`, `[1,2,{"a":null}]`, `"\u0000"`, `{"a":1,"a":2}`,
		"\"\xff\"", `"\ud800"`, `1e400`, `-0.0e-0`, `{"'":"--","/*":"$$"}`, `"\u02bc"`, `[[[[]]]]`,
		`{"a":1,"\u0061":2}`, `{"\u00e9":{"\u00e9":[{"x\ny":1,"x\ny":2}]}}`, `{"a":{"b":1},"a":{}}`,
		manyMembers(40, 40), manyMembers(40, 3), manyMembers(3, 2),
	}
}

// FuzzParse checks Parse against encoding/json: whatever it
// accepts, encoding/json accepts with the same result; whatever it rejects
// is invalid JSON or one of the inputs it refuses on purpose.
//
// It also checks that Check agrees with Parse on every input: the same
// verdict, and for a rejection the same code, message and pointer.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data)
		if d := disagreement(data); d != "" {
			t.Fatal(d)
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		var want any
		stdErr := dec.Decode(&want)
		if stdErr == nil {
			if _, terr := dec.Token(); terr == nil {
				stdErr = errors.New("trailing data")
			}
		}
		if err != nil {
			var se *Error
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return // stricter than encoding/json is fine
		}
		if stdErr != nil {
			t.Fatalf("Parse accepted %q, encoding/json says %v", data, stdErr)
		}
		if !utf8.Valid(data) {
			t.Fatalf("accepted invalid UTF-8 %q", data)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("Parse(%q) = %#v, encoding/json %#v", data, got, want)
		}
	})
}

// codeCases maps inputs to the code Parse rejects them with.
func codeCases() map[string]string {
	return map[string]string{
		"\"\xff\"":              CodeInvalidUTF8,
		`{"a":1,"a":2}`:         CodeDuplicateKey,
		`"\u0000"`:              CodeNULCharacter,
		strings.Repeat("[", 65): CodeTooDeep,
		`{} x`:                  CodeTrailingData,
		`{"a":}`:                CodeInvalidJSON,
	}
}

func TestCodes(t *testing.T) {
	t.Parallel()
	for in, code := range codeCases() {
		for name, f := range map[string]func([]byte) error{
			"Parse": func(b []byte) error { _, err := Parse(b); return err },
			"Check": Check,
		} {
			err := f([]byte(in))
			var se *Error
			if !errors.As(err, &se) || se.Code != code {
				t.Errorf("%s(%q): %v, want code %s", name, in, err, code)
			}
		}
	}
}
