package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
)

func newReleaseCmd(g *globals) *cobra.Command {
	var r incident.ReleaseRequest
	cmd := &cobra.Command{
		Use:   "release ID --system NAME --as COMMANDER",
		Short: "Lift the isolation of a contained system (the incident commander decides)",
		Long: `Lift the isolation of a contained system through the firewall that applied it, and
record the evidence on the incident's timeline.

A system isolated by hand cannot be lifted by breach: lift it by hand, then record that with
--manual.`,
		Args: oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if strings.TrimSpace(r.System) == "" {
				return usagef("--system is required: the system to release (see breach status %s)", args[0])
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateRelease, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.System, "system", "", "the system to release, as named in the incident")
	fl.StringVar(&r.Reason, "reason", "", "why it is safe now, for the record")
	fl.BoolVar(&r.Manual, "manual", false, "record that a system isolated by hand was released by hand")
	fl.StringVar(&r.By, "as", "", "the incident commander")
	return cmd
}
