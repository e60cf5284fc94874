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

// breach status shows a clock a law-enforcement delay holds still, how far a restarted one's
// deadline moved, and each delay: who asked, until when, what it paused, whether it holds.
func TestStatusShowsLawEnforcementDelays(t *testing.T) {
	aware := time.Date(2026, 11, 28, 14, 0, 0, 0, time.UTC)
	now := aware.Add(72 * time.Hour)
	ca := incident.ObligationStatus{Obligation: rules.Obligation{ID: "us-ca-residents", DueAt: aware.Add(30 * 24 * time.Hour)}, State: incident.OblAwaitingNotices,
		Paused: &incident.ClockPause{Delay: 2, From: aware.Add(48 * time.Hour)}}
	hhs := incident.ObligationStatus{Obligation: rules.Obligation{ID: "hipaa-hhs", DueAt: aware.Add(62 * 24 * time.Hour)}, State: incident.OblAwaitingApproval,
		RulesDueAt: aware.Add(60 * 24 * time.Hour), Pauses: []incident.ClockPause{{Delay: 1, From: aware, To: aware.Add(48 * time.Hour)}}}
	var st incident.Status
	st.IncidentID, st.Title, st.Phase, st.AwareAt = "INC-20261128-7F3A", "Laptop stolen", incident.PhaseNotify, aware
	st.Obligations = []incident.ObligationStatus{ca, hhs}
	st.Delays = []incident.LawEnforcementDelay{
		{Sequence: 1, Agency: "FBI", Official: "SA J. Roe", RequestedAt: aware, Oral: true, Paused: []string{"hipaa-hhs"}, LiftedAt: aware.Add(48 * time.Hour), LiftedBy: "cli:dana"},
		{Sequence: 2, Agency: "FBI", Official: "SA J. Roe", Reference: "FBI-42", RequestedAt: aware.Add(48 * time.Hour), Until: aware.Add(30 * 24 * time.Hour), Paused: []string{"us-ca-residents"}},
	}
	var b bytes.Buffer
	renderStatus(&b, st, now)
	out := b.String()
	for _, want := range []string{
		"PAUSED by law-enforcement delay #2 since " + aware.Add(48*time.Hour).Format(time.RFC3339) + ", until lifted",
		"deadline moved 2d 00h by law-enforcement delays, from " + aware.Add(60*24*time.Hour).Format(time.RFC3339),
		"law-enforcement delay #1: FBI (SA J. Roe) asked orally on " + aware.Format(time.RFC3339) + ", until it is lifted; lifted by cli:dana",
		"law-enforcement delay #2: FBI (SA J. Roe) asked in writing on " + aware.Add(48*time.Hour).Format(time.RFC3339) + ", reference FBI-42, until " +
			aware.Add(30*24*time.Hour).Format(time.RFC3339) + "; IN FORCE; paused us-ca-residents",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("status does not say %q:\n%s", want, out)
		}
	}
}
