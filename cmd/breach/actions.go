package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/keys"
)

// update sends a validated Update to an incident and waits for its answer. A rejection comes
// back as an error carrying the validator's reason; nothing changed.
// signable is a request the person acting signs: every Update of the incident takes one.
type signable interface {
	Signed() (by string, sig *incident.Signature, unsigned any)
	SetSignature(*incident.Signature)
}

// update signs req with the acting person's key and sends it as the Update name.
func update(ctx context.Context, c client.Client, g *globals, incidentID, name string, req signable, out any) error {
	cfg, err := g.config()
	if err != nil {
		return err
	}
	by, _, unsigned := req.Signed()
	key, err := keys.LoadSigner(cfg.Home, by)
	if err != nil {
		return usagef("%v", err)
	}
	sig, err := incident.Sign(key, by, incidentID, name, unsigned, time.Now())
	if err != nil {
		return err
	}
	req.SetSignature(sig)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   incident.IncidentWorkflowID(incidentID),
		UpdateName:   name,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("%s %s: %s", name, incidentID, cleanError(err))
	}
	if err := h.Get(ctx, out); err != nil {
		return fmt.Errorf("%s %s rejected: %s", name, incidentID, cleanError(err))
	}
	return nil
}

// cleanError strips the SDK's wrapping down to the validator's sentence.
func cleanError(err error) string {
	msg := err.Error()
	if i := strings.Index(msg, " (type: "); i > 0 {
		msg = msg[:i]
	}
	return msg
}

// withClient runs fn with a client of the configured Temporal server.
func withClient(cmd *cobra.Command, g *globals, fn func(c client.Client) error) error {
	return withStack(cmd, g, func(st *stack) error { return fn(st.client) })
}

// withStack runs fn with a connection to the configured Temporal server.
func withStack(cmd *cobra.Command, g *globals, fn func(st *stack) error) error {
	cfg, err := g.config()
	if err != nil {
		return err
	}
	st, err := dial(cmd.Context(), cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

// requireAs checks --as and names it as a command-line actor: "dana" is cli:dana. The command
// line acts only as cli: actors: a Slack user acts in Slack, where the ingress vouches for them.
func requireAs(as *string) error {
	a, err := cliActor(*as)
	if err != nil {
		return err
	}
	*as = a
	return nil
}

func cliActor(as string) (string, error) {
	as = strings.TrimSpace(as)
	if as == "" {
		return "", usagef("--as is required: say who is acting (an identity from roles in the configuration)")
	}
	if !strings.Contains(as, ":") {
		as = incident.CLIActor(as)
	}
	src, _, err := incident.ParseActor(as)
	if err != nil {
		return "", usagef("--as: %v", err)
	}
	if src != incident.SourceCLI {
		return "", usagef("--as %s: the command line acts only as cli:<name> actors, with their own signing key; a %s user acts in %s", as, src, src)
	}
	return as, nil
}

func newDecideCmd(g *globals) *cobra.Command {
	var d incident.Decision
	cmd := &cobra.Command{
		Use:   "decide ID --risk unlikely|risk|high --reasoning TEXT --as DPO",
		Short: "Record the DPO's risk decision and which notifications go out",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&d.By); err != nil {
				return err
			}
			switch d.Risk {
			case "unlikely", "risk", "high":
			default:
				return usagef("--risk %q must be unlikely, risk or high", d.Risk)
			}
			if d.Risk != "unlikely" && !cmd.Flags().Changed("notify-authority") {
				d.NotifyAuthority = true
			}
			if d.Risk == "high" && !cmd.Flags().Changed("notify-subjects") && !d.EncryptedUnintelligible {
				d.NotifySubjects = true
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out incident.Decision
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateDecide, &d, &out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "decision recorded: risk %s, notify authority %t, notify subjects %t (by %s)\n",
					out.Risk, out.NotifyAuthority, out.NotifySubjects, out.By)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&d.Risk, "risk", "", "risk to people's rights and freedoms: unlikely, risk or high")
	fl.BoolVar(&d.NotifyAuthority, "notify-authority", false, "notify the supervisory authority (default: yes unless risk is unlikely)")
	fl.BoolVar(&d.NotifySubjects, "notify-subjects", false, "notify the affected people (default: yes when risk is high)")
	fl.StringVar(&d.Reasoning, "reasoning", "", "why: recorded in the breach register (required)")
	fl.StringVar(&d.Consequences, "consequences", "", "likely consequences for the people affected")
	fl.StringVar(&d.Measures, "measures", "", "measures taken or proposed")
	fl.StringVar(&d.Advice, "advice", "", "what affected people can do to protect themselves")
	fl.BoolVar(&d.EncryptedUnintelligible, "encrypted", false, "the data is unintelligible to anyone unauthorised (e.g. strongly encrypted)")
	fl.BoolVar(&d.SignificantIncident, "significant", false, "a significant incident under NIS2 (severe disruption, financial loss, or considerable damage to others)")
	fl.Var(&timeFlag{&d.MaterialityDeterminedAt}, "materiality-at", "when the incident was determined material (SEC 8-K), RFC 3339")
	fl.StringVar(&d.By, "as", "", "the DPO's identity")
	return cmd
}

// timeFlag is an optional RFC 3339 instant.
type timeFlag struct{ t **time.Time }

func (f *timeFlag) String() string {
	if f.t == nil || *f.t == nil {
		return ""
	}
	return (*f.t).Format(time.RFC3339)
}

func (f *timeFlag) Set(s string) error {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return fmt.Errorf("%q is not an RFC 3339 time with offset (e.g. 2026-11-28T09:30:00+01:00)", s)
	}
	*f.t = &t
	return nil
}

func (f *timeFlag) Type() string { return "time" }

func newAmendCmd(g *globals) *cobra.Command {
	var r incident.AmendRequest
	var sf subjectsFlags
	var significant bool
	cmd := &cobra.Command{
		Use:   "amend ID [--subjects FILE.csv | --subjects-sql SOURCE] [--significant] [--materiality-at TIME] --as DPO",
		Short: "Change the facts after the decision; the obligations are re-evaluated, none running is lost",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if cmd.Flags().Changed("significant") {
				r.SignificantIncident = &significant
			}
			if !sf.given() && r.SignificantIncident == nil && r.MaterialityDeterminedAt == nil {
				return usagef("nothing to amend: give --subjects (or --dataset, --subjects-sql), --significant or --materiality-at")
			}
			if sf.given() {
				cfg, err := g.config()
				if err != nil {
					return err
				}
				ds, err := sf.resolve(cmd.Context(), cfg)
				if err != nil {
					return err
				}
				r.Subjects = &ds
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateAmend, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	sf.register(fl, "a corrected or larger subjects dataset")
	fl.BoolVar(&significant, "significant", false, "a significant incident under NIS2 (false to withdraw)")
	fl.Var(&timeFlag{&r.MaterialityDeterminedAt}, "materiality-at", "when the incident was determined material (SEC 8-K), RFC 3339")
	fl.StringVar(&r.Note, "note", "", "why the facts changed")
	fl.StringVar(&r.By, "as", "", "the DPO")
	return cmd
}

func newSupplementCmd(g *globals) *cobra.Command {
	var r incident.SupplementRequest
	cmd := &cobra.Command{
		Use:   "supplement ID --obligation ID --note TEXT --as DPO",
		Short: "Submit further information for a filed report (phased reporting, GDPR Art. 33(4))",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if r.Obligation == "" || strings.TrimSpace(r.Note) == "" {
				return usagef("--obligation and --note are both required")
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out incident.Supplement
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateSupplement, &r, &out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "supplement %d to %s submitted: %s\n", out.Sequence, r.Obligation, out.Report)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.Obligation, "obligation", "", "the filed obligation, e.g. gdpr-art33-authority")
	fl.StringVar(&r.Note, "note", "", "what the supplement adds")
	fl.StringVar(&r.Reference, "reference", "", "the authority's reference, for a portal submission")
	fl.StringVar(&r.By, "as", "", "the DPO")
	return cmd
}

func newApproveCmd(g *globals) *cobra.Command {
	var r incident.ApproveRequest
	cmd := &cobra.Command{
		Use:   "approve ID --step report:OBLIGATION|isolation:SYSTEM --as NAME",
		Short: "Approve a regulator report, or confirm a manual isolation",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if r.Step == "" {
				return usagef("--step is required: report:<obligation-id> or isolation:<system> (see breach status %s)", args[0])
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateApprove, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.Step, "step", "", "what to approve: report:<obligation-id> or isolation:<system>")
	fl.StringVar(&r.Reasons, "reasons", "", "reasons for the delay (required after the deadline)")
	fl.StringVar(&r.Note, "note", "", "a note for the record")
	fl.StringVar(&r.By, "as", "", "who approves")
	return cmd
}

func newFileCmd(g *globals) *cobra.Command {
	var r incident.FileRequest
	cmd := &cobra.Command{
		Use:   "file ID --obligation ID --reference REF --as DPO",
		Short: "Confirm a report filed on an authority's portal, with its reference number",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if r.Obligation == "" || r.Reference == "" {
				return usagef("--obligation and --reference are both required")
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateFile, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.Obligation, "obligation", "", "the obligation filed, e.g. gdpr-art33-authority")
	fl.StringVar(&r.Reference, "reference", "", "the authority's reference number")
	fl.StringVar(&r.Reasons, "reasons", "", "reasons for the delay (required after the deadline)")
	fl.StringVar(&r.By, "as", "", "who filed")
	return cmd
}

func newCloseCmd(g *globals) *cobra.Command {
	var r incident.CloseRequest
	cmd := &cobra.Command{
		Use:   "close ID --as COMMANDER",
		Short: "Close the incident and write the register entry, report and timeline",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateClose, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&r.Summary, "summary", "", "closing summary for the post-incident report")
	cmd.Flags().StringVar(&r.By, "as", "", "the incident commander")
	return cmd
}

func newSubjectsCmd(g *globals) *cobra.Command {
	var r incident.ReplaceSubjectsRequest
	var sf subjectsFlags
	var previewName string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "subjects (ID (--subjects FILE.csv | --dataset NAME | --subjects-sql SOURCE) --as NAME | --preview SOURCE)",
		Short: "Give the scope phase a corrected subjects dataset, or preview a SQL source",
		Long: "With an incident ID: give its scope phase a corrected dataset (a file, a dataset of the store, or a SQL source). " +
			"With --preview SOURCE: run the SQL source's query (read-only, with its statement timeout) into the scanner the scope phase uses " +
			"and print the counts by jurisdiction and data category and the first problems; nothing is started or kept.",
		Args: func(cmd *cobra.Command, args []string) error {
			if previewName != "" {
				if len(args) > 0 {
					return usagef("--preview takes no incident ID: it starts nothing")
				}
				return nil
			}
			return oneIncidentArg(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if previewName != "" {
				if sf.file != "" || sf.dataset != "" || sf.sql != "" {
					return usagef("--preview SOURCE previews a SQL source on its own: leave out --subjects, --dataset and --subjects-sql")
				}
				if err := sf.window.parse(); err != nil {
					return err
				}
				cfg, err := g.config()
				if err != nil {
					return err
				}
				lim, err := subjectLimits()
				if err != nil {
					return err
				}
				p, err := previewSource(cmd.Context(), cfg, previewName, &sf.window, lim)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), p)
				}
				return printPreview(cmd.OutOrStdout(), p)
			}
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if !sf.given() {
				return usagef("--subjects FILE.csv, --dataset NAME or --subjects-sql SOURCE is required")
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			if err := sf.check(cfg); err != nil {
				return err
			}
			if r.Subjects, err = sf.resolve(cmd.Context(), cfg); err != nil {
				return err
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateReplaceSubjects, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	sf.register(cmd.Flags(), "the corrected dataset")
	cmd.Flags().StringVar(&previewName, "preview", "", "preview a SQL source of the configuration: counts and first problems, nothing started")
	cmd.Flags().BoolVar(&asJSON, "json", false, "with --preview: print the preview as JSON")
	cmd.Flags().StringVar(&r.By, "as", "", "who provides it")
	return cmd
}
