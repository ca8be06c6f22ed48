package strictjson

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// disagreement returns "" when Check and Parse agree on data: both accept
// it, or both reject it with an *Error of the same code, message and
// pointer. Otherwise it says how they differ.
func disagreement(data []byte) string {
	_, perr := Parse(data)
	cerr := Check(data)
	if (perr == nil) != (cerr == nil) {
		return fmt.Sprintf("on %s: Parse says %v, Check says %v", abbrev(data), perr, cerr)
	}
	if perr == nil {
		return ""
	}
	var pe, ce *Error
	if !errors.As(perr, &pe) || !errors.As(cerr, &ce) {
		return fmt.Sprintf("on %s: errors of type %T (Parse) and %T (Check)", abbrev(data), perr, cerr)
	}
	if pe.Code != ce.Code || pe.Message != ce.Message || pe.Pointer() != ce.Pointer() {
		return fmt.Sprintf("on %s: Parse fails with %s %q at %q, Check with %s %q at %q", abbrev(data),
			pe.Code, pe.Message, pe.Pointer(), ce.Code, ce.Message, ce.Pointer())
	}
	return ""
}

func abbrev(data []byte) string {
	if len(data) > 200 {
		return fmt.Sprintf("%q… (%d bytes)", data[:200], len(data))
	}
	return fmt.Sprintf("%q", data)
}

// manyMembers returns an object with n members named k0, k1, … (every
// third name written with a \u escape), each holding an object with an
// escaped name. When 1 < dup < n, member dup is named k1 again.
func manyMembers(n, dup int) string {
	var b strings.Builder
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		name := `k` + strconv.Itoa(i)
		switch {
		case i == dup && dup > 1:
			name = `\u006b1`
		case i%3 == 0:
			name = `\u006b` + strconv.Itoa(i)
		}
		fmt.Fprintf(&b, `"%s":{"\u0078%d":[%d,"\u00e9"]}`, name, i, i)
	}
	b.WriteByte('}')
	return b.String()
}

// TestCheckAgreesWithParse runs every input of the Parse tests, the fuzz
// seeds, and inputs aimed at how Check remembers member names (few names
// compared one by one, many in a map, escaped names decoded into a shared
// buffer) through both, and wants the same verdict, code, message and
// pointer.
func TestCheckAgreesWithParse(t *testing.T) {
	t.Parallel()
	inputs := map[string]string{}
	for _, c := range parseCases() {
		inputs["parse: "+c.name] = c.in
	}
	for in, code := range codeCases() {
		inputs["code: "+code+" "+abbrev([]byte(in))] = in
	}
	for i, s := range fuzzSeeds() {
		inputs["seed "+strconv.Itoa(i)] = s
	}
	// then appends members to manyMembers(n, -1).
	then := func(n int, members string) string {
		return strings.TrimSuffix(manyMembers(n, -1), "}") + members
	}
	deepErr := `,"\u006bey":{"\u0061\u0062":{"\u0063":[1,}}}}`
	for name, in := range map[string]string{
		"escaped duplicate of a plain name":    `{"a":1,"\u0061":2}`,
		"plain duplicate of an escaped name":   `{"\u00e9":1,"é":2}`,
		"duplicate among few":                  manyMembers(linearNames, 5),
		"duplicate as the names overflow":      manyMembers(linearNames+1, linearNames),
		"duplicate among many":                 manyMembers(3*linearNames, 2*linearNames),
		"many distinct":                        manyMembers(5*linearNames, -1),
		"many, then an error deep inside":      then(2*linearNames, deepErr),
		"few, then an error deep inside":       then(2, deepErr),
		"many, then a duplicate escaped name":  then(2*linearNames, `,"\u006b0":1}`),
		"many, missing colon after an escape":  then(2*linearNames, `,"\u006bey" 1}`),
		"nested objects reuse names":           `{"a":{"a":{"a":1},"b":{"a":2}},"b":{"a":3},"c":[{"a":1},{"a":2}]}`,
		"sibling arrays of objects":            `[{"a":1,"b":2},{"b":1,"a":2},{"a":1,"a":2}]`,
		"duplicate after a nested duplicate":   `{"x":{"y":1},"z":{"y":1,"y":2}}`,
		"duplicate empty names":                `{"":1,"":2}`,
		"name with escaped quote and slash":    `{"a\"b/c~":1,"a\u0022b\/c~":2}`,
		"surrogate pair name":                  `{"\ud83d\ude00":1,"😀":2}`,
		"bad surrogate in a name":              `{"\ud83d\u0041":1}`,
		"NUL escape in a name":                 `{"a\u0000":1}`,
		"unterminated name":                    `{"abc`,
		"unterminated escaped name":            `{"a\u0062`,
		"control character in a name":          "{\"a\tb\":1}",
		"error after an escaped value string":  `{"a":"\u00e9\n","b":tru}`,
		"number errors in objects":             `{"a":[1,2,{"b":-}]}`,
		"missing comma":                        `{"a":1 "b":2}`,
		"missing bracket":                      `[1 2]`,
		"many members then unterminated":       then(3*linearNames, ""),
		"names across nesting levels overflow": `{"o":` + manyMembers(2*linearNames, -1) + `,"p":` + manyMembers(linearNames+3, linearNames+2) + `}`,
	} {
		inputs[name] = in
	}
	for name, in := range inputs {
		if d := disagreement([]byte(in)); d != "" {
			t.Errorf("%s: %s", name, d)
		}
	}
	// Spot-check that the aimed inputs do what their names say.
	for in, want := range map[string]string{
		manyMembers(3*linearNames, 2*linearNames): "/k1",
		manyMembers(linearNames+1, linearNames):   "/k1",
		then(2*linearNames, deepErr):              "/key/ab/c/1",
		then(2*linearNames, `,"\u006b0":1}`):      "/k0",
	} {
		var se *Error
		if err := Check([]byte(in)); !errors.As(err, &se) || se.Pointer() != want {
			t.Errorf("Check(%s) = %v, want an error at %s", abbrev([]byte(in)), err, want)
		}
	}
	if err := Check([]byte(manyMembers(5*linearNames, -1))); err != nil {
		t.Errorf("many distinct names: %v", err)
	}
}

// bigBodies returns ~1 MiB bodies of many small values: the shapes that
// cost Parse most per byte.
func bigBodies() map[string][]byte {
	const size = 1 << 20
	ones := append(append([]byte{'['}, bytes.Repeat([]byte("1,"), size/2-1)...), '1', ']')
	obj := []byte(`{"a":1,"b":"x\u00e9","\u0063":[true,null],"d":{"e":-1.5e3}},`)
	objects := append([]byte{'['}, bytes.Repeat(obj, size/len(obj))...)
	objects[len(objects)-1] = ']'
	return map[string][]byte{"[1,1,…]": ones, "[{…},{…},…]": objects}
}

// TestIN3_CheckAllocatesLittle checks that Check of a 1 MiB body of many
// small values allocates next to nothing, where Parse builds a tree many
// times the body's size: the server checks every JSON body of every
// request, authenticated or not.
//
// Not parallel: it measures the process's allocations (runtime.MemStats),
// to which parallel tests would add theirs.
func TestIN3_CheckAllocatesLittle(t *testing.T) {
	const limit = 64 << 10
	for name, body := range bigBodies() {
		if err := Check(body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check := allocated(func() { _ = Check(body) })
		parse := allocated(func() { _, _ = Parse(body) })
		t.Logf("%s (%d bytes): Check allocated %d bytes, Parse %d", name, len(body), check, parse)
		if check >= limit {
			t.Errorf("%s: Check allocated %d bytes, want < %d", name, check, limit)
		}
		if parse < uint64(len(body)) {
			t.Errorf("%s: Parse allocated only %d bytes: is the measurement broken?", name, parse)
		}
	}
}

// allocated returns how many bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func BenchmarkCheck(b *testing.B) {
	for name, body := range bigBodies() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				_ = Check(body)
			}
		})
	}
}
