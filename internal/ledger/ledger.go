// Package ledger is the notification ledger: which customer-notice batches of an incident
// were planned, are being sent, were accepted by SendGrid (with its message id), ended
// ambiguous or failed, and what became of each subject. It is what makes the customer alert
// exactly-once and resumable: a batch is marked sending before its request and accepted
// after the 202, and a retry that finds it accepted skips it.
//
// Subjects are keyed by a stable pseudonymous subject key, never by address: the ledger
// holds no personal data.
//
// Outcomes are written as records, one row per batch and outcome listing its subjects, so
// that recording a batch of 1,000 costs a few pages, not a page per person (a million people
// are a million scattered keys). Progress and Report count the records without rewriting
// them; Subject, which looks one person up (a later alerts run, a resumed batch), first folds
// the incident's records into a table keyed by subject.
//
// Open chooses the database by DSN: a SQLite file (pure Go driver, the embedded default) or
// PostgreSQL (postgres:// or postgresql://, production). The schema is created on open.
package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"

	"github.com/breachops/breach/internal/redact"
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
	// compactStmts are the compact outcome upserts of compactSizes rows, prepared at Open on
	// SQLite: a write of n rows runs the largest that fit, then the smaller ones.
	compactStmts map[int]*sql.Stmt

	// refs caches notify_refs numbers, committed ones only. Rows of notify_refs are never
	// deleted or renumbered.
	refsMu sync.Mutex
	refs   map[refKey]int64
}

type refKey struct{ incident, batch string }

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
	l := &Ledger{now: time.Now, refs: map[refKey]int64{}}
	var err error
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		if err := checkURLDSN(dsn); err != nil {
			return nil, err
		}
		l.dialect = postgresDialect
		l.db, err = sql.Open("pgx", dsn)
	default:
		l.dialect = sqliteDialect
		l.db, err = sql.Open("sqlite", sqliteDSN(dsn))
		// One connection: writes serialize anyway, and ":memory:" must stay one database.
		l.db.SetMaxOpenConns(1)
	}
	if err != nil {
		return nil, fmt.Errorf("ledger: open %s: %w", redactDSN(dsn), redact.Error(err))
	}
	if err := l.db.PingContext(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("ledger: connect to %s: %w", redactDSN(dsn), redact.Error(err))
	}
	if err := l.migrate(ctx); err != nil {
		l.db.Close()
		return nil, fmt.Errorf("ledger: create schema in %s: %w", redactDSN(dsn), redact.Error(err))
	}
	if l.dialect == sqliteDialect {
		if l.fullChunk, err = l.db.PrepareContext(ctx, l.outcomeInsert(outcomeRows)); err != nil {
			l.db.Close()
			return nil, fmt.Errorf("ledger: prepare statements in %s: %w", redactDSN(dsn), redact.Error(err))
		}
		l.compactStmts = map[int]*sql.Stmt{}
		for _, n := range compactSizes {
			st, err := l.db.PrepareContext(ctx, l.compactInsert(n))
			if err != nil {
				l.Close()
				return nil, fmt.Errorf("ledger: prepare statements in %s: %w", redactDSN(dsn), redact.Error(err))
			}
			l.compactStmts[n] = st
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

// checkURLDSN refuses a URL DSN that drivers read in different ways: one whose password holds
// an '@', '/', '?' or '#' as it is. The driver would take part of the password for the host and
// quote it in its errors.
func checkURLDSN(dsn string) error {
	_, rest, _ := strings.Cut(dsn, "://")
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	authority, path, _ := strings.Cut(rest, "/")
	if _, err := url.Parse(dsn); err != nil || strings.Count(authority, "@") > 1 ||
		(strings.Contains(authority, ":") && !strings.Contains(authority, "@") && strings.Contains(path, "@")) {
		return fmt.Errorf("ledger: the DSN %s cannot be read as a URL: percent-encode the special characters of the user name and password (@ as %%40, / as %%2F, ? as %%3F, # as %%23, : as %%3A)", redactDSN(dsn))
	}
	return nil
}

// redactDSN drops the password of a DSN, and the values of its query, for messages.
func redactDSN(dsn string) string { return redact.DSN(dsn) }

// Close closes the database.
func (l *Ledger) Close() error {
	if l.fullChunk != nil {
		l.fullChunk.Close()
	}
	for _, st := range l.compactStmts {
		st.Close()
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

// LegacyScheme is the pseudonym scheme of an incident whose notices the ledger holds from before
// schemes were recorded: subject keys were then a plain SHA-256 (pseudonym.Legacy).
const LegacyScheme = "sha256"

// PseudonymScheme returns the scheme of an incident's subject keys: the one recorded for it; or,
// for an incident with notice records from before schemes were recorded, LegacyScheme; or else
// proposed, which is recorded. Once recorded a scheme never changes, so every run of an
// incident's alerts keys its people the same way. Concurrent callers get the same answer.
func (l *Ledger) PseudonymScheme(ctx context.Context, incident, proposed string) (string, error) {
	if incident == "" || proposed == "" {
		return "", errors.New("ledger: pseudonym scheme: incident id and scheme must not be empty")
	}
	read := func() (string, error) {
		var s string
		err := l.db.QueryRowContext(ctx, l.rebind(`SELECT scheme FROM notify_pseudonyms WHERE incident_id = ?`), incident).Scan(&s)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		}
		return s, err
	}
	s, err := read()
	if err != nil || s != "" {
		return s, wrapScheme(incident, err)
	}
	// Notice batches, and subject outcomes in either layout, mean notices began unrecorded.
	// (Authority reports are batches too, but keyed <id>/authority/…, and name no subject.)
	var legacy bool
	err = l.db.QueryRowContext(ctx, l.rebind(`SELECT
		EXISTS (SELECT 1 FROM notify_batches WHERE incident_id = ? AND batch_key LIKE ?)
		OR EXISTS (SELECT 1 FROM notify_subjects WHERE incident_id = ?)
		OR EXISTS (SELECT 1 FROM notify_records r JOIN notify_refs f ON r.incident = f.id WHERE f.incident_id = ? AND f.batch_key = '')`),
		incident, "%/notice/%", incident, incident).Scan(&legacy)
	if err != nil {
		return "", wrapScheme(incident, err)
	}
	if legacy {
		proposed = LegacyScheme
	}
	if _, err := l.db.ExecContext(ctx, l.rebind(`INSERT INTO notify_pseudonyms (incident_id, scheme, recorded_at) VALUES (?, ?, ?)
		ON CONFLICT (incident_id) DO NOTHING`), incident, proposed, l.stamp()); err != nil {
		return "", wrapScheme(incident, err)
	}
	s, err = read()
	return s, wrapScheme(incident, err)
}

func wrapScheme(incident string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("ledger: pseudonym scheme of %s: %w", incident, err)
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
	_, err := l.db.ExecContext(ctx, l.acceptQuery(), incident, key, messageID, l.stamp())
	if err != nil {
		return fmt.Errorf("ledger: mark batch %s/%s accepted: %w", incident, key, err)
	}
	return nil
}

func (l *Ledger) acceptQuery() string {
	return l.rebind(`INSERT INTO notify_batches
		(incident_id, batch_key, state, message_id, updated_at) VALUES (?, ?, 'accepted', ?, ?)
		ON CONFLICT (incident_id, batch_key) DO UPDATE SET
			state = 'accepted', message_id = excluded.message_id, reason = '', updated_at = excluded.updated_at
		WHERE notify_batches.state <> 'accepted'`)
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

// outcomeRows is how many subjects one INSERT into notify_subjects carries (5 parameters
// each, well under SQLite's and PostgreSQL's parameter limits).
const outcomeRows = 500

// compactRows is how many subjects one INSERT into notify_outcomes carries (4 parameters
// each): a whole batch of 1,000 in one statement.
const compactRows = 1000

// compactSizes are the statement sizes prepared on SQLite, largest first.
var compactSizes = []int{compactRows, 100, 10, 1}

// Outcome codes in notify_outcomes.
var outcomeCodes = map[Outcome]int{Sent: 1, InvalidAddress: 2, Duplicate: 3, Rejected: 4, PossiblyDuplicated: 5}

const possiblyDuplicatedCode = 5

func outcomeOf(code int) Outcome {
	for o, c := range outcomeCodes {
		if c == code {
			return o
		}
	}
	return Outcome(fmt.Sprintf("unknown-%d", code))
}

// encodeSubject is a subject key as notify_outcomes stores it: the usual key, 32 lowercase
// hex digits, as its 16 bytes; any other key as its bytes and a NUL (two when that would make
// 16 bytes), so that the two forms never meet. Keys must not hold a NUL.
func encodeSubject(k string) []byte {
	if len(k) == 32 {
		if b, err := hex.DecodeString(k); err == nil && hex.EncodeToString(b) == k {
			return b
		}
	}
	b := append([]byte(k), 0)
	if len(b) == 16 {
		b = append(b, 0)
	}
	return b
}

func decodeSubject(b []byte) string {
	if len(b) == 16 {
		return hex.EncodeToString(b)
	}
	return strings.TrimRight(string(b), "\x00")
}

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
	return l.record(ctx, incident, outcomes, "", "")
}

// RecordAccepted records the outcomes of a batch's people (as RecordOutcomes) and the
// batch's acceptance (as MarkAccepted) in one transaction: either both are recorded or
// neither.
func (l *Ledger) RecordAccepted(ctx context.Context, incident, key, messageID string, outcomes []SubjectOutcome) error {
	if err := checkIDs(incident, key); err != nil {
		return fmt.Errorf("ledger: mark batch accepted: %w", err)
	}
	return l.record(ctx, incident, outcomes, key, messageID)
}

// record writes outcomes and, when key is set, marks that batch accepted, in one transaction.
func (l *Ledger) record(ctx context.Context, incident string, outcomes []SubjectOutcome, key, messageID string) error {
	// PostgreSQL refuses to update one row twice in a statement: keep one entry per subject.
	idx := make(map[string]int, len(outcomes))
	uniq := make([]SubjectOutcome, 0, len(outcomes))
	for _, o := range outcomes {
		if o.SubjectKey == "" {
			return fmt.Errorf("ledger: record outcomes of %s: empty subject key", incident)
		}
		if strings.IndexByte(o.SubjectKey, 0) >= 0 {
			return fmt.Errorf("ledger: record outcomes of %s: subject key with a NUL byte", incident)
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
	var fresh map[refKey]int64
	if len(uniq) > 0 {
		legacy, err := l.legacyIncident(ctx, tx, incident)
		if err != nil {
			return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
		}
		if legacy {
			err = l.writeLegacy(ctx, tx, incident, uniq)
		} else {
			fresh, err = l.appendRecords(ctx, tx, incident, uniq)
		}
		if err != nil {
			return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
		}
	}
	if key != "" {
		if _, err := tx.ExecContext(ctx, l.acceptQuery(), incident, key, messageID, l.stamp()); err != nil {
			return fmt.Errorf("ledger: mark batch %s/%s accepted: %w", incident, key, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ledger: record outcomes of %s: %w", incident, err)
	}
	if len(fresh) > 0 {
		l.refsMu.Lock()
		for k, id := range fresh {
			l.refs[k] = id
		}
		l.refsMu.Unlock()
	}
	return nil
}

// legacyIncident tells whether the incident has outcomes in notify_subjects, written before
// the compact table existed: its outcomes are then kept recording there.
func (l *Ledger) legacyIncident(ctx context.Context, tx *sql.Tx, incident string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, l.rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM notify_subjects WHERE incident_id = ? LIMIT 1) s`), incident).Scan(&n)
	return n > 0, err
}

// ref numbers (incident, batch key) in notify_refs, creating the number if needed. created
// tells that it was not cached: the caller caches it once the transaction commits.
func (l *Ledger) ref(ctx context.Context, tx *sql.Tx, incident, batch string) (id int64, created bool, err error) {
	k := refKey{incident, batch}
	l.refsMu.Lock()
	id, ok := l.refs[k]
	l.refsMu.Unlock()
	if ok {
		return id, false, nil
	}
	if _, err := tx.ExecContext(ctx, l.rebind(`INSERT INTO notify_refs (incident_id, batch_key) VALUES (?, ?)
		ON CONFLICT (incident_id, batch_key) DO NOTHING`), incident, batch); err != nil {
		return 0, false, err
	}
	err = tx.QueryRowContext(ctx, l.rebind(`SELECT id FROM notify_refs WHERE incident_id = ? AND batch_key = ?`), incident, batch).Scan(&id)
	return id, true, err
}

type compactRow struct {
	subject []byte
	batch   int64
	outcome int
}

// upsertCompact upserts rows into notify_outcomes, sorted by subject so that the
// statements walk the table's pages in order.
func (l *Ledger) upsertCompact(ctx context.Context, tx *sql.Tx, incRef int64, rows []compactRow) error {
	sort.Slice(rows, func(i, j int) bool { return bytes.Compare(rows[i].subject, rows[j].subject) < 0 })
	args := make([]any, 0, 4*min(len(rows), compactRows))
	for len(rows) > 0 {
		n := min(len(rows), compactRows)
		var st *sql.Stmt
		if l.compactStmts != nil {
			for _, size := range compactSizes {
				if size <= n {
					n, st = size, l.compactStmts[size]
					break
				}
			}
		}
		args = args[:0]
		for _, r := range rows[:n] {
			args = append(args, incRef, r.subject, r.batch, r.outcome)
		}
		var err error
		if st != nil {
			_, err = tx.StmtContext(ctx, st).ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, l.compactInsert(n), args...)
		}
		if err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// appendRecords writes outcomes as notify_records rows: one per batch key and outcome.
func (l *Ledger) appendRecords(ctx context.Context, tx *sql.Tx, incident string, outs []SubjectOutcome) (map[refKey]int64, error) {
	fresh := map[refKey]int64{}
	incRef, created, err := l.ref(ctx, tx, incident, "")
	if err != nil {
		return nil, err
	}
	if created {
		fresh[refKey{incident, ""}] = incRef
	}
	type group struct {
		batch   string
		outcome Outcome
	}
	var order []group
	keys := map[group][]string{}
	for _, o := range outs {
		g := group{o.BatchKey, o.Outcome}
		if _, ok := keys[g]; !ok {
			order = append(order, g)
		}
		keys[g] = append(keys[g], o.SubjectKey)
	}
	for _, g := range order {
		var batch int64
		if g.batch != "" {
			if batch, created, err = l.ref(ctx, tx, incident, g.batch); err != nil {
				return nil, err
			}
			if created {
				fresh[refKey{incident, g.batch}] = batch
			}
		}
		if _, err := tx.ExecContext(ctx, l.rebind(`INSERT INTO notify_records (incident, batch, outcome, subjects) VALUES (?, ?, ?, ?)`),
			incRef, batch, outcomeCodes[g.outcome], encodeSubjects(keys[g])); err != nil {
			return nil, err
		}
	}
	return fresh, nil
}

// encodeSubjects lists subject keys in a notify_records row: each encoded (encodeSubject)
// and preceded by its length as a uvarint.
func encodeSubjects(keys []string) []byte {
	b := make([]byte, 0, 17*len(keys))
	for _, k := range keys {
		e := encodeSubject(k)
		b = binary.AppendUvarint(b, uint64(len(e)))
		b = append(b, e...)
	}
	return b
}

// splitSubjects is the inverse of encodeSubjects, as encoded keys: substrings of s.
func splitSubjects(s string) ([]string, error) {
	var out []string
	for len(s) > 0 {
		n, w := binary.Uvarint([]byte(s[:min(len(s), binary.MaxVarintLen64)]))
		if w <= 0 || uint64(len(s)-w) < n {
			return nil, errors.New("corrupt subject list in notify_records")
		}
		out = append(out, s[w:w+int(n)])
		s = s[w+int(n):]
	}
	return out, nil
}

// incidentRef reads the incident's number, if it has one.
func (l *Ledger) incidentRef(ctx context.Context, q querier, incident string) (int64, bool, error) {
	l.refsMu.Lock()
	id, ok := l.refs[refKey{incident, ""}]
	l.refsMu.Unlock()
	if ok {
		return id, true, nil
	}
	err := q.QueryRowContext(ctx, l.rebind(`SELECT id FROM notify_refs WHERE incident_id = ? AND batch_key = ''`), incident).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	l.refsMu.Lock()
	l.refs[refKey{incident, ""}] = id
	l.refsMu.Unlock()
	return id, true, nil
}

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// record is one notify_records row, read.
type record struct {
	seq     int64
	batch   int64
	outcome int
	keys    []string // encoded
}

// readRecords reads the incident's records in the order they were written.
func (l *Ledger) readRecords(ctx context.Context, q querier, incRef int64) ([]record, error) {
	rows, err := q.QueryContext(ctx, l.rebind(`SELECT seq, batch, outcome, subjects FROM notify_records WHERE incident = ? ORDER BY seq`), incRef)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []record
	for rows.Next() {
		var r record
		var raw []byte
		if err := rows.Scan(&r.seq, &r.batch, &r.outcome, &raw); err != nil {
			return nil, err
		}
		if r.keys, err = splitSubjects(string(raw)); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// apply is what record r makes of a subject's outcome cur (0: none): it replaces it, unless
// it is possibly duplicated.
func apply(cur int, r *record) int {
	if cur == possiblyDuplicatedCode {
		return cur
	}
	return r.outcome
}

// foldRecords is how many records fold handles at a time (some 100,000 subjects).
var foldRecords = 100

// fold moves the incident's records into notify_outcomes, one row per subject, so that one
// subject can be looked up.
func (l *Ledger) fold(ctx context.Context, incident string) error {
	incRef, ok, err := l.incidentRef(ctx, l.db, incident)
	if err != nil || !ok {
		return err
	}
	var pending int
	if err := l.db.QueryRowContext(ctx, l.rebind(`SELECT COUNT(*) FROM (SELECT 1 FROM notify_records WHERE incident = ? LIMIT 1) r`), incRef).Scan(&pending); err != nil || pending == 0 {
		return err
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if l.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('breach-ledger-fold-' || $1::text))`, incident); err != nil {
			return err
		}
	}
	recs, err := l.readRecords(ctx, tx, incRef)
	if err != nil {
		return err
	}
	if len(recs) == 0 {
		return nil
	}
	type state struct {
		batch   int64
		outcome int
	}
	// Records a group at a time, in order, so that memory stays bounded: within a group, the
	// last record of a subject wins (a possibly duplicated one sticks), as the upsert does
	// between groups.
	for start := 0; start < len(recs); start += foldRecords {
		group := recs[start:min(start+foldRecords, len(recs))]
		final := map[string]state{}
		for i := range group {
			r := &group[i]
			for _, k := range r.keys {
				st := final[k]
				if o := apply(st.outcome, r); o != st.outcome || st.outcome != possiblyDuplicatedCode {
					final[k] = state{batch: r.batch, outcome: o}
				}
			}
			r.keys = nil
		}
		rows := make([]compactRow, 0, len(final))
		for k, st := range final {
			rows = append(rows, compactRow{subject: []byte(k), batch: st.batch, outcome: st.outcome})
		}
		if err := l.upsertCompact(ctx, tx, incRef, rows); err != nil {
			return err
		}
	}
	for start := 0; start < len(recs); start += 500 {
		chunk := recs[start:min(start+500, len(recs))]
		args := make([]any, 0, len(chunk))
		for _, r := range chunk {
			args = append(args, r.seq)
		}
		if _, err := tx.ExecContext(ctx, l.rebind(`DELETE FROM notify_records WHERE seq IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`), args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Account is the incident's subjects counted per outcome (every outcome present, zero when
// none) and, sorted, the keys of those possibly duplicated: Progress's Subjects and
// PossiblyDuplicated in one reading.
func (l *Ledger) Account(ctx context.Context, incident string) (map[Outcome]int, []string, error) {
	counts := map[Outcome]int{}
	for _, o := range Outcomes {
		counts[o] = 0
	}
	// Incidents begun before the compact tables.
	if err := l.countOutcomes(ctx, counts, `SELECT outcome, COUNT(*) FROM notify_subjects WHERE incident_id = ? GROUP BY outcome`, incident); err != nil {
		return nil, nil, fmt.Errorf("ledger: account of %s: %w", incident, err)
	}
	pd, err := l.legacyPossiblyDuplicated(ctx, incident)
	if err != nil {
		return nil, nil, fmt.Errorf("ledger: account of %s: %w", incident, err)
	}
	if err := l.accountCompact(ctx, incident, counts, &pd); err != nil {
		return nil, nil, fmt.Errorf("ledger: account of %s: %w", incident, err)
	}
	// Sorted here, not in SQL: byte order, whatever the database's collation.
	sort.Strings(pd)
	return counts, pd, nil
}

// accountCompact counts the outcomes of notify_outcomes and notify_records together, as if
// the records were folded, without writing: the records are sorted by subject in memory
// and merged with the table's rows, read in subject order.
func (l *Ledger) accountCompact(ctx context.Context, incident string, counts map[Outcome]int, pd *[]string) error {
	incRef, ok, err := l.incidentRef(ctx, l.db, incident)
	if err != nil || !ok {
		return err
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if l.dialect == postgresDialect {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := l.db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	recs, err := l.readRecords(ctx, tx, incRef)
	if err != nil {
		return err
	}
	pending := sortRecords(recs)
	count := func(key string, outcome int) {
		if outcome == 0 {
			return
		}
		counts[outcomeOf(outcome)]++
		if outcome == possiblyDuplicatedCode {
			*pd = append(*pd, decodeSubject([]byte(key)))
		}
	}
	entries, next := pending.entries, pending.next
	rows, err := tx.QueryContext(ctx, l.rebind(`SELECT subject, outcome FROM notify_outcomes WHERE incident = ? ORDER BY subject`), incRef)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	var prev string
	for rows.Next() {
		var raw []byte
		var outcome int
		if err := rows.Scan(&raw, &outcome); err != nil {
			return err
		}
		key := string(raw)
		if key < prev {
			return errors.New("notify_outcomes not read in byte order")
		}
		prev = key
		for i < len(entries) && entries[i].key < key {
			var o int
			o, i = next(i, 0)
			count(entries[i-1].key, o)
		}
		if i < len(entries) && entries[i].key == key {
			outcome, i = next(i, outcome)
		}
		count(key, outcome)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for i < len(entries) {
		var o int
		o, i = next(i, 0)
		count(entries[i-1].key, o)
	}
	return nil
}

// recordEntry is one subject of one record, recordEntries the records' subjects in order.
type recordEntry struct {
	key string
	rec int32
}

type recordEntries struct {
	recs    []record
	entries []recordEntry
}

// sortRecords orders the subjects of recs by subject, then in the order the records were
// written; the records keep their outcomes, not their keys.
func sortRecords(recs []record) recordEntries {
	n := 0
	for _, r := range recs {
		n += len(r.keys)
	}
	entries := make([]recordEntry, 0, n)
	for i, r := range recs {
		for _, k := range r.keys {
			entries = append(entries, recordEntry{k, int32(i)})
		}
		recs[i].keys = nil
	}
	slices.SortFunc(entries, func(a, b recordEntry) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return int(a.rec - b.rec)
	})
	return recordEntries{recs: recs, entries: entries}
}

// next applies the records of entries[i:]'s first subject to cur; it returns the outcome and
// the index past them.
func (e recordEntries) next(i, cur int) (int, int) {
	k := e.entries[i].key
	for ; i < len(e.entries) && e.entries[i].key == k; i++ {
		cur = apply(cur, &e.recs[e.entries[i].rec])
	}
	return cur, i
}

// compactInsert is the upsert of n subjects' outcomes into notify_outcomes.
func (l *Ledger) compactInsert(n int) string {
	var q strings.Builder
	q.WriteString(`INSERT INTO notify_outcomes (incident, subject, batch, outcome) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString("(?, ?, ?, ?)")
	}
	q.WriteString(` ON CONFLICT (incident, subject) DO UPDATE SET
		outcome = excluded.outcome, batch = excluded.batch
		WHERE notify_outcomes.outcome <> ` + strconv.Itoa(possiblyDuplicatedCode) + `
		AND (notify_outcomes.outcome <> excluded.outcome OR notify_outcomes.batch <> excluded.batch)`)
	return l.rebind(q.String())
}

// writeLegacy upserts outcomes into notify_subjects, for incidents begun there.
func (l *Ledger) writeLegacy(ctx context.Context, tx *sql.Tx, incident string, uniq []SubjectOutcome) error {
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
			return err
		}
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

// Subject reads one subject's outcome; ErrNotFound when none was recorded. It folds the
// incident's records first (see fold): the first lookup after many batches takes a while.
func (l *Ledger) Subject(ctx context.Context, incident, subjectKey string) (SubjectOutcome, error) {
	var o SubjectOutcome
	if err := l.fold(ctx, incident); err != nil {
		return SubjectOutcome{}, fmt.Errorf("ledger: read subject %s of %s: %w", subjectKey, incident, err)
	}
	if strings.IndexByte(subjectKey, 0) < 0 {
		var code int
		err := l.db.QueryRowContext(ctx, l.rebind(`SELECT o.outcome, COALESCE(b.batch_key, '')
			FROM notify_refs i JOIN notify_outcomes o ON o.incident = i.id
			LEFT JOIN notify_refs b ON b.id = o.batch
			WHERE i.incident_id = ? AND i.batch_key = '' AND o.subject = ?`), incident, encodeSubject(subjectKey)).Scan(&code, &o.BatchKey)
		switch {
		case err == nil:
			o.SubjectKey, o.Outcome = subjectKey, outcomeOf(code)
			return o, nil
		case !errors.Is(err, sql.ErrNoRows):
			return SubjectOutcome{}, fmt.Errorf("ledger: read subject %s of %s: %w", subjectKey, incident, err)
		}
	}
	// Not in the compact table: maybe in the one of incidents begun before it.
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

// lookupRows is how many subjects one lookup query of Subjects names.
const lookupRows = 500

// Subjects reads the outcomes of several subjects at once, by subject key; subjects with no
// outcome are absent from the map. Like Subject, it folds the incident's records first.
func (l *Ledger) Subjects(ctx context.Context, incident string, keys []string) (map[string]SubjectOutcome, error) {
	out := make(map[string]SubjectOutcome, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if err := l.fold(ctx, incident); err != nil {
		return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
	}
	var rest []string
	for start := 0; start < len(keys); start += lookupRows {
		chunk := keys[start:min(start+lookupRows, len(keys))]
		args := []any{incident}
		for _, k := range chunk {
			args = append(args, encodeSubject(k))
		}
		rows, err := l.db.QueryContext(ctx, l.rebind(`SELECT o.subject, o.outcome, COALESCE(b.batch_key, '')
			FROM notify_refs i JOIN notify_outcomes o ON o.incident = i.id
			LEFT JOIN notify_refs b ON b.id = o.batch
			WHERE i.incident_id = ? AND i.batch_key = '' AND o.subject IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
		}
		for rows.Next() {
			var raw []byte
			var code int
			var o SubjectOutcome
			if err := rows.Scan(&raw, &code, &o.BatchKey); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
			}
			o.SubjectKey, o.Outcome = decodeSubject(raw), outcomeOf(code)
			out[o.SubjectKey] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
		}
	}
	for _, k := range keys {
		if _, ok := out[k]; !ok {
			rest = append(rest, k)
		}
	}
	// Not in the compact table: maybe in the one of incidents begun before it.
	for start := 0; start < len(rest); start += lookupRows {
		chunk := rest[start:min(start+lookupRows, len(rest))]
		args := []any{incident}
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := l.db.QueryContext(ctx, l.rebind(`SELECT subject_key, batch_key, outcome FROM notify_subjects
			WHERE incident_id = ? AND subject_key IN (?`+strings.Repeat(`, ?`, len(chunk)-1)+`)`), args...)
		if err != nil {
			return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
		}
		for rows.Next() {
			var o SubjectOutcome
			var outcome string
			if err := rows.Scan(&o.SubjectKey, &o.BatchKey, &outcome); err != nil {
				rows.Close()
				return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
			}
			o.Outcome = Outcome(outcome)
			out[o.SubjectKey] = o
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("ledger: read subjects of %s: %w", incident, err)
		}
	}
	return out, nil
}

// Progress counts the incident's batches per state and subjects per outcome. Every state
// and outcome is present in the maps, zero when none.
func (l *Ledger) Progress(ctx context.Context, incident string) (Progress, error) {
	p, _, err := l.Report(ctx, incident)
	return p, err
}

// Report is Progress and PossiblyDuplicated in one reading of the subjects.
func (l *Ledger) Report(ctx context.Context, incident string) (Progress, []string, error) {
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
		return Progress{}, nil, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	for rows.Next() {
		var state string
		var n, recipients int
		if err := rows.Scan(&state, &n, &recipients); err != nil {
			rows.Close()
			return Progress{}, nil, fmt.Errorf("ledger: progress of %s: %w", incident, err)
		}
		p.Batches[BatchState(state)] = n
		p.Recipients += recipients
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Progress{}, nil, fmt.Errorf("ledger: progress of %s: %w", incident, err)
	}
	subjects, pd, err := l.Account(ctx, incident)
	if err != nil {
		return Progress{}, nil, err
	}
	p.Subjects = subjects
	return p, pd, nil
}

// countOutcomes adds the (outcome, count) rows of query q to counts. The outcome is a name or
// a code.
func (l *Ledger) countOutcomes(ctx context.Context, counts map[Outcome]int, q, incident string) error {
	rows, err := l.db.QueryContext(ctx, l.rebind(q), incident)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var outcome any
		var n int
		if err := rows.Scan(&outcome, &n); err != nil {
			return err
		}
		switch v := outcome.(type) {
		case string:
			counts[Outcome(v)] += n
		case []byte:
			counts[Outcome(v)] += n
		case int64:
			counts[outcomeOf(int(v))] += n
		case int32:
			counts[outcomeOf(int(v))] += n
		case int16:
			counts[outcomeOf(int(v))] += n
		default:
			return fmt.Errorf("outcome of type %T", outcome)
		}
	}
	return rows.Err()
}

// PossiblyDuplicated lists, sorted, the subject keys that may have received two notices,
// for the incident report.
func (l *Ledger) PossiblyDuplicated(ctx context.Context, incident string) ([]string, error) {
	_, pd, err := l.Account(ctx, incident)
	return pd, err
}

// legacyPossiblyDuplicated lists the possibly duplicated subjects in notify_subjects.
func (l *Ledger) legacyPossiblyDuplicated(ctx context.Context, incident string) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, l.rebind(`SELECT subject_key FROM notify_subjects
		WHERE incident_id = ? AND outcome = 'possibly_duplicated'`), incident)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
