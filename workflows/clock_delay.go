package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeLawEnforcementDelay is the workflow.GetVersion change after which a clock takes
// law-enforcement delays: a signal pauses it, it stands still (no escalation, no reminder)
// until the delay is lifted or its end comes, then restarts with its deadline, its statutory
// limit and its escalation points moved by the time it stood still. Its waits for the next
// escalation wake when it is paused. Runs from before do not pause: one that receives a delay
// continues as new at its next wait, and the new run takes it.
const changeLawEnforcementDelay = "obligation-law-enforcement-delay"

// receiveDelays takes the delays the incident sends, for as long as the run lasts. It blocks
// only on its own ctx.
func (c *clock) receiveDelays(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, signalLawEnforcementDelay)
	for {
		var d clockDelay
		if !ch.Receive(ctx, &d) {
			return
		}
		if !c.pausable || c.continuing {
			c.state.Delays = append(c.state.Delays, d)
			c.mustContinue = true
			continue
		}
		c.takeDelay(ctx, d)
	}
}

// takeDelay pauses the clock, changes the end of its pause, or restarts it.
func (c *clock) takeDelay(ctx workflow.Context, d clockDelay) {
	o := c.in.Obligation
	now := workflow.Now(ctx).UTC()
	switch {
	case d.Lift:
		if c.st.Paused != nil {
			c.restart(ctx, d.At, d.Why)
		}
		return
	case c.st.State == incident.OblFiled || c.st.State == incident.OblFailed:
		c.rep.send(ctx, childState{Event: &incident.Event{At: now, Kind: "law-enforcement-delay", About: o.ID,
			Text: fmt.Sprintf("%s is not paused by law-enforcement delay #%d: it is already %s.", o.ID, d.Delay, c.st.State)}})
		return
	case c.st.Paused != nil:
		// A later request replaces the one in force: the clock stays still, with a new end.
		c.st.Paused.Delay, c.st.Paused.Until, c.st.Paused.Limit = d.Delay, d.Until, d.Limit
	default:
		c.st.Paused = &incident.ClockPause{Delay: d.Delay, From: d.At, Until: d.Until, Limit: d.Limit}
		if c.st.RulesDueAt.IsZero() {
			c.st.RulesDueAt = c.st.DueAt
		}
	}
	c.pauses++
	c.events.add(2)
	c.noteHistory(ctx)
	cp := snapshot(&c.st)
	end := "until the delay is lifted"
	if !d.Until.IsZero() {
		end = "until " + d.Until.UTC().Format(time.RFC3339)
		if d.Limit != "" {
			end += " at the latest (" + d.Limit + ")"
		}
	}
	c.rep.send(ctx, childState{Obligation: &cp, Event: &incident.Event{At: now, Kind: "clock-paused", About: o.ID,
		Text: fmt.Sprintf("%s's clock stands still from %s %s (law-enforcement delay #%d): no escalation meanwhile; its deadline moves by the time it stands still.",
			o.ID, c.st.Paused.From.UTC().Format(time.RFC3339), end, d.Delay)}})
}

// restart ends the pause at at: the deadline and the statutory limit move by the time the clock
// stood still, and the report says so.
func (c *clock) restart(ctx workflow.Context, at time.Time, why string) {
	if c.st.Paused == nil {
		return
	}
	o := c.in.Obligation
	p := *c.st.Paused
	if at.Before(p.From) {
		at = p.From
	}
	p.To = at
	moved := p.Length()
	before := c.st.DueAt
	c.st.DueAt = c.st.DueAt.Add(moved)
	limit := ""
	if !c.st.StatutoryLimit.IsZero() {
		c.st.StatutoryLimit = c.st.StatutoryLimit.Add(moved)
		limit = ", its statutory outer limit to " + c.st.StatutoryLimit.UTC().Format(time.RFC3339)
	}
	c.st.Paused = nil
	c.st.Pauses = append(c.st.Pauses, p)
	c.state.Report.Obligation = c.st.Obligation
	c.pauses++
	c.events.add(2)
	c.noteHistory(ctx)
	cp := snapshot(&c.st)
	now := workflow.Now(ctx).UTC()
	text := fmt.Sprintf("%s's clock restarts (law-enforcement delay #%d %s). It stood still %s, from %s to %s, so its deadline moves from %s to %s%s.",
		o.ID, p.Delay, why, span(moved), p.From.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339),
		before.UTC().Format(time.RFC3339), c.st.DueAt.UTC().Format(time.RFC3339), limit)
	c.rep.send(ctx, childState{Obligation: &cp, Event: &incident.Event{At: now, Kind: "clock-restarted", About: o.ID, Text: text},
		Chat: &incident.ChatMessage{IncidentID: c.in.IncidentID, Kind: incident.MsgLawEnforcementDelay, Drill: c.in.Drill, Text: text,
			Obligation: o.ID, DueAt: c.st.DueAt, Overdue: now.After(c.st.DueAt)}})
}

// shifted is when an instant of the clock as the rules set it comes, once the ended pauses have
// held the clock still.
func (c *clock) shifted(t time.Time) time.Time { return Shifted(t, c.st.Pauses) }

// Shifted is when instant t of a clock as the rules set it comes once the ended pauses (in time
// order) have held the clock still: each pause that began at or before it pushes it back by its
// length. Escalation points of a paused clock are the rules' points, shifted.
func Shifted(t time.Time, pauses []incident.ClockPause) time.Time {
	for _, p := range pauses {
		if !p.From.After(t) {
			t = t.Add(p.Length())
		}
	}
	return t
}

// sleepUntil waits until at; it reports false if the clock was paused or restarted first (or
// the wait was cancelled), so the caller counts again.
func (c *clock) sleepUntil(ctx workflow.Context, at time.Time) bool {
	d := at.Sub(workflow.Now(ctx))
	if d <= 0 {
		return true
	}
	seen := c.pauses
	fired, err := workflow.AwaitWithTimeout(ctx, d, func() bool { return c.pauses != seen })
	return err == nil && !fired && !c.continuing
}

// whilePaused waits while the clock stands still, restarting it when its pause ends by itself.
// It reports false when the wait ends for good (cancelled, or the run continues as new).
func (c *clock) whilePaused(ctx workflow.Context) bool {
	for c.st.Paused != nil {
		p := *c.st.Paused
		if p.Until.IsZero() {
			seen := c.pauses
			if err := workflow.Await(ctx, func() bool { return c.pauses != seen }); err != nil || c.continuing {
				return false
			}
			continue
		}
		if c.sleepUntil(ctx, p.Until) && c.st.Paused != nil && *c.st.Paused == p {
			why := "ended: the period the agency asked for is over"
			if p.Limit != "" {
				why = "ended by the law's limit on it: " + p.Limit
			}
			c.restart(ctx, p.Until, why)
			continue
		}
		if ctx.Err() != nil || c.continuing {
			return false
		}
	}
	return true
}

// escalatePausable is escalate for a clock that takes law-enforcement delays: the escalation
// points are the rules' (50%, 75%, 90%, an hour before, the deadline), each moved by the pauses
// before it, and reminders follow the moved deadline; nothing is raised while the clock stands
// still. It blocks only on its own ctx.
func (c *clock) escalatePausable(ctx workflow.Context) {
	o := c.in.Obligation
	lateStart := !c.state.Started.Before(o.DueAt)
	points := escalations(o.ClockStart, o.DueAt, c.in.TimeScale)
	policy := c.in.Reminders.Overdue().Scaled(c.in.TimeScale)
	for {
		if !c.whilePaused(ctx) {
			return
		}
		label, at, point := "still OVERDUE", time.Time{}, c.state.Escalated < len(points)
		if point {
			e := points[c.state.Escalated]
			if e.At.Before(c.state.Started) && !e.At.Equal(o.DueAt) {
				c.state.Escalated++ // already past when the clock started
				continue
			}
			at, label = c.shifted(e.At), e.Label
			if lateStart && e.At.Equal(o.DueAt) {
				label = "OVERDUE from the start: the deadline had passed when the clock started"
			}
		} else {
			if c.state.Reminders == 0 && c.state.Skipped == 0 {
				for !policy.At(c.st.DueAt, c.state.Skipped+1).After(c.state.Started) {
					c.state.Skipped++
				}
			}
			at = policy.At(c.st.DueAt, c.state.Skipped+c.state.Reminders+1)
		}
		if !c.sleepUntil(ctx, at) {
			if ctx.Err() != nil || c.continuing {
				return
			}
			continue // paused or restarted meanwhile: count again
		}
		if point {
			c.state.Escalated++
		} else {
			c.state.Reminders++
			c.noteHistory(ctx)
		}
		c.events.add(7)
		in := c.in
		in.Obligation = c.st.Obligation // the deadline as the pauses moved it
		raise(ctx, in, &c.st, c.rep, label)
	}
}
