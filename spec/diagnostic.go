package spec

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// sourceExtra rides in a diagnostic's Extra so that renderers given only
// the diagnostics can still show its source. It wraps whatever Extra hcl
// had set.
type sourceExtra struct {
	file    *hcl.File
	wrapped any
}

// UnwrapDiagnosticExtra implements hcl.DiagnosticExtraUnwrapper.
func (e *sourceExtra) UnwrapDiagnosticExtra() any { return e.wrapped }

// WithSources attaches to each diagnostic whose subject is in files that
// file's source, so that [WriteDiagnosticsJSON] can include a snippet. Load
// and LoadFiles do this for their own diagnostics; callers that build
// diagnostics over a loaded project's ranges can use it with
// Project.Files. It changes diags in place and returns them.
func WithSources(diags hcl.Diagnostics, files map[string]*hcl.File) hcl.Diagnostics {
	for _, d := range diags {
		if d == nil || d.Subject == nil {
			continue
		}
		if _, ok := hcl.DiagnosticExtra[*sourceExtra](d); ok {
			continue
		}
		if f := files[d.Subject.Filename]; f != nil {
			d.Extra = &sourceExtra{file: f, wrapped: d.Extra}
		}
	}
	return diags
}

// sourceFile returns the file a diagnostic's subject is in, from files or
// else from the diagnostic itself.
func sourceFile(files map[string]*hcl.File, d *hcl.Diagnostic) *hcl.File {
	if d.Subject == nil {
		return nil
	}
	if f := files[d.Subject.Filename]; f != nil && f.Bytes != nil {
		return f
	}
	if e, ok := hcl.DiagnosticExtra[*sourceExtra](d); ok && e.file.Bytes != nil {
		return e.file
	}
	return nil
}

func severityName(s hcl.DiagnosticSeverity) string {
	switch s {
	case hcl.DiagError:
		return "error"
	case hcl.DiagWarning:
		return "warning"
	}
	return "invalid"
}

// WriteDiagnostics writes diags for people, the way terraform does: each
// in a frame, with its summary, the source lines of its subject (a caret
// line under a single-line subject, so the range shows without colour) and
// its detail. files holds the sources by file name (Project.Files); a
// diagnostic whose file is missing from files uses the source attached by
// [WithSources], if any.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) error {
	var b bytes.Buffer
	idx := make(lineIndex)
	for _, d := range diags {
		if d == nil {
			continue
		}
		writeDiagnostic(&b, idx, files, d)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	return nil
}

func writeDiagnostic(b *bytes.Buffer, idx lineIndex, files map[string]*hcl.File, d *hcl.Diagnostic) {
	var lines []string
	sev := severityName(d.Severity)
	lines = append(lines, fmt.Sprintf("%s: %s", strings.ToUpper(sev[:1])+sev[1:], d.Summary), "")
	if d.Subject != nil {
		file := sourceFile(files, d)
		snip := makeSnippet(idx, file, *d.Subject, d.Context)
		where := fmt.Sprintf("  on %s line %d", d.Subject.Filename, d.Subject.Start.Line)
		if snip != nil && snip.context != "" {
			where += ", in " + snip.context
		}
		lines = append(lines, where+":")
		if snip == nil {
			lines = append(lines, "  (source code not available)")
		} else {
			for i, code := range snip.lines {
				number := fmt.Sprintf("%4d: ", snip.startLine+i)
				lines = append(lines, strings.TrimRight(number+code, " \t"))
				if i == snip.caretLine {
					lines = append(lines, strings.Repeat(" ", len(number))+snip.caret)
				}
			}
		}
		lines = append(lines, "")
	}
	if d.Detail != "" {
		lines = append(lines, strings.Split(sanitize([]byte(d.Detail), true), "\n")...)
	}
	for len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	b.WriteString("╷\n")
	for _, l := range lines {
		if l == "" {
			b.WriteString("│\n")
			continue
		}
		b.WriteString("│ ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("╵\n")
}

// WriteDiagnosticsShort writes one line per diagnostic, for editors and CI:
// "file:line:col: error: summary".
func WriteDiagnosticsShort(w io.Writer, diags hcl.Diagnostics) error {
	var b bytes.Buffer
	for _, d := range diags {
		if d == nil {
			continue
		}
		if d.Subject != nil {
			fmt.Fprintf(&b, "%s:%d:%d: ", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
		}
		fmt.Fprintf(&b, "%s: %s\n", severityName(d.Severity), d.Summary)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	return nil
}

// JSON rendering, shaped like terraform's `validate -json`.
type (
	jsonDiagnostics struct {
		Valid        bool             `json:"valid"`
		ErrorCount   int              `json:"error_count"`
		WarningCount int              `json:"warning_count"`
		Diagnostics  []jsonDiagnostic `json:"diagnostics"`
	}
	jsonDiagnostic struct {
		Severity string       `json:"severity"`
		Summary  string       `json:"summary"`
		Detail   string       `json:"detail"`
		Range    *jsonRange   `json:"range,omitempty"`
		Snippet  *jsonSnippet `json:"snippet,omitempty"`
	}
	jsonRange struct {
		Filename string  `json:"filename"`
		Start    jsonPos `json:"start"`
		End      jsonPos `json:"end"`
	}
	jsonPos struct {
		Line   int `json:"line"`
		Column int `json:"column"`
		Byte   int `json:"byte"`
	}
	jsonSnippet struct {
		Context              *string `json:"context"`
		Code                 string  `json:"code"`
		StartLine            int     `json:"start_line"`
		HighlightStartOffset int     `json:"highlight_start_offset"`
		HighlightEndOffset   int     `json:"highlight_end_offset"`
	}
)

// WriteDiagnosticsJSON writes diags as one JSON object: {"valid",
// "error_count", "warning_count", "diagnostics": [{"severity", "summary",
// "detail", "range", "snippet"}]}. Snippets come from the sources attached
// by [WithSources] (Load and LoadFiles attach them).
func WriteDiagnosticsJSON(w io.Writer, diags hcl.Diagnostics) error {
	out := jsonDiagnostics{Diagnostics: []jsonDiagnostic{}}
	idx := make(lineIndex)
	for _, d := range diags {
		if d == nil {
			continue
		}
		switch d.Severity {
		case hcl.DiagError:
			out.ErrorCount++
		case hcl.DiagWarning:
			out.WarningCount++
		}
		jd := jsonDiagnostic{Severity: severityName(d.Severity), Summary: d.Summary, Detail: d.Detail}
		if s := d.Subject; s != nil {
			jd.Range = &jsonRange{
				Filename: s.Filename,
				Start:    jsonPos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:      jsonPos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte},
			}
			if snip := makeSnippet(idx, sourceFile(nil, d), *s, d.Context); snip != nil {
				js := &jsonSnippet{
					Code:                 strings.Join(snip.lines, "\n"),
					StartLine:            snip.startLine,
					HighlightStartOffset: snip.highlightStart,
					HighlightEndOffset:   snip.highlightEnd,
				}
				if snip.context != "" {
					js.Context = &snip.context
				}
				jd.Snippet = js
			}
		}
		out.Diagnostics = append(out.Diagnostics, jd)
	}
	out.Valid = out.ErrorCount == 0
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode diagnostics: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	return nil
}

// snippet is the source shown for a diagnostic.
type snippet struct {
	context   string   // the enclosing top-level block, e.g. `model "measurement"`
	startLine int      // number of lines[0]
	lines     []string // the lines the subject (and context) cover, sanitized and cut to a window
	// caretLine is the index in lines of a single-line subject, followed by
	// caret, the line marking it; -1 for a multi-line subject.
	caretLine int
	caret     string
	// highlightStart and highlightEnd are the subject's byte offsets in
	// the lines joined by "\n".
	highlightStart, highlightEnd int
}

// Bounds on what one snippet shows, so that a huge or minified file cannot
// blow up the output.
const (
	maxSnippetLines = 20  // lines per snippet
	maxLineRunes    = 160 // characters per line, beyond which it is cut around the subject
	leadRunes       = 40  // characters kept before the subject in a cut line
)

// lineIndex caches the line start offsets of each file across the
// diagnostics of one rendering.
type lineIndex map[*hcl.File][]int

// starts returns the byte offset at which each line of file starts.
func (idx lineIndex) starts(file *hcl.File) []int {
	if s, ok := idx[file]; ok {
		return s
	}
	s := []int{0}
	for i, c := range file.Bytes {
		if c == '\n' {
			s = append(s, i+1)
		}
	}
	idx[file] = s
	return s
}

// makeSnippet cuts the lines of file that subject (and context, if not
// nil) cover. It returns nil when the file or the lines are unknown.
func makeSnippet(idx lineIndex, file *hcl.File, subject hcl.Range, context *hcl.Range) *snippet {
	if file == nil || file.Bytes == nil {
		return nil
	}
	src := file.Bytes
	starts := idx.starts(file)
	nlines := len(starts)
	lineBytes := func(n int) []byte { // line n (1-based), without its newline
		end := len(src)
		if n < nlines {
			end = starts[n] - 1
		}
		return bytes.TrimSuffix(src[starts[n-1]:end], []byte{'\r'})
	}
	// offset returns pos's byte offset within line n, clamped to it.
	offset := func(pos hcl.Pos, n int) int {
		return min(max(pos.Byte-starts[n-1], 0), len(lineBytes(n)))
	}

	// A subject ending at the start of the next line ends at a newline.
	endLine := subject.End.Line
	if endLine > subject.Start.Line && subject.End.Column == 1 {
		endLine--
	}
	singleLine := endLine == subject.Start.Line
	first, last := subject.Start.Line, endLine
	if context != nil && context.Filename == subject.Filename {
		first, last = min(first, context.Start.Line), max(last, context.End.Line)
	}
	first = max(first, 1)
	last = min(last, nlines, first+maxSnippetLines-1)
	if first > nlines || last < first {
		return nil
	}

	s := &snippet{startLine: first, caretLine: -1}
	if nav, ok := file.Nav.(interface{ ContextString(offset int) string }); ok {
		s.context = sanitize([]byte(nav.ContextString(subject.Start.Byte)), false)
	}
	joined := 0 // offset of the current line in the joined lines
	s.highlightStart, s.highlightEnd = -1, -1
	for n := first; n <= last; n++ {
		raw := lineBytes(n)
		if n < subject.Start.Line || n > endLine {
			pre, _, _ := window(sanitize(raw, false), "", "")
			s.lines = append(s.lines, pre)
			joined += len(pre) + 1
			continue
		}
		hs, he := 0, len(raw)
		if n == subject.Start.Line {
			hs = offset(subject.Start, n)
		}
		if n == subject.End.Line {
			he = max(offset(subject.End, n), hs)
		}
		if singleLine && he == hs && hs < len(raw) { // an empty range: mark one character
			_, size := utf8.DecodeRune(raw[hs:])
			he = hs + size
		}
		pre, mid, post := window(sanitize(raw[:hs], false), sanitize(raw[hs:he], false), sanitize(raw[he:], false))
		s.lines = append(s.lines, pre+mid+post)
		if n == subject.Start.Line {
			s.highlightStart = joined + len(pre)
		}
		s.highlightEnd = joined + len(pre) + len(mid)
		if singleLine {
			s.caretLine = n - first
			s.caret = caretLine(pre, mid)
		}
		joined += len(pre) + len(mid) + len(post) + 1
	}
	if s.highlightStart < 0 { // the subject starts after the cut
		s.highlightStart, s.highlightEnd = joined-1, joined-1
	}
	return s
}

// window cuts a line, given as the parts before, in and after the subject,
// to about maxLineRunes characters, keeping some context before the
// subject, and marks the cuts with "…".
func window(pre, mid, post string) (string, string, string) {
	n := utf8.RuneCountInString
	if n(pre)+n(mid)+n(post) <= maxLineRunes {
		return pre, mid, post
	}
	if n(mid) > maxLineRunes-leadRunes {
		mid = firstRunes(mid, maxLineRunes-leadRunes-1) + "…"
	}
	if n(pre) > leadRunes {
		pre = "…" + lastRunes(pre, leadRunes-1)
	}
	if room := maxLineRunes - n(pre) - n(mid); n(post) > room {
		post = firstRunes(post, max(room-1, 0)) + "…"
	}
	return pre, mid, post
}

// firstRunes returns the first k runes of s.
func firstRunes(s string, k int) string {
	for i := range s {
		if k == 0 {
			return s[:i]
		}
		k--
	}
	return s
}

// lastRunes returns the last k runes of s.
func lastRunes(s string, k int) string {
	i := len(s)
	for ; k > 0 && i > 0; k-- {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
	}
	return s[i:]
}

// caretLine returns the line that puts carets under highlight when printed
// under before+highlight.
func caretLine(before, highlight string) string {
	var b strings.Builder
	for _, r := range before {
		switch {
		case r == '\t':
			b.WriteByte('\t')
		case unicode.Is(unicode.Mn, r):
		default:
			b.WriteByte(' ')
		}
	}
	n := 0
	for _, r := range highlight {
		if !unicode.Is(unicode.Mn, r) {
			n++
		}
	}
	b.WriteString(strings.Repeat("^", max(n, 1)))
	return b.String()
}

// sanitize makes source text safe to print on a terminal: invalid UTF-8
// and control characters (but tabs, and newlines when keepNewlines) become
// U+FFFD.
func sanitize(b []byte, keepNewlines bool) string {
	var sb strings.Builder
	sb.Grow(len(b))
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == '\t' || (keepNewlines && r == '\n'):
			sb.WriteRune(r)
		case r == utf8.RuneError, unicode.IsControl(r), r == '\u2028', r == '\u2029', unicode.Is(unicode.Bidi_Control, r):
			sb.WriteRune(utf8.RuneError)
		default:
			sb.WriteRune(r)
		}
	}
	return sb.String()
}
