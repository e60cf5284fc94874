package web

import (
	"crypto/ed25519"
	"encoding/csv"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
)

// Every page and JSON endpoint: who may see it, and what nobody else gets.
func TestEveryEndpointAsEachViewer(t *testing.T) {
	b := newBoard(t, nil)
	draft := "/board/incidents/" + incOpen + "/reports/gdpr-art33-authority.draft.md"
	endpoints := []struct {
		path string
		json bool
		want []string
	}{
		{"/board/", false, []string{"Open incidents", incOpen, "gdpr-art33-authority", "DRILL"}},
		{"/board/api/board", true, []string{`"incident_id": "` + incOpen + `"`, `"html":`}},
		{"/board/incidents/" + incOpen, false, []string{"Customer database exposed", "Names and addresses were downloaded", "Timeline"}},
		{"/board/api/incidents/" + incOpen, true, []string{`"reasoning": "Names and addresses were downloaded by unknown parties."`}},
		{"/board/incidents/" + incClosed, false, []string{"Misdirected payroll email", "register entry"}},
		{draft, false, []string{"Notification of a personal data breach", "1042 people affected"}},
		{draft + "/download", false, []string{"<script>alert('x')</script>"}},
		{"/board/incidents/" + incOpen + "/records/containment-evidence.jsonl/download", false, []string{"198.51.100.21"}},
		{"/board/register", false, []string{"Breach register", "Misdirected payroll email"}},
		{"/board/register.csv", false, []string{"incident_id,title", incClosed}},
		{"/board/register.json", true, []string{`"incident_id": "` + incClosed + `"`}},
	}
	for _, e := range endpoints {
		t.Run(strings.TrimPrefix(e.path, "/board"), func(t *testing.T) {
			t.Run("authorised", func(t *testing.T) {
				w := b.get(e.path, viewer)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d, want 200:\n%s", w.Code, w.Body)
				}
				mustContain(t, w.Body.String(), e.want...)
				if e.json && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
					t.Errorf("Content-Type %q, want JSON", w.Header().Get("Content-Type"))
				}
				if w.Header().Get("Cache-Control") != "no-store" || !strings.Contains(w.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
					t.Errorf("incident data without no-store and the CSP: %v", w.Header())
				}
			})
			t.Run("unauthorised", func(t *testing.T) {
				w := b.get(e.path, nobody)
				if w.Code != http.StatusUnauthorized {
					t.Fatalf("status %d, want 401", w.Code)
				}
				mustNotContain(t, w.Body.String(), "Customer database", "Misdirected", "1042")
			})
			t.Run("not through the proxy", func(t *testing.T) {
				r := b.request(http.MethodGet, e.path, viewer, nil, "")
				r.RemoteAddr = "203.0.113.9:5555"
				w := b.do(r)
				if w.Code != http.StatusForbidden {
					t.Fatalf("status %d, want 403 for headers from outside the proxy", w.Code)
				}
				mustNotContain(t, w.Body.String(), "Customer database", "Misdirected")
			})
			t.Run("wrong role", func(t *testing.T) {
				w := b.get(e.path, noRole)
				if w.Code != http.StatusForbidden {
					t.Fatalf("status %d, want 403", w.Code)
				}
				mustContain(t, w.Body.String(), "hold no role on the board")
				mustNotContain(t, w.Body.String(), "Customer database", "Misdirected")
			})
			if e.json {
				t.Run("unauthorised answers JSON", func(t *testing.T) {
					var j map[string]string
					w := b.get(e.path, nobody)
					if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || j["error"] == "" {
						t.Fatalf("a JSON endpoint answered %q: %v", w.Body, err)
					}
				})
			}
		})
	}
}

func TestUnknownIncident(t *testing.T) {
	b := newBoard(t, nil)
	for _, path := range []string{
		"/board/incidents/" + incUnknown,
		"/board/api/incidents/" + incUnknown,
		"/board/incidents/" + incUnknown + "/reports/gdpr-art33-authority.draft.md",
		"/board/incidents/" + incOpen + "/reports/uk-gdpr-art33-ico.md",
		"/board/incidents/" + incOpen + "/reports/..%2f..%2fkeys%2fweb.key",
		"/board/incidents/" + incOpen + "/reports/.hidden.md",
		"/board/incidents/" + incOpen + "/records/incident.log",
		"/board/incidents/" + incOpen + "/secrets/x.md",
		"/board/incidents/not-an-id",
		"/board/api/incidents/INC-20261128-7f3a",
		"/board/nowhere",
	} {
		t.Run(path, func(t *testing.T) {
			w := b.get(path, viewer)
			if w.Code != http.StatusNotFound {
				t.Fatalf("status %d, want 404:\n%s", w.Code, w.Body)
			}
			if strings.Contains(path, "/api/") {
				var j map[string]string
				if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || j["error"] == "" {
					t.Fatalf("not a JSON error: %q", w.Body)
				}
			}
		})
	}
	t.Run("Temporal does not answer", func(t *testing.T) {
		b.temporal.slow = map[string]bool{incOpen: true}
		defer func() { b.temporal.slow = nil }()
		w := b.get("/board/incidents/"+incOpen, viewer)
		if w.Code != http.StatusBadGateway {
			t.Fatalf("status %d, want 502", w.Code)
		}
		w = b.get("/board/", viewer)
		if w.Code != http.StatusOK {
			t.Fatalf("the board fails with one incident unreadable: %d", w.Code)
		}
		mustContain(t, w.Body.String(), "status of this incident is unavailable", "Laptop with a customer export stolen")
		b.temporal.openErr = errors.New("connection refused")
		defer func() { b.temporal.openErr = nil }()
		mustContain(t, b.get("/board/", viewer).Body.String(), "could not be listed: Temporal does not answer")
		mustContain(t, b.get("/board/api/board", viewer).Body.String(), `"problem": "The open incidents could not be listed`)
	})
}

// The board: every obligation as a row with its deadline in the viewer's zone and UTC, its
// countdown and stage; what waits for whom; drills marked and hideable.
func TestBoardShowsTheClocks(t *testing.T) {
	b := newBoard(t, nil)
	w := b.get("/board/", viewer)
	body := w.Body.String()
	aware := testNow.Add(-2 * time.Hour)
	due := aware.Add(72 * time.Hour)
	mustContain(t, body,
		`data-countdown="`+due.Format(time.RFC3339)+`"`,
		"2d 22h 00m left", // the countdown when the page was made
		due.Format("2006-01-02 15:04 UTC"),
		due.In(mustZone(t, "Europe/Berlin")).Format("Mon 2 Jan 2006 15:04 MST"), // the organisation's zone until the browser says its own
		"Berlin Commissioner for Data Protection",
		"stage-on-track", "on track",
		"stage-overdue", "OVERDUE", "overdue by 8h 00m",
		"filed", "CA-123",
		"isolate crm-api by hand, then confirm", "commander</strong>: cli:ian",
		"isolate by hand, then confirm", "(3 reminders)",
		`<span class="badge drill">DRILL</span>`,
		"250 of 1000 sent",
	)
	// Read-only for a viewer: no form.
	mustNotContain(t, body, `action="/board/incidents/`+incOpen+`/approve"`)

	// The viewer's zone, as their browser says it.
	r := b.request(http.MethodGet, "/board/", viewer, nil, "")
	r.AddCookie(&http.Cookie{Name: zoneCookie, Value: "America/New_York"})
	mustContain(t, b.do(r).Body.String(), due.In(mustZone(t, "America/New_York")).Format("Mon 2 Jan 2006 15:04 MST"), "America/New_York")
	r = b.request(http.MethodGet, "/board/", viewer, nil, "")
	r.Header.Set("Cookie", zoneCookie+"=Asia%2FTokyo")
	mustContain(t, b.do(r).Body.String(), due.In(mustZone(t, "Asia/Tokyo")).Format("Mon 2 Jan 2006 15:04 MST"))
	r = b.request(http.MethodGet, "/board/", viewer, nil, "")
	r.AddCookie(&http.Cookie{Name: zoneCookie, Value: "../../etc/passwd"})
	mustContain(t, b.do(r).Body.String(), "Europe/Berlin")

	// Drills hidden.
	hidden := b.get("/board/?drills=hide", viewer).Body.String()
	mustNotContain(t, hidden, incDrill)
	mustContain(t, hidden, "1 drill hidden")

	// The JSON endpoint carries the same, and the stage points the script counts with.
	var j boardJSON
	if err := json.Unmarshal(b.get("/board/api/board?drills=hide", viewer).Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	if len(j.Incidents) != 2 || j.HiddenDrills != 1 {
		t.Fatalf("board JSON: %d incidents, %d drills hidden; want 2 and 1", len(j.Incidents), j.HiddenDrills)
	}
	var art33 *obligationRow
	for i, o := range j.Incidents[0].Obligations {
		if o.ID == "gdpr-art33-authority" {
			art33 = &j.Incidents[0].Obligations[i]
		}
	}
	if art33 == nil || art33.Due.ISO != due.Format(time.RFC3339) || art33.Stage != stageOnTrack || art33.Action != "approve" {
		t.Fatalf("the Art. 33 row: %+v", art33)
	}
	var stages []string
	for _, p := range art33.Points {
		stages = append(stages, p.Stage)
	}
	if strings.Join(stages, " ") != "50 75 90 1h overdue" || art33.Points[0].At != aware.Add(36*time.Hour).Format(time.RFC3339Nano) {
		t.Fatalf("stage points %+v, want 50%% at %s, then 75, 90, 1h, overdue", art33.Points, aware.Add(36*time.Hour))
	}
	if strings.Contains(j.HTML, "<html") || !strings.Contains(j.HTML, "gdpr-art33-authority") {
		t.Fatalf("the JSON's html is not the board's live part: %s", clip(j.HTML, 300))
	}
}

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestStages(t *testing.T) {
	start := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	due := start.Add(72 * time.Hour)
	pts := stagePoints(start, due)
	for _, tc := range []struct {
		at   time.Duration
		want string
	}{{0, stageOnTrack}, {35 * time.Hour, stageOnTrack}, {36 * time.Hour, stage50}, {54 * time.Hour, stage75},
		{64*time.Hour + 48*time.Minute, stage90}, {71 * time.Hour, stageHour}, {72 * time.Hour, stageOverdue}, {300 * time.Hour, stageOverdue}} {
		if got := stageAt(pts, start.Add(tc.at)); got != tc.want {
			t.Errorf("at +%s: stage %s, want %s", tc.at, got, tc.want)
		}
	}
	// A clock of 90 minutes: one hour before comes before 90%.
	short := stagePoints(start, start.Add(90*time.Minute))
	if got := stageAt(short, start.Add(31*time.Minute)); got != stageHour {
		t.Errorf("a 90-minute clock at +31m: %s, want %s", got, stageHour)
	}
	if got := stageAt(short, start.Add(82*time.Minute)); got != stage90 {
		t.Errorf("a 90-minute clock at +82m: %s, want %s", got, stage90)
	}
}

func TestIncidentPage(t *testing.T) {
	b := newBoard(t, nil)
	body := b.get("/board/incidents/"+incOpen, dpo).Body.String()
	mustContain(t, body,
		"Names and addresses were downloaded by unknown parties.",
		"1042 people affected", "US-CA",
		"draft for approval", "gdpr-art33-authority.draft.md",
		"add rule inet breach drop ip saddr 198.51.100.21",
		"Incident declared by cli:ian.", "signed by web (key 0123456789abcdef)",
		`href="http://localhost:8233/namespaces/default/workflows/incident%2F`+incOpen+`"`,
		"250 of 1000 sent",
	)
	// The document: rendered, without the markup a report carried.
	doc := b.get("/board/incidents/"+incOpen+"/reports/gdpr-art33-authority.draft.md", viewer).Body.String()
	mustContain(t, doc, "<h1>Notification of a personal data breach (GDPR Art. 33)</h1>", "<li>1042 people affected</li>")
	mustNotContain(t, doc, "<script>alert")
	dl := b.get("/board/incidents/"+incOpen+"/reports/gdpr-art33-authority.draft.md/download", viewer)
	if cd := dl.Header().Get("Content-Disposition"); cd != `attachment; filename="`+incOpen+`-gdpr-art33-authority.draft.md"` {
		t.Errorf("Content-Disposition %q", cd)
	}
}

func TestRegisterFilterAndExport(t *testing.T) {
	b := newBoard(t, nil)
	for _, tc := range []struct {
		query      string
		want, none []string
	}{
		{"", []string{incClosed, "INC-20261002-EEEEEEEEEEEEEEEE"}, nil},
		{"?drills=hide", []string{incClosed}, []string{"EEEEEEEEEEEEEEEE"}},
		{"?drills=only", []string{"EEEEEEEEEEEEEEEE"}, []string{incClosed}},
		{"?risk=high", []string{"EEEEEEEEEEEEEEEE"}, []string{incClosed}},
		{"?q=PAYROLL", []string{incClosed}, []string{"EEEEEEEEEEEEEEEE"}},
		{"?from=2026-10-02", nil, []string{incClosed, "EEEEEEEEEEEEEEEE"}},
		{"?to=2026-10-01", []string{incClosed}, nil},
	} {
		t.Run(tc.query, func(t *testing.T) {
			for _, path := range []string{"/board/register", "/board/register.csv", "/board/register.json"} {
				w := b.get(path+tc.query, viewer)
				if w.Code != http.StatusOK {
					t.Fatalf("%s: status %d", path, w.Code)
				}
				mustContain(t, w.Body.String(), tc.want...)
				mustNotContain(t, w.Body.String(), tc.none...)
			}
		})
	}
	w := b.get("/board/register.json?from=yesterday", viewer)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "write it as 2026-11-28") {
		t.Fatalf("a bad date: %d %s", w.Code, w.Body)
	}
	recs, err := csv.NewReader(strings.NewReader(b.get("/board/register.csv?drills=hide", viewer).Body.String())).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != incClosed || recs[1][7] != "unlikely" || recs[1][10] != "12" {
		t.Fatalf("the CSV export: %v %v", recs, err)
	}
	if cell("=HYPERLINK(1)") != "'=HYPERLINK(1)" || cell("Payroll") != "Payroll" {
		t.Fatal("a cell a spreadsheet would run is not defused")
	}
}

// Actions: the same Update the CLI sends, for the signed-in person, signed by the board, and
// only with the anti-forgery token, the role on the board and the role in the incident.
func TestActions(t *testing.T) {
	approve := "/board/incidents/" + incOpen + "/approve"
	file := "/board/incidents/" + incOpen + "/file"
	approveForm := func() url.Values { return url.Values{"step": {"report:gdpr-art33-authority"}} }
	fileForm := func() url.Values {
		return url.Values{"obligation": {"uk-gdpr-art33-ico"}, "reference": {"ICO-2026-0042"}}
	}

	t.Run("approve", func(t *testing.T) {
		b := newBoard(t, nil)
		w := b.post(approve, dpo, approveForm(), b.csrf(dpo))
		if w.Code != http.StatusOK {
			t.Fatalf("status %d:\n%s", w.Code, w.Body)
		}
		mustContain(t, w.Body.String(), "Approved the report of gdpr-art33-authority.")
		sent := b.temporal.sent()
		if len(sent) != 1 || sent[0].name != incident.UpdateApprove || sent[0].incident != incOpen {
			t.Fatalf("updates sent: %+v", sent)
		}
		req := sent[0].arg.(*incident.ApproveRequest)
		if req.By != oidcActor(dpoSub) || req.Step != "report:gdpr-art33-authority" {
			t.Fatalf("the request: %+v", req)
		}
		keys := incident.Keys{Web: incident.EncodePublicKey(b.key.Public().(ed25519.PublicKey))}
		_, sig, unsigned := req.Signed()
		if err := keys.Verify(sig, req.By, incOpen, incident.UpdateApprove, unsigned, testNow, false); err != nil {
			t.Fatalf("the incident would refuse the board's signature: %v", err)
		}
	})
	t.Run("record a filing, answering the script in JSON", func(t *testing.T) {
		b := newBoard(t, nil)
		r := b.request(http.MethodPost, file, dpo, fileForm(), "")
		r.Header.Set("X-CSRF-Token", b.csrf(dpo))
		r.Header.Set("Accept", "application/json")
		w := b.do(r)
		var j map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &j); err != nil || w.Code != http.StatusOK || j["ok"] != true {
			t.Fatalf("status %d, %s (%v)", w.Code, w.Body, err)
		}
		req := b.temporal.sent()[0].arg.(*incident.FileRequest)
		if req.Reference != "ICO-2026-0042" || req.Obligation != "uk-gdpr-art33-ico" || req.Signature == nil || req.Signature.Signer != incident.WebDashboard {
			t.Fatalf("the request: %+v", req)
		}
	})

	for _, tc := range []struct {
		name   string
		path   string
		who    person
		form   url.Values
		csrf   func(b *board) string
		edit   func(*Config)
		status int
		says   string
	}{
		{"CSRF missing", approve, dpo, approveForm(), func(*board) string { return "" }, nil, http.StatusForbidden, "anti-forgery token"},
		{"CSRF of another person", approve, dpo, approveForm(), func(b *board) string { return b.csrf(viewer) }, nil, http.StatusForbidden, "anti-forgery token"},
		{"CSRF missing on a filing", file, dpo, fileForm(), func(*board) string { return "" }, nil, http.StatusForbidden, "anti-forgery token"},
		{"unauthorised", approve, nobody, approveForm(), func(*board) string { return "x" }, nil, http.StatusUnauthorized, "Sign in"},
		{"wrong role: a viewer", approve, viewer, approveForm(), func(b *board) string { return b.csrf(viewer) }, nil, http.StatusForbidden, "takes the dpo role"},
		{"wrong role: no role", file, noRole, fileForm(), func(*board) string { return "x" }, nil, http.StatusForbidden, "hold no role"},
		{"a DPO of the board the incident does not name", approve, otherDPO, approveForm(), func(b *board) string { return b.csrf(otherDPO) }, nil, http.StatusForbidden, "not a DPO of " + incOpen},
		{"unknown incident", "/board/incidents/" + incUnknown + "/approve", dpo, approveForm(), func(b *board) string { return b.csrf(dpo) }, nil, http.StatusNotFound, "no incident"},
		{"a closed incident", "/board/incidents/" + incClosed + "/approve", dpo, approveForm(), func(b *board) string { return b.csrf(dpo) }, nil, http.StatusConflict, "is closed"},
		{"an isolation is not the board's to confirm", approve, dpo, url.Values{"step": {"isolation:crm-api"}}, func(b *board) string { return b.csrf(dpo) }, nil, http.StatusBadRequest, "approves reports only"},
		{"a filing without its reference", file, dpo, url.Values{"obligation": {"uk-gdpr-art33-ico"}}, func(b *board) string { return b.csrf(dpo) }, nil, http.StatusBadRequest, "reference number"},
		{"the board is read-only", approve, dpo, approveForm(), func(b *board) string { return b.csrf(dpo) }, func(c *Config) { c.Signer = nil }, http.StatusForbidden, "read-only"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBoard(t, tc.edit)
			w := b.post(tc.path, tc.who, tc.form, tc.csrf(b))
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", w.Code, tc.status, w.Body)
			}
			mustContain(t, w.Body.String(), tc.says)
			if n := len(b.temporal.sent()); n != 0 {
				t.Fatalf("%d Updates were sent", n)
			}
		})
	}

	t.Run("the incident's validator refuses", func(t *testing.T) {
		b := newBoard(t, nil)
		b.temporal.reject = "the deadline has passed: give the reasons for the delay"
		w := b.post(approve, dpo, approveForm(), b.csrf(dpo))
		if w.Code != http.StatusConflict {
			t.Fatalf("status %d, want 409", w.Code)
		}
		mustContain(t, w.Body.String(), "The incident refused: the deadline has passed")
	})
	t.Run("another origin", func(t *testing.T) {
		b := newBoard(t, nil)
		r := b.request(http.MethodPost, approve, dpo, approveForm(), b.csrf(dpo))
		r.Header.Set("Sec-Fetch-Site", "cross-site")
		if w := b.do(r); w.Code != http.StatusForbidden || len(b.temporal.sent()) != 0 {
			t.Fatalf("a cross-site post: status %d, %d updates", w.Code, len(b.temporal.sent()))
		}
		r = b.request(http.MethodPost, approve, dpo, approveForm(), b.csrf(dpo))
		r.Header.Set("Origin", "https://evil.example")
		if w := b.do(r); w.Code != http.StatusForbidden || len(b.temporal.sent()) != 0 {
			t.Fatalf("a post from another origin: status %d, %d updates", w.Code, len(b.temporal.sent()))
		}
	})
}

// The forms are on the board only for those who may use them.
func TestFormsOnlyForThoseWhoMayAct(t *testing.T) {
	b := newBoard(t, nil)
	form := `action="/board/incidents/` + incOpen + `/approve"`
	mustContain(t, b.get("/board/", dpo).Body.String(), form, `action="/board/incidents/`+incOpen+`/file"`, `name="csrf" value="`+b.csrf(dpo)+`"`)
	mustNotContain(t, b.get("/board/", otherDPO).Body.String(), form)
	mustNotContain(t, b.get("/board/", viewer).Body.String(), form)
	// An overdue report asks for the reasons for the delay.
	mustContain(t, b.get("/board/incidents/"+incOverdue, dpo).Body.String(), `name="reasons" required`)
	ro := newBoard(t, func(c *Config) { c.Signer = nil })
	mustNotContain(t, ro.get("/board/", dpo).Body.String(), form)
	mustContain(t, ro.get("/board/", dpo).Body.String(), "the board is read-only")
}

func TestLocalDemoIsReadOnly(t *testing.T) {
	if _, err := New(Config{Temporal: &fakeTemporal{}, Records: localStore(t, t.TempDir()), Prefix: "/board", Local: true, Signer: make([]byte, 64)}); err == nil {
		t.Fatal("a board without sign-in took a signing key")
	}
	b := newBoard(t, func(c *Config) { c.Proxy, c.Local, c.Signer, c.SessionKey = nil, true, nil, nil })
	w := b.get("/board/", nobody)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	mustContain(t, w.Body.String(), "this machine (read-only)", incOpen)
	mustNotContain(t, w.Body.String(), "<form method=\"post\"")
	if w := b.post("/board/incidents/"+incOpen+"/approve", nobody, url.Values{"step": {"report:gdpr-art33-authority"}}, ""); w.Code != http.StatusForbidden {
		t.Fatalf("an action on the local demo: status %d", w.Code)
	}
}

func TestAssets(t *testing.T) {
	b := newBoard(t, nil)
	for path, ctype := range map[string]string{"/board/static/board.js": "javascript", "/board/static/board.css": "text/css"} {
		w := b.get(path, nobody)
		if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), ctype) {
			t.Errorf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
	}
	if w := b.get("/board/static/..%2fweb.go", nobody); w.Code != http.StatusNotFound {
		t.Errorf("a path out of the assets: %d", w.Code)
	}
}
