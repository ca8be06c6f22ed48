package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/server"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func newPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := db.Migrate(t.Context(), pool, audit.Migrations()); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestAUD1_WriteRecordsWhoWhatWhenWhereOutcome(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := server.WithClientIP(context.Background(), "192.0.2.7")
	actor := uuid.New()
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		return audit.Write(ctx, tx, audit.Entry{
			ActorID: &actor, Action: "auth.login", Resource: "user", ResourceID: actor.String(),
			Outcome: audit.Failure, Reason: "invalid_credentials", Details: map[string]any{"attempt": 3}, At: at,
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	var (
		gotActor                                   uuid.UUID
		gotAt                                      time.Time
		action, resource, outcome, reason, ip, rid string
		details                                    []byte
	)
	err = pool.QueryRow(ctx, `SELECT actor_id, at, action, resource, outcome, reason, ip, request_id, details FROM audit_log`).
		Scan(&gotActor, &gotAt, &action, &resource, &outcome, &reason, &ip, &rid, &details)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.Unmarshal(details, &d)
	if gotActor != actor || !gotAt.Equal(at) || action != "auth.login" || resource != "user" ||
		outcome != "failure" || reason != "invalid_credentials" || ip != "192.0.2.7" || d["attempt"] != float64(3) {
		t.Fatalf("row = %v %v %q %q %q %q %q %q %v", gotActor, gotAt, action, resource, outcome, reason, ip, rid, d)
	}
}

func TestAUD1_WriteRejectsInvalidEntries(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	for name, e := range map[string]audit.Entry{
		"no action":  {Outcome: audit.Success},
		"no outcome": {Action: "auth.login"},
		"bad":        {Action: "auth.login", Outcome: "maybe"},
	} {
		if err := audit.Write(t.Context(), pool, e); !errors.Is(err, audit.ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
}

// TestAUD3_AuditLogIsAppendOnly proves UPDATE, DELETE and TRUNCATE are each
// refused, even for the table's owner (the connecting role here).
func TestAUD3_AuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := t.Context()
	if err := audit.Write(ctx, pool, audit.Entry{Action: "role.grant", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		`UPDATE audit_log SET outcome = 'denied'`,
		`DELETE FROM audit_log`,
		`TRUNCATE audit_log`,
	} {
		if _, err := pool.Exec(ctx, stmt); err == nil {
			t.Errorf("%s: succeeded, want refused", stmt)
		}
	}
	var n int
	var outcome string
	if err := pool.QueryRow(ctx, `SELECT count(*), min(outcome) FROM audit_log`).Scan(&n, &outcome); err != nil {
		t.Fatal(err)
	}
	if n != 1 || outcome != "success" {
		t.Fatalf("after refused statements: %d rows, outcome %q", n, outcome)
	}
}

func TestAUD5_AuditRowRollsBackWithItsChange(t *testing.T) {
	t.Parallel()
	pool := newPool(t)
	ctx := t.Context()
	boom := errors.New("boom")
	err := db.InTx(ctx, pool, func(tx pgx.Tx) error {
		if err := audit.Write(ctx, tx, audit.Entry{Action: "role.grant", Outcome: audit.Success}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("rows = %d, %v; want 0", n, err)
	}
}
