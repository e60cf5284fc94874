package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/console"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	recordstore "github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/worker"
	"github.com/breachops/breach/workflows"
)

// Defaults of BenchmarkSoak; BREACH_SOAK_INCIDENTS, BREACH_SOAK_SCALE and BREACH_SOAK_DURATION
// change them (a shorter duration for a quick check).
const (
	soakIncidents = 1000
	// soakScale is the drill time scale. At 10x, 1,000 incidents load the server as 10,000 open
	// incidents would in real time: in their first simulated week (a reminder of the manual
	// isolation every hour) about 3 reminders a second, besides the GDPR clocks; a simulated hour
	// lasts 6 minutes. The dev server is what falls behind first (it uses about four times the
	// worker's CPU): on the shared two-core machine, 200 incidents at 100x (twice this load) made
	// the reminders half a minute late.
	soakScale    = 10
	soakDuration = 10 * time.Minute
)

const (
	soakDPO       = "soak-dpo"
	soakCommander = "soak-ic"
)

// BenchmarkSoak keeps 1,000 drill incidents open at once on one worker (in this process) and a
// dev server, each with its GDPR clock running (the report drafted and never approved) and a
// manual isolation nobody confirms, at a compressed drill clock, for ten minutes of wall time
// after they are all declared and decided. Each incident became aware at its own moment of the
// last 144 simulated hours, so the clocks reach their escalation points, deadlines and overdue
// reminders all through the run, not together. It prints the worker's peak RSS (VmHWM of this process, which is the
// worker), how late the escalations (the clocks' points and overdue reminders) and the manual
// isolation reminders reached the chat against their due instants (p50, p99, max), and the
// history events per incident per simulated day over the run. It asserts no time.
//
//	make bench-soak
//	BREACH_SOAK_DURATION=2m BREACH_SOAK_INCIDENTS=200 go test -run XXX -bench BenchmarkSoak -benchtime 1x -timeout 30m ./e2e
func BenchmarkSoak(b *testing.B) {
	n := soakEnvInt(b, "BREACH_SOAK_INCIDENTS", soakIncidents)
	scale := float64(soakEnvInt(b, "BREACH_SOAK_SCALE", soakScale))
	if scale < 1 || scale > workflows.MaxTimeScale {
		b.Fatalf("BREACH_SOAK_SCALE=%g: a drill's time scale is between 1 and %d", scale, workflows.MaxTimeScale)
	}
	span := soakDuration
	if v := os.Getenv("BREACH_SOAK_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			b.Fatalf("BREACH_SOAK_DURATION=%q: want a duration such as 10m", v)
		}
		span = d
	}
	for range b.N {
		soakRun(b, n, scale, span)
	}
}

func soakEnvInt(b *testing.B, name string, def int) int {
	b.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

func soakRun(b *testing.B, n int, scale float64, span time.Duration) {
	dir := b.TempDir()
	home := filepath.Join(dir, "home")
	ctx := context.Background()
	invPath := filepath.Join(dir, "systems.yaml")
	writeFile(b, invPath, "defaults:\n  provider: dry-run\nsystems:\n  - name: shop-db\n    addresses: [198.51.100.21]\n")
	inventory, err := firewall.LoadInventory(invPath)
	if err != nil {
		b.Fatal(err)
	}
	store, err := datasets.Open(filepath.Join(home, "datasets"), 0)
	if err != nil {
		b.Fatal(err)
	}
	ds, err := store.Add(ctx, "soak.csv", strings.NewReader("id,email,name,country,data_categories\nS1,s1@example.net,Soak One,DE,contact\n"), true)
	if err != nil {
		b.Fatal(err)
	}

	// The records in BREACH_HOME, opened once, as `breach worker` does without BREACH_STORE_URL.
	records, err := recordstore.Local(home)
	if err != nil {
		b.Fatal(err)
	}
	logs := &soakLog{seen: map[string]int{}}
	c := isoBenchDevServer(b, dir, logs)
	// What the worker and the server complained of, whatever the outcome.
	b.Cleanup(func() {
		if s := logs.String(); s != "" {
			fmt.Printf("worker warnings and errors:\n%s", s)
		}
		if t := tail(filepath.Join(dir, "temporal.log"), 10); strings.TrimSpace(t) != "" {
			fmt.Printf("dev server log (tail):\n%s\n", t)
		}
	})
	chat := &soakChat{inner: &console.Chat{Dir: home, Out: io.Discard}}
	acts := &activities.Activities{
		Chat:      chat,
		Mail:      mail.Outbox{Dir: filepath.Join(home, "outbox")},
		Firewalls: firewall.NewRegistry(inventory, firewall.Options{DryRunPath: filepath.Join(home, "dry-run.jsonl")}),
		Datasets:  activities.StoreDatasets{Store: store},
		Records:   records,
		Dir:       home,
	}
	if acts.Pseudonyms, err = pseudonym.Load(func(string) string { return "" }, home); err != nil {
		b.Fatal(err)
	}
	w := worker.New(c, acts)
	if err := w.Start(); err != nil {
		b.Fatalf("start worker: %v", err)
	}
	b.Cleanup(w.Stop)

	// Declare and decide every incident (see soakParallel).
	b.ResetTimer()
	setupStart := time.Now()
	// Each incident became aware at its own moment of the last 144 simulated hours: half the
	// clocks are past their deadline (overdue reminders every 6 hours), the others pass their
	// escalation points, all through the run rather than together.
	window := time.Duration(float64(144*time.Hour) / scale)
	rng := rand.New(rand.NewPCG(1, 2))
	decls := make([]incident.Declaration, n)
	day := setupStart.UTC().Format("20060102")
	for i := range decls {
		aware := setupStart.Add(-time.Duration(rng.Float64() * float64(window))).UTC()
		decls[i] = incident.Declaration{
			IncidentID: fmt.Sprintf("INC-%s-%016X", day, 0x50A4000000000000+i), Title: "Soak: a laptop lost on a train",
			Systems: []string{fmt.Sprintf("laptop-%05d", i)}, AwareAt: aware, AwareZone: "UTC",
			DeclaredBy: soakCommander, Source: "drill", Drill: true, TimeScale: scale, Scenario: "soak",
			Subjects: incident.DatasetRef{URI: ds.Ref},
			Roles:    incident.Roles{DPO: []string{soakDPO}, Commander: []string{soakCommander}},
			Organisation: incident.Organisation{Name: "Soak Shop GmbH", Timezone: "Europe/Berlin", Role: "controller",
				Establishments: []string{"DE"}, DPOContact: "dpo@soak.test", MailFrom: "privacy@soak.test"},
		}
	}
	keys, err := codec.Load(codec.Source{Home: dir})
	if err != nil {
		b.Fatal(err)
	}
	bg, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	su := &soakSetup{c: c, codec: codec.New(keys), background: bg, refused: map[string]int{}, late: map[string]bool{}, decided: map[string]bool{}}
	su.declareAll(decls, soakParallel)
	if err := su.err(); err != nil {
		b.Fatal(err)
	}
	setup := time.Since(setupStart)

	// The run: nobody does anything while the clocks run.
	from := time.Now()
	serverFrom := soakServerCPU()
	eventsFrom := soakEvents(b, c)
	until := from.Add(span)
	for time.Now().Before(until) {
		time.Sleep(time.Until(until))
	}
	to := time.Now()
	peak, err := vmHWM(os.Getpid())
	if err != nil {
		b.Fatalf("read the peak RSS: %v", err)
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	serverTo := soakServerCPU()
	load, _ := os.ReadFile("/proc/loadavg")
	eventsTo := soakEvents(b, c)
	b.StopTimer()

	// Lateness against the due instants the incidents' own statuses give.
	statuses := soakStatuses(b, c, decls)
	stopBackground()
	if err := su.err(); err != nil {
		b.Fatal(err)
	}
	phases := map[string]int{}
	for _, st := range statuses {
		phases[st.Phase]++
	}
	esc, rem, odd := chat.lateness(statuses, scale, from, to)
	wall := to.Sub(from)
	simDays := to.Sub(from).Seconds() * scale / 86400
	perDay := float64(eventsTo.events-eventsFrom.events) / float64(n) / simDays

	fmt.Printf("\nsoak: %d incidents at %gx on one worker; declared and decided in %s; then %s of wall time (%.2f simulated days)\n",
		n, scale, setup.Round(time.Second), to.Sub(from).Round(time.Second), simDays)
	fmt.Print(su.report())
	if phases[incident.PhaseNotify] != n {
		fmt.Printf("  phases at the end: %v (an incident's GDPR clock runs from its decision, in phase notify)\n", phases)
	}
	fmt.Printf("  worker peak RSS (VmHWM): %.1f MiB; worker CPU %s user, %s system in all; dev server CPU in the run %s (%.0f%% of a core); load average at the end %s",
		float64(peak)/(1<<20), time.Duration(ru.Utime.Nano()).Round(time.Second), time.Duration(ru.Stime.Nano()).Round(time.Second),
		(serverTo - serverFrom).Round(time.Second), 100*(serverTo-serverFrom).Seconds()/wall.Seconds(), load)
	fmt.Printf("  escalations (clock points and overdue reminders) due in the run: %s\n", esc)
	fmt.Printf("  manual-isolation reminders due in the run:                      %s\n", rem)
	fmt.Printf("  p50 lateness of both, by minute of the run: %s\n", esc.byMinute(rem))
	if odd > 0 {
		fmt.Printf("  note: %d overdue reminders of one incident could not be told apart (one came later than the next was due)\n", odd)
	}
	fmt.Printf("  history events: %d -> %d over %d workflows (%d runs, %d continued as new); %.1f events per incident per simulated day\n\n",
		eventsFrom.events, eventsTo.events, eventsTo.workflows, eventsTo.runs, eventsTo.continued, perDay)
	b.ReportMetric(float64(peak)/(1<<20), "peak-RSS-MiB")
	b.ReportMetric(esc.p50.Seconds()*1000, "escalation-p50-ms")
	b.ReportMetric(esc.p99.Seconds()*1000, "escalation-p99-ms")
	b.ReportMetric(esc.max.Seconds()*1000, "escalation-max-ms")
	b.ReportMetric(perDay, "events/incident/sim-day")
}

// soakParallel is how many incidents are declared and decided at once. More overload the dev
// server on the shared machine: workflow tasks time out, history pages come back cut short, and
// an activity the server hands the worker in its reply to a workflow task (eager execution) is
// lost with a reply that times out, until its start-to-close timeout (30 minutes for the scope).
const soakParallel = 8

// soakDecideWait is how long the setup waits for an incident's decision before leaving it to be
// decided in the background, while the run goes on.
const soakDecideWait = 3 * time.Minute

// soakSetup declares the incidents and decides them as the DPO would: a risk to be reported to
// the authority, no customer notices.
type soakSetup struct {
	c          client.Client
	codec      converter.PayloadCodec
	background context.Context

	mu sync.Mutex
	// refused counts the decisions the server refused while the incident's workflow task was
	// being retried, by the failure of that task.
	refused map[string]int
	// late names the incidents not decided within soakDecideWait; decided, those decided later.
	late, decided map[string]bool
	errs          []error
}

func (su *soakSetup) declareAll(decls []incident.Declaration, parallel int) {
	next := make(chan incident.Declaration)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range next {
				su.declareAndDecide(d)
			}
		}()
	}
	for _, d := range decls {
		next <- d
	}
	close(next)
	wg.Wait()
}

func (su *soakSetup) fail(err error) {
	su.mu.Lock()
	defer su.mu.Unlock()
	su.errs = append(su.errs, err)
}

func (su *soakSetup) err() error {
	su.mu.Lock()
	defer su.mu.Unlock()
	return errors.Join(su.errs...)
}

func (su *soakSetup) declareAndDecide(d incident.Declaration) {
	ctx := context.Background()
	wid := workflows.IncidentWorkflowID(d.IncidentID)
	deadline := time.Now().Add(soakDecideWait)
	for {
		// A dev server under this load now and then misses its namespace for a moment.
		_, err := su.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING},
			workflows.IncidentWorkflow, workflows.IncidentInput{Declaration: d})
		var nf *serviceerror.NamespaceNotFound
		if err == nil {
			break
		}
		if !errors.As(err, &nf) || time.Now().After(deadline) {
			su.fail(fmt.Errorf("declare %s: %w", d.IncidentID, err))
			return
		}
		time.Sleep(time.Second)
	}
	if su.decide(ctx, wid, deadline) {
		return
	}
	su.mu.Lock()
	su.late[d.IncidentID] = true
	su.mu.Unlock()
	go func() {
		if su.decide(su.background, wid, time.Time{}) {
			su.mu.Lock()
			su.decided[d.IncidentID] = true
			su.mu.Unlock()
		}
	}()
}

// decide tries the decision until it is taken, deadline passes (zero: until ctx ends) or it is
// refused for a reason other than being early; it reports whether it was taken.
func (su *soakSetup) decide(ctx context.Context, wid string, deadline time.Time) bool {
	for {
		h, err := su.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: wid, UpdateName: incident.UpdateDecide, WaitForStage: client.WorkflowUpdateStageCompleted,
			Args: []any{incident.Decision{By: soakDPO, Risk: "risk", NotifyAuthority: true,
				Reasoning: "Contact data on a lost laptop; the disk was not encrypted.", Measures: "The laptop is reported lost."}},
		})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		if err == nil {
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		// Refused before the scope is assessed, or before the first task registers the handlers.
		var nf *serviceerror.NamespaceNotFound
		early := strings.Contains(err.Error(), "no decision is pending yet") || strings.Contains(err.Error(), "unknown update") || errors.As(err, &nf)
		if strings.Contains(err.Error(), "Workflow Task in failed state") {
			// The server takes no Update while a workflow task is being retried.
			su.mu.Lock()
			su.refused[su.taskFailure(ctx, wid)]++
			su.mu.Unlock()
			early = true
		}
		if !early {
			if desc, derr := su.c.DescribeWorkflow(ctx, wid, ""); derr == nil && desc.RawResponse.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				err = fmt.Errorf("%w (the incident ended: %v)", err, su.c.GetWorkflow(ctx, wid, "").Get(ctx, nil))
			}
			if f := su.taskFailure(ctx, wid); f != "" {
				err = fmt.Errorf("%w (its last workflow task failed: %s)", err, f)
			}
			su.fail(fmt.Errorf("decide %s: %w", wid, err))
			return false
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return false
		}
		time.Sleep(time.Second)
	}
}

// taskFailure is the failure of the last failed workflow task of a workflow, decrypted, if any.
func (su *soakSetup) taskFailure(ctx context.Context, wid string) string {
	it := su.c.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	last := ""
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return last
		}
		if ev.GetWorkflowTaskFailedEventAttributes().GetFailure() == nil {
			continue
		}
		err = proxy.VisitPayloads(ctx, ev, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return su.codec.Decode(ps)
			}})
		if err != nil {
			last = "(undecryptable) " + err.Error()
			continue
		}
		last = failureText(ev)
	}
	return last
}

// report says what the setup met.
func (su *soakSetup) report() string {
	su.mu.Lock()
	defer su.mu.Unlock()
	var out []string
	for why, n := range su.refused {
		out = append(out, fmt.Sprintf("  %d decisions refused while a workflow task was retried (then tried again): %.300s\n", n, why))
	}
	sort.Strings(out)
	if len(su.late) > 0 {
		out = append(out, fmt.Sprintf("  %d incidents not ready for their decision within %s (a lost activity waits for its timeout); %d of them decided later, during the run\n",
			len(su.late), soakDecideWait, len(su.decided)))
	}
	return strings.Join(out, "")
}

// soakCount is what the server holds at one moment.
type soakCount struct {
	events                     int64
	workflows, runs, continued int
}

// soakEvents adds up the history lengths of every run of every workflow: closed runs as listed,
// running ones as described (the list's figure is not kept current while a workflow runs).
func soakEvents(b *testing.B, c client.Client) soakCount {
	b.Helper()
	ctx := context.Background()
	var out soakCount
	var open []string
	ids := map[string]bool{}
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			b.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			out.runs++
			ids[e.GetExecution().GetWorkflowId()] = true
			switch e.GetStatus() {
			case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
				open = append(open, e.GetExecution().GetWorkflowId())
			case enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
				out.continued++
				out.events += e.GetHistoryLength()
			default:
				out.events += e.GetHistoryLength()
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	out.workflows = len(ids)
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				d, err := c.DescribeWorkflow(ctx, id, "")
				var nf *serviceerror.NotFound
				mu.Lock()
				switch {
				case err == nil:
					out.events += d.RawResponse.GetWorkflowExecutionInfo().GetHistoryLength()
				case !errors.As(err, &nf) && firstErr == nil:
					firstErr = fmt.Errorf("describe %s: %w", id, err)
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range open {
		next <- id
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return out
}

// soakStatuses queries every incident's status.
func soakStatuses(b *testing.B, c client.Client, decls []incident.Declaration) map[string]incident.Status {
	b.Helper()
	ctx := context.Background()
	out := make(map[string]incident.Status, len(decls))
	var mu sync.Mutex
	var wg sync.WaitGroup
	next := make(chan string)
	var firstErr error
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range next {
				var st incident.Status
				v, err := c.QueryWorkflow(ctx, workflows.IncidentWorkflowID(id), "", incident.QueryStatus)
				if err == nil {
					err = v.Get(&st)
				}
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("status of %s: %w", id, err)
				}
				out[id] = st
				mu.Unlock()
			}
		}()
	}
	for _, d := range decls {
		next <- d.IncidentID
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return out
}

// soakChat is the incident room (the console's log files) and a note of when each reminder and
// escalation reached it.
type soakChat struct {
	inner *console.Chat

	mu   sync.Mutex
	seen []soakMessage
}

type soakMessage struct {
	at time.Time
	m  incident.ChatMessage
}

func (c *soakChat) OpenRoom(ctx context.Context, r incident.RoomRequest) (incident.Room, error) {
	return c.inner.OpenRoom(ctx, r)
}

func (c *soakChat) UpdateCard(ctx context.Context, card incident.Card) error {
	return c.inner.UpdateCard(ctx, card)
}

func (c *soakChat) Post(ctx context.Context, m incident.ChatMessage) error {
	at := time.Now()
	if m.Kind == incident.MsgEscalation || m.Kind == incident.MsgManualReminder {
		c.mu.Lock()
		c.seen = append(c.seen, soakMessage{at: at, m: m})
		c.mu.Unlock()
	}
	return c.inner.Post(ctx, m)
}

var soakReminderRE = regexp.MustCompile(`\(reminder (\d+)\)`)

// soakLateness is how late a kind of message reached the room.
type soakLateness struct {
	n             int
	p50, p99, max time.Duration
	// samples are the lateness of each message, by the minute of the run it was due in.
	samples map[int][]time.Duration
}

// byMinute is the p50 lateness of l's and o's messages due in each minute of the run.
func (l soakLateness) byMinute(o soakLateness) string {
	last := -1
	for _, ss := range []map[int][]time.Duration{l.samples, o.samples} {
		for m := range ss {
			last = max(last, m)
		}
	}
	var out []string
	for m := 0; m <= last; m++ {
		ds := append(append([]time.Duration(nil), l.samples[m]...), o.samples[m]...)
		if len(ds) == 0 {
			out = append(out, "-")
			continue
		}
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		out = append(out, percentile(ds, 50).Round(10*time.Millisecond).String())
	}
	return strings.Join(out, " ")
}

func (l soakLateness) String() string {
	if l.n == 0 {
		return "none"
	}
	return fmt.Sprintf("%6d, late by p50 %s, p99 %s, max %s", l.n, l.p50.Round(time.Millisecond), l.p99.Round(time.Millisecond), l.max.Round(time.Millisecond))
}

func soakSummary(byMinute map[int][]time.Duration) soakLateness {
	var ds []time.Duration
	for _, m := range byMinute {
		ds = append(ds, m...)
	}
	if len(ds) == 0 {
		return soakLateness{}
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return soakLateness{n: len(ds), p50: percentile(ds, 50), p99: percentile(ds, 99), max: ds[len(ds)-1], samples: byMinute}
}

// lateness measures, for the messages due between from and to, how long after their due instant
// they reached the room. A clock's points are due at their share of the clock and an hour (of
// drill time) before the deadline; its overdue reminders at the reminder policy's instants after
// the deadline (each is matched to the latest instant before it arrived: odd counts the reminders
// that were later than the next was due, whose lateness this understates); a manual isolation's
// k-th reminder at the policy's k-th instant after it was asked for. An incident that started
// overdue says so at once, with nothing to be late for.
func (c *soakChat) lateness(statuses map[string]incident.Status, scale float64, from, to time.Time) (esc, rem soakLateness, odd int) {
	manual := incident.ReminderPolicy{}.Manual().Scaled(scale)
	overdue := incident.ReminderPolicy{}.Overdue().Scaled(scale)
	c.mu.Lock()
	seen := append([]soakMessage(nil), c.seen...)
	c.mu.Unlock()
	escs, rems := map[int][]time.Duration{}, map[int][]time.Duration{}
	lastOverdue := map[string]int{}
	for _, s := range seen {
		st, ok := statuses[s.m.IncidentID]
		if !ok {
			continue
		}
		var due time.Time
		switch s.m.Kind {
		case incident.MsgManualReminder:
			m := soakReminderRE.FindStringSubmatch(s.m.Text)
			since := soakSince(st)
			if m == nil || since.IsZero() {
				continue
			}
			k, _ := strconv.Atoi(m[1])
			due = manual.At(since, k)
		case incident.MsgEscalation:
			o, ok := findObligation(st, s.m.Obligation)
			if !ok {
				continue
			}
			w := o.DueAt.Sub(o.ClockStart)
			switch label := soakLabel(s.m.Text); {
			case strings.HasPrefix(label, "still OVERDUE"):
				k := 0
				for !overdue.At(o.DueAt, k+1).After(s.at) {
					k++
				}
				key := s.m.IncidentID + "/" + o.ID
				if k <= lastOverdue[key] {
					odd++
				}
				lastOverdue[key] = k
				due = overdue.At(o.DueAt, k)
			case label == clockPoints[0]:
				due = o.ClockStart.Add(w / 2)
			case label == clockPoints[1]:
				due = o.ClockStart.Add(w * 3 / 4)
			case label == clockPoints[2]:
				due = o.ClockStart.Add(w * 9 / 10)
			case label == clockPoints[3]:
				due = o.DueAt.Add(-time.Duration(float64(time.Hour) / scale))
			case label == clockPoints[4]:
				due = o.DueAt
			default:
				continue
			}
		}
		if due.Before(from) || due.After(to) {
			continue
		}
		minute := int(due.Sub(from) / time.Minute)
		if s.m.Kind == incident.MsgManualReminder {
			rems[minute] = append(rems[minute], s.at.Sub(due))
		} else {
			escs[minute] = append(escs[minute], s.at.Sub(due))
		}
	}
	return soakSummary(escs), soakSummary(rems), odd
}

// soakLabel is the escalation's label in a message "<id> (<basis>, to <audience>): <label>; due …".
func soakLabel(text string) string {
	head, _, _ := strings.Cut(text, "; due ")
	if i := strings.LastIndex(head, "): "); i >= 0 {
		return head[i+3:]
	}
	return ""
}

// soakSince is when the incident asked for its manual isolation.
func soakSince(st incident.Status) time.Time {
	for _, p := range st.Pending {
		if strings.HasPrefix(p.Step, incident.StepIsolation) {
			return p.Since
		}
	}
	return time.Time{}
}

// soakServerCPU is the CPU time the dev server (the child process of this one running
// "server start-dev") has used so far, or 0 when it cannot be read.
func soakServerCPU() time.Duration {
	tasks, _ := filepath.Glob("/proc/self/task/*/children")
	for _, t := range tasks {
		raw, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(raw)) {
			cmd, _ := os.ReadFile("/proc/" + pid + "/cmdline")
			if !strings.Contains(string(cmd), "start-dev") {
				continue
			}
			stat, err := os.ReadFile("/proc/" + pid + "/stat")
			if err != nil {
				return 0
			}
			// The fields after the command's closing parenthesis; utime and stime are the 12th
			// and 13th, in clock ticks (USER_HZ, 100 on Linux).
			_, rest, _ := strings.Cut(string(stat), ") ")
			f := strings.Fields(rest)
			if len(f) < 13 {
				return 0
			}
			u, _ := strconv.ParseInt(f[11], 10, 64)
			s, _ := strconv.ParseInt(f[12], 10, 64)
			return time.Duration(u+s) * 10 * time.Millisecond
		}
	}
	return 0
}

// soakLog counts the worker's warnings and errors by message and error.
type soakLog struct {
	mu   sync.Mutex
	seen map[string]int
}

func (l *soakLog) note(level, msg string, kv []any) {
	key := level + " " + msg
	for i := 0; i+1 < len(kv); i += 2 {
		if k, _ := kv[i].(string); k == "Error" || k == "error" {
			key += ": " + fmt.Sprint(kv[i+1])
		}
	}
	// One line for a kind of complaint, whatever incident or number it names.
	key = soakDigits.ReplaceAllString(key, "N")
	if len(key) > 200 {
		key = key[:200] + "…"
	}
	l.mu.Lock()
	l.seen[key]++
	l.mu.Unlock()
}

var soakDigits = regexp.MustCompile(`[0-9]+`)

func (l *soakLog) Debug(string, ...any)        {}
func (l *soakLog) Info(string, ...any)         {}
func (l *soakLog) Warn(msg string, kv ...any)  { l.note("warn", msg, kv) }
func (l *soakLog) Error(msg string, kv ...any) { l.note("error", msg, kv) }

func (l *soakLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for k, n := range l.seen {
		out = append(out, fmt.Sprintf("  %6d× %s\n", n, k))
	}
	sort.Strings(out)
	return strings.Join(out, "")
}
