package workflows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
)

// The whole demo incident, recorded from a real dev server: the incident itself, a containment,
// a regulator report's clock, a notice obligation's clock and the customer alerts. Any change
// to workflow behaviour must keep these replaying (workflow.GetVersion with a named change).
// To record again after a deliberate, versioned change: run an e2e test with
// BREACH_RECORD_HISTORIES=DIR (it saves every workflow's history, decrypted), or run `breach
// demo`, start `breach dev` and save each run with `temporal workflow show --workflow-id …
// --output json --codec-endpoint http://127.0.0.1:8234` (payloads are encrypted in Temporal;
// the replayer reads plaintext).
func TestReplayDemoIncident(t *testing.T) {
	replayAll(t, "demo", "demo-contain-shop-db", "demo-obligation-gdpr-art33-authority",
		"demo-obligation-gdpr-art34-subjects", "demo-alerts")
}

// replayAll replays each named history of testdata with every workflow of the plan registered.
func replayAll(t *testing.T, names ...string) {
	t.Helper()
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(IncidentWorkflow)
	r.RegisterWorkflow(ContainmentWorkflow)
	r.RegisterWorkflow(ObligationWorkflow)
	r.RegisterWorkflow(AlertsWorkflow)
	r.RegisterWorkflow(DrillWorkflow)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			if err := r.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", name+".json")); err != nil {
				t.Fatalf("replay %s: %v", name, err)
			}
		})
	}
}

// Obligation clocks and their incidents around changeEscalationOwnContext, recorded from a real
// dev server:
//   - escalation-stuck-*: before the fix, an incident declared 80 hours after awareness; its
//     clock's first escalation panicked and the workflow task failed (running incidents like it
//     must replay under the fixed code);
//   - escalation-recovered-obligation: that clock after a fixed worker took over the same run;
//   - escalation-halftime-*: after the fix, a clock that escalated at 50% while awaiting
//     approval, its signal to the incident completing in a later task, then approved, filed,
//     and the incident closed. Without the fix, replaying it panics as the worker did.
func TestReplayEscalationHistories(t *testing.T) {
	replayAll(t, "escalation-stuck-obligation", "escalation-stuck-incident", "escalation-recovered-obligation",
		"escalation-halftime-obligation", "escalation-halftime-incident")
}

// A drill at 4,320x recorded by e2e TestClockEscalatesThroughEveryPointOnARealServer (run it with
// BREACH_RECORD_HISTORIES=DIR): every child kind under its real parent. The drill starts the
// incident; the incident starts a containment, a report clock that escalates at every point and
// twice more while overdue, a notice clock, and the customer alerts, each reporting back by
// signal.
func TestReplayDrillWithEveryChildUnderItsParent(t *testing.T) {
	replayAll(t, "clock-drill-X", "clock-incident-X", "clock-incident-X-contain-shop-db",
		"clock-incident-X-obligation-gdpr-art33-authority", "clock-incident-X-obligation-gdpr-art34-subjects",
		"clock-incident-X-alerts")
}

// The replay suite can fail: a history whose commands the code would no longer make (here the
// demo incident with one of its activities renamed, as if the plan had changed without
// workflow.GetVersion) is refused as nondeterministic.
func TestReplayRefusesAChangedHistory(t *testing.T) {
	h, err := client.HistoryFromJSON(mustOpen(t, filepath.Join("testdata", "demo.json")), client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	changed := false
	for _, e := range h.GetEvents() {
		if at := e.GetActivityTaskScheduledEventAttributes(); at != nil && at.GetActivityType().GetName() == "AssessScope" {
			at.ActivityType.Name = "AssessScopeDifferently"
			changed = true
			break
		}
	}
	if !changed {
		t.Fatal("the demo history has no AssessScope activity to change")
	}
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(IncidentWorkflow)
	err = r.ReplayWorkflowHistory(nil, h)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "nondeterministic") {
		t.Fatalf("a changed history replayed: %v", err)
	}
}

func mustOpen(t *testing.T, path string) *os.File {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// A US shop's incident recorded by e2e TestFiveAuthoritiesAndALawEnforcementDelay (run it with
// BREACH_RECORD_HISTORIES=DIR): the GDPR resolved to five authorities, each its own clock routed
// by the directory (the CNIL's portal) or the configuration (an address agreed with the Berlin
// authority, emailed); a law-enforcement delay recorded before the decision, the California
// notice's clock started paused and restarted by the lift with its deadline moved.
func TestReplayAuthoritiesAndLawEnforcementDelay(t *testing.T) {
	replayAll(t, "delay-incident", "delay-incident-obligation-us-ca-residents",
		"delay-incident-obligation-gdpr-art33-authority-fr", "delay-incident-obligation-gdpr-art33-authority-de")
}
