package e2e

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgrid"
	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/internal/subjects"
)

// BenchmarkNotify sends the customer notice to 1,000,000 subjects through the whole plan (a
// real dev server, `breach worker` as its own process, SendGrid at a local server) and then
// posts the same batches to a fresh local server in a bare loop: one request after another,
// read from the same CSV, no workflow, no ledger. It prints both wall times, their ratio (the
// target is 1.25 or less), the requests each made, and the worker's peak RSS (VmHWM; the
// target is under 256 MiB). It asserts no time. BREACH_BENCH_SUBJECTS changes the size;
// BREACH_BENCH_POSTGRES (a postgres:// DSN) puts the ledger in a fresh schema of that database
// instead of the default SQLite file.
//
//	make bench-notify
//	go test -run XXX -bench BenchmarkNotify -benchtime 1x -timeout 60m ./e2e
func BenchmarkNotify(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("BREACH_BENCH_SUBJECTS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("BREACH_BENCH_SUBJECTS=%q: want a positive number", v)
		}
	}
	csvPath := filepath.Join(b.TempDir(), "subjects.csv")
	writeBenchSubjects(b, csvPath, n)
	for range b.N {
		flow := benchWorkflow(b, csvPath, n)
		bare := benchBareLoop(b, csvPath, flow.batch)
		ratio := flow.wall.Seconds() / bare.wall.Seconds()
		fmt.Printf("\nnotify %d subjects, ledger on %s\n", n, flow.ledger)
		fmt.Printf("  full workflow: %8.2fs  %5d Mail Send requests (%d with notices)  worker peak RSS %.1f MiB (alerts worker %.1f MiB, scope worker %.1f MiB)\n",
			flow.wall.Seconds(), flow.requests, flow.notices, float64(flow.peakRSS)/(1<<20), float64(flow.alertsRSS)/(1<<20), float64(flow.scopeRSS)/(1<<20))
		fmt.Printf("  alerts phases: %s\n", flow.phases)
		fmt.Printf("  bare loop:     %8.2fs  %5d Mail Send requests\n", bare.wall.Seconds(), bare.requests)
		fmt.Printf("  ratio workflow/bare: %.3f (target <= 1.25); worker VmHWM %d kB (target < 262144 kB)\n\n", ratio, flow.peakRSS>>10)
		b.ReportMetric(flow.wall.Seconds(), "workflow-s")
		b.ReportMetric(bare.wall.Seconds(), "bare-s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(flow.notices), "requests")
		b.ReportMetric(float64(flow.peakRSS)/(1<<20), "worker-peak-MiB")
		b.ReportMetric(float64(flow.alertsRSS)/(1<<20), "alerts-worker-peak-MiB")
	}
}

type benchRun struct {
	ledger            string
	phases            string
	wall              time.Duration
	requests, notices int64
	peakRSS           int64
	// alertsRSS and scopeRSS are the peaks of the worker that sent the notices and of the
	// one that ran the scope phase.
	alertsRSS, scopeRSS int64
	// batch is the incident-wide part of the first notice batch, for the bare loop.
	batch sendgrid.Batch
}

// writeBenchSubjects writes n distinct, valid subjects across EEA countries, streamed.
func writeBenchSubjects(b *testing.B, path string, n int) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	countries := []string{"DE", "FR", "AT", "NL", "IT", "ES", "IE", "BE"}
	w.WriteString("id,email,name,country,data_categories\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(w, "S%07d,subject%07d@example.net,Subject %d,%s,contact;order-history\n", i, i, i, countries[i%len(countries)])
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

func benchWorkflow(b *testing.B, csvPath string, n int) benchRun {
	b.Helper()
	sg := startSendGrid(b, sendgridtest.Options{}, false)
	env, ledgerName := sg.env("0s"), "SQLite"
	if dsn := os.Getenv("BREACH_BENCH_POSTGRES"); dsn != "" {
		env, ledgerName = append(env, "BREACH_LEDGER_DSN="+benchPostgresSchema(b, dsn), "BREACH_PSEUDONYM_KEY="+strings.Repeat("5e", 32)), "PostgreSQL"
	}
	s := startStack(b, stackOptions{env: env})
	w := s.startWorker()
	id := s.declare("--title", "Bench: customer table exposed", "--system", "shop-db", "--subjects", csvPath, "--as", commander).IncidentID
	p := newPilot(s, id, w)
	// The scope phase keeps a set of every subject to find duplicates; the alerts must not
	// grow with the dataset. A fresh worker takes over before the decision, so that the two
	// phases' peaks are measured apart.
	var scopePeak int64
	p.beforeDecide = func(incident.Status) {
		var err error
		if scopePeak, err = vmHWM(w.cmd.Process.Pid); err != nil {
			b.Fatalf("read the worker's peak RSS: %v", err)
		}
		w.stop()
		w = s.startWorker()
		p.worker = w
	}
	final := p.until(45*time.Minute, "the incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	peak, err := vmHWM(w.cmd.Process.Pid)
	if err != nil {
		b.Fatalf("read the worker's peak RSS: %v", err)
	}
	if final.Alerts.Sent != n {
		b.Fatalf("alerts: %d sent of %d", final.Alerts.Sent, n)
	}
	if st := sg.Stats(); st.Duplicated != 0 || st.Delivered != n+1 {
		b.Fatalf("local SendGrid: %d delivered, %d duplicated; want %d and the authority's report", st.Delivered, st.Duplicated, n)
	}
	// The alerts' wall time: from the first run's start to the last run's close.
	var first, last time.Time
	resp, err := s.client.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: "WorkflowType = 'AlertsWorkflow'"})
	if err != nil {
		b.Fatal(err)
	}
	var phases []string
	for _, e := range resp.GetExecutions() {
		if st := e.GetStartTime().AsTime(); first.IsZero() || st.Before(first) {
			first = st
		}
		if ct := e.GetCloseTime().AsTime(); ct.After(last) {
			last = ct
		}
		phases = append(phases, alertsPhases(b, s, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId()))
	}
	run := benchRun{ledger: ledgerName, phases: strings.Join(phases, "; "), wall: last.Sub(first), requests: sg.mailSend.Load(),
		notices: sg.notices.Load(), peakRSS: max(peak, scopePeak), alertsRSS: peak, scopeRSS: scopePeak}
	sg.mu.Lock()
	body := sg.firstBody
	sg.mu.Unlock()
	var m struct {
		From       struct{ Email, Name string } `json:"from"`
		Subject    string                       `json:"subject"`
		Content    []struct{ Type, Value string }
		Categories []string `json:"categories"`
	}
	if err := json.Unmarshal(body, &m); err != nil || len(m.Content) == 0 {
		b.Fatalf("the first notice request: %v", err)
	}
	run.batch = sendgrid.Batch{IncidentID: id, From: m.From.Email, FromName: m.From.Name, Subject: m.Subject,
		Text: m.Content[0].Value, Categories: m.Categories[1:]}
	return run
}

// benchBareLoop posts the same batches as the workflow (the same rows, blocks of 1,000, one
// batch per notice group of a block, the same text and substitutions) to a fresh local server,
// one after another. The bench's people name no language: each country's people are a group
// (their language and time zone are their country's).
func benchBareLoop(b *testing.B, csvPath string, tmpl sendgrid.Batch) benchRun {
	b.Helper()
	sg := startSendGrid(b, sendgridtest.Options{}, false)
	client, err := sendgrid.New(sendgrid.Config{APIKey: nfyAPIKey, Host: sg.URL})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	f, err := os.Open(csvPath)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	rd, err := subjects.NewReader(f, nil)
	if err != nil {
		b.Fatal(err)
	}
	send := func(i int, rs []sendgrid.Recipient) {
		bt := tmpl
		bt.Key = fmt.Sprintf("%s/bare/%07d", tmpl.IncidentID, i)
		bt.Recipients = rs
		if _, err := client.SendBatch(ctx, bt); err != nil {
			b.Fatalf("bare loop, batch %d: %v", i, err)
		}
	}
	groups := map[string][]sendgrid.Recipient{}
	batches := 0
	flush := func() {
		keys := make([]string, 0, len(groups))
		for k := range groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			send(batches, groups[k])
			batches++
		}
		clear(groups)
	}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if row.Mailable() && mail.ValidAddress(row.Email) {
			groups[row.Jurisdiction] = append(groups[row.Jurisdiction], sendgrid.Recipient{Email: row.Email, Substitutions: map[string]string{
				activities.TagName: row.Name, activities.TagData: strings.Join(row.Categories, ", ")}})
		}
		if row.Index%activities.NoticeBlockRows == 0 {
			flush()
		}
	}
	flush()
	wall := time.Since(start)
	return benchRun{wall: wall, requests: sg.mailSend.Load(), notices: int64(batches)}
}

// vmHWM reads a process's peak resident set size from /proc/<pid>/status, in bytes.
func vmHWM(pid int) (int64, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmHWM line")
}

// benchPostgresSchema creates a schema of its own in the database at dsn, dropped when the
// benchmark ends, and returns a DSN that uses it.
func benchPostgresSchema(b *testing.B, dsn string) string {
	b.Helper()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		b.Fatal(err)
	}
	schema := fmt.Sprintf("bench_notify_%d", time.Now().UnixNano())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		b.Fatalf("create schema in %s: %v", dsn, err)
	}
	b.Cleanup(func() {
		if _, err := db.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			b.Logf("drop schema %s: %v", schema, err)
		}
		db.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + "search_path=" + schema
}

// alertsPhases tells, from an alerts run's history, how long planning, sending (first range
// scheduled to last range completed) and the final account took.
func alertsPhases(b *testing.B, s *stack, id, runID string) string {
	b.Helper()
	type span struct{ from, to time.Time }
	spans := map[string]*span{}
	types := map[int64]string{}
	var start, end time.Time
	it := s.client.GetWorkflowHistory(context.Background(), id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			b.Fatal(err)
		}
		at := ev.GetEventTime().AsTime()
		if start.IsZero() {
			start = at
		}
		end = at
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			name := a.GetActivityType().GetName()
			types[ev.GetEventId()] = name
			if spans[name] == nil {
				spans[name] = &span{from: at}
			}
		}
		if a := ev.GetActivityTaskCompletedEventAttributes(); a != nil {
			if sp := spans[types[a.GetScheduledEventId()]]; sp != nil {
				sp.to = at
			}
		}
	}
	out := fmt.Sprintf("run %s: %.2fs", runID[len(runID)-4:], end.Sub(start).Seconds())
	for _, name := range []string{"PlanNotices", "SendNotices", "FinishNotices"} {
		if sp := spans[name]; sp != nil {
			out += fmt.Sprintf(", %s %.2fs", name, sp.to.Sub(sp.from).Seconds())
		}
	}
	return out
}
