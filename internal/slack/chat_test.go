package slack_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/internal/store"
)

func TestChannelName(t *testing.T) {
	const id = "INC-20261128-7F3A9C2E1B4D5A6F"
	long := strings.Repeat("very long title ", 10)
	tests := []struct {
		title   string
		drill   bool
		attempt int
		want    string
	}{
		{"Customer DB exposed", false, 1, "inc-20261128-customer-db-exposed-5a6f"},
		{"Customer DB exposed", true, 1, "drill-20261128-customer-db-exposed-5a6f"},
		{"Customer DB exposed", false, 2, "inc-20261128-customer-db-exposed-5a6f-2"},
		{"Customer DB exposed", false, 3, "inc-20261128-customer-db-exposed-5a6f-3"},
		{"", false, 1, "inc-20261128-incident-5a6f"},
		{"Ümlaut & Co!", false, 1, "inc-20261128-mlaut-co-5a6f"},
		{long, false, 1, ""},
		{long, false, 12, ""},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			got := breachslack.ChannelName(id, tt.title, tt.drill, tt.attempt)
			if tt.want != "" {
				assert.Equal(t, tt.want, got)
			}
			assert.LessOrEqual(t, len(got), breachslack.MaxChannelName)
			assert.Equal(t, strings.ToLower(got), got)
			assert.NotContains(t, got, "--")
			if tt.attempt > 1 {
				assert.True(t, strings.HasSuffix(got, "-5a6f-"+strconv.Itoa(tt.attempt)), got)
			} else {
				assert.True(t, strings.HasSuffix(got, "-5a6f"), got)
			}
		})
	}
	// The name is the incident's, not the day's: a retry on another day, or another worker,
	// computes the same.
	assert.Equal(t, "inc-20261128-customer-db-exposed-7f3a", breachslack.ChannelName("INC-20261128-7F3A", "Customer DB exposed", false, 1))
}

func TestOpenRoom(t *testing.T) {
	ws := newWorkspace(t)
	dir := t.TempDir()
	c := newChat(t, ws, dir)

	room, err := c.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	assert.Equal(t, "#inc-20261128-customer-db-exposed-7f3a", room.Name)

	ch, ok := ws.Channel(room.ID)
	require.True(t, ok)
	assert.True(t, ch.Private, "incident channels are private")
	assert.Contains(t, ch.Purpose, "INC-20261128-7F3A")
	assert.Contains(t, ch.Topic, "INC-20261128-7F3A")
	assert.ElementsMatch(t, []string{slackfake.BotUserID, declarer, responder, dpo, commander}, ch.Members,
		"the declarer, the responders and the role holders with Slack ids are invited")

	card := cardOf(t, ws, room.ID)
	assert.Equal(t, []string{breachslack.BlockCardHeader, breachslack.BlockCardSummary, breachslack.BlockCardContainment, breachslack.BlockCardFooter},
		blockNames(t, card.Blocks))
	assert.Contains(t, card.Text, "INC-20261128-7F3A")
	roomKey, err := breachslack.RoomKey("INC-20261128-7F3A")
	require.NoError(t, err)
	roomFile := filepath.Join(dir, filepath.FromSlash(roomKey))
	assert.FileExists(t, roomFile)

	// Opening again (a retried activity) changes nothing.
	again, err := c.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	assert.Equal(t, room, again)
	assert.Len(t, ws.Channels(), 1)
	assert.Equal(t, 1, cards(ws, room.ID))
}

func TestOpenRoomNameTaken(t *testing.T) {
	ws := newWorkspace(t)
	// A public channel someone made with the name, and another incident's channel (same day,
	// title and last digits): neither is taken for the incident.
	ws.AddChannel("inc-20261128-customer-db-exposed-7f3a", false)
	c := newChat(t, ws, t.TempDir())
	other, err := c.OpenRoom(context.Background(), roomRequest("INC-20261128-0000000000007F3A"))
	require.NoError(t, err)
	require.Equal(t, "#inc-20261128-customer-db-exposed-7f3a-2", other.Name)
	room, err := c.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	assert.Equal(t, "#inc-20261128-customer-db-exposed-7f3a-3", room.Name)
}

// Two workers with nothing on disk in common open one room: the second finds the first's
// channel by its name and its purpose, and does nothing the first did again.
func TestOpenRoomOnTwoWorkers(t *testing.T) {
	ws := newWorkspace(t)
	a, b := newChat(t, ws, t.TempDir()), newChat(t, ws, t.TempDir())
	first, err := a.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	second, err := b.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	assert.Equal(t, first, second)
	assert.Len(t, ws.Channels(), 1)
	assert.Equal(t, 1, cards(ws, first.ID), "the second worker found the card among the pins")
	assert.Equal(t, 1, ws.Calls("chat.postMessage"))
}

// The answer to conversations.create is lost (Slack created the channel), and the worker dies
// before it records anything: the retry, on another worker, takes that channel, where a second
// channel (name-2) used to be created.
func TestOpenRoomAfterALostCreate(t *testing.T) {
	ws := newWorkspace(t)
	ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if method == "conversations.create" && call == 1 {
			return &slackfake.Fault{Lost: true}
		}
		return nil
	})
	_, err := newChat(t, ws, t.TempDir()).OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.Error(t, err)
	require.Len(t, ws.Channels(), 1, "Slack made the channel")
	room, err := newChat(t, ws, t.TempDir()).OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	assert.Len(t, ws.Channels(), 1)
	assert.Equal(t, "#inc-20261128-customer-db-exposed-7f3a", room.Name)
	ch, _ := ws.Channel(room.ID)
	assert.Contains(t, ch.Purpose, "INC-20261128-7F3A")
	assert.Equal(t, 1, cards(ws, room.ID))
}

func TestOpenRoomResumesAfterFailures(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	// Every step fails once, in turn: each retry gets one step further, and never repeats one.
	ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if call == 1 {
			return &slackfake.Fault{Status: http.StatusInternalServerError}
		}
		return nil
	})
	var room incident.Room
	var err error
	attempts := 0
	for attempts = 1; attempts <= 10; attempts++ {
		if room, err = c.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A")); err == nil {
			break
		}
		var ae *temporal.ApplicationError
		require.ErrorAs(t, err, &ae)
		assert.False(t, ae.NonRetryable(), "a 500 is retried: %v", err)
	}
	require.NoError(t, err)
	assert.Equal(t, 7, attempts, "create, purpose, topic, invite, post and pin each failed once")
	assert.Zero(t, ws.Calls("conversations.list"), "with a room file, a new incident needs no lookup")
	assert.Len(t, ws.Channels(), 1)
	assert.Equal(t, 1, cards(ws, room.ID))
	cardOf(t, ws, room.ID)
}

func TestUpdateCardEditsInPlace(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	ctx := context.Background()
	room, err := c.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)

	card := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Customer DB exposed", Phase: "assess", DeclaredBy: declarer,
		AwareAt:     clock.Add(-2 * time.Hour),
		Containment: []incident.SystemStatus{{System: "shop-db", State: incident.ContainContained, Provider: "dry-run"}}}
	require.NoError(t, c.UpdateCard(ctx, card))
	ch, _ := ws.Channel(room.ID)
	assert.Contains(t, ch.Topic, "GDPR Art. 33 (if notifiable) due 2026-12-01 07:30 UTC")

	card.Phase = "notify"
	card.Risk = "high"
	card.Obligations = []incident.ObligationStatus{
		{Obligation: rules.Obligation{ID: "gdpr-art34-subjects", Audience: "data subjects", DueAt: clock.Add(96 * time.Hour)}, State: incident.OblAwaitingNotices},
		{Obligation: rules.Obligation{ID: "gdpr-art33-authority", Audience: "the supervisory authority", DueAt: clock.Add(70 * time.Hour)}, State: incident.OblAwaitingApproval},
	}
	card.Pending = []string{"report:gdpr-art33-authority (dpo): Approve the gdpr-art33-authority report"}
	require.NoError(t, c.UpdateCard(ctx, card))
	ch, _ = ws.Channel(room.ID)
	assert.Contains(t, ch.Topic, "next deadline: gdpr-art33-authority due 2026-12-01 07:30 UTC")

	card.Phase = "closed"
	card.Obligations[1].State = incident.OblFiled
	card.Obligations[1].SubmittedBy = dpo
	card.Obligations[1].SubmittedAt = clock.Add(time.Hour)
	card.Obligations[0].State = incident.OblFiled
	card.Pending = nil
	card.ClosedAt, card.ClosedBy = clock.Add(3*time.Hour), commander
	require.NoError(t, c.UpdateCard(ctx, card))

	msg := cardOf(t, ws, room.ID)
	assert.Equal(t, 3, msg.Edits, "every change edits the pinned card")
	assert.Equal(t, 1, cards(ws, room.ID), "never a new message per change")
	assert.Len(t, ws.Messages(room.ID), 1)
	assert.Contains(t, msg.Text, "Phase: closed")
	assert.Contains(t, unescaped(msg.Blocks), "Closed <!date^")
	assert.Contains(t, unescaped(msg.Blocks), "approved by <@"+dpo+">")
	ch, _ = ws.Channel(room.ID)
	assert.True(t, strings.HasSuffix(ch.Topic, "· closed"), ch.Topic)
}

func TestMappingSurvivesRestart(t *testing.T) {
	for _, tc := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"from the room file under BREACH_HOME", func(t *testing.T) string { return t.TempDir() }},
		{"recovered from Slack without a file", func(*testing.T) string { return "" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := newWorkspace(t)
			dir := tc.dir(t)
			ctx := context.Background()
			first := newChat(t, ws, dir)
			room, err := first.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
			require.NoError(t, err)
			_, err = first.OpenRoom(ctx, roomRequest("INC-20261128-0001"))
			require.NoError(t, err)

			restarted := newChat(t, ws, dir)
			card := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Customer DB exposed", Phase: "contain", DeclaredBy: declarer}
			require.NoError(t, restarted.UpdateCard(ctx, card))
			require.NoError(t, restarted.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "scope", Text: "Scope: 3 subjects"}))

			assert.Equal(t, 1, cards(ws, room.ID))
			assert.Equal(t, 1, cardOf(t, ws, room.ID).Edits)
			msgs := ws.Messages(room.ID)
			require.Len(t, msgs, 2)
			assert.Equal(t, "Scope: 3 subjects", msgs[1].Text)
			assert.Len(t, ws.Channels(), 2)
		})
	}
}

func TestPost(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	ctx := context.Background()
	room, err := c.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)

	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "approval-needed",
		Text: "The gdpr-art33-authority report to the supervisory authority is drafted (/r/d.md), due 2026-12-01T07:30:00Z. Approve: breach approve INC-20261128-7F3A --step report:gdpr-art33-authority --as <dpo>"}))
	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "escalation", Urgent: true,
		Text: "gdpr-art33-authority (GDPR Art. 33(1), to the authority): OVERDUE; due 2026-12-01T07:30:00Z, overdue by 1h0m0s; it is awaiting-approval."}))

	msgs := ws.Messages(room.ID)
	require.Len(t, msgs, 3)
	buttons := slackfake.Buttons(msgs[1].Blocks)
	require.Len(t, buttons, 1)
	assert.Equal(t, breachslack.ActionApproveReport, buttons[0].ActionID)
	assert.Equal(t, "INC-20261128-7F3A report:gdpr-art33-authority", buttons[0].Value)
	assert.Contains(t, unescaped(msgs[2].Blocks), "<!here>", "overdue is loud")
	assert.Empty(t, slackfake.Buttons(msgs[2].Blocks))

	for _, u := range []string{dpo, commander} {
		dms := ws.DirectMessages(u)
		require.Len(t, dms, 1, "urgent messages reach %s directly", u)
		assert.Contains(t, dms[0].Text, "OVERDUE")
		assert.Contains(t, dms[0].Text, "<#"+room.ID+">")
	}
	assert.Empty(t, ws.DirectMessages(responder))

	err = c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-0000", Kind: "scope", Text: "x"})
	var ae *temporal.ApplicationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, breachslack.ErrTypeNoRoom, ae.Type())
}

func TestUpdateCardOpensRoomLate(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	// Slack was down while the room was being opened; the next card update opens it.
	card := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Customer DB exposed", Phase: "assess", DeclaredBy: declarer}
	require.NoError(t, c.UpdateCard(context.Background(), card))
	chans := ws.Channels()
	require.Len(t, chans, 1)
	msg := cardOf(t, ws, chans[0].ID)
	assert.Contains(t, msg.Text, "Phase: assess")
}

func TestUpdateCardAfterCardDeleted(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	ctx := context.Background()
	_, err := c.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	ws.SetFaults(func(method string, call int) *slackfake.Fault {
		if method == "chat.update" && call == 1 {
			return &slackfake.Fault{Error: "message_not_found"}
		}
		return nil
	})
	card := incident.Card{IncidentID: "INC-20261128-7F3A", Title: "Customer DB exposed", Phase: "assess", DeclaredBy: declarer}
	require.NoError(t, c.UpdateCard(ctx, card))
	ch := ws.Channels()[0]
	assert.Len(t, ch.Pins, 2, "a new card is pinned")
}

func TestErrorClassification(t *testing.T) {
	tests := []struct {
		name      string
		fault     slackfake.Fault
		token     string
		wantType  string
		retryable bool
		delay     time.Duration
	}{
		{"429 honours Retry-After", slackfake.Fault{Status: 429, RetryAfter: 7}, token, breachslack.ErrTypeRateLimited, true, 7 * time.Second},
		{"429 without Retry-After", slackfake.Fault{Status: 429}, token, breachslack.ErrTypeRateLimited, true, breachslack.DefaultRetryAfter},
		{"ratelimited error code", slackfake.Fault{Error: "ratelimited"}, token, breachslack.ErrTypeRateLimited, true, breachslack.DefaultRetryAfter},
		{"500", slackfake.Fault{Status: 500}, token, breachslack.ErrTypeUnavailable, true, 0},
		{"503", slackfake.Fault{Status: 503}, token, breachslack.ErrTypeUnavailable, true, 0},
		{"internal_error code", slackfake.Fault{Error: "internal_error"}, token, breachslack.ErrTypeUnavailable, true, 0},
		{"invalid_auth", slackfake.Fault{}, "xoxb-wrong", breachslack.ErrTypePermanent, false, 0},
		{"not_authed", slackfake.Fault{Error: "not_authed"}, token, breachslack.ErrTypePermanent, false, 0},
		{"channel_not_found", slackfake.Fault{Error: "channel_not_found"}, token, breachslack.ErrTypePermanent, false, 0},
		{"404", slackfake.Fault{Status: 404}, token, breachslack.ErrTypePermanent, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t)
			c := newChat(t, ws, t.TempDir())
			_, err := c.OpenRoom(context.Background(), roomRequest("INC-20261128-7F3A"))
			require.NoError(t, err)
			if tt.fault != (slackfake.Fault{}) {
				f := tt.fault
				ws.SetFaults(func(method string, call int) *slackfake.Fault {
					if method == "chat.update" {
						return &f
					}
					return nil
				})
			}
			if tt.token != token {
				c, err = breachslack.New(breachslack.Config{Token: tt.token, APIURL: ws.APIURL(), Store: c2store(t, ws, c)})
				require.NoError(t, err)
			}
			start := time.Now()
			err = c.UpdateCard(context.Background(), incident.Card{IncidentID: "INC-20261128-7F3A", Title: "x", Phase: "contain"})
			assert.Less(t, time.Since(start), 2*time.Second, "the adapter never sleeps on Retry-After")
			var ae *temporal.ApplicationError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tt.wantType, ae.Type(), "%v", err)
			assert.Equal(t, tt.retryable, !ae.NonRetryable(), "%v", err)
			assert.Equal(t, tt.delay, ae.NextRetryDelay())
			if d, ok := breachslack.RetryAfter(err); ok {
				assert.Equal(t, tt.delay, d)
			}
		})
	}
}

// c2store is a store holding the room of a chat built by newChat, recovered from the
// workspace's first channel, so a second adapter with another token finds the same room.
func c2store(t *testing.T, ws *slackfake.Workspace, _ *breachslack.Chat) *store.Store {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Local(dir)
	require.NoError(t, err)
	ch := ws.Channels()[0]
	c, err := breachslack.New(breachslack.Config{Token: token, APIURL: ws.APIURL(), Store: st})
	require.NoError(t, err)
	// Recovered from Slack into dir.
	require.NoError(t, c.Post(context.Background(), incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "scope", Text: "x"}))
	roomKey, err := breachslack.RoomKey("INC-20261128-7F3A")
	require.NoError(t, err)
	roomFile := filepath.Join(dir, filepath.FromSlash(roomKey))
	_, err = os.Stat(roomFile)
	require.NoError(t, err, "channel %s", ch.ID)
	return st
}

func TestNewNeedsToken(t *testing.T) {
	_, err := breachslack.New(breachslack.Config{})
	require.Error(t, err)
	assert.True(t, errors.Is(err, err))
	assert.Contains(t, err.Error(), "SLACK_BOT_TOKEN")
}

// Someone who left the company is still listed as a responder: the others are invited, and
// urgent messages still reach whoever can get them.
func TestDeactivatedUsers(t *testing.T) {
	ws := newWorkspace(t)
	ws.RemoveUser(responder)
	ws.RemoveUser(dpo)
	c := newChat(t, ws, t.TempDir())
	ctx := context.Background()
	room, err := c.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	ch, _ := ws.Channel(room.ID)
	assert.ElementsMatch(t, []string{slackfake.BotUserID, declarer, commander}, ch.Members)
	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "escalation", Urgent: true, Text: "75% of the time is gone"}))
	assert.Len(t, ws.DirectMessages(commander), 1)
	assert.Empty(t, ws.DirectMessages(dpo))
}

// Reminders of one line (a fold) edit one message in place: a week of reminders is one
// message, and its button stays.
func TestPostFoldsReminders(t *testing.T) {
	ws := newWorkspace(t)
	c := newChat(t, ws, t.TempDir())
	ctx := context.Background()
	room, err := c.OpenRoom(ctx, roomRequest("INC-20261128-7F3A"))
	require.NoError(t, err)
	before := len(ws.Messages(room.ID))
	for i := 1; i <= 3; i++ {
		require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "manual-isolation-reminder",
			Step: "isolation:shop-db", System: "shop-db", Fold: "isolation:shop-db",
			Text: fmt.Sprintf("shop-db is still not isolated (reminder %d).", i)}))
	}
	msgs := ws.Messages(room.ID)
	require.Len(t, msgs, before+1, "three reminders, one message")
	last := msgs[len(msgs)-1]
	assert.Equal(t, 2, last.Edits)
	assert.Contains(t, last.Text, "reminder 3")
	require.Len(t, slackfake.Buttons(last.Blocks), 1)
	// Another line folds apart.
	require.NoError(t, c.Post(ctx, incident.ChatMessage{IncidentID: "INC-20261128-7F3A", Kind: "manual-isolation-reminder",
		Step: "isolation:crm-api", System: "crm-api", Fold: "isolation:crm-api", Text: "crm-api is still not isolated (reminder 1)."}))
	require.Len(t, ws.Messages(room.ID), before+2)
}
