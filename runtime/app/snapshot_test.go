package app

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/snapshot"
)

// TestMigrateOnStartRecordsSnapshot: a backend that applies its project
// migrations itself (serve with EXH_MIGRATE_ON_START, or migrate) records
// its embedded migrations/schema.json as the applied snapshot under the
// migration lock, as `exhgen apply` does, so the next plan does not
// report drift; nothing is recorded when no project migration was
// applied, or when the backend has no snapshot.
func TestMigrateOnStartRecordsSnapshot(t *testing.T) {
	t.Parallel()
	dbURL := dbtest.URL(t)
	pool := openPool(t, dbURL)
	count := func() int {
		t.Helper()
		var n int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+snapshot.Table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const snap1 = `{"tables": [{"name": "data_note"}]}`
	b := tinyBackend()
	b.Migrations.(fstest.MapFS)["migrations/schema.json"] = &fstest.MapFile{Data: []byte(snap1)}

	// Started with migrate-on-start: the snapshot is recorded.
	startServer(t, testConfig(t, dbURL), b)
	rec, err := snapshot.Latest(t.Context(), pool)
	if err != nil || rec == nil {
		t.Fatalf("no applied snapshot after start: %v", err)
	}
	if rec.SHA256 != snapshot.Hash([]byte(snap1)) || !strings.Contains(strings.Join(rec.Applied, " "), "project/0001_init.sql") ||
		!strings.Contains(strings.Join(rec.Migrations, " "), "project/0001_init.sql") || !strings.HasPrefix(rec.AppliedBy, "tiny ") {
		t.Errorf("recorded %+v", rec)
	}

	// Nothing to apply: nothing recorded.
	runMigrate(t, dbURL, b, 0)
	if n := count(); n != 1 {
		t.Errorf("%d snapshots after a migrate that applied nothing, want 1", n)
	}

	// A new project migration with its snapshot.
	const snap2 = `{"tables": [{"name": "data_note"}, {"name": "data_tag"}]}`
	next := tinyBackend()
	next.Migrations = fstest.MapFS{
		"migrations/0001_init.sql":   b.Migrations.(fstest.MapFS)["migrations/0001_init.sql"],
		"migrations/0002_change.sql": {Data: []byte("CREATE TABLE data_tag (id uuid PRIMARY KEY);\n")},
		"migrations/schema.json":     {Data: []byte(snap2)},
	}
	runMigrate(t, dbURL, next, 1)
	if rec, err := snapshot.Latest(t.Context(), pool); err != nil || rec.SHA256 != snapshot.Hash([]byte(snap2)) || strings.Join(rec.Applied, " ") != "project/0002_change.sql" {
		t.Errorf("after the second migration: %+v, %v", rec, err)
	}

	// A backend without a snapshot records none.
	other := tinyBackend()
	other.Migrations = fstest.MapFS{
		"migrations/0001_init.sql":   next.Migrations.(fstest.MapFS)["migrations/0001_init.sql"],
		"migrations/0002_change.sql": next.Migrations.(fstest.MapFS)["migrations/0002_change.sql"],
		"migrations/0003_more.sql":   {Data: []byte("CREATE TABLE data_more (id uuid PRIMARY KEY);\n")},
	}
	runMigrate(t, dbURL, other, 1)
	if n := count(); n != 2 {
		t.Errorf("%d snapshots after a backend without one migrated, want 2", n)
	}
}
