package mfa

import (
	"bytes"
	"context"
	"encoding/base32"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/outbox"
	"github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// failures counts RecordFailure calls; with lock set it answers 429.
// With locked set, CheckLocked answers 429 (the account is locked).
type failures struct {
	n         atomic.Int64
	successes atomic.Int64
	lock      atomic.Bool
	locked    atomic.Bool
}

func (f *failures) CheckLocked(context.Context, uuid.UUID) error {
	if f.locked.Load() {
		return apierr.New(http.StatusTooManyRequests, "locked", "Too many attempts.")
	}
	return nil
}

func (f *failures) RecordSuccess(context.Context, uuid.UUID) error {
	f.successes.Add(1)
	return nil
}

func (f *failures) RecordFailure(context.Context, uuid.UUID) error {
	f.n.Add(1)
	if f.lock.Load() {
		return apierr.New(http.StatusTooManyRequests, "locked", "Too many attempts.")
	}
	return nil
}

type fixture struct {
	pool  *pgxpool.Pool
	clock *clock
	svc   *Service
	fails *failures
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	pool := dbtest.New(t)
	migs := slices.Concat(user.Migrations(), audit.Migrations(), outbox.Migrations(), Migrations())
	slices.SortStableFunc(migs, func(a, b db.Migration) int { return strings.Compare(a.Name, b.Name) })
	if _, err := db.Migrate(t.Context(), pool, migs); err != nil {
		t.Fatal(err)
	}
	// Start in the middle of a step, so ±1 tests are not at an edge.
	c := &clock{now: time.Unix(1_900_000_015, 0).UTC()}
	f := &fixture{pool: pool, clock: c, fails: &failures{}}
	secret := bytes.Repeat([]byte{7}, 32)
	svc, err := New(pool, secret, "Clinic", c.Now, f.fails)
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	return f
}

func (f *fixture) user(t *testing.T) uuid.UUID {
	t.Helper()
	id := uuid.New()
	if _, err := f.pool.Exec(t.Context(), `INSERT INTO users (id, email, email_key, language, created_at, updated_at)
		VALUES ($1, $2, $2, 'en', now(), now())`, id, id.String()+"@example.test"); err != nil {
		t.Fatal(err)
	}
	return id
}

// enrol sets up TOTP with pquerna/otp as the authenticator app and returns
// the key and recovery codes.
func (f *fixture) enrol(t *testing.T, id uuid.UUID) (*otp.Key, []string) {
	t.Helper()
	e, err := f.svc.BeginTOTP(t.Context(), id, "ada@example.test", f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(t.Context(), id, "ada@example.test", f.code(t, key, 0), f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return key, codes
}

// code is the authenticator's code at now + steps×30 s.
func (f *fixture) code(t *testing.T, key *otp.Key, steps int) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(key.Secret(), f.clock.Now().Add(time.Duration(steps)*Period),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestMFA1_TOTPEnrolmentEncryptedSecretAndSkew: enrolment needs a
// confirming code from the authenticator; the 160-bit secret is stored
// encrypted; codes one step either side are accepted, two are not.
func TestMFA1_TOTPEnrolmentEncryptedSecretAndSkew(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	e, err := f.svc.BeginTOTP(t.Context(), id, "ada@example.test", f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil || key.Issuer() != "Clinic" || key.Period() != 30 || key.Digits() != otp.DigitsSix {
		t.Fatalf("otpauth URL %q: %v", e.URL, err)
	}
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(e.Secret)
	if err != nil || len(raw) != 20 {
		t.Fatalf("secret of %d bytes (%v), want 160 bits", len(raw), err)
	}
	if ok, _ := f.svc.Enrolled(t.Context(), id); ok {
		t.Fatal("enrolled before confirmation")
	}
	if _, err := f.svc.ConfirmTOTP(t.Context(), id, "ada@example.test", "000000", f.clock.Now()); !errors.Is(err, ErrInvalidCode) && f.code(t, key, 0) != "000000" {
		t.Fatalf("wrong confirmation code: %v", err)
	}
	codes, err := f.svc.ConfirmTOTP(t.Context(), id, "ada@example.test", f.code(t, key, 0), f.clock.Now())
	if err != nil || len(codes) != RecoveryCodeCount {
		t.Fatalf("confirm: %v, %d codes", err, len(codes))
	}
	var enc []byte
	if err := f.pool.QueryRow(t.Context(), `SELECT secret_enc FROM mfa_totp WHERE user_id = $1`, id).Scan(&enc); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(enc, raw) || bytes.Contains(enc, []byte(e.Secret)) {
		t.Fatal("TOTP secret stored in plain text")
	}
	f.clock.Advance(3 * Period)
	for _, tc := range []struct {
		steps int
		ok    bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		err := f.svc.Verify(t.Context(), id, f.code(t, key, tc.steps))
		if (err == nil) != tc.ok {
			t.Errorf("code at %+d steps: %v, want ok=%v", tc.steps, err, tc.ok)
		}
	}
}

// TestMFA2_ReplayRefused: the same code twice, an older step after a newer
// one, and ten parallel uses of one code: one success each time.
func TestMFA2_ReplayRefused(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	key, _ := f.enrol(t, id)
	// The confirming code cannot log in.
	if err := f.svc.Verify(t.Context(), id, f.code(t, key, 0)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("confirmation code reused: %v", err)
	}
	f.clock.Advance(2 * Period)
	c := f.code(t, key, 0)
	if err := f.svc.Verify(t.Context(), id, c); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Verify(t.Context(), id, c); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("same code twice: %v", err)
	}
	if err := f.svc.Verify(t.Context(), id, f.code(t, key, -1)); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("step T-1 after T: %v", err)
	}
	f.clock.Advance(2 * Period)
	c = f.code(t, key, 0)
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.svc.Verify(context.Background(), id, c) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 10 parallel uses of one code succeeded, want 1", ok.Load())
	}
}

// TestMFA3_WrongCodesCountTowardLockout: each wrong code is recorded; when
// the lockout answers, its 429 is what the caller gets.
func TestMFA3_WrongCodesCountTowardLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	key, _ := f.enrol(t, id)
	f.clock.Advance(2 * Period)
	before := f.fails.n.Load() // a failed confirmation would count too
	wrong := "123456"
	if wrong == f.code(t, key, 0) || wrong == f.code(t, key, 1) || wrong == f.code(t, key, -1) {
		wrong = "654321"
	}
	for range 3 {
		if err := f.svc.Verify(t.Context(), id, wrong); !errors.Is(err, ErrInvalidCode) {
			t.Fatal(err)
		}
	}
	if err := f.svc.Verify(t.Context(), id, "bad-recovery"); !errors.Is(err, ErrInvalidCode) {
		t.Fatal(err)
	}
	if got := f.fails.n.Load() - before; got != 4 {
		t.Fatalf("%d failures recorded, want 4", got)
	}
	f.fails.lock.Store(true)
	var ae *apierr.Error
	if err := f.svc.Verify(t.Context(), id, wrong); !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
		t.Fatalf("locked: %v", err)
	}
}

// TestMFA4_RecoveryCodesSingleUseAtomic: codes are ≥40 bits, stored hashed,
// consumed once even by ten parallel uses; regenerating voids the old set.
func TestMFA4_RecoveryCodesSingleUseAtomic(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	_, codes := f.enrol(t, id)
	for _, c := range codes {
		if len(strings.ReplaceAll(c, "-", "")) < 8 { // 10 base32 chars = 50 bits
			t.Fatalf("recovery code %q too short", c)
		}
		var n int
		if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM mfa_recovery_codes WHERE hash = $1 OR encode(hash, 'escape') LIKE '%' || $2 || '%'`,
			[]byte(c), c).Scan(&n); err != nil || n != 0 {
			t.Fatalf("recovery code stored in plain text (%d, %v)", n, err)
		}
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if f.svc.Verify(context.Background(), id, codes[0]) == nil {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 {
		t.Fatalf("%d of 10 parallel uses of one recovery code succeeded, want 1", ok.Load())
	}
	fresh, err := f.svc.RegenerateRecoveryCodes(t.Context(), id, "ada@example.test", f.clock.Now())
	if err != nil || len(fresh) != RecoveryCodeCount {
		t.Fatal(err)
	}
	if err := f.svc.Verify(t.Context(), id, codes[1]); !errors.Is(err, ErrInvalidCode) {
		t.Fatalf("old code after regeneration: %v", err)
	}
	if err := f.svc.Verify(t.Context(), id, strings.ToUpper(fresh[0])); err != nil {
		t.Fatalf("new code (upper case): %v", err)
	}
}

// TestMFA5_ChangesNeedRecentAuthAuditedAndNotified.
func TestMFA5_ChangesNeedRecentAuthAuditedAndNotified(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	stale := f.clock.Now().Add(-RecentAuth - time.Minute)
	if _, err := f.svc.BeginTOTP(t.Context(), id, "a", stale); !errors.Is(err, ErrReauth) {
		t.Fatalf("begin with stale auth: %v", err)
	}
	f.enrol(t, id)
	if err := f.svc.Disable(t.Context(), id, "ada@example.test", stale); !errors.Is(err, ErrReauth) {
		t.Fatalf("disable with stale auth: %v", err)
	}
	if _, err := f.svc.RegenerateRecoveryCodes(t.Context(), id, "ada@example.test", stale); !errors.Is(err, ErrReauth) {
		t.Fatalf("regenerate with stale auth: %v", err)
	}
	if err := f.svc.Disable(t.Context(), id, "ada@example.test", f.clock.Now()); err != nil {
		t.Fatal(err)
	}
	var audits, mails int
	_ = f.pool.QueryRow(t.Context(), `SELECT count(*) FROM audit_log WHERE actor_id = $1 AND action IN ('mfa.enable', 'mfa.disable')`, id).Scan(&audits)
	_ = f.pool.QueryRow(t.Context(), `SELECT count(*) FROM mail_outbox WHERE user_id = $1 AND template = 'mfa_changed'`, id).Scan(&mails)
	if audits != 2 || mails != 2 {
		t.Fatalf("%d audit rows and %d mails, want 2 and 2", audits, mails)
	}
	if ok, _ := f.svc.Enrolled(t.Context(), id); ok {
		t.Fatal("still enrolled after disable")
	}
}

// thresholdFailures locks after limit failures, like runtime/user's lockout.
type thresholdFailures struct {
	limit int64
	n     atomic.Int64
}

func (f *thresholdFailures) CheckLocked(context.Context, uuid.UUID) error {
	if f.n.Load() >= f.limit {
		return apierr.New(http.StatusTooManyRequests, "locked", "Too many attempts.")
	}
	return nil
}

func (f *thresholdFailures) RecordSuccess(context.Context, uuid.UUID) error { return nil }

func (f *thresholdFailures) RecordFailure(context.Context, uuid.UUID) error {
	if f.n.Add(1) >= f.limit {
		return apierr.New(http.StatusTooManyRequests, "locked", "Too many attempts.")
	}
	return nil
}

// TestMFA3_ParallelGuessesCannotOvershootTheLockout: forty parallel wrong
// codes against an account that locks after three failures get at most
// three code checks; the rest are refused as locked.
func TestMFA3_ParallelGuessesCannotOvershootTheLockout(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.user(t)
	key, _ := f.enrol(t, id)
	f.clock.Advance(2 * Period)
	th := &thresholdFailures{limit: 3}
	svc, err := New(f.pool, bytes.Repeat([]byte{7}, 32), "Clinic", f.clock.Now, th)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "123456"
	if wrong == f.code(t, key, 0) || wrong == f.code(t, key, 1) || wrong == f.code(t, key, -1) {
		wrong = "654321"
	}
	var checked, locked atomic.Int64
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			err := svc.Verify(t.Context(), id, wrong)
			var ae *apierr.Error
			switch {
			case errors.Is(err, ErrInvalidCode):
				checked.Add(1)
			case errors.As(err, &ae) && ae.Status == http.StatusTooManyRequests:
				locked.Add(1)
			default:
				t.Errorf("verify: %v", err)
			}
		})
	}
	wg.Wait()
	if checked.Load() > 2 || checked.Load()+locked.Load() != 40 || th.n.Load() != 3 {
		t.Fatalf("%d codes checked and refused as wrong, %d refused as locked, %d failures counted; want ≤2 wrong (the 3rd locks), 3 counted",
			checked.Load(), locked.Load(), th.n.Load())
	}
}
