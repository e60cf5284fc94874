package register

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"

	"github.com/breachops/breach/internal/redact"
)

// The PostgreSQL register is one table of entries, in the schema the DSN's search_path names
// first, with its head in a second table. Triggers refuse UPDATE, DELETE and TRUNCATE of the
// entries; whoever can drop them could still change an entry, and Verify would name it.

var postgresSchema = []string{
	`CREATE TABLE IF NOT EXISTS breach_register (
		seq         BIGINT      PRIMARY KEY,
		incident_id TEXT        NOT NULL,
		version     INTEGER     NOT NULL,
		recorded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
		hash        TEXT        NOT NULL,
		body        TEXT        NOT NULL,
		UNIQUE (incident_id, version)
	)`,
	`CREATE TABLE IF NOT EXISTS breach_register_head (
		one  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
		seq  BIGINT  NOT NULL,
		hash TEXT    NOT NULL
	)`,
	`CREATE OR REPLACE FUNCTION breach_register_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN
		RAISE EXCEPTION 'the breach register is append-only: % refused', TG_OP;
	END $$`,
	`DO $$ BEGIN
		IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'breach_register_append_only'
				AND tgrelid = to_regclass(quote_ident(current_schema()) || '.breach_register')) THEN
			CREATE TRIGGER breach_register_append_only BEFORE UPDATE OR DELETE ON breach_register
				FOR EACH ROW EXECUTE FUNCTION breach_register_refuse();
			CREATE TRIGGER breach_register_no_truncate BEFORE TRUNCATE ON breach_register
				FOR EACH STATEMENT EXECUTE FUNCTION breach_register_refuse();
		END IF;
	END $$`,
}

type postgres struct {
	db     *sql.DB
	dsn    string // redacted
	schema string
}

// OpenPostgres opens the register in the PostgreSQL database at dsn (postgres://…), creating
// its tables when needed.
func OpenPostgres(ctx context.Context, dsn string) (*Register, error) {
	shown := redact.DSN(dsn)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("register: open %s: %w", shown, redact.Error(err))
	}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("register: connect to %s: %w; check BREACH_REGISTER_DSN and that PostgreSQL runs", shown, redact.Error(err))
	}
	p := &postgres{db: db, dsn: shown}
	if err := p.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("register: create the tables in %s: %w", shown, redact.Error(err))
	}
	return &Register{b: p}, nil
}

func (p *postgres) migrate(ctx context.Context) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// Scoped to the schema, so that registers in other schemas do not wait on each other.
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('breach-register-' || current_schema()))`); err != nil {
		return fmt.Errorf("lock: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&p.schema); err != nil {
		return err
	}
	for _, stmt := range postgresSchema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (p *postgres) where() string {
	return fmt.Sprintf("table %s.breach_register at %s", p.schema, p.dsn)
}

func (p *postgres) rowWhere(seq int64) string {
	return fmt.Sprintf("%s.breach_register row seq=%d", p.schema, seq)
}

func (p *postgres) close() error { return p.db.Close() }

const selectEntries = `SELECT seq, incident_id, version, hash, body FROM breach_register`

type rowScanner interface{ Scan(dest ...any) error }

func (p *postgres) scanRow(r rowScanner) (stored, error) {
	var s stored
	var body string
	if err := r.Scan(&s.Seq, &s.IncidentID, &s.Version, &s.Hash, &body); err != nil {
		return s, err
	}
	s.Body, s.Where = []byte(body), p.rowWhere(s.Seq)
	return s, nil
}

func (p *postgres) scan(ctx context.Context, incidentID string) ([]stored, []Problem, error) {
	q, args := selectEntries+` ORDER BY seq`, []any{}
	if incidentID != "" {
		q, args = selectEntries+` WHERE incident_id = $1 ORDER BY seq`, []any{incidentID}
	}
	rows, err := p.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("register: read %s: %w", p.where(), redact.Error(err))
	}
	defer rows.Close()
	var out []stored
	for rows.Next() {
		s, err := p.scanRow(rows)
		if err != nil {
			return nil, nil, fmt.Errorf("register: read %s: %w", p.where(), redact.Error(err))
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("register: read %s: %w", p.where(), redact.Error(err))
	}
	return out, nil, nil
}

func (p *postgres) head(ctx context.Context) (*head, error) {
	var h head
	err := p.db.QueryRowContext(ctx, `SELECT seq, hash FROM breach_register_head WHERE one`).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register: read the head of %s: %w", p.where(), redact.Error(err))
	}
	return &h, nil
}

func (p *postgres) append(ctx context.Context, incidentID string, build func(last, latest *stored) (*stored, error)) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("register: %s: %w", p.where(), redact.Error(err))
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('breach-register-' || current_schema()))`); err != nil {
		return fmt.Errorf("register: lock %s: %w", p.where(), redact.Error(err))
	}
	last, err := p.one(tx.QueryRowContext(ctx, selectEntries+` ORDER BY seq DESC LIMIT 1`))
	if err != nil {
		return err
	}
	latest, err := p.one(tx.QueryRowContext(ctx, selectEntries+` WHERE incident_id = $1 ORDER BY version DESC LIMIT 1`, incidentID))
	if err != nil {
		return err
	}
	s, err := build(last, latest)
	if err != nil || s == nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO breach_register (seq, incident_id, version, hash, body) VALUES ($1, $2, $3, $4, $5)`,
		s.Seq, s.IncidentID, s.Version, s.Hash, string(s.Body)); err != nil {
		return fmt.Errorf("register: write entry %d to %s: %w", s.Seq, p.where(), redact.Error(err))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO breach_register_head (one, seq, hash) VALUES (TRUE, $1, $2)
		ON CONFLICT (one) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash`, s.Seq, s.Hash); err != nil {
		return fmt.Errorf("register: move the head of %s: %w", p.where(), redact.Error(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("register: commit entry %d to %s: %w", s.Seq, p.where(), redact.Error(err))
	}
	return nil
}

// one reads the row r, or nil when there is none.
func (p *postgres) one(r *sql.Row) (*stored, error) {
	s, err := p.scanRow(r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("register: read %s: %w", p.where(), redact.Error(err))
	}
	return &s, nil
}
