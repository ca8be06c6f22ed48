package breached

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// TestAUTH5_ListIsLargeSortedAndNormalised checks the invariants Contains
// relies on: at least 100,000 entries, strictly increasing (sorted, no
// duplicates), each already normalised.
func TestAUTH5_ListIsLargeSortedAndNormalised(t *testing.T) {
	t.Parallel()
	if n := Len(); n < 100_000 {
		t.Fatalf("list has %d entries, want >= 100000", n)
	}
	var prev []byte
	each(func(w []byte) {
		if prev != nil && bytes.Compare(prev, w) >= 0 {
			t.Fatalf("not strictly sorted: %q then %q", prev, w)
		}
		if Normalize(string(w)) != string(w) || !utf8.Valid(w) || utf8.RuneCount(w) < 8 {
			t.Fatalf("entry %q is not normalised", w)
		}
		prev = w
	})
}

func TestAUTH5_Contains(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"password":                        true,
		"PASSWORD":                        true, // case-insensitive
		"ｐａｓｓｗｏｒｄ":                        true, // fullwidth: NFKC
		"123456789987654321":              true,
		"1qaz2wsx3edc4rfv":                true,
		"qwertyuiopasdfghjkl":             true,
		"unlikely tangerine rhombus":      false,
		"correct horse battery staple":    false,
		"":                                false,
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz": false,
	}
	for pw, want := range tests {
		if got := Contains(pw); got != want {
			t.Errorf("Contains(%q) = %v, want %v", pw, got, want)
		}
	}
	// The first and last entries are found (bisection bounds).
	l := load()
	for _, i := range []int{0, len(l.starts) - 1} {
		if w := string(l.entry(i)); !Contains(w) {
			t.Errorf("entry %d (%q) not found", i, w)
		}
	}
}

func BenchmarkContains(b *testing.B) {
	load()
	for b.Loop() {
		Contains("correct horse battery staple")
	}
}
