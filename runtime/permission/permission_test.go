package permission

import "testing"

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"data:measurement:read", "data:measurement:read", true},
		{"data:*:read", "data:measurement:read", true},
		{"data:*:*", "data:measurement:link", true},
		{"*:*:*", "data:measurement:delete", true},
		{"data:*", "data:measurement:read", false},
		{"data:measurement:read", "data:measurement:update", false},
		{"users:*", "users:read", true},
		{"groups:*", "groups:update", true},
	}
	for _, tt := range tests {
		if got := Match(tt.granted, tt.wanted); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}

// TestAC5_WildcardsNeverMatchMembershipOrRoleResources: a wildcard grant
// never covers role or group membership permissions; only naming the
// resource does.
func TestAC5_WildcardsNeverMatchMembershipOrRoleResources(t *testing.T) {
	t.Parallel()
	protected := []string{
		"groups:staff:create", "groups:staff:update", "groups:staff:delete",
		"groups:patients:create", "groups:patients:delete",
		"users:roles:create", "users:roles:delete", "roles:update", "roles:create",
	}
	wildcards := []string{"*:*", "*:*:*", "groups:*:*", "groups:*:create", "users:*:*", "*:staff:create", "*:update", "*:create"}
	for _, w := range protected {
		for _, g := range wildcards {
			if Match(g, w) {
				t.Errorf("wildcard grant %q matches the protected permission %q", g, w)
			}
		}
	}
	for granted, wanted := range map[string]string{
		"groups:staff:*":    "groups:staff:create",
		"groups:patients:*": "groups:patients:delete",
		"users:roles:*":     "users:roles:create",
		"roles:*":           "roles:update",
	} {
		if !Match(granted, wanted) {
			t.Errorf("named grant %q does not match %q", granted, wanted)
		}
	}
}

// TestAC5_WildcardsNeverMatchAuthResources: applications (client secrets),
// signing keys and OAuth 1.0 credentials are reached only by naming them,
// and no wildcard reaches the auth service at all; a data model that
// happens to share a protected name stays an ordinary resource.
func TestAC5_WildcardsNeverMatchAuthResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"*:*:*", "auth:applications:read", false},
		{"*:*:*", "auth:applications:update", false},
		{"auth:*:*", "auth:applications:update", false},
		{"auth:*:update", "auth:keys:update", false},
		{"*:keys:update", "auth:keys:update", false},
		{"auth:*:create", "auth:oauth1_credentials:create", false},
		{"*:*", "auth:read", false},
		{"*:read", "auth:read", false},
		{"auth:applications:*", "auth:applications:update", true},
		{"auth:keys:update", "auth:keys:update", true},
		{"auth:oauth1_credentials:*", "auth:oauth1_credentials:delete", true},
		{"auth:*", "auth:read", true},
		{"data:*:read", "data:keys:read", true},
		{"data:*:*", "data:applications:update", true},
		{"data:*:read", "data:roles:read", true},
		{"*:*:*", "users:roles:create", false},
	}
	for _, tt := range tests {
		if got := Match(tt.granted, tt.wanted); got != tt.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}
