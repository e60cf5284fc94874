package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
)

func newResolveCmd(g *globals) *cobra.Command {
	var r incident.ResolveRequest
	cmd := &cobra.Command{
		Use: "resolve ID (--obligation ID --filed-by-hand --reference REF | --alerts --by-other-means --note TEXT) --as NAME",
		Short: "Record what was finished by hand where breach could not: a report filed by hand for a failed clock, " +
			"or customers told by other means",
		Args: oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			switch {
			case r.Obligation == "" && !r.Alerts:
				return usagef("say what was resolved: --obligation ID --filed-by-hand --reference REF, or --alerts --by-other-means --note TEXT")
			case r.Obligation != "" && r.Alerts:
				return usagef("resolve one thing at a time: --obligation or --alerts")
			case r.Obligation != "" && (!r.FiledByHand || r.Reference == ""):
				return usagef("--obligation needs --filed-by-hand and the authority's --reference")
			case r.Alerts && (!r.ByOtherMeans || r.Note == ""):
				return usagef("--alerts needs --by-other-means and a --note saying how the people were told")
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateResolve, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&r.Obligation, "obligation", "", "the obligation whose clock failed")
	fl.BoolVar(&r.FiledByHand, "filed-by-hand", false, "its report was filed by hand")
	fl.StringVar(&r.Reference, "reference", "", "the authority's reference number of that filing")
	fl.StringVar(&r.Reasons, "reasons", "", "reasons for the delay (required after the deadline)")
	fl.BoolVar(&r.Alerts, "alerts", false, "the customer alerts, which failed")
	fl.BoolVar(&r.ByOtherMeans, "by-other-means", false, "the people were told another way")
	fl.StringVar(&r.Note, "note", "", "how the people were told, for the register")
	fl.StringVar(&r.By, "as", "", "who records it (DPO; the commander for the alerts)")
	return cmd
}

func newRetryCmd(g *globals) *cobra.Command {
	var r incident.RetryRequest
	cmd := &cobra.Command{
		Use:   "retry ID --alerts --as NAME",
		Short: "Retry the customer alerts that stopped; they resume where the notification ledger stands",
		Args:  oneIncidentArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireAs(&r.By); err != nil {
				return err
			}
			if !r.Alerts {
				return usagef("say what to retry: --alerts")
			}
			return withClient(cmd, g, func(c client.Client) error {
				var out string
				if err := update(cmd.Context(), c, g, args[0], incident.UpdateRetry, &r, &out); err != nil {
					return err
				}
				fmt.Fprintln(cmd.OutOrStdout(), out)
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&r.Alerts, "alerts", false, "the customer alerts")
	cmd.Flags().StringVar(&r.By, "as", "", "who retries (the commander or the DPO)")
	return cmd
}
