package templates_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/templates"
)

// reportView is what activities hands the report templates: the input plus the draft/final
// state.
type reportView struct {
	incident.ReportInput
	Final      bool
	PreparedAt time.Time
}

// noticeView is what activities hands the customer notice.
type noticeView struct {
	incident.NoticeContent
	IncidentID string
	Drill      bool
	Name       string
	Categories []string
}

var aware = time.Date(2024, 3, 5, 14, 30, 0, 0, time.UTC)

func reportInput() incident.ReportInput {
	return incident.ReportInput{
		IncidentID:  "INC-20240305-1",
		Title:       "Customer database exposed through a public backup",
		Description: "A nightly backup of the CRM database was readable without authentication.",
		Obligation: rules.Obligation{
			ID: "gdpr-art33-authority", Regime: "gdpr", Audience: "supervisory authority", Basis: "GDPR Art. 33",
			DueAt: aware.Add(72 * time.Hour), Rule: "72 hours after awareness", Template: "gdpr-art33-report",
		},
		Organisation: incident.Organisation{
			Name:       "Example Shop GmbH",
			DPOContact: "Dana Schmidt, Data Protection Officer, dpo@example-shop.test, +49 30 1234 5678",
		},
		AwareAt:    aware,
		AwareZone:  "Europe/Berlin",
		DeclaredBy: "ian",
		Systems:    []string{"crm-db", "backup-bucket"},
		Containment: []incident.SystemStatus{
			{System: "crm-db", State: incident.ContainContained, Provider: "nftables", Detail: "all traffic but the admin network dropped"},
			{System: "backup-bucket", State: incident.ContainManual},
		},
		Scope: subjects.Summary{
			Subjects: 1234, Records: 2034, Mailable: 1200,
			ByJurisdiction: map[string]int{"DE": 1000, "US-CA": 200, "FR": 34},
			ByCategory:     map[string]int{"contact": 1234, "address": 800},
		},
		Decision: incident.Decision{
			By: "dana", Risk: "high", NotifyAuthority: true, NotifySubjects: true,
			Reasoning:    "Names and addresses of customers were readable by anyone.",
			Consequences: "Phishing and fraud using the customers' contact details.",
			Measures:     "The bucket was made private and its access logs are being analysed.",
			DecidedAt:    aware.Add(20 * time.Hour),
		},
		NotifySubjects:   true,
		RecipientName:    "Berlin Commissioner for Data Protection",
		RecipientAddress: "reports@authority.example",
	}
}

// section returns the text under a "## " heading, up to the next one.
func section(t *testing.T, body, heading string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, "\n## "+heading+"\n")
	require.True(t, ok, "no section %q in:\n%s", heading, body)
	text, _, _ := strings.Cut(after, "\n## ")
	return text
}

func renderReport(t *testing.T, v reportView) (subject, body string) {
	t.Helper()
	out, err := templates.Render("gdpr-art33-report", v)
	require.NoError(t, err)
	return templates.SplitSubject(out)
}

func TestGDPRArt33ReportFillsEverySection(t *testing.T) {
	subject, body := renderReport(t, reportView{ReportInput: reportInput(), PreparedAt: aware.Add(21 * time.Hour)})

	assert.Equal(t, "Personal data breach notification under Art. 33 GDPR: Example Shop GmbH, INC-20240305-1", subject)
	assert.True(t, strings.HasPrefix(body, "# Notification of a personal data breach (GDPR Art. 33)\n"), body)
	assert.Contains(t, body, "To: Berlin Commissioner for Data Protection <reports@authority.example>\n")
	assert.Contains(t, body, "Status: DRAFT for approval, prepared 2024-03-06 11:30 UTC\n")
	assert.Contains(t, body, "Deadline (Art. 33(1), 72 hours after awareness): 2024-03-08 14:30 UTC\n")

	timing := section(t, body, "Timing")
	assert.Contains(t, timing, "- Became aware of the breach: 2024-03-05 15:30 CET (Europe/Berlin) (2024-03-05 14:30 UTC)\n")
	assert.Contains(t, timing, "- Declared by: ian\n")
	assert.Contains(t, timing, "- Risk decision: 2024-03-06 10:30 UTC by dana")

	nature := section(t, body, "(a) Nature of the breach")
	assert.Contains(t, nature, "Customer database exposed through a public backup\n\nA nightly backup of the CRM database was readable without authentication.\n")
	assert.Contains(t, nature, "Systems affected: crm-db, backup-bucket\n")
	assert.Contains(t, nature, "approximate number of data subjects concerned: 1234 data subjects.\n- DE: 1000\n- US-CA: 200\n- FR: 34\n")
	assert.Contains(t, nature, "approximate number of personal data records concerned: 2034 records.\n- contact: 1234 data subjects\n- address: 800 data subjects\n")

	contact := section(t, body, "(b) Contact point")
	assert.Equal(t, "Dana Schmidt, Data Protection Officer, dpo@example-shop.test, +49 30 1234 5678\n", contact)

	consequences := section(t, body, "(c) Likely consequences of the breach")
	assert.Contains(t, consequences, "as assessed by the data protection officer: high.\n")
	assert.Contains(t, consequences, "Phishing and fraud using the customers' contact details.\n")
	assert.Contains(t, consequences, "Assessment: Names and addresses of customers were readable by anyone.\n")

	measures := section(t, body, "(d) Measures taken or proposed")
	assert.Contains(t, measures, "Containment:\n- crm-db: contained via nftables (all traffic but the admin network dropped)\n- backup-bucket: manual-required\n")
	assert.Contains(t, measures, "The bucket was made private and its access logs are being analysed.\n")
	assert.Contains(t, measures, "Communication to data subjects (Art. 34): affected data subjects are being notified directly (1200 with a usable email address).\n")
	assert.Contains(t, measures, "(Art. 33(4))")

	assert.NotContains(t, body, "Reasons for the delay")
	assert.NotContains(t, body, "DRILL")
	assert.NotContains(t, body, "(none given)")
	assert.NotContains(t, body, "<no value>")
}

func TestGDPRArt33ReportReasonsForDelayOnlyWhenLate(t *testing.T) {
	in := reportInput()
	in.LateReasons = "The backup's contents were only identified on day 4.\nForensics needed the provider's logs."
	in.SubmittedAt = aware.Add(80 * time.Hour)
	_, body := renderReport(t, reportView{ReportInput: in, Final: true})

	late := section(t, body, "Reasons for the delay (Art. 33(1))")
	assert.Equal(t, "This notification is made after the 72-hour period. Reasons:\n"+
		"  The backup's contents were only identified on day 4.\n"+
		"  Forensics needed the provider's logs.\n", late)
	assert.Contains(t, body, "Status: submitted 2024-03-08 22:30 UTC\n")
	// The reasons come before the Art. 33(3) content.
	assert.Less(t, strings.Index(body, "## Reasons for the delay"), strings.Index(body, "## (a) Nature"))
}

func TestGDPRArt33ReportWithoutSubjectNotice(t *testing.T) {
	in := reportInput()
	in.Drill = true
	in.NotifySubjects = false
	in.SubjectsReason = "the data was encrypted with a key that was not compromised (Art. 34(3)(a))"
	in.Decision.Consequences = ""
	in.Decision.Measures = " "
	in.RecipientAddress = ""
	subject, body := renderReport(t, reportView{ReportInput: in})

	assert.Equal(t, "Personal data breach notification under Art. 33 GDPR: Example Shop GmbH, INC-20240305-1 [DRILL: NOT A REAL NOTIFICATION]", subject)
	assert.Contains(t, body, "To: Berlin Commissioner for Data Protection\n")
	assert.Contains(t, section(t, body, "(c) Likely consequences of the breach"), "(none given)")
	measures := section(t, body, "(d) Measures taken or proposed")
	assert.Contains(t, measures, "(none given)")
	assert.Contains(t, measures, "Communication to data subjects (Art. 34): not made: the data was encrypted with a key that was not compromised (Art. 34(3)(a))\n")
}

func TestGenericReportRendersTheSameInput(t *testing.T) {
	in := reportInput()
	in.Obligation.Template = "generic-report"
	out, err := templates.Render("generic-report", reportView{ReportInput: in, PreparedAt: aware})
	require.NoError(t, err)
	subject, body := templates.SplitSubject(out)
	assert.Equal(t, "Breach notification (GDPR Art. 33): Example Shop GmbH, INC-20240305-1", subject)
	assert.Contains(t, body, "Affected people: 1234; records: 2034\n")
	assert.Contains(t, body, "Categories of data: contact, address\n")
}

func TestGDPRArt34Notice(t *testing.T) {
	content := incident.NoticeContent{
		OrgName:      "Example Shop GmbH",
		From:         "privacy@example-shop.test",
		WhatHappened: "A backup of our customer database was readable from the internet.",
		Consequences: "You may receive phishing emails that appear to come from us.",
		Measures:     "We closed the access and are reviewing all backups.",
		Advice:       "Do not click links in unexpected emails about your order.",
		Contact:      "privacy@example-shop.test or +49 30 1234 5600",
	}
	out, err := templates.Render("gdpr-art34-notice", noticeView{
		NoticeContent: content, IncidentID: "INC-20240305-1", Name: "Léa Weber", Categories: []string{"contact", "address"},
	})
	require.NoError(t, err)
	subject, body := templates.SplitSubject(out)
	assert.Equal(t, "Important: a security incident at Example Shop GmbH involving your data", subject)
	assert.True(t, strings.HasPrefix(body, "Dear Léa Weber,\n"), body)
	assert.Contains(t, body, "Which of your data was involved\ncontact, address\n")
	assert.Contains(t, body, "What happened\n"+content.WhatHappened+"\n")
	assert.Contains(t, body, "What this may mean for you\n"+content.Consequences+"\n")
	assert.Contains(t, body, "What we are doing\n"+content.Measures+"\n")
	assert.Contains(t, body, "What you can do\n"+content.Advice+"\n")
	assert.Contains(t, body, "Who to contact\n"+content.Contact+"\n")
	assert.Contains(t, body, "Our reference for this incident: INC-20240305-1.")
	assert.NotContains(t, body, "DRILL")

	out, err = templates.Render("gdpr-art34-notice", noticeView{NoticeContent: content, IncidentID: "INC-1", Drill: true})
	require.NoError(t, err)
	subject, body = templates.SplitSubject(out)
	assert.Equal(t, "[DRILL] Important: a security incident at Example Shop GmbH involving your data", subject)
	assert.True(t, strings.HasPrefix(body, "Dear customer,\n"), body)
	assert.Contains(t, body, "Which of your data was involved\nYour customer record with us.\n")
}

func TestSplitSubject(t *testing.T) {
	tests := []struct {
		in, subject, body string
	}{
		{"Subject: Hello\n\nBody\nmore", "Hello", "Body\nmore"},
		{"Subject:   padded  \nbody", "padded", "body"},
		{"Subject: only", "only", ""},
		{"No subject line\nbody", "", "No subject line\nbody"},
		{"subject: lower case is not a subject line\n", "", "subject: lower case is not a subject line\n"},
		{"", "", ""},
	}
	for _, tt := range tests {
		subject, body := templates.SplitSubject(tt.in)
		assert.Equal(t, tt.subject, subject, "subject of %q", tt.in)
		assert.Equal(t, tt.body, body, "body of %q", tt.in)
	}
}

func TestMissingTemplate(t *testing.T) {
	assert.True(t, templates.Has("gdpr-art33-report"))
	assert.True(t, templates.Has("gdpr-art34-notice"))
	assert.False(t, templates.Has("gdpr-art99-report"))

	_, err := templates.Render("gdpr-art99-report", reportView{ReportInput: reportInput()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"gdpr-art99-report"`)
}

func TestRenderWithWrongDataErrors(t *testing.T) {
	_, err := templates.Render("gdpr-art34-notice", struct{ Name string }{Name: "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "render template gdpr-art34-notice")
}
