package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// backend opens a fresh, empty ledger and returns the DSN it used.
type backend struct {
	name string
	open func(t testing.TB) (*Ledger, string)
}

func backends() []backend {
	return []backend{
		{"sqlite", func(t testing.TB) (*Ledger, string) {
			t.Helper()
			dsn := filepath.Join(t.TempDir(), "ledger.db")
			return openLedger(t, dsn), dsn
		}},
		{"postgres", openPostgres},
	}
}

func openLedger(t testing.TB, dsn string) *Ledger {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l, err := Open(ctx, dsn)
	if err != nil {
		t.Fatalf("Open(%s): %v", redactDSN(dsn), err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// postgresDSNs are tried in order; BREACH_TEST_POSTGRES_DSN comes first when set.
func postgresDSNs() []string {
	dsns := []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://root@127.0.0.1:5432/test?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
	}
	if v := os.Getenv("BREACH_TEST_POSTGRES_DSN"); v != "" {
		dsns = append([]string{v}, dsns...)
	}
	return dsns
}

// openPostgres opens a ledger in a schema of its own, dropped when the test ends. PostgreSQL is
// required: .ci/run starts the machine's when it is not running.
func openPostgres(t testing.TB) (*Ledger, string) {
	t.Helper()
	var admin *sql.DB
	var base string
	var errs []string
	for _, dsn := range postgresDSNs() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err = db.PingContext(ctx)
			cancel()
			if err == nil {
				admin, base = db, dsn
				break
			}
			db.Close()
		}
		errs = append(errs, fmt.Sprintf("%s: %v", redactDSN(dsn), err))
	}
	if admin == nil {
		t.Fatalf("the PostgreSQL ledger tests need a PostgreSQL server (start the machine's, as .ci/run does, or set BREACH_TEST_POSTGRES_DSN): %s", strings.Join(errs, "; "))
	}
	schema := fmt.Sprintf("ledger_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	return openLedger(t, dsn), dsn
}

func forEachBackend(t *testing.T, fn func(t *testing.T, l *Ledger, dsn string)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			l, dsn := b.open(t)
			fn(t, l, dsn)
		})
	}
}

const inc = "INC-20261128-7F3A"

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func getBatch(t *testing.T, l *Ledger, incident, key string) Batch {
	t.Helper()
	b, err := l.Batch(context.Background(), incident, key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBatchTransitions(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		steps func(t *testing.T, l *Ledger, id string)
		want  Batch // compared on State, MessageID, Recipients, Attempts, AmbiguousAttempts, Reason
	}{
		{
			name: "planned, sending, accepted",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.PlanBatch(ctx, id, "b-000001", 1000))
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-1"))
			},
			want: Batch{State: Accepted, MessageID: "msg-1", Recipients: 1000, Attempts: 1},
		},
		{
			name: "planning twice keeps the first plan and state",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.PlanBatch(ctx, id, "b-000001", 10))
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.PlanBatch(ctx, id, "b-000001", 99))
			},
			want: Batch{State: Sending, Recipients: 10, Attempts: 1},
		},
		{
			name: "accepted is terminal",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-1"))
				if err := l.MarkSending(ctx, id, "b-000001"); !errors.Is(err, ErrAccepted) {
					t.Fatalf("MarkSending on accepted batch: got %v, want ErrAccepted", err)
				}
				must(t, l.MarkAmbiguous(ctx, id, "b-000001", "timeout"))
				must(t, l.MarkFailed(ctx, id, "b-000001", "500"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-2"))
				must(t, l.PlanBatch(ctx, id, "b-000001", 5))
			},
			want: Batch{State: Accepted, MessageID: "msg-1", Attempts: 1},
		},
		{
			name: "repeating a transition is harmless",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAmbiguous(ctx, id, "b-000001", "connection dropped"))
				must(t, l.MarkAmbiguous(ctx, id, "b-000001", "connection dropped"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-1"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-1"))
			},
			want: Batch{State: Accepted, MessageID: "msg-1", Attempts: 1, AmbiguousAttempts: 1},
		},
		{
			name: "ambiguous, resent, ambiguous again",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAmbiguous(ctx, id, "b-000001", "first"))
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAmbiguous(ctx, id, "b-000001", "second"))
			},
			want: Batch{State: Ambiguous, Attempts: 2, AmbiguousAttempts: 2, Reason: "second"},
		},
		{
			name: "failed can be retried",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkFailed(ctx, id, "b-000001", "HTTP 401"))
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-9"))
			},
			want: Batch{State: Accepted, MessageID: "msg-9", Attempts: 2},
		},
		{
			name: "failed keeps its reason",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkSending(ctx, id, "b-000001"))
				must(t, l.MarkFailed(ctx, id, "b-000001", "HTTP 401: refused"))
			},
			want: Batch{State: Failed, Attempts: 1, Reason: "HTTP 401: refused"},
		},
		{
			name: "accepted without a prior record",
			steps: func(t *testing.T, l *Ledger, id string) {
				must(t, l.MarkAccepted(ctx, id, "b-000001", "msg-1"))
			},
			want: Batch{State: Accepted, MessageID: "msg-1"},
		},
	}
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				// Each case works in an incident of its own within the shared database.
				incident := fmt.Sprintf("%s-%d", inc, i)
				tc.steps(t, l, incident)
				got := getBatch(t, l, incident, "b-000001")
				got.IncidentID, got.Key, got.UpdatedAt = "", "", time.Time{}
				if got != tc.want {
					t.Errorf("batch = %+v\nwant    %+v", got, tc.want)
				}
			})
		}
	})
}

func TestBatchNotFound(t *testing.T) {
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		if _, err := l.Batch(context.Background(), inc, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Batch of unknown key: got %v, want ErrNotFound", err)
		}
		if _, err := l.Subject(context.Background(), inc, "nope"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Subject of unknown key: got %v, want ErrNotFound", err)
		}
	})
}

func TestOutcomesAndProgress(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		// 1,200 subjects cross the 500-row INSERT chunks.
		var outs []SubjectOutcome
		for i := range 1200 {
			o := Sent
			switch {
			case i%100 == 1:
				o = InvalidAddress
			case i%100 == 2:
				o = Duplicate
			case i%100 == 3:
				o = Rejected
			}
			outs = append(outs, SubjectOutcome{SubjectKey: fmt.Sprintf("s-%05d", i), BatchKey: fmt.Sprintf("b-%d", i/1000), Outcome: o})
		}
		must(t, l.RecordOutcomes(ctx, inc, outs))
		must(t, l.RecordOutcomes(ctx, inc, outs)) // repeat: harmless

		// Possibly duplicated sticks, even when "sent" is recorded afterwards.
		must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{
			{SubjectKey: "s-00010", BatchKey: "b-0", Outcome: PossiblyDuplicated},
			{SubjectKey: "s-00005", BatchKey: "b-0", Outcome: PossiblyDuplicated},
			{SubjectKey: "s-00005", BatchKey: "b-0", Outcome: Sent}, // same call: still sticks
		}))
		must(t, l.RecordOutcomes(ctx, inc, []SubjectOutcome{{SubjectKey: "s-00010", BatchKey: "b-0", Outcome: Sent}}))
		// Another incident is counted apart.
		must(t, l.RecordOutcomes(ctx, "INC-OTHER", []SubjectOutcome{{SubjectKey: "s-00010", Outcome: PossiblyDuplicated}}))

		if err := l.RecordOutcomes(ctx, inc, []SubjectOutcome{{SubjectKey: "x", Outcome: "bogus"}}); err == nil {
			t.Error("RecordOutcomes accepted an unknown outcome")
		}

		got, err := l.Subject(ctx, inc, "s-00010")
		must(t, err)
		if got.Outcome != PossiblyDuplicated || got.BatchKey != "b-0" {
			t.Errorf("subject s-00010 = %+v, want possibly duplicated in b-0", got)
		}

		must(t, l.PlanBatch(ctx, inc, "b-0", 1000))
		must(t, l.PlanBatch(ctx, inc, "b-1", 200))
		must(t, l.MarkSending(ctx, inc, "b-0"))
		must(t, l.MarkAccepted(ctx, inc, "b-0", "m0"))
		must(t, l.PlanBatch(ctx, inc, "b-2", 7))
		must(t, l.MarkSending(ctx, inc, "b-2"))
		must(t, l.MarkAmbiguous(ctx, inc, "b-2", "dropped"))

		p, err := l.Progress(ctx, inc)
		must(t, err)
		want := Progress{
			Batches:    map[BatchState]int{Planned: 1, Sending: 0, Accepted: 1, Ambiguous: 1, Failed: 0},
			Recipients: 1207,
			Subjects:   map[Outcome]int{Sent: 1200 - 36 - 2, InvalidAddress: 12, Duplicate: 12, Rejected: 12, PossiblyDuplicated: 2},
		}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("progress = %+v\nwant       %+v", p, want)
		}

		dups, err := l.PossiblyDuplicated(ctx, inc)
		must(t, err)
		if !reflect.DeepEqual(dups, []string{"s-00005", "s-00010"}) {
			t.Errorf("possibly duplicated = %v, want [s-00005 s-00010]", dups)
		}

		amb, err := l.Batches(ctx, inc, Ambiguous, Sending)
		must(t, err)
		if len(amb) != 1 || amb[0].Key != "b-2" || amb[0].Reason != "dropped" {
			t.Errorf("ambiguous or sending batches = %+v, want b-2 only", amb)
		}
		all, err := l.Batches(ctx, inc)
		must(t, err)
		if len(all) != 3 {
			t.Errorf("all batches = %d, want 3", len(all))
		}
	})
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, l *Ledger, dsn string) {
		must(t, l.MarkSending(ctx, inc, "b-1"))
		must(t, l.MarkAccepted(ctx, inc, "b-1", "m1"))
		l2 := openLedger(t, dsn) // migrations run again: must be a no-op
		if b := getBatch(t, l2, inc, "b-1"); b.State != Accepted || b.MessageID != "m1" {
			t.Errorf("after reopen: %+v", b)
		}
		var versions int
		must(t, l2.db.QueryRow(`SELECT COUNT(*) FROM ledger_schema`).Scan(&versions))
		if versions != len(migrations)-1 {
			t.Errorf("ledger_schema has %d rows, want %d", versions, len(migrations)-1)
		}
	})
}

// TestConcurrentWorkers: two attempts of the same activity race on one batch (Temporal can
// run a zombie attempt); the ledger ends accepted with exactly one message id.
func TestConcurrentWorkers(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, l *Ledger, dsn string) {
		other := openLedger(t, dsn)
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for i, led := range []*Ledger{l, other} {
			wg.Go(func() {
				for j := range 20 {
					key := fmt.Sprintf("b-%02d", j)
					err := led.MarkSending(ctx, inc, key)
					if errors.Is(err, ErrAccepted) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if err := led.MarkAccepted(ctx, inc, key, fmt.Sprintf("w%d-%s", i, key)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		bs, err := l.Batches(ctx, inc)
		must(t, err)
		if len(bs) != 20 {
			t.Fatalf("got %d batches, want 20", len(bs))
		}
		for _, b := range bs {
			if b.State != Accepted || !strings.HasSuffix(b.MessageID, b.Key) {
				t.Errorf("batch %+v", b)
			}
		}
	})
}

func TestOpenDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want string
	}{
		{"/tmp/x.db", "/tmp/x.db?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"},
		{"sqlite:/tmp/x.db", "/tmp/x.db?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"},
		{"file:/tmp/x.db?mode=rwc", "file:/tmp/x.db?mode=rwc"},
	}
	for _, tc := range tests {
		if got := sqliteDSN(tc.dsn); got != tc.want {
			t.Errorf("sqliteDSN(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
	if got := redactDSN("postgres://u:secret@h:5432/db"); strings.Contains(got, "secret") {
		t.Errorf("redactDSN kept the password: %s", got)
	}
	if _, err := Open(context.Background(), ""); err == nil {
		t.Error("Open(\"\") succeeded")
	}
	l := openLedger(t, ":memory:")
	if l.Driver() != "sqlite" {
		t.Errorf("driver %s", l.Driver())
	}
}

// BenchmarkBatchCycle is the ledger's share of sending one batch of 1,000: mark sending,
// mark accepted, record 1,000 outcomes. The notification benchmark does it 1,000 times.
func BenchmarkBatchCycle(b *testing.B) {
	ctx := context.Background()
	for _, be := range backends() {
		b.Run(be.name, func(b *testing.B) {
			l, _ := be.open(b)
			outs := make([]SubjectOutcome, 1000)
			for i := 0; b.Loop(); i++ {
				key := fmt.Sprintf("b-%06d", i)
				if err := l.MarkSending(ctx, inc, key); err != nil {
					b.Fatal(err)
				}
				if err := l.MarkAccepted(ctx, inc, key, "m"); err != nil {
					b.Fatal(err)
				}
				for j := range outs {
					outs[j] = SubjectOutcome{SubjectKey: fmt.Sprintf("s-%d-%d", i, j), BatchKey: key, Outcome: Sent}
				}
				if err := l.RecordOutcomes(ctx, inc, outs); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// A ledger that cannot be opened says where it tried, never with the password: a password
// holding '@', or one in the query string.
func TestOpenErrorsCarryNoPassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	tests := []string{
		"postgres://breach:p@ss-w0rd@" + addr + "/ledger?connect_timeout=5",
		"postgres://breach@" + addr + "/ledger?password=p@ss-w0rd&connect_timeout=5",
		"postgresql://breach:p%40ss-w0rd@" + addr + "/ledger?sslmode=disable&connect_timeout=5",
		"postgres://breach:p@ss-w0rd@[::1/ledger",
	}
	for _, dsn := range tests {
		_, err := Open(context.Background(), dsn)
		if err == nil {
			t.Fatalf("Open(%s) succeeded", redactDSN(dsn))
		}
		for e := err; e != nil; e = errors.Unwrap(e) {
			for _, secret := range []string{"p@ss-w0rd", "ss-w0rd", "p%40ss"} {
				if strings.Contains(e.Error(), secret) {
					t.Errorf("error %q quotes the password", e)
				}
			}
		}
		if !strings.Contains(err.Error(), "breach") {
			t.Errorf("error %q does not say which ledger", err)
		}
	}
}

func TestCheckURLDSN(t *testing.T) {
	tests := []struct {
		dsn string
		ok  bool
	}{
		{"postgres://breach:s3cr3t@db:5432/ledger?sslmode=require", true},
		{"postgres://breach:p%40ss@db/ledger", true},
		{"postgres://db:5432/ledger?options=-c%20x&application_name=a@b", true},
		{"postgres://breach@db/ledger?password=s3cr3t", true},
		{"postgres://breach:p@ss@db/ledger", false},
		{"postgres://breach:pa/ss@db/ledger", false},
		{"postgres://breach:p@ss@[::1/ledger", false},
	}
	for _, tt := range tests {
		err := checkURLDSN(tt.dsn)
		if tt.ok != (err == nil) {
			t.Errorf("checkURLDSN(%s) = %v", redactDSN(tt.dsn), err)
		}
		if err != nil && (strings.Contains(err.Error(), "ss@") || !strings.Contains(err.Error(), "%40")) {
			t.Errorf("error %q: quotes the password, or does not say how to fix it", err)
		}
	}
}

// Each incident keeps the pseudonym scheme its notices began with: the one recorded; for an
// incident whose notices are in the ledger from before schemes were recorded, the unkeyed one.
func TestPseudonymScheme(t *testing.T) {
	const keyed, other = "hmac-sha256:0123456789abcdef", "hmac-sha256:fedcba9876543210"
	forEachBackend(t, func(t *testing.T, l *Ledger, _ string) {
		ctx := context.Background()
		tests := []struct {
			name    string
			before  func(incident string) error // what the ledger already holds
			want    string
			comment string
		}{
			{"a new incident", func(string) error { return nil }, keyed, ""},
			{"an incident with its authority report only", func(inc string) error {
				return l.MarkSending(ctx, inc, inc+"/authority/gdpr-art33-authority")
			}, keyed, "reports name no subject"},
			{"an incident with notice batches from before", func(inc string) error {
				return l.MarkSending(ctx, inc, inc+"/notice/abc/0000001-0001000/g1")
			}, LegacyScheme, ""},
			{"an incident with subject outcomes from before", func(inc string) error {
				return l.RecordOutcomes(ctx, inc, []SubjectOutcome{{SubjectKey: "00112233445566778899aabbccddeeff", Outcome: InvalidAddress}})
			}, LegacyScheme, ""},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				inc := fmt.Sprintf("INC-20261128-%04X", i)
				if err := tt.before(inc); err != nil {
					t.Fatal(err)
				}
				got, err := l.PseudonymScheme(ctx, inc, keyed)
				if err != nil || got != tt.want {
					t.Fatalf("PseudonymScheme = %q, %v; want %q %s", got, err, tt.want, tt.comment)
				}
				// Recorded: another proposal, or notices written since, change nothing.
				if err := l.MarkSending(ctx, inc, inc+"/notice/def/0000001-0001000/g1"); err != nil {
					t.Fatal(err)
				}
				if again, err := l.PseudonymScheme(ctx, inc, other); err != nil || again != tt.want {
					t.Fatalf("second call = %q, %v; want %q again", again, err, tt.want)
				}
			})
		}
	})
}
