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
//
// A reader that loaded a user before a change committed must not put that
// state back after forget dropped it (the old roles would survive up to the
// TTL). So readers note the generation before reading the database, and put
// stores nothing when a forget happened since. The generation is global:
// forgets are rare (role changes, deletions), and a rejected put only costs
// one more read.
type userCache struct {
	mu      sync.Mutex
	entries expiring[userKey, userEntry]
	gen     uint64 // incremented by every forget
	ttl     time.Duration
}

// userKey is a user and the login session a token names (uuid.Nil for
// tokens without one).
type userKey struct{ user, session uuid.UUID }

type userEntry struct {
	email string
	roles []string
	// memberships: group → group role names (staff), and patient groups.
	staff    map[uuid.UUID][]string
	patients []uuid.UUID
	// sessionOK: the session exists, is the user's, and is neither revoked
	// nor expired (false when the token names no session).
	sessionOK bool
	// sessionPurpose is the session's purpose ("" without a session).
	sessionPurpose string
}

func newUserCache(max int, ttl time.Duration) *userCache {
	return &userCache{entries: newExpiring[userKey, userEntry](max), ttl: ttl}
}

func (c *userCache) get(id userKey, now time.Time) (userEntry, bool) {
	if c.ttl <= 0 {
		return userEntry{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.get(id, now)
}

// generation returns the value to pass to put for a read that starts now.
func (c *userCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// putEntry remembers a user's state read from the database after
// generation returned gen; it does nothing if forget was called since.
func (c *userCache) putEntry(id userKey, e userEntry, now time.Time, gen uint64) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	c.entries.set(id, e, now.Add(c.ttl), now)
}

// forget drops what is cached of a user (every session) and keeps reads
// that started before from being cached.
func (c *userCache) forget(id uuid.UUID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries.deleteFunc(func(k userKey) bool { return k.user == id })
}
