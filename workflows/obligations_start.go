package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// startObligations evaluates the rules and starts one clock per obligation, and the customer
// alerts when an obligation or the decision calls for them. From then on, facts that change (a
// corrected dataset, a filing that starts a chained clock, an amended decision) re-evaluate the
// rules: new obligations start, none already running is lost.
func (inc *incidentImpl) startObligations(ctx workflow.Context) error {
	newNotices, err := inc.evaluateObligations(ctx, "after the DPO's decision")
	if err != nil {
		return err
	}
	if newNotices || inc.rec.Decision.NotifySubjects {
		inc.alertsWanted++
	} else {
		inc.rec.Alerts = incident.AlertProgress{State: incident.AlertsNotRequired}
	}
	workflow.Go(ctx, inc.runAlerts)
	workflow.Go(ctx, inc.reevaluate)
	return nil
}

// reevaluate runs the rules again whenever facts change.
func (inc *incidentImpl) reevaluate(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return inc.reevalReason != "" }); err != nil {
			return
		}
		why := inc.reevalReason
		inc.reevalReason = ""
		newNotices, err := inc.evaluateObligations(ctx, why)
		if err != nil {
			inc.event(ctx, "obligations-failed", "Re-evaluating the obligations failed: "+err.Error())
			continue
		}
		if newNotices || (inc.datasetChanged && inc.alertsWanted > 0) {
			inc.alertsWanted++
		}
		inc.datasetChanged = false
	}
}

// filedAt lists the filings so far: chained clocks run from them.
func (inc *incidentImpl) filedAt() map[string]time.Time {
	out := map[string]time.Time{}
	for _, o := range inc.rec.Obligations {
		if o.State == incident.OblFiled && !o.SubmittedAt.IsZero() {
			out[o.ID] = o.SubmittedAt
		}
	}
	return out
}

// evaluateObligations applies the rules to the current facts and starts a clock for every
// obligation not yet running. It reports whether a new obligation is a notice to people.
func (inc *incidentImpl) evaluateObligations(ctx workflow.Context, why string) (newNotices bool, err error) {
	inc.evaluating = true
	defer func() { inc.evaluating = false }()
	f := inc.facts(*inc.rec.Decision)
	f.Submitted = inc.filedAt()
	res, err := inc.evaluate(ctx, f)
	if err != nil {
		return false, fmt.Errorf("evaluate obligations: %w", err)
	}
	first := len(inc.rec.Obligations) == 0
	added := inc.newObligations(ctx, res)
	inc.announceObligations(ctx, why, first, added, res.NotRequired)

	authorityRoutes := len(added) > 0 && workflow.GetVersion(ctx, changeAuthorityRoutes, workflow.DefaultVersion, 1) == 1
	var started []workflow.Future
	for _, o := range added {
		if o.IsNotice() {
			newNotices = true
		}
		started = append(started, inc.startClock(ctx, o, authorityRoutes))
	}
	// Every clock must be running before anything signals it.
	for _, fut := range started {
		if err := fut.Get(ctx, nil); err != nil {
			return newNotices, fmt.Errorf("start an obligation clock: %w", err)
		}
	}
	return newNotices, nil
}

// newObligations are the obligations of res not running yet, on the drill's clock; what the
// facts no longer require is kept running (and said so) or noted as not required.
func (inc *incidentImpl) newObligations(ctx workflow.Context, res rules.Result) []rules.Obligation {
	running := map[string]bool{}
	for _, o := range inc.rec.Obligations {
		running[o.ID] = true
	}
	var added []rules.Obligation
	for _, o := range res.Obligations {
		if !running[o.ID] {
			added = append(added, inc.drillClock(o))
		}
	}
	inc.rec.NotRequired = inc.rec.NotRequired[:0]
	for _, n := range res.NotRequired {
		if running[n.ID] {
			inc.event(ctx, "obligation-kept", fmt.Sprintf("%s keeps running although the facts no longer require it (%s); close it by filing.", n.ID, n.Reason))
			continue
		}
		inc.rec.NotRequired = append(inc.rec.NotRequired, n)
	}
	return added
}

// announceObligations tells the timeline and the room which obligations the evaluation added
// (the first one also what is not required, and why).
func (inc *incidentImpl) announceObligations(ctx workflow.Context, why string, first bool, added []rules.Obligation, notRequired []rules.NotRequired) {
	var lines []string
	for _, o := range added {
		lines = append(lines, fmt.Sprintf("%s (%s, to %s) due %s", o.ID, o.Basis, o.Audience, o.DueAt.UTC().Format(time.RFC3339)))
	}
	if first {
		for _, n := range notRequired {
			lines = append(lines, fmt.Sprintf("not required: %s: %s", n.ID, n.Reason))
		}
	}
	switch {
	case first && len(added) == 0:
		inc.event(ctx, "obligations", "No notification is required. "+strings.Join(lines, "; "))
		inc.chat("obligations", "No notification is required. "+strings.Join(lines, "; "), false)
	case first:
		inc.event(ctx, "obligations", "Obligations: "+strings.Join(lines, "; "))
		inc.chat("obligations", "Obligations: "+strings.Join(lines, "; "), false)
	case len(added) > 0:
		text := fmt.Sprintf("New obligations %s: %s", why, strings.Join(lines, "; "))
		inc.event(ctx, "obligations-added", text)
		inc.chat("obligations-added", text, true)
	}
}

// startClock starts the obligation's clock as a child (paused when a law-enforcement delay is
// in force for it) and returns the future of its start.
func (inc *incidentImpl) startClock(ctx workflow.Context, o rules.Obligation, authorityRoutes bool) workflow.Future {
	kind := KindReport
	if o.IsNotice() {
		kind = KindNotice
	}
	status := incident.ObligationStatus{Obligation: o, State: incident.OblDrafting}
	var startPaused *clockDelay
	if p := inc.startPaused(ctx, o); p != nil {
		status.Paused, status.RulesDueAt = p, o.DueAt
		startPaused = &clockDelay{Delay: p.Delay, At: p.From, Until: p.Until, Limit: p.Limit}
	}
	inc.rec.Obligations = append(inc.rec.Obligations, status)
	route := inc.route(o.ID)
	if authorityRoutes {
		route = incident.RouteFor(o, inc.decl.Routes, inc.decl.Authorities)
		inc.authorityResolved(ctx, o, route)
	}
	in := ObligationInput{IncidentID: inc.decl.IncidentID, Drill: inc.decl.Drill, TimeScale: inc.decl.TimeScale, Obligation: o, Kind: kind, Route: route,
		Report: inc.reportInput(o, route), Delay: startPaused}
	if inc.tracked {
		in.Reminders, in.Budget = inc.decl.Reminders, inc.decl.Budget
	}
	cctx := workflow.WithChildOptions(ctx, inc.childOptions(incident.ObligationWorkflowID(inc.decl.IncidentID, o.ID)))
	fut := workflow.ExecuteChildWorkflow(cctx, ObligationWorkflow, in)
	if !inc.tracked {
		// Untracked clocks (from before resumable incidents) report their end here.
		id := o.ID
		workflow.Go(ctx, func(ctx workflow.Context) {
			var st incident.ObligationStatus
			if err := fut.Get(ctx, &st); err != nil {
				inc.clockFailed(ctx, id, err)
				return
			}
			inc.applyChildState(childState{Obligation: &st})
		})
	}
	// A tracked clock is followed by its reports, its failure included: they outlive this run.
	return fut.GetChildWorkflowExecution()
}

// changeAuthorityRoutes is the workflow.GetVersion change after which an obligation owed to a
// named authority (a resolved GDPR authority, the ICO, the FDPIC) takes the authority's channel
// from the directory, with the configuration's changes (incident.RouteFor), and the reasoning
// that resolved the authority is put on the timeline. Before it, every obligation without a
// configured route was a portal filing named by its audience.
const changeAuthorityRoutes = "obligation-authority-routes"

// authorityResolved puts on the timeline which authority an obligation is owed to, why, and how
// its report will reach it.
func (inc *incidentImpl) authorityResolved(ctx workflow.Context, o rules.Obligation, r incident.Route) {
	if o.Authority == nil {
		return
	}
	how := "filed by a person"
	if w := r.Where(); w != "" {
		how += " through " + w
	}
	if r.Method == incident.RouteEmail {
		how = "sent by email to " + r.Address
	}
	text := fmt.Sprintf("%s is owed to %s. Its report is %s.", o.ID, o.Audience, how)
	if len(o.Reasoning) > 0 {
		text += " How the authority was determined: " + strings.Join(o.Reasoning, "; ") + "."
	}
	inc.eventAbout(ctx, "authority", o.ID, text)
}

func (inc *incidentImpl) route(obligationID string) incident.Route {
	for _, r := range inc.decl.Routes {
		if r.Obligation == obligationID {
			return r
		}
	}
	return incident.Route{Obligation: obligationID, Method: "portal"}
}

func (inc *incidentImpl) reportInput(o rules.Obligation, r incident.Route) incident.ReportInput {
	d := *inc.rec.Decision
	in := incident.ReportInput{
		IncidentID: inc.decl.IncidentID, Title: inc.decl.Title, Description: inc.decl.Description, Drill: inc.decl.Drill,
		Obligation: o, Organisation: inc.decl.Organisation, AwareAt: inc.decl.AwareAt.UTC(), AwareZone: inc.decl.AwareZone,
		DeclaredBy: inc.decl.DeclaredBy, Systems: inc.decl.Systems, Containment: append([]incident.SystemStatus{}, inc.rec.Containment...), Delays: inc.delaysSnapshot(),
		Decision: d, NotifySubjects: d.NotifySubjects, RecipientName: routeName(r, o), RecipientAddress: r.Address,
		Languages: inc.decl.Languages,
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

// changeRulesRecorded is the workflow.GetVersion change after which the obligations are
// computed by an activity and recorded in the history with the rulebook's version: an edit of
// the rules, a holiday calendar or the time zones changes what new incidents are told, never
// what a running one replays. Before it the workflow evaluated the rules itself.
const changeRulesRecorded = "obligations-rules-recorded"

// evaluate applies the rules to the facts.
func (inc *incidentImpl) evaluate(ctx workflow.Context, f rules.Facts) (rules.Result, error) {
	if workflow.GetVersion(ctx, changeRulesRecorded, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return rules.Evaluate(f)
	}
	var res rules.Result
	lctx := workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 3, NonRetryableErrorTypes: []string{incident.ErrTypeInvalidFacts}},
	})
	if err := workflow.ExecuteLocalActivity(lctx, a.EvaluateObligations, f).Get(ctx, &res); err != nil {
		return rules.Result{}, errors.New(applicationMessage(err))
	}
	inc.rec.Rulebook = res.Rulebook
	return res, nil
}
