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

// NoticeChunkRows is how many dataset rows one SendNotices activity handles when the notice
// plan does not say (the outbox).
const NoticeChunkRows = 1000

// chunksPerRun bounds the history of one alerts run; then it continues as new.
const chunksPerRun = 200

// changeAlertsPlan is the workflow.GetVersion change after which an alerts run first asks for
// a notice plan (ranges sent side by side on the SendGrid path), sends, and ends with the
// ledger's account. Before it, chunks followed one another and the counts were the chunks'.
const changeAlertsPlan = "alerts-plan"

// AlertsInput starts, or continues, the customer alerts of an incident.
type AlertsInput struct {
	IncidentID string                 `json:"incident_id"`
	Drill      bool                   `json:"drill,omitempty"`
	Dataset    incident.DatasetRef    `json:"dataset"`
	Total      int                    `json:"total"`
	Notice     incident.NoticeContent `json:"notice"`
	// Run numbers the alerts runs of the incident from 1. Later runs may meet people an
	// earlier run notified, so each person is looked up before sending.
	Run int `json:"run,omitempty"`
	// Carried across continue-as-new.
	From      incident.DatasetPosition `json:"from"`
	Counts    incident.NoticeCounts    `json:"counts"`
	StartedAt time.Time                `json:"started_at,omitzero"`
	// Plan is the notice plan once made; NextRange the first of its ranges not yet sent.
	Plan      *incident.NoticePlan `json:"plan,omitempty"`
	NextRange int                  `json:"next_range,omitempty"`
}

// AlertsWorkflow sends the customer notice to every mailable subject of the dataset, range by
// range, each range resumable, each address notified once. Only positions, counts and batch
// keys pass through it: the activities read the people from the dataset.
func AlertsWorkflow(ctx workflow.Context, in AlertsInput) (incident.AlertProgress, error) {
	if workflow.GetVersion(ctx, changeAlertsPlan, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return alertsChunked(ctx, in)
	}
	w := &alertsImpl{in: in, rep: newReporter(ctx)}
	return w.run(ctx)
}

type alertsImpl struct {
	in  AlertsInput
	rep reporter
}

func (w *alertsImpl) run(ctx workflow.Context) (incident.AlertProgress, error) {
	in := &w.in
	if in.StartedAt.IsZero() {
		in.StartedAt = workflow.Now(ctx).UTC()
	}
	if in.Plan == nil {
		var plan incident.NoticePlan
		err := workflow.ExecuteActivity(planCtx(ctx), a.PlanNotices, incident.NoticePlanInput{
			IncidentID: in.IncidentID, Dataset: in.Dataset, From: in.From,
		}).Get(ctx, &plan)
		if err != nil {
			return w.fail(ctx, fmt.Errorf("plan customer notices: %w", err))
		}
		in.Plan = &plan
	}
	var err error
	if len(in.Plan.Starts) == 0 {
		err = w.chunks(ctx)
	} else {
		err = w.ranges(ctx)
	}
	if err != nil {
		return incident.AlertProgress{}, err
	}
	p := w.progress(ctx, incident.AlertsDone)
	var sum incident.NoticeSummary
	err = workflow.ExecuteActivity(finishCtx(ctx), a.FinishNotices, incident.NoticeFinishInput{
		IncidentID: in.IncidentID, Dataset: in.Dataset,
	}).Get(ctx, &sum)
	switch {
	case err != nil:
		// The notices are out; only the ledger's account is missing.
		w.rep.event(ctx, "alerts-account-failed", "Could not read the notification ledger's account of the alerts: "+applicationMessage(err))
	case sum.Ledger:
		p.Sent, p.Failed, p.Ambiguous = sum.Sent, sum.Rejected, sum.AmbiguousBatches
		p.PossiblyDuplicated, p.PossiblyDuplicatedList = sum.PossiblyDuplicated, sum.List
	}
	w.rep.send(ctx, childState{Alerts: &p})
	text := fmt.Sprintf("Customer alerts finished: %d notices sent of %d; %d invalid addresses not mailed; %d duplicate rows skipped.",
		p.Sent, p.Total, p.Invalid, p.Duplicates)
	if p.Failed > 0 {
		text += fmt.Sprintf(" %d addresses refused by SendGrid.", p.Failed)
	}
	if p.Ambiguous > 0 {
		text += fmt.Sprintf(" %d batches had an unknown outcome and were reconciled.", p.Ambiguous)
	}
	if p.PossiblyDuplicated > 0 {
		text += fmt.Sprintf(" %d people may have received the notice twice (no Email Activity to check); listed in %s.", p.PossiblyDuplicated, p.PossiblyDuplicatedList)
	}
	w.rep.event(ctx, "alerts-sent", text)
	if len(p.Languages) > 0 && workflow.GetVersion(ctx, changeAlertsLanguages, workflow.DefaultVersion, 1) == 1 {
		w.rep.event(ctx, "alerts-languages", languagesText(p))
	}
	return p, nil
}

// changeAlertsLanguages is the workflow.GetVersion change after which an alerts run whose
// notices were written in the people's languages says on the timeline how many went out in
// each, and which people got theirs in English for want of a translation. Only incidents with
// languages (incident.Languages) ask for it.
const changeAlertsLanguages = "alerts-languages"

// languagesText tells the notices by language, and the fallbacks to English.
func languagesText(p incident.AlertProgress) string {
	var b strings.Builder
	b.WriteString("Notices by language:")
	for i, l := range sortedKeys(p.Languages) {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %d", l, p.Languages[l])
	}
	b.WriteString(".")
	for _, k := range sortedKeys(p.Fallbacks) {
		tmpl, lang, _ := strings.Cut(k, ":")
		fmt.Fprintf(&b, " Template %s has no %s translation: %d people got it in English.", tmpl, lang, p.Fallbacks[k])
	}
	return b.String()
}

func (w *alertsImpl) chunkInput(from incident.DatasetPosition) incident.NoticeChunkInput {
	rows := w.in.Plan.RangeRows
	if rows <= 0 {
		rows = NoticeChunkRows
	}
	return incident.NoticeChunkInput{IncidentID: w.in.IncidentID, Drill: w.in.Drill, Dataset: w.in.Dataset,
		From: from, MaxRows: rows, Notice: w.in.Notice, Rerun: w.in.Run > 1}
}

// chunks sends one chunk after another, each starting where the last ended.
func (w *alertsImpl) chunks(ctx workflow.Context) error {
	in := &w.in
	for chunk := 0; ; chunk++ {
		if chunk == chunksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return workflow.NewContinueAsNewError(ctx, AlertsWorkflow, *in)
		}
		var res incident.NoticeChunkResult
		err := workflow.ExecuteActivity(noticeCtx(ctx), a.SendNotices, w.chunkInput(in.From)).Get(ctx, &res)
		if err != nil {
			_, err := w.fail(ctx, fmt.Errorf("send customer notices from dataset row %d: %w", in.From.Index+1, err))
			return err
		}
		in.Counts.Add(res.Counts)
		in.From = res.Next
		if res.Done {
			return nil
		}
		p := w.progress(ctx, incident.AlertsSending)
		w.rep.send(ctx, childState{Alerts: &p})
	}
}

// ranges sends the plan's ranges, Parallel at a time, reporting after each. Before it
// continues as new, the ranges under way finish, so the new run starts at NextRange.
func (w *alertsImpl) ranges(ctx workflow.Context) error {
	in := &w.in
	starts := in.Plan.Starts
	parallel := max(1, in.Plan.Parallel)
	sel := workflow.NewSelector(ctx)
	running, started := 0, 0
	var failure error
	for {
		for failure == nil && running < parallel && in.NextRange < len(starts) && started < chunksPerRun &&
			!workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			from := starts[in.NextRange]
			in.NextRange++
			started++
			running++
			f := workflow.ExecuteActivity(noticeCtx(ctx), a.SendNotices, w.chunkInput(from))
			sel.AddFuture(f, func(f workflow.Future) {
				running--
				var res incident.NoticeChunkResult
				if err := f.Get(ctx, &res); err != nil {
					if failure == nil {
						failure = fmt.Errorf("send customer notices from dataset row %d: %w", from.Index+1, err)
					}
					return
				}
				in.Counts.Add(res.Counts)
				if in.From.Index < res.Next.Index {
					in.From = res.Next
				}
				p := w.progress(ctx, incident.AlertsSending)
				w.rep.send(ctx, childState{Alerts: &p})
			})
		}
		if running == 0 {
			break
		}
		sel.Select(ctx)
	}
	if failure != nil {
		_, err := w.fail(ctx, failure)
		return err
	}
	if in.NextRange < len(starts) {
		return workflow.NewContinueAsNewError(ctx, AlertsWorkflow, *in)
	}
	return nil
}

// changeAlertsReportFailure is the workflow.GetVersion change after which a run that stops
// reports itself failed, with why, to the incident (which may follow it by reports alone);
// before it the last report said it was still sending.
const changeAlertsReportFailure = "alerts-report-failure"

func (w *alertsImpl) fail(ctx workflow.Context, err error) (incident.AlertProgress, error) {
	p := w.progress(ctx, incident.AlertsSending)
	if workflow.GetVersion(ctx, changeAlertsReportFailure, workflow.DefaultVersion, 1) == 1 {
		p.State, p.Error = incident.AlertsFailed, applicationMessage(err)
	}
	w.rep.send(ctx, childState{Alerts: &p})
	return p, err
}

func (w *alertsImpl) progress(ctx workflow.Context, state string) incident.AlertProgress {
	c := w.in.Counts
	return incident.AlertProgress{State: state, Total: w.in.Total, Sent: c.Sent + c.AlreadySent + c.PossiblyDuplicated,
		Invalid: c.Invalid, Duplicates: c.Duplicates, Skipped: c.Unusable + c.NotCovered, Failed: c.Rejected,
		Ambiguous: c.Ambiguous, PossiblyDuplicated: c.PossiblyDuplicated,
		Rows: c.Rows, StartedAt: w.in.StartedAt, UpdatedAt: workflow.Now(ctx).UTC(), Run: max(w.in.Run, 1),
		Languages: c.Clone().Languages, Fallbacks: c.Clone().Fallbacks}
}

// planCtx reads the whole dataset once; it heartbeats so a lost worker is noticed.
func planCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: 30 * time.Second,
			NonRetryableErrorTypes: []string{incident.ErrTypeSubjectsUnreadable},
		},
	})
}

// finishCtx reads the ledger and writes one list: retry until it works.
func finishCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute, MaximumAttempts: 10,
		},
	})
}

// alertsChunked is AlertsWorkflow before changeAlertsPlan, kept for the histories it made.
func alertsChunked(ctx workflow.Context, in AlertsInput) (incident.AlertProgress, error) {
	rep := newReporter(ctx)
	if in.StartedAt.IsZero() {
		in.StartedAt = workflow.Now(ctx).UTC()
	}
	progress := func(state string) incident.AlertProgress {
		return incident.AlertProgress{State: state, Total: in.Total, Sent: in.Counts.Sent + in.Counts.AlreadySent,
			Invalid: in.Counts.Invalid, Duplicates: in.Counts.Duplicates, Skipped: in.Counts.Unusable + in.Counts.NotCovered,
			Rows: in.Counts.Rows, StartedAt: in.StartedAt, UpdatedAt: workflow.Now(ctx).UTC()}
	}
	for chunk := 0; ; chunk++ {
		if chunk == chunksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return incident.AlertProgress{}, workflow.NewContinueAsNewError(ctx, AlertsWorkflow, in)
		}
		var res incident.NoticeChunkResult
		err := workflow.ExecuteActivity(noticeCtx(ctx), a.SendNotices, incident.NoticeChunkInput{
			IncidentID: in.IncidentID, Drill: in.Drill, Dataset: in.Dataset, From: in.From,
			MaxRows: NoticeChunkRows, Notice: in.Notice,
		}).Get(ctx, &res)
		if err != nil {
			p := progress(incident.AlertsSending)
			rep.send(ctx, childState{Alerts: &p})
			return p, fmt.Errorf("send customer notices from dataset row %d: %w", in.From.Index+1, err)
		}
		in.Counts.Add(res.Counts)
		in.From = res.Next
		if res.Done {
			break
		}
		p := progress(incident.AlertsSending)
		rep.send(ctx, childState{Alerts: &p})
	}
	p := progress(incident.AlertsDone)
	rep.send(ctx, childState{Alerts: &p})
	rep.event(ctx, "alerts-sent", fmt.Sprintf("Customer alerts finished: %d notices sent of %d; %d invalid addresses not mailed; %d duplicate rows skipped.",
		p.Sent, p.Total, p.Invalid, p.Duplicates))
	return p, nil
}

// runAlerts runs the customer alerts whenever more are wanted: after the decision, and again
// when a corrected dataset or a new notice obligation adds people. Each address is notified once
// per incident whatever the number of runs.
func (inc *incidentImpl) runAlerts(ctx workflow.Context) {
	if inc.resumed && inc.alertsStarted > inc.alertsRun && inc.rec.Alerts.State == incident.AlertsSending {
		// A run under way when the incident continued as new: wait for its outcome.
		p, err := inc.alertsOutcome(ctx, inc.alertsStarted)
		inc.alertsEnded(ctx, p, err)
	}
	for {
		if err := workflow.Await(ctx, func() bool { return inc.alertsWanted > inc.alertsStarted }); err != nil {
			return
		}
		inc.alertsStarted = inc.alertsWanted
		p, err := inc.sendAlerts(ctx, inc.alertsStarted)
		inc.alertsEnded(ctx, p, err)
	}
}

// alertsEnded records how an alerts run ended.
func (inc *incidentImpl) alertsEnded(ctx workflow.Context, p incident.AlertProgress, err error) {
	if err != nil {
		if ctx.Err() == nil {
			inc.alertsFailed(ctx, err)
		}
		return
	}
	inc.rec.Alerts = p
	inc.alertsRun = inc.alertsStarted
	inc.noticesComplete(ctx, p.Sent)
}

// noticesComplete tells each notice obligation's clock that the customer notices went out.
func (inc *incidentImpl) noticesComplete(ctx workflow.Context, sent int) {
	for _, o := range inc.rec.Obligations {
		if o.IsNotice() && o.State != incident.OblFiled && o.Paused == nil {
			err := workflow.SignalExternalWorkflow(ctx, incident.ObligationWorkflowID(inc.decl.IncidentID, o.ID), "", signalNoticeComplete,
				noticeCompletion{At: workflow.Now(ctx).UTC(), Sent: sent}).Get(ctx, nil)
			if err != nil {
				inc.event(ctx, "obligation-signal-failed", fmt.Sprintf("Could not tell the %s clock that notices went out: %v", o.ID, err))
			}
		}
	}
}

func (inc *incidentImpl) sendAlerts(ctx workflow.Context, run int) (incident.AlertProgress, error) {
	d := *inc.rec.Decision
	org := inc.decl.Organisation
	what := inc.decl.Title
	if inc.decl.Description != "" {
		what = inc.decl.Description
	}
	contact := org.SubjectContact
	if contact == "" {
		contact = org.DPOContact
	}
	routes := inc.noticeRoutes()
	total := 0
	if inc.rec.Scope != nil {
		for _, j := range sortedKeys(inc.rec.Scope.MailableByJurisdiction) {
			for _, r := range routes {
				if (rules.Obligation{Subjects: r.Subjects}).Covers(j) {
					total += inc.rec.Scope.MailableByJurisdiction[j]
					break
				}
			}
		}
	}
	inc.rec.Alerts = incident.AlertProgress{State: incident.AlertsSending, Total: total, StartedAt: workflow.Now(ctx).UTC()}
	inc.event(ctx, "alerts", fmt.Sprintf("Customer alerts started: %d people to notify.", total))
	cctx := workflow.WithChildOptions(ctx, inc.childOptions(inc.alertsWorkflowID(run)))
	fut := workflow.ExecuteChildWorkflow(cctx, AlertsWorkflow, AlertsInput{
		IncidentID: inc.decl.IncidentID, Drill: inc.decl.Drill, Dataset: inc.rec.Dataset, Total: total, Run: run,
		Notice: incident.NoticeContent{OrgName: org.Name, From: org.MailFrom, Title: inc.decl.Title, WhatHappened: what,
			Consequences: d.Consequences, Measures: d.Measures, Advice: d.Advice, Contact: contact,
			AwareAt: inc.decl.AwareAt.UTC(), Routes: routes, Languages: inc.decl.Languages},
	})
	if inc.tracked {
		// Followed by its reports: the run outlives this run of the incident.
		inc.starting++
		err := fut.GetChildWorkflowExecution().Get(ctx, nil)
		inc.starting--
		if err != nil {
			return incident.AlertProgress{}, err
		}
		return inc.alertsOutcome(ctx, run)
	}
	var p incident.AlertProgress
	err := fut.Get(ctx, &p)
	return p, err
}

// alertsOutcome waits for a tracked alerts run's last report: done, or failed.
func (inc *incidentImpl) alertsOutcome(ctx workflow.Context, run int) (incident.AlertProgress, error) {
	if err := workflow.Await(ctx, func() bool {
		a := inc.rec.Alerts
		return a.Run == run && (a.State == incident.AlertsDone || a.State == incident.AlertsFailed)
	}); err != nil {
		return incident.AlertProgress{}, err
	}
	if p := inc.rec.Alerts; p.State == incident.AlertsFailed {
		return p, errors.New(p.Error)
	}
	return inc.rec.Alerts, nil
}

// alertsWorkflowID is the workflow ID of an incident's run-th alerts run.
func (inc *incidentImpl) alertsWorkflowID(run int) string {
	id := incident.AlertsWorkflowID(inc.decl.IncidentID)
	if run > 1 {
		id = fmt.Sprintf("%s-%d", id, run)
	}
	return id
}

// noticeRoutes lists the notices the obligations require, the most specific first: a person
// covered by a state's or country's own notice gets that one; one notice per person.
func (inc *incidentImpl) noticeRoutes() []incident.NoticeRoute {
	var specific, general []incident.NoticeRoute
	for _, o := range inc.rec.Obligations {
		if !o.IsNotice() {
			continue
		}
		r := incident.NoticeRoute{Obligation: o.ID, Template: o.Template, Subjects: o.Subjects}
		if len(o.Subjects) > 0 {
			specific = append(specific, r)
		} else {
			general = append(general, r)
		}
	}
	routes := append(specific, general...)
	if len(routes) == 0 && inc.rec.Decision != nil && inc.rec.Decision.NotifySubjects {
		// The DPO chose to notify though no listed law requires it: everyone gets the plain notice.
		routes = append(routes, incident.NoticeRoute{Obligation: "dpo-decision", Template: "gdpr-art34-notice"})
	}
	// A notice a law-enforcement delay holds back goes out when the delay ends (another run).
	out := routes[:0:0]
	for _, r := range routes {
		if o, ok := inc.obligation(r.Obligation); !ok || o.Paused == nil {
			out = append(out, r)
		}
	}
	if len(out) == len(routes) {
		return routes
	}
	return out
}
