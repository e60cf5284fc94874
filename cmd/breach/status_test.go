package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// breach status shows an obligation's deadline and, beside it, the later statutory outer limit
// the law's own counting gives, with how it was counted.
func TestStatusShowsTheDeadlineAndTheStatutoryLimit(t *testing.T) {
	aware := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	res, err := rules.Evaluate(rules.Facts{AwareAt: aware, Timezone: "America/New_York", Establishments: []string{"US"},
		SubjectsByJurisdiction: map[string]int{"US-NY": 40}, Risk: "high"})
	if err != nil {
		t.Fatal(err)
	}
	var st incident.Status
	st.IncidentID, st.Title, st.Phase, st.AwareAt = "INC-20261128-7F3A", "Laptop stolen", incident.PhaseNotify, aware
	var ny rules.Obligation
	for _, o := range res.Obligations {
		st.Obligations = append(st.Obligations, incident.ObligationStatus{Obligation: o, State: incident.OblAwaitingApproval})
		if o.ID == "us-ny-residents" {
			ny = o
		}
	}
	if ny.StatutoryLimit.IsZero() {
		t.Fatalf("us-ny-residents has no statutory limit: %+v", res.Obligations)
	}
	var b bytes.Buffer
	renderStatus(&b, st, aware.Add(time.Hour))
	out := b.String()
	due := "due " + ny.DueAt.UTC().Format(time.RFC3339)
	limit := "statutory outer limit " + ny.StatutoryLimit.UTC().Format(time.RFC3339) + " (" + ny.StatutoryRule + ")"
	lines := strings.Split(out, "\n")
	shown := false
	for i, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(strings.TrimSpace(l), "us-ny-residents ") {
			shown = strings.Contains(l, due) && strings.Contains(lines[i+1], limit)
		}
	}
	if !shown {
		t.Fatalf("status does not show us-ny-residents' deadline %q with the limit %q below it:\n%s", due, limit, out)
	}
	if n := strings.Count(out, "statutory outer limit"); n != 2 {
		// us-ny-residents and us-ny-attorney-general carry one; the rest have none.
		t.Errorf("%d statutory limits shown, want 2:\n%s", n, out)
	}
}
