package auth

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// DefaultUserCacheTTL is how long Authenticate reuses a user's email and
// roles read from the database. Reading them on every request doubled the
// database round trips of a simple read; a second bounds how long a role
// change or a deleted user takes to reach every replica (Tokens.ForgetUser
// makes it immediate on the replica that made the change).
const DefaultUserCacheTTL = time.Second

// userCache remembers the stored state of recently seen users.
type userCache struct {
	mu      sync.Mutex
	entries map[uuid.UUID]userEntry
	max     int
	ttl     time.Duration
}

type userEntry struct {
	email string
	roles []string
	until time.Time
}

func newUserCache(max int, ttl time.Duration) *userCache {
	return &userCache{entries: make(map[uuid.UUID]userEntry), max: max, ttl: ttl}
}

func (c *userCache) get(id uuid.UUID, now time.Time) (userEntry, bool) {
	if c.ttl <= 0 {
		return userEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[id]
	if !ok || !now.Before(e.until) {
		return userEntry{}, false
	}
	return e, true
}

func (c *userCache) put(id uuid.UUID, email string, roles []string, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			clear(c.entries)
		}
	}
	c.entries[id] = userEntry{email: email, roles: roles, until: now.Add(c.ttl)}
}

func (c *userCache) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.entries, id)
}
