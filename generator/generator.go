package generator

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/mod/modfile"
	"golang.org/x/tools/imports"

	"github.com/exhgen/exhgen/runtime/oauth"
	"github.com/exhgen/exhgen/spec"
	"github.com/exhgen/exhgen/templates"
)

// File is one generated file; Path is slash-separated and relative to the
// directory it belongs in.
type File struct {
	Path string
	Data []byte
}

// RuntimeModule is the module path generated backends build against.
const RuntimeModule = "github.com/exhgen/exhgen"

// Options are the inputs of a generation besides the spec. Everything is
// passed in (nothing is read from disk here), so Generate is a pure function.
type Options struct {
	// RuntimePath is how the backend's go.mod reaches this repository:
	// the target of its replace directive.
	RuntimePath string
	// GoMod and GoSum are this repository's go.mod and go.sum; the
	// backend's go.mod copies the requirements, its go.sum is GoSum.
	GoMod []byte
	GoSum []byte
	// Fixed is the OpenAPI fragment of the runtime's fixed endpoints.
	Fixed []byte
	// Migrations are the project's existing migrations (paths
	// "migrations/0001_init.sql") and Snapshot its schema snapshot.
	Migrations []File
	Snapshot   []byte
}

// Output is what a generation writes.
type Output struct {
	// Backend files, relative to the output directory.
	Backend []File
	// Project files, relative to the spec directory: a new migration and
	// the updated schema snapshot, only when the storage schema changed.
	Project []File
}

// Generate turns a project into a backend. Same inputs, same bytes.
func Generate(p *spec.Project, opts Options) (*Output, error) {
	if p.Name == "" {
		return nil, fmt.Errorf("project has no name")
	}
	out := &Output{}
	add := func(files ...File) { out.Backend = append(out.Backend, files...) }

	compiled, err := Compile(p)
	if err != nil {
		return nil, err
	}
	projectJSON, err := encodeJSON(compiled)
	if err != nil {
		return nil, err
	}
	add(File{Path: "project.json", Data: projectJSON})

	fixed, err := parseFragment(opts.Fixed)
	if err != nil {
		return nil, err
	}
	// Fixed services a project enables add their fragments: the OAuth
	// provider exactly when runtime/app mounts it.
	if oauth.Enabled(compiled) {
		o, err := oauthDocument(p)
		if err != nil {
			return nil, err
		}
		if fixed, err = mergeDocuments(p, fixed, o); err != nil {
			return nil, fmt.Errorf("merge oauth fragment: %w", err)
		}
	}
	models, err := modelDocument(p, fixed)
	if err != nil {
		return nil, err
	}
	merged, err := mergeDocuments(p, fixed, models)
	if err != nil {
		return nil, err
	}
	if err := describeRQL(merged); err != nil {
		return nil, err
	}
	secureOperations(merged)
	publicJSON, err := encodeJSON(merged)
	if err != nil {
		return nil, err
	}
	add(File{Path: "openapi.json", Data: publicJSON})
	// One ogen package, server and client, from the published document:
	// customers get one typed client of the whole API, and the server
	// serves the model operations (the fixed ones are routed to the
	// runtime's own server before they reach it; see the glue). One ogen
	// run instead of a server run and a client run also takes a third of
	// the time: most of it is goimports over the shared type code.
	files, opNames, err := ogenPackage(publicJSON, "api", "api",
		"paths/server", "paths/client", "client/request/options", "ogen/unimplemented")
	if err != nil {
		return nil, err
	}
	add(files...)
	schemes, err := securityHandlers(files)
	if err != nil {
		return nil, err
	}

	newMigrations, err := migrationFiles(p, opts.Migrations, opts.Snapshot)
	if err != nil {
		return nil, err
	}
	out.Project = newMigrations
	snap := opts.Snapshot
	for _, f := range append(append([]File{}, opts.Migrations...), newMigrations...) {
		if strings.HasSuffix(f.Path, ".sql") {
			add(f)
		}
		if f.Path == SnapshotFile {
			snap = f.Data
		}
	}
	if snap != nil {
		// The backend records it as applied when it applies its
		// migrations at start (runtime/app), as `exhgen apply` does.
		add(File{Path: SnapshotFile, Data: snap})
	}

	hasMigrations := false
	for _, f := range out.Backend {
		if strings.HasPrefix(f.Path, MigrationsDir+"/") {
			hasMigrations = true
		}
	}
	goFiles, err := goFiles(p, opts, opNames, schemes, hasMigrations)
	if err != nil {
		return nil, err
	}
	add(goFiles...)
	var manifest strings.Builder
	manifest.WriteString("# Files written by `exhgen generate`. It deletes those a later run no longer\n# writes, and never touches any other file in this directory.\n")
	for _, f := range out.Backend {
		manifest.WriteString(f.Path + "\n")
	}
	add(File{Path: ManifestFile, Data: []byte(manifest.String())})
	sort.Slice(out.Backend, func(i, j int) bool { return out.Backend[i].Path < out.Backend[j].Path })
	return out, nil
}

// FormatError is generated Go that goimports refused: a bug in a template
// or in the values it was given. Raw is the unformatted output, which the
// CLI keeps as <Path>.dump for debugging.
type FormatError struct {
	Path string
	Raw  []byte
	Err  error
}

func (e *FormatError) Error() string { return fmt.Sprintf("format %s: %v", e.Path, e.Err) }

func (e *FormatError) Unwrap() error { return e.Err }

// ManifestFile lists, in the output directory, the files generate wrote.
const ManifestFile = "exhgen.manifest"

// ReadManifest returns the paths a manifest lists.
func ReadManifest(data []byte) []string {
	var paths []string
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			paths = append(paths, line)
		}
	}
	return paths
}

// SecurityAPI is one security scheme of the generated API and the
// runtime's handler of it (a method of app.Deps), for the glue.
type SecurityAPI struct {
	Scheme  string // "oauth2"
	Type    string // ogen's Go name: "OAuth2"
	Handler string // "Authenticate" (takes t.Token) or a method taking t.Request
	Request bool   // the handler takes the request (a custom scheme)
}

// securityHandlerRE matches ogen's SecurityHandler methods' doc comments:
// the Go name ogen gave a scheme, then the scheme's name.
var securityHandlerRE = regexp.MustCompile(`// Handle(\w+) handles (\w+) security\.`)

// securityHandlers lists the schemes whose handlers ogen's SecurityHandler
// (in the generated package files) requires, by scheme name, with the
// runtime method that implements each: every scheme authenticates the
// same access tokens (app.Deps.Authenticate and its request forms).
func securityHandlers(files []File) ([]SecurityAPI, error) {
	var out []SecurityAPI
	for _, f := range files {
		if path.Base(f.Path) != "oas_security_gen.go" {
			continue
		}
		for _, m := range securityHandlerRE.FindAllSubmatch(f.Data, -1) {
			s := SecurityAPI{Type: string(m[1]), Scheme: string(m[2]), Handler: "Authenticate"}
			switch s.Scheme {
			case "bearerAuth", "oauth2":
			case "openIdConnect":
				s.Handler, s.Request = "AuthenticateRequest", true
			case "oauth1":
				s.Handler, s.Request = "AuthenticateOAuth1", true
			default:
				return nil, fmt.Errorf("security scheme %q: the runtime has no handler for it", s.Scheme)
			}
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Scheme < out[j].Scheme })
	return out, nil
}

// backendData is what the Go templates print.
type backendData struct {
	Name, Title, Binary, Module string
	Models                      []ModelAPI
	Security                    []SecurityAPI
	HasMigrations               bool
	GoVersion, RuntimeModule    string
	RuntimePath                 string
	Requires                    []string
}

func goFiles(p *spec.Project, opts Options, opNames map[string]string, schemes []SecurityAPI, hasMigrations bool) ([]File, error) {
	d := backendData{
		Security:      schemes,
		Name:          p.Name,
		Title:         p.Title,
		Binary:        p.Name,
		Module:        p.Name,
		RuntimeModule: RuntimeModule,
		RuntimePath:   opts.RuntimePath,
		HasMigrations: hasMigrations,
	}
	if d.Title == "" {
		d.Title = p.Name
	}
	for _, m := range p.Models {
		api := modelAPI(m)
		for _, name := range []*string{&api.Create, &api.Get, &api.List, &api.Update, &api.Delete} {
			goName, ok := opNames[lowerFirst(*name)]
			if !ok {
				return nil, fmt.Errorf("model %q: ogen generated no operation %q", m.Name, lowerFirst(*name))
			}
			*name = goName
		}
		api.RQLFields = rqlFields(m)
		d.Models = append(d.Models, api)
	}
	mf, err := modfile.ParseLax("go.mod", opts.GoMod, nil)
	if err != nil {
		return nil, fmt.Errorf("read runtime go.mod: %w", err)
	}
	if mf.Go == nil {
		return nil, fmt.Errorf("runtime go.mod has no go directive")
	}
	d.GoVersion = mf.Go.Version
	for _, r := range mf.Require {
		d.Requires = append(d.Requires, r.Mod.Path+" "+r.Mod.Version)
	}
	sort.Strings(d.Requires)

	var files []File
	for _, t := range []struct{ tmpl, path string }{
		{"main.go.tmpl", "main.go"},
		{"glue.go.tmpl", "glue_gen.go"},
		{"go.mod.tmpl", "go.mod"},
		{"README.md.tmpl", "README.md"},
		{"rqlfields.go.tmpl", "api/exhgen_fields_gen.go"},
	} {
		if t.tmpl == "rqlfields.go.tmpl" && len(d.Models) == 0 {
			continue
		}
		b, err := templates.Render(t.tmpl, d)
		if err != nil {
			return nil, err
		}
		if strings.HasSuffix(t.path, ".go") {
			formatted, err := imports.Process(t.path, b, nil)
			if err != nil {
				return nil, &FormatError{Path: t.path, Raw: b, Err: err}
			}
			b = formatted
		}
		files = append(files, File{Path: t.path, Data: b})
	}
	files = append(files, File{Path: "go.sum", Data: bytes.Clone(opts.GoSum)})
	return files, nil
}
