package sqlsource

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"
)

type mySession struct {
	db     *sql.DB
	conn   *sql.Conn
	tx     *sql.Tx
	cancel context.CancelFunc
	done   bool
}

func (s *Source) connectMySQL(ctx context.Context) (session, error) {
	cfg, err := mysql.ParseDSN(s.dsn)
	if err != nil {
		return nil, s.parseError()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = connectTimeout
	}
	// The server converts every column to UTF-8, whatever its own character set (latin1 names
	// arrive as the characters they are); values go in as text, so rows come back as text.
	if err := cfg.Apply(mysql.Charset("utf8mb4", "")); err != nil {
		return nil, s.parseError()
	}
	cfg.InterpolateParams = true
	cfg.ParseTime = false
	host := cfg.Addr
	if cfg.Net == "unix" {
		host = "socket " + cfg.Addr
	}
	where := fmt.Sprintf("MySQL at %s (database %s, user %s)", host, cfg.DBName, cfg.User)
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, s.parseError()
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	sctx, cancel := context.WithCancel(ctx)
	sess := &mySession{db: db, cancel: cancel}
	if sess.conn, err = db.Conn(sctx); err == nil {
		err = sess.conn.PingContext(sctx)
	}
	if err != nil {
		sess.close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.connectError(err, where)
	}
	var version string
	if err := sess.conn.QueryRowContext(sctx, "SELECT VERSION()").Scan(&version); err != nil {
		sess.close()
		return nil, s.queryError(ctx, err, 0)
	}
	// The window is bound in UTC, so TIMESTAMP columns are compared in UTC. MariaDB bounds every
	// statement (seconds); MySQL bounds SELECTs (milliseconds).
	set := fmt.Sprintf("SET SESSION time_zone = '+00:00', max_execution_time = %d", max(s.Timeout.Milliseconds(), 1))
	if strings.Contains(strings.ToLower(version), "mariadb") {
		set = fmt.Sprintf("SET SESSION time_zone = '+00:00', max_statement_time = %.3f", max(s.Timeout.Seconds(), 0.001))
	}
	if _, err = sess.conn.ExecContext(sctx, set); err == nil {
		// START TRANSACTION READ ONLY: the server refuses any write or locking read.
		sess.tx, err = sess.conn.BeginTx(sctx, &sql.TxOptions{ReadOnly: true})
	}
	if err != nil {
		sess.close()
		return nil, s.queryError(ctx, err, 0)
	}
	return sess, nil
}

func (m *mySession) describe(ctx context.Context, query string, args []any) ([]string, error) {
	// LIMIT 0 over the query as a derived table: the server parses it and names its columns
	// without running it.
	rows, err := m.tx.QueryContext(ctx, "SELECT * FROM (\n"+query+"\n) AS breach_columns LIMIT 0", args...)
	if err != nil {
		if n := strings.Count(query, "?"); n != len(args) {
			return nil, &paramCountError{query: n, given: len(args), placeholder: "?"}
		}
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

func (m *mySession) query(ctx context.Context, query string, args []any) (rowStream, error) {
	rows, err := m.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	cols, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, err
	}
	r := &myRows{rows: rows, sess: m, cols: cols, raw: make([]sql.RawBytes, len(cols)), ptrs: make([]any, len(cols)), out: make([][]byte, len(cols))}
	for i := range r.raw {
		r.ptrs[i] = &r.raw[i]
	}
	return r, nil
}

func (m *mySession) finish(context.Context) error {
	m.done = true
	return nil
}

func (m *mySession) close() {
	if !m.done {
		m.cancel()
	}
	if m.tx != nil {
		_ = m.tx.Rollback()
	}
	if m.conn != nil {
		_ = m.conn.Close()
	}
	_ = m.db.Close()
	m.cancel()
}

type myRows struct {
	rows *sql.Rows
	sess *mySession
	cols []string
	raw  []sql.RawBytes
	ptrs []any
	out  [][]byte
	scan error
}

func (r *myRows) columns() []string { return r.cols }

func (r *myRows) next() bool {
	if !r.rows.Next() {
		return false
	}
	if err := r.rows.Scan(r.ptrs...); err != nil {
		r.scan = err
		return false
	}
	for i, v := range r.raw {
		r.out[i] = v
	}
	return true
}

func (r *myRows) values() [][]byte { return r.out }

func (r *myRows) err() error {
	if r.scan != nil {
		return r.scan
	}
	return r.rows.Err()
}

func (r *myRows) close() {
	if !r.sess.done {
		r.sess.cancel()
	}
	_ = r.rows.Close()
}
