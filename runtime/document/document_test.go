package document

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/rql"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice := user()
	ctx := as(t.Context(), alice)

	created := e.create(ctx, `{"systolic":120.0,"diastolic":80,"weight":72.5,"taken_at":"2026-11-26T08:00:00+01:00",
		"device":{"serial":"BP-1","firmware":"1.2"},"tags":["morning","home"],"note":"fine"}`)
	if created.ID == uuid.Nil || created.CreatorID != alice.UserID || !slices.Equal(created.UserIDs, []uuid.UUID{alice.UserID}) {
		t.Fatalf("server-owned fields: %+v", created)
	}
	if len(created.GroupIDs) != 0 || created.Status != InitialStatus || created.Version != 1 {
		t.Fatalf("server-owned fields: %+v", created)
	}
	if !created.CreatedAt.Equal(created.UpdatedAt) || !created.CreatedAt.Equal(created.StatusChangedAt) || !created.CreatedAt.After(epoch) {
		t.Fatalf("timestamps: %+v", created)
	}
	wantData := map[string]any{
		"systolic": json.Number("120"), "diastolic": json.Number("80"), "weight": json.Number("72.5"),
		"arm": "left", "taken_at": "2026-11-26T07:00:00.000000Z",
		"device": map[string]any{"serial": "BP-1", "firmware": "1.2"},
		"tags":   []any{"morning", "home"}, "note": "fine",
	}
	if got, want := fmt.Sprint(created.Data), fmt.Sprint(wantData); got != want {
		t.Fatalf("data:\n got %s\nwant %s", got, want)
	}

	var got doc
	if err := e.svc.Get(ctx, "measurement", created.ID, &got); err != nil {
		t.Fatalf("Get: %v", err)
	}
	if fmt.Sprint(got) != fmt.Sprint(created) {
		t.Fatalf("Get:\n got %+v\nwant %+v", got, created)
	}

	var l list
	if err := e.svc.List(ctx, "measurement", "", &l); err != nil {
		t.Fatalf("List: %v", err)
	}
	if l.Page.Total != 1 || l.Page.Limit != rql.DefaultLimit || l.Page.Offset != 0 || len(l.Data) != 1 || l.Data[0].ID != created.ID {
		t.Fatalf("List: %+v", l)
	}

	// Merge patch: change a scalar, remove optional fields, merge into a
	// nested object.
	var updated doc
	patch := `{"systolic":130,"note":null,"tags":null,"device":{"firmware":"2.0"}}`
	if err := e.svc.Update(ctx, "measurement", created.ID, `"1"`, rawJSON(patch), &updated); err != nil {
		t.Fatalf("Update: %v", err)
	}
	if updated.Version != 2 || !updated.UpdatedAt.After(created.UpdatedAt) || !updated.CreatedAt.Equal(created.CreatedAt) {
		t.Fatalf("Update meta: %+v", updated)
	}
	wantData["systolic"] = json.Number("130")
	wantData["device"] = map[string]any{"serial": "BP-1", "firmware": "2.0"}
	delete(wantData, "note")
	delete(wantData, "tags")
	if got, want := fmt.Sprint(updated.Data), fmt.Sprint(wantData); got != want {
		t.Fatalf("updated data:\n got %s\nwant %s", got, want)
	}

	// A required field cannot be removed.
	err := e.svc.Update(ctx, "measurement", created.ID, "", rawJSON(`{"systolic":null}`), &updated)
	ae := wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
	if len(ae.Details) != 1 || ae.Details[0].Field != "/systolic" || ae.Details[0].Code != "required" {
		t.Fatalf("details: %+v", ae.Details)
	}

	if err := e.svc.Delete(ctx, "measurement", created.ID, `W/"2"`); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	wantStatus(t, e.svc.Get(ctx, "measurement", created.ID, &got), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Delete(ctx, "measurement", created.ID, ""), http.StatusNotFound, apierr.CodeNotFound)
}

func TestDefaultsApplied(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	d := e.create(ctx, validBody)
	if d.Data["arm"] != "left" {
		t.Fatalf("default not applied: %v", d.Data)
	}
	d = e.create(ctx, `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","arm":"right"}`)
	if d.Data["arm"] != "right" {
		t.Fatalf("default overrode the value: %v", d.Data)
	}
}

func TestIN1_ValidationNamesTheField(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	tests := []struct {
		name, body, field, code string
	}{
		{"required", `{"taken_at":"2026-11-26T08:00:00Z"}`, "/systolic", "required"},
		{"maximum", `{"systolic":400,"taken_at":"2026-11-26T08:00:00Z"}`, "/systolic", "maximum"},
		{"minimum", `{"systolic":10,"taken_at":"2026-11-26T08:00:00Z"}`, "/systolic", "minimum"},
		{"type", `{"systolic":"high","taken_at":"2026-11-26T08:00:00Z"}`, "/systolic", "invalid_type"},
		{"integer", `{"systolic":120.5,"taken_at":"2026-11-26T08:00:00Z"}`, "/systolic", "invalid_type"},
		{"enum", `{"systolic":120,"arm":"middle","taken_at":"2026-11-26T08:00:00Z"}`, "/arm", "enum"},
		{"additionalProperties", `{"systolic":120,"pulse":60,"taken_at":"2026-11-26T08:00:00Z"}`, "/pulse", "unknown_field"},
		{"format date-time", `{"systolic":120,"taken_at":"yesterday"}`, "/taken_at", "invalid_format"},
		{"format date-time offset", `{"systolic":120,"taken_at":"2026-11-26T08:00:00"}`, "/taken_at", "invalid_format"},
		// Valid RFC 3339, but PostgreSQL has no year 0.
		{"format date-time year zero", `{"systolic":120,"taken_at":"0000-01-01T00:00:00Z"}`, "/taken_at", "invalid_format"},
		{"nested required", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","device":{"firmware":"1"}}`, "/device/serial", "required"},
		{"nested minLength", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","device":{"serial":""}}`, "/device/serial", "min_length"},
		{"nested additionalProperties", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","device":{"serial":"x","x":1}}`, "/device/x", "unknown_field"},
		{"array item", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","tags":["a",3]}`, "/tags/1", "invalid_type"},
		{"maxLength", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","note":"` + strings.Repeat("x", 201) + `"}`, "/note", "max_length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.svc.Create(ctx, "measurement", rawJSON(tt.body), &doc{})
			ae := wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
			i := slices.IndexFunc(ae.Details, func(d apierr.FieldError) bool { return d.Field == tt.field && d.Code == tt.code })
			if i < 0 {
				t.Fatalf("no detail %s %s in %+v", tt.field, tt.code, ae.Details)
			}
			for _, d := range ae.Details {
				if d.Message == "" || strings.ContainsAny(d.Message, "%{}") || strings.Contains(d.Message, "jsonschema") {
					t.Errorf("message %q is not for humans", d.Message)
				}
			}
		})
	}
	var l list
	if err := e.svc.List(ctx, "measurement", "", &l); err != nil || l.Page.Total != 0 {
		t.Fatalf("invalid documents were stored: %v %+v", err, l)
	}
}

func TestIN2_StrictBody(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	tests := []struct {
		name, body string
	}{
		{"NUL escape", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","note":"a\u0000b"}`},
		{"NUL in nested", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","device":{"serial":"\u0000"}}`},
		{"NUL in key", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","\u0000":1}`},
		{"duplicate key", `{"systolic":120,"systolic":130,"taken_at":"2026-11-26T08:00:00Z"}`},
		{"invalid UTF-8", "{\"systolic\":120,\"taken_at\":\"2026-11-26T08:00:00Z\",\"note\":\"\xff\"}"},
		{"lone surrogate", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","note":"\ud800"}`},
		{"trailing data", validBody + `{}`},
		{"not an object", `[1,2]`},
		{"too deep", `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","tags":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`},
		{"syntax", `{"systolic":120,`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.svc.Create(ctx, "measurement", rawJSON(tt.body), &doc{})
			wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
		})
	}

	// The same holds for patches.
	d := e.create(ctx, validBody)
	err := e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"note":"\u0000"}`), &doc{})
	wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
}

func TestDatabaseErrorsAreClientErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	tests := []struct {
		name, body, field string
	}{
		// The table's CHECK is stricter than the schema.
		{"check constraint", `{"systolic":120,"diastolic":180,"taken_at":"2026-11-26T08:00:00Z"}`, "/diastolic"},
		// Valid JSON numbers PostgreSQL cannot hold.
		{"double out of range", `{"systolic":120,"weight":1e400,"taken_at":"2026-11-26T08:00:00Z"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := e.svc.Create(ctx, "measurement", rawJSON(tt.body), &doc{})
			ae := wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
			if tt.field != "" && (len(ae.Details) != 1 || ae.Details[0].Field != tt.field) {
				t.Fatalf("details: %+v", ae.Details)
			}
			if strings.Contains(ae.Message, "SQLSTATE") {
				t.Fatalf("message leaks the database error: %q", ae.Message)
			}
		})
	}
}

func TestUniqueViolationIsConflict(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if _, err := e.pool.Exec(t.Context(), `CREATE UNIQUE INDEX data_measurement_note_key ON data_measurement (note)`); err != nil {
		t.Fatal(err)
	}
	ctx := as(t.Context(), user())
	body := `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","note":"once"}`
	e.create(ctx, body)
	err := e.svc.Create(ctx, "measurement", rawJSON(body), &doc{})
	wantStatus(t, err, http.StatusConflict, apierr.CodeConflict)
}

func TestAUD5_IfMatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	d := e.create(ctx, validBody)
	var out doc
	if err := e.svc.Update(ctx, "measurement", d.ID, "1", rawJSON(`{"systolic":121}`), &out); err != nil {
		t.Fatalf("Update: %v", err)
	}
	// Version is now 2: every form of "1" is stale.
	for _, h := range []string{`"1"`, `1`, `W/"1"`} {
		err := e.svc.Update(ctx, "measurement", d.ID, h, rawJSON(`{"systolic":122}`), &out)
		wantStatus(t, err, http.StatusPreconditionFailed, apierr.CodePreconditionFailed)
		err = e.svc.Delete(ctx, "measurement", d.ID, h)
		wantStatus(t, err, http.StatusPreconditionFailed, apierr.CodePreconditionFailed)
	}
	for _, h := range []string{`"abc"`, `"-1"`, `0`, `"1", "2"`, `+2`, `W/`, `""`, `99999999999999999999`} {
		err := e.svc.Update(ctx, "measurement", d.ID, h, rawJSON(`{"systolic":122}`), &out)
		wantStatus(t, err, http.StatusBadRequest, apierr.CodeBadRequest)
		err = e.svc.Delete(ctx, "measurement", d.ID, h)
		wantStatus(t, err, http.StatusBadRequest, apierr.CodeBadRequest)
	}
	if err := e.svc.Get(ctx, "measurement", d.ID, &out); err != nil || out.Version != 2 || out.Data["systolic"] != json.Number("121") {
		t.Fatalf("stale writes changed the document: %v %+v", err, out)
	}
	if err := e.svc.Update(ctx, "measurement", d.ID, "*", rawJSON(`{"systolic":123}`), &out); err != nil || out.Version != 3 {
		t.Fatalf("If-Match * : %v %+v", err, out)
	}
}

func TestAUD5_ConcurrentUpdatesOneWinner(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	d := e.create(ctx, validBody)
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = e.svc.Update(ctx, "measurement", d.ID, `"1"`, rawJSON(fmt.Sprintf(`{"systolic":%d}`, 100+i)), &doc{})
		})
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		if err == nil {
			wins++
			continue
		}
		wantStatus(t, err, http.StatusPreconditionFailed, apierr.CodePreconditionFailed)
	}
	if wins != 1 {
		t.Fatalf("%d updates won, want exactly 1", wins)
	}
	var out doc
	if err := e.svc.Get(ctx, "measurement", d.ID, &out); err != nil || out.Version != 2 {
		t.Fatalf("after the race: %v %+v", err, out)
	}
}

func TestConcurrentUpdatesWithoutIfMatchAllApply(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	d := e.create(ctx, validBody)
	const n = 8
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Distinct values: each update changes the document (a patch
			// that changes nothing writes nothing).
			if err := e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(fmt.Sprintf(`{"note":"x%d"}`, i)), &doc{}); err != nil {
				t.Errorf("Update: %v", err)
			}
		})
	}
	wg.Wait()
	var out doc
	if err := e.svc.Get(ctx, "measurement", d.ID, &out); err != nil || out.Version != n+1 {
		t.Fatalf("lost updates: %v version %d, want %d", err, out.Version, n+1)
	}
}

func TestAC2_OtherUsersDocumentIsNotFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, mallory := user(), user()
	actx, mctx := as(t.Context(), alice), as(t.Context(), mallory)
	d := e.create(actx, validBody)
	e.create(actx, validBody)

	wantStatus(t, e.svc.Get(mctx, "measurement", d.ID, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Update(mctx, "measurement", d.ID, "", rawJSON(`{"systolic":130}`), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Update(mctx, "measurement", d.ID, `"1"`, rawJSON(`{"systolic":130}`), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	// Even a stale If-Match or an invalid patch says nothing about the document.
	wantStatus(t, e.svc.Update(mctx, "measurement", d.ID, `"7"`, rawJSON(`{"systolic":1000}`), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Delete(mctx, "measurement", d.ID, ""), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Delete(mctx, "measurement", d.ID, `"1"`), http.StatusNotFound, apierr.CodeNotFound)
	// A missing document looks the same.
	wantStatus(t, e.svc.Get(mctx, "measurement", uuid.New(), &doc{}), http.StatusNotFound, apierr.CodeNotFound)

	var l list
	if err := e.svc.List(mctx, "measurement", "", &l); err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(l.Data) != 0 || l.Page.Total != 0 {
		t.Fatalf("other user's documents listed: %+v", l)
	}
	mine := e.create(mctx, validBody)
	if err := e.svc.List(mctx, "measurement", "", &l); err != nil || l.Page.Total != 1 || len(l.Data) != 1 || l.Data[0].ID != mine.ID {
		t.Fatalf("List: %v %+v", err, l)
	}
	if err := e.svc.List(actx, "measurement", "", &l); err != nil || l.Page.Total != 2 {
		t.Fatalf("owner's List: %v %+v", err, l)
	}
	var out doc
	if err := e.svc.Get(actx, "measurement", d.ID, &out); err != nil || out.Version != 1 {
		t.Fatalf("the document changed: %v %+v", err, out)
	}
}

func TestAC2_LinkedUserAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, bob := user(), user()
	d := e.create(as(t.Context(), alice), validBody)
	bctx := as(t.Context(), bob)
	wantStatus(t, e.svc.Get(bctx, "measurement", d.ID, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	if _, err := e.pool.Exec(t.Context(), `UPDATE data_measurement SET user_ids = user_ids || $1::uuid WHERE id = $2`, bob.UserID, d.ID); err != nil {
		t.Fatal(err)
	}
	// linked_users grants read and update, but delete is creator-only.
	if err := e.svc.Get(bctx, "measurement", d.ID, &doc{}); err != nil {
		t.Fatalf("linked user Get: %v", err)
	}
	if err := e.svc.Update(bctx, "measurement", d.ID, "1", rawJSON(`{"systolic":99}`), &doc{}); err != nil {
		t.Fatalf("linked user Update: %v", err)
	}
	wantStatus(t, e.svc.Delete(bctx, "measurement", d.ID, ""), http.StatusNotFound, apierr.CodeNotFound)
	var l list
	if err := e.svc.List(bctx, "measurement", "", &l); err != nil || l.Page.Total != 1 {
		t.Fatalf("linked user List: %v %+v", err, l)
	}
}

func TestAC2_PermissionRuleGrantsRead(t *testing.T) {
	t.Parallel()
	acc := ownerAccess
	acc.Read = []string{RuleCreator, RulePermission}
	e := newEnv(t, measurementModel(acc))
	d := e.create(as(t.Context(), user()), validBody)
	tests := []struct {
		name  string
		perms []string
		ok    bool
	}{
		{"exact", []string{"data:measurement:read"}, true},
		{"wildcard model", []string{"data:*:read"}, true},
		{"wildcard action", []string{"users:read", "data:measurement:*"}, true},
		{"all segments", []string{"*:*:*"}, true},
		{"other model", []string{"data:device:read"}, false},
		{"other action", []string{"data:measurement:update"}, false},
		{"too short", []string{"data:*"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := as(t.Context(), user(tt.perms...))
			err := e.svc.Get(ctx, "measurement", d.ID, &doc{})
			var l list
			if lerr := e.svc.List(ctx, "measurement", "", &l); lerr != nil {
				t.Fatalf("List: %v", lerr)
			}
			if tt.ok {
				if err != nil || l.Page.Total != 1 || len(l.Data) != 1 {
					t.Fatalf("not granted: %v %+v", err, l)
				}
				// Read does not imply update.
				err := e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"systolic":99}`), &doc{})
				wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
				return
			}
			wantStatus(t, err, http.StatusNotFound, apierr.CodeNotFound)
			if l.Page.Total != 0 || len(l.Data) != 0 {
				t.Fatalf("listed without permission: %+v", l)
			}
		})
	}
}

func TestAC3_ServerOwnedFieldsCannotBeSet(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	alice, mallory := user(), user()
	ctx := as(t.Context(), mallory)
	forged := uuid.New()
	fields := map[string]string{
		"id":         `"` + forged.String() + `"`,
		"creator_id": `"` + alice.UserID.String() + `"`,
		"user_ids":   `["` + alice.UserID.String() + `"]`,
		"group_ids":  `["` + uuid.NewString() + `"]`,
		"version":    `99`,
		"status":     `"reviewed"`,
		"created_at": `"2000-01-01T00:00:00Z"`,
	}
	for name, v := range fields {
		body := `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","` + name + `":` + v + `}`
		err := e.svc.Create(ctx, "measurement", rawJSON(body), &doc{})
		ae := wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
		if len(ae.Details) != 1 || ae.Details[0].Field != "/"+name || ae.Details[0].Code != "unknown_field" {
			t.Fatalf("%s: details %+v", name, ae.Details)
		}
	}
	d := e.create(ctx, validBody)
	for name, v := range fields {
		err := e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"`+name+`":`+v+`}`), &doc{})
		wantStatus(t, err, http.StatusBadRequest, apierr.CodeValidation)
	}
	var out doc
	if err := e.svc.Get(ctx, "measurement", d.ID, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID == forged || out.CreatorID != mallory.UserID || out.Version != 1 || out.Status != InitialStatus ||
		!slices.Equal(out.UserIDs, []uuid.UUID{mallory.UserID}) || len(out.GroupIDs) != 0 {
		t.Fatalf("server-owned fields changed: %+v", out)
	}
	if _, err := uuid.Parse(out.ID.String()); err != nil || out.ID.Version() != 7 {
		t.Fatalf("id %s is not a UUIDv7", out.ID)
	}
}

func TestAC1_UnknownRuleDenies(t *testing.T) {
	t.Parallel()
	acc := project.Access{
		Create: []string{RuleAllUsers},
		Read:   []string{RuleCreator, "creatorr"},
		Update: []string{RuleAllUsers, "bogus"},
		Delete: []string{"linked_group_staff"},
	}
	e := newEnv(t, measurementModel(acc))
	ctx := as(t.Context(), user("*:*:*"))
	d := e.create(ctx, validBody)
	wantStatus(t, e.svc.Get(ctx, "measurement", d.ID, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"systolic":99}`), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Delete(ctx, "measurement", d.ID, ""), http.StatusNotFound, apierr.CodeNotFound)
	var l list
	if err := e.svc.List(ctx, "measurement", "", &l); err != nil || l.Page.Total != 0 || len(l.Data) != 0 {
		t.Fatalf("List: %v %+v", err, l)
	}

	acc.Create = []string{"everyone"}
	e2, err := New(e.pool, testProject(measurementModel(acc)), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, e2.Create(ctx, "measurement", rawJSON(validBody), &doc{}), http.StatusForbidden, apierr.CodeForbidden)
}

func TestAC1_DenyByDefault(t *testing.T) {
	t.Parallel()
	e := newEnv(t, measurementModel(project.Access{}))
	ctx := as(t.Context(), user("*:*:*"))
	wantStatus(t, e.svc.Create(ctx, "measurement", rawJSON(validBody), &doc{}), http.StatusForbidden, apierr.CodeForbidden)

	// Permission-based create.
	acc := project.Access{Create: []string{RulePermission}}
	svc, err := New(e.pool, testProject(measurementModel(acc)), nil)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, svc.Create(as(t.Context(), user("data:measurement:read")), "measurement", rawJSON(validBody), &doc{}), http.StatusForbidden, apierr.CodeForbidden)
	if err := svc.Create(as(t.Context(), user("data:measurement:create")), "measurement", rawJSON(validBody), &doc{}); err != nil {
		t.Fatalf("Create with permission: %v", err)
	}
}

func TestCallerAndModel(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	anon := t.Context()
	id := uuid.New()
	wantStatus(t, e.svc.Create(anon, "measurement", rawJSON(validBody), &doc{}), http.StatusUnauthorized, apierr.CodeUnauthorized)
	wantStatus(t, e.svc.Get(anon, "measurement", id, &doc{}), http.StatusUnauthorized, apierr.CodeUnauthorized)
	wantStatus(t, e.svc.List(anon, "measurement", "", &list{}), http.StatusUnauthorized, apierr.CodeUnauthorized)
	wantStatus(t, e.svc.Update(anon, "measurement", id, "", rawJSON(`{}`), &doc{}), http.StatusUnauthorized, apierr.CodeUnauthorized)
	wantStatus(t, e.svc.Delete(anon, "measurement", id, ""), http.StatusUnauthorized, apierr.CodeUnauthorized)

	ctx := as(t.Context(), user())
	wantStatus(t, e.svc.Create(ctx, "nope", rawJSON(validBody), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Get(ctx, "nope", id, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.List(ctx, "nope", "", &list{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Update(ctx, "nope", id, "", rawJSON(`{}`), &doc{}), http.StatusNotFound, apierr.CodeNotFound)
	wantStatus(t, e.svc.Delete(ctx, "nope", id, ""), http.StatusNotFound, apierr.CodeNotFound)
}

func TestListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := as(t.Context(), user())
	var ids []uuid.UUID
	for i := range 25 {
		d := e.create(ctx, fmt.Sprintf(`{"systolic":%d,"taken_at":"2026-11-26T08:00:00Z"}`, 100+i))
		ids = append(ids, d.ID)
	}
	slices.Reverse(ids) // newest first
	var l list
	if err := e.svc.List(ctx, "measurement", "", &l); err != nil {
		t.Fatal(err)
	}
	if l.Page.Total != 25 || l.Page.Limit != 20 || len(l.Data) != 20 {
		t.Fatalf("first page: %+v", l.Page)
	}
	for i, d := range l.Data {
		if d.ID != ids[i] {
			t.Fatalf("order: item %d is %s, want %s", i, d.ID, ids[i])
		}
	}
	if err := e.svc.List(ctx, "measurement", "limit(10,20)", &l); err != nil {
		t.Fatal(err)
	}
	if l.Page.Total != 25 || l.Page.Limit != 10 || l.Page.Offset != 20 || len(l.Data) != 5 || l.Data[4].ID != ids[24] {
		t.Fatalf("last page: %+v (%d items)", l.Page, len(l.Data))
	}
	if err := e.svc.List(ctx, "measurement", "limit(100,1000)", &l); err != nil || len(l.Data) != 0 || l.Page.Total != 25 {
		t.Fatalf("past the end: %v %+v", err, l)
	}
	// The limit is clamped to the model's maximum (100 by default).
	if err := e.svc.List(ctx, "measurement", "limit(101)", &l); err != nil || l.Page.Limit != 100 || len(l.Data) != 25 {
		t.Fatalf("clamped: %v %+v", err, l.Page)
	}
	for q, code := range map[string]string{
		"limit(0)":       apierr.CodeQueryInvalidValue,
		"limit(-1)":      apierr.CodeQueryInvalidValue,
		"limit(1,-1)":    apierr.CodeQueryInvalidValue,
		"limit=10":       apierr.CodeQuerySyntax,
		"eq(systolc,1)":  apierr.CodeQueryUnknownField,
		"eq(systolic,x)": apierr.CodeQueryInvalidValue,
	} {
		wantStatus(t, e.svc.List(ctx, "measurement", q, &l), http.StatusBadRequest, code)
	}
}

// TestWideModel covers models with more fields than one json_build_object
// call can take.
func TestWideModel(t *testing.T) {
	t.Parallel()
	const n = 60
	var (
		fields []project.Field
		props  []string
		cols   []string
	)
	for i := range n {
		name := fmt.Sprintf("f%02d", i)
		fields = append(fields, project.Field{Name: name, Type: project.Integer, Column: name, SQLType: "bigint"})
		props = append(props, fmt.Sprintf("%q:{\"type\":\"integer\"}", name))
		cols = append(cols, name+" bigint")
	}
	m := project.Model{
		Name: "wide", Table: "data_wide", Fields: fields,
		Access: project.Access{Create: []string{RuleAllUsers}, Read: []string{RuleCreator}, Update: []string{RuleCreator}, Delete: []string{RuleCreator}},
		Schema: json.RawMessage(`{"type":"object","additionalProperties":false,"properties":{` + strings.Join(props, ",") + `}}`),
	}
	e := newEnv(t, m)
	ddl := `CREATE TABLE data_wide (id uuid PRIMARY KEY, creator_id uuid NOT NULL, user_ids uuid[] NOT NULL DEFAULT '{}',
		group_ids uuid[] NOT NULL DEFAULT '{}', status text NOT NULL DEFAULT 'active', status_changed_at timestamptz NOT NULL,
		created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, version bigint NOT NULL DEFAULT 1, ` + strings.Join(cols, ", ") + `)`
	if _, err := e.pool.Exec(t.Context(), ddl); err != nil {
		t.Fatal(err)
	}
	ctx := as(t.Context(), user())
	var d doc
	if err := e.svc.Create(ctx, "wide", rawJSON(`{"f00":1,"f59":59}`), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Data) != 2 || d.Data["f59"] != json.Number("59") {
		t.Fatalf("data: %v", d.Data)
	}
	if err := e.svc.Update(ctx, "wide", d.ID, "1", rawJSON(`{"f00":null,"f30":30}`), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Data) != 2 || d.Data["f30"] != json.Number("30") || d.Version != 2 {
		t.Fatalf("data: %v", d.Data)
	}
}

func TestNewRejectsBrokenModels(t *testing.T) {
	t.Parallel()
	base := measurementModel(ownerAccess)
	tests := []struct {
		name   string
		mutate func(m *project.Model)
	}{
		{"no schema", func(m *project.Model) { m.Schema = nil }},
		{"bad schema", func(m *project.Model) { m.Schema = json.RawMessage(`{"type":"nope"}`) }},
		{"external ref", func(m *project.Model) { m.Schema = json.RawMessage(`{"$ref":"https://example.com/s.json"}`) }},
		{"no table", func(m *project.Model) { m.Table = "" }},
		{"odd field name", func(m *project.Model) { m.Fields = []project.Field{{Name: "a'b", SQLType: "text"}} }},
		{"unknown SQL type", func(m *project.Model) { m.Fields = []project.Field{{Name: "a", SQLType: "text); DROP TABLE x; --"}} }},
		{"bad default", func(m *project.Model) {
			m.Fields = []project.Field{{Name: "a", SQLType: "text", Default: json.RawMessage(`{`)}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := base
			m.Fields = slices.Clone(base.Fields)
			tt.mutate(&m)
			if _, err := New(nil, testProject(m), nil); err == nil {
				t.Fatal("New accepted the model")
			}
		})
	}
}

func TestInjectedIDs(t *testing.T) {
	t.Parallel()
	pool := newEnv(t).pool
	want := uuid.MustParse("0190a0a0-0000-7000-8000-000000000001")
	svc, err := New(pool, testProject(measurementModel(ownerAccess)), nil,
		WithIDs(func() uuid.UUID { return want }),
		WithClock(func() time.Time { return epoch }))
	if err != nil {
		t.Fatal(err)
	}
	var d doc
	if err := svc.Create(as(context.Background(), user()), "measurement", rawJSON(validBody), &d); err != nil {
		t.Fatal(err)
	}
	if d.ID != want || !d.CreatedAt.Equal(epoch) {
		t.Fatalf("got id %s at %s", d.ID, d.CreatedAt)
	}
}

// TestAC3_ServerOwnedFieldsNeverReadFromBody: even with a schema that
// allows unknown members, a body cannot set server-owned columns.
func TestAC3_ServerOwnedFieldsNeverReadFromBody(t *testing.T) {
	t.Parallel()
	m := measurementModel(ownerAccess)
	m.Schema = json.RawMessage(`{"type":"object","required":["systolic","taken_at"],
		"properties":{"systolic":{"type":"integer"},"taken_at":{"type":"string","format":"date-time"}}}`)
	e := newEnv(t, m)
	alice, mallory := user(), user()
	ctx := as(t.Context(), mallory)
	forged := uuid.New()
	body := `{"systolic":120,"taken_at":"2026-11-26T08:00:00Z","id":"` + forged.String() + `","creator_id":"` + alice.UserID.String() +
		`","user_ids":["` + alice.UserID.String() + `"],"version":99,"status":"reviewed","created_at":"2000-01-01T00:00:00Z"}`
	d := e.create(ctx, body)
	check := func(d doc) {
		t.Helper()
		if d.ID == forged || d.CreatorID != mallory.UserID || !slices.Equal(d.UserIDs, []uuid.UUID{mallory.UserID}) ||
			d.Status != InitialStatus || d.CreatedAt.Year() == 2000 {
			t.Fatalf("body set server-owned fields: %+v", d)
		}
	}
	check(d)
	if d.Version != 1 {
		t.Fatalf("version %d", d.Version)
	}
	if err := e.svc.Update(ctx, "measurement", d.ID, "", rawJSON(`{"systolic":121,"creator_id":"`+alice.UserID.String()+`","version":99}`), &d); err != nil {
		t.Fatal(err)
	}
	check(d)
	if d.Version != 2 {
		t.Fatalf("version %d", d.Version)
	}
	wantStatus(t, e.svc.Get(as(t.Context(), alice), "measurement", d.ID, &doc{}), http.StatusNotFound, apierr.CodeNotFound)
}
