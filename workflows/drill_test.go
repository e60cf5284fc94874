package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/drill"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/scenario"
)

type drillSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env *testsuite.TestWorkflowEnvironment

	mu        sync.Mutex
	chats     []incident.ChatMessage
	report    drill.DrillReport
	cancelled []string
	// real is set when the test runs an incident that is not a drill.
	real bool
}

func TestDrill(t *testing.T) { suite.Run(t, new(drillSuite)) }

func (s *drillSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.env.RegisterWorkflow(IncidentWorkflow)
	s.env.RegisterWorkflow(ContainmentWorkflow)
	s.env.RegisterWorkflow(ObligationWorkflow)
	s.env.RegisterWorkflow(AlertsWorkflow)
	s.env.RegisterActivity(&activities.Activities{})
	s.env.RegisterActivity(&activities.DrillActivities{})
	s.chats, s.report, s.cancelled, s.real = nil, drill.DrillReport{}, nil, false
	s.env.SetOnChildWorkflowCanceledListener(func(info *workflow.Info) {
		s.cancelled = append(s.cancelled, info.WorkflowExecution.ID)
	})
	s.env.RegisterDelayedCallback(func() { s.env.CancelWorkflow() }, 60*24*time.Hour)
}

// mockPlan mocks every activity of the incident plan as succeeding, and the drill's status
// read as the incident's own status query.
func (s *drillSuite) mockPlan() {
	s.env.OnActivity(a.OpenRoom, mock.Anything, mock.Anything).Return(incident.Room{Name: "#drill-x"}, nil).Maybe()
	s.env.OnActivity(a.UpdateCard, mock.Anything, mock.Anything).Return(nil).Maybe()
	s.env.OnActivity(a.PostChat, mock.Anything, mock.Anything).Return(func(_ context.Context, m incident.ChatMessage) error {
		s.mu.Lock()
		s.chats = append(s.chats, m)
		s.mu.Unlock()
		return nil
	}).Maybe()
	s.env.OnActivity(a.Isolate, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ContainInput) (incident.Evidence, error) {
			s.Equal(!s.real, in.Drill, "containment of a drill must ask for the drill-safe firewall")
			return incident.Evidence{Provider: "dry-run", System: in.System, After: "rules recorded"}, nil
		}).Maybe()
	s.env.OnActivity(a.VerifyIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run", InForce: true}, nil).Maybe()
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run"}, nil).Maybe()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/subjects.csv", SHA256: "abc"}}, nil).Maybe()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/r/draft.md"}, nil).Maybe()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			s.Empty(in.RecipientAddress, "a drill must not send a report to an authority")
			return incident.Submission{Path: "/r/" + in.Obligation.ID + ".md", At: in.SubmittedAt}, nil
		}).Maybe()
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(incident.NoticeChunkResult{
		Done: true, Counts: incident.NoticeCounts{Rows: 10, Sent: 9, Invalid: 1}}, nil).Maybe()
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{Register: "/reg.json"}, nil).Maybe()
	s.env.OnActivity(da.IncidentStatus, mock.Anything, mock.Anything).Return(
		func(_ context.Context, ref drill.IncidentRef) (incident.Status, error) {
			v, err := s.env.QueryWorkflowByID(ref.WorkflowID, incident.QueryStatus)
			if err != nil {
				return incident.Status{}, err
			}
			var view incident.Status
			return view, v.Get(&view)
		})
	s.env.OnActivity(da.WriteDrillReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, r drill.DrillReport) (drill.DrillReport, error) {
			r.Markdown = "/drills/" + r.IncidentID + ".md"
			s.report = r
			return r, nil
		}).Once()
}

func drillScenario() scenario.Scenario {
	return scenario.Scenario{
		Name: "ransomware", Title: "Ransomware with exfiltration", Systems: []string{"shop-db", "crm-api"},
		Subjects: "/data/subjects.csv", Duration: scenario.Duration(96 * time.Hour),
		Decision: scenario.Decision{Risk: "high", NotifySubjects: true, Reasoning: "exfiltrated"},
		Injects: []scenario.Inject{
			{At: scenario.Duration(20 * time.Minute), Text: "A sample appears on a leak site."},
			{At: scenario.Duration(2 * time.Hour), Text: "The attackers demand a ransom."},
		},
		Targets: []scenario.Target{
			{Step: "contain", Within: scenario.Duration(30 * time.Minute)},
			{Step: "scope", Within: scenario.Duration(2 * time.Hour)},
			{Step: "decide", Within: scenario.Duration(4 * time.Hour)},
			{Step: "approve", Within: scenario.Duration(24 * time.Hour)},
			{Step: "file:gdpr-art33-authority", Within: scenario.Duration(72 * time.Hour)},
			{Step: "notify", Within: scenario.Duration(72 * time.Hour)},
			{Step: "close", Within: scenario.Duration(96 * time.Hour)},
		},
	}
}

func drillInput(scale float64) DrillInput {
	base := declaration()
	return DrillInput{IncidentID: "INC-20261128-D001", Scenario: drillScenario(), TimeScale: scale, Base: base}
}

func (s *drillSuite) incidentStatus(id string) incident.Status {
	v, err := s.env.QueryWorkflowByID(incident.IncidentWorkflowID(id), incident.QueryStatus)
	s.Require().NoError(err)
	var st incident.Status
	s.Require().NoError(v.Get(&st))
	return st
}

// Injects reach the incident's timeline and room at their times, divided by the time scale.
func (s *drillSuite) TestInjectsFireAtTheirTimes() {
	for _, scale := range []float64{1, 60} {
		s.Run(fmt.Sprintf("scale %g", scale), func() {
			s.SetupTest()
			s.mockPlan()
			var timeline []incident.Event
			in := drillInput(scale)
			in.Scenario.Duration = scenario.Duration(3 * time.Hour)
			s.env.RegisterDelayedCallback(func() {
				timeline = s.incidentStatus(in.IncidentID).Timeline
			}, time.Duration(float64(3*time.Hour)/scale)-time.Second)
			s.env.ExecuteWorkflow(DrillWorkflow, in)
			s.Require().True(s.env.IsWorkflowCompleted())
			s.Require().NoError(s.env.GetWorkflowError())

			var injects []incident.Event
			for _, e := range timeline {
				if e.Kind == "inject" {
					injects = append(injects, e)
				}
			}
			s.Require().Len(injects, 2, "timeline: %v", timeline)
			for i, want := range []time.Duration{20 * time.Minute, 2 * time.Hour} {
				s.Equal(start.Add(time.Duration(float64(want)/scale)), injects[i].At, "inject %d", i)
				s.True(s.report.Injects[i].Delivered)
				s.Equal(injects[i].At, s.report.Injects[i].DeliveredAt)
				s.Equal(scenario.Duration(want), s.report.Injects[i].Offset, "delivery in drill time")
			}
			s.Contains(injects[0].Text, "Inject at T+20m: A sample appears on a leak site.")
			var chatted []string
			for _, m := range s.chats {
				if m.Kind == "inject" {
					s.True(m.Drill, "an inject is posted as a drill message")
					chatted = append(chatted, m.Text)
				}
			}
			s.Len(chatted, 2)
		})
	}
}

// Nobody answers: the automated steps are met, every human step is missed once its target has
// passed, and the incident is cancelled at the drill's end.
func (s *drillSuite) TestNobodyAnswersMissesEveryHumanStep() {
	s.mockPlan()
	in := drillInput(1)
	s.env.ExecuteWorkflow(DrillWorkflow, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var rep drill.DrillReport
	s.Require().NoError(s.env.GetWorkflowResult(&rep))

	s.Equal(drill.DrillTimeUp, rep.Outcome)
	s.Equal(scenario.Duration(96*time.Hour), rep.Elapsed)
	s.Equal(incident.PhaseDecide, rep.Phase)
	got := map[string]drill.TargetResult{}
	for _, t := range rep.Targets {
		got[t.Step] = t
	}
	for _, step := range []string{"contain", "scope"} {
		s.Equal(drill.TargetMet, got[step].Result, "%s: %+v", step, got[step])
		s.False(got[step].Human)
	}
	for _, step := range []string{"decide", "approve", "file:gdpr-art33-authority", "notify", "close"} {
		t := got[step]
		s.Equal(drill.TargetMissed, t.Result, "%s: %+v", step, t)
		s.False(t.Done)
		s.Contains(t.Detail, "not done after "+t.Target.String())
	}
	s.True(got["decide"].Human)
	s.Equal("dpo", got["decide"].Role)
	s.Equal("commander", got["close"].Role)
	s.Equal(2, rep.Met)
	s.Equal(5, rep.Missed)
	s.Equal(28, rep.Score)
	s.Contains(s.cancelled, incident.IncidentWorkflowID(in.IncidentID), "the incident is cancelled at the drill's end")
	s.Equal(rep.IncidentID, s.report.IncidentID, "the report is written")

	var score *incident.ChatMessage
	for i := range s.chats {
		if s.chats[i].Kind == "drill-score" {
			score = &s.chats[i]
		}
	}
	s.Require().NotNil(score, "the score is posted to the incident room")
	s.True(score.Drill)
	s.Contains(score.Text, "score 28%")
	s.Contains(score.Text, "Missed decide (target 4h)")
}

// A drill that the team plays through: targets met and missed with the actual durations.
func (s *drillSuite) TestPlayedThroughScoresActualDurations() {
	s.mockPlan()
	in := drillInput(1)
	child := incident.IncidentWorkflowID(in.IncidentID)
	upd := func(at time.Duration, name string, arg any) {
		s.env.RegisterDelayedCallback(func() {
			s.NoError(s.env.UpdateWorkflowByID(child, name, name+at.String(), strict(s, name+" at "+at.String()), arg))
		}, at)
	}
	upd(5*time.Hour, incident.UpdateDecide, highRisk("dpo"))
	upd(10*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: incident.StepReport + "gdpr-art33-authority"})
	upd(11*time.Hour, incident.UpdateFile, incident.FileRequest{By: "dpo", Obligation: "gdpr-art33-authority", Reference: "DRILL-1"})
	upd(12*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"})
	s.env.ExecuteWorkflow(DrillWorkflow, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var rep drill.DrillReport
	s.Require().NoError(s.env.GetWorkflowResult(&rep))

	s.Equal(drill.DrillClosed, rep.Outcome)
	s.Empty(s.cancelled)
	got := map[string]drill.TargetResult{}
	for _, t := range rep.Targets {
		got[t.Step] = t
	}
	s.Equal(drill.TargetMissed, got["decide"].Result)
	s.Equal(scenario.Duration(5*time.Hour), got["decide"].Actual)
	s.Equal("1h late", got["decide"].Detail)
	s.Equal(drill.TargetMet, got["approve"].Result)
	s.Equal(scenario.Duration(10*time.Hour), got["approve"].Actual)
	s.Equal(drill.TargetMet, got["file:gdpr-art33-authority"].Result)
	s.Equal(scenario.Duration(11*time.Hour), got["file:gdpr-art33-authority"].Actual)
	s.Equal(drill.TargetMet, got["close"].Result)
	s.Equal(scenario.Duration(12*time.Hour), got["close"].Actual)
	s.Equal(drill.TargetMet, got["notify"].Result)
	s.Equal(6, rep.Met)
	s.Equal(1, rep.Missed)
}

// At --time-scale 60 the GDPR 72-hour clock lasts 72 minutes and its escalations come
// proportionally: 50% at 36m, 75% at 54m, 90% at 64m48s, overdue at 72m. (The "one hour left"
// point stays one real hour before the compressed deadline, at 12m.)
func (s *drillSuite) TestTimeScaleCompressesTheGDPRClock() {
	s.mockPlan()
	in := drillInput(60)
	child := incident.IncidentWorkflowID(in.IncidentID)
	s.env.RegisterDelayedCallback(func() {
		s.NoError(s.env.UpdateWorkflowByID(child, incident.UpdateDecide, "decide", strict(s, "decide"), highRisk("dpo")))
	}, time.Minute)
	var gdpr incident.ObligationStatus
	s.env.RegisterDelayedCallback(func() {
		for _, o := range s.incidentStatus(in.IncidentID).Obligations {
			if o.ID == "gdpr-art33-authority" {
				gdpr = o
			}
		}
	}, 80*time.Minute)
	s.env.ExecuteWorkflow(DrillWorkflow, in)
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().Equal("gdpr-art33-authority", gdpr.ID)
	s.Equal(start, gdpr.ClockStart)
	s.Equal(start.Add(72*time.Minute), gdpr.DueAt)
	s.Contains(gdpr.Rule, "Drill at 60x speed: the deadline is compressed from 3d to 1h12m")
	var at []time.Duration
	for _, e := range gdpr.Escalations {
		ts, _, _ := strings.Cut(e, " ")
		tm, err := time.Parse(time.RFC3339, ts)
		s.Require().NoError(err)
		at = append(at, tm.Sub(start))
	}
	// Every point is the real clock's divided by 60: the hour before the deadline is one minute.
	// Overdue reminders come every 6 hours of drill time: 6 minutes.
	s.Equal([]time.Duration{36 * time.Minute, 54 * time.Minute, 64*time.Minute + 48*time.Second, 71 * time.Minute, 72 * time.Minute, 78 * time.Minute}, at,
		"escalations %v", gdpr.Escalations)
	s.Equal(Escalations(start, start.Add(72*time.Hour))[0].At.Sub(start)/60, 36*time.Minute, "proportional to the real clock's 50% point")
}

// Injects into an incident that is not a drill are refused: drill content never enters a real
// record.
func (s *drillSuite) TestARealIncidentIgnoresInjects() {
	s.real = true
	s.mockPlan()
	s.env.RegisterDelayedCallback(func() {
		s.env.SignalWorkflow(incident.SignalDrillInject, DrillInject{Text: "not for real incidents"})
	}, time.Minute)
	var st incident.Status
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(incident.QueryStatus)
		s.Require().NoError(err)
		s.Require().NoError(v.Get(&st))
		s.env.CancelWorkflow()
	}, time.Hour)
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	for _, e := range st.Timeline {
		s.NotEqual("inject", e.Kind)
	}
	s.NotEmpty(st.Timeline)
}

// A scheduled run has no incident ID: it derives one from its run.
func (s *drillSuite) TestScheduledRunDerivesItsIncidentID() {
	s.mockPlan()
	in := drillInput(1)
	in.IncidentID = ""
	in.Scenario.Duration = scenario.Duration(time.Hour)
	s.env.ExecuteWorkflow(DrillWorkflow, in)
	s.Require().NoError(s.env.GetWorkflowError())
	var rep drill.DrillReport
	s.Require().NoError(s.env.GetWorkflowResult(&rep))
	s.Regexp(`^INC-20261128-[0-9A-F]{16}$`, rep.IncidentID)
}

// A drill's incident carries the organisation's facts that decide the competent authority: the
// configuration's, or the scenario's where it names its own establishments (which replace the
// configuration's regions and main establishment with theirs).
func (s *drillSuite) TestDrillIncidentCarriesTheOrganisationFacts() {
	for _, c := range []struct {
		name  string
		facts scenario.Facts
		want  incident.Organisation
	}{
		{"the configuration's", scenario.Facts{},
			incident.Organisation{Establishments: []string{"DE"}, EstablishmentRegions: []string{"DE-BE"}}},
		{"the scenario's establishments", scenario.Facts{Establishments: []string{"US"}, MainEstablishment: "US"},
			incident.Organisation{Establishments: []string{"US"}, MainEstablishment: "US"}},
		{"the scenario's regions", scenario.Facts{Establishments: []string{"DE"}, EstablishmentRegions: []string{"DE-BY"}, PublicTask: true},
			incident.Organisation{Establishments: []string{"DE"}, EstablishmentRegions: []string{"DE-BY"}, PublicTask: true}},
	} {
		s.Run(c.name, func() {
			s.SetupTest()
			s.mockPlan()
			in := drillInput(1)
			in.Base.Organisation.EstablishmentRegions = []string{"DE-BE"}
			in.Scenario.Facts = c.facts
			in.Scenario.Duration = scenario.Duration(time.Hour)
			var org incident.Organisation
			s.env.RegisterDelayedCallback(func() { org = s.incidentStatus(in.IncidentID).Organisation }, 30*time.Minute)
			s.env.ExecuteWorkflow(DrillWorkflow, in)
			s.Require().NoError(s.env.GetWorkflowError())
			s.Equal(c.want.Establishments, org.Establishments)
			s.Equal(c.want.EstablishmentRegions, org.EstablishmentRegions)
			s.Equal(c.want.MainEstablishment, org.MainEstablishment)
			s.Equal(c.want.PublicTask, org.PublicTask)
		})
	}
}
