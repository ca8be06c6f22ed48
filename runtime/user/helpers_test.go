package user_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/user"
)

// userWith registers email, gives it roles, logs in and returns the user
// and a context carrying its principal (as a request with its token).
func (f *fixture) userWith(t *testing.T, email string, roles ...string) (*user.User, context.Context) {
	t.Helper()
	u := f.register(t, email)
	if len(roles) > 0 {
		if err := f.users.SetRoles(t.Context(), u.ID, roles); err != nil {
			t.Fatal(err)
		}
	}
	return u, f.loginCtx(t, email, strongPassword)
}

// loginCtx logs in and returns a context authenticated with the token.
func (f *fixture) loginCtx(t *testing.T, email, password string) context.Context {
	t.Helper()
	tok, err := f.users.Login(t.Context(), user.Credentials{Email: email, Password: password})
	if err != nil {
		t.Fatalf("login %s: %v", email, err)
	}
	ctx, err := f.tokens.Authenticate(t.Context(), tok.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

// mail is a row of the mail outbox.
type mail struct {
	UserID   *uuid.UUID
	Template string
	Language string
	Data     map[string]string
}

// lastMail returns the newest mail to address with template, failing the
// test when there is none.
func (f *fixture) lastMail(t *testing.T, to, template string) mail {
	t.Helper()
	m, ok := f.findMail(t, to, template)
	if !ok {
		t.Fatalf("no %s mail to %s", template, to)
	}
	return m
}

func (f *fixture) findMail(t *testing.T, to, template string) (mail, bool) {
	t.Helper()
	var (
		m   mail
		raw []byte
	)
	err := f.pool.QueryRow(t.Context(), `SELECT user_id, template, language, data FROM mail_outbox
		WHERE to_address = $1 AND template = $2 ORDER BY created_at DESC, id LIMIT 1`, to, template).
		Scan(&m.UserID, &m.Template, &m.Language, &raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return m, false
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &m.Data); err != nil {
		t.Fatal(err)
	}
	return m, true
}

func (f *fixture) countMails(t *testing.T, to string) int {
	t.Helper()
	var n int
	if err := f.pool.QueryRow(t.Context(), `SELECT count(*) FROM mail_outbox WHERE to_address = $1`, to).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// auditRow is a row of audit_log.
type auditRow struct {
	ActorID    *uuid.UUID
	Action     string
	ResourceID string
	Outcome    string
	Reason     string
	Details    map[string]any
}

// audits returns the audit rows with action, oldest first.
func (f *fixture) audits(t *testing.T, action string) []auditRow {
	t.Helper()
	rows, err := f.pool.Query(t.Context(), `SELECT actor_id, action, resource_id, outcome, reason, details
		FROM audit_log WHERE action = $1 ORDER BY id`, action)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var (
			r   auditRow
			raw []byte
		)
		if err := rows.Scan(&r.ActorID, &r.Action, &r.ResourceID, &r.Outcome, &r.Reason, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, &r.Details); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
