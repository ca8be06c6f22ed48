package document

import (
	"strings"
	"testing"
)

// TestAC1_StatementsNeverUnfiltered: for a model whose read rules grant a
// caller without permissions nothing, Statements refuses instead of handing
// out a read statement without an access condition.
func TestAC1_StatementsNeverUnfiltered(t *testing.T) {
	t.Parallel()
	acc := ownerAccess
	acc.Read = []string{RulePermission}
	e := newEnv(t, measurementModel(acc))
	if _, get, err := e.svc.Statements("measurement"); err == nil {
		t.Fatalf("Statements = %q, want an error", get)
	}
	e = newEnv(t)
	_, get, err := e.svc.Statements("measurement")
	if err != nil || !strings.Contains(get, "creator_id = $2") {
		t.Fatalf("Statements = %q, %v; want the creator condition", get, err)
	}
}
