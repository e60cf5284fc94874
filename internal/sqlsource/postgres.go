package sqlsource

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// password is the DSN's password, to be scrubbed from messages; "" when the DSN has none or
// does not parse.
func (s *Source) password() string {
	switch s.Driver {
	case "postgres":
		if cfg, err := pgx.ParseConfig(s.dsn); err == nil {
			return cfg.Password
		}
	case "mysql":
		if cfg, err := mysql.ParseDSN(s.dsn); err == nil {
			return cfg.Passwd
		}
	}
	return ""
}

// dbErrorOf reads the SQLSTATE and message of a driver's error.
func (s *Source) dbErrorOf(err error) (dbError, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return dbError{state: pe.Code, message: s.scrub(pe.Message)}, true
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		state := strings.TrimRight(string(me.SQLState[:]), "\x00")
		if state == "" {
			state = "HY000"
		}
		return dbError{state: state, code: int(me.Number), message: s.scrub(me.Message)}, true
	}
	return dbError{}, false
}

// connectError says why a connection failed, with where it was going (never the password).
func (s *Source) connectError(err error, where string) error {
	e := &Error{Source: s.Name, Kind: KindConnect,
		Fix: fmt.Sprintf("check the DSN in %s (host, port, user, password, database)", s.DSNEnv)}
	var dns *net.DNSError
	var op *net.OpError
	d, isDB := s.dbErrorOf(err)
	switch {
	case isDB && (d.state == "28P01" || d.state == "28000" || d.code == 1045):
		e.Msg = fmt.Sprintf("%s refused the user name or password", where)
	case isDB && (d.state == "3D000" || d.code == 1049):
		e.Msg = fmt.Sprintf("%s has no such database", where)
	case isDB && d.code == 1044:
		e.Msg = fmt.Sprintf("%s does not let the user use that database", where)
	case isDB:
		e.Msg = fmt.Sprintf("%s refused the connection (%s)", where, d.show())
	case errors.As(err, &dns):
		e.Msg = fmt.Sprintf("%s: the host is not found", where)
	case errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err) || (errors.As(err, &op) && op.Timeout()):
		e.Msg, e.transient = fmt.Sprintf("%s did not answer within %s", where, connectTimeout), true
	case errors.As(err, &op):
		e.Msg, e.transient = fmt.Sprintf("nothing answers at %s (%s)", where, s.scrub(op.Err.Error())), true
	default:
		e.Msg = fmt.Sprintf("cannot connect to %s: %s", where, s.scrub(err.Error()))
	}
	return e
}

// The DSN's form, when it does not parse: the driver's message is not shown, it may quote the
// password.
func (s *Source) parseError() error {
	return s.errorf(KindSetup, fmt.Sprintf("write it as %s", dsnExample(s.Driver)),
		"the DSN in %s does not parse as a %s DSN", s.DSNEnv, map[string]string{"postgres": "PostgreSQL", "mysql": "MySQL"}[s.Driver])
}

type pgSession struct {
	conn   *pgx.Conn
	tx     pgx.Tx
	cancel context.CancelFunc
	done   bool
}

func (s *Source) connectPostgres(ctx context.Context) (session, error) {
	cfg, err := pgx.ParseConfig(s.dsn)
	if err != nil {
		return nil, s.parseError()
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	cfg.RuntimeParams["application_name"] = "breach subjects source " + s.Name
	where := fmt.Sprintf("PostgreSQL at %s (database %s, user %s)", net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))), cfg.Database, cfg.User)
	// The session's context dies with it: closing a result that was not read to its end then
	// drops the connection instead of reading every row left.
	sctx, cancel := context.WithCancel(ctx)
	conn, err := pgx.ConnectConfig(sctx, cfg)
	if err != nil {
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, s.connectError(err, where)
	}
	sess := &pgSession{conn: conn, cancel: cancel}
	// BEGIN READ ONLY: the database itself refuses any write or locking read.
	if sess.tx, err = conn.BeginTx(sctx, pgx.TxOptions{AccessMode: pgx.ReadOnly}); err == nil {
		_, err = sess.tx.Exec(sctx, "SET LOCAL statement_timeout = "+strconv.FormatInt(max(s.Timeout.Milliseconds(), 1), 10))
	}
	if err != nil {
		sess.close()
		return nil, s.queryError(ctx, err, 0)
	}
	return sess, nil
}

func (p *pgSession) describe(ctx context.Context, query string, args []any) ([]string, error) {
	sd, err := p.tx.Prepare(ctx, "", query)
	if err != nil {
		return nil, err
	}
	if len(sd.ParamOIDs) != len(args) {
		return nil, &paramCountError{query: len(sd.ParamOIDs), given: len(args), placeholder: "$1, $2…"}
	}
	names := make([]string, len(sd.Fields))
	for i, f := range sd.Fields {
		names[i] = f.Name
	}
	return names, nil
}

func (p *pgSession) query(ctx context.Context, query string, args []any) (rowStream, error) {
	// Prepared under its own text, which Query then finds: its parameters are counted first.
	sd, err := p.tx.Prepare(ctx, query, query)
	if err != nil {
		return nil, err
	}
	if len(sd.ParamOIDs) != len(args) {
		return nil, &paramCountError{query: len(sd.ParamOIDs), given: len(args), placeholder: "$1, $2…"}
	}
	// Every column as PostgreSQL writes it as text, whatever its type: a uuid, a numeric id, a
	// citext address read as a person would see them.
	rows, err := p.tx.Query(ctx, query, append([]any{pgx.QueryResultFormats{pgx.TextFormatCode}}, args...)...)
	if err != nil {
		return nil, err
	}
	return &pgRows{rows: rows, sess: p}, nil
}

func (p *pgSession) finish(context.Context) error {
	p.done = true
	return nil
}

func (p *pgSession) close() {
	if !p.done {
		p.cancel()
	}
	if p.tx != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = p.tx.Rollback(ctx)
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = p.conn.Close(ctx)
	cancel()
	p.cancel()
}

type pgRows struct {
	rows pgx.Rows
	sess *pgSession
}

func (r *pgRows) columns() []string {
	fds := r.rows.FieldDescriptions()
	names := make([]string, len(fds))
	for i, f := range fds {
		names[i] = f.Name
	}
	return names
}

func (r *pgRows) next() bool       { return r.rows.Next() }
func (r *pgRows) values() [][]byte { return r.rows.RawValues() }
func (r *pgRows) err() error       { return r.rows.Err() }
func (r *pgRows) close() {
	if !r.sess.done {
		r.sess.cancel()
	}
	r.rows.Close()
}

// paramCountError is a query whose placeholders do not match the configured params.
type paramCountError struct {
	query, given int
	placeholder  string
}

func (e *paramCountError) Error() string {
	return fmt.Sprintf("the query has %d parameters (%s) and params lists %d values", e.query, e.placeholder, e.given)
}
