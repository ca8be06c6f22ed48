// Package outbox records events and mails in the transaction of the change
// that causes them (DUR-2). Relays added by later services (events, mail)
// deliver the rows at least once; consumers dedupe by the row id.
package outbox

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/db"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the outbox tables' migrations (core/0002_outbox.sql).
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("outbox: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// ErrInvalid reports a record missing a required part.
var ErrInvalid = errors.New("outbox: invalid record")

// EventRecord is an event to publish: "user.deleted", "group.enlisted", ...
type EventRecord struct {
	ID        uuid.UUID // zero: a new random id
	Type      string
	SubjectID string // the id of what the event is about
	ActorID   *uuid.UUID
	Payload   any // marshalled to JSON; nil is {}
	At        time.Time
}

// Event inserts e through q (the transaction of the change it announces)
// and returns its id.
func Event(ctx context.Context, q db.Execer, e EventRecord) (uuid.UUID, error) {
	if e.Type == "" {
		return uuid.Nil, fmt.Errorf("%w: event without a type", ErrInvalid)
	}
	payload, err := marshal(e.Payload)
	if err != nil {
		return uuid.Nil, fmt.Errorf("outbox: event %s payload: %w", e.Type, err)
	}
	id := idOr(e.ID)
	if _, err := q.Exec(ctx, `INSERT INTO event_outbox (id, type, subject_id, actor_id, payload, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, id, e.Type, e.SubjectID, e.ActorID, payload, timeOr(e.At)); err != nil {
		return uuid.Nil, fmt.Errorf("outbox: event %s: %w", e.Type, err)
	}
	return id, nil
}

// MailRecord is a mail to send: a template rendered with Data in Language.
// Data may hold a one-time token or PIN the mail carries; the mail relay
// clears it once sent.
type MailRecord struct {
	ID       uuid.UUID // zero: a new random id
	UserID   *uuid.UUID
	To       string
	Template string
	Language string
	Data     map[string]any
	At       time.Time
}

// Mail inserts m through q and returns its id.
func Mail(ctx context.Context, q db.Execer, m MailRecord) (uuid.UUID, error) {
	if m.To == "" || m.Template == "" {
		return uuid.Nil, fmt.Errorf("%w: mail needs a recipient and a template", ErrInvalid)
	}
	data, err := marshal(m.Data)
	if err != nil {
		return uuid.Nil, fmt.Errorf("outbox: mail %s data: %w", m.Template, err)
	}
	id := idOr(m.ID)
	if _, err := q.Exec(ctx, `INSERT INTO mail_outbox (id, user_id, to_address, template, language, data, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, m.UserID, m.To, m.Template, m.Language, data, timeOr(m.At)); err != nil {
		return uuid.Nil, fmt.Errorf("outbox: mail %s: %w", m.Template, err)
	}
	return id, nil
}

func marshal(v any) ([]byte, error) {
	if v == nil {
		return []byte("{}"), nil
	}
	if m, ok := v.(map[string]any); ok && m == nil {
		return []byte("{}"), nil
	}
	return json.Marshal(v)
}

func idOr(id uuid.UUID) uuid.UUID {
	if id == uuid.Nil {
		return uuid.New()
	}
	return id
}

func timeOr(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC()
}
