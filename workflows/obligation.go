package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
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
	Route      Route            `json:"route"`
	// Report is what the report is drafted from (KindReport).
	Report activities.ReportInput `json:"report"`
	// TimeScale compresses a drill's clock: the hour-before warning and the overdue reminders
	// shrink with the deadline. 0 or 1: real time.
	TimeScale float64 `json:"time_scale,omitempty"`
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

// ObligationWorkflow is the durable clock of one legal obligation.
func ObligationWorkflow(ctx workflow.Context, in ObligationInput) (ObligationStatus, error) {
	rep := newReporter(ctx)
	o := in.Obligation
	st := ObligationStatus{Obligation: o, State: OblDrafting, Method: in.Route.Method}
	// push reports st from the coroutine that calls it: a coroutine may block only on its own
	// context (see escalate), so it takes the caller's ctx rather than closing over one.
	push := func(ctx workflow.Context) {
		cp := snapshot(&st)
		rep.send(ctx, childState{Obligation: &cp})
	}
	push(ctx)

	escCtx, stopEscalations := workflow.WithCancel(ctx)
	workflow.Go(escCtx, func(ctx workflow.Context) {
		escalate(ctx, in, &st, rep)
	})
	defer stopEscalations()

	if in.Kind == KindNotice {
		st.State = OblAwaitingNotices
		push(ctx)
		var done noticeCompletion
		workflow.GetSignalChannel(ctx, signalNoticeComplete).Receive(ctx, &done)
		stopEscalations()
		st.State = OblFiled
		st.SubmittedAt = done.At
		st.Late = done.At.After(o.DueAt)
		st.Reference = fmt.Sprintf("customer alerts done: %d notices in all", done.Sent)
		push(ctx)
		rep.event(ctx, "obligation-met", fmt.Sprintf("%s met: every person it covers (%s) got a notice; %d notices in all, each person once.", o.ID, o.Audience, done.Sent))
		return st, nil
	}

	var draft activities.Draft
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.DraftReport, in.Report).Get(ctx, &draft); err != nil {
		return st, fmt.Errorf("draft the %s report: %w", o.ID, err)
	}
	st.Draft = draft.Path
	st.State = OblAwaitingApproval
	step := StepReport + o.ID
	sendPending(ctx, rep, &st, &PendingStep{Step: step, Role: RoleDPO, Since: workflow.Now(ctx).UTC(), DueAt: o.DueAt,
		Description: fmt.Sprintf("Approve the %s report to %s (%s)", o.ID, o.Audience, o.Basis)}, push)
	rep.event(ctx, "drafted", fmt.Sprintf("%s report drafted: %s", o.ID, draft.Path))
	ask := fmt.Sprintf("The %s report to %s is drafted (%s), due %s. Approve: breach approve %s --step %s --as <dpo>",
		o.ID, o.Audience, draft.Path, o.DueAt.UTC().Format(time.RFC3339), in.IncidentID, step)
	ask += lateHintAt(workflow.Now(ctx), o.DueAt)
	rep.chat(ctx, activities.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgApprovalNeeded, Drill: in.Drill, Text: ask,
		Step: step, Obligation: o.ID, DueAt: o.DueAt, Overdue: workflow.Now(ctx).After(o.DueAt)})

	var ok approval
	workflow.GetSignalChannel(ctx, signalApproveReport).Receive(ctx, &ok)
	st.Late = ok.At.After(o.DueAt)
	st.Reasons = ok.Reasons
	report := in.Report
	report.LateReasons = ok.Reasons
	if len(ok.Containment) > 0 {
		report.Containment = ok.Containment
	}

	if in.Route.Method == "email" && in.Route.Address != "" && !in.Drill {
		st.State = OblSubmitting
		push(ctx)
		report.SubmittedAt = ok.At
		var sub activities.Submission
		if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
			return st, fmt.Errorf("submit the %s report: %w", o.ID, err)
		}
		st.Report = sub.Path
		st.Reference = sub.MessageID
		st.SubmittedAt = sub.At
		st.SubmittedBy = ok.By
	} else {
		// Filed by a person on the authority's portal; a drill files nothing anywhere.
		st.State = OblAwaitingFiling
		sendPending(ctx, rep, &st, &PendingStep{Step: incident.FileStep(o.ID), Role: RoleDPO, Since: workflow.Now(ctx).UTC(), DueAt: o.DueAt,
			Description: fmt.Sprintf("File the %s report on the %s portal, then confirm with its reference", o.ID, routeName(in.Route, o))}, push)
		rep.chat(ctx, activities.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgFilingNeeded, Drill: in.Drill,
			Step: incident.FileStep(o.ID), Obligation: o.ID, DueAt: o.DueAt, Overdue: workflow.Now(ctx).After(o.DueAt),
			Text: fmt.Sprintf("File the approved %s report with %s, then confirm: breach file %s --obligation %s --reference REF --as <dpo>",
				o.ID, routeName(in.Route, o), in.IncidentID, o.ID) + lateHintAt(workflow.Now(ctx), o.DueAt)})
		var f filing
		workflow.GetSignalChannel(ctx, signalFileReport).Receive(ctx, &f)
		st.Late = f.At.After(o.DueAt)
		if f.Reasons != "" {
			st.Reasons = f.Reasons
			report.LateReasons = f.Reasons
		}
		report.SubmittedAt = f.At
		report.RecipientAddress = ""
		if len(f.Containment) > 0 {
			report.Containment = f.Containment
		}
		var sub activities.Submission
		if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
			return st, fmt.Errorf("record the %s filing: %w", o.ID, err)
		}
		st.Report = sub.Path
		st.Reference = f.Reference
		st.SubmittedAt = f.At
		st.SubmittedBy = f.By
	}
	stopEscalations()
	st.State = OblFiled
	push(ctx)
	late := ""
	if st.Late {
		late = " after its deadline, with reasons"
	}
	text := fmt.Sprintf("%s report submitted to %s%s (reference %s): %s", o.ID, routeName(in.Route, o), late, st.Reference, st.Report)
	rep.event(ctx, "filed", text)
	rep.chat(ctx, activities.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgFiled, Text: text, Drill: in.Drill, Obligation: o.ID})
	return st, nil
}

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
func sendPending(ctx workflow.Context, rep reporter, st *ObligationStatus, p *PendingStep, push func(workflow.Context)) {
	if workflow.GetVersion(ctx, changePendingWithState, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		rep.send(ctx, childState{Pending: p})
		push(ctx)
		return
	}
	cp := snapshot(st)
	rep.send(ctx, childState{Obligation: &cp, Pending: p})
}

// snapshot copies st for a signal, so that later changes to st do not alias it.
func snapshot(st *ObligationStatus) ObligationStatus {
	cp := *st
	cp.Escalations = append([]string{}, st.Escalations...)
	return cp
}

func routeName(r Route, o rules.Obligation) string {
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
func escalate(ctx workflow.Context, in ObligationInput, st *ObligationStatus, rep reporter) {
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

func raise(ctx workflow.Context, in ObligationInput, st *ObligationStatus, rep reporter, label string) {
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
	chat := activities.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgEscalation, Text: text, Drill: in.Drill, Urgent: true,
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
		Event: &Event{At: at, Kind: "escalation", Text: text, About: o.ID}})
}

func scaled(d time.Duration, scale float64) time.Duration {
	if scale <= 1 {
		return d
	}
	return time.Duration(float64(d) / scale)
}
