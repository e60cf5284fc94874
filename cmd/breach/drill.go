package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/drill"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/scenario"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/workflows"
)

func newDrillCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drill",
		Short: "Tabletop drills: run the real plan on a scenario with every side effect made safe, and score the team",
		Long: `Tabletop drills run the real incident plan in drill mode: containment is dry-run, nothing is
submitted to an authority (filings are confirmed with DRILL references), reports, notices and chat
are marked [DRILL] in a drill-… room. The scenario's injects arrive on durable timers; at the end
each target is scored met or missed with the actual durations, in a report under
BREACH_HOME/drills/.

Scenarios are YAML files; see examples/scenarios/.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDrillRunCmd(g), newDrillScheduleCmd(g), newDrillSchedulesCmd(g), newDrillUnscheduleCmd(g),
		newDrillTriggerCmd(g), newDrillReportCmd(g), newDrillHistoryCmd(g))
	return cmd
}

// drillFlags are the flags run and schedule share.
type drillFlags struct {
	scenario    string
	timeScale   float64
	autoApprove bool
	json        bool
}

func (f *drillFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.scenario, "scenario", "", "scenario file (YAML), e.g. examples/scenarios/lost-laptop.yaml (required)")
	cmd.Flags().Float64Var(&f.timeScale, "time-scale", 1, "run drill time and the legal clocks N times faster (60: 72 hours in 72 minutes)")
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "let the auto-pilot play the scenario's DPO and incident commander, after their response delays")
	cmd.Flags().BoolVar(&f.json, "json", false, "print the result as JSON")
}

// input loads the scenario and builds the drill's input; nothing starts on bad input.
func (f *drillFlags) input(ctx context.Context, cfg *config.Config, warn io.Writer) (workflows.DrillInput, error) {
	if f.scenario == "" {
		return workflows.DrillInput{}, usagef("--scenario is required: a scenario file such as examples/scenarios/lost-laptop.yaml")
	}
	if f.timeScale < 1 || f.timeScale > workflows.MaxTimeScale || f.timeScale != f.timeScale {
		return workflows.DrillInput{}, usagef("--time-scale %g must be between 1 (real time) and %d", f.timeScale, workflows.MaxTimeScale)
	}
	sc, err := scenario.Load(f.scenario)
	if err != nil {
		return workflows.DrillInput{}, usagef("%v", err)
	}
	for _, as := range []*string{&sc.Roles.DPO.As, &sc.Roles.Commander.As} {
		if *as == "" {
			continue
		}
		if *as, err = cliActor(*as); err != nil {
			return workflows.DrillInput{}, usagef("scenario %s: roles: %v", sc.Name, err)
		}
	}
	in := workflows.DrillInput{Scenario: sc, TimeScale: f.timeScale, AutoApprove: f.autoApprove}
	if err := declarationDefaults(cfg, &in.Base); err != nil {
		return workflows.DrillInput{}, err
	}
	if fw, err := newFirewalls(cfg); err == nil {
		for _, s := range sc.Systems {
			if _, err := fw.Inventory().Resolve(s); err != nil {
				fmt.Fprintf(warn, "note: %s is not in the systems inventory; the drill's plan will ask the incident commander to isolate it by hand\n", s)
			}
		}
	}
	if err := workflows.ValidateDrillInput(in); err != nil {
		return workflows.DrillInput{}, usagef("%v", err)
	}
	// The dataset goes into the store: the worker reads no path, and a schedule outlives the
	// scenario's directory.
	if in.Scenario.Subjects, err = keepDataset(ctx, cfg, in.Scenario); err != nil {
		return workflows.DrillInput{}, err
	}
	return in, nil
}

type drillStarted struct {
	IncidentID string    `json:"incident_id"`
	WorkflowID string    `json:"workflow_id"`
	RunID      string    `json:"run_id"`
	Scenario   string    `json:"scenario"`
	TimeScale  float64   `json:"time_scale"`
	EndsBy     time.Time `json:"ends_by"`
}

func newDrillRunCmd(g *globals) *cobra.Command {
	f := &drillFlags{}
	var wait bool
	cmd := &cobra.Command{
		Use:   "run --scenario FILE [--time-scale N] [--auto-approve]",
		Short: "Start a drill now",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			in, err := f.input(cmd.Context(), cfg, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			now := time.Now()
			return withClient(cmd, g, func(c client.Client) error {
				ctx := cmd.Context()
				in.IncidentID = freeDrillIncidentID(ctx, c, now)
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID:                    workflows.DrillWorkflowID(in.IncidentID),
					TaskQueue:             workflows.TaskQueue,
					WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
				}, workflows.DrillWorkflow, in)
				if err != nil {
					return fmt.Errorf("start drill %s: %w", in.IncidentID, err)
				}
				span := time.Duration(float64(in.Scenario.Duration) / in.TimeScale)
				res := drillStarted{IncidentID: in.IncidentID, WorkflowID: run.GetID(), RunID: run.GetRunID(),
					Scenario: in.Scenario.Name, TimeScale: in.TimeScale, EndsBy: now.Add(span).UTC().Truncate(time.Second)}
				out := cmd.OutOrStdout()
				if !wait {
					if f.json {
						return printJSON(out, res)
					}
					fmt.Fprintf(out, "drill %s started: %s [DRILL]\n  scenario %s at %gx; it ends when the incident closes, at the latest after %s (drill time %s)\n  follow: breach status %s --watch\n  report: breach drill report %s\n",
						res.IncidentID, in.Scenario.Title, res.Scenario, res.TimeScale, scenario.FormatDuration(span), in.Scenario.Duration, res.IncidentID, res.IncidentID)
					return nil
				}
				if !f.json {
					fmt.Fprintf(out, "drill %s running (scenario %s at %gx, at most %s)…\n", res.IncidentID, res.Scenario, res.TimeScale, scenario.FormatDuration(span))
				}
				var rep drill.DrillReport
				if err := run.Get(ctx, &rep); err != nil {
					return fmt.Errorf("drill %s: %s", in.IncidentID, cleanError(err))
				}
				if f.json {
					return printJSON(out, rep)
				}
				printDrillSummary(out, rep)
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&wait, "wait", false, "wait for the drill to end and print its score")
	return cmd
}

// freeDrillIncidentID picks an incident ID no workflow holds yet.
func freeDrillIncidentID(ctx context.Context, c client.Client, now time.Time) string {
	var id string
	for range 8 {
		id = incident.NewID(now)
		if _, err := c.DescribeWorkflow(ctx, incident.IncidentWorkflowID(id), ""); err != nil {
			var nf *serviceerror.NotFound
			if errors.As(err, &nf) {
				return id
			}
		}
	}
	return id
}

func printDrillSummary(w io.Writer, r drill.DrillReport) {
	fmt.Fprintf(w, "drill %s (%s): %s at T+%s; score %d%% (%d met, %d missed, %d open)\n", r.IncidentID, r.Scenario, r.Outcome, r.Elapsed, r.Score, r.Met, r.Missed, r.Open)
	for _, t := range r.Targets {
		actual := "not done"
		if t.Done {
			actual = "T+" + t.Actual.String()
		}
		fmt.Fprintf(w, "  %-28s within %-6s %-12s %s", t.Step, t.Target, actual, t.Result)
		if t.Detail != "" {
			fmt.Fprintf(w, " (%s)", t.Detail)
		}
		fmt.Fprintln(w)
	}
	if r.Markdown != "" {
		fmt.Fprintf(w, "report: %s\n", r.Markdown)
	}
}

// Memo keys of a drill schedule.
const (
	memoScenario    = "breach-drill-scenario"
	memoTimeScale   = "breach-drill-time-scale"
	memoAutoApprove = "breach-drill-auto-approve"
	memoCron        = "breach-drill-cron"
)

func newDrillScheduleCmd(g *globals) *cobra.Command {
	f := &drillFlags{}
	var cron, id string
	cmd := &cobra.Command{
		Use:   "schedule --scenario FILE --cron EXPR [--time-scale N] [--auto-approve] [--id ID]",
		Short: "Schedule a drill on a Temporal Schedule (the scenario is stored in the schedule; overlapping runs are skipped)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			in, err := f.input(cmd.Context(), cfg, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if cron == "" {
				cron = in.Scenario.Schedule
			}
			if cron == "" {
				return usagef("--cron is required (the scenario has no schedule: field): five fields like \"0 9 * * 1\" for Mondays at 09:00")
			}
			if err := scenario.ValidateCron(cron); err != nil {
				return usagef("--cron: %v", err)
			}
			if id == "" {
				id = "drill-" + in.Scenario.Name
			}
			if !scheduleIDRE(id) {
				return usagef("--id %q: use letters, digits, dots and dashes", id)
			}
			in.ScheduleID = id
			return withStack(cmd, g, func(st *stack) error {
				ctx, c := cmd.Context(), st.client
				h, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
					ID:      id,
					Spec:    client.ScheduleSpec{CronExpressions: []string{cron}},
					Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
					Action: &client.ScheduleWorkflowAction{
						ID:        workflows.DrillScheduleWorkflowID(id),
						Workflow:  workflows.DrillWorkflow,
						Args:      []any{in},
						TaskQueue: workflows.TaskQueue,
					},
					Memo: map[string]any{memoScenario: in.Scenario.Name, memoTimeScale: in.TimeScale,
						memoAutoApprove: in.AutoApprove, memoCron: cron},
				})
				var exists *serviceerror.WorkflowExecutionAlreadyStarted
				if errors.As(err, &exists) || isAlreadyExists(err) {
					return usagef("drill schedule %s already exists: remove it with `breach drill unschedule %s`, or pass another --id", id, id)
				}
				var invalid *serviceerror.InvalidArgument
				if errors.As(err, &invalid) {
					return usagef("drill schedule %s: %s", id, invalid.Message)
				}
				if err != nil {
					return fmt.Errorf("create drill schedule %s: %w", id, err)
				}
				row, _ := describeSchedule(ctx, c, st.dc, h.GetID())
				if f.json {
					return printJSON(cmd.OutOrStdout(), row)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "drill schedule %s created: scenario %s, cron %q, %gx%s\n  next run: %s\n  run it now: breach drill trigger %s\n",
					id, in.Scenario.Name, cron, in.TimeScale, autoText(in.AutoApprove), timeOrNone(row.NextRun), id)
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&cron, "cron", "", "when to run: a cron expression, e.g. \"0 9 * * 1\" (Mondays 09:00 UTC); default: the scenario's schedule")
	cmd.Flags().StringVar(&id, "id", "", "schedule ID (default drill-<scenario name>)")
	return cmd
}

func scheduleIDRE(id string) bool {
	if id == "" || len(id) > 200 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_') {
			return false
		}
	}
	return true
}

func isAlreadyExists(err error) bool {
	var ae *serviceerror.AlreadyExists
	return errors.As(err, &ae) || (err != nil && strings.Contains(err.Error(), "already"))
}

func autoText(auto bool) string {
	if auto {
		return ", auto-approve"
	}
	return ""
}

func timeOrNone(t time.Time) string {
	if t.IsZero() {
		return "none"
	}
	return t.UTC().Format(time.RFC3339)
}

// keepDataset adds the scenario's dataset to the dataset store, named by its content, and
// returns its reference: a scheduled drill reads it long after the scenario file is gone.
func keepDataset(ctx context.Context, cfg *config.Config, sc scenario.Scenario) (string, error) {
	store, err := openDatasets(cfg)
	if err != nil {
		return "", err
	}
	defer store.Close()
	info, err := store.AddFile(ctx, sc.Subjects)
	if err != nil {
		return "", usagef("scenario %s: subjects: %v", sc.Name, err)
	}
	return info.Ref, nil
}

// scheduleRow is one drill schedule as `breach drill schedules` shows it.
type scheduleRow struct {
	ID          string    `json:"id"`
	Scenario    string    `json:"scenario"`
	Cron        string    `json:"cron"`
	TimeScale   float64   `json:"time_scale"`
	AutoApprove bool      `json:"auto_approve"`
	Paused      bool      `json:"paused"`
	NextRun     time.Time `json:"next_run,omitzero"`
	LastRun     time.Time `json:"last_run,omitzero"`
	// LastWorkflowID is the drill workflow the last run started.
	LastWorkflowID string `json:"last_workflow_id,omitempty"`
	Running        int    `json:"running"`
}

func describeSchedule(ctx context.Context, c client.Client, dc converter.DataConverter, id string) (scheduleRow, error) {
	row := scheduleRow{ID: id}
	d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
	if err != nil {
		return row, err
	}
	fillMemo(&row, d.Memo, dc)
	if d.Schedule.State != nil {
		row.Paused = d.Schedule.State.Paused
	}
	if row.Cron == "" && d.Schedule.Spec != nil && len(d.Schedule.Spec.CronExpressions) > 0 {
		row.Cron = d.Schedule.Spec.CronExpressions[0]
	}
	if len(d.Info.NextActionTimes) > 0 {
		row.NextRun = d.Info.NextActionTimes[0].UTC()
	}
	if n := len(d.Info.RecentActions); n > 0 {
		last := d.Info.RecentActions[n-1]
		row.LastRun = last.ActualTime.UTC()
		if last.StartWorkflowResult != nil {
			row.LastWorkflowID = last.StartWorkflowResult.WorkflowID
		}
	}
	row.Running = len(d.Info.RunningWorkflows)
	return row, nil
}

// fillMemo reads the schedule's memo through dc, the client's data converter: memos are
// encrypted like every other payload.
func fillMemo(row *scheduleRow, memo *commonpb.Memo, dc converter.DataConverter) {
	if memo == nil {
		return
	}
	for k, p := range memo.GetFields() {
		switch k {
		case memoScenario:
			_ = dc.FromPayload(p, &row.Scenario)
		case memoTimeScale:
			_ = dc.FromPayload(p, &row.TimeScale)
		case memoAutoApprove:
			_ = dc.FromPayload(p, &row.AutoApprove)
		case memoCron:
			_ = dc.FromPayload(p, &row.Cron)
		}
	}
}

func newDrillSchedulesCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schedules",
		Short: "List drill schedules with their next run",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withStack(cmd, g, func(st *stack) error {
				ctx, c := cmd.Context(), st.client
				it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
				if err != nil {
					return fmt.Errorf("list schedules: %w", err)
				}
				rows := []scheduleRow{}
				for it.HasNext() {
					e, err := it.Next()
					if err != nil {
						return fmt.Errorf("list schedules: %w", err)
					}
					if e.WorkflowType.Name != "DrillWorkflow" {
						continue
					}
					row, err := describeSchedule(ctx, c, st.dc, e.ID)
					if err != nil {
						continue // deleted meanwhile
					}
					rows = append(rows, row)
				}
				if asJSON {
					return printJSON(cmd.OutOrStdout(), rows)
				}
				w := cmd.OutOrStdout()
				if len(rows) == 0 {
					fmt.Fprintln(w, "no drill schedules; create one with: breach drill schedule --scenario FILE --cron EXPR")
					return nil
				}
				fmt.Fprintf(w, "%-32s %-26s %-18s %-7s %-21s %s\n", "ID", "SCENARIO", "CRON", "SCALE", "NEXT RUN (UTC)", "LAST RUN")
				for _, r := range rows {
					next := timeOrNone(r.NextRun)
					if r.Paused {
						next = "paused"
					}
					last := "never"
					if !r.LastRun.IsZero() {
						last = r.LastRun.Format(time.RFC3339) + " " + r.LastWorkflowID
					}
					fmt.Fprintf(w, "%-32s %-26s %-18s %-7s %-21s %s\n", r.ID, r.Scenario, r.Cron, fmt.Sprintf("%gx", r.TimeScale), next, last)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

func oneScheduleArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one schedule ID (breach drill schedules lists them)", cmd.Name())
	}
	return nil
}

// scheduleNotFound turns a missing schedule into a usage error naming what exists.
func scheduleNotFound(id string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return usagef("no drill schedule %q; `breach drill schedules` lists them", id)
	}
	return err
}

func newDrillUnscheduleCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "unschedule ID",
		Short: "Delete a drill schedule (drills already running go on)",
		Args:  oneScheduleArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(c client.Client) error {
				if err := c.ScheduleClient().GetHandle(cmd.Context(), args[0]).Delete(cmd.Context()); err != nil {
					return scheduleNotFound(args[0], fmt.Errorf("delete drill schedule %s: %w", args[0], err))
				}
				fmt.Fprintf(cmd.OutOrStdout(), "drill schedule %s deleted\n", args[0])
				return nil
			})
		},
	}
}

type drillTriggered struct {
	ScheduleID string `json:"schedule_id"`
	WorkflowID string `json:"workflow_id,omitempty"`
	RunID      string `json:"run_id,omitempty"`
	IncidentID string `json:"incident_id,omitempty"`
	Skipped    bool   `json:"skipped,omitempty"`
}

func newDrillTriggerCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "trigger ID",
		Short: "Run a scheduled drill now (skipped if one of its runs is still going)",
		Args:  oneScheduleArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return withClient(cmd, g, func(c client.Client) error {
				ctx := cmd.Context()
				h := c.ScheduleClient().GetHandle(ctx, id)
				before, err := h.Describe(ctx)
				if err != nil {
					return scheduleNotFound(id, fmt.Errorf("drill schedule %s: %w", id, err))
				}
				if err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP}); err != nil {
					return fmt.Errorf("trigger drill schedule %s: %w", id, err)
				}
				res := waitTriggered(ctx, c, id, before.Info.NumActions, before.Info.NumActionsSkippedOverlap)
				if asJSON {
					return printJSON(cmd.OutOrStdout(), res)
				}
				w := cmd.OutOrStdout()
				switch {
				case res.Skipped:
					fmt.Fprintf(w, "drill schedule %s: a run is still going, so this one was skipped (overlap policy skip)\n", id)
				case res.IncidentID != "":
					fmt.Fprintf(w, "drill %s started by schedule %s (workflow %s)\n  follow: breach status %s --watch\n  report: breach drill report %s\n",
						res.IncidentID, id, res.WorkflowID, res.IncidentID, res.IncidentID)
				case res.WorkflowID != "":
					fmt.Fprintf(w, "drill started by schedule %s (workflow %s); is a worker running?\n", id, res.WorkflowID)
				default:
					fmt.Fprintf(w, "drill schedule %s triggered; `breach drill schedules` shows the run\n", id)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// waitTriggered waits briefly for the schedule to record the triggered action, and asks the
// drill it started for its incident ID.
func waitTriggered(ctx context.Context, c client.Client, id string, actions, skipped int) drillTriggered {
	res := drillTriggered{ScheduleID: id}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := c.ScheduleClient().GetHandle(ctx, id).Describe(ctx)
		if err == nil {
			if d.Info.NumActionsSkippedOverlap > skipped {
				res.Skipped = true
				return res
			}
			if n := len(d.Info.RecentActions); d.Info.NumActions > actions && n > 0 && d.Info.RecentActions[n-1].StartWorkflowResult != nil {
				started := d.Info.RecentActions[n-1].StartWorkflowResult
				res.WorkflowID, res.RunID = started.WorkflowID, started.FirstExecutionRunID
				break
			}
		}
		select {
		case <-ctx.Done():
			return res
		case <-tick.C:
		}
	}
	for {
		if v, err := c.QueryWorkflow(ctx, res.WorkflowID, res.RunID, workflows.QueryDrill); err == nil {
			var p workflows.DrillProgress
			if v.Get(&p) == nil {
				res.IncidentID = p.IncidentID
				return res
			}
		}
		select {
		case <-ctx.Done():
			return res
		case <-tick.C:
		}
	}
}

func oneDrillArg(cmd *cobra.Command, args []string) error {
	if len(args) != 1 {
		return usagef("%s needs exactly one drill's incident ID (breach drill history lists them)", cmd.Name())
	}
	return oneIncidentArg(cmd, args)
}

func newDrillReportCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "report ID [--json]",
		Short: "Show a drill's scored report",
		Args:  oneDrillArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			st, err := openStore(cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			rep, err := activities.LoadDrillReport(cmd.Context(), st, args[0])
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("no report for drill %s in %s yet: a running drill writes it when it ends (breach status %s), or the ID is not a drill's (breach drill history)",
					args[0], st.Where(records.DrillsPrefix), args[0])
			}
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rep)
			}
			// The report is read beside the result, under its key: never from the path the result
			// names, which whoever can write there could point anywhere.
			text, err := activities.LoadDrillMarkdown(cmd.Context(), st, args[0])
			if err != nil {
				printDrillSummary(cmd.OutOrStdout(), rep)
				return nil
			}
			_, err = cmd.OutOrStdout().Write(text)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the scored result as JSON")
	return cmd
}

// historyRow is one drill in `breach drill history`.
type historyRow struct {
	StartedAt  time.Time `json:"started_at"`
	IncidentID string    `json:"incident_id"`
	Scenario   string    `json:"scenario"`
	ScheduleID string    `json:"schedule_id,omitempty"`
	TimeScale  float64   `json:"time_scale"`
	Outcome    string    `json:"outcome"`
	Score      int       `json:"score"`
	Met        int       `json:"met"`
	Missed     int       `json:"missed"`
	Open       int       `json:"open"`
	// Change is the score's change since the previous drill of the same scenario.
	Change *int `json:"change,omitempty"`
	// Missed steps, so a team sees where it is slow.
	MissedSteps []string `json:"missed_steps,omitempty"`
	Report      string   `json:"report"`
}

func drillHistory(reports []drill.DrillReport) []historyRow {
	rows := make([]historyRow, 0, len(reports))
	for i, r := range reports {
		row := historyRow{StartedAt: r.StartedAt, IncidentID: r.IncidentID, Scenario: r.Scenario, ScheduleID: r.ScheduleID,
			TimeScale: r.TimeScale, Outcome: r.Outcome, Score: r.Score, Met: r.Met, Missed: r.Missed, Open: r.Open, Report: r.Markdown}
		for _, t := range r.Targets {
			if t.Result == drill.TargetMissed {
				row.MissedSteps = append(row.MissedSteps, t.Step)
			}
		}
		// reports are newest first: the previous drill of the scenario comes later.
		for _, prev := range reports[i+1:] {
			if prev.Scenario == r.Scenario {
				ch := r.Score - prev.Score
				row.Change = &ch
				break
			}
		}
		rows = append(rows, row)
	}
	return rows
}

func newDrillHistoryCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [--json]",
		Short: "Scores across drills, newest first, with the change since each scenario's previous drill",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := g.config()
			if err != nil {
				return err
			}
			st, err := openStore(cfg)
			if err != nil {
				return err
			}
			defer st.Close()
			reports, err := activities.DrillHistory(cmd.Context(), st)
			if err != nil {
				return fmt.Errorf("read drill history in %s: %w", st.Where(records.DrillsPrefix), err)
			}
			rows := drillHistory(reports)
			if asJSON {
				return printJSON(cmd.OutOrStdout(), rows)
			}
			w := cmd.OutOrStdout()
			if len(rows) == 0 {
				fmt.Fprintf(w, "no drills yet in %s; run one with: breach drill run --scenario FILE\n", st.Where(records.DrillsPrefix))
				return nil
			}
			fmt.Fprintf(w, "%-20s %-20s %-26s %-7s %-8s %-6s %-6s %s\n", "STARTED (UTC)", "DRILL", "SCENARIO", "SCALE", "OUTCOME", "SCORE", "TREND", "MISSED")
			for _, r := range rows {
				trend := "new"
				if r.Change != nil {
					trend = fmt.Sprintf("%+d", *r.Change)
				}
				fmt.Fprintf(w, "%-20s %-20s %-26s %-7s %-8s %-6s %-6s %s\n", r.StartedAt.UTC().Format("2006-01-02 15:04"), r.IncidentID, r.Scenario,
					fmt.Sprintf("%gx", r.TimeScale), r.Outcome, fmt.Sprintf("%d%%", r.Score), trend, strings.Join(r.MissedSteps, ", "))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
