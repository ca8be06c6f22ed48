package document

import (
	"crypto/md5"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/exhgen/exhgen/runtime/auth"
)

// planNode is one node of EXPLAIN (FORMAT JSON) output.
type planNode struct {
	NodeType     string     `json:"Node Type"`
	RelationName string     `json:"Relation Name"`
	IndexName    string     `json:"Index Name"`
	Plans        []planNode `json:"Plans"`
}

// walk calls fn for n and every node below it.
func (n planNode) walk(fn func(planNode)) {
	fn(n)
	for _, c := range n.Plans {
		c.walk(fn)
	}
}

// md5UUID is PostgreSQL's md5(s)::uuid.
func md5UUID(s string) uuid.UUID { return uuid.UUID(md5.Sum([]byte(s))) }

// TestListUsesIndexes: with the indexes the generator emits and enough rows
// for a sequential scan to cost more than an index, the access-filtered
// list, count and get use the indexes (linked_users through the GIN index
// on user_ids, which "= ANY(user_ids)" could not use).
func TestListUsesIndexes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := t.Context()
	// 20,000 documents: 1,000 creators with 20 each, and one linked user
	// per document out of 997 (about 20 each).
	if _, err := e.pool.Exec(ctx, `
		INSERT INTO data_measurement (id, creator_id, user_ids, group_ids, status_changed_at, created_at, updated_at, systolic, taken_at)
		SELECT gen_random_uuid(), md5((g % 1000)::text)::uuid, ARRAY[md5((g % 1000)::text)::uuid, md5('l' || (g % 997)::text)::uuid],
		       ARRAY[md5('g' || (g % 991)::text)::uuid],
		       ts, ts, ts, 120, ts
		FROM generate_series(1, 20000) AS g, LATERAL (SELECT timestamptz '2026-01-01' + g * interval '1 minute' AS ts) AS t`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pool.Exec(ctx, `ANALYZE data_measurement`); err != nil {
		t.Fatal(err)
	}
	var anyID uuid.UUID
	if err := e.pool.QueryRow(ctx, `SELECT id FROM data_measurement LIMIT 1`).Scan(&anyID); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name      string
		read      []string
		caller    uuid.UUID
		staffOf   []uuid.UUID // groups where the caller's group role holds data:measurement:read
		want      int         // readable documents
		wantIndex []string    // indexes list and count must use
	}{
		{"creator or linked, as creator", []string{RuleCreator, RuleLinkedUsers}, md5UUID("7"), nil, 20,
			[]string{"data_measurement_creator_id_idx", "data_measurement_user_ids_idx"}},
		{"creator or linked, as linked user", []string{RuleCreator, RuleLinkedUsers}, md5UUID("l7"), nil, 21,
			[]string{"data_measurement_creator_id_idx", "data_measurement_user_ids_idx"}},
		{"linked", []string{RuleLinkedUsers}, md5UUID("l7"), nil, 21, []string{"data_measurement_user_ids_idx"}},
		{"creator", []string{RuleCreator}, md5UUID("7"), nil, 20, []string{"data_measurement_creator_id_idx"}},
		{"linked group staff", []string{RuleLinkedGroupStaff}, uuid.New(), []uuid.UUID{md5UUID("g7"), md5UUID("g8")}, 42,
			[]string{"data_measurement_group_ids_idx"}},
		{"creator or linked group staff", []string{RuleCreator, RuleLinkedGroupStaff}, md5UUID("7"), []uuid.UUID{md5UUID("g7")}, 40,
			[]string{"data_measurement_creator_id_idx", "data_measurement_group_ids_idx"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			acc := ownerAccess
			acc.Read = tt.read
			svc, err := New(e.pool, testProject(measurementModel(acc)), nil)
			if err != nil {
				t.Fatal(err)
			}
			st := svc.models["measurement"].sql

			caller := &auth.Principal{UserID: tt.caller, GroupPermissions: map[uuid.UUID][]string{}}
			for _, g := range tt.staffOf {
				caller.GroupPermissions[g] = []string{"data:measurement:read"}
			}
			// The statements find the caller's documents.
			var l list
			if err := svc.List(as(ctx, caller), "measurement", "limit(100)", &l); err != nil {
				t.Fatalf("List: %v", err)
			}
			if l.Page.Total != tt.want || len(l.Data) != tt.want {
				t.Fatalf("List: total %d, %d items, want %d", l.Page.Total, len(l.Data), tt.want)
			}

			// The list statement holds the count; this is the count alone,
			// with the same condition.
			countArgs := newParams()
			cond, _ := svc.models["measurement"].access.read.cond(caller, countArgs)
			count := fmt.Sprintf("SELECT count(*) FROM data_measurement WHERE %s", cond)
			getArgs := newParams(anyID)
			getCond, _ := accessCond(caller, getArgs, svc.models["measurement"].access.read)
			listSQL, listArgs, err := svc.ListStatement("measurement", "limit(20)", caller)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				name string
				sql  string
				args []any
			}{
				{"list", listSQL, listArgs},
				{"count", count, countArgs.args},
				{"get", st.get.with(getCond), getArgs.args},
			} {
				if q.sql == "" {
					t.Fatalf("%s: no filtered statement", q.name)
				}
				var raw []byte
				if err := e.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q.sql, q.args...).Scan(&raw); err != nil {
					t.Fatalf("%s: EXPLAIN: %v", q.name, err)
				}
				var plans []struct{ Plan planNode }
				if err := json.Unmarshal(raw, &plans); err != nil || len(plans) != 1 {
					t.Fatalf("%s: plan %s: %v", q.name, raw, err)
				}
				var indexes []string
				plans[0].Plan.walk(func(n planNode) {
					if n.NodeType == "Seq Scan" && n.RelationName == "data_measurement" {
						t.Errorf("%s: sequential scan of the table:\n%s", q.name, raw)
					}
					if n.IndexName != "" {
						indexes = append(indexes, n.IndexName)
					}
				})
				if len(indexes) == 0 {
					t.Errorf("%s: no index used:\n%s", q.name, raw)
				}
				if q.name != "get" {
					for _, ix := range tt.wantIndex {
						if !slices.Contains(indexes, ix) {
							t.Errorf("%s: %s not used (used %s):\n%s", q.name, ix, strings.Join(indexes, ", "), raw)
						}
					}
				}
			}
		})
	}
}
