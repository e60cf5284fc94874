package e2e

import (
	"bytes"
	"context"
	"fmt"
	netmail "net/mail"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/slack/slackfake"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/store/storetest"
	"github.com/breachops/breach/workflows"
)

// TestProductionTopology runs an incident from declaration to close as production runs it: a
// real Temporal server on PostgreSQL (not the dev server) and two `breach worker` processes as
// on two machines: each in a working directory and a BREACH_HOME of its own, sharing only the
// configuration, the secrets every worker of a cluster is given (payload and pseudonym keys),
// the store (S3, served on loopback), the register (PostgreSQL) and Slack (the local Slack
// server). While customer notices go out, the worker sending them is killed with SIGKILL; the
// other finishes. Every subject gets exactly one notice, the incident has one Slack channel,
// its records are complete in the shared store, and both workers took tasks.
func TestProductionTopology(t *testing.T) {
	storeURL := storetest.S3(t, "breach-records")
	ws := slackfake.New(slackToken)
	t.Cleanup(func() {
		if vs := ws.Violations(); len(vs) > 0 {
			t.Errorf("breach sent Slack requests that break Slack's documented limits:\n%s", slackfake.FormatViolations(vs))
		}
		ws.Close()
	})
	shared := append([]string{"BREACH_STORE_URL=" + storeURL, "BREACH_PSEUDONYM_KEY=" + strings.Repeat("5e", 32),
		"BREACH_REGISTER_DSN=" + registerSchema(t), "SLACK_BOT_TOKEN=" + slackToken, "SLACK_API_URL=" + ws.APIURL()}, storetest.Env...)
	s := startStack(t, stackOptions{production: true, env: shared})
	rows, want := bigSubjects(20000)
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, rows)
	bucket := openTestStore(t, storeURL)

	// The payload keys of the installation: made once (in the operator's BREACH_HOME, where the
	// CLI reads them), then given to every worker as a cluster's are.
	if _, err := s.codec.load(); err != nil {
		t.Fatal(err)
	}
	workers := map[string]*workerProc{}
	homes := map[string]string{}
	for _, name := range []string{"a", "b"} {
		dir := filepath.Join(s.dir, "machine-"+name)
		home := filepath.Join(dir, "home")
		require.NoError(t, os.MkdirAll(home, 0o700))
		w := s.startWorkerIn(dir, []string{"BREACH_HOME=" + home, "BREACH_CODEC_KEYS_FILE=" + codec.LocalKeyPath(s.home)})
		workers[workerIdentity(w)] = w
		homes[workerIdentity(w)] = home
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
	outbox := "outbox/" + id + "/notices/"
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
		n := countKeys(t, bucket, outbox)
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
		sender, atKill.Alerts.Sent, atKill.Alerts.Total, countKeys(t, bucket, outbox))
	require.Equal(t, len(want), atKill.Alerts.Total, "alerts total")

	final := p.until(5*time.Minute, "the incident to close on the surviving worker", func(st workflows.Status) bool {
		alive()
		return st.Phase == workflows.PhaseClosed
	})

	require.Equal(t, workflows.AlertsDone, final.Alerts.State)
	checkNotices(t, storeNotices(t, bucket, id), want)
	require.Equal(t, len(want), final.Alerts.Sent, "alerts.sent must count every address once")
	require.Equal(t, len(want), final.Scope.Mailable)
	for _, c := range final.Containment {
		require.Equal(t, workflows.ContainContained, c.State, "containment of %s", c.System)
	}
	checkSharedRecords(t, bucket, final, homes)

	// One incident, one Slack channel, whichever worker opened it.
	var rooms []string
	for _, c := range ws.Channels() {
		if strings.HasPrefix(c.Name, "inc-") {
			rooms = append(rooms, c.Name)
		}
	}
	require.Len(t, rooms, 1, "Slack channels of the incident: %v", rooms)

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

// openTestStore opens the shared store as the workers do.
func openTestStore(t *testing.T, url string) *store.Store {
	t.Helper()
	for _, kv := range storetest.Env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	st, err := store.Open(context.Background(), url, "")
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	return st
}

func countKeys(t *testing.T, st *store.Store, prefix string) int {
	t.Helper()
	keys, err := st.List(context.Background(), prefix)
	require.NoError(t, err)
	return len(keys)
}

// storeNotices counts the notices of the incident in the store's outbox per recipient address.
func storeNotices(t *testing.T, st *store.Store, id string) map[string]int {
	t.Helper()
	ctx := context.Background()
	keys, err := st.List(ctx, "outbox/"+id+"/notices/")
	require.NoError(t, err)
	got := map[string]int{}
	for _, k := range keys {
		raw, err := st.Get(ctx, k)
		require.NoError(t, err)
		msg, err := netmail.ReadMessage(bytes.NewReader(raw))
		require.NoError(t, err, "%s is not an RFC 5322 message", k)
		to, err := netmail.ParseAddress(msg.Header.Get("To"))
		require.NoError(t, err, "%s: To", k)
		require.Equal(t, id, msg.Header.Get("X-Breach-Incident"), k)
		got[strings.ToLower(to.Address)]++
	}
	return got
}

// checkSharedRecords: what the incident left is in the shared store, whichever worker wrote it
// (the report filed, the containment evidence, the post-incident report, the timeline, the
// register entry), and nothing of it in either worker's BREACH_HOME.
func checkSharedRecords(t *testing.T, st *store.Store, final workflows.Status, homes map[string]string) {
	t.Helper()
	ctx := context.Background()
	id := final.IncidentID
	require.NotNil(t, final.Records, "the incident closed without records")
	for what, where := range map[string]string{"register entry": final.Records.Register, "post-incident report": final.Records.Report,
		"timeline": final.Records.Timeline} {
		require.True(t, strings.HasPrefix(where, "s3://breach-records/"), "the %s is at %s, not in the shared store", what, where)
	}
	var keys []string
	for _, k := range []func() (string, error){
		func() (string, error) { return records.RegisterEntryKey(id) },
		func() (string, error) { return records.Key(id, records.PostIncidentReport) },
		func() (string, error) { return records.Key(id, records.Timeline) },
		func() (string, error) { return records.ReportKey(id, "gdpr-art33-authority.md") },
	} {
		key, err := k()
		require.NoError(t, err)
		keys = append(keys, key)
	}
	for _, key := range keys {
		info, err := st.Stat(ctx, key)
		require.NoError(t, err, "%s in the shared store", key)
		require.NotZero(t, info.Size, "%s is empty", key)
	}
	evs, err := records.Evidence(ctx, st, id)
	require.NoError(t, err)
	systems := map[string]bool{}
	for _, ev := range evs {
		systems[ev.System] = true
	}
	for _, c := range final.Containment {
		require.True(t, systems[c.System], "no containment evidence of %s in the shared store (%d records)", c.System, len(evs))
	}
	for who, home := range homes {
		for _, sub := range []string{"incidents", "outbox", "register/" + id + ".json"} {
			_, err := os.Stat(filepath.Join(home, sub))
			require.True(t, os.IsNotExist(err), "worker %s keeps %s in its BREACH_HOME %s", who, sub, home)
		}
	}
}
