package auth

import (
	"crypto/sha256"
	"sync"
	"time"
)

// verifiedCache remembers tokens whose signature and claims were verified,
// so a client sending the same token on every request pays for one ECDSA
// verification a minute instead of one per request (it was half of a
// get-by-id's CPU). An entry never outlives the token's exp, and a rotated
// key keeps verifying its tokens until they expire anyway (TOK-4), so the
// cache never accepts a token the full check would refuse. Only the
// signature and claims checks are cached: Authenticate still looks the
// user up on every request.
type verifiedCache struct {
	mu      sync.Mutex
	entries expiring[[sha256.Size]byte, *AccessClaims]
	ttl     time.Duration
}

const (
	verifiedCacheSize = 10000
	verifiedCacheTTL  = time.Minute
)

func newVerifiedCache(max int, ttl time.Duration) *verifiedCache {
	return &verifiedCache{entries: newExpiring[[sha256.Size]byte, *AccessClaims](max), ttl: ttl}
}

// get returns the claims of a token verified before, if still valid at now.
func (c *verifiedCache) get(token string, now time.Time) (*AccessClaims, bool) {
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries.get(key, now)
}

// put remembers verified claims until the earlier of exp and now+ttl.
func (c *verifiedCache) put(token string, claims *AccessClaims, now time.Time) {
	until := now.Add(c.ttl)
	if claims.ExpiresAt == nil {
		return
	}
	if exp := claims.ExpiresAt.Time; exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	key := sha256.Sum256([]byte(token))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries.set(key, claims, until, now)
}
