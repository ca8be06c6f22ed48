package db

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Session defaults set on every pooled connection unless the URL names them
// (e.g. "?statement_timeout=5000"). PostgreSQL takes milliseconds.
const (
	DefaultStatementTimeout                = 30 * time.Second
	DefaultIdleInTransactionSessionTimeout = 60 * time.Second
	// DefaultAcquireTimeout bounds how long Acquire (and so InTx, Exec,
	// Query and QueryRow) waits for a pooled connection before answering
	// 503; WithAcquireTimeout changes it for one context.
	DefaultAcquireTimeout = 5 * time.Second
	// DefaultMaxConns is used when Open is given maxConns <= 0.
	DefaultMaxConns int32 = 10
)

// ErrPoolExhausted is in the chain of the error Acquire (and every helper
// using it) returns when no connection became free within the acquire
// timeout.
var ErrPoolExhausted = errors.New("db: no connection available")

// Open connects a pool to url with at most maxConns connections
// (DefaultMaxConns when maxConns <= 0) and pings the server.
func Open(ctx context.Context, url string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := Config(url, maxConns)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database: %w", err)
	}
	return pool, nil
}

// Config returns the pool configuration Open uses, for callers that need to
// adjust it before connecting.
func Config(url string, maxConns int32) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// The parse error may echo the URL, password included.
		return nil, errors.New("parse database url: invalid connection string")
	}
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	cfg.MaxConns = maxConns
	if cfg.MinConns > maxConns {
		cfg.MinConns = maxConns
	}
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.MaxConnLifetime = time.Hour
	cfg.MaxConnLifetimeJitter = 5 * time.Minute
	cfg.HealthCheckPeriod = 30 * time.Second
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	rp := cfg.ConnConfig.RuntimeParams
	setDefault(rp, "statement_timeout", ms(DefaultStatementTimeout))
	setDefault(rp, "idle_in_transaction_session_timeout", ms(DefaultIdleInTransactionSessionTimeout))
	setDefault(rp, "application_name", "exhgen")
	// DUR-1: a 2xx is only sent after a durable commit, whatever the
	// server's or the URL's setting.
	rp["synchronous_commit"] = "on"
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerUUID(conn.TypeMap())
		return nil
	}
	return cfg, nil
}

func setDefault(m map[string]string, k, v string) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

// InTx runs fn in a transaction: it commits when fn returns nil and rolls back
// when fn returns an error or panics (the panic is re-raised after the
// rollback). The connection comes from Acquire: waiting for it is bounded,
// and running out gives a 503 *apierr.Error wrapping ErrPoolExhausted.
func InTx(ctx context.Context, pool *pgxpool.Pool, fn func(tx pgx.Tx) error) (err error) {
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return err
	}
	defer conn.Release()

	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	committed := false
	defer func() {
		if committed {
			return
		}
		// Roll back even when ctx is already cancelled.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()

	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	return nil
}
