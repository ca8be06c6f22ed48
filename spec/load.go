package spec

import (
	"cmp"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// FileExt is the extension of spec files.
const FileExt = ".hcl"

// Load reads every *.hcl file directly in dir (sorted by name, not
// recursive), then parses, decodes, validates and links them into a
// Project. File names in diagnostics and in Project.Files are dir joined
// with the file's name.
//
// The Project is never nil, even when diags has errors: it holds whatever
// could be decoded, and its Files hold the sources needed to render diags.
func Load(dir string) (*Project, hcl.Diagnostics) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		p := newProject()
		return p, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read spec directory",
			Detail:   fmt.Sprintf("The spec directory %q cannot be read: %s.", dir, err),
		}}
	}
	files := make(map[string][]byte)
	var diags hcl.Diagnostics
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), FileExt) {
			continue
		}
		name := filepath.Join(dir, e.Name())
		src, err := os.ReadFile(name)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Cannot read spec file",
				Detail:   fmt.Sprintf("The spec file %q cannot be read: %s.", name, err),
			})
			continue
		}
		files[name] = src
	}
	if diags.HasErrors() {
		return newProject(), diags
	}
	if len(files) == 0 {
		return newProject(), hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No spec files",
			Detail:   fmt.Sprintf("The directory %q holds no %s files; a project needs at least one, with a project block.", dir, "*"+FileExt),
		}}
	}
	return LoadFiles(files)
}

// LoadFiles is Load over files held in memory, keyed by file name. The files
// are read in name order, whatever their extension.
func LoadFiles(files map[string][]byte) (*Project, hcl.Diagnostics) {
	p := newProject()
	if len(files) == 0 {
		return p, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "No spec files",
			Detail:   "No spec files were given; a project needs at least one, with a project block.",
		}}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	slices.Sort(names)

	l := &loader{project: p, permRanges: make(map[*Role][]hcl.Range)}
	var diags hcl.Diagnostics
	parseErrors := false
	var bodies []*hclsyntax.Body
	for _, name := range names {
		f, d := hclsyntax.ParseConfig(files[name], name, hcl.InitialPos)
		diags = append(diags, d...)
		if d.HasErrors() {
			parseErrors = true
		}
		if f == nil {
			continue
		}
		p.Files[name] = f
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			bodies = append(bodies, body)
		}
	}
	for _, body := range bodies {
		diags = append(diags, l.decodeFile(body)...)
	}
	if !l.projectSeen && !parseErrors {
		start := hcl.Pos{Line: 1, Column: 1, Byte: 0}
		diags = append(diags, errorDiag(hcl.Range{Filename: names[0], Start: start, End: start},
			"Missing project block",
			`A project needs exactly one project block, such as: project "clinic" { title = "Blood pressure clinic" }.`))
	}
	diags = append(diags, l.link()...)
	diags = dedupeDiagnostics(diags)
	sortDiagnostics(diags)
	diags = capDiagnostics(diags)
	return p, WithSources(diags, p.Files)
}

// newProject returns a Project holding the defaults.
func newProject() *Project {
	return &Project{
		Languages: []string{"en"},
		Auth: Auth{
			AccessTokenTTL:  defaultAccessTokenTTL.String(),
			RefreshTokenTTL: defaultRefreshTokenTTL.String(),
			Registration:    RegistrationOpen,
		},
		Files: make(map[string]*hcl.File),
	}
}

// loader holds what the link pass needs beyond the Project itself.
type loader struct {
	project     *Project
	authSeen    bool
	projectSeen bool
	permRanges  map[*Role][]hcl.Range // the source range of each permission
}

// sortDiagnostics orders diags by file and position, those without a
// subject first; hcl reports some problems in map order.
func sortDiagnostics(diags hcl.Diagnostics) {
	slices.SortStableFunc(diags, func(a, b *hcl.Diagnostic) int {
		switch {
		case a.Subject == nil && b.Subject == nil:
			return 0
		case a.Subject == nil:
			return -1
		case b.Subject == nil:
			return 1
		}
		return cmp.Or(
			cmp.Compare(a.Subject.Filename, b.Subject.Filename),
			cmp.Compare(a.Subject.Start.Byte, b.Subject.Start.Byte),
		)
	})
}

// dedupeDiagnostics drops repeats of a diagnostic (same severity, summary,
// detail and subject): a for expression reports the same problem once per
// element.
func dedupeDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		severity        hcl.DiagnosticSeverity
		summary, detail string
		subject         hcl.Range
	}
	seen := make(map[key]bool, len(diags))
	out := diags[:0]
	for _, d := range diags {
		k := key{d.Severity, d.Summary, d.Detail, hcl.Range{}}
		if d.Subject != nil {
			k.subject = *d.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, d)
	}
	return out
}

// maxDiagnostics bounds the diagnostics one load reports: past that, more
// only bury the first ones (a binary file yields one per byte).
const maxDiagnostics = 100

// capDiagnostics keeps the first maxDiagnostics of the sorted diags and
// replaces the rest with one diagnostic saying how many were left out.
func capDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	if len(diags) <= maxDiagnostics {
		return diags
	}
	rest := diags[maxDiagnostics]
	more := &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Too many problems",
		Detail: fmt.Sprintf("%d more problems were found, from here on, but are not shown; fix the ones above and load the project again.",
			len(diags)-maxDiagnostics),
		Subject: rest.Subject,
	}
	return append(diags[:maxDiagnostics:maxDiagnostics], more)
}
