package user

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
)

// External is an account an external identity provider vouches for
// (runtime/oauth SSO): it has no password until the user sets one through
// a password reset.
type External struct {
	Email         string
	EmailVerified bool // the provider says the address is verified
	FirstName     string
	LastName      string
	Roles         []string // the provider's default roles
	Provider      string   // for the audit row
}

// CreateExternal creates the account of an external identity in tx, with
// every column a registration fills: the project's default language, UTC,
// email_verified_at when the provider verified the address, and names
// cleaned (control characters dropped, cut to MaxNameLen). Roles the
// project does not define are dropped. A taken address is ErrEmailTaken.
func (s *Service) CreateExternal(ctx context.Context, tx pgx.Tx, e External) (uuid.UUID, error) {
	email := norm.NFC.String(strings.TrimSpace(e.Email))
	if d := checkEmail(email); d != nil {
		return uuid.Nil, apierr.Validation("The email address is invalid.", *d)
	}
	roles := []string{}
	for _, r := range e.Roles {
		if _, ok := s.roles[r]; ok && !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	now := s.now()
	id := uuid.New()
	var verifiedAt any
	if e.EmailVerified {
		verifiedAt = now
	}
	_, err := tx.Exec(ctx, `
		INSERT INTO users (id, email, email_key, password_hash, first_name, last_name, phone,
		                   language, time_zone, roles, email_verified_at, created_at, updated_at)
		VALUES ($1, $2, $3, NULL, $4, $5, '', $6, $7, $8, $9, $10, $10)`,
		id, email, EmailKey(email), cleanName(e.FirstName), cleanName(e.LastName),
		s.defaultLanguage(), DefaultTZ, roles, verifiedAt, now)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "users_email_key_unique" {
		return uuid.Nil, ErrEmailTaken
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("create user: %w", err)
	}
	if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: &id, Action: "user.create", Resource: "user", ResourceID: id.String(),
		Outcome: audit.Success, Details: map[string]any{"method": "sso", "provider": e.Provider, "email_verified": e.EmailVerified}}); err != nil {
		return uuid.Nil, err
	}
	return id, nil
}

// cleanName drops control characters and cuts a name from a provider to
// MaxNameLen code points.
func cleanName(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, norm.NFC.String(s)))
	if r := []rune(s); len(r) > MaxNameLen {
		return string(r[:MaxNameLen])
	}
	return s
}
