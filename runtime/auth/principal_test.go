package auth

import "testing"

// TestAC5_WildcardsNeverGrantRoleResources: a wildcard grant covers
// ordinary permissions but never one on a role, membership or application
// resource, which only a grant naming service and resource covers.
func TestAC5_WildcardsNeverGrantRoleResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		granted, wanted string
		want            bool
	}{
		{"*:*:*", "users:roles:update", false},
		{"users:*:update", "users:roles:update", false},
		{"*:roles:update", "users:roles:update", false},
		{"users:*:*", "groups:enlistments:create", false},
		{"groups:*:*", "groups:staff:update", false},
		{"*:*:*", "auth:applications:create", false},
		{"users:roles:update", "users:roles:update", true},
		{"users:roles:*", "users:roles:update", true}, // the action may be a wildcard once the resource is named
		{"*:*:*", "data:measurement:read", true},
		{"users:*:delete", "users:login_attempts:delete", true},
		{"*", "users", true},
	}
	for _, tt := range tests {
		if got := MatchPermission(tt.granted, tt.wanted); got != tt.want {
			t.Errorf("MatchPermission(%q, %q) = %v, want %v", tt.granted, tt.wanted, got, tt.want)
		}
	}
}
