package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

func (inc *incidentImpl) requireRole(role, who string) error {
	if strings.TrimSpace(who) == "" {
		return fmt.Errorf("no identity given: say who is acting (--as NAME)")
	}
	if !inc.decl.Roles.Has(role, who) {
		return fmt.Errorf("%s does not hold the %s role for incident %s; ask someone who does, or add %s to roles.%s in the configuration",
			who, role, inc.decl.IncidentID, who, role)
	}
	return nil
}

func (inc *incidentImpl) validateDecide(ctx workflow.Context, d incident.Decision) error {
	if err := inc.requireRole(incident.RoleDPO, d.By); err != nil {
		return err
	}
	if inc.rec.Decision != nil {
		return fmt.Errorf("already decided by %s at %s (risk %s)", inc.rec.Decision.By,
			inc.rec.Decision.DecidedAt.UTC().Format(time.RFC3339), inc.rec.Decision.Risk)
	}
	if inc.phase != incident.PhaseDecide {
		return fmt.Errorf("no decision is pending yet: the incident is in phase %q (the scope must be assessed first)", inc.phase)
	}
	switch d.Risk {
	case "unlikely", "risk", "high":
	default:
		return fmt.Errorf("risk %q is not one of unlikely, risk, high", d.Risk)
	}
	if strings.TrimSpace(d.Reasoning) == "" {
		return fmt.Errorf("reasoning is empty: the register must record why (Art. 33(5)); add --reasoning")
	}
	if d.Risk != "unlikely" && !d.NotifyAuthority {
		return fmt.Errorf("risk %q requires notifying the supervisory authority (Art. 33(1)); set notify_authority, or record the risk as unlikely with your reasoning", d.Risk)
	}
	if d.NotifySubjects && d.Risk != "high" {
		return fmt.Errorf("customer notices go out only on a high-risk finding (Art. 34(1)); risk is %q", d.Risk)
	}
	if d.Risk == "high" && !d.NotifySubjects && !d.EncryptedUnintelligible {
		return fmt.Errorf("a high risk requires telling the data subjects (Art. 34(1)) unless the data is unintelligible (Art. 34(3)(a)); set notify_subjects or encrypted_unintelligible")
	}
	if _, err := rules.Evaluate(inc.facts(d)); err != nil {
		return inc.unevaluable(err, "decision")
	}
	return nil
}

func (inc *incidentImpl) decide(ctx workflow.Context, d incident.Decision) (incident.Decision, error) {
	d.DecidedAt = workflow.Now(ctx).UTC()
	inc.rec.Decision = &d
	text := fmt.Sprintf("DPO decision by %s: risk %s; notify authority: %t; notify subjects: %t. Reasoning: %s",
		d.By, d.Risk, d.NotifyAuthority, d.NotifySubjects, d.Reasoning)
	inc.event(ctx, "decision", text)
	inc.chat("decision", text, false)
	return d, nil
}

func (inc *incidentImpl) obligation(id string) (incident.ObligationStatus, bool) {
	for _, o := range inc.rec.Obligations {
		if o.ID == id {
			return o, true
		}
	}
	return incident.ObligationStatus{}, false
}

func (inc *incidentImpl) knownSteps() string {
	var steps []string
	for _, p := range inc.pendingSorted() {
		steps = append(steps, p.Step)
	}
	if len(steps) == 0 {
		return "nothing is pending"
	}
	return "pending: " + strings.Join(steps, ", ")
}

func lateError(o incident.ObligationStatus, now time.Time) error {
	return fmt.Errorf("the deadline of %s passed at %s (%s ago); a late filing must give the reasons for the delay: add --reasons",
		o.ID, o.DueAt.UTC().Format(time.RFC3339), now.Sub(o.DueAt).Round(time.Minute))
}

func (inc *incidentImpl) validateApprove(ctx workflow.Context, r incident.ApproveRequest) error {
	switch {
	case strings.HasPrefix(r.Step, incident.StepReport):
		if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
			return err
		}
		id := strings.TrimPrefix(r.Step, incident.StepReport)
		o, ok := inc.obligation(id)
		if !ok {
			return fmt.Errorf("no obligation %q in incident %s (%s)", id, inc.decl.IncidentID, inc.knownSteps())
		}
		if o.State != incident.OblAwaitingApproval {
			return fmt.Errorf("the %s report is not awaiting approval: it is %s", id, o.State)
		}
		if err := inc.paused(o); err != nil {
			return err
		}
		if err := inc.busy(r.Step); err != nil {
			return err
		}
		if now := workflow.Now(ctx); now.After(o.DueAt) && strings.TrimSpace(r.Reasons) == "" {
			return lateError(o, now)
		}
		return nil
	case strings.HasPrefix(r.Step, incident.StepIsolation):
		if err := inc.requireRole(incident.RoleCommander, r.By); err != nil {
			return err
		}
		sys := strings.TrimPrefix(r.Step, incident.StepIsolation)
		for _, s := range inc.rec.Containment {
			if s.System == sys {
				if s.State != incident.ContainManual {
					return fmt.Errorf("%s does not wait for a manual isolation: it is %s", sys, s.State)
				}
				return inc.busy(r.Step)
			}
		}
		return fmt.Errorf("no system %q in incident %s; systems: %s", sys, inc.decl.IncidentID, strings.Join(inc.decl.Systems, ", "))
	default:
		return fmt.Errorf("unknown step %q: use report:<obligation-id> or isolation:<system> (%s)", r.Step, inc.knownSteps())
	}
}

func (inc *incidentImpl) approve(ctx workflow.Context, r incident.ApproveRequest) (string, error) {
	switch {
	case strings.HasPrefix(r.Step, incident.StepReport):
		id := strings.TrimPrefix(r.Step, incident.StepReport)
		if !inc.stateAfterSignal(ctx) {
			inc.advanceObligation(id, incident.OblAwaitingApproval, incident.OblSubmitting)
			inc.removePending(r.Step)
		}
		// The state changes only once the clock has the approval: if passing it fails, the
		// report still waits for approval and can be approved again.
		defer inc.acting(r.Step)()
		if err := workflow.SignalExternalWorkflow(ctx, incident.ObligationWorkflowID(inc.decl.IncidentID, id), "", signalApproveReport,
			approval{ApproveRequest: r, At: workflow.Now(ctx).UTC(), Containment: inc.containmentSnapshot(), Delays: inc.delaysSnapshot()}).Get(ctx, nil); err != nil {
			return "", fmt.Errorf("pass the approval to the %s clock: %w; the report still waits for approval, approve it again", id, err)
		}
		inc.advanceObligation(id, incident.OblAwaitingApproval, incident.OblSubmitting)
		inc.removePending(r.Step)
		inc.eventAbout(ctx, "approved", id, fmt.Sprintf("Report %s approved by %s.", id, r.By))
		return fmt.Sprintf("report %s approved by %s", id, r.By), nil
	default:
		sys := strings.TrimPrefix(r.Step, incident.StepIsolation)
		if !inc.stateAfterSignal(ctx) {
			inc.removePending(r.Step)
		}
		defer inc.acting(r.Step)()
		if err := workflow.SignalExternalWorkflow(ctx, inc.containmentID(sys), "", signalManualConfirm,
			approval{ApproveRequest: r, At: workflow.Now(ctx).UTC()}).Get(ctx, nil); err != nil {
			return "", fmt.Errorf("pass the confirmation to the containment of %s: %w; confirm it again", sys, err)
		}
		inc.removePending(r.Step)
		inc.eventAbout(ctx, "isolation-confirmed", sys, fmt.Sprintf("Manual isolation of %s confirmed by %s.", sys, r.By))
		return fmt.Sprintf("isolation of %s confirmed by %s", sys, r.By), nil
	}
}

// changeStateAfterSignal is the workflow.GetVersion change after which approve and file change
// the obligation's state and pending steps only once the signal to the clock has succeeded.
// Before it they changed first, and a failed signal left the step neither pending nor done.
// The order matters to replay: pending steps feed the card, whose updates are commands.
const changeStateAfterSignal = "approve-file-state-after-signal"

func (inc *incidentImpl) stateAfterSignal(ctx workflow.Context) bool {
	return workflow.GetVersion(ctx, changeStateAfterSignal, workflow.DefaultVersion, 1) == 1
}

// advanceObligation moves an obligation from one state to the next, unless its clock has
// reported a later state meanwhile.
func (inc *incidentImpl) advanceObligation(id, from, to string) {
	for i := range inc.rec.Obligations {
		if inc.rec.Obligations[i].ID == id && inc.rec.Obligations[i].State == from {
			inc.rec.Obligations[i].State = to
		}
	}
}

// acting marks a step as being acted on until the returned function runs: a second request for
// the same step is refused meanwhile, so that two approvals cannot both pass validation.
func (inc *incidentImpl) acting(step string) func() {
	if inc.inFlight == nil {
		inc.inFlight = map[string]bool{}
	}
	inc.inFlight[step] = true
	return func() { delete(inc.inFlight, step) }
}

// busy refuses a request for a step another request is acting on.
func (inc *incidentImpl) busy(step string) error {
	if inc.inFlight[step] {
		return fmt.Errorf("%s is being acted on by another request right now; look at breach status in a moment", step)
	}
	return nil
}

func (inc *incidentImpl) validateFile(ctx workflow.Context, r incident.FileRequest) error {
	if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
		return err
	}
	o, ok := inc.obligation(r.Obligation)
	if !ok {
		return fmt.Errorf("no obligation %q in incident %s (%s)", r.Obligation, inc.decl.IncidentID, inc.knownSteps())
	}
	if o.State != incident.OblAwaitingFiling {
		return fmt.Errorf("%s does not wait for a portal filing: it is %s", r.Obligation, o.State)
	}
	if err := inc.paused(o); err != nil {
		return err
	}
	if err := inc.busy(incident.FileStep(r.Obligation)); err != nil {
		return err
	}
	if strings.TrimSpace(r.Reference) == "" {
		return fmt.Errorf("a filing needs the authority's reference number: add --reference")
	}
	if now := workflow.Now(ctx); now.After(o.DueAt) && strings.TrimSpace(r.Reasons) == "" {
		return lateError(o, now)
	}
	return nil
}

func (inc *incidentImpl) file(ctx workflow.Context, r incident.FileRequest) (string, error) {
	if r.Signature != nil {
		inc.eventAbout(ctx, "filing-confirmed", r.Obligation, fmt.Sprintf("Filing of %s on the authority's portal confirmed by %s, reference %s.", r.Obligation, r.By, r.Reference))
	}
	step := incident.FileStep(r.Obligation)
	if !inc.stateAfterSignal(ctx) {
		inc.advanceObligation(r.Obligation, incident.OblAwaitingFiling, incident.OblSubmitting)
		inc.removePending(step)
	}
	defer inc.acting(step)()
	if err := workflow.SignalExternalWorkflow(ctx, incident.ObligationWorkflowID(inc.decl.IncidentID, r.Obligation), "", signalFileReport,
		filing{FileRequest: r, At: workflow.Now(ctx).UTC(), Containment: inc.containmentSnapshot(), Delays: inc.delaysSnapshot()}).Get(ctx, nil); err != nil {
		return "", fmt.Errorf("pass the filing to the %s clock: %w; it still waits for the filing to be confirmed, confirm it again", r.Obligation, err)
	}
	inc.advanceObligation(r.Obligation, incident.OblAwaitingFiling, incident.OblSubmitting)
	inc.removePending(step)
	return fmt.Sprintf("%s filed by %s, reference %s", r.Obligation, r.By, r.Reference), nil
}

func (inc *incidentImpl) validateClose(ctx workflow.Context, r incident.CloseRequest) error {
	if err := inc.requireRole(incident.RoleCommander, r.By); err != nil {
		return err
	}
	if inc.closeReq != nil {
		return fmt.Errorf("already closed by %s", inc.closeReq.By)
	}
	if out := inc.outstanding(); len(out) > 0 {
		return fmt.Errorf("cannot close yet: %s", strings.Join(out, "; "))
	}
	return nil
}

func (inc *incidentImpl) close(ctx workflow.Context, r incident.CloseRequest) (string, error) {
	inc.closeReq = &r
	return "closing " + inc.decl.IncidentID, nil
}

func (inc *incidentImpl) validateReplaceSubjects(ctx workflow.Context, r incident.ReplaceSubjectsRequest) error {
	if inc.decl.Roles.Has(incident.RoleDPO, r.By) {
		// The DPO may also correct the dataset.
	} else if err := inc.requireRole(incident.RoleCommander, r.By); err != nil {
		return err
	}
	if inc.rec.ScopeError == "" {
		return fmt.Errorf("the scope phase does not wait for a dataset (%s)", inc.knownSteps())
	}
	if strings.TrimSpace(r.Subjects.URI) == "" {
		return fmt.Errorf("no dataset given: pass --subjects FILE.csv")
	}
	return nil
}

func (inc *incidentImpl) replaceSubjects(ctx workflow.Context, r incident.ReplaceSubjectsRequest) (string, error) {
	inc.replaceReq = &r
	inc.event(ctx, "subjects-replaced", "A corrected subjects dataset was provided by "+r.By+".")
	return "scope will be assessed again", nil
}

// approval and filing are the signals that carry a validated human decision to a child.
// Containment is the containment state when the person acted, for the submitted report.
// Delays are the law-enforcement delays recorded by then, for the report.
type approval struct {
	incident.ApproveRequest
	At          time.Time                      `json:"at"`
	Containment []incident.SystemStatus        `json:"containment,omitempty"`
	Delays      []incident.LawEnforcementDelay `json:"delays,omitempty"`
}

type filing struct {
	incident.FileRequest
	At          time.Time                      `json:"at"`
	Containment []incident.SystemStatus        `json:"containment,omitempty"`
	Delays      []incident.LawEnforcementDelay `json:"delays,omitempty"`
}

func (inc *incidentImpl) containmentSnapshot() []incident.SystemStatus {
	return append([]incident.SystemStatus{}, inc.rec.Containment...)
}

func (inc *incidentImpl) delaysSnapshot() []incident.LawEnforcementDelay {
	if len(inc.rec.Delays) == 0 {
		return nil
	}
	return append([]incident.LawEnforcementDelay{}, inc.rec.Delays...)
}
