package render_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/generator/plan"
	"github.com/exhgen/exhgen/generator/plan/render"
	"github.com/exhgen/exhgen/spec"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// base is the applied spec every case changes.
const base = `
project "clinic" {
  title     = "Clinic"
  version   = "1.0.0"
  languages = ["en", "nl"]
}

auth {
  access_token_ttl = "15m"
  registration     = "open"
}

role "clinician" {
  permissions = ["users:read", "data:measurement:read"]
}

group_role "staff" {
  permissions = ["data:measurement:read"]
}

model "measurement" {
  field "systolic" {
    type     = "integer"
    required = true
    minimum  = 40
    maximum  = 300
  }
  field "arm" {
    type = "string"
    enum = ["left", "right", "unknown"]
  }
  field "note" {
    type       = "string"
    max_length = 500
  }
  field "taken_at" {
    type = "datetime"
  }
  field "code" {
    type = "string"
  }
  field "device" {
    type = "object"
    field "serial" {
      type = "string"
    }
  }
  field "tags" {
    type = "array"
    items {
      type = "string"
    }
  }
  access {
    read = ["creator", "linked_users"]
  }
}

model "profile" {
  field "name" {
    type = "string"
  }
}
`

func load(t *testing.T, src string) plan.State {
	t.Helper()
	p, diags := spec.LoadFiles(map[string][]byte{"spec.hcl": []byte(src)})
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = spec.WriteDiagnosticsShort(&b, diags)
		t.Fatalf("spec does not load:\n%s\n%s", b.String(), src)
	}
	return plan.FromSpec(p)
}

// edit replaces old by new in base, failing when old is not there.
func edit(t *testing.T, src string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			t.Fatalf("base lacks %q", pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return src
}

// TestGolden renders the plan of each kind of change, for people and as
// JSON. Run with -update to rewrite testdata/*.golden.
func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edits []string
		// checked fills data-check results as a database would.
		checked func(p *plan.Plan)
	}{
		{name: "no_changes"},
		{name: "project_settings", edits: []string{`title     = "Clinic"`, `title     = "BP Clinic"`, `version   = "1.0.0"`, `version   = "1.1.0"`, `["en", "nl"]`, `["en"]`}},
		{name: "auth_settings", edits: []string{`access_token_ttl = "15m"`, `access_token_ttl = "10m"`, `registration     = "open"`, `registration     = "invite"`}},
		{name: "role_add", edits: []string{`group_role "staff"`, "role \"auditor\" {\n  permissions = [\"data:*:read\"]\n}\n\ngroup_role \"staff\""}},
		{name: "role_remove", edits: []string{"role \"clinician\" {\n  permissions = [\"users:read\", \"data:measurement:read\"]\n}\n", ""}},
		{name: "role_remove_held", edits: []string{"role \"clinician\" {\n  permissions = [\"users:read\", \"data:measurement:read\"]\n}\n", ""},
			checked: func(p *plan.Plan) {
				for _, k := range p.Checks() {
					k.Ran, k.Violations, k.Examples = true, 3, []string{"0190c3a1-0000-7000-8000-00000000000a", "0190c3a1-0000-7000-8000-00000000000b", "0190c3a1-0000-7000-8000-00000000000c"}
				}
			}},
		{name: "role_permissions", edits: []string{`["users:read", "data:measurement:read"]`, `["users:read", "data:profile:read"]`}},
		{name: "group_role_permissions", edits: []string{`permissions = ["data:measurement:read"]`, `permissions = ["data:measurement:read", "data:measurement:update"]`}},
		{name: "model_add", edits: []string{`model "profile" {`, "model \"device\" {\n  field \"serial\" {\n    type     = \"string\"\n    required = true\n  }\n}\n\nmodel \"profile\" {"}},
		{name: "model_remove", edits: []string{"model \"profile\" {\n  field \"name\" {\n    type = \"string\"\n  }\n}\n", ""}},
		{name: "model_rename", edits: []string{`model "profile" {`, "model \"patient_profile\" {\n  renamed_from = \"profile\""}},
		{name: "field_add_optional", edits: []string{`  field "note" {`, "  field \"cuff\" {\n    type = \"string\"\n  }\n  field \"note\" {"}},
		{name: "field_add_required_with_default", edits: []string{`  field "note" {`, "  field \"cuff\" {\n    type     = \"string\"\n    required = true\n    default  = \"standard\"\n  }\n  field \"note\" {"}},
		{name: "field_add_required_without_default", edits: []string{`  field "note" {`, "  field \"cuff\" {\n    type     = \"string\"\n    required = true\n  }\n  field \"note\" {"},
			checked: func(p *plan.Plan) {
				for _, k := range p.Checks() {
					k.Ran, k.Violations, k.Examples = true, 412, []string{"0190c3a1-0000-7000-8000-000000000001", "0190c3a1-0000-7000-8000-000000000002", "0190c3a1-0000-7000-8000-000000000003"}
				}
			}},
		{name: "field_remove", edits: []string{"  field \"note\" {\n    type       = \"string\"\n    max_length = 500\n  }\n", ""}},
		{name: "field_rename", edits: []string{"  field \"arm\" {\n", "  field \"side\" {\n    renamed_from = \"arm\"\n"}},
		{name: "field_rename_and_narrow", edits: []string{"  field \"arm\" {\n", "  field \"side\" {\n    renamed_from = \"arm\"\n", `["left", "right", "unknown"]`, `["left", "right"]`}},
		{name: "field_type_widen", edits: []string{"    type     = \"integer\"\n    required = true", "    type     = \"number\"\n    required = true"}},
		{name: "field_type_narrow", edits: []string{"  field \"code\" {\n    type = \"string\"", "  field \"code\" {\n    type = \"integer\""}},
		{name: "field_type_replace", edits: []string{"  field \"code\" {\n    type = \"string\"\n  }", "  field \"code\" {\n    type = \"object\"\n    field \"value\" {\n      type = \"string\"\n    }\n  }"}},
		{name: "field_required", edits: []string{"  field \"taken_at\" {\n    type = \"datetime\"", "  field \"taken_at\" {\n    type     = \"datetime\"\n    required = true"},
			checked: func(p *plan.Plan) {
				for _, k := range p.Checks() {
					k.Ran = true
				}
			}},
		{name: "field_optional", edits: []string{"    type     = \"integer\"\n    required = true", "    type     = \"integer\""}},
		{name: "field_default", edits: []string{"  field \"code\" {\n    type = \"string\"", "  field \"code\" {\n    type    = \"string\"\n    default = \"none\""}},
		{name: "field_enum_narrow", edits: []string{`["left", "right", "unknown"]`, `["left", "right"]`}},
		{name: "field_enum_widen", edits: []string{`["left", "right", "unknown"]`, `["left", "right", "unknown", "wrist"]`}},
		{name: "field_bounds", edits: []string{"minimum  = 40", "minimum  = 60", "maximum  = 300", "maximum  = 250"}},
		{name: "field_bounds_loosened", edits: []string{"minimum  = 40", "minimum  = 20", "maximum  = 300", ""}},
		{name: "field_length_pattern", edits: []string{"max_length = 500", "max_length = 200", "  field \"code\" {\n    type = \"string\"", "  field \"code\" {\n    type    = \"string\"\n    pattern = \"^[A-Z]{3}$\""}},
		{name: "field_index", edits: []string{"  field \"taken_at\" {\n    type = \"datetime\"", "  field \"taken_at\" {\n    type    = \"datetime\"\n    indexed = true"}},
		{name: "field_nested", edits: []string{"    field \"serial\" {\n      type = \"string\"\n    }", "    field \"serial\" {\n      type       = \"string\"\n      max_length = 64\n    }\n    field \"model\" {\n      type = \"string\"\n    }"}},
		{name: "field_nested_required", edits: []string{"    field \"serial\" {\n      type = \"string\"\n    }", "    field \"serial\" {\n      type = \"string\"\n    }\n    field \"firmware\" {\n      type     = \"string\"\n      required = true\n    }"},
			checked: func(p *plan.Plan) {
				for _, k := range p.Checks() {
					k.Ran, k.Violations, k.Examples = true, 2, []string{"0190c3a1-0000-7000-8000-000000000002", "0190c3a1-0000-7000-8000-000000000004"}
				}
			}},
		{name: "field_nested_rename", edits: []string{"    field \"serial\" {\n      type = \"string\"\n    }", "    field \"serial_number\" {\n      type         = \"string\"\n      renamed_from = \"serial\"\n    }"}},
		{name: "field_nested_required_with_default", edits: []string{"    field \"serial\" {\n      type = \"string\"\n    }", "    field \"serial\" {\n      type = \"string\"\n    }\n    field \"calibrated\" {\n      type     = \"boolean\"\n      required = true\n      default  = false\n    }\n    field \"unit\" {\n      type    = \"string\"\n      default = \"mmHg\"\n    }"}},
		{name: "field_nested_remove", edits: []string{"    field \"serial\" {\n      type = \"string\"\n    }", "    field \"model\" {\n      type = \"string\"\n    }"},
			checked: func(p *plan.Plan) {
				for _, k := range p.Checks() {
					k.Ran, k.Violations, k.Examples = true, 7, []string{"0190c3a1-0000-7000-8000-000000000001"}
				}
			}},
		{name: "model_remove_with_data", edits: []string{"model \"profile\" {\n  field \"name\" {\n    type = \"string\"\n  }\n}\n", "", "  field \"note\" {\n    type       = \"string\"\n    max_length = 500\n  }\n", ""},
			checked: func(p *plan.Plan) {
				for i, k := range p.Checks() {
					k.Ran, k.Violations, k.Examples = true, int64(30+i*382), []string{"0190c3a1-0000-7000-8000-000000000001", "0190c3a1-0000-7000-8000-000000000002", "0190c3a1-0000-7000-8000-000000000003"}
				}
			}},
		{name: "field_items", edits: []string{"    items {\n      type = \"string\"\n    }", "    items {\n      type = \"string\"\n      enum = [\"a\", \"b\"]\n    }"}},
		{name: "access_rules", edits: []string{`read = ["creator", "linked_users"]`, `read = ["creator", "linked_group_staff"]`}},
		{name: "access_default_spelled_out", edits: []string{`read = ["creator", "linked_users"]`, "read   = [\"creator\", \"linked_users\"]\n    create = [\"all_users\"]"}},
		{name: "base_database_behind", edits: []string{`  field "note" {`, "  field \"cuff\" {\n    type = \"string\"\n  }\n  field \"note\" {"},
			checked: func(p *plan.Plan) {
				p.Base = &plan.Base{Source: plan.BaseDatabase, SHA256: "8f1c3121d7f9a0b1c2d3e4f5", AppliedAt: "2026-11-20T09:00:00Z", AppliedBy: "ci-pipeline-7"}
				p.SnapshotFile = []plan.Drift{{Address: "model.measurement.field.cuff", Message: "in migrations/schema.json, not in the database's applied snapshot"}}
				p.Drift = []plan.Drift{{Address: "migration.project/0004_manual.sql", Message: "applied after the last recorded apply"}}
				p.Migrations = []plan.Migration{{Name: "project/0002_change.sql", SQL: "ALTER TABLE \"data_measurement\" ADD COLUMN \"cuff\" text;\n"}}
			}},
		{name: "base_file_offline", edits: []string{`  field "note" {`, "  field \"cuff\" {\n    type = \"string\"\n  }\n  field \"note\" {"},
			checked: func(p *plan.Plan) {
				p.Database = false
				p.Base = &plan.Base{Source: plan.BaseFile, SHA256: "8f1c3121d7f9a0b1c2d3e4f5", Note: "Offline: set DATABASE_URL to compare with the snapshot applied to the database instead."}
			}},
		{name: "rename_unknown_source", edits: []string{"  field \"arm\" {\n", "  field \"side\" {\n    renamed_from = \"amr\"\n"}},
	}
	before := load(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			after := load(t, edit(t, base, tt.edits...))
			changes, problems := plan.Compare(before, after)
			p := &plan.Plan{FormatVersion: plan.FormatVersion, Changes: changes, Problems: problems}
			if tt.checked != nil {
				p.Database = true
				tt.checked(p)
			}
			var human, js bytes.Buffer
			if err := render.Human(&human, p, render.Options{}); err != nil {
				t.Fatal(err)
			}
			if err := render.JSON(&js, p); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.name+".txt", human.Bytes())
			golden(t, tt.name+".json", js.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the output (run go test -update and review):\n--- got\n%s", path, got)
	}
}
