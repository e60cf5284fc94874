package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/activities"
)

func TestExpandUserGroups(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		require.Equal(t, "/usergroups.users.list", r.URL.Path)
		require.NoError(t, r.ParseForm())
		w.Header().Set("Content-Type", "application/json")
		switch r.Form.Get("usergroup") {
		case "S0PRIVACY1":
			json.NewEncoder(w).Encode(map[string]any{"ok": true, "users": []string{"U0DANA0001", "U0ALEX0002"}})
		default:
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": "no_such_subteam"})
		}
	}))
	defer srv.Close()
	api := NewAPI("xoxb-test", srv.URL+"/", nil)

	got, err := ExpandUserGroups(context.Background(), api, []string{"U0ALEX0002", "S0PRIVACY1", "demo-dpo"})
	require.NoError(t, err)
	require.Equal(t, []string{"U0ALEX0002", "U0DANA0001", "demo-dpo"}, got, "members once each, order kept")

	got, err = ExpandUserGroups(context.Background(), api, []string{"S0MISSING1", "U0DANA0001"})
	require.ErrorContains(t, err, "S0MISSING1")
	require.ErrorContains(t, err, "usergroups:read")
	require.Equal(t, []string{"U0DANA0001"}, got, "the other ids still come through")

	for id, want := range map[string]bool{"S0PRIVACY1": true, "U0DANA0001": false, "Sam": false, "S0priv4cy1": false} {
		require.Equal(t, want, IsUserGroupID(id), id)
	}
}

func TestOpeningTopicShowsTheFirstDeadline(t *testing.T) {
	aware := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	got := OpeningTopic(activities.RoomRequest{IncidentID: "INC-20261128-7F3A", Title: "Backup exposed", AwareAt: aware})
	require.Equal(t, "INC-20261128-7F3A · GDPR Art. 33 deadline if notifiable: 2026-12-01 09:30 UTC · Backup exposed", got)
	require.Equal(t, "[DRILL] INC-1 · Drill", OpeningTopic(activities.RoomRequest{IncidentID: "INC-1", Title: "Drill", Drill: true}))
}
