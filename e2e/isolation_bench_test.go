package e2e

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/codec"
	"github.com/breachops/breach/internal/console"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/devserver"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/netnstest"
	"github.com/breachops/breach/internal/firewall/nftables"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/worker"
	"github.com/breachops/breach/workflows"
)

// Incidents measured by BenchmarkIsolationInForce, after one warm-up incident that is not
// counted.
const isoBenchIncidents = 30

const (
	isoBenchPort      = "8080"
	isoBenchCommander = "bench-ic"
	// isoBenchProbeTimeout is how long one probe waits for the victim to answer. Connections
	// between namespaces of one host are accepted within a millisecond, so a probe that gets no
	// answer in this time met the isolation; a second, longer probe confirms it.
	isoBenchProbeTimeout   = 150 * time.Millisecond
	isoBenchConfirmTimeout = time.Second
)

// BenchmarkIsolationInForce measures declare -> isolation in force: from the call that starts
// the incident workflow on a real dev server until a TCP connection from a peer to the affected
// system fails, the isolation applied by the nftables provider at the router of a network
// namespace topology the benchmark builds. The worker runs in this process. Each incident's
// system is released (the release Update) and reachable again before the next is declared.
//
// It prints the nearest-rank p50 and p99 of 30 incidents after one warm-up (with 30 samples the
// p99 is the slowest); it asserts no time. Incidents slower than isoBenchSlow are logged with
// the timings of their steps from the workflow histories.
func BenchmarkIsolationInForce(b *testing.B) {
	top := isoBenchNamespaces(b)
	dir := b.TempDir()
	inv := fmt.Sprintf(`defaults:
  provider: nftables
providers:
  nftables: {netns: %s}
systems:
  - name: bench-db
    addresses: [%s]
`, top.router, top.victimAddr)
	invPath := filepath.Join(dir, "systems.yaml")
	if err := os.WriteFile(invPath, []byte(inv), 0o644); err != nil {
		b.Fatal(err)
	}
	inventory, err := firewall.LoadInventory(invPath)
	if err != nil {
		b.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	store, err := datasets.Open(filepath.Join(home, "datasets"), 0)
	if err != nil {
		b.Fatal(err)
	}
	ds, err := store.Add(context.Background(), "subjects.csv", strings.NewReader("id,email,name,country,data_categories\nB1,b1@example.net,B One,DE,contact\n"), true)
	if err != nil {
		b.Fatal(err)
	}
	subjectsCSV := ds.Ref

	c := isoBenchDevServer(b, dir, isoBenchQuietLogger{})
	acts := &activities.Activities{
		Chat:      &console.Chat{Dir: home, Out: io.Discard},
		Mail:      mail.Outbox{Dir: filepath.Join(home, "outbox")},
		Firewalls: firewall.NewRegistry(inventory, firewall.Options{DryRunPath: filepath.Join(home, "dry-run.jsonl")}, nftables.Factory()),
		Datasets:  activities.StoreDatasets{Store: store},
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

	target := net.JoinHostPort(top.victimAddr, isoBenchPort)
	ctx := context.Background()
	var samples []time.Duration
	b.ResetTimer()
	for i := 0; i <= isoBenchIncidents; i++ {
		if err := netnstest.ProbeTCP(ctx, top.peer, target, isoBenchConfirmTimeout); err != nil {
			b.Fatalf("incident %d: before declaring, the peer cannot reach %s: %v", i, target, err)
		}
		d := isoBenchDeclaration(i, subjectsCSV)
		start := time.Now()
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID: incident.IncidentWorkflowID(d.IncidentID), TaskQueue: workflows.TaskQueue,
		}, workflows.IncidentWorkflow, d)
		if err != nil {
			b.Fatalf("declare %s: %v", d.IncidentID, err)
		}
		inForce := isoBenchAwaitIsolation(b, top.peer, target, start)
		if i > 0 {
			samples = append(samples, inForce.Sub(start))
		}
		isoBenchRelease(b, c, d.IncidentID, top.peer, target)
		if took := inForce.Sub(start); took > isoBenchSlow {
			b.Logf("%s: isolation in force after %s; %s", d.IncidentID, took.Round(time.Millisecond), isoBenchTrace(c, d.IncidentID, start))
		}
	}
	b.StopTimer()

	slices.Sort(samples)
	p50, p99 := isoBenchPercentile(samples, 50), isoBenchPercentile(samples, 99)
	b.ReportMetric(float64(p50)/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
	fmt.Printf("declare->isolation-in-force p50=%s p99=%s n=%d (min %s, max %s)\n",
		p50.Round(100*time.Microsecond), p99.Round(100*time.Microsecond), len(samples),
		samples[0].Round(100*time.Microsecond), samples[len(samples)-1].Round(100*time.Microsecond))
}

// isoBenchSlow is the time beyond which an incident's path to isolation is logged.
const isoBenchSlow = 500 * time.Millisecond

// isoBenchTrace says when, after start, the steps to isolation happened according to the
// histories of the incident and its containment.
func isoBenchTrace(c client.Client, incidentID string, start time.Time) string {
	ctx := context.Background()
	var steps []string
	for _, wid := range []string{incident.IncidentWorkflowID(incidentID), incident.ContainmentChildID(incidentID, 1)} {
		it := c.GetWorkflowHistory(ctx, wid, "", false, 0)
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				return err.Error()
			}
			name := e.GetEventType().String()
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				name += " " + a.GetActivityType().GetName()
			}
			if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
				name += fmt.Sprintf(" attempt %d", a.GetAttempt())
			}
			if a := e.GetActivityTaskFailedEventAttributes(); a != nil {
				name += ": " + a.GetFailure().GetMessage()
			}
			steps = append(steps, fmt.Sprintf("%s %s", e.GetEventTime().AsTime().Sub(start).Round(time.Millisecond), name))
			// The incident's part ends when its containment starts; the containment's once the
			// isolation is applied.
			if strings.HasPrefix(name, "ChildWorkflowExecutionStarted") || strings.Contains(name, "VerifyIsolation") {
				break
			}
		}
	}
	return strings.Join(steps, "; ")
}

// isoBenchAwaitIsolation probes back to back until a connection fails and a second, longer
// probe confirms it; it returns when the failed probe started.
func isoBenchAwaitIsolation(b *testing.B, peerNS, target string, start time.Time) time.Time {
	b.Helper()
	ctx := context.Background()
	for time.Since(start) < time.Minute {
		at := time.Now()
		if netnstest.ProbeTCP(ctx, peerNS, target, isoBenchProbeTimeout) == nil {
			continue
		}
		if netnstest.ProbeTCP(ctx, peerNS, target, isoBenchConfirmTimeout) != nil {
			return at
		}
	}
	b.Fatalf("the peer still reaches %s a minute after the declaration", target)
	return time.Time{}
}

// isoBenchRelease waits until the incident reports the system contained, releases it as the
// incident commander, checks the peer reaches it again, and cancels the incident.
func isoBenchRelease(b *testing.B, c client.Client, incidentID, peerNS, target string) {
	b.Helper()
	ctx := context.Background()
	wid := incident.IncidentWorkflowID(incidentID)
	deadline := time.Now().Add(time.Minute)
	for {
		var st incident.Status
		v, err := c.QueryWorkflow(ctx, wid, "", incident.QueryStatus)
		if err == nil {
			err = v.Get(&st)
		}
		if err == nil && len(st.Containment) == 1 && st.Containment[0].State == incident.ContainContained {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: not reported contained a minute after isolation took effect: %+v, %v", incidentID, st.Containment, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: wid, UpdateName: incident.UpdateRelease, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{incident.ReleaseRequest{By: isoBenchCommander, System: "bench-db", Reason: "benchmark"}},
	})
	if err == nil {
		var out string
		err = h.Get(ctx, &out)
	}
	if err != nil {
		b.Fatalf("release bench-db of %s: %v", incidentID, err)
	}
	if err := netnstest.ProbeTCP(ctx, peerNS, target, isoBenchConfirmTimeout); err != nil {
		b.Fatalf("%s: the peer cannot reach %s after the release: %v", incidentID, target, err)
	}
	if err := c.CancelWorkflow(ctx, wid, ""); err != nil {
		b.Fatalf("cancel %s: %v", incidentID, err)
	}
	if err := c.GetWorkflow(ctx, wid, "").Get(ctx, nil); !temporal.IsCanceledError(err) {
		b.Fatalf("%s after cancellation: %v; want it cancelled", incidentID, err)
	}
}

func isoBenchDeclaration(i int, subjectsCSV string) incident.Declaration {
	now := time.Now().UTC()
	return incident.Declaration{
		IncidentID: fmt.Sprintf("INC-%s-B%03d", now.Format("20060102"), i),
		Title:      "Benchmark: database reachable from the internet", Systems: []string{"bench-db"},
		AwareAt: now, AwareZone: "UTC", DeclaredBy: isoBenchCommander, Source: "cli",
		Subjects: incident.DatasetRef{URI: subjectsCSV},
		Roles:    incident.Roles{DPO: []string{"bench-dpo"}, Commander: []string{isoBenchCommander}},
		Organisation: incident.Organisation{Name: "Bench Shop", Timezone: "UTC", Role: "controller",
			Establishments: []string{"DE"}, DPOContact: "dpo@bench.test", MailFrom: "privacy@bench.test"},
	}
}

// isoBenchPercentile is the nearest-rank percentile of sorted samples.
func isoBenchPercentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

// isoBenchDevServer starts a dev server with the settings of the embedded one.
func isoBenchDevServer(b *testing.B, dir string, logger log.Logger) client.Client {
	b.Helper()
	bin := os.Getenv("BREACH_TEMPORAL_BIN")
	if bin == "" {
		bin = filepath.Join("..", "bin", "temporal")
	}
	if _, err := os.Stat(bin); err != nil {
		b.Fatalf("the Temporal CLI is not at %s (%v): `make bin/.temporal-v1.5.1` builds it, or set BREACH_TEMPORAL_BIN", bin, err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	logPath := filepath.Join(dir, "temporal.log")
	logf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	// Payloads encrypted as the product's clients and workers do.
	keys, err := codec.Load(codec.Source{Home: dir, CreateLocal: true})
	if err != nil {
		b.Fatal(err)
	}
	dc := codec.NewDataConverter(keys)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	opts := &client.Options{HostPort: addr, Namespace: "default", Logger: logger,
		DataConverter: dc, FailureConverter: codec.NewFailureConverter(dc)}
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
		b.Fatalf("start the Temporal dev server (%s) at %s: %v", bin, addr, err)
	}
	b.Cleanup(func() {
		dev.Client().Close()
		if err := dev.Stop(); err != nil {
			b.Logf("dev server stop: %v", err)
		}
		logf.Close()
	})
	return dev.Client()
}

type isoBenchQuietLogger struct{}

func (isoBenchQuietLogger) Debug(string, ...any) {}
func (isoBenchQuietLogger) Info(string, ...any)  {}
func (isoBenchQuietLogger) Warn(string, ...any)  {}
func (isoBenchQuietLogger) Error(string, ...any) {}

// isoBenchTopology is victim --- router --- peer in network namespaces of their own, with
// documentation addresses and no route out:
//
//	victim 192.0.2.2 (listens on 8080) --- router (nftables) --- peer 198.51.100.2
type isoBenchTopology struct {
	router, victim, peer string // namespace paths
	victimAddr           string
}

func isoBenchNamespaces(b *testing.B) *isoBenchTopology {
	b.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		b.Fatalf("the benchmark sets up network namespaces with ip (iproute2): %v", err)
	}
	ip := func(args ...string) {
		b.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			b.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	prefix := fmt.Sprintf("bib%d-", os.Getpid())
	ns := func(role string) string {
		name := prefix + role
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			b.Fatalf("the kernel refused a network namespace (ip netns add %s: %v: %s); the benchmark needs root and netns support",
				name, err, strings.TrimSpace(string(out)))
		}
		b.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				b.Errorf("clean up namespace %s: %v: %s", name, err, out)
			}
		})
		ip("-n", name, "link", "set", "lo", "up")
		return name
	}
	r, v, p := ns("r"), ns("v"), ns("p")
	for _, l := range []struct{ dev, other, raddr, oaddr, gw string }{
		{"tov", v, "192.0.2.1/24", "192.0.2.2/24", "192.0.2.1"},
		{"top", p, "198.51.100.1/24", "198.51.100.2/24", "198.51.100.1"},
	} {
		ip("link", "add", l.dev, "netns", r, "type", "veth", "peer", "name", "eth0", "netns", l.other)
		ip("-n", r, "link", "set", l.dev, "up")
		ip("-n", l.other, "link", "set", "eth0", "up")
		ip("-n", r, "addr", "add", l.raddr, "dev", l.dev)
		ip("-n", l.other, "addr", "add", l.oaddr, "dev", "eth0")
		ip("-n", l.other, "route", "add", "default", "via", l.gw)
	}
	ip("netns", "exec", r, "sysctl", "-qw", "net.ipv4.ip_forward=1")
	path := func(name string) string { return filepath.Join("/run/netns", name) }
	top := &isoBenchTopology{router: path(r), victim: path(v), peer: path(p), victimAddr: "192.0.2.2"}

	l, err := netnstest.ListenTCP(top.victim, ":"+isoBenchPort)
	if err != nil {
		b.Fatalf("listen in the victim namespace: %v", err)
	}
	b.Cleanup(func() { l.Close() })
	go func() {
		for {
			conn, err := l.Accept()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err == nil {
				conn.Close()
			}
		}
	}()
	return top
}
