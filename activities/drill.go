package activities

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/scenario"
	"github.com/breachops/breach/templates"
)

// DrillFirewalls resolves systems as inner does, but every provider it hands out is dry-run: a
// drill records the exact rules isolation would apply and changes no firewall. The target comes
// from the inventory without building the real provider, so a drill needs no firewall secrets.
func DrillFirewalls(inner Firewalls, dir string) Firewalls {
	return drillFirewalls{inner: inner, path: filepath.Join(DrillsDir(dir), "firewall-dry-run.jsonl")}
}

type drillFirewalls struct {
	inner Firewalls
	path  string
}

func (f drillFirewalls) Resolve(system string) (firewall.Provider, firewall.Target, error) {
	var t firewall.Target
	var err error
	if r, ok := f.inner.(interface{ Inventory() *firewall.Inventory }); ok {
		t, err = r.Inventory().Target(system)
	} else if f.inner != nil {
		_, t, err = f.inner.Resolve(system)
	} else {
		err = firewall.Permanent(fmt.Errorf("system %q: no inventory to resolve it", system))
	}
	if err != nil {
		return nil, firewall.Target{}, err
	}
	return firewall.NewDryRun(f.path), t, nil
}

// DrillActivities run a drill's side effects: the auto-pilot that plays the scenario's people
// through the incident's Updates, reading the incident's status, and writing the scored report.
type DrillActivities struct {
	Client client.Client
	// Key signs the auto-pilot's answers (incident.DrillAutopilot); a drill trusts it only if
	// it was declared with its public key (AutopilotKey).
	Key ed25519.PrivateKey
	// Dir is the root of local records; drill reports go to Dir/drills.
	Dir string
	// Poll is how often the auto-pilot reads the incident's status; zero means 250 ms.
	Poll time.Duration
	Now  func() time.Time
}

func (d *DrillActivities) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// The incident's message names and step prefixes, as the incident workflow defines them
// (activities cannot import workflows; a workflows test keeps the two in step).
const (
	DrillQueryStatus   = "status"
	DrillUpdateDecide  = "decide"
	DrillUpdateApprove = "approve"
	DrillUpdateFile    = "file"
	DrillUpdateClose   = "close"
	DrillStepReport    = "report:"
	DrillStepFile      = "file:"
	DrillStepIsolation = "isolation:"
	DrillPhaseClosed   = "closed"
)

// IncidentView is the incident's status query answer, as the auto-pilot and scoring read it.
type IncidentView struct {
	IncidentRecord
	Phase   string        `json:"phase"`
	Pending []PendingView `json:"pending"`
	Roles   RolesView     `json:"roles"`
}

// RolesView is who holds each role in the incident.
type RolesView struct {
	DPO       []string `json:"dpo"`
	Commander []string `json:"commander"`
}

// PendingView is a step a person must do.
type PendingView struct {
	Step        string    `json:"step"`
	Role        string    `json:"role"`
	Description string    `json:"description"`
	Since       time.Time `json:"since"`
	DueAt       time.Time `json:"due_at,omitzero"`
}

// The Update requests the auto-pilot sends, shaped as the incident's ApproveRequest,
// FileRequest and CloseRequest.
type (
	DrillApprove struct {
		By        string              `json:"by"`
		Step      string              `json:"step"`
		Reasons   string              `json:"reasons,omitempty"`
		Note      string              `json:"note,omitempty"`
		Signature *incident.Signature `json:"signature,omitempty"`
	}
	DrillFile struct {
		By         string              `json:"by"`
		Obligation string              `json:"obligation"`
		Reference  string              `json:"reference"`
		Reasons    string              `json:"reasons,omitempty"`
		Signature  *incident.Signature `json:"signature,omitempty"`
	}
	DrillClose struct {
		By        string              `json:"by"`
		Summary   string              `json:"summary,omitempty"`
		Signature *incident.Signature `json:"signature,omitempty"`
	}
)

// AutopilotKey returns the public key the auto-pilot signs with, for the drill's declaration.
func (d *DrillActivities) AutopilotKey(ctx context.Context) (string, error) {
	if d.Key == nil {
		return "", temporal.NewNonRetryableApplicationError("this worker has no auto-pilot key (BREACH_HOME/keys/drill-autopilot.key)", "NoAutopilotKey", nil)
	}
	return incident.EncodePublicKey(d.Key.Public().(ed25519.PublicKey)), nil
}

// sign signs an answer as the auto-pilot; without a key the answer goes unsigned (a drill
// declared without keys takes it so).
func (d *DrillActivities) sign(incidentID, update string, arg any, now time.Time) (any, error) {
	if d.Key == nil {
		return arg, nil
	}
	sig, err := incident.Sign(d.Key, incident.DrillAutopilot, incidentID, update, arg, now)
	if err != nil {
		return nil, err
	}
	switch a := arg.(type) {
	case Decision:
		a.Signature = sig
		return a, nil
	case DrillApprove:
		a.Signature = sig
		return a, nil
	case DrillFile:
		a.Signature = sig
		return a, nil
	case DrillClose:
		a.Signature = sig
		return a, nil
	}
	return nil, fmt.Errorf("the auto-pilot cannot sign a %T", arg)
}

// IncidentRef names an incident workflow.
type IncidentRef struct {
	IncidentID string `json:"incident_id"`
	WorkflowID string `json:"workflow_id"`
}

// IncidentStatus reads the incident's status query, also after the incident has ended.
func (d *DrillActivities) IncidentStatus(ctx context.Context, ref IncidentRef) (IncidentView, error) {
	var v IncidentView
	res, err := d.Client.QueryWorkflow(ctx, ref.WorkflowID, "", DrillQueryStatus)
	if err != nil {
		return v, fmt.Errorf("status of %s: %w", ref.IncidentID, err)
	}
	if err := res.Get(&v); err != nil {
		return v, fmt.Errorf("status of %s: %w", ref.IncidentID, err)
	}
	return v, nil
}

// AutoPilotInput tells the auto-pilot whom to play and how slowly.
type AutoPilotInput struct {
	IncidentRef
	// TimeScale divides the scenario's response delays.
	TimeScale float64 `json:"time_scale"`
	DPO       string  `json:"dpo"`
	Commander string  `json:"commander"`
	// Roles and Responses are the scenario's response delays (drill time).
	Roles     scenario.Roles       `json:"roles"`
	Responses []scenario.StepDelay `json:"responses,omitempty"`
	Decision  Decision             `json:"decision"`
	// Until is when the drill ends: the auto-pilot stops then, or when the incident closes.
	Until time.Time `json:"until"`
}

// AutoPilotAnswer is one step the auto-pilot answered, or tried to.
type AutoPilotAnswer struct {
	Step string    `json:"step"`
	By   string    `json:"by"`
	At   time.Time `json:"at"`
	// Offset is At in drill time since the start; the drill fills it in.
	Offset scenario.Duration `json:"offset"`
	Result string            `json:"result,omitempty"`
	Error  string            `json:"error,omitempty"`
}

// AutoPilotResult lists what the auto-pilot did.
type AutoPilotResult struct {
	Answers []AutoPilotAnswer `json:"answers"`
	// Tries counts rejected attempts per step; after maxAutoPilotTries the step is left to people.
	Tries map[string]int `json:"tries,omitempty"`
}

const maxAutoPilotTries = 5

func (r *AutoPilotResult) answered(step string) bool {
	for _, a := range r.Answers {
		if a.Step == step && a.Error == "" {
			return true
		}
	}
	return r.Tries[step] >= maxAutoPilotTries
}

// ScenarioStep names an incident's pending step in the scenario's vocabulary: report:X is
// approve:X, isolation:S is isolate:S.
func ScenarioStep(pending string) string {
	switch {
	case strings.HasPrefix(pending, DrillStepReport):
		return scenario.StepApprove + ":" + strings.TrimPrefix(pending, DrillStepReport)
	case strings.HasPrefix(pending, DrillStepIsolation):
		return scenario.StepIsolate + ":" + strings.TrimPrefix(pending, DrillStepIsolation)
	}
	return pending
}

// AutoPilot plays the scenario's DPO and incident commander: it follows the incident's pending
// steps and answers each through the incident's Updates once the scenario's response delay
// (divided by the time scale) has passed since the step appeared. It runs until the incident
// closes or the drill's end (Until), heartbeating what it has done so a retry carries on.
func (d *DrillActivities) AutoPilot(ctx context.Context, in AutoPilotInput) (AutoPilotResult, error) {
	res := AutoPilotResult{Tries: map[string]int{}}
	if activity.HasHeartbeatDetails(ctx) {
		var prev AutoPilotResult
		if err := activity.GetHeartbeatDetails(ctx, &prev); err == nil {
			res = prev
			if res.Tries == nil {
				res.Tries = map[string]int{}
			}
		}
	}
	scale := in.TimeScale
	if scale < 1 {
		scale = 1
	}
	plan := scenario.Scenario{Roles: in.Roles, Responses: in.Responses}
	poll := d.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	for {
		activity.RecordHeartbeat(ctx, res)
		if !in.Until.IsZero() && !d.now().Before(in.Until) {
			return res, nil
		}
		v, err := d.IncidentStatus(ctx, in.IncidentRef)
		if err == nil {
			now := d.now()
			if v.Phase == DrillPhaseClosed {
				return res, nil
			}
			for _, p := range v.Pending {
				if res.answered(p.Step) {
					continue
				}
				delay := time.Duration(float64(plan.DelayFor(ScenarioStep(p.Step)).D()) / scale)
				if now.Before(p.Since.Add(delay)) {
					continue
				}
				ans := d.answer(ctx, in, p, now, res.Tries[p.Step])
				if ans.Error != "" {
					res.Tries[p.Step]++
					activity.GetLogger(ctx).Warn("drill auto-pilot: answer refused", "step", p.Step, "error", ans.Error)
					if res.Tries[p.Step] < maxAutoPilotTries {
						continue
					}
				}
				res.Answers = append(res.Answers, ans)
			}
		} else if ctx.Err() == nil {
			activity.GetLogger(ctx).Warn("drill auto-pilot: cannot read the incident's status", "error", err)
		}
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case <-tick.C:
		}
	}
}

func (d *DrillActivities) answer(ctx context.Context, in AutoPilotInput, p PendingView, now time.Time, tries int) AutoPilotAnswer {
	ans := AutoPilotAnswer{Step: p.Step, By: in.DPO, At: now}
	reasons := ""
	if !p.DueAt.IsZero() && now.After(p.DueAt.Add(-2*time.Second)) {
		reasons = "Drill: the simulated response came after the deadline (scenario response delay)."
	}
	var name string
	var arg any
	switch {
	case p.Step == DrillUpdateDecide:
		dec := in.Decision
		dec.By = in.DPO
		dec.NotifyAuthority = dec.Risk != "unlikely"
		name, arg = DrillUpdateDecide, dec
	case strings.HasPrefix(p.Step, DrillStepReport):
		name, arg = DrillUpdateApprove, DrillApprove{By: in.DPO, Step: p.Step, Reasons: reasons, Note: "drill auto-pilot"}
	case strings.HasPrefix(p.Step, DrillStepFile):
		ob := strings.TrimPrefix(p.Step, DrillStepFile)
		name, arg = DrillUpdateFile, DrillFile{By: in.DPO, Obligation: ob, Reference: "DRILL-" + in.IncidentID + "-" + ob, Reasons: reasons}
	case strings.HasPrefix(p.Step, DrillStepIsolation):
		ans.By = in.Commander
		name, arg = DrillUpdateApprove, DrillApprove{By: in.Commander, Step: p.Step, Note: "drill: isolated by hand (simulated)"}
	case p.Step == DrillUpdateClose:
		ans.By = in.Commander
		name, arg = DrillUpdateClose, DrillClose{By: in.Commander, Summary: "Drill completed; the auto-pilot played the DPO and the incident commander."}
	default:
		ans.Error = "the auto-pilot does not answer this step; a person must"
		return ans
	}
	arg, err := d.sign(in.IncidentID, name, arg, now)
	if err != nil {
		ans.Error = err.Error()
		return ans
	}
	h, err := d.Client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   in.WorkflowID,
		UpdateID:     fmt.Sprintf("drill-autopilot/%s/%d", p.Step, tries),
		UpdateName:   name,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var out any
		if err = h.Get(ctx, &out); err == nil {
			ans.Result = fmt.Sprint(out)
			if dec, ok := arg.(Decision); ok {
				ans.Result = fmt.Sprintf("decided risk %s; notify authority %t, subjects %t", dec.Risk, dec.NotifyAuthority, dec.NotifySubjects)
			}
		}
	}
	if err != nil {
		ans.Error = err.Error()
	}
	return ans
}

// Drill outcomes.
const (
	DrillClosed = "closed"  // the incident closed within the drill's duration
	DrillTimeUp = "time-up" // the drill's duration ran out first
)

// Target results.
const (
	TargetMet    = "met"
	TargetMissed = "missed"
	// TargetOpen is a step not done when the drill ended, before its target had passed.
	TargetOpen = "open"
	// TargetNotApplicable is a step this run of the plan did not have (no report was required).
	TargetNotApplicable = "n/a"
)

// DrillReport is a scored drill: what the Markdown report, the JSON result and `breach drill
// history` show. Durations are drill time (wall time multiplied by the time scale).
type DrillReport struct {
	DrillID     string            `json:"drill_id"`
	IncidentID  string            `json:"incident_id"`
	Scenario    string            `json:"scenario"`
	Title       string            `json:"title"`
	ScheduleID  string            `json:"schedule_id,omitempty"`
	TimeScale   float64           `json:"time_scale"`
	AutoApprove bool              `json:"auto_approve"`
	StartedAt   time.Time         `json:"started_at"`
	EndedAt     time.Time         `json:"ended_at"`
	Elapsed     scenario.Duration `json:"elapsed"`
	Duration    scenario.Duration `json:"duration"`
	Outcome     string            `json:"outcome"`
	Phase       string            `json:"phase"`
	Targets     []TargetResult    `json:"targets"`
	Injects     []InjectResult    `json:"injects"`
	Answers     []AutoPilotAnswer `json:"answers,omitempty"`
	Met         int               `json:"met"`
	Missed      int               `json:"missed"`
	Open        int               `json:"open"`
	// Score is the percentage of scored targets (met or missed) that were met.
	Score int      `json:"score"`
	Notes []string `json:"notes,omitempty"`
	// Markdown and JSON are where the report was written.
	Markdown string `json:"markdown,omitempty"`
	JSON     string `json:"json,omitempty"`
}

// TargetResult is one target, met or missed, with the actual duration.
type TargetResult struct {
	Step   string            `json:"step"`
	Human  bool              `json:"human"`
	Role   string            `json:"role,omitempty"`
	Target scenario.Duration `json:"target"`
	Done   bool              `json:"done"`
	// Actual is how long after the start the step was done, or, if not done, how long the drill
	// ran.
	Actual scenario.Duration `json:"actual"`
	Result string            `json:"result"`
	Detail string            `json:"detail,omitempty"`
}

// InjectResult is one inject and when it reached the incident.
type InjectResult struct {
	At          scenario.Duration `json:"at"`
	Text        string            `json:"text"`
	Delivered   bool              `json:"delivered"`
	DeliveredAt time.Time         `json:"delivered_at,omitzero"`
	// Offset is DeliveredAt in drill time since the start.
	Offset scenario.Duration `json:"offset,omitempty"`
	Note   string            `json:"note,omitempty"`
}

// DrillsDir holds drill reports: <id>.md and <id>.json per drill.
func DrillsDir(root string) string { return filepath.Join(root, "drills") }

// DrillReportPaths are the Markdown report and JSON result of a drill: <root>/drills/<id>.md
// and .json, or an error when incidentID is not an incident ID.
func DrillReportPaths(root, incidentID string) (markdown, result string, err error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return "", "", err
	}
	if markdown, err = Under(DrillsDir(root), incidentID+".md"); err != nil {
		return "", "", err
	}
	if result, err = Under(DrillsDir(root), incidentID+".json"); err != nil {
		return "", "", err
	}
	return markdown, result, nil
}

// WriteDrillReport writes the drill's Markdown report and JSON result.
func (d *DrillActivities) WriteDrillReport(ctx context.Context, r DrillReport) (DrillReport, error) {
	var err error
	if r.Markdown, r.JSON, err = DrillReportPaths(d.Dir, r.IncidentID); err != nil {
		return r, pathError(err)
	}
	text, err := templates.Render("drill-report", r)
	if err != nil {
		return r, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	if err := writeFileAtomic(r.Markdown, []byte(strings.TrimLeft(text, "\n"))); err != nil {
		return r, fmt.Errorf("write the drill report of %s: %w", r.IncidentID, err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return r, err
	}
	if err := writeFileAtomic(r.JSON, append(data, '\n')); err != nil {
		return r, fmt.Errorf("write the drill result of %s: %w", r.IncidentID, err)
	}
	return r, nil
}

// maxDrillFile bounds a drill report or result read back: they are a few KiB.
const maxDrillFile = 16 << 20

// LoadDrillReport reads one drill's JSON result. The file is opened under the drills directory
// (os.Root): neither the ID nor a symbolic link there can make it read another file.
func LoadDrillReport(root, incidentID string) (DrillReport, error) {
	var r DrillReport
	data, err := readDrillFile(root, incidentID, ".json")
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("drill result %s: %w", incidentID, err)
	}
	return r, nil
}

// LoadDrillMarkdown reads one drill's Markdown report, under the drills directory as
// LoadDrillReport does (never from the path a result file names).
func LoadDrillMarkdown(root, incidentID string) ([]byte, error) {
	return readDrillFile(root, incidentID, ".md")
}

func readDrillFile(root, incidentID, ext string) ([]byte, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return nil, err
	}
	dir, err := os.OpenRoot(DrillsDir(root))
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	f, err := dir.Open(incidentID + ext)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() || st.Size() > maxDrillFile {
		return nil, fmt.Errorf("drill %s: %s%s is not a drill file (not a regular file, or over %d MiB)", incidentID, incidentID, ext, maxDrillFile>>20)
	}
	return io.ReadAll(io.LimitReader(f, maxDrillFile))
}

// DrillHistory reads every drill result under root, newest first. Files whose names are not
// incident IDs are not drill results, and are passed over.
func DrillHistory(root string) ([]DrillReport, error) {
	paths, err := filepath.Glob(filepath.Join(DrillsDir(root), "*.json"))
	if err != nil {
		return nil, err
	}
	var out []DrillReport
	for _, p := range paths {
		id := strings.TrimSuffix(filepath.Base(p), ".json")
		if !incident.IsID(id) {
			continue
		}
		r, err := LoadDrillReport(root, id)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, nil
}
