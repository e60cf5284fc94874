package e2e

import (
	"context"
	"encoding/csv"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/workflows"
)

// The demo is a Berlin shop. Run as `make demo` runs it, but with email through a local
// SendGrid: it files its GDPR Art. 33 report with the Berlin commissioner (BlnBDI) in German,
// and every customer gets the notice in their language: the dataset's language column where it
// has one, else their country's (German in Germany and Austria, Italian in Italy, French in
// France, Spanish in Spain, Dutch in the Netherlands, English in Ireland, the UK and the US).
func TestDemoSpeaksEachReadersLanguage(t *testing.T) {
	const sgKey = "SG.e2e-demo-key"
	sg, err := sendgridtest.Start("127.0.0.1:0", sendgridtest.Options{APIKey: sgKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sg.Close)
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "BREACH_") && !strings.HasPrefix(kv, "SENDGRID_") {
			env = append(env, kv)
		}
	}
	env = append(env, "BREACH_HOME="+home, "TEMPORAL_ADDRESS="+freeHostPort(t), "BREACH_TEMPORAL_BIN="+temporalBin(t),
		"SENDGRID_API_KEY="+sgKey, "SENDGRID_API_HOST="+sg.URL, "BREACH_EMAIL_ACTIVITY_LAG=0s")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, breachBin, "demo")
	cmd.Dir, cmd.Env = moduleRoot, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("breach demo: %v\n%s", err, out)
	}

	// The report: to the Berlin commissioner, in German, and the timeline says so.
	var report *sendgridtest.Request
	notices := map[string]string{} // address -> language of its notice
	subjects := map[string]string{}
	for _, r := range sg.Requests() {
		if len(r.Addresses) == 1 && r.Addresses[0] == "breach-reports@supervisory-authority.example" {
			r := r
			report = &r
			continue
		}
		lang := ""
		for _, c := range r.Categories {
			if l, ok := strings.CutPrefix(c, "lang:"); ok {
				lang = l
			}
		}
		if lang == "" {
			t.Errorf("notice batch %s carries no language: categories %v", r.BatchKey, r.Categories)
		}
		for _, a := range r.Addresses {
			if prev, ok := notices[a]; ok {
				t.Errorf("%s got two notices (%s, %s)", a, prev, lang)
			}
			notices[a] = lang
			subjects[a] = r.Subject
		}
	}
	if report == nil {
		t.Fatalf("no report reached the Berlin commissioner's address; requests: %d\n%s", len(sg.Requests()), out)
	}
	if !strings.HasPrefix(report.Subject, "Meldung einer Verletzung des Schutzes personenbezogener Daten gemäß Art. 33 DSGVO: Example Shop GmbH") {
		t.Errorf("the Art. 33 report's subject is not German: %q", report.Subject)
	}
	// The rules resolve the Berlin shop's authority from its Land (establishment_regions: DE-BE).
	m := regexp.MustCompile(`(?m)^\s+(gdpr-art33-authority-de-be) report \(.*\):\s+(\S+)$`).FindStringSubmatch(string(out))
	if m == nil {
		t.Fatalf("the demo names no Art. 33 report to the Berlin commissioner (gdpr-art33-authority-de-be):\n%s", out)
	}
	body, err := os.ReadFile(m[2])
	if err != nil {
		t.Fatalf("read the %s report: %v", m[1], err)
	}
	for _, want := range []string{
		"# Meldung einer Verletzung des Schutzes personenbezogener Daten an die Aufsichtsbehörde (Art. 33 DSGVO)",
		"\nAn: Berliner Beauftragte für Datenschutz", "(BlnBDI)", "\n## a) Art der Verletzung des Schutzes personenbezogener Daten\n",
		"Uhr (UTC+", "Uhr UTC)",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("the %s report lacks %q:\n%s", m[1], want, body)
		}
	}
	if !regexp.MustCompile(`gdpr-art33-authority-de-be report drafted in German \(DE-BE takes German\)`).Match(out) {
		t.Errorf("the timeline does not say the report was drafted in German:\n%s", out)
	}

	// The notices: each person in their language.
	want := demoLanguages(t, filepath.Join(moduleRoot, "examples", "subjects.csv"))
	seen := map[string]int{}
	for addr, lang := range notices {
		w, ok := want[strings.ToLower(addr)]
		if !ok {
			t.Errorf("a notice went to %s, who is not in the demo's dataset", addr)
			continue
		}
		if lang != w {
			t.Errorf("%s got a notice in %q, want %q (subject %q)", addr, lang, w, subjects[addr])
		}
		seen[lang]++
	}
	for _, lang := range []string{"de", "it", "fr", "es"} {
		if seen[lang] == 0 {
			t.Errorf("no notice in %s: %v", lang, seen)
		}
	}
	for addr, subject := range subjects {
		prefix := map[string]string{"de": "Wichtig: Sicherheitsvorfall bei Example Shop GmbH", "it": "Importante: un incidente di sicurezza presso",
			"fr": "Important : un incident de sécurité chez", "es": "Importante: un incidente de seguridad en", "nl": "Belangrijk: een beveiligingsincident bij"}[notices[addr]]
		if prefix != "" && !strings.HasPrefix(subject, prefix) {
			t.Errorf("%s: the %s notice's subject is %q", addr, notices[addr], subject)
		}
	}
	t.Logf("report %s: %q; notices by language: %v", m[1], report.Subject, seen)
	if t.Failed() {
		t.Logf("%s", out)
	}
	if !regexp.MustCompile(`Notices by language: de \d+, en \d+, es \d+, fr \d+, it \d+, nl \d+\.`).Match(out) {
		t.Errorf("the timeline does not count the notices by language:\n%s", out)
	}

	// Every workflow the demo ran replays under this code; with BREACH_RECORD_HISTORIES=DIR the
	// histories are saved there, decrypted (workflows/testdata/lang-demo-*.json are these).
	c := devServerOn(t, filepath.Join(home, "temporal.db"))
	replayEveryHistory(t, c, decoder(t, &homeCodec{home: home}), "lang-demo")
}

// replayEveryHistory replays every workflow run the server holds, decrypted, with the plan's
// workflows, and saves each into $BREACH_RECORD_HISTORIES when it is set, named
// <prefix>-<workflow id>.json.
func replayEveryHistory(t *testing.T, c client.Client, decode func(*historypb.HistoryEvent), prefix string) {
	t.Helper()
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(workflows.IncidentWorkflow)
	r.RegisterWorkflow(workflows.ContainmentWorkflow)
	r.RegisterWorkflow(workflows.ObligationWorkflow)
	r.RegisterWorkflow(workflows.AlertsWorkflow)
	r.RegisterWorkflow(workflows.DrillWorkflow)
	ctx := context.Background()
	dir := os.Getenv("BREACH_RECORD_HISTORIES")
	n := 0
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			t.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			ex := e.GetExecution()
			var events []*historypb.HistoryEvent
			it := c.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatalf("history of %s: %v", ex.GetWorkflowId(), err)
				}
				decode(ev)
				events = append(events, ev)
			}
			h := &historypb.History{Events: events}
			if err := r.ReplayWorkflowHistory(nil, h); err != nil {
				t.Errorf("replay %s (run %s): %v", ex.GetWorkflowId(), ex.GetRunId(), err)
			}
			n++
			if dir == "" {
				continue
			}
			b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(h)
			if err != nil {
				t.Fatal(err)
			}
			name := prefix + "-" + strings.NewReplacer("/", "-", ":", "-").Replace(ex.GetWorkflowId()) + ".json"
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if n < 4 {
		t.Fatalf("only %d workflow runs to replay", n)
	}
	t.Logf("%d workflow runs replay", n)
}

// demoLanguages are the languages the demo's customers read, as the test works them out from
// the dataset: the language column, else the official language of their country.
func demoLanguages(t *testing.T, path string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff")))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	official := map[string]string{"DE": "de", "AT": "de", "IT": "it", "FR": "fr", "ES": "es", "NL": "nl", "GB": "en", "IE": "en", "US": "en"}
	out := map[string]string{}
	for _, row := range rows[1:] {
		if len(row) < 4 || !strings.Contains(row[1], "@") {
			continue
		}
		lang, ok := official[row[3]]
		if !ok {
			t.Fatalf("the demo's dataset has a country the test does not know: %s", row[3])
		}
		if len(row) > 6 && row[6] != "" {
			lang, _, _ = strings.Cut(strings.ToLower(row[6]), "-")
		}
		if _, dup := out[strings.ToLower(row[1])]; !dup {
			out[strings.ToLower(row[1])] = lang
		}
	}
	return out
}
