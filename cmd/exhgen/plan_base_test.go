package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// useDB points DATABASE_URL at url and returns a pool on it.
func useDB(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	t.Setenv("DATABASE_URL", url)
	pool, err := db.Open(t.Context(), url, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func wantAll(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, got)
		}
	}
}

// TestPlanBaseIsTheDatabasesAppliedSnapshot: staging and production at
// different points, planned from one checkout. Each apply records its
// snapshot in the database; plan compares the spec with the snapshot of
// the database it is pointed at, says how migrations/schema.json differs
// from it, and falls back to schema.json offline, saying so.
func TestPlanBaseIsTheDatabasesAppliedSnapshot(t *testing.T) {
	stagingURL, prodURL := dbtest.URL(t), dbtest.URL(t)
	spec, out := clinicSpec(t), t.TempDir()
	t.Setenv("EXHGEN_APPLIED_BY", "ci-pipeline-7")

	prod := useDB(t, prodURL)
	stdout := mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan of a fresh database", stdout, "Base: nothing applied to the database yet.\n")
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	staging := useDB(t, stagingURL)
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")

	// Staging moves on: a new field, applied there only.
	addField(t, spec, "cuff_size")
	stdout = mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	wantAll(t, "apply", stdout, "Recorded the applied snapshot in the database (exh_applied_snapshot)")
	if got := query[string](t, staging, "SELECT applied_by || ' ' || array_to_string(applied, ',') FROM exh_applied_snapshot ORDER BY id DESC LIMIT 1"); got != "ci-pipeline-7 project/0002_change.sql,project/0003_change_concurrently.sql" {
		t.Errorf("staging's latest record: %q", got)
	}
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 {
		t.Errorf("plan against staging after apply: exit %d\n%s", code, stdout)
	}

	// Production, planned from the same checkout, is behind: the field is
	// to be created, the migration written for staging is pending, and
	// schema.json is ahead of production's snapshot.
	useDB(t, prodURL)
	stdout = mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan against production", stdout,
		"Base: the snapshot applied to the database at ",
		" by ci-pipeline-7 (sha256 ",
		"Snapshot file: migrations/schema.json differs from the database's applied snapshot\n",
		"  ~ model.measurement.field.cuff_size: in migrations/schema.json, not in the database's applied snapshot\n",
		"      + field \"cuff_size\" {\n",
		"  project/0002_change.sql\n",
		"Plan: 1 to add, 0 to change, 0 to destroy.\n")
	if strings.Contains(stdout, "Drift") {
		t.Errorf("plan against production reports drift:\n%s", stdout)
	}

	// Offline, the base is schema.json, which matches the spec.
	t.Setenv("DATABASE_URL", "")
	stdout = mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "offline plan", stdout,
		"Base: migrations/schema.json, the last generated state (sha256 ",
		"  Offline: set DATABASE_URL to compare with the snapshot applied to the database instead.\n",
		"No changes.")

	useDB(t, prodURL)
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	if n := query[int](t, prod, "SELECT count(*) FROM exh_applied_snapshot"); n != 2 {
		t.Errorf("production has %d applied snapshots, want 2", n)
	}
	if !columnExists(t, prod, "data_measurement", "cuff_size") {
		t.Error("production did not get the field")
	}

	// A migration applied without apply (the backend applies its embedded
	// migrations at startup) is drift: the snapshot does not cover it.
	writeFile(t, filepath.Join(spec, "migrations", "0004_manual.sql"), "CREATE TABLE note (id int);\n")
	migs := app.CoreMigrations()
	for _, name := range []string{"0001_init.sql", "0002_change.sql", "0003_change_concurrently.sql", "0004_manual.sql"} {
		data, err := os.ReadFile(filepath.Join(spec, "migrations", name))
		if err != nil {
			t.Fatal(err)
		}
		migs = append(migs, db.Migration{Name: "project/" + name, SQL: string(data)})
	}
	if _, err := db.Migrate(t.Context(), prod, migs); err != nil {
		t.Fatal(err)
	}
	stdout = mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan after a migration applied outside apply", stdout,
		"  ! migration.project/0004_manual.sql: applied after the last recorded apply")

	// A checkout that lacks a migration the database has.
	if err := os.Remove(filepath.Join(spec, "migrations", "0004_manual.sql")); err != nil {
		t.Fatal(err)
	}
	stdout = mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan from an older checkout", stdout,
		"  ! migration.project/0004_manual.sql: applied to the database, absent from the migrations directory")
}

// TestPlanBaseFallsBackWithoutARecord: a database migrated before
// snapshots were recorded is compared with schema.json, saying so; the
// next apply records one even with nothing else to do.
func TestPlanBaseFallsBackWithoutARecord(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	if _, err := pool.Exec(t.Context(), "DELETE FROM exh_applied_snapshot"); err != nil {
		t.Fatal(err)
	}
	stdout := mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan without a record", stdout,
		"Base: migrations/schema.json, the last generated state",
		"The database holds project migrations but no applied snapshot",
		"No changes.")
	stdout = mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	wantAll(t, "apply without changes", stdout, "0 migrations applied.\nRecorded the applied snapshot")
	if n := query[int](t, pool, "SELECT count(*) FROM exh_applied_snapshot"); n != 1 {
		t.Errorf("%d applied snapshots, want 1", n)
	}
	wantAll(t, "plan", mustCLI(t, "plan", spec, "-o", out), "Base: the snapshot applied to the database at ")
}

// TestPlanRoleHolders: removing a role stored users hold, or a permission
// from one, is flagged with the number of holders; apply needs
// -allow-destructive for it, and applies with it.
func TestPlanRoleHolders(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	_, err := pool.Exec(t.Context(), `INSERT INTO users (id, email, email_key, language, roles, created_at, updated_at)
		SELECT gen_random_uuid(), 'u' || i || '@example.com', 'u' || i || '@example.com', 'en',
		       CASE WHEN i <= 2 THEN '{data_steward}'::text[] ELSE '{clinician}'::text[] END, now(), now()
		FROM generate_series(1, 5) i`)
	if err != nil {
		t.Fatal(err)
	}
	roles := filepath.Join(spec, "roles.hcl")
	src := readFile(t, roles)
	start := strings.Index(src, "# A support role across clinics")
	end := strings.Index(src, "# Roles a user holds within one clinic")
	if start < 0 || end < start {
		t.Fatal("roles.hcl has no data_steward block where expected")
	}
	src = src[:start] + src[end:]
	src = strings.Replace(src, `permissions = ["users:read"]`, `permissions = []`, 1)
	writeFile(t, roles, src)

	stdout := mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan", stdout,
		"  ! 2 users with the role \"data_steward\", which is removed (e.g. ",
		"  ! 3 users with the role \"clinician\", which loses \"users:read\" (e.g. ",
		"Users: 5 stored users hold roles this plan removes or takes permissions from; apply needs -allow-destructive.\n")
	if strings.Contains(stdout, "apply would fail") {
		t.Errorf("role holders counted as violations:\n%s", stdout)
	}
	code, _, stderr := cli(t, "apply", spec, "-o", out, "-auto-approve")
	if code != 1 || !strings.Contains(stderr, "takes roles or permissions from stored users") {
		t.Errorf("apply without -allow-destructive: exit %d: %s", code, stderr)
	}
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve", "-allow-destructive")
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply: exit %d\n%s", code, stdout)
	}
}

// TestApplySetNotNull: making a field of a populated table required goes
// through the helper check (validated outside the transaction) so SET NOT
// NULL does not scan under an exclusive lock; afterwards the column is NOT
// NULL, the stored nulls have the default and the helper is gone.
func TestApplySetNotNull(t *testing.T) {
	pool := planDB(t)
	spec, out := clinicSpec(t), t.TempDir()
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	seed(t, pool, 6)
	if _, err := pool.Exec(t.Context(), "UPDATE data_measurement SET pulse = NULL WHERE systolic % 2 = 0"); err != nil {
		t.Fatal(err)
	}
	editSpec(t, spec, "measurement.hcl", "    description = \"Heart rate in beats per minute.\"\n", "    description = \"Heart rate in beats per minute.\"\n    required    = true\n    default     = 70\n")
	stdout := mustCLI(t, "plan", spec, "-o", out)
	wantAll(t, "plan", stdout,
		`      ALTER TABLE "data_measurement" ADD CONSTRAINT "data_measurement_pulse_not_null" CHECK ("pulse" IS NOT NULL) NOT VALID;`,
		`      ALTER TABLE "data_measurement" ALTER COLUMN "pulse" SET NOT NULL;`,
		`      ALTER TABLE "data_measurement" DROP CONSTRAINT IF EXISTS "data_measurement_pulse_not_null";`)
	mustCLI(t, "apply", spec, "-o", out, "-auto-approve")
	if got := query[string](t, pool, `SELECT (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'data_measurement'::regclass AND attname = 'pulse')::text
		|| ' ' || (SELECT count(*) FROM data_measurement WHERE pulse = 70)
		|| ' ' || (SELECT count(*) FROM pg_constraint WHERE conname = 'data_measurement_pulse_not_null')`); got != "true 3 0" {
		t.Errorf("NOT NULL, backfilled, helpers = %q, want \"true 3 0\"", got)
	}
	if code, stdout, _ := cli(t, "plan", spec, "-o", out, "-detailed-exitcode"); code != 0 {
		t.Errorf("plan after apply (drift?): exit %d\n%s", code, stdout)
	}
}
