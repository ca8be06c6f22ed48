package rql

import (
	"context"
	"crypto/md5"
	"fmt"
	"strings"
	"testing"
)

// explainRows fills data_reading with 20,000 generated rows (few of them
// matching the rare values the cases ask for) and ANALYZEs it, so the
// planner picks indexes on its own, without enable_seqscan=off.
const explainRows = `
INSERT INTO data_reading (id, creator_id, user_ids, created_at, systolic, note, taken_at, device, tags, samples)
SELECT md5(i::text)::uuid, md5('c' || (i % 50)::text)::uuid, ARRAY[md5('u' || i::text)::uuid],
       timestamptz '2026-01-01' + i * interval '1 minute', 40 + (i * 7919) % 261, 'note ' || i,
       timestamptz '2025-01-01' + i * interval '17 minutes',
       jsonb_build_object('serial', 'SN-' || i, 'rev', i % 5),
       CASE WHEN i % 5000 = 0 THEN '["rare","common"]'::jsonb ELSE '["common"]'::jsonb END,
       jsonb_build_array(jsonb_build_object('ms', 0, 'flag', CASE WHEN i % 4000 = 0 THEN 'odd' ELSE 'ok' END))
FROM generate_series(1, 20000) AS i;
ANALYZE data_reading;
`

// TestIN4_Explain asserts that queries on indexed fields use their index:
// btree for typed columns (comparison, in, sort), GIN for jsonb
// containment and uuid[] arrays.
func TestIN4_Explain(t *testing.T) {
	t.Parallel()
	pool, s := setup(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, explainRows); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ q, want string }{
		// The page query of a selective filter may rather walk the sort
		// order's index; the total (count) query must use the filter's.
		{"count eq(systolic,123)", "data_reading_systolic_idx"},
		{"count in(systolic,41,42,43)", "data_reading_systolic_idx"},
		{"count gt(systolic,298)", "data_reading_systolic_idx"},
		{"and(ge(taken_at,2025-03-01),lt(taken_at,2025-03-02))&sort(-taken_at)", "data_reading_taken_at_idx"},
		{"sort(-taken_at)&limit(20)", "Index Scan Backward using data_reading_taken_at_idx"},
		{"sort(systolic)&limit(20,40)", "Index Scan using data_reading_systolic_idx"},
		{"", "using data_reading_created_at_idx"},
		{"eq(tags,rare)", "Bitmap Index Scan on data_reading_tags_idx"},
		{"in(tags,rare,unknown)", "Bitmap Index Scan on data_reading_tags_idx"},
		{"eq(device.serial,SN-77)", "Bitmap Index Scan on data_reading_device_idx"},
		{"eq(samples.flag,odd)", "Bitmap Index Scan on data_reading_samples_idx"},
		{"eq(user_ids," + md5UUID("u7") + ")", "Bitmap Index Scan on data_reading_user_ids_idx"},
		{"eq(id," + md5UUID("7") + ")", "data_reading_pkey"},
	}
	for _, tt := range tests {
		t.Run(tt.q, func(t *testing.T) {
			t.Parallel()
			raw, count := strings.CutPrefix(tt.q, "count ")
			q, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			c, err := s.Compile(q, 3)
			if err != nil {
				t.Fatal(err)
			}
			sql := fmt.Sprintf("EXPLAIN SELECT id FROM data_reading WHERE %s ORDER BY %s LIMIT $1::bigint OFFSET $2::bigint", c.Where, c.OrderBy)
			if count {
				sql = fmt.Sprintf("EXPLAIN SELECT count(*) FROM data_reading WHERE %s AND ($1::bigint, $2::bigint) IS NOT NULL", c.Where)
			}
			rows, err := pool.Query(ctx, sql, append([]any{c.Limit, c.Offset}, c.Args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var plan []string
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, line)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if p := strings.Join(plan, "\n"); !strings.Contains(p, tt.want) {
				t.Errorf("plan does not use %s:\n%s", tt.want, p)
			}
		})
	}
}

// md5UUID is PostgreSQL's md5(s)::uuid.
func md5UUID(s string) string {
	h := fmt.Sprintf("%x", md5.Sum([]byte(s)))
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
