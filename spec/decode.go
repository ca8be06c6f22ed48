package spec

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// fileSchema is the top level of a spec file.
var fileSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		// In the order hcl tries them for "Did you mean": models first,
		// as the most common.
		{Type: "model", LabelNames: []string{"name"}},
		{Type: "project", LabelNames: []string{"name"}},
		{Type: "role", LabelNames: []string{"name"}},
		{Type: "group_role", LabelNames: []string{"name"}},
		{Type: "auth"},
		{Type: "application", LabelNames: []string{"name"}},
		{Type: "sso_provider", LabelNames: []string{"name"}},
	},
}

// decodeFile decodes the top-level blocks of one file into l.project.
func (l *loader) decodeFile(body *hclsyntax.Body) hcl.Diagnostics {
	content, diags := bodyContent(body, fileSchema)
	p := l.project
	for _, b := range body.Blocks {
		// A project block hcl rejected (a missing label, say) still counts,
		// so that "Missing project block" does not follow its diagnostic.
		if b.Type == "project" {
			l.projectSeen = true
		}
	}
	for _, block := range content.Blocks {
		switch block.Type {
		case "project":
			proj, d := decodeProjectBlock(block)
			diags = append(diags, d...)
			if p.DeclRange.Filename != "" {
				diags = append(diags, errorDiag(block.DefRange, "Duplicate project block",
					fmt.Sprintf("The project %s was already declared at %s; a project has exactly one project block.",
						quote(p.Name), p.DeclRange.String())))
				continue
			}
			p.Name, p.Title, p.Description, p.Version = proj.Name, proj.Title, proj.Description, proj.Version
			p.Languages, p.DeclRange = proj.Languages, proj.DeclRange
			p.ServerURL, p.License, p.LicenseURL = proj.ServerURL, proj.License, proj.LicenseURL
		case "auth":
			auth, d := decodeAuthBlock(block)
			diags = append(diags, d...)
			if l.authSeen {
				diags = append(diags, errorDiag(block.DefRange, "Duplicate auth block",
					fmt.Sprintf("An auth block was already declared at %s; a project has at most one.", p.Auth.DeclRange.String())))
				continue
			}
			l.authSeen = true
			p.Auth = *auth
		case "role", "group_role":
			rule, kind, list := roleNameRule, "role", &p.Roles
			if block.Type == "group_role" {
				rule, kind, list = groupRoleNameRule, "group role", &p.GroupRoles
			}
			role, ranges, d := decodeRoleBlock(block, rule)
			diags = append(diags, d...)
			if prev := findRole(*list, role.Name); prev != nil {
				diags = append(diags, duplicateDiag(kind, role.Name, block.LabelRanges[0], prev.DeclRange))
				continue
			}
			*list = append(*list, role)
			l.permRanges[role] = ranges
		case "model":
			model, d := decodeModelBlock(block)
			diags = append(diags, d...)
			if prev := p.Model(model.Name); prev != nil {
				diags = append(diags, duplicateDiag("model", model.Name, block.LabelRanges[0], prev.DeclRange))
				continue
			}
			if slices.ContainsFunc(ogenWrapperPrefixes, func(prefix string) bool { return strings.HasPrefix(model.Name, prefix) }) {
				diags = append(diags, errorDiag(block.LabelRanges[0], "Reserved model name",
					fmt.Sprintf("The model name %s is reserved because names starting with opt_ or nil_ can collide with the generated Go package's wrapper types; choose another name.", quote(model.Name))))
				continue
			}
			if i := slices.IndexFunc(p.Models, func(m *Model) bool { return sameGeneratedNames(m.Name, model.Name) }); i >= 0 {
				diags = append(diags, sameGoNameDiag("model", model.Name, p.Models[i].Name, block.LabelRanges[0], p.Models[i].DeclRange))
				continue
			}
			p.Models = append(p.Models, model)
		case "application":
			app, d := decodeApplicationBlock(block)
			diags = append(diags, d...)
			if prev := p.Application(app.Name); prev != nil {
				diags = append(diags, duplicateDiag("application", app.Name, block.LabelRanges[0], prev.DeclRange))
				continue
			}
			p.Applications = append(p.Applications, app)
		case "sso_provider":
			sp, d := decodeSSOProviderBlock(block)
			diags = append(diags, d...)
			if prev := p.SSOProvider(sp.Name); prev != nil {
				diags = append(diags, duplicateDiag("sso_provider", sp.Name, block.LabelRanges[0], prev.DeclRange))
				continue
			}
			p.SSOProviders = append(p.SSOProviders, sp)
		}
	}
	return diags
}

// checkModelRenames is the link pass's check of the models' renamed_from.
func (l *loader) checkModelRenames() hcl.Diagnostics {
	return checkRenames("model", l.project.Models, func(m *Model) (string, string, hcl.Range) {
		return m.Name, m.RenamedFrom, m.renamedFromRange
	})
}

func findRole(roles []*Role, name string) *Role {
	for _, r := range roles {
		if r.Name == name {
			return r
		}
	}
	return nil
}

var projectSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "title", Required: true},
		{Name: "description"},
		{Name: "version"},
		{Name: "languages"},
		{Name: "server_url"},
		{Name: "license"},
		{Name: "license_url"},
	},
}

// versionRe is a semantic version (semver.org, without a leading "v").
var versionRe = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$`)

// languageRe is the subset of BCP 47 tags we accept, in canonical case:
// language, optional script, optional region ("en", "nl-BE", "zh-Hant-TW",
// "es-419").
var languageRe = regexp.MustCompile(`^[a-z]{2,3}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$`)

// decodeProjectBlock decodes a `project` block. Only the project fields of
// the result are set.
func decodeProjectBlock(block *hcl.Block) (*Project, hcl.Diagnostics) {
	p := &Project{Name: block.Labels[0], Languages: []string{"en"}, DeclRange: block.DefRange}
	diags := projectNameRule.check(p.Name, block.LabelRanges[0], false)
	content, d := bodyContent(block.Body, projectSchema)
	diags = append(diags, d...)
	attrs := content.Attributes

	if a := attrs["title"]; a != nil {
		title, ok, d := decodeString(a)
		diags = append(diags, d...)
		diags = append(diags, requireAttr(a, ok || d.HasErrors())...)
		if ok && strings.TrimSpace(title) == "" {
			diags = append(diags, errorDiag(a.Expr.Range(), "Empty title",
				"The project title is shown in the API documentation and must not be empty."))
		}
		p.Title = title
	}
	if a := attrs["description"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		p.Description = s
	}
	if a := attrs["version"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok && !versionRe.MatchString(s) {
			diags = append(diags, errorDiag(a.Expr.Range(), "Invalid version",
				fmt.Sprintf("%s is not a semantic version: use MAJOR.MINOR.PATCH, such as \"1.0.0\".", quote(s))))
		}
		p.Version = s
	}
	for _, u := range []struct {
		name string
		dst  *string
	}{{"server_url", &p.ServerURL}, {"license_url", &p.LicenseURL}} {
		if a := attrs[u.name]; a != nil {
			s, ok, d := decodeString(a)
			diags = append(diags, d...)
			if ok {
				if parsed, err := url.Parse(s); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") || parsed.Host == "" {
					diags = append(diags, errorDiag(a.Expr.Range(), "Invalid URL",
						fmt.Sprintf("%s is not an absolute http or https URL, such as \"https://api.example.org\".", quote(s))))
				}
			}
			*u.dst = s
		}
	}
	if a := attrs["license"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		p.License = s
	}
	if a := attrs["license_url"]; a != nil && attrs["license"] == nil {
		diags = append(diags, errorDiag(a.NameRange, "License URL without a license",
			"license_url is published with the license's name: set license too, such as license = \"Proprietary\"."))
	}
	if a := attrs["languages"]; a != nil {
		langs, ranges, ok, d := decodeStringList(a, false)
		diags = append(diags, d...)
		if ok {
			diags = append(diags, checkLanguages(a, langs, ranges)...)
			if len(langs) > 0 {
				p.Languages = langs
			}
		}
	}
	return p, diags
}

func checkLanguages(a *hcl.Attribute, langs []string, ranges []hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if len(langs) == 0 {
		diags = append(diags, errorDiag(a.Expr.Range(), "Empty language list",
			`A project needs at least one language; the first one is the default. Omit the argument to use ["en"].`))
	}
	seen := make(map[string]int)
	for i, lang := range langs {
		if !languageRe.MatchString(lang) {
			detail := fmt.Sprintf("%s is not a language code: use a BCP 47 tag such as \"en\", \"nl-BE\" or \"zh-Hant-TW\".", quote(lang))
			if c := canonicalLanguage(lang); c != lang && languageRe.MatchString(c) {
				detail += fmt.Sprintf(" Did you mean %q?", c)
			}
			diags = append(diags, errorDiag(ranges[i], "Invalid language code", detail))
			continue
		}
		if j, dup := seen[lang]; dup {
			diags = append(diags, errorDiag(ranges[i], "Duplicate language",
				fmt.Sprintf("The language %q is already listed at %s.", lang, ranges[j].String())))
			continue
		}
		seen[lang] = i
	}
	return diags
}

// canonicalLanguage fixes the case of a language tag's parts: "EN_us" →
// "en-US".
func canonicalLanguage(s string) string {
	parts := strings.Split(strings.ReplaceAll(s, "_", "-"), "-")
	for i, part := range parts {
		switch {
		case i == 0:
			parts[i] = strings.ToLower(part)
		case len(part) == 4:
			parts[i] = strings.ToUpper(part[:1]) + strings.ToLower(part[1:])
		default:
			parts[i] = strings.ToUpper(part)
		}
	}
	return strings.Join(parts, "-")
}

// Registration modes of the auth block.
const (
	RegistrationOpen   = "open"
	RegistrationInvite = "invite"
	RegistrationClosed = "closed"
)

// RegistrationModes lists every valid registration mode.
var RegistrationModes = []string{RegistrationOpen, RegistrationInvite, RegistrationClosed}

// Token lifetimes: defaults and bounds.
const (
	defaultAccessTokenTTL  = 15 * time.Minute
	minAccessTokenTTL      = time.Minute
	maxAccessTokenTTL      = time.Hour // SECURITY.md TOK-5
	defaultRefreshTokenTTL = 30 * 24 * time.Hour
	maxRefreshTokenTTL     = 365 * 24 * time.Hour
)

var authSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "access_token_ttl"},
		{Name: "refresh_token_ttl"},
		{Name: "registration"},
		{Name: "user_deletion"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "password"},
		{Type: "mfa"},
	},
}

// User deletion modes of the auth block.
const (
	UserDeletionDelete    = "delete"
	UserDeletionAnonymise = "anonymise"
)

// UserDeletionModes lists every valid user_deletion value.
var UserDeletionModes = []string{UserDeletionDelete, UserDeletionAnonymise}

// Password policy bounds (SECURITY.md AUTH-4, NIST SP 800-63B-4): at least
// 15 code points (8 only where MFA is mandatory, which the spec cannot
// declare yet), at least 64 accepted, never more than 128.
const (
	minPasswordMinLength = 15
	maxPasswordMinLength = 64
	minPasswordMaxLength = 64
	maxPasswordMaxLength = 128
)

var passwordSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "min_length"},
		{Name: "max_length"},
	},
}

// decodePasswordBlock decodes the auth block's `password` block.
func decodePasswordBlock(block *hcl.Block) (PasswordPolicy, hcl.Diagnostics) {
	var pp PasswordPolicy
	content, diags := bodyContent(block.Body, passwordSchema)
	if a := content.Attributes["min_length"]; a != nil {
		n, ok, d := decodeCount(a)
		diags = append(diags, d...)
		switch {
		case !ok:
		case n < minPasswordMinLength || n > maxPasswordMinLength:
			diags = append(diags, errorDiag(a.Expr.Range(), "Value out of range",
				fmt.Sprintf("min_length is %d; it must be between %d and %d (NIST SP 800-63B-4 asks for at least %d characters where a password is the only factor).",
					n, minPasswordMinLength, maxPasswordMinLength, minPasswordMinLength)))
		default:
			pp.MinLength = n
		}
	}
	if a := content.Attributes["max_length"]; a != nil {
		n, ok, d := decodeCount(a)
		diags = append(diags, d...)
		switch {
		case !ok:
		case n < minPasswordMaxLength || n > maxPasswordMaxLength:
			diags = append(diags, errorDiag(a.Expr.Range(), "Value out of range",
				fmt.Sprintf("max_length is %d; it must be between %d and %d: passwords of at least 64 characters must be accepted.",
					n, minPasswordMaxLength, maxPasswordMaxLength)))
		case pp.MinLength > n:
			diags = append(diags, errorDiag(a.Expr.Range(), "Value out of range",
				fmt.Sprintf("max_length is %d, less than min_length (%d).", n, pp.MinLength)))
		default:
			pp.MaxLength = n
		}
	}
	pp.DeclRange = block.DefRange
	return pp, diags
}

// decodeAuthBlock decodes an `auth` block, filling in defaults.
func decodeAuthBlock(block *hcl.Block) (*Auth, hcl.Diagnostics) {
	auth := &Auth{Registration: RegistrationOpen, DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, authSchema)
	attrs := content.Attributes

	access := defaultAccessTokenTTL
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
		}
	}
	refresh := defaultRefreshTokenTTL
	if a := attrs["refresh_token_ttl"]; a != nil {
		d, ok, dd := decodeDuration(a)
		diags = append(diags, dd...)
		switch {
		case !ok:
		case d > maxRefreshTokenTTL:
			diags = append(diags, errorDiag(a.Expr.Range(), "Duration out of range",
				fmt.Sprintf("refresh_token_ttl is %s; it must be at most 365d.", d)))
		case d <= access:
			diags = append(diags, errorDiag(a.Expr.Range(), "Duration out of range",
				fmt.Sprintf("refresh_token_ttl is %s; it must be longer than access_token_ttl (%s).", d, access)))
		default:
			refresh = d
		}
	}
	auth.AccessTokenTTL, auth.RefreshTokenTTL = access.String(), refresh.String()
	diags = append(diags, decodeMFABlocks(auth, content.Blocks)...)

	if a := attrs["registration"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if slices.Contains(RegistrationModes, s) {
				auth.Registration = s
			} else {
				diags = append(diags, errorDiag(a.Expr.Range(), "Unknown registration mode",
					unknownDetail(s, "a registration mode", RegistrationModes)))
			}
		}
	}
	if a := attrs["user_deletion"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if slices.Contains(UserDeletionModes, s) {
				auth.UserDeletion = s
			} else {
				diags = append(diags, errorDiag(a.Expr.Range(), "Unknown user deletion mode",
					unknownDetail(s, "a user deletion mode", UserDeletionModes)))
			}
		}
	}
	seenPassword := false
	for _, b := range content.Blocks {
		if b.Type != "password" {
			continue
		}
		pp, d := decodePasswordBlock(b)
		diags = append(diags, d...)
		if seenPassword {
			diags = append(diags, errorDiag(b.DefRange, "Duplicate password block",
				fmt.Sprintf("A password block was already declared at %s; an auth block has at most one.", auth.Password.DeclRange.String())))
			continue
		}
		seenPassword = true
		auth.Password = &pp
	}
	return auth, diags
}

// daysRe matches a number of whole days, optionally followed by a Go
// duration: "30d", "1d12h".
var daysRe = regexp.MustCompile(`^([0-9]{1,6})d(.*)$`)

// decodeDuration decodes a Go duration string or one starting with whole
// days ("30d").
func decodeDuration(a *hcl.Attribute) (time.Duration, bool, hcl.Diagnostics) {
	s, ok, diags := decodeString(a)
	if !ok {
		return 0, false, diags
	}
	d, err := parseDuration(s)
	if err != nil || d <= 0 {
		return 0, false, append(diags, errorDiag(a.Expr.Range(), "Invalid duration",
			fmt.Sprintf("%s is not a positive duration: use a number and a unit, such as \"15m\", \"12h\" or \"30d\".", quote(s))))
	}
	return d, true, diags
}

// parseDuration parses a Go duration, allowing a leading number of days.
func parseDuration(s string) (time.Duration, error) {
	m := daysRe.FindStringSubmatch(s)
	if m == nil {
		return time.ParseDuration(s)
	}
	days, err := strconv.Atoi(m[1])
	if err != nil {
		return 0, fmt.Errorf("parse days: %w", err)
	}
	const maxDays = 100000 // well below the ~106751 days a Duration holds
	if days > maxDays {
		return 0, fmt.Errorf("too many days: %d", days)
	}
	d := time.Duration(days) * 24 * time.Hour
	if m[2] != "" {
		rest, err := time.ParseDuration(m[2])
		if err != nil {
			return 0, fmt.Errorf("parse duration after days: %w", err)
		}
		if rest < 0 || rest > 10*24*time.Hour {
			return 0, fmt.Errorf("duration %q after days out of range", m[2])
		}
		d += rest
	}
	return d, nil
}

var roleSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "permissions"},
	},
}

// decodeRoleBlock decodes a `role` or `group_role` block. ranges holds each
// permission's source range, for the link pass.
func decodeRoleBlock(block *hcl.Block, rule nameRule) (*Role, []hcl.Range, hcl.Diagnostics) {
	role := &Role{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := rule.check(role.Name, block.LabelRanges[0], false)
	content, d := bodyContent(block.Body, roleSchema)
	diags = append(diags, d...)
	attrs := content.Attributes
	if a := attrs["description"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		role.Description = s
	}
	var ranges []hcl.Range
	if a := attrs["permissions"]; a != nil {
		perms, rs, _, d := decodeStringList(a, false)
		diags = append(diags, d...)
		seen := make(map[string]int)
		for i, perm := range perms {
			if j, dup := seen[perm]; dup {
				diags = append(diags, errorDiag(rs[i], "Duplicate permission",
					fmt.Sprintf("The permission %s is already listed at %s.", quote(perm), rs[j].String())))
				continue
			}
			seen[perm] = i
			role.Permissions = append(role.Permissions, perm)
			ranges = append(ranges, rs[i])
		}
	}
	return role, ranges, diags
}

var modelSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "description"},
		{Name: "renamed_from"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "field", LabelNames: []string{"name"}},
		{Type: "access"},
		{Type: "list"},
	},
}

// decodeModelBlock decodes a `model` block and its fields.
func decodeModelBlock(block *hcl.Block) (*Model, hcl.Diagnostics) {
	m := &Model{Name: block.Labels[0], DeclRange: block.DefRange}
	diags := modelNameRule.check(m.Name, block.LabelRanges[0], true)
	content, d := bodyContent(block.Body, modelSchema)
	diags = append(diags, d...)
	if a := content.Attributes["description"]; a != nil {
		s, _, d := decodeString(a)
		diags = append(diags, d...)
		m.Description = s
	}
	if a := content.Attributes["renamed_from"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if d := modelNameRule.check(s, a.Expr.Range(), false); d.HasErrors() {
				diags = append(diags, d...)
			} else {
				m.RenamedFrom, m.renamedFromRange = s, a.Expr.Range()
			}
		}
	}
	var fieldBlocks []*hcl.Block
	accessSeen, listSeen := false, false
	for _, b := range content.Blocks {
		switch b.Type {
		case "field":
			fieldBlocks = append(fieldBlocks, b)
		case "access":
			access, d := decodeAccessBlock(b)
			diags = append(diags, d...)
			if accessSeen {
				diags = append(diags, errorDiag(b.DefRange, "Duplicate access block",
					fmt.Sprintf("An access block was already declared at %s; a model has at most one.", m.Access.DeclRange.String())))
				continue
			}
			accessSeen = true
			m.Access = *access
		case "list":
			list, d := decodeListBlock(b)
			diags = append(diags, d...)
			if listSeen {
				diags = append(diags, errorDiag(b.DefRange, "Duplicate list block",
					fmt.Sprintf("A list block was already declared at %s; a model has at most one.", m.List.DeclRange.String())))
				continue
			}
			listSeen = true
			m.List = *list
		}
	}
	if len(fieldBlocks) == 0 {
		diags = append(diags, errorDiag(block.LabelRanges[0], "Model without fields",
			fmt.Sprintf("The model %s declares no field blocks; a model stores at least one field.", quote(m.Name))))
	}
	fields, d := decodeFieldBlocks(fieldBlocks, 1)
	diags = append(diags, d...)
	m.Fields = fields
	return m, diags
}

var listSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "default_limit"},
		{Name: "max_limit"},
	},
}

// decodeListBlock decodes a model's `list` block: 1 ≤ default_limit ≤
// max_limit ≤ MaxListLimit (either may be left out).
func decodeListBlock(block *hcl.Block) (*List, hcl.Diagnostics) {
	l := &List{DeclRange: block.DefRange}
	content, diags := bodyContent(block.Body, listSchema)
	def, max := content.Attributes["default_limit"], content.Attributes["max_limit"]
	for _, a := range []struct {
		attr *hcl.Attribute
		dst  *int
	}{{def, &l.DefaultLimit}, {max, &l.MaxLimit}} {
		if a.attr == nil {
			continue
		}
		n, ok, d := decodeCount(a.attr)
		diags = append(diags, d...)
		if !ok {
			continue
		}
		if n < 1 || n > MaxListLimit {
			diags = append(diags, errorDiag(a.attr.Expr.Range(), "Value out of range",
				fmt.Sprintf("The value of %q must be between 1 and %d.", a.attr.Name, MaxListLimit)))
			continue
		}
		*a.dst = n
	}
	if l.DefaultLimit > 0 && l.MaxLimit > 0 && l.DefaultLimit > l.MaxLimit {
		diags = append(diags, errorDiag(max.Expr.Range(), "Default limit above maximum",
			fmt.Sprintf("default_limit (%d) must not exceed max_limit (%d).", l.DefaultLimit, l.MaxLimit)))
	}
	if l.DefaultLimit > 0 && l.MaxLimit == 0 && l.DefaultLimit > 100 {
		diags = append(diags, errorDiag(def.Expr.Range(), "Default limit above maximum",
			fmt.Sprintf("default_limit (%d) exceeds the default max_limit (100); set max_limit as well.", l.DefaultLimit)))
	}
	return l, diags
}

var accessSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "create"},
		{Name: "read"},
		{Name: "update"},
		{Name: "delete"},
		{Name: "link"},
		{Name: "unlink"},
		{Name: "group_sync"},
	},
}

// decodeAccessBlock decodes a model's `access` block. Each action takes a
// rule or a list of rules; group_sync takes a mode.
func decodeAccessBlock(block *hcl.Block) (*Access, hcl.Diagnostics) {
	access := &Access{DeclRange: block.DefRange, RuleRanges: map[string][]hcl.Range{}}
	content, diags := bodyContent(block.Body, accessSchema)
	if a := content.Attributes["group_sync"]; a != nil {
		s, ok, d := decodeString(a)
		diags = append(diags, d...)
		if ok {
			if slices.Contains(GroupSyncModes, s) {
				access.GroupSync = s
			} else {
				diags = append(diags, errorDiag(a.Expr.Range(), "Unknown group sync mode",
					unknownDetail(s, "a group sync mode", GroupSyncModes)))
			}
		}
	}
	for _, target := range []struct {
		name string
		list *[]string
	}{
		{"create", &access.Create},
		{"read", &access.Read},
		{"update", &access.Update},
		{"delete", &access.Delete},
		{"link", &access.Link},
		{"unlink", &access.Unlink},
	} {
		a := content.Attributes[target.name]
		if a == nil {
			continue
		}
		rules, ranges, _, d := decodeStringList(a, true)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		if len(rules) == 0 {
			diags = append(diags, errorDiag(a.Expr.Range(), "Empty access rule list",
				fmt.Sprintf("An empty list grants %s to nobody, which is never what a model needs. Omit %q for the default rules, or use [\"permission\"] to grant it only to roles holding a data permission for this model.", target.name, target.name)))
			continue
		}
		seen := make(map[string]int)
		for i, rule := range rules {
			if !slices.Contains(AccessRules, rule) {
				diags = append(diags, errorDiag(ranges[i], "Unknown access rule",
					unknownDetail(rule, "an access rule", AccessRules)))
				continue
			}
			if j, dup := seen[rule]; dup {
				diags = append(diags, errorDiag(ranges[i], "Duplicate access rule",
					fmt.Sprintf("The rule %q is already listed at %s.", rule, ranges[j].String())))
				continue
			}
			seen[rule] = i
			*target.list = append(*target.list, rule)
			access.RuleRanges[target.name] = append(access.RuleRanges[target.name], ranges[i])
		}
	}
	return access, diags
}

// quotedList renders ["a", "b", "c"] as `"a", "b" or "c"`.
func quotedList(items []string) string {
	var b strings.Builder
	for i, s := range items {
		switch {
		case i == 0:
		case i == len(items)-1:
			b.WriteString(" or ")
		default:
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", s)
	}
	return b.String()
}
