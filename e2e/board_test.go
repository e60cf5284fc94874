package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/oidctest"
)

// The board's people: the DPO signs in at the test's OpenID provider, and the incidents name her
// by her provider and subject.
const (
	boardClient   = "breach-board"
	boardSecret   = "e2e-board-secret"
	boardDPOSub   = "dana-schmidt"
	boardZone     = "America/New_York" // the viewer's browser's zone; the organisation's is Europe/Berlin
	boardDeadline = 3 * time.Minute
)

// TestBoardInBrowser opens the deadline board in a real headless Chromium, signed in through
// OpenID Connect, against a real Temporal dev server and `breach worker`: the demo's incident
// shows each obligation with its deadline (in the viewer's zone and UTC) and a countdown that
// decreases; an incident whose deadline passed shows as overdue; approving the report from the
// page moves its obligation on the board without a reload. Screenshots of the board and an
// incident page are saved as test artefacts (BREACH_TEST_ARTIFACTS, else the test's temporary
// directory); BREACH_UPDATE_DOCS=1 also writes docs/board.png for the README.
func TestBoardInBrowser(t *testing.T) {
	browserPath := chromium(t)
	idp, err := oidctest.Start(boardClient, boardSecret)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	idp.SignIn(oidctest.User{Subject: boardDPOSub, Name: "Dana Schmidt", Email: "dana@e2e-shop.test", Groups: []string{"privacy", "executives"}})
	dpoActor := "oidc:" + idp.Issuer() + "#" + boardDPOSub

	addr := freeHostPort(t)
	base := "http://" + addr + "/board"
	s := startStack(t, stackOptions{config: boardConfigYAML(idp.Issuer(), dpoActor, base)})
	s.mustBreach("keys", "init", "--web")
	w := s.startWorker()
	cert := filepath.Join(s.dir, "idp.pem")
	writeFile(t, cert, string(idp.CertificatePEM()))
	web := s.startProc("web.log", []string{"SSL_CERT_FILE=" + cert, "BREACH_WEB_OIDC_CLIENT_SECRET=" + boardSecret}, "web", "--addr", addr)
	waitFor(t, time.Minute, "breach web to answer", func() (bool, string) {
		if web.exited() {
			t.Fatalf("breach web exited:\n%s", tail(web.log, 30))
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})

	// The demo's incident, and one the organisation became aware of 80 hours ago.
	demo := s.declare("--title", "Customer database exposed through a misconfigured backup bucket",
		"--description", "A nightly backup of the shop database was readable from the internet for nine days.",
		"--system", "shop-db", "--system", "crm-api", "--subjects", filepath.Join(moduleRoot, "examples", "subjects.csv"),
		"--aware-at", time.Now().Add(-2*time.Hour).Truncate(time.Second).Format(time.RFC3339), "--as", commander).IncidentID
	small := filepath.Join(s.dir, "laptop.csv")
	writeSubjects(t, small, []subjectRow{{"C1", "lea.weber@example.net", "Léa Weber", "DE", "contact"}})
	late := s.declare("--title", "Laptop with a customer export stolen", "--system", "shop-db", "--subjects", small,
		"--aware-at", time.Now().Add(-80*time.Hour).Truncate(time.Second).Format(time.RFC3339), "--as", commander).IncidentID
	for _, id := range []string{demo, late} {
		decideAndWaitForReport(t, s, w, id)
	}
	demoSt := boardStatus(t, s, demo)

	ctx := newBrowser(t, browserPath)
	mustBrowse(t, chromedp.Do(ctx, chromedp.Action[chromedp.Void](func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: boardZone})
		return chromedp.Void{}, err
	})))
	// Any page sends the person to sign in at the provider and back.
	mustBrowse(t, chromedp.Do(ctx, chromedp.Navigate(base+"/")))
	signedIn := poll[string](t, ctx, `document.querySelector('header .who strong') && document.querySelector('header .who strong').textContent`)
	if signedIn != "Dana Schmidt" {
		t.Fatalf("signed in as %q", signedIn)
	}

	t.Run("each obligation with its deadline in the viewer's zone and UTC", func(t *testing.T) {
		ny, err := time.LoadLocation(boardZone)
		if err != nil {
			t.Fatal(err)
		}
		if len(demoSt.Obligations) < 2 {
			t.Fatalf("the demo's incident has %d obligations; want the GDPR and UK ones at least", len(demoSt.Obligations))
		}
		for _, o := range demoSt.Obligations {
			row := fmt.Sprintf(`document.getElementById(%q)`, "ob-"+demo+"-"+o.ID)
			// The script tells the board the browser's zone; the board writes the deadline in it.
			local := o.DueAt.In(ny).Format("Mon 2 Jan 2006 15:04 MST")
			got := poll[string](t, ctx, fmt.Sprintf(`%s && %s.querySelector('.deadline time').textContent === %q && %s.querySelector('.deadline').textContent`, row, row, local, row))
			for _, want := range []string{local, o.DueAt.UTC().Format("2006-01-02 15:04 UTC")} {
				if !strings.Contains(got, want) {
					t.Errorf("%s: the deadline reads %q, want %q in it", o.ID, got, want)
				}
			}
			iso := evaluate[string](t, ctx, row+`.querySelector('.deadline time').getAttribute('datetime')`)
			if iso != o.DueAt.UTC().Format(time.RFC3339) {
				t.Errorf("%s: <time datetime=%q>, want %s", o.ID, iso, o.DueAt.UTC().Format(time.RFC3339))
			}
			audience := evaluate[string](t, ctx, row+`.cells[1].textContent`)
			if !strings.Contains(audience, o.Audience) {
				t.Errorf("%s: the row's audience cell is %q, want %q", o.ID, audience, o.Audience)
			}
		}
	})

	t.Run("the countdown decreases", func(t *testing.T) {
		sel := fmt.Sprintf(`document.querySelector('#ob-%s-%s [data-countdown]')`, demo, art33)
		first := evaluate[string](t, ctx, sel+`.textContent`)
		a := countdownSeconds(t, first)
		second := poll[string](t, ctx, fmt.Sprintf(`%s.textContent !== %q && %s.textContent`, sel, first, sel))
		b := countdownSeconds(t, second)
		if b >= a || a-b > 30 {
			t.Fatalf("the countdown went from %q to %q: it must decrease, second by second", first, second)
		}
		due := obligationOf(t, demoSt, art33).DueAt
		if left := time.Until(due).Seconds(); float64(b) > left+5 || float64(b) < left-30 {
			t.Fatalf("the countdown says %ds left; the deadline %s is %.0fs away", b, due.UTC().Format(time.RFC3339), left)
		}
	})

	t.Run("an overdue obligation is shown as overdue", func(t *testing.T) {
		row := fmt.Sprintf(`document.getElementById(%q)`, "ob-"+late+"-"+art33)
		stage := poll[string](t, ctx, row+` && `+row+`.querySelector('[data-stage]').textContent`)
		if !strings.Contains(stage, "OVERDUE") {
			t.Fatalf("the overdue report's stage reads %q", stage)
		}
		left := evaluate[string](t, ctx, row+`.querySelector('[data-countdown]').textContent`)
		if !strings.HasPrefix(left, "overdue by 8h") {
			t.Fatalf("the overdue report's countdown reads %q, want overdue by 8h…", left)
		}
		if cls := evaluate[string](t, ctx, row+`.className`); !strings.Contains(cls, "stage-overdue") {
			t.Fatalf("the overdue row's class is %q", cls)
		}
		// The law asks for the reasons for a late report: the form asks for them.
		if !evaluate[bool](t, ctx, row+`.querySelector('textarea[name=reasons][required]') !== null`) {
			t.Fatal("the overdue report's approval does not ask for the reasons for the delay")
		}
	})

	saveArtefact(t, "board.png", screenshot(t, ctx))

	t.Run("approving the report moves the obligation without a reload", func(t *testing.T) {
		row := fmt.Sprintf(`document.getElementById(%q)`, "ob-"+demo+"-"+art33)
		if st := evaluate[string](t, ctx, row+`.dataset.state`); st != incident.OblAwaitingApproval {
			t.Fatalf("the report is %q on the board before approval", st)
		}
		mustBrowse(t, chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.breachNoReload = 'still here'`)))
		mustBrowse(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#ob-%s-%s button[data-approve]`, demo, art33)))))
		state := poll[string](t, ctx, fmt.Sprintf(`%s && %s.dataset.state === %q && %s.dataset.state`, row, row, incident.OblFiled, row))
		if state != incident.OblFiled {
			t.Fatalf("the report is %q on the board", state)
		}
		if marker := evaluate[string](t, ctx, `window.breachNoReload || ''`); marker != "still here" {
			t.Fatal("the page was reloaded")
		}
		if msg := evaluate[string](t, ctx, `document.querySelector('[data-status]').textContent`); !strings.Contains(msg, "Approved the report of "+art33) {
			t.Errorf("the page says %q after the approval", msg)
		}
		// The incident took it from the person signed in, signed by the board.
		st := boardStatus(t, s, demo)
		o := obligationOf(t, st, art33)
		if o.State != incident.OblFiled || o.SubmittedBy != dpoActor {
			t.Fatalf("the incident's %s: %s, submitted by %q; want filed by %s", art33, o.State, o.SubmittedBy, dpoActor)
		}
		signed := slices.ContainsFunc(st.Timeline, func(e incident.Event) bool {
			return e.Signature != nil && e.Signature.Signer == incident.WebDashboard
		})
		if !signed {
			t.Fatal("no event of the timeline records the board's signature")
		}
	})

	t.Run("the incident page", func(t *testing.T) {
		mustBrowse(t, chromedp.Do(ctx, chromedp.Navigate(base+"/incidents/"+demo)))
		text := poll[string](t, ctx, `document.querySelector('table.timeline') && document.body.innerText`)
		for _, want := range []string{"Names, email addresses", "Reports", "draft for approval", "Containment evidence", "Timeline", "Open the incident in the Temporal UI"} {
			if !strings.Contains(text, want) {
				t.Errorf("the incident page does not say %q", want)
			}
		}
		saveArtefact(t, "incident.png", screenshot(t, ctx))
	})

	t.Run("readable on a phone", func(t *testing.T) {
		mustBrowse(t, chromedp.Do(ctx, chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Navigate(base+"/")))
		poll[bool](t, ctx, fmt.Sprintf(`document.getElementById(%q) !== null`, "ob-"+late+"-"+art33))
		if wide := evaluate[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
			t.Errorf("the board is wider than a phone's screen: %d px for %d",
				evaluate[int](t, ctx, `document.documentElement.scrollWidth`), evaluate[int](t, ctx, `window.innerWidth`))
		}
		// Each row is a card that names its columns.
		label := evaluate[string](t, ctx, fmt.Sprintf(`getComputedStyle(document.querySelector('#ob-%s-%s td[data-label="Deadline"]'), '::before').content`, late, art33))
		if label != `"Deadline"` {
			t.Errorf("on a phone the deadline cell is labelled %s, want \"Deadline\"", label)
		}
		saveArtefact(t, "board-phone.png", screenshot(t, ctx))
	})
}

func boardConfigYAML(issuer, dpoActor, publicURL string) string {
	c := strings.Replace(configYAML(), "  dpo: ["+dpo+"]", fmt.Sprintf("  dpo: [%s, %q]", dpo, dpoActor), 1)
	return c + fmt.Sprintf(`web:
  public_url: %s
  oidc:
    issuer: %s
    client_id: %s
  roles:
    viewer: [executives]
    dpo: [privacy]
  actions: true
`, publicURL, issuer, boardClient)
}

// decideAndWaitForReport has the DPO decide at the command line, then waits for the GDPR report
// to await approval.
func decideAndWaitForReport(t *testing.T, s *stack, w *workerProc, id string) {
	t.Helper()
	p := newPilot(s, id, w)
	p.idle(boardDeadline, id+" to wait for the decision", func(st incident.Status) bool {
		return slices.Contains(pendingSteps(st), incident.UpdateDecide)
	})
	s.mustBreach("decide", id, "--risk", "high", "--as", dpo,
		"--reasoning", "Names, email addresses and order histories were downloaded by unknown parties.",
		"--consequences", "Targeted phishing.", "--measures", "The bucket was made private.", "--advice", "Be wary of emails about your orders.")
	p.idle(boardDeadline, id+"'s report to await approval", func(st incident.Status) bool {
		return slices.Contains(pendingSteps(st), incident.ReportStep(art33))
	})
}

func boardStatus(t *testing.T, s *stack, id string) incident.Status {
	t.Helper()
	st, err := s.status(id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// chromium finds Debian's chromium, which scripts/deps.sh installs.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("no Chromium to drive: install Debian's chromium (make deps, or scripts/deps.sh, does)")
	return ""
}

// newBrowser starts a headless Chromium for the test. The provider's certificate is the test's
// own, so the browser accepts any.
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("ignore-certificate-errors", true), chromedp.WindowSize(1360, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancel(); cancelAlloc() })
	return ctx
}

func mustBrowse(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// poll waits for a JavaScript expression to be truthy and returns its value.
func poll[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(90*time.Second)))
	if err != nil {
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 3000) : ''`))
		t.Fatalf("waiting for %s: %v\nthe page reads:\n%s", expr, err, text)
	}
	return v
}

func evaluate[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
}

// saveArtefact keeps a file of the test: in BREACH_TEST_ARTIFACTS when set, else in the test's
// temporary directory; with BREACH_UPDATE_DOCS=1 the board's also becomes docs/board.png.
func saveArtefact(t *testing.T, name string, data []byte) {
	t.Helper()
	dir := os.Getenv("BREACH_TEST_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("artefact: %s (%d bytes)", p, len(data))
	if name == "board.png" && os.Getenv("BREACH_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.Join(moduleRoot, "docs", "board.png"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

var countdownRE = regexp.MustCompile(`^(?:(\d+)d )?(?:(\d+)h )?(?:(\d+)m )?(\d+)s left$`)

// countdownSeconds reads a countdown as the script writes it ("2d 21h 58m 12s left").
func countdownSeconds(t *testing.T, s string) int {
	t.Helper()
	m := countdownRE.FindStringSubmatch(s)
	if m == nil {
		t.Fatalf("%q is not a countdown to the second", s)
	}
	n := 0
	for i, unit := range []int{86400, 3600, 60, 1} {
		if m[i+1] != "" {
			v, _ := strconv.Atoi(m[i+1])
			n += v * unit
		}
	}
	return n
}

// TestServeServesTheBoard: breach serve serves the board beside the Slack ingress, on the same
// address, when sign-in is configured (here a trusted proxy on this machine); the Slack paths
// still take only Slack's signed requests.
func TestServeServesTheBoard(t *testing.T) {
	conf := configYAML() + `slack:
  team_ids: [T0BOARD01]
  app_id: A0BOARD01
web:
  proxy:
    user_header: X-Auth-Request-User
    groups_header: X-Auth-Request-Groups
    issuer: https://login.e2e-shop.test
    trusted: [127.0.0.1]
  roles:
    viewer: [executives]
`
	s := startStack(t, stackOptions{config: conf, env: []string{"SLACK_BOT_TOKEN=xoxb-e2e-board", "SLACK_SIGNING_SECRET=e2e-board-secret"}})
	s.mustBreach("keys", "init", "--slack-ingress")
	w := s.startWorker()
	small := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, small, []subjectRow{{"C1", "lea.weber@example.net", "Léa Weber", "DE", "contact"}})
	id := s.declare("--title", "Ransomware note on the file server", "--system", "shop-db", "--subjects", small, "--as", commander).IncidentID
	newPilot(s, id, w).idle(boardDeadline, id+" to wait for the decision", func(st incident.Status) bool {
		return slices.Contains(pendingSteps(st), incident.UpdateDecide)
	})
	addr := startServe(s)

	get := func(path string, headers map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	erik := map[string]string{"X-Auth-Request-User": "erik", "X-Auth-Request-Groups": "executives"}
	if code, body := get("/board/", erik); code != http.StatusOK || !strings.Contains(body, "Ransomware note on the file server") || !strings.Contains(body, "waiting for the DPO&#39;s decision") {
		t.Fatalf("the board through serve: %d\n%s", code, body)
	}
	if code, body := get("/board/", nil); code != http.StatusUnauthorized || strings.Contains(body, "Ransomware") {
		t.Fatalf("the board without the proxy's headers: %d", code)
	}
	if code, _ := get("/board/", map[string]string{"X-Auth-Request-User": "nina", "X-Auth-Request-Groups": "interns"}); code != http.StatusForbidden {
		t.Fatalf("the board for someone without a role: %d", code)
	}
	if code, _ := get("/healthz", nil); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	resp, err := http.Post("http://"+addr+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("command=/breach&text=status"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an unsigned Slack command beside the board: %d", resp.StatusCode)
	}
}
