package register

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// store is one backend under test, and how a person with access to it would tamper with it.
type store struct {
	name string
	open func(t *testing.T) (*Register, tamperer)
}

// tamperer changes the stored register behind its back, as someone with access to the
// directory or the database could.
type tamperer interface {
	// edit replaces the body of entry seq; with rehash the hash kept beside it is updated too.
	edit(t *testing.T, seq int64, change func([]byte) []byte, rehash bool)
	remove(t *testing.T, seq int64)
}

func stores() []store {
	return []store{
		{"files", func(t *testing.T) (*Register, tamperer) {
			t.Helper()
			dir := filepath.Join(t.TempDir(), "register")
			r, err := OpenFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			return r, fileTamperer{dir}
		}},
		{"postgres", openPostgresForTest},
	}
}

func forEachStore(t *testing.T, fn func(t *testing.T, r *Register, tm tamperer)) {
	for _, s := range stores() {
		t.Run(s.name, func(t *testing.T) {
			r, tm := s.open(t)
			fn(t, r, tm)
		})
	}
}

type fileTamperer struct{ dir string }

func (f fileTamperer) path(t *testing.T, seq int64) string {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(f.dir, fmt.Sprintf("%012d_*.json", seq)))
	if len(m) != 1 {
		t.Fatalf("no single file for entry %d: %v", seq, m)
	}
	return m[0]
}

func (f fileTamperer) edit(t *testing.T, seq int64, change func([]byte) []byte, rehash bool) {
	t.Helper()
	p := f.path(t, seq)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var fe fileEntry
	if err := json.Unmarshal(data, &fe); err != nil {
		t.Fatal(err)
	}
	body := change([]byte(fe.Entry))
	h := fe.Hash
	if rehash {
		h = hashOf(body)
	}
	out := fmt.Sprintf("{\"hash\":%q,\"entry\":%s}\n", h, body)
	if err := os.WriteFile(p, []byte(out), 0o640); err != nil {
		t.Fatal(err)
	}
}

func (f fileTamperer) remove(t *testing.T, seq int64) {
	t.Helper()
	if err := os.Remove(f.path(t, seq)); err != nil {
		t.Fatal(err)
	}
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

// openPostgresForTest opens a register in a schema of its own, dropped when the test ends. A
// PostgreSQL that does not answer fails the test: the PostgreSQL register is tested for real.
func openPostgresForTest(t *testing.T) (*Register, tamperer) {
	t.Helper()
	admin, base := adminDB(t)
	schema := fmt.Sprintf("register_test_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	dsn := base + sep + "search_path=" + schema
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := OpenPostgres(ctx, dsn)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r, pgTamperer{db: admin, table: schema + ".breach_register"}
}

func adminDB(t *testing.T) (*sql.DB, string) {
	t.Helper()
	var errs []string
	for _, dsn := range postgresDSNs() {
		db, err := sql.Open("pgx", dsn)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err = db.PingContext(ctx)
			cancel()
			if err == nil {
				t.Cleanup(func() { db.Close() })
				return db, dsn
			}
			db.Close()
		}
		errs = append(errs, fmt.Sprintf("%s: %v", dsn, err))
	}
	t.Fatalf("no PostgreSQL answers (start it, or set BREACH_TEST_POSTGRES_DSN): %s", strings.Join(errs, "; "))
	return nil, ""
}

type pgTamperer struct {
	db    *sql.DB
	table string
}

// exec runs q with the append-only triggers off, as an administrator could.
func (p pgTamperer) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	tx, err := p.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, stmt := range []string{`ALTER TABLE ` + p.table + ` DISABLE TRIGGER USER`, q, `ALTER TABLE ` + p.table + ` ENABLE TRIGGER USER`} {
		a := args
		if stmt != q {
			a = nil
		}
		if _, err := tx.Exec(stmt, a...); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func (p pgTamperer) edit(t *testing.T, seq int64, change func([]byte) []byte, rehash bool) {
	t.Helper()
	var body, h string
	if err := p.db.QueryRow(`SELECT body, hash FROM `+p.table+` WHERE seq = $1`, seq).Scan(&body, &h); err != nil {
		t.Fatal(err)
	}
	nb := change([]byte(body))
	if rehash {
		h = hashOf(nb)
	}
	p.exec(t, `UPDATE `+p.table+` SET body = $1, hash = $2 WHERE seq = $3`, string(nb), h, seq)
}

func (p pgTamperer) remove(t *testing.T, seq int64) {
	t.Helper()
	p.exec(t, `DELETE FROM `+p.table+` WHERE seq = $1`, seq)
}

// replace returns a change that swaps old for new in a body, failing when old is not there.
func replace(t *testing.T, old, new string) func([]byte) []byte {
	return func(b []byte) []byte {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("%q is not in the entry %s", old, b)
		}
		return bytes.Replace(b, []byte(old), []byte(new), 1)
	}
}

var aware = time.Date(2026, 11, 28, 8, 10, 0, 0, time.UTC)

// declared is an incident as the register first sees it.
func declared(id string) Content {
	return Content{IncidentID: id, Title: "Backup bucket exposed", Description: "A nightly backup was readable from the internet.",
		Organisation: "Example Shop", DeclaredBy: "cli:ic", Source: "cli", DeclaredAt: aware.Add(time.Hour), AwareAt: aware,
		AwareZone: "Europe/Berlin", Systems: []string{"shop-db"}}
}

// unlikely is the incident after the DPO decided the breach is unlikely to result in a risk.
func unlikely(id string) Content {
	c := declared(id)
	c.Scope = &Scope{Subjects: 10, Records: 20, ByJurisdiction: map[string]int{"DE": 7, "FR": 3}, ByCategory: map[string]int{"contact": 10}}
	c.Decision = &Decision{Risk: "unlikely", Reasoning: "The backup was encrypted with a key kept elsewhere; nobody downloaded it (access logs).",
		By: "cli:dpo", DecidedAt: aware.Add(5 * time.Hour), SignedBy: "cli:dpo", KeyID: "ed25519:abcd"}
	c.Consequences = "None expected: the data is unintelligible."
	c.Measures = "Bucket made private; access logs kept."
	c.NotRequired = []NotRequired{{ID: "gdpr-art33-authority", Reason: "unlikely to result in a risk (Art. 33(1))"},
		{ID: "hipaa-hhs", Reason: "not in scope: the organisation's sectors do not include health-covered-entity"}}
	return c
}

// notified is an incident with a report filed late, with reasons, and notices sent.
func notified(id string) Content {
	c := unlikely(id)
	c.Title = "Customer export on a stolen laptop"
	c.Decision = &Decision{Risk: "high", NotifyAuthority: true, NotifySubjects: true, Reasoning: "Unencrypted names and addresses.",
		By: "cli:dpo", DecidedAt: aware.Add(5 * time.Hour)}
	c.NotRequired = nil
	c.Obligations = []Obligation{
		{ID: "gdpr-art33-authority", Regime: "eu-gdpr", Basis: "GDPR Art. 33", Audience: "authority", DueAt: aware.Add(72 * time.Hour),
			State: ObligationFiled, Method: "portal", FiledAt: aware.Add(80 * time.Hour), FiledBy: "cli:dpo", Reference: "DPA-2026-0042",
			Late: true, Reasons: "The authority's portal was down for a day."},
		{ID: "gdpr-art34-subjects", Regime: "eu-gdpr", Basis: "GDPR Art. 34", Audience: "subjects", DueAt: aware.Add(72 * time.Hour),
			State: ObligationFiled, FiledAt: aware.Add(30 * time.Hour)},
	}
	c.Notices = &Notices{State: "done", Total: 9, Sent: 9}
	c.Evidence = []Evidence{{What: "dataset", Name: "dataset:export", SHA256: strings.Repeat("ab", 32)}}
	return c
}

func mustRecord(t *testing.T, r *Register, c Content) Entry {
	t.Helper()
	e, _, err := r.Record(context.Background(), c)
	if err != nil {
		t.Fatalf("Record %s: %v", c.IncidentID, err)
	}
	return e
}

func mustVerify(t *testing.T, r *Register) Report {
	t.Helper()
	rep, err := r.Verify(context.Background(), "")
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return rep
}
