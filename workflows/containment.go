package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/firewall"
)

// ContainmentInput names the system to isolate.
type ContainmentInput struct {
	IncidentID string `json:"incident_id"`
	System     string `json:"system"`
	Drill      bool   `json:"drill,omitempty"`
	Roles      Roles  `json:"roles"`
}

// ManualReminderInterval is how often a waiting manual isolation is raised again.
const ManualReminderInterval = 15 * time.Minute

// ContainmentWorkflow isolates one system and verifies the isolation. If automation fails, a
// person is asked to isolate by hand and confirm, and is reminded until they do.
func ContainmentWorkflow(ctx workflow.Context, in ContainmentInput) (SystemStatus, error) {
	rep := newReporter(ctx)
	st := SystemStatus{System: in.System, State: ContainIsolating, Updated: workflow.Now(ctx).UTC()}
	call := activities.ContainInput{IncidentID: in.IncidentID, System: in.System, Drill: in.Drill}
	fctx := firewallCtx(ctx)

	var ev firewall.Evidence
	err := workflow.ExecuteActivity(fctx, a.Isolate, call).Get(ctx, &ev)
	if err == nil {
		var vev firewall.Evidence
		if err = workflow.ExecuteActivity(fctx, a.VerifyIsolation, call).Get(ctx, &vev); err == nil && !vev.InForce {
			err = fmt.Errorf("verification found the isolation of %s not in force", in.System)
		}
	}
	if err == nil {
		st.State = ContainContained
		st.Provider = ev.Provider
		st.Detail = ev.After
		st.Updated = workflow.Now(ctx).UTC()
		rep.send(ctx, childState{System: &st})
		rep.event(ctx, "isolated", fmt.Sprintf("%s isolated via %s and verified: %s", in.System, ev.Provider, ev.After))
		return st, nil
	}

	// Automation failed: a person isolates by hand.
	st.State = ContainManual
	st.Detail = applicationMessage(err)
	st.Updated = workflow.Now(ctx).UTC()
	step := StepIsolation + in.System
	rep.send(ctx, childState{System: &st, Pending: &PendingStep{
		Step: step, Role: RoleCommander, Since: st.Updated,
		Description: fmt.Sprintf("Isolate %s manually, then confirm", in.System),
	}})
	rep.event(ctx, "isolation-failed", fmt.Sprintf("Automatic isolation of %s failed: %s", in.System, st.Detail))
	ask := fmt.Sprintf("Automatic isolation of %s failed (%s). Isolate %s manually, then confirm: breach approve %s --step %s --as <commander>",
		in.System, st.Detail, in.System, in.IncidentID, step)
	rep.chat(ctx, activities.ChatMessage{IncidentID: in.IncidentID, Kind: "manual-isolation", Text: ask, Drill: in.Drill, Urgent: true})

	var confirm approval
	confirmCh := workflow.GetSignalChannel(ctx, signalManualConfirm)
	for waited := 1; ; waited++ {
		ok, err := workflow.AwaitWithTimeout(ctx, ManualReminderInterval, func() bool { return confirmCh.Len() > 0 })
		if err != nil {
			return st, err
		}
		if ok {
			confirmCh.Receive(ctx, &confirm)
			break
		}
		rep.chat(ctx, activities.ChatMessage{IncidentID: in.IncidentID, Kind: "manual-isolation-reminder", Drill: in.Drill, Urgent: true,
			Text: fmt.Sprintf("%s is still not isolated after %s. %s", in.System, time.Duration(waited)*ManualReminderInterval, ask)})
	}
	st.State = ContainContained
	st.Manual = true
	st.Detail = "isolated manually, confirmed by " + confirm.By
	if confirm.Note != "" {
		st.Detail += ": " + confirm.Note
	}
	st.Updated = confirm.At
	rep.send(ctx, childState{System: &st})
	return st, nil
}
