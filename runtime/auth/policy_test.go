package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/apierr"
)

func policyCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || len(ae.Details) != 1 || ae.Details[0].Field != "/password" {
		t.Fatalf("policy error = %v", err)
	}
	return ae.Details[0].Code
}

func TestAUTH4_ProjectPolicyBounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		policy   PasswordPolicy
		password string
		code     string
	}{
		{"zero value is the NIST default", PasswordPolicy{}, strings.Repeat("k", 14), CodePasswordTooShort},
		{"zero value accepts 128", PasswordPolicy{}, strings.Repeat("k", 128), ""},
		{"stricter minimum", PasswordPolicy{MinLength: 20}, strings.Repeat("k", 19), CodePasswordTooShort},
		{"stricter minimum met", PasswordPolicy{MinLength: 20}, strings.Repeat("k", 20), ""},
		{"minimum below 15 is raised", PasswordPolicy{MinLength: 8}, strings.Repeat("k", 14), CodePasswordTooShort},
		{"maximum 64 accepts 64", PasswordPolicy{MaxLength: 64}, strings.Repeat("k", 64), ""},
		{"maximum 64 refuses 65", PasswordPolicy{MaxLength: 64}, strings.Repeat("k", 65), CodePasswordTooLong},
		{"maximum below 64 is raised", PasswordPolicy{MaxLength: 20}, strings.Repeat("k", 64), ""},
		{"maximum above 128 is capped", PasswordPolicy{MaxLength: 1000}, strings.Repeat("k", 129), CodePasswordTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policyCode(t, tt.policy.Check(tt.password)); got != tt.code {
				t.Fatalf("code = %q, want %q", got, tt.code)
			}
		})
	}
}

// TestAUTH5_BreachedAndSimilarPasswordsRefused checks the offline blocklist
// (case- and width-insensitive) and the identifier-similarity check.
func TestAUTH5_BreachedAndSimilarPasswordsRefused(t *testing.T) {
	t.Parallel()
	const email = "Margaret.Hamilton@example.com"
	tests := []struct {
		name, password, code string
	}{
		{"breached", "123456789987654321", CodePasswordBreached},
		{"breached, other case", "1QAZ2WSX3EDC4RFV", CodePasswordBreached},
		{"breached, fullwidth", "１２３４５６７８９９８７６５４３２１", CodePasswordBreached},
		{"the email itself", "margaret.hamilton@example.com", CodePasswordSimilar},
		{"the email, changed a little", "Margaret.Hamilton@example.org", CodePasswordSimilar},
		{"the local part plus digits", "margaret.hamilton1969", CodePasswordSimilar},
		{"mostly the local part", "xx margaret.hamilton", CodePasswordSimilar},
		{"unrelated passphrase", "correct horse battery staple", ""},
		{"mentions a name but not mostly", "apollo guidance computer by margaret", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := policyCode(t, DefaultPasswordPolicy().Check(tt.password, email)); got != tt.code {
				t.Fatalf("code = %q, want %q", got, tt.code)
			}
		})
	}
}

func TestLevenshteinAndLCS(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b     string
		dist, cs int
	}{
		{"", "", 0, 0},
		{"kitten", "sitting", 3, 3},
		{"abc", "abc", 0, 3},
		{"héllo", "hello", 1, 3},
	} {
		if d := levenshtein([]rune(tt.a), []rune(tt.b)); d != tt.dist {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tt.a, tt.b, d, tt.dist)
		}
		if c := longestCommonSubstring([]rune(tt.a), []rune(tt.b)); c != tt.cs {
			t.Errorf("lcs(%q, %q) = %d, want %d", tt.a, tt.b, c, tt.cs)
		}
	}
}
