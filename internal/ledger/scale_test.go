package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

// BenchmarkBatchCycleAtScale times the ledger's share of sending batches of 1,000 with random subject
// keys, as the notification benchmark does: BREACH_LEDGER_SCALE batches (default 1,000), on
// each backend. With BREACH_LEDGER_SCALE_DSN it uses that SQLite DSN. It prints figures:
// go test -run XXX -bench BenchmarkBatchCycleAtScale -benchtime 1x ./internal/ledger
func BenchmarkBatchCycleAtScale(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv("BREACH_LEDGER_SCALE"))
	if n <= 0 {
		n = 1000
	}
	ctx := context.Background()
	forEachBackendTB(b, func(t testing.TB, l *Ledger) {
		if dsn := os.Getenv("BREACH_LEDGER_SCALE_DSN"); dsn != "" && l.Driver() == "sqlite" {
			l = openLedger(t, dsn)
		}
		outs := make([]SubjectOutcome, 1000)
		raw := make([]byte, 16)
		start, window := time.Now(), time.Now()
		for i := range n {
			key := fmt.Sprintf("%s/notice/0123456789ab/%07d-%07d/template-en-eea-art34", inc, i*1000+1, i*1000+1000)
			mustTB(t, l.MarkSending(ctx, inc, key))
			for j := range outs {
				rand.Read(raw)
				outs[j] = SubjectOutcome{SubjectKey: hex.EncodeToString(raw), BatchKey: key, Outcome: Sent}
			}
			if os.Getenv("BREACH_LEDGER_SCALE_EMPTY") != "" {
				mustTB(t, l.RecordAccepted(ctx, inc, key, "m", nil))
			} else {
				mustTB(t, l.RecordAccepted(ctx, inc, key, "m", outs))
			}
			if (i+1)%(n/10) == 0 {
				t.Logf("batches %d: %.2f ms/batch over the last %d", i+1, float64(time.Since(window).Microseconds())/1000/float64(n/10), n/10)
				window = time.Now()
			}
		}
		t.Logf("total %s, %.2f ms/batch", time.Since(start).Round(time.Millisecond), float64(time.Since(start).Microseconds())/1000/float64(n))
		s := time.Now()
		p, _, err := l.Report(ctx, inc)
		mustTB(t, err)
		t.Logf("report: %s (%d sent)", time.Since(s).Round(time.Millisecond), p.Subjects[Sent])
		s = time.Now()
		_, err = l.Subject(ctx, inc, outs[0].SubjectKey)
		mustTB(t, err)
		t.Logf("first lookup (folds): %s", time.Since(s).Round(time.Millisecond))
	})
}

// forEachBackendTB runs fn on a fresh ledger of each backend, as a sub-benchmark.
func forEachBackendTB(b *testing.B, fn func(t testing.TB, l *Ledger)) {
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			l, _ := be.open(b)
			fn(b, l)
		})
	}
}

func mustTB(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
