package spec

import (
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Project is the typed, validated form of a customer's *.hcl files: the
// intermediate representation every generator emitter reads.
type Project struct {
	Name        string
	Title       string
	Description string
	Version     string
	Languages   []string // first one is the default
	// ServerURL is where the API is published (the OpenAPI `servers`);
	// License and LicenseURL name the API's license in its document.
	ServerURL  string
	License    string
	LicenseURL string
	DeclRange  hcl.Range

	Auth       Auth
	Roles      []*Role // in declaration order
	GroupRoles []*Role
	Models     []*Model
	// Applications are the registered OAuth2 clients, in declaration order.
	Applications []*Application
	// SSOProviders are the external OpenID Connect identity providers
	// users may sign in with, in declaration order.
	SSOProviders []*SSOProvider

	// Files holds the source of every loaded file, keyed by its path, so
	// diagnostics can be rendered with their source lines.
	Files map[string]*hcl.File
}

// Auth is the project's `auth` block.
type Auth struct {
	AccessTokenTTL  string // Go duration string as time.Duration.String writes it, e.g. "15m0s"; default "15m0s"
	RefreshTokenTTL string // likewise; "30d" in the spec is "720h0m0s"; default "720h0m0s"
	Registration    string // open | invite | closed; default "open"
	// UserDeletion is what deleting a user does: "delete" or "anonymise";
	// "" leaves the runtime's default (anonymise).
	UserDeletion string
	Password     *PasswordPolicy // nil without a password block
	// MFARequiredForRoles are the roles whose holders must use a second
	// factor (the auth block's mfa block).
	MFARequiredForRoles []string
	mfaRanges           []hcl.Range
	DeclRange           hcl.Range
}

// PasswordPolicy is the auth block's `password` block. Zero lengths leave
// the runtime's NIST default (15 to 128 code points).
type PasswordPolicy struct {
	MinLength int
	MaxLength int
	DeclRange hcl.Range
}

// Role is a `role` or `group_role` block.
type Role struct {
	Name        string
	Description string
	Permissions []string
	DeclRange   hcl.Range
}

// FieldType is the declared type of a model field.
type FieldType string

const (
	TypeString   FieldType = "string"
	TypeInteger  FieldType = "integer"
	TypeNumber   FieldType = "number"
	TypeBoolean  FieldType = "boolean"
	TypeDateTime FieldType = "datetime"
	TypeDate     FieldType = "date"
	TypeUUID     FieldType = "uuid"
	TypeEmail    FieldType = "email"
	TypeObject   FieldType = "object"
	TypeArray    FieldType = "array"
)

// FieldTypes lists every valid FieldType, in the order diagnostics suggest them.
var FieldTypes = []FieldType{TypeString, TypeInteger, TypeNumber, TypeBoolean, TypeDateTime, TypeDate, TypeUUID, TypeEmail, TypeObject, TypeArray}

// Model is a `model` block: one document collection, one table.
type Model struct {
	Name        string
	Description string
	// RenamedFrom is the model's previous name when it was renamed
	// (`renamed_from`): plan and apply rename its table and keep the data
	// instead of dropping one model and adding another.
	RenamedFrom      string
	Fields           []*Field // declaration order
	Access           Access
	List             List
	DeclRange        hcl.Range
	renamedFromRange hcl.Range // of the renamed_from value
}

// List is a model's `list` block: the page size of its list endpoint when
// a query sets no limit, and the largest a query may ask for (larger
// limits are clamped). Zero means the runtime's default (20 and 100).
type List struct {
	DefaultLimit int
	MaxLimit     int
	DeclRange    hcl.Range
}

// MaxListLimit bounds a model's max_limit: one page is built in one
// statement and held in memory.
const MaxListLimit = 1000

// Field is a `field` block (or an array's `items` block, whose Name is "").
type Field struct {
	Name        string
	Description string
	// RenamedFrom is the field's previous name (`renamed_from`): plan and
	// apply rename its column (a model's own field) or its key in the
	// stored JSON documents (a field nested in an object or in the objects
	// of an array) and keep the data.
	RenamedFrom string
	Type        FieldType
	Required    bool
	Indexed     bool
	Enum        []string // strings only
	Minimum     *float64 // integer, number
	Maximum     *float64
	MinLength   *int // string, email
	MaxLength   *int
	Pattern     string // RE2 and ECMA-262 compatible subset
	MinItems    *int   // array
	MaxItems    *int
	// Default is a string (string, email, date, datetime, uuid), float64
	// (integer, number) or bool; nil if none. On an optional field it is
	// what the API fills in; on a required one, the value documents
	// stored before the field existed or was required get.
	Default          any
	Fields           []*Field // object: nested fields
	Items            *Field   // array: element type
	DeclRange        hcl.Range
	renamedFromRange hcl.Range // of the renamed_from value
}

// Access is a model's `access` block: which rules grant each action. An
// empty list means the default for that action (see DefaultAccess).
type Access struct {
	Create []string
	Read   []string
	Update []string
	Delete []string
	// Link guards linking users and groups to a document; Unlink guards
	// removing those links (default: Link's rules).
	Link   []string
	Unlink []string
	// GroupSync is how the document's group_ids follow its creator's
	// patient enlistments: GroupSyncNone (default) or
	// GroupSyncCreatorPatientGroups.
	GroupSync string
	DeclRange hcl.Range
	// RuleRanges holds the source range of each rule, by action.
	RuleRanges map[string][]hcl.Range
}

// Group sync modes of an access block.
const (
	GroupSyncNone                 = "none"
	GroupSyncCreatorPatientGroups = "creator_patient_groups"
)

// GroupSyncModes lists every valid group sync mode.
var GroupSyncModes = []string{GroupSyncNone, GroupSyncCreatorPatientGroups}

// Access rules a model may use.
const (
	RuleAllUsers            = "all_users"
	RuleCreator             = "creator"
	RuleLinkedUsers         = "linked_users"
	RuleLinkedGroupStaff    = "linked_group_staff"
	RuleLinkedGroupPatients = "linked_group_patients"
	RulePermission          = "permission"
)

// AccessRules lists every valid access rule.
var AccessRules = []string{RuleAllUsers, RuleCreator, RuleLinkedUsers, RuleLinkedGroupStaff, RuleLinkedGroupPatients, RulePermission}

// DefaultAccess is what an action allows when the spec says nothing. Only a
// role holding the data permission may link and unlink by default: sharing
// a document is a decision the project makes explicitly.
var DefaultAccess = Access{
	Create:    []string{RuleAllUsers},
	Read:      []string{RuleCreator, RuleLinkedUsers, RulePermission},
	Update:    []string{RuleCreator, RuleLinkedUsers, RulePermission},
	Delete:    []string{RuleCreator, RulePermission},
	Link:      []string{RulePermission},
	GroupSync: GroupSyncNone,
}

// Model returns the model with the given name, or nil.
func (p *Project) Model(name string) *Model {
	for _, m := range p.Models {
		if m.Name == name {
			return m
		}
	}
	return nil
}

// AccessTokenDuration returns AccessTokenTTL as a duration (0 if it does
// not parse, which a loaded project never has).
func (a Auth) AccessTokenDuration() time.Duration {
	d, _ := time.ParseDuration(a.AccessTokenTTL)
	return d
}

// RefreshTokenDuration returns RefreshTokenTTL as a duration.
func (a Auth) RefreshTokenDuration() time.Duration {
	d, _ := time.ParseDuration(a.RefreshTokenTTL)
	return d
}

// Effective returns a with each action left empty replaced by the
// DefaultAccess rules for it (copies, never DefaultAccess's own slices);
// Unlink defaults to Link's effective rules.
func (a Access) Effective() Access {
	pick := func(rules, def []string) []string {
		if len(rules) == 0 {
			rules = def
		}
		return append([]string(nil), rules...)
	}
	e := Access{
		Create:    pick(a.Create, DefaultAccess.Create),
		Read:      pick(a.Read, DefaultAccess.Read),
		Update:    pick(a.Update, DefaultAccess.Update),
		Delete:    pick(a.Delete, DefaultAccess.Delete),
		Link:      pick(a.Link, DefaultAccess.Link),
		GroupSync: a.GroupSync,
		DeclRange: a.DeclRange,
	}
	e.Unlink = pick(a.Unlink, e.Link)
	if e.GroupSync == "" {
		e.GroupSync = GroupSyncNone
	}
	return e
}

// Actions returns the rule lists of a by action name, in the order
// create, read, update, delete, link, unlink.
func (a Access) Actions() []ActionRules {
	return []ActionRules{
		{"create", a.Create}, {"read", a.Read}, {"update", a.Update},
		{"delete", a.Delete}, {"link", a.Link}, {"unlink", a.Unlink},
	}
}

// ActionRules is the rule list of one action.
type ActionRules struct {
	Action string
	Rules  []string
}

// IsScalar reports whether values of type t are neither objects nor arrays.
func (t FieldType) IsScalar() bool {
	return t != TypeObject && t != TypeArray
}
