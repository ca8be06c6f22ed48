package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/exhgen/exhgen/spec"
)

// A Comparer judges the changes of one block type: sets Destructive,
// BreaksAPI, Reasons, the attributes that force replacement and the data
// checks. It is called once per change, children first.
type Comparer interface {
	Judge(c *Change)
}

// A Normalizer is a Comparer that also fills in what a block implies
// (defaults the spec leaves out), so that spelling out a default is not a
// change.
type Normalizer interface {
	Normalize(b *Block)
}

// comparers maps block types to their comparer. A new block type that
// needs more than the generic judgement adds one entry here.
var comparers = map[string]Comparer{
	"project":    projectComparer{},
	"auth":       genericComparer{},
	"role":       roleComparer{},
	"group_role": roleComparer{},
	"model":      modelComparer{},
	"field":      fieldComparer{},
	"items":      fieldComparer{},
	"access":     accessComparer{},
}

func comparerFor(typ string) Comparer {
	if c, ok := comparers[typ]; ok {
		return c
	}
	return genericComparer{}
}

// genericComparer reports removals and says nothing else: what a block
// type's changes mean is unknown until it has a comparer.
type genericComparer struct{}

func (genericComparer) Judge(c *Change) {
	if c.Action == Delete && (c.parent == nil || c.parent.Action != Delete) {
		c.reason("Removes the %s %s.", humanType(c.Type), label(c))
	}
}

func humanType(t string) string { return strings.ReplaceAll(t, "_", " ") }

func label(c *Change) string {
	if c.Name == "" {
		return "block"
	}
	return fmt.Sprintf("%q", c.Name)
}

type projectComparer struct{}

func (projectComparer) Judge(c *Change) {
	if a := c.Attr("name"); a != nil && a.Before != nil {
		c.reason("Renames the project from %v to %v: the generated module and OpenAPI title change.", a.Before, a.After)
	}
	if a := c.Attr("languages"); a != nil {
		if gone := missing(a.Before, a.After); len(gone) > 0 {
			c.reason("Drops the languages %s: their translations are no longer served.", strings.Join(gone, ", "))
		}
	}
}

type roleComparer struct{}

func (roleComparer) Judge(c *Change) {
	kind := humanType(c.Type)
	group := c.Type == "group_role"
	switch c.Action {
	case Delete:
		c.reason("Removes the %s %q: users holding it lose its permissions.", kind, c.Name)
		c.Checks = append(c.Checks, &Check{Kind: CheckRoleHolders, Role: c.Name, GroupRole: group})
	case Update:
		if a := c.Attr("permissions"); a != nil {
			if gone := missing(a.Before, a.After); len(gone) > 0 {
				c.reason("Holders of the %s %q lose %s.", kind, c.Name, strings.Join(gone, ", "))
				var lost []any
				before, _ := a.Before.([]any)
				after, _ := a.After.([]any)
				for _, p := range before {
					if !slices.Contains(after, p) {
						lost = append(lost, p)
					}
				}
				c.Checks = append(c.Checks, &Check{Kind: CheckPermissionHolders, Role: prevName(c), GroupRole: group, Value: lost})
			}
			if added := missing(a.After, a.Before); len(added) > 0 {
				c.reason("Holders of the %s %q gain %s.", kind, c.Name, strings.Join(added, ", "))
			}
		}
	}
}

type modelComparer struct{}

func (modelComparer) Judge(c *Change) {
	switch c.Action {
	case Delete:
		c.destroy("Drops the table of model %q and every document stored in it.", c.Name)
		c.breaks("Removes the operations of model %q from the API.", c.Name)
		c.Checks = append(c.Checks, &Check{Kind: CheckLostDocuments, Model: c.Name})
	case Update:
		if c.Renamed() {
			c.reason("Renames the table of model %q to %q; the documents are kept.", c.PrevName, c.Name)
			c.breaks("Renames the operations and paths of model %q to %q.", c.PrevName, c.Name)
		}
	}
}

type accessComparer struct{}

// Normalize fills in the default rules of the actions the spec leaves out.
func (accessComparer) Normalize(b *Block) {
	defaults := map[string][]string{
		"create": spec.DefaultAccess.Create, "read": spec.DefaultAccess.Read,
		"update": spec.DefaultAccess.Update, "delete": spec.DefaultAccess.Delete,
	}
	if b.Attrs == nil {
		b.Attrs = map[string]any{}
	}
	for action, rules := range defaults {
		if _, ok := b.Attrs[action]; !ok {
			list := make([]any, len(rules))
			for i, r := range rules {
				list[i] = r
			}
			b.Attrs[action] = list
		}
	}
}

func (accessComparer) Judge(c *Change) {
	if c.Action != Update {
		return
	}
	for _, a := range c.Attrs {
		if gone := missing(a.Before, a.After); len(gone) > 0 {
			c.breaks("%s is no longer granted by %s: callers relying on it get 403.", a.Name, strings.Join(gone, ", "))
		}
		if added := missing(a.After, a.Before); len(added) > 0 {
			c.reason("%s is now also granted by %s.", a.Name, strings.Join(added, ", "))
		}
	}
}

// missing returns the elements of list a (a []any of strings) not in b,
// quoted.
func missing(a, b any) []string {
	as, _ := a.([]any)
	bs, _ := b.([]any)
	var out []string
	for _, x := range as {
		if !slices.Contains(bs, x) {
			out = append(out, fmt.Sprintf("%q", x))
		}
	}
	return out
}
