package examples

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/spec"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// repoRoot is the repository this test runs in.
func repoRoot(t testing.TB) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// generate runs the generator over an example as `exhgen generate` would,
// with the backend placed at outDir (which fixes go.mod's replace path).
func generate(t testing.TB, example, outDir string) *generator.Output {
	t.Helper()
	root := repoRoot(t)
	specDir := filepath.Join(root, "examples", example)
	p, diags := spec.Load(specDir)
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = spec.WriteDiagnosticsShort(&b, diags)
		t.Fatalf("examples/%s does not load:\n%s", example, b.String())
	}
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var migs []generator.File
	entries, _ := os.ReadDir(filepath.Join(specDir, generator.MigrationsDir))
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			migs = append(migs, generator.File{Path: generator.MigrationsDir + "/" + e.Name(), Data: read(filepath.Join("examples", example, generator.MigrationsDir, e.Name()))})
		}
	}
	snapshot, _ := os.ReadFile(filepath.Join(specDir, generator.SnapshotFile))
	rel, err := filepath.Rel(outDir, root)
	if err != nil {
		t.Fatal(err)
	}
	out, err := generator.Generate(p, generator.Options{
		RuntimePath: filepath.ToSlash(rel),
		GoMod:       read("go.mod"),
		GoSum:       read("go.sum"),
		Fixed:       fixedapi.Fragment(),
		Migrations:  migs,
		Snapshot:    snapshot,
	})
	if err != nil {
		t.Fatalf("generate examples/%s: %v", example, err)
	}
	return out
}

// TestExamplesAreCurrent checks that every example's committed migrations
// and generated backend are what generate writes today (CI's
// `git diff --exit-code` after regeneration, as a test).
func TestExamplesAreCurrent(t *testing.T) {
	t.Parallel()
	for _, example := range []string{"clinic"} {
		t.Run(example, func(t *testing.T) {
			committed := filepath.Join(repoRoot(t), "examples", example, "backend")
			out := generate(t, example, committed)
			for _, f := range out.Project {
				t.Errorf("examples/%s/%s would be written: the spec changed without a new migration; run make generate and commit", example, f.Path)
			}
			want := map[string]bool{}
			for _, f := range out.Backend {
				want[f.Path] = true
				old, err := os.ReadFile(filepath.Join(committed, filepath.FromSlash(f.Path)))
				if err != nil || !bytes.Equal(old, f.Data) {
					t.Errorf("examples/%s/backend/%s is stale: run make generate and commit", example, f.Path)
				}
			}
			_ = filepath.WalkDir(committed, func(path string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(committed, path)
				if !want[filepath.ToSlash(rel)] {
					t.Errorf("examples/%s/backend/%s is not generated any more: run make generate", example, rel)
				}
				return nil
			})
		})
	}
}

// writeTree writes generated files under dir.
func writeTree(t testing.TB, dir string, files []generator.File) {
	t.Helper()
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// goCmd runs the go tool in dir, offline: a generated backend must build
// from this repository and the module cache alone.
func goCmd(t testing.TB, dir string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOPROXY=off", "GOFLAGS=-buildvcs=false"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go %s in %s: %v\n%s", strings.Join(args, " "), dir, err, out)
	}
}

// freePort returns a TCP port nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// backend is a running generated backend process.
type backend struct {
	cmd  *exec.Cmd
	url  string
	logs *bytes.Buffer
}

func start(t testing.TB, bin, dbURL string, port int, env ...string) *backend {
	t.Helper()
	b := &backend{url: fmt.Sprintf("http://127.0.0.1:%d", port), logs: new(bytes.Buffer)}
	b.cmd = exec.Command(bin, "serve")
	b.cmd.Env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		fmt.Sprintf("EXH_ADDR=127.0.0.1:%d", port),
		"EXH_LOG_LEVEL=warn",
		// Fixed, so tokens issued before a restart on another port verify.
		"EXH_ISSUER=https://clinic.example.test",
	)
	b.cmd.Env = append(b.cmd.Env, env...)
	b.cmd.Stdout, b.cmd.Stderr = b.logs, b.logs
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if b.cmd.ProcessState == nil {
			_ = b.cmd.Process.Kill()
			_ = b.cmd.Wait()
		}
	})
	// Wait for readiness: poll /readyz until it answers 200.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(b.url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return b
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("backend not ready after 30s (last error %v); logs:\n%s", err, b.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop sends SIGTERM and requires a clean, graceful exit.
func (b *backend) stop(t testing.TB) {
	t.Helper()
	if err := b.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("backend exited with %v after SIGTERM; logs:\n%s", err, b.logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("backend did not exit within 30s of SIGTERM; logs:\n%s", b.logs)
	}
}

// builtBackend generates an example into a temporary directory, adds the
// driver tests, and builds the backend binary once per test binary.
type builtBackend struct {
	dir, bin string
}

func buildExample(t *testing.T, example string) builtBackend {
	t.Helper()
	dir := t.TempDir()
	out := generate(t, example, dir)
	writeTree(t, dir, out.Backend)
	driver, err := os.ReadFile(filepath.Join("testdata", example+"_e2e_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	writeTree(t, dir, []generator.File{{Path: "e2e/" + example + "_e2e_test.go", Data: driver}})
	bin := filepath.Join(dir, example)
	goCmd(t, dir, nil, "build", "-o", bin, ".")
	goCmd(t, dir, nil, "vet", "./...")
	return builtBackend{dir: dir, bin: bin}
}

// runDriver runs one phase of the driver tests against a backend. The
// driver gets the backend binary and the database URL only to bootstrap an
// administrator (`users grant-role`), as an operator would.
func runDriver(t *testing.T, bb builtBackend, url, dbURL, phase, state string) {
	t.Helper()
	goCmd(t, bb.dir, []string{"EXH_E2E_URL=" + url, "EXH_E2E_STATE=" + state, "EXH_E2E_DATABASE_URL=" + dbURL, "EXH_E2E_BACKEND=" + bb.bin},
		"test", "-count=1", "-v", "-run", "^"+phase+"$", "./e2e/")
}

// TestE2EClinic generates examples/clinic, builds it, starts it against a
// fresh database and drives it with the generated Go client; then restarts
// it and checks the data survived.
func TestE2EClinic(t *testing.T) {
	bb := buildExample(t, "clinic")
	dbURL := dbtest.URL(t)
	state := filepath.Join(t.TempDir(), "state.json")

	b := start(t, bb.bin, dbURL, freePort(t))
	runDriver(t, bb, b.url, dbURL, "TestPhase1", state)
	checkHTTPBasics(t, b.url)
	// The bad-input sweep shares this build and backend (IN-2, IN-3, IN-5).
	t.Run("IN5_NoServerErrorForClientMistakes", func(t *testing.T) {
		sweepBadInput(t, b.url, bb.bin, dbURL)
	})
	b.stop(t)

	b = start(t, bb.bin, dbURL, freePort(t))
	runDriver(t, bb, b.url, dbURL, "TestPhase2", state)
	b.stop(t)
}

// checkHTTPBasics checks what the Go client cannot see: health endpoints,
// the published OpenAPI document and error shapes on raw requests.
func checkHTTPBasics(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	get := func(path string, hdr ...string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+path, nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	for _, tc := range []struct {
		path     string
		hdr      []string
		status   int
		contains string
	}{
		{"/livez", nil, 200, ""},
		{"/readyz", nil, 200, ""},
		{"/openapi.json", nil, 200, `"/data/measurement/documents"`},
		{"/data/measurement/documents", nil, 401, `"code":"unauthorized"`},
		{"/data/measurement/documents", []string{"Authorization", "Bearer not-a-jwt"}, 401, `"code":"unauthorized"`},
		{"/no/such/path", nil, 404, `"code":"not_found"`},
	} {
		status, body := get(tc.path, tc.hdr...)
		if status != tc.status || !strings.Contains(body, tc.contains) {
			t.Errorf("GET %s: got %d %s, want %d containing %s", tc.path, status, body, tc.status, tc.contains)
		}
	}
}
