package activities

import (
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/locale"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/templates"
)

// languageRows are people of a shop writing to customers across Europe, with the language each
// notice must be in: from the language column, the configuration's choice for Belgium, the
// official language of the country, or English where the template has no translation (Turkish,
// Japanese) or the law's own notice is English (California).
var languageRows = []struct {
	id, email, country, state, lang string
	want                            string
	fallback                        bool
}{
	{"L1", "dora@example.net", "DE", "", "", "de", false},
	{"L2", "ida@example.net", "DE", "", "it-IT", "it", false},
	{"L3", "fay@example.net", "FR", "", "", "fr", false},
	{"L4", "eva@example.net", "ES", "", "", "es", false},
	{"L5", "ben@example.net", "BE", "", "", "fr", false},
	{"L6", "tan@example.net", "DE", "", "tr", "en", true},
	{"L7", "cal@example.net", "US", "CA", "", "en", false},
	{"L8", "jo@example.net", "AT", "", "ja", "en", true},
	{"L9", "nils@example.net", "SE", "", "", "sv", false},
	{"L10", "pia@example.net", "PL", "", "", "pl", false},
}

func languageDataset(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,email,name,country,state,data_categories,language\n")
	for _, r := range languageRows {
		b.WriteString(strings.Join([]string{r.id, r.email, "Person " + r.id, r.country, r.state, "contact;address", r.lang}, ",") + "\n")
	}
	path := filepath.Join(t.TempDir(), "subjects.csv")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return path
}

func localizedNotice() incident.NoticeContent {
	n := notice()
	n.AwareAt = time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC)
	n.Languages = &incident.Languages{Countries: map[string]string{"BE": "fr"}}
	return n
}

// subjectWords tell a notice's language by its subject line.
var subjectWords = map[string]string{
	"de": "Wichtig: Sicherheitsvorfall", "it": "Importante: un incidente di sicurezza", "fr": "Important : un incident de sécurité",
	"es": "Importante: un incidente de seguridad", "sv": "Viktigt: en säkerhetsincident", "pl": "Ważne: incydent bezpieczeństwa",
	"en": "Important: a security incident",
}

func TestSendNoticesInEachPersonsLanguage(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, _ := newTestActivities(t)
	env.RegisterActivity(a)
	scope := assess(t, env, a, languageDataset(t))
	v, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: scope.Dataset, MaxRows: 100, Notice: localizedNotice()})
	require.NoError(t, err)
	var res incident.NoticeChunkResult
	require.NoError(t, v.Get(&res))
	require.Equal(t, len(languageRows), res.Counts.Sent)
	assert.Equal(t, map[string]int{"de": 1, "it": 1, "fr": 2, "es": 1, "en": 3, "sv": 1, "pl": 1}, res.Counts.Languages)
	assert.Equal(t, map[string]int{"gdpr-art34-notice:tr": 1, "gdpr-art34-notice:ja": 1}, res.Counts.Fallbacks)

	msgs := outboxMessages(t, filepath.Join(a.Dir, "outbox", "INC-20261128-0001", "notices"))
	require.Len(t, msgs, len(languageRows))
	for _, r := range languageRows {
		m := msgs[r.email]
		require.NotNil(t, m, r.email)
		subject := decodeHeader(t, m.Header.Get("Subject"))
		assert.Equal(t, r.want, m.Header.Get("Content-Language"), r.email)
		if r.state == "CA" {
			assert.Contains(t, subject, "Notice of Data Breach", r.email)
			continue
		}
		assert.Contains(t, subject, subjectWords[r.want], r.email)
	}
	body := bodyOf(t, msgs["dora@example.net"])
	assert.Contains(t, body, "Kontaktdaten (E-Mail-Adresse, Telefonnummer), Postanschrift")
	assert.Contains(t, body, "5. März 2026, 15:30 Uhr (UTC+1; 14:30 Uhr UTC)", "the reader's time, with UTC")
}

// An incident declared before languages were chosen sends what it sent before: English, with no
// language header, and counts no languages.
func TestSendNoticesWithoutLanguagesStayEnglish(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a, _ := newTestActivities(t)
	env.RegisterActivity(a)
	scope := assess(t, env, a, languageDataset(t))
	n := localizedNotice()
	n.Languages = nil
	v, err := env.ExecuteActivity(a.SendNotices, incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Dataset: scope.Dataset, MaxRows: 100, Notice: n})
	require.NoError(t, err)
	var res incident.NoticeChunkResult
	require.NoError(t, v.Get(&res))
	assert.Empty(t, res.Counts.Languages)
	assert.Empty(t, res.Counts.Fallbacks)
	for addr, m := range outboxMessages(t, filepath.Join(a.Dir, "outbox", "INC-20261128-0001", "notices")) {
		assert.Empty(t, m.Header.Get("Content-Language"), addr)
		if addr != "cal@example.net" {
			assert.Contains(t, decodeHeader(t, m.Header.Get("Subject")), subjectWords["en"], addr)
		}
	}
}

func TestSendGridNoticesGroupedByTemplateAndLanguage(t *testing.T) {
	f := newSGFixture(t)
	ref := f.scope(languageDataset(t))
	counts, errs := f.run(ref, 3000, localizedNotice(), 1)
	require.Empty(t, errs)
	require.Equal(t, len(languageRows), counts.Sent)
	assert.Equal(t, map[string]int{"gdpr-art34-notice:tr": 1, "gdpr-art34-notice:ja": 1}, counts.Fallbacks)

	want := map[string]string{}
	for _, r := range languageRows {
		want[r.email] = r.want
	}
	seen := map[string]bool{}
	for _, req := range f.srv.Requests() {
		var lang string
		for _, c := range req.Categories {
			if l, ok := strings.CutPrefix(c, "lang:"); ok {
				lang = l
			}
		}
		require.NotEmpty(t, lang, "batch %s has no language category: %v", req.BatchKey, req.Categories)
		// One template and one language per batch, named in its key.
		assert.Contains(t, req.BatchKey, "."+lang+".", req.BatchKey)
		for _, addr := range req.Addresses {
			assert.Equal(t, want[addr], lang, "%s in batch %s", addr, req.BatchKey)
			seen[addr] = true
			if !strings.Contains(req.BatchKey, "us-ca-notice") {
				assert.Contains(t, req.Subject, subjectWords[lang], req.BatchKey)
			}
		}
	}
	assert.Len(t, seen, len(languageRows))
	checkDeliveries(t, f.srv, map[string]bool{"dora@example.net": true, "ida@example.net": true, "fay@example.net": true, "eva@example.net": true,
		"ben@example.net": true, "tan@example.net": true, "cal@example.net": true, "jo@example.net": true, "nils@example.net": true, "pia@example.net": true})

	// A second run sends nobody anything: the batch keys are the same.
	again, errs := f.run(ref, 3000, localizedNotice(), 1)
	require.Empty(t, errs)
	assert.Equal(t, 0, again.Sent)
	assert.Equal(t, len(languageRows), again.AlreadySent)
}

// A batched notice's text, with each person's values substituted, is the notice rendered for
// that person in their language: the categories too.
func TestSendGridLanguageGroupsSubstituteTranslatedCategories(t *testing.T) {
	n := localizedNotice()
	g := newNoticeGroups(incident.NoticeChunkInput{IncidentID: "INC-20261128-0001", Notice: n})
	for _, row := range []subjects.Row{
		{Name: "Dora", Categories: []string{"contact", "address"}, Jurisdiction: "DE"},
		{Name: "Ida", Categories: []string{"health"}, Jurisdiction: "DE", Language: "it"},
		{Name: "", Categories: nil, Jurisdiction: "PL"},
		{Name: "Tan", Categories: []string{"contact"}, Jurisdiction: "DE", Language: "tr"},
	} {
		route, ok := n.Route(row.Jurisdiction)
		require.True(t, ok)
		grp, err := g.group(route, row)
		require.NoError(t, err)
		got := grp.subject + "\n" + grp.text
		var pairs []string
		for k, v := range grp.substitutions(row) {
			pairs = append(pairs, k, v)
		}
		got = strings.NewReplacer(pairs...).Replace(got)
		lang, _ := noticeLanguage(n, row)
		out, used, err := templates.RenderIn(noticeTemplate(route), lang, templates.NoticeView{NoticeContent: n, IncidentID: "INC-20261128-0001",
			Name: row.Name, Categories: row.Categories, Jurisdiction: row.Jurisdiction, Zone: locale.Zone(row.Jurisdiction)})
		require.NoError(t, err)
		assert.Equal(t, grp.lang, used)
		subject, body := templates.SplitSubject(out)
		require.Equal(t, subject+"\n"+body, got, "%s (%s)", row.Name, used)
	}
}

func TestReportLanguage(t *testing.T) {
	berlin := rules.Obligation{ID: "gdpr-art33-authority-de-be", Basis: "GDPR Art. 33(1)", Template: "gdpr-art33-report",
		Authority: &rules.AuthorityRef{Code: "DE-BE", Name: "Berliner Beauftragte für Datenschutz (BlnBDI)"}}
	belgium := rules.Obligation{ID: "gdpr-art33-authority-be", Template: "gdpr-art33-report", Authority: &rules.AuthorityRef{Code: "BE"}}
	greece := rules.Obligation{ID: "gdpr-art33-authority-gr", Template: "gdpr-art33-report", Authority: &rules.AuthorityRef{Code: "GR"}}
	japan := rules.Obligation{ID: "jp-ppc-preliminary", Template: "jp-ppc-report", Subjects: []string{"JP"}}
	nis2 := rules.Obligation{ID: "nis2-early-warning", Template: "nis2-early-warning"}
	for _, tt := range []struct {
		name   string
		o      rules.Obligation
		langs  *incident.Languages
		scope  map[string]int
		pinned string
		want   string
	}{
		{"the Berlin authority takes German", berlin, &incident.Languages{Reports: []string{"en"}}, nil, "", "de"},
		{"before languages: English", berlin, nil, nil, "", "en"},
		{"drafted in German, submitted in German", berlin, nil, nil, "de", "de"},
		{"Belgium: the directory's first", belgium, &incident.Languages{}, nil, "", "fr"},
		{"Belgium: the organisation's choice", belgium, &incident.Languages{Reports: []string{"en", "nl"}}, nil, "", "nl"},
		{"Greece: Greek for a Greek case", greece, &incident.Languages{Reports: []string{"en"}}, map[string]int{"GR": 3}, "", "el"},
		{"Greece: English for a cross-border case", greece, &incident.Languages{Reports: []string{"en"}}, map[string]int{"GR": 3, "CY": 1}, "", "en"},
		{"the configuration's languages for an authority", berlin, &incident.Languages{Authorities: map[string][]string{"DE-BE": {"en", "de"}}}, nil, "", "en"},
		{"Japan's PPC: Japanese", japan, &incident.Languages{}, nil, "", "ja"},
		{"NIS2: the Member State of establishment", nis2, &incident.Languages{}, nil, "", "de"},
	} {
		in := incident.ReportInput{Obligation: tt.o, Languages: tt.langs, Language: tt.pinned, Organisation: incident.Organisation{Establishments: []string{"DE"}},
			Scope: incident.ScopeSummary{ByJurisdiction: tt.scope}}
		got, _ := reportLanguage(in)
		assert.Equal(t, tt.want, got, tt.name)
	}
}

func TestDraftReportInItsReadersLanguage(t *testing.T) {
	a, _ := newTestActivities(t)
	ctx := context.Background()
	in := incident.ReportInput{IncidentID: "INC-20261128-0001", Title: "Backup exposed", AwareAt: time.Date(2026, 3, 5, 14, 30, 0, 0, time.UTC),
		Obligation: rules.Obligation{ID: "gdpr-art33-authority-de-be", Template: "gdpr-art33-report", DueAt: time.Date(2026, 3, 8, 14, 30, 0, 0, time.UTC),
			Authority: &rules.AuthorityRef{Code: "DE-BE", Name: "Berliner Beauftragte für Datenschutz (BlnBDI)"}},
		Organisation: incident.Organisation{Name: "Example Shop GmbH", Establishments: []string{"DE"}, MailFrom: "privacy@example.test"},
		Languages:    &incident.Languages{}, Drill: true, RecipientAddress: "meldung@authority.example"}
	d, err := a.DraftReport(ctx, in)
	require.NoError(t, err)
	assert.Equal(t, "de", d.Language)
	assert.Empty(t, d.Wanted)
	assert.Contains(t, d.Subject, "Verletzung des Schutzes personenbezogener Daten")
	assert.Contains(t, d.LanguageNote, "in German (DE-BE takes German)")
	draft, err := os.ReadFile(d.Path)
	require.NoError(t, err)
	assert.Contains(t, string(draft), "An: Berliner Beauftragte für Datenschutz (BlnBDI) <meldung@authority.example>")
	assert.Contains(t, string(draft), "8. März 2026, 15:30 Uhr (UTC+1; 14:30 Uhr UTC)", "the Berlin reader's time")

	// Submitted in the language it was drafted in, with the drill mark every drill message
	// carries, and the language's own.
	in.Language = d.Language
	sub, err := a.SubmitReport(ctx, in)
	require.NoError(t, err)
	msgs := outboxMessages(t, filepath.Join(a.Dir, "outbox", "INC-20261128-0001"))
	var m *mail.Message
	for _, msg := range msgs {
		m = msg
	}
	require.NotNil(t, m, "the report was not sent: %+v", sub)
	assert.Equal(t, "de", m.Header.Get("Content-Language"))
	subject := decodeHeader(t, m.Header.Get("Subject"))
	assert.True(t, strings.HasPrefix(subject, "[DRILL] Meldung einer Verletzung"), subject)
	assert.True(t, strings.HasSuffix(subject, " [ÜBUNG: KEINE ECHTE MELDUNG]"), subject)

	// A template with no translation in the reader's language: English, and the draft says so.
	jp := in
	jp.Language, jp.Obligation = "", rules.Obligation{ID: "jp-ppc-preliminary", Template: "jp-ppc-report", Subjects: []string{"JP"}}
	d, err = a.DraftReport(ctx, jp)
	require.NoError(t, err)
	assert.Equal(t, "en", d.Language)
	assert.Equal(t, "ja", d.Wanted)
	assert.Contains(t, d.LanguageNote, "template jp-ppc-report has no Japanese translation: it falls back to English")

	// Before languages: as before.
	old := in
	old.Language, old.Languages = "", nil
	d, err = a.DraftReport(ctx, old)
	require.NoError(t, err)
	assert.Empty(t, d.Language)
	assert.Empty(t, d.LanguageNote)
	assert.Contains(t, d.Subject, "Personal data breach notification")
}

// outboxMessages reads the messages of an outbox directory (and its subdirectories) by
// recipient.
func outboxMessages(t *testing.T, dir string) map[string]*mail.Message {
	t.Helper()
	out := map[string]*mail.Message{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m, err := mail.ReadMessage(strings.NewReader(string(raw)))
		if err != nil {
			return err
		}
		out[strings.ToLower(m.Header.Get("To"))] = m
		return nil
	}))
	return out
}

func decodeHeader(t *testing.T, h string) string {
	t.Helper()
	s, err := new(mime.WordDecoder).DecodeHeader(h)
	require.NoError(t, err)
	return s
}

func bodyOf(t *testing.T, m *mail.Message) string {
	t.Helper()
	r := io.Reader(m.Body)
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}
