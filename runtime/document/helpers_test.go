package document

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/group"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/rql"
	usermig "github.com/exhgen/exhgen/runtime/user"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

const measurementSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["systolic", "taken_at"],
  "properties": {
    "systolic":  {"type": "integer", "minimum": 40, "maximum": 300},
    "diastolic": {"type": "integer", "minimum": 20, "maximum": 200},
    "weight":    {"type": "number", "minimum": 0},
    "arm":       {"type": "string", "enum": ["left", "right"], "default": "left"},
    "taken_at":  {"type": "string", "format": "date-time"},
    "device": {
      "type": "object",
      "additionalProperties": false,
      "required": ["serial"],
      "properties": {
        "serial":   {"type": "string", "minLength": 1},
        "firmware": {"type": "string"}
      }
    },
    "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    "note": {"type": "string", "maxLength": 200}
  }
}`

// measurementDDL follows the storage convention, with the indexes the
// generator emits (generator/migrate.go, modelTable). The diastolic CHECK is
// deliberately stricter than the schema so database constraint errors can be
// tested.
const measurementDDL = `
CREATE TABLE data_measurement (
  id uuid PRIMARY KEY,
  creator_id uuid NOT NULL,
  user_ids uuid[] NOT NULL DEFAULT '{}',
  group_ids uuid[] NOT NULL DEFAULT '{}',
  status text NOT NULL DEFAULT 'active',
  status_changed_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  version bigint NOT NULL DEFAULT 1,
  systolic bigint NOT NULL CHECK (systolic BETWEEN 40 AND 300),
  diastolic bigint CHECK (diastolic BETWEEN 20 AND 150),
  weight double precision CHECK (weight >= 0),
  arm text CHECK (arm IN ('left', 'right')),
  taken_at timestamptz NOT NULL,
  device jsonb,
  tags jsonb,
  note text CHECK (char_length(note) <= 200)
);
CREATE INDEX data_measurement_creator_id_idx ON data_measurement (creator_id);
CREATE INDEX data_measurement_user_ids_idx ON data_measurement USING gin (user_ids);
CREATE INDEX data_measurement_group_ids_idx ON data_measurement USING gin (group_ids);
CREATE INDEX data_measurement_created_at_idx ON data_measurement (created_at DESC, id DESC);
CREATE INDEX data_measurement_taken_at_idx ON data_measurement (taken_at);
`

func measurementModel(acc project.Access) project.Model {
	return project.Model{
		Name:  "measurement",
		Table: "data_measurement",
		Fields: []project.Field{
			{Name: "systolic", Type: project.Integer, Column: "systolic", SQLType: "bigint", Required: true},
			{Name: "diastolic", Type: project.Integer, Column: "diastolic", SQLType: "bigint"},
			{Name: "weight", Type: project.Number, Column: "weight", SQLType: "double precision"},
			{Name: "arm", Type: project.String, Column: "arm", SQLType: "text", Default: json.RawMessage(`"left"`)},
			{Name: "taken_at", Type: project.DateTime, Column: "taken_at", SQLType: "timestamptz", Required: true, Indexed: true},
			{Name: "device", Type: project.Object, Column: "device", SQLType: "jsonb", Fields: []project.Field{
				{Name: "serial", Type: project.String, Required: true},
				{Name: "firmware", Type: project.String},
			}},
			{Name: "tags", Type: project.Array, Column: "tags", SQLType: "jsonb", Items: &project.Field{Type: project.String}},
			{Name: "note", Type: project.String, Column: "note", SQLType: "text"},
		},
		Access: acc,
		Schema: json.RawMessage(measurementSchema),
	}
}

// ownerAccess: anybody may create; creator and linked users do the rest.
var ownerAccess = project.Access{
	Create: []string{RuleAllUsers},
	Read:   []string{RuleCreator, RuleLinkedUsers},
	Update: []string{RuleCreator, RuleLinkedUsers},
	Delete: []string{RuleCreator},
}

func testProject(models ...project.Model) *project.Project {
	return &project.Project{Name: "clinic", Title: "Clinic", Languages: []string{"en"}, Models: models}
}

// testClock advances one millisecond per reading, so documents created one
// after the other have distinct, ordered timestamps.
type testClock struct{ n atomic.Int64 }

var epoch = time.Date(2026, 11, 27, 0, 14, 17, 123456000, time.UTC)

func (c *testClock) Now() time.Time { return epoch.Add(time.Duration(c.n.Add(1)) * time.Millisecond) }

type env struct {
	t     *testing.T
	pool  *pgxpool.Pool
	svc   *Service
	clock *testClock
}

// newEnv creates a fresh database holding the measurement table and a
// service over the given models (the measurement model with ownerAccess when
// none are given).
func newEnv(t *testing.T, models ...project.Model) *env {
	t.Helper()
	pool := newDB(t)
	if len(models) == 0 {
		models = []project.Model{measurementModel(ownerAccess)}
	}
	clock := &testClock{}
	svc, err := New(pool, testProject(models...), nil, WithClock(clock.Now))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return &env{t: t, pool: pool, svc: svc, clock: clock}
}

// newDB creates a fresh database holding the core tables (users, groups,
// audit_log: links and refusals write to them) and the measurement table.
func newDB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := db.Migrate(t.Context(), pool, slices.Concat(usermig.Migrations(), audit.Migrations(), group.Migrations())); err != nil {
		t.Fatalf("core migrations: %v", err)
	}
	if _, err := pool.Exec(t.Context(), measurementDDL); err != nil {
		t.Fatalf("create table: %v", err)
	}
	return pool
}

func user(perms ...string) *auth.Principal {
	return &auth.Principal{UserID: uuid.New(), Email: "u@example.com", Permissions: perms}
}

func as(ctx context.Context, p *auth.Principal) context.Context { return auth.WithPrincipal(ctx, p) }

// rawJSON is a request body given as bytes, as the generated glue's
// json.Marshaler would produce them.
type rawJSON string

func (r rawJSON) MarshalJSON() ([]byte, error) { return []byte(r), nil }

// doc is the response document.
type doc struct {
	ID              uuid.UUID      `json:"id"`
	CreatorID       uuid.UUID      `json:"creator_id"`
	UserIDs         []uuid.UUID    `json:"user_ids"`
	GroupIDs        []uuid.UUID    `json:"group_ids"`
	Status          string         `json:"status"`
	StatusChangedAt time.Time      `json:"status_changed_at"`
	CreatedAt       time.Time      `json:"created_at"`
	UpdatedAt       time.Time      `json:"updated_at"`
	Version         int64          `json:"version"`
	Data            map[string]any `json:"data"`
}

func (d *doc) UnmarshalJSON(b []byte) error {
	type plain doc
	var p plain
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*d = doc(p)
	return nil
}

type list struct {
	Data []doc `json:"data"`
	Page struct {
		Limit  int `json:"limit"`
		Offset int `json:"offset"`
		Total  int `json:"total"`
	} `json:"page"`
}

func (l *list) UnmarshalJSON(b []byte) error {
	type plain list
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*l = list(p)
	return nil
}

func (e *env) create(ctx context.Context, body string) doc {
	e.t.Helper()
	var d doc
	if err := e.svc.Create(ctx, "measurement", rawJSON(body), &d); err != nil {
		e.t.Fatalf("Create(%s): %v", body, err)
	}
	return d
}

// apiErr returns err's public face, failing the test when err is nil or
// not an *apierr.Error.
func apiErr(t *testing.T, err error) *apierr.Error {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var qe *rql.Error
	if errors.As(err, &qe) {
		return qe.Public()
	}
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error is not an *apierr.Error: %v", err)
	}
	return ae
}

func wantStatus(t *testing.T, err error, status int, code string) *apierr.Error {
	t.Helper()
	ae := apiErr(t, err)
	if ae.Status != status || ae.Code != code {
		t.Fatalf("got %d %s (%s), want %d %s", ae.Status, ae.Code, ae.Message, status, code)
	}
	return ae
}

const validBody = `{"systolic":120,"diastolic":80,"taken_at":"2026-11-26T08:00:00Z"}`
