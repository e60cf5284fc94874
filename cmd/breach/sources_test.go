package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
	"github.com/breachops/breach/internal/subjects"
)

// secretPassword is in the DSNs of the tests; no output may show it.
const secretPassword = "s3cr3t-Pa55word"

// sourcesConfig writes a configuration whose subject_sources are given, with the queries
// beside it, and points BREACH_CONFIG at it.
func sourcesConfig(t *testing.T, sources string, queries map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, q := range queries {
		writeTestFile(t, filepath.Join(dir, name), q)
	}
	path := filepath.Join(dir, "breach.yaml")
	writeTestFile(t, path, `organisation:
  name: Test Shop GmbH
  timezone: Europe/Berlin
  establishments: [DE]
  mail_from: privacy@shop.test
  dpo_contact: dpo@shop.test
roles:
  dpo: [dana]
  commander: [ian]
signing:
  trust_local_keys: true
subject_sources:
`+sources)
	t.Setenv("BREACH_CONFIG", path)
	t.Setenv("BREACH_HOME", filepath.Join(dir, "home"))
	t.Setenv("TEMPORAL_ADDRESS", unusedAddress(t))
	t.Setenv("BREACH_TEMPORAL_BIN", filepath.Join(dir, "no-temporal-here"))
	return dir
}

// initKeys gives the configuration's people their signing keys, as they would.
func initKeys(t *testing.T) {
	t.Helper()
	for _, who := range []string{"dana", "ian"} {
		if out, code := executeOut(t, "keys", "init", "--as", who); code != 0 {
			t.Fatalf("keys init --as %s: %s", who, out)
		}
	}
}

const windowFrom = "2026-01-01T00:00:00Z"

// A source that cannot work stops declare and preview with exit code 2, the source's name
// and the fix, before anything starts, and without the DSN's password; a source that works
// lets declare go on (here to a Temporal server that is not there).
func TestSourceProblemsExitTwoFromDeclareAndPreview(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	pgTable := pg.Table("customers")
	pg.LoadPostgres(t, pgTable, sqlsourcetest.Customers(50, 21))
	my := sqlsourcetest.NewMariaDB(t)
	myTable := my.Table("customers")
	my.LoadMariaDB(t, myTable, sqlsourcetest.Customers(50, 21))
	dir := sourcesConfig(t, `  - name: shop-pg
    driver: postgres
    dsn_env: SHOP_PG_DSN
    query: pg.sql
    params: [window_from, window_to]
  - name: shop-maria
    driver: mariadb
    dsn_env: SHOP_MARIA_DSN
    query: maria.sql
    params: [window_from, window_to]
  - name: no-email
    driver: postgres
    dsn_env: SHOP_PG_DSN
    query: no-email.sql
`, map[string]string{
		"pg.sql":       fmt.Sprintf(sqlsourcetest.PostgresQuery, pgTable),
		"maria.sql":    fmt.Sprintf(sqlsourcetest.MariaDBQuery, myTable),
		"no-email.sql": "SELECT customer_id, country FROM " + pgTable,
	})
	initKeys(t)
	goodPG := strings.Replace(pg.DSN, "@", ":"+secretPassword+"@", 1)
	tests := []struct {
		name   string
		env    map[string]string
		source string
		says   []string
	}{
		{"an unknown source", nil, "shop", []string{"--subjects-sql shop: the configuration has no such source; its sources are shop-pg, shop-maria, no-email"}},
		{"no DSN in the environment", map[string]string{"SHOP_PG_DSN": ""}, "shop-pg",
			[]string{"subjects source shop-pg: the environment variable SHOP_PG_DSN, which holds its DSN, is not set"}},
		{"PostgreSQL: a database that is not there", map[string]string{"SHOP_PG_DSN": "postgres://postgres:" + secretPassword + "@127.0.0.1:5432/breach_nothing?sslmode=disable"}, "shop-pg",
			[]string{"subjects source shop-pg: PostgreSQL at 127.0.0.1:5432 (database breach_nothing, user postgres) has no such database", "check the DSN in SHOP_PG_DSN"}},
		{"MariaDB: a wrong password", map[string]string{"SHOP_MARIA_DSN": "root:" + secretPassword + "@tcp(127.0.0.1:3306)/test"}, "shop-maria",
			[]string{"subjects source shop-maria: MySQL at 127.0.0.1:3306 (database test, user root) refused the user name or password", "check the DSN in SHOP_MARIA_DSN"}},
		{"a DSN that does not parse", map[string]string{"SHOP_MARIA_DSN": "root:" + secretPassword + "@127.0.0.1/test"}, "shop-maria",
			[]string{"subjects source shop-maria: the DSN in SHOP_MARIA_DSN does not parse as a MySQL DSN; write it as user:password@tcp(host:3306)/database"}},
		{"a query without the email column", map[string]string{"SHOP_PG_DSN": goodPG}, "no-email",
			[]string{"subjects source no-email: the query returns no email column", "user_email AS email", "no-email.sql"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			for _, args := range [][]string{
				{"subjects", "--preview", tt.source, "--window-from", windowFrom},
				{"declare", "--title", "Shop database copied", "--system", "10.0.0.1", "--as", "ian", "--subjects-sql", tt.source, "--window-from", windowFrom},
			} {
				out, code := executeOut(t, args...)
				assert.Equal(t, 2, code, "%s: %s", args[0], out)
				for _, s := range tt.says {
					assert.Contains(t, out, s, args[0])
				}
				assert.NotContains(t, out, secretPassword, args[0])
			}
		})
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "home", "datasets"))
	assert.Empty(t, entries, "a refused source left something in the dataset store")

	// The sources that work: declare checks them and goes on, to Temporal.
	t.Setenv("SHOP_PG_DSN", goodPG)
	t.Setenv("SHOP_MARIA_DSN", my.DSN)
	for _, src := range []string{"shop-pg", "shop-maria"} {
		out, code := executeOut(t, "declare", "--title", "Shop database copied", "--system", "10.0.0.1", "--as", "ian", "--subjects-sql", src, "--window-from", windowFrom)
		assert.Equal(t, 1, code, out)
		assert.Contains(t, out, "no Temporal server answers", "declare with %s stopped before Temporal", src)
	}
	// A query that takes the incident's window needs its start.
	out, code := executeOut(t, "subjects", "--preview", "shop-pg")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "subjects source shop-pg: no value for window_from; give --window-from TIME")
}

// An unknown driver is a problem of the configuration: every command refuses it, declare and
// preview with exit code 2, naming the source.
func TestUnknownDriverExitsTwo(t *testing.T) {
	sourcesConfig(t, "  - name: crm\n    driver: sqlserver\n    dsn_env: CRM_DSN\n    query: crm.sql\n", map[string]string{"crm.sql": "SELECT 1"})
	for _, args := range [][]string{
		{"subjects", "--preview", "crm"},
		{"declare", "--title", "CRM copied", "--system", "10.0.0.1", "--as", "ian", "--subjects-sql", "crm"},
	} {
		out, code := executeOut(t, args...)
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, `subject_sources[0].driver: source "crm": "sqlserver" is not a driver breach has`)
		assert.Contains(t, out, "write postgres (PostgreSQL) or mysql (MySQL and MariaDB)")
	}
}

// The preview counts what the scope phase would count, and keeps nothing.
func TestPreviewCountsAsTheScopeDoes(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	table := pg.Table("customers")
	cs := sqlsourcetest.Customers(5000, 22)
	pg.LoadPostgres(t, table, cs)
	dir := sourcesConfig(t, "  - name: shop\n    driver: postgres\n    dsn_env: SHOP_DSN\n    query: shop.sql\n    params: [window_from, window_to]\n",
		map[string]string{"shop.sql": fmt.Sprintf(sqlsourcetest.PostgresQuery, table)})
	t.Setenv("SHOP_DSN", pg.DSN)
	csvPath := filepath.Join(dir, "customers.csv")
	sqlsourcetest.WriteCSV(t, csvPath, cs)
	f, err := os.Open(csvPath)
	require.NoError(t, err)
	want, err := subjects.Scan(f, nil)
	f.Close()
	require.NoError(t, err)

	out, code := executeOut(t, "subjects", "--preview", "shop", "--window-from", sqlsourcetest.WindowFrom.Format("2006-01-02T15:04:05Z07:00"),
		"--window-to", sqlsourcetest.WindowTo.Format("2006-01-02T15:04:05Z07:00"), "--json")
	require.Equal(t, 0, code, out)
	var p preview
	require.NoError(t, json.Unmarshal([]byte(out), &p))
	assert.Equal(t, want, p.Summary)
	assert.Equal(t, "shop", p.Source)

	out, code = executeOut(t, "subjects", "--preview", "shop", "--window-from", sqlsourcetest.WindowFrom.Format("2006-01-02T15:04:05Z07:00"),
		"--window-to", sqlsourcetest.WindowTo.Format("2006-01-02T15:04:05Z07:00"))
	require.Equal(t, 0, code, out)
	for _, s := range []string{
		fmt.Sprintf("%d rows: %d subjects (%d can be mailed, %d with an invalid or missing address), %d duplicate rows, %d unusable rows",
			want.Rows, want.Subjects, want.Mailable, want.Invalid, want.Duplicates, want.Unusable),
		"JURISDICTION  SUBJECTS  MAILABLE", "DATA CATEGORY",
		fmt.Sprintf("  row %d: %s", want.Issues[0].Row, want.Issues[0].Kind),
		want.SHA256, "Nothing was started or kept",
	} {
		assert.Contains(t, out, s)
	}
	assert.Regexp(t, fmt.Sprintf(`(?m)^US-CA +%d +%d$`, want.ByJurisdiction["US-CA"], want.MailableByJurisdiction["US-CA"]), out)
	assert.Regexp(t, fmt.Sprintf(`(?m)^contact +%d$`, want.ByCategory["contact"]), out)
	for _, c := range cs[:50] {
		if c.Email != nil {
			assert.NotContains(t, out, *c.Email)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "home", "datasets"))
	assert.Empty(t, entries, "the preview kept the rows")
}

// A query past its statement timeout fails the preview with exit code 1: worth trying again.
func TestPreviewTimeoutIsWorthTryingAgain(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	sourcesConfig(t, "  - name: slow\n    driver: postgres\n    dsn_env: SLOW_DSN\n    query: slow.sql\n    timeout: 1s\n",
		map[string]string{"slow.sql": "SELECT 'C1' AS id, 'a@example.net' AS email, 'DE' AS country FROM pg_sleep(30)"})
	t.Setenv("SLOW_DSN", pg.DSN)
	out, code := executeOut(t, "subjects", "--preview", "slow")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "subjects source slow: the query ran longer than its statement timeout of 1s")
	assert.Contains(t, out, "nothing was started")
}
