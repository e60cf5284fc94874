package workflows

import (
	"context"
	"errors"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
)

// mockRecords captures the record the close writes.
func (s *incidentSuite) mockRecords(written *incident.IncidentRecord) {
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(
		func(_ context.Context, rec incident.IncidentRecord) (incident.CloseOutput, error) {
			*written = rec
			return incident.CloseOutput{Register: "/reg.json"}, nil
		}).Once()
}

func (s *incidentSuite) mockScope() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "dataset:subjects.csv", SHA256: "abc"}}, nil).Once()
}

// A clock that fails for good (its report cannot be drafted) is shown as failed with what to
// do, blocks the close, and once the DPO records the report filed by hand the incident closes;
// the register says it was filed by hand.
func (s *incidentSuite) TestFailedClockResolvedByHand() {
	s.mockScope()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{},
		temporal.NewNonRetryableApplicationError("template gdpr-art33-report: missing field", "TemplateError", nil))
	var written incident.IncidentRecord
	s.mockRecords(&written)
	s.update(time.Hour, incident.UpdateDecide, riskOnly("dpo"), nil)
	var mid incident.Status
	s.env.RegisterDelayedCallback(func() { mid = s.status() }, 2*time.Hour)
	var early, late error
	s.update(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, &early)
	s.update(73*time.Hour, incident.UpdateResolve, incident.ResolveRequest{By: "dpo", Obligation: "gdpr-art33-authority", FiledByHand: true, Reference: "BLN-42"}, &late)
	s.update(74*time.Hour, incident.UpdateResolve, incident.ResolveRequest{By: "dpo", Obligation: "gdpr-art33-authority", FiledByHand: true,
		Reference: "BLN-42", Reasons: "filed by hand after the template failed"}, nil)
	s.update(75*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	o := mid.Obligations[0]
	s.Equal(incident.OblFailed, o.State)
	s.Contains(o.Failure, "missing field")
	s.True(hasStep(mid, "resolve:gdpr-art33-authority"), "the failed clock is a step for the DPO: %+v", mid.Pending)
	s.Require().Error(early)
	s.Contains(early.Error(), "clock failed")
	s.Contains(early.Error(), "breach resolve")
	s.ErrorContains(late, "reasons for the delay")
	s.Require().Len(written.Obligations, 1)
	got := written.Obligations[0]
	s.True(got.ByHand && got.State == incident.OblFiled && got.Reference == "BLN-42" && got.Late, "%+v", got)
	s.True(hasEvent(written, "resolved-by-hand"))
}

// Customer alerts that stop are shown as failed (never as sending) and block the close; a
// retry resumes them and the incident closes.
func (s *incidentSuite) TestFailedAlertsRetried() {
	s.mockScope()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/final.md", MessageID: "m", At: in.SubmittedAt}, nil
		})
	calls := 0
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			calls++
			if calls == 1 {
				return incident.NoticeChunkResult{}, temporal.NewNonRetryableApplicationError("SendGrid refused the API key", "SendGridUnauthorized", nil)
			}
			if !in.Rerun {
				return incident.NoticeChunkResult{}, errors.New("a retry must look each person up in the ledger")
			}
			return incident.NoticeChunkResult{Done: true, Counts: incident.NoticeCounts{Rows: 12, Sent: 9, Invalid: 1, Duplicates: 2}}, nil
		})
	var written incident.IncidentRecord
	s.mockRecords(&written)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"}, nil)
	var mid incident.Status
	s.env.RegisterDelayedCallback(func() { mid = s.status() }, 3*time.Hour)
	var early, byStranger error
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, &early)
	s.update(4*time.Hour, incident.UpdateRetry, incident.RetryRequest{By: "mallory", Alerts: true}, &byStranger)
	s.update(5*time.Hour, incident.UpdateRetry, incident.RetryRequest{By: "ic", Alerts: true}, nil)
	s.update(6*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Equal(incident.AlertsFailed, mid.Alerts.State)
	s.Contains(mid.Alerts.Error, "API key")
	s.True(hasStep(mid, "retry-alerts"))
	s.Require().Error(early)
	s.Contains(early.Error(), "customer alerts failed")
	s.NotContains(early.Error(), "sending")
	s.ErrorContains(byStranger, "does not hold")
	s.Equal(incident.AlertsDone, written.Alerts.State)
	s.Equal(2, calls)
}

// Alerts that stopped can be closed by recording how the people were told instead; the notice
// obligations are met, and the register keeps the reason.
func (s *incidentSuite) TestFailedAlertsResolvedByOtherMeans() {
	s.mockScope()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/final.md", MessageID: "m", At: in.SubmittedAt}, nil
		})
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(incident.NoticeChunkResult{},
		temporal.NewNonRetryableApplicationError("SendGrid account suspended", "SendGridUnauthorized", nil)).Once()
	var written incident.IncidentRecord
	s.mockRecords(&written)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"}, nil)
	var noNote error
	s.update(3*time.Hour, incident.UpdateResolve, incident.ResolveRequest{By: "ic", Alerts: true, ByOtherMeans: true}, &noNote)
	s.update(4*time.Hour, incident.UpdateResolve, incident.ResolveRequest{By: "ic", Alerts: true, ByOtherMeans: true,
		Note: "letters sent by post on 2026-11-29 to every affected customer"}, nil)
	s.update(5*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.ErrorContains(noNote, "--note")
	s.Equal(incident.AlertsResolved, written.Alerts.State)
	s.Contains(written.Alerts.Resolution, "letters sent by post")
	for _, o := range written.Obligations {
		s.Equal(incident.OblFiled, o.State, o.ID)
	}
}

func hasStep(st incident.Status, step string) bool {
	for _, p := range st.Pending {
		if p.Step == step {
			return true
		}
	}
	return false
}

func hasEvent(rec incident.IncidentRecord, kind string) bool {
	for _, e := range rec.Timeline {
		if e.Kind == kind {
			return true
		}
	}
	return false
}
