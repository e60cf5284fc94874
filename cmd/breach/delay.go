package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
)

func newDelayCmd(g *globals) *cobra.Command {
	var r incident.DelayRequest
	var until, requestedAt *time.Time
	cmd := &cobra.Command{
		Use: "delay ID (--law-enforcement --agency NAME --by OFFICIAL [--reference REF] [--until TIME] [--requested-at TIME] [--oral] [--obligation ID]... | --lift) --as DPO",
		Short: "Record a law-enforcement request to delay notifications, or lift it: the clocks whose law allows it pause " +
			"(the GDPR's do not) and restart when it is lifted or ends, their deadlines moved by the time paused",
		Args: oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			switch {
			case r.Lift && r.LawEnforcement:
				return usagef("--lift ends the delay in force; record a request with --law-enforcement, not both")
			case r.Lift && (r.Agency != "" || r.Official != "" || r.Reference != "" || until != nil || requestedAt != nil || r.Oral || len(r.Obligations) > 0):
				return usagef("--lift takes only --note and --as: to change the delay, record a new request (it replaces the one in force)")
			case !r.Lift && !r.LawEnforcement:
				return usagef("say what the delay is: --law-enforcement (a request from a law-enforcement agency), or --lift to end the delay in force")
			case !r.Lift && (strings.TrimSpace(r.Agency) == "" || strings.TrimSpace(r.Official) == ""):
				return usagef("--agency and --by (the official who asked) are required: the law asks for who requested the delay")
			}
			if until != nil {
				r.Until = until.UTC()
			}
			if requestedAt != nil {
				r.RequestedAt = requestedAt.UTC()
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateDelay, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVar(&r.LawEnforcement, "law-enforcement", false, "a law-enforcement agency asked to delay notifying (it would impede an investigation or harm national security)")
	fl.StringVar(&r.Agency, "agency", "", "the agency that asked")
	fl.StringVar(&r.Official, "by", "", "the official who asked (HIPAA asks for their identity)")
	fl.StringVar(&r.Reference, "reference", "", "the agency's reference for the request")
	fl.Var(&timeFlag{&until}, "until", "the end of the period the agency asked for, RFC 3339 (default: until lifted)")
	fl.Var(&timeFlag{&requestedAt}, "requested-at", "when the agency asked, RFC 3339 (default: now)")
	fl.BoolVar(&r.Oral, "oral", false, "the request was made orally (HIPAA and the FTC rule: then it delays 30 days at most)")
	fl.StringSliceVar(&r.Obligations, "obligation", nil, "only these obligations (default: every one whose law allows the delay)")
	fl.BoolVar(&r.Lift, "lift", false, "lift the delay in force: the paused clocks restart")
	fl.StringVar(&r.Note, "note", "", "a note for the register")
	fl.StringVar(&r.By, "as", "", "the DPO recording it")
	return cmd
}
