package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// tinyProject is a compiled project with one small model, as the generator
// writes project.json.
const tinyProject = `{
  "name": "tiny",
  "title": "Tiny",
  "languages": ["en"],
  "auth": {"access_token_ttl": "15m0s", "refresh_token_ttl": "720h0m0s", "registration": "open"},
  "roles": [],
  "group_roles": [],
  "models": [{
    "name": "note",
    "table": "data_note",
    "fields": [{"name": "text", "type": "string", "column": "text", "sql_type": "text", "required": true}],
    "access": {"create": ["all_users"], "read": ["creator"], "update": ["creator"], "delete": ["creator"]},
    "schema": {
      "$schema": "https://json-schema.org/draft/2020-12/schema",
      "type": "object",
      "additionalProperties": false,
      "properties": {"text": {"type": "string", "maxLength": 140}},
      "required": ["text"]
    }
  }]
}`

// tinyMigration creates the model's table.
const tinyMigration = `CREATE TABLE "data_note" (
    "id" uuid PRIMARY KEY,
    "creator_id" uuid NOT NULL,
    "user_ids" uuid[] NOT NULL DEFAULT '{}',
    "group_ids" uuid[] NOT NULL DEFAULT '{}',
    "status" text NOT NULL DEFAULT 'active',
    "status_changed_at" timestamptz NOT NULL,
    "created_at" timestamptz NOT NULL,
    "updated_at" timestamptz NOT NULL,
    "version" bigint NOT NULL DEFAULT 1,
    "text" text NOT NULL
);
`

const tinyOpenAPI = `{"openapi":"3.0.3","info":{"title":"Tiny","version":"1"},"paths":{}}`

func tinyBackend() Backend {
	return Backend{
		Name:    "tiny",
		Project: []byte(tinyProject),
		OpenAPI: []byte(tinyOpenAPI),
		Migrations: fstest.MapFS{
			"migrations/0001_init.sql": {Data: []byte(tinyMigration)},
		},
	}
}

// quietLogger discards the logs: these tests look at responses.
func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testConfig is the configuration LoadConfig gives for dbURL plus kv.
func testConfig(t *testing.T, dbURL string, kv ...string) Config {
	t.Helper()
	cfg, err := LoadConfig(env{"DATABASE_URL": dbURL, "EXH_ADDR": "127.0.0.1:0", "EXH_SHUTDOWN_TIMEOUT": "5s"}.with(kv...).get)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startServer builds b and serves it on a loopback listener until the test
// ends, requiring a clean shutdown. It returns the base URL.
func startServer(t *testing.T, cfg Config, b Backend) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg.Issuer = base
	srv, cleanup, err := Build(t.Context(), cfg, b, quietLogger())
	if err != nil {
		ln.Close()
		t.Fatalf("Build: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v after shutdown", err)
		}
		cleanup()
	})
	return base
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

func do(t *testing.T, method, url, token string, body any) response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func tableExists(t *testing.T, pool *pgxpool.Pool, table string) bool {
	t.Helper()
	var ok bool
	if err := pool.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
		t.Fatal(err)
	}
	return ok
}

func openPool(t *testing.T, dbURL string) *pgxpool.Pool {
	t.Helper()
	pool, err := db.Open(t.Context(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func TestServe(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	b := tinyBackend()
	base := startServer(t, testConfig(t, dbURL), b)

	pool := openPool(t, dbURL)
	for _, table := range []string{"users", "data_note", db.MigrationsTable} {
		if !tableExists(t, pool, table) {
			t.Errorf("table %s missing after serve migrated on start", table)
		}
	}

	for _, tc := range []struct {
		name, path string
		status     int
		code       string // the error code of a JSON error body
	}{
		{"livez", "/livez", http.StatusOK, ""},
		{"readyz", "/readyz", http.StatusOK, ""},
		{"openapi", "/openapi.json", http.StatusOK, ""},
		{"unknown path", "/no/such/path", http.StatusNotFound, "not_found"},
		{"unknown data path without API", "/data/note/documents", http.StatusNotFound, "not_found"},
		{"me without a token", "/users/me", http.StatusUnauthorized, "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := do(t, http.MethodGet, base+tc.path, "", nil)
			if r.status != tc.status {
				t.Fatalf("GET %s: status %d, want %d; body %s", tc.path, r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("GET %s: Content-Type %q, want JSON", tc.path, ct)
			}
			body := r.json(t)
			if tc.code != "" && body["code"] != tc.code {
				t.Errorf("GET %s: code %v, want %s; body %s", tc.path, body["code"], tc.code, r.body)
			}
			if tc.path == "/openapi.json" && string(r.body) != tinyOpenAPI {
				t.Errorf("GET /openapi.json served %s, want the backend's document", r.body)
			}
		})
	}

	t.Run("register, login, me", func(t *testing.T) {
		t.Parallel()
		creds := map[string]string{"email": "Alice@Example.com", "password": "correct horse battery staple"}
		r := do(t, http.MethodPost, base+"/auth/register", "", creds)
		if r.status != http.StatusCreated {
			t.Fatalf("register: status %d, body %s", r.status, r.body)
		}
		if got := r.json(t)["email"]; got != creds["email"] {
			t.Errorf("registered email %v, want %s", got, creds["email"])
		}
		again := map[string]string{"email": "alice@example.com", "password": creds["password"]}
		r = do(t, http.MethodPost, base+"/auth/register", "", again)
		if r.status != http.StatusConflict || r.json(t)["code"] != "email_taken" {
			t.Errorf("register again in another case: status %d, want 409 email_taken; body %s", r.status, r.body)
		}

		r = do(t, http.MethodPost, base+"/auth/login", "", again)
		if r.status != http.StatusOK {
			t.Fatalf("login: status %d, body %s", r.status, r.body)
		}
		tok := r.json(t)
		token, _ := tok["access_token"].(string)
		if token == "" || tok["token_type"] != "Bearer" {
			t.Fatalf("login answered %s", r.body)
		}

		r = do(t, http.MethodGet, base+"/users/me", token, nil)
		if r.status != http.StatusOK || r.json(t)["email"] != creds["email"] {
			t.Errorf("me: status %d, body %s", r.status, r.body)
		}

		r = do(t, http.MethodPost, base+"/auth/login", "", map[string]string{"email": creds["email"], "password": "wrong horse battery staple"})
		if r.status != http.StatusUnauthorized {
			t.Errorf("login with a wrong password: status %d, want 401; body %s", r.status, r.body)
		}
	})
}

// TestBuildMountsAPI checks that the generated API gets the runtime's
// services and is mounted under /data/, and that an API that fails to
// build fails Build.
func TestBuildMountsAPI(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)

	b := tinyBackend()
	b.API = func(d *Deps) (http.Handler, error) {
		if d.Project == nil || d.Project.Name != "tiny" || d.Pool == nil || d.Tokens == nil ||
			d.Users == nil || d.Documents == nil || d.Logger == nil {
			return nil, errors.New("incomplete deps")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"api":"`+r.URL.Path+`"}`)
		}), nil
	}
	base := startServer(t, testConfig(t, dbURL), b)
	r := do(t, http.MethodGet, base+"/data/note/documents", "", nil)
	if r.status != http.StatusOK || r.json(t)["api"] != "/data/note/documents" {
		t.Errorf("GET /data/note/documents: status %d, body %s; want the API's answer", r.status, r.body)
	}
	r = do(t, http.MethodGet, base+"/elsewhere", "", nil)
	if r.status != http.StatusNotFound {
		t.Errorf("GET /elsewhere: status %d, want 404 (only /data/ goes to the API)", r.status)
	}

	failing := tinyBackend()
	failing.API = func(*Deps) (http.Handler, error) { return nil, errors.New("boom") }
	if _, _, err := Build(t.Context(), testConfig(t, dbURL), failing, quietLogger()); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Build with a failing API: err %v, want boom", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	tests := []struct {
		name    string
		backend func() Backend
		want    string
	}{
		{"bad project JSON", func() Backend { b := tinyBackend(); b.Project = []byte("{"); return b }, "compiled project"},
		{"failing migration", func() Backend {
			b := tinyBackend()
			b.Migrations = fstest.MapFS{"migrations/0001_init.sql": {Data: []byte("CREATE TABLE broken (")}}
			return b
		}, "project/0001_init.sql"},
		{"model without its table", func() Backend { b := tinyBackend(); b.Migrations = nil; return b }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, cleanup, err := Build(t.Context(), testConfig(t, dbURL), tt.backend(), quietLogger())
			if tt.want == "" { // builds; the missing table only shows in requests
				if err != nil {
					t.Fatalf("Build: %v", err)
				}
				cleanup()
				return
			}
			if err == nil {
				cleanup()
				t.Fatalf("Build succeeded, want an error naming %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Build: %v, want it to name %q", err, tt.want)
			}
		})
	}
}

// TestReadyzWaitsForMigrations: with EXH_MIGRATE_ON_START=false a fresh
// database is not ready; `migrate` (through run, as an operator would run
// it) makes it ready without a restart, and running it again is a no-op.
func TestReadyzWaitsForMigrations(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	b := tinyBackend()
	base := startServer(t, testConfig(t, dbURL, "EXH_MIGRATE_ON_START", "false"), b)

	r := do(t, http.MethodGet, base+"/readyz", "", nil)
	if r.status != http.StatusServiceUnavailable || r.json(t)["code"] != "service_unavailable" {
		t.Fatalf("readyz before migrate: status %d, body %s; want 503 service_unavailable", r.status, r.body)
	}
	if strings.Contains(string(r.body), "migrations pending") {
		t.Errorf("readyz leaks its cause: %s", r.body)
	}
	if r := do(t, http.MethodGet, base+"/livez", "", nil); r.status != http.StatusOK {
		t.Errorf("livez before migrate: status %d, want 200", r.status)
	}

	runMigrate(t, dbURL, b, len(CoreMigrations())+1) // core + project
	if r := do(t, http.MethodGet, base+"/readyz", "", nil); r.status != http.StatusOK {
		t.Fatalf("readyz after migrate: status %d, body %s", r.status, r.body)
	}
	runMigrate(t, dbURL, b, 0)
	if r := do(t, http.MethodGet, base+"/readyz", "", nil); r.status != http.StatusOK {
		t.Fatalf("readyz after a second migrate: status %d, body %s", r.status, r.body)
	}
}

// runMigrate runs `migrate` and checks it exits 0 having applied want
// migrations, as its log says.
func runMigrate(t *testing.T, dbURL string, b Backend, want int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), []string{"migrate"}, b, env{"DATABASE_URL": dbURL}.get, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("migrate: exit %d; stderr:\n%s", code, stderr.String())
	}
	applied := 0
	for line := range strings.Lines(stderr.String()) {
		var rec struct {
			Msg     string `json:"msg"`
			Applied int    `json:"applied"`
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if rec.Msg == "migration applied" {
			applied++
		}
		if rec.Msg == "database up to date" && rec.Applied != want {
			t.Errorf("migrate logged %d applied, want %d", rec.Applied, want)
		}
	}
	if applied != want {
		t.Errorf("migrate logged %d applied migrations, want %d; stderr:\n%s", applied, want, stderr.String())
	}
}

func TestMigrateCommand(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	b := tinyBackend()
	runMigrate(t, dbURL, b, len(CoreMigrations())+1)
	runMigrate(t, dbURL, b, 0)

	pool := openPool(t, dbURL)
	for _, table := range []string{"users", "data_note"} {
		if !tableExists(t, pool, table) {
			t.Errorf("table %s missing after migrate", table)
		}
	}
	var names []string
	rows, err := pool.Query(t.Context(), "SELECT name FROM "+db.MigrationsTable+" ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	core := len(CoreMigrations())
	if len(names) != core+1 || !strings.HasPrefix(names[0], "core/") || names[core] != "project/0001_init.sql" {
		t.Errorf("recorded migrations %q, want %d core and project/0001_init.sql", names, core)
	}

	t.Run("edited migration is refused", func(t *testing.T) {
		edited := tinyBackend()
		edited.Migrations = fstest.MapFS{"migrations/0001_init.sql": {Data: []byte(tinyMigration + "-- edited\n")}}
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), []string{"migrate"}, edited, env{"DATABASE_URL": dbURL}.get, &stdout, &stderr); code != 1 {
			t.Fatalf("migrate with an edited migration: exit %d, want 1", code)
		}
		if !strings.Contains(stderr.String(), "project/0001_init.sql was changed after it was applied") {
			t.Errorf("stderr does not name the edited migration:\n%s", stderr.String())
		}
	})
	t.Run("database missing", func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		if code := run(t.Context(), []string{"migrate"}, b, env{"DATABASE_URL": missingDatabase(t, dbURL)}.get, &stdout, &stderr); code != 1 {
			t.Fatalf("migrate against a missing database: exit %d, want 1", code)
		}
		if !strings.Contains(stderr.String(), `"level":"ERROR"`) {
			t.Errorf("no error logged:\n%s", stderr.String())
		}
	})
}

// missingDatabase returns dbURL naming a database that does not exist.
func missingDatabase(t *testing.T, dbURL string) string {
	t.Helper()
	const name = "exh_no_such_database"
	if !strings.HasPrefix(dbURL, "postgres://") && !strings.HasPrefix(dbURL, "postgresql://") {
		return dbURL + " dbname=" + name // keyword/value form: the last one wins
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

func TestRunUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		env        env
		code       int
		usageOn    string // "stdout", "stderr" or "" (no usage)
		stderrHas  string
		stdoutNone bool
	}{
		{"--help", []string{"--help"}, nil, 0, "stdout", "", false},
		{"-h", []string{"-h"}, nil, 0, "stdout", "", false},
		{"help", []string{"help"}, nil, 0, "stdout", "", false},
		{"serve --help", []string{"serve", "--help"}, nil, 0, "stdout", "", false},
		{"migrate -h", []string{"migrate", "-h"}, nil, 0, "stdout", "", false},
		{"no command", nil, nil, 2, "stderr", "", true},
		{"unknown command", []string{"frobnicate"}, nil, 2, "stderr", `unknown command "frobnicate"`, true},
		{"flag as command", []string{"--port=80"}, nil, 2, "stderr", `unknown command "--port=80"`, true},
		{"extra argument to serve", []string{"serve", "now"}, nil, 2, "", `unexpected argument "now"`, true},
		{"extra argument to migrate", []string{"migrate", "--all"}, nil, 2, "", `unexpected argument "--all"`, true},
		{"serve without DATABASE_URL", []string{"serve"}, env{}, 2, "", "DATABASE_URL is not set", true},
		{"migrate with a bad variable", []string{"migrate"}, env{"DATABASE_URL": testDSN, "EXH_LOG_LEVEL": "loud"}, 2, "", "EXH_LOG_LEVEL", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(t.Context(), tt.args, tinyBackend(), tt.env.get, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.code, stderr.String())
			}
			out := map[string]string{"stdout": stdout.String(), "stderr": stderr.String()}
			if tt.usageOn != "" {
				for _, e := range envVars {
					if !strings.Contains(out[tt.usageOn], e.Name) {
						t.Errorf("usage on %s does not list %s:\n%s", tt.usageOn, e.Name, out[tt.usageOn])
					}
				}
				for _, c := range []string{"tiny serve", "tiny migrate"} {
					if !strings.Contains(out[tt.usageOn], c) {
						t.Errorf("usage on %s does not show %q", tt.usageOn, c)
					}
				}
			}
			if !strings.Contains(stderr.String(), tt.stderrHas) {
				t.Errorf("stderr does not contain %q:\n%s", tt.stderrHas, stderr.String())
			}
			if tt.stdoutNone && stdout.Len() > 0 {
				t.Errorf("stdout should be empty on a usage error, got:\n%s", stdout.String())
			}
		})
	}
}

// TestRunServe runs `serve` as Main would: it listens, migrates, answers,
// defaults the issuer to the port it got, and exits 0 once its context is
// cancelled (SIGTERM in production). The address comes from its "serving"
// log line, so nothing is polled.
func TestRunServe(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()

	logs, logw := io.Pipe()
	exit := make(chan int, 1)
	go func() {
		code := run(ctx, []string{"serve"}, tinyBackend(), env{
			"DATABASE_URL":         dbURL,
			"EXH_ADDR":             "127.0.0.1:0",
			"EXH_DEBUG_ADDR":       "127.0.0.1:0",
			"EXH_SHUTDOWN_TIMEOUT": "5s",
		}.get, io.Discard, logw)
		logw.Close()
		exit <- code
	}()

	type serving struct{ Addr, Issuer string }
	started := make(chan serving, 1)
	var logText strings.Builder // read after the pipe is drained
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		dec := json.NewDecoder(logs)
		for {
			var rec map[string]any
			if err := dec.Decode(&rec); err != nil {
				_, _ = io.Copy(io.Discard, logs)
				return
			}
			b, _ := json.Marshal(rec)
			logText.Write(append(b, '\n'))
			if rec["msg"] == "serving" {
				addr, _ := rec["addr"].(string)
				issuer, _ := rec["issuer"].(string)
				started <- serving{addr, issuer}
			}
		}
	}()

	var s serving
	select {
	case s = <-started:
	case code := <-exit:
		<-drained
		t.Fatalf("serve exited with %d before serving; logs:\n%s", code, logText.String())
	}
	_, port, err := net.SplitHostPort(s.Addr)
	if err != nil || port == "0" {
		t.Fatalf("serving on %q", s.Addr)
	}
	if want := "http://localhost:" + port; s.Issuer != want {
		t.Errorf("default issuer %q, want %q", s.Issuer, want)
	}
	if r := do(t, http.MethodGet, "http://"+s.Addr+"/readyz", "", nil); r.status != http.StatusOK {
		t.Errorf("readyz: status %d, body %s", r.status, r.body)
	}

	cancel()
	if code := <-exit; code != 0 {
		<-drained
		t.Errorf("serve exited %d after its context ended, want 0; logs:\n%s", code, logText.String())
	}
	<-drained
}
