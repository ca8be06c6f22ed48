package live_test

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/generator/live"
	"github.com/exhgen/exhgen/generator/plan"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/spec"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func load(t *testing.T, src string) *spec.Project {
	t.Helper()
	p, diags := spec.LoadFiles(map[string][]byte{"spec.hcl": []byte(src)})
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = spec.WriteDiagnosticsShort(&b, diags)
		t.Fatalf("spec does not load:\n%s", b.String())
	}
	return p
}

const nestedBase = `
project "p" {
  title   = "P"
  version = "1.0.0"
}

model "reading" {
  field "device" {
    type = "object"
    field "serial" {
      type = "string"
    }
    field "model" {
      type = "string"
      enum = ["omron", "withings", "other"]
    }
  }
  field "samples" {
    type = "array"
    items {
      type = "object"
      field "pressure" {
        type = "number"
      }
    }
  }
  field "tags" {
    type = "array"
    items {
      type = "string"
    }
  }
}
`

// TestNestedDataChecks: tightened fields inside object and array columns
// are counted against the stored documents with SQL/JSON paths, each
// document once, with example ids; documents without the enclosing
// object do not count for its required fields.
func TestNestedDataChecks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	before := load(t, nestedBase)
	for _, s := range generator.Diff(generator.Schema{}, generator.StorageSchema(before)) {
		if _, err := pool.Exec(ctx, s.SQL); err != nil {
			t.Fatal(err)
		}
	}
	docs := []struct{ id, device, samples, tags string }{
		{"00000000-0000-7000-8000-000000000001", `{"serial": "BP-1", "model": "omron", "firmware": "1"}`, `[{"pressure": 120}]`, `["a"]`},
		{"00000000-0000-7000-8000-000000000002", `{"serial": "X-2", "model": "other"}`, `[{"pressure": 300}, {"pressure": 260}]`, `["averyverylongtag"]`},
		{"00000000-0000-7000-8000-000000000003", `null`, `null`, `[]`},
		{"00000000-0000-7000-8000-000000000004", `{"serial": "BP-4", "model": "withings", "firmware": null}`, `[]`, `["b", "c"]`},
	}
	for i, d := range docs {
		_, err := pool.Exec(ctx, `INSERT INTO data_reading (id, creator_id, status_changed_at, created_at, updated_at, device, samples, tags)
			VALUES ($1, gen_random_uuid(), now(), now() + make_interval(secs => $2), now(), $3::jsonb, $4::jsonb, $5::jsonb)`,
			d.id, i, nullIf(d.device), nullIf(d.samples), d.tags)
		if err != nil {
			t.Fatal(err)
		}
	}
	after := load(t, strings.NewReplacer(
		`    field "serial" {
      type = "string"
    }`, `    field "serial" {
      type    = "string"
      pattern = "^BP-[0-9]+$"
    }
    field "firmware" {
      type     = "string"
      required = true
    }`,
		`enum = ["omron", "withings", "other"]`, `enum = ["omron", "withings"]`,
		`      field "pressure" {
        type = "number"
      }`, `      field "pressure" {
        type    = "number"
        maximum = 250
      }`,
		`    items {
      type = "string"
    }`, `    items {
      type       = "string"
      max_length = 10
    }`,
	).Replace(nestedBase))
	changes, problems := plan.Compare(plan.FromSpec(before), plan.FromSpec(after))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	p := &plan.Plan{Changes: changes}
	if err := live.RunChecks(ctx, pool, p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range p.Checks() {
		if k.Error != "" {
			t.Errorf("%s: %s", k.Describe(), k.Error)
		}
		got = append(got, fmt.Sprintf("%s %s: %d %v", k.Kind, k.Name(), k.Violations, k.Examples))
	}
	const d2, d4 = "00000000-0000-7000-8000-000000000002", "00000000-0000-7000-8000-000000000004"
	want := []string{
		fmt.Sprintf("new_required device.firmware: 2 [%s %s]", d2, d4),
		fmt.Sprintf("enum device.model: 1 [%s]", d2),
		fmt.Sprintf("pattern device.serial: 1 [%s]", d2),
		fmt.Sprintf("maximum samples[].pressure: 1 [%s]", d2),
		fmt.Sprintf("max_length tags[]: 1 [%s]", d2),
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("checks:\n got %q\nwant %q", got, want)
	}
}

func nullIf(s string) any {
	if s == "null" {
		return nil
	}
	return s
}

// TestLossChecks: removing a model, a field, a nested field, or replacing
// a field whose type cannot convert, counts the stored documents and
// values the change deletes; the plan sums them apart from violations.
func TestLossChecks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	withNote := nestedBase + "\nmodel \"note\" {\n  field \"text\" {\n    type = \"string\"\n  }\n}\n"
	before := load(t, withNote)
	for _, s := range generator.Diff(generator.Schema{}, generator.StorageSchema(before)) {
		if _, err := pool.Exec(ctx, s.SQL); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pool.Exec(ctx, `INSERT INTO data_reading (id, creator_id, status_changed_at, created_at, updated_at, device, samples, tags)
		VALUES (gen_random_uuid(), gen_random_uuid(), now(), now(), now(), '{"serial": "A", "model": "omron"}', '[{"pressure": 1}, {}]', '["a"]'),
		       (gen_random_uuid(), gen_random_uuid(), now(), now(), now(), '{"serial": "B", "model": null}', '[{"pressure": null}]', NULL),
		       (gen_random_uuid(), gen_random_uuid(), now(), now(), now(), NULL, NULL, '[]');
		INSERT INTO data_note (id, creator_id, status_changed_at, created_at, updated_at, text)
		SELECT gen_random_uuid(), gen_random_uuid(), now(), now(), now(), 'n' || i FROM generate_series(1, 3) i`); err != nil {
		t.Fatal(err)
	}
	after := load(t, strings.NewReplacer(
		"\nmodel \"note\" {\n  field \"text\" {\n    type = \"string\"\n  }\n}\n", "",
		`    field "model" {
      type = "string"
      enum = ["omron", "withings", "other"]
    }
`, "",
		`  field "tags" {
    type = "array"
    items {
      type = "string"
    }
  }
`, "",
		`      field "pressure" {
        type = "number"
      }`, `      field "pressure" {
        type = "object"
        field "kpa" {
          type = "number"
        }
      }`,
	).Replace(withNote))
	changes, problems := plan.Compare(plan.FromSpec(before), plan.FromSpec(after))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	p := &plan.Plan{Changes: changes}
	if err := live.RunChecks(ctx, pool, p); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range p.Checks() {
		if k.Error != "" {
			t.Errorf("%s: %s", k.Describe(), k.Error)
		}
		got = append(got, fmt.Sprintf("%s %s: %d", k.Kind, k.Describe(), k.Violations))
	}
	want := []string{
		"lost_documents note documents stored, deleted with the table: 3",
		"lost_values reading documents with a value for device.model, which is deleted: 1",
		"lost_values reading documents with a value for samples[].pressure, which is deleted: 1",
		"lost_values reading documents with a value for tags, which is deleted: 2",
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("checks:\n got %q\nwant %q", got, want)
	}
	if s := p.Summarize(); s.Lost != 7 || s.Violations != 0 || s.Destructive != 4 {
		t.Errorf("summary: %+v; want 7 lost, 0 violations, 4 destructive", s)
	}
}
