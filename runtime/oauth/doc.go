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
// Passwords are checked through the narrow PasswordChecker interface.
package oauth
