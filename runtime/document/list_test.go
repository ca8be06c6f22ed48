package document

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/rql"
)

// TestIN4_ListQuery: RQL narrows what the read rules allow and never
// widens it (the access filter is ANDed by the store); select keeps the
// required fields; skipCount leaves total out.
func TestIN4_ListQuery(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := user(), user()
	actx, bctx := as(t.Context(), alice), as(t.Context(), bob)
	a1 := e.create(actx, `{"systolic":150,"taken_at":"2026-11-26T08:00:00Z","note":"high","tags":["am"],"device":{"serial":"S1"}}`)
	e.create(actx, `{"systolic":110,"taken_at":"2026-11-26T09:00:00Z","note":"ok"}`)
	e.create(bctx, `{"systolic":160,"taken_at":"2026-11-26T10:00:00Z","note":"high"}`)

	var l list
	for q, want := range map[string]int{
		"gt(systolic,140)":                                             1, // bob's 160 is not alice's to read
		"or(gt(systolic,140),eq(note,ok))":                             2,
		"eq(creator_id," + bob.UserID.String() + ")":                   0,
		"or(eq(creator_id," + bob.UserID.String() + "),eq(note,high))": 1,
		"eq(tags,am)&eq(device.serial,S1)":                             1,
	} {
		if err := e.svc.List(actx, "measurement", q, &l); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if l.Page.Total != want || len(l.Data) != want {
			t.Errorf("%s: total %d, %d items, want %d", q, l.Page.Total, len(l.Data), want)
		}
	}

	if err := e.svc.List(actx, "measurement", "select(note)&sort(-systolic)&limit(1)", &l); err != nil {
		t.Fatal(err)
	}
	if len(l.Data) != 1 || l.Data[0].ID != a1.ID || l.Page.Limit != 1 {
		t.Fatalf("select page: %+v", l)
	}
	if _, ok := l.Data[0].Data["device"]; ok || l.Data[0].Data["note"] != "high" || l.Data[0].Data["taken_at"] == nil {
		t.Errorf("select(note) data: %v (want note and the required fields only)", l.Data[0].Data)
	}

	var raw rawList
	if err := e.svc.List(actx, "measurement", "skipCount()", &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Page["total"]; ok || raw.Page["limit"] == nil {
		t.Errorf("skipCount page: %v", raw.Page)
	}
	wantStatus(t, e.svc.List(actx, "measurement", "eq(systolic", &l), http.StatusBadRequest, apierr.CodeQuerySyntax)
}

type rawList struct {
	Page map[string]any `json:"page"`
}

func (r *rawList) UnmarshalJSON(b []byte) error {
	type plain rawList
	return json.Unmarshal(b, (*plain)(r))
}

// TestIN4_UpdateGuard: an update whose query string holds RQL applies only
// when the document matches (else 412 rql_no_match); a malformed guard is
// a 400.
func TestIN4_UpdateGuard(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	d := e.create(ctx, `{"systolic":150,"taken_at":"2026-11-26T08:00:00Z"}`)
	var out doc
	patch := rawJSON(`{"note":"checked"}`)
	wantStatus(t, e.svc.Update(rql.WithRawQuery(ctx, "lt(systolic,140)"), "measurement", d.ID, "", patch, &out),
		http.StatusPreconditionFailed, apierr.CodeQueryNoMatch)
	wantStatus(t, e.svc.Update(rql.WithRawQuery(ctx, "lt(systolc,140)"), "measurement", d.ID, "", patch, &out),
		http.StatusBadRequest, apierr.CodeQueryUnknownField)
	if err := e.svc.Update(rql.WithRawQuery(ctx, "and(gt(systolic,140),eq(note,null))"), "measurement", d.ID, "", patch, &out); err != nil {
		t.Fatal(err)
	}
	if out.Version != 2 || out.Data["note"] != "checked" {
		t.Fatalf("guarded update: %+v", out)
	}
	// The guard now fails: note is set.
	wantStatus(t, e.svc.Update(rql.WithRawQuery(ctx, "eq(note,null)"), "measurement", d.ID, "", rawJSON(`{"note":"again"}`), &out),
		http.StatusPreconditionFailed, apierr.CodeQueryNoMatch)
}
