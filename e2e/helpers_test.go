package e2e

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/console"
	"github.com/breachops/breach/internal/devserver"
	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/workflows"
)

// Identities of the configuration the tests write.
const (
	dpo       = "e2e-dpo"
	commander = "e2e-ic"
	outsider  = "e2e-intern"

	authorityAddress = "breach-reports@supervisory-authority.example"
)

// pollInterval is how often a condition is checked; it is never an assertion.
const pollInterval = 150 * time.Millisecond

// temporalBin finds the pinned Temporal CLI: $BREACH_TEMPORAL_BIN, else ../bin/temporal.
func temporalBin(tb testing.TB) string {
	tb.Helper()
	const how = "`make bin/.temporal-v1.5.1` builds the pinned Temporal CLI into ./bin"
	if p := os.Getenv("BREACH_TEMPORAL_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Fatalf("BREACH_TEMPORAL_BIN=%s: %v; %s", p, err, how)
		}
		return p
	}
	p := filepath.Join(moduleRoot, "bin", "temporal")
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("the Temporal CLI is not at %s (%v): %s, or set BREACH_TEMPORAL_BIN", p, err, how)
	}
	return p
}

// system is one entry of the inventory a test writes.
type system struct {
	Name      string
	Provider  string
	Addresses []string
}

type stackOptions struct {
	systems []system
	// webhookURL configures providers.webhook.url.
	webhookURL string
	// env is added to the environment of every breach process (secrets).
	env []string
	// config replaces the configuration the tests write by default (configYAML).
	config string
	// production runs a real Temporal server on PostgreSQL (startServer) instead of the dev server.
	production bool
	// temporalLater chooses the dev server's address but starts nothing there: the test starts
	// it with startTemporal.
	temporalLater bool
}

// stack is one Temporal server (the dev server, or a production server on PostgreSQL), one
// BREACH_HOME and one configuration, for one test.
type stack struct {
	tb     testing.TB
	dir    string
	home   string
	config string
	addr   string
	env    []string
	// server is the production server, when the stack runs one.
	server *serverStack
	// clientOpts are the options of client, kept for a dev server started later (startTemporal).
	clientOpts *client.Options
	// client reads and writes payloads through codec, as the breach processes do.
	client  client.Client
	codec   *homeCodec
	workers int
}

func defaultSystems() []system {
	return []system{
		{Name: "shop-db", Provider: "dry-run", Addresses: []string{"198.51.100.21"}},
		{Name: "crm-api", Provider: "dry-run", Addresses: []string{"198.51.100.40", "2001:db8:40::/64"}},
	}
}

// startStack writes a configuration and starts a Temporal server; both go away with the test.
func startStack(tb testing.TB, o stackOptions) *stack {
	tb.Helper()
	dir := tb.TempDir()
	s := &stack{tb: tb, dir: dir, home: filepath.Join(dir, "home"), config: filepath.Join(dir, "breach.yaml")}
	s.codec = &homeCodec{home: s.home}
	dc := converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), s.codec)
	if len(o.systems) == 0 {
		o.systems = defaultSystems()
	}
	if o.config == "" {
		o.config = configYAML()
	}
	writeFile(tb, s.config, o.config)
	writeFile(tb, filepath.Join(dir, "systems.yaml"), inventoryYAML(o.systems, o.webhookURL))

	opts := &client.Options{Namespace: "default", Logger: quietLogger{},
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)}
	if o.production {
		s.server = startServer(tb)
		s.addr = s.server.addr
		opts.HostPort = s.addr
		c, err := client.Dial(*opts)
		if err != nil {
			tb.Fatalf("connect to the Temporal server at %s: %v", s.addr, err)
		}
		s.client = c
		tb.Cleanup(c.Close)
	} else if o.temporalLater {
		s.addr, s.clientOpts = freeHostPort(tb), opts
	} else {
		s.startDevServer(opts)
	}
	s.finish(o)
	return s
}

// startTemporal starts the dev server at the address a stack made with temporalLater chose,
// where the breach processes already look for it.
func (s *stack) startTemporal() {
	s.tb.Helper()
	if s.clientOpts == nil || s.client != nil {
		s.tb.Fatal("startTemporal is for a stack started with temporalLater, once")
	}
	s.startDevServer(s.clientOpts)
}

// startDevServer starts the pinned Temporal CLI's dev server at the stack's address, or at a
// free local address when it has none.
func (s *stack) startDevServer(opts *client.Options) {
	tb := s.tb
	tb.Helper()
	bin := temporalBin(tb)
	if s.addr == "" {
		s.addr = freeHostPort(tb)
	}
	opts.HostPort = s.addr
	logPath := filepath.Join(s.dir, "temporal.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: opts,
		LogLevel:      "error",
		ExtraArgs:     devserver.ServerArgs(),
		Stdout:        logf,
		Stderr:        logf,
	})
	if err != nil {
		logf.Close()
		tb.Fatalf("start the Temporal dev server (%s) at %s: %v\n%s", bin, s.addr, err, tail(logPath, 20))
	}
	s.client = dev.Client()
	tb.Cleanup(func() {
		s.client.Close()
		if err := dev.Stop(); err != nil {
			tb.Logf("dev server stop: %v", err)
		}
		logf.Close()
		if tb.Failed() {
			tb.Logf("%s (tail):\n%s", logPath, tail(logPath, 20))
		}
	})
}

// finish writes the environment of the breach processes and everyone's signing keys.
func (s *stack) finish(o stackOptions) {
	tb := s.tb
	tb.Helper()
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TEMPORAL_") || strings.HasPrefix(kv, "BREACH_") {
			continue
		}
		s.env = append(s.env, kv)
	}
	s.env = append(s.env, "TEMPORAL_ADDRESS="+s.addr, "TEMPORAL_NAMESPACE=default",
		"BREACH_HOME="+s.home, "BREACH_CONFIG="+s.config)
	s.env = append(s.env, o.env...)
	// Everyone the tests act as signs with a key of their own, as a person would.
	for _, who := range []string{dpo, commander, outsider} {
		s.mustBreach("keys", "init", "--as", who)
	}
}

func configYAML() string {
	return fmt.Sprintf(`# Written by the e2e tests, after examples/breach.yaml.
organisation:
  name: E2E Shop GmbH
  timezone: Europe/Berlin
  role: controller
  establishments: [DE]
  dpo_contact: "Dana Schmidt, Data Protection Officer, dpo@e2e-shop.test, +49 30 1234 5678"
  mail_from: privacy@e2e-shop.test
  subject_contact: "privacy@e2e-shop.test or +49 30 1234 5600"
roles:
  dpo: [%s]
  commander: [%s]
# The tests' people keep their keys in BREACH_HOME (startStack makes them).
signing:
  trust_local_keys: true
routes:
  - obligation: gdpr-art33-authority
    method: email
    address: %s
    name: Berlin Commissioner for Data Protection (test address)
inventory: systems.yaml
`, dpo, commander, authorityAddress)
}

func inventoryYAML(systems []system, webhookURL string) string {
	var b strings.Builder
	b.WriteString("defaults:\n  provider: dry-run\n  allow: [192.0.2.10]\n")
	if webhookURL != "" {
		fmt.Fprintf(&b, "providers:\n  webhook:\n    url: %s\n", webhookURL)
	}
	b.WriteString("systems:\n")
	for _, s := range systems {
		fmt.Fprintf(&b, "  - name: %s\n    provider: %s\n    addresses: [%s]\n", s.Name, s.Provider, strings.Join(s.Addresses, ", "))
	}
	return b.String()
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func freeHostPort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// cliResult is one run of the breach binary.
type cliResult struct {
	args           []string
	code           int
	stdout, stderr string
}

func (r cliResult) String() string {
	return fmt.Sprintf("breach %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// breach runs the breach binary with the stack's environment, as a user would.
func (s *stack) breach(args ...string) cliResult {
	s.tb.Helper()
	return s.breachWith(nil, args...)
}

// breachWith runs the breach binary with the stack's environment and env added to it.
func (s *stack) breachWith(env []string, args ...string) cliResult {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, breachBin, args...)
	cmd.Env = append(append([]string(nil), s.env...), env...)
	cmd.Dir = s.dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	res := cliResult{args: args, stdout: out.String(), stderr: errb.String()}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		s.tb.Fatalf("breach %s did not finish within 2 minutes", strings.Join(args, " "))
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		s.tb.Fatalf("run breach %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustBreach runs the breach binary and fails the test unless it exits 0.
func (s *stack) mustBreach(args ...string) cliResult {
	s.tb.Helper()
	r := s.breach(args...)
	if r.code != 0 {
		s.tb.Fatalf("%s", r)
	}
	return r
}

// status runs `breach status ID --json`. An error means the CLI could not answer (the incident
// may not have taken its first task yet); output that is not a Status fails the test.
func (s *stack) status(id string) (workflows.Status, error) {
	s.tb.Helper()
	r := s.breach("status", id, "--json")
	if r.code != 0 {
		return workflows.Status{}, fmt.Errorf("breach status %s --json: exit %d: %s", id, r.code, strings.TrimSpace(r.stderr))
	}
	var st workflows.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		s.tb.Fatalf("breach status %s --json printed something that is not a status: %v\n%s", id, err, r.stdout)
	}
	return st, nil
}

type declared struct {
	IncidentID string `json:"incident_id"`
	WorkflowID string `json:"workflow_id"`
	RunID      string `json:"run_id"`
	Existing   bool   `json:"existing"`
}

func (s *stack) declare(args ...string) declared {
	s.tb.Helper()
	r := s.mustBreach(append([]string{"declare", "--json"}, args...)...)
	var d declared
	if err := json.Unmarshal([]byte(r.stdout), &d); err != nil || d.IncidentID == "" {
		s.tb.Fatalf("declare --json printed no incident: %v\n%s", err, r)
	}
	return d
}

// incidentIDs lists every incident workflow the server knows, in any state.
func (s *stack) incidentIDs() []string {
	s.tb.Helper()
	var ids []string
	var token []byte
	for {
		resp, err := s.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = 'IncidentWorkflow'", NextPageToken: token,
		})
		if err != nil {
			s.tb.Fatalf("list incident workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			ids = append(ids, strings.TrimPrefix(e.GetExecution().GetWorkflowId(), "incident/"))
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	sort.Strings(ids)
	return ids
}

// workerProc is a `breach worker` subprocess.
type workerProc struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (s *stack) startWorker() *workerProc {
	s.tb.Helper()
	return s.startWorkerWith(nil)
}

// startWorkerWith starts `breach worker` with env added to the stack's environment.
func (s *stack) startWorkerWith(env []string) *workerProc {
	s.tb.Helper()
	s.workers++
	return s.startProc(fmt.Sprintf("worker-%d.log", s.workers), env, "worker")
}

// startWorkerIn starts `breach worker` in the working directory dir, with env added to the
// stack's environment; its log is in s.dir like every worker's.
func (s *stack) startWorkerIn(dir string, env []string) *workerProc {
	s.tb.Helper()
	s.workers++
	return s.startProcIn(dir, fmt.Sprintf("worker-%d.log", s.workers), env, "worker")
}

// startProc starts a long-running breach command with env added to the stack's environment,
// its output in s.dir/logName; it is interrupted when the test ends.
func (s *stack) startProc(logName string, env []string, args ...string) *workerProc {
	s.tb.Helper()
	return s.startProcIn(s.dir, logName, env, args...)
}

// startProcIn is startProc in the working directory dir.
func (s *stack) startProcIn(dir, logName string, env []string, args ...string) *workerProc {
	s.tb.Helper()
	logPath := filepath.Join(s.dir, logName)
	f, err := os.Create(logPath)
	if err != nil {
		s.tb.Fatal(err)
	}
	cmd := exec.Command(breachBin, args...)
	cmd.Env, cmd.Dir, cmd.Stdout, cmd.Stderr = append(append([]string(nil), s.env...), env...), dir, f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		s.tb.Fatalf("start breach %s: %v", strings.Join(args, " "), err)
	}
	w := &workerProc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(w.done)
	}()
	s.tb.Cleanup(func() {
		w.stop()
		if s.tb.Failed() {
			s.tb.Logf("%s (tail):\n%s", logPath, tail(logPath, 30))
		}
	})
	return w
}

func (w *workerProc) exited() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

// stop interrupts the worker as Ctrl-C would, and kills it if it does not exit.
func (w *workerProc) stop() {
	if w.exited() {
		return
	}
	_ = w.cmd.Process.Signal(os.Interrupt)
	select {
	case <-w.done:
	case <-time.After(20 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

// kill sends SIGKILL: the worker gets no chance to finish anything.
func (w *workerProc) kill() {
	_ = w.cmd.Process.Kill()
	<-w.done
}

// waitFor polls cond until it holds, failing the test with the last state seen after timeout.
func waitFor(tb testing.TB, timeout time.Duration, what string, cond func() (bool, string)) {
	tb.Helper()
	// Fail before `go test -timeout` panics, so that cleanups stop the processes.
	if d, ok := tb.(interface{ Deadline() (time.Time, bool) }); ok {
		if dl, ok := d.Deadline(); ok {
			timeout = min(timeout, max(time.Until(dl)-30*time.Second, time.Second))
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s; last seen: %s", timeout, what, state)
		}
		time.Sleep(pollInterval)
	}
}

// pilot follows an incident through the CLI and does what the DPO and the incident
// commander would do as each pending step appears.
type pilot struct {
	s      *stack
	id     string
	worker *workerProc
	acted  map[string]bool
	// beforeDecide runs once, when the decision is first pending.
	beforeDecide func(st workflows.Status)
}

func newPilot(s *stack, id string, w *workerProc) *pilot {
	return &pilot{s: s, id: id, worker: w, acted: map[string]bool{}}
}

// until polls the status, acting on pending steps, until done holds.
func (p *pilot) until(timeout time.Duration, what string, done func(workflows.Status) bool) workflows.Status {
	p.s.tb.Helper()
	return p.poll(timeout, what, done, true)
}

// idle polls the status without acting on pending steps.
func (p *pilot) idle(timeout time.Duration, what string, done func(workflows.Status) bool) workflows.Status {
	p.s.tb.Helper()
	return p.poll(timeout, what, done, false)
}

func (p *pilot) poll(timeout time.Duration, what string, done func(workflows.Status) bool, act bool) workflows.Status {
	p.s.tb.Helper()
	var last workflows.Status
	waitFor(p.s.tb, timeout, what, func() (bool, string) {
		if p.worker != nil && p.worker.exited() {
			p.s.tb.Fatalf("breach worker exited unexpectedly:\n%s", tail(p.worker.log, 30))
		}
		st, err := p.s.status(p.id)
		if err != nil {
			return false, err.Error()
		}
		last = st
		if done(st) {
			return true, ""
		}
		if act {
			p.act(st)
		}
		return false, summary(st)
	})
	return last
}

func (p *pilot) act(st workflows.Status) {
	p.s.tb.Helper()
	for _, step := range st.Pending {
		if p.acted[step.Step] {
			continue
		}
		switch {
		case step.Step == workflows.UpdateDecide:
			if p.beforeDecide != nil {
				p.beforeDecide(st)
			}
			p.s.mustBreach("decide", p.id, "--risk", "high", "--as", dpo,
				"--reasoning", "Names and email addresses were downloaded by unknown parties; targeted phishing is likely.",
				"--consequences", "Affected customers may receive convincing phishing emails.",
				"--measures", "The database was isolated and access keys rotated.",
				"--advice", "Be wary of emails that mention your orders and ask for passwords.")
		case strings.HasPrefix(step.Step, workflows.StepReport):
			p.s.mustBreach("approve", p.id, "--step", step.Step, "--as", dpo)
		case strings.HasPrefix(step.Step, "file:"):
			ob := strings.TrimPrefix(step.Step, "file:")
			p.s.mustBreach("file", p.id, "--obligation", ob, "--reference", "E2E-REF-"+ob, "--as", dpo)
		case step.Step == workflows.UpdateClose:
			p.s.mustBreach("close", p.id, "--summary", "Closed by the e2e test.", "--as", commander)
		default:
			p.s.tb.Fatalf("the incident waits for a step the test does not expect: %s (%s); %s", step.Step, step.Description, summary(st))
		}
		p.acted[step.Step] = true
	}
}

func summary(st workflows.Status) string {
	var steps []string
	for _, p := range st.Pending {
		steps = append(steps, p.Step)
	}
	s := fmt.Sprintf("phase %q, pending [%s], alerts %s %d/%d", st.Phase, strings.Join(steps, " "), st.Alerts.State, st.Alerts.Sent, st.Alerts.Total)
	if st.ScopeError != "" {
		s += ", scope error: " + st.ScopeError
	}
	for _, o := range st.Obligations {
		s += fmt.Sprintf(", %s %s", o.ID, o.State)
	}
	if n := len(st.Timeline); n > 0 {
		s += ", last event: " + st.Timeline[n-1].Text
	}
	return s
}

// subjectRow is one row of a subjects CSV the test writes.
type subjectRow struct {
	ID, Email, Name, Country, Categories string
}

// writeSubjects writes a CSV export as a shop would: UTF-8 with a BOM, CRLF line ends, quoted
// fields where needed.
func writeSubjects(tb testing.TB, path string, rows []subjectRow) {
	tb.Helper()
	var b bytes.Buffer
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write([]string{"id", "email", "name", "country", "data_categories"})
	for _, r := range rows {
		_ = w.Write([]string{r.ID, r.Email, r.Name, r.Country, r.Categories})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// notices reads every .eml in the incident's notices outbox and counts the notices per
// recipient address (lowercased).
func notices(tb testing.TB, home, incidentID string) map[string]int {
	tb.Helper()
	dir := filepath.Join(home, "outbox", incidentID, "notices")
	paths, err := filepath.Glob(filepath.Join(dir, "*.eml"))
	if err != nil {
		tb.Fatal(err)
	}
	got := map[string]int{}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			tb.Fatal(err)
		}
		msg, err := mail.ReadMessage(f)
		if err != nil {
			f.Close()
			tb.Fatalf("%s is not an RFC 5322 message: %v", p, err)
		}
		f.Close()
		to, err := mail.ParseAddress(msg.Header.Get("To"))
		if err != nil {
			tb.Fatalf("%s: To %q: %v", p, msg.Header.Get("To"), err)
		}
		if h := msg.Header.Get("X-Breach-Incident"); h != incidentID {
			tb.Fatalf("%s: X-Breach-Incident is %q, want %s", p, h, incidentID)
		}
		got[strings.ToLower(to.Address)]++
	}
	return got
}

// checkNotices asserts exactly one notice per expected address, and nothing else.
func checkNotices(tb testing.TB, got map[string]int, want map[string]bool) {
	tb.Helper()
	var twice, missing, extra []string
	for a, n := range got {
		if n > 1 {
			twice = append(twice, fmt.Sprintf("%s x%d", a, n))
		}
		if !want[a] {
			extra = append(extra, a)
		}
	}
	for a := range want {
		if got[a] == 0 {
			missing = append(missing, a)
		}
	}
	sort.Strings(twice)
	sort.Strings(missing)
	sort.Strings(extra)
	if len(twice)+len(missing)+len(extra) > 0 {
		tb.Fatalf("notices in the outbox: %d addresses, want %d; notified more than once: %s; not notified: %s; notified but not expected: %s",
			len(got), len(want), firstFew(twice), firstFew(missing), firstFew(extra))
	}
}

func firstFew(s []string) string {
	if len(s) > 10 {
		return fmt.Sprintf("%s … (%d in all)", strings.Join(s[:10], ", "), len(s))
	}
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}

// homeCodec is the payload codec of a stack's BREACH_HOME as the breach processes find it with no
// key configured: the local key file, read (or created, by whoever comes first) when first needed.
type homeCodec struct {
	home  string
	once  sync.Once
	codec *codec.Codec
	err   error
}

func (h *homeCodec) load() (*codec.Codec, error) {
	h.once.Do(func() {
		keys, err := codec.Load(codec.Source{Home: h.home, CreateLocal: true})
		if err != nil {
			h.err = fmt.Errorf("the test's payload codec: %w", err)
			return
		}
		h.codec = codec.New(keys)
	})
	return h.codec, h.err
}

func (h *homeCodec) Encode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	c, err := h.load()
	if err != nil {
		return nil, err
	}
	return c.Encode(ps)
}

func (h *homeCodec) Decode(ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
	c, err := h.load()
	if err != nil {
		return nil, err
	}
	return c.Decode(ps)
}

// decodeEvent decrypts every payload of a history event in place (inputs, results, memos,
// failures' encoded messages), so that the tests can read histories as the worker does.
func (s *stack) decodeEvent(ev *historypb.HistoryEvent) { decoder(s.tb, s.codec)(ev) }

// decoder decrypts the payloads of history events with c.
func decoder(tb testing.TB, c converter.PayloadCodec) func(*historypb.HistoryEvent) {
	return func(ev *historypb.HistoryEvent) {
		tb.Helper()
		err := proxy.VisitPayloads(context.Background(), ev, proxy.VisitPayloadsOptions{
			SkipSearchAttributes: true,
			Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
				return c.Decode(ps)
			},
		})
		if err != nil {
			tb.Fatalf("decrypt history event %d (%s): %v", ev.GetEventId(), ev.GetEventType(), err)
		}
	}
}

// failureText is a decoded event's failure as the SDK reads it: its message, decrypted.
func failureText(ev *historypb.HistoryEvent) string {
	f := ev.GetWorkflowTaskFailedEventAttributes().GetFailure()
	if f == nil {
		return ""
	}
	return temporal.GetDefaultFailureConverter().FailureToError(f).Error()
}

// roomLog is the console's incident log of an incident.
func (s *stack) roomLog(id string) string {
	s.tb.Helper()
	p, err := console.LogPath(s.home, id)
	if err != nil {
		s.tb.Fatal(err)
	}
	return p
}

// evidence is the containment evidence of an incident, as the workers keep it in the store.
func (s *stack) evidence(id string) []incident.Evidence {
	s.tb.Helper()
	st, err := store.Local(s.home)
	if err != nil {
		s.tb.Fatal(err)
	}
	defer st.Close()
	evs, err := records.Evidence(context.Background(), st, id)
	if err != nil {
		s.tb.Fatal(err)
	}
	return evs
}

// subjectKey is the ledger's pseudonym of the person with address addr in incident id: under
// the key the workers made in BREACH_HOME.
func (s *stack) subjectKey(id, addr string) string {
	s.tb.Helper()
	k, err := pseudonym.Load(func(string) string { return "" }, s.home)
	if err != nil {
		s.tb.Fatal(err)
	}
	// As the ledger names a person: the installation key's scheme, over the incident and the
	// normalised address.
	derive, err := k.For(k.Scheme())
	if err != nil {
		s.tb.Fatal(err)
	}
	return derive(id, bmail.Normalize(addr))
}
