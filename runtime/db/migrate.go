package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Migration is one SQL script. Name identifies it for ever, e.g.
// "core/0001_identity.sql" or "project/0001_init.sql"; SQL may hold several
// statements.
type Migration struct {
	Name string
	SQL  string
}

// ChecksumError reports a migration that was applied with different SQL than
// it has now. Applied migrations must never be edited: add a new one.
type ChecksumError struct {
	Name     string
	Recorded string // checksum in exh_schema_migrations
	Current  string // checksum of the SQL given now
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("migration %s was changed after it was applied (recorded checksum %s, now %s)",
		e.Name, e.Recorded, e.Current)
}

// MigrationsTable records applied migrations.
const MigrationsTable = "exh_schema_migrations"

// migrateLockKey is the pg_advisory_lock key serialising Migrate runs: the
// ASCII bytes of "exhgenmg".
const migrateLockKey int64 = 0x65786867656e6d67

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS ` + MigrationsTable + ` (
	name text PRIMARY KEY,
	checksum text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Checksum returns the hex SHA-256 of sql.
func Checksum(sql string) string {
	sum := sha256.Sum256([]byte(sql))
	return hex.EncodeToString(sum[:])
}

// MigrationsFromFS reads the *.sql files of dir in fsys, sorted by file name,
// naming each prefix + "/" + file name.
func MigrationsFromFS(fsys fs.FS, dir, prefix string) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations %s: %w", dir, err)
	}
	var migs []Migration
	for _, e := range entries { // ReadDir sorts by name
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		migs = append(migs, Migration{Name: prefix + "/" + e.Name(), SQL: string(b)})
	}
	return migs, nil
}

// NoTransactionHeader, as a line of a migration's leading comments, marks
// a migration that cannot run in a transaction (CREATE INDEX CONCURRENTLY).
// Its statements, each ending with a semicolon at the end of a line, run
// one by one in autocommit mode; it is recorded, with its checksum, after
// the last one succeeded. A failure part-way leaves the earlier statements
// applied, so such a migration must be safe to run again (DROP INDEX
// CONCURRENTLY IF EXISTS before CREATE INDEX CONCURRENTLY).
const NoTransactionHeader = "-- exhgen:no-transaction"

// NoTransaction reports whether m carries NoTransactionHeader among its
// leading comment lines.
func (m Migration) NoTransaction() bool {
	for _, line := range strings.Split(m.SQL, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == NoTransactionHeader:
			return true
		case line == "" || strings.HasPrefix(line, "--"):
		default:
			return false
		}
	}
	return false
}

// statements splits a no-transaction migration into its statements: a
// statement ends with a line ending in ";". Comment lines are dropped.
func statements(sql string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(sql, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	if strings.TrimSpace(cur.String()) != "" {
		out = append(out, cur.String())
	}
	return out
}

// Options adjust a MigrateWith run.
type Options struct {
	// Atomic applies consecutive pending migrations in one transaction
	// instead of one each, so a failure leaves none of them applied. A
	// no-transaction migration still runs alone, ending the group.
	Atomic bool
	// Check runs under the advisory lock, before anything is applied,
	// with the migrations that are pending; an error stops the run.
	Check func(ctx context.Context, conn *pgx.Conn, pending []Migration) error
	// After runs under the advisory lock once every pending migration was
	// applied (also when none was pending), with their names; an error is
	// returned as is, the migrations staying applied.
	After func(ctx context.Context, conn *pgx.Conn, applied []string) error
}

// MigrateError is a migration that failed: Name says which, Statement the
// statement of a no-transaction migration (empty otherwise).
type MigrateError struct {
	Name      string
	Statement string
	Err       error
}

func (e *MigrateError) Error() string {
	if e.Statement != "" {
		return fmt.Sprintf("migrate: apply %s, statement %q: %v", e.Name, strings.TrimSpace(e.Statement), e.Err)
	}
	return fmt.Sprintf("migrate: apply %s: %v", e.Name, e.Err)
}

func (e *MigrateError) Unwrap() error { return e.Err }

// Migrate applies the migrations of migs not yet recorded, in the given
// order, and returns their names. Each runs in its own transaction together
// with its record row, so a failing one leaves no trace and stops the run
// (earlier ones stay applied); a migration marked with NoTransactionHeader
// runs outside one. The whole run holds a session advisory lock,
// so concurrent calls (several processes starting at once) apply each
// migration exactly once. Before anything is applied the checksums of all
// recorded migrations present in migs are verified: a changed one gives a
// *ChecksumError and nothing is applied. Recorded migrations missing from
// migs are ignored. statement_timeout does not apply to migrations.
// A failing migration gives a *MigrateError.
func Migrate(ctx context.Context, pool *pgxpool.Pool, migs []Migration) (applied []string, err error) {
	return MigrateWith(ctx, pool, migs, Options{})
}

// MigrateWith is Migrate with options.
func MigrateWith(ctx context.Context, pool *pgxpool.Pool, migs []Migration, opts Options) (applied []string, err error) {
	if err := checkNames(migs); err != nil {
		return nil, err
	}
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// Migrations may legitimately run long, and waiting for another
	// migrator's lock may too: lift the pool's statement_timeout on this
	// session. The session is discarded at the end, which also drops the
	// advisory lock should unlocking fail.
	defer func() {
		raw := conn.Hijack()
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = raw.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "SET statement_timeout = 0"); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLockKey); err != nil {
		return nil, fmt.Errorf("migrate: take advisory lock: %w", err)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_, _ = conn.Exec(uctx, "SELECT pg_advisory_unlock($1)", migrateLockKey)
	}()

	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("migrate: create %s: %w", MigrationsTable, err)
	}
	pending, err := pending(ctx, conn.Conn(), migs)
	if err != nil {
		return nil, err
	}
	if opts.Check != nil {
		if err := opts.Check(ctx, conn.Conn(), pending); err != nil {
			return nil, err
		}
	}
	record := func(ctx context.Context, q interface {
		Exec(context.Context, string, ...any) (pgconn.CommandTag, error)
	}, m Migration) error {
		_, err := q.Exec(ctx, "INSERT INTO "+MigrationsTable+" (name, checksum) VALUES ($1, $2)", m.Name, Checksum(m.SQL))
		return err
	}
	for i := 0; i < len(pending); {
		m := pending[i]
		if m.NoTransaction() {
			for _, stmt := range statements(m.SQL) {
				if _, err := conn.Exec(ctx, stmt); err != nil {
					return applied, &MigrateError{Name: m.Name, Statement: stmt, Err: err}
				}
			}
			if err := record(ctx, conn, m); err != nil {
				return applied, &MigrateError{Name: m.Name, Err: err}
			}
			applied = append(applied, m.Name)
			i++
			continue
		}
		// One migration, or with Atomic the run of transactional ones
		// starting here.
		group := []Migration{m}
		for opts.Atomic && i+len(group) < len(pending) && !pending[i+len(group)].NoTransaction() {
			group = append(group, pending[i+len(group)])
		}
		var failed string
		err := pgx.BeginFunc(ctx, conn.Conn(), func(tx pgx.Tx) error {
			for _, g := range group {
				failed = g.Name
				if _, err := tx.Exec(ctx, g.SQL); err != nil {
					return err
				}
				if err := record(ctx, tx, g); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return applied, &MigrateError{Name: failed, Err: err}
		}
		for _, g := range group {
			applied = append(applied, g.Name)
		}
		i += len(group)
	}
	if opts.After != nil {
		if err := opts.After(ctx, conn.Conn(), applied); err != nil {
			return applied, err
		}
	}
	return applied, nil
}

// Pending returns the migrations of migs that Migrate would apply now, or a
// *ChecksumError if a recorded one was changed.
func Pending(ctx context.Context, pool *pgxpool.Pool, migs []Migration) ([]Migration, error) {
	if err := checkNames(migs); err != nil {
		return nil, err
	}
	conn, err := Acquire(ctx, pool)
	if err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	defer conn.Release()
	return pending(ctx, conn.Conn(), migs)
}

func pending(ctx context.Context, conn *pgx.Conn, migs []Migration) ([]Migration, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", MigrationsTable).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	recorded := map[string]string{}
	if exists {
		rows, err := conn.Query(ctx, "SELECT name, checksum FROM "+MigrationsTable)
		if err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
		var name, sum string
		if _, err := pgx.ForEachRow(rows, []any{&name, &sum}, func() error {
			recorded[name] = sum
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read applied migrations: %w", err)
		}
	}
	var out []Migration
	for _, m := range migs {
		sum, ok := recorded[m.Name]
		if !ok {
			out = append(out, m)
			continue
		}
		if cur := Checksum(m.SQL); cur != sum {
			return nil, &ChecksumError{Name: m.Name, Recorded: sum, Current: cur}
		}
	}
	return out, nil
}

func checkNames(migs []Migration) error {
	seen := make(map[string]bool, len(migs))
	for _, m := range migs {
		if m.Name == "" {
			return errors.New("migrate: a migration has no name")
		}
		if seen[m.Name] {
			return fmt.Errorf("migrate: migration %s given twice", m.Name)
		}
		seen[m.Name] = true
	}
	return nil
}
