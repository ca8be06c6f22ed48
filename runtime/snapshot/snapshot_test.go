package snapshot_test

import (
	"slices"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/snapshot"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestMigrationName(t *testing.T) {
	t.Parallel()
	migs := snapshot.Migrations()
	if len(migs) != 1 || migs[0].Name != "core/0030_applied_snapshot.sql" {
		t.Fatalf("migrations = %v", migs)
	}
}

// TestLatest: nothing before the table exists or holds a row; then the
// latest of the rows saved, with the migrations recorded at the time.
func TestLatest(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	if r, err := snapshot.Latest(ctx, pool); r != nil || err != nil {
		t.Fatalf("Latest without the table = %v, %v", r, err)
	}
	if _, err := db.Migrate(ctx, pool, snapshot.Migrations()); err != nil {
		t.Fatal(err)
	}
	if r, err := snapshot.Latest(ctx, pool); r != nil || err != nil {
		t.Fatalf("Latest of an empty table = %v, %v", r, err)
	}
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	first := []byte(`{"tables": []}`)
	second := []byte(`{"tables": [{"name": "data_x"}]}`)
	if err := snapshot.Save(ctx, pool, snapshot.Record{Snapshot: first, AppliedAt: at, AppliedBy: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := snapshot.Save(ctx, pool, snapshot.Record{Snapshot: second, Applied: []string{"project/0002_change.sql"}, AppliedAt: at.Add(time.Hour), AppliedBy: "ann@host"}); err != nil {
		t.Fatal(err)
	}
	r, err := snapshot.Latest(ctx, pool)
	if err != nil || r == nil {
		t.Fatalf("Latest = %v, %v", r, err)
	}
	if r.SHA256 != snapshot.Hash(second) || r.AppliedBy != "ann@host" || !r.AppliedAt.Equal(at.Add(time.Hour)) ||
		!slices.Equal(r.Applied, []string{"project/0002_change.sql"}) || !slices.Equal(r.Migrations, []string{"core/0030_applied_snapshot.sql"}) {
		t.Errorf("Latest = %+v", r)
	}
	if string(r.Snapshot) != `{"tables": [{"name": "data_x"}]}` {
		t.Errorf("snapshot = %s", r.Snapshot)
	}
}
