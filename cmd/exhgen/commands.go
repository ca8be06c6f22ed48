package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/spec"
)

// errReported means the problem was already printed (diagnostics).
var errReported = errors.New("reported")

// specDirArg accepts exactly one argument, the spec directory, and names
// what is missing otherwise (cobra's default message does not).
func specDirArg(cmd *cobra.Command, args []string) error {
	switch {
	case len(args) == 0:
		return fmt.Errorf("%s: missing the spec directory (usage: %s)", cmd.Name(), cmd.UseLine())
	case len(args) > 1:
		return fmt.Errorf("%s: want one spec directory, got %d arguments %q (usage: %s)", cmd.Name(), len(args), args, cmd.UseLine())
	case args[0] == "":
		return fmt.Errorf("%s: the spec directory is empty (usage: %s)", cmd.Name(), cmd.UseLine())
	}
	return nil
}

func execute(args []string, stdout, stderr io.Writer) int {
	return executeWith(args, os.Stdin, stdout, stderr)
}

// executeWith is execute reading confirmations from stdin.
func executeWith(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "exhgen",
		Short:         "Generate a medical backend from an HCL project spec",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(validateCmd(), generateCmd(), planCmd(), applyCmd())
	root.SetArgs(singleDashLong(args))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			return int(ec)
		}
		if !errors.Is(err, errReported) {
			fmt.Fprintf(stderr, "exhgen: %v\n", err)
		}
		return 1
	}
	return 0
}

// load reads and validates a spec directory, printing diagnostics.
func load(cmd *cobra.Command, dir string, asJSON bool) (*spec.Project, error) {
	p, diags := spec.Load(dir)
	w := cmd.ErrOrStderr()
	if asJSON {
		if err := spec.WriteDiagnosticsJSON(cmd.OutOrStdout(), diags); err != nil {
			return nil, err
		}
	} else if len(diags) > 0 {
		// The framed form for people, then the one-line
		// "file:line:col: error: summary" form for editors and CI.
		if p != nil {
			if err := spec.WriteDiagnostics(w, p.Files, diags); err != nil {
				return nil, err
			}
			fmt.Fprintln(w)
		}
		if err := spec.WriteDiagnosticsShort(w, diags); err != nil {
			return nil, err
		}
	}
	if diags.HasErrors() {
		return nil, errReported
	}
	return p, nil
}

func validateCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "validate DIR",
		Short: "Check a project spec and report every problem with its location",
		Args:  specDirArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := load(cmd, args[0], asJSON)
			if err != nil {
				return err
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "The spec of project %q is valid: %d models, %d roles, %d group roles.\n",
					p.Name, len(p.Models), len(p.Roles), len(p.GroupRoles))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print diagnostics as JSON")
	return c
}

// genFlags are shared by generate, plan and apply.
type genFlags struct {
	out string
}

func (f *genFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.out, "out", "o", "", "output directory of the generated backend (default DIR/backend)")
}

func (f *genFlags) outDir(specDir string) string {
	if f.out != "" {
		return f.out
	}
	return filepath.Join(specDir, "backend")
}

// generation runs the generator over a spec directory without writing.
func generation(cmd *cobra.Command, specDir, outDir string) (*generator.Output, error) {
	_, out, err := generationOf(cmd, specDir, outDir)
	return out, err
}

// generationOf is generation, also returning the loaded project.
func generationOf(cmd *cobra.Command, specDir, outDir string) (*spec.Project, *generator.Output, error) {
	if err := checkOutDir(outDir); err != nil {
		return nil, nil, err
	}
	p, err := load(cmd, specDir, false)
	if err != nil {
		return nil, nil, err
	}
	root, err := generator.LocateRuntime()
	if err != nil {
		return nil, nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, nil, fmt.Errorf("read runtime go.mod: %w", err)
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return nil, nil, fmt.Errorf("read runtime go.sum: %w", err)
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return nil, nil, fmt.Errorf("output directory %s: %w", outDir, err)
	}
	rel, err := filepath.Rel(absOut, root)
	if err != nil {
		rel = root
	}
	migs, snapshot, err := readMigrations(specDir)
	if err != nil {
		return nil, nil, err
	}
	out, err := generator.Generate(p, generator.Options{
		RuntimePath: filepath.ToSlash(rel),
		GoMod:       gomod,
		GoSum:       gosum,
		Fixed:       fixedapi.Fragment(),
		Migrations:  migs,
		Snapshot:    snapshot,
	})
	if err != nil {
		if cmd.Name() == "generate" { // plan and apply change nothing first
			if dump := writeDump(outDir, err); dump != "" {
				return nil, nil, fmt.Errorf("generate: %w (the unformatted output is in %s)", err, dump)
			}
		}
		return nil, nil, fmt.Errorf("generate: %w", err)
	}
	return p, out, nil
}

// writeDump keeps the raw output of generated Go that could not be
// formatted (a *generator.FormatError in err) as <file>.dump under outDir
// and returns its path, or "" when there is none or it cannot be written.
func writeDump(outDir string, err error) string {
	var fe *generator.FormatError
	if !errors.As(err, &fe) || !filepath.IsLocal(filepath.FromSlash(fe.Path)) {
		return ""
	}
	dump := filepath.Join(outDir, filepath.FromSlash(fe.Path)+".dump")
	if os.MkdirAll(filepath.Dir(dump), 0o755) != nil || os.WriteFile(dump, fe.Raw, 0o644) != nil {
		return ""
	}
	return dump
}

// readMigrations reads the project's migrations and schema snapshot from
// the spec directory.
func readMigrations(specDir string) ([]generator.File, []byte, error) {
	var files []generator.File
	dir := filepath.Join(specDir, generator.MigrationsDir)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read migrations: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, fmt.Errorf("read migrations: %w", err)
		}
		files = append(files, generator.File{Path: generator.MigrationsDir + "/" + e.Name(), Data: data})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	snapshot, err := os.ReadFile(filepath.Join(specDir, filepath.FromSlash(generator.SnapshotFile)))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, fmt.Errorf("read schema snapshot: %w", err)
	}
	return files, snapshot, nil
}

// fileChange is one file generate would add, change or remove.
type fileChange struct {
	Action string // "+", "~", "-"
	Path   string
}

// changes compares generated files with what is on disk under dir. When
// prune is set, files the previous generate listed in its manifest and
// this one would not write are listed as removed.
func changes(dir string, files []generator.File, prune bool) ([]fileChange, error) {
	var out []fileChange
	want := map[string]bool{}
	var owned map[string]bool // listed in the previous run's manifest
	var listed []string
	if prune {
		data, err := os.ReadFile(filepath.Join(dir, generator.ManifestFile))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("read manifest: %w", err)
		}
		owned = map[string]bool{generator.ManifestFile: true}
		for _, rel := range generator.ReadManifest(data) {
			// Only clean, relative paths inside dir count.
			if path.Clean(rel) == rel && filepath.IsLocal(filepath.FromSlash(rel)) {
				owned[rel] = true
				listed = append(listed, rel)
			}
		}
	}
	var foreign []string
	for _, f := range files {
		want[f.Path] = true
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fileChange{"+", f.Path})
		case err != nil:
			return nil, fmt.Errorf("compare with %s: %w", dir, err)
		case !bytes.Equal(old, f.Data):
			if prune && !owned[f.Path] {
				foreign = append(foreign, f.Path)
			}
			out = append(out, fileChange{"~", f.Path})
		}
	}
	if len(foreign) > 0 {
		return nil, fmt.Errorf("%s holds files generate did not write and would overwrite: %s; move them or choose another output directory (-o)",
			dir, strings.Join(foreign, ", "))
	}
	if prune {
		// Only files the previous run listed in its manifest are ever
		// deleted: -o pointing at a directory with other code (this
		// repository, say) cannot lose anything.
		for _, rel := range listed {
			if want[rel] {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(rel))); err == nil {
				out = append(out, fileChange{"-", rel})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// checkOutDir refuses an output directory holding a Go module exhgen did
// not generate: writing main.go and go.mod there would clobber it.
func checkOutDir(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check output directory: %w", err)
	}
	if !bytes.Contains(data, []byte("Code generated by exhgen. DO NOT EDIT.")) {
		return fmt.Errorf("%s holds a go.mod that exhgen did not write: choose an empty directory or one generate wrote before (-o)", dir)
	}
	return nil
}

// write writes files under dir and removes the pruned ones, then the
// directories pruning left empty.
func write(dir string, files []generator.File, removed []fileChange) error {
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
		if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	for _, c := range removed {
		if c.Action != "-" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(c.Path))
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove stale %s: %w", p, err)
		}
		// Remove the parents left empty, up to dir; Remove fails on a
		// directory that still holds something, which ends the climb.
		for d := path.Dir(c.Path); d != "." && d != "/"; d = path.Dir(d) {
			if os.Remove(filepath.Join(dir, filepath.FromSlash(d))) != nil {
				break
			}
		}
	}
	return nil
}

func generateCmd() *cobra.Command {
	var f genFlags
	c := &cobra.Command{
		Use:   "generate DIR",
		Short: "Write the backend (OpenAPI, ogen server and client, glue, migrations) for a spec",
		Args:  specDirArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			specDir, outDir := args[0], f.outDir(args[0])
			out, err := generation(cmd, specDir, outDir)
			if err != nil {
				return err
			}
			return writeGeneration(cmd.OutOrStdout(), specDir, outDir, out)
		},
	}
	f.register(c)
	return c
}

// writeGeneration writes a generation: the new migration and snapshot into
// the spec directory, the backend into outDir (removing its stale
// generated files).
func writeGeneration(w io.Writer, specDir, outDir string, out *generator.Output) error {
	backendChanges, err := changes(outDir, out.Backend, true)
	if err != nil {
		return err
	}
	if err := write(specDir, out.Project, nil); err != nil {
		return err
	}
	if err := write(outDir, out.Backend, backendChanges); err != nil {
		return err
	}
	for _, f := range out.Project {
		fmt.Fprintf(w, "wrote %s\n", filepath.Join(specDir, filepath.FromSlash(f.Path)))
	}
	fmt.Fprintf(w, "generated %s: %d files, %d changed\n", outDir, len(out.Backend), len(backendChanges))
	return nil
}

// allMigrations are the core migrations and the project's, including one
// generate would write.
func allMigrations(out *generator.Output) []db.Migration {
	migs := app.CoreMigrations()
	for _, f := range out.Backend {
		if name, ok := strings.CutPrefix(f.Path, generator.MigrationsDir+"/"); ok && strings.HasSuffix(name, ".sql") {
			migs = append(migs, db.Migration{Name: "project/" + name, SQL: string(f.Data)})
		}
	}
	return migs
}

func databaseURL() (string, error) {
	url := strings.TrimSpace(os.Getenv("DATABASE_URL"))
	if url == "" {
		return "", errors.New("DATABASE_URL is not set: point it at the backend's PostgreSQL database, e.g. DATABASE_URL=postgres://user@127.0.0.1:5432/clinic?sslmode=disable")
	}
	return url, nil
}

func openDatabase(ctx context.Context, url string) (*pgxpool.Pool, error) {
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		return nil, fmt.Errorf("connect to DATABASE_URL: %w", err)
	}
	return pool, nil
}

// migrationError explains a *db.ChecksumError: which file was edited and
// what to do instead. Other errors pass through.
func migrationError(err error, specDir, suffix string) error {
	var ce *db.ChecksumError
	if !errors.As(err, &ce) {
		return err
	}
	hint := "The database was migrated by a different version of the exhgen runtime; use that version."
	if name, ok := strings.CutPrefix(ce.Name, "project/"); ok {
		hint = fmt.Sprintf("Applied migrations must never be edited: restore %s (for example from version control) and change the spec instead; generate then writes a new migration.",
			filepath.Join(specDir, generator.MigrationsDir, name))
	}
	return fmt.Errorf("%w.\n%s%s", err, hint, suffix)
}

// singleDashLong accepts Go-style single-dash long flags (`-json`,
// `-out DIR`) as well as cobra's `--json`.
func singleDashLong(args []string) []string {
	out := make([]string, len(args))
	done := false
	for i, a := range args {
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if a == "--" {
			done = true
		}
		if !done && strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && longFlags[name] {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

// longFlags are the long flags the commands define.
var longFlags = map[string]bool{"json": true, "out": true, "help": true, "backend": true, "detailed-exitcode": true,
	"auto-approve": true, "allow-destructive": true, "sql": true}
