package e2e

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/workflows"
)

// drillScenarioYAML is a short drill: a system in the inventory (isolated dry-run) and a lost
// laptop that is not (isolated by hand, which the auto-pilot confirms), two injects, and
// response delays of minutes, so at 60x it plays through in seconds.
const drillScenarioYAML = `name: e2e-drill
title: E2E drill, shop database and a lost laptop
systems: [shop-db, laptop-e2e-1]
subjects: drill-subjects.csv
duration: 8h
decision:
  risk: high
  notify_subjects: true
  reasoning: E2E drill reasoning.
roles:
  dpo: {as: %s, delay: 2m}
  commander: {as: %s, delay: 1m}
injects:
  - at: 1m
    text: A sample of the data appears on a leak site.
  - at: 3m
    text: A journalist calls the press office.
targets:
  contain: 30m
  scope: 1h
  decide: 1h
  approve: 2h
  file: 3h
  notify: 4h
  close: 8h
`

// A drill on a Temporal Schedule: created from a scenario file that is then deleted, listed with
// its next run, triggered by hand, played through by the auto-pilot, scored and reported, and
// without any production side effect.
func TestDrillScheduledTriggeredAndScored(t *testing.T) {
	if os.Getenv("BREACH_TEMPORAL_BIN") == "" {
		t.Fatal("BREACH_TEMPORAL_BIN is not set: run the e2e tests through `make test` (it builds the pinned Temporal CLI and exports its path), or set it to a temporal binary")
	}
	// Email goes through a local SendGrid: a drill may only send it sandbox-mode requests.
	const sgKey = "SG.e2e-drill-key"
	sg, err := sendgridtest.Start("127.0.0.1:0", sendgridtest.Options{APIKey: sgKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sg.Close)
	s := startStack(t, stackOptions{env: []string{"SENDGRID_API_KEY=" + sgKey, "SENDGRID_API_HOST=" + sg.URL, "BREACH_EMAIL_ACTIVITY_LAG=0s"}})
	w := s.startWorker()

	scenarioPath := filepath.Join(s.dir, "e2e-drill.yaml")
	writeFile(t, scenarioPath, fmt.Sprintf(drillScenarioYAML, dpo, commander))
	writeSubjects(t, filepath.Join(s.dir, "drill-subjects.csv"), []subjectRow{
		{"D1", "drill.one@example.net", "Drill One", "DE", "contact;order-history"},
		{"D2", "drill.two@example.net", "Drill Two", "FR", "contact"},
		{"D3", "drill.three@example.net", "Drill Three", "DE", "address"},
	})

	// Bad input is refused with exit 2, naming the line and field, before anything is created.
	r := s.breach("drill", "schedule", "--scenario", scenarioPath, "--cron", "61 9 * * 1")
	if r.code != 2 || !strings.Contains(r.stderr, "--cron") || !strings.Contains(r.stderr, "minute field") {
		t.Fatalf("an invalid cron expression must exit 2 naming the field:\n%s", r)
	}
	bad := filepath.Join(s.dir, "bad.yaml")
	writeFile(t, bad, "title: T\nsystems: [shop-db]\nsubjects: drill-subjects.csv\ntargets:\n  contian: 1h\n")
	r = s.breach("drill", "run", "--scenario", bad)
	if r.code != 2 || !strings.Contains(r.stderr, "line 5") || !strings.Contains(r.stderr, "targets.contian") {
		t.Fatalf("a target for an unknown step must exit 2 naming line and field:\n%s", r)
	}

	r = s.mustBreach("drill", "schedule", "--scenario", scenarioPath, "--cron", "0 3 * * 1", "--time-scale", "60", "--auto-approve", "--json")
	var created struct {
		ID      string    `json:"id"`
		NextRun time.Time `json:"next_run"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &created); err != nil || created.ID != "drill-e2e-drill" {
		t.Fatalf("schedule --json: %v\n%s", err, r)
	}
	if created.NextRun.Weekday() != time.Monday || created.NextRun.Hour() != 3 {
		t.Errorf("next run %s is not a Monday 03:00 UTC", created.NextRun)
	}
	// The schedule carries the scenario: the file is not needed any more.
	if err := os.Remove(scenarioPath); err != nil {
		t.Fatal(err)
	}
	r = s.breach("drill", "schedule", "--scenario", bad, "--cron", "0 3 * * 1")
	if r.code != 2 {
		t.Fatalf("a bad scenario must be refused by schedule too:\n%s", r)
	}

	waitFor(t, time.Minute, "the schedule in `breach drill schedules`", func() (bool, string) {
		r := s.mustBreach("drill", "schedules", "--json")
		var rows []struct {
			ID, Scenario string
			NextRun      time.Time `json:"next_run"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
			t.Fatalf("schedules --json: %v\n%s", err, r)
		}
		for _, row := range rows {
			if row.ID == created.ID && row.Scenario == "e2e-drill" && !row.NextRun.IsZero() {
				return true, ""
			}
		}
		return false, r.stdout
	})

	r = s.mustBreach("drill", "trigger", created.ID, "--json")
	var trig struct {
		WorkflowID string `json:"workflow_id"`
		IncidentID string `json:"incident_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &trig); err != nil || trig.IncidentID == "" ||
		!strings.HasPrefix(trig.WorkflowID, workflows.DrillScheduleWorkflowID(created.ID)) {
		t.Fatalf("trigger --json did not name the drill it started: %v\n%s", err, r)
	}
	id := trig.IncidentID
	// While it runs, another trigger is skipped: overlapping drills would score each other.
	r = s.mustBreach("drill", "trigger", created.ID, "--json")
	var again struct {
		Skipped bool `json:"skipped"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil || !again.Skipped {
		t.Fatalf("a trigger while the drill runs must be skipped: %v\n%s", err, r)
	}

	var rep activities.DrillReport
	waitFor(t, 4*time.Minute, "the drill's report", func() (bool, string) {
		if w.exited() {
			t.Fatalf("breach worker exited:\n%s", tail(w.log, 30))
		}
		r := s.breach("drill", "report", id, "--json")
		if r.code != 0 {
			st, err := s.status(id)
			if err != nil {
				return false, err.Error()
			}
			return false, summary(st)
		}
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
			t.Fatalf("report --json: %v\n%s", err, r)
		}
		return true, ""
	})

	if rep.Outcome != activities.DrillClosed || rep.Scenario != "e2e-drill" || rep.ScheduleID != created.ID || rep.TimeScale != 60 {
		t.Fatalf("drill report: %+v", rep)
	}
	results := map[string]activities.TargetResult{}
	for _, tr := range rep.Targets {
		results[tr.Step] = tr
		if tr.Result != activities.TargetMet && tr.Result != activities.TargetMissed {
			t.Errorf("target %s was not scored: %+v", tr.Step, tr)
		}
		if !tr.Done || tr.Actual <= 0 {
			t.Errorf("target %s has no actual duration: %+v", tr.Step, tr)
		}
	}
	if len(results) != 7 {
		t.Errorf("want 7 scored targets, got %+v", rep.Targets)
	}
	// The DPO answers 2 drill minutes after each step appears: the decision cannot come sooner.
	if d := results["decide"]; d.Actual.D() < 2*time.Minute {
		t.Errorf("decide done at T+%s, before the DPO's 2m response delay", d.Actual)
	}
	if rep.Met+rep.Missed != 7 || rep.Score != rep.Met*100/7 {
		t.Errorf("score %d with %d met, %d missed", rep.Score, rep.Met, rep.Missed)
	}
	for i, inj := range rep.Injects {
		if !inj.Delivered {
			t.Errorf("inject %d not delivered: %+v", i, inj)
		}
	}
	steps := map[string]bool{}
	for _, a := range rep.Answers {
		if a.Error == "" {
			steps[strings.SplitN(a.Step, ":", 2)[0]] = true
		}
	}
	for _, want := range []string{"decide", "report", "file", "isolation", "close"} {
		if !steps[want] {
			t.Errorf("the auto-pilot did not answer a %s step: %+v", want, rep.Answers)
		}
	}
	md, err := os.ReadFile(rep.Markdown)
	if err != nil {
		t.Fatalf("markdown report: %v", err)
	}
	for _, want := range []string{"# Drill report: E2E drill", "| decide | dpo | within 1h |", "A journalist calls the press office."} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report lacks %q:\n%s", want, md)
		}
	}
	if r := s.mustBreach("drill", "report", id); !strings.Contains(r.stdout, "# Drill report") {
		t.Errorf("drill report without --json prints the Markdown report:\n%s", r)
	}
	r = s.mustBreach("drill", "history", "--json")
	var hist []struct {
		IncidentID string `json:"incident_id"`
		Score      int    `json:"score"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &hist); err != nil || len(hist) != 1 || hist[0].IncidentID != id || hist[0].Score != rep.Score {
		t.Fatalf("history --json: %v\n%s", err, r)
	}

	// No production side effect.
	st, err := s.status(id)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Drill || st.Source != "drill" {
		t.Errorf("the drill's incident is not marked as a drill: %+v", st.IncidentRecord)
	}
	for _, o := range st.Obligations {
		if strings.HasSuffix(o.Template, "-notice") {
			continue // met by the customer notices
		}
		if o.State != workflows.OblFiled || !strings.HasPrefix(o.Reference, "DRILL-") {
			t.Errorf("%s is %s with reference %q: a drill files by hand with a DRILL reference, it submits nothing", o.ID, o.State, o.Reference)
		}
	}
	checkDryRunEvidence(t, s.evidence(id))
	stats := sg.Stats()
	if stats.Delivered != 0 || stats.Sandboxed != 3 {
		t.Errorf("SendGrid delivered %d messages and sandboxed %d; a drill delivers none and sandboxes the 3 notices", stats.Delivered, stats.Sandboxed)
	}
	for _, req := range sg.Requests() {
		if !req.Sandbox {
			t.Errorf("a drill sent a Mail Send request outside sandbox mode: %q to %v", req.Subject, req.Addresses)
		}
		for _, a := range req.Addresses {
			if a == authorityAddress {
				t.Errorf("a drill mailed the authority through SendGrid: %q", req.Subject)
			}
		}
	}
	checkNoAuthorityMail(t, filepath.Join(s.home, "outbox"))
	checkDrillChat(t, s.roomLog(id))

	// Unscheduled, the schedule is gone; a second unschedule names the problem with exit 2.
	s.mustBreach("drill", "unschedule", created.ID)
	if r := s.breach("drill", "trigger", created.ID); r.code != 2 || !strings.Contains(r.stderr, "no drill schedule") {
		t.Fatalf("triggering a deleted schedule: %s", r)
	}
}

// checkDryRunEvidence: every firewall call of the drill was dry-run.
func checkDryRunEvidence(t *testing.T, evs []incident.Evidence) {
	t.Helper()
	for _, ev := range evs {
		if ev.Provider != "dry-run" {
			t.Errorf("a drill called the %s firewall: %+v", ev.Provider, ev)
		}
	}
	if len(evs) == 0 {
		t.Errorf("the drill's containment evidence records no firewall call")
	}
}

// checkNoAuthorityMail: nothing was mailed to the authority; notices, if any, say [DRILL].
func checkNoAuthorityMail(t *testing.T, outbox string) {
	t.Helper()
	_ = filepath.Walk(outbox, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || !strings.HasSuffix(p, ".eml") {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		msg, err := mail.ReadMessage(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if strings.Contains(msg.Header.Get("To"), authorityAddress) {
			t.Errorf("a drill mailed the authority: %s", p)
		}
		subj, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
		if !strings.Contains(subj, "[DRILL]") {
			t.Errorf("%s: subject %q is not marked [DRILL]", p, subj)
		}
		return nil
	})
}

// checkDrillChat: the room is a drill-… room and every message is marked [DRILL].
func checkDrillChat(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("incident log: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) == 0 || !strings.Contains(lines[0], "#drill-") {
		t.Errorf("the drill's room is not a drill-… room: %q", lines[0])
	}
	injects, score := 0, false
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "20") {
			continue // the second line of a multi-line message
		}
		if !strings.Contains(l, "[DRILL]") {
			t.Errorf("chat message not marked [DRILL]: %s", l)
		}
		if strings.Contains(l, " inject: ") {
			injects++
		}
		score = score || strings.Contains(l, " drill-score: ")
	}
	if injects != 2 || !score {
		t.Errorf("the room shows %d injects (want 2) and score posted %t:\n%s", injects, score, data)
	}
}
