package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/internal/rules"
)

// newAuthoritiesCmd is `breach authorities [--country CODE] [--json]`: the authority directory
// of the rules, with the configuration's changes and additions (authorities: in breach.yaml).
// It reads only data: no server is needed.
func newAuthoritiesCmd(g *globals) *cobra.Command {
	var country string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "authorities [--country CODE] [--json]",
		Short: "List the supervisory authorities a breach is notified to: channel, languages, sources",
		Long: `Lists the authority directory: the EEA's data protection authorities (Germany's 16 Länder, the
BfDI and Bavaria's two, Spain's regional ones), the UK's ICO and Switzerland's FDPIC, each with
how a notification is filed, the languages it is accepted in, notes, the source of the facts and
whether they are verified. Entries the configuration changes or adds (authorities: in
breach.yaml) show what it set.

The GDPR obligation resolves to one of these per competent authority, with the id
gdpr-art33-authority-<code in lower case>.`,
		Example: "  breach authorities\n  breach authorities --country DE\n  breach authorities --country DE-BY --json",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			want := strings.ToUpper(strings.TrimSpace(country))
			if want != "" && !rules.KnownJurisdiction(want) && !rules.KnownRegion(want) {
				return usagef("--country %s: not a country or region code; %s", country, rules.JurisdictionHint(country))
			}
			var list []rules.Authority
			for _, a := range rules.WithOverrides(cfg.AuthorityOverrides()) {
				if want == "" || a.Country == want || a.Region == want || a.Code == want {
					list = append(list, a)
				}
			}
			if asJSON {
				if list == nil {
					list = []rules.Authority{}
				}
				return printJSON(cmd.OutOrStdout(), struct {
					Authorities []rules.Authority `json:"authorities"`
				}{list})
			}
			if len(list) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "No authority for %s in the directory: it holds the EEA's, the UK's and Switzerland's; add one under authorities: in the configuration.\n", want)
				return nil
			}
			return writeAuthorities(cmd.OutOrStdout(), list)
		},
	}
	cmd.Flags().StringVar(&country, "country", "", "only the authorities of this country or region (DE, DE-BY, ES-CT, GB)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"authorities":[…]} as JSON`)
	return cmd
}

// writeAuthorities prints one block per authority: the fields that matter when filing, and
// which facts are unverified or come from the configuration.
func writeAuthorities(w io.Writer, list []rules.Authority) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CODE\tAUTHORITY\tLANGUAGES\tFILE THROUGH\tVERIFIED")
	for _, a := range list {
		langs := strings.Join(a.Languages, ", ")
		if len(a.CrossBorderLanguages) > 0 {
			langs += " (cross-border also " + strings.Join(a.CrossBorderLanguages, ", ") + ")"
		}
		if langs == "" {
			langs = "?"
		}
		var through []string
		for _, s := range []string{a.Portal, a.Email, a.Phone} {
			if s != "" {
				through = append(through, s)
			}
		}
		if len(through) == 0 {
			through = append(through, orDash(a.Channel))
		}
		verified := "yes"
		if !a.Verified {
			verified = "no: " + strings.Join(a.Unverified, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", a.Code, a.Label(), langs, strings.Join(through, ", "), verified)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	for _, a := range list {
		fmt.Fprintf(w, "%s  %s\n", a.Code, a.Label())
		where := a.Country
		if a.Region != "" {
			where = a.Region
		}
		fmt.Fprintf(w, "  competent for: %s bodies in %s (%s)", strings.Join(a.Supervises, " and "), where, a.Regime)
		if len(a.Sectors) > 0 {
			fmt.Fprintf(w, "; private bodies of the sectors %s", strings.Join(a.Sectors, ", "))
		}
		fmt.Fprintln(w)
		for _, line := range []struct{ label, value string }{
			{"channel", a.Channel}, {"portal", a.Portal}, {"email", a.Email}, {"phone", a.Phone},
			{"notes", a.Notes}, {"source", a.Source},
		} {
			if line.value != "" {
				fmt.Fprintf(w, "  %s: %s\n", line.label, line.value)
			}
		}
		if len(a.Configured) > 0 {
			fmt.Fprintf(w, "  set by the configuration: %s\n", strings.Join(a.Configured, ", "))
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
