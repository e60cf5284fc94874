package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ledger"
	"github.com/breachops/breach/internal/sendgridtest"
)

// crashSubjects is the size of the crash-safety dataset.
const crashSubjects = 100000

// TestNotifyCrashSafetyWithEmailActivity: 100,000 subjects through SendGrid; the worker is
// killed with SIGKILL five times during the send and restarted, and SendGrid drops some
// connections after accepting. Email Activity reconciles every unknown outcome: every valid
// subject is delivered exactly once, and the ledger agrees.
func TestNotifyCrashSafetyWithEmailActivity(t *testing.T) {
	notifyCrash(t, true)
}

// TestNotifyCrashSafetyWithoutEmailActivity: the same without Email Activity. Batches with an
// unknown outcome are sent again: only their people may have two notices, and the list of
// possibly duplicated people names exactly the people so resent.
func TestNotifyCrashSafetyWithoutEmailActivity(t *testing.T) {
	notifyCrash(t, false)
}

func notifyCrash(t *testing.T, emailActivity bool) {
	if testing.Short() {
		t.Skip("slow: 100,000 subjects, five worker kills")
	}
	sg := startSendGrid(t, sendgridtest.Options{NoEmailActivity: !emailActivity}, true)
	sg.FaultEvery(41, sendgridtest.Fault{Kind: sendgridtest.DropAfterAccept})
	s := startStack(t, stackOptions{env: sg.env("0s")})
	rows, want := bigSubjects(crashSubjects)
	csvPath := filepath.Join(s.dir, "subjects.csv")
	writeSubjects(t, csvPath, rows)

	// Five kills at random Mail Send requests, each at a random moment of its request. About
	// 200 batches go out (100 blocks, two notices: GDPR and UK).
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 5))
	plan := &nfyCrashPlan{at: map[int64]int{}, delay: map[int64]time.Duration{}}
	// Kills stay apart by more than the requests in flight at once (four ranges side by side):
	// a request sent by a worker that an earlier kill just stopped never reaches its own.
	for len(plan.at) < 5 {
		n := int64(5 + rng.IntN(160))
		near := false
		for m := range plan.at {
			near = near || (m > n-8 && m < n+8)
		}
		if near {
			continue
		}
		plan.at[n] = rng.IntN(3)
		plan.delay[n] = time.Duration(rng.IntN(30)) * time.Millisecond
	}
	t.Logf("seed %d: kills at Mail Send requests %v (0 lost, 1 accepted unanswered, 2 after the answer)", seed, plan.at)

	// Each kill is followed at once by a new worker, as a process supervisor would start one.
	var mu sync.Mutex
	w := s.startWorker()
	var kills []string
	plan.kill = func(n int64, moment int) {
		mu.Lock()
		defer mu.Unlock()
		w.kill()
		kills = append(kills, fmt.Sprintf("request %d moment %d at %s", n, moment, time.Now().Format("15:04:05.000")))
		w = s.startWorker()
	}
	sg.crash.Store(plan)

	id := s.declare("--title", "Customer table copied by a compromised support account",
		"--system", "shop-db", "--subjects", csvPath, "--as", commander).IncidentID
	p := newPilot(s, id, nil)
	final := p.until(8*time.Minute, "the incident to close through five worker kills", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	mu.Lock()
	t.Logf("kills: %s", strings.Join(kills, "; "))
	must(t, len(kills) == 5, "the worker was killed %d times, want 5 (only %d Mail Send requests)", len(kills), sg.mailSend.Load())
	mu.Unlock()
	sg.checkContract(t)

	// Deliveries at the local server.
	ctx := context.Background()
	deliveries := map[string]int{}
	missing, twice := []string{}, []string{}
	for a := range want {
		n := sg.Deliveries(a)
		deliveries[a] = n
		switch {
		case n == 0:
			missing = append(missing, a)
		case n > 1:
			twice = append(twice, a)
		}
	}
	sort.Strings(twice)
	must(t, len(missing) == 0, "%d valid subjects never delivered: %s", len(missing), firstFew(missing))
	st := sg.Stats()
	must(t, st.Unique == len(want)+1, "%d addresses delivered, want the %d valid subjects and the authority", st.Unique, len(want))

	// The ledger.
	led := s.nfyLedger(t)
	outs := s.ledgerOutcomes(t, led, id, want)
	batches, err := led.Batches(ctx, id)
	must(t, err == nil, "ledger batches: %v", err)
	byKey := map[string]ledger.Batch{}
	ambiguous := 0
	for _, b := range batches {
		byKey[b.Key] = b
		if strings.Contains(b.Key, "/notice/") {
			must(t, b.State == ledger.Accepted, "batch %s left %s (%s)", b.Key, b.State, b.Reason)
			if b.AmbiguousAttempts > 0 {
				ambiguous++
			}
		}
	}
	must(t, ambiguous >= 5, "only %d batches recorded ambiguous after five kills and dropped connections", ambiguous)
	ledgerPD, err := led.PossiblyDuplicated(ctx, id)
	must(t, err == nil, "ledger: %v", err)
	listed := readPossiblyDuplicated(t, final.Alerts.PossiblyDuplicatedList)
	must(t, len(listed) == len(ledgerPD), "the list names %d people, the ledger %d", len(listed), len(ledgerPD))
	for _, k := range ledgerPD {
		must(t, listed[k], "the ledger's possibly duplicated %s is not in the list", k)
	}
	for a, o := range outs {
		key := s.subjectKey(id, a)
		switch o.Outcome {
		case ledger.Sent:
			must(t, deliveries[a] == 1, "the ledger says sent once, the server delivered %d", deliveries[a])
		case ledger.PossiblyDuplicated:
			must(t, !emailActivity, "a subject is possibly duplicated although Email Activity could tell")
			must(t, byKey[o.BatchKey].AmbiguousAttempts > 0, "possibly duplicated in batch %s, which was never ambiguous", o.BatchKey)
			must(t, listed[key], "possibly duplicated but not listed")
		default:
			t.Fatalf("a valid subject's outcome is %s (batch %s)", o.Outcome, o.BatchKey)
		}
		if deliveries[a] > 1 {
			must(t, listed[key], "a subject was delivered %d times but is not listed as possibly duplicated", deliveries[a])
		}
	}
	prog, err := led.Progress(ctx, id)
	must(t, err == nil, "ledger: %v", err)
	must(t, prog.Subjects[ledger.Sent]+prog.Subjects[ledger.PossiblyDuplicated] == len(want), "ledger: %d sent + %d possibly duplicated, want %d",
		prog.Subjects[ledger.Sent], prog.Subjects[ledger.PossiblyDuplicated], len(want))

	if emailActivity {
		must(t, len(twice) == 0, "%d subjects delivered twice: %s", len(twice), firstFew(twice))
		must(t, len(listed) == 0, "%d listed as possibly duplicated with Email Activity", len(listed))
	} else {
		must(t, len(listed) > 0, "no one listed as possibly duplicated after dropped connections without Email Activity")
		must(t, len(twice) > 0, "no duplicate at all: the dropped connections should have caused some")
	}

	// The status agrees with the ledger.
	a := final.Alerts
	must(t, a.State == incident.AlertsDone, "alerts %s", a.State)
	must(t, a.Sent == len(want) && a.Total == len(want), "status: %d sent of %d, want %d", a.Sent, a.Total, len(want))
	must(t, a.PossiblyDuplicated == len(listed), "status: %d possibly duplicated, the list %d", a.PossiblyDuplicated, len(listed))
	must(t, a.Ambiguous == ambiguous, "status: %d ambiguous batches, the ledger %d", a.Ambiguous, ambiguous)
	must(t, a.Failed == 0, "status: %d failed", a.Failed)
	t.Logf("%d subjects, %d Mail Send requests, %d batches ambiguous, %d delivered twice, %d listed",
		len(want), sg.mailSend.Load(), ambiguous, len(twice), len(listed))

	statusJSON := s.mustBreach("status", id, "--json").stdout
	checkNoPersonalData(t, s, statusJSON, []string{rows[0].Email, rows[1].Name, rows[len(rows)-1].Email})
}

// must fails the test with a message unless ok.
func must(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}
