package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/workflows"
)

// yearScenarioYAML is a drill nobody plays but the test: a system in the inventory (isolated,
// dry-run) and a laptop that is not, so a person is asked to isolate it by hand and nobody
// confirms; subjects in Germany and the United Kingdom, so there are two authority reports.
// Its duration outlasts the 400 simulated days the test keeps the incident open.
const yearScenarioYAML = `name: e2e-year
title: E2E year, a laptop nobody confirms isolated
systems: [shop-db, laptop-e2e-400]
subjects: year-subjects.csv
duration: 500d
decision:
  risk: high
  notify_subjects: true
  reasoning: E2E year reasoning.
roles:
  dpo: {as: %s}
  commander: {as: %s}
`

const (
	yearLaptop = "laptop-e2e-400"
	yearUK     = "uk-gdpr-art33-ico"
	// yearDays is how long the incident stays open, in simulated days.
	yearDays = 400
	// yearSupplements is one supplement to the filed GDPR report every 30 simulated days.
	yearSupplements = 13
	// yearEventLimit is the history length Temporal suggests continuing as new at; no run may
	// pass it.
	yearEventLimit = 10240
	// yearBudget is the event budget of the second incident (workflows.event_budget): small, so
	// that the incident, the containment and the overdue clock each continue as new several
	// times within the 400 days. The first incident keeps the default (8,000); there the server's
	// own suggestion, at 4,096 events (limit.historyCount.suggestContinueAsNew), comes first, and
	// over 400 days the incident passes it twice, its containment and overdue clock about once.
	yearBudget = 1000
)

// yearScale is the drill time scale: the largest a drill allows (workflows.MaxTimeScale), at
// which 400 days last 5.76 minutes. A simulated day is then 0.86 s, an hourly reminder 36 ms.
const yearScale = float64(workflows.MaxTimeScale)

// yearIncident is one incident the test keeps open, and what it learns of it on the way.
type yearIncident struct {
	name   string
	budget int
	id     string
	// start is when the organisation became aware (the drill's start); since when the manual
	// isolation was asked for.
	start, since time.Time
}

func (y *yearIncident) at(days float64) time.Time {
	return y.start.Add(time.Duration(days * float64(24*time.Hour) / yearScale))
}

// The 400-day incident on a real dev server, at the largest drill time scale: two drill
// incidents (one with the default event budget, one with a small budget) stay open for 400
// simulated days with a laptop nobody confirms isolated, the UK report approved but never filed
// (overdue from day 3) and a supplement to the filed GDPR report every 30 days. Then the
// isolation is confirmed, the UK report filed, and the incident closed. The Temporal CLI counts
// the events of every run of every workflow: none passes 10,240; the workflows continued as
// new; each reminder and escalation due reached the incident room exactly once across the
// runs; and no workflow task failed.
func TestIncidentOpenForFourHundredDaysOnADevServer(t *testing.T) {
	s := startStack(t, stackOptions{})
	w := s.startWorker()
	writeFile(t, filepath.Join(s.dir, "year.yaml"), fmt.Sprintf(yearScenarioYAML, dpo, commander))
	writeSubjects(t, filepath.Join(s.dir, "year-subjects.csv"), []subjectRow{
		{"Y1", "year.one@example.net", "Year One", "DE", "contact"},
		{"Y2", "year.two@example.net", "Year Two", "DE", "contact;order-history"},
		{"Y3", "year.three@example.net", "Year Three", "GB", "contact"},
		{"Y4", "year.four@example.net", "Year Four", "GB", "contact"},
	})
	small := filepath.Join(s.dir, "breach-small-budget.yaml")
	writeFile(t, small, configYAML()+fmt.Sprintf("workflows:\n  event_budget: %d\n", yearBudget))

	incs := []*yearIncident{{name: "default budget"}, {name: "small budget", budget: yearBudget}}
	for _, y := range incs {
		var env []string
		if y.budget > 0 {
			env = []string{"BREACH_CONFIG=" + small}
		}
		r := s.breachWith(env, "drill", "run", "--scenario", filepath.Join(s.dir, "year.yaml"),
			"--time-scale", strconv.FormatFloat(yearScale, 'f', -1, 64), "--json")
		var started struct {
			IncidentID string `json:"incident_id"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &started) != nil || started.IncidentID == "" {
			t.Fatalf("drill run --json named no incident:\n%s", r)
		}
		y.id = started.IncidentID
	}
	// The first days: decide, approve both reports, file the GDPR one; the UK one stays unfiled.
	for _, y := range incs {
		p := newPilot(s, y.id, w)
		st := p.idle(time.Minute, "the decision to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateDecide) })
		y.start = st.AwareAt
		s.mustBreach("decide", y.id, "--risk", "high", "--as", dpo, "--reasoning", "Customer contact data was copied.",
			"--measures", "The shop database was isolated.")
		const reasons = "The drill's clock runs 100,000 times faster than anyone can type."
		for _, ob := range []string{art33, yearUK} {
			p.idle(time.Minute, "the "+ob+" report to await approval", func(st incident.Status) bool { return hasPending(st, incident.StepReport+ob) })
			s.mustBreach("approve", y.id, "--step", incident.StepReport+ob, "--as", dpo, "--reasons", reasons)
		}
		st = p.idle(time.Minute, "both reports to await filing", func(st incident.Status) bool {
			return hasPending(st, "file:"+art33) && hasPending(st, "file:"+yearUK)
		})
		for _, ps := range st.Pending {
			if ps.Step == incident.StepIsolation+yearLaptop {
				y.since = ps.Since
			}
		}
		if y.since.IsZero() {
			t.Fatalf("%s: the laptop's manual isolation is not pending: %s", y.id, summary(st))
		}
		s.mustBreach("file", y.id, "--obligation", art33, "--reference", "E2E-YEAR-1", "--as", dpo, "--reasons", reasons)
	}

	// A supplement every 30 days.
	for m := 1; m <= yearSupplements; m++ {
		for _, y := range incs {
			untilInstant(t, w, y.at(float64(30*m)), fmt.Sprintf("day %d of %s", 30*m, y.id))
			s.mustBreach("supplement", y.id, "--obligation", art33, "--note", fmt.Sprintf("Month %d: the forensic review goes on.", m), "--as", dpo)
		}
	}

	// Day 400: once the worker has sent what was due by then, the laptop is confirmed isolated,
	// the UK report filed late, and the incident closed.
	manual := incident.ReminderPolicy{}.Manual().Scaled(yearScale)
	overdue := incident.ReminderPolicy{}.Overdue().Scaled(yearScale)
	before := map[string]incident.Status{}
	for _, y := range incs {
		end := y.at(yearDays)
		untilInstant(t, w, end, fmt.Sprintf("day %d of %s", yearDays, y.id))
		p := newPilot(s, y.id, w)
		wantManual := dueBy(manual, y.since, end)
		before[y.id] = p.idle(2*time.Minute, "the reminders due by day 400", func(st incident.Status) bool {
			uk, ok := findObligation(st, yearUK)
			if !ok || laptopOf(st).Reminders < wantManual {
				return false
			}
			return !lastEscalation(st, yearUK, "still OVERDUE").Before(overdue.At(uk.DueAt, dueBy(overdue, uk.DueAt, end)))
		})
		s.mustBreach("approve", y.id, "--step", incident.StepIsolation+yearLaptop, "--as", commander, "--note", "Found and unplugged at last.")
		s.mustBreach("file", y.id, "--obligation", yearUK, "--reference", "ICO-E2E-400", "--as", dpo,
			"--reasons", "The portal account was lost with the laptop.")
		p.idle(time.Minute, "the close to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateClose) })
		s.mustBreach("close", y.id, "--as", commander, "--summary", "Closed after 400 days.")
	}
	final := map[string]incident.Status{}
	for _, y := range incs {
		final[y.id] = newPilot(s, y.id, w).idle(2*time.Minute, "the incident to close", func(st incident.Status) bool { return st.Phase == incident.PhaseClosed })
	}
	// The drills end with their incidents: nothing is left running to count.
	waitFor(t, 2*time.Minute, "every workflow to end", func() (bool, string) {
		running := 0
		for _, r := range s.temporalList(t) {
			if r.Status == "WORKFLOW_EXECUTION_STATUS_RUNNING" {
				running++
			}
		}
		return running == 0, fmt.Sprintf("%d running", running)
	})

	runs := s.temporalRuns(t)
	for _, y := range incs {
		t.Run(strings.ReplaceAll(y.name, " ", "-"), func(t *testing.T) {
			checkYear(t, s, y, before[y.id], final[y.id], runs)
		})
	}
	reportRuns(t, runs)
	// Children signal their parent every few hundred milliseconds here, so a continue-as-new now
	// and then meets a signal that arrived while its task ran; the server refuses it
	// (UnhandledCommand) and the next task reads the signal. Any other failed task fails the test.
	if n := s.checkTaskFailures(w, true); n > 0 {
		t.Logf("%d workflow tasks were refused for a signal that arrived while they ran (UnhandledCommand), and retried", n)
	}
}

// checkYear checks one incident after its close.
func checkYear(t *testing.T, s *stack, y *yearIncident, before, final incident.Status, runs []temporalRun) {
	manual := incident.ReminderPolicy{}.Manual().Scaled(yearScale)
	overdue := incident.ReminderPolicy{}.Overdue().Scaled(yearScale)
	prefix := incident.IncidentWorkflowID(y.id)
	byID := map[string][]temporalRun{}
	for _, r := range runs {
		if r.WorkflowID == prefix || strings.HasPrefix(r.WorkflowID, prefix+"/") {
			byID[r.WorkflowID] = append(byID[r.WorkflowID], r)
		}
	}
	ids := make([]string, 0, len(byID))
	for id := range byID {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		longest := 0
		for _, r := range byID[id] {
			longest = max(longest, r.Events)
			if r.Events > yearEventLimit {
				t.Errorf("a run of %s has %d events, more than %d", id, r.Events, yearEventLimit)
			}
		}
		t.Logf("%s: %d runs, the longest %d events", id, len(byID[id]), longest)
	}

	// Continued as new: the incident always (about 8,000 events in 400 days), and with the small
	// budget its containment and overdue clock too (about 4,000 each, too near the server's
	// suggestion to count on it).
	laptopID := incident.ContainmentChildID(y.id, 2)
	ukID := incident.ObligationWorkflowID(y.id, yearUK)
	long := []string{prefix}
	if y.budget > 0 {
		long = append(long, laptopID, ukID)
	}
	for _, id := range long {
		if n := len(byID[id]); n < 2 {
			t.Errorf("%s ran once in %d days: it never continued as new", id, yearDays)
		}
	}

	if final.Phase != incident.PhaseClosed || final.Records == nil {
		t.Fatalf("%s did not close with its records: %s", y.id, summary(final))
	}
	room := readFile(t, s.roomLog(y.id))

	// Manual reminders: numbered 1..n, each in the room once; n is every reminder due by day
	// 400 (the test waited for them) and none due after the confirmation reached the
	// containment.
	laptop := laptopOf(final)
	if !laptop.Manual || laptop.State != incident.ContainContained {
		t.Errorf("the laptop is %s (manual %t), want contained by hand", laptop.State, laptop.Manual)
	}
	n := laptop.Reminders
	seen := map[int]int{}
	for _, m := range yearReminderRE.FindAllStringSubmatch(room, -1) {
		k, _ := strconv.Atoi(m[1])
		seen[k]++
	}
	for k := 1; k <= n; k++ {
		if seen[k] != 1 {
			t.Errorf("manual reminder %d is in the room %d times, want once", k, seen[k])
		}
	}
	if len(seen) != n {
		t.Errorf("the room heard %d distinct manual reminders, the containment counted %d", len(seen), n)
	}
	confirmed := lastSignal(t, byID[laptopID], "manual-confirm")
	lo, hi := dueBy(manual, y.since, y.at(yearDays)), dueBy(manual, y.since, confirmed)
	if n < lo || n > hi {
		t.Errorf("%d manual reminders; due by day 400: %d, due by the confirmation: %d", n, lo, hi)
	}
	t.Logf("manual reminders: %d (due by day 400: %d, by the confirmation: %d)", n, lo, hi)

	// The overdue UK report: each escalation point once, never early; each overdue reminder once,
	// never early, in the room once, and every one due from the clock's start to day 400.
	uk := obligationOf(t, final, yearUK)
	if uk.State != incident.OblFiled || !uk.Late {
		t.Errorf("%s is %s (late %t), want filed late", yearUK, uk.State, uk.Late)
	}
	started := firstTask(t, byID[ukID])
	skipped := dueBy(overdue, uk.DueAt, started)
	var points []string
	w := uk.DueAt.Sub(uk.ClockStart)
	for _, p := range []struct {
		at    time.Time
		label string
	}{
		{uk.ClockStart.Add(w / 2), clockPoints[0]}, {uk.ClockStart.Add(w * 3 / 4), clockPoints[1]},
		{uk.ClockStart.Add(w * 9 / 10), clockPoints[2]}, {uk.DueAt.Add(-time.Duration(float64(time.Hour) / yearScale)), clockPoints[3]},
	} {
		if !p.at.Before(started) {
			points = append(points, p.label)
		}
	}
	if started.Before(uk.DueAt) {
		points = append(points, clockPoints[4])
	} else {
		points = append(points, "OVERDUE from the start: the deadline had passed when the clock started")
	}
	var sent []time.Time
	for _, e := range final.Timeline {
		if e.Kind == "escalation" && e.About == yearUK && strings.Contains(e.Text, "): still OVERDUE;") {
			sent = append(sent, e.At)
		}
	}
	sort.Slice(sent, func(i, j int) bool { return sent[i].Before(sent[j]) })
	for i, at := range sent {
		if due := overdue.At(uk.DueAt, skipped+i+1); at.Before(due) {
			t.Errorf("overdue reminder %d of %s came at %s, before it was due (%s): sent twice?", i+1, yearUK,
				at.Format(time.RFC3339Nano), due.Format(time.RFC3339Nano))
			break
		}
	}
	reminders := len(sent)
	checkEscalationsOnce(t, final, uk, points, reminders)
	checkRoomEscalations(t, s.roomLog(y.id), yearUK, points, reminders)
	filed := lastSignal(t, byID[ukID], "file-report")
	lo, hi = dueBy(overdue, uk.DueAt, y.at(yearDays))-skipped, dueBy(overdue, uk.DueAt, filed)-skipped
	if reminders < lo || reminders > hi {
		t.Errorf("%d overdue reminders of %s; due by day 400: %d, due by the filing: %d", reminders, yearUK, lo, hi)
	}
	t.Logf("overdue reminders of %s: %d (due by day 400: %d, by the filing: %d; %d past when the clock started)", yearUK, reminders, lo, hi, skipped)

	// Every supplement recorded once, numbered in order.
	gdpr := obligationOf(t, final, art33)
	if len(gdpr.Supplements) != yearSupplements {
		t.Errorf("%s has %d supplements, want %d", art33, len(gdpr.Supplements), yearSupplements)
	}
	for i, sup := range gdpr.Supplements {
		if sup.Sequence != i+1 {
			t.Errorf("supplement %d has sequence %d", i+1, sup.Sequence)
		}
	}

	if h := before.History; h != nil {
		t.Logf("before the close the incident reported %d runs, the longest %d events", h.Runs, h.Longest)
	}
}

var yearReminderRE = regexp.MustCompile(`manual-isolation-reminder: .*` + regexp.QuoteMeta(yearLaptop) + ` is still not isolated after .*\(reminder (\d+)\)`)

// dueBy counts the reminders of policy, for something waiting since since, due at or before t.
func dueBy(p incident.ReminderPolicy, since, t time.Time) int {
	n := 0
	for at := p.At(since, 1); !at.After(t); at = p.At(since, n+1) {
		n++
	}
	return n
}

func laptopOf(st incident.Status) incident.SystemStatus {
	for _, c := range st.Containment {
		if c.System == yearLaptop {
			return c
		}
	}
	return incident.SystemStatus{}
}

// lastEscalation is the instant of the latest escalation of obligation whose label starts with
// label, from the timeline.
func lastEscalation(st incident.Status, obligation, label string) time.Time {
	var last time.Time
	for _, e := range st.Timeline {
		if e.Kind == "escalation" && e.About == obligation && strings.Contains(e.Text, "): "+label) && e.At.After(last) {
			last = e.At
		}
	}
	return last
}

// untilInstant waits for the wall clock to reach at: the drill's clock is the wall clock, sped up.
func untilInstant(t *testing.T, w *workerProc, at time.Time, what string) {
	t.Helper()
	waitFor(t, time.Until(at)+time.Minute, what, func() (bool, string) {
		if w.exited() {
			t.Fatalf("breach worker exited unexpectedly:\n%s", tail(w.log, 30))
		}
		return !time.Now().Before(at), fmt.Sprintf("%s to go", time.Until(at).Round(time.Millisecond))
	})
}

// temporalRun is one run of a workflow as the pinned Temporal CLI shows it.
type temporalRun struct {
	WorkflowID, RunID, Type, Status string
	Start                           time.Time
	// Events is the length of the run's history.
	Events int
	// FirstTaskStarted is when its first workflow task started: its workflow.Now.
	FirstTaskStarted time.Time
	// Signals are the instants signals arrived, by name.
	Signals map[string][]time.Time
}

type temporalListed struct {
	Execution struct {
		WorkflowID string `json:"workflowId"`
		RunID      string `json:"runId"`
	} `json:"execution"`
	Type struct {
		Name string `json:"name"`
	} `json:"type"`
	StartTime time.Time `json:"startTime"`
	Status    string    `json:"status"`
}

// temporalList lists every run of every workflow with `temporal workflow list -o json`.
func (s *stack) temporalList(t *testing.T) []temporalListed {
	t.Helper()
	raw, err := s.temporalCLI(t, "workflow", "list", "-o", "json")
	if err != nil {
		t.Fatalf("temporal workflow list: %v\n%s", err, raw)
	}
	var out []temporalListed
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("temporal workflow list -o json printed something else: %v\n%.2000s", err, raw)
	}
	return out
}

// temporalRuns shows every run of every workflow with `temporal workflow show -o json`.
func (s *stack) temporalRuns(t *testing.T) []temporalRun {
	t.Helper()
	var runs []temporalRun
	for _, l := range s.temporalList(t) {
		raw, err := s.temporalCLI(t, "workflow", "show", "-w", l.Execution.WorkflowID, "-r", l.Execution.RunID, "-o", "json")
		if err != nil {
			t.Fatalf("temporal workflow show -w %s -r %s: %v\n%.2000s", l.Execution.WorkflowID, l.Execution.RunID, err, raw)
		}
		var h struct {
			Events []struct {
				EventTime time.Time `json:"eventTime"`
				EventType string    `json:"eventType"`
				Signaled  *struct {
					SignalName string `json:"signalName"`
				} `json:"workflowExecutionSignaledEventAttributes"`
			} `json:"events"`
		}
		if err := json.Unmarshal(raw, &h); err != nil || len(h.Events) == 0 {
			t.Fatalf("temporal workflow show -w %s -r %s -o json printed no history: %v\n%.2000s", l.Execution.WorkflowID, l.Execution.RunID, err, raw)
		}
		r := temporalRun{WorkflowID: l.Execution.WorkflowID, RunID: l.Execution.RunID, Type: l.Type.Name, Status: l.Status,
			Start: l.StartTime, Events: len(h.Events), Signals: map[string][]time.Time{}}
		for _, e := range h.Events {
			if e.EventType == "EVENT_TYPE_WORKFLOW_TASK_STARTED" && r.FirstTaskStarted.IsZero() {
				r.FirstTaskStarted = e.EventTime
			}
			if e.Signaled != nil {
				r.Signals[e.Signaled.SignalName] = append(r.Signals[e.Signaled.SignalName], e.EventTime)
			}
		}
		runs = append(runs, r)
	}
	return runs
}

func (s *stack) temporalCLI(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append(args, "--address", s.addr, "--namespace", "default")
	cmd := exec.CommandContext(ctx, temporalBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		err = fmt.Errorf("%w: %s", err, stderr.String())
	}
	return stdout.Bytes(), err
}

// firstTask is when the first run of a workflow took its first task.
func firstTask(t *testing.T, runs []temporalRun) time.Time {
	t.Helper()
	var first time.Time
	for _, r := range runs {
		if first.IsZero() || r.FirstTaskStarted.Before(first) {
			first = r.FirstTaskStarted
		}
	}
	if first.IsZero() {
		t.Fatal("no run took a task")
	}
	return first
}

// lastSignal is when the last signal named name reached any of runs.
func lastSignal(t *testing.T, runs []temporalRun, name string) time.Time {
	t.Helper()
	var last time.Time
	for _, r := range runs {
		for _, at := range r.Signals[name] {
			if at.After(last) {
				last = at
			}
		}
	}
	if last.IsZero() {
		t.Fatalf("no run received the signal %s", name)
	}
	return last
}

// reportRuns prints, per workflow type, how many workflows and runs there were and the longest
// run.
func reportRuns(t *testing.T, runs []temporalRun) {
	t.Helper()
	type agg struct {
		workflows map[string]bool
		runs      int
		longest   int
		longestID string
	}
	byType := map[string]*agg{}
	for _, r := range runs {
		a := byType[r.Type]
		if a == nil {
			a = &agg{workflows: map[string]bool{}}
			byType[r.Type] = a
		}
		a.workflows[r.WorkflowID] = true
		a.runs++
		if r.Events > a.longest {
			a.longest, a.longestID = r.Events, r.WorkflowID
		}
	}
	types := make([]string, 0, len(byType))
	for k := range byType {
		types = append(types, k)
	}
	sort.Strings(types)
	for _, k := range types {
		a := byType[k]
		t.Logf("%-20s %2d workflows, %3d runs, the largest run %5d events (%s)", k, len(a.workflows), a.runs, a.longest, a.longestID)
	}
}
