package slack_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

func TestExpandUserGroups(t *testing.T) {
	const privacy, security = "S0PRIVACY1", "S0SECURE01"
	tests := []struct {
		name   string
		ids    []string
		faults func(method string, call int) *slackfake.Fault
		want   []string
		// failed are the groups left out, with the reason people are told.
		failed map[string]string
		calls  int
	}{
		{name: "members once each, order kept, other ids pass through",
			ids:  []string{actor(dpo), actor(privacy), "demo-dpo"},
			want: []string{actor(dpo), actor(commander), "demo-dpo"}, calls: 1},
		{name: "Slack busy, then answering: retried",
			ids: []string{actor(privacy)},
			faults: func(method string, call int) *slackfake.Fault {
				if call == 1 {
					return &slackfake.Fault{Status: 503}
				}
				return nil
			},
			want: []string{actor(dpo), actor(commander)}, calls: 2},
		{name: "Slack failing for good: left out, after a few tries",
			ids: []string{actor(privacy), actor(dpo)},
			faults: func(method string, call int) *slackfake.Fault {
				return &slackfake.Fault{Status: 500}
			},
			want: []string{actor(dpo)}, failed: map[string]string{actor(privacy): "Slack answered HTTP 500"}, calls: breachslack.GroupAttempts},
		{name: "a scope missing: not retried",
			ids: []string{actor(privacy)},
			faults: func(method string, call int) *slackfake.Fault {
				return &slackfake.Fault{Error: "missing_scope"}
			},
			want: []string{}, failed: map[string]string{actor(privacy): "usergroups:read"}, calls: 1},
		{name: "an unknown group",
			ids:  []string{actor("S0MISSING1"), actor(security)},
			want: []string{actor(responder)}, failed: map[string]string{actor("S0MISSING1"): "no such group"}, calls: 2},
		{name: "a bare group id is no actor: it passes through unexpanded",
			ids: []string{privacy}, want: []string{privacy}, calls: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ws := newWorkspace(t)
			ws.SetUserGroup(privacy, dpo, commander, dpo)
			ws.SetUserGroup(security, responder)
			ws.SetFaults(tt.faults)
			api := breachslack.NewAPI(token, ws.APIURL(), nil)
			got, failed := breachslack.ExpandUserGroups(context.Background(), api, tt.ids)
			require.Equal(t, tt.want, got)
			require.Len(t, failed, len(tt.failed))
			for _, f := range failed {
				require.Contains(t, f.Reason(), tt.failed[f.Group], f.Group)
				require.ErrorContains(t, f, f.Group)
			}
			require.Equal(t, tt.calls, ws.Calls("usergroups.users.list"))
		})
	}
}

func TestIdentities(t *testing.T) {
	tests := []struct {
		id            string
		user, group   string
		mention       string
		isUser, isGrp bool
	}{
		{id: "slack:T0BREACH/UDPO00001", user: "UDPO00001", mention: "<@UDPO00001>", isUser: true},
		{id: "UDPO00001", user: "UDPO00001", mention: "<@UDPO00001>", isUser: true},
		{id: "slack:T0BREACH/S0PRIVACY1", group: "S0PRIVACY1", mention: "slack:T0BREACH/S0PRIVACY1", isGrp: true},
		{id: "S0PRIVACY1", mention: "S0PRIVACY1"},
		{id: "demo-dpo", mention: "demo-dpo"},
		{id: "cli:dana", mention: "cli:dana"},
		{id: "slack:/UDPO00001", mention: "slack:/UDPO00001"},
		{id: "slack:T0BREACH/<!channel>", mention: "slack:T0BREACH/&lt;!channel&gt;"},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			_, u, ok := breachslack.SlackUser(tt.id)
			require.Equal(t, tt.isUser, ok)
			require.Equal(t, tt.user, u)
			_, g, ok := breachslack.UserGroup(tt.id)
			require.Equal(t, tt.isGrp, ok)
			require.Equal(t, tt.group, g)
			require.Equal(t, tt.mention, breachslack.Mention(tt.id))
		})
	}
	for id, want := range map[string]bool{"S0PRIVACY1": true, "U0DANA0001": false, "Sam": false, "S0priv4cy1": false} {
		require.Equal(t, want, breachslack.IsUserGroupID(id), id)
	}
}

func TestOpeningTopicShowsTheFirstDeadline(t *testing.T) {
	aware := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	got := breachslack.OpeningTopic(incident.RoomRequest{IncidentID: "INC-20261128-7F3A", Title: "Backup exposed", AwareAt: aware})
	require.Equal(t, "INC-20261128-7F3A · aware since 2026-11-28 09:30 UTC · Backup exposed", got)
	require.Equal(t, "[DRILL] INC-1 · Drill", breachslack.OpeningTopic(incident.RoomRequest{IncidentID: "INC-1", Title: "Drill", Drill: true}))
}
