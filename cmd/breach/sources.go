package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/subjects"
)

// windowFlags are the incident's time window, bound to a SQL source's query parameters.
type windowFlags struct {
	from, to   string
	fromT, toT *time.Time
}

func (w *windowFlags) register(fl *pflag.FlagSet) {
	fl.StringVar(&w.from, "window-from", "", "with --subjects-sql: the start of the incident's time window, RFC 3339 (the query's window_from)")
	fl.StringVar(&w.to, "window-to", "", "with --subjects-sql: the end of the incident's time window, RFC 3339 (the query's window_to; default now)")
}

func (w *windowFlags) given() bool { return w.from != "" || w.to != "" }

func (w *windowFlags) parse() error {
	for _, f := range []struct {
		name, v string
		dst     **time.Time
	}{{"--window-from", w.from, &w.fromT}, {"--window-to", w.to, &w.toT}} {
		if f.v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, f.v)
		if err != nil {
			return usagef("%s %q is not an RFC 3339 time with offset; write it like 2026-11-01T00:00:00+01:00", f.name, f.v)
		}
		t = t.UTC()
		*f.dst = &t
	}
	if w.fromT != nil && w.toT != nil && !w.fromT.Before(*w.toT) {
		return usagef("--window-from %s is not before --window-to %s", w.from, w.to)
	}
	return nil
}

// bounds is the window with its end defaulting to now.
func (w *windowFlags) bounds(now time.Time) (from, to *time.Time) {
	to = w.toT
	if to == nil {
		t := now.UTC()
		to = &t
	}
	return w.fromT, to
}

func (w *windowFlags) window(now time.Time) sqlsource.Window {
	var out sqlsource.Window
	from, to := w.bounds(now)
	if from != nil {
		out.From = *from
	}
	out.To = *to
	return out
}

// checkSource refuses a source the configuration does not name.
func checkSource(cfg *config.Config, name string) error {
	if _, ok := cfg.SubjectSource(name); ok {
		return nil
	}
	if names := cfg.SubjectSourceNames(); len(names) > 0 {
		return usagef("--subjects-sql %s: the configuration has no such source; its sources are %s", name, strings.Join(names, ", "))
	}
	where := "the configuration"
	if cfg.Path != "" {
		where = cfg.Path
	}
	return usagef("--subjects-sql %s: %s names no subject sources; add one under subject_sources (driver, dsn_env, query: see examples/breach.yaml)", name, where)
}

// sourceError is exit code 2 for what the configuration, the environment or the query must
// fix, else (a timeout, a lost connection: worth trying again) 1.
func sourceError(err error) error {
	var se *sqlsource.Error
	if errors.As(err, &se) && se.Usage() {
		return usagef("%v", se)
	}
	if errors.As(err, &se) {
		return fmt.Errorf("%v; nothing was started", se)
	}
	return err
}

// resolveSQL checks that the source connects and that its query returns the columns a
// dataset needs, without running it; the scope phase runs it and snapshots its rows.
func (s *subjectsFlags) resolveSQL(ctx context.Context, cfg *config.Config) (incident.DatasetRef, error) {
	src, err := sqlsource.Sources{Config: cfg.SubjectSources}.Open(s.sql)
	if err != nil {
		return incident.DatasetRef{}, sourceError(err)
	}
	now := time.Now()
	if _, err := src.Describe(ctx, s.window.window(now)); err != nil {
		return incident.DatasetRef{}, sourceError(err)
	}
	from, to := s.window.bounds(now)
	return incident.SQLRef(s.sql, from, to), nil
}

// preview is what `breach subjects --preview` found.
type preview struct {
	Source  string           `json:"source"`
	Driver  string           `json:"driver"`
	Query   string           `json:"query"`
	Columns string           `json:"columns"`
	From    *time.Time       `json:"window_from,omitempty"`
	To      *time.Time       `json:"window_to"`
	Summary subjects.Summary `json:"summary"`
}

// previewSource runs the source's query (read-only, with its timeout) into the scanner the
// scope phase uses, keeping nothing: the counts and the first problems.
func previewSource(ctx context.Context, cfg *config.Config, name string, w *windowFlags, lim subjects.Limits) (preview, error) {
	if err := checkSource(cfg, name); err != nil {
		return preview{}, err
	}
	src, err := sqlsource.Sources{Config: cfg.SubjectSources}.Open(name)
	if err != nil {
		return preview{}, sourceError(err)
	}
	now := time.Now()
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var res sqlsource.Result
	var exportErr error
	go func() {
		defer close(done)
		res, exportErr = src.Export(ctx, w.window(now), pw, nil)
		pw.CloseWithError(exportErr)
	}()
	sum, scanErr := lim.Scan(pr, nil)
	pr.CloseWithError(errors.New("the scan stopped"))
	<-done
	if exportErr != nil {
		return preview{}, sourceError(exportErr)
	}
	if scanErr != nil {
		return preview{}, fmt.Errorf("subjects source %s: %w", name, scanErr)
	}
	from, to := w.bounds(now)
	return preview{Source: name, Driver: src.Driver, Query: src.QueryFile, Columns: res.Columns.String(), From: from, To: to, Summary: sum}, nil
}

// previewProblems is how many problems the preview lists.
const previewProblems = 20

func printPreview(out io.Writer, p preview) error {
	s := p.Summary
	window := "up to " + p.To.Format(time.RFC3339)
	if p.From != nil {
		window = p.From.Format(time.RFC3339) + " to " + p.To.Format(time.RFC3339)
	}
	fmt.Fprintf(out, "subjects source %s (%s, %s), window %s\n", p.Source, p.Driver, p.Query, window)
	fmt.Fprintf(out, "columns: %s\n\n", p.Columns)
	fmt.Fprintf(out, "%d rows: %d subjects (%d can be mailed, %d with an invalid or missing address), %d duplicate rows, %d unusable rows; %d records\n",
		s.Rows, s.Subjects, s.Mailable, s.Invalid, s.Duplicates, s.Unusable, s.Records)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nJURISDICTION\tSUBJECTS\tMAILABLE")
	for _, k := range sortedCounts(s.ByJurisdiction) {
		fmt.Fprintf(tw, "%s\t%d\t%d\n", k, s.ByJurisdiction[k], s.MailableByJurisdiction[k])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	tw = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDATA CATEGORY\tSUBJECTS")
	for _, k := range sortedCounts(s.ByCategory) {
		fmt.Fprintf(tw, "%s\t%d\n", k, s.ByCategory[k])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	total := 0
	for _, n := range s.IssueCounts {
		total += n
	}
	if total > 0 {
		fmt.Fprintf(out, "\nproblems: %d (", total)
		for i, k := range sortedCounts(s.IssueCounts) {
			if i > 0 {
				fmt.Fprint(out, ", ")
			}
			fmt.Fprintf(out, "%s %d", k, s.IssueCounts[k])
		}
		fmt.Fprintf(out, "); the first %d:\n", min(previewProblems, len(s.Issues)))
		for _, is := range s.Issues[:min(previewProblems, len(s.Issues))] {
			col := ""
			if is.Column != "" {
				col = " (" + is.Column + ")"
			}
			fmt.Fprintf(out, "  row %d: %s%s\n", is.Row, is.Kind, col)
		}
	}
	fmt.Fprintf(out, "\nSHA-256 of these rows as a dataset: %s (%d bytes). Nothing was started or kept; declare with --subjects-sql %s to snapshot them.\n",
		s.SHA256, s.Bytes, p.Source)
	return nil
}

// sortedCounts is the keys of m, largest count first, then by name.
func sortedCounts(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	return keys
}
