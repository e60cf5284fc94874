package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// unreachableText is what Slack shows while Temporal is away.
const unreachableText = "breach could not reach Temporal; try again in a minute, or use the CLI runbook"

// getStatus fetches url and returns its status code and body.
func getStatus(t *testing.T, url string) (int, string, error) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// `breach serve` started while no Temporal answers at its address stays up: it is live and not
// ready, acknowledges commands and forms and tells people Temporal could not be reached, and
// hands a declaration that could not start back as the CLI command that starts it. Once a
// Temporal server answers at that address, serve is ready and the next command works, without
// a restart; so does the command it handed back.
func TestSlackServeWhileTemporalIsAway(t *testing.T) {
	w := newSlackWorldWith(t, slackOrg{establishments: "[DE]"}, stackOptions{temporalLater: true})
	w.writeSubjects([]slackSubject{{country: "DE", categories: "contact"}, {country: "AT", categories: "contact"}})
	ingress := w.ic.Ingress

	code, body, err := getStatus(t, ingress+"/healthz")
	if err != nil || code != http.StatusOK {
		t.Fatalf("GET /healthz while Temporal is away: %d %q %v; want 200", code, body, err)
	}
	code, body, err = getStatus(t, ingress+"/readyz")
	if err != nil || code != http.StatusServiceUnavailable || !strings.Contains(body, "Temporal does not answer") {
		t.Fatalf("GET /readyz while Temporal is away: %d %q %v; want 503 saying Temporal does not answer", code, body, err)
	}

	w.mustOK(w.ic.Command(slackGeneral, "status"))
	w.eventually(time.Minute, "the status answer to say Temporal could not be reached", func() bool {
		return w.ephemeral(slackCommander, unreachableText)
	})

	// A declaration submitted now cannot start: the declarer is told, with the command that
	// declares it from the CLI.
	w.mustOK(w.ic.Command(slackGeneral, "declare Backup exposed"))
	form := w.view(breachslack.ViewDeclare, 1)
	w.mustOK(w.ic.Submit(form, slackfake.Values{}.
		Set(breachslack.InputTitle, slackfake.Text("Backup exposed while Temporal was away")).
		Set(breachslack.InputSystems, slackfake.MultiSelect("shop-db")).
		Set(breachslack.InputAwareAt, slackfake.DateTime(time.Now().Add(-time.Hour))).
		Set(breachslack.InputSubjects, slackfake.Select(w.dataset))))
	var handedBack string
	w.eventually(time.Minute, "the declarer to be told the incident was not declared", func() bool {
		for _, e := range w.ws.Ephemerals() {
			if e.User == slackCommander && strings.Contains(e.Text, "The incident was not declared: "+unreachableText) {
				handedBack = e.Text
				return true
			}
		}
		return false
	})
	cli := codeBlock(t, slackUnescape(handedBack))
	if !strings.HasPrefix(cli, "breach declare --title 'Backup exposed while Temporal was away' --system shop-db ") {
		t.Fatalf("the command handed back is %q", cli)
	}

	// Temporal starts at the address serve was given; serve is not restarted.
	w.s.startTemporal()
	w.worker = w.s.startWorker()
	waitFor(t, 2*time.Minute, "/readyz to say ready once Temporal answers", func() (bool, string) {
		code, body, err := getStatus(t, ingress+"/readyz")
		if err != nil {
			t.Fatalf("breach serve stopped answering: %v", err)
		}
		return code == http.StatusOK, body
	})

	w.declareFromSlack("Shop database readable", w.dataset)
	ch := w.incidentChannel()
	incident := breachslack.FindIncidentID(ch.Purpose)
	w.mustOK(w.ic.Command(ch.ID, "status"))
	w.eventually(time.Minute, "the status answer in the incident channel", func() bool {
		return w.ephemeral(slackCommander, incident+": Shop database readable")
	})

	// The command handed back declares the incident that could not start.
	sh := exec.Command("sh", "-c", cli+" --json")
	sh.Env = append(append([]string(nil), w.s.env...), "PATH="+filepath.Dir(breachBin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	sh.Dir = w.s.dir
	var stderr strings.Builder
	sh.Stderr = &stderr
	out, err := sh.Output()
	if err != nil {
		t.Fatalf("the command handed back, %s: %v\n%s%s", cli, err, out, stderr.String())
	}
	var d declared
	if err := json.Unmarshal(out, &d); err != nil || d.IncidentID == "" || d.Existing {
		t.Fatalf("the command handed back declared no new incident (%v):\n%s", err, out)
	}
	// It is the incident the form would have started: serve's log names the start that failed.
	serveLog, err := os.ReadFile(filepath.Join(w.s.dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(serveLog), "declare "+d.IncidentID) {
		t.Errorf("the command handed back declared %s, not the incident the form tried to start:\n%s", d.IncidentID, serveLog)
	}
}

// codeBlock is the text of the first ``` block of a Slack message, unescaped.
func codeBlock(t *testing.T, text string) string {
	t.Helper()
	_, after, ok := strings.Cut(text, "```")
	block, _, closed := strings.Cut(after, "```")
	if !ok || !closed {
		t.Fatalf("no code block in %q", text)
	}
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(strings.TrimSpace(block))
}
