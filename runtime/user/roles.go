package user

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
)

// Audit actions of role changes.
const (
	ActionRoleGrant  = "role.grant"
	ActionRoleRevoke = "role.revoke"
)

// GrantRole gives user id the global role (users:roles:create). AC-5: no
// one changes their own roles, and a caller can only grant or revoke a
// role whose every permission they hold themselves, so rights cannot be
// raised through an accomplice's account either. The role must be defined
// by the project. Granting a role the user has is a no-op (still audited).
func (s *Service) GrantRole(ctx context.Context, id uuid.UUID, role string) (*User, error) {
	return s.changeRole(ctx, id, role, true)
}

// RevokeRole takes the global role from user id (users:roles:delete),
// under the rules of GrantRole.
func (s *Service) RevokeRole(ctx context.Context, id uuid.UUID, role string) (*User, error) {
	return s.changeRole(ctx, id, role, false)
}

func (s *Service) changeRole(ctx context.Context, id uuid.UUID, role string, grant bool) (*User, error) {
	action, perm := ActionRoleRevoke, PermRolesRevoke
	if grant {
		action, perm = ActionRoleGrant, PermRolesGrant
	}
	p, err := s.require(ctx, perm)
	if err != nil {
		return nil, err
	}
	deny := func(e *apierr.Error) (*User, error) {
		s.auditAlone(ctx, audit.Entry{ActorID: &p.UserID, Action: action, Resource: "user", ResourceID: id.String(),
			Outcome: audit.Denied, Reason: e.Code, Details: map[string]any{"role": role}})
		return nil, e
	}
	perms, defined := s.roles[role]
	switch {
	case !defined:
		return nil, ErrUnknownRole
	case p.UserID == id:
		return deny(ErrSelfRoleChange)
	case !coversAll(p, perms):
		return deny(ErrRoleBeyondRights)
	}
	var u *User
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var roles []string
		err := tx.QueryRow(ctx, `SELECT roles FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id).Scan(&roles)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("load roles: %w", err)
		}
		if grant {
			roles = append(roles, role)
			slices.Sort(roles)
			roles = slices.Compact(roles)
		} else {
			roles = slices.DeleteFunc(roles, func(r string) bool { return r == role })
		}
		if u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET roles = $1, updated_at = $2 WHERE id = $3 RETURNING `+userColumns,
			roles, s.now(), id)); err != nil {
			return fmt.Errorf("store roles: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: action, Resource: "user",
			ResourceID: id.String(), Outcome: audit.Success, Details: map[string]any{"role": role}})
	})
	if err != nil {
		return nil, err
	}
	s.tokens.ForgetUser(id)
	return u, nil
}

// coversAll reports whether p holds every one of perms (each a permission
// or pattern, matched literally against p's grants).
func coversAll(p *auth.Principal, perms []string) bool {
	for _, want := range perms {
		if !p.Can(want) {
			return false
		}
	}
	return true
}

// SetRoles replaces a user's global roles without a permission check: for
// bootstrapping (the first admin) and operators, never for a request.
// Every role must be defined by the project. Tokens already issued carry
// the change at their next use on this replica, and within
// auth.DefaultUserCacheTTL on the others.
func (s *Service) SetRoles(ctx context.Context, id uuid.UUID, roles []string) error {
	roles = slices.Clone(roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	var details []apierr.FieldError
	for i, r := range roles {
		if _, ok := s.roles[r]; !ok {
			details = append(details, apierr.FieldError{Field: fmt.Sprintf("/roles/%d", i), Code: CodeUnsupported,
				Message: fmt.Sprintf("The role %q is not defined.", r)})
		}
	}
	if len(details) > 0 {
		return apierr.Validation("The roles are invalid.", details...)
	}
	if roles == nil {
		roles = []string{}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE users SET roles = $1, updated_at = $2 WHERE id = $3 AND deleted_at IS NULL`,
			roles, s.now(), id)
		if err != nil {
			return fmt.Errorf("set roles: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		return s.writeAudit(ctx, tx, audit.Entry{Action: "role.set", Resource: "user", ResourceID: id.String(),
			Outcome: audit.Success, Details: map[string]any{"roles": roles}})
	})
	if err != nil {
		return err
	}
	s.tokens.ForgetUser(id)
	return nil
}

// GrantRoleByEmail adds a global role to the account of email without a
// permission check: the operators' command line (`BACKEND users grant-role
// EMAIL ROLE`), the bootstrap of the first administrator. Never for a
// request. The role must be defined by the project; the change is audited
// with no actor and "via": "cli".
func (s *Service) GrantRoleByEmail(ctx context.Context, email, role string) (*User, error) {
	if _, ok := s.roles[role]; !ok {
		return nil, ErrUnknownRole
	}
	var u *User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		u, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET roles = CASE WHEN $1 = ANY (roles) THEN roles ELSE array_append(roles, $1) END,
			    updated_at = $2
			WHERE email_key = $3 AND deleted_at IS NULL RETURNING `+userColumns, role, s.now(), EmailKey(email)))
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("grant role: %w", err)
		}
		return s.writeAudit(ctx, tx, audit.Entry{Action: ActionRoleGrant, Resource: "user", ResourceID: u.ID.String(),
			Outcome: audit.Success, Details: map[string]any{"role": role, "via": "cli"}})
	})
	if err != nil {
		return nil, err
	}
	s.tokens.ForgetUser(u.ID)
	return u, nil
}
