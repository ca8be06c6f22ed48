package outbox_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/outbox"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func TestEventAndMail(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := t.Context()
	if _, err := db.Migrate(ctx, pool, outbox.Migrations()); err != nil {
		t.Fatal(err)
	}
	user := uuid.New()
	eid, err := outbox.Event(ctx, pool, outbox.EventRecord{Type: "user.deleted", SubjectID: user.String(), ActorID: &user, Payload: map[string]string{"mode": "anonymise"}})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := outbox.Mail(ctx, pool, outbox.MailRecord{UserID: &user, To: "a@example.com", Template: "verify_email", Language: "en", Data: map[string]any{"pin": "123456"}})
	if err != nil {
		t.Fatal(err)
	}
	var typ, mode string
	if err := pool.QueryRow(ctx, `SELECT type, payload->>'mode' FROM event_outbox WHERE id = $1`, eid).Scan(&typ, &mode); err != nil || typ != "user.deleted" || mode != "anonymise" {
		t.Fatalf("event: %q %q %v", typ, mode, err)
	}
	var to, pin string
	if err := pool.QueryRow(ctx, `SELECT to_address, data->>'pin' FROM mail_outbox WHERE id = $1`, mid).Scan(&to, &pin); err != nil || to != "a@example.com" || pin != "123456" {
		t.Fatalf("mail: %q %q %v", to, pin, err)
	}
	if _, err := outbox.Event(ctx, pool, outbox.EventRecord{}); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("event without type: %v", err)
	}
	if _, err := outbox.Mail(ctx, pool, outbox.MailRecord{Template: "x"}); !errors.Is(err, outbox.ErrInvalid) {
		t.Errorf("mail without recipient: %v", err)
	}
}
