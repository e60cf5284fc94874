package workflows

import (
	"context"
	"sort"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// riskOnly is a decision that requires the authority report and no customer notice.
func riskOnly(by string) incident.Decision {
	return incident.Decision{By: by, Risk: "risk", NotifyAuthority: true, Reasoning: "names exposed, no sensitive data"}
}

// Two supplements sent at once both get a number of their own, both are submitted, and both
// are recorded.
func (s *incidentSuite) TestTwoSupplementsAtOnceAreBothRecordedAndSent() {
	s.mockHappyPath()
	var sequences []int
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			sequences = append(sequences, in.Sequence)
			return incident.Submission{Path: "/r/x.md", MessageID: "m", At: in.SubmittedAt}, nil
		}).After(10 * time.Minute)
	s.update(time.Hour, incident.UpdateDecide, riskOnly("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"}, nil)
	s.env.RegisterDelayedCallback(func() {
		for _, note := range []string{"root cause found", "more people affected"} {
			s.env.UpdateWorkflow(incident.UpdateSupplement, note, strict(s, "supplement "+note),
				incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: note})
		}
	}, 3*time.Hour)
	var mid incident.Status
	s.env.RegisterDelayedCallback(func() { mid = s.status() }, 4*time.Hour)
	s.update(5*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	sort.Ints(sequences)
	s.Equal([]int{0, 1, 2}, sequences, "the report, then supplements 1 and 2 submitted")
	var got []int
	for _, o := range mid.Obligations {
		for _, sup := range o.Supplements {
			got = append(got, sup.Sequence)
		}
	}
	s.Equal([]int{1, 2}, got, "both supplements recorded")
}

// A close that comes while a supplement is being submitted is accepted, and the incident waits
// for the supplement before it writes the register; once closing, no new supplement is taken.
func (s *incidentSuite) TestCloseDuringASupplementWaitsForIt() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "dataset:subjects.csv", SHA256: "abc"}}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/x.md", MessageID: "m", At: in.SubmittedAt}, nil
		}).After(10 * time.Minute)
	var written incident.IncidentRecord
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, rec incident.IncidentRecord) (incident.CloseOutput, error) {
			written = rec
			return incident.CloseOutput{Register: "/reg.json"}, nil
		}).Once()
	s.update(time.Hour, incident.UpdateDecide, riskOnly("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"}, nil)
	sup := s.updateOutcome(3*time.Hour, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: "root cause found"})
	s.update(3*time.Hour+time.Minute, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	var late error
	s.update(3*time.Hour+2*time.Minute, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: "too late"}, &late)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.True(sup.answered)
	s.NoError(sup.failed)
	s.ErrorContains(late, "is closing")
	s.Require().Len(written.Obligations, 1)
	s.Require().Len(written.Obligations[0].Supplements, 1, "the register holds the supplement that was under way at the close")
	s.Equal("root cause found", written.Obligations[0].Supplements[0].Note)
}

// An approval whose signal cannot reach the report's clock changes nothing: the report still
// waits for approval, the step is still pending, and the approval can be sent again.
func (s *incidentSuite) TestApproveWhoseSignalFailsLeavesTheStepPending() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "dataset:subjects.csv", SHA256: "abc"}}, nil).Once()
	// The test cancels the incident at the end: its containments release, and it asks the clock
	// (which has ended here) to stop.
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run", After: "released"}, nil)
	s.env.OnRequestCancelExternalWorkflow(mock.Anything, mock.Anything, mock.Anything).Return(nil).Maybe()
	// A clock that asks for approval and then ends: the approval's signal finds nobody.
	s.env.OnWorkflow(ObligationWorkflow, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in ObligationInput) (incident.ObligationStatus, error) {
			st := incident.ObligationStatus{Obligation: in.Obligation, State: incident.OblAwaitingApproval}
			newReporter(ctx).send(ctx, childState{Obligation: &st, Pending: &incident.PendingStep{Step: incident.StepReport + in.Obligation.ID,
				Role: incident.RoleDPO, Since: workflow.Now(ctx), DueAt: in.Obligation.DueAt, Description: "approve"}})
			return st, nil
		})
	s.update(time.Hour, incident.UpdateDecide, riskOnly("dpo"), nil)
	approve := s.updateOutcome(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"})
	var after incident.Status
	s.env.RegisterDelayedCallback(func() { after = s.status() }, 3*time.Hour)
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 4*time.Hour)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(approve.rejected)
	s.Require().Error(approve.failed, "the approval must fail when its signal does")
	s.Contains(approve.failed.Error(), "still waits for approval")
	s.Require().Len(after.Obligations, 1)
	s.Equal(incident.OblAwaitingApproval, after.Obligations[0].State)
	pending := false
	for _, p := range after.Pending {
		pending = pending || p.Step == incident.StepReport+"gdpr-art33-authority"
	}
	s.True(pending, "the approval step is still pending: %+v", after.Pending)
}
