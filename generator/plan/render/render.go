package render

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/exhgen/exhgen/generator/plan"
)

// JSON writes the plan as indented JSON with its summary.
func JSON(w io.Writer, p *plan.Plan) error {
	out := struct {
		*plan.Plan
		Summary plan.Summary `json:"summary"`
	}{p, p.Summarize()}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write plan json: %w", err)
	}
	return nil
}

// Options change the human output.
type Options struct {
	// SQL shows the migrations' statements, not only their names.
	SQL bool
}

// Human writes the plan for people.
func Human(w io.Writer, p *plan.Plan, opts Options) error {
	r := &renderer{}
	r.plan(p, opts)
	_, err := io.WriteString(w, r.b.String())
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

type renderer struct {
	b strings.Builder
}

func (r *renderer) printf(format string, args ...any) { fmt.Fprintf(&r.b, format, args...) }

// symbol is the marker of an action.
func symbol(a plan.Action) string {
	switch a {
	case plan.Create:
		return "+"
	case plan.Delete:
		return "-"
	case plan.Replace:
		return "-/+"
	}
	return "~"
}

var legend = []struct {
	action plan.Action
	text   string
}{
	{plan.Create, "create"},
	{plan.Update, "update in-place"},
	{plan.Delete, "destroy"},
	{plan.Replace, "destroy and then create replacement"},
}

func (r *renderer) base(b *plan.Base) {
	switch b.Source {
	case plan.BaseDatabase:
		r.printf("Base: the snapshot applied to the database at %s by %s (sha256 %.12s).\n", b.AppliedAt, b.AppliedBy, b.SHA256)
	case plan.BaseNone:
		r.printf("Base: nothing applied to the database yet.\n")
	default:
		if b.SHA256 == "" {
			r.printf("Base: none; migrations/schema.json does not exist yet.\n")
			break
		}
		r.printf("Base: migrations/schema.json, the last generated state (sha256 %.12s).\n", b.SHA256)
	}
	if b.Note != "" {
		r.printf("  %s\n", b.Note)
	}
	r.printf("\n")
}

func (r *renderer) plan(p *plan.Plan, opts Options) {
	if p.Base != nil {
		r.base(p.Base)
	}
	if len(p.Problems) > 0 {
		for _, pr := range p.Problems {
			r.printf("Error: %s\n  %s\n\n", pr.Address, pr.Message)
		}
	}
	if len(p.Drift) > 0 {
		r.printf("Drift: the database differs from the applied snapshot (changed outside exhgen):\n")
		for _, d := range p.Drift {
			r.printf("  ! %s: %s\n", d.Address, d.Message)
		}
		r.printf("\n")
	}
	if len(p.SnapshotFile) > 0 {
		r.printf("Snapshot file: migrations/schema.json differs from the database's applied snapshot\n(the database is behind the repository, or was applied from another checkout):\n")
		for _, d := range p.SnapshotFile {
			r.printf("  ~ %s: %s\n", d.Address, d.Message)
		}
		r.printf("\n")
	}
	if p.Empty() {
		if p.Base != nil && !p.Database {
			r.printf("No changes. The spec matches migrations/schema.json; no database was consulted.\n")
			return
		}
		r.printf("No changes. The spec, the schema snapshot and the database match.\n")
		return
	}
	if len(p.Changes) > 0 {
		used := map[plan.Action]bool{}
		for _, top := range p.Changes {
			top.Walk(func(c *plan.Change) { used[c.Action] = true })
		}
		r.printf("exhgen compared the spec with the applied snapshot. Actions are shown\nwith the following symbols:\n")
		for _, l := range legend {
			if used[l.action] {
				r.printf("%*s %s\n", 5, symbol(l.action), l.text)
			}
		}
		r.printf("\nexhgen will perform the following actions:\n")
		for _, c := range p.Changes {
			r.printf("\n")
			r.top(c)
		}
		r.printf("\n")
	}
	r.migrations(p, opts)
	r.checks(p)
	s := p.Summarize()
	r.printf("Plan: %d to add, %d to change, %d to destroy.\n", s.Add, s.Change, s.Destroy)
	if s.BreaksAPI > 0 {
		var addrs []string
		for _, top := range p.Changes {
			top.Walk(func(c *plan.Change) {
				if c.BreaksAPI {
					addrs = append(addrs, c.Address)
				}
			})
		}
		r.printf("API: %d %s existing clients: %s.\n", s.BreaksAPI, plural(s.BreaksAPI, "change breaks", "changes break"), strings.Join(addrs, ", "))
	}
	if s.Destructive > 0 {
		r.printf("Data: %d %s destructive; apply needs -allow-destructive.\n", s.Destructive, plural(s.Destructive, "change is", "changes are"))
	}
	if s.Lost > 0 {
		r.printf("Data loss: %d stored %s would be deleted by the destructive changes (see the data checks).\n", s.Lost, plural(int(s.Lost), "document or value", "documents or values"))
	}
	if s.Holders > 0 {
		r.printf("Users: %d stored %s roles this plan removes or takes permissions from; apply needs -allow-destructive.\n", s.Holders, plural(int(s.Holders), "user holds", "users hold"))
	}
	if s.Violations > 0 {
		r.printf("Data checks: %d stored %s would violate the new schema; apply would fail.\n", s.Violations, plural(int(s.Violations), "document", "documents"))
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func header(c *plan.Change) string {
	switch c.Action {
	case plan.Create:
		return "will be created"
	case plan.Delete:
		return "will be destroyed"
	case plan.Replace:
		return "must be replaced"
	}
	return "will be updated in-place"
}

// top renders one top-level change: its header comments, its reasons
// and its block.
func (r *renderer) top(c *plan.Change) {
	r.printf("  # %s %s\n", c.Address, header(c))
	if c.Renamed() {
		r.printf("  # (moved from %s)\n", c.PrevAddress)
	}
	c.Walk(func(ch *plan.Change) {
		for _, reason := range ch.Reasons {
			tag := map[plan.ReasonKind]string{plan.ReasonDestructive: "destructive", plan.ReasonBreaksAPI: "breaks API", plan.ReasonNote: "note"}[reason.Kind]
			r.printf("  # %s: %s\n", tag, reason.Message)
		}
	})
	r.block(c, 2)
}

// block renders a change as an HCL block indented by ind spaces.
func (r *renderer) block(c *plan.Change, ind int) {
	pad := strings.Repeat(" ", ind)
	sym := symbol(c.Action)
	open := c.Type
	if c.Name != "" {
		open += fmt.Sprintf(" %q", c.Name)
	}
	comment := ""
	if c.Action == plan.Replace {
		comment = " # forces replacement"
	}
	// Symbols are right-aligned in a 3-column gutter, as terraform's.
	r.printf("%s%3s %s {%s\n", pad[:max(0, ind-2)], sym, open, comment)
	inner := strings.Repeat(" ", ind+6)
	if c.Renamed() && c.Parent() != nil {
		r.printf("%s# (renamed from %q)\n", inner, c.PrevName)
	}
	type line struct{ sym, name, value, comment string }
	var lines []line
	switch c.Action {
	case plan.Create:
		for _, k := range keys(c.After) {
			lines = append(lines, line{"+", k, plan.FormatValue(c.After[k]), ""})
		}
	case plan.Delete:
		for _, k := range keys(c.Before) {
			lines = append(lines, line{"-", k, plan.FormatValue(c.Before[k]), ""})
		}
	default:
		for _, a := range c.Attrs {
			l := line{"~", a.Name, plan.FormatValue(a.Before) + " -> " + plan.FormatValue(a.After), ""}
			_, bb := a.Before.(bool)
			_, ab := a.After.(bool)
			switch {
			case bb || ab: // an absent boolean is false
				l.value = plan.FormatValue(a.Before == true) + " -> " + plan.FormatValue(a.After == true)
			case a.Before == nil:
				l.sym, l.value = "+", plan.FormatValue(a.After)
			case a.After == nil:
				l.sym, l.value = "-", plan.FormatValue(a.Before)+" -> null"
			}
			if a.ForcesReplacement {
				l.comment = " # forces replacement"
			}
			lines = append(lines, l)
		}
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l.name))
	}
	for _, l := range lines {
		r.printf("%s%3s %-*s = %s%s\n", pad+"  ", l.sym, width, l.name, l.value, l.comment)
	}
	if c.UnchangedAttrs > 0 {
		r.printf("%s# (%d unchanged %s hidden)\n", inner, c.UnchangedAttrs, plural(c.UnchangedAttrs, "attribute", "attributes"))
	}
	for _, ch := range c.Children {
		if len(lines) > 0 || c.UnchangedAttrs > 0 || ch != c.Children[0] {
			r.printf("\n")
		}
		r.block(ch, ind+4)
	}
	if len(c.UnchangedBlocks) > 0 {
		if len(lines) > 0 || len(c.Children) > 0 || c.UnchangedAttrs > 0 {
			r.printf("\n")
		}
		types := make([]string, 0, len(c.UnchangedBlocks))
		for t := range c.UnchangedBlocks {
			types = append(types, t)
		}
		sort.Strings(types)
		for _, t := range types {
			n := c.UnchangedBlocks[t]
			one, many := "field", "fields"
			if t != "field" {
				one = strings.ReplaceAll(t, "_", " ") + " block"
				many = one + "s"
			}
			r.printf("%s# (%d unchanged %s hidden)\n", inner, n, plural(n, one, many))
		}
	}
	r.printf("%s}\n", pad+"  ")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (r *renderer) migrations(p *plan.Plan, opts Options) {
	if len(p.Migrations) == 0 {
		return
	}
	r.printf("Migrations to apply (%d):\n", len(p.Migrations))
	for _, m := range p.Migrations {
		note := ""
		if m.New {
			note = " (new, written by apply)"
		}
		r.printf("  %s%s\n", m.Name, note)
		if opts.SQL || m.New {
			for _, l := range strings.Split(strings.TrimRight(m.SQL, "\n"), "\n") {
				if l == "" {
					r.printf("\n")
					continue
				}
				r.printf("      %s\n", l)
			}
			r.printf("\n")
		}
	}
	if !opts.SQL && !p.Migrations[len(p.Migrations)-1].New {
		r.printf("\n")
	}
}

func (r *renderer) checks(p *plan.Plan) {
	checks := p.Checks()
	if len(checks) == 0 {
		return
	}
	if !p.Database {
		r.printf("Data checks (not run: set DATABASE_URL to count the stored documents each concerns):\n")
		for _, k := range checks {
			r.printf("  ? %s\n", k.Describe())
		}
		r.printf("\n")
		return
	}
	r.printf("Data checks against DATABASE_URL:\n")
	for _, k := range checks {
		switch {
		case k.Error != "":
			r.printf("  ? %s: check failed: %s\n", k.Describe(), k.Error)
		case k.Violations == 0:
			r.printf("  ok 0 %s\n", k.Describe())
		default:
			ex := ""
			if len(k.Examples) > 0 {
				ex = " (e.g. " + strings.Join(k.Examples, ", ") + ")"
			}
			r.printf("  ! %d %s%s\n", k.Violations, k.Describe(), ex)
		}
	}
	r.printf("\n")
}
