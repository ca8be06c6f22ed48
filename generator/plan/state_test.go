package plan

import (
	"reflect"
	"testing"
)

// A block type and attributes the spec gains later show up in the state,
// and so in plans, without changes here.
func TestBlockOfIsGeneric(t *testing.T) {
	t.Parallel()
	type Step struct {
		Name    string
		Timeout string
	}
	type Workflow struct {
		Name        string
		RenamedFrom string
		Initial     string
		Retries     *int
		Statuses    []string
		Steps       []*Step
		Unset       bool
	}
	type Project struct {
		Workflows []*Workflow
		Policies  []Step
	}
	three := 3
	b := blockOf("project", reflect.ValueOf(Project{
		Workflows: []*Workflow{{Name: "review", RenamedFrom: "check", Initial: "new", Retries: &three, Statuses: []string{"new", "done"},
			Steps: []*Step{{Name: "mail", Timeout: "30s"}}}},
		Policies: []Step{{Name: "p"}},
	}))
	want := &Block{Type: "project", Blocks: []*Block{
		{Type: "workflow", Name: "review", RenamedFrom: "check",
			Attrs:  map[string]any{"initial": "new", "retries": 3.0, "statuses": []any{"new", "done"}},
			Blocks: []*Block{{Type: "step", Name: "mail", Attrs: map[string]any{"timeout": "30s"}}}},
		{Type: "policy", Name: "p"},
	}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("blockOf = %#v", b)
	}
	changes, _ := Compare(State{Blocks: []*Block{{Type: "workflow", Name: "check", Attrs: map[string]any{"initial": "old"}}}}, State{Blocks: b.Blocks[:1]})
	if len(changes) != 1 || changes[0].PrevName != "check" || changes[0].Attr("initial") == nil || changes[0].Children[0].Action != Create {
		t.Errorf("Compare of an unknown block type: %+v", changes)
	}
}

func TestSnake(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"MinLength": "min_length", "ServerURL": "server_url", "AccessTokenTTL": "access_token_ttl", "HTTPServer": "http_server", "Name": "name", "RedirectURIs": "redirect_uris", "IDs": "ids", "URIsList": "uris_list"} {
		if got := snake(in); got != want {
			t.Errorf("snake(%q) = %q, want %q", in, got, want)
		}
	}
}
