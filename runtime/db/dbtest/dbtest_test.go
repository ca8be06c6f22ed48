package dbtest

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { Main(m) }

func TestNewGivesEmptyIsolatedDatabases(t *testing.T) {
	t.Parallel()
	a, b := New(t), New(t)
	ctx := t.Context()
	var nameA, nameB string
	if err := a.QueryRow(ctx, "SELECT current_database()").Scan(&nameA); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(ctx, "SELECT current_database()").Scan(&nameB); err != nil {
		t.Fatal(err)
	}
	if nameA == nameB || len(nameA) < len("exh_test_") || nameA[:9] != "exh_test_" {
		t.Fatalf("databases %q and %q: want two distinct exh_test_* names", nameA, nameB)
	}
	var n int
	if err := a.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("fresh database has %d tables", n)
	}
	if _, err := a.Exec(ctx, "CREATE TABLE t (id int)"); err != nil {
		t.Fatal(err)
	}
	if err := b.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("table leaked into the other database")
	}
}

func TestURLDatabaseIsDroppedAtCleanup(t *testing.T) {
	t.Parallel()
	var name string
	t.Run("inner", func(t *testing.T) {
		u := URL(t)
		conn, err := pgx.Connect(t.Context(), u)
		if err != nil {
			t.Fatal(err)
		}
		// Left open on purpose: DROP ... WITH (FORCE) must still succeed.
		if err := conn.QueryRow(t.Context(), "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	var exists bool
	if err := get().admin.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Fatalf("database %s still exists after cleanup", name)
	}
}

// TestEphemeralCluster starts a cluster from the local binaries even though a
// server may already be running, creates a database on it and stops it.
func TestEphemeralCluster(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c, err := startCluster(ctx)
	if err != nil {
		t.Fatalf("start ephemeral cluster: %v\n%s", err, installHint)
	}
	base := c.base
	t.Cleanup(func() { _ = c.stop() })

	s, err := connect(ctx, c.url("postgres"), 10*time.Second)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE exh_test_ephemeral"); err != nil {
		t.Fatal(err)
	}
	u, err := withDatabase(s.adminURL, "exh_test_ephemeral")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatalf("connect %s: %v", u, err)
	}
	var name string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "exh_test_ephemeral" {
		t.Fatalf("current_database = %q", name)
	}
	_ = conn.Close(context.Background())
	s.admin.Close()

	if err := c.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := os.Stat(base); !os.IsNotExist(err) {
		t.Fatalf("cluster directory %s not removed (stat: %v)", base, err)
	}
}

func TestWithDatabase(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ base, want string }{
		"tcp":        {LocalURL, "postgres://postgres@127.0.0.1:5432/exh_test_x?sslmode=disable"},
		"socket":     {"postgres://postgres@/postgres?host=%2Ftmp%2Fd&port=5", "postgres://postgres@/exh_test_x?host=%2Ftmp%2Fd&port=5"},
		"dbname key": {"postgres://u@h/?dbname=a", "postgres://u@h/exh_test_x?dbname=exh_test_x"},
		"keyword":    {"host=/tmp port=5 user=postgres dbname=postgres", "host=/tmp port=5 user=postgres dbname=postgres dbname=exh_test_x"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := withDatabase(tc.base, "exh_test_x")
			if err != nil || got != tc.want {
				t.Fatalf("withDatabase(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
			}
		})
	}
}

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	if compareVersions("9.6", "15") >= 0 || compareVersions("16", "15") <= 0 || compareVersions("15", "15") != 0 {
		t.Fatal("compareVersions orders versions wrongly")
	}
}
