package plan

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
)

// Action is what a change does to its block.
type Action string

const (
	Create  Action = "create"
	Update  Action = "update"
	Delete  Action = "delete"
	Replace Action = "replace" // delete, then create: the old data is lost
)

// Change is one block's change. A created or deleted block's nested blocks
// are children with the same action; an updated block lists the nested
// blocks that changed.
type Change struct {
	Address string `json:"address"`
	// PrevAddress is the address in the applied state when the block was
	// renamed (renamed_from, or a renamed parent).
	PrevAddress string `json:"previous_address,omitempty"`
	// PrevName is the block's own previous name when it was renamed.
	PrevName string `json:"previous_name,omitempty"`
	Type     string `json:"type"`
	Name     string `json:"name,omitempty"`
	Action   Action `json:"action"`
	// Before and After are the block's attributes in the applied state and
	// in the spec (nil when it does not exist there).
	Before map[string]any `json:"before"`
	After  map[string]any `json:"after"`
	// Attrs are the attributes that differ, sorted by name.
	Attrs []AttrChange `json:"attributes,omitempty"`
	// UnchangedAttrs counts the attributes that are the same;
	// UnchangedBlocks the unchanged nested blocks by type.
	UnchangedAttrs  int            `json:"unchanged_attributes,omitempty"`
	UnchangedBlocks map[string]int `json:"unchanged_blocks,omitempty"`
	Children        []*Change      `json:"children,omitempty"`

	// Destructive: applying it loses or may reject stored data (drops a
	// column or table, narrows a type or enum, tightens a constraint).
	Destructive bool `json:"destructive"`
	// BreaksAPI: clients written against the old API may fail (an
	// operation or field removed or renamed, a field made required, a
	// value they send now refused).
	BreaksAPI bool `json:"breaks_api"`
	// Reasons say why, and what else the change does, one sentence each.
	Reasons []Reason `json:"reasons,omitempty"`
	// Checks are the data checks this change needs: how many stored
	// documents would violate it. Package live runs them.
	Checks []*Check `json:"data_checks,omitempty"`

	parent *Change
}

// AttrChange is one attribute's old and new value (nil: not set).
type AttrChange struct {
	Name              string `json:"name"`
	Before            any    `json:"before"`
	After             any    `json:"after"`
	ForcesReplacement bool   `json:"forces_replacement,omitempty"`
}

// Attr returns the change of the named attribute, or nil.
func (c *Change) Attr(name string) *AttrChange {
	for i := range c.Attrs {
		if c.Attrs[i].Name == name {
			return &c.Attrs[i]
		}
	}
	return nil
}

// Parent is the change of the enclosing block, nil at the top level.
func (c *Change) Parent() *Change { return c.parent }

// Renamed reports whether the block itself was renamed (renamed_from).
func (c *Change) Renamed() bool { return c.PrevName != "" }

// Own reports whether the change is more than its children's: the block
// itself is created, deleted, replaced, renamed or has changed attributes.
// Only those count in the plan's summary.
func (c *Change) Own() bool {
	return c.Action != Update || len(c.Attrs) > 0 || c.Renamed()
}

// Reason is one sentence about a change.
type Reason struct {
	Kind    ReasonKind `json:"kind"`
	Message string     `json:"message"`
}

// ReasonKind says what a reason is about.
type ReasonKind string

const (
	ReasonDestructive ReasonKind = "destructive"
	ReasonBreaksAPI   ReasonKind = "breaks_api"
	ReasonNote        ReasonKind = "note"
)

// destroy marks the change destructive for the reason given.
func (c *Change) destroy(format string, args ...any) {
	c.Destructive = true
	c.add(ReasonDestructive, format, args...)
}

// breaks marks the change API-breaking for the reason given.
func (c *Change) breaks(format string, args ...any) {
	c.BreaksAPI = true
	c.add(ReasonBreaksAPI, format, args...)
}

// reason notes what else the change does.
func (c *Change) reason(format string, args ...any) { c.add(ReasonNote, format, args...) }

func (c *Change) add(kind ReasonKind, format string, args ...any) {
	r := Reason{Kind: kind, Message: fmt.Sprintf(format, args...)}
	if !slices.Contains(c.Reasons, r) {
		c.Reasons = append(c.Reasons, r)
	}
}

// Walk calls fn for c and every change below it, depth first.
func (c *Change) Walk(fn func(*Change)) {
	fn(c)
	for _, ch := range c.Children {
		ch.Walk(fn)
	}
}

// Problem is a reason the plan cannot be applied as the spec stands.
type Problem struct {
	Address string `json:"address"`
	Message string `json:"message"`
}

func (p Problem) String() string { return p.Address + ": " + p.Message }

// Compare computes the changes that turn the applied state before into
// after, sorted by address, and the problems that prevent applying them
// (a renamed_from naming nothing in the applied state).
func Compare(before, after State) ([]*Change, []Problem) {
	cmp := &comparison{first: before.Empty()}
	changes := cmp.blocks("", "", before.Blocks, after.Blocks, nil)
	return changes, cmp.problems
}

type comparison struct {
	first    bool // nothing was applied yet: renames have nothing to name
	problems []Problem
}

func address(parent, typ, name string) string {
	a := typ
	if parent != "" {
		a = parent + "." + typ
	}
	if name != "" {
		a += "." + name
	}
	return a
}

// blocks compares the blocks of one level. addr and prevAddr are the
// enclosing block's addresses now and in the applied state.
func (cmp *comparison) blocks(addr, prevAddr string, before, after []*Block, parent *Change) []*Change {
	matched := make(map[*Block]bool)
	var out []*Change
	type pair struct{ b, a *Block }
	var pairs []pair
	for _, a := range after {
		b := Find(before, a.Type, a.Name)
		if b != nil && matched[b] {
			b = nil
		}
		if b == nil && a.RenamedFrom != "" {
			b = Find(before, a.Type, a.RenamedFrom)
			if (b == nil || matched[b]) && !cmp.first && (parent == nil || parent.Action != Create) {
				cmp.problems = append(cmp.problems, Problem{
					Address: address(addr, a.Type, a.Name),
					Message: renameProblem(a, before),
				})
			}
			if b != nil && (matched[b] || Find(after, b.Type, b.Name) != nil) {
				b = nil
			}
		}
		if b != nil {
			matched[b] = true
		}
		pairs = append(pairs, pair{b, a})
	}
	for _, p := range pairs {
		if c := cmp.block(addr, prevAddr, p.b, p.a, parent); c != nil {
			out = append(out, c)
		} else if parent != nil {
			if parent.UnchangedBlocks == nil {
				parent.UnchangedBlocks = map[string]int{}
			}
			parent.UnchangedBlocks[p.a.Type]++
		}
	}
	for _, b := range before {
		if !matched[b] {
			out = append(out, cmp.block(addr, prevAddr, b, nil, parent))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

func renameProblem(a *Block, before []*Block) string {
	var names []string
	for _, b := range before {
		if b.Type == a.Type {
			names = append(names, b.Name)
		}
	}
	msg := fmt.Sprintf("renamed_from names the %s %q, which the applied state does not hold.", a.Type, a.RenamedFrom)
	if s := nearest(a.RenamedFrom, names); s != "" {
		return msg + fmt.Sprintf(" Did you mean %q?", s)
	}
	if len(names) > 0 {
		return msg + fmt.Sprintf(" It holds %s.", strings.Join(quoteAll(names), ", "))
	}
	return msg
}

// block compares one block; b or a is nil when it is created or deleted.
// It returns nil when nothing changed.
func (cmp *comparison) block(addr, prevAddr string, b, a *Block, parent *Change) *Change {
	c := &Change{parent: parent}
	switch {
	case b == nil:
		c.Type, c.Name, c.Action = a.Type, a.Name, Create
		c.Address = address(addr, a.Type, a.Name)
		c.After = a.Attrs
		c.Children = cmp.blocks(c.Address, "", nil, a.Blocks, c)
	case a == nil:
		c.Type, c.Name, c.Action = b.Type, b.Name, Delete
		c.Address = address(addr, b.Type, b.Name)
		if prevAddr != "" {
			c.Address = address(prevAddr, b.Type, b.Name)
		}
		c.Before = b.Attrs
		c.Children = cmp.blocks(c.Address, c.Address, b.Blocks, nil, c)
	default:
		c.Type, c.Name, c.Action = a.Type, a.Name, Update
		c.Address = address(addr, a.Type, a.Name)
		c.PrevAddress = address(prevAddr, b.Type, b.Name)
		if c.PrevAddress == c.Address {
			c.PrevAddress = ""
		}
		if b.Name != a.Name {
			c.PrevName = b.Name
		}
		c.Before, c.After = b.Attrs, a.Attrs
		for _, k := range attrNames(b.Attrs, a.Attrs) {
			bv, av := b.Attrs[k], a.Attrs[k]
			if equal(bv, av) {
				c.UnchangedAttrs++
				continue
			}
			c.Attrs = append(c.Attrs, AttrChange{Name: k, Before: bv, After: av})
		}
		c.Children = cmp.blocks(c.Address, address(prevAddr, b.Type, b.Name), b.Blocks, a.Blocks, c)
		if !c.Own() && len(c.Children) == 0 {
			return nil
		}
	}
	judge(c)
	return c
}

// judge lets the comparer of c's type set its judgement; a changed
// attribute forcing replacement makes an update a replacement.
func judge(c *Change) {
	comparerFor(c.Type).Judge(c)
	if c.Action == Update && slices.ContainsFunc(c.Attrs, func(a AttrChange) bool { return a.ForcesReplacement }) {
		c.Action = Replace
	}
}

func attrNames(ms ...map[string]any) []string {
	var names []string
	for _, m := range ms {
		for k := range m {
			if !slices.Contains(names, k) {
				names = append(names, k)
			}
		}
	}
	sort.Strings(names)
	return names
}

func equal(a, b any) bool {
	return reflect.DeepEqual(a, b)
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// nearest returns the candidate closest to s within a small edit distance.
func nearest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := distance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(rb)]
}

// Clone returns a deep copy of a state's JSON form.
func (s State) Clone() State {
	data, _ := json.Marshal(s)
	var out State
	_ = json.Unmarshal(data, &out)
	return out
}
