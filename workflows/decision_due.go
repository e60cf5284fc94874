package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/internal/rules"
)

// changeDecisionDueFromRules is the workflow.GetVersion change after which the DPO's decision
// is due at the earliest deadline the rules give the incident's facts were it notifiable at the
// highest risk: a HIPAA-only incident gets HIPAA's clock, a DORA entity DORA's four hours, an
// incident no regime covers no deadline. The rules run in the recorded activity (evaluate), so
// an edit of the rulebook never changes a running incident's replay. Before it, every incident
// was given GDPR's 72 hours after awareness.
const changeDecisionDueFromRules = "decision-due-from-rules"

// decisionDue is when the DPO's decision is due and why ("" and the zero time: no regime
// sets a deadline for these facts).
func (inc *incidentImpl) decisionDue(ctx workflow.Context) (time.Time, string) {
	aware := inc.decl.AwareAt.UTC()
	if workflow.GetVersion(ctx, changeDecisionDueFromRules, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return aware.Add(72 * time.Hour), "GDPR Art. 33"
	}
	res, err := inc.evaluate(ctx, inc.facts(Decision{Risk: "high", SignificantIncident: true}))
	if err != nil {
		// The facts were checked at declaration; should the rules still refuse them, the
		// decision is due as GDPR would have it, and the decision's own evaluation says why.
		inc.event(ctx, "decision-due", fmt.Sprintf("The deadlines could not be worked out before the decision (%v); the decision is asked for within GDPR's 72 hours.", err))
		return aware.Add(72 * time.Hour), "GDPR Art. 33"
	}
	return earliestDue(inc.drillObligations(res.Obligations))
}

// drillObligations compresses each obligation's clock as the drill's scale says.
func (inc *incidentImpl) drillObligations(obls []rules.Obligation) []rules.Obligation {
	out := make([]rules.Obligation, len(obls))
	for i, o := range obls {
		out[i] = inc.drillClock(o)
	}
	return out
}

// earliestDue is the first deadline among obls, with the obligation's basis.
func earliestDue(obls []rules.Obligation) (time.Time, string) {
	var due time.Time
	basis := ""
	for _, o := range obls {
		if o.DueAt.IsZero() {
			continue
		}
		if due.IsZero() || o.DueAt.Before(due) {
			due, basis = o.DueAt.UTC(), o.Basis
		}
	}
	return due, basis
}
