package document

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/project"
)

const visitSchema = `{
  "type": "object",
  "additionalProperties": false,
  "properties": {
    "day": {"type": "string", "format": "date"},
    "at":  {"type": "string", "format": "date-time"},
    "follow_up": {
      "type": "object",
      "additionalProperties": false,
      "properties": {
        "on": {"type": "string", "format": "date"},
        "at": {"type": "string", "format": "date-time"}
      }
    },
    "dates": {"type": "array", "items": {"type": "string", "format": "date"}}
  }
}`

const visitDDL = `CREATE TABLE data_visit (id uuid PRIMARY KEY, creator_id uuid NOT NULL,
	user_ids uuid[] NOT NULL DEFAULT '{}', group_ids uuid[] NOT NULL DEFAULT '{}', status text NOT NULL DEFAULT 'active',
	status_changed_at timestamptz NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
	version bigint NOT NULL DEFAULT 1, day date, at timestamptz, follow_up jsonb, dates jsonb)`

func visitModel() project.Model {
	return project.Model{
		Name: "visit", Table: "data_visit", Access: ownerAccess,
		Fields: []project.Field{
			{Name: "day", Type: project.Date, Column: "day", SQLType: "date"},
			{Name: "at", Type: project.DateTime, Column: "at", SQLType: "timestamptz"},
			{Name: "follow_up", Type: project.Object, Column: "follow_up", SQLType: "jsonb", Fields: []project.Field{
				{Name: "on", Type: project.Date},
				{Name: "at", Type: project.DateTime},
			}},
			{Name: "dates", Type: project.Array, Column: "dates", SQLType: "jsonb", Items: &project.Field{Type: project.Date}},
		},
		Schema: json.RawMessage(visitSchema),
	}
}

// TestIN1_DatesOutOfRangeNameTheField: RFC 3339 dates PostgreSQL cannot
// store (it has no year 0) or that do not print as four-digit years are
// rejected by validation, naming the field, top-level or nested; before,
// PostgreSQL rejected top-level ones without a field and stored nested ones.
func TestIN1_DatesOutOfRangeNameTheField(t *testing.T) {
	t.Parallel()
	e := newEnv(t, visitModel())
	if _, err := e.pool.Exec(t.Context(), visitDDL); err != nil {
		t.Fatal(err)
	}
	ctx := as(t.Context(), user())
	invalid := []struct {
		name, body, field string
	}{
		{"date year zero", `{"day":"0000-01-01"}`, "/day"},
		{"date year zero end", `{"day":"0000-12-31"}`, "/day"},
		{"date five-digit year", `{"day":"10000-01-01"}`, "/day"},
		{"date-time year zero", `{"at":"0000-01-01T00:00:00Z"}`, "/at"},
		{"date-time year zero in UTC", `{"at":"0001-01-01T00:30:00+01:00"}`, "/at"},
		{"date-time year 10000 in UTC", `{"at":"9999-12-31T23:30:00-01:00"}`, "/at"},
		{"date-time rounds to year 10000", `{"at":"9999-12-31T23:59:59.9999999Z"}`, "/at"},
		{"nested date", `{"follow_up":{"on":"0000-01-01"}}`, "/follow_up/on"},
		{"nested date-time", `{"follow_up":{"at":"0000-06-01T12:00:00Z"}}`, "/follow_up/at"},
		{"array item", `{"dates":["2026-01-01","0000-01-01"]}`, "/dates/1"},
	}
	check := func(t *testing.T, err error, field string) {
		t.Helper()
		ae := wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
		if len(ae.Details) != 1 || ae.Details[0].Field != field || ae.Details[0].Code != apierr.DetailFormat {
			t.Fatalf("details %+v, want one %s %s", ae.Details, field, apierr.DetailFormat)
		}
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			check(t, e.svc.Create(ctx, "visit", rawJSON(tt.body), &doc{}), tt.field)
		})
	}

	// The extremes that fit are stored and read back.
	valid := []struct {
		body string
		want map[string]any
	}{
		{`{"day":"0001-01-01","at":"0001-01-01T00:00:00Z"}`,
			map[string]any{"day": "0001-01-01", "at": "0001-01-01T00:00:00.000000Z"}},
		{`{"day":"9999-12-31","at":"9999-12-31T23:59:59.999999Z"}`,
			map[string]any{"day": "9999-12-31", "at": "9999-12-31T23:59:59.999999Z"}},
		{`{"at":"0001-01-01T01:00:00+01:00","follow_up":{"on":"0001-01-01","at":"9999-12-31T23:59:59Z"},"dates":["9999-12-31"]}`,
			map[string]any{"at": "0001-01-01T00:00:00.000000Z", "follow_up": map[string]any{"on": "0001-01-01", "at": "9999-12-31T23:59:59Z"}, "dates": []any{"9999-12-31"}}},
	}
	var last doc
	for _, tt := range valid {
		if err := e.svc.Create(ctx, "visit", rawJSON(tt.body), &last); err != nil {
			t.Fatalf("Create(%s): %v", tt.body, err)
		}
		if got, want := fmt.Sprint(last.Data), fmt.Sprint(tt.want); got != want {
			t.Fatalf("Create(%s):\n got %s\nwant %s", tt.body, got, want)
		}
	}

	// Patches are validated the same way.
	for _, tt := range invalid {
		check(t, e.svc.Update(ctx, "visit", last.ID, "", rawJSON(tt.body), &doc{}), tt.field)
	}
	var l list
	if err := e.svc.List(ctx, "visit", "", &l); err != nil || l.Page.Total != len(valid) {
		t.Fatalf("List: %v %+v", err, l.Page)
	}
	if !slices.ContainsFunc(l.Data, func(d doc) bool { return d.ID == last.ID && d.Version == 1 }) {
		t.Fatalf("an invalid patch was stored: %+v", l.Data)
	}
}

func TestDateTimeInRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		s  string
		ok bool
	}{
		{"2026-11-27T08:30:00Z", true},
		{"2026-11-27t08:30:00z", true},
		{"2026-11-27T08:30:00.123456789+05:30", true},
		{"0001-01-01T00:00:00Z", true},
		{"0001-01-01T00:59:59-01:00", true},
		{"9999-12-31T23:59:59.9999994Z", true},
		{"9999-12-31T23:59:59.9999995Z", false},
		{"9999-12-31T23:59:60Z", false}, // a leap second rolls into year 10000
		{"0000-01-01T00:00:00Z", false},
		{"0001-01-01T00:00:00+00:01", false},
		{"9999-12-31T23:59:00-00:01", false},
		{"+001-01-01T00:00:00Z", false},
		{"2026-11-27T+8:30:00Z", false},
		{"2026-11-27T08:30:00.Z", false},
		{"2026-11-27T08:30:00+0530", false},
		{"2026-11-27T08:30:00", false},
	}
	for _, tt := range tests {
		if got := dateTimeInRange(tt.s); got != tt.ok {
			t.Errorf("dateTimeInRange(%q) = %v, want %v", tt.s, got, tt.ok)
		}
	}
}
