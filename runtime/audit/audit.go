package audit

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/server"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure" // the action was attempted and failed (a wrong password)
	Denied  = "denied"  // the caller was not allowed to attempt it
)

// Entry is one audit row. Time, client IP and request id come from the
// context (see Write).
type Entry struct {
	ActorID    *uuid.UUID // the acting user; nil when anonymous
	ClientID   string     // the acting application, when known
	Action     string     // dotted verb: "auth.login", "role.grant", "access.denied", ...
	Resource   string     // what was acted on: "user", "group", a model name
	ResourceID string
	Outcome    string // Success, Failure or Denied
	Reason     string // a stable code, e.g. "invalid_credentials"
	// Details holds further ids and codes; never secrets or PHI (AUD-2).
	Details map[string]any
	// At overrides the time of the row (tests, imports); zero means now.
	At time.Time
}

// ErrInvalid reports an Entry without an action or with an unknown outcome.
var ErrInvalid = errors.New("audit: invalid entry")

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the audit table's migrations (core/0002_audit.sql).
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("audit: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// Write inserts e through q, normally the transaction of the change e
// describes. The client IP and request id are those server middleware put
// in ctx (empty outside a request).
func Write(ctx context.Context, q db.Execer, e Entry) error {
	if e.Action == "" {
		return fmt.Errorf("%w: no action", ErrInvalid)
	}
	switch e.Outcome {
	case Success, Failure, Denied:
	default:
		return fmt.Errorf("%w: outcome %q", ErrInvalid, e.Outcome)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	details := []byte("{}")
	if len(e.Details) > 0 {
		var err error
		if details, err = json.Marshal(e.Details); err != nil {
			return fmt.Errorf("audit: details: %w", err)
		}
	}
	_, err := q.Exec(ctx, `INSERT INTO audit_log
		(at, actor_id, client_id, action, resource, resource_id, outcome, reason, ip, request_id, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		at.UTC(), e.ActorID, e.ClientID, e.Action, e.Resource, e.ResourceID, e.Outcome, e.Reason,
		server.ClientIP(ctx), server.RequestID(ctx), details)
	if err != nil {
		return fmt.Errorf("audit: write %s: %w", e.Action, err)
	}
	return nil
}
