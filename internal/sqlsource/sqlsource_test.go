package sqlsource_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/sqlsource/sqlsourcetest"
	"github.com/breachops/breach/internal/subjects"
)

// secret is a password no message may show.
const secret = "hunter2-Secret-pw"

var window = sqlsource.Window{From: sqlsourcetest.WindowFrom, To: sqlsourcetest.WindowTo}

// source writes query to a file and opens a source of it, its DSN in SOURCE_DSN.
func source(t *testing.T, driver, dsn, query string, params []string, timeout time.Duration) *sqlsource.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "customers.sql")
	require.NoError(t, os.WriteFile(path, []byte(query), 0o600))
	s, err := sqlsource.Open(config.SubjectSource{Name: "shop-customers", Driver: driver, DSNEnv: "SOURCE_DSN", Query: path, Params: params, Timeout: timeout},
		func(k string) string {
			if k == "SOURCE_DSN" {
				return dsn
			}
			return ""
		})
	require.NoError(t, err)
	return s
}

// scan exports the source into the scanner, as a preview does, keeping the bytes.
func scan(t *testing.T, s *sqlsource.Source) (subjects.Summary, []byte, sqlsource.Result) {
	t.Helper()
	var snapshot bytes.Buffer
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var res sqlsource.Result
	var exportErr error
	go func() {
		defer close(done)
		res, exportErr = s.Export(context.Background(), window, io.MultiWriter(pw, &snapshot), nil)
		pw.CloseWithError(exportErr)
	}()
	sum, err := subjects.Scan(pr, nil)
	<-done
	require.NoError(t, exportErr)
	require.NoError(t, err)
	return sum, snapshot.Bytes(), res
}

func scanFile(t *testing.T, path string) subjects.Summary {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	s, err := subjects.Scan(f, nil)
	require.NoError(t, err)
	return s
}

// checkMess asserts the customers table carried every kind of problem into the counts.
func checkMess(t *testing.T, s subjects.Summary) {
	t.Helper()
	assert.Positive(t, s.Duplicates, "duplicates")
	assert.Positive(t, s.Invalid, "invalid addresses")
	assert.Positive(t, s.Unusable, "unusable rows")
	for _, kind := range []string{subjects.IssueDuplicate, subjects.IssueInvalidEmail, subjects.IssueMissingValue, subjects.IssueInvalidJurisdiction, subjects.IssueUnknownCategory} {
		assert.Positive(t, s.IssueCounts[kind], kind)
	}
	assert.Positive(t, s.ByJurisdiction["US-CA"])
	assert.Equal(t, s.Rows, s.Subjects+s.Duplicates+s.Unusable)
}

const customers = 200_000

// The scope counts of a customers table read from PostgreSQL are those of the same data as a CSV
// export: the snapshot is that export, byte for byte.
func TestPostgresCountsEqualTheSameDataAsCSV(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	cs := sqlsourcetest.Customers(customers, 1)
	table := pg.Table("customers")
	pg.LoadPostgres(t, table, cs)
	csvPath := filepath.Join(t.TempDir(), "customers.csv")
	sqlsourcetest.WriteCSV(t, csvPath, cs)

	s := source(t, "postgres", pg.DSN, fmt.Sprintf(sqlsourcetest.PostgresQuery, table), []string{"window_from", "window_to"}, time.Minute)
	got, snapshot, res := scan(t, s)
	want := scanFile(t, csvPath)

	assert.Equal(t, want, got)
	csvBytes, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(csvBytes, snapshot), "the snapshot is not the CSV export")
	inWindow := 0
	for _, c := range cs {
		if c.InWindow() {
			inWindow++
		}
	}
	assert.Less(t, inWindow, customers, "some customers are outside the window")
	assert.EqualValues(t, inWindow, res.Rows)
	assert.Equal(t, inWindow, got.Rows)
	checkMess(t, got)
	t.Logf("%d rows: %d subjects, %d mailable, %d invalid, %d duplicates, %d unusable", got.Rows, got.Subjects, got.Mailable, got.Invalid, got.Duplicates, got.Unusable)
}

// The same on MariaDB, whose last names are latin1: they arrive as UTF-8.
func TestMariaDBCountsEqualTheSameDataAsCSV(t *testing.T) {
	db := sqlsourcetest.NewMariaDB(t)
	cs := sqlsourcetest.Customers(customers, 2)
	table := db.Table("customers")
	db.LoadMariaDB(t, table, cs)
	csvPath := filepath.Join(t.TempDir(), "customers.csv")
	sqlsourcetest.WriteCSV(t, csvPath, cs)

	// The column really holds latin1 bytes, which are not UTF-8.
	var raw []byte
	require.NoError(t, db.DB.QueryRow(fmt.Sprintf("SELECT CAST(last_name AS BINARY) FROM %s WHERE last_name LIKE 'M%%ller' LIMIT 1", table)).Scan(&raw))
	require.Equal(t, []byte("M\xfcller"), raw)
	require.False(t, utf8.Valid(raw))

	s := source(t, "mysql", db.DSN, fmt.Sprintf(sqlsourcetest.MariaDBQuery, table), []string{"window_from", "window_to"}, time.Minute)
	got, snapshot, _ := scan(t, s)
	want := scanFile(t, csvPath)
	got.SHA256, got.Bytes, want.SHA256, want.Bytes = "", 0, "", 0
	assert.Equal(t, want, got)
	checkMess(t, got)
	assert.True(t, utf8.Valid(snapshot), "the snapshot is UTF-8")
	assert.Contains(t, string(snapshot), "Müller")
	assert.Contains(t, string(snapshot), "Gonçalves")
}

// Both databases refuse a query that writes or locks rows in the read-only transaction; the
// table keeps every row.
func TestWritesAreRefused(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	pgTable := pg.Table("customers")
	pg.LoadPostgres(t, pgTable, sqlsourcetest.Customers(100, 3))
	my := sqlsourcetest.NewMariaDB(t)
	myTable := my.Table("customers")
	my.LoadMariaDB(t, myTable, sqlsourcetest.Customers(100, 3))
	for _, tt := range []struct {
		name, driver, dsn, query string
	}{
		{"PostgreSQL DELETE", "postgres", pg.DSN, "DELETE FROM " + pgTable + " RETURNING customer_id AS id, email, country"},
		{"PostgreSQL DELETE without rows", "postgres", pg.DSN, "DELETE FROM " + pgTable},
		{"PostgreSQL FOR UPDATE", "postgres", pg.DSN, "SELECT customer_id AS id, email, country FROM " + pgTable + " FOR UPDATE"},
		{"PostgreSQL FOR SHARE", "postgres", pg.DSN, "SELECT customer_id AS id, email, country FROM " + pgTable + " FOR SHARE"},
		{"PostgreSQL a CTE that updates", "postgres", pg.DSN, "WITH x AS (UPDATE " + pgTable + " SET email = NULL RETURNING *) SELECT customer_id AS id, email, country FROM x"},
		{"MariaDB DELETE", "mysql", my.DSN, "DELETE FROM " + myTable},
		{"MariaDB FOR UPDATE", "mysql", my.DSN, "SELECT customer_id AS id, email, country FROM " + myTable + " FOR UPDATE"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := source(t, tt.driver, tt.dsn, tt.query, nil, time.Minute)
			_, err := s.Export(context.Background(), window, io.Discard, nil)
			var se *sqlsource.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sqlsource.KindRefused, se.Kind, "%v", err)
			assert.True(t, se.Usage())
			assert.False(t, se.Retryable())
			assert.Contains(t, err.Error(), "subjects source shop-customers: the read-only transaction refused the query")
			assert.Contains(t, err.Error(), "the query must only read")
			t.Log(err)
		})
	}
	var n int
	require.NoError(t, pg.Conn.QueryRow(context.Background(), "SELECT count(*) FROM "+pgTable+" WHERE email IS NOT NULL").Scan(&n))
	assert.Positive(t, n)
	require.NoError(t, my.DB.QueryRow("SELECT count(*) FROM "+myTable).Scan(&n))
	assert.Equal(t, 100, n)
}

// A query past its statement timeout is a retryable error naming the source and the timeout.
func TestStatementTimeout(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	my := sqlsourcetest.NewMariaDB(t)
	for _, tt := range []struct {
		name, driver, dsn, query string
	}{
		{"PostgreSQL", "postgres", pg.DSN, "SELECT 'C1' AS id, 'a@example.net' AS email, 'DE' AS country FROM pg_sleep(30)"},
		{"MariaDB", "mysql", my.DSN, "SELECT 'C1' AS id, 'a@example.net' AS email, 'DE' AS country FROM (SELECT SLEEP(30) AS s) AS slow"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := source(t, tt.driver, tt.dsn, tt.query, nil, time.Second)
			_, err := s.Export(context.Background(), window, io.Discard, nil)
			var se *sqlsource.Error
			require.ErrorAs(t, err, &se)
			assert.Equal(t, sqlsource.KindTimeout, se.Kind, "%v", err)
			assert.True(t, se.Retryable())
			assert.False(t, se.Usage())
			assert.Contains(t, err.Error(), "subjects source shop-customers: the query ran longer than its statement timeout of 1s")
			assert.Contains(t, err.Error(), "raise timeout:")
			t.Log(err)
		})
	}
}

// A source that cannot connect, or whose query lacks a required column, says so with the
// source's name and the fix, and never shows the password.
func TestSourceProblems(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	pgTable := pg.Table("customers")
	pg.LoadPostgres(t, pgTable, sqlsourcetest.Customers(10, 4))
	my := sqlsourcetest.NewMariaDB(t)
	myTable := my.Table("customers")
	my.LoadMariaDB(t, myTable, sqlsourcetest.Customers(10, 4))
	pgQuery := fmt.Sprintf(sqlsourcetest.PostgresQuery, pgTable)
	myQuery := fmt.Sprintf(sqlsourcetest.MariaDBQuery, myTable)
	params := []string{"window_from", "window_to"}
	closed := "127.0.0.1:1"
	for _, tt := range []struct {
		name, driver, dsn, query string
		params                   []string
		kind                     sqlsource.Kind
		has                      []string
	}{
		{"PostgreSQL: no such database", "postgres", "postgres://postgres:" + secret + "@127.0.0.1:5432/breach_no_such_db?sslmode=disable", pgQuery, params, sqlsource.KindConnect,
			[]string{"PostgreSQL at 127.0.0.1:5432 (database breach_no_such_db, user postgres) has no such database", "check the DSN in SOURCE_DSN"}},
		{"PostgreSQL: nothing at the port", "postgres", "postgres://postgres:" + secret + "@" + closed + "/test?sslmode=disable", pgQuery, params, sqlsource.KindConnect,
			[]string{"nothing answers at PostgreSQL at 127.0.0.1:1", "check the DSN in SOURCE_DSN"}},
		{"PostgreSQL: a DSN that does not parse", "postgres", "postgres://postgres:" + secret + "@127.0.0.1:port/test", pgQuery, params, sqlsource.KindSetup,
			[]string{"the DSN in SOURCE_DSN does not parse as a PostgreSQL DSN", "postgres://user:password@host:5432/database"}},
		{"PostgreSQL: no email column", "postgres", pg.DSN, "SELECT customer_id, country FROM " + pgTable, nil, sqlsource.KindColumns,
			[]string{"the query returns no email column (nor email_address, e-mail); it returns customer_id (as id), country", "user_email AS email", "customers.sql"}},
		{"PostgreSQL: no table", "postgres", pg.DSN, "SELECT id, email, country FROM " + pg.Schema + ".nothing_here", nil, sqlsource.KindQuery,
			[]string{"SQLSTATE 42P01", "does not exist", "fix the query in"}},
		{"PostgreSQL: params do not match", "postgres", pg.DSN, pgQuery, []string{"window_from"}, sqlsource.KindQuery,
			[]string{"the query has 2 parameters ($1, $2…) and params lists 1 values"}},
		{"MariaDB: a wrong password", "mysql", "root:" + secret + "@tcp(127.0.0.1:3306)/test", myQuery, params, sqlsource.KindConnect,
			[]string{"MySQL at 127.0.0.1:3306 (database test, user root) refused the user name or password", "check the DSN in SOURCE_DSN"}},
		{"MariaDB: no such database", "mysql", "root@tcp(127.0.0.1:3306)/breach_no_such_db", myQuery, params, sqlsource.KindConnect,
			[]string{"has no such database"}},
		{"MariaDB: nothing at the port", "mysql", "root:" + secret + "@tcp(" + closed + ")/test", myQuery, params, sqlsource.KindConnect,
			[]string{"nothing answers at MySQL at 127.0.0.1:1"}},
		{"MariaDB: a DSN that does not parse", "mysql", "root:" + secret + "@127.0.0.1:3306/test", myQuery, params, sqlsource.KindSetup,
			[]string{"does not parse as a MySQL DSN", "user:password@tcp(host:3306)/database"}},
		{"MariaDB: no country column", "mysql", my.DSN, "SELECT customer_id AS id, email FROM " + myTable, nil, sqlsource.KindColumns,
			[]string{"the query returns no country column (nor country_code, jurisdiction); it returns id, email"}},
		{"MariaDB: a syntax error", "mysql", my.DSN, "SELEC customer_id AS id FROM " + myTable, nil, sqlsource.KindQuery,
			[]string{"error 1064", "SQLSTATE 42000", "syntax"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := source(t, tt.driver, tt.dsn, tt.query, tt.params, time.Minute)
			for _, op := range []string{"describe", "export"} {
				var err error
				if op == "describe" {
					_, err = s.Describe(context.Background(), window)
				} else {
					_, err = s.Export(context.Background(), window, io.Discard, nil)
				}
				var se *sqlsource.Error
				require.ErrorAs(t, err, &se, op)
				assert.Equal(t, tt.kind, se.Kind, "%s: %v", op, err)
				assert.True(t, se.Usage(), op)
				assert.True(t, strings.HasPrefix(err.Error(), "subjects source shop-customers: "), err.Error())
				for _, h := range tt.has {
					assert.Contains(t, err.Error(), h, op)
				}
				assert.NotContains(t, err.Error(), secret, op)
				assert.NotContains(t, err.Error(), "hunter2", op)
				t.Logf("%s: %v", op, err)
			}
		})
	}
}

func TestOpenProblems(t *testing.T) {
	query := filepath.Join(t.TempDir(), "q.sql")
	require.NoError(t, os.WriteFile(query, []byte("SELECT 1 AS id;\n-- the end\n\n"), 0o600))
	none := func(string) string { return "" }
	_, err := sqlsource.Open(config.SubjectSource{Name: "crm", Driver: "postgres", DSNEnv: "CRM_DSN", Query: query}, none)
	var se *sqlsource.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, sqlsource.KindSetup, se.Kind)
	assert.Equal(t, "subjects source crm: the environment variable CRM_DSN, which holds its DSN, is not set; set it to the database's DSN (postgres://user:password@host:5432/database) where breach runs: the command that declares, and every worker", err.Error())

	_, err = sqlsource.Open(config.SubjectSource{Name: "crm", Driver: "oracle", DSNEnv: "CRM_DSN", Query: query}, none)
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), `subjects source crm: "oracle" is not a driver breach has; write driver: postgres`)

	_, err = sqlsource.Open(config.SubjectSource{Name: "crm", Driver: "postgres", DSNEnv: "CRM_DSN", Query: query + ".gone"}, func(string) string { return "postgres://x@y/z" })
	require.ErrorAs(t, err, &se)
	assert.Contains(t, err.Error(), "subjects source crm: the query file cannot be read")
}

// A query that would fail when run is not run by Describe, which only reads its columns.
func TestDescribeDoesNotRunTheQuery(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	my := sqlsourcetest.NewMariaDB(t)
	table := my.Table("customers")
	my.LoadMariaDB(t, table, sqlsourcetest.Customers(10, 6))
	for _, tt := range []struct{ name, driver, dsn, query string }{
		{"PostgreSQL", "postgres", pg.DSN, "SELECT (1/0)::text AS id, 'a@example.net' AS email, 'DE' AS country FROM generate_series(1, 3)"},
		// Run, it would sleep an hour a row; the statement timeout (a minute) fails the test if it is.
		{"MariaDB", "mysql", my.DSN, "SELECT customer_id AS id, email, country FROM " + table + " WHERE SLEEP(3600) = 0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := source(t, tt.driver, tt.dsn, tt.query, nil, time.Minute)
			cols, err := s.Describe(context.Background(), window)
			require.NoError(t, err)
			assert.Equal(t, "id, email, country", cols.String())
		})
	}
}

func TestExportStopsWhenProgressFails(t *testing.T) {
	pg := sqlsourcetest.NewPostgres(t)
	table := pg.Table("customers")
	pg.LoadPostgres(t, table, sqlsourcetest.Customers(25000, 5))
	s := source(t, "postgres", pg.DSN, fmt.Sprintf(sqlsourcetest.PostgresQuery, table), []string{"window_from", "window_to"}, time.Minute)
	stop := errors.New("stop")
	var seen []int64
	_, err := s.Export(context.Background(), window, io.Discard, func(n int64) error {
		seen = append(seen, n)
		if n >= 20000 {
			return stop
		}
		return nil
	})
	assert.ErrorIs(t, err, stop)
	assert.Equal(t, []int64{10000, 20000}, seen)
}
