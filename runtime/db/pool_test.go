package db_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// poolUses are the ways runtime code uses a pool; each must go through
// db.Acquire and its bound.
var poolUses = map[string]func(ctx context.Context, pool *pgxpool.Pool) error{
	"Acquire": func(ctx context.Context, pool *pgxpool.Pool) error {
		c, err := db.Acquire(ctx, pool)
		if err == nil {
			c.Release()
		}
		return err
	},
	"InTx": func(ctx context.Context, pool *pgxpool.Pool) error {
		return db.InTx(ctx, pool, func(pgx.Tx) error { return nil })
	},
	"Exec": func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := db.Exec(ctx, pool, "SELECT 1")
		return err
	},
	"QueryRow": func(ctx context.Context, pool *pgxpool.Pool) error {
		var n int
		return db.QueryRow(ctx, pool, "SELECT 1").Scan(&n)
	},
	"Query": func(ctx context.Context, pool *pgxpool.Pool) error {
		rows, err := db.Query(ctx, pool, "SELECT 1")
		if err != nil {
			return err
		}
		_, err = pgx.CollectRows(rows, pgx.RowTo[int])
		return err
	},
	"Pending": func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := db.Pending(ctx, pool, nil)
		return err
	},
}

// TestAV2_PoolExhaustedIs503 holds the only connection of a pool and checks
// that every helper gives up after the acquire timeout with a 503.
func TestAV2_PoolExhaustedIs503(t *testing.T) {
	t.Parallel()
	const timeout = 100 * time.Millisecond
	for name, use := range poolUses {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			pool, err := db.Open(t.Context(), dbtest.URL(t), 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(pool.Close)
			held, err := pool.Acquire(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			defer held.Release()

			// The caller's deadline, when shorter, is the caller's.
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
			defer cancel()
			err = use(db.WithAcquireTimeout(ctx, time.Minute), pool)
			if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, db.ErrPoolExhausted) {
				t.Fatalf("err = %v, want the caller's deadline", err)
			}

			// A caller with a longer deadline gets a 503 once the acquire
			// timeout has passed (not a hang until its own deadline).
			long, cancelLong := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancelLong()
			start := time.Now()
			err = use(db.WithAcquireTimeout(long, timeout), pool)
			elapsed := time.Since(start)
			if !errors.Is(err, db.ErrPoolExhausted) || !db.IsUnavailable(err) {
				t.Fatalf("err = %v, want ErrPoolExhausted", err)
			}
			if e := apierr.From(err); e.Status != http.StatusServiceUnavailable || e.Code != apierr.CodeUnavailable {
				t.Fatalf("apierr = %d %s, want 503 %s", e.Status, e.Code, apierr.CodeUnavailable)
			}
			if elapsed < timeout || elapsed > timeout+time.Second {
				t.Fatalf("gave up after %v, want about %v", elapsed, timeout)
			}
		})
	}
}

func TestAV2_ClosedPoolIs503(t *testing.T) {
	t.Parallel()
	pool, err := db.Open(t.Context(), dbtest.URL(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
	for name, use := range poolUses {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			err := use(t.Context(), pool)
			if e := apierr.From(err); e.Status != http.StatusServiceUnavailable || e.Code != apierr.CodeUnavailable {
				t.Fatalf("err = %v, want a 503", err)
			}
			if errors.Is(err, db.ErrPoolExhausted) || !db.IsUnavailable(err) {
				t.Fatalf("err = %v, want a closed pool", err)
			}
		})
	}
}

func TestAcquireTimeout(t *testing.T) {
	t.Parallel()
	if got := db.AcquireTimeout(t.Context()); got != db.DefaultAcquireTimeout {
		t.Errorf("default = %v", got)
	}
	if got := db.AcquireTimeout(db.WithAcquireTimeout(t.Context(), time.Second)); got != time.Second {
		t.Errorf("set = %v", got)
	}
	if got := db.AcquireTimeout(db.WithAcquireTimeout(t.Context(), 0)); got != db.DefaultAcquireTimeout {
		t.Errorf("zero = %v", got)
	}
}

// TestHelpersReleaseConnections checks that the helpers give their
// connection back in every outcome, so a pool of 1 keeps working.
func TestHelpersReleaseConnections(t *testing.T) {
	t.Parallel()
	pool, err := db.Open(t.Context(), dbtest.URL(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	ctx := db.WithAcquireTimeout(t.Context(), 2*time.Second)
	if _, err := db.Exec(ctx, pool, "CREATE TABLE t (v int)"); err != nil {
		t.Fatal(err)
	}
	if tag, err := db.Exec(ctx, pool, "INSERT INTO t VALUES (1), (2), (3)"); err != nil || tag.RowsAffected() != 3 {
		t.Fatalf("insert: %v %v", tag, err)
	}
	steps := map[string]func() error{
		"exec error": func() error {
			if _, err := db.Exec(ctx, pool, "SELECT * FROM missing"); err == nil {
				return errors.New("no error")
			}
			return nil
		},
		"queryrow": func() error {
			var n int
			if err := db.QueryRow(ctx, pool, "SELECT sum(v) FROM t").Scan(&n); err != nil || n != 6 {
				return fmt.Errorf("sum = %d, %v", n, err)
			}
			return nil
		},
		"queryrow no rows": func() error {
			var n int
			if err := db.QueryRow(ctx, pool, "SELECT v FROM t WHERE v > 9").Scan(&n); !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("err = %v, want ErrNoRows", err)
			}
			return nil
		},
		"queryrow error": func() error {
			var n int
			if err := db.QueryRow(ctx, pool, "SELECT * FROM missing").Scan(&n); err == nil {
				return errors.New("no error")
			}
			return nil
		},
		"query collect": func() error {
			rows, err := db.Query(ctx, pool, "SELECT v FROM t ORDER BY v")
			if err != nil {
				return err
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil || len(got) != 3 {
				return fmt.Errorf("rows = %v, %v", got, err)
			}
			return nil
		},
		"query read to end": func() error {
			rows, err := db.Query(ctx, pool, "SELECT v FROM t")
			if err != nil {
				return err
			}
			for rows.Next() {
				var v int
				if err := rows.Scan(&v); err != nil {
					return err
				}
			}
			return rows.Err()
		},
		"query closed early": func() error {
			rows, err := db.Query(ctx, pool, "SELECT v FROM t")
			if err != nil {
				return err
			}
			rows.Next()
			rows.Close()
			rows.Close() // twice is fine
			return nil
		},
		"query scan error": func() error {
			rows, err := db.Query(ctx, pool, "SELECT 'x'::text")
			if err != nil {
				return err
			}
			rows.Next()
			var v int
			if err := rows.Scan(&v); err == nil {
				return errors.New("scanned text into int")
			}
			return nil
		},
		"query error": func() error {
			if _, err := db.Query(ctx, pool, "SELECT * FROM missing"); err == nil {
				return errors.New("no error")
			}
			return nil
		},
	}
	for name, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if n := pool.Stat().AcquiredConns(); n != 0 {
			t.Fatalf("%s: %d connections still acquired", name, n)
		}
	}
}

func TestIsUnavailable(t *testing.T) {
	t.Parallel()
	_, connectErr := pgconn.Connect(t.Context(), "postgres://postgres@127.0.0.1:1/none?connect_timeout=2")
	var ce *pgconn.ConnectError
	if !errors.As(connectErr, &ce) {
		t.Fatalf("connecting to port 1: %v, want a *pgconn.ConnectError", connectErr)
	}
	tests := map[string]struct {
		err  error
		want bool
	}{
		"nil":                 {nil, false},
		"plain":               {errors.New("boom"), false},
		"no rows":             {pgx.ErrNoRows, false},
		"canceled":            {context.Canceled, false},
		"deadline":            {fmt.Errorf("q: %w", context.DeadlineExceeded), true},
		"pool exhausted":      {db.ErrPoolExhausted, true},
		"connect error":       {fmt.Errorf("login: %w", connectErr), true},
		"connection failure":  {&pgconn.PgError{Code: "08006"}, true},
		"connection class 08": {fmt.Errorf("q: %w", &pgconn.PgError{Code: "08001"}), true},
		"statement timeout":   {&pgconn.PgError{Code: "57014"}, true},
		"admin shutdown":      {&pgconn.PgError{Code: "57P01"}, true},
		"starting up":         {&pgconn.PgError{Code: "57P03"}, true},
		"too many conns":      {&pgconn.PgError{Code: "53300"}, true},
		"unique violation":    {&pgconn.PgError{Code: "23505"}, false},
		"undefined table":     {&pgconn.PgError{Code: "42P01"}, false},
	}
	for name, tc := range tests {
		if got := db.IsUnavailable(tc.err); got != tc.want {
			t.Errorf("%s: IsUnavailable(%v) = %v, want %v", name, tc.err, got, tc.want)
		}
	}
}
