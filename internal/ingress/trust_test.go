package ingress_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// Requests from a workspace, Enterprise Grid organisation or app breach does not serve are
// refused with 403 after the signature check: nothing starts, and breach asks nothing of Slack.
func TestRequestsFromElsewhereAreRefused(t *testing.T) {
	// A sender sets up what its request needs (a room, a form), calls mark, and sends.
	type sender func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error)
	declare := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		mark()
		return p.Command("C0GENERAL", "declare Pwned")
	}
	status := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		h.incident()
		mark()
		return p.Command("C0GENERAL", "status")
	}
	closeClick := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		room := h.incident()
		m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
		mark()
		return p.Click(m, breachslack.ActionClose)
	}
	form := func(h *harness) slackfake.View {
		// A form a member of the workspace opened.
		_, err := h.ic.Command("C0GENERAL", "declare x")
		require.NoError(t, err)
		h.srv.Wait()
		require.Len(t, h.ws.Views(), 1)
		return h.ws.Views()[0]
	}
	submit := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		v := form(h)
		mark()
		return p.Submit(v, declareValues("shop-db"))
	}
	suggest := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		v := form(h)
		mark()
		return p.Suggest(ingress.PathOptions, v, breachslack.InputSystems, "")
	}
	// Slack sends a message shortcut without api_app_id; the sender adds one when the person
	// names an app, as a forged payload would.
	shortcut := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		room := h.incident()
		require.NoError(t, h.ws.Join(room.ID, p.ID))
		m, err := h.ws.ShareFile(room.ID, icID, "subjects.csv", []byte("id,email,country\n"))
		require.NoError(t, err)
		payload, err := p.ShortcutPayload(m, breachslack.ShortcutUseDataset)
		require.NoError(t, err)
		if p.App != "" {
			payload["api_app_id"] = p.App
		}
		raw, err := json.Marshal(payload)
		require.NoError(t, err)
		mark()
		return p.Send(ingress.PathInteractions, []byte("payload="+urlEscape(string(raw))))
	}
	// A click always names its app: one without is refused.
	clickWithoutApp := func(h *harness, p *slackfake.Person, mark func()) (slackfake.Result, error) {
		room := h.incident()
		m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
		payload, err := p.ClickPayload(m, breachslack.ActionClose)
		require.NoError(t, err)
		delete(payload, "api_app_id")
		raw, err := json.Marshal(payload)
		require.NoError(t, err)
		mark()
		return p.Send(ingress.PathInteractions, []byte("payload="+urlEscape(string(raw))))
	}
	foreignTeam := func(p *slackfake.Person) { p.Team = "T0FOREIGN" }
	foreignApp := func(p *slackfake.Person) { p.App = "A0FOREIGN" }
	tests := []struct {
		name       string
		enterprise string // configured
		who        func(p *slackfake.Person)
		send       sender
		want       int
	}{
		{"declare from another workspace", "", foreignTeam, declare, 403},
		{"status from another workspace", "", foreignTeam, status, 403},
		{"declare for another app", "", foreignApp, declare, 403},
		{"click from another workspace", "", foreignTeam, closeClick, 403},
		{"click for another app", "", foreignApp, closeClick, 403},
		{"form submitted from another workspace", "", foreignTeam, submit, 403},
		{"form submitted for another app", "", foreignApp, submit, 403},
		{"menu options asked from another workspace", "", foreignTeam, suggest, 403},
		{"declare from another organisation", "E0BREACH", func(p *slackfake.Person) { p.Enterprise = "E0FOREIGN" }, declare, 403},
		{"declare from no organisation where one is configured", "E0BREACH", func(p *slackfake.Person) {}, declare, 403},
		{"click from another organisation", "E0BREACH", func(p *slackfake.Person) { p.Enterprise = "E0FOREIGN" }, closeClick, 403},
		{"message shortcut from another workspace", "", foreignTeam, shortcut, 403},
		{"message shortcut naming another app", "", foreignApp, shortcut, 403},
		{"click without an app", "", func(p *slackfake.Person) {}, clickWithoutApp, 403},
		// The same requests from where breach serves are acted on.
		{"message shortcut as Slack sends it, without an app", "", func(p *slackfake.Person) {}, shortcut, 200},
		{"declare from the organisation configured", "E0BREACH", func(p *slackfake.Person) { p.Enterprise = "E0BREACH" }, declare, 200},
		{"declare from the workspace served", "", func(p *slackfake.Person) {}, declare, 200},
		{"menu options asked from the workspace served", "", func(p *slackfake.Person) {}, suggest, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, options{enterprise: tt.enterprise})
			// The commander, who opens forms for "submit", belongs to the organisation served.
			h.ic.Enterprise = tt.enterprise
			p := h.person(outsiderID, "mallory")
			tt.who(p)
			var calls, touched, views int
			mark := func() {
				h.srv.Wait()
				calls, touched, views = h.ws.TotalCalls(), h.temporal.touched(), len(h.ws.Views())
			}
			res, err := tt.send(h, p, mark)
			require.NoError(t, err)
			h.srv.Wait()
			assert.Equal(t, tt.want, res.Status, "%s", res.Body)
			if tt.want != 403 {
				assert.Greater(t, h.ws.TotalCalls()+len(res.Body), calls, "a request from where breach serves is acted on")
				return
			}
			assert.NotContains(t, string(res.Body), "FOREIGN", "the answer does not echo the ids")
			assert.Equal(t, calls, h.ws.TotalCalls(), "no Slack call was made")
			assert.Equal(t, touched, h.temporal.touched(), "nothing started")
			assert.Len(t, h.ws.Views(), views, "no form opened")
			assert.Contains(t, h.logs.String(), "slack request from elsewhere refused")
		})
	}
}

// Who may declare: every member of the workspace, unless roles.declarers names who may (people
// and user groups); someone else gets a refusal and no form, and a form they submit anyway
// declares nothing.
func TestWhoMayDeclare(t *testing.T) {
	const declarer, member, group = "UDECL0001", "UGRP00001", "S0ONCALL01"
	named := []string{actorOf(declarer), actorOf(group)}
	tests := []struct {
		name       string
		declarers  []string
		groupFails bool
		who        string
		may        bool
		said       string
	}{
		{name: "nobody named: every member of the workspace", who: outsiderID, may: true},
		{name: "named", declarers: named, who: declarer, may: true},
		{name: "in a user group named", declarers: named, who: member, may: true},
		{name: "not named", declarers: named, who: outsiderID, said: "Only the declarers (roles.declarers"},
		{name: "in a group Slack will not list", declarers: named, groupFails: true, who: member,
			said: "could not read the user group `" + actorOf(group) + "` (the app lacks the usergroups:read scope)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, options{declarers: tt.declarers})
			h.ws.SetUserGroup(group, member)
			if tt.groupFails {
				h.ws.SetFaults(func(method string, call int) *slackfake.Fault {
					if method == "usergroups.users.list" {
						return &slackfake.Fault{Error: "missing_scope"}
					}
					return nil
				})
			}
			p := h.person(tt.who, "someone")
			res, err := p.Command("C0GENERAL", "declare Backup exposed")
			require.NoError(t, err)
			assert.Equal(t, 200, res.Status)
			h.srv.Wait()
			if !tt.may {
				assert.Empty(t, h.ws.Views(), "no form for someone who may not declare")
				said := h.ephemeralsFor(tt.who)
				require.Len(t, said, 1)
				assert.Contains(t, said[0], tt.said)
				assert.Zero(t, h.temporal.touched())
				return
			}
			require.Len(t, h.ws.Views(), 1)
			_, err = p.Submit(h.ws.Views()[0], declareValues("shop-db"))
			require.NoError(t, err)
			h.srv.Wait()
			require.Len(t, h.temporal.Declared(), 1)
			assert.Equal(t, actorOf(tt.who), h.temporal.Declared()[0].DeclaredBy)
		})
	}

	t.Run("a form submitted by someone who may not declare", func(t *testing.T) {
		h := newHarnessWith(t, options{declarers: []string{actorOf(icID)}})
		_, err := h.ic.Command("C0GENERAL", "declare Backup exposed")
		require.NoError(t, err)
		h.srv.Wait()
		require.Len(t, h.ws.Views(), 1)
		_, err = h.outsider.Submit(h.ws.Views()[0], declareValues("shop-db"))
		require.NoError(t, err)
		h.srv.Wait()
		assert.Empty(t, h.temporal.Declared())
		// The refusal goes where the form came from: the command's response URL.
		var refused int
		for _, e := range h.ws.Ephemerals() {
			if strings.Contains(e.Text, "Only the declarers") {
				refused++
			}
		}
		assert.Equal(t, 1, refused)
	})
}

// Declaring from Slack isolates inventory systems; an address that is not in the inventory is
// isolated only when an incident commander declares it.
func TestAddressesNotInTheInventoryNeedACommander(t *testing.T) {
	const groupCommander = "UGRPIC001"
	withGroup := incident.Roles{DPO: []string{actorOf(dpoID)}, Commander: []string{actorOf("S0SECURE01")}}
	tests := []struct {
		name      string
		roles     incident.Roles
		who       string
		values    slackfake.Values
		systems   []string // declared; nil: nothing declared
		saidWants string
	}{
		{name: "a member names an address: refused, nothing isolated", who: outsiderID,
			values:    declareValues().Set(breachslack.InputAddresses, slackfake.Text("203.0.113.7")),
			saidWants: "only an incident commander (roles.commander) may isolate an address that is not in the inventory (203.0.113.7)"},
		{name: "a member names an address beside inventory systems: refused", who: outsiderID,
			values:    declareValues("shop-db").Set(breachslack.InputAddresses, slackfake.Text("2001:db8::7")),
			saidWants: "Not declared, nothing was isolated"},
		{name: "the DPO is no commander", who: dpoID,
			values:    declareValues().Set(breachslack.InputAddresses, slackfake.Text("203.0.113.7")),
			saidWants: "only an incident commander"},
		{name: "a form of an older breach, with a text field: an address there is ad hoc too", who: outsiderID,
			values:    declareValues().Set(breachslack.InputSystems, slackfake.Text("shop-db, 203.0.113.9")),
			saidWants: "(203.0.113.9)"},
		{name: "a commander names an address: accepted", who: icID,
			values:  declareValues("shop-db").Set(breachslack.InputAddresses, slackfake.Text("203.0.113.7")),
			systems: []string{"shop-db", "203.0.113.7"}, saidWants: "declared: isolation of shop-db, 203.0.113.7 has started"},
		{name: "a commander through a user group: accepted", roles: withGroup, who: groupCommander,
			values:  declareValues().Set(breachslack.InputAddresses, slackfake.Text("203.0.113.7")),
			systems: []string{"203.0.113.7"}, saidWants: "declared"},
		{name: "a member chooses from the inventory: accepted", who: outsiderID,
			values: declareValues("crm-api"), systems: []string{"crm-api"}, saidWants: "declared"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, options{roles: tt.roles})
			h.ws.SetUserGroup("S0SECURE01", groupCommander)
			p := h.person(tt.who, "someone")
			_, err := p.Command("C0GENERAL", "declare Backup exposed")
			require.NoError(t, err)
			h.srv.Wait()
			require.Len(t, h.ws.Views(), 1)
			res, err := p.Submit(h.ws.Views()[0], tt.values)
			require.NoError(t, err)
			require.Empty(t, res.Body, "the form closes")
			h.srv.Wait()
			said := h.ephemeralsFor(tt.who)
			require.Len(t, said, 1)
			assert.Contains(t, said[0], tt.saidWants)
			if tt.systems == nil {
				assert.Zero(t, h.temporal.touched(), "nothing is declared, so nothing is isolated")
				return
			}
			require.Len(t, h.temporal.Declared(), 1)
			assert.Equal(t, tt.systems, h.temporal.Declared()[0].Systems)
		})
	}
}

// `/breach status` shows an incident in its own room (the one the workflow recorded), to
// whoever asks there, and lists open incidents elsewhere only to those who hold a role in them.
// A channel whose purpose merely names the incident is not its room.
func TestStatusOnlyInTheRoomOrToRoleHolders(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	api := breachslack.NewAPI(botToken, h.ws.APIURL(), nil)
	elsewhere := h.ws.AddChannel("general-chat", false)
	_, err := api.SetPurposeOfConversation(elsewhere.ID, "Breach incident "+incidentID+": Customer DB exposed. The pinned message is the incident card.")
	require.NoError(t, err)
	// A channel naming an incident that does not run gets the same answer: a purpose is no
	// way to learn which incidents run.
	probe := h.ws.AddChannel("probe", false)
	_, err = api.SetPurposeOfConversation(probe.ID, "Breach incident INC-20261128-0001")
	require.NoError(t, err)

	const full, list, pointer = "full", "list", "pointer"
	tests := []struct {
		name    string
		who     *slackfake.Person
		channel string
		want    string
	}{
		{"anyone in the incident's room", h.outsider, room.ID, full},
		{"someone without a role, in a channel whose purpose names the incident", h.outsider, elsewhere.ID, pointer},
		{"someone without a role, anywhere else", h.outsider, "C0GENERAL", pointer},
		{"someone without a role, in a channel whose purpose names an incident that does not run", h.outsider, probe.ID, pointer},
		{"the DPO, anywhere else", h.dpo, "C0GENERAL", list},
		{"the commander, in a channel whose purpose names the incident", h.ic, elsewhere.ID, list},
	}
	pointers := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(h.ephemeralsFor(tt.who.ID))
			res, err := tt.who.Command(tt.channel, "status")
			require.NoError(t, err)
			assert.Empty(t, res.Body)
			h.srv.Wait()
			said := h.ephemeralsFor(tt.who.ID)
			require.Len(t, said, before+1)
			got := said[before]
			switch tt.want {
			case full:
				assert.Contains(t, got, incidentID+": Customer DB exposed")
				assert.Contains(t, got, "Phase:")
			case list:
				assert.Contains(t, got, "Open incidents (1)")
				assert.Contains(t, got, incidentID)
			case pointer:
				assert.Contains(t, got, "shows a running incident in its own channel")
				assert.NotContains(t, got, incidentID, "nothing about the incident")
				assert.NotContains(t, got, "Customer DB")
				pointers[got] = true
			}
		})
	}
	assert.Len(t, pointers, 1, "one answer, whatever the channel names")
}

// recorder is an HTTP transport that records what it was asked to fetch and answers 200, or
// redirects where told.
type recorder struct {
	mu       sync.Mutex
	fetched  []string
	redirect map[string]string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.fetched = append(r.fetched, req.URL.String())
	to := r.redirect[req.URL.String()]
	r.mu.Unlock()
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	res := &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("ok")), Header: http.Header{}, Request: req}
	if to != "" {
		res.StatusCode = http.StatusFound
		res.Header.Set("Location", to)
	}
	return res, nil
}

func (r *recorder) urls() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.fetched...)
}

// withResponseURL is a slash command body with its response_url replaced.
func withResponseURL(t *testing.T, body []byte, responseURL string) []byte {
	t.Helper()
	v, err := url.ParseQuery(string(body))
	require.NoError(t, err)
	v.Set("response_url", responseURL)
	return []byte(v.Encode())
}

// breach posts to a response URL only on Slack's hosts: anything else is dropped, logged, and
// never fetched.
func TestResponseURLOnlyToSlack(t *testing.T) {
	t.Run("a local listener named as the response URL is never requested", func(t *testing.T) {
		var hits atomic.Int64
		listener := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
		defer listener.Close()
		h := newHarness(t)
		room := h.incident()
		m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)

		res, err := h.outsider.Send(ingress.PathCommands, withResponseURL(t, h.outsider.CommandBody("C0GENERAL", "status"), listener.URL+"/commands/T0BREACH/1/x"))
		require.NoError(t, err)
		assert.Equal(t, 200, res.Status)
		// A click whose answer goes to the response URL (the clicker is not in the channel).
		click, err := h.outsider.ClickPayload(m, breachslack.ActionClose)
		require.NoError(t, err)
		click["response_url"] = listener.URL + "/actions/T0BREACH/1/x"
		click["channel"] = map[string]any{"id": "C0NOTHERE"}
		raw, err := json.Marshal(click)
		require.NoError(t, err)
		_, err = h.outsider.Send(ingress.PathInteractions, []byte("payload="+urlEscape(string(raw))))
		require.NoError(t, err)
		h.srv.Wait()
		assert.Zero(t, hits.Load(), "the listener was requested")
		assert.Equal(t, 2, strings.Count(h.logs.String(), "slack response_url dropped"), "%s", h.logs)

		// The same answers to the local Slack's response URL arrive.
		_, err = h.outsider.Command("C0GENERAL", "status")
		require.NoError(t, err)
		h.srv.Wait()
		assert.Len(t, h.ephemeralsFor(outsiderID), 1)
	})

	tests := []struct {
		url     string
		fetched bool
	}{
		{"https://hooks.slack.com/commands/T0BREACH/397700885554/96rGlfmibIGlgcZRskXaIFfN", true},
		{"https://hooks.slack.com:443/actions/T0BREACH/1/abc", true},
		{"https://files.slack.com/commands/x", true},
		{"http://hooks.slack.com/commands/x", false},
		{"https://hooks.slack.com:8443/commands/x", false},
		{"https://slack.com.evil.example/commands/x", false},
		{"https://hooks.slack.com.evil.example/commands/x", false},
		{"https://evilslack.com/commands/x", false},
		{"https://hooks.slack.com@evil.example/commands/x", false},
		{"https://169.254.169.254/latest/meta-data/", false},
		{"http://127.0.0.1:7233/", false},
		{"file:///etc/passwd", false},
		{"hooks.slack.com/commands/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			rec := &recorder{}
			h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.HTTPClient = &http.Client{Transport: rec} }})
			_, err := h.outsider.Send(ingress.PathCommands, withResponseURL(t, h.outsider.CommandBody("C0GENERAL", "status"), tt.url))
			require.NoError(t, err)
			h.srv.Wait()
			if tt.fetched {
				assert.Equal(t, []string{tt.url}, rec.urls())
			} else {
				assert.Empty(t, rec.urls())
				assert.Contains(t, h.logs.String(), "slack response_url dropped")
			}
		})
	}

	t.Run("a redirect off Slack's hosts is not followed", func(t *testing.T) {
		const start = "https://hooks.slack.com/commands/T0BREACH/1/redirected"
		rec := &recorder{redirect: map[string]string{start: "http://169.254.169.254/latest/meta-data/"}}
		h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.HTTPClient = &http.Client{Transport: rec} }})
		_, err := h.outsider.Send(ingress.PathCommands, withResponseURL(t, h.outsider.CommandBody("C0GENERAL", "status"), start))
		require.NoError(t, err)
		h.srv.Wait()
		assert.Equal(t, []string{start}, rec.urls())
	})
}

// What Slack shows when Temporal cannot be reached is a sentence that says what to do; the
// error, with its addresses and internals, is only in the log.
func TestErrorsShowNoInternals(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
	_, err := h.ic.Command("C0GENERAL", "declare Backup exposed")
	require.NoError(t, err)
	h.srv.Wait()
	form := h.ws.Views()[0]
	h.temporal.mu.Lock()
	h.temporal.fail = errors.New(`rpc error: code = Unavailable desc = connection error: desc = "transport: Error while dialing: dial tcp 10.0.3.7:7233: connect: connection refused"`)
	h.temporal.mu.Unlock()

	_, err = h.ic.Click(m, breachslack.ActionClose)
	require.NoError(t, err)
	_, err = h.ic.Command(room.ID, "status")
	require.NoError(t, err)
	_, err = h.outsider.Command("C0GENERAL", "status")
	require.NoError(t, err)
	_, err = h.ic.Submit(form, declareValues("shop-db"))
	require.NoError(t, err)
	h.srv.Wait()

	said := append(h.ephemeralsFor(icID), h.ephemeralsFor(outsiderID)...)
	require.Len(t, said, 4)
	for _, s := range said {
		assert.Contains(t, s, "breach could not reach Temporal; try again in a minute, or use the CLI runbook")
		for _, internal := range []string{"rpc error", "7233", "10.0.3.7", "transport"} {
			assert.NotContains(t, s, internal)
		}
	}
	assert.Contains(t, h.logs.String(), "10.0.3.7:7233", "the detail is in the log")
}

// The user groups of the roles are expanded when an incident is declared from Slack: a failure
// Slack recovers from is retried; one that persists leaves the group out, and the declarer and,
// in the incident's channel, the commanders are told which group of which role.
func TestRoleGroupsExpandedAtDeclaration(t *testing.T) {
	const privacy, security, privacyMember, securityMember = "S0PRIVACY1", "S0SECURE01", "UPRIV0001", "USEC00001"
	roles := incident.Roles{DPO: []string{actorOf(dpoID), actorOf(privacy)}, Commander: []string{actorOf(icID), actorOf(security)}}
	onGroups := func(f func(call int) *slackfake.Fault) func(string, int) *slackfake.Fault {
		return func(method string, call int) *slackfake.Fault {
			if method == "usergroups.users.list" {
				return f(call)
			}
			return nil
		}
	}
	tests := []struct {
		name          string
		roles         incident.Roles
		faults        func(method string, call int) *slackfake.Fault
		dpo, ic       []string // declared; nil: not declared
		said, unread  []string
		channelWarned bool
	}{
		{name: "Slack read at once", roles: roles,
			dpo: []string{actorOf(dpoID), actorOf(privacyMember)}, ic: []string{actorOf(icID), actorOf(securityMember)}},
		{name: "Slack failing, then answering: retried", roles: roles,
			faults: onGroups(func(call int) *slackfake.Fault {
				if call == 1 {
					return &slackfake.Fault{Status: 503}
				}
				return nil
			}),
			dpo: []string{actorOf(dpoID), actorOf(privacyMember)}, ic: []string{actorOf(icID), actorOf(securityMember)}},
		{name: "Slack failing for good: declared with the roles read, and said", roles: roles,
			faults: onGroups(func(int) *slackfake.Fault { return &slackfake.Fault{Status: 500} }),
			dpo:    []string{actorOf(dpoID)}, ic: []string{actorOf(icID)},
			said:   []string{"declared", "The roles of INC-", "are incomplete", "`" + actorOf(privacy) + "` of roles.dpo (Slack answered HTTP 500)", "`" + actorOf(security) + "` of roles.commander"},
			unread: []string{privacy, security}, channelWarned: true},
		{name: "the scope missing", roles: roles,
			faults: onGroups(func(int) *slackfake.Fault { return &slackfake.Fault{Error: "missing_scope"} }),
			dpo:    []string{actorOf(dpoID)}, ic: []string{actorOf(icID)},
			said: []string{"the app lacks the usergroups:read scope"}, unread: []string{privacy}, channelWarned: true},
		{name: "every commander in a group Slack will not list: not declared, and said why",
			roles:  incident.Roles{DPO: []string{actorOf(dpoID)}, Commander: []string{actorOf(security)}},
			faults: onGroups(func(int) *slackfake.Fault { return &slackfake.Fault{Error: "missing_scope"} }),
			said:   []string{"Not declared: nobody holds the commander role", "`" + actorOf(security) + "` of roles.commander"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarnessWith(t, options{roles: tt.roles})
			h.ws.SetUserGroup(privacy, privacyMember)
			h.ws.SetUserGroup(security, securityMember)
			_, err := h.ic.Command("C0GENERAL", "declare Backup exposed")
			require.NoError(t, err)
			h.srv.Wait()
			require.Len(t, h.ws.Views(), 1)
			h.ws.SetFaults(tt.faults)
			_, err = h.ic.Submit(h.ws.Views()[0], declareValues("shop-db"))
			require.NoError(t, err)
			h.srv.Wait()

			said := h.ephemeralsFor(icID)
			require.Len(t, said, 1)
			for _, want := range tt.said {
				assert.Contains(t, said[0], want)
			}
			if len(tt.said) == 0 {
				assert.NotContains(t, said[0], "incomplete")
			}
			if tt.dpo == nil {
				assert.Empty(t, h.temporal.Declared())
				return
			}
			require.Len(t, h.temporal.Declared(), 1)
			d := h.temporal.Declared()[0]
			assert.Equal(t, tt.dpo, d.Roles.DPO)
			assert.Equal(t, tt.ic, d.Roles.Commander)

			st, err := h.temporal.Status(t.Context(), d.IncidentID)
			require.NoError(t, err)
			var warned []string
			for _, m := range h.ws.Messages(st.Room) {
				if strings.Contains(m.Text, "are incomplete") {
					warned = append(warned, m.Text)
				}
			}
			if !tt.channelWarned {
				assert.Empty(t, warned)
				return
			}
			require.Len(t, warned, 1, "the commanders are told in the incident channel")
			assert.Contains(t, warned[0], "<@"+icID+">")
			for _, g := range tt.unread {
				assert.Contains(t, warned[0], g)
			}
		})
	}
}
