// Package ledger is the notification ledger: which customer-notice batches of an incident
// were planned, are being sent, were accepted by SendGrid (with its message id), ended
// ambiguous or failed, and what became of each subject. It is what makes the customer alert
// exactly-once and resumable: a batch is marked sending before its request and accepted
// after the 202, and a retry that finds it accepted skips it.
//
// Subjects are keyed by a stable pseudonymous subject key, never by address: the ledger
// holds no personal data.
//
// Open chooses the database by DSN: a SQLite file (pure Go driver, the embedded default) or
// PostgreSQL (postgres:// or postgresql://, production). The schema is created on open.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// BatchState is where a batch stands.
type BatchState string

// Batch states. Accepted is terminal.
const (
	Planned   BatchState = "planned"
	Sending   BatchState = "sending"
	Accepted  BatchState = "accepted"
	Ambiguous BatchState = "ambiguous"
	Failed    BatchState = "failed"
)

// BatchStates lists every state, in lifecycle order.
var BatchStates = []BatchState{Planned, Sending, Accepted, Ambiguous, Failed}

// Outcome is what became of one subject.
type Outcome string

// Subject outcomes.
const (
	// Sent: the subject was in a batch SendGrid accepted.
	Sent Outcome = "sent"
	// InvalidAddress: the address is not valid; nothing was sent.
	InvalidAddress Outcome = "invalid_address"
	// Duplicate: the address repeats another subject's; that one was notified instead.
	Duplicate Outcome = "duplicate"
	// Rejected: SendGrid refused the address on its own (400 isolated by splitting).
	Rejected Outcome = "rejected"
	// PossiblyDuplicated: sent, but an earlier attempt may also have reached the subject
	// (ambiguous batch resent without Email Activity to check). Listed in the report. It
	// is never overwritten by another outcome.
	PossiblyDuplicated Outcome = "possibly_duplicated"
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{Sent, InvalidAddress, Duplicate, Rejected, PossiblyDuplicated}

var (
	// ErrNotFound: no such batch or subject.
	ErrNotFound = errors.New("not found in the notification ledger")
	// ErrAccepted: the batch was already accepted by SendGrid; it must not be sent again.
	ErrAccepted = errors.New("batch already accepted")
)

// Batch is one batch's record.
type Batch struct {
	IncidentID string     `json:"incident_id"`
	Key        string     `json:"key"`
	State      BatchState `json:"state"`
	// MessageID is SendGrid's X-Message-Id, once accepted (several, comma-separated, when
	// the batch was split).
	MessageID string `json:"message_id,omitempty"`
	// Recipients is the number of recipients planned for the batch.
	Recipients int `json:"recipients"`
	// Attempts counts MarkSending calls; AmbiguousAttempts how many attempts ended ambiguous.
	Attempts          int `json:"attempts"`
	AmbiguousAttempts int `json:"ambiguous_attempts"`
	// Reason is the last ambiguous or failure reason (no personal data: the caller's error
	// text, which the adapter keeps free of addresses).
	Reason    string    `json:"reason,omitempty"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SubjectOutcome is one subject's outcome.
type SubjectOutcome struct {
	SubjectKey string  `json:"subject_key"`
	BatchKey   string  `json:"batch_key,omitempty"`
	Outcome    Outcome `json:"outcome"`
}

// Progress counts batches per state and subjects per outcome.
type Progress struct {
	Batches map[BatchState]int `json:"batches"`
	// Recipients is the sum of planned recipients over all batches.
	Recipients int             `json:"recipients"`
	Subjects   map[Outcome]int `json:"subjects"`
}

// Ledger is the notification ledger. Safe for concurrent use.
type Ledger struct {
	db      *sql.DB
	dialect dialect
	now     func() time.Time

	// fullChunk is RecordOutcomes' statement for outcomeRows subjects, prepared once on
	// SQLite, where parsing a 500-row INSERT costs as much as running it. (pgx caches
	// prepared statements per connection by itself.) It is prepared at Open: preparing
	// inside a transaction would wait for the only SQLite connection, which the
	// transaction holds.
	fullChunk *sql.Stmt
}

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// Open opens (creating if needed) the ledger at dsn: "postgres://..." or "postgresql://..."
// for PostgreSQL; anything else is a SQLite file path, optionally prefixed by "sqlite:" or
// given as a "file:" URI. A plain path gets WAL, a busy timeout and immediate transactions.
func Open(ctx context.Context, dsn string) (*Ledger, error) {
	if strings.TrimSpace(dsn) == "" {
		return nil, errors.New("ledger: empty DSN: give a SQLite file path or a postgres:// URL")
	}
	l := &Ledger{now: time.Now}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		l.dialect = postgresDialect
		l.db, err = sql.Open("pgx", dsn)
	default:
		l.dialect = sqliteDialect
		l.db, err = sql.Open("sqlite", sqliteDSN(dsn))
		// One connection: writes serialize anyway, and ":memory:" must stay one database.
		l.db.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", redactDSN(dsn), err)
	}
	if err := l.db.PingContext(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("ledger: connect to %s: %w", redactDSN(dsn), err)
	}
	if err := l.migrate(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("ledger: create schema in %s: %w", redactDSN(dsn), err)
	}
	if l.dialect == sqliteDialect {
		if l.fullChunk, err = l.db.PrepareContext(ctx, l.outcomeInsert(outcomeRows)); err != nil {
			l.db.Close()
			return nil, fmt.Errorf("ledger: prepare statements in %s: %w", redactDSN(dsn), err)
		}
	}
	return l, nil
}

func sqliteDSN(dsn string) string {
	dsn = strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	if strings.Contains(dsn, "?") {
		return dsn
	}
	return dsn + "?_busy_timeout=10000&_journal_mode=WAL&_synchronous=NORMAL&_txlock=immediate"
}

// redactDSN drops a password from a URL DSN.
func redactDSN(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		rest := dsn[i+3:]
		if at := strings.IndexByte(rest, '@'); at >= 0 {
			if colon := strings.IndexByte(rest[:at], ':'); colon >= 0 {
				return dsn[:i+3] + rest[:colon] + ":xxxxx" + rest[at:]
			}
		}
	}
	return dsn
}

// Close closes the database.
func (l *Ledger) Close() error {
	if l.fullChunk != nil {
		l.fullChunk.Close()
	}
	return l.db.Close()
}

// DB exposes the database handle, for tests and reports.
func (l *Ledger) DB() *sql.DB { return l.db }

// Driver returns "sqlite" or "postgres".
func (l *Ledger) Driver() string {
	if l.dialect == postgresDialect {
		return "postgres"
	}
	return "sqlite"
}

// rebind turns ? placeholders into $n for PostgreSQL. Queries here have no ? in literals.
func (l *Ledger) rebind(q string) string {
	if l.dialect != postgresDialect {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (l *Ledger) stamp() string { return formatTime(l.now()) }

const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func checkIDs(incident, key string) error {
	if incident == "" || key == "" {
		return errors.New("incident id and key must not be empty")
	}
	return nil
}

// PlanBatch records a batch as planned with its recipient count, unless it is known already.
func (l *Ledger) PlanBatch(ctx context.Context, incident, key string, recipients int) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: plan batch: %w", err)
	}
	_, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, recipients, updated_at) VALUES (?, ?, 'planned', ?, ?)
		ON CONFLICT (incident_id, batch_key) DO NOTHING`), incident, key, recipients, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: plan batch %s/%s: %w", incident, key, err)
	}
	return nil
}

// MarkSending records that the batch's request is about to be made. It returns ErrAccepted,
// changing nothing, when the batch was accepted already: the caller must skip it. A batch
// found in Sending or Ambiguous before this call may have reached SendGrid: reconcile it
// first (read it with Batch).
func (l *Ledger) MarkSending(ctx context.Context, incident, key string) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: mark batch sending: %w", err)
	}
	res, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, attempts, updated_at) VALUES (?, ?, 'sending', 1, ?)
		ON CONFLICT (incident_id, batch_key) DO UPDATE SET
			state = 'sending', attempts = notify_batches.attempts + 1, updated_at = excluded.updated_at
		WHERE notify_batches.state <> 'accepted'`), incident, key, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: mark batch %s/%s sending: %w", incident, key, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("ledger: mark batch %s/%s sending: %w", incident, key, ErrAccepted)
	}
	return nil
}

// MarkAccepted records SendGrid's acceptance. Accepted is terminal: repeating it keeps the
// first message id.
func (l *Ledger) MarkAccepted(ctx context.Context, incident, key, messageID string) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: mark batch accepted: %w", err)
	}
	_, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, message_id, updated_at) VALUES (?, ?, 'accepted', ?, ?)
		ON CONFLICT (incident_id, batch_key) DO UPDATE SET
			state = 'accepted', message_id = excluded.message_id, reason = '', updated_at = excluded.updated_at
		WHERE notify_batches.state <> 'accepted'`), incident, key, messageID, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: mark batch %s/%s accepted: %w", incident, key, err)
	}
	return nil
}

// MarkAmbiguous records that the request may have reached SendGrid but its outcome is
// unknown. No effect on an accepted batch.
func (l *Ledger) MarkAmbiguous(ctx context.Context, incident, key, reason string) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: mark batch ambiguous: %w", err)
	}
	_, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, ambiguous_attempts, reason, updated_at) VALUES (?, ?, 'ambiguous', 1, ?, ?)
		ON CONFLICT (incident_id, batch_key) DO UPDATE SET
			state = 'ambiguous',
			ambiguous_attempts = CASE WHEN notify_batches.state = 'ambiguous'
				THEN notify_batches.ambiguous_attempts ELSE notify_batches.ambiguous_attempts + 1 END,
			reason = excluded.reason, updated_at = excluded.updated_at
		WHERE notify_batches.state <> 'accepted'`), incident, key, reason, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: mark batch %s/%s ambiguous: %w", incident, key, err)
	}
	return nil
}

// MarkFailed records that the batch was given up (for now) with a reason. No effect on an
// accepted batch; a later MarkSending may retry it.
func (l *Ledger) MarkFailed(ctx context.Context, incident, key, reason string) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: mark batch failed: %w", err)
	}
	_, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, reason, updated_at) VALUES (?, ?, 'failed', ?, ?)
		ON CONFLICT (incident_id, batch_key) DO UPDATE SET
			state = 'failed', reason = excluded.reason, updated_at = excluded.updated_at
		WHERE notify_batches.state <> 'accepted'`), incident, key, reason, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: mark batch %s/%s failed: %w", incident, key, err)
	}
	return nil
}

const batchColumns = `incident_id, batch_key, state, message_id, recipients, attempts, ambiguous_attempts, reason, updated_at`

func scanBatch(row interface{ Scan(...any) error }) (Batch, error) {
	var b Batch
	var state, updated string
	if err := row.Scan(&b.IncidentID, &b.Key, &state, &b.MessageID, &b.Recipients, &b.Attempts, &b.AmbiguousAttempts, &b.Reason, &updated); err != nil {
		return Batch{}, err
	}
	b.State = BatchState(state)
	t, err := time.Parse(timeLayout, updated)
	if err != nil {
		return Batch{}, fmt.Errorf("updated_at %q: %w", updated, err)
	}
	b.UpdatedAt = t
	return b, nil
}

// Batch reads one batch's record; ErrNotFound when the ledger has none.
func (l *Ledger) Batch(ctx context.Context, incident, key string) (Batch, error) {
	row := l.db.QueryRowContext(ctx, l.rebind(`SELECT `+batchColumns+` FROM notify_batches
		WHERE incident_id = ? AND batch_key = ?`), incident, key)
	b, err := scanBatch(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Batch{}, fmt.Errorf("ledger: batch %s/%s: %w", incident, key, ErrNotFound)
	}
	if err != nil {
		return Batch{}, fmt.Errorf("ledger: read batch %s/%s: %w", incident, key, err)
	}
	return b, nil
}

// Batches lists the incident's batches in the given states (all when none), by key.
func (l *Ledger) Batches(ctx context.Context, incident string, states ...BatchState) ([]Batch, error) {
	q := `SELECT ` + batchColumns + ` FROM notify_batches WHERE incident_id = ?`
	args := []any{incident}
	if len(states) > 0 {
		q += ` AND state IN (?` + strings.Repeat(`, ?`, len(states)-1) + `)`
		for _, s := range states {
			args = append(args, string(s))
		}
	}
	rows, err := l.db.QueryContext(ctx, l.rebind(q+` ORDER BY batch_key`), args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: list batches of %s: %w", incident, err)
	}
	defer rows.Close()
	var out []Batch
	for rows.Next() {
		b, err := scanBatch(rows)
		if err != nil {
			return nil, fmt.Errorf("ledger: list batches of %s: %w", incident, err)
		}
		out = append(out, b)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: list batches of %s: %w", incident, err)
	}
	return out, nil
}

// outcomeRows is how many subjects one INSERT carries (5 parameters each, well under
// SQLite's and PostgreSQL's parameter limits).
const outcomeRows = 500

// RecordOutcomes records subjects' outcomes in one transaction. Repeating is harmless. A
// later outcome replaces an earlier one, except that PossiblyDuplicated is never replaced.
// Within one call, the last entry for a subject wins (PossiblyDuplicated still sticks).
func (l *Ledger) RecordOutcomes(ctx context.Context, incident string, outcomes []SubjectOutcome) error {
	if incident == "" {
		return errors.New("ledger: record outcomes: incident id must not be empty")
	}
	if len(outcomes) == 0 {
		return nil
	}
	// PostgreSQL refuses to update one row twice in a statement: keep one entry per subject.
	idx := make(map[string]int, len(outcomes))
	uniq := make([]SubjectOutcome, 0, len(outcomes))
	for _, o := range outcomes {
		if o.SubjectKey == "" {
			return fmt.Errorf("ledger: record outcomes of %s: empty subject key", incident)
		}
		if !validOutcome(o.Outcome) {
			return fmt.Errorf("ledger: record outcomes of %s: unknown outcome %q", incident, o.Outcome)
		}
		if i, ok := idx[o.SubjectKey]; ok {
			if uniq[i].Outcome != PossiblyDuplicated {
				uniq[i] = o
			}
			continue
		}
		idx[o.SubjectKey] = len(uniq)
		uniq = append(uniq, o)
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
	}
	defer tx.Rollback()
	stamp := l.stamp()
	args := make([]any, 0, 5*min(len(uniq), outcomeRows))
	for start := 0; start < len(uniq); start += outcomeRows {
		chunk := uniq[start:min(start+outcomeRows, len(uniq))]
		args = args[:0]
		for _, o := range chunk {
			args = append(args, incident, o.SubjectKey, o.BatchKey, string(o.Outcome), stamp)
		}
		var err error
		if len(chunk) == outcomeRows && l.fullChunk != nil {
			_, err = tx.StmtContext(ctx, l.fullChunk).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, l.outcomeInsert(len(chunk)), args...)
		}
		if err != nil {
			return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
	}
	return nil
}

// outcomeInsert is the upsert of n subjects' outcomes.
func (l *Ledger) outcomeInsert(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO notify_subjects (incident_id, subject_key, batch_key, outcome, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?, ?)")
	}
	q.WriteString(` ON CONFLICT (incident_id, subject_key) DO UPDATE SET
		outcome = excluded.outcome, batch_key = excluded.batch_key, updated_at = excluded.updated_at
		WHERE notify_subjects.outcome <> 'possibly_duplicated'
		AND (notify_subjects.outcome <> excluded.outcome OR notify_subjects.batch_key <> excluded.batch_key)`)
	return l.rebind(q.String())
}

func validOutcome(o Outcome) bool {
	for _, v := range Outcomes {
		if o == v {
			return true
		}
	}
	return false
}

// Subject reads one subject's outcome; ErrNotFound when none was recorded.
func (l *Ledger) Subject(ctx context.Context, incident, subjectKey string) (SubjectOutcome, error) {
	var o SubjectOutcome
	var outcome string
	err := l.db.QueryRowContext(ctx, l.rebind(`SELECT subject_key, batch_key, outcome FROM notify_subjects
		WHERE incident_id = ? AND subject_key = ?`), incident, subjectKey).Scan(&o.SubjectKey, &o.BatchKey, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return SubjectOutcome{}, fmt.Errorf("ledger: subject %s of %s: %w", subjectKey, incident, ErrNotFound)
	}
	if err != nil {
		return SubjectOutcome{}, fmt.Errorf("ledger: read subject %s of %s: %w", subjectKey, incident, err)
	}
	o.Outcome = Outcome(outcome)
	return o, nil
}

// Progress counts the incident's batches per state and subjects per outcome. Every state
// and outcome is present in the maps, zero when none.
func (l *Ledger) Progress(ctx context.Context, incident string) (Progress, error) {
	p := Progress{Batches: map[BatchState]int{}, Subjects: map[Outcome]int{}}
	for _, s := range BatchStates {
		p.Batches[s] = 0
	}
	for _, o := range Outcomes {
		p.Subjects[o] = 0
	}
	rows, err := l.db.QueryContext(ctx, l.rebind(`SELECT state, COUNT(*), COALESCE(SUM(recipients), 0)
		FROM notify_batches WHERE incident_id = ? GROUP BY state`), incident)
	if err != nil {
		return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	for rows.Next() {
		var state string
		var n, recipients int
		if err := rows.Scan(&state, &n, &recipients); err != nil {
			rows.Close()
			return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
		}
		p.Batches[BatchState(state)] = n
		p.Recipients += recipients
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	rows, err = l.db.QueryContext(ctx, l.rebind(`SELECT outcome, COUNT(*) FROM notify_subjects
		WHERE incident_id = ? GROUP BY outcome`), incident)
	if err != nil {
		return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome string
		var n int
		if err := rows.Scan(&outcome, &n); err != nil {
			return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
		}
		p.Subjects[Outcome(outcome)] = n
	}
	if err := rows.Err(); err != nil {
		return Progress{}, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	return p, nil
}

// PossiblyDuplicated lists, sorted, the subject keys that may have received two notices,
// for the incident report.
func (l *Ledger) PossiblyDuplicated(ctx context.Context, incident string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, l.rebind(`SELECT subject_key FROM notify_subjects
		WHERE incident_id = ? AND outcome = 'possibly_duplicated'`), incident)
	if err != nil {
		return nil, fmt.Errorf("ledger: possibly duplicated subjects of %s: %w", incident, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("ledger: possibly duplicated subjects of %s: %w", incident, err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ledger: possibly duplicated subjects of %s: %w", incident, err)
	}
	// Sorted here, not in SQL: byte order, whatever the database's collation.
	sort.Strings(out)
	return out, nil
}
