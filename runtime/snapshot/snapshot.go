package snapshot

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Table holds the applied snapshots.
const Table = "exh_applied_snapshot"

// Migrations returns core/0030_applied_snapshot.sql.
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("snapshot: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// Record is one apply's snapshot.
type Record struct {
	ID int64
	// Snapshot is the snapshot JSON as applied; SHA256 the hex SHA-256 of
	// those bytes as the apply had them (the stored jsonb may order keys
	// differently).
	Snapshot []byte
	SHA256   string
	// Migrations are every migration recorded as applied once the apply
	// finished; Applied the ones this apply ran.
	Migrations []string
	Applied    []string
	AppliedAt  time.Time
	AppliedBy  string
}

// Hash is the hex SHA-256 a record keeps of its snapshot.
func Hash(snapshot []byte) string {
	sum := sha256.Sum256(snapshot)
	return hex.EncodeToString(sum[:])
}

// Querier is what Latest needs of a connection, pool or transaction.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Save appends r; ID is ignored, SHA256 computed when empty, and
// Migrations, when nil, read from the migrations table.
func Save(ctx context.Context, q interface {
	db.Execer
	Querier
}, r Record) error {
	if r.SHA256 == "" {
		r.SHA256 = Hash(r.Snapshot)
	}
	if r.Migrations == nil {
		if err := q.QueryRow(ctx, "SELECT coalesce(array_agg(name ORDER BY name), '{}') FROM "+db.MigrationsTable).Scan(&r.Migrations); err != nil {
			return fmt.Errorf("save applied snapshot: %w", err)
		}
	}
	if r.Applied == nil {
		r.Applied = []string{}
	}
	_, err := q.Exec(ctx, "INSERT INTO "+Table+" (snapshot, sha256, migrations, applied, applied_at, applied_by) VALUES ($1::text::jsonb, $2, $3, $4, $5, $6)",
		string(r.Snapshot), r.SHA256, r.Migrations, r.Applied, r.AppliedAt, r.AppliedBy)
	if err != nil {
		return fmt.Errorf("save applied snapshot: %w", err)
	}
	return nil
}

// Latest returns the latest applied snapshot, or nil when none was
// recorded (or the table does not exist yet).
func Latest(ctx context.Context, q Querier) (*Record, error) {
	var exists bool
	if err := q.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", Table).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read applied snapshot: %w", err)
	}
	if !exists {
		return nil, nil
	}
	var r Record
	var snap string
	err := q.QueryRow(ctx, "SELECT id, snapshot::text, sha256, migrations, applied, applied_at, applied_by FROM "+Table+" ORDER BY id DESC LIMIT 1").
		Scan(&r.ID, &snap, &r.SHA256, &r.Migrations, &r.Applied, &r.AppliedAt, &r.AppliedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read applied snapshot: %w", err)
	}
	r.Snapshot = []byte(snap)
	return &r, nil
}
