package spec

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Application types.
const (
	AppPublic       = "public"       // cannot keep a secret: mobile, single-page and native apps
	AppConfidential = "confidential" // authenticates with a client secret: servers, gateways
)

// ApplicationTypes lists every valid application type.
var ApplicationTypes = []string{AppPublic, AppConfidential}

// OAuth2 grant types an application may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// GrantTypes lists every grant type an application may declare. The
// implicit grant is not among them (RFC 9700 §2.1.2, SECURITY.md OA-4).
var GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantPassword}

// Bounds of an application's token lifetimes (SECURITY.md TOK-5).
const (
	maxAppRefreshTokenTTL = 365 * 24 * time.Hour
)

// Application is an `application` block: a registered OAuth2 client.
type Application struct {
	Name         string // the client_id
	Description  string
	Type         string   // AppPublic or AppConfidential
	GrantTypes   []string // declaration order, no duplicates
	RedirectURIs []string
	Scopes       []string // the scopes the application may request
	// AccessTokenTTL and RefreshTokenTTL are Go duration strings; empty
	// means the project's auth block's.
	AccessTokenTTL  string
	RefreshTokenTTL string
	DeclRange       hcl.Range
}

// HasGrant reports whether the application is registered for the grant type.
func (a *Application) HasGrant(g string) bool { return slices.Contains(a.GrantTypes, g) }

// Application returns the application with the given name, or nil.
func (p *Project) Application(name string) *Application {
	for _, a := range p.Applications {
		if a.Name == name {
			return a
		}
	}
	return nil
}

var applicationNameRule = nameRule{
	kind:  "application",
	re:    projectNameRule.re, // the project name's form: client ids and provider names appear in URLs
	shape: projectNameRule.shape,
}

var applicationSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "type", Required: true},
		{Name: "grant_types", Required: true},
		{Name: "redirect_uris"},
		{Name: "scopes"},
		{Name: "access_token_ttl"},
		{Name: "refresh_token_ttl"},
	},
}

// scopeRe is an RFC 6749 §3.3 scope-token restricted to a readable subset.
var scopeRe = regexp.MustCompile(`^[a-z][a-z0-9_.:-]{0,63}$`)

// Scopes with a meaning to the OpenID Connect provider.
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"
	ScopeEmail         = "email"
	ScopeOfflineAccess = "offline_access"
)

// decodeApplicationBlock decodes an `application` block. Defaults: scopes
// are openid, profile and email, plus offline_access when the application
// may refresh tokens.
func decodeApplicationBlock(block *hcl.Block) (*Application, hcl.Diagnostics) {
	app := &Application{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := applicationNameRule.check(app.Name, block.LabelRanges[0], false)
	content, d := bodyContent(block.Body, applicationSchema)
	diags = append(diags, d...)
	attrs := content.Attributes

	if a := attrs["description"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		app.Description = s
	}
	if a := attrs["type"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if slices.Contains(ApplicationTypes, s) {
				app.Type = s
			} else {
				diags = append(diags, errorDiag(a.Expr.Range(), "Unknown application type",
					unknownDetail(s, "an application type", ApplicationTypes)))
			}
		}
	}
	grantRanges := map[string]hcl.Range{}
	if a := attrs["grant_types"]; a != nil {
		grants, ranges, ok, d := decodeStringList(a, false)
		diags = append(diags, d...)
		if ok && len(grants) == 0 {
			diags = append(diags, errorDiag(a.Expr.Range(), "Empty grant type list",
				fmt.Sprintf("An application needs at least one grant type: use %s.", quotedList(GrantTypes))))
		}
		for i, g := range grants {
			switch {
			case g == "implicit" || g == "token":
				diags = append(diags, errorDiag(ranges[i], "Unsupported grant type",
					"The implicit grant returns tokens in the redirect URI, where they leak; RFC 9700 §2.1.2 forbids it. Use \"authorization_code\", which requires PKCE."))
			case !slices.Contains(GrantTypes, g):
				diags = append(diags, errorDiag(ranges[i], "Unknown grant type", unknownDetail(g, "a grant type", GrantTypes)))
			case slices.Contains(app.GrantTypes, g):
				diags = append(diags, errorDiag(ranges[i], "Duplicate grant type",
					fmt.Sprintf("The grant type %q is already listed at %s.", g, grantRanges[g].String())))
			default:
				app.GrantTypes = append(app.GrantTypes, g)
				grantRanges[g] = ranges[i]
			}
		}
	}
	if r, ok := grantRanges[GrantPassword]; ok {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagWarning,
			Summary:  "Password grant",
			Detail:   fmt.Sprintf("The application %s may exchange a user's password for tokens (the resource owner password credentials grant). RFC 9700 §2.4 says it MUST NOT be used: the application sees the password and MFA cannot be enforced by a login page. Keep it for first-party apps you are migrating, and prefer \"authorization_code\".", quote(app.Name)),
			Subject:  r.Ptr(),
		})
	}
	if r, ok := grantRanges[GrantClientCredentials]; ok && app.Type == AppPublic {
		diags = append(diags, errorDiag(r, "Client credentials for a public application",
			"A public application cannot keep a secret, so it cannot authenticate as itself: client_credentials needs type = \"confidential\"."))
	}
	if r, ok := grantRanges[GrantRefreshToken]; ok && !app.HasGrant(GrantAuthorizationCode) && !app.HasGrant(GrantPassword) {
		diags = append(diags, errorDiag(r, "Refresh token without a user grant",
			"Refresh tokens are issued with a user's authorization: add \"authorization_code\" (or \"password\") to grant_types, or remove \"refresh_token\"."))
	}

	if a := attrs["redirect_uris"]; a != nil {
		uris, ranges, _, d := decodeStringList(a, false)
		diags = append(diags, d...)
		seen := map[string]int{}
		for i, u := range uris {
			if j, dup := seen[u]; dup {
				diags = append(diags, errorDiag(ranges[i], "Duplicate redirect URI",
					fmt.Sprintf("The redirect URI %s is already listed at %s.", quote(u), ranges[j].String())))
				continue
			}
			seen[u] = i
			if d := checkRedirectURI(u, ranges[i]); d != nil {
				diags = append(diags, d)
				continue
			}
			app.RedirectURIs = append(app.RedirectURIs, u)
		}
		if !app.HasGrant(GrantAuthorizationCode) && len(uris) > 0 {
			diags = append(diags, errorDiag(a.NameRange, "Redirect URIs without authorization code",
				"Redirect URIs are only used by the authorization_code grant, which the application does not declare."))
		}
	} else if r, ok := grantRanges[GrantAuthorizationCode]; ok {
		diags = append(diags, errorDiag(r, "Missing redirect URIs",
			"The authorization_code grant redirects the browser back to the application: list its redirect_uris, such as [\"clinic://callback\"] or [\"https://portal.example.org/callback\"]."))
	}

	if a := attrs["scopes"]; a != nil {
		scopes, ranges, _, d := decodeStringList(a, false)
		diags = append(diags, d...)
		seen := map[string]int{}
		for i, s := range scopes {
			if j, dup := seen[s]; dup {
				diags = append(diags, errorDiag(ranges[i], "Duplicate scope",
					fmt.Sprintf("The scope %q is already listed at %s.", s, ranges[j].String())))
				continue
			}
			seen[s] = i
			if !scopeRe.MatchString(s) {
				diags = append(diags, errorDiag(ranges[i], "Invalid scope",
					fmt.Sprintf("%s is not a valid scope: use 1 to 64 lower-case letters, digits, and _ . : -, starting with a letter, such as \"openid\" or \"measurements:read\".", quote(s))))
				continue
			}
			app.Scopes = append(app.Scopes, s)
		}
	} else {
		app.Scopes = []string{ScopeOpenID, ScopeProfile, ScopeEmail}
		if app.HasGrant(GrantRefreshToken) {
			app.Scopes = append(app.Scopes, ScopeOfflineAccess)
		}
	}

	var access time.Duration
	if a := attrs["access_token_ttl"]; a != nil {
		d, ok, dd := decodeDuration(a)
		diags = append(diags, dd...)
		switch {
		case !ok:
		case d < minAccessTokenTTL || d > maxAccessTokenTTL:
			diags = append(diags, errorDiag(a.Expr.Range(), "Duration out of range",
				fmt.Sprintf("access_token_ttl is %s; it must be between 1m and 1h, since an access token cannot be revoked before it expires.", d)))
		default:
			access = d
			app.AccessTokenTTL = d.String()
		}
	}
	if a := attrs["refresh_token_ttl"]; a != nil {
		d, ok, dd := decodeDuration(a)
		diags = append(diags, dd...)
		switch {
		case !ok:
		case d > maxAppRefreshTokenTTL:
			diags = append(diags, errorDiag(a.Expr.Range(), "Duration out of range",
				fmt.Sprintf("refresh_token_ttl is %s; it must be at most 365d.", d)))
		case d <= access:
			diags = append(diags, errorDiag(a.Expr.Range(), "Duration out of range",
				fmt.Sprintf("refresh_token_ttl is %s; it must be longer than access_token_ttl (%s).", d, access)))
		case !app.HasGrant(GrantRefreshToken):
			diags = append(diags, errorDiag(a.NameRange, "Refresh token lifetime without refresh tokens",
				"refresh_token_ttl only applies to applications whose grant_types include \"refresh_token\"."))
		default:
			app.RefreshTokenTTL = d.String()
		}
	}
	return app, diags
}

// checkRedirectURI accepts an absolute URI without a fragment (RFC 6749
// §3.1.2); http only for loopback hosts (RFC 8252 §7.3, §8.3), and custom
// schemes for native apps (RFC 8252 §7.1). See SECURITY.md OA-2.
func checkRedirectURI(s string, r hcl.Range) *hcl.Diagnostic {
	u, err := url.Parse(s)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") {
		return errorDiag(r, "Invalid redirect URI",
			fmt.Sprintf("%s is not an absolute URI, such as \"https://portal.example.org/callback\" or \"clinic://callback\".", quote(s)))
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return errorDiag(r, "Invalid redirect URI",
			fmt.Sprintf("%s has a fragment; redirect URIs must not (RFC 6749 §3.1.2).", quote(s)))
	}
	if u.User != nil {
		return errorDiag(r, "Invalid redirect URI",
			fmt.Sprintf("%s carries user info; redirect URIs must not.", quote(s)))
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return errorDiag(r, "Insecure redirect URI",
			fmt.Sprintf("%s uses http on a host that is not a loopback address; use https, or http://127.0.0.1 for native apps (RFC 8252 §7.3).", quote(s)))
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

var mfaSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "required_for_roles"}},
}

// decodeMFABlocks decodes the auth block's `mfa` block; its roles are
// checked in the link pass.
func decodeMFABlocks(auth *Auth, blocks hcl.Blocks) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := false
	for _, b := range blocks {
		if b.Type != "mfa" {
			continue
		}
		if seen {
			diags = append(diags, errorDiag(b.DefRange, "Duplicate mfa block",
				"An mfa block was already declared in this auth block; declare it once."))
			continue
		}
		seen = true
		content, d := bodyContent(b.Body, mfaSchema)
		diags = append(diags, d...)
		if a := content.Attributes["required_for_roles"]; a != nil {
			roles, ranges, _, d := decodeStringList(a, false)
			diags = append(diags, d...)
			auth.MFARequiredForRoles, auth.mfaRanges = roles, ranges
		}
	}
	return diags
}

// linkMFARoles checks that the roles requiring MFA are declared.
func linkMFARoles(p *Project) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = r.Name
	}
	for i, r := range p.Auth.MFARequiredForRoles {
		if !slices.Contains(names, r) && i < len(p.Auth.mfaRanges) {
			diags = append(diags, errorDiag(p.Auth.mfaRanges[i], "Unknown role in mfa",
				unknownDetail(r, "a declared role", names)))
		}
	}
	return diags
}
