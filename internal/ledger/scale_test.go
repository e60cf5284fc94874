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

// TestScaleBatchCycle times the ledger's share of sending batches of 1,000 with random subject
// keys, as the notification benchmark does, at BREACH_LEDGER_SCALE batches (skipped unless
// set). With BREACH_LEDGER_SCALE_DSN it uses that SQLite DSN.
func TestScaleBatchCycle(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("BREACH_LEDGER_SCALE"))
	if n <= 0 {
		t.Skip("set BREACH_LEDGER_SCALE to a number of batches")
	}
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		if dsn := os.Getenv("BREACH_LEDGER_SCALE_DSN"); dsn != "" && l.Driver() == "sqlite" {
			l = openLedger(t, dsn)
		}
		outs := make([]SubjectOutcome, 1000)
		raw := make([]byte, 16)
		start, window := time.Now(), time.Now()
		for i := range n {
			key := fmt.Sprintf("%s/notice/0123456789ab/%07d-%07d/template-en-eea-art34", inc, i*1000+1, i*1000+1000)
			must(t, l.MarkSending(ctx, inc, key))
			for j := range outs {
				rand.Read(raw)
				outs[j] = SubjectOutcome{SubjectKey: hex.EncodeToString(raw), BatchKey: key, Outcome: Sent}
			}
			if os.Getenv("BREACH_LEDGER_SCALE_EMPTY") != "" {
				must(t, l.RecordAccepted(ctx, inc, key, "m", nil))
			} else {
				must(t, l.RecordAccepted(ctx, inc, key, "m", outs))
			}
			if (i+1)%(n/10) == 0 {
				t.Logf("batches %d: %.2f ms/batch over the last %d", i+1, float64(time.Since(window).Microseconds())/1000/float64(n/10), n/10)
				window = time.Now()
			}
		}
		t.Logf("total %s, %.2f ms/batch", time.Since(start).Round(time.Millisecond), float64(time.Since(start).Microseconds())/1000/float64(n))
		s := time.Now()
		p, _, err := l.Report(ctx, inc)
		must(t, err)
		t.Logf("report: %s (%d sent)", time.Since(s).Round(time.Millisecond), p.Subjects[Sent])
		s = time.Now()
		_, err = l.Subject(ctx, inc, outs[0].SubjectKey)
		must(t, err)
		t.Logf("first lookup (folds): %s", time.Since(s).Round(time.Millisecond))
	})
}
