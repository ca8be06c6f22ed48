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
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/runtime/app"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/fixedapi"
	"github.com/exhgen/exhgen/spec"
)

// errReported means the problem was already printed (diagnostics).
var errReported = errors.New("reported")

func execute(args []string, stdout, stderr io.Writer) int {
	root := &cobra.Command{
		Use:           "exhgen",
		Short:         "Generate a medical backend from an HCL project spec",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(validateCmd(), generateCmd(), planCmd(), applyCmd())
	root.SetArgs(args)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := root.ExecuteContext(ctx); err != nil {
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
		if p != nil {
			if err := spec.WriteDiagnostics(w, p.Files, diags); err != nil {
				return nil, err
			}
		} else if err := spec.WriteDiagnosticsShort(w, diags); err != nil {
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
		Args:  cobra.ExactArgs(1),
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
	p, err := load(cmd, specDir, false)
	if err != nil {
		return nil, err
	}
	root, err := generator.LocateRuntime()
	if err != nil {
		return nil, err
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		return nil, err
	}
	gosum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		return nil, err
	}
	absOut, err := filepath.Abs(outDir)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(absOut, root)
	if err != nil {
		rel = root
	}
	migs, snapshot, err := readMigrations(specDir)
	if err != nil {
		return nil, err
	}
	return generator.Generate(p, generator.Options{
		RuntimePath: filepath.ToSlash(rel),
		GoMod:       gomod,
		GoSum:       gosum,
		Fixed:       fixedapi.Fragment(),
		Migrations:  migs,
		Snapshot:    snapshot,
	})
}

func readMigrations(specDir string) ([]generator.File, []byte, error) {
	var files []generator.File
	dir := filepath.Join(specDir, generator.MigrationsDir)
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, nil, err
		}
		files = append(files, generator.File{Path: generator.MigrationsDir + "/" + e.Name(), Data: data})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	snapshot, err := os.ReadFile(filepath.Join(specDir, generator.SnapshotFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, err
	}
	return files, snapshot, nil
}

// fileChange is one file generate would add, change or remove.
type fileChange struct {
	Action string // "+", "~", "-"
	Path   string
}

// changes compares generated files with what is on disk under dir. When
// prune is set, files on disk that generate would not write are listed as
// removed (only inside the output directory, which generate owns).
func changes(dir string, files []generator.File, prune bool) ([]fileChange, error) {
	var out []fileChange
	want := map[string]bool{}
	for _, f := range files {
		want[f.Path] = true
		old, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f.Path)))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			out = append(out, fileChange{"+", f.Path})
		case err != nil:
			return nil, err
		case !bytes.Equal(old, f.Data):
			out = append(out, fileChange{"~", f.Path})
		}
	}
	if prune {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(dir, path)
			rel = filepath.ToSlash(rel)
			if !want[rel] && isGenerated(path) {
				out = append(out, fileChange{"-", rel})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// isGenerated reports whether a file in the output directory was written by
// generate: generated Go carries the marker; data files are ours by place.
func isGenerated(path string) bool {
	if !strings.HasSuffix(path, ".go") {
		return true
	}
	data, err := os.ReadFile(path)
	return err == nil && bytes.Contains(data, []byte("DO NOT EDIT."))
}

// write writes files under dir and removes the pruned ones.
func write(dir string, files []generator.File, removed []fileChange) error {
	for _, f := range files {
		path := filepath.Join(dir, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.Data) {
			continue
		}
		if err := os.WriteFile(path, f.Data, 0o644); err != nil {
			return err
		}
	}
	for _, c := range removed {
		if c.Action == "-" {
			if err := os.Remove(filepath.Join(dir, filepath.FromSlash(c.Path))); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return err
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
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runGenerate(cmd, args[0], f.outDir(args[0]))
		},
	}
	f.register(c)
	return c
}

func runGenerate(cmd *cobra.Command, specDir, outDir string) error {
	out, err := generation(cmd, specDir, outDir)
	if err != nil {
		return err
	}
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
	w := cmd.OutOrStdout()
	for _, f := range out.Project {
		fmt.Fprintf(w, "wrote %s\n", filepath.Join(specDir, f.Path))
	}
	fmt.Fprintf(w, "generated %s: %d files, %d changed\n", outDir, len(out.Backend), len(backendChanges))
	return nil
}

func planCmd() *cobra.Command {
	var f genFlags
	c := &cobra.Command{
		Use:   "plan DIR",
		Short: "Show what generate would change and the migrations pending against DATABASE_URL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specDir, outDir := args[0], f.outDir(args[0])
			out, err := generation(cmd, specDir, outDir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			projChanges, err := changes(specDir, out.Project, false)
			if err != nil {
				return err
			}
			backendChanges, err := changes(outDir, out.Backend, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "Spec directory %s:\n", specDir)
			printChanges(w, projChanges)
			fmt.Fprintf(w, "\nGenerated backend %s:\n", outDir)
			printChanges(w, backendChanges)
			pending, err := pendingMigrations(cmd.Context(), out)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "\nMigrations pending against DATABASE_URL: %d\n", len(pending))
			for _, m := range pending {
				fmt.Fprintf(w, "\n--- %s\n%s", m.Name, m.SQL)
				if !strings.HasSuffix(m.SQL, "\n") {
					fmt.Fprintln(w)
				}
			}
			return nil
		},
	}
	f.register(c)
	return c
}

func printChanges(w io.Writer, cs []fileChange) {
	if len(cs) == 0 {
		fmt.Fprintln(w, "  no changes")
		return
	}
	for _, c := range cs {
		fmt.Fprintf(w, "  %s %s\n", c.Action, c.Path)
	}
}

// allMigrations are the core migrations and the project's, including one
// generate would write.
func allMigrations(out *generator.Output) []db.Migration {
	migs := app.CoreMigrations()
	for _, f := range out.Backend {
		if strings.HasPrefix(f.Path, generator.MigrationsDir+"/") && strings.HasSuffix(f.Path, ".sql") {
			migs = append(migs, db.Migration{Name: "project/" + strings.TrimPrefix(f.Path, generator.MigrationsDir+"/"), SQL: string(f.Data)})
		}
	}
	return migs
}

func databaseURL() (string, error) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		return "", errors.New("DATABASE_URL is not set: point it at the backend's PostgreSQL database")
	}
	return url, nil
}

func pendingMigrations(ctx context.Context, out *generator.Output) ([]db.Migration, error) {
	url, err := databaseURL()
	if err != nil {
		return nil, err
	}
	pool, err := db.Open(ctx, url, 2)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	return db.Pending(ctx, pool, allMigrations(out))
}

func applyCmd() *cobra.Command {
	var f genFlags
	c := &cobra.Command{
		Use:   "apply DIR",
		Short: "Generate, then apply pending migrations to DATABASE_URL",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			specDir, outDir := args[0], f.outDir(args[0])
			if err := runGenerate(cmd, specDir, outDir); err != nil {
				return err
			}
			out, err := generation(cmd, specDir, outDir)
			if err != nil {
				return err
			}
			url, err := databaseURL()
			if err != nil {
				return err
			}
			pool, err := db.Open(cmd.Context(), url, 2)
			if err != nil {
				return err
			}
			defer pool.Close()
			applied, err := db.Migrate(cmd.Context(), pool, allMigrations(out))
			if err != nil {
				return err
			}
			for _, name := range applied {
				fmt.Fprintf(cmd.OutOrStdout(), "applied %s\n", name)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Apply complete: %d migrations applied.\n", len(applied))
			return nil
		},
	}
	f.register(c)
	return c
}
