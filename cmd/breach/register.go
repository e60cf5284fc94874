package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/keys"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/register"
	"github.com/breachops/breach/internal/store"
)

// The breach register (Art. 33(5)) lives in PostgreSQL when BREACH_REGISTER_DSN names one, or
// when the notification ledger is in PostgreSQL (BREACH_LEDGER_DSN): workers on several
// machines then share it. Otherwise it is a directory of files in BREACH_HOME/register/entries,
// beside the closing records' register/<ID>.json. The register commands read it directly: no
// Temporal server is needed to list, export or verify it.

// registerDSN is the PostgreSQL database of the register, or "" for files.
func registerDSN() (string, error) {
	if v := os.Getenv("BREACH_REGISTER_DSN"); v != "" {
		if !register.IsPostgres(v) {
			return "", usagef("BREACH_REGISTER_DSN must be a postgres:// URL; leave it unset to keep the register in BREACH_HOME/register/entries")
		}
		return v, nil
	}
	if v := os.Getenv("BREACH_LEDGER_DSN"); register.IsPostgres(v) {
		return v, nil
	}
	return "", nil
}

// registerDir is where the files register lives.
func registerDir(cfg *config.Config) string {
	return filepath.Join(cfg.Home, "register", "entries")
}

// openRegister opens the configured register.
func openRegister(ctx context.Context, cfg *config.Config) (*register.Register, error) {
	dsn, err := registerDSN()
	if err != nil {
		return nil, err
	}
	return register.Open(ctx, dsn, registerDir(cfg))
}

// lazyRegister opens the register on first use, and again after a failure: a worker starts
// (and contains, and notifies) while the register's database is down, and the register's
// activities retry until it is back.
type lazyRegister struct {
	cfg *config.Config
	mu  sync.Mutex
	reg *register.Register
}

func (l *lazyRegister) Record(ctx context.Context, c register.Content) (register.Entry, bool, error) {
	l.mu.Lock()
	if l.reg == nil {
		r, err := openRegister(ctx, l.cfg)
		if err != nil {
			l.mu.Unlock()
			return register.Entry{}, false, err
		}
		l.reg = r
	}
	r := l.reg
	l.mu.Unlock()
	return r.Record(ctx, c)
}

// registerFilter is how the read commands choose incidents.
type registerFilter struct {
	from, to string
	year     int
	statuses []string
	drills   bool
}

func (f *registerFilter) flags(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.from, "from", "", "incidents the organisation became aware of on or after this date (2026-01-31, or RFC 3339)")
	fl.StringVar(&f.to, "to", "", "… and on or before this date (a date counts whole)")
	fl.IntVar(&f.year, "year", 0, "incidents the organisation became aware of in this year (UTC)")
	fl.StringSliceVar(&f.statuses, "status", nil, "only these statuses: "+strings.Join(register.Statuses, ", "))
	fl.BoolVar(&f.drills, "drills", false, "include drills")
}

// filter checks the flags and builds the filter.
func (f *registerFilter) filter() (register.Filter, error) {
	out := register.Filter{Drills: f.drills}
	for _, s := range f.statuses {
		if !slices.Contains(register.Statuses, s) {
			return out, usagef("--status %q is not a status; use %s", s, strings.Join(register.Statuses, ", "))
		}
		out.Statuses = append(out.Statuses, s)
	}
	if f.year != 0 {
		if f.from != "" || f.to != "" {
			return out, usagef("give --year or --from/--to, not both")
		}
		if f.year < 1970 || f.year > 9999 {
			return out, usagef("--year %d is not a year", f.year)
		}
		out.From, out.To = register.Year(f.year)
		return out, nil
	}
	var err error
	if out.From, err = parseDay(f.from, "--from", false); err != nil {
		return out, err
	}
	if out.To, err = parseDay(f.to, "--to", true); err != nil {
		return out, err
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.From.Before(out.To) {
		return out, usagef("--from %s is not before --to %s", f.from, f.to)
	}
	return out, nil
}

// parseDay reads a date (UTC; as an end, the whole day counts) or an RFC 3339 instant.
func parseDay(s, flag string, end bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usagef("%s %q is not a date: write 2026-01-31 or 2026-01-31T12:00:00Z", flag, s)
	}
	return t.UTC(), nil
}

// withRegister opens the register for a command and closes it after.
func withRegister(cmd *cobra.Command, g *globals, fn func(r *register.Register) error) error {
	cfg, err := g.config()
	if err != nil {
		return err
	}
	r, err := openRegister(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer r.Close()
	return fn(r)
}

// registerError explains what the register refused or could not find.
func registerError(err error, id string) error {
	var ie *register.InputError
	switch {
	case errors.As(err, &ie):
		return usagef("%v", err)
	case errors.Is(err, register.ErrNotFound):
		return fmt.Errorf("%s is not in the register: check the ID (breach register list --drills lists every incident)", id)
	}
	return err
}

func newRegisterCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "register",
		Short: "The breach register (GDPR Art. 33(5)): list, show, export, verify, correct",
		Long: "Every incident is in the breach register from its declaration, notified or not, with a new version at each " +
			"decision, filing, amendment, close or cancellation. Versions are never rewritten: a correction is a new version, " +
			"and each version carries the SHA-256 of the one before, so `breach register verify` finds an entry changed or " +
			"deleted by hand. The register is in PostgreSQL (BREACH_REGISTER_DSN, or the ledger's BREACH_LEDGER_DSN) or in " +
			"BREACH_HOME/register/entries; these commands read it directly, without Temporal.",
	}
	cmd.AddCommand(newRegisterListCmd(g), newRegisterShowCmd(g), newRegisterExportCmd(g), newRegisterVerifyCmd(g),
		newRegisterCorrectCmd(g), newRegisterImportCmd(g))
	return cmd
}

func newRegisterListCmd(g *globals) *cobra.Command {
	f := &registerFilter{}
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the incidents of the register, by time of awareness (drills only with --drills)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flt, err := f.filter()
			if err != nil {
				return err
			}
			return withRegister(cmd, g, func(r *register.Register) error {
				latest, err := r.Latest(cmd.Context())
				if err != nil {
					return err
				}
				entries := flt.Select(latest)
				if asJSON {
					return printJSON(cmd.OutOrStdout(), exported(entries))
				}
				return printRegisterList(cmd.OutOrStdout(), r.Where(), entries)
			})
		},
	}
	f.flags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func exported(entries []register.Entry) []register.Exported {
	out := []register.Exported{}
	for _, e := range entries {
		out = append(out, register.Exported{Entry: e, SHA256: e.Hash, Effective: e.Effective()})
	}
	return out
}

func printRegisterList(w io.Writer, where string, entries []register.Entry) error {
	if len(entries) == 0 {
		fmt.Fprintf(w, "no incidents in the register at %s for these filters\n", where)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "INCIDENT\tSTATUS\tAWARE (UTC)\tRISK\tOBLIGATIONS\tVERSION\tTITLE")
	for _, e := range entries {
		c := e.Effective()
		risk := "-"
		if c.Decision != nil {
			risk = c.Decision.Risk
		}
		filed := 0
		for _, o := range c.Obligations {
			if o.State == register.ObligationFiled {
				filed++
			}
		}
		title := c.Title
		if c.Drill {
			title = "[DRILL] " + title
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d of %d met\t%d\t%s\n", c.IncidentID, c.Status, c.AwareAt.UTC().Format("2006-01-02 15:04"),
			risk, filed, len(c.Obligations), e.Version, strings.Join(strings.Fields(title), " "))
	}
	return tw.Flush()
}

func newRegisterShowCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "show ID",
		Short: "Show an incident's register entry and every version of it, oldest first, with what each changed",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRegister(cmd, g, func(r *register.Register) error {
				versions, err := r.History(cmd.Context(), args[0])
				if err != nil {
					return registerError(err, args[0])
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), struct {
						IncidentID string              `json:"incident_id"`
						Versions   []register.Exported `json:"versions"`
					}{args[0], exported(versions)})
				}
				return printRegisterHistory(cmd.OutOrStdout(), versions)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print every version as JSON")
	return cmd
}

func printRegisterHistory(w io.Writer, versions []register.Entry) error {
	latest := versions[len(versions)-1]
	if err := register.WriteEntryMarkdown(w, latest); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n# Versions (%d, oldest first)\n", len(versions))
	for i, v := range versions {
		fmt.Fprintf(w, "\n- version %d (entry %d), recorded %s: %s\n  SHA-256 %s\n", v.Version, v.Seq,
			v.RecordedAt.UTC().Format(time.RFC3339), v.Change, v.Hash)
		if i == 0 {
			continue
		}
		for _, c := range register.Diff(versions[i-1], v) {
			fmt.Fprintf(w, "  %s: %q -> %q\n", c.Field, clipText(c.From), clipText(c.To))
		}
	}
	return nil
}

func newRegisterExportCmd(g *globals) *cobra.Command {
	f := &registerFilter{}
	var format, output string
	var bom bool
	cmd := &cobra.Command{
		Use:   "export --format csv|json|md [--year 2026] [--output FILE]",
		Short: "Export the register for an audit: one row (csv) or section (md) per incident, its latest version with every Art. 33(5) field",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			flt, err := f.filter()
			if err != nil {
				return err
			}
			if !slices.Contains([]string{"csv", "json", "md"}, format) {
				return usagef("--format %q: use csv, json or md", format)
			}
			return withRegister(cmd, g, func(r *register.Register) error {
				rep, err := r.Verify(cmd.Context(), "")
				if err != nil {
					return err
				}
				latest, err := r.Latest(cmd.Context())
				if err != nil {
					return err
				}
				if err := writeExport(cmd.OutOrStdout(), output, format, bom, register.MetaOf(rep, time.Now()), flt.Select(latest)); err != nil {
					return err
				}
				if !rep.OK() {
					return fmt.Errorf("exported, but the register at %s failed verification (%d problems): entries were changed or deleted outside breach; `breach register verify` names them", rep.Where, len(rep.Problems))
				}
				return nil
			})
		},
	}
	f.flags(cmd)
	cmd.Flags().StringVar(&format, "format", "csv", "csv (RFC 4180, one row per incident), json or md")
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file instead of standard output")
	cmd.Flags().BoolVar(&bom, "bom", false, "start a CSV with a UTF-8 byte order mark (for Excel)")
	return cmd
}

func writeExport(stdout io.Writer, output, format string, bom bool, m register.Meta, entries []register.Entry) error {
	w := stdout
	var file *os.File
	if output != "" {
		var err error
		if file, err = os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640); err != nil {
			return usagef("--output %s cannot be written: %v", output, err)
		}
		w = file
	}
	var err error
	switch format {
	case "csv":
		if bom {
			_, err = io.WriteString(w, "\ufeff")
		}
		if err == nil {
			err = register.WriteCSV(w, entries)
		}
	case "json":
		err = register.WriteJSON(w, m, entries)
	default:
		err = register.WriteMarkdown(w, m, entries)
	}
	if file != nil {
		if cerr := file.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			fmt.Fprintf(stdout, "%d incidents written to %s\n", len(entries), output)
		}
	}
	return err
}

func newRegisterVerifyCmd(g *globals) *cobra.Command {
	var head string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify [--head SHA256]",
		Short: "Check that no register entry was changed or deleted: exit 1 naming each one that was",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withRegister(cmd, g, func(r *register.Register) error {
				rep, err := r.Verify(cmd.Context(), strings.TrimSpace(head))
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if asJSON {
					if rep.Problems == nil {
						rep.Problems = []register.Problem{}
					}
					if err := printJSON(out, rep); err != nil {
						return err
					}
				} else {
					printVerify(out, rep)
				}
				if !rep.OK() {
					return fmt.Errorf("the register at %s failed verification: %d problems; the entries named were changed or deleted outside breach: restore them from a backup, and keep the report for the audit", rep.Where, len(rep.Problems))
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&head, "head", "", "a head SHA-256 printed by an earlier verify: it must still be in the register")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func printVerify(w io.Writer, rep register.Report) {
	if rep.OK() && rep.Entries == 0 {
		fmt.Fprintf(w, "register empty: no entries in %s\n", rep.Where)
		return
	}
	if rep.OK() {
		fmt.Fprintf(w, "register intact: %d entries of %d incidents in %s\nhead: entry %d, SHA-256 %s (note it: `breach register verify --head %s` checks later that nothing after it was removed)\n",
			rep.Entries, rep.Incidents, rep.Where, rep.HeadSeq, rep.Head, rep.Head)
		return
	}
	fmt.Fprintf(w, "register NOT intact: %d problems in %s (%d entries read)\n", len(rep.Problems), rep.Where, rep.Entries)
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "- %s\n", p)
	}
}

func newRegisterCorrectCmd(g *globals) *cobra.Command {
	var field, value, reason, as string
	cmd := &cobra.Command{
		Use:   "correct ID --field FIELD --value TEXT --reason TEXT --as DPO",
		Short: "Correct the register's text of an incident: a new version that keeps the old one",
		Long: "A correction replaces one field of the register's text (" + strings.Join(register.CorrectableFields(), ", ") +
			") in a new version, with who corrected it and why; earlier versions keep the old text and `breach register show` " +
			"shows both. It stays in force in later versions. Facts the incident computed (counts, obligations, times) are " +
			"corrected in the incident itself with `breach amend`, which records a new version too. Only a DPO (roles.dpo) corrects.",
		Args: oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			q, err := correctRequest(g, args[0], field, value, reason, as)
			if err != nil {
				return err
			}
			return withRegister(cmd, g, func(r *register.Register) error {
				e, err := r.Correct(cmd.Context(), args[0], q)
				if err != nil {
					return registerError(err, args[0])
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s corrected: version %d (entry %d, SHA-256 %s); version %d keeps the old text\n",
					args[0], e.Version, e.Seq, e.Hash, e.Version-1)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&field, "field", "", "the field to correct: "+strings.Join(register.CorrectableFields(), ", "))
	cmd.Flags().StringVar(&value, "value", "", "its corrected text")
	cmd.Flags().StringVar(&reason, "reason", "", "why it is corrected (kept in the register)")
	cmd.Flags().StringVar(&as, "as", "", "who corrects it: a DPO (roles.dpo)")
	return cmd
}

// correctRequest checks a correction's flags and signs it with the DPO's key, as every
// decision is signed: the register keeps the signature beside the correction.
func correctRequest(g *globals, incidentID, field, value, reason, as string) (register.CorrectRequest, error) {
	q := register.CorrectRequest{Field: field, Value: value, Reason: reason}
	if _, ok := register.Correctable[field]; !ok {
		return q, usagef("--field %q: correctable fields are %s", field, strings.Join(register.CorrectableFields(), ", "))
	}
	if strings.TrimSpace(reason) == "" {
		return q, usagef("--reason is required: the register keeps why it was corrected")
	}
	by, err := cliActor(as)
	if err != nil {
		return q, err
	}
	cfg, err := g.config()
	if err != nil {
		return q, err
	}
	if !slices.Contains(cfg.Roles.DPO, by) {
		return q, usagef("--as %s does not hold the dpo role in %s: only a DPO corrects the register (roles.dpo)", by, configName(cfg))
	}
	q.By = by
	key, err := keys.LoadSigner(cfg.Home, by)
	if err != nil {
		return q, usagef("%v", err)
	}
	if q.Signature, err = incident.Sign(key, by, incidentID, register.SignedUpdate, q.Unsigned(), time.Now()); err != nil {
		return q, err
	}
	return q, nil
}

// clipText shortens a long value in a version's changes: the entry above and --json show it
// whole.
func clipText(s string) string {
	const most = 240
	if r := []rune(s); len(r) > most {
		return string(r[:most]) + "…"
	}
	return s
}

func configName(cfg *config.Config) string {
	if cfg.Path == "" {
		return "the configuration (none given: set BREACH_CONFIG)"
	}
	return cfg.Path
}

// maxClosingRecord bounds a closing record read by import.
const maxClosingRecord = 16 << 20

func newRegisterImportCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "import",
		Short: "Add the incidents closed before the register kept versions (BREACH_HOME/register/ID.json) as their first version",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			return withRegister(cmd, g, func(r *register.Register) error {
				return importClosingRecords(cmd.Context(), cmd.OutOrStdout(), cfg, r)
			})
		},
	}
}

// importClosingRecords records each closing record of the store (register/<id>.json) whose
// incident is not in the register yet; the others are left alone.
func importClosingRecords(ctx context.Context, w io.Writer, cfg *config.Config, r *register.Register) error {
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	keys, err := st.List(ctx, records.RegisterEntriesPrefix)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintf(w, "no closing records in %s: nothing to import\n", st.Where(records.RegisterEntriesPrefix))
		return nil
	}
	added, kept := 0, 0
	for _, k := range keys {
		name := strings.TrimPrefix(k, records.RegisterEntriesPrefix)
		id, ok := strings.CutSuffix(name, ".json")
		if !ok || incident.ValidateID(id) != nil {
			continue
		}
		rec, err := readClosingRecord(ctx, st, k, id)
		if err != nil {
			return err
		}
		e, isNew, err := r.Import(ctx, activities.ClosedContent(ctx, st, rec), "imported from the closing record "+name)
		if err != nil {
			return err
		}
		if isNew {
			added++
			fmt.Fprintf(w, "%s imported: version 1 (entry %d)\n", id, e.Seq)
		} else {
			kept++
		}
	}
	fmt.Fprintf(w, "%d incidents imported into %s; %d were in the register already\n", added, r.Where(), kept)
	return nil
}

func readClosingRecord(ctx context.Context, st *store.Store, key, id string) (activities.IncidentRecord, error) {
	var rec activities.IncidentRecord
	where := st.Where(key)
	info, err := st.Stat(ctx, key)
	if err != nil {
		return rec, err
	}
	if info.Size > maxClosingRecord {
		return rec, fmt.Errorf("%s is over %d bytes: not a closing record", where, maxClosingRecord)
	}
	data, err := st.Get(ctx, key)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil || rec.IncidentID != id {
		return rec, fmt.Errorf("%s is not the closing record of %s (%v): move it out of the register and import again", where, id, err)
	}
	return rec, nil
}
