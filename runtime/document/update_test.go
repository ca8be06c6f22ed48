package document

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/project"
)

// rowVersion is the row's xmin: it changes whenever the row is written,
// even when nothing else would show it.
func (e *env) rowVersion(t *testing.T, table string, id uuid.UUID) string {
	t.Helper()
	var x string
	if err := e.pool.QueryRow(t.Context(), `SELECT xmin::text FROM `+ident(table)+` WHERE id = $1`, id).Scan(&x); err != nil {
		t.Fatal(err)
	}
	return x
}

// TestUpdateNoOpPatch: a patch that leaves every stored value as it is
// writes nothing, keeps version and updated_at and returns the current
// document; If-Match and access are still checked.
func TestUpdateNoOpPatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := user()
	ctx := as(t.Context(), alice)
	d := e.create(ctx, `{"systolic":120,"weight":72.5,"taken_at":"2026-11-26T08:00:00Z","device":{"serial":"BP-1","firmware":"1.0"},"tags":["a","b"]}`)
	row := e.rowVersion(t, "data_measurement", d.ID)

	noOps := []string{
		`{}`,
		`{"systolic":120}`,
		`{"systolic":120.0}`, // the same integer
		`{"systolic":1.2e2}`, // the same integer
		`{"weight":72.50}`,   // the same number
		`{"taken_at":"2026-11-26T09:00:00+01:00"}`,   // the same instant
		`{"taken_at":"2026-11-26T08:00:00.000000Z"}`, // the same instant
		`{"arm":"left"}`,                                // the default stored at create
		`{"note":null}`,                                 // removes what is absent
		`{"device":{"serial":"BP-1"}}`,                  // merges to the same object
		`{"device":{"firmware":"1.0","serial":"BP-1"}}`, // key order does not matter
		`{"tags":["a","b"]}`,
		`{"systolic":120,"note":null,"device":{}}`,
	}
	for _, patch := range noOps {
		for _, ifMatch := range []string{"", `"1"`, "*"} {
			var out doc
			if err := e.svc.Update(ctx, "measurement", d.ID, ifMatch, rawJSON(patch), &out); err != nil {
				t.Fatalf("Update(%s, If-Match %s): %v", patch, ifMatch, err)
			}
			if fmt.Sprint(out) != fmt.Sprint(d) {
				t.Fatalf("Update(%s, If-Match %s) changed the document:\n got %+v\nwant %+v", patch, ifMatch, out, d)
			}
			if got := e.rowVersion(t, "data_measurement", d.ID); got != row {
				t.Fatalf("Update(%s, If-Match %s) wrote the row", patch, ifMatch)
			}
		}
	}

	// If-Match and access are checked all the same.
	err := e.svc.Update(ctx, "measurement", d.ID, `"2"`, rawJSON(`{}`), &doc{})
	wantStatus(t, err, http.StatusPreconditionFailed, apierr.CodePreconditionFailed)
	var leaked doc
	err = e.svc.Update(as(t.Context(), user()), "measurement", d.ID, "", rawJSON(`{}`), &leaked)
	wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
	if leaked.ID != uuid.Nil {
		t.Fatalf("a stranger's no-op patch returned the document: %+v", leaked)
	}
	// So is the schema: the merged document is validated in full.
	err = e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"systolic":null}`), &doc{})
	wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)

	// A real change writes the next version; repeating it writes nothing.
	var changed doc
	if err := e.svc.Update(ctx, "measurement", d.ID, `"1"`, rawJSON(`{"systolic":121}`), &changed); err != nil {
		t.Fatal(err)
	}
	if changed.Version != 2 || !changed.UpdatedAt.After(d.UpdatedAt) || changed.Data["systolic"] != json.Number("121") {
		t.Fatalf("change: %+v", changed)
	}
	row = e.rowVersion(t, "data_measurement", d.ID)
	var again doc
	if err := e.svc.Update(ctx, "measurement", d.ID, `"2"`, rawJSON(`{"systolic":121}`), &again); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(again) != fmt.Sprint(changed) || e.rowVersion(t, "data_measurement", d.ID) != row {
		t.Fatalf("repeated change wrote:\n got %+v\nwant %+v", again, changed)
	}
	// Removing a field that is present is a change.
	if err := e.svc.Update(ctx, "measurement", d.ID, `"2"`, rawJSON(`{"tags":null}`), &changed); err != nil || changed.Version != 3 || changed.Data["tags"] != nil {
		t.Fatalf("remove: %v %+v", err, changed)
	}
}

// TestZeroFieldModel: a model without fields stores documents whose data
// is always {}; every statement takes the data parameter all the same.
func TestZeroFieldModel(t *testing.T) {
	t.Parallel()
	for _, schema := range []string{
		`{"type":"object","additionalProperties":false}`,
		`{"type":"object"}`, // unknown members pass validation but are not stored
	} {
		t.Run(schema, func(t *testing.T) {
			t.Parallel()
			m := project.Model{
				Name: "marker", Table: "data_marker", Access: ownerAccess,
				Schema: json.RawMessage(schema),
			}
			e := newEnv(t, m)
			if _, err := e.pool.Exec(t.Context(), `CREATE TABLE data_marker (id uuid PRIMARY KEY, creator_id uuid NOT NULL,
				user_ids uuid[] NOT NULL DEFAULT '{}', group_ids uuid[] NOT NULL DEFAULT '{}', status text NOT NULL DEFAULT 'active',
				status_changed_at timestamptz NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
				version bigint NOT NULL DEFAULT 1)`); err != nil {
				t.Fatal(err)
			}
			alice := user()
			ctx := as(t.Context(), alice)
			var created doc
			if err := e.svc.Create(ctx, "marker", rawJSON(`{}`), &created); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if created.Data == nil || len(created.Data) != 0 || created.Version != 1 || created.CreatorID != alice.UserID {
				t.Fatalf("Create: %+v", created)
			}
			var got doc
			if err := e.svc.Get(ctx, "marker", created.ID, &got); err != nil || fmt.Sprint(got) != fmt.Sprint(created) {
				t.Fatalf("Get: %v %+v", err, got)
			}
			var l list
			if err := e.svc.List(ctx, "marker", "", &l); err != nil || l.Page.Total != 1 || len(l.Data) != 1 {
				t.Fatalf("List: %v %+v", err, l)
			}
			// Nothing can change: every valid patch is a no-op.
			var updated doc
			if err := e.svc.Update(ctx, "marker", created.ID, `"1"`, rawJSON(`{}`), &updated); err != nil {
				t.Fatalf("Update: %v", err)
			}
			if fmt.Sprint(updated) != fmt.Sprint(created) {
				t.Fatalf("Update:\n got %+v\nwant %+v", updated, created)
			}
			wantStatus(t, e.svc.Update(ctx, "marker", created.ID, `"2"`, rawJSON(`{}`), &doc{}), http.StatusPreconditionFailed, apierr.CodePreconditionFailed)
			wantStatus(t, e.svc.Get(as(t.Context(), user()), "marker", created.ID, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
			if err := e.svc.Delete(ctx, "marker", created.ID, `"1"`); err != nil {
				t.Fatalf("Delete: %v", err)
			}
			var second doc
			if err := e.svc.Create(ctx, "marker", rawJSON(`{}`), &second); err != nil {
				t.Fatalf("Create: %v", err)
			}
			if err := e.svc.Delete(ctx, "marker", second.ID, ""); err != nil {
				t.Fatalf("Delete: %v", err)
			}
		})
	}
}
