package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
)

// AlgES256 is the only signing algorithm in use: ECDSA P-256 with SHA-256.
const AlgES256 = "ES256"

// keysLockID is the pg_advisory_xact_lock key serialising key creation and
// rotation across replicas ("exh.auth_signing_keys" as an int64 constant).
const keysLockID int64 = 0x6578685f6b657973 // "exh_keys"

// JWK is the public half of a signing key as published in the JWKS
// (RFC 7517, RFC 7518 §6.2).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// signingKey is one row of auth_signing_keys, decoded.
type signingKey struct {
	kid       string
	alg       string
	private   *ecdsa.PrivateKey // nil unless the key may still sign
	public    *ecdsa.PublicKey
	jwk       JWK
	createdAt time.Time
	retiredAt time.Time // zero while active
}

// Keys is the set of JWT signing keys, stored in the auth_signing_keys
// table and cached in memory. Exactly one key is active (signs new tokens);
// retired keys keep verifying the tokens they signed until those must have
// expired. Every replica sees the same keys: creation and rotation run in a
// transaction under an advisory lock.
type Keys struct {
	pool  *pgxpool.Pool
	clock func() time.Time

	// verifyFor is how long a retired key keeps verifying: the longest
	// token lifetime plus leeway plus cacheTTL (another replica may sign
	// with a key for up to cacheTTL after it was retired elsewhere).
	verifyFor time.Duration
	// cacheTTL is how long loaded keys are trusted before a reload.
	cacheTTL time.Duration
	// unknownKidEvery bounds reloads triggered by unknown kids, so tokens
	// with random kids cannot turn into a query per request.
	unknownKidEvery time.Duration

	loadMu sync.Mutex // serialises loads and creation

	mu          sync.Mutex // guards the fields below
	keys        map[string]*signingKey
	active      *signingKey
	loadedAt    time.Time
	attempts    uint64 // incremented by every load attempt that ran
	loadErr     error  // error of the last attempt; nil after a success
	failedAt    time.Time
	lastUnknown time.Time
}

// reloadBackoff is how long after a failed load the cached keys are used
// as they are, without another attempt (unless a token names an unknown
// kid; see unknownKidEvery). While the database is down, verifying a token
// must not wait for a connection attempt on every request.
const reloadBackoff = 5 * time.Second

func newKeys(pool *pgxpool.Pool, clock func() time.Time, verifyFor, cacheTTL, unknownKidEvery time.Duration) *Keys {
	return &Keys{
		pool: pool, clock: clock,
		verifyFor: verifyFor + cacheTTL, cacheTTL: cacheTTL, unknownKidEvery: unknownKidEvery,
	}
}

// signing returns the active key, loading the keys when the cache is stale
// and creating the first key when none is active.
func (k *Keys) signing(ctx context.Context) (*signingKey, error) {
	k.mu.Lock()
	active, fresh := k.active, k.fresh()
	k.mu.Unlock()
	if active != nil && fresh {
		return active, nil
	}
	if err := k.reload(ctx, true); err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.active == nil {
		return nil, errors.New("no active signing key")
	}
	return k.active, nil
}

// verifying returns the key with the given kid if it may verify tokens now.
// An unknown kid triggers a reload at most once per unknownKidEvery. When a
// reload fails, the keys loaded before keep verifying (a database outage
// must not turn valid tokens into 401s, which make clients discard them);
// with no keys cached, the error is a 503 *apierr.Error.
func (k *Keys) verifying(ctx context.Context, kid string) (*signingKey, error) {
	now := k.clock()
	k.mu.Lock()
	key, ok := k.keys[kid]
	unknown := !ok && now.Sub(k.lastUnknown) >= k.unknownKidEvery
	reload := unknown || (!k.fresh() && !k.backingOff(now))
	if unknown {
		k.lastUnknown = now
	}
	k.mu.Unlock()
	if reload {
		err := k.reload(ctx, false)
		k.mu.Lock()
		key, ok = k.keys[kid]
		cached := len(k.keys) > 0
		k.mu.Unlock()
		if err != nil && !cached {
			return nil, apierr.Wrap(fmt.Errorf("load signing keys: %w", err),
				http.StatusServiceUnavailable, apierr.CodeUnavailable,
				"The service is temporarily unavailable. Please retry shortly.")
		}
	}
	if !ok {
		return nil, errUnknownKid
	}
	if !key.retiredAt.IsZero() && !now.Before(key.retiredAt.Add(k.verifyFor)) {
		return nil, errRetiredKey
	}
	return key, nil
}

var (
	errUnknownKid = errors.New("unknown kid")
	errRetiredKey = errors.New("signing key retired")
)

// fresh reports whether the cache may be used; k.mu must be held.
func (k *Keys) fresh() bool {
	return !k.loadedAt.IsZero() && k.clock().Sub(k.loadedAt) < k.cacheTTL
}

// backingOff reports whether the last load failed less than reloadBackoff
// (at most cacheTTL) ago and keys from before are cached; k.mu must be held.
func (k *Keys) backingOff(now time.Time) bool {
	return k.loadErr != nil && len(k.keys) > 0 && now.Sub(k.failedAt) < min(reloadBackoff, k.cacheTTL)
}

// Public returns the public keys that currently verify tokens (the active
// key and retired keys still in their verification window): the active key
// first, then the newest. When the keys cannot be reloaded, the ones loaded
// before are returned.
func (k *Keys) Public(ctx context.Context) ([]JWK, error) {
	if _, err := k.signing(ctx); err != nil {
		k.mu.Lock()
		cached := k.active != nil
		k.mu.Unlock()
		if !cached {
			return nil, err
		}
	}
	now := k.clock()
	k.mu.Lock()
	defer k.mu.Unlock()
	keys := make([]*signingKey, 0, len(k.keys))
	for _, key := range k.keys {
		if key.retiredAt.IsZero() || now.Before(key.retiredAt.Add(k.verifyFor)) {
			keys = append(keys, key)
		}
	}
	slices.SortFunc(keys, func(a, b *signingKey) int {
		if a.retiredAt.IsZero() != b.retiredAt.IsZero() { // the active key first
			if a.retiredAt.IsZero() {
				return -1
			}
			return 1
		}
		if c := b.createdAt.Compare(a.createdAt); c != 0 {
			return c
		}
		return compareStrings(a.kid, b.kid)
	})
	out := make([]JWK, len(keys))
	for i, key := range keys {
		out[i] = key.jwk
	}
	return out, nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Rotate creates a new active key and retires the current one, which keeps
// verifying the tokens it signed until they have expired (TOK-4). It returns
// the new kid.
func (k *Keys) Rotate(ctx context.Context) (string, error) {
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	var kid string
	err := db.InTx(ctx, k.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLockID); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		now := k.clock()
		if _, err := tx.Exec(ctx,
			`UPDATE auth_signing_keys SET retired_at = $1 WHERE retired_at IS NULL`, now); err != nil {
			return fmt.Errorf("retire signing keys: %w", err)
		}
		var err error
		kid, err = insertKey(ctx, tx, now)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	return kid, k.loadLocked(ctx)
}

// reload loads the keys from the database; with create, it also makes
// sure an active key exists. Concurrent callers share one load attempt, and
// its failure: while the database is down, callers queued behind a failing
// attempt do not each wait for one of their own.
func (k *Keys) reload(ctx context.Context, create bool) error {
	k.mu.Lock()
	seen := k.attempts
	k.mu.Unlock()
	k.loadMu.Lock()
	defer k.loadMu.Unlock()
	k.mu.Lock()
	tried, lastErr := k.attempts != seen, k.loadErr // another goroutine tried while this one waited
	k.mu.Unlock()
	if tried && lastErr != nil {
		return lastErr
	}
	if !tried {
		if err := k.loadLocked(ctx); err != nil {
			return err
		}
	}
	k.mu.Lock()
	missing := k.active == nil
	k.mu.Unlock()
	if !create || !missing {
		return nil
	}
	err := db.InTx(ctx, k.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, keysLockID); err != nil {
			return fmt.Errorf("lock signing keys: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx,
			`SELECT EXISTS (SELECT 1 FROM auth_signing_keys WHERE retired_at IS NULL)`).Scan(&exists); err != nil {
			return fmt.Errorf("check signing keys: %w", err)
		}
		if exists { // another replica won the race
			return nil
		}
		_, err := insertKey(ctx, tx, k.clock())
		return err
	})
	if err != nil {
		return fmt.Errorf("create signing key: %w", err)
	}
	return k.loadLocked(ctx)
}

// loadLocked replaces the cache with the keys in the database that may
// still verify tokens; k.loadMu must be held. A failure leaves the cache as
// it was and is remembered (for reload and backingOff) unless ctx ended:
// then it says nothing about the database.
func (k *Keys) loadLocked(ctx context.Context) error {
	now := k.clock()
	keys, active, err := k.query(ctx, now)
	if err != nil && ctx.Err() != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.attempts++
	k.loadErr = err
	if err != nil {
		k.failedAt = now
		return err
	}
	k.keys, k.active, k.loadedAt = keys, active, now
	return nil
}

// query reads the keys that may still verify tokens at now.
func (k *Keys) query(ctx context.Context, now time.Time) (map[string]*signingKey, *signingKey, error) {
	rows, err := db.Query(ctx, k.pool, `
		SELECT kid, alg, private_key, public_jwk, created_at, retired_at
		FROM auth_signing_keys
		WHERE retired_at IS NULL OR retired_at > $1`, now.Add(-k.verifyFor))
	if err != nil {
		return nil, nil, fmt.Errorf("load signing keys: %w", err)
	}
	defer rows.Close()
	keys := map[string]*signingKey{}
	var active *signingKey
	for rows.Next() {
		var (
			key     signingKey
			der     []byte
			jwk     []byte
			retired *time.Time
		)
		if err := rows.Scan(&key.kid, &key.alg, &der, &jwk, &key.createdAt, &retired); err != nil {
			return nil, nil, fmt.Errorf("load signing keys: %w", err)
		}
		if err := decodeKey(&key, der, jwk); err != nil {
			return nil, nil, fmt.Errorf("load signing key %q: %w", key.kid, err)
		}
		if retired != nil {
			key.retiredAt = *retired
			key.private = nil
		} else if active == nil || key.createdAt.After(active.createdAt) {
			active = &key
		}
		keys[key.kid] = &key
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("load signing keys: %w", err)
	}
	return keys, active, nil
}

func decodeKey(key *signingKey, der, jwk []byte) error {
	if key.alg != AlgES256 {
		return fmt.Errorf("unsupported algorithm %q", key.alg)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || priv.Curve != elliptic.P256() {
		return errors.New("private key is not ECDSA P-256")
	}
	if err := json.Unmarshal(jwk, &key.jwk); err != nil {
		return fmt.Errorf("decode public JWK: %w", err)
	}
	if want := publicJWK(&priv.PublicKey, key.kid); key.jwk != want {
		return errors.New("public JWK does not match private key")
	}
	key.private, key.public = priv, &priv.PublicKey
	return nil
}

// insertKey generates a P-256 key and stores it as the active key.
func insertKey(ctx context.Context, tx pgx.Tx, now time.Time) (string, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return "", fmt.Errorf("encode signing key: %w", err)
	}
	kid := thumbprint(&priv.PublicKey)
	jwk, err := json.Marshal(publicJWK(&priv.PublicKey, kid))
	if err != nil {
		return "", fmt.Errorf("encode public JWK: %w", err)
	}
	if _, err := tx.Exec(ctx, `
		INSERT INTO auth_signing_keys (kid, alg, private_key, public_jwk, created_at)
		VALUES ($1, $2, $3, $4, $5)`, kid, AlgES256, der, jwk, now); err != nil {
		return "", fmt.Errorf("store signing key: %w", err)
	}
	return kid, nil
}

func publicJWK(pub *ecdsa.PublicKey, kid string) JWK {
	x, y := coordinates(pub)
	b64 := base64.RawURLEncoding
	return JWK{Kty: "EC", Crv: "P-256", X: b64.EncodeToString(x), Y: b64.EncodeToString(y),
		Kid: kid, Alg: AlgES256, Use: "sig"}
}

// coordinates returns the 32-byte big-endian X and Y of a P-256 key.
func coordinates(pub *ecdsa.PublicKey) (x, y []byte) {
	// Uncompressed SEC 1 point: 0x04 || X || Y.
	b, err := pub.Bytes()
	if err != nil || len(b) != 65 {
		panic("auth: invalid P-256 public key")
	}
	return b[1:33], b[33:]
}

// thumbprint is the RFC 7638 JWK thumbprint (SHA-256, base64url), used as
// kid: a new key always gets a new kid (TOK-4).
func thumbprint(pub *ecdsa.PublicKey) string {
	x, y := coordinates(pub)
	b64 := base64.RawURLEncoding
	canon := `{"crv":"P-256","kty":"EC","x":"` + b64.EncodeToString(x) + `","y":"` + b64.EncodeToString(y) + `"}`
	sum := sha256.Sum256([]byte(canon))
	return b64.EncodeToString(sum[:])
}
