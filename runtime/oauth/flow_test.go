package oauth

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestOIDC_ClientLibrariesWorkUnchanged drives the provider with
// golang.org/x/oauth2 (authorization code + PKCE through the login page,
// refresh, client credentials) and coreos/go-oidc (discovery, ID token
// verification, userinfo).
func TestOIDC_ClientLibrariesWorkUnchanged(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	uid := e.register("ada@example.test")
	ctx := t.Context()

	provider, err := oidc.NewProvider(ctx, e.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{
		ClientID:    "mobile",
		Endpoint:    provider.Endpoint(),
		RedirectURL: "http://127.0.0.1:49152/callback", // loopback: any port (OA-2)
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile", oidc.ScopeOfflineAccess},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-456"))
	loc := e.login(e.browser(), authURL, "ada@example.test", e.password)
	if loc.Query().Get("state") != "state-123" || loc.Query().Get("iss") != e.issuer {
		t.Fatalf("redirect %s lacks state or iss", loc)
	}
	if !strings.HasPrefix(loc.String(), "http://127.0.0.1:49152/callback?") {
		t.Fatalf("redirected to %s", loc)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" || tok.TokenType != "Bearer" {
		t.Fatalf("token = %+v", tok)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: "mobile"}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Nonce string `json:"nonce"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != uid.String() || claims.Email != "ada@example.test" || claims.Nonce != "nonce-456" || claims.Name != "Ada Lovelace" {
		t.Fatalf("id token: sub %s, claims %+v", idt.Subject, claims)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	if info.Subject != uid.String() || info.Email != "ada@example.test" {
		t.Fatalf("userinfo = %+v", info)
	}
	// The access token works on the fixed API too.
	if st, body := e.do(http.MethodGet, "/users/me", tok.AccessToken); st != http.StatusOK {
		t.Fatalf("/users/me: %d %s", st, body)
	}

	// Refresh: an expired token makes the TokenSource refresh.
	old := *tok
	tok.Expiry = tok.Expiry.Add(-24 * 60 * 60 * 1e9)
	fresh, err := conf.TokenSource(ctx, tok).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	if fresh.AccessToken == old.AccessToken || fresh.RefreshToken == old.RefreshToken || fresh.RefreshToken == "" {
		t.Fatal("refresh did not rotate the tokens")
	}

	// Client credentials for the confidential portal.
	cc := clientcredentials.Config{ClientID: "portal", ClientSecret: e.secret("portal"),
		TokenURL: provider.Endpoint().TokenURL, Scopes: []string{"measurements:read"}}
	ctok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client credentials: %v", err)
	}
	c, err := e.tokens.VerifyActive(ctx, ctok.AccessToken)
	if err != nil || c.ClientID != "portal" || c.Scope != "measurements:read" {
		t.Fatalf("client token claims %+v, %v", c, err)
	}
	// A client token is no user: the user API refuses it.
	if st, _ := e.do(http.MethodGet, "/users/me", ctok.AccessToken); st != http.StatusUnauthorized {
		t.Fatalf("client token on /users/me: %d", st)
	}
}

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st, body := e.do(http.MethodGet, "/.well-known/openid-configuration", "")
	if st != http.StatusOK {
		t.Fatal(st)
	}
	var d Discovery
	if err := json.Unmarshal(body, &d); err != nil {
		t.Fatal(err)
	}
	if d.Issuer != e.issuer || d.TokenEndpoint != e.issuer+"/oauth/token" || d.CodeChallengeMethodsSupported[0] != "S256" ||
		len(d.ResponseTypesSupported) != 1 || d.ResponseTypesSupported[0] != "code" {
		t.Fatalf("discovery = %+v", d)
	}
	for _, g := range d.GrantTypesSupported {
		if g == "implicit" {
			t.Fatal("implicit grant advertised")
		}
	}
	_ = context.Background
}
