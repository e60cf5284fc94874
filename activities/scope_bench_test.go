package activities

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
)

// The scope benchmark (make bench-scope) measures the worker's path from a SQL source into the
// scope counts (SnapshotSubjects, then AssessScope of the snapshot) and the same rows from a CSV
// file (AssessScope alone), each in a process of its own, so that its peak RSS is its own. It
// prints figures and asserts no time. BREACH_BENCH_SCOPE_ROWS lists the sizes (default
// 1000000,10000000).

// Environment of a measuring process.
const (
	benchChildEnv = "BREACH_BENCH_SCOPE_CHILD" // pg or csv
	benchDirEnv   = "BREACH_BENCH_SCOPE_DIR"
	benchDSNEnv   = "BREACH_BENCH_SCOPE_DSN"
	benchQueryEnv = "BREACH_BENCH_SCOPE_QUERY"
	benchRefEnv   = "BREACH_BENCH_SCOPE_DATASET"
)

// benchFigures is what a measuring process reports.
type benchFigures struct {
	Rows        int     `json:"rows"`
	Seconds     float64 `json:"seconds"`
	SnapshotSec float64 `json:"snapshot_seconds"`
	ScopeSec    float64 `json:"scope_seconds"`
	PeakRSSKiB  int64   `json:"peak_rss_kib"`
	Dataset     string  `json:"dataset"`
	Subjects    int     `json:"subjects"`
	Duplicates  int     `json:"duplicates"`
}

// benchMessTable fills table with n customers made by PostgreSQL itself (nothing of them passes
// through this process): about 3% without an address, 2% an earlier customer's address in upper
// case, 2% invalid addresses, 1% an earlier customer's id, 0.5% unknown countries, US states,
// unknown data categories.
const benchMessTable = `CREATE TABLE %[1]s AS
SELECT g AS pk,
       CASE WHEN g %% 100 = 7 THEN 'C' || lpad((g / 2)::text, 9, '0') ELSE 'C' || lpad(g::text, 9, '0') END AS customer_id,
       CASE WHEN g %% 33 = 0 THEN NULL
            WHEN g %% 50 = 1 AND g > 1 THEN upper('customer' || (g - 1) || '@example.net')
            WHEN g %% 50 = 2 THEN 'customer' || g || ' at example.net'
            ELSE 'customer' || g || '@example.net' END AS email,
       (ARRAY['Léa','Jürgen','Zoë','Ana','Björn','Ólafur','María José','O''Brien','Anne, Marie','Noël'])[1 + g %% 10] AS first_name,
       (ARRAY['Müller','Weber','Gonçalves','Đorđević','Smith','Dupont','Šarić','Øster','D"Angelo','Fernández'])[1 + (g / 10) %% 10] AS last_name,
       CASE WHEN g %% 200 = 0 THEN 'XX' ELSE (ARRAY['DE','FR','US','GB','IT','NL'])[1 + g %% 6] END AS country,
       CASE WHEN g %% 6 = 2 THEN (ARRAY['CA','NY','TX'])[1 + (g / 6) %% 3] ELSE '' END AS state,
       (ARRAY['contact','contact;address','contact;address;order-history','loyalty-points;contact',''])[1 + g %% 5] AS categories,
       timestamptz '2026-01-01 00:00:00+00' + (g %% 31536000) * interval '1 second' AS created_at
  FROM generate_series(1, %[2]d) AS g;
ALTER TABLE %[1]s ADD PRIMARY KEY (pk);
ANALYZE %[1]s;`

func BenchmarkScope(b *testing.B) {
	sizes := []int{1_000_000, 10_000_000}
	if v := os.Getenv("BREACH_BENCH_SCOPE_ROWS"); v != "" {
		sizes = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n <= 0 {
				b.Fatalf("BREACH_BENCH_SCOPE_ROWS=%q: give row counts separated by commas", v)
			}
			sizes = append(sizes, n)
		}
	}
	pg := sqlsourcetest.NewPostgres(b)
	var lines []string
	for i := 0; i < b.N; i++ {
		for _, n := range sizes {
			table := pg.Table(fmt.Sprintf("customers_%d", n))
			start := time.Now()
			pg.Exec(b, fmt.Sprintf(benchMessTable, table, n))
			b.Logf("%d customers made in PostgreSQL in %s", n, time.Since(start).Round(time.Second))
			dir := b.TempDir()
			query := fmt.Sprintf(sqlsourcetest.PostgresQuery, table)
			fromPG := benchRun(b, "pg", dir, pg.DSN, query, "")
			fromCSV := benchRun(b, "csv", dir, "", "", fromPG.Dataset)
			if fromPG.Subjects != fromCSV.Subjects || fromPG.Duplicates != fromCSV.Duplicates || fromPG.Rows != n || fromCSV.Rows != n {
				b.Fatalf("%d rows: PostgreSQL counts %+v, CSV %+v", n, fromPG, fromCSV)
			}
			size, _ := os.Stat(filepath.Join(dir, "datasets", strings.TrimPrefix(fromPG.Dataset, datasets.Scheme)))
			lines = append(lines,
				fmt.Sprintf("%-10d  %-28s  %9.1f  %10.0f  %8.0f MiB   (snapshot %.1f s, scope %.1f s; %d subjects, %d duplicates; CSV %.0f MiB)",
					n, "PostgreSQL → snapshot → scope", fromPG.Seconds, float64(n)/fromPG.Seconds, float64(fromPG.PeakRSSKiB)/1024,
					fromPG.SnapshotSec, fromPG.ScopeSec, fromPG.Subjects, fromPG.Duplicates, float64(size.Size())/(1<<20)),
				fmt.Sprintf("%-10d  %-28s  %9.1f  %10.0f  %8.0f MiB", n, "CSV file → scope", fromCSV.Seconds, float64(n)/fromCSV.Seconds, float64(fromCSV.PeakRSSKiB)/1024))
			pg.Exec(b, "DROP TABLE "+table)
			os.RemoveAll(dir)
		}
	}
	fmt.Printf("\n%-10s  %-28s  %9s  %10s  %12s\n", "rows", "source", "seconds", "rows/s", "peak RSS")
	for _, l := range lines {
		fmt.Println(l)
	}
	fmt.Println()
}

// benchRun measures one source in a process of its own: this test binary, told by the
// environment to run benchChild.
func benchRun(b *testing.B, mode, dir, dsn, query, dataset string) benchFigures {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchChildEnv+"="+mode, benchDirEnv+"="+dir, benchDSNEnv+"="+dsn, benchQueryEnv+"="+query, benchRefEnv+"="+dataset)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		b.Fatalf("the %s measurement failed: %v\n%s%s", mode, err, out.String(), errb.String())
	}
	var f benchFigures
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "figures: "); ok {
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				b.Fatal(err)
			}
			return f
		}
	}
	b.Fatalf("the %s measurement printed no figures:\n%s%s", mode, out.String(), errb.String())
	return f
}

// benchChild is a measuring process: the scope of a SQL source (snapshot, then scope) or of a
// dataset of the store, as a worker runs them.
func benchChild() int {
	mode, dir := os.Getenv(benchChildEnv), os.Getenv(benchDirEnv)
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "scope bench (%s): %v\n", mode, err)
		return 1
	}
	store, err := datasets.Open(filepath.Join(dir, "datasets"), 16<<30)
	if err != nil {
		return fail(err)
	}
	defer store.Close()
	queryFile := filepath.Join(dir, "query.sql")
	if mode == "pg" {
		if err := os.WriteFile(queryFile, []byte(os.Getenv(benchQueryEnv)), 0o600); err != nil {
			return fail(err)
		}
	}
	a := &Activities{Datasets: StoreDatasets{Store: store}, Snapshots: StoreDatasets{Store: store}, Dir: filepath.Join(dir, "home"),
		Sources: sqlsource.Sources{
			Config: []config.SubjectSource{{Name: "shop", Driver: "postgres", DSNEnv: benchDSNEnv, Query: queryFile,
				Params: []string{"window_from", "window_to"}, Timeout: time.Hour}},
		}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.SetTestTimeout(2 * time.Hour)
	env.RegisterActivity(a)
	var f benchFigures
	start := time.Now()
	ref := incident.DatasetRef{URI: os.Getenv(benchRefEnv)}
	if mode == "pg" {
		v, err := env.ExecuteActivity(a.SnapshotSubjects, incident.SnapshotInput{IncidentID: testIncident, Dataset: sqlRef("shop")})
		if err != nil {
			return fail(err)
		}
		var snap incident.SnapshotResult
		if err := v.Get(&snap); err != nil {
			return fail(err)
		}
		ref = snap.Dataset
		f.SnapshotSec = time.Since(start).Seconds()
	}
	scopeStart := time.Now()
	v, err := env.ExecuteActivity(a.AssessScope, incident.ScopeInput{IncidentID: testIncident, Dataset: ref})
	if err != nil {
		return fail(err)
	}
	var res incident.ScopeResult
	if err := v.Get(&res); err != nil {
		return fail(err)
	}
	f.ScopeSec = time.Since(scopeStart).Seconds()
	f.Seconds = time.Since(start).Seconds()
	f.Rows, f.Subjects, f.Duplicates, f.Dataset = res.Summary.Rows, res.Summary.Subjects, res.Summary.Duplicates, res.Dataset.URI
	f.PeakRSSKiB = peakRSS()
	out, _ := json.Marshal(f)
	fmt.Printf("figures: %s\n", out)
	return 0
}

// peakRSS is the process's peak resident set size (VmHWM), in KiB.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return -1
}
