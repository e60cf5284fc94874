// Package sqlsource reads the affected subjects from the database where they live: a query of
// the configuration (config.SubjectSource), run in a read-only transaction with a statement
// timeout and streamed row by row into a subjects dataset: CSV with the columns the scanner of
// internal/subjects reads, under their own names, and nothing else. The scope phase snapshots
// that stream into the dataset store; a preview feeds it to the scanner directly.
//
// PostgreSQL is read through pgx, MySQL and MariaDB through go-sql-driver/mysql. Errors name
// the source and say how to fix it; they never hold the DSN's password, and never a value of
// a row: the server's message is shown only for errors that cannot quote one (a syntax error,
// a missing table, a refused login), otherwise its SQLSTATE alone.
package sqlsource

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/subjects"
)

// Kind says what went wrong, and so what to do.
type Kind int

const (
	// KindSetup: the source cannot be used as configured (no DSN in the environment, a DSN
	// that does not parse, a query file that cannot be read, a parameter without a value).
	KindSetup Kind = iota + 1
	// KindConnect: the database refused the connection or did not answer.
	KindConnect
	// KindColumns: the query does not return a column the scanner needs.
	KindColumns
	// KindRefused: the read-only transaction refused the query: it writes or locks rows.
	KindRefused
	// KindQuery: the database refused the query (syntax, a missing table, a permission).
	KindQuery
	// KindTimeout: the query ran past its statement timeout.
	KindTimeout
	// KindInterrupted: the connection was lost while rows streamed.
	KindInterrupted
	// KindData: a value of a row could not be read.
	KindData
)

// Error is a problem with a source.
type Error struct {
	Source string
	Kind   Kind
	// Msg says what happened; Fix what to do.
	Msg, Fix string
	// transient marks a connection problem that may pass (no answer, refused): worth retrying.
	transient bool
}

func (e *Error) Error() string {
	if e.Fix == "" {
		return fmt.Sprintf("subjects source %s: %s", e.Source, e.Msg)
	}
	return fmt.Sprintf("subjects source %s: %s; %s", e.Source, e.Msg, e.Fix)
}

// Retryable reports whether trying again may succeed without changing anything: a statement
// timeout (the database may be less busy), a lost connection, a database that did not answer.
func (e *Error) Retryable() bool {
	return e.Kind == KindTimeout || e.Kind == KindInterrupted || (e.Kind == KindConnect && e.transient)
}

// Usage reports whether the configuration or the environment must change: what declare and
// preview turn into exit code 2.
func (e *Error) Usage() bool {
	switch e.Kind {
	case KindSetup, KindConnect, KindColumns, KindRefused, KindQuery:
		return true
	}
	return false
}

// Window is the incident's time window, the values of the window_from and window_to
// parameters.
type Window struct {
	From, To time.Time
}

// Source is one configured source, ready to connect.
type Source struct {
	Name string
	// Driver is postgres or mysql.
	Driver    string
	DSNEnv    string
	QueryFile string
	Timeout   time.Duration
	params    []string
	query     string
	dsn       string
}

// Open reads the source's query and takes its DSN from the environment (getenv); it does not
// connect.
func Open(src config.SubjectSource, getenv func(string) string) (*Source, error) {
	s := &Source{Name: src.Name, Driver: config.SourceDriver(src.Driver), DSNEnv: src.DSNEnv, QueryFile: src.Query,
		Timeout: src.Timeout, params: src.Params}
	if s.Timeout <= 0 {
		s.Timeout = config.DefaultSourceTimeout
	}
	if s.Driver == "" {
		return nil, s.errorf(KindSetup, "write driver: postgres (PostgreSQL) or mysql (MySQL and MariaDB) in the configuration", "%q is not a driver breach has", src.Driver)
	}
	data, err := infile.ReadFile(src.Query, 1<<20)
	if err != nil {
		return nil, s.errorf(KindSetup, "check query: in the configuration", "the query file cannot be read: %v", err)
	}
	s.query = trimQuery(string(data))
	if s.query == "" {
		return nil, s.errorf(KindSetup, "write the SELECT that lists the affected people", "the query file %s is empty", src.Query)
	}
	s.dsn = strings.TrimSpace(getenv(src.DSNEnv))
	if s.dsn == "" {
		return nil, s.errorf(KindSetup, fmt.Sprintf("set it to the database's DSN (%s) where breach runs: the command that declares, and every worker", dsnExample(s.Driver)),
			"the environment variable %s, which holds its DSN, is not set", src.DSNEnv)
	}
	return s, nil
}

func dsnExample(driver string) string {
	if driver == "mysql" {
		return "user:password@tcp(host:3306)/database"
	}
	return "postgres://user:password@host:5432/database"
}

func (s *Source) errorf(kind Kind, fix, format string, args ...any) *Error {
	return &Error{Source: s.Name, Kind: kind, Msg: fmt.Sprintf(format, args...), Fix: fix}
}

// trimQuery drops what a query file may end with that cannot stand inside a subquery: blank
// lines, line comments and semicolons.
func trimQuery(q string) string {
	for {
		t := strings.TrimRight(q, " \t\r\n;")
		if i := strings.LastIndexByte(t, '\n'); strings.HasPrefix(strings.TrimSpace(t[i+1:]), "--") {
			t = t[:max(i, 0)]
		}
		if t == q {
			return strings.TrimSpace(q)
		}
		q = t
	}
}

// args binds the window to the query's parameters, in the configuration's order.
func (s *Source) args(w Window) ([]any, error) {
	var out []any
	for _, p := range s.params {
		var t time.Time
		var flag string
		switch p {
		case "window_from":
			t, flag = w.From, "--window-from"
		case "window_to":
			t, flag = w.To, "--window-to"
		default:
			return nil, s.errorf(KindSetup, "params takes window_from and window_to", "unknown parameter %q", p)
		}
		if t.IsZero() {
			return nil, s.errorf(KindSetup, fmt.Sprintf("give %s TIME (RFC 3339): its query takes the incident's time window", flag), "no value for %s", p)
		}
		out = append(out, t.UTC())
	}
	return out, nil
}

// Columns are how the query's columns map onto a dataset's.
type Columns struct {
	// Query lists the query's columns, in order.
	Query []string
	// Used maps our column names (id, email…) to the position of the query's column that
	// holds each.
	Used map[string]int
}

// String describes the mapping, for messages: "customer_id (as id), email, and 2 columns breach
// does not read". Column names are the schema's, never data.
func (c Columns) String() string {
	var parts []string
	for _, col := range subjects.Columns() {
		i, ok := c.Used[col]
		if !ok {
			continue
		}
		if strings.EqualFold(strings.TrimSpace(c.Query[i]), col) {
			parts = append(parts, col)
		} else {
			parts = append(parts, fmt.Sprintf("%s (as %s)", c.Query[i], col))
		}
	}
	if other := len(c.Query) - len(c.Used); other > 0 {
		parts = append(parts, fmt.Sprintf("%d %s breach does not read", other, plural(other, "column", "columns")))
	}
	if len(parts) == 0 {
		return "no columns"
	}
	return strings.Join(parts, ", ")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

var columnExamples = map[string]string{
	"id":      "SELECT customer_id AS id, …",
	"email":   "SELECT …, user_email AS email, …",
	"country": "SELECT …, billing_country AS country, … (an ISO 3166 code such as DE or US)",
}

// mapColumns maps the query's columns onto ours and checks the required ones are there.
func (s *Source) mapColumns(names []string) (Columns, error) {
	c := Columns{Query: names, Used: map[string]int{}}
	for i, n := range names {
		if col, ok := subjects.Column(n); ok {
			if _, dup := c.Used[col]; !dup {
				c.Used[col] = i
			}
		}
	}
	var missing []string
	for _, col := range subjects.RequiredColumns() {
		if _, ok := c.Used[col]; !ok {
			missing = append(missing, col)
		}
	}
	if len(missing) == 0 {
		return c, nil
	}
	col := missing[0]
	also := ""
	if a := subjects.Aliases(col); len(a) > 0 {
		also = " (nor " + strings.Join(a, ", ") + ")"
	}
	if len(names) == 0 {
		return c, s.errorf(KindColumns, fmt.Sprintf("the query must be a SELECT whose columns are named id, email, country (and name, state, data_categories); fix %s", s.QueryFile),
			"the query returns no columns: it is not a SELECT")
	}
	return c, s.errorf(KindColumns,
		fmt.Sprintf("name the column that holds it %s in the query (%s), e.g. %s; the required columns are %s",
			col, s.QueryFile, columnExamples[col], strings.Join(subjects.RequiredColumns(), ", ")),
		"the query returns no %s column%s; it returns %s", col, also, c)
}

// Describe connects, and checks in a read-only transaction that the query parses and returns
// the columns the scanner needs, without running it.
func (s *Source) Describe(ctx context.Context, w Window) (Columns, error) {
	args, err := s.args(w)
	if err != nil {
		return Columns{}, err
	}
	sess, err := s.connect(ctx)
	if err != nil {
		return Columns{}, err
	}
	defer sess.close()
	names, err := sess.describe(ctx, s.query, args)
	if err != nil {
		return Columns{}, s.queryError(ctx, err, 0)
	}
	return s.mapColumns(names)
}

// Result is what an export wrote.
type Result struct {
	Rows    int64
	Columns Columns
}

// progressEvery is how many rows pass between two calls of an export's progress function.
const progressEvery = 10000

// Export runs the query in a read-only transaction with the statement timeout and writes its
// rows to out as a subjects dataset, one at a time: a header of our column names, then each
// row's values of those columns (NULL is empty; text that is not UTF-8 has its bad bytes
// replaced). progress, if not nil, sees the row count every 10,000 rows; an error it returns
// stops the export.
func (s *Source) Export(ctx context.Context, w Window, out io.Writer, progress func(rows int64) error) (Result, error) {
	args, err := s.args(w)
	if err != nil {
		return Result{}, err
	}
	sess, err := s.connect(ctx)
	if err != nil {
		return Result{}, err
	}
	defer sess.close()
	rows, err := sess.query(ctx, s.query, args)
	if err != nil {
		return Result{}, s.queryError(ctx, err, 0)
	}
	defer rows.close()
	// The first row first: a statement the read-only transaction refuses, or one that returns
	// no rows at all (a DELETE), fails there, and that is what to report.
	more := rows.next()
	if !more {
		if err := rows.err(); err != nil {
			return Result{}, s.queryError(ctx, err, 0)
		}
	}
	cols, err := s.mapColumns(rows.columns())
	if err != nil {
		return Result{}, err
	}
	var order []int
	var header []string
	for _, col := range subjects.Columns() {
		if i, ok := cols.Used[col]; ok {
			order = append(order, i)
			header = append(header, col)
		}
	}
	bw := bufio.NewWriterSize(out, 64<<10)
	cw := csv.NewWriter(bw)
	if err := cw.Write(header); err != nil {
		return Result{}, err
	}
	n, err := s.writeRows(ctx, rows, more, cw, order, progress)
	if err != nil {
		return Result{}, err
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return Result{}, fmt.Errorf("subjects source %s: write the rows: %w", s.Name, err)
	}
	if err := bw.Flush(); err != nil {
		return Result{}, fmt.Errorf("subjects source %s: write the rows: %w", s.Name, err)
	}
	if err := sess.finish(ctx); err != nil {
		return Result{}, s.queryError(ctx, err, 0)
	}
	if progress != nil {
		if err := progress(n); err != nil {
			return Result{}, err
		}
	}
	return Result{Rows: n, Columns: cols}, nil
}

// writeRows writes the rows of the stream to cw, from the one it stands on (if more), each as
// the values of the columns in order, and returns how many it wrote. Every progressEvery rows
// it checks ctx and tells progress.
func (s *Source) writeRows(ctx context.Context, rows rowStream, more bool, cw *csv.Writer, order []int, progress func(rows int64) error) (int64, error) {
	rec := make([]string, len(order))
	var n int64
	for ; more; more = rows.next() {
		vals := rows.values()
		for j, i := range order {
			v := vals[i]
			if utf8.Valid(v) {
				rec[j] = string(v)
			} else {
				rec[j] = strings.ToValidUTF8(string(v), "\uFFFD")
			}
		}
		if err := cw.Write(rec); err != nil {
			return n, fmt.Errorf("subjects source %s: write the rows: %w", s.Name, err)
		}
		n++
		if n%progressEvery == 0 {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			if progress != nil {
				if err := progress(n); err != nil {
					return n, err
				}
			}
		}
	}
	if err := rows.err(); err != nil {
		return n, s.queryError(ctx, err, n+1)
	}
	return n, nil
}

// session is one connection in a read-only transaction with the statement timeout set.
type session interface {
	describe(ctx context.Context, query string, args []any) ([]string, error)
	query(ctx context.Context, query string, args []any) (rowStream, error)
	// finish ends the transaction after the rows were read.
	finish(ctx context.Context) error
	close()
}

// rowStream is a result read one row at a time; values are the text of each column, nil for
// NULL, valid until the next call of next.
type rowStream interface {
	columns() []string
	next() bool
	values() [][]byte
	err() error
	close()
}

// connectTimeout bounds how long a connection may take when the DSN sets no timeout of its own.
const connectTimeout = 15 * time.Second

func (s *Source) connect(ctx context.Context) (session, error) {
	switch s.Driver {
	case "postgres":
		return s.connectPostgres(ctx)
	case "mysql":
		return s.connectMySQL(ctx)
	}
	return nil, s.errorf(KindSetup, "write driver: postgres or mysql", "%q is not a driver breach has", s.Driver)
}

// SQLSTATE classes whose messages cannot quote a row's value: connection, feature, transaction
// state, authorization, catalog, syntax and access, resources, operator intervention, system.
var safeClasses = []string{"08", "0A", "25", "28", "3D", "3F", "42", "53", "54", "55", "57", "58"}

// dbError is what the drivers' errors have in common.
type dbError struct {
	state   string // SQLSTATE
	code    int    // MySQL's error number; 0 for PostgreSQL
	message string
}

// queryError turns an error of the query (or of reading row n, when n > 0) into an Error.
func (s *Source) queryError(ctx context.Context, err error, row int64) error {
	var se *Error
	if errors.As(err, &se) {
		return se
	}
	if ctx.Err() != nil {
		// Cancelled by the caller (a worker shutting down, an activity timed out): not the
		// query's fault.
		return fmt.Errorf("subjects source %s: %w", s.Name, ctx.Err())
	}
	where := ""
	if row > 0 {
		where = fmt.Sprintf(" at row %d", row)
	}
	var pce *paramCountError
	if errors.As(err, &pce) {
		return &Error{Source: s.Name, Kind: KindQuery, Msg: pce.Error(),
			Fix: fmt.Sprintf("list one value in params for each placeholder of %s, in order", s.QueryFile)}
	}
	d, ok := s.dbErrorOf(err)
	if !ok {
		if row > 0 || isNetError(err) {
			return &Error{Source: s.Name, Kind: KindInterrupted, Msg: fmt.Sprintf("the connection was lost%s: %s", where, s.scrub(err.Error())),
				Fix: "it is tried again; if it keeps happening, check the database and the network"}
		}
		return &Error{Source: s.Name, Kind: KindQuery, Msg: s.scrub(err.Error()), Fix: "check the query in " + s.QueryFile}
	}
	switch {
	case d.state == "25006" || d.code == 1792:
		return &Error{Source: s.Name, Kind: KindRefused,
			Msg: fmt.Sprintf("the read-only transaction refused the query (%s)", d.show()),
			Fix: fmt.Sprintf("the query must only read: no INSERT, UPDATE or DELETE, no locking read (FOR UPDATE, FOR SHARE); fix %s", s.QueryFile)}
	case d.state == "57014" || d.code == 1969 || d.code == 3024:
		return &Error{Source: s.Name, Kind: KindTimeout,
			Msg: fmt.Sprintf("the query ran longer than its statement timeout of %s%s (%s)", s.Timeout, where, d.show()),
			Fix: "it is worth trying again when the database is less busy; if it keeps happening, raise timeout: in the source's configuration, or narrow the query (an index on what it filters by, the incident's time window)"}
	case strings.HasPrefix(d.state, "08"):
		return &Error{Source: s.Name, Kind: KindInterrupted, Msg: fmt.Sprintf("the connection failed%s (%s)", where, d.show()),
			Fix: "it is tried again; if it keeps happening, check the database and the network"}
	case strings.HasPrefix(d.state, "22"), strings.HasPrefix(d.state, "23"):
		return &Error{Source: s.Name, Kind: KindData,
			Msg: fmt.Sprintf("a value could not be read%s (SQLSTATE %s; the server's message is not shown: it may quote the value)", where, d.state),
			Fix: fmt.Sprintf("cast or clean the column in the query (%s)", s.QueryFile)}
	}
	return &Error{Source: s.Name, Kind: KindQuery, Msg: fmt.Sprintf("the database refused the query (%s)", d.show()),
		Fix: fmt.Sprintf("fix the query in %s (run it with psql or mysql to see where)", s.QueryFile)}
}

// show is the SQLSTATE (and MySQL's error number), with the server's message when its class
// cannot quote a value.
func (d dbError) show() string {
	code := "SQLSTATE " + d.state
	if d.code != 0 {
		code = fmt.Sprintf("error %d, SQLSTATE %s", d.code, d.state)
	}
	if slices.Contains(safeClasses, d.state[:min(2, len(d.state))]) {
		return code + ": " + d.message
	}
	return code
}

func isNetError(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, os.ErrDeadlineExceeded) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe")
}

// scrub takes the DSN's password out of a message, whatever the driver put in it.
func (s *Source) scrub(msg string) string {
	if pw := s.password(); len(pw) >= 3 {
		msg = strings.ReplaceAll(msg, pw, "REDACTED")
	}
	return msg
}

// Sources are the configuration's sources, each opened when it is used: its query file and the
// DSN in the environment are read then.
type Sources struct {
	Config []config.SubjectSource
	// Getenv reads the environment; nil is os.Getenv.
	Getenv func(string) string
}

// Open opens the source of that name.
func (s Sources) Open(name string) (*Source, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	var names []string
	for _, c := range s.Config {
		if c.Name == name {
			return Open(c, getenv)
		}
		names = append(names, c.Name)
	}
	fix := "the configuration names no subject sources: add one under subject_sources (see examples/breach.yaml)"
	if len(names) > 0 {
		fix = "the configuration's sources are " + strings.Join(names, ", ")
	}
	return nil, &Error{Source: name, Kind: KindSetup, Msg: "there is no source of that name in this configuration", Fix: fix}
}

// Export opens the source of that name and exports it (Source.Export).
func (s Sources) Export(ctx context.Context, name string, w Window, out io.Writer, progress func(rows int64) error) (Result, error) {
	src, err := s.Open(name)
	if err != nil {
		return Result{}, err
	}
	return src.Export(ctx, w, out, progress)
}
