package strictjson

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of arrays and objects (IN-3).
const MaxDepth = 64

// Stable codes of the problems Parse reports.
const (
	CodeInvalidUTF8  = "invalid_utf8"
	CodeInvalidJSON  = "invalid_json"
	CodeTrailingData = "trailing_data"
	CodeDuplicateKey = "duplicate_key"
	CodeNULCharacter = "nul_character"
	CodeTooDeep      = "too_deep"
)

// Error is a problem with the bytes of a JSON text. Message is written for
// clients: it never contains a Go error string.
type Error struct {
	Code    string
	Message string
	// rev holds the reference tokens of the JSON pointer of the value being
	// read, innermost first (they are added while unwinding).
	rev []string
}

// Pointer is the JSON pointer of the value where the problem was found ("" for
// the whole document).
func (e *Error) Pointer() string {
	var b strings.Builder
	for i := len(e.rev) - 1; i >= 0; i-- {
		b.WriteByte('/')
		b.WriteString(escapePointer(e.rev[i]))
	}
	return b.String()
}

func (e *Error) Error() string {
	if p := e.Pointer(); p != "" {
		return e.Message + " at " + p
	}
	return e.Message
}

// within records that err happened inside the member named token.
func within(err error, token string) error {
	if e, ok := err.(*Error); ok {
		e.rev = append(e.rev, token)
	}
	return err
}

// Parse decodes one JSON value strictly, as request bodies are accepted
// (IN-2): the input must be valid UTF-8, objects must not repeat a key,
// strings must not contain U+0000 (PostgreSQL cannot store it in text or
// jsonb), nesting is at most MaxDepth deep and nothing but whitespace may
// follow the value. Go's encoding/json and ogen accept all of these. Numbers
// are kept as json.Number so no precision is lost; objects become
// map[string]any and arrays []any, as encoding/json does. Every failure is
// an *Error.
func Parse(data []byte) (any, error) {
	return run(data, false)
}

// Check accepts exactly what Parse accepts and fails with the same *Error
// (code, message and pointer), but builds nothing: no value tree, no
// strings, no numbers. While an object is read it remembers the names of
// its members, to find a repeated one, and forgets them when the object
// ends. Checking a body costs memory in proportion to its nesting and to
// the size of its largest object, not to its length, so it suits a check of
// every request body before anyone parses it.
func Check(data []byte) error {
	_, err := run(data, true)
	return err
}

func run(data []byte, check bool) (any, error) {
	if !utf8.Valid(data) {
		return nil, &Error{Code: CodeInvalidUTF8, Message: "The text is not valid UTF-8."}
	}
	p := parser{data: data, check: check}
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.skipSpace()
	if p.pos != len(p.data) {
		return nil, &Error{Code: CodeTrailingData, Message: "Trailing data after the JSON value."}
	}
	return v, nil
}

// linearNames is how many member names of one object Check compares one by
// one before it puts them in a map.
const linearNames = 16

type parser struct {
	data []byte
	pos  int
	// check: validate only (Check); every value read is nil.
	check bool
	// names holds the member names of the objects being read (check
	// mode), outermost object first; each object owns a suffix (nameSet).
	names [][]byte
	// buf holds decoded strings that had escapes: member names of the
	// open objects (check mode), or the string being read (parse mode).
	buf []byte
}

// nameSet is the set of member names of one object being read in check
// mode: p.names[base:] while it is small, then a map of its own.
type nameSet struct {
	base, bufMark int
	big           map[string]struct{}
}

func (p *parser) openNames() nameSet {
	return nameSet{base: len(p.names), bufMark: len(p.buf)}
}

// closeNames forgets the names of the object s belongs to.
func (p *parser) closeNames(s *nameSet) {
	clear(p.names[s.base:]) // drop references into the data
	p.names = p.names[:s.base]
	p.buf = p.buf[:s.bufMark]
	s.big = nil
}

// addName adds name to s and reports whether s already had it. The object
// s belongs to must be the innermost open one.
func (p *parser) addName(s *nameSet, name []byte) (dup bool) {
	if s.big != nil {
		if _, ok := s.big[string(name)]; ok {
			return true
		}
		s.big[string(name)] = struct{}{}
		return false
	}
	for _, n := range p.names[s.base:] {
		if string(n) == string(name) {
			return true
		}
	}
	if len(p.names)-s.base < linearNames {
		p.names = append(p.names, name)
		return false
	}
	s.big = make(map[string]struct{}, 4*linearNames)
	for _, n := range p.names[s.base:] {
		s.big[string(n)] = struct{}{}
	}
	s.big[string(name)] = struct{}{}
	clear(p.names[s.base:])
	p.names = p.names[:s.base]
	return false
}

func (p *parser) fail(format string, args ...any) error {
	return p.failCode(CodeInvalidJSON, format, args...)
}

func (p *parser) failCode(code, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: code, Message: strings.ToUpper(msg[:1]) + msg[1:] + "."}
}

func (p *parser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *parser) value(depth int) (any, error) {
	if p.pos >= len(p.data) {
		return nil, p.fail("unexpected end of JSON input")
	}
	switch c := p.data[p.pos]; c {
	case '{':
		if depth >= MaxDepth {
			return nil, p.failCode(CodeTooDeep, "JSON nesting is deeper than %d levels", MaxDepth)
		}
		if p.check {
			return nil, p.checkObject(depth + 1)
		}
		return p.object(depth + 1)
	case '[':
		if depth >= MaxDepth {
			return nil, p.failCode(CodeTooDeep, "JSON nesting is deeper than %d levels", MaxDepth)
		}
		return p.array(depth + 1)
	case '"':
		if p.check {
			_, err := p.stringBytes(false)
			return nil, err
		}
		return p.str()
	case 't':
		return true, p.literal("true")
	case 'f':
		return false, p.literal("false")
	case 'n':
		return nil, p.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return p.number()
		}
		return nil, p.fail("invalid character %q in JSON", rune(c))
	}
}

func (p *parser) literal(lit string) error {
	if len(p.data)-p.pos < len(lit) || string(p.data[p.pos:p.pos+len(lit)]) != lit {
		return p.fail("invalid JSON literal")
	}
	p.pos += len(lit)
	return nil
}

func (p *parser) object(depth int) (any, error) {
	p.pos++ // {
	obj := make(map[string]any)
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return obj, nil
	}
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return nil, p.fail("expected a string object key")
		}
		key, err := p.str()
		if err != nil {
			return nil, err
		}
		if _, dup := obj[key]; dup {
			return nil, within(p.failCode(CodeDuplicateKey, "duplicate object key %q", key), key)
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return nil, within(p.fail("expected ':' after an object key"), key)
		}
		p.pos++
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return nil, within(err, key)
		}
		obj[key] = v
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of JSON input")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			return obj, nil
		default:
			return nil, p.fail("expected ',' or '}' in an object")
		}
	}
}

// checkObject is object for Check: the same steps and errors, keeping only
// the member names until the object ends.
func (p *parser) checkObject(depth int) error {
	p.pos++ // {
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == '}' {
		p.pos++
		return nil
	}
	// Errors end the whole check, so the names are only forgotten when
	// the object ends well.
	names := p.openNames()
	for {
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != '"' {
			return p.fail("expected a string object key")
		}
		key, err := p.stringBytes(true)
		if err != nil {
			return err
		}
		if p.addName(&names, key) {
			return within(p.failCode(CodeDuplicateKey, "duplicate object key %q", string(key)), string(key))
		}
		p.skipSpace()
		if p.pos >= len(p.data) || p.data[p.pos] != ':' {
			return within(p.fail("expected ':' after an object key"), string(key))
		}
		p.pos++
		p.skipSpace()
		if _, err := p.value(depth); err != nil {
			return within(err, string(key))
		}
		if names.big != nil {
			// The map holds copies of the names: forget the decoded
			// one (key is not used past this point).
			p.buf = p.buf[:names.bufMark]
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return p.fail("unexpected end of JSON input")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case '}':
			p.pos++
			p.closeNames(&names)
			return nil
		default:
			return p.fail("expected ',' or '}' in an object")
		}
	}
}

func (p *parser) array(depth int) (any, error) {
	p.pos++ // [
	var arr []any
	if !p.check {
		arr = make([]any, 0, 4)
	}
	p.skipSpace()
	if p.pos < len(p.data) && p.data[p.pos] == ']' {
		p.pos++
		return p.arrayValue(arr), nil
	}
	for i := 0; ; i++ {
		p.skipSpace()
		v, err := p.value(depth)
		if err != nil {
			return nil, within(err, strconv.Itoa(i))
		}
		if !p.check {
			arr = append(arr, v)
		}
		p.skipSpace()
		if p.pos >= len(p.data) {
			return nil, p.fail("unexpected end of JSON input")
		}
		switch p.data[p.pos] {
		case ',':
			p.pos++
		case ']':
			p.pos++
			return p.arrayValue(arr), nil
		default:
			return nil, p.fail("expected ',' or ']' in an array")
		}
	}
}

// arrayValue is what array returns: arr, or nil in check mode (a nil []any
// in an interface is not a nil interface).
func (p *parser) arrayValue(arr []any) any {
	if p.check {
		return nil
	}
	return arr
}

func (p *parser) number() (any, error) {
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	default:
		return nil, p.fail("invalid JSON number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, p.fail("invalid JSON number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, p.fail("invalid JSON number")
		}
		for i < len(d) && d[i] >= '0' && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	if p.check {
		return nil, nil
	}
	return json.Number(d[start:i]), nil
}

// str reads a JSON string starting at the opening quote.
func (p *parser) str() (string, error) {
	mark := len(p.buf)
	b, err := p.stringBytes(true)
	if err != nil {
		return "", err
	}
	s := string(b)
	p.buf = p.buf[:mark]
	return s, nil
}

// stringBytes reads a JSON string starting at the opening quote and, when
// decode is set, returns its decoded bytes: a slice of the input when the
// string has no escapes, else bytes appended to p.buf. Without decode it
// only checks the string and returns nil.
func (p *parser) stringBytes(decode bool) ([]byte, error) {
	p.pos++ // "
	d := p.data
	start := p.pos
	// Fast path: no escapes.
	i := start
	for ; i < len(d); i++ {
		c := d[i]
		if c == '"' {
			p.pos = i + 1
			if !decode {
				return nil, nil
			}
			return d[start:i], nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return nil, p.controlError(c)
		}
	}
	// d[start:i] holds no quote, backslash or control character.
	mark := len(p.buf)
	b := p.buf
	if decode {
		b = append(b, d[start:i]...)
	}
	for {
		if i >= len(d) {
			return nil, p.fail("unterminated JSON string")
		}
		c := d[i]
		switch {
		case c == '"':
			p.pos = i + 1
			if !decode {
				return nil, nil
			}
			p.buf = b
			return b[mark:], nil
		case c < 0x20:
			return nil, p.controlError(c)
		case c != '\\':
			if decode {
				b = append(b, c)
			}
			i++
			continue
		}
		// Escape sequence.
		i++
		if i >= len(d) {
			return nil, p.fail("unterminated JSON string")
		}
		var r rune
		switch d[i] {
		case '"', '\\', '/':
			r = rune(d[i])
			i++
		case 'b':
			r = '\b'
			i++
		case 'f':
			r = '\f'
			i++
		case 'n':
			r = '\n'
			i++
		case 'r':
			r = '\r'
			i++
		case 't':
			r = '\t'
			i++
		case 'u':
			var ok bool
			r, ok = hex4(d, i+1)
			if !ok {
				return nil, p.fail("invalid \\u escape in a JSON string")
			}
			i += 5
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+1 < len(d) && d[i] == '\\' && d[i+1] == 'u' {
					r2, ok = hex4(d, i+2)
				}
				dec := utf16.DecodeRune(r, r2)
				if !ok || dec == utf8.RuneError {
					return nil, p.fail("invalid UTF-16 surrogate in a JSON string")
				}
				r = dec
				i += 6
			}
			if r == 0 {
				return nil, p.failCode(CodeNULCharacter, "strings must not contain U+0000")
			}
		default:
			return nil, p.fail("invalid escape in a JSON string")
		}
		if decode {
			b = utf8.AppendRune(b, r)
		}
	}
}

// controlError is the error for the control character c in a string.
func (p *parser) controlError(c byte) error {
	if c == 0 {
		return p.failCode(CodeNULCharacter, "strings must not contain U+0000")
	}
	return p.fail("control character in a JSON string")
}

func hex4(d []byte, i int) (rune, bool) {
	if i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// escapePointer escapes a key for use as a JSON pointer token (RFC 6901).
// Pointer joins reference tokens into a JSON pointer (RFC 6901):
// ["device", "a/b"] → "/device/a~1b".
func Pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(s string) string {
	if !strings.ContainsAny(s, "~/") {
		return s
	}
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(s)
}
