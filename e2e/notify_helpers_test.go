package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/sendgridtest"
)

// nfyAPIKey is the SendGrid API key the worker and the local SendGrid share.
const nfyAPIKey = "SG.e2e-notify-key"

// nfySendGrid is a local SendGrid (sendgridtest.Start) behind a front that checks every request
// against the official contract and can run a hook before or after the server answers.
type nfySendGrid struct {
	*sendgridtest.Server
	URL string

	contract *sendgridtest.Contract
	mailSend atomic.Int64
	// notices counts the Mail Send requests that carry a batch key: customer notices.
	notices atomic.Int64
	crash   atomic.Pointer[nfyCrashPlan]

	mu         sync.Mutex
	violations []string
	firstBody  []byte
}

// Moments of a Mail Send request at which the worker can be killed.
const (
	// crashLost: before the request reaches SendGrid; it never does.
	crashLost = iota
	// crashAccepted: after SendGrid accepted the request, before the worker hears of it.
	crashAccepted
	// crashAnswered: a moment after the worker got the 202, while it records the outcome
	// or starts the next request.
	crashAnswered
)

// nfyCrashPlan kills the worker at chosen Mail Send requests (by ordinal from 1).
type nfyCrashPlan struct {
	at    map[int64]int
	delay map[int64]time.Duration
	kill  func(n int64, moment int)

	// carried counts kills whose request never completed (its worker had just been killed, or
	// the local server dropped it): each goes to the next request instead, so that every
	// planned kill happens.
	mu      sync.Mutex
	carried int
}

// due reports whether request n carries a kill, and at which moment.
func (p *nfyCrashPlan) due(n int64) (int, bool) {
	if m, ok := p.at[n]; ok {
		return m, true
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.carried > 0 {
		p.carried--
		return crashAnswered, true
	}
	return -1, false
}

// missed hands a kill that could not happen on to a later request.
func (p *nfyCrashPlan) missed() {
	p.mu.Lock()
	p.carried++
	p.mu.Unlock()
}

// startSendGrid starts the local SendGrid; check enables the contract check of every request.
func startSendGrid(tb testing.TB, opts sendgridtest.Options, check bool) *nfySendGrid {
	tb.Helper()
	opts.APIKey = nfyAPIKey
	srv, err := sendgridtest.Start("127.0.0.1:0", opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(srv.Close)
	g := &nfySendGrid{Server: srv}
	if check {
		g.contract = sendgridtest.MustContract()
	}
	front := httptest.NewServer(http.HandlerFunc(g.serve))
	tb.Cleanup(front.Close)
	g.URL = front.URL
	return g
}

func (g *nfySendGrid) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var n int64
	if r.URL.Path == "/v3/mail/send" {
		n = g.mailSend.Add(1)
		if bytes.Contains(body, []byte(`"batch_key"`)) {
			g.notices.Add(1)
		}
		g.mu.Lock()
		if g.firstBody == nil && bytes.Contains(body, []byte(`"batch_key"`)) {
			g.firstBody = body
		}
		g.mu.Unlock()
	}
	if g.contract != nil {
		if err := g.contract.Request(r, body); err != nil {
			g.mu.Lock()
			g.violations = append(g.violations, fmt.Sprintf("%s %s: %v", r.Method, r.URL.Path, err))
			g.mu.Unlock()
		}
	}
	plan := g.crash.Load()
	moment, crash := -1, false
	if n > 0 && plan != nil {
		moment, crash = plan.due(n)
	}
	if crash && moment == crashLost {
		plan.kill(n, moment)
		panic(http.ErrAbortHandler)
	}
	out, err := http.NewRequestWithContext(r.Context(), r.Method, g.Server.URL+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	out.Header = r.Header.Clone()
	resp, err := http.DefaultTransport.RoundTrip(out)
	if err != nil {
		// The local server dropped the connection (an injected fault), or the worker that sent
		// the request is gone: drop ours too, and let a later request carry this one's kill.
		if crash {
			plan.missed()
		}
		panic(http.ErrAbortHandler)
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(resp.Body)
	if crash && moment == crashAccepted {
		plan.kill(n, moment)
		panic(http.ErrAbortHandler)
	}
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(rb)
	if crash && moment == crashAnswered {
		go func() {
			time.Sleep(plan.delay[n])
			plan.kill(n, moment)
		}()
	}
}

// checkContract fails the test if any request broke the contract.
func (g *nfySendGrid) checkContract(tb testing.TB) {
	tb.Helper()
	if g.contract == nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.violations) > 0 {
		tb.Fatalf("%d requests violate the SendGrid contract, the first: %s", len(g.violations), g.violations[0])
	}
}

func (g *nfySendGrid) env(lag string) []string {
	return []string{"SENDGRID_API_KEY=" + nfyAPIKey, "SENDGRID_API_HOST=" + g.URL, "BREACH_EMAIL_ACTIVITY_LAG=" + lag}
}

// personalDataPatterns match anything of the generated datasets that identifies a person:
// addresses (valid or not), names, subject ids.
var personalDataPatterns = []*regexp.Regexp{
	regexp.MustCompile(`(?i)subject\d{6}`),
	regexp.MustCompile(`Subject \d+`),
	regexp.MustCompile(`\bS\d{6}\b`),
	regexp.MustCompile(`(?i)@example\.net`),
}

// findPersonalData returns the first few matches of personalDataPatterns and of the literal
// strings in text.
func findPersonalData(text string, literals []string) []string {
	var found []string
	for _, re := range personalDataPatterns {
		for _, m := range re.FindAllString(text, 3) {
			found = append(found, fmt.Sprintf("%q (pattern %s)", m, re))
		}
	}
	for _, l := range literals {
		if l != "" && strings.Contains(text, l) {
			found = append(found, fmt.Sprintf("%q", l))
		}
	}
	return found
}

// historyText fetches the full history of every workflow the server knows (the incident and
// all its children, every run) and returns every string and byte field in it: payloads are
// decrypted, and JSON, so their content is plain text here.
func (s *stack) historyText(tb testing.TB) (string, int) {
	return historyTextOf(tb, s.client, s.decodeEvent)
}

// historyTextOf is the text of every history on the server c reaches, each event passed
// through decode first when it is not nil; with nil, payloads are as the server stores them.
func historyTextOf(tb testing.TB, c client.Client, decode func(*historypb.HistoryEvent)) (string, int) {
	tb.Helper()
	ctx := context.Background()
	var b strings.Builder
	runs := 0
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{NextPageToken: token})
		if err != nil {
			tb.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			runs++
			it := c.GetWorkflowHistory(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					tb.Fatalf("history of %s: %v", e.GetExecution().GetWorkflowId(), err)
				}
				if decode != nil {
					decode(ev)
				}
				protoText(ev.ProtoReflect(), &b)
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	return b.String(), runs
}

func protoText(m protoreflect.Message, b *strings.Builder) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				protoValue(fd, l.Get(i), b)
			}
		case fd.IsMap():
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				b.WriteString(k.String())
				b.WriteByte('\n')
				protoValue(fd.MapValue(), mv, b)
				return true
			})
		default:
			protoValue(fd, v, b)
		}
		return true
	})
}

func protoValue(fd protoreflect.FieldDescriptor, v protoreflect.Value, b *strings.Builder) {
	switch fd.Kind() {
	case protoreflect.StringKind:
		b.WriteString(v.String())
	case protoreflect.BytesKind:
		b.Write(v.Bytes())
	case protoreflect.MessageKind, protoreflect.GroupKind:
		protoText(v.Message(), b)
		return
	default:
		return
	}
	b.WriteByte('\n')
}

// checkNoPersonalData scans the whole history, the final status and the worker logs.
func checkNoPersonalData(tb testing.TB, s *stack, statusJSON string, literals []string) {
	tb.Helper()
	text, runs := s.historyText(tb)
	if runs < 3 {
		tb.Fatalf("only %d workflow runs on the server: the scan would prove little", runs)
	}
	if !strings.Contains(text, "batch_key") && !strings.Contains(text, "/notice/") {
		tb.Fatalf("the history does not mention a single notice batch: the scan looks at the wrong thing")
	}
	if found := findPersonalData(text, literals); len(found) > 0 {
		tb.Fatalf("personal data in the workflow history (%d runs): %s", runs, strings.Join(found, ", "))
	}
	if found := findPersonalData(statusJSON, literals); len(found) > 0 {
		tb.Fatalf("personal data in the status query: %s", strings.Join(found, ", "))
	}
	logs, _ := filepath.Glob(filepath.Join(s.dir, "worker-*.log"))
	for _, l := range logs {
		raw, err := os.ReadFile(l)
		if err != nil {
			tb.Fatal(err)
		}
		if found := findPersonalData(string(raw), literals); len(found) > 0 {
			tb.Fatalf("personal data in the worker log %s: %s", l, strings.Join(found, ", "))
		}
	}
	tb.Logf("no personal data in %d bytes of history over %d workflow runs, the status, or %d worker logs", len(text), runs, len(logs))
}

// nfyLedger opens the worker's ledger in BREACH_HOME.
func (s *stack) nfyLedger(tb testing.TB) *ledger.Ledger {
	tb.Helper()
	l, err := ledger.Open(context.Background(), filepath.Join(s.home, "ledger.db"))
	if err != nil {
		tb.Fatalf("open the notification ledger: %v", err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

// ledgerOutcomes reads the outcome of every wanted address from the ledger.
func (s *stack) ledgerOutcomes(tb testing.TB, l *ledger.Ledger, id string, want map[string]bool) map[string]ledger.SubjectOutcome {
	tb.Helper()
	out := make(map[string]ledger.SubjectOutcome, len(want))
	for a := range want {
		o, err := l.Subject(context.Background(), id, s.subjectKey(id, a))
		if err != nil {
			tb.Fatalf("ledger: %v", err)
		}
		out[a] = o
	}
	return out
}

// readPossiblyDuplicated reads the subject keys of the list FinishNotices wrote.
func readPossiblyDuplicated(tb testing.TB, path string) map[string]bool {
	tb.Helper()
	out := map[string]bool{}
	if path == "" {
		return out
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("the list of possibly duplicated notices: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if lines[0] != "subject_key,row,line" {
		tb.Fatalf("%s: header %q", path, lines[0])
	}
	for _, l := range lines[1:] {
		out[strings.SplitN(l, ",", 2)[0]] = true
	}
	return out
}
