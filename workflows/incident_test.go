package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

var start = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

type incidentSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu    sync.Mutex
	chats []incident.ChatMessage
	cards []incident.Card
}

func TestIncident(t *testing.T) { suite.Run(t, new(incidentSuite)) }

func (s *incidentSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.env.RegisterWorkflow(ContainmentWorkflow)
	s.env.RegisterWorkflow(ObligationWorkflow)
	s.env.RegisterWorkflow(AlertsWorkflow)
	s.env.RegisterActivity(&activities.Activities{})
	s.chats = nil
	s.cards = nil
	// A broken test would otherwise skip through overdue reminders for ever.
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 120*24*time.Hour)
}

func (s *incidentSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func declaration() incident.Declaration {
	return incident.Declaration{
		IncidentID: "INC-20261128-7E57", Title: "Backup bucket exposed", Systems: []string{"shop-db", "crm-api"},
		AwareAt: start, AwareZone: "Europe/Berlin", DeclaredBy: "ic", Source: "cli",
		Subjects: incident.DatasetRef{URI: "/data/subjects.csv"},
		Roles:    incident.Roles{DPO: []string{"dpo"}, Commander: []string{"ic"}},
		Organisation: incident.Organisation{Name: "Example Shop", Timezone: "Europe/Berlin", Role: "controller",
			Establishments: []string{"DE"}, DPOContact: "dpo@example.test", MailFrom: "privacy@example.test"},
		Routes: []incident.Route{{Obligation: "gdpr-art33-authority", Method: "email", Address: "dpa@authority.example", Name: "DPA"}},
	}
}

func scope() subjects.Summary {
	return subjects.Summary{Rows: 12, Subjects: 10, Records: 20, Mailable: 9, Invalid: 1, Duplicates: 2,
		ByJurisdiction: map[string]int{"DE": 7, "FR": 3}, MailableByJurisdiction: map[string]int{"DE": 6, "FR": 3}, ByCategory: map[string]int{"contact": 10, "order-history": 10}, SHA256: "abc"}
}

// mockBase mocks chat and firewall as succeeding.
func (s *incidentSuite) mockBase() {
	s.env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(func(_ context.Context, c incident.Card) error {
		s.mu.Lock()
		s.cards = append(s.cards, c)
		s.mu.Unlock()
		return nil
	}).Maybe()
	s.env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{ID: "log", Name: "#inc"}, nil).Maybe()
	s.env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(func(_ context.Context, m incident.ChatMessage) error {
		s.mu.Lock()
		s.chats = append(s.chats, m)
		s.mu.Unlock()
		return nil
	}).Maybe()
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ContainInput) (incident.Evidence, error) {
			return incident.Evidence{Provider: "dry-run", System: in.System, After: "rules recorded"}, nil
		}).Times(2)
	s.env.OnActivity(a.VerifyIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run", InForce: true}, nil).Times(2)
}

func (s *incidentSuite) mockHappyPath() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/subjects.csv", SHA256: "abc"}}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{Register: "/reg.json"}, nil).Once()
}

func (s *incidentSuite) mockNotices() {
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(incident.NoticeChunkResult{
		Done: true, Counts: incident.NoticeCounts{Rows: 12, Sent: 9, Invalid: 1, Duplicates: 2}}, nil).Once()
}

// update sends an Update at workflow time at. With rejected nil it must be accepted and
// succeed; otherwise its refusal is recorded there (and an accepted one must still succeed).
func (s *incidentSuite) update(at time.Duration, name string, arg any, rejected *error) {
	s.env.RegisterDelayedCallback(func() {
		cb := strict(s, fmt.Sprintf("%s at %s", name, at))
		if rejected != nil {
			cb.OnReject = func(err error) { *rejected = err }
		}
		s.env.UpdateWorkflow(name, updateName(name, at), cb, arg)
	}, at)
}

// updateOutcome sends an Update at workflow time at and records what became of it.
func (s *incidentSuite) updateOutcome(at time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	s.env.RegisterDelayedCallback(func() { s.env.UpdateWorkflow(name, updateName(name, at), recording(o), arg) }, at)
	return o
}

func (s *incidentSuite) status() incident.Status {
	v, err := s.env.QueryWorkflow(incident.QueryStatus)
	s.Require().NoError(err)
	var st incident.Status
	s.Require().NoError(v.Get(&st))
	return st
}

func highRisk(by string) incident.Decision {
	return incident.Decision{By: by, Risk: "high", NotifyAuthority: true, NotifySubjects: true, Reasoning: "exfiltrated",
		Consequences: "phishing", Measures: "isolated"}
}

func (s *incidentSuite) TestWholePlan() {
	s.mockHappyPath()
	s.mockNotices()
	var submitted incident.ReportInput
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			submitted = in
			return incident.Submission{Path: "/r/final.md", MessageID: "msg-1", At: in.SubmittedAt}, nil
		}).Once()
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic", Summary: "done"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var res incident.Result
	s.Require().NoError(s.env.GetWorkflowResult(&res))
	s.Equal("/reg.json", res.Records.Register)

	st := s.status()
	s.Equal(incident.PhaseClosed, st.Phase)
	s.Equal("log", st.Room, "the room OpenRoom returned is recorded: /breach status answers there")
	s.Equal(declaration().Roles, st.Roles, "the status shows who holds each role")
	for _, c := range st.Containment {
		s.Equal(incident.ContainContained, c.State, c.System)
	}
	s.Equal(incident.AlertsDone, st.Alerts.State)
	s.Equal(9, st.Alerts.Sent)
	s.Equal(9, st.Alerts.Total)
	ids := map[string]incident.ObligationStatus{}
	for _, o := range st.Obligations {
		ids[o.ID] = o
	}
	s.Require().Contains(ids, "gdpr-art33-authority")
	s.Require().Contains(ids, "gdpr-art34-subjects")
	s.Equal(incident.OblFiled, ids["gdpr-art33-authority"].State)
	s.Equal("msg-1", ids["gdpr-art33-authority"].Reference)
	s.Equal(start.Add(2*time.Hour), ids["gdpr-art33-authority"].SubmittedAt)
	s.False(ids["gdpr-art33-authority"].Late)
	s.Equal(incident.OblFiled, ids["gdpr-art34-subjects"].State)
	s.Equal(start.Add(72*time.Hour), ids["gdpr-art33-authority"].DueAt)
	// The report was drafted from the incident's real counts and sent to the configured authority.
	s.Equal(10, submitted.Scope.Subjects)
	s.Equal("dpa@authority.example", submitted.RecipientAddress)
	s.Empty(submitted.LateReasons)
	// The report carries containment as it stood at approval, not at the decision.
	for _, c := range submitted.Containment {
		s.Equal(incident.ContainContained, c.State)
	}
	s.Empty(st.Pending)
	s.Equal(start.Add(3*time.Hour), st.ClosedAt)
	// The card was edited as the plan moved, and ends showing the closed incident.
	s.Require().NotEmpty(s.cards)
	last := s.cards[len(s.cards)-1]
	s.Equal(incident.PhaseClosed, last.Phase)
	s.Equal("ic", last.ClosedBy)
	s.Equal("high", last.Risk)
	for i := 1; i < len(s.cards); i++ {
		s.NotEqual(s.cards[i-1], s.cards[i], "card %d repeats the previous one", i)
	}
	kinds := map[string]bool{}
	about := map[string]bool{}
	for _, e := range st.Timeline {
		kinds[e.Kind] = true
		if e.About != "" {
			about[e.Kind+":"+e.About] = true
		}
	}
	s.True(about["isolated:shop-db"] && about["isolated:crm-api"] && about["approved:gdpr-art33-authority"], "events name what they concern: %v", about)
	for _, k := range []string{"declared", "isolated", "scope", "decision", "obligations", "drafted", "filed", "alerts-sent", "closed"} {
		s.True(kinds[k], "timeline lacks %s", k)
	}
	for i := 1; i < len(st.Timeline); i++ {
		s.False(st.Timeline[i].At.Before(st.Timeline[i-1].At), "timeline out of order at %d", i)
	}
}

func (s *incidentSuite) TestGDPRClockEscalatesAndRefusesLateFilingWithoutReasons() {
	s.mockHappyPath()
	s.mockNotices()
	var submitted incident.ReportInput
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			submitted = in
			return incident.Submission{Path: "/r/final.md", MessageID: "msg-1", At: in.SubmittedAt}, nil
		}).Once()
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	var tooEarlyClose, lateWithoutReasons error
	s.update(50*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, &tooEarlyClose)
	s.update(73*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, &lateWithoutReasons)
	var mid incident.Status
	s.env.RegisterDelayedCallback(func() { mid = s.status() }, 73*time.Hour+time.Minute)
	s.update(74*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority",
		Reasons: "the forensic confirmation arrived at hour 72"}, nil)
	s.update(75*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().Error(tooEarlyClose)
	s.Contains(tooEarlyClose.Error(), "gdpr-art33-authority is awaiting-approval")
	s.Require().Error(lateWithoutReasons)
	s.Contains(lateWithoutReasons.Error(), "reasons for the delay")
	// The rejected late approval changed nothing.
	var art33 incident.ObligationStatus
	for _, o := range mid.Obligations {
		if o.ID == "gdpr-art33-authority" {
			art33 = o
		}
	}
	s.Equal(incident.OblAwaitingApproval, art33.State)
	want := []time.Duration{36 * time.Hour, 54 * time.Hour, 64*time.Hour + 48*time.Minute, 71 * time.Hour, 72 * time.Hour}
	s.Require().Len(art33.Escalations, len(want), "%v", art33.Escalations)
	for i, d := range want {
		s.True(strings.HasPrefix(art33.Escalations[i], start.Add(d).Format(time.RFC3339)), "escalation %d: %s, want at %s", i, art33.Escalations[i], d)
	}
	s.Contains(art33.Escalations[4], "OVERDUE")

	s.Equal("the forensic confirmation arrived at hour 72", submitted.LateReasons)
	st := s.status()
	for _, o := range st.Obligations {
		if o.ID == "gdpr-art33-authority" {
			s.True(o.Late)
			s.Equal(incident.OblFiled, o.State)
		}
	}
	// Each escalation reached the incident room.
	n := 0
	for _, m := range s.chats {
		if m.Kind == "escalation" && strings.HasPrefix(m.Text, "gdpr-art33-authority") {
			n++
		}
	}
	s.GreaterOrEqual(n, 5)
}

func (s *incidentSuite) TestForgedAndWrongRoleDecisionsAreRejected() {
	s.mockHappyPath()
	s.mockNotices()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(incident.Submission{MessageID: "m"}, nil).Once()
	var byIC, byStranger, badRisk, noReason, lowRiskNotice, twice error
	s.update(30*time.Minute, incident.UpdateDecide, highRisk("ic"), &byIC)
	s.update(31*time.Minute, incident.UpdateDecide, highRisk("mallory"), &byStranger)
	s.update(32*time.Minute, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "catastrophic", Reasoning: "x"}, &badRisk)
	s.update(33*time.Minute, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "high", NotifyAuthority: true, NotifySubjects: true}, &noReason)
	s.update(34*time.Minute, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "risk", NotifyAuthority: true, NotifySubjects: true, Reasoning: "x"}, &lowRiskNotice)
	var before incident.Status
	s.env.RegisterDelayedCallback(func() { before = s.status() }, 50*time.Minute)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(61*time.Minute, incident.UpdateDecide, highRisk("dpo"), &twice)
	var forgedApproval error
	s.update(90*time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "ic", Step: "report:gdpr-art33-authority"}, &forgedApproval)
	var unknownStep error
	s.update(91*time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:no-such-obligation"}, &unknownStep)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	for name, err := range map[string]error{"by ic": byIC, "by stranger": byStranger} {
		s.Require().Error(err, name)
		s.Contains(err.Error(), "does not hold the dpo role", name)
	}
	s.ErrorContains(badRisk, "not one of unlikely, risk, high")
	s.ErrorContains(noReason, "reasoning is empty")
	s.ErrorContains(lowRiskNotice, "only on a high-risk finding")
	s.ErrorContains(twice, "already decided by dpo")
	s.ErrorContains(forgedApproval, "does not hold the dpo role")
	s.ErrorContains(unknownStep, `no obligation "no-such-obligation"`)
	s.Nil(before.Decision, "a rejected decision must leave the state unchanged")
	s.Equal(incident.PhaseDecide, before.Phase)
	s.Equal("dpo", s.status().Decision.By)
}

func (s *incidentSuite) TestChatOutageBlocksNothing() {
	s.env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{}, errors.New("slack is down"))
	s.env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(errors.New("slack is down"))
	s.env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(errors.New("slack is down"))
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run"}, nil).Times(2)
	s.env.OnActivity(a.VerifyIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{InForce: true}, nil).Times(2)
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: scope()}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/d"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(incident.Submission{MessageID: "m"}, nil).Once()
	s.mockNotices()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	st := s.status()
	s.Equal(incident.PhaseClosed, st.Phase)
	s.Equal(incident.AlertsDone, st.Alerts.State)
	s.Empty(st.Room, "no room was opened")
}

func (s *incidentSuite) TestFailedAutomationBecomesAManualTask() {
	s.env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{}, nil).Maybe()
	s.env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(func(_ context.Context, m incident.ChatMessage) error {
		s.chats = append(s.chats, m)
		return nil
	}).Maybe()
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("isolate shop-db via aws: unknown instance", incident.ErrTypeFirewallPermanent, nil)).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: scope()}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/d"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(incident.Submission{MessageID: "m"}, nil).Once()
	s.mockNotices()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	d := declaration()
	d.Systems = []string{"shop-db"}
	var waiting, waitingAt4h incident.Status
	s.env.RegisterDelayedCallback(func() { waiting = s.status() }, 10*time.Minute)
	s.env.RegisterDelayedCallback(func() { waitingAt4h = s.status() }, 4*time.Hour+15*time.Minute)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	var tooEarly, wrongRole error
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, &tooEarly)
	s.update(4*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "isolation:shop-db"}, &wrongRole)
	s.update(4*time.Hour+30*time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "ic", Step: "isolation:shop-db", Note: "pulled the cable"}, nil)
	s.update(6*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Require().Len(waiting.Containment, 1)
	s.Equal(incident.ContainManual, waiting.Containment[0].State)
	s.Contains(waiting.Containment[0].Detail, "unknown instance")
	steps := []string{}
	for _, p := range waiting.Pending {
		steps = append(steps, p.Step)
	}
	s.Contains(steps, "isolation:shop-db")
	s.ErrorContains(tooEarly, "containment of shop-db is manual-required")
	s.ErrorContains(wrongRole, "does not hold the commander role")
	st := s.status()
	s.Equal(incident.ContainContained, st.Containment[0].State)
	s.True(st.Containment[0].Manual)
	s.Contains(st.Containment[0].Detail, "pulled the cable")
	// Reminders were raised while nobody confirmed, backing off: every 15 minutes for the first
	// hour, then hourly (0:15, 0:30, 0:45, 1:00, 2:00, 3:00, 4:00); each replaces the last one
	// (folded) and the card counts them.
	var reminders []incident.ChatMessage
	for _, m := range s.chats {
		if m.Kind == "manual-isolation-reminder" {
			reminders = append(reminders, m)
		}
	}
	s.Len(reminders, 7)
	for _, m := range reminders {
		s.Equal("isolation:shop-db", m.Fold)
	}
	s.Equal(7, waitingAt4h.Containment[0].Reminders)
}

func (s *incidentSuite) TestUnlikelyRiskFilesNothingAndStillWritesTheRegister() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: scope()}, nil).Once()
	var rec incident.IncidentRecord
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(func(_ context.Context, r incident.IncidentRecord) (incident.CloseOutput, error) {
		rec = r
		return incident.CloseOutput{Register: "/reg"}, nil
	}).Once()
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "encrypted laptop, key not lost"}, nil)
	s.update(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Empty(rec.Obligations)
	s.Equal(incident.AlertsNotRequired, rec.Alerts.State)
	reasons := map[string]string{}
	for _, n := range rec.NotRequired {
		reasons[n.ID] = n.Reason
	}
	s.Contains(reasons, "gdpr-art33-authority")
	s.Contains(reasons, "gdpr-art34-subjects")
}

func (s *incidentSuite) TestBadDatasetWaitsForACorrectedOne() {
	s.mockBase()
	s.mockNotices()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil)
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: "INC-20261128-7E57", Dataset: incident.DatasetRef{URI: "/data/subjects.csv"}}).Return(
		incident.ScopeResult{}, temporal.NewNonRetryableApplicationError(`subjects dataset: required column "email" is missing`, incident.ErrTypeSubjectsMissingColumn, nil)).Once()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: "INC-20261128-7E57", Dataset: incident.DatasetRef{URI: "/data/fixed.csv"}}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/fixed.csv", SHA256: "f"}}, nil).Once()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(incident.Submission{MessageID: "m"}, nil).Once()
	var failed incident.Status
	s.env.RegisterDelayedCallback(func() { failed = s.status() }, 10*time.Minute)
	s.update(20*time.Minute, incident.UpdateReplaceSubjects, incident.ReplaceSubjectsRequest{By: "ic", Subjects: incident.DatasetRef{URI: "/data/fixed.csv"}}, nil)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	s.update(3*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Contains(failed.ScopeError, `column "email"`)
	s.Equal(incident.PhaseAssess, failed.Phase)
	st := s.status()
	s.Equal("f", st.Dataset.SHA256)
	s.Empty(st.ScopeError)
}

// An incident declared with a sector the rules do not know (before declarations were checked)
// cannot be decided: the DPO's decision is refused with what is wrong, who corrects it where,
// and how to get out of the incident, and the incident waits unchanged until it is cancelled.
func (s *incidentSuite) TestDecisionOnFactsTheRulesCannotEvaluateIsRefusedWithTheFix() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/subjects.csv", SHA256: "abc"}}, nil).Once()
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run"}, nil).Maybe()
	d := declaration()
	d.Organisation.Sectors = []string{"retail"}
	var refused error
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), &refused)
	var after incident.Status
	s.env.RegisterDelayedCallback(func() { after = s.status() }, 90*time.Minute)
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 2*time.Hour)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().Error(refused, "the decision must be refused")
	for _, want := range []string{
		`the organisation's sector "retail" is unknown to the rulebook`,
		"the configuration (breach.yaml, organisation.sectors) must be corrected",
		"known sectors are health-covered-entity, nis2-essential, nis2-important, us-listed",
		"declare the breach again, and cancel INC-20261128-7E57",
	} {
		s.Contains(refused.Error(), want)
	}
	s.Nil(after.Decision, "a refused decision leaves the state unchanged")
	s.Equal(incident.PhaseDecide, after.Phase)
	var canceled *temporal.CanceledError
	s.ErrorAs(s.env.GetWorkflowError(), &canceled, "cancelling gets out of the incident")
}

func TestEscalationPoints(t *testing.T) {
	cases := []struct {
		name       string
		start, due time.Time
		want       []time.Duration
	}{
		{"72 hours", start, start.Add(72 * time.Hour), []time.Duration{36 * time.Hour, 54 * time.Hour, 64*time.Hour + 48*time.Minute, 71 * time.Hour, 72 * time.Hour}},
		{"4 hours: T-1h before 90%", start, start.Add(4 * time.Hour), []time.Duration{2 * time.Hour, 3 * time.Hour, 3 * time.Hour, 3*time.Hour + 36*time.Minute, 4 * time.Hour}},
		{"30 minutes: T-1h before the start is dropped", start, start.Add(30 * time.Minute), []time.Duration{15 * time.Minute, 22*time.Minute + 30*time.Second, 27 * time.Minute, 30 * time.Minute}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Escalations(c.start, c.due)
			require.Len(t, got, len(c.want))
			for i, d := range c.want {
				require.Equal(t, c.start.Add(d), got[i].At, "point %d (%s)", i, got[i].Label)
			}
		})
	}
}
