package db

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/puddle/v2"

	"github.com/exhgen/exhgen/runtime/apierr"
)

// Every use of the pool goes through Acquire, so waiting for a connection
// is bounded everywhere (AV-2): pgxpool itself waits until the caller's
// context ends, which for a request was the whole statement_timeout.
// Services keep taking a *pgxpool.Pool and call these helpers instead of
// its methods:
//
//	pool.QueryRow(ctx, sql, args...)  →  db.QueryRow(ctx, pool, sql, args...)
//	pool.Query(ctx, sql, args...)     →  db.Query(ctx, pool, sql, args...)
//	pool.Exec(ctx, sql, args...)      →  db.Exec(ctx, pool, sql, args...)
//	pool.Acquire(ctx)                 →  db.Acquire(ctx, pool)

type acquireTimeoutKey struct{}

// WithAcquireTimeout returns ctx with the acquire timeout Acquire applies
// set to d (d <= 0 restores DefaultAcquireTimeout).
func WithAcquireTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, acquireTimeoutKey{}, d)
}

// AcquireTimeout returns the acquire timeout Acquire applies under ctx.
func AcquireTimeout(ctx context.Context) time.Duration {
	if d, ok := ctx.Value(acquireTimeoutKey{}).(time.Duration); ok && d > 0 {
		return d
	}
	return DefaultAcquireTimeout
}

// Public messages of the 503s Acquire returns.
const (
	msgBusy        = "The service is busy. Please retry shortly."
	msgUnavailable = "The service is temporarily unavailable. Please retry shortly."
)

// Acquire takes a connection from pool, waiting at most AcquireTimeout(ctx).
// Running out of time gives a 503 *apierr.Error wrapping ErrPoolExhausted;
// failing to get a connection for another reason (the pool is closed, the
// database refuses connections) a 503 wrapping that cause. When ctx itself
// ends first, the error wraps ctx's error. The caller must Release the
// connection.
func Acquire(ctx context.Context, pool *pgxpool.Pool) (*pgxpool.Conn, error) {
	actx, cancel := context.WithTimeoutCause(ctx, AcquireTimeout(ctx), ErrPoolExhausted)
	defer cancel()
	conn, err := pool.Acquire(actx)
	if err == nil {
		return conn, nil
	}
	switch {
	case ctx.Err() != nil:
		return nil, fmt.Errorf("acquire connection: %w", ctx.Err())
	case errors.Is(context.Cause(actx), ErrPoolExhausted):
		return nil, apierr.Wrap(fmt.Errorf("acquire connection: %w", ErrPoolExhausted),
			http.StatusServiceUnavailable, apierr.CodeUnavailable, msgBusy)
	default:
		return nil, apierr.Wrap(fmt.Errorf("acquire connection: %w", err),
			http.StatusServiceUnavailable, apierr.CodeUnavailable, msgUnavailable)
	}
}

// Exec runs sql on a connection from Acquire.
func Exec(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) (pgconn.CommandTag, error) {
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	defer conn.Release()
	return conn.Exec(ctx, sql, args...)
}

// QueryRow runs sql on a connection from Acquire. Like pgxpool's, errors
// (Acquire's included) surface at Scan, which also releases the connection.
func QueryRow(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) pgx.Row {
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return errRow{err: err}
	}
	return &connRow{row: conn.QueryRow(ctx, sql, args...), conn: conn}
}

// Query runs sql on a connection from Acquire. The connection is released
// when the rows are closed (pgx.CollectRows and friends close them; so does
// reading past the last row or a failing Scan).
func Query(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) (pgx.Rows, error) {
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return nil, err
	}
	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		conn.Release()
		return nil, err
	}
	return &connRows{Rows: rows, conn: conn}, nil
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// connRow releases its connection once scanned.
type connRow struct {
	row  pgx.Row
	conn *pgxpool.Conn
}

func (r *connRow) Scan(dest ...any) error {
	defer r.release()
	return r.row.Scan(dest...)
}

func (r *connRow) release() {
	if r.conn != nil {
		r.conn.Release()
		r.conn = nil
	}
}

// connRows releases its connection when closed, as pgxpool's rows do.
type connRows struct {
	pgx.Rows
	conn *pgxpool.Conn
}

func (r *connRows) Close() {
	r.Rows.Close()
	if r.conn != nil {
		r.conn.Release()
		r.conn = nil
	}
}

func (r *connRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

func (r *connRows) Scan(dest ...any) error {
	err := r.Rows.Scan(dest...)
	if err != nil {
		r.Close()
	}
	return err
}

func (r *connRows) Values() ([]any, error) {
	v, err := r.Rows.Values()
	if err != nil {
		r.Close()
	}
	return v, err
}

// IsUnavailable reports whether err means the database could not serve the
// request for now, so that retrying later may succeed (a 503, not a 500):
// no pooled connection in time (ErrPoolExhausted), a deadline, a closed
// pool, a failed connection attempt (*pgconn.ConnectError), a network
// error, or a PostgreSQL error of SQLSTATE class 08 (connection exception),
// 57014 (query_canceled: statement_timeout), 57P01–57P03 (the server is
// shutting down, crashed or starting up) or 53300 (too_many_connections).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrPoolExhausted) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, puddle.ErrClosedPool) || pgconn.Timeout(err) {
		return true
	}
	var (
		connectErr *pgconn.ConnectError
		netErr     *net.OpError
		sqlErr     interface{ SQLState() string }
	)
	if errors.As(err, &connectErr) || errors.As(err, &netErr) {
		return true
	}
	if errors.As(err, &sqlErr) {
		switch code := sqlErr.SQLState(); {
		case len(code) == 5 && code[:2] == "08":
			return true
		case code == "57014", code == "57P01", code == "57P02", code == "57P03", code == "53300":
			return true
		}
	}
	return false
}

// Execer runs a statement: a pgx.Tx, a *pgx.Conn and a *pgxpool.Pool all
// satisfy it. Writers of rows that must commit with a change (audit,
// outbox) take one, so callers pass the transaction of that change.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}
