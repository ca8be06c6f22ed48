package db_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// TestUUIDParameters checks uuid.UUID values and slices travel as uuids.
func TestUUIDParameters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := db.Open(ctx, dbtest.URL(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	id := uuid.New()
	var got string
	if err := pool.QueryRow(ctx, `SELECT $1::uuid::text`, id).Scan(&got); err != nil || got != id.String() {
		t.Fatalf("uuid param: got %q, %v; want %s", got, err, id)
	}
	ids := []uuid.UUID{uuid.New(), id}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM unnest($1::uuid[]) AS u WHERE u = $2`, ids, id).Scan(&n); err != nil || n != 1 {
		t.Fatalf("uuid[] param: n=%d, %v", n, err)
	}
	var sc string
	if err := pool.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&sc); err != nil || sc != "on" {
		t.Fatalf("DUR1: synchronous_commit = %q, %v", sc, err)
	}
}
