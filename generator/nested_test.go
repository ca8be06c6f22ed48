package generator

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/spec"
)

// readingSpec is a model with an object column holding an array of
// objects, and an array column of objects.
func readingSpec(t *testing.T, src string) *spec.Project {
	t.Helper()
	p, diags := spec.LoadFiles(map[string][]byte{"spec.hcl": []byte(src)})
	if diags.HasErrors() {
		var b strings.Builder
		_ = spec.WriteDiagnosticsShort(&b, diags)
		t.Fatalf("spec:\n%s", b.String())
	}
	return p
}

const readingBefore = `
project "p" {
  title = "P"
}
model "reading" {
  field "device" {
    type = "object"
    field "serial" {
      type     = "string"
      required = true
    }
    field "model" {
      type = "string"
    }
    field "firmware" {
      type = "string"
    }
    field "parts" {
      type = "array"
      items {
        type = "object"
        field "name" {
          type = "string"
        }
      }
    }
  }
  field "samples" {
    type = "array"
    items {
      type = "object"
      field "offset_ms" {
        type     = "integer"
        required = true
      }
      field "pressure" {
        type = "number"
      }
      field "site" {
        type = "string"
      }
    }
  }
}
`

// readingAfter renames device.model and samples[].pressure, removes
// device.firmware, adds required fields with defaults at three depths
// (device.calibrated, device.parts[].count, samples[].unit), makes
// samples[].site required with a default, and adds an optional field with
// a default (not backfilled).
const readingAfter = `
project "p" {
  title = "P"
}
model "reading" {
  field "device" {
    type = "object"
    field "serial" {
      type     = "string"
      required = true
    }
    field "model_name" {
      type         = "string"
      renamed_from = "model"
    }
    field "calibrated" {
      type     = "boolean"
      required = true
      default  = false
    }
    field "parts" {
      type = "array"
      items {
        type = "object"
        field "name" {
          type = "string"
        }
        field "count" {
          type     = "integer"
          required = true
          default  = 1
        }
      }
    }
  }
  field "samples" {
    type = "array"
    items {
      type = "object"
      field "offset_ms" {
        type     = "integer"
        required = true
      }
      field "value" {
        type         = "number"
        renamed_from = "pressure"
      }
      field "unit" {
        type     = "string"
        required = true
        default  = "mmHg"
      }
      field "site" {
        type     = "string"
        required = true
        default  = "arm"
      }
      field "note" {
        type    = "string"
        default = "none"
      }
    }
  }
}
`

// TestNestedFieldMigrations: renamed, removed and new required nested
// fields rewrite the stored documents (testdata/migrations/nested/*.golden):
// keys renamed with their values, removed keys gone, defaults set where
// the enclosing object lacks the field, array order kept, documents of
// another shape untouched; running the migration again changes nothing.
func TestNestedFieldMigrations(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	files, err := migrationFiles(readingSpec(t, readingBefore), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	migs := []db.Migration{{Name: "project/0001_init.sql", SQL: string(files[0].Data)}}
	if _, err := db.Migrate(ctx, pool, migs); err != nil {
		t.Fatal(err)
	}
	docs := []struct{ device, samples, want string }{
		{
			`{"serial": "A1", "model": "X", "firmware": "1.0", "parts": [{"name": "cuff"}, {"name": "pump", "count": 2}, {"name": "hose", "count": null}]}`,
			`[{"offset_ms": 0, "pressure": 120.5}, {"offset_ms": 10, "pressure": 80, "unit": "kPa", "site": "wrist"}, {"offset_ms": 20, "site": null}]`,
			`{"serial": "A1", "model_name": "X", "calibrated": false, "parts": [{"name": "cuff", "count": 1}, {"name": "pump", "count": 2}, {"name": "hose", "count": 1}]}` +
				` | [{"offset_ms": 0, "value": 120.5, "unit": "mmHg", "site": "arm"}, {"offset_ms": 10, "value": 80, "unit": "kPa", "site": "wrist"}, {"offset_ms": 20, "unit": "mmHg", "site": "arm"}]`,
		},
		{`{"serial": "B2", "calibrated": true}`, `[]`, `{"serial": "B2", "calibrated": true} | []`},
		{`null`, `null`, `<nil> | <nil>`},
		{`{"serial": "C3", "model": null, "parts": []}`, `[{"offset_ms": 5}]`,
			`{"serial": "C3", "model_name": null, "calibrated": false, "parts": []} | [{"offset_ms": 5, "unit": "mmHg", "site": "arm"}]`},
	}
	for i, d := range docs {
		dev, smp := any(d.device), any(d.samples)
		if d.device == "null" {
			dev, smp = nil, nil
		}
		if _, err := pool.Exec(ctx, `INSERT INTO data_reading (id, creator_id, status_changed_at, created_at, updated_at, device, samples)
			VALUES (gen_random_uuid(), gen_random_uuid(), now(), now() + make_interval(secs => $3), now(), $1::jsonb, $2::jsonb)`, dev, smp, i); err != nil {
			t.Fatal(err)
		}
	}

	next, err := migrationFiles(readingSpec(t, readingAfter), files[:1], files[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 2 {
		t.Fatalf("want one migration and the snapshot, got %v", next)
	}
	compareGolden(t, filepath.Join("testdata", "migrations", "nested"), map[string][]byte{"0002_change.sql.golden": next[0].Data})
	change := db.Migration{Name: "project/0002_change.sql", SQL: string(next[0].Data)}
	if _, err := db.Migrate(ctx, pool, append(migs, change)); err != nil {
		t.Fatalf("apply: %v\n%s", err, change.SQL)
	}
	read := func() []string {
		t.Helper()
		rows, err := pool.Query(ctx, `SELECT coalesce(device::text, '<nil>') || ' | ' || coalesce(samples::text, '<nil>') FROM data_reading ORDER BY created_at`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	got := read()
	for i, d := range docs {
		var want string
		// Compare as jsonb would print the expected documents.
		if err := pool.QueryRow(ctx, `SELECT CASE WHEN $1 = '<nil> | <nil>' THEN $1 ELSE split_part($1, ' | ', 1)::jsonb::text || ' | ' || split_part($1, ' | ', 2)::jsonb::text END`, d.want).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if got[i] != want {
			t.Errorf("document %d after apply:\n got %s\nwant %s", i, got[i], want)
		}
	}
	// Again: nothing changes.
	var updated int64
	for _, stmt := range strings.Split(change.SQL, ";\n") {
		if !strings.Contains(stmt, "UPDATE ") {
			continue
		}
		tag, err := pool.Exec(ctx, stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		updated += tag.RowsAffected()
	}
	if after := read(); updated != 0 || strings.Join(after, "\n") != strings.Join(got, "\n") {
		t.Errorf("running the rewrites again updated %d documents", updated)
	}
}
