package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestValidateValid(t *testing.T) {
	t.Parallel()
	spec := filepath.Join("..", "..", "examples", "clinic")
	code, stdout, stderr := cli(t, "validate", spec)
	if code != 0 || stderr != "" {
		t.Fatalf("validate examples/clinic: exit %d, stderr:\n%s", code, stderr)
	}
	if want := "The spec of project \"clinic\" is valid: 2 models, 4 roles, 3 group roles.\n"; stdout != want {
		t.Errorf("stdout %q, want %q", stdout, want)
	}

	code, stdout, stderr = cli(t, "validate", "--json", spec)
	if code != 0 || stderr != "" {
		t.Fatalf("validate --json examples/clinic: exit %d, stderr:\n%s", code, stderr)
	}
	var got jsonReport
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout)
	}
	if !got.Valid || got.ErrorCount != 0 || len(got.Diagnostics) != 0 {
		t.Errorf("--json on a valid spec: %s", stdout)
	}
}

// jsonReport is the shape of validate --json.
type jsonReport struct {
	Valid        bool `json:"valid"`
	ErrorCount   int  `json:"error_count"`
	WarningCount int  `json:"warning_count"`
	Diagnostics  []struct {
		Severity string `json:"severity"`
		Summary  string `json:"summary"`
		Detail   string `json:"detail"`
		Range    *struct {
			Filename string `json:"filename"`
			Start    struct {
				Line, Column int
			} `json:"start"`
		} `json:"range"`
		Snippet *struct {
			Code string `json:"code"`
		} `json:"snippet"`
	} `json:"diagnostics"`
}

// expectedErrors reads the "# ERROR: <summary>" marks of the invalid
// fixture: "file:line: summary" for each.
func expectedErrors(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if _, summary, ok := strings.Cut(sc.Text(), "# ERROR: "); ok && !strings.HasPrefix(strings.TrimSpace(sc.Text()), "#") {
				want = append(want, fmt.Sprintf("%s:%d: %s", name, n, summary))
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	return want
}

func TestValidateInvalid(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "invalid")
	want := expectedErrors(t, dir)
	if len(want) < 4 {
		t.Fatalf("the fixture marks %d errors, want at least 4", len(want))
	}

	t.Run("human", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := cli(t, "validate", dir)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if stdout != "" {
			t.Errorf("stdout should be empty, got:\n%s", stdout)
		}
		golden(t, "validate_invalid.txt.golden", stderr)

		// Each marked error shows in the frame with its file and line,
		// the source line, a caret line, and in the one-line form.
		for _, w := range want {
			loc, summary, _ := strings.Cut(w, ": ")
			file, line, _ := strings.Cut(loc, ":")
			if !strings.Contains(stderr, "Error: "+summary+"\n") {
				t.Errorf("no frame for %q", summary)
			}
			if !strings.Contains(stderr, fmt.Sprintf("on %s line %s", file, line)) {
				t.Errorf("no location %s line %s for %q", file, line, summary)
			}
			short := regexp.MustCompile("(?m)^" + regexp.QuoteMeta(file+":"+line+":") + `\d+: error: ` + regexp.QuoteMeta(summary) + "$")
			if !short.MatchString(stderr) {
				t.Errorf("no one-line %s:%s:COL: error: %s", file, line, summary)
			}
		}
		if carets := regexp.MustCompile(`(?m)^│ +\^+$`).FindAllString(stderr, -1); len(carets) != len(want) {
			t.Errorf("%d caret lines, want %d", len(carets), len(want))
		}
		if n := strings.Count(stderr, "Did you mean"); n != 3 {
			t.Errorf("%d suggestions (Did you mean), want 3: the type, the argument and the permission's model", n)
		}
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		code, stdout, stderr := cli(t, "validate", "--json", dir)
		if code != 1 {
			t.Errorf("exit %d, want 1", code)
		}
		if stderr != "" {
			t.Errorf("stderr should be empty with --json, got:\n%s", stderr)
		}
		golden(t, "validate_invalid.json.golden", stdout)

		var got jsonReport
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("output is not JSON: %v", err)
		}
		if got.Valid || got.ErrorCount != len(want) || got.WarningCount != 0 {
			t.Errorf("valid %v, error_count %d, warning_count %d; want false, %d, 0", got.Valid, got.ErrorCount, got.WarningCount, len(want))
		}
		var have []string
		for _, d := range got.Diagnostics {
			if d.Range == nil || d.Snippet == nil {
				t.Errorf("%q has no range or snippet", d.Summary)
				continue
			}
			have = append(have, fmt.Sprintf("%s:%d: %s", d.Range.Filename, d.Range.Start.Line, d.Summary))
		}
		slices.Sort(have)
		if !slices.Equal(have, want) {
			t.Errorf("diagnostics:\n%s\nwant the fixture's marks:\n%s", strings.Join(have, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestValidateSingleDashJSON: `validate -json DIR` works as the issue and
// Go's tools spell it.
func TestValidateSingleDashJSON(t *testing.T) {
	t.Parallel()
	stdout := mustCLI(t, "validate", "-json", clinicSpec(t))
	if !strings.Contains(stdout, `"valid": true`) && !strings.Contains(stdout, `"valid":true`) {
		t.Fatalf("validate -json: %s", stdout)
	}
}
