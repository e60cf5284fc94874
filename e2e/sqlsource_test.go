package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgridtest"
	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
	"github.com/breachops/breach/internal/subjects"
)

var exampleNet = regexp.MustCompile(`(?i)example\.net`)

// sqlCustomers are customers of the generator in GDPR jurisdictions (every valid one is covered
// by the Art. 34 notice), with their mess kept, their addresses in domain.
func sqlCustomers(n int, seed uint64, domain string) []sqlsourcetest.Customer {
	cs := sqlsourcetest.Customers(n, seed)
	for i := range cs {
		c := &cs[i]
		if c.Email != nil {
			e := exampleNet.ReplaceAllLiteralString(*c.Email, domain)
			c.Email = &e
		}
		if c.Country != nil && !strings.EqualFold(*c.Country, "XX") && *c.Country != "Germany" && *c.Country != "ZZ" {
			country := []string{"DE", "FR", "de", "IT", "NL"}[i%5]
			c.Country = &country
		}
		c.State = ""
	}
	return cs
}

// mailable reads a subjects dataset as the scope does and returns the addresses it mails.
func mailable(t *testing.T, path string) map[string]bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := subjects.NewReader(f, subjects.NewSeen())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for {
		row, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if row.Mailable() {
			out[mail.Normalize(row.Email)] = true
		}
	}
}

func fileSHA(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// snapshotEvents are the texts of the incident's snapshot events.
func snapshotEvents(st incident.Status) []string {
	var out []string
	for _, e := range st.Timeline {
		if e.Kind == "snapshot" {
			out = append(out, e.Text)
		}
	}
	return out
}

// checkDeliveries asserts that every address of want got exactly one notice, and that no other
// address of the domain got any.
func checkDeliveries(t *testing.T, sg *nfySendGrid, want map[string]bool, domain string, others []string) {
	t.Helper()
	var wrong []string
	for a := range want {
		if n := sg.Deliveries(a); n != 1 {
			wrong = append(wrong, fmt.Sprintf("%s x%d", a, n))
		}
	}
	must(t, len(wrong) == 0, "%d of %d addresses not notified exactly once: %s", len(wrong), len(want), firstFew(wrong))
	for _, a := range others {
		must(t, sg.Deliveries(a) == 0, "%s, not in the snapshot, was notified", a)
	}
	for a, n := range sg.Duplicates() {
		must(t, !strings.HasSuffix(a, "@"+domain), "%s notified %d times", a, n)
	}
}

// Affected customers read where they live, in the machine's PostgreSQL and MariaDB, through a
// real Temporal dev server and the local SendGrid: each incident snapshots its source, and the
// notices follow the snapshot whatever the database does afterwards, each address exactly once,
// also when an amendment snapshots the changed source again and the alerts run a second time.
// Nothing of a customer reaches the history, the status or the worker's log.
func TestSQLSourceNoticesExactlyOnce(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	my := sqlsourcetest.NewMariaDB(t)
	const n = 1500
	pgCustomers := sqlCustomers(n, 31, "example.net")
	myCustomers := sqlCustomers(n, 32, "example.org")
	pgTable, myTable := pg.Table("customers"), my.Table("customers")
	pg.LoadPostgres(t, pgTable, pgCustomers)
	my.LoadMariaDB(t, myTable, myCustomers)

	qdir := t.TempDir()
	writeFile(t, filepath.Join(qdir, "shop-pg.sql"), fmt.Sprintf(sqlsourcetest.PostgresQuery, pgTable))
	writeFile(t, filepath.Join(qdir, "shop-maria.sql"), fmt.Sprintf(sqlsourcetest.MariaDBQuery, myTable))
	config := configYAML() + fmt.Sprintf(`subject_sources:
  - name: shop-pg
    driver: postgres
    dsn_env: SHOP_PG_DSN
    query: %s
    params: [window_from, window_to]
    timeout: 2m
  - name: shop-maria
    driver: mariadb
    dsn_env: SHOP_MARIA_DSN
    query: %s
    params: [window_from, window_to]
`, filepath.Join(qdir, "shop-pg.sql"), filepath.Join(qdir, "shop-maria.sql"))
	sg := startSendGrid(t, sendgridtest.Options{}, true)
	env := append(sg.env("0s"), "SHOP_PG_DSN="+pg.DSN, "SHOP_MARIA_DSN="+my.DSN)
	s := startStack(t, stackOptions{config: config, env: env})
	w := s.startWorker()
	window := []string{"--window-from", sqlsourcetest.WindowFrom.Format(time.RFC3339), "--window-to", sqlsourcetest.WindowTo.Format(time.RFC3339)}

	// PostgreSQL: the snapshot is the CSV export of the same rows, byte for byte.
	before := filepath.Join(t.TempDir(), "before.csv")
	sqlsourcetest.WriteCSV(t, before, pgCustomers)
	wantBefore := mailable(t, before)
	id := s.declare(append([]string{"--title", "Shop database dump found on a paste site", "--system", "shop-db",
		"--subjects-sql", "shop-pg", "--as", commander}, window...)...).IncidentID
	p := newPilot(s, id, w)
	st := p.idle(3*time.Minute, "the snapshot of shop-pg", func(st incident.Status) bool { return st.Scope != nil })
	must(t, st.Dataset.Source == "sql:shop-pg" && st.Dataset.SHA256 == fileSHA(t, before),
		"the incident's dataset is %+v, want the snapshot of shop-pg with the CSV export's hash %s", st.Dataset, fileSHA(t, before))
	events := snapshotEvents(st)
	must(t, len(events) == 1 && strings.Contains(events[0], fmt.Sprintf("SQL source shop-pg for 2026-01-01T00:00:00Z to 2027-01-01T00:00:00Z: %d rows", st.Scope.Rows)) &&
		strings.Contains(events[0], "SHA-256 "+fileSHA(t, before)), "snapshot events: %q", events)

	// The shop goes on while the incident runs: customers leave, change their address, join.
	pg.Exec(t, "DELETE FROM "+pgTable+" WHERE pk % 10 = 3")
	pg.Exec(t, "UPDATE "+pgTable+" SET email = 'moved-' || pk || '@example.net' WHERE pk % 10 = 5")
	joined := sqlCustomers(200, 33, "example.net")
	for i := range joined {
		joined[i].PK += 1_000_000
		joined[i].CustomerID = fmt.Sprintf("N%06d", i)
		e := fmt.Sprintf("joined%d@example.net", i)
		joined[i].Email = &e
		joined[i].CreatedAt = sqlsourcetest.WindowFrom.Add(time.Hour)
	}
	for _, c := range joined {
		pg.Exec(t, "INSERT INTO "+pgTable+" (pk, customer_id, email, first_name, last_name, country, state, categories, created_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
			c.PK, c.CustomerID, c.Email, c.FirstName, c.LastName, c.Country, c.State, c.Categories, c.CreatedAt)
	}
	var changed []string
	for _, c := range pgCustomers {
		if c.PK%10 == 5 {
			changed = append(changed, fmt.Sprintf("moved-%d@example.net", c.PK))
		}
	}
	for _, c := range joined {
		changed = append(changed, *c.Email)
	}

	p.acted[incident.UpdateClose] = true // amended before it closes
	st = p.until(5*time.Minute, "the notices of the first snapshot", func(st incident.Status) bool {
		return st.Alerts.State == incident.AlertsDone && st.Alerts.Run == 1
	})
	must(t, st.Alerts.Sent == len(wantBefore), "alerts: %d sent, want %d", st.Alerts.Sent, len(wantBefore))
	checkDeliveries(t, sg, wantBefore, "example.net", changed)

	// The amendment snapshots the source as it is now; the alerts run again over it: the new and
	// moved addresses get their notice, everyone else already has one.
	s.mustBreach(append([]string{"amend", id, "--subjects-sql", "shop-pg", "--as", dpo, "--note", "the shop's current customers"}, window...)...)
	after := filepath.Join(t.TempDir(), "after.csv")
	var now []sqlsourcetest.Customer
	for _, c := range pgCustomers {
		switch c.PK % 10 {
		case 3:
			continue
		case 5:
			e := fmt.Sprintf("moved-%d@example.net", c.PK)
			c.Email = &e
		}
		now = append(now, c)
	}
	sqlsourcetest.WriteCSV(t, after, append(now, joined...))
	wantAll := mailable(t, after)
	for a := range wantBefore {
		wantAll[a] = true
	}
	p.until(5*time.Minute, "the second alerts run", func(st incident.Status) bool {
		return st.Alerts.Run == 2 && st.Alerts.State == incident.AlertsDone
	})
	delete(p.acted, incident.UpdateClose)
	st = p.until(5*time.Minute, "the incident to close after the second alerts run", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	must(t, st.Dataset.SHA256 == fileSHA(t, after), "the amended dataset %+v is not the snapshot of the changed table (%s)", st.Dataset, fileSHA(t, after))
	must(t, len(snapshotEvents(st)) == 2, "snapshot events: %q", snapshotEvents(st))
	checkDeliveries(t, sg, wantAll, "example.net", nil)

	// MariaDB, latin1 names and all.
	mariaCSV := filepath.Join(t.TempDir(), "maria.csv")
	sqlsourcetest.WriteCSV(t, mariaCSV, myCustomers)
	wantMaria := mailable(t, mariaCSV)
	id2 := s.declare(append([]string{"--title", "Old shop's database exposed", "--system", "crm-api",
		"--subjects-sql", "shop-maria", "--as", commander}, window...)...).IncidentID
	st = newPilot(s, id2, w).until(5*time.Minute, "the MariaDB incident to close", func(st incident.Status) bool {
		return st.Phase == incident.PhaseClosed
	})
	must(t, st.Dataset.Source == "sql:shop-maria", "dataset %+v", st.Dataset)
	must(t, st.Alerts.Sent == len(wantMaria), "MariaDB alerts: %d sent, want %d", st.Alerts.Sent, len(wantMaria))
	checkDeliveries(t, sg, wantMaria, "example.org", nil)
	sg.checkContract(t)

	statusJSON := s.mustBreach("status", id, "--json").stdout + s.mustBreach("status", id2, "--json").stdout
	literals := []string{"example.org", "Müller", "Gonçalves", "Fernández", "Jürgen", "C0000001"}
	text, runs := s.historyText(t)
	must(t, strings.Contains(text, "dataset:sql-shop-pg-") && strings.Contains(text, "SendNotices"),
		"the history does not name the snapshot nor the notices: the scan looks at the wrong thing")
	for where, content := range map[string]string{"the workflow history": text, "the status": statusJSON, "the worker's log": readFile(t, w.log)} {
		found := findPersonalData(content, literals)
		must(t, len(found) == 0, "personal data in %s: %s", where, strings.Join(found, ", "))
	}
	t.Logf("no personal data in %d bytes of history over %d workflow runs, the status or the worker's log", len(text), runs)
}
