package rql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/db/dbtest"
	"github.com/exhgen/exhgen/runtime/project"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// testModel has a field of every type: typed columns, an object, an array
// of scalars and an array of objects.
func testModel() *project.Model {
	return &project.Model{
		Name: "reading", Table: "data_reading",
		List: project.List{DefaultLimit: 3, MaxLimit: 5},
		Fields: []project.Field{
			{Name: "systolic", Type: Integer, SQLType: "bigint", Indexed: true, Required: true},
			{Name: "weight", Type: Number, SQLType: "double precision"},
			{Name: "note", Type: String, SQLType: "text"},
			{Name: "email", Type: Email, SQLType: "text"},
			{Name: "ok", Type: Boolean, SQLType: "boolean"},
			{Name: "taken_at", Type: DateTime, SQLType: "timestamptz", Indexed: true},
			{Name: "born", Type: Date, SQLType: "date"},
			{Name: "ref", Type: UUID, SQLType: "uuid"},
			{Name: "device", Type: Object, SQLType: "jsonb", Fields: []project.Field{
				{Name: "serial", Type: String}, {Name: "rev", Type: Integer}, {Name: "made", Type: Date},
				{Name: "seen", Type: DateTime}, {Name: "new", Type: Boolean},
			}},
			{Name: "tags", Type: Array, SQLType: "jsonb", Items: &project.Field{Type: String}},
			{Name: "samples", Type: Array, SQLType: "jsonb", Items: &project.Field{Type: Object, Fields: []project.Field{
				{Name: "ms", Type: Integer}, {Name: "p", Type: Number}, {Name: "at", Type: DateTime}, {Name: "flag", Type: String},
			}}},
		},
	}
}

const readingDDL = `
CREATE TABLE data_reading (
  id uuid PRIMARY KEY, creator_id uuid NOT NULL, user_ids uuid[] NOT NULL DEFAULT '{}',
  group_ids uuid[] NOT NULL DEFAULT '{}', status text NOT NULL DEFAULT 'active',
  status_changed_at timestamptz NOT NULL DEFAULT now(), created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(), version bigint NOT NULL DEFAULT 1,
  systolic bigint NOT NULL, weight double precision, note text, email text, ok boolean,
  taken_at timestamptz, born date, ref uuid, device jsonb, tags jsonb, samples jsonb);
CREATE INDEX data_reading_systolic_idx ON data_reading (systolic);
CREATE INDEX data_reading_taken_at_idx ON data_reading (taken_at);
CREATE INDEX data_reading_created_at_idx ON data_reading (created_at DESC, id DESC);
CREATE INDEX data_reading_user_ids_idx ON data_reading USING gin (user_ids);
CREATE INDEX data_reading_tags_idx ON data_reading USING gin (tags);
CREATE INDEX data_reading_samples_idx ON data_reading USING gin (samples);
CREATE INDEX data_reading_device_idx ON data_reading USING gin (device);
`

// Rows 1..6; id n is 00000000-0000-0000-0000-00000000000n, created n days in.
const readingRows = `
INSERT INTO data_reading (id, creator_id, user_ids, status, created_at, systolic, weight, note, email, ok, taken_at, born, ref, device, tags, samples) VALUES
 ('00000000-0000-0000-0000-000000000001','aaaaaaaa-0000-0000-0000-000000000001','{aaaaaaaa-0000-0000-0000-000000000001}','new','2026-01-01',
  120, 70.5, 'Morning (after coffee)', 'a@x.io', true, '2026-01-01T08:00:00Z', '1980-05-01', 'bbbbbbbb-0000-0000-0000-000000000001',
  '{"serial":"BP-1","rev":3,"made":"2024-01-01","seen":"2026-01-01T10:00:00+02:00","new":true}', '["morning","home"]',
  '[{"ms":0,"p":80.5,"at":"2026-01-01T08:00:00Z","flag":"ok"},{"ms":10,"p":140,"at":"2026-01-01T08:00:10Z","flag":"high"}]'),
 ('00000000-0000-0000-0000-000000000002','aaaaaaaa-0000-0000-0000-000000000002','{aaaaaaaa-0000-0000-0000-000000000002,aaaaaaaa-0000-0000-0000-000000000001}','new','2026-01-02',
  145, 82, 'evening 100%', 'b@x.io', false, '2026-01-02T20:00:00+01:00', '1990-12-31', NULL,
  '{"serial":"BP-2","rev":4,"made":"2025-06-01","seen":"2026-01-02T00:00:00Z","new":false}', '["evening"]',
  '[{"ms":0,"p":150,"at":"2026-01-02T19:00:00Z","flag":"high"}]'),
 ('00000000-0000-0000-0000-000000000003','aaaaaaaa-0000-0000-0000-000000000001','{}','reviewed','2026-01-03',
  160, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 ('00000000-0000-0000-0000-000000000004','aaaaaaaa-0000-0000-0000-000000000003','{aaaaaaaa-0000-0000-0000-000000000003}','new','2026-01-04',
  90, 60.25, 'string:odd', 'c@y.io', true, '2026-01-04T08:00:00Z', '2000-02-29', 'bbbbbbbb-0000-0000-0000-000000000004',
  '{"serial":"X_1"}', '[]', '[]'),
 ('00000000-0000-0000-0000-000000000005','aaaaaaaa-0000-0000-0000-000000000003','{}','new','2026-01-05',
  120, 70.5, '140', 'd@y.io', false, '2026-01-05T08:00:00Z', NULL, NULL,
  '{"serial":"140","rev":140}', '["140","home"]', '[{"ms":5,"flag":"low"}]'),
 ('00000000-0000-0000-0000-000000000006','aaaaaaaa-0000-0000-0000-000000000001','{}','new','2026-01-06',
  200, 99.9, 'a_b', 'e@z.io', true, '2026-01-06T08:00:00Z', '1970-01-01', NULL,
  '{"serial":"BP-6","rev":3}', '["night","morning"]', '[{"ms":0,"p":90,"flag":"ok"},{"ms":20,"p":95,"flag":"low"}]');
ANALYZE data_reading;
`

func setup(t *testing.T) (*pgxpool.Pool, *Schema) {
	t.Helper()
	pool := dbtest.New(t)
	if _, err := pool.Exec(context.Background(), readingDDL+readingRows); err != nil {
		t.Fatal(err)
	}
	s, err := FromModel(testModel())
	if err != nil {
		t.Fatal(err)
	}
	return pool, s
}

// run compiles raw and returns the ids (their last digit) in page order.
func run(ctx context.Context, pool *pgxpool.Pool, s *Schema, raw string) (string, error) {
	q, err := Parse(raw)
	if err != nil {
		return "", err
	}
	c, err := s.Compile(q, 3)
	if err != nil {
		return "", err
	}
	sql := fmt.Sprintf("SELECT right(id::text, 1) FROM data_reading WHERE %s AND $1::int = $1::int ORDER BY %s LIMIT $2::bigint OFFSET %d", c.Where, c.OrderBy, c.Offset)
	rows, err := pool.Query(ctx, sql, append([]any{0, c.Limit}, c.Args...)...)
	if err != nil {
		return "", fmt.Errorf("%s: %w", sql, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		ids = append(ids, id)
	}
	return strings.Join(ids, ""), rows.Err()
}

// TestIN4_CompileAgainstDatabase runs every operator on every field type
// against real rows. want is the ids in page order: with no sort the
// default is newest first (6…1), and the default limit is 3, so most
// cases add limit(5) (the maximum).
func TestIN4_CompileAgainstDatabase(t *testing.T) {
	t.Parallel()
	pool, s := setup(t)
	ctx := context.Background()
	tests := []struct{ q, want string }{
		// paging and clamping
		{"", "654"},
		{"limit(2)", "65"},
		{"limit(2,2)", "43"},
		{"limit(50)", "65432"},
		{"limit(5,5)", "1"},
		{"sort(+created_at)", "123"},
		// integer column
		{"eq(systolic,120)&limit(5)", "51"},
		{"eq(data.systolic,120)&limit(5)", "51"},
		{"ne(systolic,120)&limit(5)", "6432"},
		{"gt(systolic,145)", "63"},
		{"ge(systolic,145)", "632"},
		{"lt(systolic,120)", "4"},
		{"le(systolic,120)", "541"},
		{"gt(systolic,144.5)", "632"},
		{"le(systolic,120.5)", "541"},
		{"eq(systolic,120.5)", ""},
		{"lt(systolic,99999999999999999999)&limit(5)", "65432"},
		{"gt(systolic,99999999999999999999)", ""},
		{"in(systolic,90,200,1.5)", "64"},
		{"out(systolic,(90,200))&limit(5)", "5321"},
		// number column
		{"eq(weight,70.5)", "51"},
		{"gt(weight,80)", "62"},
		{"in(weight,60.25,82)", "42"},
		{"eq(weight,null)", "3"},
		{"ne(weight,null)&limit(5)", "65421"},
		// string column: guessed number compared as text, string: prefix, like
		{"eq(note,140)", "5"},
		{"eq(note,string:140)", "5"},
		{"eq(note,string:string:odd)", "4"},
		{"eq(note,Morning%2520%2528after%2520coffee%2529)", "1"},
		{"like(note,MORNING)", "1"},
		{"like(note,100%2525)", "2"},
		{"like(note,a_b)", "6"},
		{"like(note,_)", "6"},
		{"in(note,140,a_b)", "65"},
		{"out(note,140)&limit(5)", "64321"},
		{"eq(note,null)", "3"},
		{"gt(note,m)&sort(note)", "4"},
		{"like(email,%2540y.io)", "54"},
		// boolean
		{"eq(ok,true)", "641"},
		{"eq(ok,false)", "52"},
		{"ne(ok,true)&limit(5)", "532"},
		// date-time column: instants, dates as midnight UTC
		{"eq(taken_at,2026-01-02T19:00:00Z)", "2"},
		{"gt(taken_at,2026-01-04)", "654"},
		{"lt(taken_at,2026-01-02T20:00:00%252B02:00)", "1"},
		// date column
		{"lt(born,1985-01-01)", "61"},
		{"eq(born,2000-02-29)", "4"},
		// uuid column and system fields
		{"eq(ref,bbbbbbbb-0000-0000-0000-000000000004)", "4"},
		{"eq(id,00000000-0000-0000-0000-000000000002)", "2"},
		{"eq(status,reviewed)", "3"},
		{"eq(creator_id,aaaaaaaa-0000-0000-0000-000000000003)", "54"},
		{"gt(created_at,2026-01-04)", "65"},
		{"eq(version,1)&limit(1)", "6"},
		// uuid[] column: eq is contains, in is any element in
		{"eq(user_ids,aaaaaaaa-0000-0000-0000-000000000001)", "21"},
		{"ne(user_ids,aaaaaaaa-0000-0000-0000-000000000001)&limit(5)", "6543"},
		{"in(user_ids,aaaaaaaa-0000-0000-0000-000000000002,aaaaaaaa-0000-0000-0000-000000000003)", "42"},
		{"out(user_ids,aaaaaaaa-0000-0000-0000-000000000001)&limit(5)", "6543"},
		{"eq(user_ids.1,aaaaaaaa-0000-0000-0000-000000000001)", "2"},
		{"contains(user_ids.1)", "2"},
		{"excludes(user_ids.0)", "653"},
		// object (jsonb) fields
		{"eq(device.serial,BP-2)", "2"},
		{"eq(device.serial,140)", "5"},
		{"eq(device.rev,3)", "61"},
		{"eq(device.rev,3.0)", "61"},
		{"ne(device.rev,3)&limit(5)", "5432"},
		{"gt(device.rev,3)", "52"},
		{"le(device.rev,3)", "61"},
		{"in(device.serial,BP-1,BP-6)", "61"},
		{"out(device.serial,BP-1,BP-6)&limit(5)", "5432"},
		{"like(device.serial,bp)", "621"},
		{"like(device.serial,_)", "4"},
		{"eq(device.new,true)", "1"},
		{"eq(device.made,2025-06-01)", "2"},
		{"gt(device.made,2024-06-01)", "2"},
		{"eq(device.seen,2026-01-01T08:00:00Z)", "1"},
		{"lt(device.seen,2026-01-01T23:00:00Z)", "1"},
		{"eq(device.rev,null)", "43"},
		{"ne(device.rev,null)", "652"},
		{"contains(device.rev)", "652"},
		{"excludes(device.rev)", "43"},
		{"contains(device)&limit(5)", "65421"},
		{"excludes(device)", "3"},
		// array of scalars (jsonb): eq contains, ne does not contain, in/out any/none
		{"eq(tags,morning)", "61"},
		{"eq(tags,140)", "5"},
		{"ne(tags,morning)&limit(5)", "5432"},
		{"in(tags,night,evening)", "62"},
		{"out(tags,home,night)&limit(5)", "432"},
		{"like(tags,ORN)", "61"},
		{"gt(tags,n)", "6"},
		{"eq(tags.0,night)", "6"},
		{"eq(tags.1,morning)", "6"},
		{"contains(tags.1)", "651"},
		{"excludes(tags.0)", "43"},
		{"contains(tags,home)", "51"},
		{"contains(tags,home,morning)", "1"},
		{"excludes(tags,home)&limit(5)", "6432"},
		// array of objects: dot paths mean some element
		{"eq(samples.flag,high)", "21"},
		{"eq(samples.p,140)", "1"},
		{"gt(samples.p,145)", "2"},
		{"lt(samples.p,85)", "1"},
		{"like(samples.flag,LO)", "65"},
		{"gt(samples.at,2026-01-02T00:00:00Z)", "2"},
		{"eq(samples.1.flag,low)", "6"},
		{"contains(samples.p)", "621"},
		{"excludes(samples.p)", "543"},
		{"contains(samples.1)", "61"},
		// contains(path, cond): all parts on the same element
		{"contains(samples,and(eq(flag,ok),gt(p,85)))", "6"},
		{"contains(samples,and(eq(flag,high),lt(p,145)))", "1"},
		{"and(eq(samples.flag,high),lt(samples.p,145))", "1"},
		{"and(eq(samples.flag,ok),ge(samples.p,140))", "1"},
		{"contains(samples,and(eq(flag,ok),ge(p,140)))", ""},
		{"excludes(samples,eq(flag,high))&limit(5)", "6543"},
		{"contains(samples,or(eq(ms,5),gt(p,149)))", "52"},
		// logic
		{"or(eq(systolic,90),eq(systolic,200))", "64"},
		{"and(gt(systolic,100),or(eq(arm_missing_is_fine,1)))", "ERR"},
		{"and(gt(systolic,100),lt(systolic,150))&sort(systolic,-id)", "512"},
		// sorting on several keys, nested keys, id tie-break
		{"sort(systolic)&limit(5)", "41523"},
		{"sort(-systolic)&limit(5)", "63251"},
		{"sort(weight,-created_at)&limit(5)", "45126"},
		{"sort(-device.rev,systolic)&limit(5)", "43521"},
		{"sort(device.serial)&limit(5)", "51264"},
		{"sort(tags.0)&limit(5)", "52163"},
		{"sort(status,-systolic)&limit(5)", "62514"},
		{"select(note,device.serial)&eq(id,00000000-0000-0000-0000-000000000001)", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			got, err := run(ctx, pool, s, tt.q)
			if tt.want == "ERR" {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ids %q, want %q", got, tt.want)
			}
		})
	}
}

// TestIN4_CompileErrors: unknown fields name the nearest one; operators
// and values that do not fit the field are 400s with stable codes.
func TestIN4_CompileErrors(t *testing.T) {
	t.Parallel()
	s, err := FromModel(testModel())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ q, code, msg string }{
		{"eq(systolc,1)", CodeUnknownField, `"systolic"`},
		{"eq(device.serail,1)", CodeUnknownField, `did you mean "serial"`},
		{"eq(data.nope,1)", CodeUnknownField, `"nope"`},
		{"eq(tags.x,1)", CodeUnknownField, `"x"`},
		{"eq(systolic.x,1)", CodeUnknownField, `"x"`},
		{"eq(user_ids.x,1)", CodeUnknownField, `"x"`},
		{"eq(systolic,abc)", CodeInvalidValue, "number"},
		{"eq(systolic,string:1)", CodeInvalidValue, "number"},
		{"eq(ok,1)", CodeInvalidValue, "true or false"},
		{"eq(ref,123)", CodeInvalidValue, "UUID"},
		{"eq(born,2026-01-01T00:00:00Z)", CodeInvalidValue, "date"},
		{"gt(taken_at,yesterday)", CodeInvalidValue, "date-time"},
		{"gt(note,null)", CodeInvalidValue, "null"},
		{"in(note,a,null)", CodeInvalidValue, "null"},
		{"like(systolic,1)", CodeUnsupported, "string"},
		{"eq(device,1)", CodeUnsupported, "object"},
		{"eq(samples,1)", CodeUnsupported, "array"},
		{"contains(tags,eq(x,1))", CodeUnsupported, "array of objects"},
		{"contains(note,x)", CodeUnsupported, "array"},
		{"contains(samples,eq(nope,1))", CodeUnknownField, "nope"},
		{"sort(tags)", CodeUnsupported, "sort"},
		{"sort(samples.p)", CodeUnsupported, "sort"},
		{"sort(nope)", CodeUnknownField, "nope"},
		{"select(nope)", CodeUnknownField, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			q, err := Parse(tt.q)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Compile(q, 1)
			var e *Error
			if !errors.As(err, &e) || e.Code != tt.code || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("Compile(%q) = %v, want code %s mentioning %s", tt.q, err, tt.code, tt.msg)
			}
			if e.Pos < 0 || e.Pos >= len(tt.q) {
				t.Errorf("position %d outside the query", e.Pos)
			}
		})
	}
}

func TestCompileSelectAndLimits(t *testing.T) {
	t.Parallel()
	s, err := FromModel(testModel())
	if err != nil {
		t.Fatal(err)
	}
	q, _ := Parse("select(note,device.serial,data.note)&limit(500,7)&skipCount()")
	c, err := s.Compile(q, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Select, []string{"note", "device"}) || c.Limit != 5 || c.Offset != 7 || !c.SkipCount || c.Where != "TRUE" {
		t.Errorf("compiled %+v", c)
	}
	if c.OrderBy != `"created_at" DESC, "id" DESC` {
		t.Errorf("order by %s", c.OrderBy)
	}
}
