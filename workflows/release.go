package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

func (inc *incidentImpl) validateRelease(ctx workflow.Context, r incident.ReleaseRequest) error {
	if err := inc.requireRole(incident.RoleCommander, r.By); err != nil {
		return err
	}
	idx := -1
	for i, s := range inc.rec.Containment {
		if s.System == r.System {
			idx = i
		}
	}
	if idx < 0 {
		return fmt.Errorf("no system %q in incident %s; systems: %s", r.System, inc.decl.IncidentID, strings.Join(inc.decl.Systems, ", "))
	}
	s := inc.rec.Containment[idx]
	switch {
	case !inc.contain.holding:
		return fmt.Errorf("incident %s was declared before breach could release isolations: lift the isolation of %s through its firewall (%s) by hand",
			inc.decl.IncidentID, r.System, s.Provider)
	case inc.closeReq != nil:
		return fmt.Errorf("incident %s is closing; the close decides whether isolations are released (containment.release_on_close)", inc.decl.IncidentID)
	case s.State == incident.ContainReleased:
		return fmt.Errorf("%s is already released (%s, at %s)", r.System, s.Detail, s.Updated.UTC().Format(time.RFC3339))
	case s.State != incident.ContainContained:
		return fmt.Errorf("%s is not contained: it is %s; only a contained system can be released", r.System, s.State)
	case inc.containEnded(idx):
		return fmt.Errorf("the containment of %s has ended; lift the isolation through its firewall (%s) by hand", r.System, s.Provider)
	case inc.contain.releasing[r.System]:
		return fmt.Errorf("a release of %s is already in progress", r.System)
	case s.Manual && !r.Manual:
		return fmt.Errorf("%s was isolated by hand (%s), so breach cannot lift it: lift it by hand, then record it with --manual", r.System, s.Detail)
	case !s.Manual && r.Manual:
		return fmt.Errorf("%s was isolated through %s, not by hand: release it without --manual and breach lifts it", r.System, s.Provider)
	}
	return nil
}

// release asks the system's containment to lift the isolation and answers with the outcome.
func (inc *incidentImpl) release(ctx workflow.Context, r incident.ReleaseRequest) (string, error) {
	idx := 0
	for i, s := range inc.decl.Systems {
		if s == r.System {
			idx = i
		}
	}
	id := workflow.GetCurrentUpdateInfo(ctx).ID
	inc.contain.releasing[r.System] = true
	defer delete(inc.contain.releasing, r.System)
	end := containmentEnd{Release: true, Manual: r.Manual, By: r.By, Reason: r.Reason, At: workflow.Now(ctx).UTC(), RequestID: id}
	if err := workflow.SignalExternalWorkflow(ctx, inc.containmentID(r.System), "", signalContainmentEnd, end).Get(ctx, nil); err != nil {
		return "", fmt.Errorf("pass the release to the containment of %s: %w", r.System, err)
	}
	if err := workflow.Await(ctx, func() bool {
		_, ok := inc.contain.outcomes[id]
		return ok || inc.containEnded(idx)
	}); err != nil {
		return "", err
	}
	// The child answers before it ends: its answer may be delivered and not yet read.
	settle(ctx)
	o, ok := inc.contain.outcomes[id]
	if !ok {
		st := inc.rec.Containment[idx]
		if !inc.contain.tracked {
			if err := inc.contain.futures[idx].Get(ctx, &st); err != nil {
				st.State = ""
			}
		}
		if st.State != incident.ContainReleased {
			return "", fmt.Errorf("the containment of %s ended before it answered the release; see breach status %s", r.System, inc.decl.IncidentID)
		}
		o = releaseOutcome{RequestID: id, Status: st}
	}
	delete(inc.contain.outcomes, id)
	inc.applyChildState(childState{System: &o.Status})
	if o.Error != "" {
		return "", fmt.Errorf("%s", o.Error)
	}
	if r.Manual {
		return fmt.Sprintf("%s recorded as released by hand (by %s)", r.System, r.By), nil
	}
	return fmt.Sprintf("%s released via %s (by %s): %s", r.System, o.Status.Provider, r.By, o.Status.Detail), nil
}
