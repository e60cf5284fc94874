package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgrid"
	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/internal/subjects"
	"github.com/breachops/breach/workflows"
)

// BenchmarkNotify sends the customer notice to 1,000,000 subjects through the whole plan (a
// real dev server, `breach worker` as its own process, SendGrid at a local server) and then
// posts the same batches to a fresh local server in a bare loop: one request after another,
// read from the same CSV, no workflow, no ledger. It prints both wall times, their ratio (the
// target is 1.25 or less), the requests each made, and the worker's peak RSS (VmHWM; the
// target is under 256 MiB). It asserts no time. BREACH_BENCH_SUBJECTS changes the size.
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
		fmt.Printf("\nnotify %d subjects\n", n)
		fmt.Printf("  full workflow: %8.2fs  %5d Mail Send requests (%d with notices)  worker peak RSS %.1f MiB\n",
			flow.wall.Seconds(), flow.requests, flow.notices, float64(flow.peakRSS)/(1<<20))
		fmt.Printf("  bare loop:     %8.2fs  %5d Mail Send requests\n", bare.wall.Seconds(), bare.requests)
		fmt.Printf("  ratio workflow/bare: %.3f (target <= 1.25); worker VmHWM %d kB (target < 262144 kB)\n\n", ratio, flow.peakRSS>>10)
		b.ReportMetric(flow.wall.Seconds(), "workflow-s")
		b.ReportMetric(bare.wall.Seconds(), "bare-s")
		b.ReportMetric(ratio, "ratio")
		b.ReportMetric(float64(flow.notices), "requests")
		b.ReportMetric(float64(flow.peakRSS)/(1<<20), "worker-peak-MiB")
	}
}

type benchRun struct {
	wall              time.Duration
	requests, notices int64
	peakRSS           int64
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
	s := startStack(b, stackOptions{env: sg.env("0s")})
	w := s.startWorker()
	id := s.declare("--title", "Bench: customer table exposed", "--system", "shop-db", "--subjects", csvPath, "--as", commander).IncidentID
	final := newPilot(s, id, w).until(45*time.Minute, "the incident to close", func(st workflows.Status) bool {
		return st.Phase == workflows.PhaseClosed
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
	for _, e := range resp.GetExecutions() {
		if st := e.GetStartTime().AsTime(); first.IsZero() || st.Before(first) {
			first = st
		}
		if ct := e.GetCloseTime().AsTime(); ct.After(last) {
			last = ct
		}
	}
	run := benchRun{wall: last.Sub(first), requests: sg.mailSend.Load(), notices: sg.notices.Load(), peakRSS: peak}
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

// benchBareLoop posts the same batches as the workflow (the same rows, blocks of 1,000, the
// same text and substitutions) to a fresh local server, one after another.
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
	var rs []sendgrid.Recipient
	batches := 0
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		if row.Mailable() && mail.ValidAddress(row.Email) {
			rs = append(rs, sendgrid.Recipient{Email: row.Email, Substitutions: map[string]string{
				activities.TagName: row.Name, activities.TagData: strings.Join(row.Categories, ", ")}})
		}
		if row.Index%activities.NoticeBlockRows == 0 && len(rs) > 0 {
			send(batches, rs)
			batches++
			rs = nil
		}
	}
	if len(rs) > 0 {
		send(batches, rs)
		batches++
	}
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
