package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/workflows"

	breachslack "github.com/breachops/breach/internal/slack"
)

// Slack identities of the organisation in these tests.
const (
	slackDPO       = "UE2EDPO01"
	slackCommander = "UE2EIC001"
	slackToken     = "xoxb-e2e"
	slackSecret    = "e2e-signing-secret"
	slackGeneral   = "C0GENERAL"
)

// slackOrg is the organisation part of a Slack test's configuration.
type slackOrg struct {
	establishments string // YAML flow list: [DE]
	sectors        string // YAML flow list, or ""
}

// slackWorld is one incident's world seen from Slack: a real Temporal dev server, `breach
// worker` and `breach serve` as subprocesses configured for Slack, and a Slack workspace that
// enforces Slack's documented limits, where people type and click.
type slackWorld struct {
	t        *testing.T
	s        *stack
	ws       *slackfake.Workspace
	worker   *workerProc
	dpo, ic  *slackfake.Person
	subjects string
	// dataset is the name under which the subjects file is in the dataset store.
	dataset string
}

// slackActor names a member of the test workspace as roles do.
func slackActor(user string) string { return "slack:" + slackfake.DefaultTeam + "/" + user }

func slackConfigYAML(org slackOrg, slackHost string) string {
	sectors := ""
	if org.sectors != "" {
		sectors = "  sectors: " + org.sectors + "\n"
	}
	// No route for the authority report: it is filed on the portal and confirmed in Slack.
	return fmt.Sprintf(`# Written by the e2e Slack tests: roles are Slack members of the one workspace served.
organisation:
  name: Example Shop GmbH
  timezone: Europe/Berlin
  role: controller
  establishments: %s
%s  dpo_contact: "Dana, Data Protection Officer, dpo@example-shop.test"
  mail_from: privacy@example-shop.test
  subject_contact: privacy@example-shop.test
roles:
  dpo: [%s, %s]
  commander: [%s]
# The ingress's key and the DPO's command-line key are in BREACH_HOME (startStack and
# newSlackWorld make them).
signing:
  trust_local_keys: true
slack:
  team_ids: [%s]
  app_id: %s
  # The local Slack's response URLs and shared files.
  response_url_hosts: ["%s"]
  file_hosts: ["%s"]
inventory: systems.yaml
`, org.establishments, sectors, slackActor(slackDPO), "cli:"+dpo, slackActor(slackCommander), slackfake.DefaultTeam, slackfake.DefaultApp, slackHost, slackHost)
}

func newSlackWorld(t *testing.T, org slackOrg) *slackWorld {
	t.Helper()
	return newSlackWorldWith(t, org, stackOptions{})
}

// newSlackWorldWith is newSlackWorld on a stack with o; with o.temporalLater, the worker is not
// started either (it would start a Temporal dev server of its own): the test starts both.
func newSlackWorldWith(t *testing.T, org slackOrg, o stackOptions) *slackWorld {
	t.Helper()
	ws := slackfake.New(slackToken)
	// Registered first, so it runs last: after the worker and the ingress have stopped.
	t.Cleanup(func() {
		if vs := ws.Violations(); len(vs) > 0 {
			t.Errorf("breach sent Slack requests that break Slack's documented limits:\n%s", slackfake.FormatViolations(vs))
		}
		ws.Close()
	})
	apiURL, err := url.Parse(ws.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	o.config = slackConfigYAML(org, apiURL.Host)
	o.env = append(o.env, "SLACK_BOT_TOKEN="+slackToken, "SLACK_API_URL="+ws.APIURL(), "SLACK_SIGNING_SECRET="+slackSecret)
	s := startStack(t, o)
	w := &slackWorld{t: t, s: s, ws: ws, subjects: filepath.Join(s.dir, "subjects.csv")}
	// The ingress signs every decision it forwards for a Slack user.
	s.mustBreach("keys", "init", "--slack-ingress")
	if !o.temporalLater {
		w.worker = s.startWorker()
	}
	ingress := "http://" + startServe(s)
	person := func(id, name string) *slackfake.Person {
		return &slackfake.Person{ID: id, Name: name, WS: ws, Ingress: ingress, Secret: slackSecret,
			HTTP: &http.Client{Timeout: 10 * time.Second}}
	}
	w.dpo, w.ic = person(slackDPO, "dana"), person(slackCommander, "ian")
	return w
}

// startServe runs `breach serve` on a free local port and returns its address once it answers.
func startServe(s *stack) string {
	s.tb.Helper()
	addr := freeHostPort(s.tb)
	logPath := filepath.Join(s.dir, "serve.log")
	f, err := os.Create(logPath)
	if err != nil {
		s.tb.Fatal(err)
	}
	cmd := exec.Command(breachBin, "serve", "--addr", addr)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = s.env, s.dir, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		s.tb.Fatalf("start breach serve: %v", err)
	}
	p := &workerProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	s.tb.Cleanup(func() {
		p.stop()
		if s.tb.Failed() {
			s.tb.Logf("%s (tail):\n%s", logPath, tail(logPath, 30))
		}
	})
	waitFor(s.tb, time.Minute, "breach serve to answer on "+addr, func() (bool, string) {
		if p.exited() {
			s.tb.Fatalf("breach serve exited:\n%s", tail(logPath, 30))
		}
		resp, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, resp.Status
	})
	return addr
}

// slackSubject is one row of a subjects CSV, made up: no real person's data.
type slackSubject struct {
	country, state, categories string
}

// subjectsCSV is rows as a CSV export; without country, the column the scope requires.
func subjectsCSV(rows []slackSubject, country bool) []byte {
	var b bytes.Buffer
	c := csv.NewWriter(&b)
	head := []string{"id", "email", "name", "country", "state", "data_categories"}
	if !country {
		head = slices.Delete(head, 3, 4)
	}
	_ = c.Write(head)
	for i, r := range rows {
		row := []string{fmt.Sprintf("C%05d", i+1), fmt.Sprintf("subject-%05d@example.net", i+1),
			fmt.Sprintf("Subject %05d", i+1), r.country, r.state, r.categories}
		if !country {
			row = slices.Delete(row, 3, 4)
		}
		_ = c.Write(row)
	}
	c.Flush()
	return b.Bytes()
}

func (w *slackWorld) writeSubjects(rows []slackSubject) {
	w.t.Helper()
	if err := os.WriteFile(w.subjects, subjectsCSV(rows, true), 0o644); err != nil {
		w.t.Fatal(err)
	}
	// A person adds the export to the dataset store; the declare form names it.
	w.dataset = "slack-e2e-subjects.csv"
	w.s.mustBreach("datasets", "add", w.subjects, "--name", w.dataset, "--replace")
}

func (w *slackWorld) eventually(timeout time.Duration, what string, cond func() bool) {
	w.t.Helper()
	waitFor(w.t, timeout, what, func() (bool, string) {
		if w.worker != nil && w.worker.exited() {
			w.t.Fatalf("breach worker exited:\n%s", tail(w.worker.log, 30))
		}
		return cond(), ""
	})
}

func (w *slackWorld) views(callbackID string) []slackfake.View {
	var out []slackfake.View
	for _, v := range w.ws.Views() {
		if v.CallbackID == callbackID {
			out = append(out, v)
		}
	}
	return out
}

// view waits for the n-th modal opened with callbackID.
func (w *slackWorld) view(callbackID string, n int) slackfake.View {
	w.t.Helper()
	var v slackfake.View
	w.eventually(time.Minute, fmt.Sprintf("modal %s number %d to open", callbackID, n), func() bool {
		if vs := w.views(callbackID); len(vs) >= n {
			v = vs[n-1]
			return true
		}
		return false
	})
	return v
}

func (w *slackWorld) incidentChannel() slackfake.Channel {
	w.t.Helper()
	var ch slackfake.Channel
	w.eventually(time.Minute, "the incident channel with its pinned card", func() bool {
		for _, c := range w.ws.Channels() {
			if strings.HasPrefix(c.Name, "inc-") && len(c.Pins) == 1 {
				ch = c
				return true
			}
		}
		return false
	})
	return ch
}

// button waits for a message in the channel with the button actionID that was not clicked
// before.
func (w *slackWorld) button(channelID, actionID string, clicked map[string]bool) slackfake.Message {
	w.t.Helper()
	var msg slackfake.Message
	w.eventually(2*time.Minute, "a message with the button "+actionID, func() bool {
		for _, m := range w.ws.Messages(channelID) {
			for _, b := range slackfake.Buttons(m.Blocks) {
				if b.ActionID == actionID && !clicked[m.TS] {
					msg = m
					return true
				}
			}
		}
		return false
	})
	clicked[msg.TS] = true
	return msg
}

func (w *slackWorld) card(channelID string) slackfake.Message {
	ch, _ := w.ws.Channel(channelID)
	for _, m := range w.ws.Messages(channelID) {
		if len(ch.Pins) > 0 && m.TS == ch.Pins[0] {
			return m
		}
	}
	return slackfake.Message{}
}

func (w *slackWorld) message(channelID, ts string) slackfake.Message {
	for _, m := range w.ws.Messages(channelID) {
		if m.TS == ts {
			return m
		}
	}
	return slackfake.Message{}
}

func (w *slackWorld) ephemeral(user, contains string) bool {
	for _, e := range w.ws.Ephemerals() {
		if e.User == user && strings.Contains(e.Text, contains) {
			return true
		}
	}
	return false
}

func slackUnescape(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

func (w *slackWorld) mustOK(res slackfake.Result, err error) {
	w.t.Helper()
	if err != nil {
		w.t.Fatal(err)
	}
	if res.Status != http.StatusOK || len(res.Body) > 0 && strings.Contains(string(res.Body), `"errors"`) {
		w.t.Fatalf("the ingress answered %d: %s", res.Status, res.Body)
	}
}

// slackRun is what one incident played in Slack looks like.
type slackRun struct {
	title string
	// afterDecision runs once the DPO's decision is recorded.
	afterDecision func(incidentID string)
	// wantObligations is how many obligations the card must show once decided.
	wantObligations int
	// budget bounds the approving and filing.
	budget time.Duration
}

// declareFromSlack types /breach declare and submits the form, choosing dataset from the menu
// of the store's datasets the form offers.
func (w *slackWorld) declareFromSlack(title, dataset string) {
	w.t.Helper()
	n := len(w.views(breachslack.ViewDeclare)) + 1
	w.mustOK(w.ic.Command(slackGeneral, "declare "+title))
	declare := w.view(breachslack.ViewDeclare, n)
	if offered := datasetMenu(w.t, declare); !slices.Contains(offered, dataset) {
		w.t.Fatalf("the declaration form offers the datasets %v, not %s", offered, dataset)
	}
	w.mustOK(w.ic.Submit(declare, slackfake.Values{}.
		Set(breachslack.InputTitle, slackfake.Text(title)).
		Set(breachslack.InputSystems, slackfake.MultiSelect("shop-db")).
		Set(breachslack.InputAwareAt, slackfake.DateTime(time.Now().Add(-2*time.Hour))).
		Set(breachslack.InputSeverity, slackfake.Select("high")).
		Set(breachslack.InputWhat, slackfake.Text("A backup of the shop database was readable from the internet.")).
		Set(breachslack.InputSubjects, slackfake.Select(dataset))))
}

// datasetMenu lists the values of the declaration form's dataset menu.
func datasetMenu(t *testing.T, v slackfake.View) []string {
	t.Helper()
	var view struct {
		Blocks []struct {
			BlockID string `json:"block_id"`
			Element struct {
				Type    string `json:"type"`
				Options []struct {
					Value string `json:"value"`
				} `json:"options"`
			} `json:"element"`
		} `json:"blocks"`
	}
	if err := json.Unmarshal(v.Raw, &view); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range view.Blocks {
		if b.BlockID == breachslack.InputSubjects && b.Element.Type == "static_select" {
			for _, o := range b.Element.Options {
				out = append(out, o.Value)
			}
		}
	}
	return out
}

// runSlackIncident plays the whole incident as people in Slack: /breach declare → the form →
// /breach status → the DPO's decision (form) → every report approved (button) and every portal
// filing confirmed (form) → /breach status in another channel → close. It returns the incident
// ID, its channel and the workflow's result.
func runSlackIncident(t *testing.T, w *slackWorld, run slackRun) (string, slackfake.Channel, workflows.Result) {
	w.declareFromSlack(run.title, w.dataset)

	ch := w.incidentChannel()
	if !ch.Private {
		t.Errorf("the incident channel %s is not private", ch.Name)
	}
	for _, u := range []string{slackCommander, slackDPO} {
		if !strings.Contains(strings.Join(ch.Members, ","), u) {
			t.Errorf("%s was not invited to %s (members %v)", u, ch.Name, ch.Members)
		}
	}
	incidentID := breachslack.FindIncidentID(ch.Purpose)
	if incidentID == "" {
		t.Fatalf("the channel purpose %q names no incident", ch.Purpose)
	}
	shownTitle := breachslack.Escape(run.title)

	clicked := map[string]bool{}
	decideMsg := w.button(ch.ID, breachslack.ActionDecide, clicked)

	// Someone asks where things stand, in the incident channel.
	w.mustOK(w.ic.Command(ch.ID, "status"))
	w.eventually(time.Minute, "the status answer", func() bool {
		return w.ephemeral(slackCommander, incidentID+": "+shownTitle) && w.ephemeral(slackCommander, "left")
	})

	w.mustOK(w.dpo.Click(decideMsg, breachslack.ActionDecide))
	decide := w.view(breachslack.ViewDecide, 1)
	w.mustOK(w.dpo.Submit(decide, slackfake.Values{}.
		Set(breachslack.InputRisk, slackfake.Radio("high")).
		Set(breachslack.InputNotify, slackfake.Checkboxes(breachslack.NotifyAuthority, breachslack.NotifySubjects)).
		Set(breachslack.InputReasoning, slackfake.Text("Names, addresses and order histories were downloaded by unknown parties.")).
		Set(breachslack.InputConsequen, slackfake.Text("Targeted phishing that quotes orders.")).
		Set(breachslack.InputMeasures, slackfake.Text("Bucket made private; keys rotated.")).
		Set(breachslack.InputAdvice, slackfake.Text("Be wary of emails that mention your orders."))))
	w.eventually(time.Minute, "the decision message to show who decided", func() bool {
		return strings.Contains(slackUnescape(string(w.message(ch.ID, decideMsg.TS).Blocks)), "Decided by <@"+slackDPO+">")
	})
	if run.afterDecision != nil {
		run.afterDecision(incidentID)
	}
	w.eventually(2*time.Minute, fmt.Sprintf("the card to show %d obligations", run.wantObligations), func() bool {
		return strings.Count(slackUnescape(string(w.card(ch.ID).Blocks)), "• `") >= run.wantObligations+1 // + shop-db
	})

	// The DPO approves every report and confirms every portal filing as they come; the
	// commander's attempt to approve the first report is refused, to the commander only.
	refused := false
	var closeMsg slackfake.Message
	approvals, filings := 0, 0
	waitFor(t, run.budget, "every report approved and filed, then the close button", func() (bool, string) {
		if w.worker.exited() {
			t.Fatalf("breach worker exited:\n%s", tail(w.worker.log, 30))
		}
		for _, m := range w.ws.Messages(ch.ID) {
			if clicked[m.TS] {
				continue
			}
			for _, b := range slackfake.Buttons(m.Blocks) {
				switch b.ActionID {
				case breachslack.ActionApproveReport:
					if !refused {
						w.mustOK(w.ic.Click(m, breachslack.ActionApproveReport))
						w.eventually(time.Minute, "the refusal, shown to the commander only", func() bool {
							return w.ephemeral(slackCommander, "does not hold the dpo role")
						})
						refused = true
					}
					clicked[m.TS] = true
					approvals++
					w.mustOK(w.dpo.Click(m, breachslack.ActionApproveReport))
				case breachslack.ActionFileReport:
					clicked[m.TS] = true
					filings++
					w.mustOK(w.dpo.Click(m, breachslack.ActionFileReport))
					v := w.view(breachslack.ViewFile, filings)
					ob := strings.TrimPrefix(strings.Fields(b.Value)[1], "file:")
					w.mustOK(w.dpo.Submit(v, slackfake.Values{}.Set(breachslack.InputReference, slackfake.Text("PORTAL-"+ob))))
				case breachslack.ActionClose:
					closeMsg = m
				}
			}
		}
		return closeMsg.TS != "", fmt.Sprintf("%d reports approved, %d filings confirmed", approvals, filings)
	})
	if approvals == 0 || filings == 0 {
		t.Errorf("the run approved %d reports and confirmed %d filings: the path through the forms was not taken", approvals, filings)
	}

	// Anywhere else, /breach status lists the open incidents to those who hold a role in them,
	// and tells the others nothing about them.
	w.mustOK(w.dpo.Command(slackGeneral, "status"))
	w.eventually(time.Minute, "the list of open incidents", func() bool {
		return w.ephemeral(slackDPO, "Open incidents (1)") && w.ephemeral(slackDPO, incidentID)
	})
	outsider := &slackfake.Person{ID: "UE2EOUT02", Name: "olga", WS: w.ws, Ingress: w.ic.Ingress, Secret: slackSecret, HTTP: w.ic.HTTP}
	w.mustOK(outsider.Command(slackGeneral, "status"))
	w.eventually(time.Minute, "the answer to someone without a role", func() bool {
		return w.ephemeral(outsider.ID, "shows a running incident in its own channel")
	})
	if w.ephemeral(outsider.ID, incidentID) {
		t.Errorf("someone without a role was shown %s", incidentID)
	}

	w.mustOK(w.ic.Click(closeMsg, breachslack.ActionClose))
	var result workflows.Result
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := w.s.client.GetWorkflow(ctx, workflows.IncidentWorkflowID(incidentID), "").Get(ctx, &result); err != nil {
		t.Fatalf("incident %s did not complete: %v", incidentID, err)
	}
	w.eventually(time.Minute, "the card to show the incident closed", func() bool {
		c := w.card(ch.ID)
		return strings.Contains(c.Text, "Phase: closed") && strings.Contains(slackUnescape(string(c.Blocks)), "Closed <!date^")
	})
	for ts := range clicked {
		if m := w.message(ch.ID, ts); len(slackfake.Buttons(m.Blocks)) > 0 {
			t.Errorf("message %s still has buttons after they were used: %s", ts, m.Text)
		}
	}
	return incidentID, ch, result
}

// checkSlackRun checks what every run leaves in Slack and in the result.
func checkSlackRun(t *testing.T, w *slackWorld, incidentID string, ch slackfake.Channel, result workflows.Result) {
	t.Helper()
	card := w.card(ch.ID)
	cards := 0
	for _, m := range w.ws.Messages(ch.ID) {
		if strings.Contains(string(m.Blocks), breachslack.BlockCardHeader) {
			cards++
		}
	}
	if cards != 1 || card.Edits < 1 {
		t.Errorf("want one card edited in place, got %d card messages, %d edits", cards, card.Edits)
	}
	text := slackUnescape(string(card.Blocks))
	for _, want := range []string{"closed", "shop-db", "gdpr-art33-authority", "approved by <@" + slackDPO + ">", "by <@" + slackCommander + ">"} {
		if !strings.Contains(text, want) {
			t.Errorf("the closed card lacks %q:\n%s", want, card.Text)
		}
	}
	if ch, _ := w.ws.Channel(ch.ID); !strings.HasSuffix(ch.Topic, "· closed") {
		t.Errorf("the topic is %q", ch.Topic)
	}
	if len(w.ws.DirectMessages(slackDPO)) == 0 {
		t.Error("the DPO got no direct message for the urgent decision")
	}
	if n := slackChannelsNamed(w.ws, "inc-"); n != 1 {
		t.Errorf("%d incident channels, want 1", n)
	}
	if result.Records.Register == "" {
		t.Errorf("no register entry: %+v", result)
	}
	raw, _ := json.Marshal(result)
	if strings.Contains(string(raw), "@example.net") {
		t.Error("a subject's address is in the workflow result")
	}
	for _, m := range w.ws.Messages(ch.ID) {
		if strings.Contains(m.Text, "@example.net") || strings.Contains(string(m.Blocks), "@example.net") {
			t.Errorf("a subject's address is in a Slack message: %s", m.Text)
		}
	}
	if vs := w.ws.Violations(); len(vs) > 0 {
		t.Fatalf("breach sent Slack requests that break Slack's documented limits:\n%s", slackfake.FormatViolations(vs))
	}
}

func slackChannelsNamed(ws *slackfake.Workspace, prefix string) int {
	n := 0
	for _, c := range ws.Channels() {
		if strings.HasPrefix(c.Name, prefix) {
			n++
		}
	}
	return n
}

func germanCustomers(w *slackWorld) {
	w.writeSubjects([]slackSubject{{"DE", "", "contact;order-history"}, {"DE", "", "contact"}, {"DE", "", "contact;order-history"}})
}

func TestSlackIncident(t *testing.T) {
	w := newSlackWorld(t, slackOrg{establishments: "[DE]"})
	germanCustomers(w)

	// breach serve acts for its workspace and app only: the same command from another
	// workspace, or for another app, is refused and opens nothing.
	for _, p := range []*slackfake.Person{
		{ID: "UE2EOUT01", Name: "mallory", WS: w.ws, Ingress: w.ic.Ingress, Secret: slackSecret, HTTP: w.ic.HTTP, Team: "T0FOREIGN"},
		{ID: "UE2EOUT01", Name: "mallory", WS: w.ws, Ingress: w.ic.Ingress, Secret: slackSecret, HTTP: w.ic.HTTP, App: "A0FOREIGN"},
	} {
		res, err := p.Command(slackGeneral, "declare Pwned")
		if err != nil {
			t.Fatal(err)
		}
		if res.Status != http.StatusForbidden {
			t.Errorf("a command from team %s for app %s: %d %s, want 403", p.Team, p.App, res.Status, res.Body)
		}
	}

	incidentID, ch, result := runSlackIncident(t, w, slackRun{title: "Customer database exposed", wantObligations: 2, budget: 3 * time.Minute})
	checkSlackRun(t, w, incidentID, ch, result)
	if n := len(w.views(breachslack.ViewDeclare)); n != 1 {
		t.Errorf("%d declaration forms opened, want the one of the commander", n)
	}
}

// Slack answers 429 with Retry-After and 500s while the incident runs; the chat activities are
// retried, and the incident completes with the card correct.
func TestSlackIncidentThroughSlackFailures(t *testing.T) {
	w := newSlackWorld(t, slackOrg{establishments: "[DE]"})
	germanCustomers(w)
	w.ws.SetFaults(func(method string, call int) *slackfake.Fault {
		rateLimited := &slackfake.Fault{Status: http.StatusTooManyRequests, RetryAfter: 1}
		unavailable := &slackfake.Fault{Status: http.StatusInternalServerError}
		switch {
		case method == "conversations.create" && call == 1, method == "chat.update" && call == 1,
			method == "chat.postMessage" && call == 3:
			return rateLimited
		case method == "pins.add" && call == 1, method == "chat.update" && call == 2,
			method == "chat.postMessage" && call == 5, method == "conversations.open" && call == 1:
			return unavailable
		}
		return nil
	})
	incidentID, ch, result := runSlackIncident(t, w, slackRun{title: "Customer database exposed", wantObligations: 2, budget: 3 * time.Minute})
	checkSlackRun(t, w, incidentID, ch, result)
	for _, m := range []string{"conversations.create", "pins.add", "chat.update", "chat.postMessage"} {
		if w.ws.Calls(m) < 2 {
			t.Errorf("%s was called %d times: the fault was not retried", m, w.ws.Calls(m))
		}
	}
}

// slackLongTitle is 200 characters in several scripts, with characters mrkdwn must escape.
func slackLongTitle() string {
	base := "Données exposées à Zürich & <prod> — Διαρροή δεδομένων — Утечка данных — 顧客データ漏洩 — تسريب البيانات — 🚨👩🏽‍💻 "
	r := []rune(strings.Repeat(base, 3))
	return string(r[:200])
}

// A large incident: a 200-character title in several scripts, and customers in the EU, the UK,
// Canada, Australia, Singapore, Brazil and six US states of an organisation in health care,
// NIS2-essential and listed, which the DPO finds a significant incident: 27 obligations (28
// once the NIS2 notification is filed), each approved and filed from Slack, every one of them
// on the card.
func TestSlackLargeIncident(t *testing.T) {
	w := newSlackWorld(t, slackOrg{establishments: "[DE, GB, CA, AU, SG, BR]",
		sectors: "[health-covered-entity, nis2-essential, us-listed]"})
	var rows []slackSubject
	for _, c := range []string{"DE", "GB", "CA", "AU", "SG", "BR"} {
		rows = append(rows, slackSubject{c, "", "health;financial"})
	}
	for state, n := range map[string]int{"CA": 1, "NY": 1, "CO": 500, "FL": 500, "TX": 250, "WA": 501} {
		for range n {
			rows = append(rows, slackSubject{"US", state, "contact;health"})
		}
	}
	w.writeSubjects(rows)
	title := slackLongTitle()
	if utf8.RuneCountInString(title) != 200 {
		t.Fatalf("the title has %d characters", utf8.RuneCountInString(title))
	}

	run := slackRun{title: title, wantObligations: 27, budget: 10 * time.Minute,
		afterDecision: func(incidentID string) {
			// NIS2 significance is the one fact the decision form does not ask.
			// The decision form has no NIS2 significance field: the DPO amends at the command line,
			// as the command-line actor the configuration also names.
			w.s.mustBreach("amend", incidentID, "--significant", "--as", dpo)
		}}
	incidentID, ch, result := runSlackIncident(t, w, run)
	checkSlackRun(t, w, incidentID, ch, result)

	card := w.card(ch.ID)
	shown := slackUnescape(string(card.Blocks))
	st, err := w.s.status(incidentID)
	if err != nil {
		t.Fatal(err)
	}
	// The 27 of the decision, and the NIS2 final report, whose clock starts when the NIS2
	// notification is filed.
	if len(st.Obligations) != 28 {
		t.Errorf("%d obligations, want 28", len(st.Obligations))
	}
	for _, o := range st.Obligations {
		if !strings.Contains(shown, "`"+o.ID+"`") {
			t.Errorf("the card does not show %s", o.ID)
		}
		if o.State != workflows.OblFiled {
			t.Errorf("%s is %s", o.ID, o.State)
		}
	}
	var blocks []struct {
		Type string `json:"type"`
		Text struct {
			Text string `json:"text"`
		} `json:"text"`
	}
	if err := json.Unmarshal(card.Blocks, &blocks); err != nil || len(blocks) == 0 || blocks[0].Type != "header" {
		t.Fatalf("the card has no header: %v %s", err, card.Blocks)
	}
	head := blocks[0].Text.Text
	if !utf8.ValidString(head) || utf8.RuneCountInString(head) > 150 ||
		!strings.HasPrefix(":rotating_light: "+incidentID+": "+title, strings.TrimSuffix(head, "…")) {
		t.Errorf("the card's header is not the start of the title in whole characters: %q", head)
	}
	if ch, _ := w.ws.Channel(ch.ID); !utf8.ValidString(ch.Purpose) || !strings.Contains(ch.Purpose, incidentID) {
		t.Errorf("the channel purpose is %q", ch.Purpose)
	}
}

// The declared dataset fails the scope (a column is missing); the commander shares the
// corrected export in the incident channel and runs Use as subjects dataset on it: breach
// serve downloads it from Slack with the bot token, stores it, and sends the signed
// replace-subjects, and the worker assesses the scope again with it.
func TestSlackScopeFixedByASharedCSV(t *testing.T) {
	w := newSlackWorld(t, slackOrg{establishments: "[DE]"})
	rows := []slackSubject{{"DE", "", "contact;order-history"}, {"DE", "", "contact"}, {"DE", "", "contact;order-history"}}
	bad := filepath.Join(w.s.dir, "no-country.csv")
	if err := os.WriteFile(bad, subjectsCSV(rows, false), 0o644); err != nil {
		t.Fatal(err)
	}
	w.s.mustBreach("datasets", "add", bad, "--name", "slack-e2e-no-country.csv")
	w.declareFromSlack("Customer database exposed", "slack-e2e-no-country.csv")

	ch := w.incidentChannel()
	incidentID := breachslack.FindIncidentID(ch.Purpose)
	if incidentID == "" {
		t.Fatalf("the channel purpose %q names no incident", ch.Purpose)
	}
	var st workflows.Status
	w.eventually(2*time.Minute, "the scope to fail and wait for a corrected dataset", func() bool {
		var err error
		st, err = w.s.status(incidentID)
		return err == nil && st.ScopeError != "" && hasPending(st, workflows.UpdateReplaceSubjects)
	})
	if !strings.Contains(st.ScopeError, `"country"`) {
		t.Errorf("the scope failed for another reason: %s", st.ScopeError)
	}

	corrected := subjectsCSV(rows, true)
	m, err := w.ws.ShareFile(ch.ID, slackCommander, "customers corrected.csv", corrected)
	if err != nil {
		t.Fatal(err)
	}
	w.mustOK(w.ic.Shortcut(m, breachslack.ShortcutUseDataset))
	waitFor(t, time.Minute, "the commander to be told the scope is assessed again", func() (bool, string) {
		var told []string
		for _, e := range w.ws.Ephemerals() {
			if e.User == slackCommander {
				told = append(told, e.Text)
			}
		}
		return w.ephemeral(slackCommander, "is assessed again with it"), "the commander was told: " + strings.Join(told, " | ")
	})
	w.eventually(2*time.Minute, "the scope assessed with the shared dataset", func() bool {
		var err error
		st, err = w.s.status(incidentID)
		return err == nil && st.ScopeError == "" && st.Scope != nil
	})
	name := strings.TrimPrefix(st.Dataset.URI, "dataset:")
	if !strings.HasPrefix(name, "customers-corrected-") {
		t.Fatalf("the incident's dataset is %q, want the shared file's", st.Dataset.URI)
	}
	if st.Scope.Subjects != len(rows) {
		t.Errorf("the scope counts %d subjects, want %d", st.Scope.Subjects, len(rows))
	}
	stored, err := os.ReadFile(filepath.Join(w.s.home, "datasets", name))
	if err != nil || !bytes.Equal(stored, corrected) {
		t.Fatalf("the dataset store holds %d bytes for %s (%v), want the shared file", len(stored), name, err)
	}
	if w.ws.Calls(slackfake.DownloadMethod) != 1 {
		t.Errorf("the shared file was downloaded %d times, want once", w.ws.Calls(slackfake.DownloadMethod))
	}
	// The decision is next, in the channel, as for a dataset that was right from the start.
	w.button(ch.ID, breachslack.ActionDecide, map[string]bool{})
	for _, e := range w.ws.Ephemerals() {
		if strings.Contains(e.Text, "@example.net") {
			t.Errorf("a reply shows the file's content: %s", e.Text)
		}
	}
	for _, msg := range w.ws.Messages(ch.ID) {
		if strings.Contains(msg.Text, "@example.net") || strings.Contains(string(msg.Blocks), "@example.net") {
			t.Errorf("a subject's address is in a Slack message: %s", msg.Text)
		}
	}
}
