// Package project is the runtime's compiled form of a customer's spec: plain
// Go values, serialised as JSON by the generator and embedded in the backend.
// The runtime never imports the spec or generator packages.
package project

import (
	"encoding/json"
	"fmt"
	"time"
)

// Project is everything the runtime needs to know about a customer project.
type Project struct {
	Name       string   `json:"name"`
	Title      string   `json:"title"`
	Version    string   `json:"version,omitempty"`
	Languages  []string `json:"languages"`
	Auth       Auth     `json:"auth"`
	Roles      []Role   `json:"roles"`
	GroupRoles []Role   `json:"group_roles"`
	Models     []Model  `json:"models"`
	// Applications are the registered OAuth2 clients (omitted when none).
	Applications []Application `json:"applications,omitempty"`
	// SSOProviders are the external OpenID Connect identity providers
	// users may sign in with (omitted when none).
	SSOProviders []SSOProvider `json:"sso_providers,omitempty"`
}

// SSOProvider is an external OpenID Connect identity provider. Its client
// secret is read at start from the environment variable ClientSecretEnv.
type SSOProvider struct {
	Name                string    `json:"name"`
	Title               string    `json:"title"`
	Issuer              string    `json:"issuer"`
	ClientID            string    `json:"client_id"`
	ClientSecretEnv     string    `json:"client_secret_env"`
	Scopes              []string  `json:"scopes"`
	AllowedEmailDomains []string  `json:"allowed_email_domains,omitempty"`
	CreateUsers         bool      `json:"create_users"`
	DefaultRoles        []string  `json:"default_roles,omitempty"`
	Claims              SSOClaims `json:"claims"`
}

// SSOClaims names the ID token claims a provider's users are read from.
type SSOClaims struct {
	Email         string `json:"email"`
	EmailVerified string `json:"email_verified"`
	FirstName     string `json:"first_name"`
	LastName      string `json:"last_name"`
}

// SSOProvider returns the provider with the given name.
func (p *Project) SSOProvider(name string) (*SSOProvider, bool) {
	for i := range p.SSOProviders {
		if p.SSOProviders[i].Name == name {
			return &p.SSOProviders[i], true
		}
	}
	return nil, false
}

// Application types.
const (
	AppPublic       = "public"
	AppConfidential = "confidential"
)

// OAuth2 grant types.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	GrantPassword          = "password"
)

// Application is a registered OAuth2 client; Name is its client_id.
type Application struct {
	Name         string   `json:"name"`
	Type         string   `json:"type"` // AppPublic or AppConfidential
	GrantTypes   []string `json:"grant_types"`
	RedirectURIs []string `json:"redirect_uris"`
	Scopes       []string `json:"scopes"`
	// Token lifetimes; zero means the project's Auth ones.
	AccessTokenTTL  Duration `json:"access_token_ttl,omitempty"`
	RefreshTokenTTL Duration `json:"refresh_token_ttl,omitempty"`
}

// HasGrant reports whether the application is registered for grant type g.
func (a *Application) HasGrant(g string) bool {
	for _, x := range a.GrantTypes {
		if x == g {
			return true
		}
	}
	return false
}

// Application returns the application whose client_id is name.
func (p *Project) Application(name string) (*Application, bool) {
	for i := range p.Applications {
		if p.Applications[i].Name == name {
			return &p.Applications[i], true
		}
	}
	return nil, false
}

// Auth holds authentication settings.
type Auth struct {
	AccessTokenTTL  Duration `json:"access_token_ttl"`
	RefreshTokenTTL Duration `json:"refresh_token_ttl"`
	Registration    string   `json:"registration"` // open | invite | closed
	// Password is the password policy; zero fields take the NIST SP
	// 800-63B-4 defaults (15 to 128 code points).
	Password PasswordPolicy `json:"password,omitzero"`
	// UserDeletion is what deleting a user does: "delete" removes the row,
	// "anonymise" (the default, when empty) keeps it without personal data.
	UserDeletion string `json:"user_deletion,omitempty"`
	// MFARequiredForRoles lists the global roles whose holders must use a
	// second factor (omitted when none).
	MFARequiredForRoles []string `json:"mfa_required_for_roles,omitempty"`
}

// PasswordPolicy bounds password lengths in Unicode code points; 0 means
// the default.
type PasswordPolicy struct {
	MinLength int `json:"min_length,omitempty"`
	MaxLength int `json:"max_length,omitempty"`
}

// Role is a global or group role.
type Role struct {
	Name        string   `json:"name"`
	Permissions []string `json:"permissions"`
}

// Model is one document collection stored in Table.
type Model struct {
	Name   string  `json:"name"`  // snake_case, as in the spec
	Table  string  `json:"table"` // unquoted SQL table name
	Fields []Field `json:"fields"`
	Access Access  `json:"access"`
	// List holds the paging limits of the model's list endpoint (zero:
	// the runtime's defaults).
	List List `json:"list"`
	// Schema is the JSON Schema (draft 2020-12) every write of the
	// document's data is validated against.
	Schema json.RawMessage `json:"schema"`
}

// List is a model's list settings: the page size when a query sets no
// limit, and the largest a query may ask for (larger ones are clamped).
type List struct {
	DefaultLimit int `json:"default_limit,omitempty"`
	MaxLimit     int `json:"max_limit,omitempty"`
}

// Field types.
const (
	String   = "string"
	Integer  = "integer"
	Number   = "number"
	Boolean  = "boolean"
	DateTime = "datetime"
	Date     = "date"
	UUID     = "uuid"
	Email    = "email"
	Object   = "object"
	Array    = "array"
)

// Field is a top-level or nested field of a model.
type Field struct {
	Name     string          `json:"name"`
	Type     string          `json:"type"`
	Column   string          `json:"column,omitempty"`   // top-level fields only: unquoted column name
	SQLType  string          `json:"sql_type,omitempty"` // top-level fields only: text, bigint, numeric, boolean, timestamptz, date, uuid, jsonb
	Required bool            `json:"required,omitempty"`
	Indexed  bool            `json:"indexed,omitempty"`
	Default  json.RawMessage `json:"default,omitempty"`
	Fields   []Field         `json:"fields,omitempty"` // object
	Items    *Field          `json:"items,omitempty"`  // array
}

// Access lists the rules granting each action (never empty after compile:
// the generator fills in defaults).
type Access struct {
	Create []string `json:"create"`
	Read   []string `json:"read"`
	Update []string `json:"update"`
	Delete []string `json:"delete"`
	Link   []string `json:"link"`
	Unlink []string `json:"unlink"`
	// GroupSync is how group_ids follow the creator's patient
	// enlistments: GroupSyncNone or GroupSyncCreatorPatientGroups.
	GroupSync string `json:"group_sync"`
}

// Group sync modes (Access.GroupSync).
const (
	GroupSyncNone                 = "none"
	GroupSyncCreatorPatientGroups = "creator_patient_groups"
)

// Model returns the named model.
func (p *Project) Model(name string) (*Model, bool) {
	for i := range p.Models {
		if p.Models[i].Name == name {
			return &p.Models[i], true
		}
	}
	return nil, false
}

// Load decodes a compiled project.
func Load(data []byte) (*Project, error) {
	var p Project
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode compiled project: %w", err)
	}
	return &p, nil
}

// Duration is a time.Duration that reads and writes as a Go duration string.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "15m0s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a Go duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}
