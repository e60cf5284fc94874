package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

func californiaAndEurope() subjects.Summary {
	by := map[string]int{"DE": 7, "FR": 3, "US-CA": 5}
	return subjects.Summary{Rows: 15, Subjects: 15, Records: 15, Mailable: 15, ByJurisdiction: by, MailableByJurisdiction: by,
		ByCategory: map[string]int{"contact": 15}}
}

func fbi() incident.DelayRequest {
	return incident.DelayRequest{By: "dpo", LawEnforcement: true, Agency: "FBI San Francisco field office", Official: "Special Agent J. Roe",
		Reference: "FBI-SF-2026-0042", Note: "notice would alert the suspects"}
}

func (s *incidentSuite) obligations() map[string]ObligationStatus {
	out := map[string]ObligationStatus{}
	for _, o := range s.status().Obligations {
		out[o.ID] = o
	}
	return out
}

// A request from law enforcement, recorded before the DPO decides, holds back the California
// notice: its clock starts paused, Californians get no notice while the EEA customers get theirs,
// the GDPR clocks run on (the GDPR has no such delay). Lifted after five days, the California
// clock restarts with its deadline moved by the time it stood still, and its notices go out. The
// timeline and the register keep the request, the pause and the lift.
func (s *incidentSuite) TestLawEnforcementDelayPausesCaliforniaNotGDPR() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: californiaAndEurope()}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/d"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
		return incident.Submission{Path: "/r/" + in.Obligation.ID, MessageID: "m", At: in.SubmittedAt}, nil
	})
	var mu sync.Mutex
	var runs [][]string
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
		var routes []string
		for _, r := range in.Notice.Routes {
			routes = append(routes, r.Obligation)
		}
		mu.Lock()
		runs = append(runs, routes)
		mu.Unlock()
		return incident.NoticeChunkResult{Done: true, Counts: incident.NoticeCounts{Rows: 15, Sent: 10}}, nil
	})
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()

	var notDPO, malformed error
	s.update(10*time.Minute, UpdateDelay, incident.DelayRequest{By: "ic", LawEnforcement: true, Agency: "FBI", Official: "J. Roe"}, &notDPO)
	s.update(20*time.Minute, UpdateDelay, incident.DelayRequest{By: "dpo", Agency: "FBI", Official: "J. Roe"}, &malformed)
	s.update(30*time.Minute, UpdateDelay, fbi(), nil)
	s.update(time.Hour, UpdateDecide, highRisk("dpo"), nil)
	var during map[string]ObligationStatus
	s.env.RegisterDelayedCallback(func() { during = s.obligations() }, 4*24*time.Hour)
	s.update(2*time.Hour, UpdateApprove, ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	lift := 5 * 24 * time.Hour
	var liftByIC error
	s.update(lift-time.Minute, UpdateDelay, incident.DelayRequest{By: "ic", Lift: true}, &liftByIC)
	s.update(lift, UpdateDelay, incident.DelayRequest{By: "dpo", Lift: true, Note: "the FBI says the suspects are in custody"}, nil)
	var liftTwice error
	s.update(lift+time.Hour, UpdateDelay, incident.DelayRequest{By: "dpo", Lift: true}, &liftTwice)
	s.update(lift+2*time.Hour, UpdateClose, CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	s.ErrorContains(notDPO, "does not hold the dpo role")
	s.ErrorContains(malformed, "--law-enforcement")
	s.ErrorContains(liftByIC, "does not hold the dpo role")
	s.ErrorContains(liftTwice, "no law-enforcement delay is in force")

	rulesDue := func(id string) time.Time {
		res, err := rules.Evaluate(rules.Facts{AwareAt: start, Timezone: "Europe/Berlin", Role: "controller", Establishments: []string{"DE"},
			SubjectsByJurisdiction: californiaAndEurope().ByJurisdiction, DataCategories: []string{"contact"}, Risk: "high"})
		s.Require().NoError(err)
		for _, o := range res.Obligations {
			if o.ID == id {
				return o.DueAt
			}
		}
		s.FailNow("no obligation " + id)
		return time.Time{}
	}

	// While the delay held: California paused from its start, the GDPR's running.
	ca := during["us-ca-residents"]
	s.Require().NotNil(ca.Paused, "the California notice waits while the delay holds")
	s.Equal(1, ca.Paused.Delay)
	s.Equal(start.Add(time.Hour), ca.Paused.From, "paused from the moment its clock started")
	s.True(ca.Paused.Until.IsZero(), "until lifted: California sets no limit")
	s.Equal(OblAwaitingNotices, ca.State)
	for _, id := range []string{"gdpr-art33-authority", "gdpr-art34-subjects"} {
		s.Nil(during[id].Paused, "%s: the GDPR has no law-enforcement delay", id)
		s.Equal(rulesDue(id), during[id].DueAt, id)
	}
	s.Equal(OblFiled, during["gdpr-art34-subjects"].State, "EEA customers were told while California waited")
	s.Require().Len(runs, 2, "one alerts run without the Californians, one after the lift")
	s.NotContains(runs[0], "us-ca-residents")
	s.Contains(runs[0], "gdpr-art34-subjects")
	s.Contains(runs[1], "us-ca-residents")

	// After the lift: restarted, its deadline moved by the time it stood still, its notices sent.
	after := s.obligations()
	ca = after["us-ca-residents"]
	s.Nil(ca.Paused)
	s.Require().Len(ca.Pauses, 1)
	stood := lift - time.Hour
	s.Equal(incident.ClockPause{Delay: 1, From: start.Add(time.Hour), To: start.Add(lift)}, ca.Pauses[0])
	s.Equal(rulesDue("us-ca-residents"), ca.RulesDueAt)
	s.Equal(rulesDue("us-ca-residents").Add(stood), ca.DueAt, "the deadline moves by the time paused")
	s.Equal(OblFiled, ca.State)
	s.Equal(start.Add(lift), ca.SubmittedAt)
	s.False(ca.Late)
	s.Equal(rulesDue("gdpr-art33-authority"), after["gdpr-art33-authority"].DueAt)
	s.Empty(after["gdpr-art33-authority"].Pauses)

	st := s.status()
	s.Require().Len(st.Delays, 1)
	d := st.Delays[0]
	s.Equal("FBI San Francisco field office", d.Agency)
	s.Equal("Special Agent J. Roe", d.Official)
	s.Equal("FBI-SF-2026-0042", d.Reference)
	s.Equal(start.Add(30*time.Minute), d.RequestedAt)
	s.Equal([]string{"us-ca-residents"}, d.Paused)
	s.Equal(start.Add(lift), d.LiftedAt)
	s.Equal("dpo", d.LiftedBy)

	kinds := map[string][]string{}
	for _, e := range st.Timeline {
		kinds[e.Kind] = append(kinds[e.Kind], e.Text)
	}
	s.Require().NotEmpty(kinds["law-enforcement-delay"])
	s.Contains(kinds["law-enforcement-delay"][0], "FBI San Francisco field office (Special Agent J. Roe)")
	s.Contains(kinds["law-enforcement-delay"][0], "those whose law allows the delay start paused")
	s.True(slices.ContainsFunc(kinds["law-enforcement-delay"], func(t string) bool { return strings.Contains(t, "us-ca-residents starts paused") }))
	s.Require().Len(kinds["law-enforcement-delay-lifted"], 1)
	s.Contains(kinds["law-enforcement-delay-lifted"][0], "us-ca-residents")
	s.Require().Len(kinds["clock-restarted"], 1)
	s.Contains(kinds["clock-restarted"][0], "moves from "+rulesDue("us-ca-residents").UTC().Format(time.RFC3339)+" to "+rulesDue("us-ca-residents").Add(stood).UTC().Format(time.RFC3339))

	// The register keeps the request, the pause and the lift.
	reg := incident.RegisterContentOf(st.IncidentRecord, time.Time{})
	s.Require().Len(reg.Delays, 1)
	s.Equal(start.Add(lift), reg.Delays[0].LiftedAt)
	for _, o := range reg.Obligations {
		if o.ID == "us-ca-residents" {
			s.Equal(ca.Pauses, o.Pauses)
			s.Equal(rulesDue("us-ca-residents"), o.RulesDueAt)
		} else {
			s.Empty(o.Pauses, o.ID)
		}
	}
}
