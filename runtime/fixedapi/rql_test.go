package fixedapi

import (
	"slices"
	"testing"

	"github.com/go-faster/yaml"

	"github.com/exhgen/exhgen/runtime/group"
	"github.com/exhgen/exhgen/runtime/rql"
	"github.com/exhgen/exhgen/runtime/user"
)

// TestRQLExtensionsMatchSchemas keeps the x-rql extensions of the fixed
// list operations (fields and limits, which the published document shows)
// equal to the RQL schemas the runtime enforces.
func TestRQLExtensionsMatchSchemas(t *testing.T) {
	t.Parallel()
	type operation struct {
		OperationID string `yaml:"operationId"`
		XRQL        *struct {
			DefaultLimit int      `yaml:"default_limit"`
			MaxLimit     int      `yaml:"max_limit"`
			Fields       []string `yaml:"fields"`
			Examples     []string `yaml:"examples"`
		} `yaml:"x-rql"`
	}
	var doc struct {
		Paths map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(fragment, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := map[string]*rql.Schema{
		"listUsers":         user.ListSchema(),
		"listGroups":        group.ListSchema(),
		"listGroupPatients": group.MemberSchema("patients"),
		"listGroupStaff":    group.MemberSchema("staff"),
	}
	seen := 0
	for _, item := range doc.Paths {
		for method, node := range item {
			var op operation
			if method == "parameters" {
				continue
			}
			if err := node.Decode(&op); err != nil {
				t.Fatal(err)
			}
			if op.XRQL == nil {
				continue
			}
			seen++
			s, ok := schemas[op.OperationID]
			if !ok {
				t.Errorf("%s has x-rql but no schema here", op.OperationID)
				continue
			}
			var names []string
			for _, f := range s.Fields {
				names = append(names, f.Name)
			}
			if !slices.Equal(op.XRQL.Fields, names) || op.XRQL.DefaultLimit != s.DefaultLimit || op.XRQL.MaxLimit != s.MaxLimit {
				t.Errorf("%s: x-rql %+v, schema fields %v limits %d/%d", op.OperationID, *op.XRQL, names, s.DefaultLimit, s.MaxLimit)
			}
			for _, ex := range op.XRQL.Examples {
				q, err := rql.Parse(ex)
				if err == nil {
					_, err = s.Compile(q, 1)
				}
				if err != nil {
					t.Errorf("%s: example %q: %v", op.OperationID, ex, err)
				}
			}
		}
	}
	if seen != len(schemas) {
		t.Errorf("%d operations with x-rql, want %d", seen, len(schemas))
	}
}
