package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// SSOProvider is an `sso_provider` block: an external OpenID Connect
// identity provider (a hospital's, say) users sign in with on the login
// page, or link to their account.
type SSOProvider struct {
	Name  string // in URLs: /oauth/authorize/sso/<name>
	Title string // the login page's button: "Sign in with <Title>"
	// Issuer is the provider's issuer URL; its discovery document is
	// <Issuer>/.well-known/openid-configuration.
	Issuer   string
	ClientID string
	// ClientSecretEnv names the environment variable holding the client
	// secret: secrets never go into the spec or the generated backend.
	ClientSecretEnv string
	Scopes          []string // always include openid
	// AllowedEmailDomains, when set, restricts sign-ins to these domains
	// (lower-case, no leading @).
	AllowedEmailDomains []string
	// CreateUsers says whether a first sign-in creates an account; nil
	// means "when the project's registration is open".
	CreateUsers *bool
	// DefaultRoles are given to the accounts the provider creates.
	DefaultRoles []string
	Claims       SSOClaims
	DeclRange    hcl.Range

	roleRanges []hcl.Range
}

// SSOClaims names the ID token claims the provider's users are read from.
type SSOClaims struct {
	Email         string // default "email"
	EmailVerified string // default "email_verified"
	FirstName     string // default "given_name"
	LastName      string // default "family_name"
}

// SSOProvider returns the provider with the given name, or nil.
func (p *Project) SSOProvider(name string) *SSOProvider {
	for _, s := range p.SSOProviders {
		if s.Name == name {
			return s
		}
	}
	return nil
}

var ssoNameRule = nameRule{
	kind:  "sso_provider",
	re:    projectNameRule.re, // the project name's form: client ids and provider names appear in URLs
	shape: projectNameRule.shape,
}

var ssoSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "title"},
		{Name: "issuer", Required: true},
		{Name: "client_id", Required: true},
		{Name: "client_secret_env", Required: true},
		{Name: "scopes"},
		{Name: "allowed_email_domains"},
		{Name: "create_users"},
		{Name: "default_roles"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "claims"}},
}

var ssoClaimsSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "email"}, {Name: "email_verified"}, {Name: "first_name"}, {Name: "last_name"},
	},
}

var (
	envNameRe   = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,127}$`)
	claimNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.:/-]{0,127}$`)
	domainRe    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

// decodeSSOProviderBlock decodes an `sso_provider` block; default_roles are
// checked in the link pass.
func decodeSSOProviderBlock(block *hcl.Block) (*SSOProvider, hcl.Diagnostics) {
	sp := &SSOProvider{Name: block.Labels[0], DeclRange: block.DefRange,
		Scopes: []string{ScopeOpenID, ScopeEmail, ScopeProfile},
		Claims: SSOClaims{Email: "email", EmailVerified: "email_verified", FirstName: "given_name", LastName: "family_name"}}
	diags := ssoNameRule.check(sp.Name, block.LabelRanges[0], false)
	content, d := bodyContent(block.Body, ssoSchema)
	diags = append(diags, d...)
	attrs := content.Attributes
	sp.Title = sp.Name
	if a := attrs["title"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok && strings.TrimSpace(s) == "" {
			diags = append(diags, errorDiag(a.Expr.Range(), "Empty title",
				"The title is shown on the login page's button and must not be empty; leave it out to show the provider's name."))
		} else if ok {
			sp.Title = s
		}
	}
	if a := attrs["issuer"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if d := checkIssuerURL(s, a.Expr.Range()); d != nil {
				diags = append(diags, d)
			}
			sp.Issuer = s
		}
	}
	if a := attrs["client_id"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok && strings.TrimSpace(s) == "" {
			diags = append(diags, errorDiag(a.Expr.Range(), "Empty client ID",
				"client_id is the identifier the identity provider registered this backend under; it must not be empty."))
		}
		sp.ClientID = s
	}
	if a := attrs["client_secret_env"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok && !envNameRe.MatchString(s) {
			diags = append(diags, errorDiag(a.Expr.Range(), "Invalid environment variable name",
				fmt.Sprintf("%s is not an environment variable name: use upper-case letters, digits and underscores, such as \"HOSPITAL_SSO_CLIENT_SECRET\". The secret itself never goes into the spec.", quote(s))))
		}
		sp.ClientSecretEnv = s
	}
	if a := attrs["scopes"]; a != nil {
		scopes, ranges, ok, d := decodeStringList(a, false)
		diags = append(diags, d...)
		if ok {
			sp.Scopes = nil
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
						fmt.Sprintf("%s is not a valid scope: use 1 to 64 lower-case letters, digits, and _ . : -, starting with a letter, such as \"openid\".", quote(s))))
					continue
				}
				sp.Scopes = append(sp.Scopes, s)
			}
			if !slices.Contains(scopes, ScopeOpenID) {
				diags = append(diags, errorDiag(a.Expr.Range(), "Missing openid scope",
					"Signing in through an identity provider needs its ID token: add \"openid\" to scopes."))
			}
		}
	}
	if a := attrs["allowed_email_domains"]; a != nil {
		domains, ranges, _, d := decodeStringList(a, false)
		diags = append(diags, d...)
		for i, dom := range domains {
			if !domainRe.MatchString(dom) {
				diags = append(diags, errorDiag(ranges[i], "Invalid email domain",
					fmt.Sprintf("%s is not a lower-case domain name such as \"hospital.example.org\" (without @).", quote(dom))))
				continue
			}
			sp.AllowedEmailDomains = append(sp.AllowedEmailDomains, dom)
		}
	}
	if a := attrs["create_users"]; a != nil {
		b, ok, d := decodeBool(a)
		diags = append(diags, d...)
		if ok {
			sp.CreateUsers = &b
		}
	}
	if a := attrs["default_roles"]; a != nil {
		roles, ranges, _, d := decodeStringList(a, false)
		diags = append(diags, d...)
		sp.DefaultRoles, sp.roleRanges = roles, ranges
		if len(roles) > 0 && sp.CreateUsers != nil && !*sp.CreateUsers {
			diags = append(diags, errorDiag(a.NameRange, "Default roles without user creation",
				"default_roles are given to the accounts the provider creates, and create_users is false."))
		}
	}
	seenClaims := false
	for _, b := range content.Blocks {
		if seenClaims {
			diags = append(diags, errorDiag(b.DefRange, "Duplicate claims block",
				"A claims block was already declared in this sso_provider block; declare it once."))
			continue
		}
		seenClaims = true
		cc, d := bodyContent(b.Body, ssoClaimsSchema)
		diags = append(diags, d...)
		for name, dst := range map[string]*string{"email": &sp.Claims.Email, "email_verified": &sp.Claims.EmailVerified,
			"first_name": &sp.Claims.FirstName, "last_name": &sp.Claims.LastName} {
			a := cc.Attributes[name]
			if a == nil {
				continue
			}
			s, ok, d := decodeString(a)
			diags = append(diags, d...)
			if ok && !claimNameRe.MatchString(s) {
				diags = append(diags, errorDiag(a.Expr.Range(), "Invalid claim name",
					fmt.Sprintf("%s is not a claim name such as \"email\" or \"given_name\".", quote(s))))
				continue
			}
			*dst = s
		}
	}
	return sp, diags
}

// checkIssuerURL accepts an https URL (http only on a loopback host, for
// development) without query, fragment or user info (OIDC Discovery §2).
func checkIssuerURL(s string, r hcl.Range) *hcl.Diagnostic {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errorDiag(r, "Invalid issuer",
			fmt.Sprintf("%s is not an issuer URL: use the identity provider's https URL without query or fragment, such as \"https://login.hospital.example.org/realms/staff\".", quote(s)))
	}
	if u.Scheme == "http" && !IsLoopbackHost(u.Hostname()) {
		return errorDiag(r, "Insecure issuer",
			fmt.Sprintf("%s uses http on a host that is not a loopback address; tokens and secrets would travel in clear: use https.", quote(s)))
	}
	return nil
}

// linkSSOProviders checks the providers' roles and that some application
// has a login page for them to appear on.
func linkSSOProviders(p *Project) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = r.Name
	}
	login := slices.ContainsFunc(p.Applications, func(a *Application) bool { return a.HasGrant(GrantAuthorizationCode) })
	for _, sp := range p.SSOProviders {
		for i, r := range sp.DefaultRoles {
			if !slices.Contains(names, r) && i < len(sp.roleRanges) {
				diags = append(diags, errorDiag(sp.roleRanges[i], "Unknown role in sso_provider",
					unknownDetail(r, "a declared role", names)))
			}
		}
		if !login {
			diags = append(diags, errorDiag(sp.DeclRange, "SSO provider without a login page",
				"Users sign in through an identity provider from the login page of an application using the authorization_code grant; declare such an application."))
		}
	}
	return diags
}
