package workflows

import (
	"context"
	"strings"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

// actOnPending approves and files, at the given workflow time, whatever reports wait for it.
func (s *incidentSuite) actOnPending(at time.Duration) {
	s.env.RegisterDelayedCallback(func() {
		for _, p := range s.status().Pending {
			var arg any
			name := incident.UpdateApprove
			switch {
			case strings.HasPrefix(p.Step, incident.StepReport):
				arg = incident.ApproveRequest{By: "dpo", Step: p.Step, Reasons: "late: test"}
			case strings.HasPrefix(p.Step, "file:"):
				name = incident.UpdateFile
				arg = incident.FileRequest{By: "dpo", Obligation: strings.TrimPrefix(p.Step, "file:"), Reference: "REF-" + p.Step, Reasons: "late: test"}
			default:
				continue
			}
			s.env.UpdateWorkflow(name, p.Step+at.String(), strict(s, name+" "+p.Step+" at "+at.String()), arg)
		}
	}, at)
}

func (s *incidentSuite) obligationAt(at time.Duration, id string, out *incident.ObligationStatus, found *bool) {
	s.env.RegisterDelayedCallback(func() {
		for _, o := range s.status().Obligations {
			if o.ID == id {
				*out = o
				*found = true
			}
		}
	}, at)
}

func nis2Declaration() incident.Declaration {
	d := declaration()
	d.Organisation.Sectors = []string{"nis2-essential"}
	return d
}

// A significant NIS2 incident: the 24-hour early warning escalates at 12h, 18h, 21h36m, 23h and
// 24h; the final report is a chained clock that appears only once the notification is filed.
func (s *incidentSuite) TestNIS2EarlyWarningEscalatesAndTheFinalReportWaitsForTheNotification() {
	s.mockHappyPath()
	s.mockNotices()
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r/" + in.Obligation.ID, MessageID: "m-" + in.Obligation.ID, At: in.SubmittedAt}, nil
		})
	d := highRisk("dpo")
	d.SignificantIncident = true
	s.update(time.Hour, incident.UpdateDecide, d, nil)

	var early incident.ObligationStatus
	var earlyFound, finalBefore bool
	var finalEarly incident.ObligationStatus
	s.obligationAt(25*time.Hour, "nis2-early-warning", &early, &earlyFound)
	s.obligationAt(25*time.Hour, "nis2-final-report", &finalEarly, &finalBefore)
	var notRequiredAt25 incident.Status
	s.env.RegisterDelayedCallback(func() { notRequiredAt25 = s.status() }, 25*time.Hour)
	// Approve everything at hour 26 (the early warning is late, with reasons), file portal
	// submissions at hour 27.
	s.actOnPending(26 * time.Hour)
	s.actOnPending(27 * time.Hour)
	var final incident.ObligationStatus
	var finalFound bool
	s.obligationAt(28*time.Hour, "nis2-final-report", &final, &finalFound)
	s.actOnPending(29 * time.Hour)
	s.actOnPending(30 * time.Hour)
	s.update(31*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: nis2Declaration()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().True(earlyFound)
	decided := start.Add(time.Hour)
	_ = decided
	want := []time.Duration{12 * time.Hour, 18 * time.Hour, 21*time.Hour + 36*time.Minute, 23 * time.Hour, 24 * time.Hour}
	s.Require().Len(early.Escalations, len(want), "%v", early.Escalations)
	for i, d := range want {
		s.True(strings.HasPrefix(early.Escalations[i], start.Add(d).Format(time.RFC3339)), "escalation %d at %s, want %s", i, early.Escalations[i], d)
	}
	s.False(finalBefore, "the final report must not start before the notification is filed")
	reason := ""
	for _, n := range notRequiredAt25.NotRequired {
		if n.ID == "nis2-final-report" {
			reason = n.Reason
		}
	}
	s.Contains(reason, "chained")

	s.Require().True(finalFound, "the final report starts once the notification is filed")
	var notification incident.ObligationStatus
	for _, o := range s.status().Obligations {
		if o.ID == "nis2-notification" {
			notification = o
		}
	}
	s.Equal(start.Add(27*time.Hour), notification.SubmittedAt)
	s.Equal(notification.SubmittedAt, final.ClockStart, "the final report's clock runs from the notification's submission")
	s.True(final.DueAt.After(final.ClockStart.Add(27*24*time.Hour)), "a month later: %s", final.DueAt)
	for _, o := range s.status().Obligations {
		if o.ID == "nis2-final-report" {
			s.Equal(incident.OblFiled, o.State, "approved and filed at hours 29-30")
		}
	}
}

// A HIPAA covered entity: the 60-day HHS clock escalates at 30, 45 and 54 days, a day before and
// at its deadline, measured from its own clock start and due instant.
func (s *incidentSuite) TestHIPAASixtyDayClockEscalates() {
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
	var hhs incident.ObligationStatus
	var found bool
	s.obligationAt(62*24*time.Hour, "hipaa-hhs", &hhs, &found)
	s.actOnPending(62*24*time.Hour + time.Hour)
	s.actOnPending(62*24*time.Hour + 2*time.Hour)
	s.actOnPending(62*24*time.Hour + 3*time.Hour)
	s.update(63*24*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().NoError(s.env.GetWorkflowError())
	s.Require().True(found, "hipaa-hhs applies at 600 affected")
	s.Equal(start, hhs.ClockStart)
	points := Escalations(hhs.ClockStart, hhs.DueAt)
	s.Require().GreaterOrEqual(len(hhs.Escalations), len(points), "%v", hhs.Escalations)
	for i, p := range points {
		s.True(strings.HasPrefix(hhs.Escalations[i], p.At.UTC().Format(time.RFC3339)), "escalation %d: %s, want %s (%s)", i, hhs.Escalations[i], p.At, p.Label)
	}
	s.InDelta(30*24, points[0].At.Sub(start).Hours(), 24, "the 50%% point falls about 30 days in")
	s.Contains(hhs.Escalations[len(points)-1], "OVERDUE")
}

// A corrected, larger dataset after the decision re-evaluates the rules: a new state's law starts
// its clock, and the running ones are kept.
func (s *incidentSuite) TestAmendedDatasetStartsNewObligationsAndKeepsRunningOnes() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: "INC-20261128-7E57", Dataset: incident.DatasetRef{URI: "/data/subjects.csv"}}).Return(
		incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/subjects.csv", SHA256: "a"}}, nil).Once()
	bigger := scope()
	bigger.Subjects, bigger.Mailable = 14, 13
	bigger.ByJurisdiction = map[string]int{"DE": 7, "FR": 3, "US-TX": 4}
	bigger.MailableByJurisdiction = map[string]int{"DE": 6, "FR": 3, "US-TX": 4}
	s.env.OnActivity(a.AssessScope, mock.Anything, incident.ScopeInput{IncidentID: "INC-20261128-7E57", Dataset: incident.DatasetRef{URI: "/data/more.csv"}}).Return(
		incident.ScopeResult{Summary: bigger, Dataset: incident.DatasetRef{URI: "/data/more.csv", SHA256: "b"}}, nil).Once()
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(incident.Draft{Path: "/d"}, nil)
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
			return incident.Submission{Path: "/r", MessageID: "m", At: in.SubmittedAt}, nil
		})
	var runs []incident.NoticeChunkInput
	s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
			runs = append(runs, in)
			return incident.NoticeChunkResult{Done: true, Counts: incident.NoticeCounts{Sent: 9}}, nil
		})
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
	s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
	var wrongRole error
	s.update(3*time.Hour, incident.UpdateAmend, incident.AmendRequest{By: "ic", Subjects: &incident.DatasetRef{URI: "/data/more.csv"}}, &wrongRole)
	s.update(4*time.Hour, incident.UpdateAmend, incident.AmendRequest{By: "dpo", Subjects: &incident.DatasetRef{URI: "/data/more.csv"}, Note: "four Texans found"}, nil)
	var supplementEarly error
	s.update(5*time.Hour, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "us-tx-individuals", Note: "x"}, &supplementEarly)
	s.update(6*time.Hour, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: "four more people in Texas"}, nil)
	s.update(7*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: declaration()})
	s.Require().NoError(s.env.GetWorkflowError())
	s.ErrorContains(wrongRole, "does not hold the dpo role")
	s.ErrorContains(supplementEarly, "met by the customer notices")
	st := s.status()
	ids := map[string]incident.ObligationStatus{}
	for _, o := range st.Obligations {
		ids[o.ID] = o
	}
	s.Contains(ids, "us-tx-individuals", "Texas residents' law starts on the amended facts")
	s.Equal(start, ids["us-tx-individuals"].ClockStart, "the clock ran from awareness, not from the amendment")
	s.Equal(incident.OblFiled, ids["gdpr-art33-authority"].State, "the running obligation is kept")
	s.Require().Len(ids["gdpr-art33-authority"].Supplements, 1)
	s.Equal(1, ids["gdpr-art33-authority"].Supplements[0].Sequence)
	s.Equal(incident.OblFiled, ids["us-tx-individuals"].State)
	s.Require().Len(runs, 2, "a second alerts run reaches the people the corrected dataset adds")
	s.Equal("b", runs[1].Dataset.SHA256)
	s.Equal("/data/more.csv", st.Dataset.URI)
}
