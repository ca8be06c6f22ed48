package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
)

// Registration modes (project.Auth.Registration).
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// Limits on profile fields, in Unicode code points.
const (
	MaxEmailLen    = 254
	MaxNameLen     = 200
	MaxTimeZoneLen = 64
	DefaultTZ      = "UTC"
)

// Field error codes.
const (
	CodeInvalid     = "invalid"
	CodeTooLong     = "too_long"
	CodeUnsupported = "unsupported"
)

// User is a user's public profile.
type User struct {
	ID        uuid.UUID
	Email     string
	FirstName string
	LastName  string
	Language  string
	TimeZone  string
	Roles     []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Registration is a self-service sign-up. Optional fields may be empty.
type Registration struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	Language  string // default: the project's first language
	TimeZone  string // IANA name; default UTC
}

// Credentials are an email address and password.
type Credentials struct {
	Email    string
	Password string
}

// AccessToken is the result of a successful login.
type AccessToken struct {
	AccessToken string
	TokenType   string // always "Bearer"
	ExpiresIn   time.Duration
}

// Service manages users: registration, login and profiles.
type Service struct {
	pool    *pgxpool.Pool
	project *project.Project
	tokens  *auth.Tokens
	logger  *slog.Logger
	clock   func() time.Time
	hasher  *auth.Hasher
	decoy   string
	roles   map[string]bool
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock timestamps come from (default time.Now).
func WithClock(clock func() time.Time) Option { return func(s *Service) { s.clock = clock } }

// WithHasher sets the password hasher (default auth.DefaultHasher()).
func WithHasher(h *auth.Hasher) Option { return func(s *Service) { s.hasher = h } }

// NewService returns a user service for project p. The database must have
// Migrations applied.
func NewService(pool *pgxpool.Pool, p *project.Project, tokens *auth.Tokens, logger *slog.Logger, opts ...Option) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{pool: pool, project: p, tokens: tokens, logger: logger, clock: time.Now,
		hasher: auth.DefaultHasher(), roles: map[string]bool{}}
	for _, o := range opts {
		o(s)
	}
	for _, r := range p.Roles {
		s.roles[r.Name] = true
	}
	s.decoy = s.hasher.Decoy()
	return s
}

// Errors of the user service, as clients see them.
var (
	ErrRegistrationClosed = apierr.New(http.StatusForbidden, apierr.CodeRegistrationClosed,
		"Self-service registration is not available.")
	ErrEmailTaken = apierr.New(http.StatusConflict, apierr.CodeEmailTaken,
		"An account with this email address already exists.")
	ErrInvalidCredentials = apierr.New(http.StatusUnauthorized, apierr.CodeInvalidCredentials,
		"The email address or password is incorrect.")
)

// EmailKey returns the identifier an email address is unique and looked up
// by: trimmed, lower-cased, then NFC-normalised (RFC 8265 §3.3.2, IN-2).
func EmailKey(email string) string {
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// Register creates a user with no roles when the project's registration is
// open. Invalid fields give one 400 naming all of them; a taken email
// address gives 409 email_taken.
func (s *Service) Register(ctx context.Context, r Registration) (*User, error) {
	if s.project.Auth.Registration != RegistrationOpen {
		return nil, ErrRegistrationClosed
	}
	u := &User{
		Email:     norm.NFC.String(strings.TrimSpace(r.Email)),
		FirstName: strings.TrimSpace(r.FirstName),
		LastName:  strings.TrimSpace(r.LastName),
		Language:  r.Language,
		TimeZone:  r.TimeZone,
		Roles:     []string{},
	}
	var details []apierr.FieldError
	if d := checkEmail(u.Email); d != nil {
		details = append(details, *d)
	}
	if err := auth.CheckPassword(r.Password); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			details = append(details, ae.Details...)
		}
	}
	details = append(details, checkName("/first_name", u.FirstName)...)
	details = append(details, checkName("/last_name", u.LastName)...)
	if u.Language == "" {
		u.Language = s.defaultLanguage()
	} else if !slices.Contains(s.project.Languages, u.Language) {
		details = append(details, apierr.FieldError{Field: "/language", Code: CodeUnsupported,
			Message: "The language must be one of " + strings.Join(s.project.Languages, ", ") + "."})
	}
	if u.TimeZone == "" {
		u.TimeZone = DefaultTZ
	} else if !validTimeZone(u.TimeZone) {
		details = append(details, apierr.FieldError{Field: "/time_zone", Code: CodeInvalid,
			Message: "The time zone must be an IANA time zone name such as Europe/Amsterdam."})
	}
	if len(details) > 0 {
		return nil, apierr.Validation("The registration is invalid.", details...)
	}

	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	u.ID = uuid.New()
	u.CreatedAt = s.clock().UTC().Truncate(time.Microsecond)
	u.UpdatedAt = u.CreatedAt
	_, err = db.Exec(ctx, s.pool, `
		INSERT INTO users (id, email, email_key, password_hash, first_name, last_name,
		                   language, time_zone, roles, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		u.ID, u.Email, EmailKey(u.Email), hash, u.FirstName, u.LastName,
		u.Language, u.TimeZone, u.Roles, u.CreatedAt, u.UpdatedAt)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "users_email_key_unique" {
		return nil, ErrEmailTaken
	}
	if err != nil {
		return nil, fmt.Errorf("register: insert user: %w", err)
	}
	s.logger.InfoContext(ctx, "user registered", "user_id", u.ID)
	return u, nil
}

// Login checks credentials and issues an access token. An unknown email
// address and a wrong password give the same 401 invalid_credentials, and
// both cost one password hash (AUTH-7). A hash made with outdated
// parameters is replaced by a fresh one (AUTH-2).
func (s *Service) Login(ctx context.Context, c Credentials) (*AccessToken, error) {
	var (
		id    uuid.UUID
		email string
		hash  *string
		roles []string
	)
	err := db.QueryRow(ctx, s.pool, `SELECT id, email, password_hash, roles FROM users WHERE email_key = $1`,
		EmailKey(c.Email)).Scan(&id, &email, &hash, &roles)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && hash == nil) {
		return nil, s.burn(ctx, c.Password)
	}
	if err != nil {
		return nil, fmt.Errorf("login: load user: %w", err)
	}
	ok, rehash, err := s.hasher.Verify(ctx, *hash, c.Password)
	if errors.Is(err, auth.ErrInvalidHash) {
		s.logger.ErrorContext(ctx, "stored password hash is invalid", "user_id", id, "error", err)
		return nil, s.burn(ctx, c.Password)
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return nil, ErrInvalidCredentials
	}
	if rehash {
		s.rehash(ctx, id, *hash, c.Password)
	}
	token, expiresIn, err := s.tokens.Issue(ctx, &auth.Principal{UserID: id, Email: email, Roles: roles})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return &AccessToken{AccessToken: token, TokenType: "Bearer", ExpiresIn: expiresIn}, nil
}

// burn verifies password against the decoy hash, so a failed login costs
// the same whatever the reason, and returns ErrInvalidCredentials.
func (s *Service) burn(ctx context.Context, password string) error {
	if _, _, err := s.hasher.Verify(ctx, s.decoy, password); err != nil {
		return fmt.Errorf("login: %w", err)
	}
	return ErrInvalidCredentials
}

// rehash replaces old with a hash made with the current parameters. It is
// best effort: the login succeeds anyway.
func (s *Service) rehash(ctx context.Context, id uuid.UUID, old, password string) {
	fresh, err := s.hasher.Hash(ctx, password)
	if err != nil {
		s.logger.WarnContext(ctx, "rehash password", "user_id", id, "error", err)
		return
	}
	_, err = db.Exec(ctx, s.pool, `
		UPDATE users SET password_hash = $1, updated_at = $2
		WHERE id = $3 AND password_hash = $4`,
		fresh, s.clock().UTC().Truncate(time.Microsecond), id, old)
	if err != nil {
		s.logger.WarnContext(ctx, "store rehashed password", "user_id", id, "error", err)
	}
}

// Me returns the profile of the authenticated caller.
func (s *Service) Me(ctx context.Context) (*User, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil, apierr.ErrUnauthorized
	}
	u, err := s.Get(ctx, p.UserID)
	if errors.Is(err, apierr.ErrNotFound) {
		return nil, apierr.ErrUnauthorized
	}
	return u, err
}

// Get returns a user by id, or apierr.ErrNotFound.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (*User, error) {
	u := &User{}
	err := db.QueryRow(ctx, s.pool, `
		SELECT id, email, first_name, last_name, language, time_zone, roles, created_at, updated_at
		FROM users WHERE id = $1`, id).Scan(
		&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Language, &u.TimeZone, &u.Roles,
		&u.CreatedAt, &u.UpdatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, apierr.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// SetRoles replaces a user's global roles. Every role must be defined by
// the project. Tokens already issued carry the change at their next use on
// this replica, and within auth.DefaultUserCacheTTL on the others.
func (s *Service) SetRoles(ctx context.Context, id uuid.UUID, roles []string) error {
	roles = slices.Clone(roles)
	slices.Sort(roles)
	roles = slices.Compact(roles)
	var details []apierr.FieldError
	for i, r := range roles {
		if !s.roles[r] {
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
	tag, err := db.Exec(ctx, s.pool, `UPDATE users SET roles = $1, updated_at = $2 WHERE id = $3`,
		roles, s.clock().UTC().Truncate(time.Microsecond), id)
	if err != nil {
		return fmt.Errorf("set roles: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apierr.ErrNotFound
	}
	s.tokens.ForgetUser(id)
	return nil
}

func (s *Service) defaultLanguage() string {
	if len(s.project.Languages) > 0 {
		return s.project.Languages[0]
	}
	return "en"
}

// checkEmail accepts a bare addr-spec (RFC 5322, as net/mail parses it) of
// at most MaxEmailLen code points.
func checkEmail(email string) *apierr.FieldError {
	bad := &apierr.FieldError{Field: "/email", Code: CodeInvalid, Message: "The email address is not valid."}
	if email == "" || !utf8.ValidString(email) || utf8.RuneCountInString(email) > MaxEmailLen {
		return bad
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Name != "" || addr.Address != email || !strings.Contains(addr.Address, "@") {
		return bad
	}
	return nil
}

func checkName(field, name string) []apierr.FieldError {
	switch {
	case !utf8.ValidString(name) || strings.ContainsFunc(name, unicode.IsControl):
		return []apierr.FieldError{{Field: field, Code: CodeInvalid, Message: "The name contains characters that are not allowed."}}
	case utf8.RuneCountInString(name) > MaxNameLen:
		return []apierr.FieldError{{Field: field, Code: CodeTooLong,
			Message: fmt.Sprintf("The name must be at most %d characters long.", MaxNameLen)}}
	}
	return nil
}

func validTimeZone(tz string) bool {
	if len(tz) > MaxTimeZoneLen || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}
