package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

// NoticeChunkRows is how many dataset rows one SendNotices activity handles.
const NoticeChunkRows = 1000

// chunksPerRun bounds the history of one alerts run; then it continues as new.
const chunksPerRun = 200

// AlertsInput starts, or continues, the customer alerts of an incident.
type AlertsInput struct {
	IncidentID string                   `json:"incident_id"`
	Drill      bool                     `json:"drill,omitempty"`
	Dataset    activities.DatasetRef    `json:"dataset"`
	Total      int                      `json:"total"`
	Notice     activities.NoticeContent `json:"notice"`
	// Carried across continue-as-new.
	From      subjects.Position       `json:"from"`
	Counts    activities.NoticeCounts `json:"counts"`
	StartedAt time.Time               `json:"started_at,omitzero"`
}

// AlertsWorkflow sends the customer notice to every mailable subject of the dataset, chunk by
// chunk, each chunk resumable, each address notified once.
func AlertsWorkflow(ctx workflow.Context, in AlertsInput) (AlertProgress, error) {
	rep := newReporter(ctx)
	if in.StartedAt.IsZero() {
		in.StartedAt = workflow.Now(ctx).UTC()
	}
	progress := func(state string) AlertProgress {
		return AlertProgress{State: state, Total: in.Total, Sent: in.Counts.Sent + in.Counts.AlreadySent,
			Invalid: in.Counts.Invalid, Duplicates: in.Counts.Duplicates, Skipped: in.Counts.Unusable + in.Counts.NotCovered,
			Rows: in.Counts.Rows, StartedAt: in.StartedAt, UpdatedAt: workflow.Now(ctx).UTC()}
	}
	for chunk := 0; ; chunk++ {
		if chunk == chunksPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return AlertProgress{}, workflow.NewContinueAsNewError(ctx, AlertsWorkflow, in)
		}
		var res activities.NoticeChunkResult
		err := workflow.ExecuteActivity(noticeCtx(ctx), a.SendNotices, activities.NoticeChunkInput{
			IncidentID: in.IncidentID, Drill: in.Drill, Dataset: in.Dataset, From: in.From,
			MaxRows: NoticeChunkRows, Notice: in.Notice,
		}).Get(ctx, &res)
		if err != nil {
			p := progress(AlertsSending)
			rep.send(ctx, childState{Alerts: &p})
			return p, fmt.Errorf("send customer notices from dataset row %d: %w", in.From.Index+1, err)
		}
		in.Counts.Add(res.Counts)
		in.From = res.Next
		if res.Done {
			break
		}
		p := progress(AlertsSending)
		rep.send(ctx, childState{Alerts: &p})
	}
	p := progress(AlertsDone)
	rep.send(ctx, childState{Alerts: &p})
	rep.event(ctx, "alerts-sent", fmt.Sprintf("Customer alerts finished: %d notices sent of %d; %d invalid addresses not mailed; %d duplicate rows skipped.",
		p.Sent, p.Total, p.Invalid, p.Duplicates))
	return p, nil
}

// runAlerts runs the customer alerts whenever more are wanted: after the decision, and again
// when a corrected dataset or a new notice obligation adds people. Each address is notified once
// per incident whatever the number of runs.
func (inc *incidentImpl) runAlerts(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return inc.alertsWanted > inc.alertsStarted }); err != nil {
			return
		}
		inc.alertsStarted = inc.alertsWanted
		p, err := inc.sendAlerts(ctx, inc.alertsStarted)
		if err != nil {
			inc.event(ctx, "alerts-failed", "Customer alerts stopped: "+applicationMessage(err))
			inc.chat("alerts-failed", "Customer alerts stopped: "+applicationMessage(err), true)
			continue
		}
		inc.rec.Alerts = p
		inc.alertsRun = inc.alertsStarted
		for _, o := range inc.rec.Obligations {
			if isSubjectNotice(o.Obligation) && o.State != OblFiled {
				err := workflow.SignalExternalWorkflow(ctx, ObligationWorkflowID(inc.decl.IncidentID, o.ID), "", signalNoticeComplete,
					noticeCompletion{At: workflow.Now(ctx).UTC(), Sent: p.Sent}).Get(ctx, nil)
				if err != nil {
					inc.event(ctx, "obligation-signal-failed", fmt.Sprintf("Could not tell the %s clock that notices went out: %v", o.ID, err))
				}
			}
		}
	}
}

func (inc *incidentImpl) sendAlerts(ctx workflow.Context, run int) (AlertProgress, error) {
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
	inc.rec.Alerts = AlertProgress{State: AlertsSending, Total: total, StartedAt: workflow.Now(ctx).UTC()}
	inc.event(ctx, "alerts", fmt.Sprintf("Customer alerts started: %d people to notify.", total))
	id := AlertsWorkflowID(inc.decl.IncidentID)
	if run > 1 {
		id = fmt.Sprintf("%s-%d", id, run)
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: id})
	var p AlertProgress
	err := workflow.ExecuteChildWorkflow(cctx, AlertsWorkflow, AlertsInput{
		IncidentID: inc.decl.IncidentID, Drill: inc.decl.Drill, Dataset: inc.rec.Dataset, Total: total,
		Notice: activities.NoticeContent{OrgName: org.Name, From: org.MailFrom, Title: inc.decl.Title, WhatHappened: what,
			Consequences: d.Consequences, Measures: d.Measures, Advice: d.Advice, Contact: contact,
			AwareAt: inc.decl.AwareAt.UTC(), Routes: routes},
	}).Get(ctx, &p)
	return p, err
}

// noticeRoutes lists the notices the obligations require, the most specific first: a person
// covered by a state's or country's own notice gets that one; one notice per person.
func (inc *incidentImpl) noticeRoutes() []activities.NoticeRoute {
	var specific, general []activities.NoticeRoute
	for _, o := range inc.rec.Obligations {
		if !isSubjectNotice(o.Obligation) {
			continue
		}
		r := activities.NoticeRoute{Obligation: o.ID, Template: o.Template, Subjects: o.Subjects}
		if len(o.Subjects) > 0 {
			specific = append(specific, r)
		} else {
			general = append(general, r)
		}
	}
	routes := append(specific, general...)
	if len(routes) == 0 && inc.rec.Decision != nil && inc.rec.Decision.NotifySubjects {
		// The DPO chose to notify though no listed law requires it: everyone gets the plain notice.
		routes = append(routes, activities.NoticeRoute{Obligation: "dpo-decision", Template: "gdpr-art34-notice"})
	}
	return routes
}
