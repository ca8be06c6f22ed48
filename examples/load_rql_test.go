package examples

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/document"
	"github.com/exhgen/exhgen/runtime/project"
)

// seedMeasurements fills data_measurement with n rows owned by (and linked
// to) one user: taken_at every 31 s from 2026-01-01 (about a year for a
// million rows), five device models. The secondary indexes are dropped
// while loading and rebuilt after, then the table is VACUUM ANALYZEd.
const seedMeasurements = `
INSERT INTO data_measurement (id, creator_id, user_ids, status, status_changed_at, created_at, updated_at, version,
  systolic, diastolic, pulse, taken_at, arm, position, irregular_heartbeat, device, tags)
SELECT gen_random_uuid(), $1::uuid, ARRAY[$1::uuid], 'active', ts, ts, ts, 1,
  90 + (i::bigint * 7919) % 110, 60 + (i * 31) % 50, 50 + i % 60, timestamptz '2026-01-01' + i * interval '31 seconds',
  CASE WHEN i % 2 = 0 THEN 'left' ELSE 'right' END, 'sitting', i % 17 = 0,
  jsonb_build_object('serial', 'BP-' || (i % 1000), 'model',
    (ARRAY['Omron M7', 'Omron M3', 'Withings BPM', 'iHealth Track', 'Beurer BM'])[1 + i % 5]),
  '["morning"]'::jsonb
FROM generate_series(1, $2::int) AS i, LATERAL (SELECT timestamptz '2025-06-01' + i * interval '30 seconds' AS ts) AS t`

var rqlExplain = flag.Bool("load.rql.explain", false, "log EXPLAIN ANALYZE of each RQL benchmark query")

// rqlCase is one benchmarked list query; day picks a random day of the
// loaded year for each request. A day holds about 2,800 of the owner's
// measurements, all of which the total counts.
type rqlCase struct {
	name  string
	query func(day int) string
}

var rqlCases = []rqlCase{
	{"indexed taken_at, total", func(day int) string {
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
		return fmt.Sprintf("and(ge(taken_at,%s),lt(taken_at,%s))&sort(-taken_at)&limit(20,20)",
			from.Format(time.RFC3339), from.AddDate(0, 0, 1).Format(time.RFC3339))
	}},
	{"indexed taken_at, skipCount", func(day int) string {
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
		return fmt.Sprintf("and(ge(taken_at,%s),lt(taken_at,%s))&sort(-taken_at)&limit(20,20)&skipCount()",
			from.Format(time.RFC3339), from.AddDate(0, 0, 1).Format(time.RFC3339))
	}},
	{"jsonb device.model, skipCount", func(day int) string {
		from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, day)
		return fmt.Sprintf("eq(device.model,Withings%%2520BPM)&lt(taken_at,%s)&sort(-taken_at)&limit(20)&skipCount()", from.Format(time.RFC3339))
	}},
	{"jsonb device.model, total", func(day int) string {
		return "eq(device.model,Withings%2520BPM)&sort(-taken_at)&limit(20)"
	}},
}

// loadRQLBench is TestLoad with -load.rql: issue 4's benchmark. It loads
// -load.rows measurements, then for each case measures the list request
// through HTTP (the generated backend) and the same SQL and arguments run
// directly with pgx (document.Service.ListStatement), one after the other
// with the same number of clients:
//
//	go test ./examples -run TestLoad -v -load -load.rql -load.duration 5s
func loadRQLBench(t *testing.T) {
	bb := buildExample(t, "clinic")
	dbURL := dbtest.URL(t)
	b := start(t, bb.bin, dbURL, freePort(t))
	ctx := context.Background()
	token := registerAndLogin(t, b.url)
	pool, err := db.Open(ctx, dbURL, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var owner uuid.UUID
	if err := pool.QueryRow(ctx, `SELECT id FROM users LIMIT 1`).Scan(&owner); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	loadRows(t, pool, owner, *loadRowCount)
	t.Logf("loaded %d measurements in %s", *loadRowCount, time.Since(began).Round(time.Second))

	svc := listService(t, bb, pool)
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *rqlClients, MaxConnsPerHost: *rqlClients}}
	for _, c := range rqlCases {
		t.Logf("%s: GET /data/measurement/documents?%s", c.name, c.query(60))
		if *rqlExplain {
			sql, args, err := svc.ListStatement("measurement", c.query(60), &auth.Principal{UserID: owner})
			if err != nil {
				t.Fatal(err)
			}
			rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS) "+sql, args...)
			if err != nil {
				t.Fatal(err)
			}
			var plan strings.Builder
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan.WriteString(line + "\n")
			}
			t.Logf("%s: plan:\n%s", c.name, plan.String())
		}
		viaHTTP := run(t, c.name+" http", *rqlClients, *loadFor, func(r *rand.Rand) error {
			u := b.url + "/data/measurement/documents?" + c.query(r.IntN(340))
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				return err
			}
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("list: %d %s", resp.StatusCode, body)
			}
			return nil
		})
		direct := run(t, c.name+" sql", *rqlClients, *loadFor, func(r *rand.Rand) error {
			sql, args, err := svc.ListStatement("measurement", c.query(r.IntN(340)), &auth.Principal{UserID: owner})
			if err != nil {
				return err
			}
			var out []byte
			return pool.QueryRow(ctx, sql, args...).Scan(&out)
		})
		t.Logf("%s: p50 http/sql %.2f, p99 http/sql %.2f", c.name,
			float64(viaHTTP.p50)/float64(direct.p50), float64(viaHTTP.p99)/float64(direct.p99))
	}
	b.stop(t)
}

// loadRows inserts n measurements with the secondary indexes dropped, then
// rebuilds them and VACUUM ANALYZEs the table.
func loadRows(t *testing.T, pool *pgxpool.Pool, owner uuid.UUID, n int) {
	t.Helper()
	ctx := context.Background()
	rows, err := pool.Query(ctx, `SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'data_measurement' AND indexname <> 'data_measurement_pkey'`)
	if err != nil {
		t.Fatal(err)
	}
	var names, defs []string
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		names, defs = append(names, name), append(defs, def)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, err := pool.Exec(ctx, `DROP INDEX `+quoteIdent(name)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, seedMeasurements, owner, n); err != nil {
		t.Fatal(err)
	}
	for _, def := range defs {
		if _, err := pool.Exec(ctx, def); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `VACUUM ANALYZE data_measurement`); err != nil {
		t.Fatal(err)
	}
}

func quoteIdent(s string) string { return `"` + s + `"` }

// listService is a document service over the built backend's compiled
// project, to read the SQL its list runs.
func listService(t *testing.T, bb builtBackend, pool *pgxpool.Pool) *document.Service {
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
	return svc
}
