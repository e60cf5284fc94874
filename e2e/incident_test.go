package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
)

// smallSubjects is a shop's export with the usual mess in it. mailable says whether the row
// should get a notice: a valid address not seen before (addresses compare case-insensitively).
var smallSubjects = []struct {
	row      subjectRow
	mailable bool
	dup      bool
}{
	{subjectRow{"C1001", "lea.weber@example.net", "Léa Weber", "DE", "contact;address"}, true, false},
	{subjectRow{"C1002", "jonas.jones@example.net", "Jones, Jonas", "DE", "contact;order-history"}, true, false},
	{subjectRow{"C1003", "not-an-email", "Hugo Russo", "FR", "order-history"}, false, false},
	{subjectRow{"C1004", "Mia.Novak@Example.NET", "Mia Novak", "AT", "address"}, true, false},
	{subjectRow{"C1005", "mia.novak@example.net", "Mia Novak", "AT", "address"}, false, true},
	{subjectRow{"C1006", "jonas.jones@example.net", "Jonas Jones", "DE", "contact"}, false, true},
	{subjectRow{"C1007", "", "Paul Meyer", "DE", "contact"}, false, false},
	{subjectRow{"C1008", "anna@localhost", "Anna Schulz", "DE", "contact"}, false, false},
	{subjectRow{"C1009", "giulia russo@example.net", "Giulia Russo", "IT", "contact"}, false, false},
	{subjectRow{"C1010", "oliver.smith@example.co.uk", "Oliver Smith", "GB", "contact;date-of-birth"}, true, false},
	{subjectRow{"C1011", "amelia.fischer@example.net", "Amelia Fischer", "AT", "address;contact"}, true, false},
	{subjectRow{"C1012", "LUCA.MARTIN@EXAMPLE.NET", "Luca Martin", "NL", "payment-card-last4"}, true, false},
	{subjectRow{"C1013", "luca.martin@example.net", "Luca Martin", "NL", "payment-card-last4"}, false, true},
	{subjectRow{"C1014", "noah.schmidt@example.net", "Noah Schmidt", "DE", "order-history"}, true, false},
	{subjectRow{"C1015", "emma.bauer@example.net", "Emma Bauer", "DE", "contact"}, true, false},
	{subjectRow{"C1016", "sofia.rossi@example.net", "Sofia \"Sofi\" Rossi", "IT", "date-of-birth"}, true, false},
	{subjectRow{"C1017", "lea.weber@example.net", "L. Weber", "DE", "contact"}, false, true},
	{subjectRow{"C1018", "max@example", "Max Braun", "DE", "contact"}, false, false},
	{subjectRow{"C1019", "jan.dejong@example.net", "Jan de Jong", "NL", "contact"}, true, false},
	{subjectRow{"C1020", "chloe.dubois@example.net", "Chloé Dubois", "FR", "address;contact;order-history"}, true, false},
}

func TestDeclareToClose(t *testing.T) {
	s := startStack(t, stackOptions{})
	csvPath := filepath.Join(s.dir, "subjects.csv")
	var rows []subjectRow
	want := map[string]bool{}
	wantSubjects, wantInvalid, wantDups := 0, 0, 0
	for _, r := range smallSubjects {
		rows = append(rows, r.row)
		switch {
		case r.dup:
			wantDups++
		case r.mailable:
			want[strings.ToLower(r.row.Email)] = true
			wantSubjects++
		default:
			wantInvalid++
			wantSubjects++
		}
	}
	writeSubjects(t, csvPath, rows)

	t.Run("bad input exits 2 and starts nothing", func(t *testing.T) {
		future := time.Now().Add(2 * time.Hour).Format(time.RFC3339)
		cases := []struct {
			name string
			args []string
			say  string // a word the one line must contain
		}{
			{"future aware-at", []string{"--system", "shop-db", "--subjects", csvPath, "--aware-at", future}, "future"},
			{"unparseable aware-at", []string{"--system", "shop-db", "--subjects", csvPath, "--aware-at", "yesterday at noon"}, "RFC 3339"},
			{"no system", []string{"--subjects", csvPath}, "--system"},
			{"missing subjects file", []string{"--system", "shop-db", "--subjects", filepath.Join(s.dir, "no-such.csv")}, "no-such.csv"},
			{"subjects path is a directory", []string{"--system", "shop-db", "--subjects", s.dir}, "directory"},
		}
		for i, c := range cases {
			args := append([]string{"declare", "--title", "Bad input " + c.name, "--key", fmt.Sprintf("bad-%d", i), "--json"}, c.args...)
			r := s.breach(args...)
			if r.code != 2 {
				t.Errorf("%s: want exit 2\n%s", c.name, r)
				continue
			}
			line := strings.TrimSuffix(r.stderr, "\n")
			if line == "" || strings.Contains(line, "\n") {
				t.Errorf("%s: want exactly one line on stderr, got %q", c.name, r.stderr)
			}
			if !strings.Contains(line, c.say) {
				t.Errorf("%s: the error %q does not mention %q", c.name, line, c.say)
			}
			if r.stdout != "" {
				t.Errorf("%s: want nothing on stdout, got %q", c.name, r.stdout)
			}
		}
		require.Empty(t, s.incidentIDs(), "bad declarations must not start an incident")
	})

	w := s.startWorker()
	awareAt := time.Now().Add(-2 * time.Hour).Truncate(time.Second).Format(time.RFC3339)
	declareArgs := []string{"--title", "Customer database exposed through a misconfigured backup bucket",
		"--description", "A nightly backup of the shop database was readable from the internet.",
		"--system", "shop-db", "--system", "crm-api", "--subjects", csvPath,
		"--aware-at", awareAt, "--key", "e2e-declare-to-close", "--as", commander}
	first := s.declare(declareArgs...)
	require.False(t, first.Existing, "first declaration")
	again := s.declare(declareArgs...)
	require.Equal(t, first.IncidentID, again.IncidentID, "declaring twice with the same --key must return the same incident")
	require.True(t, again.Existing, "the second declaration must say it found the existing incident")
	require.Equal(t, first.RunID, again.RunID)
	id := first.IncidentID

	p := newPilot(s, id, w)
	p.beforeDecide = func(st incident.Status) {
		// The incident commander holds a role, but not the DPO's.
		r := s.breach("decide", id, "--risk", "high", "--reasoning", "I am sure it is bad.", "--as", commander)
		if r.code == 0 {
			t.Fatalf("a decision by %s, who is not a DPO, was accepted:\n%s", commander, r)
		}
		require.Contains(t, r.stderr, "does not hold the dpo role", "the rejection must give the reason")
		after, err := s.status(id)
		require.NoError(t, err)
		require.Nil(t, after.Decision, "a rejected decision must leave no decision")
		require.Equal(t, incident.PhaseDecide, after.Phase)
		require.Contains(t, pendingSteps(after), incident.UpdateDecide, "the decision must still be pending")
	}
	final := p.until(4*time.Minute, "the incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	require.True(t, p.acted[incident.UpdateDecide], "the DPO never had to decide")

	// Containment.
	require.Len(t, final.Containment, 2)
	for _, c := range final.Containment {
		require.Equal(t, incident.ContainContained, c.State, "containment of %s", c.System)
	}

	// Scope, in counts.
	require.NotNil(t, final.Scope)
	require.Equal(t, len(rows), final.Scope.Rows, "rows")
	require.Equal(t, wantSubjects, final.Scope.Subjects, "subjects")
	require.Equal(t, len(want), final.Scope.Mailable, "mailable")
	require.Equal(t, wantInvalid, final.Scope.Invalid, "invalid addresses")
	require.Equal(t, wantDups, final.Scope.Duplicates, "duplicates")

	require.NotNil(t, final.Decision)
	require.Equal(t, "cli:"+dpo, final.Decision.By)
	require.NotNil(t, final.Decision.Signature, "the decision carries its signature")
	require.Equal(t, "cli:"+dpo, final.Decision.Signature.Signer)
	require.Equal(t, "high", final.Decision.Risk)

	// Customer notices: one per distinct valid address, nothing else.
	require.Equal(t, incident.AlertsDone, final.Alerts.State)
	require.Equal(t, len(want), final.Alerts.Total)
	require.Equal(t, len(want), final.Alerts.Sent)
	checkNotices(t, notices(t, s.home, id), want)

	// The GDPR Art. 33 report was submitted by email, and the UK report filed on the portal.
	art33 := obligation(t, final, "gdpr-art33-authority")
	require.Equal(t, incident.OblFiled, art33.State)
	report, err := os.ReadFile(art33.Report)
	require.NoError(t, err, "the Art. 33 report file")
	require.Contains(t, string(report), id)
	// In German: the shop is established in Germany, whose authorities take German.
	require.Contains(t, string(report), fmt.Sprintf("%d betroffene Personen", wantSubjects), "the report must give the number of data subjects")
	authority := readMessage(t, filepath.Join(s.home, "outbox", id, "authority", "gdpr-art33-authority.eml"))
	require.Equal(t, authorityAddress, authority.Header.Get("To"))
	uk := obligation(t, final, "uk-gdpr-art33-ico")
	require.Equal(t, incident.OblFiled, uk.State)
	require.Equal(t, "E2E-REF-uk-gdpr-art33-ico", uk.Reference)
	require.Equal(t, "cli:"+dpo, uk.SubmittedBy)

	// The breach-register entry.
	require.NotNil(t, final.Records)
	require.Equal(t, filepath.Join(s.home, "register", id+".json"), final.Records.Register)
	raw, err := os.ReadFile(final.Records.Register)
	require.NoError(t, err, "the register entry")
	var entry struct {
		IncidentID string `json:"incident_id"`
		ClosedBy   string `json:"closed_by"`
		Scope      struct {
			Subjects int `json:"subjects"`
		} `json:"scope"`
		Decision struct {
			Reasoning string `json:"reasoning"`
		} `json:"decision"`
	}
	require.NoError(t, json.Unmarshal(raw, &entry), "the register entry is JSON")
	require.Equal(t, id, entry.IncidentID)
	require.Equal(t, "cli:"+commander, entry.ClosedBy)
	require.Equal(t, wantSubjects, entry.Scope.Subjects)
	require.NotEmpty(t, entry.Decision.Reasoning, "Art. 33(5): the register records the reasoning")
	for _, a := range []string{"lea.weber@example.net", "Oliver Smith"} {
		require.NotContains(t, string(raw), a, "the register entry must hold no personal data of a subject")
	}

	// Only the good declaration ever started an incident.
	waitFor(t, 30*time.Second, "the incident to be listed", func() (bool, string) {
		ids := s.incidentIDs()
		return len(ids) == 1 && ids[0] == id, fmt.Sprintf("incidents %v, want [%s]", ids, id)
	})

	// An ID held by another incident (here one started directly, as another tool or an attacker
	// could, at the ID a key would derive) is never joined: the declaration gets its own.
	aware, err := time.Parse(time.RFC3339, awareAt)
	require.NoError(t, err)
	const key = "e2e-taken-id"
	taken := incident.KeyedID(aware, key, 0)
	_, err = s.client.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID: incident.IncidentWorkflowID(taken), TaskQueue: "nobody-polls-this"}, "SomethingElse")
	require.NoError(t, err)
	other := append([]string{}, declareArgs...)
	other[len(other)-3] = key
	b := s.declare(other...)
	require.False(t, b.Existing, "an incident started by another key is not this declaration's")
	require.NotEqual(t, taken, b.IncidentID)
	for _, id := range []string{taken, b.IncidentID} {
		require.NoError(t, s.client.CancelWorkflow(context.Background(), incident.IncidentWorkflowID(id), ""))
	}
}

// TestWorkerKilledMidIncident kills the worker with SIGKILL while customer notices are going
// out, starts another, and checks that every subject is notified exactly once.
func TestWorkerKilledMidIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 30,000 subjects and a worker restart")
	}
	s := startStack(t, stackOptions{})
	rows, want := bigSubjects(30000)
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, rows)

	w1 := s.startWorker()
	id := s.declare("--title", "Order export left on a public file share",
		"--system", "shop-db", "--subjects", csvPath, "--as", commander).IncidentID
	p := newPilot(s, id, w1)
	atKill := p.until(3*time.Minute, "customer alerts to be under way", func(st incident.Status) bool {
		a := st.Alerts
		if a.State == incident.AlertsDone {
			t.Fatalf("customer alerts finished (%d/%d) before the test could kill the worker mid-send", a.Sent, a.Total)
		}
		return a.State == incident.AlertsSending && a.Sent > 0 && a.Sent < a.Total
	})
	// Kill inside a chunk, not between two: wait until notices beyond the reported count appear.
	outbox := filepath.Join(s.home, "outbox", id, "notices")
	waitFor(t, time.Minute, "the next chunk of notices to be sending", func() (bool, string) {
		n := countEML(outbox)
		return n > atKill.Alerts.Sent && n < len(want), fmt.Sprintf("%d notices in the outbox, status said %d", n, atKill.Alerts.Sent)
	})
	w1.kill()
	t.Logf("killed the worker with SIGKILL: status said %d/%d sent, %d notices in the outbox", atKill.Alerts.Sent, atKill.Alerts.Total, countEML(outbox))
	require.Equal(t, len(want), atKill.Alerts.Total, "alerts total")

	p.worker = s.startWorker()
	final := p.until(4*time.Minute, "the incident to close after the restart", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	require.Equal(t, incident.AlertsDone, final.Alerts.State)
	checkNotices(t, notices(t, s.home, id), want)
	require.Equal(t, len(want), final.Alerts.Sent, "alerts.sent must count every address once")
	require.Equal(t, len(want), final.Scope.Mailable)
}

// bigSubjects generates n rows: mostly valid, every 97th address invalid, every 89th an exact
// and every 101st an upper-case repeat of an earlier address. want holds the distinct valid
// addresses, lowercased.
func bigSubjects(n int) ([]subjectRow, map[string]bool) {
	countries := []string{"DE", "DE", "DE", "FR", "AT", "NL", "IT", "ES", "GB"}
	var rows []subjectRow
	var valid []string
	want := map[string]bool{}
	for i := 1; i <= n; i++ {
		r := subjectRow{ID: fmt.Sprintf("S%06d", i), Name: fmt.Sprintf("Subject %d", i),
			Country: countries[i%len(countries)], Categories: "contact;order-history"}
		switch {
		case i%97 == 0:
			r.Email = fmt.Sprintf("subject%06d.example.net", i)
		case i%89 == 0 && len(valid) > 0:
			r.Email = valid[(i*7)%len(valid)]
		case i%101 == 0 && len(valid) > 0:
			r.Email = strings.ToUpper(valid[(i*13)%len(valid)])
		default:
			r.Email = fmt.Sprintf("subject%06d@example.net", i)
			valid = append(valid, r.Email)
			want[r.Email] = true
		}
		rows = append(rows, r)
	}
	return rows, want
}

func obligation(t *testing.T, st incident.Status, id string) incident.ObligationStatus {
	t.Helper()
	for _, o := range st.Obligations {
		if o.ID == id {
			return o
		}
	}
	t.Fatalf("no obligation %s in the incident; %s", id, summary(st))
	return incident.ObligationStatus{}
}

func countEML(dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".eml") {
			n++
		}
	}
	return n
}

func pendingSteps(st incident.Status) []string {
	var out []string
	for _, p := range st.Pending {
		out = append(out, p.Step)
	}
	return out
}

func readMessage(t *testing.T, path string) *mail.Message {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	m, err := mail.ReadMessage(f)
	require.NoError(t, err, "%s is not an RFC 5322 message", path)
	return m
}

// collidingKeys finds two declaration keys whose first incident-ID candidates are the same
// (two hex bytes of SHA-256: a birthday search over a few hundred keys).
