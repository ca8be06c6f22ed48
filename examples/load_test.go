package examples

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/document"
	"github.com/exhgen/exhgen/runtime/project"
)

var (
	load         = flag.Bool("load", false, "run TestLoad: the load test of a running generated backend against raw pgx")
	loadClients  = flag.Int("load.clients", 32, "concurrent clients")
	loadFor      = flag.Duration("load.duration", 10*time.Second, "duration of each phase")
	loadDebug    = flag.String("load.pprof", "", "serve the backend's pprof on this address during the load test")
	loadRQL      = flag.Bool("load.rql", false, "TestLoad runs the RQL list benchmark instead: 1,000,000 measurements")
	loadRowCount = flag.Int("load.rows", 1000000, "rows the RQL benchmark loads")
	rqlClients   = flag.Int("load.rql.clients", 4, "concurrent clients of the RQL benchmark")
)

// TestLoad is the load script of the foundation's performance targets: the
// generated clinic backend's create and get-by-id throughput and latency at
// 32 concurrent clients, next to raw pgx running the same SQL against the
// same database in the same run. It runs only with -load (it takes about a
// minute and its figures are read by people, not asserted):
//
//	go test -run TestLoad -v ./examples/ -load
func TestLoad(t *testing.T) {
	if !*load {
		t.Skip("load test: run with -load")
	}
	if *loadRQL {
		loadRQLBench(t)
		return
	}
	bb := buildExample(t, "clinic")
	dbURL := dbtest.URL(t)
	var env []string
	if *loadDebug != "" {
		env = append(env, "EXH_DEBUG_ADDR="+*loadDebug)
	}
	b := start(t, bb.bin, dbURL, freePort(t), env...)
	ctx := context.Background()

	t.Logf("backend idle RSS after start: %s", rss(b.cmd.Process.Pid))
	token := registerAndLogin(t, b.url)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *loadClients, MaxConnsPerHost: *loadClients}}
	body := []byte(`{"systolic":128,"diastolic":84,"pulse":64,"taken_at":"2026-11-27T08:30:00Z","arm":"left","position":"sitting","device":{"serial":"BP-0042","model":"Omron M7"},"tags":["morning"]}`)

	var mu sync.Mutex
	var ids []uuid.UUID
	httpCreate := run(t, "backend create", *loadClients, *loadFor, func(r *rand.Rand) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.url+"/data/measurement/documents", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("create: %d %s", resp.StatusCode, data)
		}
		var doc struct{ ID uuid.UUID }
		if err := json.Unmarshal(data, &doc); err != nil {
			return err
		}
		mu.Lock()
		if len(ids) < 10000 {
			ids = append(ids, doc.ID)
		}
		mu.Unlock()
		return nil
	})
	httpGet := run(t, "backend get-by-id", *loadClients, *loadFor, func(r *rand.Rand) error {
		id := ids[r.IntN(len(ids))]
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, b.url+"/data/measurement/documents/"+id.String(), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("get: %d", resp.StatusCode)
		}
		return nil
	})
	t.Logf("backend RSS after load: %s", rss(b.cmd.Process.Pid))

	// Raw pgx: the same SQL, the same pool size, the same database.
	pool, err := db.Open(ctx, dbURL, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	insertSQL, getSQL := statements(t, bb, pool)
	var creator uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM users LIMIT 1`).Scan(&creator); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"systolic":128,"diastolic":84,"pulse":64,"taken_at":"2026-11-27T08:30:00Z","arm":"left","position":"sitting","device":{"serial":"BP-0042","model":"Omron M7"},"tags":["morning"]}`)
	rawCreate := run(t, "raw pgx create", *loadClients, *loadFor, func(r *rand.Rand) error {
		var out []byte
		return pool.QueryRow(ctx, insertSQL, uuid.Must(uuid.NewV7()), creator, time.Now(), data).Scan(&out)
	})
	rawGet := run(t, "raw pgx get-by-id", *loadClients, *loadFor, func(r *rand.Rand) error {
		var out []byte
		return pool.QueryRow(ctx, getSQL, ids[r.IntN(len(ids))], creator).Scan(&out)
	})
	t.Logf("ratio create backend/raw: %.2f (target ≥ 0.5)", httpCreate.rps/rawCreate.rps)
	t.Logf("ratio get    backend/raw: %.2f (target ≥ 0.3)", httpGet.rps/rawGet.rps)
	b.stop(t)
}

// statements builds the document service over the generated backend's
// compiled project, to read the SQL it runs.
func statements(t *testing.T, bb builtBackend, pool *pgxpool.Pool) (insert, get string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(bb.dir, "project.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := document.New(pool, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	insert, get, err = svc.Statements("measurement")
	if err != nil {
		t.Fatal(err)
	}
	return insert, get
}

type result struct {
	rps      float64
	p50, p99 time.Duration
}

// run calls op from clients goroutines for d and reports throughput and
// latency percentiles.
func run(t *testing.T, name string, clients int, d time.Duration, op func(r *rand.Rand) error) result {
	t.Helper()
	deadline := time.Now().Add(d)
	var mu sync.Mutex
	var lat []time.Duration
	var errs int
	var firstErr error
	var wg sync.WaitGroup
	began := time.Now()
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			r := rand.New(rand.NewPCG(seed, seed))
			local := make([]time.Duration, 0, 4096)
			for time.Now().Before(deadline) {
				t0 := time.Now()
				err := op(r)
				local = append(local, time.Since(t0))
				if err != nil {
					mu.Lock()
					errs++
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}(uint64(i))
	}
	wg.Wait()
	elapsed := time.Since(began)
	if errs > 0 {
		t.Fatalf("%s: %d errors, first: %v", name, errs, firstErr)
	}
	slices.Sort(lat)
	res := result{
		rps: float64(len(lat)) / elapsed.Seconds(),
		p50: lat[len(lat)/2],
		p99: lat[len(lat)*99/100],
	}
	t.Logf("%-32s %6d req in %s: %8.0f req/s  p50 %-9s p99 %s", name, len(lat), elapsed.Round(time.Millisecond), res.rps,
		res.p50.Round(10*time.Microsecond), res.p99.Round(10*time.Microsecond))
	return res
}

func registerAndLogin(t *testing.T, url string) string {
	t.Helper()
	creds := `{"email":"load@example.com","password":"correct horse battery staple"}`
	for _, path := range []string{"/auth/register", "/auth/login"} {
		resp, err := http.Post(url+path, "application/json", strings.NewReader(creds))
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, data)
		}
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if json.Unmarshal(data, &tok) == nil && tok.AccessToken != "" {
			return tok.AccessToken
		}
	}
	t.Fatal("no access token")
	return ""
}

// rss reads a process's resident set size from /proc.
func rss(pid int) string {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "unknown"
}
