package templates_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/templates"
)

// euLanguages are the languages every EU report and notice is translated into (besides English).
var euLanguages = []string{"de", "es", "fr", "it", "nl", "pl", "pt", "sv"}

// requiredTranslations are the templates that must exist in the given languages: what goes to
// EU authorities and to people in the EU.
var requiredTranslations = map[string][]string{
	"gdpr-art33-report": euLanguages,
	"gdpr-art34-notice": euLanguages,
	// NIS2, DORA and the processor's notice to its controllers.
	"nis2-early-warning":          euLanguages,
	"nis2-notification":           euLanguages,
	"nis2-final-report":           euLanguages,
	"dora-initial-notification":   euLanguages,
	"dora-intermediate-report":    euLanguages,
	"dora-final-report":           euLanguages,
	"dora-client-notice":          euLanguages,
	"processor-controller-report": euLanguages,
	// Switzerland's in its official languages (Romansh aside), Québec's in French.
	"ch-fdpic-report":   {"de", "fr", "it"},
	"ch-subject-notice": {"de", "fr", "it"},
	"ch-ncsc-report":    {"de", "fr", "it"},
	"qc-cai-report":     {"fr"},
	"qc-person-notice":  {"fr"},
}

// Brazil's notice and report are written in Portuguese and English in one file: Portuguese
// readers get it as it is, and it is not said to fall back.
func TestBilingualTemplatesServeTheirLanguages(t *testing.T) {
	v := langNoticeViews()["named"]
	v.Jurisdiction = "BR"
	out, used, err := templates.RenderIn("br-subject-notice", "pt", v)
	require.NoError(t, err)
	assert.Equal(t, "pt", used)
	english, err := templates.Render("br-subject-notice", v)
	require.NoError(t, err)
	assert.Equal(t, english, out)
	assert.Contains(t, out, "O que aconteceu")
	assert.True(t, templates.HasIn("br-anpd-report", "pt"))
	assert.False(t, templates.HasIn("br-anpd-report", "es"))
	assert.Empty(t, templates.Translations("br-subject-notice"), "no file of its own")
}

func TestRequiredTranslationsExist(t *testing.T) {
	for name, langs := range requiredTranslations {
		for _, l := range langs {
			assert.True(t, templates.HasIn(name, l), "%s has no %s translation", name, l)
		}
	}
	assert.Equal(t, "en", templates.Languages()[0])
}

// Free text of the incident is a token in the fixtures below, so that any English in a
// translation's output comes from the translation.
const (
	tokTitle    = "«TITLE»"
	tokDesc     = "«DESCRIPTION»"
	tokReason   = "«REASONING»"
	tokConseq   = "«CONSEQUENCES»"
	tokMeasures = "«MEASURES»"
	tokAdvice   = "«ADVICE»"
	tokDetail   = "«DETAIL»"
	tokDPO      = "«DPO-CONTACT»"
	tokContact  = "«SUBJECT-CONTACT»"
	tokLate     = "«LATE-REASONS»"
	tokSupp     = "«SUPPLEMENT»"
	tokWhat     = "«WHAT-HAPPENED»"
	tokRoute    = "«ROUTE-NAME»"
)

// langObligation is an obligation rendered with template name: the one the rules produce for
// the test facts of audience_test.go.
func langObligation(t *testing.T, name string) rules.Obligation {
	t.Helper()
	if name == "generic-report" {
		// No regime names it: it stands in for a template that does not exist.
		o := langObligation(t, "gdpr-art33-report")
		o.Template = name
		return o
	}
	for _, o := range audObligations(t) {
		if o.Template == name {
			return o
		}
	}
	t.Fatalf("no obligation of the test facts uses template %s", name)
	return rules.Obligation{}
}

func langReportInput(o rules.Obligation) incident.ReportInput {
	in := audInput(o)
	in.Title, in.Description = tokTitle, tokDesc
	in.Organisation.Name = "Example Shop GmbH"
	in.Organisation.DPOContact, in.Organisation.SubjectContact = tokDPO, tokContact
	in.Organisation.Establishments = []string{"DE"}
	in.Organisation.Sectors = []string{"nis2-essential"}
	in.Decision.Reasoning, in.Decision.Consequences, in.Decision.Measures, in.Decision.Advice = tokReason, tokConseq, tokMeasures, tokAdvice
	in.Containment = []incident.SystemStatus{
		{System: "crm-db", State: incident.ContainContained, Provider: "nftables", Detail: tokDetail},
		{System: "backup-bucket", State: incident.ContainManual},
		{System: "api", State: incident.ContainReleased},
		{System: "mail", State: incident.ContainFailed},
		{System: "web", State: incident.ContainIsolating},
	}
	in.RecipientName = tokRoute
	in.Scope.ByCategory = map[string]int{}
	for _, c := range rules.CategoryNames() {
		in.Scope.ByCategory[c] = len(c)
	}
	return in
}

// langReportViews are the variants every report translation renders: a draft with everything
// known, a late final supplement of a drill that tells no one, and a final report with nothing
// known yet to an authority the rules resolved.
func langReportViews(o rules.Obligation) map[string]templates.ReportView {
	full := langReportInput(o)
	late := langReportInput(o)
	late.Drill, late.Sequence, late.Supplement, late.LateReasons = true, 1, tokSupp, tokLate
	late.SubmittedAt = audAware.Add(90 * time.Hour)
	late.NotifySubjects, late.Decision.NotifySubjects, late.Decision.EncryptedUnintelligible = false, false, true
	late.SubjectsReason = "encrypted"
	empty := langReportInput(o)
	empty.Scope = incident.ScopeSummary{}
	empty.Decision.Reasoning, empty.Decision.Consequences, empty.Decision.Measures, empty.Decision.Advice = "", " ", "", ""
	empty.Containment = nil
	empty.NotifySubjects, empty.Decision.NotifySubjects = false, false
	empty.SubjectsReason = "no high risk"
	empty.Obligation.Authority = &rules.AuthorityRef{Code: "DE-BE", Name: "Berliner Beauftragte für Datenschutz (BlnBDI)"}
	empty.RecipientAddress = ""
	empty.SubmittedAt = audAware.Add(30 * time.Hour)
	return map[string]templates.ReportView{
		"draft":         {ReportInput: full, PreparedAt: audAware.Add(7 * time.Hour), Zone: "Europe/Berlin"},
		"late-drill":    {ReportInput: late, Final: true, Zone: "Europe/Paris"},
		"nothing-known": {ReportInput: empty, Final: true, Zone: "UTC"},
	}
}

func langNoticeViews() map[string]templates.NoticeView {
	content := incident.NoticeContent{
		OrgName: "Example Shop GmbH", From: "privacy@example-shop.test", Title: tokTitle, WhatHappened: tokWhat,
		Consequences: tokConseq, Measures: tokMeasures, Advice: tokAdvice, Contact: tokContact, AwareAt: audAware,
	}
	bare := content
	bare.Consequences, bare.Measures, bare.Advice = "", " ", ""
	return map[string]templates.NoticeView{
		"named": {NoticeContent: content, IncidentID: "INC-20260305-1", Name: "Léa Weber", Categories: rules.CategoryNames(),
			Jurisdiction: "DE", Zone: "Europe/Berlin"},
		"bare-drill": {NoticeContent: bare, IncidentID: "INC-20260305-1", Drill: true, Jurisdiction: "PT", Zone: "Europe/Lisbon"},
	}
}

// englishWords are words no translation prints: a translation that does has English in it
// (an untranslated block, a placeholder, a date). Each language keeps the words that are words
// of its own (German "will", Dutch "have").
var englishWords = []string{"the", "and", "with", "our", "your", "which", "been", "this", "that", "will", "from", "have",
	"none given", "not recorded", "draft", "submitted", "deadline", "people", "records"}

var ownWords = map[string][]string{"de": {"will"}, "nl": {"have"}}

func englishIn(lang, text string) []string {
	var found []string
	for _, w := range englishWords {
		if contains(ownWords[lang], w) {
			continue
		}
		re := regexp.MustCompile(`(?i)(^|[^\p{L}])` + regexp.QuoteMeta(w) + `($|[^\p{L}])`)
		if re.MatchString(text) {
			found = append(found, w)
		}
	}
	return found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// translated lists every template with translations, and its languages.
func translated() map[string][]string {
	out := map[string][]string{}
	for _, l := range templates.Languages()[1:] {
		for _, name := range templateNames() {
			if contains(templates.Translations(name), l) {
				out[name] = append(out[name], l)
			}
		}
	}
	return out
}

func templateNames() []string {
	seen := map[string]bool{}
	for _, l := range templates.Languages()[1:] {
		for _, n := range ownNames(l) {
			seen[n] = true
		}
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// ownNames lists the templates a language has files of.
func ownNames(lang string) []string {
	var out []string
	for _, n := range templates.Names() {
		if contains(templates.Translations(n), lang) {
			out = append(out, n)
		}
	}
	return out
}

// Every translation renders every variant of a full incident without an error, a missing value,
// an English fallback or English words, and with its dates in its own language.
func TestEveryTranslationRendersAFullIncident(t *testing.T) {
	names := translated()
	require.NotEmpty(t, names)
	for name, langs := range names {
		if name == "audience-parts" {
			continue
		}
		for _, lang := range langs {
			t.Run(name+"/"+lang, func(t *testing.T) {
				var outs map[string]string
				if isNotice(name) {
					outs = renderNotices(t, name, lang)
				} else {
					outs = renderReports(t, name, lang, langObligation(t, name))
				}
				for variant, out := range outs {
					assert.True(t, strings.HasPrefix(out, "Subject: "), "%s: no Subject line:\n%s", variant, out)
					subject, _ := templates.SplitSubject(out)
					assert.NotEmpty(t, subject, variant)
					assert.NotContains(t, out, "<no value>", variant)
					assert.NotContains(t, out, "%!", variant)
					if found := englishIn(lang, out); len(found) > 0 {
						t.Errorf("%s (%s): English words %v in:\n%s", name, variant, found, out)
					}
				}
			})
		}
	}
}

func renderReports(t *testing.T, name, lang string, o rules.Obligation) map[string]string {
	t.Helper()
	outs := map[string]string{}
	for variant, v := range langReportViews(o) {
		out, used, err := templates.RenderIn(name, lang, v)
		require.NoError(t, err, variant)
		require.Equal(t, lang, used, "%s fell back to English", variant)
		for _, tok := range []string{tokTitle, "INC-20260305-1", "Example Shop GmbH"} {
			assert.Contains(t, out, tok, variant)
		}
		if variant == "draft" {
			// The reader's dates, in the reader's language, with UTC beside them.
			assert.Contains(t, out, "UTC", variant)
			for _, tok := range []string{tokDesc, tokReason, tokDPO, "crm-db"} {
				assert.Contains(t, out, tok, variant)
			}
		}
		outs[variant] = out
	}
	return outs
}

func renderNotices(t *testing.T, name, lang string) map[string]string {
	t.Helper()
	outs := map[string]string{}
	for variant, v := range langNoticeViews() {
		out, used, err := templates.RenderIn(name, lang, v)
		require.NoError(t, err, variant)
		require.Equal(t, lang, used, "%s fell back to English", variant)
		for _, tok := range []string{tokWhat, tokContact, "INC-20260305-1", "Example Shop GmbH"} {
			assert.Contains(t, out, tok, variant)
		}
		if variant == "named" {
			assert.Contains(t, out, "Léa Weber", variant)
			assert.Contains(t, out, templates.Category(lang, "health"), variant)
			for _, tok := range []string{tokConseq, tokMeasures, tokAdvice} {
				assert.Contains(t, out, tok, variant)
			}
		}
		outs[variant] = out
	}
	return outs
}

// A translation renders what its English template renders: every field the English template
// reads (through the blocks it calls) is read by the translation too, but for those the
// translations replace with their own words.
func TestTranslationsReadTheEnglishFields(t *testing.T) {
	replaced := map[string]string{
		"Obligation.Rule":          "the rule's English wording; translations state the law's period in their language",
		"AwareZone":                "translations write every date in the reader's zone (Zone), with UTC beside it",
		"SubjectsReason":           "an English sentence; translations say it from the decision (Decision.EncryptedUnintelligible)",
		"Obligation.Basis":         "the English citation; translations cite the law in their language",
		"Obligation.StatutoryRule": "the English account of the statutory limit; translations give the limit itself",
	}
	for name, langs := range translated() {
		if name == "audience-parts" {
			continue
		}
		english := templates.Fields(name, "en")
		require.NotEmpty(t, english, name)
		for _, lang := range langs {
			got := templates.Fields(name, lang)
			for f := range english {
				if _, ok := replaced[f]; ok {
					continue
				}
				assert.True(t, got[f], "%s (%s) does not read %s, which the English template reads", name, lang, f)
			}
		}
	}
}

// A template with no translation in a language renders in English, and says so.
func TestMissingTranslationFallsBackToEnglish(t *testing.T) {
	require.False(t, templates.HasIn("us-state-notice", "de"))
	v := langNoticeViews()["named"]
	v.Jurisdiction = "US-CA"
	out, used, err := templates.RenderIn("us-state-notice", "de", v)
	require.NoError(t, err)
	assert.Equal(t, "en", used)
	english, err := templates.Render("us-state-notice", v)
	require.NoError(t, err)
	assert.Equal(t, english, out)

	_, _, err = templates.RenderIn("gdpr-art99-report", "de", v)
	require.Error(t, err)

	out, used, err = templates.RenderIn("gdpr-art34-notice", "xx", v)
	require.NoError(t, err)
	assert.Equal(t, "en", used)
	assert.True(t, strings.HasPrefix(out, "Subject: Important"), out)
}

// The English templates print what they printed before translations existed.
func TestEnglishUnchangedByTranslations(t *testing.T) {
	v := langNoticeViews()["named"]
	out, err := templates.Render("gdpr-art34-notice", v)
	require.NoError(t, err)
	assert.Contains(t, out, "Which of your data was involved\n"+strings.Join(rules.CategoryNames(), ", ")+"\n")
	assert.NotContains(t, out, "UTC")
}

func TestCategoriesTranslated(t *testing.T) {
	for _, lang := range euLanguages {
		seen := map[string]string{}
		for _, c := range rules.CategoryNames() {
			w := templates.Category(lang, c)
			assert.NotEqual(t, c, w, "%s: category %s not translated", lang, c)
			if other, dup := seen[w]; dup {
				t.Errorf("%s: categories %s and %s both read %q", lang, c, other, w)
			}
			seen[w] = c
		}
		assert.Equal(t, "[%data%]", templates.Category(lang, "[%data%]"), "a tag stays as it is")
		for _, r := range []string{"unlikely", "high"} {
			assert.NotEqual(t, r, templates.Word(lang, "risk."+r, r), "%s: risk %s", lang, r)
		}
	}
}

// Every template the rules name renders in every language there are templates in, with a full
// incident: in that language where it has a translation (or is written in it), else in English;
// never with a missing value.
func TestEveryTemplateInEveryLanguage(t *testing.T) {
	names := append(regimeTemplates(t), "generic-report")
	for _, name := range names {
		var views []any
		if isNotice(name) {
			for _, v := range langNoticeViews() {
				views = append(views, v)
			}
		} else {
			for _, v := range langReportViews(langObligation(t, name)) {
				views = append(views, v)
			}
		}
		for _, lang := range templates.Languages() {
			for _, v := range views {
				out, used, err := templates.RenderIn(name, lang, v)
				if !assert.NoError(t, err, "%s in %s", name, lang) {
					continue
				}
				want := lang
				if !templates.HasIn(name, lang) {
					want = "en"
				}
				assert.Equal(t, want, used, "%s in %s", name, lang)
				assert.NotContains(t, out, "<no value>", "%s in %s", name, lang)
				assert.True(t, strings.HasPrefix(out, "Subject: "), "%s in %s", name, lang)
			}
		}
	}
}
