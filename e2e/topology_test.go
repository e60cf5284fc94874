package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachops/breach/workflows"
)

// TestProductionTopology runs an incident from declaration to close as production runs it: a
// real Temporal server on PostgreSQL (not the dev server) and two `breach worker` processes,
// each in a working directory of its own. While customer notices go out, the worker sending
// them is killed with SIGKILL; the other finishes. Every subject gets exactly one notice, the
// records are written, and both workers took tasks.
func TestProductionTopology(t *testing.T) {
	s := startStack(t, stackOptions{production: true})
	rows, want := bigSubjects(20000)
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, rows)

	// As on two machines, nothing but the configuration and Temporal in common. The issue "The
	// house rebuilt" gives each worker a BREACH_HOME of its own with the shared store between
	// them; until the shared store exists, both keep datasets, outbox and records in the
	// stack's BREACH_HOME.
	workers := map[string]*workerProc{}
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(s.dir, "machine-"+name)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		w := s.startWorkerIn(dir, nil)
		workers[workerIdentity(w)] = w
	}
	s.waitPolling(workers)

	id := s.declare("--title", "Order database copied by a compromised support account",
		"--system", "shop-db", "--system", "crm-api", "--subjects", csvPath, "--as", commander).IncidentID
	p := newPilot(s, id, nil)
	alive := func() {
		for who, w := range workers {
			if w.exited() {
				t.Fatalf("the breach worker %s exited unexpectedly:\n%s", who, tail(w.log, 30))
			}
		}
	}

	// Kill the worker running a chunk of notices, inside the chunk: notices beyond the count
	// the status reports are in the outbox, and not all of them.
	outbox := filepath.Join(s.home, "outbox", id, "notices")
	var sender string
	var atKill workflows.Status
	p.until(5*time.Minute, "a worker to be sending customer notices", func(st workflows.Status) bool {
		alive()
		a := st.Alerts
		if a.State == workflows.AlertsDone {
			t.Fatalf("customer alerts finished (%d/%d) before the test could kill a worker mid-send", a.Sent, a.Total)
		}
		if a.State != workflows.AlertsSending || a.Sent == 0 {
			return false
		}
		n := countEML(outbox)
		if n <= a.Sent || n >= len(want) {
			return false
		}
		sender = s.noticeSender(id)
		atKill = st
		return workers[sender] != nil
	})
	workers[sender].kill()
	delete(workers, sender)
	t.Logf("killed worker %s with SIGKILL while it sent notices: status said %d/%d sent, %d notices in the outbox",
		sender, atKill.Alerts.Sent, atKill.Alerts.Total, countEML(outbox))
	require.Equal(t, len(want), atKill.Alerts.Total, "alerts total")

	final := p.until(5*time.Minute, "the incident to close on the surviving worker", func(st workflows.Status) bool {
		alive()
		return st.Phase == workflows.PhaseClosed
	})

	require.Equal(t, workflows.AlertsDone, final.Alerts.State)
	checkNotices(t, notices(t, s.home, id), want)
	require.Equal(t, len(want), final.Alerts.Sent, "alerts.sent must count every address once")
	require.Equal(t, len(want), final.Scope.Mailable)
	for _, c := range final.Containment {
		require.Equal(t, workflows.ContainContained, c.State, "containment of %s", c.System)
	}
	require.NotNil(t, final.Records, "the incident closed without records")
	for what, path := range map[string]string{"register entry": final.Records.Register, "post-incident report": final.Records.Report,
		"timeline": final.Records.Timeline} {
		st, err := os.Stat(path)
		require.NoError(t, err, "the %s", what)
		require.NotZero(t, st.Size(), "the %s %s is empty", what, path)
	}

	// Both workers took tasks: the histories name the worker of every completed workflow task
	// and every started activity.
	survivor := ""
	for who := range workers {
		survivor = who
	}
	tasks := s.tasksByWorker()
	t.Logf("tasks by worker: %v", tasks)
	for _, who := range []string{sender, survivor} {
		c := tasks[who]
		require.Positive(t, c.workflowTasks, "worker %s completed no workflow task (tasks by worker: %v)", who, tasks)
		require.Positive(t, c.activities, "worker %s ran no activity (tasks by worker: %v)", who, tasks)
	}
	require.Positive(t, tasks[sender].notices, "the killed worker %s completed no chunk of notices before it was killed (tasks by worker: %v)", sender, tasks)
	require.Positive(t, tasks[survivor].notices, "the surviving worker %s sent no chunk of notices after the kill (tasks by worker: %v)", survivor, tasks)
	for who := range tasks {
		if who != sender && who != survivor {
			t.Fatalf("a worker the test did not start took tasks: %s (tasks by worker: %v)", who, tasks)
		}
	}
}

// workerIdentity is the identity the SDK gives a breach worker process: pid@host@.
func workerIdentity(w *workerProc) string {
	host, err := os.Hostname()
	if err != nil {
		host = "Unknown"
	}
	return fmt.Sprintf("%d@%s@", w.cmd.Process.Pid, host)
}

// waitPolling waits until every worker polls the plan's task queue for workflow and activity
// tasks, so that the first tasks do not all go to whichever started first.
func (s *stack) waitPolling(workers map[string]*workerProc) {
	s.tb.Helper()
	waitFor(s.tb, time.Minute, "both workers to poll "+workflows.TaskQueue, func() (bool, string) {
		var missing []string
		for _, kind := range []enumspb.TaskQueueType{enumspb.TASK_QUEUE_TYPE_WORKFLOW, enumspb.TASK_QUEUE_TYPE_ACTIVITY} {
			resp, err := s.client.DescribeTaskQueue(context.Background(), workflows.TaskQueue, kind)
			if err != nil {
				return false, err.Error()
			}
			polling := map[string]bool{}
			for _, p := range resp.GetPollers() {
				polling[p.GetIdentity()] = true
			}
			for who, w := range workers {
				if w.exited() {
					s.tb.Fatalf("the breach worker %s exited:\n%s", who, tail(w.log, 30))
				}
				if !polling[who] {
					missing = append(missing, fmt.Sprintf("%s (%s)", who, strings.TrimPrefix(kind.String(), "TASK_QUEUE_TYPE_")))
				}
			}
		}
		return len(missing) == 0, "not polling: " + strings.Join(missing, ", ")
	})
}

// noticeSender is the identity of the worker running a SendNotices activity of the incident's
// alerts, or "".
func (s *stack) noticeSender(id string) string {
	s.tb.Helper()
	desc, err := s.client.DescribeWorkflow(context.Background(), workflows.AlertsWorkflowID(id), "")
	if err != nil {
		return ""
	}
	for _, a := range desc.RawResponse.GetPendingActivities() {
		if a.GetActivityType().GetName() == "SendNotices" && a.GetState() == enumspb.PENDING_ACTIVITY_STATE_STARTED {
			return a.GetLastWorkerIdentity()
		}
	}
	return ""
}

// workerTasks counts what the histories say one worker did.
type workerTasks struct {
	workflowTasks, activities, notices int
}

func (c workerTasks) String() string {
	return fmt.Sprintf("%d workflow tasks, %d activities (%d chunks of notices)", c.workflowTasks, c.activities, c.notices)
}

type tasksByWorker map[string]workerTasks

func (m tasksByWorker) String() string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "[%s: %s] ", k, m[k])
	}
	return strings.TrimSpace(b.String())
}

// tasksByWorker reads the history of every workflow run on the server and counts, by worker
// identity, the workflow tasks completed and the activities started (an activity's started
// event is written when its last attempt ends, with that attempt's worker).
func (s *stack) tasksByWorker() tasksByWorker {
	s.tb.Helper()
	ctx := context.Background()
	out := tasksByWorker{}
	var token []byte
	runs := 0
	for {
		resp, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			s.tb.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			runs++
			scheduled := map[int64]string{}
			it := s.client.GetWorkflowHistory(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					s.tb.Fatalf("history of %s: %v", e.GetExecution().GetWorkflowId(), err)
				}
				switch ev.GetEventType() {
				case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
					who := ev.GetWorkflowTaskCompletedEventAttributes().GetIdentity()
					c := out[who]
					c.workflowTasks++
					out[who] = c
				case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
					scheduled[ev.GetEventId()] = ev.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName()
				case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
					a := ev.GetActivityTaskStartedEventAttributes()
					who := a.GetIdentity()
					c := out[who]
					c.activities++
					if scheduled[a.GetScheduledEventId()] == "SendNotices" {
						c.notices++
					}
					out[who] = c
				}
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if runs < 3 {
		s.tb.Fatalf("only %d workflow runs on the server: the count of tasks by worker would prove little", runs)
	}
	return out
}
