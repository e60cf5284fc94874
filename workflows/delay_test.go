package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

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

func (s *incidentSuite) obligations() map[string]incident.ObligationStatus {
	out := map[string]incident.ObligationStatus{}
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
	s.update(10*time.Minute, incident.UpdateDelay, incident.DelayRequest{By: "ic", LawEnforcement: true, Agency: "FBI", Official: "J. Roe"}, &notDPO)
	s.update(20*time.Minute, incident.UpdateDelay, incident.DelayRequest{By: "dpo", Agency: "FBI", Official: "J. Roe"}, &malformed)
	s.update(30*time.Minute, incident.UpdateDelay, fbi(), nil)
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	var during map[string]incident.ObligationStatus
	s.env.RegisterDelayedCallback(func() { during = s.obligations() }, 4*24*time.Hour)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	lift := 5 * 24 * time.Hour
	var liftByIC error
	s.update(lift-time.Minute, incident.UpdateDelay, incident.DelayRequest{By: "ic", Lift: true}, &liftByIC)
	s.update(lift, incident.UpdateDelay, incident.DelayRequest{By: "dpo", Lift: true, Note: "the FBI says the suspects are in custody"}, nil)
	var liftTwice error
	s.update(lift+time.Hour, incident.UpdateDelay, incident.DelayRequest{By: "dpo", Lift: true}, &liftTwice)
	s.update(lift+2*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

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
	s.Equal(incident.OblAwaitingNotices, ca.State)
	for _, id := range []string{"gdpr-art33-authority", "gdpr-art34-subjects"} {
		s.Nil(during[id].Paused, "%s: the GDPR has no law-enforcement delay", id)
		s.Equal(rulesDue(id), during[id].DueAt, id)
	}
	s.Equal(incident.OblFiled, during["gdpr-art34-subjects"].State, "EEA customers were told while California waited")
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
	s.Equal(incident.OblFiled, ca.State)
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

// An oral request delays a HIPAA notification 30 days at most (45 CFR 164.412(b)): the HHS
// report's clock stands still from day 10, restarts by itself on day 40 without a lift, and its
// escalations and deadline come 30 days later than the rules first said. Its report cannot be
// approved while it is paused. The New York attorney general's notice, which the law does not
// let law enforcement delay, runs on.
func (s *incidentSuite) TestOralRequestPausesHIPAAThirtyDaysAtMost() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: subjects.Summary{
		Subjects: 600, Mailable: 600, ByJurisdiction: map[string]int{"US-CA": 400, "US-NY": 200},
		MailableByJurisdiction: map[string]int{"US-CA": 400, "US-NY": 200}}}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/d"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{MessageID: "m", At: in.SubmittedAt}, nil
		})
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(incident.NoticeChunkResult{
		Done: true, Counts: incident.NoticeCounts{Rows: 600, Sent: 600}}, nil)
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	d := declaration()
	d.Organisation = incident.Organisation{Name: "Clinic", Timezone: "America/New_York", Role: "controller",
		Establishments: []string{"US"}, Sectors: []string{"health-covered-entity"}, DPOContact: "privacy officer", MailFrom: "privacy@clinic.test"}
	d.Routes = nil
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	oral := fbi()
	oral.Oral = true
	oral.RequestedAt = start.Add(10*day - time.Hour)
	oral.Obligations = nil
	s.update(10*day, incident.UpdateDelay, oral, nil)
	var whilePaused error
	s.update(20*day, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:hipaa-hhs"}, &whilePaused)
	var during, after map[string]incident.ObligationStatus
	s.env.RegisterDelayedCallback(func() { during = s.obligations() }, 39*day)
	s.env.RegisterDelayedCallback(func() { after = s.obligations() }, 100*day)
	s.actOnPending(100*day + time.Hour)
	s.actOnPending(100*day + 2*time.Hour)
	s.actOnPending(100*day + 3*time.Hour)
	s.update(101*day, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())
	s.ErrorContains(whilePaused, "hipaa-hhs is paused by law-enforcement delay #1")
	s.ErrorContains(whilePaused, "breach delay INC-20261128-7E57 --lift")

	hhs := during["hipaa-hhs"]
	s.Require().NotNil(hhs.Paused, "paused on day 39")
	limitEnd := oral.RequestedAt.AddDate(0, 0, 30)
	s.Equal(incident.ClockPause{Delay: 1, From: start.Add(10 * day), Until: limitEnd, Limit: hhs.LawEnforcementDelayLimit.Law}, *hhs.Paused)
	s.Contains(hhs.Paused.Limit, "164.412(b)")
	s.Nil(during["us-ny-attorney-general"].Paused, "the attorney general's notice is not delayed")
	s.Equal(during["us-ny-attorney-general"].RulesDueAt, time.Time{})

	hhs = after["hipaa-hhs"]
	s.Nil(hhs.Paused, "restarted by itself, without a lift")
	s.Require().Len(hhs.Pauses, 1)
	stood := limitEnd.Sub(start.Add(10 * day))
	s.Equal(limitEnd, hhs.Pauses[0].To)
	s.Equal(hhs.RulesDueAt.Add(stood), hhs.DueAt)
	rules := Escalations(hhs.ClockStart, hhs.RulesDueAt)
	s.Require().GreaterOrEqual(len(hhs.Escalations), len(rules), "%v", hhs.Escalations)
	for i, p := range rules {
		want := p.At
		if !p.At.Before(start.Add(10 * day)) {
			want = p.At.Add(stood) // every point after the pause began comes that much later
		}
		s.True(strings.HasPrefix(hhs.Escalations[i], want.UTC().Format(time.RFC3339)), "escalation %d (%s) at %s, want %s", i, p.Label, hhs.Escalations[i], want)
	}
	st := s.status()
	s.Require().Len(st.Delays, 1)
	s.True(st.Delays[0].Oral)
	s.True(st.Delays[0].LiftedAt.IsZero(), "nobody lifted it: it ended by the law's limit")
	var restarted []string
	for _, e := range st.Timeline {
		if e.Kind == "clock-restarted" {
			restarted = append(restarted, e.Text)
		}
	}
	s.Require().Len(restarted, 1)
	s.Contains(restarted[0], "ended by the law's limit on it")
}

// A clock continues as new while it stands still: the pause goes with it, and the next run
// restarts it, moving its deadline and statutory limit.
func (s *incidentSuite) TestAPauseGoesAcrossContinueAsNew() {
	res, err := rules.Evaluate(rules.Facts{AwareAt: start, Timezone: "America/New_York", Establishments: []string{"US"},
		SubjectsByJurisdiction: map[string]int{"US-NY": 40}, Risk: "high"})
	s.Require().NoError(err)
	var ny rules.Obligation
	for _, o := range res.Obligations {
		if o.ID == "us-ny-residents" {
			ny = o
		}
	}
	s.Require().False(ny.StatutoryLimit.IsZero())
	in := ObligationInput{IncidentID: "INC-20261128-7E57", Obligation: ny, Kind: KindNotice, Route: incident.Route{Obligation: ny.ID, Method: "portal"},
		Budget: 1, Delay: &clockDelay{Delay: 1, At: start.Add(time.Hour)}}
	s.env.SetStartTime(start.Add(time.Hour))
	s.env.ExecuteWorkflow(ObligationWorkflow, in)
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	var next ObligationInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.Resume)
	s.Require().NotNil(next.Resume.Status.Paused, "the pause goes with the state")
	s.Equal(start.Add(time.Hour), next.Resume.Status.Paused.From)
	s.Equal(ny.DueAt, next.Resume.Status.RulesDueAt)

	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start.Add(2 * time.Hour))
	env.RegisterWorkflow(ObligationWorkflow)
	next.Budget = 0
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(signalLawEnforcementDelay, clockDelay{Delay: 1, At: start.Add(10 * day), Lift: true, Why: "lifted by dpo"})
	}, 10*day-2*time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(signalNoticeComplete, noticeCompletion{At: start.Add(11 * day), Sent: 40})
	}, 11*day-2*time.Hour)
	env.ExecuteWorkflow(ObligationWorkflow, next)
	s.Require().NoError(env.GetWorkflowError())
	var st incident.ObligationStatus
	s.Require().NoError(env.GetWorkflowResult(&st))
	stood := 10*day - time.Hour
	s.Equal(incident.OblFiled, st.State)
	s.Equal(ny.DueAt.Add(stood), st.DueAt)
	s.Equal(ny.StatutoryLimit.Add(stood), st.StatutoryLimit, "the statutory limit moves with the deadline")
	s.Equal([]incident.ClockPause{{Delay: 1, From: start.Add(time.Hour), To: start.Add(10 * day)}}, st.Pauses)
	s.Equal(ny.DueAt, st.RulesDueAt)
}

// A clock from before law-enforcement delays cannot pause: given one, it continues as new at its
// wait, carrying the delay, and the new run, which can, takes it.
func (s *incidentSuite) TestAClockFromBeforeDelaysContinuesAsNewToTakeOne() {
	o := rules.Obligation{ID: "us-ca-residents", Regime: "US California", Basis: "Cal. Civ. Code §1798.82(a)", Trigger: "aware_at",
		ClockStart: start, DueAt: start.Add(30 * day), Template: "us-ca-notice", Kind: KindNotice, LawEnforcementDelay: true}
	in := ObligationInput{IncidentID: "INC-20261128-7E57", Obligation: o, Kind: KindNotice, Route: incident.Route{Obligation: o.ID, Method: "portal"}}
	s.env.OnGetVersion(changeLawEnforcementDelay, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(signalLawEnforcementDelay, clockDelay{Delay: 1, At: start.Add(day), Why: "FBI"})
	}, day)
	s.env.ExecuteWorkflow(ObligationWorkflow, in)
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	var next ObligationInput
	s.Require().NoError(converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.Resume)
	s.Nil(next.Resume.Status.Paused, "the old run did not pause")
	s.Equal([]clockDelay{{Delay: 1, At: start.Add(day), Why: "FBI"}}, next.Resume.Delays)

	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start.Add(day))
	env.RegisterWorkflow(ObligationWorkflow)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(signalLawEnforcementDelay, clockDelay{Delay: 1, At: start.Add(3 * day), Lift: true, Why: "lifted by dpo"})
	}, 2*day)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(signalNoticeComplete, noticeCompletion{At: start.Add(4 * day), Sent: 5})
	}, 3*day)
	env.ExecuteWorkflow(ObligationWorkflow, next)
	s.Require().NoError(env.GetWorkflowError())
	var st incident.ObligationStatus
	s.Require().NoError(env.GetWorkflowResult(&st))
	s.Equal([]incident.ClockPause{{Delay: 1, From: start.Add(day), To: start.Add(3 * day)}}, st.Pauses)
	s.Equal(start.Add(32*day), st.DueAt)
}
