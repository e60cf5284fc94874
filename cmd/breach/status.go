package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

func newStatusCmd(g *globals) *cobra.Command {
	var asJSON, watch bool
	cmd := &cobra.Command{
		Use:   "status [ID]",
		Short: "Show an incident: phase, containment, deadlines, alerts, what is pending (no ID: open incidents)",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			return oneIncidentArg(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(c client.Client) error {
				if len(args) == 0 {
					return listOpen(cmd.Context(), c, cmd.OutOrStdout(), asJSON)
				}
				if !watch {
					st, err := queryStatus(cmd.Context(), c, args[0])
					if err != nil {
						return err
					}
					if asJSON {
						return printJSON(cmd.OutOrStdout(), st)
					}
					renderStatus(cmd.OutOrStdout(), st, time.Now())
					return nil
				}
				return watchStatus(cmd.Context(), c, cmd.OutOrStdout(), args[0])
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.Flags().BoolVar(&watch, "watch", false, "redraw a live view until the incident closes")
	return cmd
}

func queryStatus(ctx context.Context, c client.Client, id string) (incident.Status, error) {
	var st incident.Status
	v, err := c.QueryWorkflow(ctx, incident.IncidentWorkflowID(id), "", incident.QueryStatus)
	if err != nil {
		return st, fmt.Errorf("status of %s: %s", id, cleanError(err))
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("status of %s: %w", id, err)
	}
	return st, nil
}

func listOpen(ctx context.Context, c client.Client, w io.Writer, asJSON bool) error {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowType = 'IncidentWorkflow' AND ExecutionStatus = 'Running'",
	})
	if err != nil {
		return fmt.Errorf("list incidents: %w", err)
	}
	type row struct {
		IncidentID string    `json:"incident_id"`
		Status     string    `json:"status"`
		Started    time.Time `json:"started"`
	}
	var rows []row
	for _, e := range resp.GetExecutions() {
		if e.GetType().GetName() != "IncidentWorkflow" {
			continue
		}
		id := strings.TrimPrefix(e.GetExecution().GetWorkflowId(), "incident/")
		rows = append(rows, row{IncidentID: id, Status: strings.ToLower(e.GetStatus().String()), Started: e.GetStartTime().AsTime()})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Started.After(rows[j].Started) })
	if asJSON {
		return printJSON(w, rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no incidents")
	}
	for _, r := range rows {
		fmt.Fprintf(w, "%-20s %-10s declared %s\n", r.IncidentID, strings.TrimPrefix(r.Status, "workflow_execution_status_"), r.Started.UTC().Format(time.RFC3339))
	}
	return nil
}

func watchStatus(ctx context.Context, c client.Client, w io.Writer, id string) error {
	var prev incident.Status
	var prevAt time.Time
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		st, err := queryStatus(ctx, c, id)
		if err != nil {
			return err
		}
		now := time.Now()
		fmt.Fprint(w, "\x1b[H\x1b[2J")
		renderStatus(w, st, now)
		if !prevAt.IsZero() && st.Alerts.State == incident.AlertsSending {
			rate := float64(st.Alerts.Sent-prev.Alerts.Sent) / now.Sub(prevAt).Seconds()
			fmt.Fprintf(w, "\nrate %.0f notices/s", rate)
			if rate > 0 {
				eta := time.Duration(float64(st.Alerts.Total-st.Alerts.Sent)/rate) * time.Second
				fmt.Fprintf(w, ", ETA %s", eta.Round(time.Second))
			}
			fmt.Fprintln(w)
		}
		if st.Phase == incident.PhaseClosed {
			return nil
		}
		prev, prevAt = st, now
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func progressBar(done, total, width int) string {
	if total <= 0 {
		return "[" + strings.Repeat("-", width) + "]"
	}
	n := done * width / total
	if n > width {
		n = width
	}
	return "[" + strings.Repeat("#", n) + strings.Repeat("-", width-n) + "]"
}

func left(due, now time.Time) string {
	d := due.Sub(now)
	if d < 0 {
		return rules.TimeLeft(d)
	}
	return rules.TimeLeft(d) + " left"
}

// renderStatus prints an incident's status for a person: containment, scope, decision,
// obligations, delays, alerts, what it waits for, the latest events and its records.
func renderStatus(w io.Writer, st incident.Status, now time.Time) {
	drill := ""
	if st.Drill {
		drill = " [DRILL]"
	}
	fmt.Fprintf(w, "%s%s  %s\nphase: %s   declared by %s via %s   aware since %s\n",
		st.IncidentID, drill, st.Title, st.Phase, st.DeclaredBy, st.Source, st.AwareAt.UTC().Format(time.RFC3339))

	renderContainment(w, st.Containment)
	if st.Scope != nil {
		s := st.Scope
		fmt.Fprintf(w, "\nscope: %d subjects, %d records; %d mailable, %d invalid addresses, %d duplicates, %d unusable rows\n",
			s.Subjects, s.Records, s.Mailable, s.Invalid, s.Duplicates, s.Unusable)
	}
	if st.ScopeError != "" {
		fmt.Fprintf(w, "\nscope FAILED: %s\n", st.ScopeError)
	}
	if d := st.Decision; d != nil {
		fmt.Fprintf(w, "\ndecision: risk %s by %s; notify authority %t, subjects %t\n", d.Risk, d.By, d.NotifyAuthority, d.NotifySubjects)
	}
	if len(st.Obligations) > 0 {
		renderObligations(w, st.Obligations, now)
	}
	if len(st.Delays) > 0 {
		fmt.Fprintln(w, "\nlaw-enforcement delays:")
		for _, d := range st.Delays {
			fmt.Fprintf(w, "  %s; %s\n", d.Describe(), delayState(d, now))
		}
	}
	if a := st.Alerts; a.State != "" {
		fmt.Fprintf(w, "\ncustomer alerts: %s %s %d/%d sent", a.State, progressBar(a.Sent, a.Total, 30), a.Sent, a.Total)
		if a.Invalid+a.Duplicates+a.Failed > 0 {
			fmt.Fprintf(w, "; %d invalid, %d duplicates, %d failed", a.Invalid, a.Duplicates, a.Failed)
		}
		fmt.Fprintln(w)
	}
	if len(st.Pending) > 0 {
		fmt.Fprintln(w, "\nwaiting for:")
		for _, p := range st.Pending {
			due := ""
			if !p.DueAt.IsZero() {
				due = "  (" + left(p.DueAt, now) + ")"
			}
			fmt.Fprintf(w, "  %-32s %-10s %s%s\n", p.Step, p.Role, p.Description, due)
		}
	}
	if n := len(st.Timeline); n > 0 {
		fmt.Fprintln(w, "\nlatest:")
		from := max(0, n-5)
		for _, e := range st.Timeline[from:] {
			fmt.Fprintf(w, "  %s %s\n", e.At.UTC().Format("15:04:05"), truncate(e.Text, 140))
		}
	}
	if st.Records != nil {
		fmt.Fprintf(w, "\nregister entry: %s\npost-incident report: %s\ntimeline: %s\n", st.Records.Register, st.Records.Report, st.Records.Timeline)
	}
}

// renderContainment prints the containment of each system: its state, provider and detail.
func renderContainment(w io.Writer, systems []incident.SystemStatus) {
	fmt.Fprintln(w, "\ncontainment:")
	for _, s := range systems {
		fmt.Fprintf(w, "  %-20s %s", s.System, s.State)
		if s.Provider != "" {
			fmt.Fprintf(w, " via %s", s.Provider)
		}
		if s.Detail != "" {
			fmt.Fprintf(w, ": %s", s.Detail)
		}
		fmt.Fprintln(w)
	}
}

// renderObligations prints the obligations nearest deadline first, with the time left, the
// pause or the filing, and under each its statutory outer limit and how far delays moved it.
func renderObligations(w io.Writer, obligations []incident.ObligationStatus, now time.Time) {
	obs := append([]incident.ObligationStatus{}, obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	fmt.Fprintln(w, "\nobligations (nearest deadline first):")
	for _, o := range obs {
		tl := left(o.DueAt, now)
		if o.Paused != nil {
			tl = "PAUSED " + pausedText(*o.Paused)
		}
		if o.State == incident.OblFiled {
			tl = "done " + o.SubmittedAt.UTC().Format(time.RFC3339)
			if o.Late {
				tl += " (late)"
			}
		}
		fmt.Fprintf(w, "  %-24s %-18s due %s  %s\n", o.ID, o.State, o.DueAt.UTC().Format(time.RFC3339), tl)
		if !o.StatutoryLimit.IsZero() {
			fmt.Fprintf(w, "  %-24s %-18s statutory outer limit %s (%s)\n", "", "", o.StatutoryLimit.UTC().Format(time.RFC3339), o.StatutoryRule)
		}
		if moved := pausedFor(o.Pauses); moved > 0 {
			fmt.Fprintf(w, "  %-24s %-18s deadline moved %s by law-enforcement delays, from %s\n", "", "", rules.TimeLeft(moved), o.RulesDueAt.UTC().Format(time.RFC3339))
		}
	}
}

// pausedText says for how long a clock stands still.
func pausedText(p incident.ClockPause) string {
	s := fmt.Sprintf("by law-enforcement delay #%d since %s", p.Delay, p.From.UTC().Format(time.RFC3339))
	if p.Until.IsZero() {
		return s + ", until lifted"
	}
	return s + ", until " + p.Until.UTC().Format(time.RFC3339)
}

// pausedFor is how long a clock stood still in all.
func pausedFor(ps []incident.ClockPause) time.Duration {
	var d time.Duration
	for _, p := range ps {
		d += p.Length()
	}
	return d
}

func delayState(d incident.LawEnforcementDelay, now time.Time) string {
	var s string
	switch {
	case !d.LiftedAt.IsZero():
		s = "lifted by " + d.LiftedBy + " " + d.LiftedAt.UTC().Format(time.RFC3339)
	case d.ReplacedBy > 0:
		s = fmt.Sprintf("replaced by #%d", d.ReplacedBy)
	case d.InForce(now):
		s = "IN FORCE"
	default:
		s = "ended"
	}
	if len(d.Paused) > 0 {
		s += "; paused " + strings.Join(d.Paused, ", ")
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}
