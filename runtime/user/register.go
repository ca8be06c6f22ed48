package user

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/text/unicode/norm"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/audit"
	"github.com/exhgen/exhgen/runtime/outbox"
)

// Mail templates the user service sends (the mail service renders them).
const (
	MailVerifyEmail   = "verify_email"
	MailPasswordReset = "password_reset"
	MailInvitation    = "invitation"
	MailEmailChanged  = "email_changed"
)

// Register creates a user with no roles. The project's registration mode
// decides who may: "open" anyone (a verification mail with a link and a
// PIN goes to the address), "invite" only with a valid invitation token
// for the same address (the address counts as verified), "closed" nobody
// (403 registration_closed). Invalid fields give one 400 naming all of
// them.
//
// A taken address answers 409 email_taken. That tells a caller the address
// has an account; we accept it because sign-up forms need the answer, and
// the per-IP limit bounds how fast addresses can be probed. Login, password
// reset and verification never tell.
func (s *Service) Register(ctx context.Context, r Registration) (*User, error) {
	mode := s.project.Auth.Registration
	switch {
	case mode == RegistrationOpen:
	case mode == RegistrationInvite && r.Invitation != "":
	case mode == RegistrationInvite:
		return nil, ErrInvalidInvitation
	default:
		return nil, ErrRegistrationClosed
	}
	if err := s.limitIP(ctx); err != nil {
		return nil, err
	}
	u := &User{
		Email:    norm.NFC.String(strings.TrimSpace(r.Email)),
		Language: r.Language,
		TimeZone: r.TimeZone,
		Roles:    []string{},
	}
	prof := Profile{FirstName: &r.FirstName, LastName: &r.LastName, Phone: &r.Phone}
	if u.Language != "" {
		prof.Language = &u.Language
	}
	if u.TimeZone != "" {
		prof.TimeZone = &u.TimeZone
	}
	var details []apierr.FieldError
	if d := checkEmail(u.Email); d != nil {
		details = append(details, *d)
	}
	if err := s.policy.Check(r.Password, u.Email); err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			details = append(details, ae.Details...)
		}
	}
	details = append(details, s.checkProfile(&prof)...)
	if len(details) > 0 {
		return nil, apierr.Validation("The registration is invalid.", details...)
	}
	u.FirstName, u.LastName, u.Phone = r.FirstName, r.LastName, r.Phone
	if u.Language == "" {
		u.Language = s.defaultLanguage()
	}
	if u.TimeZone == "" {
		u.TimeZone = DefaultTZ
	}

	hash, err := s.hasher.Hash(ctx, r.Password)
	if err != nil {
		return nil, fmt.Errorf("register: %w", err)
	}
	u.ID = uuid.New()
	u.CreatedAt = s.now()
	u.UpdatedAt = u.CreatedAt
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var verifiedAt *time.Time
		if r.Invitation != "" {
			inv, err := s.consumeToken(ctx, tx, purposeInvite, r.Invitation)
			if errors.Is(err, ErrInvalidSecret) || (err == nil && EmailKey(inv.Email) != EmailKey(u.Email)) {
				return ErrInvalidInvitation
			}
			if err != nil {
				return err
			}
			verifiedAt, u.EmailVerified = &u.CreatedAt, true
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO users (id, email, email_key, password_hash, first_name, last_name, phone,
			                   language, time_zone, roles, email_verified_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			u.ID, u.Email, EmailKey(u.Email), hash, u.FirstName, u.LastName, u.Phone,
			u.Language, u.TimeZone, u.Roles, verifiedAt, u.CreatedAt, u.UpdatedAt)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "users_email_key_unique" {
			return ErrEmailTaken
		}
		if err != nil {
			return fmt.Errorf("insert user: %w", err)
		}
		if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: &u.ID, Action: "user.register", Resource: "user",
			ResourceID: u.ID.String(), Outcome: audit.Success, Details: map[string]any{"invited": r.Invitation != ""}}); err != nil {
			return err
		}
		if u.EmailVerified {
			return nil
		}
		return s.sendVerification(ctx, tx, u.ID, u.Email, u.Language)
	})
	if err != nil {
		return nil, err
	}
	s.logger.InfoContext(ctx, "user registered", "user_id", u.ID)
	return u, nil
}

// sendVerification mails a verification link token and PIN for email.
func (s *Service) sendVerification(ctx context.Context, tx pgx.Tx, id uuid.UUID, email, lang string) error {
	sec, err := s.issueSecret(ctx, tx, purposeVerify, &id, email, VerifyTokenTTL, true, nil)
	if err != nil {
		return err
	}
	return s.mail(ctx, tx, &id, email, MailVerifyEmail, lang, map[string]any{"token": sec.Token, "pin": sec.PIN})
}

// mail queues a mail in tx.
func (s *Service) mail(ctx context.Context, tx pgx.Tx, id *uuid.UUID, to, template, lang string, data map[string]any) error {
	_, err := outbox.Mail(ctx, tx, outbox.MailRecord{UserID: id, To: to, Template: template, Language: lang, Data: data, At: s.now()})
	return err
}

// Invitation is a sent invitation.
type Invitation struct {
	Email     string
	ExpiresAt time.Time
}

// Invite mails an invitation to register to email (users:invitations:create).
// The token it carries is single-use and lets exactly that address
// register while registration is "invite". An address that already has an
// account gets no mail, and the answer is the same.
func (s *Service) Invite(ctx context.Context, email, language string) (*Invitation, error) {
	p, err := s.require(ctx, PermInvite)
	if err != nil {
		return nil, err
	}
	email = norm.NFC.String(strings.TrimSpace(email))
	if d := checkEmail(email); d != nil {
		return nil, apierr.Validation("The invitation is invalid.", *d)
	}
	if language == "" {
		language = s.defaultLanguage()
	} else if d := s.checkProfile(&Profile{Language: &language}); len(d) > 0 {
		return nil, apierr.Validation("The invitation is invalid.", d...)
	}
	inv := &Invitation{Email: email, ExpiresAt: s.now().Add(InviteTTL)}
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email_key = $1)`, EmailKey(email)).Scan(&exists); err != nil {
			return fmt.Errorf("look up address: %w", err)
		}
		if err := s.writeAudit(ctx, tx, audit.Entry{ActorID: &p.UserID, Action: "user.invite", Resource: "invitation",
			Outcome: audit.Success, Details: map[string]any{"existing_account": exists}}); err != nil {
			return err
		}
		if exists {
			return nil
		}
		sec, err := s.issueSecret(ctx, tx, purposeInvite, nil, email, InviteTTL, false, &p.UserID)
		if err != nil {
			return err
		}
		return s.mail(ctx, tx, nil, email, MailInvitation, language, map[string]any{"token": sec.Token})
	})
	if err != nil {
		return nil, err
	}
	return inv, nil
}
