package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/user"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/declare"
	"github.com/breachops/breach/workflows"
)

type declareFlags struct {
	title, description, awareAt, key, as string
	subjects                             subjectsFlags
	systems                              []string
	drill, json                          bool
}

func newDeclareCmd(g *globals) *cobra.Command {
	f := &declareFlags{}
	cmd := &cobra.Command{
		Use:   "declare --title TEXT --system NAME [--system NAME…] [--subjects FILE.csv | --subjects-sql SOURCE]",
		Short: "Declare a suspected breach and start the plan",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			d, err := f.declaration(cmd.Context(), cfg, time.Now())
			if err != nil {
				return err
			}
			st, err := dial(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := declare.Start(cmd.Context(), st.client, d, declare.Options{Converter: st.dc})
			if err != nil {
				return err
			}
			if f.json {
				return printJSON(cmd.OutOrStdout(), res)
			}
			verb := "declared"
			if res.Existing {
				verb = "already declared with this key"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n  follow: breach status %s --watch\n", res.IncidentID, verb, res.IncidentID)
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.title, "title", "", "short title of the incident (required)")
	fl.StringVar(&f.description, "description", "", "what happened, in a few sentences (no personal data)")
	fl.StringArrayVar(&f.systems, "system", nil, "affected system: an inventory name or an IP address/CIDR (repeatable, at least one)")
	fl.StringVar(&f.awareAt, "aware-at", "", "when the organisation became aware, RFC 3339 (default: now)")
	f.subjects.register(fl, "the affected data subjects")
	fl.StringVar(&f.key, "key", "", "idempotency key: declaring again with the same key returns the same incident")
	fl.BoolVar(&f.drill, "drill", false, "a tabletop drill: nothing is filed with any authority")
	fl.StringVar(&f.as, "as", defaultIdentity(), "who declares")
	fl.BoolVar(&f.json, "json", false, "print the result as JSON")
	return cmd
}

func defaultIdentity() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return os.Getenv("USER")
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q (did you forget a flag name?)", cmd.Name(), strings.Join(args, " "))
	}
	return nil
}

func oneIncidentArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one incident ID (e.g. INC-20261128-7F3A)", cmd.Name())
	}
	if err := incident.ValidateID(args[0]); err != nil {
		return usagef("%v", err)
	}
	return nil
}

// declaration checks the flags, and the systems against the inventory, and builds the
// declaration; nothing starts on bad input.
func (f *declareFlags) declaration(ctx context.Context, cfg *config.Config, now time.Time) (incident.Declaration, error) {
	if strings.TrimSpace(f.title) == "" {
		return incident.Declaration{}, usagef("--title is required: give the incident a short title")
	}
	if len(f.systems) == 0 {
		return incident.Declaration{}, usagef("no affected system: name at least one with --system NAME (an inventory name or an IP address)")
	}
	aware := now
	zone := "Local"
	if f.awareAt != "" {
		t, err := time.Parse(time.RFC3339, f.awareAt)
		if err != nil {
			return incident.Declaration{}, usagef("--aware-at %q is not an RFC 3339 time with offset; write it like 2026-11-28T09:30:00+01:00", f.awareAt)
		}
		if t.After(now.Add(time.Minute)) {
			return incident.Declaration{}, usagef("--aware-at %s is in the future; give the moment the organisation became aware (or omit it for now)", f.awareAt)
		}
		aware = t
		zone = t.Format("-07:00")
	} else if loc := time.Local.String(); loc != "" {
		zone = loc
	}
	// The dataset file first: a file that cannot be one is refused before anything else.
	if err := f.subjects.check(cfg); err != nil {
		return incident.Declaration{}, err
	}
	by, err := cliActor(f.as)
	if err != nil {
		return incident.Declaration{}, err
	}
	id := newIncidentID(aware, f.key, now, 0)
	d := incident.Declaration{
		IncidentID: id, Title: strings.TrimSpace(f.title), Description: f.description, Systems: f.systems,
		AwareAt: aware.UTC(), AwareZone: zone, DeclaredBy: by, Source: "cli", Drill: f.drill, Key: f.key,
	}
	if f.drill {
		d.Source = "drill"
	}
	if err := declarationDefaults(cfg, &d); err != nil {
		return incident.Declaration{}, err
	}
	if err := workflows.ValidateDeclaration(d); err != nil {
		return incident.Declaration{}, usagef("%v", err)
	}
	fw, err := newFirewalls(cfg)
	if err != nil {
		return incident.Declaration{}, err
	}
	if err := checkSystems(fw, d.Systems); err != nil {
		return incident.Declaration{}, err
	}
	// Last: the dataset enters the store only once everything else is right.
	if f.subjects.given() {
		if d.Subjects, err = f.subjects.resolve(ctx, cfg); err != nil {
			return incident.Declaration{}, err
		}
	}
	return d, nil
}

// newIncidentID makes INC-YYYYMMDD-XXXX. With a key the suffix and date derive from the key and
// the awareness time, so the same declaration maps to the same incident; attempt moves to the
// next candidate when another incident already holds the ID.
func newIncidentID(aware time.Time, key string, now time.Time, attempt int) string {
	if key != "" {
		return incident.KeyedID(aware, key, attempt)
	}
	return incident.NewID(now)
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func urlPathEscape(s string) string { return url.PathEscape(s) }
