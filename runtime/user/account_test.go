package user_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/exhgen/exhgen/runtime/apierr"
	"github.com/exhgen/exhgen/runtime/user"
)

// TestVerifyEmailByToken: open registration mails a link token and a PIN;
// the token verifies the address once.
func TestVerifyEmailByToken(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "alice@example.com")
	if u.EmailVerified {
		t.Fatal("verified before verification")
	}
	m := f.lastMail(t, "alice@example.com", user.MailVerifyEmail)
	if m.UserID == nil || *m.UserID != u.ID || m.Language != "nl" || len(m.Data["token"]) < 40 || len(m.Data["pin"]) != 6 {
		t.Fatalf("mail = %+v", m)
	}
	if err := f.users.VerifyEmail(t.Context(), user.Secret{Token: m.Data["token"]}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.users.Get(t.Context(), u.ID)
	if !got.EmailVerified {
		t.Fatal("not verified")
	}
	err := f.users.VerifyEmail(t.Context(), user.Secret{Token: m.Data["token"]})
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
	// The PIN sent with the token was used up with it.
	err = f.users.VerifyEmail(t.Context(), user.Secret{Email: "alice@example.com", PIN: m.Data["pin"]})
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
	if rows := f.audits(t, user.ActionEmailVerify); len(rows) != 1 {
		t.Fatalf("audit = %+v", rows)
	}
}

// TestSecretsAreStoredOnlyAsHashes: no token or PIN a mail carried appears
// in user_secrets (TOK-7's rule for our own secrets).
func TestSecretsAreStoredOnlyAsHashes(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "alice@example.com")
	if err := f.users.RequestPasswordReset(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	var dump []byte
	if err := f.pool.QueryRow(t.Context(), `SELECT string_agg(s::text, '|')::bytea FROM user_secrets s`).Scan(&dump); err != nil {
		t.Fatal(err)
	}
	for _, tmpl := range []string{user.MailVerifyEmail, user.MailPasswordReset} {
		m := f.lastMail(t, "alice@example.com", tmpl)
		for _, v := range []string{m.Data["token"], m.Data["pin"]} {
			if bytes.Contains(dump, []byte(v)) {
				t.Fatalf("%s secret %q stored in clear", tmpl, v)
			}
		}
	}
}

// TestVerifyEmailByPINAttemptLimit: a PIN allows five tries; the sixth is
// refused even when right, and expiry voids it too.
func TestVerifyEmailByPINAttemptLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "alice@example.com")
	f.register(t, "bob@example.com")
	pin := f.lastMail(t, "alice@example.com", user.MailVerifyEmail).Data["pin"]
	wrong := "000000"
	if pin == wrong {
		wrong = "111111"
	}
	for range user.MaxPINAttempts {
		err := f.users.VerifyEmail(t.Context(), user.Secret{Email: "alice@example.com", PIN: wrong})
		requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
	}
	err := f.users.VerifyEmail(t.Context(), user.Secret{Email: "alice@example.com", PIN: pin})
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)

	// Bob's PIN works within its 15 minutes, not after.
	bobPIN := f.lastMail(t, "bob@example.com", user.MailVerifyEmail).Data["pin"]
	f.advance(user.PINTTL)
	err = f.users.VerifyEmail(t.Context(), user.Secret{Email: "bob@example.com", PIN: bobPIN})
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
	// A malformed PIN is an attempt like any other, never an error of its own.
	err = f.users.VerifyEmail(t.Context(), user.Secret{Email: "bob@example.com", PIN: "12ab"})
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
}

// TestVerifyEmailByPIN: the right PIN verifies, case-insensitively as to
// the address.
func TestVerifyEmailByPIN(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u := f.register(t, "alice@example.com")
	pin := f.lastMail(t, "alice@example.com", user.MailVerifyEmail).Data["pin"]
	if err := f.users.VerifyEmail(t.Context(), user.Secret{Email: "ALICE@example.com", PIN: pin}); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.users.Get(t.Context(), u.ID); !got.EmailVerified {
		t.Fatal("not verified")
	}
}

// TestSecretsAreSingleUseUnderConcurrency: ten parallel uses of one reset
// token, and of one PIN, set the password exactly once each.
func TestSecretsAreSingleUseUnderConcurrency(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen, user.WithIPLimit(nil))
	f.register(t, "alice@example.com")
	for _, usePIN := range []bool{false, true} {
		f.advance(time.Second) // lastMail orders by time
		if err := f.users.RequestPasswordReset(t.Context(), "alice@example.com"); err != nil {
			t.Fatal(err)
		}
		m := f.lastMail(t, "alice@example.com", user.MailPasswordReset)
		sec := user.Secret{Token: m.Data["token"]}
		if usePIN {
			sec = user.Secret{Email: "alice@example.com", PIN: m.Data["pin"]}
		}
		var (
			wg sync.WaitGroup
			mu sync.Mutex
			ok int
		)
		for range 10 {
			wg.Go(func() {
				err := f.users.ResetPassword(t.Context(), sec, "a brand new passphrase for alice")
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					ok++
				} else if !errors.Is(err, user.ErrInvalidSecret) {
					t.Errorf("reset: %v", err)
				}
			})
		}
		wg.Wait()
		if ok != 1 {
			t.Fatalf("pin %v: %d resets succeeded, want 1", usePIN, ok)
		}
	}
}

// TestPasswordReset: a reset sets the password, ends every session, clears
// the lockout and is audited; an unknown address gets no mail and the
// same answer; a newer request voids the older secret.
func TestPasswordReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "alice@example.com")
	tok, err := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	for range 30 {
		_, _ = f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: wrongPassword})
	}
	if err := f.users.RequestPasswordReset(t.Context(), "nobody@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := f.countMails(t, "nobody@example.com"); n != 0 {
		t.Fatalf("%d mails to an unknown address", n)
	}
	if err := f.users.RequestPasswordReset(t.Context(), "Alice@Example.com"); err != nil {
		t.Fatal(err)
	}
	old := f.lastMail(t, "alice@example.com", user.MailPasswordReset).Data["token"]
	f.advance(time.Second)
	if err := f.users.RequestPasswordReset(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	m := f.lastMail(t, "alice@example.com", user.MailPasswordReset)
	const next = "a brand new passphrase for alice"
	err = f.users.ResetPassword(t.Context(), user.Secret{Token: old}, next)
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
	// The policy applies, with the address known from the token; a refused
	// password leaves the token usable.
	err = f.users.ResetPassword(t.Context(), user.Secret{Token: m.Data["token"]}, "alice@example.com!!")
	requireAPIError(t, err, http.StatusBadRequest, apierr.CodeValidation, "/password")
	if err := f.users.ResetPassword(t.Context(), user.Secret{Token: m.Data["token"]}, next); err != nil {
		t.Fatal(err)
	}
	if _, err := f.tokens.Authenticate(t.Context(), tok.AccessToken); err == nil {
		t.Fatal("a session survived the reset")
	}
	if _, err := f.users.Login(t.Context(), user.Credentials{Email: "alice@example.com", Password: next}); err != nil {
		t.Fatalf("login after reset (the lock is cleared): %v", err)
	}
	if rows := f.audits(t, user.ActionPasswordReset); len(rows) != 1 {
		t.Fatalf("audit = %+v", rows)
	}
	// Reset tokens expire after an hour.
	if err := f.users.RequestPasswordReset(t.Context(), "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	late := f.lastMail(t, "alice@example.com", user.MailPasswordReset).Data["token"]
	f.advance(user.ResetTokenTTL)
	err = f.users.ResetPassword(t.Context(), user.Secret{Token: late}, "yet another passphrase for alice")
	requireAPIError(t, err, http.StatusBadRequest, user.CodeInvalidSecret)
}

// TestInvitationRegistration: in invite mode only an invitation's address
// registers, once, and arrives verified.
func TestInvitationRegistration(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationInvite)
	// Bootstrap an admin through a service of the same database in open mode.
	open := user.NewService(f.pool, testProject(user.RegistrationOpen), f.tokens, slog.New(slog.DiscardHandler), user.WithClock(f.clock))
	admin, err := open.Register(t.Context(), user.Registration{Email: "admin@example.com", Password: strongPassword})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.users.SetRoles(t.Context(), admin.ID, []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	adminCtx := f.loginCtx(t, "admin@example.com", strongPassword)

	_, err = f.users.Register(t.Context(), user.Registration{Email: "carol@example.com", Password: strongPassword})
	requireAPIError(t, err, http.StatusForbidden, user.CodeInvalidInvitation)

	inv, err := f.users.Invite(adminCtx, "Carol@example.com", "en")
	if err != nil {
		t.Fatal(err)
	}
	if inv.Email != "Carol@example.com" || !inv.ExpiresAt.Equal(f.clock().Add(user.InviteTTL)) {
		t.Fatalf("invitation = %+v", inv)
	}
	m := f.lastMail(t, "Carol@example.com", user.MailInvitation)
	if m.Language != "en" || m.Data["token"] == "" || m.Data["pin"] != "" {
		t.Fatalf("mail = %+v", m)
	}
	// Another address cannot use it.
	_, err = f.users.Register(t.Context(), user.Registration{Email: "mallory@example.com", Password: strongPassword, Invitation: m.Data["token"]})
	requireAPIError(t, err, http.StatusForbidden, user.CodeInvalidInvitation)
	u, err := f.users.Register(t.Context(), user.Registration{Email: "carol@example.com", Password: strongPassword, Invitation: m.Data["token"]})
	if err != nil {
		t.Fatal(err)
	}
	if !u.EmailVerified || len(u.Roles) != 0 {
		t.Fatalf("user = %+v", u)
	}
	_, err = f.users.Register(t.Context(), user.Registration{Email: "carol2@example.com", Password: strongPassword, Invitation: m.Data["token"]})
	requireAPIError(t, err, http.StatusForbidden, user.CodeInvalidInvitation)

	// Inviting an existing address answers the same and sends nothing.
	before := f.countMails(t, "admin@example.com")
	if _, err := f.users.Invite(adminCtx, "admin@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if f.countMails(t, "admin@example.com") != before {
		t.Fatal("an invitation went to an existing account")
	}
	// Without users:invitations:create: 403, audited as denied.
	carolCtx := f.loginCtx(t, "carol@example.com", strongPassword)
	_, err = f.users.Invite(carolCtx, "dave@example.com", "")
	requireAPIError(t, err, http.StatusForbidden, apierr.CodeForbidden)
	if rows := f.audits(t, "access.denied"); len(rows) != 1 || rows[0].Details["permission"] != user.PermInvite {
		t.Fatalf("denied audit = %+v", rows)
	}
	// Invitations expire.
	if _, err := f.users.Invite(adminCtx, "erin@example.com", ""); err != nil {
		t.Fatal(err)
	}
	late := f.lastMail(t, "erin@example.com", user.MailInvitation).Data["token"]
	f.advance(user.InviteTTL)
	_, err = f.users.Register(t.Context(), user.Registration{Email: "erin@example.com", Password: strongPassword, Invitation: late})
	requireAPIError(t, err, http.StatusForbidden, user.CodeInvalidInvitation)
}

// TestChangeEmail: the address changes only once the new one is verified;
// the old address gets a notice; a taken address answers alike.
func TestChangeEmail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	u, ctx := f.userWith(t, "alice@example.com")
	f.register(t, "taken@example.com")
	err := f.users.ChangeEmail(ctx, "new@example.com", wrongPassword)
	requireAPIError(t, err, http.StatusUnauthorized, apierr.CodeInvalidCredentials)
	requireAPIError(t, f.users.ChangeEmail(ctx, "not an address", strongPassword), http.StatusBadRequest, apierr.CodeValidation, "/email")
	if err := f.users.ChangeEmail(ctx, "taken@example.com", strongPassword); err != nil {
		t.Fatal(err)
	}
	if err := f.users.ChangeEmail(ctx, "New@Example.com", strongPassword); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.users.Get(t.Context(), u.ID); got.Email != "alice@example.com" {
		t.Fatalf("address changed before verification: %s", got.Email)
	}
	f.lastMail(t, "alice@example.com", user.MailEmailChanged)
	pin := f.lastMail(t, "New@Example.com", user.MailVerifyEmail).Data["pin"]
	if err := f.users.VerifyEmail(t.Context(), user.Secret{Email: "new@example.com", PIN: pin}); err != nil {
		t.Fatal(err)
	}
	got, _ := f.users.Get(t.Context(), u.ID)
	if got.Email != "New@Example.com" || !got.EmailVerified {
		t.Fatalf("after verification: %+v", got)
	}
	if _, err := f.users.Login(t.Context(), user.Credentials{Email: "new@example.com", Password: strongPassword}); err != nil {
		t.Fatal(err)
	}
	// taken@ got its own verification mail at registration, none since.
	if n := f.countMails(t, "taken@example.com"); n != 1 {
		t.Fatalf("%d mails to the taken address", n)
	}
}

// TestRegisterSendsOneVerificationMail: the mail is queued in the
// registration's transaction (a refused registration queues none).
func TestRegisterSendsOneVerificationMail(t *testing.T) {
	t.Parallel()
	f := newFixture(t, user.RegistrationOpen)
	f.register(t, "alice@example.com")
	_, err := f.users.Register(t.Context(), user.Registration{Email: "ALICE@example.com", Password: strongPassword})
	requireAPIError(t, err, http.StatusConflict, apierr.CodeEmailTaken)
	if n := f.countMails(t, "alice@example.com") + f.countMails(t, "ALICE@example.com"); n != 1 {
		t.Fatalf("%d mails, want 1", n)
	}
}
