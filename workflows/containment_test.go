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
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

// containSuite tests containment: isolation, the manual fallback, and release as a
// compensation (on request, at close, on cancellation).
type containSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	chats     []incident.ChatMessage
	releases  []string // systems released, in call order
	cancelled bool     // set when the test cancels the workflow
	// releasedAfterCancel counts releases that ran after the cancellation.
	releasedAfterCancel int
}

func TestContainment(t *testing.T) { suite.Run(t, new(containSuite)) }

var containStart = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)

func (s *containSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(containStart)
	s.env.RegisterWorkflow(ContainmentWorkflow)
	s.env.RegisterWorkflow(ObligationWorkflow)
	s.env.RegisterWorkflow(AlertsWorkflow)
	s.env.RegisterActivity(&activities.Activities{})
	s.chats, s.releases, s.cancelled, s.releasedAfterCancel = nil, nil, false, 0
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 60*24*time.Hour)
}

func (s *containSuite) AfterTest(_, _ string) { s.env.AssertExpectations(s.T()) }

func containDeclaration() incident.Declaration {
	return incident.Declaration{
		IncidentID: "INC-20261128-C0DE", Title: "Database dumped", Systems: []string{"shop-db", "crm-api"},
		AwareAt: containStart, DeclaredBy: "ic", Source: "cli",
		Subjects: incident.DatasetRef{URI: "/data/subjects.csv"},
		Roles:    incident.Roles{DPO: []string{"dpo"}, Commander: []string{"ic"}},
		Organisation: incident.Organisation{Name: "Example Shop", Timezone: "Europe/Berlin", Role: "controller",
			Establishments: []string{"DE"}, DPOContact: "dpo@example.test", MailFrom: "privacy@example.test"},
	}
}

// mockRoom accepts chat and card updates and keeps the messages.
func (s *containSuite) mockRoom() {
	s.env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{ID: "log", Name: "#inc"}, nil).Maybe()
	s.env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(func(_ context.Context, m incident.ChatMessage) error {
		s.mu.Lock()
		s.chats = append(s.chats, m)
		s.mu.Unlock()
		return nil
	}).Maybe()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: subjects.Summary{
		Rows: 2, Subjects: 2, Records: 2, Mailable: 2, ByJurisdiction: map[string]int{"DE": 2}, ByCategory: map[string]int{"contact": 2}}}, nil).Maybe()
}

// mockIsolation isolates and verifies every system named, through nftables.
func (s *containSuite) mockIsolation(systems ...string) {
	for _, sys := range systems {
		in := incident.ContainInput{IncidentID: "INC-20261128-C0DE", System: sys}
		s.env.OnActivity(a.Isolate, mock.Anything, in).Return(
			incident.Evidence{Provider: "nftables", System: sys, After: "4 rules in inet breach_quarantine"}, nil).Once()
		s.env.OnActivity(a.VerifyIsolation, mock.Anything, in).Return(incident.Evidence{Provider: "nftables", InForce: true}, nil).Once()
	}
}

// mockRelease expects the systems to be released, and records when.
func (s *containSuite) mockRelease(systems ...string) {
	for _, sys := range systems {
		in := incident.ContainInput{IncidentID: "INC-20261128-C0DE", System: sys}
		s.env.OnActivity(a.ReleaseIsolation, mock.Anything, in).Return(
			func(_ context.Context, in incident.ContainInput) (incident.Evidence, error) {
				s.mu.Lock()
				defer s.mu.Unlock()
				s.releases = append(s.releases, in.System)
				if s.cancelled {
					s.releasedAfterCancel++
				}
				return incident.Evidence{Provider: "nftables", System: in.System, Action: "release", After: "rules of " + in.System + " removed"}, nil
			}).Once()
	}
}

// result is what one Update answered.
type result struct {
	rejected error
	err      error
	value    string
}

func (s *containSuite) updateAt(at time.Duration, name string, arg any) *result {
	r := &result{}
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, fmt.Sprintf("%s-%s", name, at), &testsuite.TestUpdateCallback{
			OnAccept: func() {},
			OnReject: func(err error) { r.rejected = err },
			OnComplete: func(v any, err error) {
				r.err = err
				if sv, ok := v.(string); ok {
					r.value = sv
				}
			},
		}, arg)
	}, at)
	return r
}

func (s *containSuite) statusAt(at time.Duration) *incident.Status {
	st := &incident.Status{}
	s.env.RegisterDelayedCallback(func() { *st = s.status() }, at)
	return st
}

func (s *containSuite) status() incident.Status {
	v, err := s.env.QueryWorkflow(incident.QueryStatus)
	s.Require().NoError(err)
	var st incident.Status
	s.Require().NoError(v.Get(&st))
	return st
}

func (s *containSuite) cancelAt(at time.Duration) {
	s.env.RegisterDelayedCallback(func() {
		s.mu.Lock()
		s.cancelled = true
		s.mu.Unlock()
		s.env.CancelWorkflow()
	}, at)
}

func systemState(st incident.Status, system string) incident.SystemStatus {
	for _, c := range st.Containment {
		if c.System == system {
			return c
		}
	}
	return incident.SystemStatus{}
}

func eventKinds(st incident.Status) map[string]int {
	kinds := map[string]int{}
	for _, e := range st.Timeline {
		kinds[e.Kind]++
	}
	return kinds
}

func (s *containSuite) chatKinds() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	kinds := map[string]int{}
	for _, m := range s.chats {
		kinds[m.Kind]++
	}
	return kinds
}

func unlikely() incident.Decision {
	return incident.Decision{By: "dpo", Risk: "unlikely", Reasoning: "hashed passwords only, no other data"}
}

// Automation fails, a person isolates by hand and confirms, and the system counts as contained;
// breach cannot lift a manual isolation, so its release is recorded with --manual.
func (s *containSuite) TestFailedAutomationThenManualConfirmationThenRelease() {
	s.mockRoom()
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("isolate shop-db via aws: unknown instance i-0abc", incident.ErrTypeFirewallPermanent, nil)).Once()
	d := containDeclaration()
	d.Systems = []string{"shop-db"}

	waiting := s.statusAt(50 * time.Minute)
	early := s.updateAt(55*time.Minute, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db"})
	wrongRole := s.updateAt(59*time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "isolation:shop-db"})
	s.updateAt(time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "ic", Step: "isolation:shop-db", Note: "switch port 12 disabled"})
	contained := s.statusAt(61 * time.Minute)
	notByHand := s.updateAt(2*time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db"})
	byHand := s.updateAt(2*time.Hour+time.Minute, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db", Manual: true, Reason: "port re-enabled after reimaging"})
	released := s.statusAt(2*time.Hour + 2*time.Minute)
	s.updateAt(3*time.Hour, incident.UpdateDecide, unlikely())
	s.updateAt(4*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"})
	var rec incident.IncidentRecord
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(func(_ context.Context, r incident.IncidentRecord) (incident.CloseOutput, error) {
		rec = r
		return incident.CloseOutput{Register: "/reg"}, nil
	}).Once()

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal(incident.ContainManual, systemState(*waiting, "shop-db").State)
	s.Contains(systemState(*waiting, "shop-db").Detail, "unknown instance")
	s.Require().Len(waiting.Pending, 2, "%+v", waiting.Pending) // isolation, and the DPO's decision
	s.ErrorContains(early.rejected, "shop-db is not contained: it is manual-required")
	s.ErrorContains(wrongRole.rejected, "does not hold the commander role")
	c := systemState(*contained, "shop-db")
	s.Equal(incident.ContainContained, c.State)
	s.True(c.Manual)
	s.Contains(c.Detail, "switch port 12 disabled")
	s.GreaterOrEqual(s.chatKinds()["manual-isolation-reminder"], 3, "reminders every 15 minutes while nobody confirmed")

	s.ErrorContains(notByHand.rejected, "isolated by hand")
	s.ErrorContains(notByHand.rejected, "--manual")
	s.Require().NoError(byHand.rejected)
	s.Require().NoError(byHand.err)
	s.Contains(byHand.value, "released by hand")
	r := systemState(*released, "shop-db")
	s.Equal(incident.ContainReleased, r.State)
	s.Contains(r.Detail, "confirmed by ic")
	s.Equal(1, eventKinds(*released)["released"])
	s.Equal(incident.ContainReleased, rec.Containment[0].State, "the register records the release")
}

// The commander releases one system mid-incident; other roles, unknown systems and a second
// release are refused with the reason; at close the other system stays isolated.
func (s *containSuite) TestReleaseByUpdate() {
	s.mockRoom()
	s.mockIsolation("shop-db", "crm-api")
	s.mockRelease("shop-db")
	byDPO := s.updateAt(time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "dpo", System: "shop-db"})
	byNobody := s.updateAt(time.Hour+time.Minute, incident.UpdateRelease, incident.ReleaseRequest{System: "shop-db"})
	unknown := s.updateAt(time.Hour+2*time.Minute, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "mail-gw"})
	manualFlag := s.updateAt(time.Hour+3*time.Minute, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db", Manual: true})
	before := s.statusAt(time.Hour + 4*time.Minute)
	ok := s.updateAt(2*time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db", Reason: "forensics done"})
	after := s.statusAt(2*time.Hour + time.Minute)
	twice := s.updateAt(3*time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db"})
	s.updateAt(4*time.Hour, incident.UpdateDecide, unlikely())
	s.updateAt(5*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"})
	var rec incident.IncidentRecord
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(func(_ context.Context, r incident.IncidentRecord) (incident.CloseOutput, error) {
		rec = r
		return incident.CloseOutput{Register: "/reg"}, nil
	}).Once()

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: containDeclaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.ErrorContains(byDPO.rejected, "dpo does not hold the commander role")
	s.ErrorContains(byNobody.rejected, "no identity given")
	s.ErrorContains(unknown.rejected, `no system "mail-gw"`)
	s.ErrorContains(unknown.rejected, "shop-db, crm-api")
	s.ErrorContains(manualFlag.rejected, "not by hand")
	s.Equal(incident.ContainContained, systemState(*before, "shop-db").State, "rejected releases change nothing")

	s.Require().NoError(ok.rejected)
	s.Require().NoError(ok.err)
	s.Contains(ok.value, "shop-db released via nftables (by ic): rules of shop-db removed")
	s.Equal(incident.ContainReleased, systemState(*after, "shop-db").State)
	s.Equal(incident.ContainContained, systemState(*after, "crm-api").State)
	var releasedText string
	for _, e := range after.Timeline {
		if e.Kind == "released" {
			releasedText = e.Text
		}
	}
	s.Contains(releasedText, "shop-db released via nftables by ic (forensics done)")
	s.ErrorContains(twice.rejected, "shop-db is already released")
	s.Equal([]string{"shop-db"}, s.releases, "without release_on_close, close keeps crm-api isolated")

	s.Equal(incident.ContainReleased, rec.Containment[0].State)
	s.Equal(incident.ContainContained, rec.Containment[1].State)
	kept := ""
	for _, e := range rec.Timeline {
		if e.Kind == "kept-isolated" {
			kept += e.Text
		}
	}
	s.Contains(kept, "crm-api stays isolated after the close")
	s.NotContains(kept, "shop-db")
}

// A release that the firewall refuses leaves the system isolated, says so, and can be retried.
func (s *containSuite) TestFailedReleaseKeepsTheIsolationAndCanBeRetried() {
	s.mockRoom()
	s.mockIsolation("shop-db")
	in := incident.ContainInput{IncidentID: "INC-20261128-C0DE", System: "shop-db"}
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, in).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("release shop-db via aws: access denied", incident.ErrTypeFirewallPermanent, nil)).Once()
	s.mockRelease("shop-db")
	d := containDeclaration()
	d.Systems = []string{"shop-db"}
	failed := s.updateAt(time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db"})
	between := s.statusAt(time.Hour + time.Minute)
	retried := s.updateAt(2*time.Hour, incident.UpdateRelease, incident.ReleaseRequest{By: "ic", System: "shop-db"})
	after := s.statusAt(2*time.Hour + time.Minute)
	s.cancelAt(3 * time.Hour)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().True(s.env.IsWorkflowCompleted())

	s.Require().NoError(failed.rejected)
	s.ErrorContains(failed.err, "access denied")
	s.ErrorContains(failed.err, "shop-db is still isolated")
	s.Equal(incident.ContainContained, systemState(*between, "shop-db").State)
	s.Equal(1, eventKinds(*between)["release-failed"])
	s.Require().NoError(retried.err)
	s.Equal(incident.ContainReleased, systemState(*after, "shop-db").State)
	s.Equal(0, s.releasedAfterCancel, "a released system is not released again on cancellation")
}

// With release_on_close, closing releases automated isolations through the provider; a manual
// isolation stays recorded as isolated and people are asked to lift it.
func (s *containSuite) TestReleaseOnClose() {
	s.mockRoom()
	s.mockIsolation("shop-db")
	s.env.OnActivity(a.Isolate, mock.Anything, incident.ContainInput{IncidentID: "INC-20261128-C0DE", System: "crm-api"}).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("isolate crm-api via opnsense: bad credentials", incident.ErrTypeFirewallPermanent, nil)).Once()
	s.mockRelease("shop-db")
	d := containDeclaration()
	d.ReleaseOnClose = true
	s.updateAt(30*time.Minute, incident.UpdateApprove, incident.ApproveRequest{By: "ic", Step: "isolation:crm-api"})
	s.updateAt(time.Hour, incident.UpdateDecide, unlikely())
	s.updateAt(2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"})
	var rec incident.IncidentRecord
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(func(_ context.Context, r incident.IncidentRecord) (incident.CloseOutput, error) {
		rec = r
		return incident.CloseOutput{Register: "/reg"}, nil
	}).Once()

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal([]string{"shop-db"}, s.releases)
	s.Equal(incident.ContainReleased, rec.Containment[0].State, "shop-db, isolated by nftables, is released at close")
	s.Equal(incident.ContainContained, rec.Containment[1].State, "crm-api, isolated by hand, stays recorded as isolated")
	s.True(rec.Containment[1].Manual)
	s.Equal(1, s.chatKinds()["manual-release"], "people are asked to lift the manual isolation")
	kinds := map[string]int{}
	for _, e := range rec.Timeline {
		kinds[e.Kind]++
	}
	s.Equal(1, kinds["released"])
	s.Equal(1, kinds["release-manual"])
	s.Equal(1, kinds["kept-isolated"])
	st := s.status()
	s.Equal(incident.PhaseClosed, st.Phase)
}

// Cancelling the incident cancels its containments, which release in a disconnected context:
// ReleaseIsolation runs after the cancellation, and the incident ends only once they have.
func (s *containSuite) TestCancellationReleases() {
	s.mockRoom()
	s.mockIsolation("shop-db", "crm-api")
	s.mockRelease("shop-db", "crm-api")
	contained := s.statusAt(time.Hour)
	s.cancelAt(2 * time.Hour)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: containDeclaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	err := s.env.GetWorkflowError()
	s.Require().Error(err)
	var canceled *temporal.CanceledError
	s.True(errors.As(err, &canceled), "%v", err)

	s.Equal(incident.ContainContained, systemState(*contained, "shop-db").State)
	s.Equal(2, s.releasedAfterCancel)
	s.ElementsMatch([]string{"shop-db", "crm-api"}, s.releases)
	st := s.status()
	for _, c := range st.Containment {
		s.Equal(incident.ContainReleased, c.State, c.System)
		s.Contains(c.Detail, "removed")
	}
	var texts []string
	for _, e := range st.Timeline {
		if e.Kind == "released" {
			texts = append(texts, e.Text)
		}
	}
	s.Len(texts, 2)
	s.Contains(strings.Join(texts, "\n"), "after the containment was cancelled")
}

// A containment cancelled on its own (not through the incident) releases too.
func (s *containSuite) TestCancelledContainmentReleases() {
	s.mockRoom()
	s.mockIsolation("shop-db")
	s.mockRelease("shop-db")
	s.cancelAt(time.Hour)
	s.env.ExecuteWorkflow(ContainmentWorkflow, ContainmentInput{IncidentID: "INC-20261128-C0DE", System: "shop-db",
		Roles: incident.Roles{Commander: []string{"ic"}}, WaitForRelease: true})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().Error(s.env.GetWorkflowError())
	s.Equal(1, s.releasedAfterCancel)
}

// Cancelled while waiting for a manual isolation: whatever automation left is released, and
// people are told to lift any isolation made by hand.
func (s *containSuite) TestCancelledWhileWaitingForManualIsolation() {
	s.mockRoom()
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(incident.Evidence{},
		temporal.NewNonRetryableApplicationError("isolate shop-db via aws: unknown instance", incident.ErrTypeFirewallPermanent, nil)).Once()
	s.mockRelease("shop-db")
	s.cancelAt(40 * time.Minute)
	s.env.ExecuteWorkflow(ContainmentWorkflow, ContainmentInput{IncidentID: "INC-20261128-C0DE", System: "shop-db",
		Roles: incident.Roles{Commander: []string{"ic"}}, WaitForRelease: true})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Equal(1, s.releasedAfterCancel)
	s.Equal(1, s.chatKinds()["manual-release"])
}

// Without WaitForRelease (incidents declared before release existed) the containment ends once
// contained, as it did then.
func (s *containSuite) TestWithoutWaitForReleaseEndsWhenContained() {
	s.mockIsolation("shop-db")
	s.env.ExecuteWorkflow(ContainmentWorkflow, ContainmentInput{IncidentID: "INC-20261128-C0DE", System: "shop-db"})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var st incident.SystemStatus
	s.Require().NoError(s.env.GetWorkflowResult(&st))
	s.Equal(incident.ContainContained, st.State)
	s.Equal("nftables", st.Provider)
}

// Recorded histories still replay. Before release (testdata/*-before-release.json: an open
// incident whose containments ended at contained), the incident keeps its children's old
// behaviour under changeContainUntilRelease. Since: a release by Update, a containment that
// released, and an incident cancelled with its containments releasing in a disconnected context.
func TestReplayRecordedHistories(t *testing.T) {
	replayAll(t, "incident-before-release", "containment-before-release",
		"incident-release-requested", "containment-released",
		"incident-cancelled", "containment-cancelled")
}
