package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

func TestVerifiedCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	claims := func(exp time.Time) *AccessClaims {
		return &AccessClaims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(exp)}}
	}
	c := newVerifiedCache(3, time.Minute)

	c.put("a", claims(now.Add(10*time.Second)), now)
	if _, ok := c.get("a", now.Add(9*time.Second)); !ok {
		t.Fatal("a verified token is not remembered")
	}
	if _, ok := c.get("a", now.Add(10*time.Second)); ok {
		t.Fatal("a token is remembered past its exp")
	}
	c.put("b", claims(now.Add(time.Hour)), now)
	if _, ok := c.get("b", now.Add(time.Minute)); ok {
		t.Fatal("a token is remembered past the cache TTL")
	}
	c.put("expired", claims(now.Add(-time.Second)), now)
	if _, ok := c.get("expired", now); ok {
		t.Fatal("an expired token was remembered")
	}
	c.put("noexp", &AccessClaims{}, now)
	if _, ok := c.get("noexp", now); ok {
		t.Fatal("a token without exp was remembered")
	}
	for i := range 10 {
		c.put(fmt.Sprint(i), claims(now.Add(time.Hour)), now)
	}
	if len(c.entries.entries) > 3 {
		t.Fatalf("cache holds %d entries, bound is 3", len(c.entries.entries))
	}
}

func TestUserCache(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	id := uuid.New()
	off := newUserCache(10, 0)
	off.putEntry(key(id), userEntry{email: "a@example.com", roles: nil}, now, off.generation())
	if _, ok := off.get(key(id), now); ok {
		t.Fatal("a cache with TTL 0 remembered a user")
	}
	c := newUserCache(2, time.Second)
	c.putEntry(key(id), userEntry{email: "a@example.com", roles: []string{"clinician"}}, now, c.generation())
	if e, ok := c.get(key(id), now.Add(999*time.Millisecond)); !ok || e.email != "a@example.com" {
		t.Fatal("a user is not remembered within the TTL")
	}
	if _, ok := c.get(key(id), now.Add(time.Second)); ok {
		t.Fatal("a user is remembered past the TTL")
	}
	c.putEntry(key(id), userEntry{email: "a@example.com", roles: nil}, now, c.generation())
	c.forget(id)
	if _, ok := c.get(key(id), now); ok {
		t.Fatal("a forgotten user is remembered")
	}
	for range 5 {
		c.putEntry(key(uuid.New()), userEntry{email: "x@example.com"}, now, c.generation())
	}
	if len(c.entries.entries) > 2 {
		t.Fatalf("cache holds %d entries, bound is 2", len(c.entries.entries))
	}
}
