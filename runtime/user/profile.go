package user

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/outbox"
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

// Page is one page of a list.
type Page struct {
	Total  int
	Offset int
	Limit  int
	Users  []*User
}

// Paging limits of List.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 100
)

// ListQuery selects a page of users. The RQL integration will add a
// filter and sort here; List builds its SQL in one place (listSQL).
type ListQuery struct {
	Offset int
	Limit  int // 0: DefaultPageLimit; at most MaxPageLimit
}

// listSQL returns the page and count statements of q and their arguments.
// It is the one place the list's SQL is built.
func listSQL(q ListQuery) (page, count string, args []any) {
	where := `deleted_at IS NULL`
	page = `SELECT ` + userColumns + ` FROM users WHERE ` + where + ` ORDER BY created_at, id OFFSET $1 LIMIT $2`
	count = `SELECT count(*) FROM users WHERE ` + where
	return page, count, []any{q.Offset, q.Limit}
}

// List returns a page of users (users:read), oldest first.
func (s *Service) List(ctx context.Context, q ListQuery) (*Page, error) {
	if _, err := s.require(ctx, PermRead); err != nil {
		return nil, err
	}
	var details []apierr.FieldError
	if q.Offset < 0 || q.Offset > math.MaxInt32 {
		details = append(details, apierr.FieldError{Field: "query:offset", Code: apierr.DetailMinimum, Message: "The offset must be between 0 and 2147483647."})
	}
	if q.Limit < 0 || q.Limit > MaxPageLimit {
		details = append(details, apierr.FieldError{Field: "query:limit", Code: apierr.DetailMaximum,
			Message: fmt.Sprintf("The limit must be between 1 and %d.", MaxPageLimit)})
	}
	if len(details) > 0 {
		return nil, apierr.Validation("The query is invalid.", details...)
	}
	if q.Limit == 0 {
		q.Limit = DefaultPageLimit
	}
	pageSQL, countSQL, args := listSQL(q)
	out := &Page{Offset: q.Offset, Limit: q.Limit, Users: []*User{}}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// One snapshot for the page and the total.
		if _, err := tx.Exec(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY`); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, countSQL).Scan(&out.Total); err != nil {
			return err
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
