package db_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

func TestMigrationNoTransaction(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"-- exhgen:no-transaction\nCREATE INDEX CONCURRENTLY x ON t (a);":                   true,
		"-- Migration 0003.\n\n-- exhgen:no-transaction\nCREATE INDEX CONCURRENTLY x ON t;": true,
		"CREATE TABLE t (a int);\n-- exhgen:no-transaction":                                 false,
		"-- exhgen:no-transactions\nSELECT 1;":                                              false,
	}
	for sql, want := range tests {
		if got := (db.Migration{Name: "x", SQL: sql}).NoTransaction(); got != want {
			t.Errorf("NoTransaction(%q) = %v, want %v", sql, got, want)
		}
	}
}

// A no-transaction migration runs CREATE INDEX CONCURRENTLY (which a
// transaction refuses) and is recorded with its checksum; one failing
// part-way names the statement and is not recorded.
func TestMigrateNoTransaction(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	migs := []db.Migration{
		{Name: "project/0001_init.sql", SQL: "CREATE TABLE t (a int);\nINSERT INTO t VALUES (1), (2);"},
		{Name: "project/0002_index.sql", SQL: db.NoTransactionHeader + "\n-- Index builds.\nDROP INDEX CONCURRENTLY IF EXISTS t_a_idx;\nCREATE INDEX CONCURRENTLY t_a_idx\n  ON t (a);\n"},
	}
	applied, err := db.Migrate(ctx, pool, migs)
	if err != nil || !equal(applied, names(migs)) {
		t.Fatalf("Migrate = %v, %v", applied, err)
	}
	var valid bool
	if err := pool.QueryRow(ctx, "SELECT indisvalid FROM pg_index WHERE indexrelid = 't_a_idx'::regclass").Scan(&valid); err != nil || !valid {
		t.Fatalf("index valid = %v, %v", valid, err)
	}
	var sum string
	if err := pool.QueryRow(ctx, "SELECT checksum FROM exh_schema_migrations WHERE name = $1", migs[1].Name).Scan(&sum); err != nil || sum != db.Checksum(migs[1].SQL) {
		t.Fatalf("checksum = %q, %v", sum, err)
	}

	bad := db.Migration{Name: "project/0003_bad.sql", SQL: db.NoTransactionHeader + "\nCREATE INDEX CONCURRENTLY t_b_idx ON t (no_such_column);\n"}
	_, err = db.Migrate(ctx, pool, append(migs, bad))
	var me *db.MigrateError
	if !errors.As(err, &me) || me.Name != bad.Name || !strings.Contains(me.Statement, "no_such_column") {
		t.Fatalf("err = %v, want a *MigrateError naming %s and its statement", err, bad.Name)
	}
	if got := recorded(t, pool); !equal(got, names(migs)) {
		t.Fatalf("recorded = %v", got)
	}
}

// With Atomic, the pending migrations run in one transaction: a failure in
// the second leaves the first unapplied too. Check runs under the lock and
// can stop the run before anything is applied.
func TestMigrateWithAtomicAndCheck(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	migs := []db.Migration{
		{Name: "project/0001_a.sql", SQL: "CREATE TABLE a (id int);"},
		{Name: "project/0002_b.sql", SQL: "CREATE TABLE b (id int); SELECT no_such_function();"},
	}
	_, err := db.MigrateWith(ctx, pool, migs, db.Options{Atomic: true})
	var me *db.MigrateError
	if !errors.As(err, &me) || me.Name != migs[1].Name {
		t.Fatalf("err = %v, want a *MigrateError naming %s", err, migs[1].Name)
	}
	var a bool
	if err := pool.QueryRow(ctx, "SELECT to_regclass('a') IS NOT NULL").Scan(&a); err != nil || a {
		t.Fatalf("table a exists = %v, %v: the atomic run was not rolled back", a, err)
	}
	if got := recorded(t, pool); len(got) != 0 {
		t.Fatalf("recorded = %v", got)
	}

	stop := errors.New("moved")
	var seen []string
	_, err = db.MigrateWith(ctx, pool, migs[:1], db.Options{Atomic: true, Check: func(ctx context.Context, conn *pgx.Conn, pending []db.Migration) error {
		seen = names(pending)
		return stop
	}})
	if !errors.Is(err, stop) || !equal(seen, names(migs[:1])) {
		t.Fatalf("err = %v, pending seen %v", err, seen)
	}
	if got := recorded(t, pool); len(got) != 0 {
		t.Fatalf("recorded = %v after Check refused", got)
	}
}

// After runs under the lock once everything applied, with the names, also
// when nothing was pending; it does not run after a failure.
func TestMigrateAfter(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	var calls [][]string
	after := func(_ context.Context, conn *pgx.Conn, applied []string) error {
		var locked bool
		if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())").Scan(&locked); err != nil || !locked {
			t.Errorf("After without the advisory lock (%v)", err)
		}
		calls = append(calls, applied)
		return nil
	}
	migs := []db.Migration{{Name: "project/0001_init.sql", SQL: "CREATE TABLE t (a int);"}}
	for range 2 {
		if _, err := db.MigrateWith(ctx, pool, migs, db.Options{After: after}); err != nil {
			t.Fatal(err)
		}
	}
	bad := append(migs, db.Migration{Name: "project/0002_bad.sql", SQL: "SELECT 1/0;"})
	if _, err := db.MigrateWith(ctx, pool, bad, db.Options{After: after}); err == nil {
		t.Fatal("a failing migration did not fail")
	}
	if len(calls) != 2 || strings.Join(calls[0], ",") != "project/0001_init.sql" || len(calls[1]) != 0 {
		t.Errorf("After calls = %q", calls)
	}
}
