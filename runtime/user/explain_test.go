package user

import (
	"context"
	"strings"
	"testing"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/db/dbtest"
)

// TestIN4_ExplainUsersList asserts that the users list's indexed filters
// use their index: eq(email,…) the unique index on the email key (the
// value folded as the key is), eq(roles,…) the GIN index on roles. 20,000
// generated users, ANALYZEd, so the planner chooses on its own.
func TestIN4_ExplainUsersList(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	if _, err := db.Migrate(ctx, pool, Migrations()); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `
		INSERT INTO users (id, email, email_key, language, roles, created_at, updated_at)
		SELECT md5(i::text)::uuid, 'User' || i || '@Example.com', 'user' || i || '@example.com', 'en',
		       CASE WHEN i % 5000 = 0 THEN '{auditor}'::text[] ELSE '{patient}'::text[] END,
		       timestamptz '2026-01-01' + i * interval '1 minute', timestamptz '2026-01-01'
		FROM generate_series(1, 20000) AS i;
		ANALYZE users;`); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ q, want string }{
		{"eq(email,USER77@example.COM)", "users_email_key_unique"},
		{"in(email,user1@example.com,user2@example.com)", "users_email_key_unique"},
		{"eq(roles,auditor)", "users_roles_idx"},
	} {
		page, count, args, c, err := listSQL(tt.q)
		if err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []struct {
			sql  string
			args []any
		}{{page, args}, {count, c.Args}} {
			var plan []string
			rows, err := pool.Query(ctx, "EXPLAIN "+stmt.sql, stmt.args...)
			if err != nil {
				t.Fatal(err)
			}
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
				t.Errorf("%s: plan of %s does not use %s:\n%s", tt.q, stmt.sql, tt.want, p)
			}
		}
	}
}
