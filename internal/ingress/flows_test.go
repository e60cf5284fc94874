package ingress_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/rules"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/workflows"
)

// declareValues fills the declaration form: systems chosen from the inventory's menu.
func declareValues(systems ...string) slackfake.Values {
	return slackfake.Values{}.
		Set(breachslack.InputTitle, slackfake.Text("Customer DB exposed")).
		Set(breachslack.InputSystems, slackfake.MultiSelect(systems...)).
		Set(breachslack.InputAwareAt, slackfake.DateTime(time.Now().Add(-2*time.Hour))).
		Set(breachslack.InputSeverity, slackfake.Select("high")).
		Set(breachslack.InputWhat, slackfake.Text("A backup bucket was public.")).
		Set(breachslack.InputSubjects, slackfake.Select(storedDataset))
}

func TestDeclare(t *testing.T) {
	h := newHarness(t)
	res, err := h.ic.Command("C0GENERAL", "declare Customer DB exposed")
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	assert.Empty(t, res.Body, "acknowledged at once, the form opens after")
	h.srv.Wait()

	views := h.ws.Views()
	require.Len(t, views, 1)
	v := views[0]
	assert.Equal(t, breachslack.ViewDeclare, v.CallbackID)
	assert.Equal(t, icID, v.User)
	assert.Contains(t, string(v.Raw), `"initial_value":"Customer DB exposed"`)
	assert.Contains(t, string(v.Raw), `"initial_date_time":`, "time of awareness defaults to now")

	assert.Contains(t, string(v.Raw), `"type":"multi_static_select"`, "the systems are chosen from the inventory")
	assert.Contains(t, string(v.Raw), `"value":"crm-api"`)
	menu := element(t, v, breachslack.InputSubjects)
	assert.Equal(t, "static_select", menu["type"], "the dataset is chosen from the store")
	assert.Equal(t, []string{storedDataset}, optionValues(menu))

	res, err = h.ic.Submit(v, declareValues("shop-db", "crm-api"))
	require.NoError(t, err)
	assert.Empty(t, res.Body, "the modal closes")
	h.srv.Wait()

	ds := h.temporal.Declared()
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Regexp(t, `^INC-[0-9]{8}-[0-9A-F]{16}$`, d.IncidentID)
	assert.Equal(t, "Customer DB exposed", d.Title)
	assert.Equal(t, []string{"shop-db", "crm-api"}, d.Systems)
	assert.Equal(t, actorOf(icID), d.DeclaredBy, "the declarer is an actor of the workspace")
	assert.Equal(t, "slack", d.Source)
	assert.Equal(t, "Severity: high. A backup bucket was public.", d.Description)
	assert.Equal(t, "dataset:affected-march.csv", d.Subjects.URI)
	assert.Equal(t, []string{actorOf(dpoID)}, d.Roles.DPO, "roles come from the configuration")
	assert.Equal(t, "Europe/Berlin", d.AwareZone)
	assert.WithinDuration(t, time.Now().Add(-2*time.Hour), d.AwareAt, 2*time.Second)
	require.NoError(t, workflows.ValidateDeclaration(d))

	said := h.ephemeralsFor(icID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], d.IncidentID+" declared")
}

func TestDeclareDrill(t *testing.T) {
	h := newHarness(t)
	_, err := h.ic.Command("C0GENERAL", "drill Tabletop")
	require.NoError(t, err)
	h.srv.Wait()
	_, err = h.ic.Submit(h.ws.Views()[0], declareValues("shop-db"))
	require.NoError(t, err)
	h.srv.Wait()
	require.Len(t, h.temporal.Declared(), 1)
	assert.True(t, h.temporal.Declared()[0].Drill)
	assert.Equal(t, "drill", h.temporal.Declared()[0].Source)
}

func TestDeclareFormErrors(t *testing.T) {
	tests := []struct {
		name   string
		values slackfake.Values
		field  string
	}{
		{"no systems", declareValues(), breachslack.InputSystems},
		{"system not in the inventory", declareValues("unknown-db"), breachslack.InputSystems},
		{"system named twice", declareValues("shop-db", "shop-db"), breachslack.InputSystems},
		{"address named twice", declareValues("shop-db").Set(breachslack.InputAddresses, slackfake.Text("203.0.113.7, 203.0.113.7")), breachslack.InputAddresses},
		{"not an address", declareValues().Set(breachslack.InputAddresses, slackfake.Text("the database")), breachslack.InputAddresses},
		{"a network", declareValues().Set(breachslack.InputAddresses, slackfake.Text("198.51.100.0/24")), breachslack.InputAddresses},
		{"no title", declareValues("shop-db").Set(breachslack.InputTitle, slackfake.Text("  ")), breachslack.InputTitle},
		{"aware in the future", declareValues("shop-db").Set(breachslack.InputAwareAt, slackfake.DateTime(time.Now().Add(time.Hour))), breachslack.InputAwareAt},
		{"a dataset that is not in the store", declareValues("shop-db").Set(breachslack.InputSubjects, slackfake.Select("affected-april.csv")), breachslack.InputSubjects},
		{"a path instead of a dataset", declareValues("shop-db").Set(breachslack.InputSubjects, slackfake.Select("/proc/self/environ")), breachslack.InputSubjects},
		{"a path out of the store", declareValues("shop-db").Set(breachslack.InputSubjects, slackfake.Select("../../etc/passwd")), breachslack.InputSubjects},
		// A form opened by an older breach had a text field for the dataset.
		{"a form with a text field: a path", declareValues("shop-db").Set(breachslack.InputSubjects, slackfake.Text("/proc/self/environ")), breachslack.InputSubjects},
		{"a form with a text field: a name not in the store", declareValues("shop-db").Set(breachslack.InputSubjects, slackfake.Text("affected-april.csv")), breachslack.InputSubjects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.ic.Command("C1", "declare")
			require.NoError(t, err)
			h.srv.Wait()
			res, err := h.ic.Submit(h.ws.Views()[0], tt.values)
			require.NoError(t, err)
			var got struct {
				ResponseAction string            `json:"response_action"`
				Errors         map[string]string `json:"errors"`
			}
			require.NoError(t, json.Unmarshal(res.Body, &got), "%s", res.Body)
			assert.Equal(t, "errors", got.ResponseAction)
			assert.NotEmpty(t, got.Errors[tt.field], "%v", got.Errors)
			h.srv.Wait()
			assert.Zero(t, h.temporal.touched())

			// Corrected, the same form is accepted.
			res, err = h.ic.Submit(h.ws.Views()[0], declareValues("shop-db"))
			require.NoError(t, err)
			assert.Empty(t, res.Body)
			h.srv.Wait()
			assert.Len(t, h.temporal.Declared(), 1)
		})
	}
}

// The declaration form offers the datasets of the store, newest first and at most Slack's 100;
// with none in the store, it says how to add one, and the incident is declared without.
func TestDeclareFormOffersTheStoresDatasets(t *testing.T) {
	tests := []struct {
		name string
		// more datasets added to the store beside storedDataset, the last the newest
		more int
		want []string // the menu's values; nil: no menu
	}{
		{name: "the store's datasets, newest first", more: 2, want: []string{"export-001.csv", "export-000.csv", storedDataset}},
		{name: "the newest 100 of more", more: 150, want: func() []string {
			var w []string
			for i := 149; i >= 50; i-- {
				w = append(w, fmt.Sprintf("export-%03d.csv", i))
			}
			return w
		}()},
		{name: "an empty store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			base := time.Now().Add(-time.Hour)
			require.NoError(t, os.Chtimes(filepath.Join(h.store.Dir(), storedDataset), base, base))
			if tt.want == nil {
				require.NoError(t, os.Remove(filepath.Join(h.store.Dir(), storedDataset)))
			}
			for i := range tt.more {
				name := fmt.Sprintf("export-%03d.csv", i)
				_, err := h.store.Add(t.Context(), name, strings.NewReader("id,email,country\n"), false)
				require.NoError(t, err)
				at := base.Add(time.Duration(i+1) * time.Second)
				require.NoError(t, os.Chtimes(filepath.Join(h.store.Dir(), name), at, at))
			}
			_, err := h.ic.Command("C0GENERAL", "declare Customer DB exposed")
			require.NoError(t, err)
			h.srv.Wait()
			require.Len(t, h.ws.Views(), 1)
			v := h.ws.Views()[0]
			menu := element(t, v, breachslack.InputSubjects)
			if tt.want != nil {
				require.NotNil(t, menu)
				assert.Equal(t, tt.want, optionValues(menu))
				return
			}
			assert.Nil(t, menu, "no menu without datasets")
			assert.Contains(t, string(v.Raw), "holds none yet")
			assert.Contains(t, string(v.Raw), "breach datasets add FILE.csv")
			values := declareValues("shop-db")
			delete(values, breachslack.InputSubjects)
			res, err := h.ic.Submit(v, values)
			require.NoError(t, err)
			assert.Empty(t, res.Body, "declared without a dataset: it can be given later")
			h.srv.Wait()
			require.Len(t, h.temporal.Declared(), 1)
			assert.Empty(t, h.temporal.Declared()[0].Subjects.URI)
		})
	}
}

func TestStatus(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	h.temporal.mu.Lock()
	st := h.temporal.running[incidentID]
	st.Phase = incident.PhaseDecide
	st.Pending = []incident.PendingStep{{Step: "decide", Role: "dpo", Description: "Decide the risk level", DueAt: h.now.Add(71 * time.Hour)}}
	h.temporal.running[incidentID] = st
	h.temporal.mu.Unlock()

	res, err := h.dpo.Command(room.ID, "status")
	require.NoError(t, err)
	assert.Empty(t, res.Body)
	h.srv.Wait()
	said := h.ephemeralsFor(dpoID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], incidentID+": Customer DB exposed")
	assert.Contains(t, said[0], "waiting for the DPO's decision")
	assert.Contains(t, said[0], "Deadline if notifiable:* GDPR Art. 33")
	assert.Regexp(t, `7[01]h [0-9]{2}m left`, said[0])

	_, err = h.dpo.Command("C0GENERAL", "status")
	require.NoError(t, err)
	h.srv.Wait()
	said = h.ephemeralsFor(dpoID)
	require.Len(t, said, 2)
	assert.Contains(t, said[1], "Open incidents (1)")
	assert.Contains(t, said[1], incidentID)
}

func TestHelpAndUnknownSubcommands(t *testing.T) {
	h := newHarness(t)
	for text, want := range map[string]string{
		"":              "/breach declare",
		"help":          "/breach status",
		"HELP":          "/breach status",
		"frobnicate x":  "`frobnicate` is not a breach command",
		"<!channel> hi": "`&lt;!channel&gt;` is not a breach command",
	} {
		res, err := h.outsider.Command("C1", text)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(res.Body, &m))
		assert.Equal(t, "ephemeral", m["response_type"])
		assert.Contains(t, m["text"], want, text)
	}
	h.srv.Wait()
	assert.Zero(t, h.temporal.touched())
	assert.Empty(t, h.ws.Views())
}

func TestApproveButton(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "approval-needed", "The gdpr-art33-authority report is drafted. Approve: breach approve "+incidentID+" --step report:gdpr-art33-authority --as <dpo>")

	// Someone without the role clicks: refused, shown only to them, nothing changes.
	_, err := h.outsider.Click(m, breachslack.ActionApproveReport)
	require.NoError(t, err)
	h.srv.Wait()
	said := h.ephemeralsFor(outsiderID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "does not hold the dpo role")
	assert.Empty(t, h.temporal.Updates())
	assert.Len(t, slackfake.Buttons(h.message(room.ID, m.TS).Blocks), 1, "the button stays")

	res, err := h.dpo.Click(m, breachslack.ActionApproveReport)
	require.NoError(t, err)
	assert.Equal(t, 200, res.Status)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	assert.Equal(t, incident.UpdateApprove, ups[0].Name)
	assert.Equal(t, incident.ApproveRequest{By: actorOf(dpoID), Step: "report:gdpr-art33-authority"}, ups[0].Arg)

	after := h.message(room.ID, m.TS)
	assert.Empty(t, slackfake.Buttons(after.Blocks), "the button is replaced")
	assert.Contains(t, unescaped(string(after.Blocks)), "Approved by <@"+dpoID+"> at ")
	assert.Contains(t, unescaped(string(after.Blocks)), "The gdpr-art33-authority report is drafted.")
}

// A report past its deadline is not approved by a click alone: the button opens a form that
// asks for the reasons for the delay, and the approval carries them.
func TestLateApproveAsksForReasons(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	due := h.now.Add(-2 * time.Hour)
	h.temporal.mu.Lock()
	st := h.temporal.running[incidentID]
	st.Obligations = []incident.ObligationStatus{{Obligation: rules.Obligation{ID: "gdpr-art33-authority", DueAt: due}, State: incident.OblAwaitingApproval}}
	h.temporal.running[incidentID] = st
	h.temporal.mu.Unlock()
	m := h.post(room, "approval-needed", "The gdpr-art33-authority report is drafted. Approve: breach approve "+incidentID+" --step report:gdpr-art33-authority --as <dpo>")

	_, err := h.dpo.Click(m, breachslack.ActionApproveReport)
	require.NoError(t, err)
	h.srv.Wait()
	assert.Empty(t, h.temporal.Updates(), "a late report is not approved without reasons")
	views := h.ws.Views()
	require.Len(t, views, 1)
	assert.Equal(t, breachslack.ViewApproveLate, views[0].CallbackID)

	res, err := h.dpo.Submit(views[0], slackfake.Values{}.Set(breachslack.InputReasons, slackfake.Text(" ")))
	require.NoError(t, err)
	assert.Contains(t, string(res.Body), `"response_action":"errors"`)
	assert.Contains(t, string(res.Body), breachslack.InputReasons)

	const reasons = "The forensic confirmation arrived after the deadline."
	_, err = h.dpo.Submit(views[0], slackfake.Values{}.Set(breachslack.InputReasons, slackfake.Text(reasons)))
	require.NoError(t, err)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	assert.Equal(t, incident.ApproveRequest{By: actorOf(dpoID), Step: "report:gdpr-art33-authority", Reasons: reasons}, ups[0].Arg)
	assert.Contains(t, unescaped(string(h.message(room.ID, m.TS).Blocks)), "Approved by <@"+dpoID+">")
}

func TestIsolationAndCloseButtons(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	iso := h.post(room, "manual-isolation", "Isolate shop-db manually, then confirm: breach approve "+incidentID+" --step isolation:shop-db --as <commander>")
	closing := h.post(room, "ready-to-close", "Every step is done. The incident commander can close: breach close "+incidentID+" --as <commander>")

	_, err := h.dpo.Click(iso, breachslack.ActionConfirmIsolation)
	require.NoError(t, err)
	_, err = h.ic.Click(iso, breachslack.ActionConfirmIsolation)
	require.NoError(t, err)
	_, err = h.ic.Click(closing, breachslack.ActionClose)
	require.NoError(t, err)
	h.srv.Wait()

	// The two clicks are worked on side by side: their Updates may arrive in either order.
	var args []any
	for _, u := range h.temporal.Updates() {
		args = append(args, u.Arg)
	}
	assert.ElementsMatch(t, []any{incident.ApproveRequest{By: actorOf(icID), Step: "isolation:shop-db", Note: "confirmed in Slack"},
		incident.CloseRequest{By: actorOf(icID)}}, args)
	assert.Contains(t, unescaped(string(h.message(room.ID, iso.TS).Blocks)), "Confirmed by <@"+icID+">")
	assert.Contains(t, unescaped(string(h.message(room.ID, closing.TS).Blocks)), "Closed by <@"+icID+">")
	assert.Len(t, h.ephemeralsFor(dpoID), 1, "the DPO is not the commander")
}

func TestDecideModal(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "decision-needed", "The DPO must decide the risk and the notifications: breach decide "+incidentID+" --risk …")
	_, err := h.dpo.Click(m, breachslack.ActionDecide)
	require.NoError(t, err)
	h.srv.Wait()
	views := h.ws.Views()
	require.Len(t, views, 1)
	assert.Equal(t, breachslack.ViewDecide, views[0].CallbackID)
	assert.Empty(t, h.temporal.Updates(), "opening the form decides nothing")

	values := slackfake.Values{}.
		Set(breachslack.InputRisk, slackfake.Radio("high")).
		Set(breachslack.InputNotify, slackfake.Checkboxes(breachslack.NotifyAuthority, breachslack.NotifySubjects)).
		Set(breachslack.InputReasoning, slackfake.Text("")).
		Set(breachslack.InputAdvice, slackfake.Text("Change your password."))
	res, err := h.dpo.Submit(views[0], values)
	require.NoError(t, err)
	assert.Contains(t, string(res.Body), `"response_action":"errors"`)
	assert.Contains(t, string(res.Body), breachslack.InputReasoning)

	values.Set(breachslack.InputReasoning, slackfake.Text("Names and order histories were downloaded."))
	res, err = h.dpo.Submit(views[0], values)
	require.NoError(t, err)
	assert.Empty(t, res.Body)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	assert.Equal(t, incident.UpdateDecide, ups[0].Name)
	assert.Equal(t, incident.Decision{By: actorOf(dpoID), Risk: "high", NotifyAuthority: true, NotifySubjects: true,
		Reasoning: "Names and order histories were downloaded.", Advice: "Change your password."}, ups[0].Arg)
	after := unescaped(string(h.message(room.ID, m.TS).Blocks))
	assert.Contains(t, after, "Decided by <@"+dpoID+"> at ")
	assert.Contains(t, after, "risk high")
	assert.Empty(t, slackfake.Buttons(h.message(room.ID, m.TS).Blocks))
}

func TestFileModal(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "filing-needed", "File the approved uk-gdpr-art33-ico report with the ICO, then confirm: breach file "+incidentID+" --obligation uk-gdpr-art33-ico --reference REF --as <dpo>")
	_, err := h.dpo.Click(m, breachslack.ActionFileReport)
	require.NoError(t, err)
	h.srv.Wait()
	v := h.ws.Views()[0]
	_, err = h.dpo.Submit(v, slackfake.Values{}.Set(breachslack.InputReference, slackfake.Text("ICO-12345")))
	require.NoError(t, err)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	assert.Equal(t, incident.FileRequest{By: actorOf(dpoID), Obligation: "uk-gdpr-art33-ico", Reference: "ICO-12345"}, ups[0].Arg)
	assert.Contains(t, unescaped(string(h.message(room.ID, m.TS).Blocks)), "Filed by <@"+dpoID+">")
}

func TestRejectionShownOnlyToClicker(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
	h.temporal.reject = "cannot close yet: gdpr-art33-authority is awaiting-approval"
	_, err := h.ic.Click(m, breachslack.ActionClose)
	require.NoError(t, err)
	h.srv.Wait()
	said := h.ephemeralsFor(icID)
	require.Len(t, said, 1)
	assert.Contains(t, said[0], "cannot close yet: gdpr-art33-authority is awaiting-approval")
	assert.Empty(t, h.ephemeralsFor(dpoID))
	assert.Len(t, slackfake.Buttons(h.message(room.ID, m.TS).Blocks), 1)
}

func TestUnknownActionsAndIncidents(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
	click := func(mutate func(p map[string]any)) {
		t.Helper()
		p, err := h.ic.ClickPayload(m, breachslack.ActionClose)
		require.NoError(t, err)
		mutate(p)
		raw, err := json.Marshal(p)
		require.NoError(t, err)
		_, err = h.ic.Send("/slack/interactions", []byte("payload="+urlEscape(string(raw))))
		require.NoError(t, err)
	}
	setAction := func(id, value string) func(p map[string]any) {
		return func(p map[string]any) {
			a := p["actions"].([]any)[0].(map[string]any)
			a["action_id"], a["value"] = id, value
		}
	}
	click(setAction("breach_delete_everything", incidentID+" close"))
	click(setAction(breachslack.ActionClose, "INC-20990101-FFFF close"))
	click(setAction(breachslack.ActionClose, "not an incident"))
	click(setAction(breachslack.ActionApproveReport, incidentID+" isolation:shop-db"))
	h.srv.Wait()
	said := h.ephemeralsFor(icID)
	require.Len(t, said, 4)
	all := strings.Join(said, "\n")
	assert.Contains(t, all, "does not know the action `breach_delete_everything`; nothing was changed")
	assert.Contains(t, all, "no running incident INC-20990101-FFFF; nothing was changed")
	assert.Equal(t, 2, strings.Count(all, "does not name an incident"))
	assert.Empty(t, h.temporal.Updates())
}

// Slack failing while the buttons are replaced: retried, the outcome still shows.
func TestOutcomeShownThroughSlackFailures(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
	h.ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if method == "chat.update" && call == 1 {
			return &slackfake.Fault{Status: 429, RetryAfter: 1}
		}
		if method == "chat.update" && call == 2 {
			return &slackfake.Fault{Status: 503}
		}
		return nil
	})
	_, err := h.ic.Click(m, breachslack.ActionClose)
	require.NoError(t, err)
	h.srv.Wait()
	assert.Equal(t, 3, h.ws.Calls("chat.update"))
	assert.Contains(t, unescaped(string(h.message(room.ID, m.TS).Blocks)), "Closed by <@"+icID+">")
}

// An inventory bigger than a menu of Slack's 100 options: the form's menu loads its options
// from breach as the person types, at most 100 that contain what was typed.
func TestDeclareFromABigInventory(t *testing.T) {
	var systems []string
	for i := range 250 {
		systems = append(systems, fmt.Sprintf("host-%03d", i))
	}
	h := newHarnessWith(t, options{systems: systems})
	_, err := h.ic.Command("C0GENERAL", "declare Customer DB exposed")
	require.NoError(t, err)
	h.srv.Wait()
	require.Len(t, h.ws.Views(), 1)
	v := h.ws.Views()[0]
	assert.Contains(t, string(v.Raw), `"type":"multi_external_select"`)

	for typed, want := range map[string][]string{
		"":         systems[:100],
		"host-12":  {"host-120", "host-121", "host-122", "host-123", "host-124", "host-125", "host-126", "host-127", "host-128", "host-129"},
		"HOST-249": {"host-249"},
		"nothing":  {},
	} {
		res, err := h.ic.Suggest(ingress.PathOptions, v, breachslack.InputSystems, typed)
		require.NoError(t, err)
		require.Equal(t, 200, res.Status)
		var got struct {
			Options []struct {
				Value string `json:"value"`
			} `json:"options"`
		}
		require.NoError(t, json.Unmarshal(res.Body, &got), "%s", res.Body)
		values := []string{}
		for _, o := range got.Options {
			values = append(values, o.Value)
		}
		assert.Equal(t, want, values, "typed %q", typed)
	}

	_, err = h.ic.Submit(v, declareValues("host-120", "host-249"))
	require.NoError(t, err)
	h.srv.Wait()
	require.Len(t, h.temporal.Declared(), 1)
	assert.Equal(t, []string{"host-120", "host-249"}, h.temporal.Declared()[0].Systems)
}

// The ingress vouches for the Slack user: each decision it forwards carries a signature by its
// key, which the incident verifies against the ingress's public key.
func TestDecisionsAreSignedByTheIngress(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	h := newHarnessWith(t, options{configure: func(c *ingress.Config) { c.Signer = key }})
	room := h.incident()
	m := h.post(room, "approval-needed", "The gdpr-art33-authority report is drafted. Approve: breach approve "+incidentID+" --step report:gdpr-art33-authority --as <dpo>")
	_, err = h.dpo.Click(m, breachslack.ActionApproveReport)
	require.NoError(t, err)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	r, ok := ups[0].Arg.(incident.ApproveRequest)
	require.True(t, ok, "%T", ups[0].Arg)
	require.NotNil(t, r.Signature, "the ingress must sign")
	assert.Equal(t, incident.SlackIngress, r.Signature.Signer)
	keys := incident.Keys{SlackIngress: incident.EncodePublicKey(key.Public().(ed25519.PublicKey))}
	by, sig, unsigned := r.Signed()
	require.NoError(t, keys.Verify(sig, by, incidentID, incident.UpdateApprove, unsigned, time.Now(), false))
	// Changed on the way, it no longer verifies.
	r.Step = "report:other"
	_, sig, unsigned = r.Signed()
	require.Error(t, keys.Verify(sig, by, incidentID, incident.UpdateApprove, unsigned, time.Now(), false))
}

// Customer alerts that stopped show a button that retries them, as the commander.
func TestRetryAlertsButton(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	m := h.postMessage(room, incident.ChatMessage{Kind: "alerts-failed", Step: "retry-alerts", Text: "Customer alerts stopped: SendGrid refused the key."})
	_, err := h.ic.Click(m, breachslack.ActionRetryAlerts)
	require.NoError(t, err)
	h.srv.Wait()
	ups := h.temporal.Updates()
	require.Len(t, ups, 1)
	assert.Equal(t, incident.UpdateRetry, ups[0].Name)
	assert.Equal(t, incident.RetryRequest{By: actorOf(icID), Alerts: true}, ups[0].Arg)
	assert.Contains(t, unescaped(string(h.message(room.ID, m.TS).Blocks)), "Retried by <@"+icID+">")
}
