package document

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/rql"
)

// listQuery is a list statement for one RQL query and caller, with its
// arguments (the caller's id last, when the read rules filter).
type listQuery struct {
	sql    string
	args   []any
	limit  int
	offset int
	skip   bool
}

// buildList compiles raw (an RQL query string) for the caller. ok is
// false when the read rules grant the caller nothing.
func (m *model) buildList(p *auth.Principal, raw string) (lq listQuery, ok bool, err error) {
	q, err := rql.Parse(raw)
	if err != nil {
		return lq, false, err
	}
	c, err := m.query.Compile(q, 1)
	if err != nil {
		return lq, false, err
	}
	// The query's values are $1..$n; the page bounds and the access
	// condition's values follow them.
	a := newParams(c.Args...)
	limitP := a.add(c.Limit) + "::bigint"
	offsetP := a.add(c.Offset) + "::bigint"
	// The access filter is ANDed here, by the store: the query can only
	// narrow what the caller may read.
	cond, ok := accessCond(p, a, m.access.read)
	if !ok {
		return listQuery{limit: c.Limit, offset: c.Offset, skip: c.SkipCount}, false, nil
	}
	doc := docExpr(m.selected(c.Select))
	t := ident(m.table)
	where := "(" + cond + ") AND (" + c.Where + ")"
	page := "json_build_object('limit', " + limitP + ", 'offset', " + offsetP
	if !c.SkipCount {
		page += ", 'total', (SELECT count(*) FROM " + t + " WHERE " + where + ")"
	}
	page += ")"
	sql := "SELECT json_build_object('data', coalesce((SELECT json_agg(exh_page.doc ORDER BY exh_page.exh_n) FROM " +
		"(SELECT " + doc + " AS doc, row_number() OVER (ORDER BY " + c.OrderBy + ") AS exh_n FROM " + t +
		" WHERE " + where + " ORDER BY " + c.OrderBy + " LIMIT " + limitP + " OFFSET " + offsetP + ") AS exh_page), '[]'::json), " +
		"'page', " + page + ")::text"
	return listQuery{sql: sql, args: a.args, limit: c.Limit, offset: c.Offset, skip: c.SkipCount}, true, nil
}

// selected are the columns a select() keeps: the ones named and the
// required ones (the typed response needs them); all when sel is nil.
func (m *model) selected(sel []string) []column {
	if sel == nil {
		return m.columns
	}
	var cols []column
	for _, c := range m.columns {
		if slices.Contains(sel, c.name) || slices.Contains(m.required, c.name) {
			cols = append(cols, c)
		}
	}
	return cols
}

// list runs List.
func (s *Service) list(ctx context.Context, p *auth.Principal, m *model, raw string, out json.Unmarshaler) error {
	lq, ok, err := m.buildList(p, raw)
	if err != nil {
		return err
	}
	var res []byte
	if !ok {
		res = fmt.Appendf(nil, `{"data":[],"page":{"limit":%d,"offset":%d`, lq.limit, lq.offset)
		if !lq.skip {
			res = append(res, `,"total":0`...)
		}
		res = append(res, "}}"...)
		return decodeOut(out, res)
	}
	if err := db.QueryRow(ctx, s.pool, lq.sql, lq.args...).Scan(&res); err != nil {
		return s.dbError(ctx, m, "list", err)
	}
	return decodeOut(out, res)
}

// ListStatement returns the SQL and arguments List runs for caller, so
// load tests can run the same query through raw pgx.
func (s *Service) ListStatement(modelName, rawQuery string, caller *auth.Principal) (string, []any, error) {
	m, err := s.model(modelName)
	if err != nil {
		return "", nil, err
	}
	lq, ok, err := m.buildList(caller, rawQuery)
	if err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, fmt.Errorf("model %q: the caller may read no document", modelName)
	}
	return lq.sql, lq.args, nil
}

// checkGuard enforces an RQL guard on a change to document id: when the
// request's query string (rql.RawQuery) holds a condition, the locked
// document must match it, or the change fails with rql.ErrNoMatch (412
// rql_no_match). parseGuard runs before the transaction so that a
// malformed query is a 400 without touching the database.
func (m *model) parseGuard(ctx context.Context) (string, []any, error) {
	raw := rql.RawQuery(ctx)
	if strings.TrimSpace(raw) == "" {
		return "", nil, nil
	}
	q, err := rql.Parse(raw)
	if err != nil {
		return "", nil, err
	}
	if q.Filter == nil {
		return "", nil, nil
	}
	where, args, err := m.query.Filter(q, 2)
	if err != nil {
		return "", nil, err
	}
	return "SELECT EXISTS (SELECT FROM " + ident(m.table) + " WHERE id = $1::uuid AND (" + where + "))", args, nil
}

func checkGuard(ctx context.Context, tx pgx.Tx, sql string, args []any, id uuid.UUID) error {
	if sql == "" {
		return nil
	}
	var ok bool
	if err := tx.QueryRow(ctx, sql, append([]any{id}, args...)...).Scan(&ok); err != nil {
		return fmt.Errorf("check query guard: %w", err)
	}
	if !ok {
		return rql.ErrNoMatch
	}
	return nil
}
