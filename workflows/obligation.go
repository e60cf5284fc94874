package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// Obligation kinds.
const (
	// KindReport is a report to an authority: drafted, approved, submitted or filed.
	KindReport = rules.KindReport
	// KindNotice is fulfilled by the customer alerts.
	KindNotice = rules.KindNotice
)

// ObligationInput starts the clock of one obligation.
type ObligationInput struct {
	IncidentID string           `json:"incident_id"`
	Drill      bool             `json:"drill,omitempty"`
	Obligation rules.Obligation `json:"obligation"`
	Kind       string           `json:"kind"`
	Route      incident.Route   `json:"route"`
	// Report is what the report is drafted from (KindReport).
	Report incident.ReportInput `json:"report"`
	// TimeScale compresses a drill's clock: the hour-before warning and the overdue reminders
	// shrink with the deadline. 0 or 1: real time.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Reminders is how overdue reminders back off (resumable clocks; zero: the defaults).
	Reminders incident.ReminderPolicy `json:"reminders,omitzero"`
	// Budget is the history length at which the clock continues as new (0: DefaultEventBudget).
	Budget int `json:"budget,omitempty"`
	// Resume carries the clock's state into a new run after continue-as-new.
	Resume *ClockState `json:"resume,omitempty"`
	// Delay starts the clock paused: a law-enforcement delay in force covers it.
	Delay *clockDelay `json:"delay,omitempty"`
}

// noticeCompletion tells a notice obligation that the customer alerts finished.
type noticeCompletion struct {
	At   time.Time `json:"at"`
	Sent int       `json:"sent"`
}

// Escalation is one point at which a legal clock raises the alarm.
type Escalation struct {
	At    time.Time
	Label string
}

// Escalations returns the escalation points of a clock from start to due: 50%, 75%, 90% of the
// window, one hour before the deadline, and the deadline itself, in time order.
func Escalations(start, due time.Time) []Escalation { return escalations(start, due, 1) }

// escalations is Escalations for a clock running scale times faster (drills): the hour before
// the deadline is an hour of drill time.
func escalations(start, due time.Time, scale float64) []Escalation {
	if scale < 1 {
		scale = 1
	}
	w := due.Sub(start)
	points := []Escalation{
		{start.Add(w / 2), "50% of the time has passed"},
		{start.Add(w * 3 / 4), "75% of the time has passed"},
		{start.Add(w * 9 / 10), "90% of the time has passed"},
		{due.Add(-time.Duration(float64(time.Hour) / scale)), "one hour left"},
		{due, "OVERDUE: the deadline has passed"},
	}
	out := points[:0]
	for _, p := range points {
		if !p.At.Before(start) {
			out = append(out, p)
		}
	}
	// Insertion sort: at most five points, and T-1h may precede 90% on short clocks.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].At.Before(out[j-1].At); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// OverdueReminderInterval is how often an overdue obligation is raised again.
const OverdueReminderInterval = 6 * time.Hour

// lateHint tells a person acting after the deadline what the law asks of a late filing.
const lateHint = ` --reasons "…" (the deadline has passed: the law asks for the reasons for the delay)`

func lateHintAt(now, due time.Time) string {
	if now.After(due) {
		return lateHint
	}
	return ""
}

// changePendingWithState is the workflow.GetVersion change that sends a step for a person in
// the same signal as the obligation state that makes it actionable. Before it, the step and
// the state were two signals, and an approval made between them was refused as "not awaiting
// approval: it is drafting".
const changePendingWithState = "obligation-pending-with-state"

// sendPending tells the incident that a person must act, together with the state in st.
func sendPending(ctx workflow.Context, rep reporter, st *incident.ObligationStatus, p *incident.PendingStep, push func(workflow.Context)) {
	if workflow.GetVersion(ctx, changePendingWithState, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		rep.send(ctx, childState{Pending: p})
		push(ctx)
		return
	}
	cp := snapshot(st)
	rep.send(ctx, childState{Obligation: &cp, Pending: p})
}

// snapshot copies st for a signal, so that later changes to st do not alias it.
func snapshot(st *incident.ObligationStatus) incident.ObligationStatus {
	cp := *st
	cp.Escalations = append([]string{}, st.Escalations...)
	return cp
}

func routeName(r incident.Route, o rules.Obligation) string {
	if r.Name != "" {
		return r.Name
	}
	return o.Audience
}

// changeEscalationOwnContext is the workflow.GetVersion change after which an escalation is
// reported from the escalating coroutine with its own context, in one signal carrying the
// obligation's state, the timeline event and the chat message. Before it, the escalation pushed
// the state through a closure over the workflow's root context; blocking on that context from
// another coroutine panics ("trying to block on coroutine which is already blocked"), so every
// obligation with a parent failed its workflow task at its first escalation and retried it
// forever. Those stuck tasks never completed, so no history holds the old escalation's
// commands; a stuck clock resumes under this version when a fixed worker retries its task.
const changeEscalationOwnContext = "obligation-escalation-own-context"

// escalate raises the alarm at each escalation point until cancelled, then keeps reminding
// while the obligation is overdue. It runs in its own coroutine: every blocking call in it uses
// the ctx it was given, never the workflow's root context.
func escalate(ctx workflow.Context, in ObligationInput, st *incident.ObligationStatus, rep reporter) {
	o := in.Obligation
	now := workflow.Now(ctx)
	lateStart := !now.Before(o.DueAt)
	for _, e := range escalations(o.ClockStart, o.DueAt, in.TimeScale) {
		if e.At.Before(now) && !e.At.Equal(o.DueAt) {
			continue // already past when the clock started; the next point still fires
		}
		if d := e.At.Sub(workflow.Now(ctx)); d > 0 {
			if err := workflow.Sleep(ctx, d); err != nil {
				return
			}
		}
		label := e.Label
		if lateStart && e.At.Equal(o.DueAt) {
			label = "OVERDUE from the start: the deadline had passed when the clock started"
		}
		raise(ctx, in, st, rep, label)
	}
	for {
		if err := workflow.Sleep(ctx, scaled(OverdueReminderInterval, in.TimeScale)); err != nil {
			return
		}
		raise(ctx, in, st, rep, "still OVERDUE")
	}
}

func raise(ctx workflow.Context, in ObligationInput, st *incident.ObligationStatus, rep reporter, label string) {
	o := in.Obligation
	at := workflow.Now(ctx).UTC()
	left := o.DueAt.Sub(at).Round(time.Minute)
	when := fmt.Sprintf("%s left", left)
	if left <= 0 {
		when = fmt.Sprintf("overdue by %s", -left)
	}
	st.Escalations = append(st.Escalations, fmt.Sprintf("%s %s", at.Format(time.RFC3339), label))
	text := fmt.Sprintf("%s (%s, to %s): %s; due %s, %s; it is %s.", o.ID, o.Basis, o.Audience, label,
		o.DueAt.UTC().Format(time.RFC3339), when, st.State)
	if left <= 0 && !strings.Contains(o.Basis, "without undue delay") {
		text += " File now, with the reasons for the delay."
	}
	chat := incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgEscalation, Text: text, Drill: in.Drill, Urgent: true,
		Obligation: o.ID, DueAt: o.DueAt, Overdue: left <= 0}
	if workflow.GetVersion(ctx, changeEscalationOwnContext, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		// Only a clock without a parent (whose reports are no-ops) completed this path.
		cp := snapshot(st)
		rep.send(ctx, childState{Obligation: &cp})
		rep.event(ctx, "escalation", text)
		rep.chat(ctx, chat)
		return
	}
	cp := snapshot(st)
	rep.send(ctx, childState{Obligation: &cp, Chat: &chat,
		Event: &incident.Event{At: at, Kind: "escalation", Text: text, About: o.ID}})
}

func scaled(d time.Duration, scale float64) time.Duration {
	if scale <= 1 {
		return d
	}
	return time.Duration(float64(d) / scale)
}
