package spec

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/hcl/v2"
)

// checkPattern compiles a field's pattern. A pattern ends up in the
// generated OpenAPI document, where clients validate it as an ECMA-262
// regular expression, and in the runtime, which validates it with Go's
// RE2: it must mean the same to both, so constructs only one of them knows
// are rejected.
func checkPattern(a *hcl.Attribute, s string) (*regexp.Regexp, hcl.Diagnostics) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, hcl.Diagnostics{errorDiag(a.Expr.Range(), "Invalid pattern",
			fmt.Sprintf("The pattern %s is not a valid regular expression: %s.", quote(s), err))}
	}
	if construct := nonPortableConstruct(s); construct != "" {
		return nil, hcl.Diagnostics{errorDiag(a.Expr.Range(), "Unsupported pattern syntax",
			fmt.Sprintf("The pattern %s uses %s, which JSON Schema validators in other languages do not understand the same way.", quote(s), construct))}
	}
	return re, nil
}

// nonPortableConstruct returns a description of the first construct in the
// (valid RE2) pattern p that ECMA-262 does not share, or "".
func nonPortableConstruct(p string) string {
	inClass := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		next := byte(0)
		if i+1 < len(p) {
			next = p[i+1]
		}
		switch {
		case c == '\\':
			switch {
			case next == 'A' || next == 'z':
				return `\A or \z (use ^ and $)`
			case next == 'Q' || next == 'E':
				return `\Q...\E quoting (escape each character instead)`
			case next == 'p' || next == 'P':
				return `a Unicode class such as \pL`
			case next == 'C':
				return `\C`
			case next == 'x' && i+2 < len(p) && p[i+2] == '{':
				return `\x{...} (use \xHH or \uHHHH)`
			case next >= '0' && next <= '9':
				return `an octal escape (use \xHH)`
			}
			i++ // skip the escaped character
		case inClass && c == '[' && next == ':':
			return `a POSIX class such as [[:alpha:]]`
		case inClass && c == ']':
			inClass = false
		case !inClass && c == '[':
			inClass = true
			// A ']' right after '[' or '[^' is a literal in RE2 but
			// ends an empty class in ECMA-262.
			j := i + 1
			if j < len(p) && p[j] == '^' {
				j++
			}
			if j < len(p) && p[j] == ']' {
				return `a ']' first in a character class (escape it as \])`
			}
		case !inClass && c == '(' && next == '?':
			if i+2 < len(p) {
				switch p[i+2] {
				case ':':
					continue
				case '<': // (?<name>...) is shared
					continue
				case 'P':
					return `a (?P<name>...) group (use (?<name>...))`
				}
			}
			return `an inline flag such as (?i)`
		}
	}
	return ""
}
