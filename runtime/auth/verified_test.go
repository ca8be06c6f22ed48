package auth

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
	if len(c.entries) > 3 {
		t.Fatalf("cache holds %d entries, bound is 3", len(c.entries))
	}
}
