package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/rules"
)

// isSubjectNotice tells obligations met by the customer alerts from reports to authorities.
func isSubjectNotice(o rules.Obligation) bool {
	return strings.HasSuffix(o.Template, "-notice") && !strings.Contains(o.Template, "media")
}

// startObligations evaluates the rules and starts one clock per obligation, and the customer
// alerts when the decision calls for them.
func (inc *incidentImpl) startObligations(ctx workflow.Context) error {
	d := *inc.rec.Decision
	res, err := rules.Evaluate(inc.facts(d))
	if err != nil {
		return fmt.Errorf("evaluate obligations: %w", err)
	}
	inc.rec.NotRequired = res.NotRequired
	var lines []string
	for _, o := range res.Obligations {
		lines = append(lines, fmt.Sprintf("%s (%s, to %s) due %s", o.ID, o.Basis, o.Audience, o.DueAt.UTC().Format(time.RFC3339)))
	}
	for _, n := range res.NotRequired {
		lines = append(lines, fmt.Sprintf("not required: %s: %s", n.ID, n.Reason))
	}
	text := "Obligations: " + strings.Join(lines, "; ")
	if len(res.Obligations) == 0 {
		text = "No notification is required. " + strings.Join(lines, "; ")
	}
	inc.event(ctx, "obligations", text)
	inc.chat("obligations", text, false)

	needAlerts := d.NotifySubjects
	var started []workflow.Future
	for _, o := range res.Obligations {
		kind := KindReport
		if isSubjectNotice(o) {
			kind = KindNotice
			needAlerts = true
		}
		inc.rec.Obligations = append(inc.rec.Obligations, ObligationStatus{Obligation: o, State: OblDrafting})
		route := inc.route(o.ID)
		in := ObligationInput{IncidentID: inc.decl.IncidentID, Drill: inc.decl.Drill, Obligation: o, Kind: kind, Route: route,
			Report: inc.reportInput(o, route)}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: ObligationWorkflowID(inc.decl.IncidentID, o.ID)})
		f := workflow.ExecuteChildWorkflow(cctx, ObligationWorkflow, in)
		started = append(started, f.GetChildWorkflowExecution())
		id := o.ID
		workflow.Go(ctx, func(ctx workflow.Context) {
			var st ObligationStatus
			if err := f.Get(ctx, &st); err != nil {
				inc.event(ctx, "obligation-failed", fmt.Sprintf("The %s clock failed: %v", id, err))
				inc.chat("obligation-failed", fmt.Sprintf("The %s clock failed: %v. File it by hand and record it in the register.", id, err), true)
				return
			}
			inc.applyChildState(childState{Obligation: &st})
		})
	}
	// Every clock must be running before anything signals it.
	for _, f := range started {
		if err := f.Get(ctx, nil); err != nil {
			return fmt.Errorf("start an obligation clock: %w", err)
		}
	}
	if !needAlerts {
		inc.rec.Alerts = AlertProgress{State: AlertsNotRequired}
		inc.alertsDone = true
		return nil
	}
	inc.startAlerts(ctx)
	return nil
}

func (inc *incidentImpl) route(obligationID string) Route {
	for _, r := range inc.decl.Routes {
		if r.Obligation == obligationID {
			return r
		}
	}
	return Route{Obligation: obligationID, Method: "portal"}
}

func (inc *incidentImpl) reportInput(o rules.Obligation, r Route) activities.ReportInput {
	d := *inc.rec.Decision
	in := activities.ReportInput{
		IncidentID: inc.decl.IncidentID, Title: inc.decl.Title, Description: inc.decl.Description, Drill: inc.decl.Drill,
		Obligation: o, Organisation: inc.decl.Organisation, AwareAt: inc.decl.AwareAt.UTC(), AwareZone: inc.decl.AwareZone,
		DeclaredBy: inc.decl.DeclaredBy, Systems: inc.decl.Systems, Containment: append([]SystemStatus{}, inc.rec.Containment...),
		Decision: d, NotifySubjects: d.NotifySubjects, RecipientName: routeName(r, o), RecipientAddress: r.Address,
	}
	if !d.NotifySubjects {
		in.SubjectsReason = "no high risk to the rights and freedoms of the data subjects (Art. 34(1))"
		if d.EncryptedUnintelligible {
			in.SubjectsReason = "the data is unintelligible to any person not authorised to access it (Art. 34(3)(a))"
		}
	}
	if inc.rec.Scope != nil {
		in.Scope = *inc.rec.Scope
	}
	return in
}
