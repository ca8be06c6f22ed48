package user_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/outbox"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const strongPassword = "correct horse battery staple"

var testParams = auth.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// coreMigrations are the runtime's core migrations this package needs
// (as runtime/app assembles them), in name order.
func coreMigrations() []db.Migration {
	migs := slices.Concat(user.Migrations(), audit.Migrations(), outbox.Migrations())
	slices.SortStableFunc(migs, func(a, b db.Migration) int { return strings.Compare(a.Name, b.Name) })
	return migs
}

func testProject(registration string) *project.Project {
	return &project.Project{
		Name: "clinic", Languages: []string{"nl", "en"},
		Auth: project.Auth{Registration: registration},
		Roles: []project.Role{
			{Name: "clinician", Permissions: []string{"users:read"}},
			{Name: "admin", Permissions: []string{user.PermRead, user.PermUpdate, user.PermDelete,
				user.PermRolesGrant, user.PermRolesRevoke, user.PermInvite, "data:*:*"}},
			{Name: "owner", Permissions: []string{"*:*:*", "*:*", user.PermRolesGrant, user.PermRolesRevoke}},
			// Wildcards only: never covers users:roles:update (AC-5).
			{Name: "wildcard", Permissions: []string{"*:*:*", "users:*:*", "users:*", "*"}},
		},
	}
}

type fixture struct {
	pool    *pgxpool.Pool
	tokens  *auth.Tokens
	users   *user.Service
	project *project.Project

	mu  sync.Mutex
	now time.Time
}

func newFixture(t testing.TB, registration string, opts ...user.Option) *fixture {
	t.Helper()
	return newFixtureFor(t, testProject(registration), opts...)
}

func newFixtureFor(t testing.TB, p *project.Project, opts ...user.Option) *fixture {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := db.Migrate(context.Background(), pool, coreMigrations()); err != nil {
		t.Fatal(err)
	}
	f := &fixture{pool: pool, project: p, now: time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)}
	f.tokens = auth.NewTokens(pool, "https://api.example.test", 15*time.Minute, f.clock, auth.WithRoles(p.Roles))
	opts = append([]user.Option{user.WithClock(f.clock), user.WithHasher(auth.NewHasher(testParams, 4))}, opts...)
	f.users = user.NewService(pool, p, f.tokens, slog.New(slog.DiscardHandler), opts...)
	return f
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// advance moves the fixture's clock forward.
func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fixture) register(t *testing.T, email string) *user.User {
	t.Helper()
	u, err := f.users.Register(t.Context(), user.Registration{Email: email, Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func requireAPIError(t *testing.T, err error, status int, code string, fields ...string) *apierr.Error {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want %d %s", err, status, code)
	}
	var got []string
	for _, d := range ae.Details {
		got = append(got, d.Field)
	}
	if !slices.Equal(got, fields) {
		t.Fatalf("error fields = %v, want %v", got, fields)
	}
	return ae
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	migs := user.Migrations()
	if len(migs) == 0 || migs[0].Name != "core/0001_identity.sql" {
		t.Fatalf("migrations = %v", migs)
	}
	pool := dbtest.New(t)
	for range 2 {
		if _, err := db.Migrate(t.Context(), pool, migs); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRegister(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u, err := f.users.Register(t.Context(), user.Registration{
		Email: "  Alice@Example.COM ", Password: strongPassword, FirstName: " Alice ", LastName: "Liddell",
	})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == uuid.Nil || u.Email != "Alice@Example.COM" || u.FirstName != "Alice" || u.LastName != "Liddell" ||
		u.Language != "nl" || u.TimeZone != "UTC" || len(u.Roles) != 0 ||
		!u.CreatedAt.Equal(f.clock()) || !u.UpdatedAt.Equal(f.clock()) {
		t.Fatalf("registered user = %+v", u)
	}
	got, err := f.users.Get(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Email != u.Email || got.Language != "nl" || !got.CreatedAt.Equal(f.clock()) || got.Roles == nil {
		t.Fatalf("stored user = %+v", got)
	}
	var hash, key string
	if err := f.pool.QueryRow(t.Context(), `SELECT password_hash, email_key FROM users WHERE id = $1`, u.ID).Scan(&hash, &key); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$") || strings.Contains(hash, strongPassword) || key != "alice@example.com" {
		t.Fatalf("stored hash %q, key %q", hash, key)
	}

	u2, err := f.users.Register(t.Context(), user.Registration{
		Email: "bob@example.com", Password: strongPassword, Language: "en", TimeZone: "Europe/Amsterdam",
	})
	if err != nil {
		t.Fatal(err)
	}
	if u2.Language != "en" || u2.TimeZone != "Europe/Amsterdam" {
		t.Fatalf("user = %+v", u2)
	}
}

func TestRegisterEmailTaken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "Alice@Example.com")
	f.register(t, "jose\u0301@example.com") // j o s e + combining acute
	for _, email := range []string{"alice@example.com", "ALICE@EXAMPLE.COM", " alice@example.com", "jos\u00e9@example.com", "JOS\u00c9@example.com"} {
		t.Run(email, func(t *testing.T) {
			t.Parallel()
			_, err := f.users.Register(t.Context(), user.Registration{Email: email, Password: strongPassword})
			requireAPIError(t, err, http.StatusConflict, apierr.CodeEmailTaken)
		})
	}
}

func TestRegisterClosed(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{user.RegistrationClosed, ""} {
		t.Run("mode "+mode, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, mode)
			_, err := f.users.Register(t.Context(), user.Registration{Email: "a@example.com", Password: strongPassword})
			requireAPIError(t, err, http.StatusForbidden, apierr.CodeRegistrationClosed)
		})
	}
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	ok := user.Registration{Email: "ok@example.com", Password: strongPassword}
	with := func(mod func(*user.Registration)) user.Registration {
		r := ok
		mod(&r)
		return r
	}
	tests := []struct {
		name   string
		reg    user.Registration
		fields []string
	}{
		{"no at", with(func(r *user.Registration) { r.Email = "not-an-email" }), []string{"/email"}},
		{"display name", with(func(r *user.Registration) { r.Email = "Alice <a@example.com>" }), []string{"/email"}},
		{"two addresses", with(func(r *user.Registration) { r.Email = "a@example.com, b@example.com" }), []string{"/email"}},
		{"empty email", with(func(r *user.Registration) { r.Email = "" }), []string{"/email"}},
		{"long email", with(func(r *user.Registration) { r.Email = strings.Repeat("a", 250) + "@example.com" }), []string{"/email"}},
		{"short password", with(func(r *user.Registration) { r.Password = "fourteen chars" }), []string{"/password"}},
		{"long password", with(func(r *user.Registration) { r.Password = strings.Repeat("p", 129) }), []string{"/password"}},
		{"unknown language", with(func(r *user.Registration) { r.Language = "fr" }), []string{"/language"}},
		{"bad time zone", with(func(r *user.Registration) { r.TimeZone = "Mars/Olympus" }), []string{"/time_zone"}},
		{"path time zone", with(func(r *user.Registration) { r.TimeZone = "../../etc/passwd" }), []string{"/time_zone"}},
		{"Local time zone", with(func(r *user.Registration) { r.TimeZone = "Local" }), []string{"/time_zone"}},
		{"control char in name", with(func(r *user.Registration) { r.FirstName = "Al\x00ice" }), []string{"/first_name"}},
		{"long name", with(func(r *user.Registration) { r.LastName = strings.Repeat("n", 201) }), []string{"/last_name"}},
		{"all at once", user.Registration{Email: "x", Password: "short", Language: "fr"}, []string{"/email", "/password", "/language"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := f.users.Register(t.Context(), tt.reg)
			ae := requireAPIError(t, err, http.StatusBadRequest, apierr.CodeValidation, tt.fields...)
			for _, d := range ae.Details {
				if d.Code == "" || d.Message == "" {
					t.Fatalf("detail %+v lacks code or message", d)
				}
			}
		})
	}
	if _, err := f.users.Register(t.Context(), ok); err != nil {
		t.Fatalf("control registration: %v", err)
	}
}

func TestLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "Alice@Example.com")
	if err := f.users.SetRoles(t.Context(), u.ID, []string{"clinician"}); err != nil {
		t.Fatal(err)
	}
	for _, email := range []string{"Alice@Example.com", "alice@example.com", " ALICE@example.com "} {
		tok, err := f.users.Login(t.Context(), user.Credentials{Email: email, Password: strongPassword})
		if err != nil {
			t.Fatalf("login as %q: %v", email, err)
		}
		if tok.TokenType != "Bearer" || tok.ExpiresIn != 15*time.Minute || tok.AccessToken == "" {
			t.Fatalf("token = %+v", tok)
		}
		ctx, err := f.tokens.Authenticate(t.Context(), tok.AccessToken)
		if err != nil {
			t.Fatal(err)
		}
		me, err := f.users.Me(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if me.ID != u.ID || !slices.Equal(me.Roles, []string{"clinician"}) {
			t.Fatalf("me = %+v", me)
		}
	}
}

// TestAUTH7_UnknownUserAndWrongPasswordLookAlike checks status and body;
// the timing is measured by BenchmarkAUTH7_FailedLogin.
func TestAUTH7_UnknownUserAndWrongPasswordLookAlike(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "alice@example.com")
	_, wrong := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: "not the right password"})
	_, unknown := f.users.Login(t.Context(), user.Credentials{Email: "nobody@example.com", Password: "not the right password"})
	_, empty := f.users.Login(t.Context(), user.Credentials{})
	a := requireAPIError(t, wrong, http.StatusUnauthorized, apierr.CodeInvalidCredentials)
	for _, err := range []error{unknown, empty} {
		b := requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeInvalidCredentials)
		if a.Message != b.Message {
			t.Fatalf("messages differ: %q vs %q", a.Message, b.Message)
		}
	}
}

func TestAUTH2_LoginRehashesOutdatedHash(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "alice@example.com")
	weak, err := auth.NewHasher(auth.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, 1).Hash(t.Context(), strongPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.pool.Exec(t.Context(), `UPDATE users SET password_hash = $1 WHERE id = $2`, weak, u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	var stored string
	if err := f.pool.QueryRow(t.Context(), `SELECT password_hash FROM users WHERE id = $1`, u.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	p, err := auth.DecodeHash(stored)
	if err != nil {
		t.Fatal(err)
	}
	if p != testParams {
		t.Fatalf("hash after login has params %+v, want %+v", p, testParams)
	}
	if _, err := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: strongPassword}); err != nil {
		t.Fatalf("login with rehashed password: %v", err)
	}
}

func TestAUTH2_ImportedHugeHashRefusedAtLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "alice@example.com")
	huge := "$argon2id$v=19$m=4194304,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	if _, err := f.pool.Exec(t.Context(), `UPDATE users SET password_hash = $1 WHERE id = $2`, huge, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: strongPassword})
	requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeInvalidCredentials)
}

func TestSetRoles(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "alice@example.com")
	err := f.users.SetRoles(t.Context(), u.ID, []string{"clinician", "wizard"})
	requireAPIError(t, err, http.StatusBadRequest, apierr.CodeValidation, "/roles/1")
	err = f.users.SetRoles(t.Context(), uuid.New(), []string{"clinician"})
	requireAPIError(t, err, http.StatusNotFound, apierr.CodeNotFound)
	if err := f.users.SetRoles(t.Context(), u.ID, []string{"clinician", "clinician"}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.users.Get(t.Context(), u.ID)
	if !slices.Equal(got.Roles, []string{"clinician"}) {
		t.Fatalf("roles = %v", got.Roles)
	}
	if err := f.users.SetRoles(t.Context(), u.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, _ = f.users.Get(t.Context(), u.ID)
	if got.Roles == nil || len(got.Roles) != 0 {
		t.Fatalf("roles = %#v", got.Roles)
	}
}

func TestMeWithoutPrincipal(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	_, err := f.users.Me(t.Context())
	requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeUnauthorized)
	ctx := auth.WithPrincipal(t.Context(), &auth.Principal{UserID: uuid.New()})
	_, err = f.users.Me(ctx)
	requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeUnauthorized)
}

func TestEmailKey(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		" Alice@Example.COM ":    "alice@example.com",
		"JOSE\u0301@example.com": "jos\u00e9@example.com",
		"jos\u00e9@example.com":  "jos\u00e9@example.com",
		"\u00c9MILE@example.com": "\u00e9mile@example.com",
	}
	for in, want := range tests {
		if got := user.EmailKey(in); got != want {
			t.Errorf("EmailKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkAUTH7_FailedLogin compares the cost of a failed login for an
// unknown user and for a wrong password, with the production hash
// parameters (SECURITY.md AUTH-7: the medians should be within 20%):
//
//	go test ./runtime/user -run '^$' -bench AUTH7 -count 10
func BenchmarkAUTH7_FailedLogin(b *testing.B) {
	pool := dbtest.New(b)
	if _, err := db.Migrate(context.Background(), pool, coreMigrations()); err != nil {
		b.Fatal(err)
	}
	p := testProject(user.RegistrationOpen)
	tokens := auth.NewTokens(pool, "https://api.example.test", 15*time.Minute, nil)
	users := user.NewService(pool, p, tokens, nil) // auth.DefaultHasher: real parameters
	ctx := context.Background()
	if _, err := users.Register(ctx, user.Registration{Email: "alice@example.com", Password: strongPassword}); err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct{ name, email string }{
		{"wrong_password", "alice@example.com"},
		{"unknown_user", "nobody@example.com"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, err := users.Login(ctx, user.Credentials{Email: bc.email, Password: "not the right password"})
				if !errors.Is(err, user.ErrInvalidCredentials) {
					b.Fatalf("login: %v", err)
				}
			}
		})
	}
}
