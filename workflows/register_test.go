package workflows

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/register"
)

// recordRegister captures every version the incident records in the register.
func (s *incidentSuite) recordRegister() *[]register.Content {
	var got []register.Content
	s.env.OnActivity(a.RecordRegister, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.RegisterInput) (activities.RegisterOutput, error) {
			s.mu.Lock()
			got = append(got, in.Content)
			s.mu.Unlock()
			return activities.RegisterOutput{Version: len(got), Added: true}, nil
		})
	return &got
}

func statuses(cs []register.Content) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Status)
	}
	return out
}

// The incident is in the register from its declaration, and records a version at each change
// of what the register says, never one half-way (a decision whose obligations are not known
// yet would read "not notified").
func (s *incidentSuite) TestRegisterFollowsTheIncidentFromItsDeclaration() {
	s.mockHappyPath()
	s.mockNotices()
	versions := s.recordRegister()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/final.md", MessageID: "msg-1", At: in.SubmittedAt}, nil
		}).Once()
	var atDeclaration int
	s.env.RegisterDelayedCallback(func() { atDeclaration = len(*versions) }, time.Minute)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic", Summary: "done"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())

	got := *versions
	s.Require().NotEmpty(got)
	s.GreaterOrEqual(atDeclaration, 1, "the incident is in the register from its declaration")
	first := got[0]
	s.Equal(register.StatusOpen, first.Status)
	s.Equal(declaration().IncidentID, first.IncidentID)
	s.Equal("Backup bucket exposed", first.Title)
	s.NotContains(statuses(got), register.StatusNotNotified, "a version was recorded half-way through the decision: %v", statuses(got))
	s.Contains(statuses(got), register.StatusNotifying)
	last := got[len(got)-1]
	s.Equal(register.StatusNotified, last.Status, "the last version before the close has every obligation met: %v", statuses(got))
	s.Equal("high", last.Decision.Risk)
	s.Equal("exfiltrated", last.Decision.Reasoning)
	s.Equal("phishing", last.Consequences)
	s.Equal("isolated", last.Measures)
	s.Equal(10, last.Scope.Subjects)
	filed := map[string]register.Obligation{}
	for _, o := range last.Obligations {
		filed[o.ID] = o
	}
	s.Equal(register.ObligationFiled, filed["gdpr-art33-authority"].State)
	s.Equal("msg-1", filed["gdpr-art33-authority"].Reference)
	s.Equal(start.Add(2*time.Hour), filed["gdpr-art33-authority"].FiledAt)
	s.Equal(start.Add(72*time.Hour), filed["gdpr-art33-authority"].DueAt)
	s.True(last.ClosedAt.IsZero(), "the closed version is WriteRecords' to record")
	for i := 1; i < len(got); i++ {
		s.False(reflect.DeepEqual(got[i-1], got[i]), "version %d repeats the one before", i+1)
	}
}

func (s *incidentSuite) TestRegisterUnlikelyRiskHasItsReasoningAndNoObligations() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: scope()}, nil).Once()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{Register: "/reg"}, nil).Once()
	versions := s.recordRegister()
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "encrypted laptop, key not lost"}, nil)
	s.update(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	got := *versions
	s.Require().NotEmpty(got)
	last := got[len(got)-1]
	s.Equal(register.StatusNotNotified, last.Status)
	s.Equal("encrypted laptop, key not lost", last.Decision.Reasoning)
	s.Empty(last.Obligations)
	s.NotNil(last.Obligations)
	ids := map[string]bool{}
	for _, n := range last.NotRequired {
		ids[n.ID] = true
	}
	s.True(ids["gdpr-art33-authority"], "the register says why nothing was notified: %v", last.NotRequired)
}

func (s *incidentSuite) TestRegisterRecordsACancelledIncident() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: scope()}, nil).Once()
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run"}, nil).Maybe()
	versions := s.recordRegister()
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 2*time.Hour)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().Error(s.env.GetWorkflowError())
	got := *versions
	s.Require().NotEmpty(got)
	last := got[len(got)-1]
	s.Equal(register.StatusCancelled, last.Status)
	s.Equal(start.Add(2*time.Hour), last.CancelledAt)
	s.Equal(register.StatusOpen, got[0].Status)
}

// Two incidents recorded from a real dev server by e2e TestRegister/files (run it with
// BREACH_RECORD_HISTORIES=DIR): one decided "unlikely to result in a risk" and closed, one
// notified (an email report, a portal filing, notices) and closed, each recording register
// versions from its declaration (changeRegister). The histories before the change replay in
// the other replay tests.
func TestReplayRegisterHistories(t *testing.T) {
	for _, name := range []string{"register-unlikely", "register-notified"} {
		h, err := client.HistoryFromJSON(mustOpen(t, filepath.Join("testdata", name+".json")), client.HistoryJSONOptions{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, e := range h.GetEvents() {
			if at := e.GetActivityTaskScheduledEventAttributes(); at != nil && at.GetActivityType().GetName() == "RecordRegister" {
				n++
			}
		}
		if n < 2 {
			t.Fatalf("%s records %d register versions: it is not a history of changeRegister", name, n)
		}
	}
	replayAll(t, "register-unlikely", "register-notified")
}
