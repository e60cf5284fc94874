package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// obligationV0 is ObligationWorkflow before changeObligationResumable, kept unchanged for the
// clocks it started: they replay through it.
func obligationV0(ctx workflow.Context, in ObligationInput) (incident.ObligationStatus, error) {
	rep := newReporter(ctx)
	o := in.Obligation
	st := incident.ObligationStatus{Obligation: o, State: incident.OblDrafting, Method: in.Route.Method}
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
		st.State = incident.OblAwaitingNotices
		push(ctx)
		var done noticeCompletion
		workflow.GetSignalChannel(ctx, signalNoticeComplete).Receive(ctx, &done)
		stopEscalations()
		st.State = incident.OblFiled
		st.SubmittedAt = done.At
		st.Late = done.At.After(o.DueAt)
		st.Reference = fmt.Sprintf("customer alerts done: %d notices in all", done.Sent)
		push(ctx)
		rep.event(ctx, "obligation-met", fmt.Sprintf("%s met: every person it covers (%s) got a notice; %d notices in all, each person once.", o.ID, o.Audience, done.Sent))
		return st, nil
	}

	var draft incident.Draft
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.DraftReport, in.Report).Get(ctx, &draft); err != nil {
		return st, fmt.Errorf("draft the %s report: %w", o.ID, err)
	}
	st.Draft = draft.Path
	st.State = incident.OblAwaitingApproval
	step := incident.StepReport + o.ID
	sendPending(ctx, rep, &st, &incident.PendingStep{Step: step, Role: incident.RoleDPO, Since: workflow.Now(ctx).UTC(), DueAt: o.DueAt,
		Description: fmt.Sprintf("Approve the %s report to %s (%s)", o.ID, o.Audience, o.Basis)}, push)
	rep.event(ctx, "drafted", fmt.Sprintf("%s report drafted: %s", o.ID, draft.Path))
	ask := fmt.Sprintf("The %s report to %s is drafted (%s), due %s. Approve: breach approve %s --step %s --as <dpo>",
		o.ID, o.Audience, draft.Path, o.DueAt.UTC().Format(time.RFC3339), in.IncidentID, step)
	ask += lateHintAt(workflow.Now(ctx), o.DueAt)
	rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgApprovalNeeded, Drill: in.Drill, Text: ask,
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
		st.State = incident.OblSubmitting
		push(ctx)
		report.SubmittedAt = ok.At
		var sub incident.Submission
		if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
			return st, fmt.Errorf("submit the %s report: %w", o.ID, err)
		}
		st.Report = sub.Path
		st.Reference = sub.MessageID
		st.SubmittedAt = sub.At
		st.SubmittedBy = ok.By
	} else {
		// Filed by a person on the authority's portal; a drill files nothing anywhere.
		st.State = incident.OblAwaitingFiling
		sendPending(ctx, rep, &st, &incident.PendingStep{Step: incident.FileStep(o.ID), Role: incident.RoleDPO, Since: workflow.Now(ctx).UTC(), DueAt: o.DueAt,
			Description: fmt.Sprintf("File the %s report on the %s portal, then confirm with its reference", o.ID, routeName(in.Route, o))}, push)
		rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgFilingNeeded, Drill: in.Drill,
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
		var sub incident.Submission
		if err := workflow.ExecuteActivity(reportCtx(ctx), a.SubmitReport, report).Get(ctx, &sub); err != nil {
			return st, fmt.Errorf("record the %s filing: %w", o.ID, err)
		}
		st.Report = sub.Path
		st.Reference = f.Reference
		st.SubmittedAt = f.At
		st.SubmittedBy = f.By
	}
	stopEscalations()
	st.State = incident.OblFiled
	push(ctx)
	late := ""
	if st.Late {
		late = " after its deadline, with reasons"
	}
	text := fmt.Sprintf("%s report submitted to %s%s (reference %s): %s", o.ID, routeName(in.Route, o), late, st.Reference, st.Report)
	rep.event(ctx, "filed", text)
	rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgFiled, Text: text, Drill: in.Drill, Obligation: o.ID})
	return st, nil
}
