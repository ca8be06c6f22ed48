package auth

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestUserCacheForgetBeatsRacingRead replays, step by step, a request that
// read a user's old roles before a role change committed and stores them
// after the change's ForgetUser: the revoked roles must not be cached.
func TestUserCacheForgetBeatsRacingRead(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	id, other := uuid.New(), uuid.New()
	tests := map[string]struct {
		forget uuid.UUID // whose change commits during the read
		cached bool
	}{
		"same user":    {forget: id, cached: false},
		"another user": {forget: other, cached: false}, // the generation is global: one extra read
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := newUserCache(10, time.Minute)
			// Request A misses the cache and notes the generation...
			gen := c.generation()
			// ...reads roles {admin}; SetRoles commits {} and forgets...
			c.forget(tc.forget)
			// ...then A stores what it read.
			c.putEntry(key(id), userEntry{email: "a@example.test", roles: []string{"admin"}}, now, gen)
			if e, ok := c.get(key(id), now); ok != tc.cached {
				t.Fatalf("cached = %v (%v), want %v", ok, e.roles, tc.cached)
			}
			// A read that started after the forget is cached as usual.
			c.putEntry(key(id), userEntry{email: "a@example.test", roles: []string{}}, now, c.generation())
			if e, ok := c.get(key(id), now); !ok || len(e.roles) != 0 {
				t.Fatalf("fresh read: cached = %v, roles %v", ok, e.roles)
			}
		})
	}
}

// TestUserCacheReadsWithoutForgetAreCached checks that the generation only
// rejects reads that raced a forget.
func TestUserCacheReadsWithoutForgetAreCached(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	c := newUserCache(10, time.Minute)
	c.forget(uuid.New()) // an earlier forget does not matter
	id := uuid.New()
	gen := c.generation()
	c.putEntry(key(id), userEntry{email: "a@example.test", roles: []string{"clinician"}}, now, gen)
	if e, ok := c.get(key(id), now); !ok || !slices.Equal(e.roles, []string{"clinician"}) {
		t.Fatalf("not cached: %v %v", ok, e.roles)
	}
}

func key(id uuid.UUID) userKey { return userKey{user: id} }

// TestUserCacheForgetDropsEverySession checks that forgetting a user drops
// the entries of all the user's sessions and no one else's.
func TestUserCacheForgetDropsEverySession(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	c := newUserCache(10, time.Minute)
	id, other := uuid.New(), uuid.New()
	s1, s2 := userKey{id, uuid.New()}, userKey{id, uuid.New()}
	o := userKey{other, uuid.New()}
	for _, k := range []userKey{s1, s2, o} {
		c.putEntry(k, userEntry{sessionOK: true}, now, c.generation())
	}
	c.forget(id)
	for k, want := range map[userKey]bool{s1: false, s2: false, o: true} {
		if _, ok := c.get(k, now); ok != want {
			t.Errorf("cached %v = %v, want %v", k, ok, want)
		}
	}
}
