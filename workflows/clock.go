package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeObligationResumable is the workflow.GetVersion change after which an obligation's
// clock is resumable: it continues as new before its history grows large, carrying its stage,
// the escalations and reminders it has raised and its report; overdue reminders back off; and
// a clock that fails says so to the incident before it ends. Clocks started before run
// obligationV0.
const changeObligationResumable = "obligation-resumable"

// Stages of a resumable clock, where it waits.
const (
	stageApproval = "approval"
	stageFiling   = "filing"
	stageNotices  = "notices"
)

// ClockState is what a clock carries across continue-as-new.
type ClockState struct {
	Status incident.ObligationStatus `json:"status"`
	Stage  string                    `json:"stage"`
	// Report is what the report is submitted from, with what the approval added.
	Report incident.ReportInput `json:"report"`
	// Started is when the clock first ran: escalation points already past then are skipped.
	Started time.Time `json:"started"`
	// Escalated counts the escalation points handled (raised or skipped), Reminders the
	// overdue reminders raised.
	Escalated int `json:"escalated"`
	Reminders int `json:"reminders"`
	// Skipped counts the reminder instants already past when the clock started (a clock that
	// starts overdue reminds from the next one).
	Skipped int              `json:"skipped,omitempty"`
	History incident.History `json:"history"`
	// Delays are law-enforcement delays received but not yet taken: the next run takes them.
	Delays []clockDelay `json:"delays,omitempty"`
}

// DefaultEventBudget is the history length at which a workflow that waits on people continues
// as new (Temporal's hard limit is 51,200 events; it suggests continuing at 10,240).
const DefaultEventBudget = 8000

// ObligationWorkflow is the durable clock of one legal obligation.
func ObligationWorkflow(ctx workflow.Context, in ObligationInput) (incident.ObligationStatus, error) {
	if in.Resume == nil && workflow.GetVersion(ctx, changeObligationResumable, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return obligationV0(ctx, in)
	}
	c := newClock(ctx, in)
	st, err := c.run(ctx)
	var can *workflow.ContinueAsNewError
	if err != nil && !errors.As(err, &can) && ctx.Err() == nil {
		// Tell the incident before ending: it follows its clocks by their reports.
		st.State, st.Failure = incident.OblFailed, applicationMessage(err)
		c.st = st
		c.push(ctx)
	}
	return st, err
}

type clock struct {
	in    ObligationInput
	rep   reporter
	st    incident.ObligationStatus
	state ClockState
	// continuing is set once the clock has decided to continue as new.
	continuing bool
	events     runLength
	// pausable: the run takes law-enforcement delays (changeLawEnforcementDelay); a run from
	// before continues as new to take one (mustContinue). pauses counts the pauses and restarts
	// taken, so that a wait for an escalation wakes to count again.
	pausable     bool
	mustContinue bool
	pauses       int
}

func newClock(ctx workflow.Context, in ObligationInput) *clock {
	c := &clock{in: in, rep: newReporter(ctx)}
	if in.Resume != nil {
		c.state = *in.Resume
		c.st = c.state.Status
	} else {
		c.st = incident.ObligationStatus{Obligation: in.Obligation, State: incident.OblDrafting, Method: in.Route.Method}
		c.state = ClockState{Report: in.Report, Started: workflow.Now(ctx).UTC()}
	}
	c.state.History.Runs++
	return c
}

// push reports the clock's state to the incident, from the coroutine that calls it.
func (c *clock) push(ctx workflow.Context) {
	c.events.add(2)
	c.noteHistory(ctx)
	cp := snapshot(&c.st)
	c.rep.send(ctx, childState{Obligation: &cp})
}

func (c *clock) noteHistory(ctx workflow.Context) {
	n := c.events.length(ctx)
	c.state.History.Current = n
	c.state.History.Longest = max(c.state.History.Longest, n)
	h := c.state.History
	c.st.History = &h
}

func (c *clock) run(ctx workflow.Context) (incident.ObligationStatus, error) {
	o := c.in.Obligation
	c.pausable = workflow.GetVersion(ctx, changeLawEnforcementDelay, workflow.DefaultVersion, 1) == 1
	if c.pausable && c.in.Resume == nil && c.in.Delay != nil {
		d := c.in.Delay
		c.st.Paused = &incident.ClockPause{Delay: d.Delay, From: d.At, Until: d.Until, Limit: d.Limit}
		c.st.RulesDueAt = c.st.DueAt
	}
	if c.in.Resume == nil {
		c.push(ctx)
	}
	workflow.Go(ctx, c.receiveDelays)
	escCtx, stopEscalations := workflow.WithCancel(ctx)
	if c.pausable {
		workflow.Go(escCtx, c.escalatePausable)
	} else {
		workflow.Go(escCtx, c.escalate)
	}
	defer stopEscalations()
	if c.pausable {
		taken := c.state.Delays
		c.state.Delays = nil
		for _, d := range taken {
			c.takeDelay(ctx, d)
		}
	}

	if c.in.Kind == KindNotice {
		return c.notices(ctx, stopEscalations)
	}
	if c.state.Stage == "" {
		if err := c.draft(ctx); err != nil {
			return c.st, err
		}
	}
	if c.state.Stage == stageApproval {
		var ok approval
		if err := c.await(ctx, signalApproveReport, &ok); err != nil {
			return c.st, err
		}
		c.approved(ok)
		if c.in.Route.Method == "email" && c.in.Route.Address != "" && !c.in.Drill {
			if err := c.submit(ctx, ok); err != nil {
				return c.st, err
			}
		} else {
			c.askFiling(ctx)
		}
	}
	if c.state.Stage == stageFiling {
		var f filing
		if err := c.await(ctx, signalFileReport, &f); err != nil {
			return c.st, err
		}
		if err := c.recordFiling(ctx, f); err != nil {
			return c.st, err
		}
	}
	stopEscalations()
	c.st.State = incident.OblFiled
	c.push(ctx)
	late := ""
	if c.st.Late {
		late = " after its deadline, with reasons"
	}
	text := fmt.Sprintf("%s report submitted to %s%s (reference %s): %s", o.ID, routeName(c.in.Route, o), late, c.st.Reference, c.st.Report)
	c.rep.send(ctx, childState{Event: &incident.Event{At: workflow.Now(ctx).UTC(), Kind: "filed", Text: text, About: o.ID},
		Chat: &incident.ChatMessage{IncidentID: c.in.IncidentID, Kind: incident.MsgFiled, Text: text, Drill: c.in.Drill, Obligation: o.ID}})
	return c.st, nil
}

// notices waits for the customer alerts to reach everyone the obligation covers.
func (c *clock) notices(ctx workflow.Context, stopEscalations func()) (incident.ObligationStatus, error) {
	o := c.in.Obligation
	if c.state.Stage == "" {
		c.state.Stage = stageNotices
		c.st.State = incident.OblAwaitingNotices
		c.push(ctx)
	}
	var done noticeCompletion
	if err := c.await(ctx, signalNoticeComplete, &done); err != nil {
		return c.st, err
	}
	stopEscalations()
	c.st.State = incident.OblFiled
	c.st.SubmittedAt = done.At
	c.st.Late = done.At.After(c.st.DueAt)
	c.st.Reference = fmt.Sprintf("customer alerts done: %d notices in all", done.Sent)
	c.push(ctx)
	c.rep.event(ctx, "obligation-met", fmt.Sprintf("%s met: every person it covers (%s) got a notice; %d notices in all, each person once.", o.ID, o.Audience, done.Sent))
	return c.st, nil
}

// draft drafts the report and asks the DPO to approve it.
func (c *clock) draft(ctx workflow.Context) error {
	o := c.in.Obligation
	var d incident.Draft
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.DraftReport, c.in.Report).Get(ctx, &d); err != nil {
		return fmt.Errorf("draft the %s report: %w", o.ID, err)
	}
	c.events.add(6)
	c.st.Draft = d.Path
	// What is approved is what is submitted: the submission is written in the draft's language.
	// (Drafts of incidents declared before languages were chosen say none: English.)
	c.st.Language, c.state.Report.Language = d.Language, d.Language
	c.st.State = incident.OblAwaitingApproval
	c.state.Stage = stageApproval
	step := incident.ReportStep(o.ID)
	now := workflow.Now(ctx).UTC()
	c.noteHistory(ctx)
	cp := snapshot(&c.st)
	due := c.st.DueAt // the rules' deadline, moved by any law-enforcement delay
	ask := fmt.Sprintf("The %s report to %s is drafted (%s), due %s. Approve: breach approve %s --step %s --as <dpo>",
		o.ID, o.Audience, d.Path, due.UTC().Format(time.RFC3339), c.in.IncidentID, step) + lateHintAt(now, due)
	c.rep.send(ctx, childState{Obligation: &cp,
		Pending: &incident.PendingStep{Step: step, Role: incident.RoleDPO, Since: now, DueAt: due,
			Description: fmt.Sprintf("Approve the %s report to %s (%s)", o.ID, o.Audience, o.Basis)},
		Event: &incident.Event{At: now, Kind: "drafted", Text: fmt.Sprintf("%s report drafted%s: %s", o.ID, draftLanguage(d), d.Path), About: o.ID},
		Chat: &incident.ChatMessage{IncidentID: c.in.IncidentID, Kind: incident.MsgApprovalNeeded, Drill: c.in.Drill, Text: ask,
			Step: step, Obligation: o.ID, DueAt: due, Overdue: now.After(due)}})
	return nil
}

// draftLanguage says in which language a report was drafted and why (the activity's words), and
// where its template has no translation in its reader's language, that it is in English.
func draftLanguage(d incident.Draft) string {
	if d.LanguageNote == "" {
		return ""
	}
	return " " + d.LanguageNote
}

// approved takes what the approval adds to the report.
func (c *clock) approved(ok approval) {
	c.st.Late = ok.At.After(c.st.DueAt)
	c.st.Reasons = ok.Reasons
	c.state.Report.LateReasons = ok.Reasons
	if len(ok.Containment) > 0 {
		c.state.Report.Containment = ok.Containment
	}
	if len(ok.Delays) > 0 {
		c.state.Report.Delays = ok.Delays
	}
}

// submit emails the approved report to the authority.
func (c *clock) submit(ctx workflow.Context, ok approval) error {
	c.st.State = incident.OblSubmitting
	c.push(ctx)
	report := c.state.Report
	report.SubmittedAt = ok.At
	var sub incident.Submission
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
		return fmt.Errorf("submit the %s report: %w", c.in.Obligation.ID, err)
	}
	c.events.add(6)
	c.st.Report, c.st.Reference, c.st.SubmittedAt, c.st.SubmittedBy = sub.Path, sub.MessageID, sub.At, ok.By
	c.state.Stage = ""
	return nil
}

// askFiling asks a person to file the approved report on the authority's portal (a drill files
// nothing anywhere).
func (c *clock) askFiling(ctx workflow.Context) {
	o := c.in.Obligation
	c.st.State = incident.OblAwaitingFiling
	c.state.Stage = stageFiling
	step := incident.FileStep(o.ID)
	now := workflow.Now(ctx).UTC()
	due := c.st.DueAt
	where := ""
	if w := c.in.Route.Where(); w != "" {
		where = " (" + w + ")"
	}
	c.noteHistory(ctx)
	cp := snapshot(&c.st)
	c.rep.send(ctx, childState{Obligation: &cp,
		Pending: &incident.PendingStep{Step: step, Role: incident.RoleDPO, Since: now, DueAt: due,
			Description: fmt.Sprintf("File the %s report on the %s portal%s, then confirm with its reference", o.ID, routeName(c.in.Route, o), where)},
		Chat: &incident.ChatMessage{IncidentID: c.in.IncidentID, Kind: incident.MsgFilingNeeded, Drill: c.in.Drill,
			Step: step, Obligation: o.ID, DueAt: due, Overdue: now.After(due),
			Text: fmt.Sprintf("File the approved %s report with %s%s, then confirm: breach file %s --obligation %s --reference REF --as <dpo>",
				o.ID, routeName(c.in.Route, o), where, c.in.IncidentID, o.ID) + lateHintAt(now, due)}})
}

// recordFiling records a filing a person confirmed.
func (c *clock) recordFiling(ctx workflow.Context, f filing) error {
	o := c.in.Obligation
	c.st.Late = f.At.After(c.st.DueAt)
	report := c.state.Report
	if f.Reasons != "" {
		c.st.Reasons = f.Reasons
		report.LateReasons = f.Reasons
	}
	report.SubmittedAt = f.At
	report.RecipientAddress = ""
	if len(f.Containment) > 0 {
		report.Containment = f.Containment
	}
	if len(f.Delays) > 0 {
		report.Delays = f.Delays
	}
	var sub incident.Submission
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
		return fmt.Errorf("record the %s filing: %w", o.ID, err)
	}
	c.events.add(6)
	c.st.Report, c.st.Reference, c.st.SubmittedAt, c.st.SubmittedBy = sub.Path, f.Reference, f.At, f.By
	c.state.Stage = ""
	return nil
}

// await waits for the signal that moves the clock on. When the history has grown to its
// budget first, it continues as new instead, carrying the clock's state.
func (c *clock) await(ctx workflow.Context, signal string, v any) error {
	ch := workflow.GetSignalChannel(ctx, signal)
	if err := workflow.Await(ctx, func() bool { return ch.Len() > 0 || c.events.over(ctx, c.in.Budget) || c.mustContinue }); err != nil {
		return err
	}
	if ch.Len() > 0 {
		ch.Receive(ctx, v)
		c.events.add(5)
		return nil
	}
	c.continuing = true
	c.noteHistory(ctx)
	c.push(ctx)
	// Delays delivered but not yet taken go with the state: the next run takes them.
	delays := workflow.GetSignalChannel(ctx, signalLawEnforcementDelay)
	for {
		var d clockDelay
		if !delays.ReceiveAsync(&d) {
			break
		}
		c.state.Delays = append(c.state.Delays, d)
	}
	c.state.Status = c.st
	next := c.in
	st := c.state
	next.Resume = &st
	return workflow.NewContinueAsNewError(ctx, ObligationWorkflow, next)
}

// runLength follows how long a run's history grows. Temporal counts the events and tells the
// workflow; the test environment does not (it says 0), so the workflow also keeps its own
// estimate from what it does (about five events for each wake by a signal, a timer or an
// activity's end, and one for each command), and uses Temporal's count whenever there is one.
type runLength struct{ estimate int }

func (r *runLength) add(n int) { r.estimate += n }

func (r *runLength) length(ctx workflow.Context) int {
	if n := workflow.GetInfo(ctx).GetCurrentHistoryLength(); n > 0 {
		return n
	}
	return r.estimate
}

// over reports whether the run's history has grown to budget (0: the default), or Temporal
// suggests continuing as new.
func (r *runLength) over(ctx workflow.Context, budget int) bool {
	if budget <= 0 {
		budget = DefaultEventBudget
	}
	return r.length(ctx) >= budget || workflow.GetInfo(ctx).GetContinueAsNewSuggested()
}

// escalate raises the alarm at each escalation point, then reminds while the obligation is
// overdue, backing off (ReminderPolicy). Points and reminders already raised in earlier runs are
// not raised again. It blocks only on its own ctx.
func (c *clock) escalate(ctx workflow.Context) {
	o := c.in.Obligation
	lateStart := !c.state.Started.Before(o.DueAt)
	points := escalations(o.ClockStart, o.DueAt, c.in.TimeScale)
	for c.state.Escalated < len(points) {
		e := points[c.state.Escalated]
		if e.At.Before(c.state.Started) && !e.At.Equal(o.DueAt) {
			c.state.Escalated++ // already past when the clock started
			continue
		}
		if d := e.At.Sub(workflow.Now(ctx)); d > 0 {
			if err := workflow.Sleep(ctx, d); err != nil || c.continuing {
				return
			}
		}
		label := e.Label
		if lateStart && e.At.Equal(o.DueAt) {
			label = "OVERDUE from the start: the deadline had passed when the clock started"
		}
		c.state.Escalated++
		c.events.add(7)
		raise(ctx, c.in, &c.st, c.rep, label)
	}
	policy := c.in.Reminders.Overdue().Scaled(c.in.TimeScale)
	if c.state.Reminders == 0 && c.state.Skipped == 0 {
		for !policy.At(o.DueAt, c.state.Skipped+1).After(c.state.Started) {
			c.state.Skipped++
		}
	}
	for {
		next := policy.At(o.DueAt, c.state.Skipped+c.state.Reminders+1)
		if d := next.Sub(workflow.Now(ctx)); d > 0 {
			if err := workflow.Sleep(ctx, d); err != nil || c.continuing {
				return
			}
		}
		c.state.Reminders++
		c.events.add(7)
		c.noteHistory(ctx)
		raise(ctx, c.in, &c.st, c.rep, "still OVERDUE")
	}
}
