package auth

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
)

func requireStatus(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("err = %v, want %d %s", err, status, code)
	}
}

// TestAV5_VerifyKeepsStaleKeysWhileDatabaseDown lets the key cache go stale
// and takes the database away: valid tokens still verify with the cached
// keys (a 401 would make clients throw them away), and the failed reload is
// not retried on every request.
func TestAV5_VerifyKeepsStaleKeysWhileDatabaseDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithKeyCache(time.Minute, 10*time.Second))
	ctx := t.Context()
	tok1, tok2 := f.issue(t), f.issue(t) // loads the keys; neither verified yet
	f.pool.Close()
	f.clock.Advance(2 * time.Minute) // the key cache is stale

	if _, err := f.tokens.Verify(ctx, tok1); err != nil {
		t.Fatalf("valid token refused while the database is down: %v", err)
	}
	keys := f.tokens.Keys()
	keys.mu.Lock()
	attempts, loadErr := keys.attempts, keys.loadErr
	keys.mu.Unlock()
	if loadErr == nil || !db.IsUnavailable(loadErr) {
		t.Fatalf("last load error = %v, want the database unavailable", loadErr)
	}
	// Within the back-off, no new attempt.
	if _, err := f.tokens.Verify(ctx, tok2); err != nil {
		t.Fatalf("valid token refused while the database is down: %v", err)
	}
	keys.mu.Lock()
	if keys.attempts != attempts {
		t.Errorf("reload retried within the back-off (%d attempts, want %d)", keys.attempts, attempts)
	}
	keys.mu.Unlock()
	// The JWKS is still served from the cache.
	if _, err := f.tokens.JWKS(ctx); err != nil {
		t.Errorf("JWKS while the database is down: %v", err)
	}
	// Authenticate cannot load the user: a 503, not a 401 or a 500.
	_, err := f.tokens.Authenticate(ctx, tok1)
	requireStatus(t, err, http.StatusServiceUnavailable, apierr.CodeUnavailable)

	// Forged tokens are still refused.
	forged := tok1[:len(tok1)-4] + "AAAA"
	if forged == tok1 {
		forged = tok1[:len(tok1)-4] + "BBBB"
	}
	_, err = f.tokens.Verify(ctx, forged)
	requireUnauthorized(t, err)
}

// TestAV5_VerifyWithoutKeysWhileDatabaseDownIs503 starts a replica while
// the database is down: with no keys ever loaded it cannot judge a token,
// so it answers 503, not 401.
func TestAV5_VerifyWithoutKeysWhileDatabaseDownIs503(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	tok := f.issue(t)
	replica := NewTokens(f.pool, issuer, 15*time.Minute, f.clock.Now, WithRoles(testRoles))
	f.pool.Close()

	_, err := replica.Verify(t.Context(), tok)
	requireStatus(t, err, http.StatusServiceUnavailable, apierr.CodeUnavailable)
	_, err = replica.Authenticate(t.Context(), tok)
	requireStatus(t, err, http.StatusServiceUnavailable, apierr.CodeUnavailable)
}
