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
	for _, d := range diags {
		if d == nil {
			continue
		}
		writeDiagnostic(&b, files, d)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write diagnostics: %w", err)
	}
	return nil
}

func writeDiagnostic(b *bytes.Buffer, files map[string]*hcl.File, d *hcl.Diagnostic) {
	var lines []string
	sev := severityName(d.Severity)
	lines = append(lines, fmt.Sprintf("%s: %s", strings.ToUpper(sev[:1])+sev[1:], d.Summary), "")
	if d.Subject != nil {
		file := sourceFile(files, d)
		snip := makeSnippet(file, *d.Subject, d.Context)
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
			if snip := makeSnippet(sourceFile(nil, d), *s, d.Context); snip != nil {
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
	lines     []string // the lines the subject (and context) cover, sanitized
	// caretLine is the index in lines of a single-line subject, followed by
	// caret, the line marking it; -1 for a multi-line subject.
	caretLine int
	caret     string
	// highlightStart and highlightEnd are the subject's byte offsets in
	// the lines joined by "\n".
	highlightStart, highlightEnd int
}

// maxSnippetLines bounds the lines shown for one diagnostic.
const maxSnippetLines = 20

// makeSnippet cuts the lines of file that subject (and context, if not
// nil) cover. It returns nil when the file or the lines are unknown.
func makeSnippet(file *hcl.File, subject hcl.Range, context *hcl.Range) *snippet {
	if file == nil || file.Bytes == nil {
		return nil
	}
	src := file.Bytes
	// starts[i] is the byte offset of line i+1.
	starts := []int{0}
	for i, c := range src {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	lineBytes := func(n int) []byte { // line n (1-based), without its newline
		end := len(src)
		if n < len(starts) {
			end = starts[n] - 1
		}
		return bytes.TrimSuffix(src[starts[n-1]:end], []byte{'\r'})
	}
	nlines := len(starts)
	first, last := subject.Start.Line, subject.End.Line
	if last > first && subject.End.Column == 1 {
		last-- // the range ends at a newline
	}
	if context != nil && context.Filename == subject.Filename {
		first, last = min(first, context.Start.Line), max(last, context.End.Line)
	}
	first, last = max(first, 1), min(last, nlines, max(first, 1)+maxSnippetLines-1)
	if first > nlines || last < first {
		return nil
	}

	s := &snippet{startLine: first, caretLine: -1}
	if nav, ok := file.Nav.(interface{ ContextString(offset int) string }); ok {
		s.context = sanitize([]byte(nav.ContextString(subject.Start.Byte)), false)
	}

	// offsetIn returns pos's byte offset within its sanitized line, clamped.
	offsetIn := func(pos hcl.Pos) (line int, off int, raw []byte, cut int) {
		line = min(max(pos.Line, 1), nlines)
		raw = lineBytes(line)
		cut = min(max(pos.Byte-starts[line-1], 0), len(raw))
		return line, len(sanitize(raw[:cut], false)), raw, cut
	}
	joinedOffset := func(line, off int) int {
		n := 0
		for l := first; l < line && l <= last; l++ {
			n += len(s.lines[l-first]) + 1
		}
		return n + off
	}
	for n := first; n <= last; n++ {
		s.lines = append(s.lines, sanitize(lineBytes(n), false))
	}

	startLine, startOff, raw, cut := offsetIn(subject.Start)
	endLine, endOff, _, _ := offsetIn(subject.End)
	if subject.End.Line == subject.Start.Line || (subject.End.Line == subject.Start.Line+1 && subject.End.Column == 1) {
		endLine = startLine
		hl := raw[cut:]
		if subject.End.Line == subject.Start.Line {
			hl = raw[cut:min(max(subject.End.Byte-starts[startLine-1], cut), len(raw))]
		}
		if len(hl) == 0 && cut < len(raw) { // an empty range: mark one character
			_, size := utf8.DecodeRune(raw[cut:])
			hl = raw[cut : cut+size]
		}
		endOff = startOff + len(sanitize(hl, false))
		if startLine >= first && startLine <= last {
			s.caretLine = startLine - first
			s.caret = caretLine(sanitize(raw[:cut], false), sanitize(hl, false))
		}
	}
	codeLen := joinedOffset(last+1, 0) - 1
	s.highlightStart = min(joinedOffset(startLine, startOff), codeLen)
	s.highlightEnd = min(max(joinedOffset(endLine, endOff), s.highlightStart), codeLen)
	return s
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
