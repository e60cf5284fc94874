package ingress_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/internal/store"
)

const (
	secret   = "8f742231b10e8888abcd99yyyzzz85a5"
	botToken = "xoxb-ingress-test"

	dpoID      = "UDPO00001"
	icID       = "UIC000001"
	outsiderID = "UOUT00001"
	incidentID = "INC-20261128-7F3A"
	team       = slackfake.DefaultTeam
)

// actorOf names a member of the served workspace as the workflow knows them.
func actorOf(user string) string { return "slack:" + team + "/" + user }

// inventory is the systems inventory of the test organisation.
var inventory = []string{"shop-db", "crm-api"}

// update is one Update the fake Temporal received.
type update struct {
	Incident, Name string
	Arg            any
}

// fakeTemporal holds incidents in memory and validates roles as the workflow does.
type fakeTemporal struct {
	mu       sync.Mutex
	declared []incident.Declaration
	updates  []update
	running  map[string]incident.Status
	reject   string
	// openRoom, when set, opens an incident's room as the worker would, and returns its id.
	openRoom func(d incident.Declaration) string
	// fail, when set, is the error every call returns (Temporal unreachable).
	fail error
}

func newFakeTemporal() *fakeTemporal {
	return &fakeTemporal{running: map[string]incident.Status{}}
}

func (f *fakeTemporal) Declare(ctx context.Context, d incident.Declaration) (bool, error) {
	f.mu.Lock()
	if f.fail != nil {
		f.mu.Unlock()
		return false, f.fail
	}
	if _, ok := f.running[d.IncidentID]; ok {
		f.mu.Unlock()
		return true, nil
	}
	f.declared = append(f.declared, d)
	f.running[d.IncidentID] = incident.Status{
		IncidentRecord: incident.IncidentRecord{IncidentID: d.IncidentID, Title: d.Title, DeclaredBy: d.DeclaredBy, AwareAt: d.AwareAt},
		Phase:          incident.PhaseContain, Roles: d.Roles,
	}
	open := f.openRoom
	f.mu.Unlock()
	if open != nil {
		room := open(d)
		f.mu.Lock()
		st := f.running[d.IncidentID]
		st.Room = room
		f.running[d.IncidentID] = st
		f.mu.Unlock()
	}
	return false, nil
}

func (f *fakeTemporal) Update(ctx context.Context, id, name string, arg any) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return "", f.fail
	}
	if _, ok := f.running[id]; !ok {
		return "", ingress.ErrNoIncident
	}
	if f.reject != "" {
		return "", &ingress.RejectedError{Reason: f.reject}
	}
	var by, role string
	switch a := arg.(type) {
	case incident.Decision:
		by, role = a.By, incident.RoleDPO
	case incident.ApproveRequest:
		by, role = a.By, incident.RoleDPO
		if strings.HasPrefix(a.Step, incident.StepIsolation) {
			role = incident.RoleCommander
		}
	case incident.FileRequest:
		by, role = a.By, incident.RoleDPO
	case incident.CloseRequest:
		by, role = a.By, incident.RoleCommander
	case incident.RetryRequest:
		by, role = a.By, incident.RoleCommander
	case incident.ReplaceSubjectsRequest:
		by, role = a.By, incident.RoleCommander
		if f.running[id].Roles.Has(incident.RoleDPO, a.By) {
			role = incident.RoleDPO
		}
		if f.running[id].ScopeError == "" {
			return "", &ingress.RejectedError{Reason: "the scope phase does not wait for a dataset"}
		}
	case incident.AmendRequest:
		by, role = a.By, incident.RoleDPO
		if f.running[id].Decision == nil {
			return "", &ingress.RejectedError{Reason: "nothing to amend yet: the DPO has not decided"}
		}
	}
	if !f.running[id].Roles.Has(role, by) {
		return "", &ingress.RejectedError{Reason: fmt.Sprintf("%s does not hold the %s role for incident %s", by, role, id)}
	}
	f.updates = append(f.updates, update{id, name, arg})
	if d, ok := arg.(incident.Decision); ok {
		return "risk " + d.Risk, nil
	}
	return name + " done", nil
}

func (f *fakeTemporal) Status(ctx context.Context, id string) (incident.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return incident.Status{}, f.fail
	}
	st, ok := f.running[id]
	if !ok {
		return st, ingress.ErrNoIncident
	}
	return st, nil
}

func (f *fakeTemporal) Open(ctx context.Context) ([]ingress.OpenIncident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	var out []ingress.OpenIncident
	for id := range f.running {
		out = append(out, ingress.OpenIncident{IncidentID: id})
	}
	return out, nil
}

func (f *fakeTemporal) Check(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fail
}

func (f *fakeTemporal) Declared() []incident.Declaration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]incident.Declaration(nil), f.declared...)
}

func (f *fakeTemporal) Updates() []update {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]update(nil), f.updates...)
}

func (f *fakeTemporal) touched() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.declared) + len(f.updates)
}

// harness is a Slack workspace, the ingress on a real listener, a fake Temporal, and people.
type harness struct {
	t        testing.TB
	ws       *slackfake.Workspace
	temporal *fakeTemporal
	srv      *ingress.Server
	url      string
	chat     *breachslack.Chat
	now      time.Time
	logs     *logBuffer
	dpo, ic  *slackfake.Person
	outsider *slackfake.Person
	// store is the dataset store the ingress serves; it holds storedDataset.
	store *datasets.Store
}

// storedDataset is in the store of every harness.
const storedDataset = "affected-march.csv"

// options change the configuration a harness serves with.
type options struct {
	// roles are the configured roles (actors and user groups); empty: the DPO and the
	// commander by name.
	roles     incident.Roles
	declarers []string
	systems   []string
	// enterprise is the configured Enterprise Grid organisation, if any.
	enterprise string
	// datasetMax is the dataset store's limit; 0: the default.
	datasetMax int64
	// configure changes the ingress configuration last.
	configure func(*ingress.Config)
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	return newHarnessWith(t, options{})
}

func newHarnessWith(t testing.TB, o options) *harness {
	t.Helper()
	h := &harness{t: t, ws: slackfake.New(botToken), temporal: newFakeTemporal(), now: time.Now(), logs: &logBuffer{}}
	// Runs last: after the ingress finished its work, nothing it sent may break Slack's limits.
	t.Cleanup(func() {
		if vs := h.ws.Violations(); len(vs) > 0 {
			t.Errorf("Slack's limits were broken:\n%s", slackfake.FormatViolations(vs))
		}
		h.ws.Close()
	})
	if o.roles.DPO == nil && o.roles.Commander == nil {
		o.roles = incident.Roles{DPO: []string{actorOf(dpoID)}, Commander: []string{actorOf(icID)}}
	}
	if o.systems == nil {
		o.systems = inventory
	}
	apiURL, err := url.Parse(h.ws.APIURL())
	require.NoError(t, err)
	h.store, err = datasets.Open(t.TempDir(), o.datasetMax)
	require.NoError(t, err)
	t.Cleanup(func() { h.store.Close() })
	_, err = h.store.Add(context.Background(), storedDataset, strings.NewReader("id,email,country\nC1,subject-1@example.net,DE\n"), false)
	require.NoError(t, err)
	cfg := ingress.Config{
		SigningSecret: secret,
		TeamIDs:       []string{team},
		EnterpriseID:  o.enterprise,
		AppID:         slackfake.DefaultApp,
		// The local Slack's response URLs and files are on 127.0.0.1.
		ResponseHosts: []string{apiURL.Host},
		FileHosts:     []string{apiURL.Host},
		BotToken:      botToken,
		Datasets:      h.store,
		Temporal:      h.temporal,
		API:           breachslack.NewAPI(botToken, h.ws.APIURL(), nil),
		Defaults: func(d *incident.Declaration) {
			d.Roles = incident.Roles{DPO: slices.Clone(o.roles.DPO), Commander: slices.Clone(o.roles.Commander)}
			d.Organisation.Timezone = "Europe/Berlin"
		},
		Declarers: o.declarers,
		Systems:   o.systems,
		CheckSystems: func(systems []string) error {
			for _, s := range systems {
				if slices.Contains(o.systems, s) || net.ParseIP(s) != nil {
					continue
				}
				if _, _, err := net.ParseCIDR(s); err == nil {
					continue
				}
				return fmt.Errorf("%s is not in the inventory (known: %s) and not an IP address", s, strings.Join(o.systems, ", "))
			}
			return nil
		},
		Logger: slog.New(slog.NewTextHandler(h.logs, nil)),
	}
	if o.configure != nil {
		o.configure(&cfg)
	}
	srv, err := ingress.New(cfg)
	require.NoError(t, err)
	h.srv = srv
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() { hs.Close(); srv.Close() })
	h.url = hs.URL
	h.chat, err = breachslack.New(breachslack.Config{Token: botToken, APIURL: h.ws.APIURL(), Store: localStore(t),
		DPO: o.roles.DPO, Commanders: o.roles.Commander, Teams: []string{team}})
	require.NoError(t, err)
	// The worker opens the room of each incident declared; its id is in the incident's record.
	h.temporal.openRoom = func(d incident.Declaration) string {
		room, err := h.chat.OpenRoom(context.Background(), incident.RoomRequest{IncidentID: d.IncidentID, Title: d.Title, DeclaredBy: d.DeclaredBy})
		if err != nil {
			t.Errorf("open the room of %s: %v", d.IncidentID, err)
		}
		return room.ID
	}
	person := func(id, name string) *slackfake.Person {
		return &slackfake.Person{ID: id, Name: name, WS: h.ws, Ingress: h.url, Secret: secret, HTTP: hs.Client()}
	}
	h.dpo, h.ic, h.outsider = person(dpoID, "dana"), person(icID, "ian"), person(outsiderID, "olga")
	return h
}

// person is someone else in the served workspace.
func (h *harness) person(id, name string) *slackfake.Person {
	return &slackfake.Person{ID: id, Name: name, WS: h.ws, Ingress: h.url, Secret: secret, HTTP: h.ic.HTTP}
}

// logBuffer collects the ingress's log.
type logBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// incident declares an incident in the fake Temporal and opens its channel through the Slack
// adapter, as the worker would.
func (h *harness) incident() incident.Room {
	h.t.Helper()
	_, err := h.temporal.Declare(context.Background(), incident.Declaration{IncidentID: incidentID, Title: "Customer DB exposed",
		DeclaredBy: actorOf(icID), AwareAt: h.now.Add(-time.Hour),
		Roles: incident.Roles{DPO: []string{actorOf(dpoID)}, Commander: []string{actorOf(icID)}}})
	require.NoError(h.t, err)
	h.temporal.mu.Lock()
	h.temporal.declared = nil
	st := h.temporal.running[incidentID]
	h.temporal.mu.Unlock()
	ch, ok := h.ws.Channel(st.Room)
	require.True(h.t, ok, "the incident's room %q", st.Room)
	return incident.Room{ID: ch.ID, Name: "#" + ch.Name}
}

// post posts a workflow message to the incident room and returns it as Slack shows it.
func (h *harness) post(room incident.Room, kind, text string) slackfake.Message {
	h.t.Helper()
	require.NoError(h.t, h.chat.Post(context.Background(), incident.ChatMessage{IncidentID: incidentID, Kind: kind, Text: text}))
	msgs := h.ws.Messages(room.ID)
	return msgs[len(msgs)-1]
}

// postMessage posts a workflow message with its structured fields and returns it as Slack shows it.
func (h *harness) postMessage(room incident.Room, m incident.ChatMessage) slackfake.Message {
	h.t.Helper()
	m.IncidentID = incidentID
	require.NoError(h.t, h.chat.Post(context.Background(), m))
	msgs := h.ws.Messages(room.ID)
	return msgs[len(msgs)-1]
}

func (h *harness) message(channelID, ts string) slackfake.Message {
	h.t.Helper()
	for _, m := range h.ws.Messages(channelID) {
		if m.TS == ts {
			return m
		}
	}
	h.t.Fatalf("no message %s in %s", ts, channelID)
	return slackfake.Message{}
}

// ephemeralsFor lists what only user saw.
func (h *harness) ephemeralsFor(user string) []string {
	var out []string
	for _, e := range h.ws.Ephemerals() {
		if e.User == user {
			out = append(out, e.Text)
		}
	}
	return out
}

func unescaped(s string) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(s)
}

func urlEscape(s string) string { return url.QueryEscape(s) }

// element is the element of the input block id of a modal, or nil.
func element(t testing.TB, v slackfake.View, id string) map[string]any {
	t.Helper()
	var view struct {
		Blocks []struct {
			BlockID string         `json:"block_id"`
			Type    string         `json:"type"`
			Element map[string]any `json:"element"`
		} `json:"blocks"`
	}
	require.NoError(t, json.Unmarshal(v.Raw, &view))
	for _, b := range view.Blocks {
		if b.BlockID == id && b.Type == "input" {
			return b.Element
		}
	}
	return nil
}

// optionValues are the values of a menu's options, in order.
func optionValues(menu map[string]any) []string {
	var out []string
	opts, _ := menu["options"].([]any)
	for _, o := range opts {
		if m, ok := o.(map[string]any); ok {
			v, _ := m["value"].(string)
			out = append(out, v)
		}
	}
	return out
}

// localStore is a store in a directory of the test, as a worker's BREACH_HOME.
func localStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Local(t.TempDir())
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}
