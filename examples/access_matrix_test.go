package examples

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/document"
	"github.com/exhgen/exhgen/runtime/group"
	"github.com/exhgen/exhgen/runtime/permission"
	"github.com/exhgen/exhgen/runtime/project"
)

// The access matrix: for every model of the example's compiled project,
// every operation and every kind of caller, the answer the declared access
// rules call for is computed here (an oracle independent of
// runtime/document's evaluation) and compared with what the runtime
// services answer against the real database. Nothing else gets through:
// lists are compared in full, totals included.

// persona is a kind of caller, in relation to the documents under test
// (created by "creator", who is a patient of clinic A).
type persona struct {
	name     string
	roles    []string            // global roles
	staff    map[string][]string // clinic ("A", "B") → group roles
	patient  []string            // clinics the persona is a patient of
	linked   bool                // linked to the documents as a user
	creator  bool
	anonymus bool
}

var personas = []persona{
	{name: "creator", roles: []string{"patient"}, patient: []string{"A"}, creator: true},
	{name: "linked_user", roles: []string{"patient"}, linked: true},
	{name: "staff_with_permission", roles: []string{"clinician"}, staff: map[string][]string{"A": {"clinic_staff"}}},
	{name: "staff_read_only", roles: []string{"clinician"}, staff: map[string][]string{"A": {"clinic_viewer"}}},
	{name: "staff_without_permission", staff: map[string][]string{"A": {"clinic_manager"}}},
	{name: "staff_of_other_group", roles: []string{"clinician"}, staff: map[string][]string{"B": {"clinic_staff"}}},
	{name: "patient_of_same_group", roles: []string{"patient"}, patient: []string{"A"}},
	{name: "patient_of_other_group", roles: []string{"patient"}, patient: []string{"B"}},
	{name: "global_permission", roles: []string{"data_steward"}},
	{name: "admin", roles: []string{"admin"}},
	{name: "stranger"},
	{name: "anonymous", anonymus: true},
}

// operations and the actions whose rules each needs (all also need read).
var operations = []struct {
	name    string
	actions []string
}{
	{"get", []string{permission.Read}},
	{"list", []string{permission.Read}},
	{"update", []string{permission.Update, permission.Read}},
	{"link", []string{permission.Link, permission.Read}},
	{"unlink", []string{permission.Unlink, permission.Read}},
	{"delete", []string{permission.Delete, permission.Read}},
}

// docFacts is the server-owned state of a document under test.
type docFacts struct {
	id      uuid.UUID
	creator uuid.UUID
	users   []uuid.UUID
	groups  []uuid.UUID
}

// world holds the services, clinics and callers of the matrix.
type world struct {
	t       *testing.T
	p       *project.Project
	pool    *pgxpool.Pool
	tokens  *auth.Tokens
	groups  *group.Service
	docs    *document.Service
	clinics map[string]uuid.UUID
	ids     map[string]uuid.UUID // persona → user id
	ctx     map[string]context.Context
}

func newWorld(t *testing.T) *world {
	t.Helper()
	root := repoRoot(t)
	backend := filepath.Join(root, "examples", "clinic", "backend")
	raw, err := os.ReadFile(filepath.Join(backend, "project.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	pool := dbtest.New(t)
	migs, err := db.MigrationsFromFS(os.DirFS(backend), "migrations", "project")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(t.Context(), pool, slices.Concat(app.CoreMigrations(), migs)); err != nil {
		t.Fatal(err)
	}
	tokens := auth.NewTokens(pool, "https://clinic.test", 15*time.Minute, time.Now, auth.WithRoles(p.Roles),
		auth.WithGroupRoles(p.GroupRoles), auth.WithMemberships(group.Loader(pool, time.Now)))
	docs, err := document.New(pool, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, p: p, pool: pool, tokens: tokens, groups: group.New(pool, p, tokens, nil), docs: docs,
		clinics: map[string]uuid.UUID{}, ids: map[string]uuid.UUID{}, ctx: map[string]context.Context{}}

	registrar := w.addUser("registrar", "admin")
	for _, c := range []string{"A", "B"} {
		g, err := w.groups.Create(w.login(registrar), "Clinic "+c, "")
		if err != nil {
			t.Fatal(err)
		}
		w.clinics[c] = g.ID
	}
	for _, ps := range personas {
		if ps.anonymus {
			w.ctx[ps.name] = t.Context()
			continue
		}
		id := w.addUser(ps.name, ps.roles...)
		for c, roles := range ps.staff {
			if _, err := w.groups.SetStaff(w.login(registrar), w.clinics[c], id, roles); err != nil {
				t.Fatal(err)
			}
		}
		for _, c := range ps.patient {
			if _, err := w.groups.EnlistPatient(w.login(registrar), w.clinics[c], id, nil); err != nil {
				t.Fatal(err)
			}
		}
	}
	w.ids["newcomer"] = w.addUser("newcomer")
	for _, ps := range personas {
		if !ps.anonymus {
			w.ctx[ps.name] = w.login(w.ids[ps.name])
		}
	}
	w.ctx["registrar"] = w.login(registrar)
	return w
}

func (w *world) addUser(name string, roles ...string) uuid.UUID {
	w.t.Helper()
	id := uuid.New()
	if roles == nil {
		roles = []string{}
	}
	_, err := w.pool.Exec(w.t.Context(), `INSERT INTO users (id, email, email_key, language, roles, created_at, updated_at)
		VALUES ($1, $2, $2, 'en', $3, now(), now())`, id, name+"@clinic.test", roles)
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids[name] = id
	return id
}

// login authenticates through a real access token, so the Principal holds
// the roles and memberships as stored.
func (w *world) login(id uuid.UUID) context.Context {
	w.t.Helper()
	tok, _, err := w.tokens.Issue(w.t.Context(), &auth.Principal{UserID: id})
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, err := w.tokens.Authenticate(w.t.Context(), tok)
	if err != nil {
		w.t.Fatal(err)
	}
	return ctx
}

// grants is the oracle: whether the rules of one action of model grant ps
// the document d, read off the declared rule names.
func (w *world) grants(m project.Model, action string, ps persona, d docFacts) bool {
	if ps.anonymus {
		return false
	}
	var names []string
	switch action {
	case permission.Create:
		names = m.Access.Create
	case permission.Read:
		names = m.Access.Read
	case permission.Update:
		names = m.Access.Update
	case permission.Delete:
		names = m.Access.Delete
	case permission.Link:
		names = m.Access.Link
	case permission.Unlink:
		names = m.Access.Unlink
	}
	want := permission.Data(m.Name, action)
	var global []string
	for _, r := range w.p.Roles {
		if slices.Contains(ps.roles, r.Name) {
			global = append(global, r.Permissions...)
		}
	}
	me := w.ids[ps.name]
	for _, rule := range names {
		switch rule {
		case document.RuleAllUsers:
			return true
		case document.RuleCreator:
			if d.creator == me {
				return true
			}
		case document.RuleLinkedUsers:
			if slices.Contains(d.users, me) {
				return true
			}
		case document.RulePermission:
			if permission.MatchAny(global, want) {
				return true
			}
		case document.RuleLinkedGroupStaff:
			for c, roles := range ps.staff {
				if !slices.Contains(d.groups, w.clinics[c]) {
					continue
				}
				for _, gr := range w.p.GroupRoles {
					if slices.Contains(roles, gr.Name) && permission.MatchAny(gr.Permissions, want) {
						return true
					}
				}
			}
		case document.RuleLinkedGroupPatients:
			for _, c := range ps.patient {
				if slices.Contains(d.groups, w.clinics[c]) {
					return true
				}
			}
		}
	}
	return false
}

// doc decodes the documents the service returns.
type matrixDoc struct {
	ID       uuid.UUID   `json:"id"`
	Creator  uuid.UUID   `json:"creator_id"`
	UserIDs  []uuid.UUID `json:"user_ids"`
	GroupIDs []uuid.UUID `json:"group_ids"`
}

func (d *matrixDoc) UnmarshalJSON(b []byte) error {
	type plain matrixDoc
	return json.Unmarshal(b, (*plain)(d))
}

type matrixList struct {
	Data []matrixDoc `json:"data"`
	Page struct {
		Total int `json:"total"`
		Limit int `json:"limit"`
	} `json:"page"`
}

func (l *matrixList) UnmarshalJSON(b []byte) error {
	type plain matrixList
	return json.Unmarshal(b, (*plain)(l))
}

type rawBody []byte

func (r rawBody) MarshalJSON() ([]byte, error) { return r, nil }

// sampleBody builds a valid create body from a model's JSON Schema: each
// required property gets a value meeting its type, format, enum and
// minimum.
func sampleBody(t *testing.T, schema json.RawMessage) rawBody {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(schema, &s); err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(sampleValue(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sampleValue(s map[string]any) any {
	if enum, ok := s["enum"].([]any); ok && len(enum) > 0 {
		return enum[0]
	}
	typ, _ := s["type"].(string)
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		req, _ := s["required"].([]any)
		for _, r := range req {
			name := r.(string)
			ps, _ := props[name].(map[string]any)
			out[name] = sampleValue(ps)
		}
		return out
	case "array":
		return []any{}
	case "integer", "number":
		if m, ok := s["minimum"].(float64); ok {
			return m
		}
		return 1
	case "boolean":
		return true
	}
	switch s["format"] {
	case "date-time":
		return "2026-11-27T08:30:00Z"
	case "date":
		return "1970-05-17"
	case "uuid":
		return uuid.NewString()
	case "email":
		return "someone@example.com"
	}
	n := 1
	if m, ok := s["minLength"].(float64); ok {
		n = int(m)
	}
	out := ""
	for range n {
		out += "A"
	}
	return out
}

// TestAC2_AccessMatrix drives every model × operation × caller of the
// clinic example through the runtime services and checks each answer
// against the declared rules: granted operations succeed, the others
// answer 404 (401 without a principal), lists and totals hold exactly the
// readable documents. It proves AC-1 (deny by default) and AC-2 (404, no
// existence leak) over the example's whole surface.
func TestAC2_AccessMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	creator := personas[0]
	cells, granted := 0, 0
	for _, m := range w.p.Models {
		body := sampleBody(t, m.Schema)
		var live []docFacts
		// create makes a document of the creator, linked to the linked
		// user and to clinic A (by sync, else by the registrar).
		create := func(t *testing.T) docFacts {
			t.Helper()
			var d matrixDoc
			if err := w.docs.Create(w.ctx[creator.name], m.Name, body, &d); err != nil {
				t.Fatalf("create %s: %v", m.Name, err)
			}
			admin := w.ctx["admin"]
			if err := w.docs.Link(admin, m.Name, d.ID, document.LinkUser, w.ids["linked_user"], &d); err != nil {
				t.Fatal(err)
			}
			if !slices.Contains(d.GroupIDs, w.clinics["A"]) {
				if err := w.docs.Link(admin, m.Name, d.ID, document.LinkGroup, w.clinics["A"], &d); err != nil {
					t.Fatal(err)
				}
			}
			f := docFacts{id: d.ID, creator: d.Creator, users: d.UserIDs, groups: d.GroupIDs}
			live = append(live, f)
			return f
		}
		for _, op := range operations {
			for _, ps := range personas {
				t.Run(fmt.Sprintf("%s/%s/%s", m.Name, op.name, ps.name), func(t *testing.T) {
					cells++
					d := create(t)
					want := true
					for _, a := range op.actions {
						want = want && w.grants(m, a, ps, d)
					}
					if want {
						granted++
					}
					ctx := w.ctx[ps.name]
					var err error
					var out matrixDoc
					switch op.name {
					case "get":
						err = w.docs.Get(ctx, m.Name, d.id, &out)
					case "list":
						err = w.checkList(t, ctx, m, ps, live)
					case "update":
						err = w.docs.Update(ctx, m.Name, d.id, "", rawBody(`{}`), &out)
					case "link":
						err = w.docs.Link(ctx, m.Name, d.id, document.LinkUser, w.ids["newcomer"], &out)
					case "unlink":
						err = w.docs.Unlink(ctx, m.Name, d.id, document.LinkUser, w.ids["linked_user"], &out)
					case "delete":
						err = w.docs.Delete(ctx, m.Name, d.id, "")
						if err == nil {
							live = slices.DeleteFunc(live, func(f docFacts) bool { return f.id == d.id })
						}
					}
					switch {
					case ps.anonymus:
						wantAPIError(t, err, http.StatusUnauthorized)
					case op.name == "list":
						if err != nil {
							t.Fatal(err)
						}
					case want:
						if err != nil {
							t.Fatalf("%s by %s: want success, got %v", op.name, ps.name, err)
						}
					default:
						wantAPIError(t, err, http.StatusNotFound)
					}
				})
			}
		}
	}
	t.Logf("%d cells over %d models, %d granted", cells, len(w.p.Models), granted)
	if granted == 0 || granted == cells {
		t.Errorf("the matrix grants %d of %d cells: it tests nothing", granted, cells)
	}
}

// checkList lists every document of m ps may read and compares the ids
// and the total with the oracle's over all live documents.
func (w *world) checkList(t *testing.T, ctx context.Context, m project.Model, ps persona, live []docFacts) error {
	t.Helper()
	var want []uuid.UUID
	for _, d := range live {
		if w.grants(m, permission.Read, ps, d) {
			want = append(want, d.id)
		}
	}
	var got []uuid.UUID
	total := -1
	// Page through with the largest page the model allows (the server
	// clamps the limit asked for), until a short page.
	for offset := 0; ; {
		var l matrixList
		if err := w.docs.List(ctx, m.Name, fmt.Sprintf("limit(1000,%d)", offset), &l); err != nil {
			return err
		}
		total = l.Page.Total
		for _, d := range l.Data {
			got = append(got, d.ID)
		}
		offset += len(l.Data)
		if len(l.Data) < l.Page.Limit {
			break
		}
	}
	slices.SortFunc(want, uuidCmp)
	slices.SortFunc(got, uuidCmp)
	if !slices.Equal(got, want) || total != len(want) {
		t.Errorf("list by %s: got %d documents (total %d), want %d", ps.name, len(got), total, len(want))
	}
	return nil
}

func uuidCmp(a, b uuid.UUID) int {
	switch {
	case a.String() < b.String():
		return -1
	case a.String() > b.String():
		return 1
	}
	return 0
}

func wantAPIError(t *testing.T, err error, status int) {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != status {
		t.Fatalf("want %d, got %v", status, err)
	}
}
