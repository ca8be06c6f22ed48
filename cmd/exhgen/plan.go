package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/spf13/cobra"

	"github.com/exhgen/exhgen/generator"
	"github.com/exhgen/exhgen/generator/live"
	"github.com/exhgen/exhgen/generator/plan"
	"github.com/exhgen/exhgen/generator/plan/render"
	"github.com/exhgen/exhgen/runtime/db"
	"github.com/exhgen/exhgen/runtime/snapshot"
)

// exitCode is an error that only sets the exit status (the output was
// written already).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// planFormat is the version of saved plan files.
const planFormat = "exhgen-plan/1"

// Binding is what a saved plan was computed from; apply refuses it when
// any of it moved.
type Binding struct {
	// Snapshot is the SHA-256 of migrations/schema.json ("" when absent).
	Snapshot string `json:"snapshot_sha256"`
	// Spec is the SHA-256 of the files apply writes into the spec
	// directory (new migrations and snapshot): the spec as planned.
	Spec string `json:"spec_sha256"`
	// Database is live.Fingerprint of DATABASE_URL.
	Database string `json:"database_sha256"`
}

// savedPlan is the file `plan -out` writes and `apply FILE` executes.
type savedPlan struct {
	Format  string           `json:"format"`
	Binding Binding          `json:"binding"`
	Files   []generator.File `json:"files"` // written into the spec directory
	Plan    *plan.Plan       `json:"plan"`
}

// planRun is one computed plan with what applying it needs.
type planRun struct {
	plan    *plan.Plan
	out     *generator.Output
	migs    []db.Migration // every migration, core and project
	binding Binding
	prev    []byte // the snapshot file as it was
}

func hashBytes(b []byte) string {
	if b == nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func hashFiles(files []generator.File) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %d\n", f.Path, len(f.Data))
		h.Write(f.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// computePlan generates in memory and compares the spec with the base:
// with a database (pool not nil), the snapshot its last apply recorded;
// otherwise migrations/schema.json. With a database it also lists the
// pending migrations, runs the data checks and the drift checks, and
// fingerprints the database.
func computePlan(cmd *cobra.Command, specDir, outDir string, pool *pgxpool.Pool) (*planRun, error) {
	ctx := cmd.Context()
	p, out, err := generationOf(cmd, specDir, outDir)
	if err != nil {
		return nil, err
	}
	_, prevData, err := readMigrations(specDir)
	if err != nil {
		return nil, err
	}
	file, err := generator.ReadSnapshot(prevData)
	if err != nil {
		return nil, err
	}
	pl := &plan.Plan{FormatVersion: plan.FormatVersion}
	run := &planRun{plan: pl, out: out, migs: allMigrations(out), prev: prevData}
	run.binding = Binding{Snapshot: hashBytes(prevData), Spec: hashFiles(out.Project)}
	base := file
	pl.Base = &plan.Base{Source: plan.BaseFile, SHA256: hashBytes(prevData)}
	var rec *snapshot.Record
	var applied []string
	if pool == nil {
		pl.Base.Note = "Offline: set DATABASE_URL to compare with the snapshot applied to the database instead."
	} else {
		if rec, err = snapshot.Latest(ctx, pool); err != nil {
			return nil, err
		}
		if applied, err = live.Applied(ctx, pool); err != nil {
			return nil, err
		}
		switch {
		case rec != nil:
			if base, err = generator.ReadSnapshot(rec.Snapshot); err != nil {
				return nil, fmt.Errorf("the database's applied snapshot: %w", err)
			}
			pl.Base = &plan.Base{Source: plan.BaseDatabase, SHA256: rec.SHA256,
				AppliedAt: rec.AppliedAt.UTC().Format(time.RFC3339), AppliedBy: rec.AppliedBy}
		case !slices.ContainsFunc(applied, isProject):
			base = generator.Snapshot{}
			pl.Base = &plan.Base{Source: plan.BaseNone}
		default:
			pl.Base.Note = "The database holds project migrations but no applied snapshot (applied before exhgen recorded\n  snapshots, or by the backend at startup): compared with migrations/schema.json instead.\n  The next apply records one."
		}
	}
	pl.Changes, pl.Problems = plan.Compare(base.State(), plan.FromSpec(p))
	isNew := map[string]bool{}
	for _, f := range out.Project {
		if name, ok := strings.CutPrefix(f.Path, generator.MigrationsDir+"/"); ok {
			isNew["project/"+name] = true
		}
	}
	var pending []db.Migration
	if pool == nil {
		for _, m := range run.migs {
			if isNew[m.Name] {
				pending = append(pending, m)
			}
		}
	} else {
		pending, err = db.Pending(ctx, pool, run.migs)
		if err != nil {
			return nil, migrationError(err, specDir, "")
		}
	}
	for _, m := range pending {
		pl.Migrations = append(pl.Migrations, plan.Migration{Name: m.Name, SQL: m.SQL, New: isNew[m.Name], Checksum: db.Checksum(m.SQL)})
	}
	if pool == nil {
		return run, nil
	}
	if err := live.RunChecks(ctx, pool, pl); err != nil {
		return nil, err
	}
	// Migrations the database has that the repository does not, and ones
	// applied since the last recorded apply.
	known := map[string]bool{}
	for _, m := range run.migs {
		known[m.Name] = true
	}
	var unrecorded []string
	for _, name := range applied {
		if isProject(name) && !known[name] {
			pl.Drift = append(pl.Drift, plan.Drift{Address: "migration." + name,
				Message: "applied to the database, absent from the migrations directory: the database was applied from another (newer?) checkout"})
		}
		if rec != nil && !slices.Contains(rec.Migrations, name) {
			unrecorded = append(unrecorded, name)
			pl.Drift = append(pl.Drift, plan.Drift{Address: "migration." + name,
				Message: "applied after the last recorded apply (by the backend at startup, or by an apply that failed part-way): the changes shown may be partly applied already"})
		}
	}
	// The live tables against the snapshot they should match: the
	// database's own when every applied migration is recorded with it;
	// otherwise schema.json, when no migration written earlier is pending
	// (those would make the database legitimately differ).
	projectPending := slices.ContainsFunc(pending, func(m db.Migration) bool { return isProject(m.Name) && !isNew[m.Name] })
	var want *generator.Schema
	switch {
	case rec != nil && len(unrecorded) == 0:
		s := base.Schema()
		want = &s
	case rec == nil && !projectPending:
		s := file.Schema()
		want = &s
	}
	if want != nil {
		drift, err := live.Drift(ctx, pool, *want)
		if err != nil {
			return nil, err
		}
		pl.Drift = append(pl.Drift, drift...)
	}
	if rec != nil && prevData != nil && hashBytes(prevData) != rec.SHA256 {
		pl.SnapshotFile = snapshotDifferences(base.State(), file.State())
	}
	if run.binding.Database, err = live.Fingerprint(ctx, pool); err != nil {
		return nil, err
	}
	return run, nil
}

func isProject(name string) bool { return strings.HasPrefix(name, "project/") }

// snapshotDifferences lists the blocks in which the spec state of
// schema.json differs from the database's applied one.
func snapshotDifferences(applied, file plan.State) []plan.Drift {
	changes, _ := plan.Compare(applied, file)
	var out []plan.Drift
	for _, top := range changes {
		top.Walk(func(c *plan.Change) {
			if p := c.Parent(); p != nil && p.Action != plan.Update || !c.Own() {
				return
			}
			msg := "in migrations/schema.json, not in the database's applied snapshot"
			switch c.Action {
			case plan.Delete:
				msg = "in the database's applied snapshot, not in migrations/schema.json"
			case plan.Update, plan.Replace:
				var names []string
				for _, a := range c.Attrs {
					names = append(names, a.Name)
				}
				msg = "differs"
				if len(names) > 0 {
					msg += " in " + strings.Join(names, ", ")
				}
			}
			out = append(out, plan.Drift{Address: c.Address, Message: msg})
		})
	}
	return out
}

// destructive reports whether applying the plan loses or may reject data,
// or takes permissions from stored users: a destructive change, role
// holders found by the data checks, or a pending migration marked
// destructive.
func destructive(p *plan.Plan) bool {
	return p.Destructive() || p.Summarize().Holders > 0 || slices.ContainsFunc(p.Migrations, func(m plan.Migration) bool {
		return strings.Contains(m.SQL, "-- DESTRUCTIVE")
	})
}

type planFlags struct {
	genFlags
	planFile         string
	asJSON, detailed bool
	sql              bool
}

func (f *planFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.out, "backend", "o", "", "output directory of the generated backend (default DIR/backend)")
	c.Flags().BoolVar(&f.sql, "sql", false, "show the SQL of every pending migration, not only of the new ones")
}

func planCmd() *cobra.Command {
	var f planFlags
	c := &cobra.Command{
		Use:   "plan DIR",
		Short: "Show what applying the spec would change: API, schema and data (checked against DATABASE_URL when set)",
		Long: `plan compares the spec with the snapshot the database's last apply recorded (with
DATABASE_URL; offline, or for a database without one, migrations/schema.json) and shows
each change, whether it destroys data or breaks API clients, the migrations apply would
run and, when DATABASE_URL is set, how many stored documents each tightened field would
reject or which users hold a removed role, whether the database drifted from its snapshot,
and how migrations/schema.json differs from it. Nothing is written.

Exit status: 0 success, 1 error; with -detailed-exitcode 0 no changes, 1 error, 2 changes.`,
		Args: specDirArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			specDir, outDir := args[0], f.outDir(args[0])
			var pool *pgxpool.Pool
			if url := strings.TrimSpace(os.Getenv("DATABASE_URL")); url != "" {
				var err error
				if pool, err = openDatabase(cmd.Context(), url); err != nil {
					return err
				}
				defer pool.Close()
			}
			run, err := computePlan(cmd, specDir, outDir, pool)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if f.asJSON {
				err = render.JSON(w, run.plan)
			} else {
				err = render.Human(w, run.plan, render.Options{SQL: f.sql})
			}
			if err != nil {
				return err
			}
			if len(run.plan.Problems) > 0 {
				return exitCode(1)
			}
			if f.planFile != "" {
				if pool == nil {
					return errors.New("plan -out needs DATABASE_URL: a saved plan is bound to the database state it was made against")
				}
				data, err := json.MarshalIndent(savedPlan{Format: planFormat, Binding: run.binding, Files: run.out.Project, Plan: run.plan}, "", "  ")
				if err != nil {
					return fmt.Errorf("encode plan: %w", err)
				}
				if err := os.WriteFile(f.planFile, append(data, '\n'), 0o600); err != nil {
					return fmt.Errorf("write plan: %w", err)
				}
				if !f.asJSON {
					fmt.Fprintf(w, "\nSaved the plan to %s. To apply exactly this plan, run:\n    exhgen apply %s %s\n", f.planFile, specDir, f.planFile)
				}
			}
			if f.detailed && !run.plan.Empty() {
				return exitCode(2)
			}
			return nil
		},
	}
	f.register(c)
	c.Flags().StringVar(&f.planFile, "out", "", "save the plan to FILE, for apply DIR FILE")
	c.Flags().BoolVar(&f.asJSON, "json", false, "print the plan as JSON")
	c.Flags().BoolVar(&f.detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when none")
	return c
}

func applyCmd() *cobra.Command {
	var f planFlags
	var autoApprove, allowDestructive bool
	c := &cobra.Command{
		Use:   "apply DIR [PLANFILE]",
		Short: "Apply the spec to DATABASE_URL: a saved plan exactly, or a new plan after confirmation",
		Long: `apply DIR PLANFILE executes the plan saved by plan -out, and refuses it when the spec,
the snapshot or the database changed since. apply DIR plans again, shows the plan and asks
for confirmation (-auto-approve for CI). Changes that destroy data need -allow-destructive.
The migrations run under an advisory lock in one transaction (index builds and constraint
validations after it, each on its own); a failure leaves the database as it was and names
the failing step.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 && args[1] != "" {
				return specDirArg(cmd, args[:1])
			}
			return specDirArg(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			specDir, outDir := args[0], f.outDir(args[0])
			w := cmd.OutOrStdout()
			url, err := databaseURL()
			if err != nil {
				return err
			}
			pool, err := openDatabase(ctx, url)
			if err != nil {
				return err
			}
			defer pool.Close()
			run, err := computePlan(cmd, specDir, outDir, pool)
			if err != nil {
				return err
			}
			if len(args) == 2 {
				saved, err := readPlanFile(args[1])
				if err != nil {
					return err
				}
				switch {
				case saved.Binding.Snapshot != run.binding.Snapshot:
					return fmt.Errorf("the plan in %s is stale: %s changed since it was made; run plan again", args[1], generator.SnapshotFile)
				case saved.Binding.Spec != run.binding.Spec:
					return fmt.Errorf("the plan in %s is stale: the spec changed since it was made; run plan again", args[1])
				case saved.Binding.Database != run.binding.Database:
					return fmt.Errorf("the plan in %s is stale: %w (migrations applied or the schema changed); run plan again", args[1], live.ErrMoved)
				}
				run.plan, run.binding = saved.Plan, saved.Binding
				run.plan.Relink()
			} else {
				if err := render.Human(w, run.plan, render.Options{}); err != nil {
					return err
				}
				if len(run.plan.Problems) > 0 {
					return exitCode(1)
				}
			}
			// A database without an applied snapshot gets one even when
			// nothing else is to be done.
			unrecorded := run.plan.Base != nil && run.plan.Base.Source == plan.BaseFile
			if run.plan.Empty() && !unrecorded {
				if len(args) == 2 {
					fmt.Fprintln(w, "No changes. The spec, the schema snapshot and the database match.")
				}
				return writeGeneration(io.Discard, specDir, outDir, run.out)
			}
			if destructive(run.plan) && !allowDestructive {
				lost := ""
				if n := run.plan.Summarize().Lost; n > 0 {
					lost = fmt.Sprintf(" (it deletes %d stored documents or values)", n)
				}
				return fmt.Errorf("the plan destroys or may reject stored data%s, or takes roles or permissions from stored users (the changes marked destructive, the role holders found); review it and apply again with -allow-destructive. Nothing was applied", lost)
			}
			if v := run.plan.Summarize().Violations; v > 0 {
				return fmt.Errorf("%d stored documents violate the new schema (see the data checks): fix the data or the spec first. Nothing was applied", v)
			}
			if len(args) == 1 && !autoApprove {
				fmt.Fprint(w, "\nDo you want to perform these actions?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ")
				answer, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(answer) != "yes" {
					fmt.Fprintln(w, "\nApply cancelled. Nothing was applied.")
					return exitCode(1)
				}
				fmt.Fprintln(w)
			}
			return applyPlan(ctx, w, specDir, outDir, pool, run)
		},
	}
	f.register(c)
	c.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking for confirmation")
	c.Flags().BoolVar(&allowDestructive, "allow-destructive", false, "allow changes that destroy or may reject stored data")
	return c
}

func readPlanFile(path string) (*savedPlan, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	var sp savedPlan
	if err := json.Unmarshal(data, &sp); err != nil || sp.Format != planFormat || sp.Plan == nil {
		return nil, fmt.Errorf("read plan %s: not a plan file written by this version of exhgen plan -out", path)
	}
	return &sp, nil
}

// applyPlan writes the new migrations and the snapshot, generates the
// backend and applies the plan's migrations under the advisory lock, after
// checking there that the database is still in the planned state. When
// nothing of the new migrations was applied, the spec directory is put
// back as it was.
func applyPlan(ctx context.Context, w io.Writer, specDir, outDir string, pool *pgxpool.Pool, run *planRun) error {
	var planned []string
	for _, m := range run.plan.Migrations {
		planned = append(planned, m.Name+" "+m.Checksum)
	}
	if err := writeGeneration(w, specDir, outDir, run.out); err != nil {
		return err
	}
	applied, err := db.MigrateWith(ctx, pool, run.migs, db.Options{
		Atomic: true,
		Check: func(ctx context.Context, conn *pgx.Conn, pending []db.Migration) error {
			fp, err := live.Fingerprint(ctx, conn)
			if err != nil {
				return err
			}
			var names []string
			for _, m := range pending {
				names = append(names, m.Name+" "+db.Checksum(m.SQL))
			}
			if fp != run.binding.Database || !slices.Equal(names, planned) {
				return live.ErrMoved
			}
			return nil
		},
		After: func(ctx context.Context, conn *pgx.Conn, applied []string) error {
			return recordSnapshot(ctx, conn, run, applied)
		},
	})
	for _, name := range applied {
		fmt.Fprintf(w, "applied %s\n", name)
	}
	if err != nil {
		newApplied := slices.ContainsFunc(applied, func(n string) bool {
			return slices.ContainsFunc(run.plan.Migrations, func(m plan.Migration) bool { return m.New && m.Name == n })
		})
		if !newApplied {
			if rerr := restoreSpecDir(specDir, run); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		var me *db.MigrateError
		switch {
		case errors.Is(err, live.ErrMoved):
			return fmt.Errorf("apply refused: %w while waiting for the lock (another apply ran?); run plan again. Nothing was applied", err)
		case errors.As(err, &me) && len(applied) == 0:
			return fmt.Errorf("apply failed at %w; the database is as it was", err)
		case errors.As(err, &me):
			return fmt.Errorf("apply failed at %w; the migrations listed above stay applied, the failing one is retried by the next apply", err)
		}
		return migrationError(err, specDir, " Nothing was applied.")
	}
	s := run.plan.Summarize()
	fmt.Fprintf(w, "Apply complete! Changes: %d added, %d changed, %d destroyed; %d migrations applied.\n", s.Add, s.Change, s.Destroy, len(applied))
	fmt.Fprintf(w, "Recorded the applied snapshot in the database (%s): the next plan compares with it.\n", snapshot.Table)
	return nil
}

// recordSnapshot records in the database the snapshot it now matches:
// the one apply wrote, or the one already in the spec directory.
func recordSnapshot(ctx context.Context, conn *pgx.Conn, run *planRun, applied []string) error {
	data := run.prev
	for _, f := range run.out.Project {
		if f.Path == generator.SnapshotFile {
			data = f.Data
		}
	}
	if data == nil {
		return nil
	}
	if err := snapshot.Save(ctx, conn, snapshot.Record{Snapshot: data, Applied: applied, AppliedAt: time.Now().UTC(), AppliedBy: appliedBy()}); err != nil {
		return fmt.Errorf("the migrations were applied, but %w; apply again to record it", err)
	}
	return nil
}

// appliedBy names who applies: $EXHGEN_APPLIED_BY (set it in CI, e.g. to
// the pipeline's id), else user@host.
func appliedBy() string {
	if s := strings.TrimSpace(os.Getenv("EXHGEN_APPLIED_BY")); s != "" {
		return s
	}
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return name + "@" + host
}

// restoreSpecDir removes the migrations the plan wrote and puts the
// previous snapshot back.
func restoreSpecDir(specDir string, run *planRun) error {
	var errs []error
	for _, f := range run.out.Project {
		p := filepath.Join(specDir, filepath.FromSlash(f.Path))
		if f.Path == generator.SnapshotFile && run.prev != nil {
			errs = append(errs, os.WriteFile(p, run.prev, 0o644))
			continue
		}
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
