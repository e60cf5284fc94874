// Package sqlsourcetest gives tests the machine's real PostgreSQL (127.0.0.1:5432, trust
// authentication, user postgres or root, database test) and MariaDB (127.0.0.1:3306, root
// without a password, database test; .ci/run starts both), each test in names of its own that
// go away with it, and a customers table as a shop keeps one: NULL and invalid addresses,
// duplicates by id and by address in another case, unknown countries, names in latin1 on
// MariaDB.
package sqlsourcetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	mrand "math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
)

// Postgres is a schema of its own in the machine's PostgreSQL.
type Postgres struct {
	// DSN connects as the role that answered, to database test.
	DSN    string
	Schema string
	Conn   *pgx.Conn
}

// PostgresDSNs are tried in order; BREACH_TEST_POSTGRES_DSN comes first when set.
func PostgresDSNs() []string {
	dsns := []string{
		"postgres://postgres@127.0.0.1:5432/test?sslmode=disable",
		"postgres://root@127.0.0.1:5432/test?sslmode=disable",
	}
	if v := os.Getenv("BREACH_TEST_POSTGRES_DSN"); v != "" {
		dsns = append([]string{v}, dsns...)
	}
	return dsns
}

// NewPostgres connects to the machine's PostgreSQL and creates a schema for the test, dropped
// with everything in it when the test ends.
func NewPostgres(tb testing.TB) *Postgres {
	tb.Helper()
	ctx := context.Background()
	var errs []string
	for _, dsn := range PostgresDSNs() {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		p := &Postgres{DSN: dsn, Schema: "breach_" + randomHex(tb), Conn: conn}
		if _, err := conn.Exec(ctx, "CREATE SCHEMA "+p.Schema); err != nil {
			conn.Close(ctx)
			tb.Fatalf("create schema %s: %v", p.Schema, err)
		}
		tb.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if _, err := conn.Exec(ctx, "DROP SCHEMA "+p.Schema+" CASCADE"); err != nil {
				tb.Errorf("drop schema %s: %v", p.Schema, err)
			}
			conn.Close(ctx)
		})
		return p
	}
	tb.Fatalf("no PostgreSQL answers at 127.0.0.1:5432 with database test (.ci/run starts it; or set BREACH_TEST_POSTGRES_DSN): %s", strings.Join(errs, "; "))
	return nil
}

// Table is the schema-qualified name of a table of the test.
func (p *Postgres) Table(name string) string { return p.Schema + "." + name }

// Exec runs statements, failing the test on error.
func (p *Postgres) Exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := p.Conn.Exec(context.Background(), sql, args...); err != nil {
		tb.Fatalf("PostgreSQL: %s: %v", sql, err)
	}
}

// MariaDB is the test's own tables in the machine's MariaDB (database test).
type MariaDB struct {
	DSN    string
	Prefix string
	DB     *sql.DB
	tables []string
}

// MariaDBDSN is root without a password on 127.0.0.1:3306, database test; or
// BREACH_TEST_MARIADB_DSN.
func MariaDBDSN() string {
	if v := os.Getenv("BREACH_TEST_MARIADB_DSN"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/test"
}

// NewMariaDB connects to the machine's MariaDB; the tables the test makes through Table are
// dropped when it ends.
func NewMariaDB(tb testing.TB) *MariaDB {
	tb.Helper()
	cfg, err := mysql.ParseDSN(MariaDBDSN())
	if err != nil {
		tb.Fatalf("BREACH_TEST_MARIADB_DSN: %v", err)
	}
	cfg.InterpolateParams = true
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		tb.Fatal(err)
	}
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	db := sql.OpenDB(conn)
	if err := db.Ping(); err != nil {
		db.Close()
		tb.Fatalf("no MariaDB answers at %s with database test (.ci/run starts it; or set BREACH_TEST_MARIADB_DSN): %v", cfg.Addr, err)
	}
	m := &MariaDB{DSN: MariaDBDSN(), Prefix: "breach_" + randomHex(tb), DB: db}
	tb.Cleanup(func() {
		for _, t := range m.tables {
			if _, err := db.Exec("DROP TABLE IF EXISTS " + t); err != nil {
				tb.Errorf("drop table %s: %v", t, err)
			}
		}
		db.Close()
	})
	return m
}

// Table names a table of the test, dropped when it ends.
func (m *MariaDB) Table(name string) string {
	t := m.Prefix + "_" + name
	m.tables = append(m.tables, t)
	return t
}

// Database creates a database of the test, dropped when it ends, and returns its name and a
// DSN to it.
func (m *MariaDB) Database(tb testing.TB) (string, string) {
	tb.Helper()
	name := m.Prefix
	m.Exec(tb, "CREATE DATABASE "+name)
	tb.Cleanup(func() {
		if _, err := m.DB.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			tb.Errorf("drop database %s: %v", name, err)
		}
	})
	cfg, err := mysql.ParseDSN(m.DSN)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.DBName = name
	return name, cfg.FormatDSN()
}

// Exec runs a statement, failing the test on error.
func (m *MariaDB) Exec(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	if _, err := m.DB.Exec(sql, args...); err != nil {
		tb.Fatalf("MariaDB: %s: %v", sql, err)
	}
}

func randomHex(tb testing.TB) string {
	tb.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		tb.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Customer is one row of a shop's customers table. Nil is NULL.
type Customer struct {
	PK         int64
	CustomerID string
	Email      *string
	FirstName  string
	// LastName is UTF-8; on MariaDB it is stored in latin1.
	LastName   *string
	Country    *string
	State      string
	Categories string
	CreatedAt  time.Time
}

// Name is the full name as the queries build it.
func (c Customer) Name() string {
	if c.LastName == nil {
		return c.FirstName
	}
	return c.FirstName + " " + *c.LastName
}

// WindowFrom and WindowTo bound the customers the queries select: a few are created outside.
var (
	WindowFrom = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	WindowTo   = time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
)

// InWindow reports whether the query's window selects c.
func (c Customer) InWindow() bool {
	return !c.CreatedAt.Before(WindowFrom) && c.CreatedAt.Before(WindowTo)
}

func ptr(s string) *string { return &s }

// Customers makes n customers, from seed, with the mess of a real shop: NULL addresses (3%),
// an earlier customer's address in another case (2%), an earlier customer's id (1%), invalid
// addresses (2%), unknown or missing countries (1.5%), US states, addresses with spaces around
// them, names with commas, quotes, line breaks and latin1 letters, unknown data categories,
// and 1% created outside the window.
func Customers(n int, seed uint64) []Customer {
	rng := mrand.New(mrand.NewPCG(seed, 15))
	first := []string{"Léa", "Jürgen", "Zoë", "Ana", "Björn", "Ólafur", "María José", "O'Brien", "Anne, Marie", "Noël"}
	last := []string{"Müller", "Weber", "Gonçalves", "Ðorđević", "Smith", "Dupont", "Šarić", "Øster", "D\"Angelo", "Fernández"}
	cats := []string{"contact", "contact;address", "contact;address;order-history", "contact|payment-card-last4", "", "loyalty-points;contact", "Contact; Address"}
	type place struct{ country, state string }
	places := []place{{"DE", ""}, {"de", ""}, {"FR", ""}, {"GB", ""}, {"IT", ""}, {"US", "CA"}, {"US", "ny"}, {"US", "TX"}, {"US", ""}, {"NL", ""}, {"CA", ""}, {"BR", ""}}
	out := make([]Customer, 0, n)
	for i := 0; i < n; i++ {
		c := Customer{PK: int64(i + 1), CustomerID: fmt.Sprintf("C%07d", i+1),
			FirstName: first[rng.IntN(len(first))], Categories: cats[rng.IntN(len(cats))],
			CreatedAt: WindowFrom.Add(time.Duration(rng.Int64N(int64(WindowTo.Sub(WindowFrom)))))}
		l := last[rng.IntN(len(last))]
		c.LastName = &l
		if rng.IntN(100) == 0 {
			c.LastName = nil
		}
		if rng.IntN(300) == 0 {
			c.FirstName = "Two\nLines"
		}
		email := fmt.Sprintf("customer%d@example.net", i+1)
		c.Email = &email
		switch r := rng.IntN(100); {
		case r < 3:
			c.Email = nil
		case r < 5 && i > 0:
			prev := out[rng.IntN(len(out))]
			if prev.Email != nil {
				e := strings.ToUpper((*prev.Email)[:1]) + (*prev.Email)[1:]
				if rng.IntN(2) == 0 {
					e = strings.ToUpper(*prev.Email)
				}
				c.Email = &e
			}
		case r < 7:
			bad := []string{"customer%d at example.net", "customer%d@", "@example.net", "customer %d@example.net", "customer%d@localhost"}[rng.IntN(5)]
			if strings.Contains(bad, "%d") {
				bad = fmt.Sprintf(bad, i+1)
			}
			c.Email = &bad
		case r < 9:
			e := "  " + email + " "
			c.Email = &e
		}
		if i > 0 && rng.IntN(100) == 0 {
			c.CustomerID = out[rng.IntN(len(out))].CustomerID
		}
		p := places[rng.IntN(len(places))]
		c.Country, c.State = ptr(p.country), p.state
		switch r := rng.IntN(200); {
		case r == 0:
			c.Country = nil
		case r < 3:
			c.Country = ptr([]string{"XX", "Germany", "ZZ"}[r-1])
		}
		if rng.IntN(100) == 0 {
			c.CreatedAt = WindowTo.Add(time.Duration(rng.IntN(1000)) * time.Hour)
		}
		out = append(out, c)
	}
	return out
}

// WriteCSV writes the customers in the window as the queries select them, as a subjects
// dataset (NULL is empty), in order: the same data as a CSV export.
func WriteCSV(tb testing.TB, path string, cs []Customer) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"id", "email", "name", "country", "state", "data_categories"})
	for _, c := range cs {
		if !c.InWindow() {
			continue
		}
		_ = w.Write([]string{c.CustomerID, deref(c.Email), c.Name(), deref(c.Country), c.State, c.Categories})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// PostgresCustomersTable is the DDL of a customers table, for fmt with its name.
const PostgresCustomersTable = `CREATE TABLE %s (
	pk bigint PRIMARY KEY,
	customer_id text NOT NULL,
	email text,
	first_name text NOT NULL,
	last_name text,
	country text,
	state text NOT NULL DEFAULT '',
	categories text NOT NULL DEFAULT '',
	created_at timestamptz NOT NULL
)`

// PostgresQuery selects a customers table's people in the window, in order.
const PostgresQuery = `-- The affected customers: everyone created in the incident's window.
SELECT customer_id AS id,
       email,
       CASE WHEN last_name IS NULL THEN first_name ELSE first_name || ' ' || last_name END AS name,
       country,
       state,
       categories AS data_categories
  FROM %s
 WHERE created_at >= $1 AND created_at < $2
 ORDER BY pk;
`

// LoadPostgres creates table and copies the customers into it.
func (p *Postgres) LoadPostgres(tb testing.TB, table string, cs []Customer) {
	tb.Helper()
	p.Exec(tb, fmt.Sprintf(PostgresCustomersTable, table))
	rows := make([][]any, len(cs))
	for i, c := range cs {
		rows[i] = []any{c.PK, c.CustomerID, c.Email, c.FirstName, c.LastName, c.Country, c.State, c.Categories, c.CreatedAt}
	}
	schema, name, _ := strings.Cut(table, ".")
	n, err := p.Conn.CopyFrom(context.Background(), pgx.Identifier{schema, name},
		[]string{"pk", "customer_id", "email", "first_name", "last_name", "country", "state", "categories", "created_at"}, pgx.CopyFromRows(rows))
	if err != nil || n != int64(len(cs)) {
		tb.Fatalf("copy %d customers into %s: %d copied, %v", len(cs), table, n, err)
	}
}

// MariaDBCustomersTable is the DDL of a customers table, for fmt with its name: the last name is
// latin1, as old shop schemas have it.
const MariaDBCustomersTable = `CREATE TABLE %s (
	pk bigint PRIMARY KEY,
	customer_id varchar(32) NOT NULL,
	email varchar(320) NULL,
	first_name varchar(100) CHARACTER SET utf8mb4 NOT NULL,
	last_name varchar(100) CHARACTER SET latin1 NULL,
	country varchar(64) NULL,
	state varchar(16) NOT NULL DEFAULT '',
	categories varchar(200) NOT NULL DEFAULT '',
	created_at datetime NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4`

// MariaDBQuery selects a customers table's people in the window, in order.
const MariaDBQuery = `SELECT customer_id AS id,
       email,
       CASE WHEN last_name IS NULL THEN first_name ELSE CONCAT(first_name, ' ', last_name) END AS name,
       country,
       state,
       categories AS data_categories
  FROM %s
 WHERE created_at >= ? AND created_at < ?
 ORDER BY pk
`

// Latin1 encodes s in ISO 8859-1, as a latin1 column holds it; '?' for what latin1 cannot hold.
func Latin1(s string) []byte {
	out := make([]byte, 0, len(s))
	for _, r := range s {
		if r < 256 {
			out = append(out, byte(r))
		} else {
			out = append(out, '?')
		}
	}
	return out
}

// LatinName is the name as MariaDB gives it back from the latin1 column: what latin1 cannot
// hold is a '?'.
func (c Customer) LatinName() string {
	if c.LastName == nil {
		return c.FirstName
	}
	return c.FirstName + " " + strings.Map(func(r rune) rune {
		if r < 256 {
			return r
		}
		return '?'
	}, *c.LastName)
}

// LoadMariaDB creates table and inserts the customers, their last names as latin1 bytes.
func (m *MariaDB) LoadMariaDB(tb testing.TB, table string, cs []Customer) {
	tb.Helper()
	m.Exec(tb, fmt.Sprintf(MariaDBCustomersTable, table))
	const batch = 1000
	for start := 0; start < len(cs); start += batch {
		end := min(start+batch, len(cs))
		var b strings.Builder
		fmt.Fprintf(&b, "INSERT INTO %s (pk, customer_id, email, first_name, last_name, country, state, categories, created_at) VALUES ", table)
		args := make([]any, 0, 9*(end-start))
		for i, c := range cs[start:end] {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString("(?,?,?,?,?,?,?,?,?)")
			var last any
			if c.LastName != nil {
				last = Latin1(*c.LastName) // bytes: stored as they are, as an old latin1 application wrote them
			}
			args = append(args, c.PK, c.CustomerID, c.Email, c.FirstName, last, c.Country, c.State, c.Categories, c.CreatedAt.UTC().Format("2006-01-02 15:04:05"))
		}
		if _, err := m.DB.Exec(b.String(), args...); err != nil {
			tb.Fatalf("insert customers into %s: %v", table, err)
		}
	}
}
