package register

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// ErrNotFound is an incident that is not in the register.
var ErrNotFound = errors.New("not in the register")

// InputError is a request the register refuses as it is (a bad field, an empty reason):
// asking again unchanged cannot succeed.
type InputError struct{ msg string }

func (e *InputError) Error() string { return e.msg }

func inputErrorf(format string, args ...any) error {
	return &InputError{fmt.Sprintf(format, args...)}
}

// stored is an entry as a backend keeps it: its encoding, exactly as hashed, and its hash.
type stored struct {
	Seq        int64
	IncidentID string
	Version    int
	Hash       string
	Body       []byte
	// Where names the stored entry for a person: a file, a table row.
	Where string
}

// head is the register's last entry as the backend last recorded it: removing the newest
// entries leaves the head naming an entry that is gone.
type head struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// backend keeps the entries: a directory of files, or a PostgreSQL table.
type backend interface {
	// append runs build while no one else appends, with the register's last entry and the
	// incident's latest version (nil when there is none), and stores the entry build returns
	// (nothing when it returns nil) with the head.
	append(ctx context.Context, incidentID string, build func(last, latest *stored) (*stored, error)) error
	// scan returns the entries of one incident, or of the whole register for "", in order;
	// entries it cannot read are problems.
	scan(ctx context.Context, incidentID string) ([]stored, []Problem, error)
	head(ctx context.Context) (*head, error)
	where() string
	close() error
}

// Register is the breach register, in a directory (OpenFiles) or in PostgreSQL
// (OpenPostgres). Safe for concurrent use, by several processes too.
type Register struct {
	b backend
	// Now stamps new versions; time.Now when nil.
	Now func() time.Time
}

// Open opens the register at dsn when it is a postgres:// or postgresql:// URL, else in the
// directory dir.
func Open(ctx context.Context, dsn, dir string) (*Register, error) {
	if IsPostgres(dsn) {
		return OpenPostgres(ctx, dsn)
	}
	return OpenFiles(dir)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Where says where the register is kept, without secrets.
func (r *Register) Where() string { return r.b.where() }

// Close releases the register's resources.
func (r *Register) Close() error { return r.b.close() }

func (r *Register) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Record makes c the incident's latest version, unless the latest version already records the
// same content: recording twice what one incident said (an activity retried) keeps one
// version. It reports whether a version was added.
func (r *Register) Record(ctx context.Context, c Content) (Entry, bool, error) {
	if err := incident.ValidateID(c.IncidentID); err != nil {
		return Entry{}, false, inputErrorf("register: %v", err)
	}
	c = normalise(c)
	var out Entry
	added := false
	err := r.b.append(ctx, c.IncidentID, func(last, latest *stored) (*stored, error) {
		e := Entry{IncidentID: c.IncidentID, Version: 1, RecordedAt: r.now(), Content: c}
		var prev *Content
		if latest != nil {
			l, err := parseStored(latest)
			if err != nil {
				return nil, err
			}
			if sameContent(l.Content, c) {
				out = l
				return nil, nil
			}
			prev = &l.Content
			e.Version, e.PrevVersion, e.Corrections = l.Version+1, l.Hash, l.Corrections
		}
		e.Change = Describe(prev, c)
		s, err := chain(&e, last)
		out, added = e, err == nil
		return s, err
	})
	if err != nil {
		return Entry{}, false, err
	}
	return out, added, nil
}

// Import records c as the incident's first version, with change saying where it came from,
// unless the incident is in the register already. It reports whether it was added.
func (r *Register) Import(ctx context.Context, c Content, change string) (Entry, bool, error) {
	if err := incident.ValidateID(c.IncidentID); err != nil {
		return Entry{}, false, inputErrorf("register: %v", err)
	}
	c = normalise(c)
	var out Entry
	added := false
	err := r.b.append(ctx, c.IncidentID, func(last, latest *stored) (*stored, error) {
		if latest != nil {
			l, err := parseStored(latest)
			out = l
			return nil, err
		}
		e := Entry{IncidentID: c.IncidentID, Version: 1, RecordedAt: r.now(), Content: c, Change: change}
		s, err := chain(&e, last)
		out, added = e, err == nil
		return s, err
	})
	if err != nil {
		return Entry{}, false, err
	}
	return out, added, nil
}

// CorrectRequest asks for a correction: Field is to read Value, for Reason, by By.
type CorrectRequest struct {
	Field  string `json:"field"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	By     string `json:"by"`
	// Signature, when given, is By's signature of the request without it (incident.Sign).
	Signature *incident.Signature `json:"signature,omitempty"`
}

// Unsigned is the request as its signature covers it.
func (q CorrectRequest) Unsigned() CorrectRequest {
	q.Signature = nil
	return q
}

// SignedUpdate names what a correction's signature signs, as Updates name theirs.
const SignedUpdate = "register-correct"

// Correct adds a version of the incident's entry in which the field reads the value, recording
// who corrected it, when and why; every earlier version keeps what it said.
func (r *Register) Correct(ctx context.Context, incidentID string, q CorrectRequest) (Entry, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return Entry{}, inputErrorf("%v", err)
	}
	field, value := q.Field, q.Value
	if _, ok := Correctable[field]; !ok {
		return Entry{}, inputErrorf("%q cannot be corrected; correctable fields: %s", field, strings.Join(CorrectableFields(), ", "))
	}
	if strings.TrimSpace(q.Reason) == "" {
		return Entry{}, inputErrorf("a correction needs its reason: the register keeps why it changed")
	}
	if strings.TrimSpace(q.By) == "" {
		return Entry{}, inputErrorf("a correction needs who made it")
	}
	var out Entry
	err := r.b.append(ctx, incidentID, func(last, latest *stored) (*stored, error) {
		if latest == nil {
			return nil, fmt.Errorf("%s is %w", incidentID, ErrNotFound)
		}
		l, err := parseStored(latest)
		if err != nil {
			return nil, err
		}
		now := l.Effective()
		p, err := fieldOf(&now, field)
		if err != nil {
			return nil, &InputError{err.Error()}
		}
		if *p == value {
			return nil, inputErrorf("%s of %s already reads so; nothing to correct", field, incidentID)
		}
		e := Entry{IncidentID: incidentID, Version: l.Version + 1, RecordedAt: r.now(), Content: l.Content,
			PrevVersion: l.Hash, Change: fmt.Sprintf("correction of %s by %s: %s", field, q.By, q.Reason)}
		e.Corrections = append(append([]Correction{}, l.Corrections...), Correction{Version: e.Version, Field: field,
			From: *p, To: value, Reason: q.Reason, By: q.By, At: e.RecordedAt, Signature: q.Signature})
		s, err := chain(&e, last)
		out = e
		return s, err
	})
	if err != nil {
		return Entry{}, err
	}
	return out, nil
}

// chain links e after last, the register's last entry, and seals it.
func chain(e *Entry, last *stored) (*stored, error) {
	e.Seq = 1
	if last != nil {
		e.Seq, e.Prev = last.Seq+1, last.Hash
	}
	body, err := seal(e)
	if err != nil {
		return nil, err
	}
	return &stored{Seq: e.Seq, IncidentID: e.IncidentID, Version: e.Version, Hash: e.Hash, Body: body}, nil
}

func parseStored(s *stored) (Entry, error) {
	e, err := parseEntry(s.Body)
	if err != nil {
		return Entry{}, fmt.Errorf("register entry %s cannot be read (%v): run breach register verify", s.Where, err)
	}
	e.Hash = s.Hash
	return e, nil
}

// History returns every version of the incident's entry, oldest first.
func (r *Register) History(ctx context.Context, incidentID string) ([]Entry, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return nil, inputErrorf("%v", err)
	}
	entries, err := r.read(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s is %w", incidentID, ErrNotFound)
	}
	return entries, nil
}

// Latest returns the latest version of every incident's entry, by time of awareness.
func (r *Register) Latest(ctx context.Context) ([]Entry, error) {
	entries, err := r.read(ctx, "")
	if err != nil {
		return nil, err
	}
	latest := map[string]Entry{}
	for _, e := range entries {
		if l, ok := latest[e.IncidentID]; !ok || e.Version > l.Version {
			latest[e.IncidentID] = e
		}
	}
	out := make([]Entry, 0, len(latest))
	for _, e := range latest {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i].Content.AwareAt, out[j].Content.AwareAt
		if !a.Equal(b) {
			return a.Before(b)
		}
		return out[i].IncidentID < out[j].IncidentID
	})
	return out, nil
}

func (r *Register) read(ctx context.Context, incidentID string) ([]Entry, error) {
	raw, problems, err := r.b.scan(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("the register at %s cannot be read: %s; run breach register verify", r.Where(), problems[0])
	}
	out := make([]Entry, 0, len(raw))
	for i := range raw {
		e, err := parseStored(&raw[i])
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}
