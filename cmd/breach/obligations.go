package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/rules"
)

// newObligationsCmd is `breach obligations --facts FILE [--json] [--now TIME]`: the obligations
// engine on a facts file, no server needed. Bad input returns a wrapped *rules.UsageError,
// which main maps to exit code 2. It does not use the configuration, but a named one that cannot
// work is refused here too, as by every command that reads it.
func newObligationsCmd(g *globals) *cobra.Command {
	var factsPath, nowFlag string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "obligations --facts FILE [--json]",
		Short: "List the notifications the law requires for a breach, nearest deadline first",
		Long: `Evaluates the breach-notification rules (GDPR, UK GDPR, NIS2, DORA, HIPAA, the FTC's Health
Breach Notification Rule, SEC, US states, PIPEDA, Québec, Australia, Singapore, Brazil, Japan,
South Korea, India, Switzerland, China) on a facts file and prints every obligation with its
audience, legal basis, due instant and, where the law's own counting gives a later one, the
statutory outer limit; how each competent GDPR authority was determined; which obligations law
enforcement may delay; then every obligation ruled out with the reason.

The facts file is JSON, e.g.
  {"aware_at": "2026-06-10T10:00:00+02:00", "timezone": "Europe/Berlin",
   "establishments": ["DE"], "establishment_regions": ["DE-BE"],
   "subjects_by_jurisdiction": {"DE": 800, "FR": 1200, "US-CA": 640}, "risk": "high"}
With establishment_regions, main_establishment or public_task, the GDPR report resolves to the
competent authorities (breach authorities lists them); without, it stays gdpr-art33-authority.
Use --facts - to read it from standard input.`,
		Example:      "  breach obligations --facts facts.json\n  breach obligations --facts facts.json --json",
		SilenceUsage: true,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("obligations: %w", &rules.UsageError{Field: "arguments",
					Msg: fmt.Sprintf("unexpected %q; pass the facts file with --facts FILE", args[0])})
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.configPath != "" {
				if _, err := g.config(); err != nil {
					return err
				}
			}
			if factsPath == "" {
				return fmt.Errorf("obligations: %w", &rules.UsageError{Field: "--facts",
					Msg: "required; give the path of a facts JSON file (or - for standard input)"})
			}
			now, err := obligationsNow(nowFlag)
			if err != nil {
				return err
			}
			facts, err := readFacts(factsPath, cmd.InOrStdin())
			if err != nil {
				return fmt.Errorf("obligations: %w", err)
			}
			res, err := rules.Evaluate(facts)
			if err != nil {
				return fmt.Errorf("obligations: %s: %w", factsPath, err)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				enc.SetEscapeHTML(false)
				return enc.Encode(res)
			}
			return writeObligations(cmd.OutOrStdout(), facts, res, now)
		},
	}
	cmd.Flags().StringVar(&factsPath, "facts", "", "facts JSON file (- for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, `print {"obligations":[…],"not_required":[…]} as JSON`)
	cmd.Flags().StringVar(&nowFlag, "now", "", "show time left as of this RFC 3339 instant (default: the current time)")
	cmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return fmt.Errorf("obligations: %w", &rules.UsageError{Field: "flags", Msg: err.Error() + "; see breach obligations --help"})
	})
	return cmd
}

// obligationsNow is the instant time left is shown as of: --now, or the current time.
func obligationsNow(nowFlag string) (time.Time, error) {
	now := time.Now()
	if nowFlag != "" {
		t, err := time.Parse(time.RFC3339, nowFlag)
		if err != nil {
			return time.Time{}, fmt.Errorf("obligations: %w", &rules.UsageError{Field: "--now",
				Msg: fmt.Sprintf("%q is not an RFC 3339 time; write e.g. 2026-06-11T09:00:00Z", nowFlag)})
		}
		now = t
	}
	return now, nil
}

// writeObligations prints the obligations as a table, after notes on the facts left out that
// the evaluation assumed: an undecided risk, a missing timezone.
func writeObligations(out io.Writer, facts rules.Facts, res rules.Result, now time.Time) error {
	var notes []string
	if facts.Risk == "" {
		notes = append(notes, "risk not decided yet: evaluated as high, so nothing is ruled out on risk")
	}
	if facts.Timezone == "" {
		notes = append(notes, "no timezone given: day-based clocks outside US states end in UTC")
	}
	for _, n := range notes {
		fmt.Fprintln(out, "Note: "+n)
	}
	if len(notes) > 0 {
		fmt.Fprintln(out)
	}
	return rules.WriteTable(out, res, now)
}

// readFacts reads the facts from standard input (path "-") or a regular file, at most
// rules.MaxFactsBytes (1 MiB) either way: a device, a pipe that never ends or a dataset given by
// mistake is refused, never read into memory.
func readFacts(path string, stdin io.Reader) (rules.Facts, error) {
	if path == "-" {
		return rules.ReadFacts(stdin)
	}
	f, err := infile.Open(path, rules.MaxFactsBytes)
	if err != nil {
		var ie *infile.Error
		if errors.As(err, &ie) {
			return rules.Facts{}, &rules.UsageError{Field: "--facts", Msg: err.Error() + "; facts are a small JSON file of counts"}
		}
		return rules.Facts{}, &rules.UsageError{Field: "--facts", Msg: fmt.Sprintf("cannot read %s: %v", path, err)}
	}
	defer f.Close()
	facts, err := rules.ReadFacts(f)
	if err != nil {
		return rules.Facts{}, fmt.Errorf("%s: %w", path, err)
	}
	return facts, nil
}
