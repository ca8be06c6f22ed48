package plan

// FormatVersion is the version of the plan's JSON form.
const FormatVersion = "1"

// Plan is everything `exhgen plan` found: the spec changes, the SQL that
// gets the database there, what the data checks and the drift check found.
type Plan struct {
	FormatVersion string    `json:"format_version"`
	Changes       []*Change `json:"changes"`
	Problems      []Problem `json:"problems,omitempty"`
	// Migrations are the SQL migrations apply runs, in order: pending ones
	// already in the migrations directory and the one this plan writes.
	Migrations []Migration `json:"migrations,omitempty"`
	// Database says whether the plan was made against a database
	// (DATABASE_URL): only then did data checks and the drift check run.
	Database bool    `json:"database"`
	Drift    []Drift `json:"drift,omitempty"`
	// Base is what the spec was compared with (nil in plans made by
	// Compare alone).
	Base *Base `json:"base,omitempty"`
	// SnapshotFile lists how migrations/schema.json (the last generated
	// state) differs from the database's applied snapshot: expected when
	// the database is behind the repository (production behind staging),
	// a warning when it is ahead.
	SnapshotFile []Drift `json:"snapshot_file_differences,omitempty"`
}

// Base sources.
const (
	BaseDatabase = "database" // the snapshot the last apply recorded in the database
	BaseFile     = "file"     // migrations/schema.json
	BaseNone     = "none"     // nothing applied to the database yet
)

// Base says what a plan compared the spec with.
type Base struct {
	Source string `json:"source"`
	// SHA256 is the hash of the base snapshot; AppliedAt and AppliedBy
	// say which apply recorded it (database only).
	SHA256    string `json:"sha256,omitempty"`
	AppliedAt string `json:"applied_at,omitempty"` // RFC 3339
	AppliedBy string `json:"applied_by,omitempty"`
	// Note says why this base was chosen when it is not the obvious one.
	Note string `json:"note,omitempty"`
}

// Migration is one SQL migration of the plan.
type Migration struct {
	Name string `json:"name"` // "project/0002_change.sql", "core/0001_identity.sql"
	SQL  string `json:"sql"`
	// New: the plan writes it into the migrations directory.
	New bool `json:"new,omitempty"`
	// Checksum is the SHA-256 recorded when it is applied.
	Checksum string `json:"checksum"`
}

// Drift is a difference between the live database and the applied
// snapshot: someone changed the schema outside exhgen.
type Drift struct {
	Address string `json:"address"` // "table.data_measurement.column.arm"
	Message string `json:"message"`
}

// Summary counts a plan's changes as terraform does: only a block's own
// change counts, not the children of a created or deleted block.
type Summary struct {
	Add         int `json:"add"`
	Change      int `json:"change"`
	Destroy     int `json:"destroy"`
	BreaksAPI   int `json:"breaks_api"`
	Destructive int `json:"destructive"`
	// Violations is the number of stored documents the data checks found
	// violating a change.
	Violations int64 `json:"violations"`
	// Holders is the number of users (and group staff memberships) the
	// holders checks found holding a role the plan removes or takes
	// permissions from.
	Holders int64 `json:"role_holders"`
	// Lost is the number of stored documents and values the loss checks
	// found that the destructive changes delete.
	Lost int64 `json:"lost"`
}

// Summarize counts the changes.
func (p *Plan) Summarize() Summary {
	var s Summary
	for _, top := range p.Changes {
		top.Walk(func(c *Change) {
			if c.parent != nil && c.parent.Action != Update {
				return
			}
			if c.Own() {
				switch c.Action {
				case Create:
					s.Add++
				case Delete:
					s.Destroy++
				case Replace:
					s.Add++
					s.Destroy++
				default:
					s.Change++
				}
			}
			if c.BreaksAPI {
				s.BreaksAPI++
			}
			if c.Destructive {
				s.Destructive++
			}
			for _, k := range c.Checks {
				switch {
				case k.Holders():
					s.Holders += k.Violations
				case k.Lost():
					s.Lost += k.Violations
				default:
					s.Violations += k.Violations
				}
			}
		})
	}
	return s
}

// Empty reports whether applying the plan would do nothing.
func (p *Plan) Empty() bool { return len(p.Changes) == 0 && len(p.Migrations) == 0 }

// Destructive reports whether any change loses or may reject stored data.
func (p *Plan) Destructive() bool { return p.Summarize().Destructive > 0 }

// Checks returns every data check of the plan, in address order.
func (p *Plan) Checks() []*Check {
	var out []*Check
	for _, top := range p.Changes {
		top.Walk(func(c *Change) { out = append(out, c.Checks...) })
	}
	return out
}

// Relink restores the parent links of changes decoded from JSON.
func (p *Plan) Relink() {
	var link func(c *Change)
	link = func(c *Change) {
		for _, ch := range c.Children {
			ch.parent = c
			link(ch)
		}
	}
	for _, c := range p.Changes {
		link(c)
	}
}
