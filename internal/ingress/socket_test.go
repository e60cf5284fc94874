package ingress_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/ingress"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// Over Socket Mode the same handlers answer: help comes back in the acknowledgement, a button
// click sends the Update, and a delivery repeated by Slack is acted on once.
func TestSocketMode(t *testing.T) {
	h := newHarness(t)
	room := h.incident()
	h.ws.EnableSocketMode("xapp-test")
	api := breachslack.NewAPI(botToken, h.ws.APIURL(), nil, slackgo.OptionAppLevelToken("xapp-test"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.srv.RunSocketMode(ctx, ingress.NewSocketClient(api)) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	require.NoError(t, h.ws.WaitSocket(10*time.Second))

	command := func(team, app string) map[string]any {
		return map[string]any{"command": "/breach", "text": "help", "user_id": icID, "team_id": team, "api_app_id": app,
			"channel_id": room.ID, "trigger_id": h.ws.NewTrigger(icID)}
	}
	ack, err := h.ws.Deliver("slash_commands", command(team, slackfake.DefaultApp), 10*time.Second)
	require.NoError(t, err)
	var reply map[string]any
	require.NoError(t, json.Unmarshal(ack, &reply))
	assert.Equal(t, "ephemeral", reply["response_type"])
	assert.Contains(t, reply["text"], "/breach declare")

	// From another workspace or app: acknowledged (Slack would redeliver it otherwise), and
	// dropped, logged.
	for _, c := range []map[string]any{command("T0FOREIGN", slackfake.DefaultApp), command(team, "A0FOREIGN"), command("", "")} {
		ack, err = h.ws.Deliver("slash_commands", c, 10*time.Second)
		require.NoError(t, err)
		assert.Contains(t, []string{"", "null"}, string(ack), "an empty acknowledgement")
	}
	foreignClose := func(p map[string]any) map[string]any {
		p["team"] = map[string]any{"id": "T0FOREIGN", "domain": "elsewhere"}
		return p
	}

	m := h.post(room, "ready-to-close", "Every step is done. breach close "+incidentID)
	forged, err := h.ic.ClickPayload(m, breachslack.ActionClose)
	require.NoError(t, err)
	ack, err = h.ws.Deliver("interactive", foreignClose(forged), 10*time.Second)
	require.NoError(t, err)
	assert.Contains(t, []string{"", "null"}, string(ack))
	h.srv.Wait()
	assert.Empty(t, h.temporal.Updates(), "a click from another workspace changes nothing")
	assert.Equal(t, 4, strings.Count(h.logs.String(), "slack request from elsewhere refused"), "%s", h.logs)

	click, err := h.ic.ClickPayload(m, breachslack.ActionClose)
	require.NoError(t, err)
	for i := 0; i < 2; i++ {
		ack, err = h.ws.Deliver("interactive", click, 10*time.Second)
		require.NoError(t, err)
		assert.Contains(t, []string{"", "null"}, string(ack), "an empty acknowledgement")
	}
	h.srv.Wait()
	require.Len(t, h.temporal.Updates(), 1)
	assert.Contains(t, unescaped(string(h.message(room.ID, m.TS).Blocks)), "Closed by <@"+icID+">")
}
