package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// Params are argon2id cost parameters (RFC 9106). Memory is in KiB.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8  // lanes
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams returns the parameters new hashes are made with: the OWASP
// minimum for argon2id, m=19 MiB, t=2, p=1, with a 16-byte salt and a
// 32-byte key (SECURITY.md AUTH-1).
func DefaultParams() Params {
	return Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Bounds on parameters read from a stored or imported hash (AUTH-2). A hash
// outside them is rejected before any memory is allocated for it.
const (
	MaxMemory  = 1 << 20 // KiB, i.e. 1 GiB
	MaxTime    = 10
	MaxThreads = 16
	MinSaltLen = 8
	MaxSaltLen = 64
	MinKeyLen  = 16
	MaxKeyLen  = 64

	// maxEncodedLen bounds the whole PHC string: the longest valid one,
	// with MaxSaltLen and MaxKeyLen, is well under this.
	maxEncodedLen = 256
)

// Password policy (AUTH-4), counted in Unicode code points after NFKC
// normalisation.
const (
	MinPasswordLen = 15
	MaxPasswordLen = 128
)

// ErrInvalidHash reports a stored password hash that is malformed, of an
// unknown algorithm, or whose parameters are outside the accepted bounds.
var ErrInvalidHash = errors.New("invalid password hash")

// ErrBusy is returned when a password cannot be hashed because every hashing
// slot stayed busy until the caller's context ended (AUTH-3).
var ErrBusy = apierr.New(http.StatusServiceUnavailable, apierr.CodeUnavailable,
	"The server is busy. Try again shortly.")

// Hasher hashes and verifies passwords with argon2id, running at most a
// fixed number of hashes at a time: argon2id is memory- and CPU-hard on
// purpose, so an unbounded number of concurrent logins would exhaust the
// machine (AUTH-3). Callers beyond the limit wait until a slot frees or
// their context ends.
type Hasher struct {
	params Params
	slots  chan struct{}
}

// NewHasher returns a Hasher making new hashes with params and running at
// most concurrency hashes at once (at least 1). It panics if params are
// outside the bounds a stored hash may have (a programming error).
func NewHasher(params Params, concurrency int) *Hasher {
	if err := checkParams(params); err != nil {
		panic("auth: NewHasher: " + err.Error())
	}
	return &Hasher{params: params, slots: make(chan struct{}, max(concurrency, 1))}
}

// defaultHasher bounds hashing process-wide: the resource it protects (CPU
// cores and memory) is per process, so every caller must share one limit.
// It is created once and never reassigned.
var defaultHasher = NewHasher(DefaultParams(), runtime.NumCPU())

// DefaultHasher returns the process-wide Hasher: DefaultParams, at most
// runtime.NumCPU() hashes at once. Services share it so the cap holds for
// the whole process.
func DefaultHasher() *Hasher { return defaultHasher }

// HashPassword hashes password with DefaultHasher.
func HashPassword(ctx context.Context, password string) (string, error) {
	return defaultHasher.Hash(ctx, password)
}

// VerifyPassword checks password against encoded with DefaultHasher.
func VerifyPassword(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	return defaultHasher.Verify(ctx, encoded, password)
}

// Params returns the parameters new hashes are made with.
func (h *Hasher) Params() Params { return h.params }

// Hash returns the argon2id PHC string of the NFKC-normalised password:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash> (unpadded standard base64).
// It does not apply the password policy; see CheckPassword.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	p := h.params
	salt := make([]byte, p.SaltLen)
	_, _ = rand.Read(salt) // never fails (crypto/rand, Go ≥1.24)
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.release()
	return encodePHC(p, salt, key), nil
}

// Verify reports whether password matches encoded, and whether encoded
// was made with parameters weaker than (or different from) the Hasher's, so
// the caller should store a fresh Hash after a successful login (AUTH-2).
// A malformed or out-of-bounds hash yields an error wrapping ErrInvalidHash
// without any hashing being done.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error) {
	p, salt, want, err := decodePHC(encoded)
	if err != nil {
		return false, false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(norm.NFKC.String(password)), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	h.release()
	if subtle.ConstantTimeCompare(got, want) != 1 {
		return false, false, nil
	}
	return true, h.needsRehash(p), nil
}

// Decoy returns a PHC string with h's parameters and a random salt and key,
// which no password matches in practice. Verifying against it costs as
// much as verifying a real hash, so a login for an unknown user can take as
// long as one with a wrong password (AUTH-7).
func (h *Hasher) Decoy() string {
	p := h.params
	b := make([]byte, p.SaltLen+p.KeyLen)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go ≥1.24)
	return encodePHC(p, b[:p.SaltLen], b[p.SaltLen:])
}

func (h *Hasher) needsRehash(p Params) bool {
	c := h.params
	return p.Memory < c.Memory || p.Time < c.Time || p.Threads != c.Threads ||
		p.SaltLen < c.SaltLen || p.KeyLen < c.KeyLen
}

func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return apierr.Wrap(err, ErrBusy.Status, ErrBusy.Code, ErrBusy.Message)
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return apierr.Wrap(ctx.Err(), ErrBusy.Status, ErrBusy.Code, ErrBusy.Message)
	}
}

func (h *Hasher) release() { <-h.slots }

// ValidateHash checks that encoded is an argon2id PHC string whose
// parameters are within bounds, e.g. before importing it (AUTH-2).
func ValidateHash(encoded string) error {
	_, _, _, err := decodePHC(encoded)
	return err
}

// DecodeHash returns the parameters of a PHC string, validated as by
// ValidateHash.
func DecodeHash(encoded string) (Params, error) {
	p, _, _, err := decodePHC(encoded)
	return p, err
}

func encodePHC(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decodePHC parses $argon2id$v=19$m=<m>,t=<t>,p=<p>$<salt>$<hash> strictly
// and checks every bound before anything is decoded or allocated.
func decodePHC(encoded string) (Params, []byte, []byte, error) {
	var p Params
	if len(encoded) > maxEncodedLen {
		return p, nil, nil, fmt.Errorf("%w: too long", ErrInvalidHash)
	}
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, fmt.Errorf("%w: not a PHC string", ErrInvalidHash)
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: unsupported algorithm", ErrInvalidHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported version", ErrInvalidHash)
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, fmt.Errorf("%w: malformed parameters", ErrInvalidHash)
	}
	m, err1 := phcUint(kv[0], "m=")
	t, err2 := phcUint(kv[1], "t=")
	par, err3 := phcUint(kv[2], "p=")
	if err := errors.Join(err1, err2, err3); err != nil {
		return p, nil, nil, err
	}
	switch {
	case m > MaxMemory:
		return p, nil, nil, fmt.Errorf("%w: memory %d KiB exceeds %d KiB", ErrInvalidHash, m, MaxMemory)
	case t < 1 || t > MaxTime:
		return p, nil, nil, fmt.Errorf("%w: time %d outside 1..%d", ErrInvalidHash, t, MaxTime)
	case par < 1 || par > MaxThreads:
		return p, nil, nil, fmt.Errorf("%w: parallelism %d outside 1..%d", ErrInvalidHash, par, MaxThreads)
	case m < 8*par:
		return p, nil, nil, fmt.Errorf("%w: memory %d KiB below 8*p", ErrInvalidHash, m)
	}
	b64 := base64.RawStdEncoding.Strict()
	saltLen, keyLen := b64.DecodedLen(len(parts[4])), b64.DecodedLen(len(parts[5]))
	if saltLen < MinSaltLen || saltLen > MaxSaltLen {
		return p, nil, nil, fmt.Errorf("%w: salt length %d outside %d..%d", ErrInvalidHash, saltLen, MinSaltLen, MaxSaltLen)
	}
	if keyLen < MinKeyLen || keyLen > MaxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: key length %d outside %d..%d", ErrInvalidHash, keyLen, MinKeyLen, MaxKeyLen)
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: salt is not base64", ErrInvalidHash)
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil {
		return p, nil, nil, fmt.Errorf("%w: hash is not base64", ErrInvalidHash)
	}
	p = Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(par), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}
	return p, salt, key, nil
}

// phcUint parses "<prefix><decimal>" with no sign, no leading zeros and at
// most 10 digits.
func phcUint(s, prefix string) (uint64, error) {
	d, ok := strings.CutPrefix(s, prefix)
	if !ok || d == "" || len(d) > 10 || (len(d) > 1 && d[0] == '0') {
		return 0, fmt.Errorf("%w: malformed parameter %q", ErrInvalidHash, prefix)
	}
	for _, c := range []byte(d) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: malformed parameter %q", ErrInvalidHash, prefix)
		}
	}
	return strconv.ParseUint(d, 10, 64)
}

func checkParams(p Params) error {
	switch {
	case p.Memory > MaxMemory, p.Time < 1, p.Time > MaxTime, p.Threads < 1, p.Threads > MaxThreads,
		p.Memory < 8*uint32(p.Threads), p.SaltLen < MinSaltLen, p.SaltLen > MaxSaltLen,
		p.KeyLen < MinKeyLen, p.KeyLen > MaxKeyLen:
		return fmt.Errorf("argon2id parameters %+v outside bounds", p)
	}
	return nil
}
