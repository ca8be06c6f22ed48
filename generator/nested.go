package generator

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/exhgen/exhgen/generator/plan"
)

// Fields nested in an object column, or in the objects of an array column,
// live inside the stored JSON documents, not in columns. When they change,
// the documents are rewritten so that reads and merge-patch updates (which
// validate the whole document, additionalProperties false) see the new
// shape:
//
//   - a renamed field's key is renamed (its value kept);
//   - a removed field's key is removed, and so is the key of a field whose
//     type changed beyond conversion (it is added again, empty);
//   - a new required field with a default, or one made required with a
//     default, is set to the default in every enclosing object lacking it
//     (absent or null). Defaults of optional fields are not backfilled.
//
// Each change is one UPDATE that rebuilds only the documents it changes
// (a jsonb_path_exists filter selects them) and changes nothing when run
// again, so it may be re-run, or run in batches of ids, safely. Arrays are
// rebuilt with jsonb_agg over jsonb_array_elements WITH ORDINALITY, keeping
// their order.

// jsonOp is one rewrite of the objects at a path inside a column.
type jsonOp struct {
	kind   string   // "rename", "remove", "backfill"
	table  string   // the table, by its new name
	column string   // the column, by its new name
	path   []string // the segments to the enclosing objects: keys, or "[*]"
	key    string   // the member: its old name (rename, remove) or its name (backfill)
	newKey string   // rename: the new name
	value  any      // backfill: the default
	label  string   // "device.model", for the comment
}

// jsonSteps returns, by table (new name), the UPDATE steps that carry the
// stored documents through the nested field changes from prev to next:
// renames first (outer before inner, so inner paths use the new names of
// their enclosing fields), then removals, then backfills.
func jsonSteps(prev, next plan.State) map[string][]Step {
	if prev.Empty() {
		return nil
	}
	changes, _ := plan.Compare(prev, next)
	var renames, removals, backfills []jsonOp
	for _, m := range changes {
		if m.Type != "model" || m.Action != plan.Update {
			continue
		}
		for _, col := range m.Children {
			if col.Type != "field" || col.Action != plan.Update {
				continue // created, dropped or replaced with the column
			}
			col.Walk(func(c *plan.Change) {
				if c == col || c.Type != "field" {
					return
				}
				path, ok := jsonPath(col, c)
				if !ok {
					return
				}
				op := jsonOp{table: tableName(m.Name), column: col.Name, path: path, label: jsonLabel(col.Name, path, c.Name)}
				old := c.Name
				if c.PrevName != "" {
					old = c.PrevName
				}
				switch c.Action {
				case plan.Delete:
					op.kind, op.key, op.label = "remove", old, jsonLabel(col.Name, path, old)
					removals = append(removals, op)
					return
				case plan.Replace:
					op.kind, op.key, op.label = "remove", old, jsonLabel(col.Name, path, old)
					removals = append(removals, op)
				case plan.Update:
					if c.Renamed() {
						op.kind, op.key, op.newKey = "rename", c.PrevName, c.Name
						op.label = jsonLabel(col.Name, path, c.PrevName)
						renames = append(renames, op)
					}
				}
				def, hasDefault := c.After["default"]
				if c.After["required"] != true || !hasDefault {
					return
				}
				if a := c.Attr("required"); c.Action == plan.Create || c.Action == plan.Replace || a != nil {
					op.kind, op.key, op.value = "backfill", c.Name, def
					op.label = jsonLabel(col.Name, path, c.Name)
					backfills = append(backfills, op)
				}
			})
		}
	}
	out := map[string][]Step{}
	for _, ops := range [][]jsonOp{renames, removals, backfills} {
		for _, op := range ops {
			out[op.table] = append(out[op.table], op.step())
		}
	}
	return out
}

// jsonPath returns the segments from column change col down to the
// objects holding field change c, with the new names; ok is false unless
// every block between them is updated in place (a created, dropped or
// replaced enclosing field has no stored objects to rewrite).
func jsonPath(col, c *plan.Change) ([]string, bool) {
	var segs []string
	for n := c.Parent(); n != col; n = n.Parent() {
		if n == nil || n.Action != plan.Update {
			return nil, false
		}
		switch n.Type {
		case "items":
			segs = append([]string{"[*]"}, segs...)
		case "field":
			segs = append([]string{n.Name}, segs...)
		default:
			return nil, false
		}
	}
	return segs, true
}

// jsonLabel names a nested field as people write it: "samples[].unit".
func jsonLabel(col string, path []string, key string) string {
	var b strings.Builder
	b.WriteString(col)
	for _, s := range path {
		if s == "[*]" {
			b.WriteString("[]")
		} else {
			b.WriteString("." + s)
		}
	}
	return b.String() + "." + key
}

// step writes the op's UPDATE of table.
func (op jsonOp) step() Step {
	col := quote(op.column)
	var comment, filter string
	k := jsonPathKey(op.key)
	switch op.kind {
	case "rename":
		comment = fmt.Sprintf("%s is renamed to %s in the stored documents; the values are kept.", op.label, op.newKey)
		filter = "exists(@." + k + ")"
	case "remove":
		comment = fmt.Sprintf("%s is removed from the stored documents.", op.label)
		filter = "exists(@." + k + ")"
	default:
		comment = fmt.Sprintf("%s gets its default where the stored documents lack it.", op.label)
		filter = `@.type() == "object" && (!exists(@.` + k + `) || @.` + k + ` == null)`
	}
	jp := "$"
	for _, s := range op.path {
		if s == "[*]" {
			jp += "[*]"
		} else {
			jp += "." + jsonPathKey(s)
		}
	}
	jp += " ? (" + filter + ")"
	expr := op.rewrite(col, op.path, 1)
	return Step{SQL: fmt.Sprintf("-- %s\n-- Changes only the documents that need it: safe to run again, or in batches.\nUPDATE %s SET %s = %s\nWHERE jsonb_path_exists(%s, %s);",
		comment, quote(op.table), col, expr, col, literal(jp)), Destructive: op.kind == "remove"}
}

// rewrite returns the jsonb expression that applies op to the objects at
// path inside the value e (depth numbers the aliases of nested arrays).
// Values of another shape than the path expects are left as they are.
func (op jsonOp) rewrite(e string, path []string, depth int) string {
	if len(path) == 0 {
		key := literal(op.key)
		switch op.kind {
		case "rename":
			return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s) = 'object' AND %[1]s ? %[2]s THEN (%[1]s - %[2]s) || jsonb_build_object(%[3]s, %[1]s -> %[2]s) ELSE %[1]s END",
				e, key, literal(op.newKey))
		case "remove":
			return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s) = 'object' THEN %[1]s - %[2]s ELSE %[1]s END", e, key)
		default:
			val, _ := json.Marshal(op.value)
			return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s) = 'object' AND coalesce(%[1]s -> %[2]s, 'null') = 'null' THEN %[1]s || jsonb_build_object(%[2]s, %[3]s::jsonb) ELSE %[1]s END",
				e, key, literal(string(val)))
		}
	}
	if path[0] == "[*]" {
		x := fmt.Sprintf("x%d", depth)
		inner := op.rewrite(x+".v", path[1:], depth+1)
		return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s) = 'array' THEN (SELECT coalesce(jsonb_agg(%[2]s ORDER BY %[3]s.i), '[]') FROM jsonb_array_elements(%[1]s) WITH ORDINALITY AS %[3]s(v, i)) ELSE %[1]s END",
			e, inner, x)
	}
	key := literal(path[0])
	inner := op.rewrite("("+e+" -> "+key+")", path[1:], depth)
	return fmt.Sprintf("CASE WHEN jsonb_typeof(%[1]s) = 'object' AND %[1]s ? %[2]s THEN jsonb_set(%[1]s, ARRAY[%[2]s], %[3]s) ELSE %[1]s END",
		e, key, inner)
}

// jsonPathKey quotes a member name for an SQL/JSON path.
func jsonPathKey(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
