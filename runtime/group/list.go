package group

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/user"
)

// PageInfo is where a page of a list sits: the limit used (clamped to
// MaxLimit), the offset, and the number of results the caller may see in
// all (nil after skipCount()).
type PageInfo struct {
	Limit, Offset int
	Total         *int64
}

// ListSchema is the RQL schema of the groups list.
func ListSchema() *rql.Schema {
	return mustSchema(&rql.Schema{
		Fields: []rql.Field{
			{Name: "id", Type: rql.UUID, Column: "id", SQLType: "uuid", Indexed: true, Required: true},
			{Name: "name", Type: rql.String, Column: "name", SQLType: "text", Indexed: true, Required: true},
			{Name: "description", Type: rql.String, Column: "description", SQLType: "text", Required: true},
			{Name: "created_at", Type: rql.DateTime, Column: "created_at", SQLType: "timestamptz", Required: true},
			{Name: "updated_at", Type: rql.DateTime, Column: "updated_at", SQLType: "timestamptz", Required: true},
		},
		DefaultSort: []rql.Order{{Field: "name"}},
		TieBreak:    "id",
	})
}

// MemberSchema is the RQL schema of a group's patients ("patients") or
// staff ("staff"): the user fields staff may see (no account settings,
// global roles or credentials), since (when the membership began) and
// expires_at (patients) or roles (staff: group roles). email compares with
// the stored key, case-insensitively.
func MemberSchema(kind string) *rql.Schema {
	fields := []rql.Field{
		{Name: "user_id", Type: rql.UUID, Column: "user_id", SQLType: "uuid", Required: true},
		{Name: "email", Type: rql.Email, Column: "email_key", SQLType: "text", Required: true, Fold: user.EmailKey},
		{Name: "first_name", Type: rql.String, Column: "first_name", SQLType: "text", Required: true},
		{Name: "last_name", Type: rql.String, Column: "last_name", SQLType: "text", Required: true},
		{Name: "since", Type: rql.DateTime, Column: "since", SQLType: "timestamptz", Required: true},
	}
	switch kind {
	case "patients":
		fields = append(fields, rql.Field{Name: "expires_at", Type: rql.DateTime, Column: "expires_at", SQLType: "timestamptz"})
	case "staff":
		fields = append(fields, rql.Field{Name: "roles", Type: rql.Array, Column: "roles", SQLType: "text[]", Required: true, Items: &rql.Field{Type: rql.String}})
	default:
		panic("group: no member list " + kind)
	}
	return mustSchema(&rql.Schema{
		Fields:      fields,
		DefaultSort: []rql.Order{{Field: "last_name"}, {Field: "first_name"}},
		TieBreak:    "user_id",
	})
}

// The schemas, built once; they are read-only.
var (
	groupsSchema  = ListSchema()
	memberSchemas = map[string]*rql.Schema{"patients": MemberSchema("patients"), "staff": MemberSchema("staff")}
)

func mustSchema(s *rql.Schema) *rql.Schema {
	s.DefaultLimit, s.MaxLimit = DefaultLimit, MaxLimit
	if err := s.Init(); err != nil {
		panic("group: list schema: " + err.Error()) // cannot happen: tested
	}
	return s
}

// list runs the RQL query raw over from (a table or a derived table with
// the schema's columns; its own arguments fromArgs are $1…), selecting
// cols, and calls scan for each row of the page. The page and the total
// are read in one snapshot.
func (s *Service) list(ctx context.Context, what string, schema *rql.Schema, cols, from string, fromArgs []any, raw string,
	scan func(pgx.Rows) error) (PageInfo, error) {
	q, err := rql.Parse(raw)
	if err != nil {
		return PageInfo{}, err
	}
	c, err := schema.Compile(q, len(fromArgs)+1)
	if err != nil {
		return PageInfo{}, err
	}
	args := append(slices.Clip(fromArgs), c.Args...)
	n := len(args)
	pageSQL := `SELECT ` + cols + ` FROM ` + from + ` WHERE ` + c.Where + ` ORDER BY ` + c.OrderBy +
		fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
	info := PageInfo{Limit: c.Limit, Offset: c.Offset}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
			return err
		}
		if !c.SkipCount {
			var total int64
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM `+from+` WHERE `+c.Where, args...).Scan(&total); err != nil {
				return err
			}
			info.Total = &total
		}
		rows, err := tx.Query(ctx, pageSQL, append(args, c.Limit, c.Offset)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			if err := scan(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return PageInfo{}, fmt.Errorf("list %s: %w", what, err)
	}
	return info, nil
}
