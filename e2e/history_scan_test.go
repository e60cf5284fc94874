package e2e

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/devserver"
	breachslack "github.com/breachops/breach/internal/slack"
)

// demoTitle is the title `breach demo` declares its incident with.
const demoTitle = "Customer database exposed through a misconfigured backup bucket"

// After `breach demo`, exactly as `make demo` runs it (its own embedded dev server, its state in
// BREACH_HOME), the server's database holds no subject's id, address or name from the demo's
// dataset: neither in the payloads as stored (encrypted) nor once decrypted with the demo's key.
func TestNoSubjectDataInHistoryAfterTheDemo(t *testing.T) {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TEMPORAL_") && !strings.HasPrefix(kv, "BREACH_") {
			env = append(env, kv)
		}
	}
	env = append(env, "BREACH_HOME="+home, "TEMPORAL_ADDRESS="+freeHostPort(t), "BREACH_TEMPORAL_BIN="+temporalBin(t))
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, breachBin, "demo")
	cmd.Dir, cmd.Env = moduleRoot, env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("breach demo: %v\n%s", err, out)
	}
	literals := datasetCells(t, filepath.Join(moduleRoot, "examples", "subjects.csv"))
	if found := findPersonalData(string(out), literals); len(found) > 0 {
		t.Errorf("the demo printed personal data: %s", strings.Join(found, ", "))
	}

	// The demo's server has stopped; a dev server on its database shows what it kept.
	c := devServerOn(t, filepath.Join(home, "temporal.db"))
	stored, runs := historyTextOf(t, c, nil)
	decoded, _ := historyTextOf(t, c, decoder(t, &homeCodec{home: home}))
	checkHistoryScan(t, stored, decoded, runs, demoTitle, literals)
}

// An incident declared from Slack with a dataset that has no header row (the first line is a
// customer's record) fails its scope: the error names the line and the missing column, and no
// cell of the file reaches the history (stored or decrypted), the status, Slack, or a log.
func TestNoSubjectDataFromAFailedScope(t *testing.T) {
	w := newSlackWorld(t, slackOrg{establishments: "[DE]"})
	rows := [][]string{
		{"C7001", "greta.hoffmann.7001@example.net", "Greta Hoffmann", "DE", "", "contact;address"},
		{"C7002", "Olaf.Brandt.7002@example.net", "Olaf Brandt", "DE", "", "contact;order-history"},
		{"C7003", "ines.kowalczyk.7003@example.net", "Ines Kowalczyk", "PL", "", "contact"},
	}
	bad := filepath.Join(w.s.dir, "customers-export.csv")
	f, err := os.Create(bad)
	if err != nil {
		t.Fatal(err)
	}
	cw := csv.NewWriter(f)
	if err := cw.WriteAll(rows); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var literals []string
	for _, r := range rows {
		literals = append(literals, r[0], r[1], strings.ToLower(r[1]), r[2])
	}
	w.s.mustBreach("datasets", "add", bad, "--name", "customers-export.csv")
	const title = "Shop export found on a public file share"
	w.declareFromSlack(title, "customers-export.csv")

	ch := w.incidentChannel()
	id := breachslack.FindIncidentID(ch.Purpose)
	if id == "" {
		t.Fatalf("the channel purpose %q names no incident", ch.Purpose)
	}
	var st incident.Status
	w.eventually(2*time.Minute, "the scope to fail and wait for a corrected dataset", func() bool {
		st, err = w.s.status(id)
		return err == nil && st.ScopeError != "" && hasPending(st, incident.UpdateReplaceSubjects)
	})
	if !strings.Contains(st.ScopeError, "line 1") || !strings.Contains(st.ScopeError, "header row") {
		t.Errorf("the scope error does not say the first line is not a header row: %s", st.ScopeError)
	}
	w.mustOK(w.ic.Command(ch.ID, "status"))

	stored, runs := historyTextOf(t, w.s.client, nil)
	decoded, _ := w.s.historyText(t)
	checkHistoryScan(t, stored, decoded, runs, title, literals)
	if !strings.Contains(decoded, "header row") {
		t.Errorf("the decrypted history does not hold the scope error: the scan looks at the wrong thing")
	}
	statusJSON, _ := json.Marshal(st)
	if found := findPersonalData(string(statusJSON), literals); len(found) > 0 {
		t.Errorf("personal data in the status: %s", strings.Join(found, ", "))
	}
	sent := w.ws.Sent()
	if len(sent) < 5 {
		t.Fatalf("only %d requests reached Slack: the scan would prove little", len(sent))
	}
	if found := findPersonalData(strings.Join(sent, "\n"), literals); len(found) > 0 {
		t.Errorf("personal data sent to Slack: %s", strings.Join(found, ", "))
	}
	logs, _ := filepath.Glob(filepath.Join(w.s.dir, "*.log"))
	for _, l := range logs {
		raw, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		if found := findPersonalData(string(raw), literals); len(found) > 0 {
			t.Errorf("personal data in %s: %s", filepath.Base(l), strings.Join(found, ", "))
		}
	}
}

// checkHistoryScan looks for the literals in the history as stored and decrypted; the title must
// be in the decrypted text only, which shows that the scan reads the payloads, decrypted.
func checkHistoryScan(t *testing.T, stored, decoded string, runs int, title string, literals []string) {
	t.Helper()
	if runs < 2 {
		t.Fatalf("only %d workflow runs on the server: the scan would prove little", runs)
	}
	if !strings.Contains(decoded, title) {
		t.Fatalf("the decrypted history does not hold the incident's title: the scan reads the wrong thing")
	}
	if strings.Contains(stored, title) {
		t.Errorf("the incident's title is in the history as stored: payloads are not encrypted")
	}
	for name, text := range map[string]string{"as stored": stored, "decrypted": decoded} {
		if found := findPersonalData(text, literals); len(found) > 0 {
			t.Errorf("personal data in the history %s (%d runs): %s", name, runs, strings.Join(found, ", "))
		}
	}
	if t.Failed() {
		return
	}
	t.Logf("no personal data in %d bytes of history (%d decrypted) over %d workflow runs", len(stored), len(decoded), runs)
}

// datasetCells are the cells of a subjects CSV that identify a person: ids, addresses (as
// written and lower-cased) and names.
func datasetCells(t *testing.T, path string) []string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(raw), "\ufeff")))
	r.FieldsPerRecord = -1 // the demo's dataset has short rows on purpose
	records, err := r.ReadAll()
	if err != nil || len(records) < 2 {
		t.Fatalf("read %s: %v (%d records)", path, err, len(records))
	}
	col := map[string]int{}
	for i, h := range records[0] {
		col[h] = i
	}
	var cells []string
	cell := func(r []string, name string) string {
		if i, ok := col[name]; ok && i < len(r) && len(r[i]) > 2 {
			return r[i]
		}
		return ""
	}
	for _, r := range records[1:] {
		cells = append(cells, cell(r, "id"), cell(r, "email"), strings.ToLower(cell(r, "email")), cell(r, "name"))
	}
	return cells
}

// devServerOn starts the pinned dev server on an existing database and returns a client that
// reads payloads as they are stored.
func devServerOn(t *testing.T, db string) client.Client {
	t.Helper()
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the demo left no Temporal database: %v", err)
	}
	logPath := filepath.Join(t.TempDir(), "temporal.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  temporalBin(t),
		ClientOptions: &client.Options{HostPort: freeHostPort(t), Namespace: "default", Logger: quietLogger{}},
		DBFilename:    db,
		LogLevel:      "error",
		ExtraArgs:     devserver.ServerArgs(),
		Stdout:        logf,
		Stderr:        logf,
	})
	if err != nil {
		logf.Close()
		t.Fatalf("start a dev server on %s: %v\n%s", db, err, tail(logPath, 20))
	}
	c := dev.Client()
	t.Cleanup(func() {
		c.Close()
		_ = dev.Stop()
		logf.Close()
	})
	return c
}
