package slack_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/internal/store"
)

const token = "xoxb-test-token"

// Slack user ids of the test organisation, and its workspace.
const (
	dpo       = "UDPO00001"
	commander = "UIC000001"
	responder = "URESP0001"
	declarer  = "UDECL0001"
	team      = "T0BREACH"
	// foreigner holds a role as a user of another workspace: never invited here.
	foreigner = "UFOREIGN1"
)

// actor names a user of the test workspace as roles list them.
func actor(user string) string { return "slack:" + team + "/" + user }

var clock = time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)

// newWorkspace is a Slack workspace that enforces Slack's documented limits: the test fails if
// anything the adapter sent broke one of them.
func newWorkspace(t *testing.T) *slackfake.Workspace {
	t.Helper()
	ws := slackfake.New(token)
	t.Cleanup(func() {
		if vs := ws.Violations(); len(vs) > 0 {
			t.Errorf("Slack's limits were broken:\n%s", slackfake.FormatViolations(vs))
		}
		ws.Close()
	})
	return ws
}

// newChat is the adapter of a worker whose store is the directory dir ("" for none).
func newChat(t *testing.T, ws *slackfake.Workspace, dir string) *breachslack.Chat {
	t.Helper()
	var st *store.Store
	if dir != "" {
		var err error
		st, err = store.Local(dir)
		require.NoError(t, err)
		t.Cleanup(func() { st.Close() })
	}
	c, err := breachslack.New(breachslack.Config{
		Token: token, APIURL: ws.APIURL(), Store: st,
		Responders: []string{responder, "not-a-slack-id"},
		DPO:        []string{actor(dpo), "demo-dpo", "slack:T0OTHER/" + foreigner}, Commanders: []string{actor(commander)},
		Teams: []string{team},
		Now:   func() time.Time { return clock },
	})
	require.NoError(t, err)
	return c
}

func roomRequest(id string) incident.RoomRequest {
	return incident.RoomRequest{IncidentID: id, Title: "Customer DB exposed", DeclaredBy: actor(declarer)}
}

// blocksOf decodes a message's blocks into generic maps.
func blocksOf(t *testing.T, raw json.RawMessage) []map[string]any {
	t.Helper()
	var bs []map[string]any
	require.NoError(t, json.Unmarshal(raw, &bs))
	return bs
}

// blockNames lists the block ids of a message without their revisions.
func blockNames(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var ids []string
	for _, b := range blocksOf(t, raw) {
		id, _ := b["block_id"].(string)
		name, _, _ := strings.Cut(id, ".")
		ids = append(ids, name)
	}
	return ids
}

// cardOf returns the pinned card message of the only incident channel.
func cardOf(t *testing.T, ws *slackfake.Workspace, channelID string) slackfake.Message {
	t.Helper()
	ch, ok := ws.Channel(channelID)
	require.True(t, ok)
	require.Len(t, ch.Pins, 1, "one pinned card")
	for _, m := range ws.Messages(channelID) {
		if m.TS == ch.Pins[0] {
			return m
		}
	}
	t.Fatalf("pinned message %s not found", ch.Pins[0])
	return slackfake.Message{}
}

func cards(ws *slackfake.Workspace, channelID string) int {
	n := 0
	for _, m := range ws.Messages(channelID) {
		if strings.Contains(string(m.Blocks), breachslack.BlockCardHeader) {
			n++
		}
	}
	return n
}

// unescaped is JSON as a person reads it: encoding/json escapes <, > and &.
func unescaped(raw json.RawMessage) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}
