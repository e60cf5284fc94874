package web

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// nyResidents is New York's resident notice as the rules compute it: due after 30 days counting
// the day of discovery, with the later statutory outer limit of General Construction Law §§20
// and 25-a beside it.
func nyResidents(t *testing.T, aware time.Time) rules.Obligation {
	t.Helper()
	res, err := rules.Evaluate(rules.Facts{AwareAt: aware, Timezone: "America/New_York", Establishments: []string{"US"},
		SubjectsByJurisdiction: map[string]int{"US-NY": 40}, Risk: "high"})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range res.Obligations {
		if o.ID == "us-ny-residents" {
			if o.StatutoryLimit.IsZero() || !o.StatutoryLimit.After(o.DueAt) {
				t.Fatalf("us-ny-residents carries no later statutory limit: %+v", o)
			}
			return o
		}
	}
	t.Fatalf("no us-ny-residents among %+v", res.Obligations)
	return rules.Obligation{}
}

// The board shows an obligation's deadline and, beside it, the later statutory outer limit the
// law's own counting gives, with how it was counted; its JSON carries both.
func TestBoardShowsTheDeadlineAndTheStatutoryLimit(t *testing.T) {
	b := newBoard(t, nil)
	o := nyResidents(t, testNow.Add(-2*time.Hour))
	b.temporal.mu.Lock()
	st := b.temporal.statuses[incOpen]
	st.Obligations = append(st.Obligations, incident.ObligationStatus{Obligation: o, State: incident.OblAwaitingNotices})
	b.temporal.statuses[incOpen] = st
	b.temporal.mu.Unlock()

	berlin := mustZone(t, "Europe/Berlin")
	for _, page := range []string{"/board/", "/board/incidents/" + incOpen} {
		body := b.get(page, viewer).Body.String()
		mustContain(t, body, "us-ny-residents",
			o.DueAt.UTC().Format("2006-01-02 15:04 UTC"), o.DueAt.In(berlin).Format("Mon 2 Jan 2006 15:04 MST"),
			"statutory outer limit", o.StatutoryLimit.UTC().Format("2006-01-02 15:04 UTC"), o.StatutoryLimit.In(berlin).Format("Mon 2 Jan 2006 15:04 MST"),
			"Gen. Constr. Law §§20, 25-a")
	}
	var j boardJSON
	if err := json.Unmarshal(b.get("/board/api/board", viewer).Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, inc := range j.Incidents {
		for _, row := range inc.Obligations {
			if row.ID == "us-ny-residents" {
				found = true
				if row.Due.ISO != o.DueAt.UTC().Format(time.RFC3339) || row.Limit.ISO != o.StatutoryLimit.UTC().Format(time.RFC3339) || row.LimitRule != o.StatutoryRule {
					t.Errorf("board JSON row: due %+v, limit %+v (%s); want %s and %s", row.Due, row.Limit, row.LimitRule, o.DueAt, o.StatutoryLimit)
				}
			} else if row.Limit.ISO != "" {
				t.Errorf("%s has no statutory limit, the board shows %+v", row.ID, row.Limit)
			}
		}
	}
	if !found {
		t.Fatal("us-ny-residents is not on the board")
	}
}

// A clock a law-enforcement delay holds still shows as paused, with no countdown; one that
// restarted shows how far the pauses moved its deadline, and its stages come that much later.
func TestBoardShowsPausedClocks(t *testing.T) {
	b := newBoard(t, nil)
	aware := testNow.Add(-48 * time.Hour)
	paused := obligation("us-ca-residents", "affected California residents", aware, aware.Add(30*24*time.Hour), incident.OblAwaitingNotices)
	paused.Paused = &incident.ClockPause{Delay: 1, From: testNow.Add(-time.Hour)}
	paused.RulesDueAt = paused.DueAt
	restarted := obligation("hipaa-hhs", "Secretary of HHS", aware, aware.Add(60*24*time.Hour), incident.OblAwaitingApproval)
	restarted.RulesDueAt = restarted.DueAt
	restarted.Pauses = []incident.ClockPause{{Delay: 1, From: aware.Add(time.Hour), To: aware.Add(41 * time.Hour)}}
	restarted.DueAt = restarted.DueAt.Add(40 * time.Hour)
	b.temporal.mu.Lock()
	st := b.temporal.statuses[incOpen]
	st.Obligations = append(st.Obligations, paused, restarted)
	b.temporal.statuses[incOpen] = st
	b.temporal.mu.Unlock()

	body := b.get("/board/", viewer).Body.String()
	mustContain(t, body, `data-obligation="us-ca-residents"`, "paused: law-enforcement delay #1 since", "until lifted", "stage-paused",
		"moved 1d 16h 00m by law-enforcement delays, from")
	mustNotContain(t, body, `data-countdown="`+paused.DueAt.UTC().Format(time.RFC3339)+`"`)
	var j boardJSON
	if err := json.Unmarshal(b.get("/board/api/board", viewer).Body.Bytes(), &j); err != nil {
		t.Fatal(err)
	}
	for _, inc := range j.Incidents {
		for _, row := range inc.Obligations {
			switch row.ID {
			case "us-ca-residents":
				if row.Stage != stagePaused || row.Paused == "" || len(row.Points) != 0 || row.Overdue {
					t.Errorf("the paused row: %+v", row)
				}
			case "hipaa-hhs":
				// 50% of the rules' 60 days, 40 hours later.
				want := aware.Add(30*24*time.Hour + 40*time.Hour)
				if len(row.Points) == 0 || row.Points[0].At != want.UTC().Format(time.RFC3339Nano) || row.Moved == "" {
					t.Errorf("the restarted row: points %+v, moved %q; want 50%% at %s", row.Points, row.Moved, want)
				}
			}
		}
	}
}
