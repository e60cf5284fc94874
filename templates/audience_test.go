package templates_test

import (
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
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

// The views below have the field names of activities' reportView and noticeView (unexported
// there); text/template resolves fields by name, so a template that renders with these renders
// with those, and one that names a field they lack fails here.

type audReportView struct {
	incident.ReportInput
	Final      bool
	PreparedAt time.Time
}

type audNoticeView struct {
	incident.NoticeContent
	IncidentID   string
	Drill        bool
	Name         string
	Categories   []string
	Jurisdiction string
}

// audAware is a Thursday morning in New York.
var audAware = time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)

var audOrg = incident.Organisation{
	Name:           "Example Shop Inc.",
	Timezone:       "America/New_York",
	Role:           "controller",
	Establishments: []string{"DE"},
	Sectors:        []string{"health-covered-entity", "nis2-essential", "us-listed"},
	DPOContact:     "Dana Schmidt, Data Protection Officer, dpo@example-shop.test, +1 212 555 0100",
	MailFrom:       "privacy@example-shop.test",
	SubjectContact: "privacy@example-shop.test or toll-free 1-800-555-0199 (Mon-Fri 8:00-20:00 ET)",
}

var audScope = subjects.Summary{
	Rows: 9050, Subjects: 9000, Records: 21400, Mailable: 8700, Invalid: 300, Duplicates: 50,
	ByJurisdiction: map[string]int{
		"US-CA": 2100, "US-NY": 1500, "US-TX": 400, "US-FL": 650, "US-CO": 520, "US-WA": 510,
		"DE": 1200, "GB": 700, "CA": 480, "AU": 320, "SG": 510, "BR": 110,
	},
	MailableByJurisdiction: map[string]int{
		"US-CA": 2050, "US-NY": 1400, "US-TX": 390, "US-FL": 640, "US-CO": 500, "US-WA": 500,
		"DE": 1180, "GB": 690, "CA": 470, "AU": 300, "SG": 480, "BR": 100,
	},
	ByCategory: map[string]int{"contact": 9000, "address": 7100, "health": 3300, "financial": 1900, "children": 40, "elderly": 60},
}

var audDecision = incident.Decision{
	By: "dana", Risk: "high", NotifyAuthority: true, NotifySubjects: true,
	Reasoning:    "Names, addresses and health notes of customers were copied by an unknown attacker; the data can be used for fraud and reveals health conditions.",
	Consequences: "Targeted phishing and fraud using the customers' details; disclosure of health conditions.",
	Measures:     "The administrator account was disabled, all administrator passwords were reset and access now requires a hardware key. A forensic firm is reviewing the logs.",
	Advice:       "Do not reply to messages about your order that ask for payment details. We will never ask for your password.",
	DecidedAt:    audAware.Add(6 * time.Hour),
}

const (
	audTitle       = "Customer database copied with a stolen administrator password"
	audDescription = "On 4 March 2026 an attacker logged in to our customer database with a stolen administrator password and copied the customer and order tables. We found the access on 5 March 2026 in the database audit log."
)

// audFacts trigger every obligation the rules know, at once, but for the processors' duties
// (audProcessorFacts) and India's, in force from 2027 (audIndiaFacts). The people counted are
// audScope's, and a few in places its report totals leave out.
func audFacts() rules.Facts {
	material := audAware.Add(30 * time.Hour)
	classified := audAware.Add(2 * time.Hour)
	subjects := map[string]int{"JP": 40, "KR": 30, "IN": 20, "CH": 15, "CN": 10, "US-MA": 9, "US-NJ": 8, "US-IL": 501, "US-OR": 251, "CA-QC": 7}
	for k, v := range audScope.ByJurisdiction {
		subjects[k] = v
	}
	return rules.Facts{
		AwareAt: audAware, Timezone: "America/New_York", Role: "controller", Establishments: []string{"DE", "CH", "CN"},
		Sectors: []string{"health-covered-entity", "nis2-essential", "us-listed", "dora-investment-firm", "phr-vendor",
			"critical-infrastructure"},
		SubjectsByJurisdiction:  subjects,
		DataCategories:          []string{"contact", "address", "health", "financial", "children", "elderly"},
		Risk:                    "high",
		MaterialityDeterminedAt: &material,
		ClassifiedMajorAt:       &classified,
		SignificantIncident:     true,
		Submitted: map[string]time.Time{
			"nis2-notification":  audAware.Add(60 * time.Hour),
			"us-ca-residents":    audAware.Add(10 * 24 * time.Hour),
			"hipaa-hhs":          audAware.Add(20 * 24 * time.Hour),
			"dora-initial":       audAware.Add(5 * time.Hour),
			"dora-intermediate":  audAware.Add(70 * time.Hour),
			"us-nj-state-police": audAware.Add(24 * time.Hour),
		},
	}
}

func audProcessorFacts() rules.Facts {
	f := audFacts()
	f.Role = "processor"
	return f
}

func audIndiaFacts() rules.Facts {
	f := audFacts()
	f.AwareAt = time.Date(2027, 6, 3, 9, 0, 0, 0, time.UTC)
	f.MaterialityDeterminedAt, f.ClassifiedMajorAt, f.Submitted = nil, nil, nil
	return f
}

func audObligations(t *testing.T) []rules.Obligation {
	t.Helper()
	var all []rules.Obligation
	for _, f := range []rules.Facts{audFacts(), audProcessorFacts(), audIndiaFacts()} {
		res, err := rules.Evaluate(f)
		require.NoError(t, err)
		all = append(all, res.Obligations...)
	}
	return all
}

func audObligation(t *testing.T, id string) rules.Obligation {
	t.Helper()
	for _, o := range audObligations(t) {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("the facts do not produce obligation %s", id)
	return rules.Obligation{}
}

// audInput is the report input the workflow builds for obligation o.
func audInput(o rules.Obligation) incident.ReportInput {
	return incident.ReportInput{
		IncidentID: "INC-20260305-1", Title: audTitle, Description: audDescription,
		Obligation: o, Organisation: audOrg, AwareAt: audAware, AwareZone: "America/New_York",
		DeclaredBy: "ian", Systems: []string{"crm-db", "backup-bucket"},
		Containment: []incident.SystemStatus{
			{System: "crm-db", State: incident.ContainContained, Provider: "nftables", Detail: "all traffic but the admin network dropped"},
			{System: "backup-bucket", State: incident.ContainContained, Manual: true, Detail: "isolated manually, confirmed by ian"},
		},
		Scope: audScope, Decision: audDecision, NotifySubjects: true,
		RecipientName: o.Audience, RecipientAddress: "reports@authority.example",
	}
}

func audRenderReport(t *testing.T, in incident.ReportInput, final bool) (subject, body string) {
	t.Helper()
	v := audReportView{ReportInput: in, Final: final, PreparedAt: audAware.Add(7 * time.Hour)}
	if final && in.SubmittedAt.IsZero() {
		v.SubmittedAt = audAware.Add(8 * time.Hour)
	}
	out, err := templates.Render(in.Obligation.Template, v)
	require.NoError(t, err, "template %s for %s", in.Obligation.Template, in.Obligation.ID)
	require.True(t, strings.HasPrefix(out, "Subject: "), "%s: first line is not a Subject line:\n%s", in.Obligation.Template, out)
	subject, body = templates.SplitSubject(out)
	require.NotEmpty(t, subject)
	assert.NotContains(t, out, "<no value>")
	return subject, body
}

// audContent is the notice content the workflow builds (workflows/alerts.go).
func audContent() incident.NoticeContent {
	return incident.NoticeContent{
		OrgName: audOrg.Name, From: audOrg.MailFrom, Title: audTitle, WhatHappened: audDescription,
		Consequences: audDecision.Consequences, Measures: audDecision.Measures, Advice: audDecision.Advice,
		Contact: audOrg.SubjectContact, AwareAt: audAware,
	}
}

func audRenderNotice(t *testing.T, tmpl string, v audNoticeView) (subject, body string) {
	t.Helper()
	out, err := templates.Render(tmpl, v)
	require.NoError(t, err, "template %s", tmpl)
	require.True(t, strings.HasPrefix(out, "Subject: "), "%s: first line is not a Subject line:\n%s", tmpl, out)
	subject, body = templates.SplitSubject(out)
	require.NotEmpty(t, subject)
	assert.NotContains(t, out, "<no value>")
	return subject, body
}

func audPerson(jurisdiction string) audNoticeView {
	return audNoticeView{
		NoticeContent: audContent(), IncidentID: "INC-20260305-1",
		Name: "Léa Weber", Categories: []string{"contact", "health"}, Jurisdiction: jurisdiction,
	}
}

// isNotice mirrors workflows.isSubjectNotice: these templates are rendered per person.
func isNotice(tmpl string) bool {
	return strings.HasSuffix(tmpl, "-notice") && !strings.Contains(tmpl, "media")
}

// regimeTemplates lists every template name in the rules' regime files.
func regimeTemplates(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "internal", "rules", "regimes", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	re := regexp.MustCompile(`(?m)^\s*template:\s*["']?([A-Za-z0-9_.-]+)`)
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		for _, m := range re.FindAllStringSubmatch(string(data), -1) {
			seen[m[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func TestEveryRegimeTemplateExists(t *testing.T) {
	names := regimeTemplates(t)
	assert.GreaterOrEqual(t, len(names), 20, "%v", names)
	for _, n := range names {
		assert.True(t, templates.Has(n), "regime files name template %q, which does not exist", n)
	}
}

// Every obligation the engine produces for facts that trigger all of them renders with its own
// template (not a fallback), as a report or as a notice.
func TestEveryObligationRendersItsOwnTemplate(t *testing.T) {
	obls := audObligations(t)
	ids := map[string]bool{}
	for _, o := range obls {
		ids[o.ID] = true
		require.True(t, templates.Has(o.Template), "%s: template %q does not exist", o.ID, o.Template)
		if isNotice(o.Template) {
			j := "GB"
			if len(o.Subjects) > 0 && !strings.ContainsAny(o.Subjects[0], "*") && o.Subjects[0] != "EEA" {
				j = o.Subjects[0]
			}
			audRenderNotice(t, o.Template, audPerson(j))
			continue
		}
		audRenderReport(t, audInput(o), false)
		audRenderReport(t, audInput(o), true)
	}
	// The facts reach every obligation with a template of this change.
	for _, id := range []string{
		"uk-gdpr-art33-ico", "uk-gdpr-art34-subjects", "nis2-early-warning", "nis2-notification", "nis2-final-report",
		"hipaa-individuals", "hipaa-media", "hipaa-hhs", "sec-8k-item105", "us-ca-residents", "us-ca-attorney-general",
		"us-ny-residents", "us-ny-attorney-general", "us-tx-individuals", "us-tx-attorney-general", "us-fl-individuals",
		"us-fl-legal-affairs", "us-co-residents", "us-co-attorney-general", "us-wa-residents", "us-wa-attorney-general",
		"ca-pipeda-commissioner", "ca-pipeda-individuals", "au-ndb-assessment", "au-ndb-commissioner", "sg-pdpc",
		"br-anpd", "br-subjects",
		// Issue 14.
		"gdpr-art33-controller", "dora-initial", "dora-intermediate", "dora-final", "dora-clients", "jp-ppc-preliminary",
		"jp-ppc-final", "jp-individuals", "kr-pipa-subjects", "kr-pipc", "in-dpb-intimation", "in-dpb-report", "in-principals",
		"ch-fdpic", "ch-subjects", "ch-ncsc", "cn-pipl-authority", "cn-pipl-individuals", "cn-cac-report", "us-ma-residents",
		"us-ma-attorney-general", "us-nj-state-police", "us-nj-residents", "us-il-residents", "us-il-attorney-general",
		"us-or-consumers", "us-or-attorney-general", "us-or-covered-entity", "ftc-hbnr-individuals", "ftc-hbnr-media",
		"ftc-hbnr-ftc", "ca-qc-cai", "ca-qc-persons",
	} {
		assert.True(t, ids[id], "obligation %s not produced by the test facts", id)
	}
}

// reportTemplates are the report templates of this change, by an obligation that uses each.
var reportTemplates = map[string]string{
	"uk-ico-report":      "uk-gdpr-art33-ico",
	"nis2-early-warning": "nis2-early-warning",
	"nis2-notification":  "nis2-notification",
	"nis2-final-report":  "nis2-final-report",
	"sec-8k-item105":     "sec-8k-item105",
	"hipaa-hhs-report":   "hipaa-hhs",
	"hipaa-media-notice": "hipaa-media",
	"us-state-ag-report": "us-tx-attorney-general",
	"pipeda-report":      "ca-pipeda-commissioner",
	"au-ndb-statement":   "au-ndb-commissioner",
	"sg-pdpc-report":     "sg-pdpc",
	"br-anpd-report":     "br-anpd",
	// Issue 14.
	"processor-controller-report": "gdpr-art33-controller",
	"dora-initial-notification":   "dora-initial",
	"dora-intermediate-report":    "dora-intermediate",
	"dora-final-report":           "dora-final",
	"jp-ppc-report":               "jp-ppc-preliminary",
	"kr-pipc-report":              "kr-pipc",
	"in-dpb-intimation":           "in-dpb-intimation",
	"in-dpb-report":               "in-dpb-report",
	"ch-fdpic-report":             "ch-fdpic",
	"ch-ncsc-report":              "ch-ncsc",
	"cn-pipl-report":              "cn-pipl-authority",
	"cn-cac-report":               "cn-cac-report",
	"ftc-hbnr-report":             "ftc-hbnr-ftc",
	"ftc-hbnr-media-notice":       "ftc-hbnr-media",
	"qc-cai-report":               "ca-qc-cai",
}

// publicTexts are published, not sent to a regulator: they carry no internal delay reasons,
// no contact of the DPO as a reporting contact, and (8-K) no system names.
var publicTexts = map[string]bool{"sec-8k-item105": true, "hipaa-media-notice": true, "ftc-hbnr-media-notice": true}

func TestReportsCarryTheRequiredElements(t *testing.T) {
	required := map[string][]string{
		"uk-ico-report": {
			"Information Commissioner's Office", "UK GDPR Art. 33", "## (a) Nature of the breach",
			"## (b) Contact point", "## (c) Likely consequences of the breach", "## (d) Measures taken or proposed",
			"UK GDPR Art. 33(4)", "Telling the individuals affected (UK GDPR Art. 34): the affected individuals are being told directly (8700 with a usable email address).",
		},
		"nis2-early-warning": {
			"(NIS2 Art. 23(4)(a))", "(essential entity)", "## Suspected unlawful or malicious acts",
			"## Possible cross-border impact", "Affected people (service recipients or data subjects) reside in: US-CA (2100), US-NY (1500), DE (1200)",
			"Classified as a significant incident under Art. 23(3): yes",
		},
		"nis2-notification": {
			"(NIS2 Art. 23(4)(b))", "This notification updates our early warning", "## Update of the early warning",
			"## Initial assessment: severity", "## Initial assessment: impact", "## Indicators of compromise",
			"Suspected unlawful or malicious acts:",
		},
		"nis2-final-report": {
			"(NIS2 Art. 23(4)(d))", "## (i) Detailed description of the incident", "Severity:", "Impact:",
			"## (ii) Type of threat or root cause", "## (iii) Mitigation measures applied and ongoing",
			"## (iv) Cross-border impact", "Incident notification submitted: 2026-03-08 02:30 UTC",
		},
		"sec-8k-item105": {
			"Item 1.05 Material Cybersecurity Incidents", "### Nature, scope and timing of the incident",
			"On 2026-03-06 20:30 UTC, the Company determined that the incident is material.",
			"### Material impact or reasonably likely material impact on the Company",
			"financial condition and results of operations", "has not yet determined",
			"Instruction 2 to\nItem 1.05", "approximately 9000\nindividuals",
		},
		"hipaa-hhs-report": {
			"(45 CFR 164.408)", "breach affecting 500 or more individuals (164.408(b))", "## Covered entity",
			"- Date of discovery: 2026-03-05 09:30 EST (America/New_York) (2026-03-05 14:30 UTC)",
			"- Approximate number of individuals affected: 9000", "- Types of protected health information involved: contact, address, health",
			"Media notice (164.406) required, more than 500 residents of a State:\n- US-CA: 2100 residents\n- US-NY: 1500 residents\n- US-FL: 650 residents\n- US-CO: 520 residents\n- US-WA: 510 residents\n",
			"Individual notice (164.404)",
		},
		"hipaa-media-notice": {
			"## What happened", "## What information was involved", "## What we are doing",
			"## What affected individuals can do", "## For more information", audOrg.SubjectContact,
			"approximately 2100 residents of California", "approximately 510 residents of Washington",
			"We discovered the incident on 2026-03-05 09:30 EST", audDecision.Advice, audDecision.Measures,
		},
		"us-state-ag-report": {
			"Tex. Bus. & Com. Code §521.053(i)", "## Description of the breach", "## Personal information involved",
			"- Texas residents affected: 400", "- Texas residents notified individually by email: 390",
			"Whether law enforcement is investigating:", "## Measures taken and planned",
			"## Copy of the notice sent to residents (no personal information)", "[name of the resident]",
		},
		"pipeda-report": {
			"PIPEDA s. 10.1(1); SOR/2018-64 s. 2", "## (a) Circumstances of the breach and, if known, its cause",
			"## (b) Day or period of the breach", "## (c) Personal information involved",
			"## (d) Number of individuals affected", "Affected individuals resident in Canada: 480",
			"## (e) Steps taken to reduce the risk of harm", "## (f) Steps taken or planned to notify affected individuals",
			"Of the affected individuals in Canada, 470 have a usable email address.", "## (g) Contact person",
		},
		"au-ndb-statement": {
			"(Privacy Act 1988 (Cth) s. 26WK)", "## (a) Identity and contact details of the entity\n" + audOrg.Name,
			"## (b) Description of the eligible data breach", "## (c) Kinds of information concerned\ncontact, address, health",
			"## (d) Steps we recommend individuals take in response\n" + audDecision.Advice, "of whom 320 in Australia",
		},
		"sg-pdpc-report": {
			"(PDPA s. 26D(1))", "## Facts of the data breach", "## Number of affected individuals",
			"Affected individuals in Singapore: 510", "## Personal data or classes of personal data affected",
			"## Potential harm to the affected individuals", "## Remedial action taken or to be taken", "## Contact",
		},
		"processor-controller-report": {
			"(GDPR Art. 33(2))", "From (processor): Example Shop Inc.", "We process personal data on your behalf",
			"GDPR Art. 28(3)(f)", "## The personal data and the people concerned", "## Measures taken or proposed",
		},
		"dora-initial-notification": {
			"(DORA Art. 19(4)(a); RTS 2025/301)", "Incident reference code: INC-20260305-1", "- Detected (awareness): 2026-03-05 14:30 UTC",
			"- This notification's clock started: 2026-03-05 16:30 UTC (classified_major_at)", "## Member States affected\nDE (1200 people)\n",
			"## Classification and impact known so far", "An intermediate report follows within 72 hours",
		},
		"dora-intermediate-report": {
			"(DORA Art. 19(4)(b); RTS 2025/301)", "- Initial notification submitted: 2026-03-05 19:30 UTC", "## Containment and recovery",
		},
		"dora-final-report": {
			"(DORA Art. 19(4)(c); RTS 2025/301)", "- Intermediate report submitted: 2026-03-08 12:30 UTC", "## Root cause and impact",
			"## Measures taken, recovery and lessons learned",
		},
		"jp-ppc-report": {
			"# Preliminary report to the Personal Information Protection Commission (APPI Art. 26(1); PPC Rules Art. 8)",
			"## (1) Overview", "## (2) Items of personal data leaked or possibly leaked\ncontact, address, health", "## (3) Number of persons concerned",
			"## (4) Cause", "## (5) Secondary damage or risk of it", "## (6) Response to the persons concerned", "## (7) Public announcement",
			"## (8) Measures to prevent recurrence", "## (9) Other matters for reference",
		},
		"kr-pipc-report": {
			"(PIPA Art. 34(3); Decree Art. 40)", "## Items of personal information leaked", "## When and how the leak happened",
			"## What data subjects can do to minimise the damage\n" + audDecision.Advice, "## Our countermeasures and remedial procedures",
			"## Department and contact for reporting damage",
		},
		"in-dpb-intimation": {
			"(DPDP Act s. 8(6); Rules r. 7(2)(a))", "## Description of the breach: its nature, extent, timing and location", "## Likely impact",
			"A detailed report follows within 72 hours",
		},
		"in-dpb-report": {
			"(DPDP Rules r. 7(2)(b))", "## Facts, circumstances and reasons that led to the breach", "## Intimations to the affected Data Principals",
		},
		"ch-fdpic-report": {
			"(revFADP Art. 24; DPO Art. 15)", "## (a) Nature of the breach", "## (b) Time and duration, as far as possible",
			"## (c) Categories and approximate number of personal data and data subjects concerned", "## (d) Consequences",
			"## (e) Measures taken or planned", "## (f) Contact",
		},
		"ch-ncsc-report": {
			"(Information Security Act Arts. 74a-74e)", "Operator of critical infrastructure: Example Shop Inc.",
			"## Type and execution of the cyber-attack", "## Effects", "## Measures taken and next steps planned",
		},
		"cn-pipl-report": {
			"(PIPL Art. 57)", "## Categories of personal information involved", "## Causes", "## Harm that may be caused",
			"## Remedial measures taken", "## Measures individuals can take to mitigate harm\n" + audDecision.Advice,
		},
		"cn-cac-report": {
			"(Measures for the Reporting of National Cybersecurity Incidents)", "## The incident: time, systems, type", "## Impact",
			"## Measures taken and their effect",
		},
		"ftc-hbnr-report": {
			"(16 CFR 318.5(c))", "Notice type: breach affecting 500 or more individuals", "## Information involved and people affected",
			"Media notice (318.5(b)), more than 500 residents of a State:\n- US-CA: 2100 residents",
		},
		"ftc-hbnr-media-notice": {
			"## What happened", "## What information was involved", "## What we are doing", "## What affected people can do",
			"## For more information", "approximately 2100 residents of California", audDecision.Advice,
		},
		"qc-cai-report": {
			"Commission d'accès à l'information du Québec (Private Sector Act s. 3.5", "## Personal information concerned",
			"## Circumstances and cause of the incident", "## Assessment of the risk of serious injury", "(s. 3.8)",
		},
		"br-anpd-report": {
			"## Natureza e categorias dos dados pessoais afetados", "## Número de titulares afetados",
			"- Titulares no Brasil / Data subjects in Brazil: 110", "- Crianças e adolescentes / Children and adolescents: 40",
			"- Idosos / Elderly people: 60", "## Medidas técnicas e de segurança", "## Riscos e possíveis impactos aos titulares",
			"## Medidas adotadas ou a adotar", "## Datas / Dates", "## Encarregado pelo tratamento de dados pessoais / Data protection officer (DPO)\n" + audOrg.DPOContact,
			"## Descrição do incidente e causa principal",
		},
	}
	for tmpl, id := range reportTemplates {
		t.Run(tmpl, func(t *testing.T) {
			o := audObligation(t, id)
			require.Equal(t, tmpl, o.Template)
			subject, body := audRenderReport(t, audInput(o), false)
			assert.Contains(t, subject, "Example Shop Inc.")
			assert.NotContains(t, subject, "DRILL")
			assert.NotContains(t, body, "DRILL")
			assert.NotContains(t, body, "(none given)")
			for _, s := range required[tmpl] {
				assert.Contains(t, body, s)
			}
			// Every report says what happened and how many people it concerns.
			assert.Contains(t, body, audDescription)
			if !publicTexts[tmpl] && tmpl != "us-state-ag-report" && tmpl != "nis2-early-warning" && tmpl != "au-ndb-statement" {
				assert.Contains(t, body, "Affected people (approximate): 9000\n")
				assert.Contains(t, body, "Personal-data records (approximate; one per category of data per person): 21400\n")
				assert.Contains(t, body, "- health: 3300\n")
				assert.Contains(t, body, audOrg.DPOContact)
				assert.Contains(t, body, "- crm-db: isolated (nftables): all traffic but the admin network dropped\n")
			}
			// The draft shows the deadline and is marked as a draft.
			assert.Contains(t, body, "Status: DRAFT for approval, prepared 2026-03-05 21:30 UTC")
			assert.Contains(t, body, "Deadline ("+o.Basis+"; "+o.Rule+"): ")
		})
	}
}

func TestReportsFinalHasNoDraftNotes(t *testing.T) {
	for tmpl, id := range reportTemplates {
		_, draft := audRenderReport(t, audInput(audObligation(t, id)), false)
		_, final := audRenderReport(t, audInput(audObligation(t, id)), true)
		assert.NotContains(t, final, "DRAFT", tmpl)
		if strings.Contains(draft, "DRAFT NOTE") {
			assert.NotContains(t, final, "DRAFT NOTE", tmpl)
		}
		if !publicTexts[tmpl] {
			assert.Contains(t, final, "Status: submitted 2026-03-05 22:30 UTC", tmpl)
		}
	}
}

func TestReportsReasonsForDelayOnlyWhenLate(t *testing.T) {
	const reasons = "The provider's logs arrived on day 4.\nThe forensic review needed them."
	for tmpl, id := range reportTemplates {
		t.Run(tmpl, func(t *testing.T) {
			in := audInput(audObligation(t, id))
			_, body := audRenderReport(t, in, true)
			assert.NotContains(t, body, "Reasons for the delay")

			in.LateReasons = reasons
			in.SubmittedAt = in.Obligation.DueAt.Add(5 * time.Hour)
			_, body = audRenderReport(t, in, true)
			if publicTexts[tmpl] {
				// Published texts carry no internal reasons; the workflow records them.
				assert.NotContains(t, body, "Reasons for the delay")
				assert.NotContains(t, body, "forensic review")
				return
			}
			assert.Contains(t, body, "Reasons for the delay")
			assert.Contains(t, body, "  The provider's logs arrived on day 4.\n  The forensic review needed them.\n")
		})
	}
}

func TestReportsDrill(t *testing.T) {
	for tmpl, id := range reportTemplates {
		in := audInput(audObligation(t, id))
		in.Drill = true
		subject, body := audRenderReport(t, in, false)
		assert.Contains(t, subject, "DRILL", tmpl)
		assert.Contains(t, body, "[DRILL: NOT A REAL NOTIFICATION.", tmpl)
	}
}

func TestReportsBeforeScopeSayCountsAreNotEstablished(t *testing.T) {
	for tmpl, id := range reportTemplates {
		in := audInput(audObligation(t, id))
		in.Scope = subjects.Summary{}
		_, body := audRenderReport(t, in, false)
		assert.NotContains(t, body, "Affected people (approximate): 0", tmpl)
		assert.NotContains(t, body, "approximately 0", tmpl)
		if !publicTexts[tmpl] {
			assert.Contains(t, strings.ToLower(body), "not yet established", tmpl)
		}
	}
}

func TestReportsSupplementarySubmission(t *testing.T) {
	for tmpl, id := range reportTemplates {
		if publicTexts[tmpl] && tmpl != "sec-8k-item105" {
			continue
		}
		in := audInput(audObligation(t, id))
		in.Sequence = 2
		in.Supplement = "The forensic review found that the attacker also read the newsletter table."
		_, body := audRenderReport(t, in, true)
		assert.Contains(t, body, "Our reference: INC-20260305-1 (supplementary submission no. 2", tmpl)
		assert.Contains(t, body, "\n## What this supplementary submission adds\n"+in.Supplement+"\n\nThe full report follows", tmpl)

		in.Sequence = 0
		_, body = audRenderReport(t, in, true)
		assert.NotContains(t, body, "supplementary submission no.", tmpl)
		assert.NotContains(t, body, in.Supplement, tmpl)
	}
	in := audInput(audObligation(t, "uk-gdpr-art33-ico"))
	in.Sequence = 1
	_, body := audRenderReport(t, in, true)
	assert.Contains(t, body, "Report type: follow-up report")
}

func TestSEC8KPublicTextHasNoTechnicalDetail(t *testing.T) {
	in := audInput(audObligation(t, "sec-8k-item105"))
	_, body := audRenderReport(t, in, true)
	item := body[strings.Index(body, "## Item 1.05"):]
	for _, s := range []string{"crm-db", "backup-bucket", "nftables", "admin network", audOrg.DPOContact} {
		assert.NotContains(t, item, s)
	}
	// The materiality determination starts the clock.
	assert.Equal(t, "materiality_determined_at", in.Obligation.Trigger)
	assert.Contains(t, body, "Materiality determination: 2026-03-06 20:30 UTC")
}

func TestHIPAAMediaNoticeFinalIsAPressRelease(t *testing.T) {
	in := audInput(audObligation(t, "hipaa-media"))
	_, body := audRenderReport(t, in, true)
	assert.True(t, strings.HasPrefix(body, "FOR IMMEDIATE RELEASE (2026-03-05 22:30 UTC)\n"), body)
	assert.NotContains(t, body, "Deadline")
	assert.NotContains(t, body, audOrg.DPOContact)
	// Counts per State only: no person's data is in a report view at all.
	assert.NotContains(t, body, "Léa")
}

func TestHHSReportUnder500IsForTheAnnualLog(t *testing.T) {
	in := audInput(audObligation(t, "hipaa-hhs"))
	in.Scope = subjects.Summary{Subjects: 120, Records: 200, Mailable: 120, ByJurisdiction: map[string]int{"US-CA": 120}, ByCategory: map[string]int{"health": 120}}
	_, body := audRenderReport(t, in, false)
	assert.Contains(t, body, "fewer than 500 individuals (164.408(c), annual log)")
	assert.Contains(t, body, "more than 500 residents of a State: no\n")
}

func TestStateAGReportsCountTheirOwnState(t *testing.T) {
	cases := map[string][]string{
		"us-ca-attorney-general": {"- California residents affected: 2100", "- Notices to residents sent: 2026-03-15 14:30 UTC", "Notice of Data Breach\n"},
		"us-ny-attorney-general": {"- New York residents affected: 1500", "For New York residents:"},
		"us-tx-attorney-general": {"- Texas residents affected: 400"},
		"us-fl-legal-affairs":    {"- Florida residents affected: 650"},
		"us-co-attorney-general": {"- Colorado residents affected: 520"},
		"us-wa-attorney-general": {"- Washington residents affected: 510"},
	}
	for id, want := range cases {
		o := audObligation(t, id)
		require.Equal(t, "us-state-ag-report", o.Template)
		subject, body := audRenderReport(t, audInput(o), true)
		assert.Contains(t, subject, "Data breach report ("+o.Basis+")", id)
		assert.Contains(t, body, "- Affected people in total, in all places: 9000", id)
		for _, s := range want {
			assert.Contains(t, body, s, id)
		}
		// A report to an authority holds counts, never a resident's personal information.
		assert.NotContains(t, body, "Léa Weber", id)
	}
}

func TestFloridaNoHarmDetermination(t *testing.T) {
	in := audInput(audObligation(t, "us-fl-legal-affairs"))
	in.Decision.Risk = "unlikely"
	in.Decision.Reasoning = "The copied table held only order numbers; no name, account or card data."
	subject, body := audRenderReport(t, in, true)
	assert.True(t, strings.HasPrefix(subject, "Written determination of no likely harm (Fla. Stat."), subject)
	assert.Contains(t, body, "## Determination\n")
	assert.Contains(t, body, "has not and will not likely result in identity theft or any\nother financial harm")
	assert.Contains(t, body, in.Decision.Reasoning)
	assert.NotContains(t, body, "Copy of the notice")
	assert.NotContains(t, body, "notified individually")
}

func TestAustralianAssessmentRecord(t *testing.T) {
	o := audObligation(t, "au-ndb-assessment")
	require.Equal(t, "au-ndb-statement", o.Template)
	in := audInput(o)
	subject, body := audRenderReport(t, in, false)
	assert.True(t, strings.HasPrefix(subject, "Assessment of a suspected eligible data breach"), subject)
	assert.Contains(t, body, "## Outcome of the assessment")
	assert.Contains(t, body, "reasonable grounds to believe that this is an eligible data breach")
	assert.NotContains(t, body, "## (d) Steps we recommend")

	in.Decision.Risk = "risk"
	_, body = audRenderReport(t, in, false)
	assert.Contains(t, body, "not an eligible data breach")
}

// The sample notice in an attorney-general report is the notice residents receive, with the
// name and categories as placeholders.
func TestStateAGSampleIsTheResidentNotice(t *testing.T) {
	placeholder := regexp.MustCompile(`\[the resident's own categories, from: [^\]]*\]`)
	cases := []struct{ ag, notice, state string }{
		{"us-ca-attorney-general", "us-ca-notice", "US-CA"},
		{"us-ny-attorney-general", "us-state-notice", "US-NY"},
		{"us-tx-attorney-general", "us-state-notice", "US-TX"},
		{"us-fl-legal-affairs", "us-state-notice", "US-FL"},
		{"us-co-attorney-general", "us-state-notice", "US-CO"},
		{"us-wa-attorney-general", "us-state-notice", "US-WA"},
	}
	for _, drill := range []bool{false, true} {
		for _, advice := range []string{audDecision.Advice, ""} {
			for _, c := range cases {
				in := audInput(audObligation(t, c.ag))
				in.Drill = drill
				in.Decision.Advice = advice
				_, report := audRenderReport(t, in, true)
				_, sample, ok := strings.Cut(report, "\n-----\n")
				require.True(t, ok, c.ag)
				sample, _, ok = strings.Cut(sample, "\n-----")
				require.True(t, ok, c.ag)
				sample = strings.ReplaceAll(sample, "[name of the resident]", "Léa Weber")
				sample = placeholder.ReplaceAllString(sample, "contact, health")

				v := audPerson(c.state)
				v.Drill = drill
				v.Advice = advice
				_, notice := audRenderNotice(t, c.notice, v)
				assert.Equal(t, strings.TrimRight(notice, "\n"), sample, "%s (drill %v, advice %q)", c.ag, drill, advice)
			}
		}
	}
}

// noticeTemplates are the per-person notice templates of this change, with the jurisdiction of
// a person each is sent to.
var noticeTemplates = map[string]string{
	"uk-subject-notice":       "GB",
	"us-ca-notice":            "US-CA",
	"us-state-notice":         "US-TX",
	"hipaa-individual-notice": "US-NY",
	"pipeda-notice":           "CA",
	"br-subject-notice":       "BR",
	// Issue 14.
	"dora-client-notice":   "DE",
	"jp-individual-notice": "JP",
	"kr-subject-notice":    "KR",
	"in-principal-notice":  "IN",
	"ch-subject-notice":    "CH",
	"cn-pipl-notice":       "CN",
	"ftc-hbnr-notice":      "US-CA",
	"qc-person-notice":     "CA-QC",
}

func TestNoticesCarryTheRequiredElements(t *testing.T) {
	required := map[string][]string{
		"uk-subject-notice": {
			"What happened\n", "Which of your data was involved\ncontact, health\n", "What this could mean for you\n",
			"What we are doing\n", "What you can do\n", "Who to contact\n",
			"Information Commissioner's Office (ICO)", "0303 123 1113",
		},
		"us-ca-notice": {
			"We discovered the breach on 2026-03-05 06:30 PST (America/Los_Angeles).",
			"Equifax", "Experian", "TransUnion", "IdentityTheft.gov", "fraud alert", "security freeze",
		},
		"us-state-notice": {
			"What happened\n", "We discovered the breach on 2026-03-05 08:30 CST (America/Chicago).",
			"What information was involved\ncontact, health\n", "What we are doing\n", "What you can do\n",
			"Equifax: 1-800-685-1111", "Experian: 1-888-397-3742", "TransUnion: 1-888-909-8872",
			"IdentityTheft.gov", "Federal Trade Commission", "fraud alert", "security freeze (credit freeze)",
			"For more information\nIf you have questions, please contact Example Shop Inc.: " + audOrg.SubjectContact,
		},
		"hipaa-individual-notice": {
			"What happened\n", "We discovered the breach on 2026-03-05 09:30 EST (America/New_York).",
			"What information was involved\ncontact, health\n", "What you can do to protect yourself\n",
			"What we are doing\nWe are investigating the breach, working to reduce any harm to you, and taking steps to protect\nagainst further breaches.",
			"How to contact us\nIf you have questions, contact us: " + audOrg.SubjectContact, "toll-free",
		},
		"pipeda-notice": {
			"What happened\n", "When it happened\nWe became aware of the breach on 2026-03-05 14:30 UTC. It happened on or before that time;",
			"Which of your personal information was involved\ncontact, health\n",
			"What we have done to reduce the risk of harm\n", "What you can do to reduce the risk of harm\n",
			"Who to contact for more information\n" + audOrg.SubjectContact,
			"Office of the Privacy Commissioner of Canada", "1-800-282-1376",
		},
		"dora-client-notice":   {"Dear Léa Weber,", "affect your financial interests", "What we are doing\n", "Who to contact\n"},
		"jp-individual-notice": {"has leaked, or may\nhave leaked", "Overview of what happened\n", "Which of your personal data was involved\ncontact, health\n", "Possible harm to you\n"},
		"kr-subject-notice":    {"Which of your personal information was leaked\ncontact, health\n", "When and how it happened\n", "What you can do to minimise the damage\n", "Where to report damage and ask questions\n"},
		"in-principal-notice":  {"What happened: nature, extent, timing and location\n", "Consequences likely for you\n", "What you can do to protect yourself\n", "Who can answer your questions\n"},
		"ch-subject-notice":    {"in simple words", "What this could mean for you\n"},
		"cn-pipl-notice":       {"leaked, tampered with or lost", "Harm that may be caused\n", "What you can do to reduce the harm\n"},
		"ftc-hbnr-notice":      {"We discovered the breach on 2026-03-05 06:30 PST (America/Los_Angeles).", "What you can do to protect yourself\n", "IdentityTheft.gov", "How to contact us\n"},
		"qc-person-notice":     {"presents a risk of serious injury", "Personal information concerned\ncontact, health\n", "What you can do to reduce the risk of injury\n"},
		"br-subject-notice": {
			"Prezado(a) Léa Weber,", "O que aconteceu / What happened\n", "Tomamos conhecimento do incidente em 2026-03-05 11:30 -03",
			"Quais dados seus foram afetados / Which of your data were involved\ncontact, health\n",
			"Riscos e possíveis consequências para você / Risks and possible consequences for you\n",
			"O que estamos fazendo / What we are doing\n", "O que você pode fazer / What you can do\n",
			"Como falar conosco / How to contact us\n" + audOrg.SubjectContact, "Autoridade Nacional de Proteção de Dados (ANPD)",
		},
	}
	for tmpl, j := range noticeTemplates {
		t.Run(tmpl, func(t *testing.T) {
			subject, body := audRenderNotice(t, tmpl, audPerson(j))
			assert.Contains(t, subject, audOrg.Name)
			assert.NotContains(t, subject, "DRILL")
			assert.NotContains(t, body, "DRILL")
			assert.NotContains(t, body, "(none given)")
			assert.Contains(t, body, "Léa Weber")
			assert.Contains(t, body, audDescription)
			assert.Contains(t, body, audDecision.Measures)
			assert.Contains(t, body, audDecision.Advice)
			assert.Contains(t, body, audDecision.Consequences)
			assert.Contains(t, body, audOrg.SubjectContact)
			assert.Contains(t, body, "INC-20260305-1")
			for _, s := range required[tmpl] {
				assert.Contains(t, body, s)
			}
		})
	}
}

func TestCaliforniaNoticeTitleAndHeadingsInOrder(t *testing.T) {
	_, body := audRenderNotice(t, "us-ca-notice", audPerson("US-CA"))
	assert.True(t, strings.HasPrefix(body, "Notice of Data Breach\n"), body)
	lines := strings.Split(body, "\n")
	at := func(heading string) int {
		for i, l := range lines {
			if l == heading {
				return i
			}
		}
		t.Fatalf("no heading line %q in:\n%s", heading, body)
		return -1
	}
	headings := []string{"What Happened", "What Information Was Involved", "What We Are Doing", "What You Can Do", "For More Information"}
	prev := 0
	for _, h := range headings {
		i := at(h)
		assert.Greater(t, i, prev, "%q out of order", h)
		prev = i
	}
	// The discovery date is under What Happened; the information involved under its heading.
	assert.Contains(t, body, "What Happened\n"+audDescription+"\n\nWe discovered the breach on ")
	assert.Contains(t, body, "What Information Was Involved\ncontact, health\n")
	assert.Contains(t, body, "For More Information\nIf you have questions, please contact Example Shop Inc.: "+audOrg.SubjectContact)
}

func TestStateNoticeAddsNewYorkAgencies(t *testing.T) {
	_, ny := audRenderNotice(t, "us-state-notice", audPerson("US-NY"))
	assert.Contains(t, ny, "New York Attorney General (ag.ny.gov, 1-800-771-7755)")
	assert.Contains(t, ny, "We discovered the breach on 2026-03-05 09:30 EST (America/New_York).")
	_, tx := audRenderNotice(t, "us-state-notice", audPerson("US-TX"))
	assert.NotContains(t, tx, "New York")
	_, other := audRenderNotice(t, "us-state-notice", audPerson("US-AK"))
	assert.Contains(t, other, "We discovered the breach on 2026-03-05 14:30 UTC.")
	for state, local := range map[string]string{"US-MA": "09:30 EST", "US-NJ": "09:30 EST", "US-IL": "08:30 CST", "US-OR": "06:30 PST"} {
		_, body := audRenderNotice(t, "us-state-notice", audPerson(state))
		assert.Contains(t, body, "We discovered the breach on 2026-03-05 "+local, state)
	}
}

func TestNoticesDrillAndAnonymous(t *testing.T) {
	for tmpl, j := range noticeTemplates {
		v := audPerson(j)
		v.Drill = true
		v.Name = ""
		v.Categories = nil
		v.Consequences, v.Advice = "", ""
		subject, body := audRenderNotice(t, tmpl, v)
		assert.True(t, strings.HasPrefix(subject, "[DRILL] "), "%s: %s", tmpl, subject)
		assert.Contains(t, body, "DRILL: ", tmpl)
		assert.NotContains(t, body, "Léa", tmpl)
		assert.NotContains(t, body, "Dear ,", tmpl)
		assert.NotContains(t, body, "Prezado(a) ,", tmpl)
	}
}

// A notice can hold no other person's data: the only personal fields of its view are the
// recipient's own name, categories and jurisdiction, and the text differs between two people
// only by those.
func TestNoticesHoldOnlyTheRecipientsOwnData(t *testing.T) {
	// NoticeContent is the same for every recipient: organisation-wide text, no list of people.
	ct := reflect.TypeOf(incident.NoticeContent{})
	for i := 0; i < ct.NumField(); i++ {
		assert.NotContains(t, []string{"Name", "Email", "Subjects", "Scope", "Rows", "Dataset", "Categories"}, ct.Field(i).Name)
	}
	for tmpl, j := range noticeTemplates {
		a := audPerson(j)
		a.Name, a.Categories = "Léa Weber", []string{"date-of-birth", "order-history"}
		b := audPerson(j)
		b.Name, b.Categories = "Jonas Jones", []string{"payment-card-last4", "insurance-number"}
		_, outA := audRenderNotice(t, tmpl, a)
		_, outB := audRenderNotice(t, tmpl, b)
		assert.NotContains(t, outA, "Jonas", tmpl)
		assert.NotContains(t, outA, "payment-card-last4", tmpl)
		swapped := strings.NewReplacer("Léa Weber", "Jonas Jones", "date-of-birth", "payment-card-last4", "order-history", "insurance-number").Replace(outA)
		assert.Equal(t, outB, swapped, "%s: the notices of two people differ by more than their own data", tmpl)
	}
}

// The final APPI report renders from the same template with its own title; the statutory outer
// limit shows under the deadline of every report that has one.
func TestJapanFinalReportAndStatutoryLimit(t *testing.T) {
	o := audObligation(t, "jp-ppc-final")
	require.False(t, o.StatutoryLimit.IsZero(), "jp-ppc-final has a statutory limit")
	_, body := audRenderReport(t, audInput(o), false)
	assert.Contains(t, body, "# Final report to the Personal Information Protection Commission")
	assert.Contains(t, body, "Statutory outer limit ("+o.StatutoryRule+"): "+o.StatutoryLimit.UTC().Format("2006-01-02 15:04 UTC"))
	_, body = audRenderReport(t, audInput(audObligation(t, "jp-ppc-preliminary")), false)
	assert.NotContains(t, body, "Statutory outer limit")
}
