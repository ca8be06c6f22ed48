package group

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/permission"
	"github.com/exhgen/exhgen/runtime/project"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// Migrations returns the group tables' migrations (core/0010_groups.sql).
// They refer to the users table: apply them after user.Migrations.
func Migrations() []db.Migration {
	migs, err := db.MigrationsFromFS(migrationFS, "migrations", "core")
	if err != nil {
		panic("group: embedded migrations: " + err.Error()) // cannot happen: tested
	}
	return migs
}

// Permissions the service checks: held globally (a role) or within the
// group (a group role of the caller there).
var (
	PermCreate         = permission.Groups + ":" + permission.Create
	PermRead           = permission.Groups + ":" + permission.Read
	PermUpdate         = permission.Groups + ":" + permission.Update
	PermDelete         = permission.Groups + ":" + permission.Delete
	PermPatientsRead   = permission.Groups + ":" + permission.GroupPatients + ":" + permission.Read
	PermPatientsCreate = permission.Groups + ":" + permission.GroupPatients + ":" + permission.Create
	PermPatientsDelete = permission.Groups + ":" + permission.GroupPatients + ":" + permission.Delete
	PermStaffRead      = permission.Groups + ":" + permission.GroupStaff + ":" + permission.Read
	PermStaffCreate    = permission.Groups + ":" + permission.GroupStaff + ":" + permission.Create
	PermStaffUpdate    = permission.Groups + ":" + permission.GroupStaff + ":" + permission.Update
	PermStaffDelete    = permission.Groups + ":" + permission.GroupStaff + ":" + permission.Delete
)

// CodeOwnMembership is the public code of an attempt to change one's own
// group membership (AC-5).
const CodeOwnMembership = "own_membership"

// ErrOwnMembership refuses changes to the caller's own memberships: nobody
// enlists themselves, makes themselves staff or changes their own group
// roles, whatever permissions they hold (AC-5).
var ErrOwnMembership = apierr.New(http.StatusForbidden, CodeOwnMembership,
	"You cannot change your own group memberships or group roles.")

// ErrRoleBeyondRights refuses giving or taking a group role whose
// permissions the caller does not hold in the group (or globally): staff
// managers cannot mint stronger staff, e.g. a second account of their own
// with clinical access (AC-5). The code is the one global role grants use.
var ErrRoleBeyondRights = apierr.New(http.StatusForbidden, CodeRoleBeyondRights,
	"You cannot give or take a group role with permissions you do not hold in the group yourself.")

// CodeRoleBeyondRights is ErrRoleBeyondRights' code.
const CodeRoleBeyondRights = "role_beyond_rights"

// Limits.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 2000
	DefaultLimit      = 20
	MaxLimit          = 100
)

// Group is a group as the API shows it.
type Group struct {
	ID          uuid.UUID
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Member is a patient or staff member of a group, with only the fields
// staff may see: no account settings, global roles or credentials.
type Member struct {
	UserID    uuid.UUID
	Email     string
	FirstName string
	LastName  string
	Roles     []string   // staff: group roles
	ExpiresAt *time.Time // patients: end of the enlistment, if any
	Since     time.Time
}

// Service manages groups and their members. It is safe for concurrent use.
type Service struct {
	pool       *pgxpool.Pool
	tokens     *auth.Tokens
	logger     *slog.Logger
	now        func() time.Time
	newID      func() uuid.UUID
	groupRoles []string
	rolePerms  map[string][]string // group role → its permissions
	synced     []string            // quoted tables of models with creator_patient_groups sync
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (default time.Now).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New returns the group service of project p. tokens (may be nil in tests)
// forgets cached memberships when they change.
func New(pool *pgxpool.Pool, p *project.Project, tokens *auth.Tokens, logger *slog.Logger, opts ...Option) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{pool: pool, tokens: tokens, logger: logger, now: time.Now, newID: uuid.New}
	s.rolePerms = make(map[string][]string, len(p.GroupRoles))
	for _, r := range p.GroupRoles {
		s.groupRoles = append(s.groupRoles, r.Name)
		s.rolePerms[r.Name] = r.Permissions
	}
	for _, m := range p.Models {
		if m.Access.GroupSync == project.GroupSyncCreatorPatientGroups {
			s.synced = append(s.synced, pgx.Identifier{m.Table}.Sanitize())
		}
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Loader returns the auth.MembershipLoader reading a user's staff
// memberships and unexpired patient enlistments in one query.
func Loader(pool *pgxpool.Pool, now func() time.Time) auth.MembershipLoader {
	if now == nil {
		now = time.Now
	}
	return func(ctx context.Context, userID uuid.UUID) (auth.Memberships, error) {
		rows, err := db.Query(ctx, pool, `
			SELECT group_id, roles FROM group_staff WHERE user_id = $1
			UNION ALL
			SELECT group_id, NULL FROM group_patients
			WHERE user_id = $1 AND (expires_at IS NULL OR expires_at > $2)
			ORDER BY 1`, userID, now())
		if err != nil {
			return auth.Memberships{}, fmt.Errorf("load memberships: %w", err)
		}
		defer rows.Close()
		var m auth.Memberships
		for rows.Next() {
			var g uuid.UUID
			var roles []string
			if err := rows.Scan(&g, &roles); err != nil {
				return auth.Memberships{}, fmt.Errorf("load memberships: %w", err)
			}
			if roles == nil {
				m.Patients = append(m.Patients, g)
				continue
			}
			if m.Staff == nil {
				m.Staff = map[uuid.UUID][]string{}
			}
			m.Staff[g] = roles
		}
		if err := rows.Err(); err != nil {
			return auth.Memberships{}, fmt.Errorf("load memberships: %w", err)
		}
		return m, nil
	}
}

func (s *Service) timestamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func caller(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil, apierr.ErrUnauthorized
	}
	return p, nil
}

// visible reports whether the caller may know the group exists: a global
// groups:read, or a membership of it.
func visible(p *auth.Principal, g uuid.UUID) bool {
	return p.Can(PermRead) || p.StaffOf(g) || p.PatientOf(g)
}

// allowed reports whether the caller holds perm globally or through a
// group role in g.
func allowed(p *auth.Principal, g uuid.UUID, perm string) bool {
	return p.Can(perm) || p.CanInGroup(g, perm)
}

// pool adapts the pool to db.Execer with the bounded acquire of db.Exec.
type poolExec struct{ pool *pgxpool.Pool }

func (e poolExec) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	return db.Exec(ctx, e.pool, sql, args...)
}

// deny records a refused operation (AUD-1) and returns the error to answer:
// 404 when the caller may not even know the group, else err (403).
func (s *Service) deny(ctx context.Context, p *auth.Principal, g uuid.UUID, op, perm string, err error) error {
	var actor *uuid.UUID
	if p != nil {
		actor = &p.UserID
	}
	if p != nil && !visible(p, g) {
		err = apierr.ErrNotFound
	}
	reason := apierr.From(err).Code
	if werr := audit.Write(ctx, poolExec{s.pool}, audit.Entry{
		ActorID: actor, Action: "access.denied", Resource: "group", ResourceID: g.String(),
		Outcome: audit.Denied, Reason: reason, Details: map[string]any{"operation": op, "permission": perm},
	}); werr != nil {
		return fmt.Errorf("group %s: %w", op, werr)
	}
	return err
}

// guard checks that the caller holds perm for group g, recording a denial.
func (s *Service) guard(ctx context.Context, g uuid.UUID, op, perm string) (*auth.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !allowed(p, g, perm) {
		return nil, s.deny(ctx, p, g, op, perm, apierr.ErrForbidden)
	}
	return p, nil
}

func checkText(field, v string, max int, required bool) []apierr.FieldError {
	switch {
	case required && strings.TrimSpace(v) == "":
		return []apierr.FieldError{{Field: field, Code: apierr.DetailRequired, Message: "This field must not be empty."}}
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' }):
		return []apierr.FieldError{{Field: field, Code: apierr.DetailInvalid, Message: "The text contains characters that are not allowed."}}
	case utf8.RuneCountInString(v) > max:
		return []apierr.FieldError{{Field: field, Code: apierr.DetailInvalid, Message: fmt.Sprintf("The text must be at most %d characters long.", max)}}
	}
	return nil
}

// Create creates a group; the caller needs groups:create.
func (s *Service) Create(ctx context.Context, name, description string) (*Group, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	g := &Group{ID: s.newID(), Name: strings.TrimSpace(name), Description: strings.TrimSpace(description)}
	if !p.Can(PermCreate) {
		return nil, s.deny(ctx, p, g.ID, "create", PermCreate, apierr.ErrForbidden)
	}
	details := append(checkText("/name", g.Name, MaxNameLen, true), checkText("/description", g.Description, MaxDescriptionLen, false)...)
	if len(details) > 0 {
		return nil, apierr.Validation("The group is invalid.", details...)
	}
	g.CreatedAt = s.timestamp()
	g.UpdatedAt = g.CreatedAt
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO groups (id, name, description, created_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)`, g.ID, g.Name, g.Description, p.UserID, g.CreatedAt); err != nil {
			return fmt.Errorf("insert group: %w", err)
		}
		return s.audit(ctx, tx, p, "group.create", g.ID, nil)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

func (s *Service) audit(ctx context.Context, tx pgx.Tx, p *auth.Principal, action string, g uuid.UUID, details map[string]any) error {
	return audit.Write(ctx, tx, audit.Entry{
		ActorID: &p.UserID, Action: action, Resource: "group", ResourceID: g.String(),
		Outcome: audit.Success, Details: details,
	})
}

// Get returns a group the caller may see (groups:read, or a member);
// others get 404.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*Group, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !visible(p, id) {
		return nil, s.deny(ctx, p, id, "get", PermRead, apierr.ErrNotFound)
	}
	g := &Group{}
	err = db.QueryRow(ctx, s.pool, `SELECT id, name, description, created_at, updated_at FROM groups WHERE id = $1`, id).
		Scan(&g.ID, &g.Name, &g.Description, &g.CreatedAt, &g.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apierr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get group: %w", err)
	}
	return g, nil
}

// List returns a page of the groups the caller may see that match the
// RQL query raw (by name unless sorted): every group with groups:read,
// else those the caller belongs to.
func (s *Service) List(ctx context.Context, raw string) ([]Group, PageInfo, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, PageInfo{}, err
	}
	// The access condition is the store's, inside the listed relation:
	// the query can only narrow it.
	from, args := `groups`, []any(nil)
	if !p.Can(PermRead) {
		mine := slices.Clone(p.PatientGroups)
		for g := range p.GroupPermissions {
			mine = append(mine, g)
		}
		if mine == nil {
			mine = []uuid.UUID{}
		}
		from, args = `(SELECT * FROM groups WHERE id = ANY($1::uuid[])) AS exh_groups`, []any{mine}
	}
	out := []Group{}
	info, err := s.list(ctx, "groups", groupsSchema, `id, name, description, created_at, updated_at`, from, args, raw, func(rows pgx.Rows) error {
		var g Group
		if err := rows.Scan(&g.ID, &g.Name, &g.Description, &g.CreatedAt, &g.UpdatedAt); err != nil {
			return err
		}
		out = append(out, g)
		return nil
	})
	if err != nil {
		return nil, PageInfo{}, err
	}
	return out, info, nil
}

// Update changes a group's name and description (nil leaves a field as it
// is); the caller needs groups:update globally or in the group.
func (s *Service) Update(ctx context.Context, id uuid.UUID, name, description *string) (*Group, error) {
	p, err := s.guard(ctx, id, "update", PermUpdate)
	if err != nil {
		return nil, err
	}
	var details []apierr.FieldError
	if name != nil {
		*name = strings.TrimSpace(*name)
		details = append(details, checkText("/name", *name, MaxNameLen, true)...)
	}
	if description != nil {
		*description = strings.TrimSpace(*description)
		details = append(details, checkText("/description", *description, MaxDescriptionLen, false)...)
	}
	if len(details) > 0 {
		return nil, apierr.Validation("The group is invalid.", details...)
	}
	g := &Group{}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `UPDATE groups SET name = coalesce($2, name), description = coalesce($3, description), updated_at = $4
			WHERE id = $1 RETURNING id, name, description, created_at, updated_at`, id, name, description, s.timestamp()).
			Scan(&g.ID, &g.Name, &g.Description, &g.CreatedAt, &g.UpdatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update group: %w", err)
		}
		return s.audit(ctx, tx, p, "group.update", id, nil)
	})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// Delete removes a group and its memberships; documents keep the id in
// their group_ids, where it matches nobody any more. The caller needs
// groups:delete globally or in the group.
func (s *Service) Delete(ctx context.Context, id uuid.UUID) error {
	p, err := s.guard(ctx, id, "delete", PermDelete)
	if err != nil {
		return err
	}
	var members []uuid.UUID
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT user_id FROM group_staff WHERE group_id = $1
			UNION SELECT user_id FROM group_patients WHERE group_id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		members, err = pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		tag, err := tx.Exec(ctx, `DELETE FROM groups WHERE id = $1`, id)
		if err != nil {
			return fmt.Errorf("delete group: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		return s.audit(ctx, tx, p, "group.delete", id, map[string]any{"members": len(members)})
	})
	if err != nil {
		return err
	}
	for _, u := range members {
		s.forget(u)
	}
	return nil
}

func (s *Service) forget(u uuid.UUID) {
	if s.tokens != nil {
		s.tokens.ForgetUser(u)
	}
}

// memberError maps the database errors of a membership change.
func memberError(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" { // foreign_key_violation
		if strings.Contains(pe.ConstraintName, "user_id") {
			return apierr.Validation("The user does not exist.",
				apierr.FieldError{Field: "/user_id", Code: apierr.DetailInvalid, Message: "No user has this id."})
		}
		return apierr.ErrNotFound
	}
	return err
}

// EnlistPatient enlists user as a patient of group until expiresAt (nil:
// no end), or changes the end of an existing enlistment. The caller needs
// groups:patients:create globally or in the group, and cannot enlist
// themselves (AC-5). Documents of models synced to their creator's patient
// groups gain the group.
func (s *Service) EnlistPatient(ctx context.Context, group, user uuid.UUID, expiresAt *time.Time) (*Member, error) {
	p, err := s.guard(ctx, group, "enlist_patient", PermPatientsCreate)
	if err != nil {
		return nil, err
	}
	if user == p.UserID {
		return nil, s.deny(ctx, p, group, "enlist_patient", PermPatientsCreate, ErrOwnMembership)
	}
	now := s.timestamp()
	if expiresAt != nil && !expiresAt.After(now) {
		return nil, apierr.Validation("The enlistment is invalid.",
			apierr.FieldError{Field: "/expires_at", Code: apierr.DetailInvalid, Message: "The end of the enlistment must be in the future."})
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO group_patients (group_id, user_id, expires_at, enlisted_by, created_at)
			VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (group_id, user_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
			group, user, expiresAt, p.UserID, now); err != nil {
			return memberError(err)
		}
		for _, t := range s.synced {
			if _, err := tx.Exec(ctx, `UPDATE `+t+` SET group_ids = group_ids || $1::uuid
				WHERE creator_id = $2 AND NOT group_ids @> ARRAY[$1::uuid]`, group, user); err != nil {
				return fmt.Errorf("sync documents: %w", err)
			}
		}
		return s.audit(ctx, tx, p, "group.enlist", group, map[string]any{"user_id": user.String(), "member": "patient"})
	})
	if err != nil {
		return nil, err
	}
	s.forget(user)
	return s.member(ctx, "patients", group, user)
}

// UnenlistPatient ends a patient's enlistment; the caller needs
// groups:patients:delete globally or in the group, and cannot unenlist
// themselves. Synced documents lose the group.
func (s *Service) UnenlistPatient(ctx context.Context, group, user uuid.UUID) error {
	p, err := s.guard(ctx, group, "unenlist_patient", PermPatientsDelete)
	if err != nil {
		return err
	}
	if user == p.UserID {
		return s.deny(ctx, p, group, "unenlist_patient", PermPatientsDelete, ErrOwnMembership)
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM group_patients WHERE group_id = $1 AND user_id = $2`, group, user)
		if err != nil {
			return fmt.Errorf("unenlist: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		for _, t := range s.synced {
			if _, err := tx.Exec(ctx, `UPDATE `+t+` SET group_ids = array_remove(group_ids, $1::uuid)
				WHERE creator_id = $2 AND group_ids @> ARRAY[$1::uuid]`, group, user); err != nil {
				return fmt.Errorf("sync documents: %w", err)
			}
		}
		return s.audit(ctx, tx, p, "group.unenlist", group, map[string]any{"user_id": user.String(), "member": "patient"})
	})
	if err != nil {
		return err
	}
	s.forget(user)
	return nil
}

// SetStaff makes user staff of group with the given group roles, or
// replaces the roles of existing staff. The caller needs
// groups:staff:create (new staff) or groups:staff:update (existing),
// globally or in the group, must hold every permission of the roles given
// and replaced, and can never change their own membership.
func (s *Service) SetStaff(ctx context.Context, group, user uuid.UUID, roles []string) (*Member, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !allowed(p, group, PermStaffCreate) && !allowed(p, group, PermStaffUpdate) {
		return nil, s.deny(ctx, p, group, "set_staff", PermStaffCreate, apierr.ErrForbidden)
	}
	if user == p.UserID {
		return nil, s.deny(ctx, p, group, "set_staff", PermStaffUpdate, ErrOwnMembership)
	}
	roles = slices.Clone(roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	var details []apierr.FieldError
	if len(roles) == 0 {
		details = append(details, apierr.FieldError{Field: "/roles", Code: apierr.DetailRequired, Message: "Staff hold at least one group role."})
	}
	for i, r := range roles {
		if !slices.Contains(s.groupRoles, r) {
			details = append(details, apierr.FieldError{Field: fmt.Sprintf("/roles/%d", i), Code: apierr.DetailInvalid,
				Message: fmt.Sprintf("The group role %q is not defined.", r)})
		}
	}
	if len(details) > 0 {
		return nil, apierr.Validation("The group roles are invalid.", details...)
	}
	now := s.timestamp()
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		var old []string
		err := tx.QueryRow(ctx, `SELECT roles FROM group_staff WHERE group_id = $1 AND user_id = $2 FOR UPDATE`, group, user).Scan(&old)
		exists := err == nil
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("set staff: %w", err)
		}
		need, action := PermStaffCreate, "group.staff.add"
		if exists {
			need, action = PermStaffUpdate, "group.staff.update"
		}
		if !allowed(p, group, need) {
			return s.deny(ctx, p, group, "set_staff", need, apierr.ErrForbidden)
		}
		// Every permission of the roles given, and of the roles replaced,
		// must be the caller's own in this group (AC-5).
		for _, r := range slices.Concat(roles, old) {
			for _, perm := range s.rolePerms[r] {
				if !allowed(p, group, perm) {
					return s.deny(ctx, p, group, "set_staff", perm, ErrRoleBeyondRights)
				}
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO group_staff (group_id, user_id, roles, added_by, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $5)
			ON CONFLICT (group_id, user_id) DO UPDATE SET roles = EXCLUDED.roles, updated_at = EXCLUDED.updated_at`,
			group, user, roles, p.UserID, now); err != nil {
			return memberError(err)
		}
		return s.audit(ctx, tx, p, action, group, map[string]any{"user_id": user.String(), "roles": roles, "previous_roles": old})
	})
	if err != nil {
		return nil, err
	}
	s.forget(user)
	return s.member(ctx, "staff", group, user)
}

// RemoveStaff removes user from the staff of group; the caller needs
// groups:staff:delete globally or in the group, and cannot remove
// themselves.
func (s *Service) RemoveStaff(ctx context.Context, group, user uuid.UUID) error {
	p, err := s.guard(ctx, group, "remove_staff", PermStaffDelete)
	if err != nil {
		return err
	}
	if user == p.UserID {
		return s.deny(ctx, p, group, "remove_staff", PermStaffDelete, ErrOwnMembership)
	}
	err = db.InTx(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM group_staff WHERE group_id = $1 AND user_id = $2`, group, user)
		if err != nil {
			return fmt.Errorf("remove staff: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return apierr.ErrNotFound
		}
		return s.audit(ctx, tx, p, "group.staff.remove", group, map[string]any{"user_id": user.String()})
	})
	if err != nil {
		return err
	}
	s.forget(user)
	return nil
}

// memberQueries read patients and staff with the user fields staff may see.
var memberQueries = map[string]string{
	"patients": `SELECT u.id, u.email, u.first_name, u.last_name, NULL::text[], m.expires_at, m.created_at, count(*) OVER ()
		FROM group_patients m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1`,
	"staff": `SELECT u.id, u.email, u.first_name, u.last_name, m.roles, NULL::timestamptz, m.created_at, count(*) OVER ()
		FROM group_staff m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1`,
}

// memberLists are the relations the member lists query, one row per
// member of group $1 with the columns of their RQL schema.
var memberLists = map[string]string{
	"patients": `(SELECT u.id AS user_id, u.email, u.email_key, u.first_name, u.last_name, NULL::text[] AS roles,
		m.expires_at, m.created_at AS since FROM group_patients m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1) AS exh_members`,
	"staff": `(SELECT u.id AS user_id, u.email, u.email_key, u.first_name, u.last_name, m.roles,
		NULL::timestamptz AS expires_at, m.created_at AS since FROM group_staff m JOIN users u ON u.id = m.user_id WHERE m.group_id = $1) AS exh_members`,
}

func (s *Service) member(ctx context.Context, kind string, group, user uuid.UUID) (*Member, error) {
	var m Member
	var total int64
	err := db.QueryRow(ctx, s.pool, memberQueries[kind]+` AND m.user_id = $2`, group, user).
		Scan(&m.UserID, &m.Email, &m.FirstName, &m.LastName, &m.Roles, &m.ExpiresAt, &m.Since, &total)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apierr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read member: %w", err)
	}
	return &m, nil
}

// ListPatients lists a group's patients (groups:patients:read globally or
// in the group) matching the RQL query raw, by last name unless sorted.
func (s *Service) ListPatients(ctx context.Context, group uuid.UUID, raw string) ([]Member, PageInfo, error) {
	return s.listMembers(ctx, "patients", group, PermPatientsRead, raw)
}

// ListStaff lists a group's staff with their group roles
// (groups:staff:read globally or in the group) matching the RQL query
// raw, by last name unless sorted.
func (s *Service) ListStaff(ctx context.Context, group uuid.UUID, raw string) ([]Member, PageInfo, error) {
	return s.listMembers(ctx, "staff", group, PermStaffRead, raw)
}

func (s *Service) listMembers(ctx context.Context, kind string, group uuid.UUID, perm, raw string) ([]Member, PageInfo, error) {
	if _, err := s.guard(ctx, group, "list_"+kind, perm); err != nil {
		return nil, PageInfo{}, err
	}
	if _, err := s.Get(ctx, group); err != nil {
		return nil, PageInfo{}, err
	}
	out := []Member{}
	info, err := s.list(ctx, kind, memberSchemas[kind], `user_id, email, first_name, last_name, roles, expires_at, since`,
		memberLists[kind], []any{group}, raw, func(rows pgx.Rows) error {
			var m Member
			if err := rows.Scan(&m.UserID, &m.Email, &m.FirstName, &m.LastName, &m.Roles, &m.ExpiresAt, &m.Since); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	if err != nil {
		return nil, PageInfo{}, err
	}
	return out, info, nil
}
