package auth

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// cheap makes tests fast; AUTH-1 checks the real parameters.
func cheapHasher() *Hasher {
	return NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 4)
}

func TestAUTH1_HashUsesArgon2idPHCWithOWASPParams(t *testing.T) {
	t.Parallel()
	enc, err := HashPassword(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`).MatchString(enc) {
		t.Fatalf("hash %q is not the expected PHC string", enc)
	}
	p, err := DecodeHash(enc)
	if err != nil {
		t.Fatal(err)
	}
	want := Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if p != want {
		t.Fatalf("decoded params %+v, want %+v", p, want)
	}
	if p.Memory < 19*1024 || p.Time < 2 || p.Threads != 1 || p.SaltLen < 16 {
		t.Fatalf("params %+v below AUTH-1 minimum", p)
	}
	ok, rehash, err := VerifyPassword(t.Context(), enc, "correct horse battery staple")
	if err != nil || !ok || rehash {
		t.Fatalf("verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
	enc2, err := HashPassword(t.Context(), "correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if enc2 == enc {
		t.Fatal("two hashes of one password are equal: salt not random")
	}
}

func TestHasherVerify(t *testing.T) {
	t.Parallel()
	h := cheapHasher()
	ctx := t.Context()
	enc, err := h.Hash(ctx, "An\u212Bgstr\u00F6m is a unit of length") // U+212B ANGSTROM SIGN
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"same", "An\u212Bgstr\u00F6m is a unit of length", true},
		{"NFKC equivalent", "An\u00C5gstro\u0308m is a unit of length", true}, // Å, o + combining diaeresis
		{"wrong", "An\u212Bgstr\u00F6m is a unit of lengtH", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, rehash, err := h.Verify(ctx, enc, tt.password)
			if err != nil || ok != tt.want || rehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.want)
			}
		})
	}
}

// TestAUTH2_HugeMemoryHashRejectedWithoutAllocating is not parallel: it
// measures the bytes allocated while it runs.
func TestAUTH2_HugeMemoryHashRejectedWithoutAllocating(t *testing.T) {
	huge := "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ok, _, err := VerifyPassword(context.Background(), huge, "whatever password")
	runtime.ReadMemStats(&after)
	if ok || !errors.Is(err, ErrInvalidHash) {
		t.Fatalf("Verify(m=4GiB) = %v, %v; want false, ErrInvalidHash", ok, err)
	}
	if d := after.TotalAlloc - before.TotalAlloc; d > 1<<20 {
		t.Fatalf("rejecting the hash allocated %d bytes", d)
	}
}

func TestAUTH2_StoredParamsBounded(t *testing.T) {
	t.Parallel()
	const salt, key = "c2FsdHNhbHRzYWx0c2FsdA", "aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	valid := "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key
	if err := ValidateHash(valid); err != nil {
		t.Fatalf("valid hash rejected: %v", err)
	}
	tests := map[string]string{
		"m=4GiB":             "$argon2id$v=19$m=4194304,t=2,p=1$" + salt + "$" + key,
		"m just over 1GiB":   "$argon2id$v=19$m=1048577,t=2,p=1$" + salt + "$" + key,
		"m overflows uint32": "$argon2id$v=19$m=99999999999,t=2,p=1$" + salt + "$" + key,
		"t=11":               "$argon2id$v=19$m=19456,t=11,p=1$" + salt + "$" + key,
		"t=0":                "$argon2id$v=19$m=19456,t=0,p=1$" + salt + "$" + key,
		"p=17":               "$argon2id$v=19$m=19456,t=2,p=17$" + salt + "$" + key,
		"p=0":                "$argon2id$v=19$m=19456,t=2,p=0$" + salt + "$" + key,
		"m below 8p":         "$argon2id$v=19$m=8,t=2,p=2$" + salt + "$" + key,
		"negative":           "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key,
		"plus sign":          "$argon2id$v=19$m=+19456,t=2,p=1$" + salt + "$" + key,
		"leading zero":       "$argon2id$v=19$m=019456,t=2,p=1$" + salt + "$" + key,
		"reordered":          "$argon2id$v=19$t=2,m=19456,p=1$" + salt + "$" + key,
		"extra param":        "$argon2id$v=19$m=19456,t=2,p=1,k=1$" + salt + "$" + key,
		"argon2i":            "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"version 16":         "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"bcrypt":             "$2a$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
		"short salt":         "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$" + key,
		"short key":          "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$aGFzaA",
		"long key":           "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + strings.Repeat("A", 90),
		"padded base64":      "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"bad base64":         "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$" + key[:len(key)-1] + "!",
		"trailing field":     valid + "$x",
		"missing leading $":  valid[1:],
		"empty":              "",
		"huge string":        valid + strings.Repeat("A", 1<<20),
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if err := ValidateHash(enc); !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("ValidateHash = %v, want ErrInvalidHash", err)
			}
			ok, _, err := cheapHasher().Verify(t.Context(), enc, "password")
			if ok || !errors.Is(err, ErrInvalidHash) {
				t.Fatalf("Verify = %v, %v; want false, ErrInvalidHash", ok, err)
			}
		})
	}
}

func TestAUTH2_NeedsRehashWhenParamsOutdated(t *testing.T) {
	t.Parallel()
	current := Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	h := NewHasher(current, 2)
	tests := []struct {
		name string
		old  Params
		want bool
	}{
		{"current", current, false},
		{"stronger", Params{Memory: 512, Time: 3, Threads: 1, SaltLen: 32, KeyLen: 64}, false},
		{"less memory", Params{Memory: 128, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"fewer passes", Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, true},
		{"other parallelism", Params{Memory: 256, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, true},
		{"shorter salt", Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 8, KeyLen: 32}, true},
		{"shorter key", Params{Memory: 256, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 16}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enc, err := NewHasher(tt.old, 1).Hash(t.Context(), "a long enough password")
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := h.Verify(t.Context(), enc, "a long enough password")
			if err != nil || !ok || rehash != tt.want {
				t.Fatalf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
		})
	}
}

func TestAUTH3_HashingIsCappedAndRespectsContext(t *testing.T) {
	t.Parallel()
	if c := cap(DefaultHasher().slots); c != runtime.NumCPU() {
		t.Fatalf("default hasher allows %d concurrent hashes, want NumCPU=%d", c, runtime.NumCPU())
	}
	h := NewHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	h.slots <- struct{}{} // the only slot is busy

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(ctx, "queued password that waits")
		done <- err
	}()
	cancel()
	err := <-done
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable || ae.Code != apierr.CodeUnavailable {
		t.Fatalf("Hash while saturated and cancelled = %v, want 503 %s", err, apierr.CodeUnavailable)
	}
	if _, _, err := h.Verify(ctx, h.Decoy(), "x"); !errors.As(err, &ae) || ae.Status != http.StatusServiceUnavailable {
		t.Fatalf("Verify while saturated and cancelled = %v, want 503", err)
	}

	<-h.slots // free the slot
	if _, err := h.Hash(t.Context(), "now there is room"); err != nil {
		t.Fatalf("Hash after release: %v", err)
	}
	if len(h.slots) != 0 {
		t.Fatalf("slot not released after hashing")
	}
}

func TestAUTH4_PasswordPolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		password string
		code     string // "" = accepted
	}{
		{"14 chars", strings.Repeat("a", 14), CodePasswordTooShort},
		{"15 chars", "tangerine rhomb", ""},
		{"15 chars but breached", strings.Repeat("a", 15), CodePasswordBreached},
		{"15 chars with spaces only", strings.Repeat(" ", 15), ""},
		{"14 multibyte chars", strings.Repeat("é", 14), CodePasswordTooShort},
		{"64 emoji", strings.Repeat("\U0001F600", 64), ""},
		{"128 chars", strings.Repeat("x", 128), ""},
		{"129 chars", strings.Repeat("x", 129), CodePasswordTooLong},
		{"no composition rules", "alllowercaseletterswithoutdigits", ""},
		{"invalid UTF-8", strings.Repeat("a", 15) + "\xff", CodePasswordInvalid},
		{"empty", "", CodePasswordTooShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckPassword(tt.password)
			if tt.code == "" {
				if err != nil {
					t.Fatalf("CheckPassword = %v, want nil", err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) {
				t.Fatalf("CheckPassword = %v, want *apierr.Error", err)
			}
			if ae.Status != http.StatusBadRequest || ae.Code != apierr.CodeValidation ||
				len(ae.Details) != 1 || ae.Details[0].Field != "/password" || ae.Details[0].Code != tt.code {
				t.Fatalf("CheckPassword = %+v, want 400 %s on /password with %s", ae, apierr.CodeValidation, tt.code)
			}
		})
	}
}

func TestAUTH4_LongPasswordsAreNotTruncated(t *testing.T) {
	t.Parallel()
	h := cheapHasher()
	pw := strings.Repeat("\U0001F600", 64) // 256 bytes: past bcrypt's 72-byte limit
	enc, err := h.Hash(t.Context(), pw)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Repeat("\U0001F600", 63) + "\U0001F601"
	if ok, _, _ := h.Verify(t.Context(), enc, other); ok {
		t.Fatal("a password differing only in its last character verified")
	}
}

func BenchmarkHashPassword(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		if _, err := HashPassword(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
