package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	breachslack "github.com/breachops/breach/internal/slack"
)

// A message's button comes from its step, whatever its text says.
func TestRequestOfStructuredMessages(t *testing.T) {
	const id = "INC-20261128-7F3A9C2E1B4D5A6F"
	for _, tt := range []struct {
		m      incident.ChatMessage
		action string
		ok     bool
	}{
		{incident.ChatMessage{Kind: "approval-needed", Step: "report:gdpr-art33-authority", Text: "Bitte den Bericht freigeben."}, breachslack.ActionApproveReport, true},
		{incident.ChatMessage{Kind: "filing-needed", Step: "file:uk-gdpr-art33-ico", Text: "—"}, breachslack.ActionFileReport, true},
		{incident.ChatMessage{Kind: "manual-isolation", Step: "isolation:shop-db"}, breachslack.ActionConfirmIsolation, true},
		{incident.ChatMessage{Kind: "decision-needed", Step: "decide"}, breachslack.ActionDecide, true},
		{incident.ChatMessage{Kind: "ready-to-close", Step: "close"}, breachslack.ActionClose, true},
		{incident.ChatMessage{Kind: "escalation", Obligation: "gdpr-art33-authority", Text: "--step report:x"}, "", false},
		{incident.ChatMessage{Kind: "approval-needed", Step: "report:", Text: "--step report:x"}, "", false},
	} {
		tt.m.IncidentID = id
		r, ok := breachslack.RequestOf(tt.m)
		if ok != tt.ok || r.ActionID != tt.action || (ok && r.Step != tt.m.Step) {
			t.Errorf("%+v: got %+v %t, want %s %t", tt.m, r, ok, tt.action, tt.ok)
		}
	}
	due := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if !breachslack.Overdue(incident.ChatMessage{Kind: "escalation", DueAt: due, Overdue: true, Text: "quoi"}) ||
		breachslack.Overdue(incident.ChatMessage{Kind: "escalation", DueAt: due, Text: "the word overdue in the text"}) {
		t.Error("overdue comes from the message's field, not its words")
	}
}

// Messages queued before messages carried their step (during an upgrade) are still read from
// the command their text shows (workflows/incident.go, obligation.go, containment.go).
func TestRequestOf(t *testing.T) {
	const id = "INC-20261128-7F3A"
	tests := []struct {
		kind, text     string
		action, step   string
		wantNoButton   bool
		wantButtonText string
	}{
		{kind: "decision-needed", text: "The DPO must decide the risk and the notifications: breach decide " + id + " --risk unlikely|risk|high --reasoning \"…\" --as <dpo>",
			action: breachslack.ActionDecide, step: "decide"},
		{kind: "approval-needed", text: "The gdpr-art33-authority report to the supervisory authority is drafted (/var/x.md), due 2026-12-01T07:30:00Z. Approve: breach approve " + id + " --step report:gdpr-art33-authority --as <dpo>",
			action: breachslack.ActionApproveReport, step: "report:gdpr-art33-authority"},
		{kind: "manual-isolation", text: "Automatic isolation of shop-db failed (timeout). Isolate shop-db manually, then confirm: breach approve " + id + " --step isolation:shop-db --as <commander>",
			action: breachslack.ActionConfirmIsolation, step: "isolation:shop-db"},
		{kind: "manual-isolation-reminder", text: "shop-db is still not isolated after 30m0s. Automatic isolation of shop-db failed (x). Isolate shop-db manually, then confirm: breach approve " + id + " --step isolation:shop-db --as <commander>",
			action: breachslack.ActionConfirmIsolation, step: "isolation:shop-db"},
		{kind: "filing-needed", text: "File the approved uk-gdpr-art33-ico report with the ICO, then confirm: breach file " + id + " --obligation uk-gdpr-art33-ico --reference REF --as <dpo>",
			action: breachslack.ActionFileReport, step: "file:uk-gdpr-art33-ico"},
		{kind: "ready-to-close", text: "Every step is done. The incident commander can close: breach close " + id + " --as <commander>",
			action: breachslack.ActionClose, step: "close"},
		{kind: "approval-needed", text: "no step named", wantNoButton: true},
		{kind: "manual-isolation", text: "--step report:x is not an isolation", wantNoButton: true},
		{kind: "scope", text: "Scope: 3 subjects", wantNoButton: true},
		{kind: "escalation", text: "--step report:x", wantNoButton: true},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.step, func(t *testing.T) {
			m := incident.ChatMessage{IncidentID: id, Kind: tt.kind, Text: tt.text}
			r, ok := breachslack.RequestOf(m)
			if tt.wantNoButton {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.action, r.ActionID)
			assert.Equal(t, tt.step, r.Step)
			gotID, gotStep, ok := breachslack.ParseButtonValue(breachslack.ButtonValue(id, r.Step))
			require.True(t, ok)
			assert.Equal(t, id, gotID)
			assert.Equal(t, tt.step, gotStep)
		})
	}
}

func TestParseButtonValue(t *testing.T) {
	for _, v := range []string{"", "INC-20261128-7F3A", "INC-20261128-7F3A ", "x report:a", "INC-1-2 close",
		"INC-20261128-7F3A report:a b", "INC-20261128-7F3A\nclose"} {
		_, _, ok := breachslack.ParseButtonValue(v)
		assert.False(t, ok, "%q", v)
	}
}

func TestReplaceActions(t *testing.T) {
	m := incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "ready-to-close", Text: "Every step is done."}
	blocks := breachslack.MessageBlocks(m)
	// The blocks come back from Slack in an interaction payload.
	raw, err := json.Marshal(blocks)
	require.NoError(t, err)
	var parsed slackgo.Blocks
	require.NoError(t, json.Unmarshal(raw, &parsed))

	before := breachslack.BlockIDs(parsed.BlockSet)
	outcome := breachslack.Outcome("Closed", commander, clock, "")
	out, replaced := breachslack.ReplaceActions(parsed.BlockSet, outcome)
	require.True(t, replaced)
	assert.Equal(t, []string{breachslack.BlockMessage, breachslack.BlockOutcome}, breachslack.BlockNames(out))
	for _, id := range breachslack.BlockIDs(out) {
		assert.NotContains(t, before, id, "an updated message gets new block_ids")
	}
	assert.Equal(t, ":white_check_mark: Closed by <@UIC000001> at 2026-11-28 09:30 UTC", outcome)
	_, again := breachslack.ReplaceActions(out, outcome)
	assert.False(t, again)
}

func TestModalsHaveUniqueBlockIDs(t *testing.T) {
	for _, v := range []slackgo.ModalViewRequest{
		breachslack.DeclareModal("{}", "title", clock, []string{"shop-db"}, breachslack.StoredDatasets{}),
		breachslack.DeclareModal("{}", "title", clock, inventoryOf(101), breachslack.StoredDatasets{}),
		breachslack.DecideModal("{}", "INC-20261128-7F3A"),
		breachslack.FileModal("{}", "INC-20261128-7F3A", "uk-gdpr-art33-ico"),
	} {
		assert.True(t, slackgo.ValidateUniqueBlockID(v), v.CallbackID)
		assert.LessOrEqual(t, len(v.Title.Text), 24, "Slack limits modal titles")
	}
}

func TestTopicAndLeft(t *testing.T) {
	c := incident.Card{IncidentID: "INC-20261128-7F3A", Phase: "contain", AwareAt: clock, Drill: true}
	assert.Equal(t, "[DRILL] INC-20261128-7F3A · next deadline: GDPR Art. 33 (if notifiable) due 2026-12-01 09:30 UTC", breachslack.Topic(c))
	assert.Equal(t, "71h 00m left", breachslack.Left(clock.Add(71*time.Hour), clock))
	assert.Equal(t, "5d 2h left", breachslack.Left(clock.Add(122*time.Hour), clock))
	assert.Equal(t, "OVERDUE by 1h 30m", breachslack.Left(clock.Add(-90*time.Minute), clock))
}

func TestCardBlocksFitSlackLimits(t *testing.T) {
	long := make([]incident.SystemStatus, 400)
	for i := range long {
		long[i] = incident.SystemStatus{System: "system-with-a-long-name", State: incident.ContainIsolating}
	}
	c := incident.Card{IncidentID: "INC-20261128-7F3A", Title: string(make([]byte, 500)), Phase: "contain", Containment: long}
	for _, b := range breachslack.CardBlocks(c, clock) {
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		var v struct {
			Text struct {
				Text string `json:"text"`
			} `json:"text"`
		}
		require.NoError(t, json.Unmarshal(raw, &v))
		assert.LessOrEqual(t, len(v.Text.Text), 3000)
	}
}

// The card shows an obligation's deadline and the later statutory outer limit beside it, in its
// blocks and in its text.
func TestCardShowsTheDeadlineAndTheStatutoryLimit(t *testing.T) {
	due := clock.Add(30 * 24 * time.Hour)
	limit := due.Add(24 * time.Hour)
	c := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Laptop stolen", Phase: "notify", AwareAt: clock,
		Obligations: []incident.ObligationStatus{
			{Obligation: rules.Obligation{ID: "us-ny-residents", Audience: "New York residents", DueAt: due, StatutoryLimit: limit,
				StatutoryRule: "N.Y. Gen. Constr. Law §§20, 25-a"}, State: incident.OblAwaitingNotices},
			{Obligation: rules.Obligation{ID: "gdpr-art33-authority", Audience: "DPA", DueAt: clock.Add(72 * time.Hour)}, State: incident.OblAwaitingApproval},
		}}
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, b := range breachslack.CardBlocks(c, clock) {
		require.NoError(t, enc.Encode(b))
	}
	text := buf.String()
	assert.Contains(t, text, "due "+breachslack.SlackDate(due)+" (30d 0h left); statutory outer limit "+breachslack.SlackDate(limit))
	assert.Equal(t, 1, strings.Count(text, "statutory outer limit"), "only the obligation with a limit shows one")
	assert.Contains(t, breachslack.CardText(c), "us-ny-residents: awaiting-notices, due "+due.UTC().Format("2006-01-02 15:04 UTC")+
		" (statutory outer limit "+limit.UTC().Format("2006-01-02 15:04 UTC")+")")
}

// A clock a law-enforcement delay holds still shows as paused on the card, and is not the next
// deadline.
func TestCardShowsAPausedClock(t *testing.T) {
	until := clock.Add(20 * 24 * time.Hour)
	c := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Laptop stolen", Phase: "notify", AwareAt: clock,
		Obligations: []incident.ObligationStatus{
			{Obligation: rules.Obligation{ID: "us-ca-residents", Audience: "California residents", DueAt: clock.Add(24 * time.Hour)}, State: incident.OblAwaitingNotices,
				Paused: &incident.ClockPause{Delay: 1, From: clock, Until: until}},
			{Obligation: rules.Obligation{ID: "gdpr-art33-authority", Audience: "DPA", DueAt: clock.Add(72 * time.Hour)}, State: incident.OblAwaitingApproval},
		}}
	what, _, ok := breachslack.NextDeadline(c)
	assert.True(t, ok)
	assert.Equal(t, "gdpr-art33-authority", what, "a paused clock's deadline is not the next one")
	var buf strings.Builder
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, b := range breachslack.CardBlocks(c, clock) {
		require.NoError(t, enc.Encode(b))
	}
	assert.Contains(t, buf.String(), "paused by law-enforcement delay #1 until "+breachslack.SlackDate(until))
	assert.Contains(t, breachslack.CardText(c), "us-ca-residents: awaiting-notices (PAUSED by law-enforcement delay #1 until "+until.UTC().Format("2006-01-02 15:04 UTC")+")")
}
