package web

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

// The fixtures: a fixed clock, four incidents and the people of the tests.
var (
	testNow = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	incOpen    = "INC-20261128-AAAAAAAAAAAAAAAA" // notify phase: a report to approve, a filing to record
	incOverdue = "INC-20261124-BBBBBBBBBBBBBBBB" // aware 80 hours ago: its report is overdue
	incDrill   = "INC-20261128-CCCCCCCCCCCCCCCC" // a drill
	incClosed  = "INC-20261001-DDDDDDDDDDDDDDDD" // closed: only in the register
	incUnknown = "INC-20261128-0000000000000000"
)

const (
	testIssuer = "https://login.example.com"
	proxyPeer  = "192.0.2.10:40000"
	// People, by the subject the proxy passes.
	dpoSub       = "dana"
	outsiderDPO  = "olga" // holds the dpo role on the board, but no incident names her
	viewerSub    = "erik"
	noRoleSub    = "nina"
	proxyUser    = "X-Auth-Request-User"
	proxyGroups  = "X-Auth-Request-Groups"
	groupDPO     = "privacy"
	groupViewers = "executives"
)

func oidcActor(sub string) string { return "oidc:" + testIssuer + "#" + sub }

var testRoles = RoleMap{Viewer: []string{groupViewers}, DPO: []string{groupDPO}, Commander: []string{"security"}}

// fakeTemporal answers as the incident workflows would, from fixed statuses, and records the
// Updates sent.
type fakeTemporal struct {
	mu       sync.Mutex
	statuses map[string]incident.Status
	updates  []sentUpdate
	reject   string
	openErr  error
	slow     map[string]bool
}

type sentUpdate struct {
	incident, name string
	arg            any
}

func (f *fakeTemporal) Status(ctx context.Context, id string) (incident.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.slow[id] {
		return incident.Status{}, context.DeadlineExceeded
	}
	st, ok := f.statuses[id]
	if !ok {
		return st, ingress.ErrNoIncident
	}
	return st, nil
}

func (f *fakeTemporal) Open(ctx context.Context) ([]ingress.OpenIncident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.openErr != nil {
		return nil, f.openErr
	}
	var out []ingress.OpenIncident
	for id, st := range f.statuses {
		if st.Phase != incident.PhaseClosed {
			out = append(out, ingress.OpenIncident{IncidentID: id, Started: st.AwareAt})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) }) // newest first, as Temporal lists them
	return out, nil
}

func (f *fakeTemporal) Update(ctx context.Context, id, name string, arg any) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.statuses[id]; !ok {
		return "", ingress.ErrNoIncident
	}
	f.updates = append(f.updates, sentUpdate{id, name, arg})
	if f.reject != "" {
		return "", &ingress.RejectedError{Reason: f.reject}
	}
	return "approved", nil
}

func (f *fakeTemporal) sent() []sentUpdate {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentUpdate(nil), f.updates...)
}

func obligation(id, audience string, start, due time.Time, state string) incident.ObligationStatus {
	return incident.ObligationStatus{Obligation: rules.Obligation{ID: id, Regime: "gdpr", Audience: audience,
		Basis: "GDPR Art. 33(1)", ClockStart: start, DueAt: due}, State: state}
}

func fixtures() map[string]incident.Status {
	roles := incident.Roles{DPO: []string{oidcActor(dpoSub), "cli:dana"}, Commander: []string{"cli:ian"}}
	aware := testNow.Add(-2 * time.Hour)
	art33 := obligation("gdpr-art33-authority", "Berlin Commissioner for Data Protection", aware, aware.Add(72*time.Hour), incident.OblAwaitingApproval)
	art33.Draft = "/var/lib/breach/incidents/" + incOpen + "/reports/gdpr-art33-authority.draft.md"
	art33.Escalations = []string{}
	ico := obligation("uk-gdpr-art33-ico", "Information Commissioner's Office", aware, aware.Add(72*time.Hour).Add(time.Hour), incident.OblAwaitingFiling)
	filed := obligation("us-ca-attorney-general", "California Attorney General", aware, aware.Add(30*24*time.Hour), incident.OblFiled)
	filed.SubmittedAt, filed.Reference = testNow.Add(-time.Hour), "CA-123"
	open := incident.Status{Phase: incident.PhaseNotify, Roles: roles,
		Pending: []incident.PendingStep{
			{Step: incident.ReportStep(art33.ID), Role: incident.RoleDPO, Description: "approve the report for " + art33.ID, Since: testNow.Add(-30 * time.Minute), DueAt: art33.DueAt},
			{Step: incident.FileStep(ico.ID), Role: incident.RoleDPO, Description: "file on the ICO's portal", Since: testNow.Add(-20 * time.Minute), DueAt: ico.DueAt},
			{Step: incident.IsolationStep("crm-api"), Role: incident.RoleCommander, Description: "isolate crm-api by hand, then confirm", Since: testNow.Add(-time.Hour)},
		}}
	open.IncidentRecord = incident.IncidentRecord{IncidentID: incOpen, Title: "Customer database exposed through a backup bucket",
		Description: "A nightly backup was readable from the internet.", Source: "cli", DeclaredBy: "cli:ian", AwareAt: aware,
		Systems: []string{"shop-db", "crm-api"},
		Containment: []incident.SystemStatus{
			{System: "shop-db", State: incident.ContainContained, Provider: "dry-run", Updated: aware.Add(time.Minute)},
			{System: "crm-api", State: incident.ContainManual, Provider: "dry-run", Detail: "the API refused", Updated: aware.Add(2 * time.Minute), Reminders: 3},
		},
		Scope: &subjects.Summary{Subjects: 1042, Records: 3100, Mailable: 1000, Invalid: 40, Duplicates: 2,
			ByJurisdiction: map[string]int{"DE": 900, "GB": 100, "US-CA": 42}, ByCategory: map[string]int{"contact": 1042}},
		Decision: &incident.Decision{By: oidcActor(dpoSub), Risk: "high", NotifyAuthority: true, NotifySubjects: true,
			Reasoning: "Names and addresses were downloaded by unknown parties.", DecidedAt: testNow.Add(-time.Hour)},
		Obligations: []incident.ObligationStatus{filed, ico, art33},
		Alerts:      incident.AlertProgress{State: incident.AlertsSending, Total: 1000, Sent: 250, Invalid: 40},
		Timeline: []incident.Event{
			{At: aware.Add(time.Minute), Kind: "declared", Text: "Incident declared by cli:ian."},
			{At: testNow.Add(-time.Hour), Kind: "decision", Text: "Risk high.", Signature: &incident.Signature{Signer: incident.WebDashboard, KeyID: "0123456789abcdef"}},
		},
	}

	lateAware := testNow.Add(-80 * time.Hour)
	late := obligation("gdpr-art33-authority", "Berlin Commissioner for Data Protection", lateAware, lateAware.Add(72*time.Hour), incident.OblAwaitingApproval)
	late.Escalations = []string{"50%", "75%", "90%", "1h", "overdue"}
	overdue := incident.Status{Phase: incident.PhaseNotify, Roles: roles,
		Pending: []incident.PendingStep{{Step: incident.ReportStep(late.ID), Role: incident.RoleDPO, Description: "approve the report", Since: testNow.Add(-time.Hour), DueAt: late.DueAt}}}
	overdue.IncidentRecord = incident.IncidentRecord{IncidentID: incOverdue, Title: "Laptop with a customer export stolen", Source: "cli",
		DeclaredBy: "cli:ian", AwareAt: lateAware, Obligations: []incident.ObligationStatus{late}}

	drill := incident.Status{Phase: incident.PhaseContain, Roles: roles}
	drill.IncidentRecord = incident.IncidentRecord{IncidentID: incDrill, Title: "Tabletop: ransomware on the file server", Drill: true,
		Source: "drill", DeclaredBy: "cli:ian", AwareAt: testNow.Add(-time.Hour)}

	return map[string]incident.Status{incOpen: open, incOverdue: overdue, incDrill: drill}
}

// writeHome writes what the workers would have written: a draft report (with markup a report
// must not put on the board), evidence, and a register entry of a closed incident.
func writeHome(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	draft := filepath.Join(home, "incidents", incOpen, "reports", "gdpr-art33-authority.draft.md")
	writeTestFile(t, draft, "# Notification of a personal data breach (GDPR Art. 33)\n\nStatus: DRAFT\n\n<script>alert('x')</script>\n\n- 1042 people affected\n")
	// Evidence as installations kept it before the store: one file, still read.
	writeTestFile(t, filepath.Join(home, "incidents", incOpen, records.EvidenceLog), `{"provider":"dry-run","action":"isolate","system":"shop-db","at":"2026-11-28T10:01:00Z","changes":["add rule inet breach drop ip saddr 198.51.100.21"]}`+"\n")
	rec := incident.IncidentRecord{IncidentID: incClosed, Title: "Misdirected payroll email", Source: "cli", DeclaredBy: "cli:ian",
		AwareAt: time.Date(2026, 10, 1, 8, 0, 0, 0, time.UTC), ClosedAt: time.Date(2026, 10, 3, 8, 0, 0, 0, time.UTC), ClosedBy: "cli:ian",
		Decision: &incident.Decision{Risk: "unlikely", Reasoning: "One recipient, who deleted it."},
		Scope:    &subjects.Summary{Subjects: 12, Records: 12},
		Timeline: []incident.Event{{At: time.Date(2026, 10, 3, 8, 0, 0, 0, time.UTC), Kind: "closed", Text: "Incident closed by cli:ian."}}}
	data, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	reg := filepath.Join(home, "register", incClosed+".json")
	writeTestFile(t, reg, string(data))
	drillRec := rec
	drillRec.IncidentID, drillRec.Title, drillRec.Drill = "INC-20261002-EEEEEEEEEEEEEEEE", "Tabletop: lost USB stick", true
	drillRec.Decision = &incident.Decision{Risk: "high", NotifyAuthority: true}
	data, _ = json.Marshal(drillRec)
	reg = filepath.Join(home, "register", drillRec.IncidentID+".json")
	writeTestFile(t, reg, string(data))
	return home
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// board is a board behind the trusted proxy, with actions on.
type board struct {
	t        *testing.T
	srv      *Server
	h        http.Handler
	temporal *fakeTemporal
	key      ed25519.PrivateKey
	home     string
}

func newBoard(t *testing.T, edit func(*Config)) *board {
	t.Helper()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ft := &fakeTemporal{statuses: fixtures()}
	b := &board{t: t, temporal: ft, key: key, home: writeHome(t)}
	cfg := Config{Temporal: ft, Records: localStore(t, b.home), Prefix: "/board", Roles: testRoles, SessionKey: []byte(strings.Repeat("k", 32)),
		Proxy:  &Proxy{UserHeader: proxyUser, GroupsHeader: proxyGroups, Issuer: testIssuer, Trusted: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}},
		Signer: key, TemporalUI: "http://localhost:8233", Timezone: "Europe/Berlin", Now: func() time.Time { return testNow },
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if edit != nil {
		edit(&cfg)
	}
	b.srv, err = New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.h = b.srv.Handler()
	return b
}

// person is who a request comes from: the proxy's headers, or nobody.
type person struct {
	sub    string
	groups string
}

var (
	nobody   = person{}
	dpo      = person{dpoSub, groupDPO + ", " + groupViewers}
	otherDPO = person{outsiderDPO, groupDPO}
	viewer   = person{viewerSub, groupViewers}
	noRole   = person{noRoleSub, "interns"}
)

// csrf is the anti-forgery token the board gives p.
func (b *board) csrf(p person) string {
	b.t.Helper()
	v, err := b.srv.proxyViewer(b.request(http.MethodGet, "/board/", p, nil, ""))
	if err != nil || v == nil {
		b.t.Fatalf("no viewer for %v: %v", p, err)
	}
	return b.srv.sessions.csrf(v)
}

func (b *board) request(method, target string, p person, form url.Values, csrf string) *http.Request {
	var body io.Reader
	if form != nil {
		if csrf != "" {
			form.Set("csrf", csrf)
		}
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = proxyPeer
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if p.sub != "" {
		r.Header.Set(proxyUser, p.sub)
		r.Header.Set(proxyGroups, p.groups)
	}
	return r
}

func (b *board) do(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	b.h.ServeHTTP(w, r)
	return w
}

func (b *board) get(target string, p person) *httptest.ResponseRecorder {
	return b.do(b.request(http.MethodGet, target, p, nil, ""))
}

func (b *board) post(target string, p person, form url.Values, csrf string) *httptest.ResponseRecorder {
	return b.do(b.request(http.MethodPost, target, p, form, csrf))
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("the answer does not contain %q:\n%s", w, clip(body, 3000))
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, u := range unwanted {
		if strings.Contains(body, u) {
			t.Errorf("the answer contains %q, which it must not:\n%s", u, clip(body, 3000))
		}
	}
}

// localStore is the store the workers keep in home.
func localStore(t *testing.T, home string) *store.Store {
	t.Helper()
	st, err := store.Local(home)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
