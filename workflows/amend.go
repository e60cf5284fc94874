package workflows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

func (inc *incidentImpl) amended(r incident.AmendRequest) incident.Decision {
	d := *inc.rec.Decision
	if r.SignificantIncident != nil {
		d.SignificantIncident = *r.SignificantIncident
	}
	if r.MaterialityDeterminedAt != nil {
		t := r.MaterialityDeterminedAt.UTC()
		d.MaterialityDeterminedAt = &t
	}
	return d
}

func (inc *incidentImpl) validateAmend(ctx workflow.Context, r incident.AmendRequest) error {
	if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
		return err
	}
	if inc.rec.Decision == nil {
		return fmt.Errorf("nothing to amend yet: the DPO has not decided (%s)", inc.knownSteps())
	}
	if inc.closeReq != nil {
		return fmt.Errorf("incident %s is closed", inc.decl.IncidentID)
	}
	if r.Subjects == nil && r.SignificantIncident == nil && r.MaterialityDeterminedAt == nil {
		return fmt.Errorf("nothing to amend: give a corrected dataset, a significance finding or a materiality determination")
	}
	if r.Subjects != nil && strings.TrimSpace(r.Subjects.URI) == "" {
		return fmt.Errorf("no dataset given: pass --subjects FILE.csv")
	}
	if r.MaterialityDeterminedAt != nil && r.MaterialityDeterminedAt.After(workflow.Now(ctx).Add(time.Minute)) {
		return fmt.Errorf("materiality_determined_at %s is in the future", r.MaterialityDeterminedAt.UTC().Format(time.RFC3339))
	}
	if _, err := rules.Evaluate(inc.facts(inc.amended(r))); err != nil {
		return inc.unevaluable(err, "amendment")
	}
	return nil
}

func (inc *incidentImpl) amend(ctx workflow.Context, r incident.AmendRequest) (string, error) {
	var changes []string
	if r.Subjects != nil {
		ds, err := inc.snapshot(ctx, *r.Subjects)
		if err != nil {
			return "", fmt.Errorf("the corrected dataset was not taken: %s", applicationMessage(err))
		}
		var res incident.ScopeResult
		if err := workflow.ExecuteActivity(scopeCtx(ctx), a.AssessScope, incident.ScopeInput{
			IncidentID: inc.decl.IncidentID, Dataset: ds,
		}).Get(ctx, &res); err != nil {
			return "", fmt.Errorf("the corrected dataset was not taken: %s", applicationMessage(err))
		}
		inc.rec.Scope = &res.Summary
		inc.rec.Dataset = res.Dataset
		inc.datasetChanged = true
		changes = append(changes, "dataset: "+scopeText(res.Summary))
	}
	d := inc.amended(r)
	inc.rec.Decision = &d
	if r.SignificantIncident != nil {
		changes = append(changes, fmt.Sprintf("significant incident (NIS2): %t", d.SignificantIncident))
	}
	if r.MaterialityDeterminedAt != nil {
		changes = append(changes, "materiality determined at "+d.MaterialityDeterminedAt.Format(time.RFC3339))
	}
	text := fmt.Sprintf("Facts amended by %s: %s", r.By, strings.Join(changes, "; "))
	if r.Note != "" {
		text += ". " + r.Note
	}
	inc.event(ctx, "amended", text)
	inc.chat("amended", text, false)
	inc.reevalReason = "after the facts were amended"
	return "amended; obligations are re-evaluated", nil
}

func (inc *incidentImpl) validateSupplement(ctx workflow.Context, r incident.SupplementRequest) error {
	if err := inc.requireRole(incident.RoleDPO, r.By); err != nil {
		return err
	}
	o, ok := inc.obligation(r.Obligation)
	if !ok {
		return fmt.Errorf("no obligation %q in incident %s", r.Obligation, inc.decl.IncidentID)
	}
	if o.IsNotice() {
		return fmt.Errorf("%s is met by the customer notices; there is no report to supplement", o.ID)
	}
	if o.State != incident.OblFiled {
		return fmt.Errorf("%s is %s: a supplement follows a filed report", o.ID, o.State)
	}
	if inc.closeReq != nil {
		return fmt.Errorf("incident %s is closing (by %s): it takes no more supplements", inc.decl.IncidentID, inc.closeReq.By)
	}
	if strings.TrimSpace(r.Note) == "" {
		return fmt.Errorf("say what the supplement adds: --note")
	}
	return nil
}

func (inc *incidentImpl) supplement(ctx workflow.Context, r incident.SupplementRequest) (incident.Supplement, error) {
	o, _ := inc.obligation(r.Obligation)
	route := inc.route(o.ID)
	in := inc.reportInput(o.Obligation, route)
	// In the language the report was written in (English for reports without one).
	in.Language = o.Language
	// The number is taken before anything yields: two supplements at once get two numbers.
	in.Sequence = inc.nextSupplement(o)
	in.Supplement = r.Note
	in.SubmittedAt = workflow.Now(ctx).UTC()
	if route.Method != "email" || inc.decl.Drill {
		in.RecipientAddress = ""
	}
	var sub incident.Submission
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, in).Get(ctx, &sub); err != nil {
		return incident.Supplement{}, fmt.Errorf("submit supplement %d of %s: %w", in.Sequence, o.ID, err)
	}
	s := incident.Supplement{Sequence: in.Sequence, At: in.SubmittedAt, By: r.By, Note: r.Note, Report: sub.Path, Reference: r.Reference}
	if s.Reference == "" {
		s.Reference = sub.MessageID
	}
	for i := range inc.rec.Obligations {
		if inc.rec.Obligations[i].ID == o.ID {
			sups := append(inc.rec.Obligations[i].Supplements, s)
			sort.SliceStable(sups, func(a, b int) bool { return sups[a].Sequence < sups[b].Sequence })
			inc.rec.Obligations[i].Supplements = sups
		}
	}
	inc.event(ctx, "supplement", fmt.Sprintf("Supplement %d to %s submitted by %s: %s", s.Sequence, o.ID, r.By, s.Report))
	return s, nil
}

// nextSupplement hands out the next supplement number of an obligation.
func (inc *incidentImpl) nextSupplement(o incident.ObligationStatus) int {
	if inc.supplements == nil {
		inc.supplements = map[string]int{}
	}
	n := max(inc.supplements[o.ID], len(o.Supplements)) + 1
	inc.supplements[o.ID] = n
	return n
}
