package user

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/outbox"
	"github.com/exhgen/exhgen/runtime/rql"
)

// userColumns are the columns scanUser reads, in order.
const userColumns = `id, email, email_verified_at IS NOT NULL, first_name, last_name, phone,
	language, time_zone, roles, created_at, updated_at`

func scanUser(row pgx.Row) (*User, error) {
	u := &User{}
	err := row.Scan(&u.ID, &u.Email, &u.EmailVerified, &u.FirstName, &u.LastName, &u.Phone,
		&u.Language, &u.TimeZone, &u.Roles, &u.CreatedAt, &u.UpdatedAt)
	return u, err
}

// Me returns the profile of the authenticated caller.
func (s *Service) Me(ctx context.Context) (*User, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Get(ctx, p.UserID)
	if errors.Is(err, apierr.ErrNotFound) {
		return nil, apierr.ErrUnauthorized
	}
	return u, err
}

// Get returns a user by id, or apierr.ErrNotFound. It checks no
// permission: see GetAsAdmin.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*User, error) {
	u, err := scanUser(db.QueryRow(ctx, s.pool, `SELECT `+userColumns+`
		FROM users WHERE id = $1 AND deleted_at IS NULL`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apierr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// GetAsAdmin returns a user by id for a caller with users:read (the caller
// may always read their own profile).
func (s *Service) GetAsAdmin(ctx context.Context, id uuid.UUID) (*User, error) {
	if _, self := callerIs(ctx, id); !self {
		if _, err := s.require(ctx, PermRead); err != nil {
			return nil, err
		}
	}
	return s.Get(ctx, id)
}

// Page is one page of a list. Total is nil when the query asked for
// skipCount().
type Page struct {
	Total  *int64
	Offset int
	Limit  int
	Users  []*User
}

// Paging limits of List.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// ListSchema is the RQL schema of the users list: the profile fields
// clients see, in their typed columns. Password hashes, lockout counters,
// deletion marks and the secrets tables are not fields, so a query naming
// them is rql_unknown_field. email compares with the stored key (lower-cased
// NFC, under a unique index), so eq(email,…) is case-insensitive and
// indexed; roles has a GIN index.
func ListSchema() *rql.Schema {
	s := &rql.Schema{
		Fields: []rql.Field{
			{Name: "id", Type: rql.UUID, Column: "id", SQLType: "uuid", Indexed: true, Required: true},
			{Name: "email", Type: rql.Email, Column: "email_key", SQLType: "text", Indexed: true, Required: true, Fold: EmailKey},
			{Name: "email_verified", Type: rql.Boolean, Expr: "(email_verified_at IS NOT NULL)", SQLType: "boolean", Required: true},
			{Name: "first_name", Type: rql.String, Column: "first_name", SQLType: "text", Required: true},
			{Name: "last_name", Type: rql.String, Column: "last_name", SQLType: "text", Required: true},
			{Name: "phone", Type: rql.String, Column: "phone", SQLType: "text", Required: true},
			{Name: "language", Type: rql.String, Column: "language", SQLType: "text", Required: true},
			{Name: "time_zone", Type: rql.String, Column: "time_zone", SQLType: "text", Required: true},
			{Name: "roles", Type: rql.Array, Column: "roles", SQLType: "text[]", Indexed: true, Required: true, Items: &rql.Field{Type: rql.String}},
			{Name: "created_at", Type: rql.DateTime, Column: "created_at", SQLType: "timestamptz", Required: true},
			{Name: "updated_at", Type: rql.DateTime, Column: "updated_at", SQLType: "timestamptz", Required: true},
		},
		DefaultLimit: DefaultPageLimit,
		MaxLimit:     MaxPageLimit,
		DefaultSort:  []rql.Order{{Field: "created_at"}},
		TieBreak:     "id",
	}
	if err := s.Init(); err != nil {
		panic("user: list schema: " + err.Error()) // cannot happen: tested
	}
	return s
}

// usersSchema is ListSchema, built once; it is read-only.
var usersSchema = ListSchema()

// listSQL compiles the RQL query raw into the page and count statements
// of the users list and their arguments. It is the one place the list's
// SQL is built; the store's own condition (no deleted users) is ANDed
// with the query's, which can only narrow it.
func listSQL(raw string) (page, count string, args []any, c *rql.SQL, err error) {
	q, err := rql.Parse(raw)
	if err != nil {
		return "", "", nil, nil, err
	}
	c, err = usersSchema.Compile(q, 1)
	if err != nil {
		return "", "", nil, nil, err
	}
	n := len(c.Args)
	where := `deleted_at IS NULL AND (` + c.Where + `)`
	page = `SELECT ` + userColumns + ` FROM users WHERE ` + where + ` ORDER BY ` + c.OrderBy +
		fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2)
	count = `SELECT count(*) FROM users WHERE ` + where
	return page, count, append(slices.Clip(c.Args), c.Limit, c.Offset), c, nil
}

// List returns a page of users (users:read) matching the RQL query raw
// (the request's raw query string: filters, sort, limit, skipCount()),
// oldest first unless sorted.
func (s *Service) List(ctx context.Context, raw string) (*Page, error) {
	if _, err := s.require(ctx, PermRead); err != nil {
		return nil, err
	}
	pageSQL, countSQL, args, c, err := listSQL(raw)
	if err != nil {
		return nil, err
	}
	out := &Page{Offset: c.Offset, Limit: c.Limit, Users: []*User{}}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		// One snapshot for the page and the total.
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
			return err
		}
		if !c.SkipCount {
			var total int64
			if err := tx.QueryRow(ctx, countSQL, c.Args...).Scan(&total); err != nil {
				return err
			}
			out.Total = &total
		}
		rows, err := tx.Query(ctx, pageSQL, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				return err
			}
			out.Users = append(out.Users, u)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// callerIs returns the caller and whether it is user id.
func callerIs(ctx context.Context, id uuid.UUID) (*auth.Principal, bool) {
	p, err := caller(ctx)
	if err != nil {
		return nil, false
	}
	return p, p.UserID == id
}

// UpdateMe changes the caller's own profile fields.
func (s *Service) UpdateMe(ctx context.Context, prof Profile) (*User, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p.UserID, p.UserID, prof)
}

// Update changes another user's profile fields (users:update).
func (s *Service) Update(ctx context.Context, id uuid.UUID, prof Profile) (*User, error) {
	p, err := s.require(ctx, PermUpdate)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, p.UserID, id, prof)
}

func (s *Service) update(ctx context.Context, actor, id uuid.UUID, prof Profile) (*User, error) {
	if d := s.checkProfile(&prof); len(d) > 0 {
		return nil, apierr.Validation("The profile is invalid.", d...)
	}
	var (
		sets    []string
		args    []any
		changed []string
	)
	add := func(col string, v *string) {
		if v != nil {
			args = append(args, *v)
			sets = append(sets, fmt.Sprintf("%s = $%d", col, len(args)))
			changed = append(changed, col)
		}
	}
	add("first_name", prof.FirstName)
	add("last_name", prof.LastName)
	add("phone", prof.Phone)
	add("language", prof.Language)
	add("time_zone", prof.TimeZone)
	args = append(args, s.now(), id)
	sets = append(sets, fmt.Sprintf("updated_at = $%d", len(args)-1))
	var u *User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+
			fmt.Sprintf(` WHERE id = $%d AND deleted_at IS NULL RETURNING `, len(args))+userColumns, args...))
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update user: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &actor, Action: "user.update", Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success, Details: map[string]any{"fields": changed}})
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// Delete deletes a user (users:delete) as the project declares
// (auth.user_deletion): "delete" removes the row (sessions and secrets
// with it); "anonymise" keeps the row, which documents may name as their
// creator, with every personal field cleared and the address replaced.
// Either way the user's sessions end, and a user.deleted event is queued
// in the same transaction for the services holding the user's other data.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	p, err := s.require(ctx, PermDelete)
	if err != nil {
		return err
	}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		now := s.now()
		var tag interface{ RowsAffected() int64 }
		var err error
		switch s.deletion {
		case DeletionDelete:
			tag, err = tx.Exec(ctx, `DELETE FROM users WHERE id = $1 AND deleted_at IS NULL`, id)
		default:
			gone := "deleted-" + id.String()
			tag, err = tx.Exec(ctx, `UPDATE users SET email = $2, email_key = $3, password_hash = NULL,
				    first_name = '', last_name = '', phone = '', roles = '{}', email_verified_at = NULL,
				    failed_logins = 0, failed_since = NULL, locked_until = NULL, deleted_at = $4, updated_at = $4
				WHERE id = $1 AND deleted_at IS NULL`, id, gone+"@deleted.invalid", gone, now)
			if err == nil {
				_, err = tx.Exec(ctx, `DELETE FROM user_secrets WHERE user_id = $1`, id)
			}
			if err == nil {
				_, err = tx.Exec(ctx, `UPDATE auth_sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL`, id, now)
			}
		}
		if err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		if _, err := outbox.Event(ctx, tx, outbox.EventRecord{Type: "user.deleted", SubjectID: id.String(),
			ActorID: &p.UserID, Payload: map[string]any{"user_id": id.String(), "mode": s.deletion}, At: now}); err != nil {
			return err
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: "user.delete", Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success, Details: map[string]any{"mode": s.deletion}})
	})
	if err != nil {
		return err
	}
	s.tokens.ForgetUser(id)
	return nil
}
