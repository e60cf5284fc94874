package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/webhook/webhooktest"
	"github.com/breachops/breach/workflows"
)

// incidentsPerRound is how many incidents are declared back to back in one round.
const incidentsPerRound = 50

// BenchmarkDeclareToIsolation declares 50 incidents on a dev server with one `breach worker`
// and measures, per incident, the time from the start call to the arrival of its first
// isolation request at the firewall: a signed-webhook receiver in this process. back-to-back
// declares the 50 without waiting (the figure DESIGN.md's target is about); one-at-a-time waits
// for each isolation before the next declaration, for the latency of a lone incident.
//
//	go test -run XXX -bench BenchmarkDeclareToIsolation -benchtime 1x ./e2e
func BenchmarkDeclareToIsolation(b *testing.B) {
	secret := randomHex(b)
	fw := &isolationReceiver{secret: []byte(secret), first: map[string]time.Time{}}
	srv := httptest.NewServer(fw)
	b.Cleanup(srv.Close)
	s := startStack(b, stackOptions{
		systems: []system{
			{Name: "shop-db", Provider: firewall.ProviderWebhook, Addresses: []string{"198.51.100.21"}},
			{Name: "crm-api", Provider: firewall.ProviderWebhook, Addresses: []string{"198.51.100.40"}},
		},
		webhookURL: srv.URL,
		env:        []string{"BREACH_WEBHOOK_SECRET=" + secret},
	})
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(b, csvPath, []subjectRow{{"C1", "lea.weber@example.net", "Léa Weber", "DE", "contact"}})
	s.mustBreach("datasets", "add", csvPath, "--name", "bench.csv")
	const dataset = "dataset:bench.csv"
	s.startWorker()

	// One incident first, not measured: the worker is polling and warm before the clock runs.
	warm := incident.NewID(time.Now())
	declareAndStart(b, s.client, warm, dataset)
	fw.waitFor(b, []string{warm})

	for _, mode := range []struct {
		name  string
		burst bool
	}{{"back-to-back", true}, {"one-at-a-time", false}} {
		b.Run(mode.name, func(b *testing.B) {
			var lat []time.Duration
			for round := 0; round < b.N; round++ {
				ids := make([]string, incidentsPerRound)
				started := make(map[string]time.Time, incidentsPerRound)
				for i := range ids {
					ids[i] = incident.NewID(time.Now())
					started[ids[i]] = declareAndStart(b, s.client, ids[i], dataset)
					if !mode.burst {
						fw.waitFor(b, ids[i:i+1])
					}
				}
				got := fw.waitFor(b, ids)
				for _, id := range ids {
					lat = append(lat, got[id].Sub(started[id]))
				}
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			p50, p99 := percentile(lat, 50), percentile(lat, 99)
			b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
			fmt.Printf("declare->isolation (%s) p50=%s p99=%s n=%d (min %s, max %s)\n", mode.name,
				p50.Round(time.Millisecond), p99.Round(time.Millisecond), len(lat),
				lat[0].Round(time.Millisecond), lat[len(lat)-1].Round(time.Millisecond))
		})
	}
}

// declareAndStart starts an incident through the Go client as `breach declare` does, and
// returns the instant just before the start call.
func declareAndStart(b *testing.B, c client.Client, id, dataset string) time.Time {
	b.Helper()
	d := incident.Declaration{
		IncidentID: id, Title: "Benchmark incident " + id, Systems: []string{"shop-db", "crm-api"},
		AwareAt: time.Now().UTC().Add(-time.Minute), AwareZone: "UTC", DeclaredBy: commander, Source: "cli",
		Subjects: incident.DatasetRef{URI: dataset},
		Roles:    incident.Roles{DPO: []string{dpo}, Commander: []string{commander}},
		Organisation: incident.Organisation{Name: "E2E Shop GmbH", Timezone: "Europe/Berlin", Role: "controller",
			Establishments: []string{"DE"}, DPOContact: "dpo@e2e-shop.test", MailFrom: "privacy@e2e-shop.test"},
	}
	t0 := time.Now()
	_, err := c.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{
		ID:                       incident.IncidentWorkflowID(id),
		TaskQueue:                workflows.TaskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.IncidentWorkflow, workflows.IncidentInput{Declaration: d})
	if err != nil {
		b.Fatalf("start incident %s: %v", id, err)
	}
	return t0
}

// isolationReceiver is the company's firewall automation as the webhook provider sees it: it
// checks each request's signature, answers isolate and verify, and records when the first
// isolate request of each incident arrived.
type isolationReceiver struct {
	secret []byte

	mu    sync.Mutex
	first map[string]time.Time
	bad   []string
}

func (r *isolationReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	at := time.Now()
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var in webhooktest.Request
	err = webhooktest.Verify(r.secret, req.Header.Get(webhooktest.TimestampHeader), req.Header.Get(webhooktest.SignatureHeader), body, at)
	if err == nil {
		err = json.Unmarshal(body, &in)
	}
	if err == nil && in.Incident == "" {
		err = fmt.Errorf("the %s request for %s names no incident", in.Action, in.System)
	}
	if err != nil {
		r.mu.Lock()
		r.bad = append(r.bad, err.Error())
		r.mu.Unlock()
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch in.Action {
	case "isolate":
		r.mu.Lock()
		if _, seen := r.first[in.Incident]; !seen {
			r.first[in.Incident] = at
		}
		r.mu.Unlock()
		fmt.Fprintf(w, `{"rule_id": %q}`, "quarantine-"+in.Incident+"-"+in.System)
	case "verify":
		fmt.Fprint(w, `{"in_force": true}`)
	default:
		fmt.Fprint(w, `{}`)
	}
}

// waitFor waits until every incident's isolation request has arrived and returns the arrival
// times.
func (r *isolationReceiver) waitFor(b *testing.B, ids []string) map[string]time.Time {
	b.Helper()
	out := map[string]time.Time{}
	waitFor(b, 3*time.Minute, "the isolation requests", func() (bool, string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		if len(r.bad) > 0 {
			b.Fatalf("the firewall receiver refused requests: %v", r.bad)
		}
		missing := 0
		for _, id := range ids {
			if at, ok := r.first[id]; ok {
				out[id] = at
			} else {
				missing++
			}
		}
		return missing == 0, fmt.Sprintf("%d of %d incidents not isolated yet", missing, len(ids))
	})
	return out
}

// percentile is the nearest-rank percentile of sorted durations: with 50 samples p99 is the
// largest.
func percentile(sorted []time.Duration, p float64) time.Duration {
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[max(rank, 1)-1]
}

func randomHex(tb testing.TB) string {
	tb.Helper()
	var k [16]byte
	if _, err := rand.Read(k[:]); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(k[:])
}
