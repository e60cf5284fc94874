package workflows

import (
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
)

// decisionDueAt runs an incident with the organisation org and the scope sc until the DPO's
// decision is pending, and returns the step and the message asking for it.
func (s *incidentSuite) decisionDueAt(org incident.Organisation, sc subjects.Summary) (PendingStep, incident.ChatMessage) {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(activities.ScopeResult{Summary: sc}, nil).Once()
	s.env.OnActivity(a.ReleaseIsolation, mock.Anything, mock.Anything).Return(incident.Evidence{Provider: "dry-run"}, nil).Maybe()
	s.env.OnActivity(a.RecordRegister, mock.Anything, mock.Anything).Return(activities.RegisterOutput{}, nil).Maybe()
	var step PendingStep
	s.env.RegisterDelayedCallback(func() {
		for _, p := range s.status().Pending {
			if p.Step == UpdateDecide {
				step = p
			}
		}
		s.env.CancelWorkflow()
	}, time.Hour)
	d := declaration()
	d.Organisation = org
	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
	s.Require().Error(s.env.GetWorkflowError())
	s.Require().Equal(UpdateDecide, step.Step, "the decision was not pending")
	var asked incident.ChatMessage
	for _, m := range s.chats {
		if m.Kind == incident.MsgDecisionNeeded {
			asked = m
		}
	}
	return step, asked
}

// A German shop's decision is due within GDPR's 72 hours.
func (s *incidentSuite) TestDecisionDueIsGDPRsForAGermanShop() {
	step, asked := s.decisionDueAt(declaration().Organisation, scope())
	s.Equal(start.Add(72*time.Hour), step.DueAt.UTC())
	s.Equal(step.DueAt, asked.DueAt)
	s.Contains(asked.Text, "GDPR Art. 33")
}

// A US health provider with Texan patients is not given GDPR's 72 hours: its decision is due at
// the earliest deadline the rules give its facts were it notifiable.
func (s *incidentSuite) TestDecisionDueComesFromTheRulesForAUSHealthProvider() {
	org := incident.Organisation{Name: "Example Clinic", Timezone: "America/Chicago", Role: "controller",
		Establishments: []string{"US"}, Sectors: []string{"health-covered-entity"}, MailFrom: "privacy@clinic.example"}
	sc := subjects.Summary{Rows: 800, Subjects: 800, Records: 800, Mailable: 800,
		ByJurisdiction: map[string]int{"US-TX": 800}, MailableByJurisdiction: map[string]int{"US-TX": 800}, ByCategory: map[string]int{"health": 800}}
	want, err := rules.Evaluate(rules.Facts{AwareAt: start, Timezone: org.Timezone, Role: org.Role, Establishments: org.Establishments,
		Sectors: org.Sectors, Risk: "high", SignificantIncident: true, SubjectsByJurisdiction: sc.ByJurisdiction, DataCategories: []string{"health"}})
	s.Require().NoError(err)
	due, basis := earliestDue(want.Obligations)
	s.Require().False(due.IsZero(), "the rules give a US health provider no deadline: %+v", want.Obligations)

	step, asked := s.decisionDueAt(org, sc)
	s.NotEqual(start.Add(72*time.Hour), step.DueAt.UTC(), "a HIPAA incident was given GDPR's deadline")
	s.Equal(due, step.DueAt.UTC())
	s.Contains(asked.Text, basis)
	s.NotContains(asked.Text, "GDPR")
}
