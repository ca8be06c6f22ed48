package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// These tests set DATABASE_URL, so they cannot run in parallel.

// lines returns the lines of s.
func lines(s string) []string { return strings.Split(strings.TrimSuffix(s, "\n"), "\n") }

// section returns the lines after the line header up to the next blank
// line.
func section(t *testing.T, out, header string) []string {
	t.Helper()
	ls := lines(out)
	for i, l := range ls {
		if l == header {
			var sec []string
			for _, s := range ls[i+1:] {
				if s == "" {
					break
				}
				sec = append(sec, s)
			}
			return sec
		}
	}
	t.Fatalf("no line %q in:\n%s", header, out)
	return nil
}

func TestPlanApply(t *testing.T) {
	spec, out := clinicSpec(t), t.TempDir()
	dbURL := dbtest.URL(t)
	t.Setenv("DATABASE_URL", dbURL)
	pool, err := db.Open(t.Context(), dbURL, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	core := app.CoreMigrations()

	tableExists := func(table string) bool {
		t.Helper()
		var ok bool
		if err := pool.QueryRow(t.Context(), "SELECT to_regclass($1) IS NOT NULL", table).Scan(&ok); err != nil {
			t.Fatal(err)
		}
		return ok
	}
	recorded := func() int {
		t.Helper()
		if !tableExists(db.MigrationsTable) {
			return 0
		}
		var n int
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+db.MigrationsTable).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// plan against a fresh database: every file to write, the core and
	// project migrations with their SQL; nothing written or applied.
	stdout := mustCLI(t, "plan", spec, "-o", out)
	if got := section(t, stdout, "Spec directory "+spec+":"); strings.Join(got, "\n") != "  + migrations/0001_init.sql\n  + migrations/schema.json" {
		t.Errorf("spec directory changes:\n%s", strings.Join(got, "\n"))
	}
	backendPlan := section(t, stdout, "Generated backend "+out+":")
	for _, want := range []string{"  + main.go", "  + go.mod", "  + project.json", "  + migrations/0001_init.sql"} {
		if !strings.Contains(strings.Join(backendPlan, "\n")+"\n", want+"\n") {
			t.Errorf("backend changes lack %q:\n%s", want, strings.Join(backendPlan, "\n"))
		}
	}
	if want := fmt.Sprintf("Migrations pending against DATABASE_URL: %d\n", len(core)+1); !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks %q", want)
	}
	var headers []string
	for _, l := range lines(stdout) {
		if name, ok := strings.CutPrefix(l, "--- "); ok {
			headers = append(headers, name)
		}
	}
	var wantHeaders []string
	for _, m := range core {
		wantHeaders = append(wantHeaders, m.Name)
		if !strings.Contains(stdout, m.SQL) {
			t.Errorf("plan does not show the SQL of %s", m.Name)
		}
	}
	wantHeaders = append(wantHeaders, "project/0001_init.sql")
	if strings.Join(headers, ",") != strings.Join(wantHeaders, ",") {
		t.Errorf("pending migrations listed %v, want %v", headers, wantHeaders)
	}
	if !strings.Contains(stdout, `CREATE TABLE "data_measurement"`) {
		t.Error("plan does not show the project migration's SQL")
	}
	if want := fmt.Sprintf("Plan: 2 spec files to write, %d backend files to change, %d migrations to apply.\n", len(backendPlan), len(core)+1); !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout)
	}
	if exists(filepath.Join(spec, "migrations")) || len(tree(t, out)) > 0 || recorded() != 0 {
		t.Fatal("plan wrote files or applied migrations")
	}

	// apply: generates and applies everything.
	stdout = mustCLI(t, "apply", spec, "-o", out)
	for _, m := range wantHeaders {
		if !strings.Contains(stdout, "applied "+m+"\n") {
			t.Errorf("apply did not report %s:\n%s", m, stdout)
		}
	}
	if want := fmt.Sprintf("Apply complete: %d migrations applied.\n", len(core)+1); !strings.HasSuffix(stdout, want) {
		t.Errorf("stdout does not end with %q:\n%s", want, stdout)
	}
	for _, table := range []string{"users", "data_measurement", "data_patient_profile"} {
		if !tableExists(table) {
			t.Errorf("table %s missing after apply", table)
		}
	}
	if !exists(filepath.Join(spec, "migrations", "0001_init.sql")) || !exists(filepath.Join(out, "main.go")) {
		t.Error("apply did not generate")
	}

	// Now everything is up to date.
	stdout = mustCLI(t, "plan", spec, "-o", out)
	golden(t, "plan_up_to_date.golden", strings.NewReplacer(spec, "$SPEC", out, "$OUT").Replace(stdout))
	stdout = mustCLI(t, "apply", spec, "-o", out)
	if !strings.HasSuffix(stdout, ", 0 changed\nApply complete: 0 migrations applied.\n") || strings.Contains(stdout, "wrote ") {
		t.Errorf("second apply:\n%q", stdout)
	}

	// An applied migration edited by hand is refused, naming the file
	// to restore; nothing is written or applied.
	t.Run("edited migration", func(t *testing.T) {
		specMig := filepath.Join(spec, "migrations", "0001_init.sql")
		original := readFile(t, specMig)
		writeFile(t, specMig, original+"\nALTER TABLE data_measurement ADD COLUMN sneaky text;\n")
		defer writeFile(t, specMig, original)
		addField(t, spec, "cuff_size") // would be 0002, must not be written
		defer func() {
			writeFile(t, filepath.Join(spec, "measurement.hcl"), readFile(t, filepath.Join("..", "..", "examples", "clinic", "measurement.hcl")))
		}()
		before, applied := tree(t, out), recorded()

		for _, cmd := range []string{"plan", "apply"} {
			code, stdout, stderr := cli(t, cmd, spec, "-o", out)
			if code != 1 {
				t.Errorf("%s: exit %d, want 1; stdout:\n%s", cmd, code, stdout)
			}
			msg := regexp.MustCompile(`^exhgen: migration project/0001_init\.sql was changed after it was applied \(recorded checksum [0-9a-f]{64}, now [0-9a-f]{64}\)\.\n` +
				`Applied migrations must never be edited: restore ` + regexp.QuoteMeta(specMig) + ` .*\n$`)
			if !msg.MatchString(stderr) {
				t.Errorf("%s: stderr does not explain the edited migration:\n%s", cmd, stderr)
			}
			if cmd == "apply" && !strings.Contains(stderr, "Nothing was written or applied.") {
				t.Errorf("apply: stderr does not say nothing was done:\n%s", stderr)
			}
		}
		if d := diffTrees(before, tree(t, out)); len(d) > 0 {
			t.Errorf("the refused apply changed the backend: %v", d)
		}
		if exists(filepath.Join(spec, "migrations", "0002_change.sql")) {
			t.Error("the refused apply wrote 0002_change.sql")
		}
		if recorded() != applied || columnExists(t, pool, "data_measurement", "sneaky") {
			t.Error("the refused apply applied something")
		}
	})

	// Restored, the spec change is planned and applied as migration 0002.
	addField(t, spec, "cuff_size")
	stdout = mustCLI(t, "plan", spec, "-o", out)
	if !strings.Contains(stdout, "  + migrations/0002_change.sql\n") || !strings.Contains(stdout, "Migrations pending against DATABASE_URL: 1\n") ||
		!strings.Contains(stdout, "--- project/0002_change.sql\n") {
		t.Errorf("plan after a spec change:\n%s", stdout)
	}
	stdout = mustCLI(t, "apply", spec, "-o", out)
	if !strings.Contains(stdout, "applied project/0002_change.sql\n") || !columnExists(t, pool, "data_measurement", "cuff_size") {
		t.Errorf("apply after a spec change:\n%s", stdout)
	}
}

func columnExists(t *testing.T, pool *pgxpool.Pool, table, column string) bool {
	t.Helper()
	var ok bool
	err := pool.QueryRow(t.Context(),
		"SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2)",
		table, column).Scan(&ok)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}
