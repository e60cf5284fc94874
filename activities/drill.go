package activities

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/drill"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/scenario"
	"github.com/breachops/breach/internal/store"
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
	// Records is the installation's store: drill reports go to drills/<id>.md and .json there.
	// Nil keeps them in a local store in Dir.
	Records *store.Store
	// Dir is the local directory of the records when Records is nil, and of the dry-run log.
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
	case incident.Decision:
		a.Signature = sig
		return a, nil
	case incident.ApproveRequest:
		a.Signature = sig
		return a, nil
	case incident.FileRequest:
		a.Signature = sig
		return a, nil
	case incident.CloseRequest:
		a.Signature = sig
		return a, nil
	}
	return nil, fmt.Errorf("the auto-pilot cannot sign a %T", arg)
}

// IncidentStatus reads the incident's status query, also after the incident has ended.
func (d *DrillActivities) IncidentStatus(ctx context.Context, ref drill.IncidentRef) (incident.Status, error) {
	var v incident.Status
	res, err := d.Client.QueryWorkflow(ctx, ref.WorkflowID, "", incident.QueryStatus)
	if err != nil {
		return v, fmt.Errorf("status of %s: %w", ref.IncidentID, err)
	}
	if err := res.Get(&v); err != nil {
		return v, fmt.Errorf("status of %s: %w", ref.IncidentID, err)
	}
	return v, nil
}

// ScenarioStep names an incident's pending step in the scenario's vocabulary: report:X is
// approve:X, isolation:S is isolate:S.
func ScenarioStep(pending string) string {
	switch {
	case strings.HasPrefix(pending, incident.StepReport):
		return scenario.StepApprove + ":" + strings.TrimPrefix(pending, incident.StepReport)
	case strings.HasPrefix(pending, incident.StepIsolation):
		return scenario.StepIsolate + ":" + strings.TrimPrefix(pending, incident.StepIsolation)
	}
	return pending
}

// AutoPilot plays the scenario's DPO and incident commander: it follows the incident's pending
// steps and answers each through the incident's Updates once the scenario's response delay
// (divided by the time scale) has passed since the step appeared. It runs until the incident
// closes or the drill's end (Until), heartbeating what it has done so a retry carries on.
func (d *DrillActivities) AutoPilot(ctx context.Context, in drill.AutoPilotInput) (drill.AutoPilotResult, error) {
	res := drill.AutoPilotResult{Tries: map[string]int{}}
	if activity.HasHeartbeatDetails(ctx) {
		var prev drill.AutoPilotResult
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
			if v.Phase == incident.PhaseClosed {
				return res, nil
			}
			for _, p := range v.Pending {
				if res.Answered(p.Step) {
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
					if res.Tries[p.Step] < drill.MaxAutoPilotTries {
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

func (d *DrillActivities) answer(ctx context.Context, in drill.AutoPilotInput, p incident.PendingStep, now time.Time, tries int) drill.AutoPilotAnswer {
	ans := drill.AutoPilotAnswer{Step: p.Step, By: in.DPO, At: now}
	reasons := ""
	if !p.DueAt.IsZero() && now.After(p.DueAt.Add(-2*time.Second)) {
		reasons = "Drill: the simulated response came after the deadline (scenario response delay)."
	}
	var name string
	var arg any
	switch {
	case p.Step == incident.UpdateDecide:
		dec := in.Decision
		dec.By = in.DPO
		dec.NotifyAuthority = dec.Risk != "unlikely"
		name, arg = incident.UpdateDecide, dec
	case strings.HasPrefix(p.Step, incident.StepReport):
		name, arg = incident.UpdateApprove, incident.ApproveRequest{By: in.DPO, Step: p.Step, Reasons: reasons, Note: "drill auto-pilot"}
	case strings.HasPrefix(p.Step, incident.StepFile):
		ob := strings.TrimPrefix(p.Step, incident.StepFile)
		name, arg = incident.UpdateFile, incident.FileRequest{By: in.DPO, Obligation: ob, Reference: "DRILL-" + in.IncidentID + "-" + ob, Reasons: reasons}
	case strings.HasPrefix(p.Step, incident.StepIsolation):
		ans.By = in.Commander
		name, arg = incident.UpdateApprove, incident.ApproveRequest{By: in.Commander, Step: p.Step, Note: "drill: isolated by hand (simulated)"}
	case p.Step == incident.UpdateClose:
		ans.By = in.Commander
		name, arg = incident.UpdateClose, incident.CloseRequest{By: in.Commander, Summary: "Drill completed; the auto-pilot played the DPO and the incident commander."}
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
			if dec, ok := arg.(incident.Decision); ok {
				ans.Result = fmt.Sprintf("decided risk %s; notify authority %t, subjects %t", dec.Risk, dec.NotifyAuthority, dec.NotifySubjects)
			}
		}
	}
	if err != nil {
		ans.Error = err.Error()
	}
	return ans
}

// DrillsDir holds the dry-run firewall log of drills.
func DrillsDir(root string) string { return filepath.Join(root, "drills") }

// records is the store of the drill reports: Records, else a local store in Dir.
func (d *DrillActivities) records() (*store.Store, error) {
	if d.Records != nil {
		return d.Records, nil
	}
	return store.Local(d.Dir)
}

// WriteDrillReport writes the drill's Markdown report and JSON result into the store.
func (d *DrillActivities) WriteDrillReport(ctx context.Context, r drill.DrillReport) (drill.DrillReport, error) {
	mdKey, err := records.DrillReportKey(r.IncidentID, ".md")
	if err != nil {
		return r, pathError(err)
	}
	jsonKey, _ := records.DrillReportKey(r.IncidentID, ".json")
	st, err := d.records()
	if err != nil {
		return r, err
	}
	r.Markdown, r.JSON = st.Where(mdKey), st.Where(jsonKey)
	text, err := templates.Render("drill-report", r)
	if err != nil {
		return r, temporal.NewNonRetryableApplicationError(err.Error(), "TemplateError", err)
	}
	if err := st.Put(ctx, mdKey, []byte(strings.TrimLeft(text, "\n"))); err != nil {
		return r, fmt.Errorf("write the drill report of %s: %w", r.IncidentID, err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return r, err
	}
	if err := st.Put(ctx, jsonKey, append(data, '\n')); err != nil {
		return r, fmt.Errorf("write the drill result of %s: %w", r.IncidentID, err)
	}
	return r, nil
}

// maxDrillFile bounds a drill report or result read back: they are a few KiB.
const maxDrillFile = 16 << 20

// LoadDrillReport reads one drill's JSON result from the store.
func LoadDrillReport(ctx context.Context, st *store.Store, incidentID string) (drill.DrillReport, error) {
	var r drill.DrillReport
	data, err := readDrillFile(ctx, st, incidentID, ".json")
	if err != nil {
		return r, err
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, fmt.Errorf("drill result %s: %w", incidentID, err)
	}
	return r, nil
}

// LoadDrillMarkdown reads one drill's Markdown report from the store (never from the path a
// result names).
func LoadDrillMarkdown(ctx context.Context, st *store.Store, incidentID string) ([]byte, error) {
	return readDrillFile(ctx, st, incidentID, ".md")
}

func readDrillFile(ctx context.Context, st *store.Store, incidentID, ext string) ([]byte, error) {
	key, err := records.DrillReportKey(incidentID, ext)
	if err != nil {
		return nil, err
	}
	info, err := st.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if info.Size > maxDrillFile {
		return nil, fmt.Errorf("drill %s: %s%s is over %d MiB: not a drill file", incidentID, incidentID, ext, maxDrillFile>>20)
	}
	return st.Get(ctx, key)
}

// DrillHistory reads every drill result in the store, newest first. Keys that are not named by
// an incident ID are not drill results, and are passed over.
func DrillHistory(ctx context.Context, st *store.Store) ([]drill.DrillReport, error) {
	keys, err := st.List(ctx, records.DrillsPrefix)
	if err != nil {
		return nil, err
	}
	var out []drill.DrillReport
	for _, k := range keys {
		id, ok := strings.CutSuffix(strings.TrimPrefix(k, records.DrillsPrefix), ".json")
		if !ok || !incident.IsID(id) {
			continue
		}
		r, err := LoadDrillReport(ctx, st, id)
		if err != nil {
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			return nil, err
		}
		out = append(out, r)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartedAt.After(out[j].StartedAt) })
	return out, nil
}
