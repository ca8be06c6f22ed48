package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// These tests set DATABASE_URL, so they cannot run in parallel.

// planDB gives a test a fresh database as DATABASE_URL and a pool on it.
func planDB(t *testing.T) *pgxpool.Pool {
	t.Helper()
	url := dbtest.URL(t)
	t.Setenv("DATABASE_URL", url)
	pool, err := db.Open(t.Context(), url, 4)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// editSpec replaces old by new in a spec file, failing when old is absent.
func editSpec(t *testing.T, specDir, file string, pairs ...string) {
	t.Helper()
	path := filepath.Join(specDir, file)
	src := readFile(t, path)
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			t.Fatalf("%s lacks %q", file, pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	writeFile(t, path, src)
}

func query[T any](t *testing.T, pool *pgxpool.Pool, sql string, args ...any) T {
	t.Helper()
	var v T
	if err := pool.QueryRow(t.Context(), sql, args...).Scan(&v); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return v
}

// seed stores n measurements (arm alternating left/right, position lying
// every fourth) and one patient profile.
func seed(t *testing.T, pool *pgxpool.Pool, n int) {
	t.Helper()
	_, err := pool.Exec(t.Context(), `INSERT INTO data_measurement (id, creator_id, status_changed_at, created_at, updated_at, systolic, diastolic, pulse, taken_at, arm, position)
		SELECT gen_random_uuid(), gen_random_uuid(), now(), now(), now(), 100 + i, 80, 60 + i, now(),
		       CASE WHEN i % 2 = 0 THEN 'right' ELSE 'left' END, CASE WHEN i % 4 = 0 THEN 'lying' ELSE 'sitting' END
		FROM generate_series(1, $1) i`, n)
	if err != nil {
		t.Fatal(err)
	}
	_, err = pool.Exec(t.Context(), `INSERT INTO data_patient_profile (id, creator_id, status_changed_at, created_at, updated_at, date_of_birth, height_cm)
		VALUES (gen_random_uuid(), gen_random_uuid(), now(), now(), now(), '1960-01-01', 180)`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestPlanApply walks a live database holding data through every kind of
// storage change, checking the plan, the refusals and the data after each
// apply.
func TestPlanApply(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()

	// A first plan against an empty database: everything to create, the
	// core and project migrations pending; nothing written or applied.
	code, stdout, stderr := cli(t, "plan", spec, "-o", out, "-detailed-exitcode")
	if code != 2 {
		t.Fatalf("plan -detailed-exitcode: exit %d, want 2\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"  # model.measurement will be created\n", "  # role.clinician will be created\n",
		"  core/0001_identity.sql\n", "  project/0001_init.sql (new, written by apply)\n"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("first plan lacks %q:\n%s", want, stdout)
		}
	}
	if created := strings.Count(stdout, " will be created\n"); !strings.Contains(stdout, fmt.Sprintf("Plan: %d to add, 0 to change, 0 to destroy.\n", created)) {
		t.Errorf("first plan does not sum up its %d creations:\n%s", created, stdout)
	}
	if exists(filepath.Join(spec, "migrations")) || query[bool](t, pool, "SELECT to_regclass('exh_schema_migrations') IS NOT NULL") {
		t.Fatal("plan wrote files or applied migrations")
	}
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 || !regexp.MustCompile(`^Base: the snapshot applied to the database at \S+ by \S+ \(sha256 [0-9a-f]{12}\)\.\n\nNo changes\. The spec, the schema snapshot and the database match\.\n$`).MatchString(stdout) {
		t.Fatalf("plan after apply: exit %d\n%s", code, stdout)
	}
	seed(t, pool, 20)

	// Every kind of change at once: a required field with a default, a
	// renamed field, a narrowed enum, a widened type, a lowered maximum,
	// a new index, a removed field, a renamed model and a new model.
	editSpec(t, spec, "measurement.hcl",
		"  field \"arm\" {\n", "  field \"side\" {\n    renamed_from = \"arm\"\n",
		`enum        = ["sitting", "standing", "lying"]`, `enum        = ["sitting", "standing"]`,
		"    description = \"Heart rate in beats per minute.\"", "    description = \"Heart rate in beats per minute.\"\n    indexed     = true",
		"    minimum     = 40\n    maximum     = 300", "    minimum     = 40\n    maximum     = 200",
		"  field \"irregular_heartbeat\" {", "  field \"cuff_size\" {\n    type     = \"string\"\n    enum     = [\"small\", \"standard\", \"large\"]\n    required = true\n    default  = \"standard\"\n  }\n\n  field \"irregular_heartbeat\" {",
	)
	editSpec(t, spec, "measurement.hcl", "    type        = \"integer\"\n    description = \"Diastolic", "    type        = \"number\"\n    description = \"Diastolic")
	editSpec(t, spec, "patient_profile.hcl", `model "patient_profile" {`, "model \"profile\" {\n  renamed_from = \"patient_profile\"",
		"  field \"weight_kg\" {\n    type    = \"number\"\n    minimum = 1\n    maximum = 400\n  }\n", "")
	// Every permission on the renamed model follows it.
	roles := filepath.Join(spec, "roles.hcl")
	writeFile(t, roles, strings.ReplaceAll(readFile(t, roles), "data:patient_profile:", "data:profile:"))
	writeFile(t, filepath.Join(spec, "device.hcl"), "model \"device\" {\n  field \"serial\" {\n    type     = \"string\"\n    required = true\n  }\n}\n")

	stdout = mustCLI(t, "plan", spec, "-o", out)
	for _, want := range []string{
		"  # model.profile will be updated in-place\n  # (moved from model.patient_profile)\n",
		"            # (renamed from \"arm\")\n",
		"          ~ enum = [\"sitting\", \"standing\", \"lying\"] -> [\"sitting\", \"standing\"]\n",
		"      - field \"weight_kg\" {\n",
		"  ! 5 measurement documents whose position is not one of [\"sitting\", \"standing\"] (e.g. ",
		"  ok 0 measurement documents whose systolic is above 200\n",
		"Plan: 2 to add, 7 to change, 1 to destroy.\n",
		"Data checks: 5 stored documents would violate the new schema; apply would fail.\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	// JSON from the same data.
	stdout = mustCLI(t, "plan", spec, "-o", out, "-json")
	var js struct {
		Changes []struct{ Address string } `json:"changes"`
		Summary struct{ Add, Change, Destroy, Violations int }
	}
	if err := json.Unmarshal([]byte(stdout), &js); err != nil || js.Summary.Add != 2 || js.Summary.Destroy != 1 || js.Summary.Violations != 5 {
		t.Errorf("plan -json: %+v, %v\n%s", js.Summary, err, stdout)
	}

	before := query[int](t, pool, "SELECT count(*) FROM "+db.MigrationsTable)
	// Destructive: refused without the flag; violations: refused with it.
	code, _, stderr = cli(t, "apply", spec, "-o", out, "-auto-approve")
	if code != 1 || !strings.Contains(stderr, "-allow-destructive") {
		t.Errorf("destructive apply without the flag: exit %d: %s", code, stderr)
	}
	code, _, stderr = cli(t, "apply", spec, "-o", out, "-auto-approve", "-allow-destructive")
	if code != 1 || !strings.Contains(stderr, "5 stored documents violate the new schema") {
		t.Errorf("apply over violating data: exit %d: %s", code, stderr)
	}
	if exists(filepath.Join(spec, "migrations", "0002_change.sql")) || query[int](t, pool, "SELECT count(*) FROM "+db.MigrationsTable) != before {
		t.Fatal("a refused apply wrote a migration or applied something")
	}

	// Confirmation: anything but "yes" cancels.
	if _, err := pool.Exec(t.Context(), "UPDATE data_measurement SET position = 'standing' WHERE position = 'lying'"); err != nil {
		t.Fatal(err)
	}
	code, stdout, _ = cliIn(t, "no\n", "apply", spec, "-o", out, "-allow-destructive")
	if code != 1 || !strings.Contains(stdout, "Apply cancelled. Nothing was applied.") {
		t.Errorf("apply answered no: exit %d\n%s", code, stdout)
	}

	// A saved plan; applying it after the database moved is refused.
	planFile := filepath.Join(t.TempDir(), "change.plan")
	mustCLI(t, "plan", spec, "-o", out, "-out", planFile)
	if _, err := pool.Exec(t.Context(), "ALTER TABLE data_device_x ADD COLUMN x int"); err == nil {
		t.Fatal("unexpected table")
	}
	if _, err := pool.Exec(t.Context(), "CREATE INDEX manual_idx ON data_measurement (diastolic)"); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = cli(t, "apply", spec, planFile, "-o", out, "-allow-destructive")
	if code != 1 || !strings.Contains(stderr, "is stale: the database changed since the plan was made") {
		t.Errorf("stale plan: exit %d: %s", code, stderr)
	}
	// The drift shows in the next plan.
	if stdout := mustCLI(t, "plan", spec, "-o", out); !strings.Contains(stdout, "  ! table.data_measurement.index.manual_idx: the database has this index, the snapshot does not\n") {
		t.Errorf("plan does not report the drift:\n%s", stdout)
	}
	if _, err := pool.Exec(t.Context(), "DROP INDEX manual_idx"); err != nil {
		t.Fatal(err)
	}

	// The saved plan, made again, applies exactly.
	mustCLI(t, "plan", spec, "-o", out, "-out", planFile)
	stdout = mustCLI(t, "apply", spec, planFile, "-o", out, "-allow-destructive")
	if !strings.Contains(stdout, "applied project/0002_change.sql\napplied project/0003_change_concurrently.sql\n") ||
		!strings.Contains(stdout, "Apply complete! Changes: 2 added, 7 changed, 1 destroyed; 2 migrations applied.\n") {
		t.Errorf("apply of the saved plan:\n%s", stdout)
	}
	// The data came through.
	checks := []struct{ sql, want string }{
		{"SELECT count(*)::text FROM data_measurement WHERE side IN ('left', 'right')", "20"},
		{"SELECT count(*)::text FROM data_measurement WHERE cuff_size = 'standard'", "20"},
		{"SELECT count(*)::text FROM data_measurement WHERE position = 'sitting'", "15"},
		{"SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'data_measurement'::regclass AND attname = 'diastolic'", "double precision"},
		{"SELECT sum(diastolic)::text FROM data_measurement", "1600"},
		{"SELECT date_of_birth::text FROM data_profile", "1960-01-01"},
		{"SELECT (to_regclass('data_patient_profile') IS NULL)::text", "true"},
		{"SELECT count(*)::text FROM information_schema.columns WHERE table_name = 'data_profile' AND column_name = 'weight_kg'", "0"},
		{"SELECT indisvalid::text FROM pg_index WHERE indexrelid = 'data_measurement_pulse_idx'::regclass", "true"},
		{"SELECT count(*)::text FROM pg_constraint WHERE conrelid = 'data_measurement'::regclass AND contype = 'c' AND NOT convalidated", "0"},
		{"SELECT count(*)::text FROM data_device", "0"},
	}
	for _, c := range checks {
		if got := query[string](t, pool, c.sql); got != c.want {
			t.Errorf("%s = %q, want %q", c.sql, got, c.want)
		}
	}
	// The tightened constraints hold.
	if _, err := pool.Exec(t.Context(), "UPDATE data_measurement SET position = 'lying'"); err == nil {
		t.Error("the narrowed enum does not hold")
	}
	// The generated backend has the new schema.
	if oa := readFile(t, filepath.Join(out, "openapi.json")); !strings.Contains(oa, `"cuff_size"`) || !strings.Contains(oa, "/data/profile") || strings.Contains(oa, `"weight_kg"`) {
		t.Error("the generated openapi.json does not have the new schema")
	}
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s", code, stdout)
	}
	// The plan file, once applied, is stale.
	if code, _, stderr := cli(t, "apply", spec, planFile, "-o", out); code != 1 || !strings.Contains(stderr, "is stale") {
		t.Errorf("re-applied plan: exit %d: %s", code, stderr)
	}
}

// cliIn is cli with stdin.
func cliIn(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return executeIn(args, strings.NewReader(stdin))
}

// TestApplyFailureLeavesNothingHalfDone: a hand-written migration dropped
// into the migrations directory is numbered around and applied with the
// generated one; when it fails, neither is applied and the spec directory
// is as it was.
func TestApplyFailureLeavesNothingHalfDone(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	seed(t, pool, 4)
	snapshot := readFile(t, filepath.Join(spec, "migrations", "schema.json"))

	manual := filepath.Join(spec, "migrations", "0002_manual.sql")
	writeFile(t, manual, "CREATE TABLE audit_note (id int);\nUPDATE data_measurement SET systolic = systolic / 0;\n")
	addField(t, spec, "cuff_size")
	code, stdout, stderr := cli(t, "apply", spec, "-o", out, "-auto-approve")
	if code != 1 || !regexp.MustCompile(`apply failed at migrate: apply project/0002_manual\.sql: .*division by zero.*; the database is as it was`).MatchString(stderr) {
		t.Fatalf("failing apply: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if query[bool](t, pool, "SELECT to_regclass('audit_note') IS NOT NULL") || columnExists(t, pool, "data_measurement", "cuff_size") ||
		query[int](t, pool, "SELECT count(*) FROM "+db.MigrationsTable+" WHERE name LIKE 'project/%'") != 1 {
		t.Fatal("the failed apply left something applied")
	}
	if exists(filepath.Join(spec, "migrations", "0003_change.sql")) || readFile(t, filepath.Join(spec, "migrations", "schema.json")) != snapshot {
		t.Fatal("the failed apply left the spec directory changed")
	}

	// Fixed, the hand-written migration is applied and recorded with its
	// checksum; the generated one is numbered after it.
	writeFile(t, manual, "CREATE TABLE audit_note (id int);\n")
	stdout = mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	if !strings.Contains(stdout, "applied project/0002_manual.sql\napplied project/0003_change.sql\n") {
		t.Errorf("apply:\n%s", stdout)
	}
	if got := query[string](t, pool, "SELECT checksum FROM "+db.MigrationsTable+" WHERE name = 'project/0002_manual.sql'"); got != db.Checksum(readFile(t, manual)) {
		t.Errorf("checksum of the hand-written migration = %q", got)
	}
}

// TestConcurrentAppliesSerialise: two applies of the same change at once;
// the advisory lock lets one apply it and the other, finding the database
// moved once it gets the lock, refuses.
func TestConcurrentAppliesSerialise(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	addField(t, spec, "cuff_size")

	var wg sync.WaitGroup
	codes, errs := make([]int, 2), make([]string, 2)
	for i := range 2 {
		wg.Go(func() { codes[i], _, errs[i] = cli(t, "apply", spec, "-o", out, "-auto-approve") })
	}
	wg.Wait()
	ok, refused := 0, 0
	for i := range 2 {
		switch {
		case codes[i] == 0:
			ok++
		case strings.Contains(errs[i], "apply refused") || strings.Contains(errs[i], "is stale") || strings.Contains(errs[i], "changed"):
			refused++
		default:
			t.Errorf("apply %d: exit %d: %s", i, codes[i], errs[i])
		}
	}
	if ok < 1 || ok+refused != 2 {
		t.Errorf("%d applied, %d refused; want one or two applied, the rest refused (%v)", ok, refused, errs)
	}
	if n := query[int](t, pool, "SELECT count(*) FROM "+db.MigrationsTable+" WHERE name = 'project/0002_change.sql'"); n != 1 {
		t.Errorf("0002_change.sql recorded %d times", n)
	}
}

func columnExists(t *testing.T, pool *pgxpool.Pool, table, column string) bool {
	t.Helper()
	return query[bool](t, pool,
		"SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)", table, column)
}

// TestPlanApplyNestedFieldsAndLoss: on a database holding readings with
// devices and samples, a renamed nested field, new required nested fields
// with defaults (in an object and in the objects of an array) and a
// removed field with stored values: the plan counts the values the
// removal deletes, apply refuses without -allow-destructive, and with it
// rewrites the stored documents.
func TestPlanApplyNestedFieldsAndLoss(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	seed(t, pool, 6)
	if _, err := pool.Exec(t.Context(), `UPDATE data_measurement SET note = 'n',
		device = jsonb_build_object('serial', 'SN-' || systolic, 'model', 'M' || systolic),
		samples = '[{"offset_ms": 0, "pressure": 150}, {"offset_ms": 10, "pressure": 140, "unit": "kPa"}]'
		WHERE systolic % 2 = 0`); err != nil {
		t.Fatal(err)
	}
	editSpec(t, spec, "measurement.hcl",
		"    field \"model\" {\n      type       = \"string\"", "    field \"model_name\" {\n      renamed_from = \"model\"\n      type       = \"string\"",
		"    field \"firmware\" {", "    field \"calibrated\" {\n      type     = \"boolean\"\n      required = true\n      default  = false\n    }\n\n    field \"firmware\" {",
		"      field \"pressure\" {", "      field \"unit\" {\n        type     = \"string\"\n        required = true\n        default  = \"mmHg\"\n      }\n\n      field \"pressure\" {",
		"  field \"note\" {\n    type        = \"string\"\n    description = \"A free-text remark by the patient.\"\n    max_length  = 500\n  }\n", "",
	)
	stdout := mustCLI(t, "plan", spec, "-o", out)
	for _, want := range []string{
		"  # note: Renames the key model to model_name in the stored documents; the values are kept.\n",
		"  ! 3 measurement documents with a value for note, which is deleted (e.g. ",
		"Data loss: 3 stored documents or values would be deleted by the destructive changes (see the data checks).\n",
		"WHERE jsonb_path_exists(\"samples\", '$[*] ? (@.type() == \"object\" && (!exists(@.\"unit\") || @.\"unit\" == null))');\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, stdout)
		}
	}
	code, _, stderr := cli(t, "apply", spec, "-o", out, "-auto-approve")
	if code != 1 || !strings.Contains(stderr, "it deletes 3 stored documents or values") || !strings.Contains(stderr, "-allow-destructive") {
		t.Fatalf("destructive apply without the flag: exit %d: %s", code, stderr)
	}
	if !columnExists(t, pool, "data_measurement", "note") {
		t.Fatal("the refused apply dropped the column")
	}
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve", "-allow-destructive")
	checks := []struct{ sql, want string }{
		{"SELECT count(*)::text FROM data_measurement WHERE device ? 'model_name' AND NOT device ? 'model' AND device->>'model_name' = 'M' || systolic", "3"},
		{"SELECT count(*)::text FROM data_measurement WHERE device->'calibrated' = 'false'", "3"},
		{"SELECT count(*)::text FROM data_measurement WHERE device IS NULL AND samples IS NULL", "3"},
		{"SELECT string_agg(DISTINCT samples::text, ',') FROM data_measurement", `[{"unit": "mmHg", "pressure": 150, "offset_ms": 0}, {"unit": "kPa", "pressure": 140, "offset_ms": 10}]`},
		{"SELECT (NOT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = 'data_measurement' AND column_name = 'note'))::text", "true"},
	}
	for _, c := range checks {
		if got := query[string](t, pool, c.sql); got != c.want {
			t.Errorf("%s = %q, want %q", c.sql, got, c.want)
		}
	}
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s", code, stdout)
	}
}
