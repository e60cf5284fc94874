package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"

	"github.com/breachops/breach/incident"
)

// An incident declared with languages hands them to its reports and notices; what the DPO
// approves in a language is what is submitted, supplements included, and the timeline says
// which language. An incident declared without them hands none: English, as before.
func (s *incidentSuite) TestReportsKeepTheLanguageTheyWereDraftedIn() {
	for _, withLanguages := range []bool{true, false} {
		s.SetupTest()
		s.mockBase()
		s.env.OnActivity(a.AssessScope, mock.Anything, mock.Anything).Return(
			incident.ScopeResult{Summary: scope(), Dataset: incident.DatasetRef{URI: "/data/subjects.csv", SHA256: "abc"}}, nil).Once()
		var mu sync.Mutex
		var drafts, submits []incident.ReportInput
		var notices []incident.NoticeChunkInput
		s.env.OnActivity(a.DraftReport, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in incident.ReportInput) (incident.Draft, error) {
				mu.Lock()
				drafts = append(drafts, in)
				mu.Unlock()
				if in.Languages == nil {
					return incident.Draft{Path: "/r/draft.md"}, nil
				}
				return incident.Draft{Path: "/r/draft.md", Language: "de", LanguageNote: "in German (DE takes German)"}, nil
			})
		s.env.OnActivity(a.SubmitReport, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in incident.ReportInput) (incident.Submission, error) {
				mu.Lock()
				submits = append(submits, in)
				mu.Unlock()
				return incident.Submission{Path: "/r/report.md", MessageID: "m", At: in.SubmittedAt}, nil
			})
		s.env.OnActivity(a.SendNotices, mock.Anything, mock.Anything).Return(
			func(_ context.Context, in incident.NoticeChunkInput) (incident.NoticeChunkResult, error) {
				mu.Lock()
				notices = append(notices, in)
				mu.Unlock()
				return incident.NoticeChunkResult{Done: true, Counts: incident.NoticeCounts{Rows: 12, Sent: 9}}, nil
			})
		s.env.OnActivity(a.WriteRecords, mock.Anything, mock.Anything).Return(incident.CloseOutput{}, nil).Once()
		s.update(time.Hour, incident.UpdateDecide, highRisk("dpo"), nil)
		s.update(2*time.Hour, incident.UpdateApprove, incident.ApproveRequest{By: "dpo", Step: "report:gdpr-art33-authority"}, nil)
		s.update(3*time.Hour, incident.UpdateSupplement, incident.SupplementRequest{By: "dpo", Obligation: "gdpr-art33-authority", Note: "more people found"}, nil)
		var st incident.Status
		s.env.RegisterDelayedCallback(func() { st = s.status() }, 4*time.Hour)
		s.update(5*time.Hour, incident.UpdateClose, incident.CloseRequest{By: "ic"}, nil)
		d := declaration()
		if withLanguages {
			d.Languages = &incident.Languages{Reports: []string{"de"}, Countries: map[string]string{"BE": "fr"}}
		}
		s.env.ExecuteWorkflow(IncidentWorkflow, IncidentInput{Declaration: d})
		s.Require().NoError(s.env.GetWorkflowError())

		s.Require().NotEmpty(drafts)
		s.Require().Len(submits, 2, "the report and its supplement")
		s.Require().NotEmpty(notices)
		drafted := ""
		for _, e := range st.Timeline {
			if e.Kind == "drafted" {
				drafted = e.Text
			}
		}
		var lang string
		for _, o := range st.Obligations {
			if o.ID == "gdpr-art33-authority" {
				lang = o.Language
			}
		}
		if withLanguages {
			s.Equal(d.Languages, drafts[0].Languages)
			for _, in := range submits {
				s.Equal("de", in.Language, "submitted in the language drafted (sequence %d)", in.Sequence)
			}
			s.Equal(d.Languages, notices[0].Notice.Languages)
			s.Equal("de", lang)
			s.True(strings.HasPrefix(drafted, "gdpr-art33-authority report drafted in German (DE takes German): "), drafted)
			continue
		}
		for _, in := range append(drafts, submits...) {
			s.Nil(in.Languages)
			s.Empty(in.Language)
		}
		s.Nil(notices[0].Notice.Languages)
		s.Empty(lang)
		s.Equal("gdpr-art33-authority report drafted: /r/draft.md", drafted)
	}
}

// The demo incident with languages (the Berlin commissioner resolved from the shop's Land, a
// German report to it, notices in each customer's language), recorded by e2e
// TestDemoSpeaksEachReadersLanguage with BREACH_RECORD_HISTORIES=DIR: the incident, its Art. 33
// and Art. 34 clocks and the customer alerts that told the timeline the notices' languages
// (alerts-languages).
func TestReplayDemoWithLanguages(t *testing.T) {
	replayAll(t, "lang-demo", "lang-demo-obligation-gdpr-art33-authority-de-be", "lang-demo-obligation-gdpr-art34-subjects",
		"lang-demo-alerts")
}
