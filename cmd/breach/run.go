package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/console"
	"github.com/breachops/breach/internal/declare"
	"github.com/breachops/breach/internal/keys"
	"github.com/breachops/breach/worker"
	"github.com/breachops/breach/workflows"
)

func newWorkerCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "Run a worker (starts the embedded dev server when no Temporal server answers locally)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd, g, false, "")
		},
	}
}

func newDevCmd(g *globals) *cobra.Command {
	var board string
	cmd := &cobra.Command{
		Use:   "dev [--board 127.0.0.1:PORT]",
		Short: "Run the local stack: the Temporal dev server with its UI, a worker and the deadline board (read-only); no incident",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runWorker(cmd, g, true, board)
		},
	}
	cmd.Flags().StringVar(&board, "board", DevBoardAddr, "loopback HOST:PORT of the deadline board, read-only without sign-in; \"\" for none")
	return cmd
}

func runWorker(cmd *cobra.Command, g *globals, banner bool, boardAddr string) error {
	cfg, err := g.config()
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if boardAddr != "" && !loopbackAddr(boardAddr) {
		return usagef("--board %s: breach dev serves the board without sign-in, so only on a loopback address (127.0.0.1:PORT)", boardAddr)
	}
	st, stop, err := startLocal(cmd.Context(), cfg, out, out)
	if err != nil {
		return err
	}
	defer stop()
	if banner {
		fmt.Fprintf(out, "Local stack running. Temporal UI: %s\n", st.uiURL)
		if st.codec != nil {
			fmt.Fprintf(out, "  (it shows incident data decrypted through http://%s, for this machine's browser)\n", st.codec.Addr)
		}
		if boardAddr != "" {
			// Like the UI's codec endpoint: a port taken leaves the stack running without it.
			if u, err := serveDevBoard(cmd.Context(), cfg, st, boardAddr); err != nil {
				fmt.Fprintf(out, "note: no deadline board: %v\n", err)
			} else {
				fmt.Fprintf(out, "Deadline board (read-only, this machine only): %s\n", u)
			}
		}
		fmt.Fprintf(out, "Records in %s\nIncident data encrypted in Temporal with key %s (keys: %s)\nDeclare an incident in another terminal:\n  breach declare --title \"…\" --system NAME --subjects FILE.csv\nCtrl-C stops.\n", storeWhere(cfg), st.keys.Current(), st.keys)
	} else {
		fmt.Fprintf(out, "worker polling task queue %q; records in %s; payloads encrypted with key %s (keys: %s)\n", workflows.TaskQueue, storeWhere(cfg), st.keys.Current(), st.keys)
	}
	<-cmd.Context().Done()
	return nil
}

// startLocal connects to Temporal (starting the embedded server when none answers locally) and
// starts the workers in this process; chat goes to chatOut when it is not nil. stop undoes both.
func startLocal(ctx context.Context, cfg *config.Config, log, chatOut io.Writer) (*stack, func(), error) {
	// Settings that cannot work are refused before a server starts.
	if _, err := subjectLimits(); err != nil {
		return nil, nil, err
	}
	if os.Getenv("SLACK_BOT_TOKEN") != "" {
		if err := checkAPIURL("SLACK_API_URL", os.Getenv("SLACK_API_URL")); err != nil {
			return nil, nil, err
		}
	}
	if _, err := pseudonymKey(cfg); err != nil {
		return nil, nil, err
	}
	st, err := ensureStack(ctx, cfg, log)
	if err != nil {
		return nil, nil, err
	}
	acts, err := buildActivities(cfg, chatOut)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	w := worker.New(st.raw, acts)
	if err := w.Start(); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("start worker: %w", err)
	}
	return st, func() { w.Stop(); st.Close() }, nil
}

type demoFlags struct {
	subjects string
	systems  []string
	timeout  time.Duration
}

func newDemoCmd(g *globals) *cobra.Command {
	f := &demoFlags{}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole plan on the sample breach in examples/, decisions auto-approved",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if g.configPath == "" {
				g.configPath = filepath.Join("examples", "breach.yaml")
			}
			cfg, err := g.config()
			if err != nil {
				return err
			}
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cfg, f)
		},
	}
	cmd.Flags().StringVar(&f.subjects, "subjects", filepath.Join("examples", "subjects.csv"), "subjects dataset")
	cmd.Flags().StringArrayVar(&f.systems, "system", []string{"shop-db", "crm-api"}, "affected systems")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}

func runDemo(ctx context.Context, out io.Writer, cfg *config.Config, f *demoFlags) error {
	if len(cfg.Roles.DPO) == 0 || len(cfg.Roles.Commander) == 0 {
		return usagef("the demo needs a DPO and an incident commander in roles of %s", cfg.Path)
	}
	dpo, ic := cfg.Roles.DPO[0], cfg.Roles.Commander[0]
	// The demo's people sign their decisions like anyone: their keys are made on first run.
	for _, who := range []string{dpo, ic} {
		if _, _, err := keys.Create(cfg.Home, who); err != nil {
			return fmt.Errorf("the demo's signing key for %s: %w", who, err)
		}
	}
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()

	st, stop, err := startLocal(ctx, cfg, out, nil)
	if err != nil {
		return err
	}
	defer stop()

	now := time.Now()
	df := &declareFlags{
		title:       "Customer database exposed through a misconfigured backup bucket",
		description: "A nightly backup of the shop database was readable from the internet for nine days; access logs show downloads from unknown addresses.",
		systems:     f.systems, subjects: subjectsFlags{file: f.subjects}, as: ic,
		awareAt: now.Add(-2 * time.Hour).Format(time.RFC3339),
	}
	d, err := df.declaration(ctx, cfg, now)
	if err != nil {
		return err
	}
	res, err := declare.Start(ctx, st.client, d, declare.Options{Converter: st.dc})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Declared %s: %s\n  as incident commander %s; the demo DPO is %s\n\n", res.IncidentID, d.Title, ic, dpo)

	final, err := drive(ctx, out, st.client, res.IncidentID, autoPilot{dpo: dpo, ic: ic, g: &globals{cfg: cfg}})
	if err != nil {
		return err
	}
	var result incident.Result
	if err := st.client.GetWorkflow(ctx, res.WorkflowID, "").Get(ctx, &result); err != nil {
		return fmt.Errorf("incident %s did not complete: %w", res.IncidentID, err)
	}
	printWhereToLook(out, cfg, final, result, st.uiURL)
	return nil
}

// autoPilot acts for the demo's DPO and incident commander, signing with their keys.
type autoPilot struct {
	dpo, ic string
	g       *globals
}

func (p autoPilot) act(ctx context.Context, c client.Client, id string, step incident.PendingStep) (string, error) {
	var out string
	switch {
	case step.Step == incident.UpdateDecide:
		var dec incident.Decision
		err := update(ctx, c, p.g, id, incident.UpdateDecide, &incident.Decision{
			By: p.dpo, Risk: "high", NotifyAuthority: true, NotifySubjects: true,
			Reasoning:    "Names, email addresses and order histories were downloaded by unknown parties; identity fraud and targeted phishing are likely.",
			Consequences: "Affected customers may receive convincing phishing emails that quote their orders, and may be targeted for fraud.",
			Measures:     "The bucket was made private and the database and API isolated; access keys were rotated; a forensic review is under way.",
			Advice:       "Be wary of emails that mention your orders and ask for payment or passwords; we will never ask for your password. Change your password if you reused it elsewhere.",
		}, &dec)
		return fmt.Sprintf("DPO %s decided: risk %s, notify authority and customers", p.dpo, dec.Risk), err
	case strings.HasPrefix(step.Step, incident.StepReport):
		err := update(ctx, c, p.g, id, incident.UpdateApprove, &incident.ApproveRequest{By: p.dpo, Step: step.Step}, &out)
		return "DPO " + out, err
	case strings.HasPrefix(step.Step, "file:"):
		ob := strings.TrimPrefix(step.Step, "file:")
		err := update(ctx, c, p.g, id, incident.UpdateFile, &incident.FileRequest{By: p.dpo, Obligation: ob, Reference: "DEMO-" + id}, &out)
		return out, err
	case strings.HasPrefix(step.Step, incident.StepIsolation):
		err := update(ctx, c, p.g, id, incident.UpdateApprove, &incident.ApproveRequest{By: p.ic, Step: step.Step, Note: "demo: isolated by hand"}, &out)
		return out, err
	case step.Step == incident.UpdateClose:
		err := update(ctx, c, p.g, id, incident.UpdateClose, &incident.CloseRequest{By: p.ic, Summary: "Demo run: every step of the plan completed."}, &out)
		return "incident commander " + p.ic + ": " + out, err
	}
	return "", fmt.Errorf("the demo cannot do step %s (%s) by itself", step.Step, step.Description)
}

// drive follows an incident, printing each phase and timeline event as it happens, and acts on
// pending steps through the auto-pilot until the incident closes.
func drive(ctx context.Context, out io.Writer, c client.Client, id string, p autoPilot) (incident.Status, error) {
	phase := ""
	lastSent := -1
	// Children report events a little after they happen, and the timeline keeps time order, so
	// an event can arrive before ones already printed: each is printed once, whenever it comes.
	printed := map[string]int{}
	acted := map[string]bool{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		st, err := queryStatus(ctx, c, id)
		if isStuck(err) {
			return st, err
		}
		if err != nil && ctx.Err() == nil {
			// The workflow may not have taken its first task yet.
			select {
			case <-ctx.Done():
			case <-tick.C:
				continue
			}
		}
		if ctx.Err() != nil {
			return st, fmt.Errorf("the demo timed out in phase %q: %w", phase, ctx.Err())
		}
		if st.Phase != phase {
			phase = st.Phase
			fmt.Fprintf(out, "== phase: %s ==\n", phase)
		}
		count := map[string]int{}
		for _, e := range st.Timeline {
			key := e.At.UTC().Format(time.RFC3339Nano) + "\x00" + e.Kind + "\x00" + e.Text
			count[key]++
			if count[key] <= printed[key] {
				continue
			}
			printed[key]++
			fmt.Fprintf(out, "  %s  %-18s %s\n", e.At.Local().Format("15:04:05"), e.Kind, e.Text)
		}
		if a := st.Alerts; a.State == incident.AlertsSending && a.Total > 0 && a.Sent != lastSent {
			lastSent = a.Sent
			fmt.Fprintf(out, "  customer alerts %s %d/%d\n", progressBar(a.Sent, a.Total, 30), a.Sent, a.Total)
		}
		if phase == incident.PhaseClosed {
			return st, nil
		}
		for _, step := range st.Pending {
			if acted[step.Step] {
				continue
			}
			acted[step.Step] = true
			msg, err := p.act(ctx, c, id, step)
			if err != nil {
				return st, err
			}
			fmt.Fprintf(out, "  >> %s\n", msg)
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
}

func printWhereToLook(out io.Writer, cfg *config.Config, st incident.Status, res incident.Result, uiURL string) {
	fmt.Fprintf(out, "\nIncident %s closed. Where to look:\n", st.IncidentID)
	if err := incident.ValidateID(st.IncidentID); err != nil {
		fmt.Fprintf(out, "  nowhere: %v\n", err)
		return
	}
	fmt.Fprintf(out, "  firewall rules (dry-run, exact rules):  %s\n", res.Records.Evidence)
	for _, o := range st.Obligations {
		if o.Report != "" {
			fmt.Fprintf(out, "  %s report (%s):  %s\n", o.ID, o.Basis, o.Report)
		}
	}
	notices, _ := activities.Under(cfg.Home, "outbox", st.IncidentID, "notices") // a valid ID: cannot fail
	n := countFiles(notices, ".eml")
	fmt.Fprintf(out, "  customer notices (%d .eml files):  %s\n", n, notices)
	fmt.Fprintf(out, "  timeline:  %s\n", res.Records.Timeline)
	fmt.Fprintf(out, "  breach register entry:  %s (every version: breach register show %s)\n", res.Records.Register, st.IncidentID)
	fmt.Fprintf(out, "  post-incident report:  %s\n", res.Records.Report)
	log, _ := console.LogPath(cfg.Home, st.IncidentID)
	fmt.Fprintf(out, "  incident room log:  %s\n", log)
	fmt.Fprintf(out, "  Temporal UI:  %s\n", uiLink(uiURL, st.IncidentID))
	fmt.Fprintf(out, "  (the demo's Temporal server stops with it; its state is kept, so `breach dev` serves that link again)\n")
	dev := os.Args[0] + " dev"
	if cfg.Path != "" {
		dev += " --config " + cfg.Path
	}
	fmt.Fprintf(out, "\nSee it on the deadline board: run\n  %s\nand open http://%s%s/incidents/%s (and %s/register for the closed incidents)\n",
		dev, DevBoardAddr, cfg.Web.Path, st.IncidentID, "http://"+DevBoardAddr+cfg.Web.Path)
}

func countFiles(dir, suffix string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), suffix) {
			n++
		}
	}
	return n
}
