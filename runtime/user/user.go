package user

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/auth"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/runtime/server"
)

// Registration modes (project.Auth.Registration).
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// User deletion modes (project.Auth.UserDeletion).
const (
	DeletionDelete    = "delete"
	DeletionAnonymise = "anonymise" // the default
)

// Limits on profile fields, in Unicode code points.
const (
	MaxEmailLen    = 254
	MaxNameLen     = 200
	MaxPhoneLen    = 32
	MaxTimeZoneLen = 64
	DefaultTZ      = "UTC"
)

// Field error codes.
const (
	CodeInvalid     = "invalid"
	CodeTooLong     = "too_long"
	CodeUnsupported = "unsupported"
)

// Permissions guarding the admin operations (runtime/permission's
// catalogue). Role changes use a resource of their own ("roles"), which
// wildcard grants never cover (permission.Match; AC-5).
const (
	PermRead            = "users:read"
	PermUpdate          = "users:update"
	PermDelete          = "users:delete"
	PermRolesGrant      = "users:roles:create"
	PermRolesRevoke     = "users:roles:delete"
	PermInvite          = "users:create"
	PermResetLoginLimit = "users:update"
)

// User is a user's profile as clients see it.
type User struct {
	ID            uuid.UUID
	Email         string
	EmailVerified bool
	FirstName     string
	LastName      string
	Phone         string
	Language      string
	TimeZone      string
	Roles         []string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Registration is a self-service sign-up. Optional fields may be empty.
type Registration struct {
	Email     string
	Password  string
	FirstName string
	LastName  string
	Phone     string
	Language  string // default: the project's first language
	TimeZone  string // IANA name; default UTC
	// Invitation is the token of an invitation; required when the
	// project's registration mode is "invite".
	Invitation string
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

// Lockout is the per-account throttling of failed logins (AUTH-6): after
// Threshold consecutive failures within Window, each further failure
// locks the account for Step times the number of failures past the
// threshold (plus one), at most MaxWait. A success resets the count.
type Lockout struct {
	Threshold int
	Window    time.Duration
	Step      time.Duration
	MaxWait   time.Duration
}

// DefaultLockout is Keycloak's brute-force policy, turned on: 30 failures
// in 12 h, waits growing by 60 s up to 15 min.
func DefaultLockout() Lockout {
	return Lockout{Threshold: 30, Window: 12 * time.Hour, Step: time.Minute, MaxWait: 15 * time.Minute}
}

// Lifetimes and limits of the secrets mailed to users.
const (
	VerifyTokenTTL = 24 * time.Hour
	ResetTokenTTL  = time.Hour
	InviteTTL      = 7 * 24 * time.Hour
	PINTTL         = 15 * time.Minute
	PINDigits      = 6
	MaxPINAttempts = 5
	// SessionTTL is the absolute lifetime of a login session (AUTH-8;
	// auth.SessionIdle ends it sooner when unused).
	SessionTTL = auth.SessionTTL
)

// Service manages users: registration, login, profiles, roles.
type Service struct {
	pool     *pgxpool.Pool
	project  *project.Project
	tokens   *auth.Tokens
	logger   *slog.Logger
	clock    func() time.Time
	hasher   *auth.Hasher
	decoy    string
	roles    auth.RolePermissions
	policy   auth.PasswordPolicy
	lockout  Lockout
	ipLimit  *auth.RateLimiter
	deletion string
	// mfa and mfaRoles: see WithMFA; revokeGrants: WithGrantRevoker.
	mfa          SecondFactor
	mfaRoles     []string
	revokeGrants GrantRevoker

	keyMu     sync.Mutex
	secretKey []byte // HMAC key of user_secrets; loaded on first use
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock timestamps come from (default time.Now).
func WithClock(clock func() time.Time) Option { return func(s *Service) { s.clock = clock } }

// WithHasher sets the password hasher (default auth.DefaultHasher()).
func WithHasher(h *auth.Hasher) Option { return func(s *Service) { s.hasher = h } }

// WithLockout sets the failed-login lockout policy (default DefaultLockout).
func WithLockout(l Lockout) Option { return func(s *Service) { s.lockout = l } }

// WithIPLimit sets the per-client-IP limit on authentication attempts
// (default auth.DefaultIPLimit a minute); nil turns it off.
func WithIPLimit(l *auth.RateLimiter) Option { return func(s *Service) { s.ipLimit = l } }

// WithSecretKey sets the 32-byte HMAC key single-use tokens and PINs are
// stored under. By default a random key is created in the database on
// first use; one kept outside the database also protects PINs from a
// leaked database dump.
func WithSecretKey(key []byte) Option {
	return func(s *Service) { s.secretKey = slices.Clone(key) }
}

// NewService returns a user service for project p. The database must have
// the core migrations applied (user, audit, outbox).
func NewService(pool *pgxpool.Pool, p *project.Project, tokens *auth.Tokens, logger *slog.Logger, opts ...Option) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{pool: pool, project: p, tokens: tokens, logger: logger, clock: time.Now,
		hasher: auth.DefaultHasher(), roles: auth.NewRolePermissions(p.Roles),
		policy:   auth.PasswordPolicy{MinLength: p.Auth.Password.MinLength, MaxLength: p.Auth.Password.MaxLength},
		lockout:  DefaultLockout(),
		deletion: p.Auth.UserDeletion,
	}
	if s.deletion == "" {
		s.deletion = DeletionAnonymise
	}
	s.ipLimit = auth.NewRateLimiter(auth.DefaultIPLimit, auth.DefaultIPLimitWindow, func() time.Time { return s.clock() })
	for _, o := range opts {
		o(s)
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
	ErrInvalidInvitation = apierr.New(http.StatusForbidden, CodeInvalidInvitation,
		"The invitation is invalid, used or expired.")
	ErrInvalidSecret = apierr.New(http.StatusBadRequest, CodeInvalidSecret,
		"The code or link is invalid, used or expired.")
	ErrSelfRoleChange = apierr.New(http.StatusForbidden, CodeSelfRoleChange,
		"You cannot change your own roles.")
	ErrRoleBeyondRights = apierr.New(http.StatusForbidden, CodeRoleBeyondRights,
		"You cannot grant or revoke a role with permissions you do not hold yourself.")
	ErrUnknownRole = apierr.New(http.StatusBadRequest, CodeUnknownRole, "The role is not defined by the project.")
)

// Stable public codes of the user service (besides apierr's).
const (
	CodeInvalidInvitation = "invalid_invitation"
	CodeInvalidSecret     = "invalid_code"
	CodeSelfRoleChange    = "self_role_change"
	CodeRoleBeyondRights  = "role_beyond_rights"
	CodeUnknownRole       = "unknown_role"
)

// EmailKey returns the identifier an email address is unique and looked up
// by: trimmed, lower-cased, then NFC-normalised (RFC 8265 §3.3.2, IN-2).
func EmailKey(email string) string {
	return norm.NFC.String(strings.ToLower(strings.TrimSpace(email)))
}

// now returns the clock's time in UTC at the database's precision.
func (s *Service) now() time.Time { return s.clock().UTC().Truncate(time.Microsecond) }

// caller returns the authenticated principal or 401.
func caller(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.PrincipalFrom(ctx)
	if !ok {
		return nil, apierr.ErrUnauthorized
	}
	return p, nil
}

// require returns the caller if it holds permission, else 401 or 403 (and
// writes an access.denied audit row).
func (s *Service) require(ctx context.Context, permission string) (*auth.Principal, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if !p.Can(permission) {
		s.auditAlone(ctx, audit.Entry{ActorID: &p.UserID, Action: "access.denied", Resource: "user",
			Outcome: audit.Denied, Reason: apierr.CodeForbidden, Details: map[string]any{"permission": permission}})
		return nil, apierr.ErrForbidden
	}
	return p, nil
}

// auditAlone writes e in a transaction of its own, for outcomes that
// change nothing else (a denied request). A failure is logged: the request
// already fails.
func (s *Service) auditAlone(ctx context.Context, e audit.Entry) {
	e.At = s.now()
	if err := db.InTx(ctx, s.pool, func(tx pgx.Tx) error { return audit.Write(ctx, tx, e) }); err != nil {
		s.logger.ErrorContext(ctx, "write audit row", "action", e.Action, "error", err)
	}
}

// writeAudit writes e through tx with the service's clock.
func (s *Service) writeAudit(ctx context.Context, tx pgx.Tx, e audit.Entry) error {
	e.At = s.now()
	return audit.Write(ctx, tx, e)
}

// limitIP counts an authentication attempt from the request's client IP
// and refuses it beyond the per-IP limit (AUTH-6).
func (s *Service) limitIP(ctx context.Context) error {
	ip := server.ClientIP(ctx)
	if s.ipLimit == nil || ip == "" {
		return nil
	}
	if ok, wait := s.ipLimit.Allow(ip); !ok {
		return tooManyRequests(wait)
	}
	return nil
}

// RetryAfter is the cause of a 429: how long the client should wait.
type RetryAfter struct{ Wait time.Duration }

func (r *RetryAfter) Error() string { return fmt.Sprintf("retry after %s", r.Wait) }

// RetryAfterOf returns the wait a 429 from this package asks for.
func RetryAfterOf(err error) (time.Duration, bool) {
	var r *RetryAfter
	if errors.As(err, &r) {
		return r.Wait, true
	}
	return 0, false
}

func tooManyRequests(wait time.Duration) error {
	return apierr.Wrap(&RetryAfter{Wait: wait.Round(time.Second)}, http.StatusTooManyRequests,
		apierr.CodeTooManyRequests, "Too many attempts. Try again later.")
}

func (s *Service) defaultLanguage() string {
	if len(s.project.Languages) > 0 {
		return s.project.Languages[0]
	}
	return "en"
}

// Profile holds the profile fields a user (or an admin) may change. Nil
// fields stay as they are. Server-owned fields (id, email, roles,
// timestamps, failed logins) are not part of it (AC-5).
type Profile struct {
	FirstName *string
	LastName  *string
	Phone     *string
	Language  *string
	TimeZone  *string
}

// check normalises and validates the set fields of p.
func (s *Service) checkProfile(p *Profile) []apierr.FieldError {
	var details []apierr.FieldError
	trim := func(v *string) {
		if v != nil {
			*v = strings.TrimSpace(*v)
		}
	}
	trim(p.FirstName)
	trim(p.LastName)
	trim(p.Phone)
	if p.FirstName != nil {
		details = append(details, checkName("/first_name", *p.FirstName)...)
	}
	if p.LastName != nil {
		details = append(details, checkName("/last_name", *p.LastName)...)
	}
	if p.Phone != nil && !validPhone(*p.Phone) {
		details = append(details, apierr.FieldError{Field: "/phone", Code: CodeInvalid,
			Message: "The phone number may hold digits, spaces, + - ( ) and at most 32 characters."})
	}
	if p.Language != nil && !slices.Contains(s.project.Languages, *p.Language) {
		details = append(details, apierr.FieldError{Field: "/language", Code: CodeUnsupported,
			Message: "The language must be one of " + strings.Join(s.project.Languages, ", ") + "."})
	}
	if p.TimeZone != nil && !validTimeZone(*p.TimeZone) {
		details = append(details, apierr.FieldError{Field: "/time_zone", Code: CodeInvalid,
			Message: "The time zone must be an IANA time zone name such as Europe/Amsterdam."})
	}
	return details
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

var phoneRe = regexp.MustCompile(`^[0-9+() -]{0,32}$`)

func validPhone(p string) bool { return phoneRe.MatchString(p) }

func validTimeZone(tz string) bool {
	if len(tz) > MaxTimeZoneLen || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}
