package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/mail"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/worker"
	"github.com/breachops/breach/workflows"
)

// Slack identities of the organisation in these tests.
const (
	slackDPO       = "UE2EDPO01"
	slackCommander = "UE2EIC001"
	slackToken     = "xoxb-e2e"
	slackSecret    = "e2e-signing-secret"
)

// slackWorld is one incident's world seen from Slack: a real Temporal dev server, a worker
// built in-process whose chat is the Slack adapter, the ingress on a real listener, and a Slack
// workspace (slacktest, extended) where people type and click.
type slackWorld struct {
	t        *testing.T
	ws       *slackfake.Workspace
	client   client.Client
	ingress  *ingress.Server
	home     string
	dpo, ic  *slackfake.Person
	subjects string
}

func slackTemporalBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BREACH_TEMPORAL_BIN")
	if bin == "" {
		t.Fatal("BREACH_TEMPORAL_BIN is not set: run the tests with `make test` (it exports it), or export BREACH_TEMPORAL_BIN=$PWD/bin/temporal after `make bin/.temporal-v1.5.1`")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("BREACH_TEMPORAL_BIN=%s: %v; `make bin/.temporal-v1.5.1` builds the pinned Temporal CLI", bin, err)
	}
	return bin
}

func newSlackWorld(t *testing.T) *slackWorld {
	t.Helper()
	bin := slackTemporalBin(t)
	dir := t.TempDir()
	w := &slackWorld{t: t, ws: slackfake.New(slackToken), home: filepath.Join(dir, "home")}
	t.Cleanup(w.ws.Close)

	logf, err := os.Create(filepath.Join(dir, "temporal.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logf.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quiet := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: &client.Options{Namespace: "default", Logger: quiet},
		LogLevel:      "error",
		Stdout:        logf,
		Stderr:        logf,
	})
	if err != nil {
		t.Fatalf("start the Temporal dev server %s: %v (log in %s)", bin, err, logf.Name())
	}
	t.Cleanup(func() { _ = dev.Stop() })
	w.client = dev.Client()

	w.subjects = filepath.Join(dir, "subjects.csv")
	slackWriteFile(t, w.subjects, "id,email,name,country,state,data_categories\n"+
		"C1,anna.keller@example.net,Anna Keller,DE,,contact;order-history\n"+
		"C2,jonas.wolf@example.net,Jonas Wolf,DE,,contact\n"+
		"C3,mia.braun@example.net,Mia Braun,DE,,contact;order-history\n")
	inv, err := firewall.ParseInventory([]byte("defaults:\n  provider: dry-run\nsystems:\n  - name: shop-db\n    addresses: [198.51.100.21]\n"))
	if err != nil {
		t.Fatal(err)
	}
	fw := firewall.NewRegistry(inv, firewall.Options{DryRunPath: filepath.Join(w.home, "firewall-dry-run.jsonl")})

	chat, err := breachslack.New(breachslack.Config{Token: slackToken, APIURL: w.ws.APIURL(), Dir: w.home,
		DPO: []string{slackDPO}, Commanders: []string{slackCommander}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Chat: chat, Mail: mail.Outbox{Dir: filepath.Join(w.home, "outbox")},
		Firewalls: fw, Datasets: activities.LocalDatasets{}, Dir: w.home}
	wk := worker.New(w.client, acts)
	if err := wk.Start(); err != nil {
		t.Fatalf("start the worker: %v", err)
	}
	t.Cleanup(wk.Stop)

	srv, err := ingress.New(ingress.Config{
		SigningSecret: slackSecret,
		Temporal:      ingress.NewTemporal(w.client),
		API:           breachslack.NewAPI(slackToken, w.ws.APIURL(), nil),
		Defaults:      slackDefaults,
		CheckSystems: func(systems []string) error {
			for _, s := range systems {
				if _, err := inv.Resolve(s); err != nil {
					return err
				}
			}
			return nil
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	w.ingress = srv
	person := func(id, name string) *slackfake.Person {
		return &slackfake.Person{ID: id, Name: name, WS: w.ws, Ingress: hs.URL, Secret: slackSecret, HTTP: hs.Client()}
	}
	w.dpo, w.ic = person(slackDPO, "dana"), person(slackCommander, "ian")
	return w
}

// slackDefaults is the organisation's configuration, as `breach serve` copies it into each
// declaration: roles are Slack user ids.
func slackDefaults(d *workflows.Declaration) {
	d.Organisation = activities.Organisation{Name: "Example Shop GmbH", Timezone: "Europe/Berlin", Role: "controller",
		Establishments: []string{"DE"}, DPOContact: "Dana, dpo@example-shop.test", MailFrom: "privacy@example-shop.test",
		SubjectContact: "privacy@example-shop.test"}
	d.Roles = workflows.Roles{DPO: []string{slackDPO}, Commander: []string{slackCommander}}
	d.Routes = []workflows.Route{{Obligation: "gdpr-art33-authority", Method: "email",
		Address: "breach-reports@supervisory-authority.example", Name: "Berlin Commissioner for Data Protection"}}
}

func slackWriteFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
		t.Fatal(err)
	}
}

// slackEventually waits for cond, checking it every 100 ms; it is never an assertion of speed.
func slackEventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *slackWorld) view(callbackID string, n int) slackfake.View {
	w.t.Helper()
	var v slackfake.View
	slackEventually(w.t, time.Minute, fmt.Sprintf("modal %s number %d to open", callbackID, n), func() bool {
		seen := 0
		for _, x := range w.ws.Views() {
			if x.CallbackID == callbackID {
				if seen++; seen == n {
					v = x
					return true
				}
			}
		}
		return false
	})
	return v
}

func (w *slackWorld) incidentChannel() slackfake.Channel {
	w.t.Helper()
	var ch slackfake.Channel
	slackEventually(w.t, time.Minute, "the incident channel with its pinned card", func() bool {
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
	slackEventually(w.t, 2*time.Minute, "a message with the button "+actionID, func() bool {
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

// runSlackIncident plays the whole incident as people in Slack: /breach declare → the form →
// the DPO's decision → the report approved → close; the card ends showing closed.
func runSlackIncident(t *testing.T, w *slackWorld) {
	const general = "C0GENERAL"
	w.mustOK(w.ic.Command(general, "declare Customer database exposed"))
	declare := w.view(breachslack.ViewDeclare, 1)
	w.mustOK(w.ic.Submit(declare, slackfake.Values{}.
		Set(breachslack.InputTitle, slackfake.Text("Customer database exposed")).
		Set(breachslack.InputSystems, slackfake.Text("shop-db")).
		Set(breachslack.InputAwareAt, slackfake.DateTime(time.Now().Add(-2*time.Hour))).
		Set(breachslack.InputSeverity, slackfake.Select("high")).
		Set(breachslack.InputWhat, slackfake.Text("A backup of the shop database was readable from the internet.")).
		Set(breachslack.InputSubjects, slackfake.Text(w.subjects))))

	ch := w.incidentChannel()
	if !ch.Private {
		t.Errorf("the incident channel %s is not private", ch.Name)
	}
	for _, u := range []string{slackCommander, slackDPO} {
		if !strings.Contains(strings.Join(ch.Members, ","), u) {
			t.Errorf("%s was not invited to %s (members %v)", u, ch.Name, ch.Members)
		}
	}
	incident := breachslack.FindIncidentID(ch.Purpose)
	if incident == "" {
		t.Fatalf("the channel purpose %q names no incident", ch.Purpose)
	}

	clicked := map[string]bool{}
	decideMsg := w.button(ch.ID, breachslack.ActionDecide, clicked)

	// Someone asks where things stand, in the incident channel.
	w.mustOK(w.ic.Command(ch.ID, "status"))
	slackEventually(t, time.Minute, "the status answer", func() bool {
		for _, e := range w.ws.Ephemerals() {
			if e.User == slackCommander && strings.Contains(e.Text, incident+": Customer database exposed") && strings.Contains(e.Text, "left") {
				return true
			}
		}
		return false
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
	slackEventually(t, time.Minute, "the decision message to show who decided", func() bool {
		for _, m := range w.ws.Messages(ch.ID) {
			if m.TS == decideMsg.TS {
				return strings.Contains(slackUnescape(string(m.Blocks)), "Decided by <@"+slackDPO+">")
			}
		}
		return false
	})

	approve := w.button(ch.ID, breachslack.ActionApproveReport, clicked)
	// The incident commander may not approve the regulator report: only the clicker hears why.
	w.mustOK(w.ic.Click(approve, breachslack.ActionApproveReport))
	slackEventually(t, time.Minute, "the refusal, shown to the commander only", func() bool {
		for _, e := range w.ws.Ephemerals() {
			if e.User == slackCommander && strings.Contains(e.Text, "does not hold the dpo role") {
				return true
			}
		}
		return false
	})
	w.mustOK(w.dpo.Click(approve, breachslack.ActionApproveReport))
	slackEventually(t, time.Minute, "the approval message to show who approved", func() bool {
		for _, m := range w.ws.Messages(ch.ID) {
			if m.TS == approve.TS {
				return strings.Contains(slackUnescape(string(m.Blocks)), "Approved by <@"+slackDPO+">") && len(slackfake.Buttons(m.Blocks)) == 0
			}
		}
		return false
	})

	closeMsg := w.button(ch.ID, breachslack.ActionClose, clicked)
	w.mustOK(w.ic.Click(closeMsg, breachslack.ActionClose))

	var result workflows.Result
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := w.client.GetWorkflow(ctx, workflows.IncidentWorkflowID(incident), "").Get(ctx, &result); err != nil {
		t.Fatalf("incident %s did not complete: %v", incident, err)
	}
	slackEventually(t, time.Minute, "the card to show the incident closed", func() bool {
		c := w.card(ch.ID)
		return strings.Contains(c.Text, "Phase: closed") && strings.Contains(slackUnescape(string(c.Blocks)), "Closed <!date^")
	})

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
	if incidents := slackChannelsNamed(w.ws, "inc-"); incidents != 1 {
		t.Errorf("%d incident channels, want 1", incidents)
	}
	if result.Records.Register == "" {
		t.Errorf("no register entry: %+v", result)
	}
	raw, _ := json.Marshal(result)
	if strings.Contains(string(raw), "anna.keller@example.net") {
		t.Error("a subject's address is in the workflow result")
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

func TestSlackIncident(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	runSlackIncident(t, newSlackWorld(t))
}

// Slack answers 429 with Retry-After and 500s while the incident runs; the chat activities are
// retried, and the incident completes with the card correct.
func TestSlackIncidentThroughSlackFailures(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	w := newSlackWorld(t)
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
	runSlackIncident(t, w)
	for _, m := range []string{"conversations.create", "pins.add", "chat.update", "chat.postMessage"} {
		if w.ws.Calls(m) < 2 {
			t.Errorf("%s was called %d times: the fault was not retried", m, w.ws.Calls(m))
		}
	}
}
