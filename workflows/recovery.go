package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeRecoverableFailures is the workflow.GetVersion change after which a failed obligation
// clock or alerts run is recorded as failed, with a step for a person to resolve or retry it,
// instead of only a timeline event (which left the incident unable to close).
const changeRecoverableFailures = "recoverable-failures"

// clockFailed records an obligation clock that failed.
func (inc *incidentImpl) clockFailed(ctx workflow.Context, id string, err error) {
	why := applicationMessage(err)
	inc.event(ctx, "obligation-failed", fmt.Sprintf("The %s clock failed: %s", id, why))
	if workflow.GetVersion(ctx, changeRecoverableFailures, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		inc.chat("obligation-failed", fmt.Sprintf("The %s clock failed: %v. File it by hand and record it in the register.", id, err), true)
		return
	}
	for i := range inc.rec.Obligations {
		if o := &inc.rec.Obligations[i]; o.ID == id && o.State != incident.OblFiled {
			o.State, o.Failure = incident.OblFailed, why
		}
	}
	o, _ := inc.obligation(id)
	how := fmt.Sprintf("breach resolve %s --obligation %s --filed-by-hand --reference REF --as <dpo>", inc.decl.IncidentID, id)
	inc.addPending(ctx, incident.PendingStep{Step: incident.ResolveStep(id), Role: incident.RoleDPO, DueAt: o.DueAt,
		Description: fmt.Sprintf("The %s clock failed (%s): file the report by hand, then record it", id, why)})
	inc.chatMsg(incident.ChatMessage{Kind: incident.MsgObligationFailed, Urgent: true, Obligation: id, DueAt: o.DueAt,
		Step: incident.ResolveStep(id),
		Text: fmt.Sprintf("The %s clock failed: %s. File the report by hand, then record it: %s", id, why, how)})
}

// alertsFailed records an alerts run that stopped.
func (inc *incidentImpl) alertsFailed(ctx workflow.Context, err error) {
	why := applicationMessage(err)
	inc.event(ctx, "alerts-failed", "Customer alerts stopped: "+why)
	if workflow.GetVersion(ctx, changeRecoverableFailures, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		inc.chat("alerts-failed", "Customer alerts stopped: "+why, true)
		return
	}
	inc.rec.Alerts.State, inc.rec.Alerts.Error = incident.AlertsFailed, why
	inc.addPending(ctx, incident.PendingStep{Step: incident.StepRetryAlerts, Role: incident.RoleCommander,
		Description: "Customer alerts stopped (" + why + "): retry them, or record how the people were told"})
	inc.chatMsg(incident.ChatMessage{Kind: incident.MsgAlertsFailed, Urgent: true, Step: incident.StepRetryAlerts,
		Text: fmt.Sprintf("Customer alerts stopped: %s. Retry them where they stopped (nobody gets a notice twice): breach retry %s --alerts --as <commander>; or, if the people were told by other means: breach resolve %s --alerts --by-other-means --note \"…\" --as <commander>",
			why, inc.decl.IncidentID, inc.decl.IncidentID)})
}

func (inc *incidentImpl) validateResolve(ctx workflow.Context, r incident.ResolveRequest) error {
	switch {
	case r.Obligation != "" && r.Alerts:
		return fmt.Errorf("resolve one thing at a time: an obligation (--obligation) or the alerts (--alerts)")
	case r.Obligation != "":
		return inc.validateResolveObligation(ctx, r)
	case r.Alerts:
		if err := inc.requireRole(incident.RoleCommander, r.By); err != nil && !inc.decl.Roles.Has(incident.RoleDPO, r.By) {
			return err
		}
		if inc.rec.Alerts.State != incident.AlertsFailed {
			return fmt.Errorf("the customer alerts have not failed: they are %s", alertState(inc.rec.Alerts.State))
		}
		if !r.ByOtherMeans {
			return fmt.Errorf("say how the alerts are resolved: --by-other-means (the people were told another way); or retry them: breach retry %s --alerts", inc.decl.IncidentID)
		}
		if strings.TrimSpace(r.Note) == "" {
			return fmt.Errorf("the register must say how the people were told: add --note")
		}
		return inc.busy(incident.StepRetryAlerts)
	}
	return fmt.Errorf("nothing to resolve: give --obligation ID --filed-by-hand --reference REF, or --alerts --by-other-means --note TEXT")
}

func (inc *incidentImpl) validateResolveObligation(ctx workflow.Context, r incident.ResolveRequest) error {
	if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
		return err
	}
	o, ok := inc.obligation(r.Obligation)
	switch {
	case !ok:
		return fmt.Errorf("no obligation %q in incident %s (%s)", r.Obligation, inc.decl.IncidentID, inc.knownSteps())
	case o.State != incident.OblFailed:
		return fmt.Errorf("%s has not failed: it is %s; resolve is for a clock that failed", o.ID, o.State)
	case !r.FiledByHand:
		return fmt.Errorf("say how %s was met: --filed-by-hand, with the authority's --reference", o.ID)
	case strings.TrimSpace(r.Reference) == "":
		return fmt.Errorf("a filing by hand needs the authority's reference number: add --reference")
	}
	if now := workflow.Now(ctx); now.After(o.DueAt) && strings.TrimSpace(r.Reasons) == "" {
		return lateError(o, now)
	}
	return inc.busy(incident.ResolveStep(o.ID))
}

func (inc *incidentImpl) resolve(ctx workflow.Context, r incident.ResolveRequest) (string, error) {
	now := workflow.Now(ctx).UTC()
	if r.Alerts {
		inc.rec.Alerts.State = incident.AlertsResolved
		inc.rec.Alerts.Resolution = fmt.Sprintf("told by other means, recorded by %s at %s: %s", r.By, now.Format(time.RFC3339), r.Note)
		inc.rec.Alerts.UpdatedAt = now
		inc.alertsRun = inc.alertsWanted
		inc.alertsStarted = inc.alertsWanted
		inc.removePending(incident.StepRetryAlerts)
		inc.eventAbout(ctx, "alerts-resolved", "alerts", fmt.Sprintf("Customer alerts resolved by %s: the people were told by other means. %s", r.By, r.Note))
		inc.noticesComplete(ctx, inc.rec.Alerts.Sent)
		return "customer alerts recorded as done by other means", nil
	}
	for i := range inc.rec.Obligations {
		o := &inc.rec.Obligations[i]
		if o.ID != r.Obligation {
			continue
		}
		o.State, o.ByHand, o.Failure = incident.OblFiled, true, ""
		o.Reference, o.SubmittedAt, o.SubmittedBy = r.Reference, now, r.By
		o.Late = now.After(o.DueAt)
		if r.Reasons != "" {
			o.Reasons = r.Reasons
		}
	}
	inc.removePending(incident.ResolveStep(r.Obligation))
	inc.eventAbout(ctx, "resolved-by-hand", r.Obligation, fmt.Sprintf("%s filed by hand, recorded by %s: reference %s.", r.Obligation, r.By, r.Reference))
	// A filing may start a chained clock.
	inc.reevalReason = "after " + r.Obligation + " was filed by hand"
	return fmt.Sprintf("%s recorded as filed by hand, reference %s", r.Obligation, r.Reference), nil
}

func (inc *incidentImpl) validateRetry(ctx workflow.Context, r incident.RetryRequest) error {
	if err := inc.requireRole(incident.RoleCommander, r.By); err != nil && !inc.decl.Roles.Has(incident.RoleDPO, r.By) {
		return err
	}
	if !r.Alerts {
		return fmt.Errorf("say what to retry: --alerts")
	}
	if inc.rec.Alerts.State != incident.AlertsFailed {
		return fmt.Errorf("the customer alerts have not failed: they are %s", alertState(inc.rec.Alerts.State))
	}
	return inc.busy(incident.StepRetryAlerts)
}

func (inc *incidentImpl) retry(ctx workflow.Context, r incident.RetryRequest) (string, error) {
	inc.rec.Alerts.State, inc.rec.Alerts.Error = incident.AlertsSending, ""
	inc.removePending(incident.StepRetryAlerts)
	inc.alertsWanted++
	inc.eventAbout(ctx, "alerts-retried", "alerts", fmt.Sprintf("Customer alerts retried by %s; they resume where the notification ledger stands.", r.By))
	return "customer alerts retried", nil
}

func alertState(s string) string {
	if s == "" {
		return "not started"
	}
	return s
}
