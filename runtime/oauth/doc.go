// Package oauth is the backend's OAuth2 authorization server and OpenID
// Connect provider for the applications a project declares.
//
// Endpoints (documented by openapi.yaml, merged into the published API):
//
//	GET  /.well-known/openid-configuration  discovery (OIDC Discovery 1.0)
//	GET  /oauth/authorize                   the login page (plain HTML)
//	POST /oauth/authorize                   the login form: answers with a redirect carrying the code
//	POST /oauth/token                       RFC 6749 §3.2: authorization_code (PKCE S256), refresh_token, client_credentials, password
//	POST /oauth/revoke                      RFC 7009
//	POST /oauth/introspect                  RFC 7662
//	GET  /oauth/userinfo                    OIDC Core §5.3
//	GET  /oauth/applications                admin: list applications and their secrets' metadata
//	POST /oauth/applications/{id}/secrets   admin: rotate a confidential application's secret
//	GET  /oauth/grants                      the caller's authorizations of applications
//	DELETE /oauth/grants/{id}               revoke one of them
//	POST /oauth/authorize/sso/{provider}    SSO: the login page's "Sign in with ..." button
//	GET  /oauth/authorize/sso/{p}/callback  SSO: the external provider's answer
//	GET|POST /oauth/authorize/sso/{p}/link  SSO: open a link URL / confirm the link
//	POST /oauth/sso/links/{provider}        SSO: a link URL for the signed-in caller
//	GET  /oauth/sso/identities              SSO: the caller's linked provider accounts
//	DELETE /oauth/sso/identities/{id}       SSO: unlink one
//
// Security properties, named after SECURITY.md:
//   - OA-1: PKCE with S256 is required for every authorization request;
//     plain, malformed verifiers and downgrades are refused.
//   - OA-2: redirect URIs are compared as exact strings; only registered
//     http loopback URIs (127.0.0.1, [::1], localhost) may differ in port.
//   - OA-3: an authorization code is single-use; a second redemption
//     revokes the grant it produced, with every token of it.
//   - OA-4: each client gets only its registered grant types and scopes;
//     response_type is "code" only.
//   - OA-5: client secrets are 256-bit random, shown once, stored as HMACs,
//     compared in constant time; rotation keeps the previous ones valid for
//     an overlap.
//   - OA-6: the login page is bound to the browser by a cookie; its CSRF
//     token and the request's state derive from it; no third-party
//     content, Referrer-Policy: no-referrer.
//   - TOK-6: refresh tokens rotate. Concurrency policy: one winner. Uses of
//     a rotated token within ReuseWindow (default 5 s) of its rotation lost
//     a race and get invalid_grant without further effect; any later use
//     is a reuse and revokes the whole family (grant), access tokens
//     included.
//   - TOK-7: revoking any token revokes its grant (the chain); the
//     database holds only HMAC-SHA-256 signatures of opaque tokens.
//
// SSO (sso.go): the project's sso_provider blocks are external OpenID
// Connect providers. The backend is their relying party: authorization
// code with PKCE S256, a single-use state bound to the browser's pending
// authorization request (OA-6), a nonce, ID tokens verified by go-oidc with
// the provider's published keys; the PKCE verifier and nonce are HMACs of
// the state, so the database holds neither. A provider's account signs in
// to the account linked to its subject; else to the account with the same
// email only when the provider says the address is verified (an unverified
// one would allow account takeover); else to a new account when the
// provider may create users. The flow ends like a password sign-in: the
// second factor when needed, then our own authorization code for the
// requesting application. Linking is explicit for a signed-in user (sign-in
// at most an hour old, AUTH-8): a single-use link URL, the provider's
// sign-in, then a confirmation page naming both accounts.
//
// Passwords are checked through the narrow PasswordChecker interface.
package oauth
