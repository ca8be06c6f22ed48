// The driver of examples/plan_e2e_test.go: copied into the backend
// generated after `exhgen apply` changed examples/clinic (arm renamed to
// side, a required cuff_size with a default, "lying" removed from
// position), it checks over HTTP, with the generated Go client, that the
// documents stored before the change are served in the new shape and that
// new writes are validated against the new schema.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/ogen-go/ogen/ogenerrors"

	"github.com/exhgen/exhgen/runtime/rql"

	"clinic/api"
)

const password = "correct horse battery staple"

type bearer struct{ token string }

func (b *bearer) BearerAuth(context.Context, api.OperationName) (api.BearerAuth, error) {
	return api.BearerAuth{Token: b.token}, nil
}

// The API lists the OAuth schemes as alternatives to bearerAuth; the
// bearer token satisfies each operation, so the client skips them.

func (b *bearer) OAuth2(context.Context, api.OperationName) (api.OAuth2, error) {
	return api.OAuth2{}, ogenerrors.ErrSkipClientSecurity
}

func (b *bearer) OpenIdConnect(context.Context, api.OperationName, *http.Request) error {
	return ogenerrors.ErrSkipClientSecurity
}

func (b *bearer) Oauth1(context.Context, api.OperationName, *http.Request) error {
	return ogenerrors.ErrSkipClientSecurity
}

// stored is a document written before the change, as the test seeded it.
type stored struct {
	ID       uuid.UUID `json:"id"`
	Arm      string    `json:"arm"`
	Position string    `json:"position"`
}

func TestAfterPlanApply(t *testing.T) {
	ctx := context.Background()
	url, dbURL := os.Getenv("EXH_E2E_URL"), os.Getenv("EXH_E2E_DATABASE_URL")
	data, err := os.ReadFile(os.Getenv("EXH_E2E_STATE"))
	if url == "" || err != nil {
		t.Fatalf("run this through examples/plan_e2e_test.go (%v)", err)
	}
	var old []stored
	if err := json.Unmarshal(data, &old); err != nil {
		t.Fatal(err)
	}
	sec := &bearer{}
	c, err := api.NewClient(url, sec, api.WithClient(rql.Client{HTTP: http.DefaultClient}))
	if err != nil {
		t.Fatal(err)
	}

	// A data steward (the "permission" read rule) reads every reading.
	email := "steward-" + uuid.NewString()[:8] + "@example.com"
	u, err := c.RegisterUser(ctx, &api.RegisterRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `UPDATE users SET roles = array_append(roles, 'data_steward') WHERE id = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	res, err := c.Login(ctx, &api.LoginRequest{Email: email, Password: password})
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	tok, ok := res.(*api.TokenResponse)
	if !ok {
		t.Fatalf("login: %+v, want a token", res)
	}
	sec.token = tok.AccessToken

	// The documents stored before the change: the renamed field carries
	// the old values, the new required field its default.
	right := 0
	for _, d := range old {
		m, err := c.GetMeasurement(ctx, api.GetMeasurementParams{ID: d.ID})
		if err != nil {
			t.Fatalf("get stored %s: %v", d.ID, err)
		}
		if string(m.Data.Side.Or("")) != d.Arm || m.Data.CuffSize != api.MeasurementDataCuffSizeStandard || string(m.Data.Position.Or("")) != d.Position {
			t.Errorf("stored %s served as side=%v cuff_size=%v position=%v; want side=%s cuff_size=standard position=%s",
				d.ID, m.Data.Side, m.Data.CuffSize, m.Data.Position, d.Arm, d.Position)
		}
		if d.Arm == "right" {
			right++
		}
	}
	// Queries use the new name.
	list, err := c.ListMeasurementDocuments(rql.WithRawQuery(ctx, "eq(side,right)&eq(cuff_size,standard)&limit(100)"))
	if err != nil || int(list.Page.Total.Value) != right {
		t.Fatalf("list side=right: %+v, %v; want %d", list.Page, err, right)
	}

	// A new write in the new shape.
	m, err := c.CreateMeasurement(ctx, &api.MeasurementData{
		Systolic: 121, Diastolic: 79, TakenAt: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC),
		CuffSize: api.MeasurementDataCuffSizeLarge,
		Side:     api.NewOptMeasurementDataSide(api.MeasurementDataSideRight),
		Position: api.NewOptMeasurementDataPosition(api.MeasurementDataPositionStanding),
	})
	if err != nil || m.Data.CuffSize != api.MeasurementDataCuffSizeLarge || m.Data.Side.Or("") != api.MeasurementDataSideRight {
		t.Fatalf("create in the new shape: %+v, %v", m, err)
	}

	// Writes the new schema refuses, sent raw (the generated client would
	// refuse them itself): the removed enum value, the old field name, a
	// missing value for a field that has no default on the API.
	post := func(body string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/data/measurement/documents", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+sec.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const valid = `"systolic": 120, "diastolic": 80, "taken_at": "2026-11-27T08:00:00Z"`
	for name, body := range map[string]string{
		"narrowed enum":    `{` + valid + `, "cuff_size": "standard", "position": "lying"}`,
		"renamed field":    `{` + valid + `, "cuff_size": "standard", "arm": "left"}`,
		"required, absent": `{` + valid + `}`,
	} {
		if status, resp := post(body); status != http.StatusBadRequest || !strings.Contains(resp, `"code":"validation_failed"`) {
			t.Errorf("%s: got %d %s, want 400 validation_failed", name, status, resp)
		}
	}
	if status, resp := post(`{` + valid + `, "cuff_size": "small", "position": "sitting"}`); status != http.StatusCreated {
		t.Errorf("valid raw write: got %d %s", status, resp)
	}
}
