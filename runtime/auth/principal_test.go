package auth

import "testing"

// TestAC5_WildcardsNeverGrantRoleResources: a wildcard grant covers
// ordinary permissions but never one on a role or membership resource,
// which only a grant naming service and resource covers.
func TestAC5_WildcardsNeverGrantRoleResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"*:*:*", "users:roles:create", false},
		{"users:*:create", "users:roles:create", false},
		{"*:roles:create", "users:roles:create", false},
		{"users:*:*", "users:roles:delete", false},
		{"groups:*:*", "groups:staff:update", false},
		{"groups:*:create", "groups:patients:create", false},
		{"users:roles:create", "users:roles:create", true},
		{"users:roles:*", "users:roles:delete", true}, // the action may be a wildcard once the resource is named
		{"*:*:*", "data:measurement:read", true},
		{"*:*", "users:read", true},
	}
	for _, tt := range tests {
		if got := MatchPermission(tt.granted, tt.wanted); got != tt.want {
			t.Errorf("MatchPermission(%q, %q) = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}
