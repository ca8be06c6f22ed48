package generator

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/exhgen/exhgen/runtime/project"
	"github.com/exhgen/exhgen/spec"
)

// Compile turns the spec IR into the runtime's compiled project, the form
// the backend embeds and the runtime reads.
func Compile(p *spec.Project) (*project.Project, error) {
	out := &project.Project{
		Name:       p.Name,
		Title:      p.Title,
		Version:    p.Version,
		Languages:  append([]string{}, p.Languages...),
		Roles:      compileRoles(p.Roles),
		GroupRoles: compileRoles(p.GroupRoles),
		Models:     []project.Model{},
	}
	if len(out.Languages) == 0 {
		out.Languages = []string{"en"}
	}
	var err error
	if out.Auth.AccessTokenTTL, err = duration(p.Auth.AccessTokenTTL, 15*time.Minute); err != nil {
		return nil, fmt.Errorf("auth.access_token_ttl: %w", err)
	}
	if out.Auth.RefreshTokenTTL, err = duration(p.Auth.RefreshTokenTTL, 720*time.Hour); err != nil {
		return nil, fmt.Errorf("auth.refresh_token_ttl: %w", err)
	}
	out.Auth.Registration = p.Auth.Registration
	out.Auth.MFARequiredForRoles = append([]string(nil), p.Auth.MFARequiredForRoles...)
	if out.Auth.Registration == "" {
		out.Auth.Registration = "open"
	}
	out.Auth.UserDeletion = p.Auth.UserDeletion
	if pp := p.Auth.Password; pp != nil {
		out.Auth.Password = project.PasswordPolicy{MinLength: pp.MinLength, MaxLength: pp.MaxLength}
	}
	for _, a := range p.Applications {
		ca := project.Application{
			Name:         a.Name,
			Type:         a.Type,
			GrantTypes:   append([]string{}, a.GrantTypes...),
			RedirectURIs: append([]string{}, a.RedirectURIs...),
			Scopes:       append([]string{}, a.Scopes...),
		}
		if ca.AccessTokenTTL, err = duration(a.AccessTokenTTL, 0); err != nil {
			return nil, fmt.Errorf("application %q: access_token_ttl: %w", a.Name, err)
		}
		if ca.RefreshTokenTTL, err = duration(a.RefreshTokenTTL, 0); err != nil {
			return nil, fmt.Errorf("application %q: refresh_token_ttl: %w", a.Name, err)
		}
		out.Applications = append(out.Applications, ca)
	}
	for _, sp := range p.SSOProviders {
		create := out.Auth.Registration == spec.RegistrationOpen
		if sp.CreateUsers != nil {
			create = *sp.CreateUsers
		}
		out.SSOProviders = append(out.SSOProviders, project.SSOProvider{
			Name: sp.Name, Title: sp.Title, Issuer: sp.Issuer, ClientID: sp.ClientID, ClientSecretEnv: sp.ClientSecretEnv,
			Scopes: append([]string{}, sp.Scopes...), AllowedEmailDomains: append([]string(nil), sp.AllowedEmailDomains...),
			CreateUsers: create, DefaultRoles: append([]string(nil), sp.DefaultRoles...),
			Claims: project.SSOClaims{Email: sp.Claims.Email, EmailVerified: sp.Claims.EmailVerified,
				FirstName: sp.Claims.FirstName, LastName: sp.Claims.LastName},
		})
	}
	for _, m := range p.Models {
		cm, err := compileModel(m)
		if err != nil {
			return nil, fmt.Errorf("model %q: %w", m.Name, err)
		}
		out.Models = append(out.Models, cm)
	}
	return out, nil
}

func duration(s string, def time.Duration) (project.Duration, error) {
	if s == "" {
		return project.Duration(def), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return project.Duration(d), nil
}

func compileRoles(roles []*spec.Role) []project.Role {
	out := []project.Role{}
	for _, r := range roles {
		out = append(out, project.Role{Name: r.Name, Permissions: append([]string{}, r.Permissions...)})
	}
	return out
}

func compileModel(m *spec.Model) (project.Model, error) {
	schema, err := json.Marshal(jsonSchema(m))
	if err != nil {
		return project.Model{}, err
	}
	acc := m.Access.Effective()
	cm := project.Model{
		Name:   m.Name,
		Table:  tableName(m.Name),
		Schema: schema,
		List:   project.List{DefaultLimit: m.List.DefaultLimit, MaxLimit: m.List.MaxLimit},
		Access: project.Access{
			Create:    acc.Create,
			Read:      acc.Read,
			Update:    acc.Update,
			Delete:    acc.Delete,
			Link:      acc.Link,
			Unlink:    acc.Unlink,
			GroupSync: acc.GroupSync,
		},
	}
	for _, f := range m.Fields {
		cf, err := compileField(f, true)
		if err != nil {
			return project.Model{}, fmt.Errorf("field %q: %w", f.Name, err)
		}
		cm.Fields = append(cm.Fields, cf)
	}
	return cm, nil
}

func compileField(f *spec.Field, top bool) (project.Field, error) {
	cf := project.Field{Name: f.Name, Type: string(f.Type), Required: f.Required, Indexed: f.Indexed}
	if top {
		cf.Column = f.Name
		cf.SQLType = sqlType(f.Type)
	}
	if f.Default != nil {
		b, err := json.Marshal(f.Default)
		if err != nil {
			return cf, fmt.Errorf("default: %w", err)
		}
		cf.Default = b
	}
	for _, sub := range f.Fields {
		csub, err := compileField(sub, false)
		if err != nil {
			return cf, fmt.Errorf("field %q: %w", sub.Name, err)
		}
		cf.Fields = append(cf.Fields, csub)
	}
	if f.Items != nil {
		items, err := compileField(f.Items, false)
		if err != nil {
			return cf, fmt.Errorf("items: %w", err)
		}
		cf.Items = &items
	}
	return cf, nil
}

// sqlType is the column type of a top-level field.
func sqlType(t spec.FieldType) string {
	switch t {
	case spec.TypeString, spec.TypeEmail:
		return "text"
	case spec.TypeInteger:
		return "bigint"
	case spec.TypeNumber:
		return "double precision"
	case spec.TypeBoolean:
		return "boolean"
	case spec.TypeDateTime:
		return "timestamptz"
	case spec.TypeDate:
		return "date"
	case spec.TypeUUID:
		return "uuid"
	default:
		return "jsonb"
	}
}
