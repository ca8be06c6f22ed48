package spec

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// TestValidProjects loads every project under testdata/valid: none may
// produce a diagnostic.
func TestValidProjects(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob("testdata/valid/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no valid projects: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			p, diags := Load(dir)
			if len(diags) > 0 {
				t.Fatalf("unexpected diagnostics:\n%s", short(diags))
			}
			if p.Name == "" || p.Title == "" {
				t.Errorf("project name %q, title %q: want both set", p.Name, p.Title)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Files) != len(entries) {
				t.Errorf("Files has %d entries, want %d", len(p.Files), len(entries))
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// TestClinic checks the decoded values of the clinic example.
func TestClinic(t *testing.T) {
	t.Parallel()
	p, diags := Load("testdata/valid/clinic")
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", short(diags))
	}

	t.Run("project", func(t *testing.T) {
		t.Parallel()
		checkEqual(t, "Name", p.Name, "clinic")
		checkEqual(t, "Title", p.Title, "Blood pressure clinic")
		checkEqual(t, "Description", p.Description, "Home blood pressure monitoring with clinician review.")
		checkEqual(t, "Version", p.Version, "1.2.0")
		checkEqual(t, "Languages", p.Languages, []string{"en", "nl", "fr-BE"})
		checkEqual(t, "DeclRange", p.DeclRange.String(), filepath.Join("testdata/valid/clinic", "project.hcl")+":3,1-17")
	})
	t.Run("auth", func(t *testing.T) {
		t.Parallel()
		checkEqual(t, "AccessTokenTTL", p.Auth.AccessTokenTTL, "10m0s")
		checkEqual(t, "RefreshTokenTTL", p.Auth.RefreshTokenTTL, "720h0m0s")
		checkEqual(t, "AccessTokenDuration", p.Auth.AccessTokenDuration(), 10*time.Minute)
		checkEqual(t, "RefreshTokenDuration", p.Auth.RefreshTokenDuration(), 30*24*time.Hour)
		checkEqual(t, "Registration", p.Auth.Registration, "invite")
	})
	t.Run("roles", func(t *testing.T) {
		t.Parallel()
		var names []string
		for _, r := range p.Roles {
			names = append(names, r.Name)
		}
		checkEqual(t, "role names", names, []string{"admin", "clinician", "support"})
		checkEqual(t, "clinician permissions", p.Roles[1].Permissions,
			[]string{"data:measurement:read", "data:measurement:update", "data:device:read", "users:read", "groups:read"})
		checkEqual(t, "clinician description", p.Roles[1].Description, "Reviews measurements of every patient.")
		names = nil
		for _, r := range p.GroupRoles {
			names = append(names, r.Name)
		}
		checkEqual(t, "group role names", names, []string{"clinic_staff", "clinic_admin"})
	})
	t.Run("models", func(t *testing.T) {
		t.Parallel()
		var names []string
		for _, m := range p.Models {
			names = append(names, m.Name)
		}
		checkEqual(t, "model names", names, []string{"measurement", "device"})
		m := p.Model("measurement")
		checkEqual(t, "description", m.Description, "A blood pressure reading.")
		checkEqual(t, "access", m.Access.Read, []string{"creator", "linked_users", "linked_group_staff", "permission"})
		checkEqual(t, "access delete", m.Access.Delete, []string{"creator"})
		if p.Model("nope") != nil {
			t.Error(`Model("nope") is not nil`)
		}
		dev := p.Model("device")
		checkEqual(t, "device access", dev.Access.Effective(), Access{
			Create:    []string{"all_users"},
			Read:      []string{"creator", "linked_users", "permission"},
			Update:    []string{"creator", "linked_users", "permission"},
			Delete:    []string{"creator", "permission"},
			Link:      []string{"permission"},
			Unlink:    []string{"permission"},
			GroupSync: GroupSyncNone,
		})
	})

	fields := map[string]*Field{}
	for _, m := range p.Models {
		for _, f := range m.Fields {
			fields[m.Name+"."+f.Name] = f
		}
	}
	for _, tt := range []struct {
		name string
		want Field // DeclRange, Fields and Items are not compared
	}{
		{"measurement.systolic", Field{Name: "systolic", Type: TypeInteger, Description: "Systolic pressure, mmHg.", Required: true, Minimum: ptr(40.0), Maximum: ptr(300.0)}},
		{"measurement.pulse", Field{Name: "pulse", Type: TypeNumber, Minimum: ptr(0.0), Maximum: ptr(250.5)}},
		{"measurement.taken_at", Field{Name: "taken_at", Type: TypeDateTime, Required: true, Indexed: true}},
		{"measurement.arm", Field{Name: "arm", Type: TypeString, Enum: []string{"left", "right"}, Default: "left"}},
		{"measurement.irregular", Field{Name: "irregular", Type: TypeBoolean, Default: false}},
		{"measurement.note", Field{Name: "note", Type: TypeString, MinLength: ptr(1), MaxLength: ptr(500)}},
		{"measurement.device", Field{Name: "device", Type: TypeObject}},
		{"measurement.tags", Field{Name: "tags", Type: TypeArray, MinItems: ptr(0), MaxItems: ptr(10)}},
		{"device.owner_email", Field{Name: "owner_email", Type: TypeEmail, Default: "nobody@example.com"}},
		{"device.registered_on", Field{Name: "registered_on", Type: TypeDate, Default: "2024-01-31"}},
		{"device.retries", Field{Name: "retries", Type: TypeInteger, Default: 3.0, Minimum: ptr(0.0)}},
		{"device.pairing_id", Field{Name: "pairing_id", Type: TypeUUID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := fields[tt.name]
			if f == nil {
				t.Fatalf("no field %s", tt.name)
			}
			got := *f
			got.DeclRange, got.Fields, got.Items = hcl.Range{}, nil, nil
			checkEqual(t, tt.name, got, tt.want)
		})
	}

	t.Run("nested", func(t *testing.T) {
		t.Parallel()
		dev := fields["measurement.device"]
		var names []string
		for _, f := range dev.Fields {
			names = append(names, f.Name)
		}
		checkEqual(t, "device fields", names, []string{"serial", "firmware", "calibrated_on"})
		checkEqual(t, "serial pattern", dev.Fields[0].Pattern, "^[A-Z0-9]{4,20}$")
		checkEqual(t, "serial required", dev.Fields[0].Required, true)

		tags := fields["measurement.tags"]
		checkEqual(t, "tags items", *tags.Items, Field{Type: TypeString, MaxLength: ptr(32), DeclRange: tags.Items.DeclRange})

		readings := fields["measurement.readings"].Items
		checkEqual(t, "readings items type", readings.Type, TypeObject)
		checkEqual(t, "readings.at", readings.Fields[0].Type, TypeDateTime)
		pressure := readings.Fields[1]
		checkEqual(t, "readings.pressure", pressure.Type, TypeArray)
		checkEqual(t, "readings.pressure items", pressure.Items.Type, TypeNumber)
		checkEqual(t, "readings.pressure minimum", pressure.Items.Minimum, ptr(0.0))
	})
}

func checkEqual[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

// TestDefaults checks what a project without optional blocks holds.
func TestDefaults(t *testing.T) {
	t.Parallel()
	p, diags := Load("testdata/valid/minimal")
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", short(diags))
	}
	checkEqual(t, "Languages", p.Languages, []string{"en"})
	checkEqual(t, "Auth", p.Auth, Auth{AccessTokenTTL: "15m0s", RefreshTokenTTL: "720h0m0s", Registration: "open"})
	if len(p.Roles)+len(p.GroupRoles)+len(p.Models) != 0 {
		t.Errorf("roles, group roles or models declared: %+v", p)
	}
}

// TestDecode checks decoded values of small inline specs.
func TestDecode(t *testing.T) {
	t.Parallel()
	const head = "project \"p\" {\n  title = \"P\"\n}\n"
	for _, tt := range []struct {
		name  string
		src   string
		check func(t *testing.T, p *Project)
	}{
		{"durations with days", head + `auth {
  access_token_ttl  = "1h"
  refresh_token_ttl = "1d12h"
}`, func(t *testing.T, p *Project) {
			checkEqual(t, "access", p.Auth.AccessTokenTTL, "1h0m0s")
			checkEqual(t, "refresh", p.Auth.RefreshTokenTTL, "36h0m0s")
			checkEqual(t, "registration", p.Auth.Registration, "open")
		}},
		{"password policy and user deletion", head + `auth {
  user_deletion = "delete"
  password {
    min_length = 20
    max_length = 64
  }
}`, func(t *testing.T, p *Project) {
			checkEqual(t, "user_deletion", p.Auth.UserDeletion, "delete")
			checkEqual(t, "min_length", p.Auth.Password.MinLength, 20)
			checkEqual(t, "max_length", p.Auth.Password.MaxLength, 64)
		}},
		{"go duration refresh", head + `auth {
  refresh_token_ttl = "90m"
}`, func(t *testing.T, p *Project) {
			checkEqual(t, "access", p.Auth.AccessTokenTTL, "15m0s")
			checkEqual(t, "refresh", p.Auth.RefreshTokenTTL, "1h30m0s")
		}},
		{"single access rule and defaults", head + `model "note" {
  field "text" {
    type = "string"
  }
  access {
    create = "creator"
  }
}`, func(t *testing.T, p *Project) {
			a := p.Models[0].Access
			checkEqual(t, "create", a.Create, []string{"creator"})
			checkEqual(t, "read", a.Read, []string(nil))
			checkEqual(t, "effective read", a.Effective().Read, DefaultAccess.Read)
		}},
		{"function calls are not allowed", head + `model "note" {
  field "tags" {
    type = "array"
    items {
      type = "string"
      enum = [for s in ["a", "b"] : upper(s)]
    }
  }
}`, nil},
		{"number and string literals", head + `model "note" {
  description = "a ${"note"}"
  field "n" {
    type    = "integer"
    minimum = -5
    maximum = 2 * 50
    default = 1e2
  }
  field "tags" {
    type = "array"
    items {
      type = "string"
      enum = [for s in ["a", "b"] : s if s != "b"]
    }
  }
}`, func(t *testing.T, p *Project) {
			m := p.Models[0]
			checkEqual(t, "description", m.Description, "a note")
			n := m.Fields[0]
			checkEqual(t, "minimum", n.Minimum, ptr(-5.0))
			checkEqual(t, "maximum", n.Maximum, ptr(100.0))
			checkEqual(t, "default", n.Default, any(100.0))
			checkEqual(t, "enum", m.Fields[1].Items.Enum, []string{"a"})
		}},
		{"nested field names may be reserved at top level only", head + `model "note" {
  field "meta" {
    type = "object"
    field "id" {
      type = "string"
    }
  }
}`, func(t *testing.T, p *Project) {
			checkEqual(t, "nested name", p.Models[0].Fields[0].Fields[0].Name, "id")
		}},
		{"null means unset", head + `model "note" {
  description = null
  field "n" {
    type     = "integer"
    required = null
    minimum  = null
  }
}`, func(t *testing.T, p *Project) {
			n := p.Models[0].Fields[0]
			checkEqual(t, "required", n.Required, false)
			checkEqual(t, "minimum", n.Minimum, (*float64)(nil))
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.check == nil {
				_, diags := LoadFiles(map[string][]byte{"p.hcl": []byte(tt.src)})
				if len(diags) != 1 || diags[0].Summary != "Function calls not allowed" {
					t.Fatalf("diagnostics:\n%s\nwant one Function calls not allowed", short(diags))
				}
				return
			}
			tt.check(t, mustLoad(t, map[string]string{"p.hcl": tt.src}))
		})
	}
}

// TestMultipleFiles checks that declarations from several files merge in
// file-name order, and that duplicates across files name the first one.
func TestMultipleFiles(t *testing.T) {
	t.Parallel()
	files := map[string][]byte{
		"b.hcl": []byte("model \"b\" {\n  field \"x\" {\n    type = \"string\"\n  }\n}\nrole \"r\" {\n  permissions = [\"data:a:read\"]\n}\n"),
		"a.hcl": []byte("project \"p\" {\n  title = \"P\"\n}\nmodel \"a\" {\n  field \"x\" {\n    type = \"string\"\n  }\n}\n"),
		"c.hcl": []byte("project \"q\" {\n  title = \"Q\"\n}\nmodel \"a\" {\n  field \"y\" {\n    type = \"string\"\n  }\n}\nrole \"r\" {}\n"),
	}
	p, diags := LoadFiles(files)
	var names []string
	for _, m := range p.Models {
		names = append(names, m.Name)
	}
	checkEqual(t, "models", names, []string{"a", "b"})
	checkEqual(t, "project", p.Name, "p")
	checkEqual(t, "files", len(p.Files), 3)

	type diag struct{ summary, detail, where string }
	var got []diag
	for _, d := range diags {
		got = append(got, diag{d.Summary, d.Detail, d.Subject.String()})
	}
	want := []diag{
		{"Duplicate project block", `The project "p" was already declared at a.hcl:1,1-12; a project has exactly one project block.`, "c.hcl:1,1-12"},
		{`Duplicate model "a"`, `A model named "a" was already declared at a.hcl:4,1-10.`, "c.hcl:4,7-10"},
		{`Duplicate role "r"`, `A role named "r" was already declared at b.hcl:6,1-9.`, "c.hcl:9,6-9"},
	}
	checkEqual(t, "diagnostics", got, want)
}

// TestLoadFailures covers the diagnostics that have no subject.
func TestLoadFailures(t *testing.T) {
	t.Parallel()
	empty := t.TempDir()
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "README.md"), []byte("# not a spec"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(other, "sub.hcl"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		load    func() (*Project, hcl.Diagnostics)
		summary string
	}{
		{"missing directory", func() (*Project, hcl.Diagnostics) { return Load(filepath.Join(empty, "nope")) }, "Cannot read spec directory"},
		{"empty directory", func() (*Project, hcl.Diagnostics) { return Load(empty) }, "No spec files"},
		{"no hcl files", func() (*Project, hcl.Diagnostics) { return Load(other) }, "No spec files"},
		{"no files in memory", func() (*Project, hcl.Diagnostics) { return LoadFiles(nil) }, "No spec files"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, diags := tt.load()
			if p == nil {
				t.Fatal("nil project")
			}
			if len(diags) != 1 || diags[0].Summary != tt.summary || diags[0].Subject != nil {
				t.Fatalf("diagnostics:\n%s\nwant one %q without subject", short(diags), tt.summary)
			}
			if !strings.HasSuffix(diags[0].Detail, ".") {
				t.Errorf("detail %q is not a sentence", diags[0].Detail)
			}
		})
	}
}

// TestUnreadableFile covers a spec file that exists but cannot be read.
func TestUnreadableFile(t *testing.T) {
	t.Parallel()
	// A dangling symlink fails to read even for root, which reads any
	// file whatever its mode.
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "broken.hcl")); err != nil {
		t.Fatal(err)
	}
	_, diags := Load(dir)
	if len(diags) != 1 || diags[0].Summary != "Cannot read spec file" {
		t.Fatalf("diagnostics:\n%s\nwant Cannot read spec file", short(diags))
	}
}

// TestLoadSkipsOtherFiles checks that Load reads only *.hcl files directly
// in the directory, in name order.
func TestLoadSkipsOtherFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.hcl", "project \"p\" {\n  title = \"P\"\n}\n")
	write("z.hcl", "model \"z\" {\n  field \"x\" {\n    type = \"string\"\n  }\n}\n")
	write("m.hcl", "model \"m\" {\n  field \"x\" {\n    type = \"string\"\n  }\n}\n")
	write("notes.txt", "not hcl {")
	write("sub/other.hcl", "not hcl {")
	p, diags := Load(dir)
	if len(diags) > 0 {
		t.Fatalf("unexpected diagnostics:\n%s", short(diags))
	}
	var names []string
	for _, m := range p.Models {
		names = append(names, m.Name)
	}
	checkEqual(t, "models", names, []string{"m", "z"})
	var files []string
	for name := range p.Files {
		files = append(files, filepath.Base(name))
	}
	slices.Sort(files)
	checkEqual(t, "files", files, []string{"m.hcl", "main.hcl", "z.hcl"})
}

// TestSuggest checks the nearest-name suggestions.
func TestSuggest(t *testing.T) {
	t.Parallel()
	candidates := []string{"string", "integer", "number", "boolean", "datetime", "date", "uuid", "email", "object", "array"}
	for _, tt := range []struct{ given, want string }{
		{"integr", "integer"},
		{"strng", "string"},
		{"String", "string"},
		{"emial", "email"},
		{"dat", "date"},
		{"x", ""},
		{"", ""},
		{"frobnicate", ""},
		{strings.Repeat("a", 1000), ""},
	} {
		checkEqual(t, "suggest("+tt.given+")", suggest(tt.given, candidates), tt.want)
	}
}

// TestParseDuration covers Go durations with a leading number of days.
func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"15m", 15 * time.Minute, true},
		{"30d", 30 * 24 * time.Hour, true},
		{"1d12h", 36 * time.Hour, true},
		{"0d", 0, true},
		{"1d-1h", 0, false},
		{"1dx", 0, false},
		{"1000000d", 0, false},
		{"1d999h", 0, false},
		{"30 days", 0, false},
		{"", 0, false},
	} {
		got, err := parseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// TestNonPortableConstruct covers patterns RE2 and ECMA-262 share.
func TestNonPortableConstruct(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		`^[a-z0-9_]+$`, `^\d{3}-\d{4}$`, `(?:ab)+`, `(?<year>\d{4})`, `[\]\[]`, `a\.b`, `\\A`, `[(?i)]`, `^\w+@\w+\.\w+$`,
	} {
		if c := nonPortableConstruct(p); c != "" {
			t.Errorf("nonPortableConstruct(%q) = %q, want none", p, c)
		}
	}
}

// TestTooManyProblems checks that a load reports at most maxDiagnostics
// problems and then says how many more there were.
func TestTooManyProblems(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("project \"p\" {\n  title = \"P\"\n}\nmodel \"m\" {\n")
	const fields = maxDiagnostics + 20
	for i := range fields {
		fmt.Fprintf(&b, "  field \"f%d\" {\n    type = \"strng\"\n  }\n", i)
	}
	b.WriteString("}\n")
	_, diags := LoadFiles(map[string][]byte{"p.hcl": []byte(b.String())})
	if len(diags) != maxDiagnostics+1 {
		t.Fatalf("%d diagnostics, want %d", len(diags), maxDiagnostics+1)
	}
	last := diags[maxDiagnostics]
	checkEqual(t, "summary", last.Summary, "Too many problems")
	checkEqual(t, "subject line", last.Subject.Start.Line, 6+3*maxDiagnostics)
	if !strings.HasPrefix(last.Detail, "20 more problems") {
		t.Errorf("detail %q, want it to count 20 more", last.Detail)
	}
}

// TestLongLines checks that snippets of a huge line are cut around the
// subject, so output stays small.
func TestLongLines(t *testing.T) {
	t.Parallel()
	src := "project \"p\" {\n  title = \"P\"\n  description = \"" + strings.Repeat("x", 10000) + "\" version = \"v" + strings.Repeat("9", 5000) + "\"\n}\n" +
		strings.Repeat("\x04", 20000)
	p, diags := LoadFiles(map[string][]byte{"p.hcl": []byte(src)})
	if len(diags) != maxDiagnostics+1 {
		t.Fatalf("%d diagnostics, want %d", len(diags), maxDiagnostics+1)
	}
	var human, js bytes.Buffer
	if err := WriteDiagnostics(&human, p.Files, diags); err != nil {
		t.Fatal(err)
	}
	if err := WriteDiagnosticsJSON(&js, diags); err != nil {
		t.Fatal(err)
	}
	if human.Len() > 200_000 || js.Len() > 400_000 {
		t.Errorf("output too large: %d bytes human, %d JSON", human.Len(), js.Len())
	}
	for _, line := range strings.Split(human.String(), "\n") {
		// Source and caret lines are indented; detail lines are not.
		if n := utf8.RuneCountInString(line); n > maxLineRunes+20 && strings.HasPrefix(line, "│  ") {
			t.Errorf("line of %d characters: %.60s...", n, line)
		}
	}
}

// TestTOK5_AccessTokenTTLAtMostOneHour checks that the spec cannot make
// access tokens live longer than an hour (SECURITY.md TOK-5), and that
// refresh tokens always have an absolute expiry.
func TestTOK5_AccessTokenTTLAtMostOneHour(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		access, refresh string
		ok              bool
	}{
		{"1h", "30d", true},
		{"1m", "2m", true},
		{"60m0s", "365d", true},
		{"61m", "30d", false},
		{"1h1s", "30d", false},
		{"59s", "30d", false},
		{"1d", "30d", false},
		{"15m", "366d", false},
		{"15m", "15m", false},
		{"15m", "0d", false},
	} {
		src := fmt.Sprintf("project \"p\" {\n  title = \"P\"\n}\nauth {\n  access_token_ttl = %q\n  refresh_token_ttl = %q\n}\n", tt.access, tt.refresh)
		p, diags := LoadFiles(map[string][]byte{"p.hcl": []byte(src)})
		if diags.HasErrors() == tt.ok {
			t.Errorf("access %s, refresh %s: diagnostics %q, want ok %v", tt.access, tt.refresh, short(diags), tt.ok)
		}
		if d := p.Auth.AccessTokenDuration(); d < time.Minute || d > time.Hour {
			t.Errorf("access %s: AccessTokenTTL %s out of bounds even with errors", tt.access, p.Auth.AccessTokenTTL)
		}
		if d := p.Auth.RefreshTokenDuration(); d <= p.Auth.AccessTokenDuration() || d > 365*24*time.Hour {
			t.Errorf("refresh %s: RefreshTokenTTL %s out of bounds even with errors", tt.refresh, p.Auth.RefreshTokenTTL)
		}
	}
}

// TestProjectPublishing: the project block's server and license reach the
// Project (the generator puts them in the published OpenAPI document).
func TestProjectPublishing(t *testing.T) {
	t.Parallel()
	p, diags := LoadFiles(map[string][]byte{"p.hcl": []byte(`project "p" {
  title       = "P"
  server_url  = "https://api.p.test"
  license     = "Proprietary"
  license_url = "https://p.test/terms"
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if p.ServerURL != "https://api.p.test" || p.License != "Proprietary" || p.LicenseURL != "https://p.test/terms" {
		t.Fatalf("got %q %q %q", p.ServerURL, p.License, p.LicenseURL)
	}
}
