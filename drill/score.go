package drill

import (
	"fmt"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/scenario"
)

// Score scores each of the scenario's targets against the incident as it stood at the
// drill's end. Durations are drill time: workflow time since start multiplied by scale.
func Score(sc scenario.Scenario, v incident.Status, start, end time.Time, scale float64) (out []TargetResult, met, missed, open int) {
	drillTime := func(t time.Time) scenario.Duration {
		return scenario.Duration(time.Duration(float64(t.Sub(start)) * scale).Round(time.Second))
	}
	ran := drillTime(end)
	for _, t := range sc.Targets {
		r := TargetResult{Step: t.Step, Human: scenario.HumanStep(t.Step), Target: t.Within}
		if r.Human {
			r.Role = scenario.RoleOf(t.Step)
		}
		at, done, applicable, detail := stepDone(t.Step, v)
		switch {
		case !applicable:
			r.Result, r.Detail = TargetNotApplicable, detail
		case done:
			r.Done, r.Actual = true, max(drillTime(at), 0)
			if r.Actual <= t.Within {
				r.Result = TargetMet
				met++
			} else {
				r.Result, r.Detail = TargetMissed, fmt.Sprintf("%s late", r.Actual-t.Within)
				missed++
			}
		case ran >= t.Within:
			r.Actual, r.Result, r.Detail = ran, TargetMissed, fmt.Sprintf("not done after %s", t.Within)
			if detail != "" {
				r.Detail += "; " + detail
			}
			missed++
		default:
			r.Actual, r.Result, r.Detail = ran, TargetOpen, "the drill ended before the target"
			open++
		}
		out = append(out, r)
	}
	return out, met, missed, open
}

// stepDone finds when a step was done: its instant, whether it is done, whether this run of the
// plan has the step at all, and what is missing.
func stepDone(step string, v incident.Status) (at time.Time, done, applicable bool, detail string) {
	base, arg, _ := strings.Cut(step, ":")
	switch base {
	case scenario.StepContain:
		for _, s := range v.Containment {
			if arg != "" && s.System != arg {
				continue
			}
			t, ok := containedAt(s, v.Timeline)
			if !ok {
				return time.Time{}, false, true, s.System + " is " + s.State
			}
			at = later(at, t)
		}
		return at, !at.IsZero(), true, ""
	case scenario.StepScope:
		for _, e := range v.Timeline {
			if e.Kind == "scope" {
				return e.At, true, true, ""
			}
		}
		return time.Time{}, false, true, ""
	case scenario.StepDecide:
		if v.Decision != nil {
			return v.Decision.DecidedAt, true, true, ""
		}
		return time.Time{}, false, true, "the DPO has not decided"
	case scenario.StepApprove, scenario.StepFile:
		if v.Decision == nil {
			return time.Time{}, false, true, "the DPO has not decided, so no report was drafted"
		}
		n := 0
		for _, o := range v.Obligations {
			if (arg != "" && o.ID != arg) || o.IsNotice() {
				continue
			}
			n++
			t, ok := o.SubmittedAt, o.State == incident.OblFiled
			if base == scenario.StepApprove {
				t, ok = approvedAt(o.ID, v.Timeline)
			}
			if !ok {
				return time.Time{}, false, true, fmt.Sprintf("%s is %s", o.ID, o.State)
			}
			at = later(at, t)
		}
		if n == 0 {
			return time.Time{}, false, false, "no report was required in this run"
		}
		return at, true, true, ""
	case scenario.StepNotify:
		switch v.Alerts.State {
		case incident.AlertsDone:
			return v.Alerts.UpdatedAt, true, true, ""
		case incident.AlertsNotRequired:
			return time.Time{}, false, false, "no customer notice was required in this run"
		}
		if v.Decision == nil {
			return time.Time{}, false, true, "the DPO has not decided"
		}
		return time.Time{}, false, true, fmt.Sprintf("%d of %d notices sent", v.Alerts.Sent, v.Alerts.Total)
	case scenario.StepClose:
		if !v.ClosedAt.IsZero() {
			return v.ClosedAt, true, true, ""
		}
		return time.Time{}, false, true, "the incident is in phase " + v.Phase
	}
	return time.Time{}, false, false, "unknown step"
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// containedAt is when a system was first contained: the isolation event, else the status time.
func containedAt(s incident.SystemStatus, timeline []incident.Event) (time.Time, bool) {
	for _, e := range timeline {
		if e.About == s.System && (e.Kind == "isolated" || e.Kind == "isolation-confirmed") {
			return e.At, true
		}
	}
	if s.State == incident.ContainContained {
		return s.Updated, true
	}
	return time.Time{}, false
}

func approvedAt(obligationID string, timeline []incident.Event) (time.Time, bool) {
	for _, e := range timeline {
		if e.Kind == "approved" && e.About == obligationID {
			return e.At, true
		}
	}
	return time.Time{}, false
}
