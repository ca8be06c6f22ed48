package auth

import (
	"fmt"
	"strings"
	"unicode/utf8"

	levenshteinpkg "github.com/agext/levenshtein"

	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth/internal/breached"
)

// Field error codes of the password policy.
const (
	CodePasswordTooShort = "too_short"
	CodePasswordTooLong  = "too_long"
	CodePasswordInvalid  = "invalid"
	// CodePasswordBreached: the password is on the offline list of breached
	// and common passwords (AUTH-5).
	CodePasswordBreached = "breached"
	// CodePasswordSimilar: the password is too close to the user's email
	// address (AUTH-5).
	CodePasswordSimilar = "too_similar"
)

// Bounds of a project's password policy. A policy may ask for more than
// MinPasswordLen (up to MaxMinPasswordLen) and accept fewer than
// MaxPasswordLen (down to MinMaxPasswordLen: NIST SP 800-63B-4 says at
// least 64 must be allowed).
const (
	MaxMinPasswordLen = 64
	MinMaxPasswordLen = 64
)

// Similarity thresholds of the identifier check (as Kratos uses them): a
// password closer than minIdentifierDistance edits to an identifier, or
// sharing a substring longer than maxSharedRatio of its length with one,
// is refused.
const (
	minIdentifierDistance = 5
	maxSharedRatio        = 0.5
)

// PasswordPolicy is the password policy of a project (AUTH-4, AUTH-5):
// lengths in Unicode code points after NFKC normalisation, any characters,
// no composition rules, no expiry; never a password on the breached list
// or one resembling the user's identifiers. The zero value is the NIST SP
// 800-63B-4 default.
type PasswordPolicy struct {
	MinLength int // 0: MinPasswordLen
	MaxLength int // 0: MaxPasswordLen
}

// DefaultPasswordPolicy is the NIST default: 15 to 128 code points.
func DefaultPasswordPolicy() PasswordPolicy {
	return PasswordPolicy{MinLength: MinPasswordLen, MaxLength: MaxPasswordLen}
}

// normalized returns p with zero values replaced by the defaults and the
// bounds enforced (a project's spec is validated before it gets here).
func (p PasswordPolicy) normalized() PasswordPolicy {
	if p.MinLength == 0 {
		p.MinLength = MinPasswordLen
	}
	if p.MaxLength == 0 {
		p.MaxLength = MaxPasswordLen
	}
	p.MinLength = min(max(p.MinLength, MinPasswordLen), MaxMinPasswordLen)
	p.MaxLength = min(max(p.MaxLength, MinMaxPasswordLen), MaxPasswordLen)
	return p
}

// Check applies the policy to password for a user known by identifiers
// (email addresses; an address's local part is checked too). A violation
// is an apierr validation error naming the field "/password".
func (p PasswordPolicy) Check(password string, identifiers ...string) error {
	p = p.normalized()
	if !utf8.ValidString(password) {
		return passwordError(CodePasswordInvalid, "The password must be valid UTF-8 text.")
	}
	n := utf8.RuneCountInString(norm.NFKC.String(password))
	switch {
	case n < p.MinLength:
		return passwordError(CodePasswordTooShort,
			fmt.Sprintf("The password must be at least %d characters long.", p.MinLength))
	case n > p.MaxLength:
		return passwordError(CodePasswordTooLong,
			fmt.Sprintf("The password must be at most %d characters long.", p.MaxLength))
	case breached.Contains(password):
		return passwordError(CodePasswordBreached,
			"This password is known from data breaches or is too common. Choose another one.")
	case similarToAny(password, identifiers):
		return passwordError(CodePasswordSimilar,
			"The password is too similar to your email address. Choose another one.")
	}
	return nil
}

// CheckPassword applies DefaultPasswordPolicy without identifiers.
func CheckPassword(password string) error {
	return DefaultPasswordPolicy().Check(password)
}

func passwordError(code, msg string) *apierr.Error {
	return apierr.Validation("The password does not meet the password policy.",
		apierr.FieldError{Field: "/password", Code: code, Message: msg})
}

// similarToAny reports whether password resembles one of identifiers, or
// the local part of an identifier that is an email address.
func similarToAny(password string, identifiers []string) bool {
	pw := []rune(breached.Normalize(password))
	for _, id := range identifiers {
		id = breached.Normalize(strings.TrimSpace(id))
		if id == "" {
			continue
		}
		cands := []string{id}
		if local, _, ok := strings.Cut(id, "@"); ok && local != "" {
			cands = append(cands, local)
		}
		for _, c := range cands {
			cr := []rune(c)
			if levenshtein(pw, cr) < minIdentifierDistance ||
				float64(longestCommonSubstring(pw, cr)) > maxSharedRatio*float64(len(pw)) {
				return true
			}
		}
	}
	return false
}

// levenshtein returns the edit distance of a and b in runes (both at most
// a few hundred runes: passwords and identifiers are bounded before this).
func levenshtein(a, b []rune) int {
	return levenshteinpkg.Distance(string(a), string(b), nil)
}

// longestCommonSubstring returns the length of the longest run of runes a
// and b share.
func longestCommonSubstring(a, b []rune) int {
	best := 0
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				cur[j] = prev[j-1] + 1
				best = max(best, cur[j])
			} else {
				cur[j] = 0
			}
		}
		prev, cur = cur, prev
	}
	return best
}
