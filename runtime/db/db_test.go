package db_test

import (
	"errors"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestAV3_OpenSetsSessionTimeouts(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t)
	pool, err := db.Open(t.Context(), u, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if got := pool.Config().MaxConns; got != 3 {
		t.Errorf("MaxConns = %d, want 3", got)
	}
	for name, want := range map[string]string{
		"statement_timeout":                   "30s",
		"idle_in_transaction_session_timeout": "1min",
	} {
		var got string
		if err := pool.QueryRow(t.Context(), "SELECT current_setting($1)", name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestAV3_StatementTimeoutCancelsQuery(t *testing.T) {
	t.Parallel()
	pool, err := db.Open(t.Context(), dbtest.URL(t)+"&statement_timeout=50", 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	_, err = pool.Exec(t.Context(), "SELECT pg_sleep(5)")
	if err == nil {
		t.Fatal("pg_sleep(5) finished despite statement_timeout=50ms")
	}
	// The connection is usable again afterwards.
	var one int
	if err := pool.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRejectsBadURLWithoutEchoingIt(t *testing.T) {
	t.Parallel()
	_, err := db.Open(t.Context(), "postgres://u:s3cret@host:notaport/db", 1)
	if err == nil {
		t.Fatal("no error")
	}
	if got := err.Error(); got != "parse database url: invalid connection string" {
		t.Fatalf("error %q", got)
	}
}

func TestInTx(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "CREATE TABLE t (v text)"); err != nil {
		t.Fatal(err)
	}
	insert := func(v string) func(pgx.Tx) error {
		return func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO t VALUES ($1)", v)
			return err
		}
	}
	errBoom := errors.New("boom")

	if err := db.InTx(ctx, pool, insert("committed")); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := insert("rolled back")(tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("InTx error = %v, want boom", err)
	}
	func() {
		defer func() {
			if r := recover(); r != "panic in tx" {
				t.Fatalf("recovered %v, want the re-raised panic", r)
			}
		}()
		_ = db.InTx(ctx, pool, func(tx pgx.Tx) error {
			_ = insert("panicked")(tx)
			panic("panic in tx")
		})
	}()

	rows, _ := pool.Query(ctx, "SELECT v FROM t ORDER BY v")
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != "committed" {
		t.Fatalf("rows = %q, want only committed", got)
	}
	// All connections went back to the pool.
	if n := pool.Stat().AcquiredConns(); n != 0 {
		t.Fatalf("%d connections still acquired", n)
	}
}

func TestChecksum(t *testing.T) {
	t.Parallel()
	if got, want := db.Checksum(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Fatalf("Checksum(\"\") = %s", got)
	}
}

func TestMigrationsFromFS(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0002_b.sql": {Data: []byte("B")},
		"m/0001_a.sql": {Data: []byte("A")},
		"m/README.md":  {Data: []byte("x")},
		"m/sub/x.sql":  {Data: []byte("x")},
		"other/0.sql":  {Data: []byte("x")},
	}
	got, err := db.MigrationsFromFS(fsys, "m", "core")
	if err != nil {
		t.Fatal(err)
	}
	want := []db.Migration{{Name: "core/0001_a.sql", SQL: "A"}, {Name: "core/0002_b.sql", SQL: "B"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if _, err := db.MigrationsFromFS(fsys, "missing", "core"); err == nil {
		t.Fatal("missing dir: no error")
	}
}

var testMigs = []db.Migration{
	{Name: "core/0001_a.sql", SQL: "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);"},
	{Name: "core/0002_b.sql", SQL: "CREATE TABLE b (id int PRIMARY KEY);\nCREATE INDEX b_id ON b (id);"},
	{Name: "project/0001_c.sql", SQL: "ALTER TABLE a ADD COLUMN c text;"},
}

func names(migs []db.Migration) []string {
	var out []string
	for _, m := range migs {
		out = append(out, m.Name)
	}
	return out
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func recorded(t *testing.T, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, _ := pool.Query(t.Context(), "SELECT name FROM exh_schema_migrations ORDER BY name")
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMigrateAppliesOnceInOrder(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()

	p, err := db.Pending(ctx, pool, testMigs)
	if err != nil || !equal(names(p), names(testMigs)) {
		t.Fatalf("Pending on empty db = %v, %v", names(p), err)
	}
	applied, err := db.Migrate(ctx, pool, testMigs[:2])
	if err != nil || !equal(applied, names(testMigs[:2])) {
		t.Fatalf("Migrate = %v, %v", applied, err)
	}
	p, err = db.Pending(ctx, pool, testMigs)
	if err != nil || !equal(names(p), names(testMigs[2:])) {
		t.Fatalf("Pending = %v, %v", names(p), err)
	}
	applied, err = db.Migrate(ctx, pool, testMigs)
	if err != nil || !equal(applied, names(testMigs[2:])) {
		t.Fatalf("second Migrate = %v, %v", applied, err)
	}
	applied, err = db.Migrate(ctx, pool, testMigs)
	if err != nil || len(applied) != 0 {
		t.Fatalf("idempotent re-run = %v, %v", applied, err)
	}
	if _, err := pool.Exec(ctx, "INSERT INTO a (id, c) VALUES (2, 'x')"); err != nil {
		t.Fatalf("schema not migrated: %v", err)
	}
	var sum string
	var at time.Time
	if err := pool.QueryRow(ctx, "SELECT checksum, applied_at FROM exh_schema_migrations WHERE name = $1",
		testMigs[0].Name).Scan(&sum, &at); err != nil {
		t.Fatal(err)
	}
	if sum != db.Checksum(testMigs[0].SQL) || at.IsZero() {
		t.Fatalf("record = %s %v", sum, at)
	}
	// Recorded migrations missing from the input are ignored.
	if applied, err := db.Migrate(ctx, pool, testMigs[2:]); err != nil || len(applied) != 0 {
		t.Fatalf("subset re-run = %v, %v", applied, err)
	}
	// The migrator's session does not go back to the pool with
	// statement_timeout lifted.
	for range 4 {
		var st string
		if err := pool.QueryRow(ctx, "SHOW statement_timeout").Scan(&st); err != nil || st != "30s" {
			t.Fatalf("statement_timeout = %q, %v", st, err)
		}
	}
}

func TestMigrateRefusesChangedChecksum(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	if _, err := db.Migrate(ctx, pool, testMigs[:1]); err != nil {
		t.Fatal(err)
	}
	changed := []db.Migration{
		{Name: testMigs[0].Name, SQL: testMigs[0].SQL + " -- edited"},
		testMigs[1],
	}
	applied, err := db.Migrate(ctx, pool, changed)
	var ce *db.ChecksumError
	if !errors.As(err, &ce) || ce.Name != testMigs[0].Name {
		t.Fatalf("err = %v, want *ChecksumError naming %s", err, testMigs[0].Name)
	}
	if len(applied) != 0 {
		t.Fatalf("applied %v", applied)
	}
	if got := recorded(t, pool); !equal(got, names(testMigs[:1])) {
		t.Fatalf("recorded %v: a migration was applied despite the checksum error", got)
	}
	if _, err := db.Pending(ctx, pool, changed); !errors.As(err, &ce) {
		t.Fatalf("Pending err = %v, want *ChecksumError", err)
	}
}

func TestMigrateFailingMigrationRollsBack(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	migs := []db.Migration{
		testMigs[0],
		{Name: "core/0002_bad.sql", SQL: "CREATE TABLE half (id int); SELECT no_such_function();"},
		{Name: "core/0003_never.sql", SQL: "CREATE TABLE never (id int);"},
	}
	applied, err := db.Migrate(ctx, pool, migs)
	if err == nil {
		t.Fatal("no error")
	}
	if !equal(applied, names(migs[:1])) {
		t.Fatalf("applied = %v", applied)
	}
	if got := recorded(t, pool); !equal(got, names(migs[:1])) {
		t.Fatalf("recorded = %v", got)
	}
	var half, never bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('half') IS NOT NULL, to_regclass('never') IS NOT NULL").Scan(&half, &never); err != nil {
		t.Fatal(err)
	}
	if half || never {
		t.Fatalf("tables half=%v never=%v exist; the failed migration was not rolled back", half, never)
	}
}

func TestMigrateRejectsDuplicateNames(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	if _, err := db.Migrate(t.Context(), pool, []db.Migration{testMigs[0], testMigs[0]}); err == nil {
		t.Fatal("no error")
	}
}

func TestMigrateConcurrent(t *testing.T) {
	t.Parallel()
	u := dbtest.URL(t)
	ctx := t.Context()
	migs := []db.Migration{
		{Name: "core/0001.sql", SQL: "CREATE TABLE runs (n int);"},
		{Name: "core/0002.sql", SQL: "INSERT INTO runs VALUES (2); SELECT pg_sleep(0.05);"},
		{Name: "core/0003.sql", SQL: "INSERT INTO runs VALUES (3);"},
	}
	const workers = 4
	results := make([][]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		// Separate pools: separate processes starting at once.
		pool, err := db.Open(ctx, u, 2)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		wg.Go(func() { results[i], errs[i] = db.Migrate(ctx, pool, migs) })
	}
	wg.Wait()
	count := map[string]int{}
	for i := range workers {
		if errs[i] != nil {
			t.Fatalf("worker %d: %v", i, errs[i])
		}
		for _, n := range results[i] {
			count[n]++
		}
	}
	for _, m := range migs {
		if count[m.Name] != 1 {
			t.Errorf("%s applied %d times", m.Name, count[m.Name])
		}
	}
	check, err := db.Open(ctx, u, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(check.Close)
	var n int
	if err := check.QueryRow(ctx, "SELECT count(*) FROM runs").Scan(&n); err != nil || n != 2 {
		t.Fatalf("runs rows = %d, %v", n, err)
	}
}
