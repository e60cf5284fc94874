package ingress_test

import (
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/breachops/breach/internal/slack/slackfake"
)

// BenchmarkSlashCommandAck sends 200 signed `/breach declare` commands from 20 concurrent
// clients to the ingress on a real listener, and reports how long each took to be
// acknowledged (the modal then opens in the background against the local Slack). Slack gives
// up after 3 s; the target is a p99 under 300 ms.
//
//	go test -run XXX -bench BenchmarkSlashCommandAck -benchtime 1x ./internal/ingress
func BenchmarkSlashCommandAck(b *testing.B) {
	const clients, perClient = 20, 10
	h := newHarness(b)
	transport := &http.Transport{MaxIdleConnsPerHost: clients}
	defer transport.CloseIdleConnections()
	people := make([]*slackfake.Person, clients)
	for i := range people {
		people[i] = &slackfake.Person{ID: fmt.Sprintf("UBENCH%04d", i), Name: "bench", WS: h.ws, Ingress: h.url, Secret: secret,
			HTTP: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
	}
	var all []time.Duration
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		lat := make([]time.Duration, 0, clients*perClient)
		var mu sync.Mutex
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for _, p := range people {
			wg.Add(1)
			go func(p *slackfake.Person) {
				defer wg.Done()
				for i := 0; i < perClient; i++ {
					body := p.CommandBody("C0GENERAL", "declare Customer DB exposed")
					start := time.Now()
					res, err := p.Send("/slack/commands", body)
					d := time.Since(start)
					if err == nil && res.Status != http.StatusOK {
						err = fmt.Errorf("status %d: %s", res.Status, res.Body)
					}
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}(p)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		b.StopTimer()
		h.srv.Wait()
		if got := len(h.ws.Views()); got < (n+1)*clients*perClient {
			b.Fatalf("%d modals opened, want %d", got, (n+1)*clients*perClient)
		}
		b.StartTimer()
		all = append(all, lat...)
	}
	b.StopTimer()
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	p50, p99 := all[len(all)*50/100], all[len(all)*99/100]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(all[len(all)-1].Microseconds())/1000, "max-ms")
	fmt.Printf("slash command acknowledgement over %d requests from %d clients: p50 %s, p99 %s, max %s\n",
		len(all), clients, p50.Round(10*time.Microsecond), p99.Round(10*time.Microsecond), all[len(all)-1].Round(10*time.Microsecond))
}
