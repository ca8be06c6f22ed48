package generator

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/spec"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

func ptr[T any](v T) *T { return &v }

func noteModel() *spec.Model {
	return &spec.Model{Name: "note", Fields: []*spec.Field{
		{Name: "text", Type: spec.TypeString, Required: true, MaxLength: ptr(140)},
		{Name: "level", Type: spec.TypeInteger, Minimum: ptr(1.0), Maximum: ptr(5.0)},
		{Name: "kind", Type: spec.TypeString, Enum: []string{"a", "b"}},
	}}
}

func stepsSQL(steps []Step) string {
	var b strings.Builder
	for _, s := range steps {
		if s.Destructive {
			b.WriteString("!")
		}
		if s.Concurrent {
			b.WriteString("&")
		}
		b.WriteString(s.SQL)
		b.WriteString("\n")
	}
	return b.String()
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := &spec.Project{Name: "p", Models: []*spec.Model{noteModel()}}
	changed := func(edit func(m *spec.Model)) *spec.Project {
		m := noteModel()
		edit(m)
		return &spec.Project{Name: "p", Models: []*spec.Model{m}}
	}
	tests := []struct {
		name string
		to   *spec.Project
		want string
	}{
		{"unchanged", base, ""},
		{"add optional field", changed(func(m *spec.Model) {
			m.Fields = append(m.Fields, &spec.Field{Name: "seen", Type: spec.TypeBoolean})
		}), `ALTER TABLE "data_note" ADD COLUMN "seen" boolean;` + "\n"},
		{"add indexed field", changed(func(m *spec.Model) {
			m.Fields = append(m.Fields, &spec.Field{Name: "at", Type: spec.TypeDateTime, Indexed: true})
		}), `ALTER TABLE "data_note" ADD COLUMN "at" timestamptz;` + "\n" +
			`&DROP INDEX CONCURRENTLY IF EXISTS "data_note_at_idx";` + "\n" +
			`CREATE INDEX CONCURRENTLY "data_note_at_idx" ON "data_note" ("at");` + "\n"},
		{"drop field", changed(func(m *spec.Model) { m.Fields = m.Fields[:2] }),
			`ALTER TABLE "data_note" DROP CONSTRAINT "data_note_kind_check";` + "\n" +
				`!ALTER TABLE "data_note" DROP COLUMN "kind";` + "\n"},
		{"change enum", changed(func(m *spec.Model) { m.Fields[2].Enum = []string{"a", "b", "it's"} }),
			`ALTER TABLE "data_note" DROP CONSTRAINT "data_note_kind_check";` + "\n" +
				`ALTER TABLE "data_note" ADD CONSTRAINT "data_note_kind_check" CHECK ("kind" IN ('a', 'b', 'it''s')) NOT VALID;` + "\n" +
				`&ALTER TABLE "data_note" VALIDATE CONSTRAINT "data_note_kind_check";` + "\n"},
		{"make required", changed(func(m *spec.Model) { m.Fields[1].Required = true }),
			`ALTER TABLE "data_note" ADD CONSTRAINT "data_note_level_not_null" CHECK ("level" IS NOT NULL) NOT VALID;` + "\n" +
				`&-- data_note.level becomes NOT NULL: the validated helper check spares SET NOT NULL its scan.` + "\n" +
				`DO $$ BEGIN IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"data_note"'::regclass AND conname = 'data_note_level_not_null') THEN ALTER TABLE "data_note" VALIDATE CONSTRAINT "data_note_level_not_null"; END IF; END $$;` + "\n" +
				`&ALTER TABLE "data_note" ALTER COLUMN "level" SET NOT NULL;` + "\n" +
				`&ALTER TABLE "data_note" DROP CONSTRAINT IF EXISTS "data_note_level_not_null";` + "\n"},
		{"change type", changed(func(m *spec.Model) { m.Fields[1].Type = spec.TypeNumber }),
			`ALTER TABLE "data_note" ALTER COLUMN "level" TYPE double precision USING "level"::double precision;` + "\n"},
		{"narrow type", changed(func(m *spec.Model) { m.Fields[2].Type = spec.TypeInteger; m.Fields[2].Enum = nil }),
			`ALTER TABLE "data_note" DROP CONSTRAINT "data_note_kind_check";` + "\n" +
				`!ALTER TABLE "data_note" ALTER COLUMN "kind" TYPE bigint USING "kind"::bigint;` + "\n"},
		{"replace type", changed(func(m *spec.Model) {
			m.Fields[1].Type, m.Fields[1].Minimum, m.Fields[1].Maximum = spec.TypeObject, nil, nil
			m.Fields[1].Fields = []*spec.Field{{Name: "x", Type: spec.TypeString}}
		}),
			`ALTER TABLE "data_note" DROP CONSTRAINT "data_note_level_check";` + "\n" +
				`!ALTER TABLE "data_note" DROP COLUMN "level";` + "\n" +
				`ALTER TABLE "data_note" ADD COLUMN "level" jsonb;` + "\n" +
				`ALTER TABLE "data_note" ADD CONSTRAINT "data_note_level_check" CHECK (jsonb_typeof("level") = 'object') NOT VALID;` + "\n" +
				`&ALTER TABLE "data_note" VALIDATE CONSTRAINT "data_note_level_check";` + "\n"},
		{"rename field", changed(func(m *spec.Model) { m.Fields[2].Name, m.Fields[2].RenamedFrom = "sort", "kind" }),
			`ALTER TABLE "data_note" RENAME COLUMN "kind" TO "sort";` + "\n" +
				`ALTER TABLE "data_note" RENAME CONSTRAINT "data_note_kind_check" TO "data_note_sort_check";` + "\n"},
		{"rename indexed field", changed(func(m *spec.Model) {
			m.Fields[1].Name, m.Fields[1].RenamedFrom, m.Fields[1].Indexed = "grade", "level", true
		}),
			`ALTER TABLE "data_note" RENAME COLUMN "level" TO "grade";` + "\n" +
				`ALTER TABLE "data_note" RENAME CONSTRAINT "data_note_level_check" TO "data_note_grade_check";` + "\n" +
				`&DROP INDEX CONCURRENTLY IF EXISTS "data_note_grade_idx";` + "\n" +
				`CREATE INDEX CONCURRENTLY "data_note_grade_idx" ON "data_note" ("grade");` + "\n"},
		{"add required with default", changed(func(m *spec.Model) {
			m.Fields = append(m.Fields, &spec.Field{Name: "lang", Type: spec.TypeString, Required: true, Default: "en"})
		}), `ALTER TABLE "data_note" ADD COLUMN "lang" text NOT NULL DEFAULT 'en';` + "\n"},
		{"make required with default", changed(func(m *spec.Model) { m.Fields[1].Required, m.Fields[1].Default = true, 3.0 }),
			`ALTER TABLE "data_note" ALTER COLUMN "level" SET DEFAULT 3;` + "\n" +
				`UPDATE "data_note" SET "level" = 3 WHERE "level" IS NULL;` + "\n" +
				`ALTER TABLE "data_note" ADD CONSTRAINT "data_note_level_not_null" CHECK ("level" IS NOT NULL) NOT VALID;` + "\n" +
				`&-- data_note.level becomes NOT NULL: the validated helper check spares SET NOT NULL its scan.` + "\n" +
				`DO $$ BEGIN IF EXISTS (SELECT FROM pg_constraint WHERE conrelid = '"data_note"'::regclass AND conname = 'data_note_level_not_null') THEN ALTER TABLE "data_note" VALIDATE CONSTRAINT "data_note_level_not_null"; END IF; END $$;` + "\n" +
				`&ALTER TABLE "data_note" ALTER COLUMN "level" SET NOT NULL;` + "\n" +
				`&ALTER TABLE "data_note" DROP CONSTRAINT IF EXISTS "data_note_level_not_null";` + "\n"},
		{"drop model", &spec.Project{Name: "p"}, `!DROP TABLE "data_note";` + "\n"},
		{"rename model", func() *spec.Project {
			m := noteModel()
			m.Name, m.RenamedFrom = "memo", "note"
			return &spec.Project{Name: "p", Models: []*spec.Model{m}}
		}(),
			`ALTER TABLE "data_note" RENAME TO "data_memo";` + "\n" +
				`ALTER INDEX "data_note_pkey" RENAME TO "data_memo_pkey";` + "\n" +
				`ALTER INDEX "data_note_creator_id_idx" RENAME TO "data_memo_creator_id_idx";` + "\n" +
				`ALTER INDEX "data_note_user_ids_idx" RENAME TO "data_memo_user_ids_idx";` + "\n" +
				`ALTER INDEX "data_note_group_ids_idx" RENAME TO "data_memo_group_ids_idx";` + "\n" +
				`ALTER INDEX "data_note_created_at_idx" RENAME TO "data_memo_created_at_idx";` + "\n" +
				`ALTER TABLE "data_memo" RENAME CONSTRAINT "data_note_text_check" TO "data_memo_text_check";` + "\n" +
				`ALTER TABLE "data_memo" RENAME CONSTRAINT "data_note_level_check" TO "data_memo_level_check";` + "\n" +
				`ALTER TABLE "data_memo" RENAME CONSTRAINT "data_note_kind_check" TO "data_memo_kind_check";` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := stepsSQL(Diff(StorageSchema(base), StorageSchema(tt.to)))
			if got != tt.want {
				t.Errorf("Diff:\n got: %s\nwant: %s", got, tt.want)
			}
		})
	}
}

func TestIdentLength(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 41)
	id := ident("data_"+long, strings.Repeat("b", 51), "check")
	if len(id) > 63 {
		t.Fatalf("ident %q is %d bytes", id, len(id))
	}
	if id == ident("data_"+long, strings.Repeat("b", 50)+"c", "check") {
		t.Fatal("shortened identifiers collide")
	}
}

// TestMigrationsApply applies the example's generated migration and a
// follow-up change to a real database.
func TestMigrationsApply(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	p := loadSpec(t, "../examples/clinic")
	files, err := migrationFiles(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "migrations/0001_init.sql" {
		t.Fatalf("want 0001_init.sql and the snapshot, got %v", files)
	}
	migs := []db.Migration{{Name: "project/0001_init.sql", SQL: string(files[0].Data)}}
	if _, err := db.Migrate(ctx, pool, migs); err != nil {
		t.Fatalf("apply init: %v\n%s", err, files[0].Data)
	}
	// A changed spec diffs against the snapshot.
	m := p.Model("measurement")
	m.Fields = append(m.Fields, &spec.Field{Name: "cuff_size", Type: spec.TypeString, Enum: []string{"s", "m", "l"}})
	next, err := migrationFiles(p, []File{files[0]}, files[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 3 || next[0].Path != "migrations/0002_change.sql" || next[1].Path != "migrations/0003_change_concurrently.sql" {
		t.Fatalf("want 0002_change.sql and 0003_change_concurrently.sql, got %v", next)
	}
	migs = append(migs, db.Migration{Name: "project/0002_change.sql", SQL: string(next[0].Data)},
		db.Migration{Name: "project/0003_change_concurrently.sql", SQL: string(next[1].Data)})
	if _, err := db.Migrate(ctx, pool, migs); err != nil {
		t.Fatalf("apply change: %v\n%s", err, next[0].Data)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'data_measurement' AND column_name = 'cuff_size'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("cuff_size column: n=%d err=%v", n, err)
	}
	// The check constraints hold what the spec says.
	_, err = pool.Exec(ctx, `INSERT INTO data_measurement (id, creator_id, status_changed_at, created_at, updated_at, systolic, diastolic, taken_at)
		VALUES (gen_random_uuid(), gen_random_uuid(), now(), now(), now(), 500, 80, now())`)
	if err == nil {
		t.Fatal("systolic 500 was accepted by the table")
	}
	// Same spec again: nothing to write.
	none, err := migrationFiles(p, []File{files[0], next[0], next[1]}, next[2].Data)
	if err != nil || len(none) != 0 {
		t.Fatalf("unchanged spec wrote %v (err %v)", none, err)
	}
}

// TestSetNotNullGolden: making a populated column required writes the
// helper-check sequence (testdata/migrations/*.golden) and applying it
// backfills, validates without a long lock, sets NOT NULL and leaves no
// helper behind.
func TestSetNotNullGolden(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pool := dbtest.New(t)
	p := &spec.Project{Name: "p", Models: []*spec.Model{noteModel()}}
	files, err := migrationFiles(p, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	migs := []db.Migration{{Name: "project/0001_init.sql", SQL: string(files[0].Data)}}
	if _, err := db.Migrate(ctx, pool, migs); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `INSERT INTO data_note (id, creator_id, status_changed_at, created_at, updated_at, text, level)
		SELECT gen_random_uuid(), gen_random_uuid(), now(), now(), now(), 'n' || i, CASE WHEN i % 2 = 0 THEN 2 END FROM generate_series(1, 10) i`); err != nil {
		t.Fatal(err)
	}
	p.Models[0].Fields[1].Required, p.Models[0].Fields[1].Default = true, 3.0
	next, err := migrationFiles(p, files[:1], files[1].Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(next) != 3 {
		t.Fatalf("want a migration, a concurrent one and the snapshot, got %v", next)
	}
	got := map[string][]byte{}
	for _, f := range next[:2] {
		got[strings.TrimPrefix(f.Path, "migrations/")+".golden"] = f.Data
		migs = append(migs, db.Migration{Name: "project/" + strings.TrimPrefix(f.Path, "migrations/"), SQL: string(f.Data)})
	}
	compareGolden(t, filepath.Join("testdata", "migrations", "set_not_null"), got)
	if _, err := db.Migrate(ctx, pool, migs); err != nil {
		t.Fatal(err)
	}
	var nulls, threes, helpers int
	var notNull bool
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM data_note WHERE level IS NULL), (SELECT count(*) FROM data_note WHERE level = 3),
		(SELECT count(*) FROM pg_constraint WHERE conname = 'data_note_level_not_null'),
		(SELECT attnotnull FROM pg_attribute WHERE attrelid = 'data_note'::regclass AND attname = 'level')`).Scan(&nulls, &threes, &helpers, &notNull); err != nil {
		t.Fatal(err)
	}
	if nulls != 0 || threes != 5 || helpers != 0 || !notNull {
		t.Errorf("after apply: %d nulls, %d backfilled, %d helper checks, NOT NULL %v", nulls, threes, helpers, notNull)
	}
	// The concurrent migration is safe to run again (a run whose record
	// failed): the validation is skipped once the helper is gone.
	conc := migs[len(migs)-1]
	if _, err := db.Migrate(ctx, pool, []db.Migration{{Name: "project/rerun.sql", SQL: conc.SQL}}); err != nil {
		t.Errorf("running %s again: %v", conc.Name, err)
	}
}

func syntheticProject(models, fields int) *spec.Project {
	p := &spec.Project{Name: "synthetic", Title: "Synthetic"}
	types := []spec.FieldType{spec.TypeString, spec.TypeInteger, spec.TypeNumber, spec.TypeBoolean, spec.TypeDateTime, spec.TypeDate, spec.TypeUUID, spec.TypeEmail}
	for i := 0; i < models; i++ {
		m := &spec.Model{Name: fmt.Sprintf("model_%02d", i), Description: "A synthetic model."}
		for j := 0; j < fields; j++ {
			f := &spec.Field{Name: fmt.Sprintf("field_%02d", j), Type: types[j%len(types)], Required: j%3 == 0, Indexed: j == 1}
			m.Fields = append(m.Fields, f)
		}
		m.Fields = append(m.Fields, &spec.Field{Name: "extra", Type: spec.TypeObject, Fields: []*spec.Field{
			{Name: "a", Type: spec.TypeString, Required: true},
			{Name: "b", Type: spec.TypeArray, Items: &spec.Field{Type: spec.TypeInteger}},
		}})
		p.Models = append(p.Models, m)
	}
	return p
}

func BenchmarkGenerateClinic(b *testing.B) {
	opts := testOptions(b)
	for b.Loop() {
		p := loadSpec(b, "../examples/clinic")
		if _, err := Generate(p, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGenerate50Models(b *testing.B) {
	opts := testOptions(b)
	p := syntheticProject(50, 10)
	for b.Loop() {
		if _, err := Generate(p, opts); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSynthetic50Generates(t *testing.T) {
	t.Parallel()
	if _, err := Generate(syntheticProject(50, 10), testOptions(t)); err != nil {
		t.Fatal(err)
	}
}
