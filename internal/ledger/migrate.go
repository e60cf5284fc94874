package ledger

import (
	"context"
	"fmt"
	"strings"
)

// migrations are applied in order, each once; never edit one that has shipped, append a new
// one. The SQL is common to SQLite and PostgreSQL, except that {without_rowid} becomes
// WITHOUT ROWID on SQLite (the primary key is the table: one b-tree to write, not two).
//
// notify_subjects has no index beyond its key: it takes a million rows per large incident,
// and Progress, which scans an incident's rows, is read rarely.
var migrations = [][]string{
	1: {
		`CREATE TABLE IF NOT EXISTS notify_batches (
			incident_id        TEXT    NOT NULL,
			batch_key          TEXT    NOT NULL,
			state              TEXT    NOT NULL,
			message_id         TEXT    NOT NULL DEFAULT '',
			recipients         INTEGER NOT NULL DEFAULT 0,
			attempts           INTEGER NOT NULL DEFAULT 0,
			ambiguous_attempts INTEGER NOT NULL DEFAULT 0,
			reason             TEXT    NOT NULL DEFAULT '',
			updated_at         TEXT    NOT NULL,
			PRIMARY KEY (incident_id, batch_key),
			CHECK (state IN ('planned', 'sending', 'accepted', 'ambiguous', 'failed'))
		){without_rowid}`,
		`CREATE INDEX IF NOT EXISTS notify_batches_state ON notify_batches (incident_id, state)`,
		`CREATE TABLE IF NOT EXISTS notify_subjects (
			incident_id TEXT NOT NULL,
			subject_key TEXT NOT NULL,
			batch_key   TEXT NOT NULL DEFAULT '',
			outcome     TEXT NOT NULL,
			updated_at  TEXT NOT NULL,
			PRIMARY KEY (incident_id, subject_key),
			CHECK (outcome IN ('sent', 'invalid_address', 'duplicate', 'rejected', 'possibly_duplicated'))
		){without_rowid}`,
	},
}

// migrate brings the schema up to date. Concurrent openers are serialized: by an advisory
// lock on PostgreSQL, by the immediate write transaction on SQLite.
func (l *Ledger) migrate(ctx context.Context) error {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if l.dialect == postgresDialect {
		// Scoped to the current schema, so parallel test schemas do not wait on each other.
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('breach-ledger-' || current_schema()))`); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS ledger_schema (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM ledger_schema`).Scan(&current); err != nil {
		return err
	}
	for v := current + 1; v < len(migrations); v++ {
		for _, stmt := range migrations[v] {
			if l.dialect == sqliteDialect {
				stmt = strings.ReplaceAll(stmt, "{without_rowid}", " WITHOUT ROWID")
			} else {
				stmt = strings.ReplaceAll(stmt, "{without_rowid}", "")
			}
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, l.rebind(`INSERT INTO ledger_schema (version, applied_at) VALUES (?, ?)`), v, l.stamp()); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
	}
	return tx.Commit()
}
