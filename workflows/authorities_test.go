package workflows

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/subjects"
)

// usShop is a US shop with no establishment in the EEA: its organisation facts say where
// decisions are taken, so the rules resolve the GDPR authorities from them.
func usShop() incident.Declaration {
	d := declaration()
	d.Organisation = incident.Organisation{Name: "Example Outfitters Inc.", Timezone: "America/New_York", Role: "controller",
		Establishments: []string{"US"}, MainEstablishment: "US", DPOContact: "privacy@outfitters.test", MailFrom: "privacy@outfitters.test"}
	d.Routes = nil
	// The organisation chose the Berlin authority for its German residents (no Land is
	// determined without an establishment there) and agreed an address with it.
	d.Authorities = []incident.AuthorityContact{{Code: "DE", Name: "Berliner Beauftragte für Datenschutz und Informationsfreiheit", Email: "breach@berlin.example"}}
	return d
}

func fiveMemberStates() subjects.Summary {
	by := map[string]int{"DE": 40, "ES": 30, "FR": 20, "IT": 10, "NL": 5}
	return subjects.Summary{Rows: 105, Subjects: 105, Records: 105, Mailable: 105, ByJurisdiction: by, MailableByJurisdiction: by,
		ByCategory: map[string]int{"contact": 105}}
}

// A US shop with customers in five Member States: the organisation's facts reach the incident's,
// the GDPR obligation resolves to five authorities, and each is its own clock with its own
// report, route and filing reference; the timeline says why each authority was chosen.
func (s *incidentSuite) TestUSShopNotifiesFiveAuthoritiesEachOnItsOwnClock() {
	s.mockBase()
	s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(incident.ScopeResult{Summary: fiveMemberStates()}, nil).Once()
	var mu sync.Mutex
	drafted := map[string]incident.ReportInput{}
	s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(func(_ context.Context, in incident.ReportInput) (incident.Draft, error) {
		mu.Lock()
		drafted[in.Obligation.ID] = in
		mu.Unlock()
		return incident.Draft{Path: "/d/" + in.Obligation.ID}, nil
	})
	submitted := map[string]incident.ReportInput{}
	s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
		mu.Lock()
		submitted[in.Obligation.ID] = in
		mu.Unlock()
		return incident.Submission{Path: "/r/" + in.Obligation.ID, MessageID: "msg-" + in.Obligation.ID, At: in.SubmittedAt}, nil
	})
	s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
	s.update(time.Hour, incident.UpdateDecide, incident.Decision{By: "dpo", Risk: "risk", NotifyAuthority: true, Reasoning: "contact data exposed"}, nil)
	var pendingAt3h incident.Status
	s.env.RegisterDelayedCallback(func() { pendingAt3h = s.status() }, 3*time.Hour)
	s.actOnPending(4 * time.Hour)
	s.actOnPending(5 * time.Hour)
	s.update(6*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)

	s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: usShop()})
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	st := s.status()
	var ids []string
	byID := map[string]incident.ObligationStatus{}
	for _, o := range st.Obligations {
		ids = append(ids, o.ID)
		byID[o.ID] = o
	}
	want := []string{"gdpr-art33-authority-de", "gdpr-art33-authority-es", "gdpr-art33-authority-fr", "gdpr-art33-authority-it", "gdpr-art33-authority-nl"}
	slices.Sort(ids)
	s.Equal(want, ids, "five authority obligations, nothing else")
	for _, n := range st.NotRequired {
		if n.ID == "gdpr-art33-authority" {
			s.Contains(n.Reason, "resolved to the competent authorities")
		}
	}
	// Five clocks, each waiting on its own step.
	var steps []string
	for _, p := range pendingAt3h.Pending {
		steps = append(steps, p.Step)
	}
	for _, id := range want {
		s.Contains(steps, incident.ReportStep(id), "each authority's report waits for its own approval")
		s.Equal(incident.OblFiled, byID[id].State, id)
		s.Require().NotNil(byID[id].Authority, id)
		s.Equal(start.Add(72*time.Hour), byID[id].DueAt, id)
	}
	// Each report names its own authority; the German one goes by email to the address the
	// configuration agreed, the others are filed by a person and carry their own reference.
	s.Contains(drafted["gdpr-art33-authority-fr"].RecipientName, "CNIL")
	s.Contains(drafted["gdpr-art33-authority-es"].RecipientName, "AEPD")
	s.Contains(drafted["gdpr-art33-authority-it"].RecipientName, "Garante")
	s.Contains(drafted["gdpr-art33-authority-nl"].RecipientName, "Autoriteit Persoonsgegevens")
	s.Equal("Berliner Beauftragte für Datenschutz und Informationsfreiheit", drafted["gdpr-art33-authority-de"].RecipientName)
	s.Equal("breach@berlin.example", submitted["gdpr-art33-authority-de"].RecipientAddress)
	s.Equal("msg-gdpr-art33-authority-de", byID["gdpr-art33-authority-de"].Reference)
	s.Equal("email", byID["gdpr-art33-authority-de"].Method)
	for _, id := range want[1:] {
		s.Empty(submitted[id].RecipientAddress, "%s is filed by a person, not emailed", id)
		s.Equal("REF-file:"+id, byID[id].Reference, id)
		s.Equal("portal", byID[id].Method, id)
	}
	// The timeline says which authority and why, and how the report reaches it.
	why := map[string]string{}
	for _, e := range st.Timeline {
		if e.Kind == "authority" {
			why[e.About] = e.Text
		}
	}
	s.Len(why, 5)
	s.Contains(why["gdpr-art33-authority-fr"], "no EEA establishment")
	s.Contains(why["gdpr-art33-authority-fr"], "¶73")
	s.Contains(why["gdpr-art33-authority-fr"], "https://notifications.cnil.fr")
	s.Contains(why["gdpr-art33-authority-de"], "sent by email to breach@berlin.example")
	s.Contains(why["gdpr-art33-authority-de"], "BDSG §40 names no Land")
	// The person filing is told where.
	var filing []string
	s.mu.Lock()
	for _, c := range s.chats {
		if c.Kind == incident.MsgFilingNeeded {
			filing = append(filing, c.Text)
		}
	}
	s.mu.Unlock()
	s.True(slices.ContainsFunc(filing, func(t string) bool {
		return strings.Contains(t, "gdpr-art33-authority-fr") && strings.Contains(t, "https://notifications.cnil.fr")
	}), "%v", filing)
}
