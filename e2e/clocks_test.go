package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// clockScenarioYAML is a drill nobody plays: the DPO decides at once and then leaves the GDPR
// report unapproved past its deadline. At 4,320x the 72 legal hours pass in a minute, an
// overdue reminder (every 6 hours) comes every 5 seconds.
const clockScenarioYAML = `name: e2e-clock
title: E2E clock, a report left unapproved
systems: [shop-db]
subjects: clock-subjects.csv
duration: 30d
decision:
  risk: high
  notify_subjects: true
  reasoning: E2E clock reasoning.
roles:
  dpo: {as: %s}
  commander: {as: %s}
`

const art33 = "gdpr-art33-authority"

// The escalation points of a 72-hour clock, in order, as the obligation labels them.
var clockPoints = []string{
	"50% of the time has passed",
	"75% of the time has passed",
	"90% of the time has passed",
	"one hour left",
	"OVERDUE: the deadline has passed",
}

// An incident lived through on a real server at drill speed: its GDPR report stays unapproved
// through every escalation point and two overdue reminders. Each escalation reaches the timeline
// and the room exactly once, no workflow task fails anywhere, and the incident then closes with
// the reasons for the delay.
func TestClockEscalatesThroughEveryPointOnARealServer(t *testing.T) {
	s := startStack(t, stackOptions{})
	w := s.startWorker()
	const scale = 4320
	scenarioPath := filepath.Join(s.dir, "clock.yaml")
	writeFile(t, scenarioPath, fmt.Sprintf(clockScenarioYAML, dpo, commander))
	writeSubjects(t, filepath.Join(s.dir, "clock-subjects.csv"), []subjectRow{
		{"C1", "clock.one@example.net", "Clock One", "DE", "contact"},
		{"C2", "clock.two@example.net", "Clock Two", "FR", "contact"},
	})
	r := s.mustBreach("drill", "run", "--scenario", scenarioPath, "--time-scale", fmt.Sprint(scale), "--json")
	var started struct {
		IncidentID string `json:"incident_id"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &started); err != nil || started.IncidentID == "" {
		t.Fatalf("drill run --json named no incident: %v\n%s", err, r)
	}
	id := started.IncidentID
	p := newPilot(s, id, w)
	p.until(time.Minute, "the decision to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateDecide) })
	s.mustBreach("decide", id, "--risk", "high", "--as", dpo, "--reasoning", "Customer contact data was copied.",
		"--measures", "The database was isolated.")

	// Nobody approves: wait for the deadline and two overdue reminders (12 legal hours, 10 s).
	st := p.idle(3*time.Minute, "two overdue reminders of "+art33, func(st incident.Status) bool {
		return countPrefix(obligationOf(t, st, art33).Escalations, "still OVERDUE") >= 2
	})
	o := obligationOf(t, st, art33)
	if o.State != incident.OblAwaitingApproval {
		t.Fatalf("%s is %s, want it still awaiting approval", art33, o.State)
	}

	// Approving now needs the reasons for the delay; with them the drill's portal filing follows.
	step := incident.StepReport + art33
	r = s.breach("approve", id, "--step", step, "--as", dpo)
	if r.code != 1 || !strings.Contains(r.stderr, "reasons for the delay") {
		t.Fatalf("a late approval without reasons must be refused, naming the reasons for the delay:\n%s", r)
	}
	const reasons = "The forensic report that confirmed the copy arrived after the deadline."
	s.mustBreach("approve", id, "--step", step, "--as", dpo, "--reasons", reasons)
	p.idle(time.Minute, "the portal filing to be pending", func(st incident.Status) bool { return hasPending(st, "file:"+art33) })
	r = s.breach("file", id, "--obligation", art33, "--reference", "E2E-LATE-1", "--as", dpo)
	if r.code != 1 || !strings.Contains(r.stderr, "reasons for the delay") {
		t.Fatalf("a late filing without reasons must be refused:\n%s", r)
	}
	s.mustBreach("file", id, "--obligation", art33, "--reference", "E2E-LATE-1", "--as", dpo, "--reasons", reasons)
	p.idle(time.Minute, "the close to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateClose) })
	s.mustBreach("close", id, "--as", commander, "--summary", "Closed late, with reasons.")
	st = p.idle(time.Minute, "the incident to close", func(st incident.Status) bool { return st.Phase == incident.PhaseClosed })

	o = obligationOf(t, st, art33)
	if o.State != incident.OblFiled || !o.Late || o.Reasons != reasons {
		t.Errorf("%s: state %s, late %t, reasons %q; want filed late with the reasons", art33, o.State, o.Late, o.Reasons)
	}
	reminders := countPrefix(o.Escalations, "still OVERDUE")
	checkEscalationsOnce(t, st, o, clockPoints, reminders)
	checkRoomEscalations(t, s.roomLog(id), art33, clockPoints, reminders)
	// The escalations came at their instants: at the 50%, 75% and 90% points and one drill
	// hour before the deadline, never before, and in order.
	checkEscalationInstants(t, o, scale)
	s.checkNoTaskFailed(w)
}

// An incident declared 80 hours after the organisation became aware, in real time: every GDPR
// clock starts overdue, says so once, and a filing asks for the reasons for the delay.
func TestIncidentDeclaredAfterItsDeadline(t *testing.T) {
	s := startStack(t, stackOptions{})
	w := s.startWorker()
	csvPath := filepath.Join(s.dir, "late.csv")
	writeSubjects(t, csvPath, []subjectRow{
		{"L1", "late.one@example.net", "Late One", "DE", "contact"},
		{"L2", "late.two@example.net", "Late Two", "DE", "contact"},
	})
	aware := time.Now().Add(-80 * time.Hour).UTC().Truncate(time.Second)
	d := s.declare("--title", "Found late: an export on a public share", "--system", "shop-db",
		"--aware-at", aware.Format(time.RFC3339), "--subjects", csvPath, "--as", commander)
	id := d.IncidentID
	p := newPilot(s, id, w)
	p.until(time.Minute, "the decision to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateDecide) })
	s.mustBreach("decide", id, "--risk", "high", "--as", dpo, "--reasoning", "Contact data on a public share.",
		"--measures", "The share was removed.")

	st := p.idle(time.Minute, "the report clock to start overdue and ask for approval", func(st incident.Status) bool {
		o, ok := findObligation(st, art33)
		return ok && o.State == incident.OblAwaitingApproval && len(o.Escalations) > 0
	})
	o := obligationOf(t, st, art33)
	if !o.DueAt.Equal(aware.Add(72 * time.Hour)) {
		t.Errorf("%s due %s, want 72 hours after awareness (%s)", art33, o.DueAt, aware.Add(72*time.Hour))
	}
	r := s.breach("approve", id, "--step", incident.StepReport+art33, "--as", dpo)
	if r.code != 1 || !strings.Contains(r.stderr, "reasons for the delay") {
		t.Fatalf("a late approval without reasons must be refused:\n%s", r)
	}
	room := readFile(t, s.roomLog(id))
	if !regexp.MustCompile(`approval-needed: The ` + art33 + ` report .*--reasons`).MatchString(room) {
		t.Errorf("the room's approval request does not ask for the reasons for the delay:\n%s", room)
	}
	const reasons = "The exposure was found during an audit 80 hours after the first alert."
	s.mustBreach("approve", id, "--step", incident.StepReport+art33, "--as", dpo, "--reasons", reasons)
	p.idle(time.Minute, "the close to be pending", func(st incident.Status) bool { return hasPending(st, incident.UpdateClose) })
	s.mustBreach("close", id, "--as", commander)
	st = p.idle(time.Minute, "the incident to close", func(st incident.Status) bool { return st.Phase == incident.PhaseClosed })

	o = obligationOf(t, st, art33)
	if o.State != incident.OblFiled || !o.Late || o.Reasons != reasons {
		t.Errorf("%s: state %s, late %t, reasons %q; want filed late with the reasons", art33, o.State, o.Late, o.Reasons)
	}
	late := []string{"OVERDUE from the start: the deadline had passed when the clock started"}
	for _, id := range []string{art33, "gdpr-art34-subjects"} {
		o := obligationOf(t, st, id)
		checkEscalationsOnce(t, st, o, late, 0)
		checkRoomEscalations(t, s.roomLog(st.IncidentID), id, late, 0)
	}
	s.checkNoTaskFailed(w)
}

func hasPending(st incident.Status, step string) bool {
	for _, p := range st.Pending {
		if p.Step == step {
			return true
		}
	}
	return false
}

func findObligation(st incident.Status, id string) (incident.ObligationStatus, bool) {
	for _, o := range st.Obligations {
		if o.ID == id {
			return o, true
		}
	}
	return incident.ObligationStatus{}, false
}

func obligationOf(tb testing.TB, st incident.Status, id string) incident.ObligationStatus {
	tb.Helper()
	o, ok := findObligation(st, id)
	if !ok {
		tb.Fatalf("incident %s has no obligation %s: %s", st.IncidentID, id, summary(st))
	}
	return o
}

// countPrefix counts the escalation records ("<RFC 3339 time> <label>") with a label starting
// with prefix.
func countPrefix(escalations []string, prefix string) int {
	n := 0
	for _, e := range escalations {
		if _, label, ok := strings.Cut(e, " "); ok && strings.HasPrefix(label, prefix) {
			n++
		}
	}
	return n
}

// checkEscalationsOnce: the obligation recorded each point once and reminders overdue
// reminders, and the incident's timeline holds one escalation event for each of them.
func checkEscalationsOnce(tb testing.TB, st incident.Status, o incident.ObligationStatus, points []string, reminders int) {
	tb.Helper()
	want := map[string]int{"still OVERDUE": reminders}
	for _, p := range points {
		want[p] = 1
	}
	recorded, onTimeline := map[string]int{}, map[string]int{}
	for _, e := range o.Escalations {
		_, label, _ := strings.Cut(e, " ")
		recorded[label]++
	}
	for _, e := range st.Timeline {
		if e.Kind != "escalation" || !strings.HasPrefix(e.Text, o.ID+" ") {
			continue
		}
		if e.About != o.ID {
			tb.Errorf("escalation event about %q, want %q: %s", e.About, o.ID, e.Text)
		}
		for label := range want {
			if strings.Contains(e.Text, "): "+label+";") {
				onTimeline[label]++
			}
		}
	}
	for label, n := range want {
		if recorded[label] != n || onTimeline[label] != n {
			tb.Errorf("%s %q: recorded %d times, on the timeline %d times; want %d each\nrecorded: %q",
				o.ID, label, recorded[label], onTimeline[label], n, o.Escalations)
		}
	}
	if len(o.Escalations) != len(points)+reminders {
		tb.Errorf("%s has %d escalations, want %d: %q", o.ID, len(o.Escalations), len(points)+reminders, o.Escalations)
	}
}

// checkRoomEscalations: the incident room heard each escalation of obligation once.
func checkRoomEscalations(tb testing.TB, logPath, obligation string, points []string, reminders int) {
	tb.Helper()
	want := map[string]int{"still OVERDUE": reminders}
	for _, p := range points {
		want[p] = 1
	}
	got := map[string]int{}
	for _, line := range strings.Split(readFile(tb, logPath), "\n") {
		_, msg, ok := strings.Cut(line, " escalation: ")
		if !ok || !strings.Contains(msg, obligation+" (") {
			continue
		}
		for label := range want {
			if strings.Contains(msg, "): "+label+";") {
				got[label]++
			}
		}
	}
	for label, n := range want {
		if got[label] != n {
			tb.Errorf("the room heard %s %q %d times, want %d", obligation, label, got[label], n)
		}
	}
}

// checkEscalationInstants: each escalation fired at or after its point (never early), in
// order, and the reminders follow the deadline at their interval.
func checkEscalationInstants(tb testing.TB, o incident.ObligationStatus, scale float64) {
	tb.Helper()
	w := o.DueAt.Sub(o.ClockStart)
	due := []time.Time{
		o.ClockStart.Add(w / 2), o.ClockStart.Add(w * 3 / 4), o.ClockStart.Add(w * 9 / 10),
		o.DueAt.Add(-time.Duration(float64(time.Hour) / scale)), o.DueAt,
	}
	var prev time.Time
	for i, e := range o.Escalations {
		stamp, label, _ := strings.Cut(e, " ")
		at, err := time.Parse(time.RFC3339, stamp)
		if err != nil {
			tb.Fatalf("escalation %q has no time: %v", e, err)
		}
		// Records keep whole seconds.
		if i < len(due) && at.Before(due[i].Truncate(time.Second)) {
			tb.Errorf("escalation %q came before its point %s", label, due[i].Format(time.RFC3339Nano))
		}
		if at.Before(prev) {
			tb.Errorf("escalation %q came before the one preceding it", label)
		}
		prev = at
	}
}

// recordHistory saves a workflow's history as JSON (the form `temporal workflow show --output
// json` prints and the replay tests read) into $BREACH_RECORD_HISTORIES, when it is set: that is
// how workflows/testdata is recorded again after a deliberate, versioned change.
func (s *stack) recordHistory(workflowID string, events []*historypb.HistoryEvent) {
	s.tb.Helper()
	dir := os.Getenv("BREACH_RECORD_HISTORIES")
	if dir == "" {
		return
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&historypb.History{Events: events})
	if err != nil {
		s.tb.Fatalf("encode the history of %s: %v", workflowID, err)
	}
	name := strings.NewReplacer("/", "-", ":", "-").Replace(s.tb.Name()+"-"+workflowID) + ".json"
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		s.tb.Fatal(err)
	}
}

func readFile(tb testing.TB, path string) string {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// checkNoTaskFailed fails the test on any workflow panic or failed workflow task: in the worker's
// log, and in the history of every workflow the server holds.
func (s *stack) checkNoTaskFailed(w *workerProc) {
	s.tb.Helper()
	s.checkTaskFailures(w, false)
}

// checkTaskFailures is checkNoTaskFailed; with racedSignals, a workflow task the server refused
// because a signal arrived while it ran (cause UnhandledCommand: the workflow completed or
// continued as new with a signal it had not read) is counted, not failed. Temporal refuses such a
// completion so that the signal is not lost, and the next task reads it; workflows that continue
// as new while children signal them meet it now and then. It returns how many there were.
func (s *stack) checkTaskFailures(w *workerProc, racedSignals bool) int {
	s.tb.Helper()
	raced := 0
	logText := readFile(s.tb, w.log)
	for _, bad := range []string{"panic", "Failed to process workflow task", "nondeterministic", "NonDeterministic"} {
		if strings.Contains(strings.ToLower(logText), strings.ToLower(bad)) {
			s.tb.Errorf("the worker log mentions %q:\n%s", bad, tail(w.log, 40))
		}
	}
	ctx := context.Background()
	var token []byte
	n := 0
	for {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			s.tb.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			n++
			ex := e.GetExecution()
			var events []*historypb.HistoryEvent
			it := s.client.GetWorkflowHistory(ctx, ex.GetWorkflowId(), ex.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					s.tb.Fatalf("history of %s: %v", ex.GetWorkflowId(), err)
				}
				// Recorded histories replay without the codec: they are kept decrypted.
				s.decodeEvent(ev)
				events = append(events, ev)
				if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
					if racedSignals && ev.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
						raced++
						continue
					}
					s.tb.Errorf("a workflow task of %s failed (event %d): %s", ex.GetWorkflowId(), ev.GetEventId(), failureText(ev))
				}
			}
			s.recordHistory(ex.GetWorkflowId(), events)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if n == 0 {
		s.tb.Error("the server holds no workflow to check")
	}
	return raced
}
