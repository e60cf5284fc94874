// Package subjects reads the dataset of affected data subjects as a stream. It reports problems
// by line number and kind, never by content, so its reports can travel where personal data may
// not (workflow history, logs, chat).
package subjects

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/rules"
)

// Row is one data subject as read from the dataset. It holds personal data: it must stay inside
// activities.
type Row struct {
	// Index is the row's position among the data rows, from 1.
	Index        int
	Line         int
	ID           string
	Email        string
	Name         string
	Jurisdiction string // ISO 3166-1 alpha-2, or US-XX for a US state
	Categories   []string
	// Problem is set when the row cannot be used as it is.
	Problem *Issue
}

// Issue kinds.
const (
	IssueMissingValue        = "missing-value"
	IssueMissingColumns      = "missing-columns"
	IssueInvalidEmail        = "invalid-email"
	IssueInvalidJurisdiction = "invalid-jurisdiction"
	IssueDuplicate           = "duplicate-subject"
	IssueMalformed           = "malformed-row"
)

// Issue is a problem found on one line. It carries no personal data.
type Issue struct {
	Row    int    `json:"row"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Column string `json:"column,omitempty"`
}

func (i Issue) String() string {
	if i.Column != "" {
		return fmt.Sprintf("line %d: %s (%s)", i.Line, i.Kind, i.Column)
	}
	return fmt.Sprintf("line %d: %s", i.Line, i.Kind)
}

// MissingColumnError reports a required column absent from the header.
type MissingColumnError struct {
	Column string
	Have   []string
}

func (e *MissingColumnError) Error() string {
	return fmt.Sprintf("subjects dataset: required column %q is missing from the header row (found: %s); add it, or rename the column that holds it",
		e.Column, strings.Join(e.Have, ", "))
}

// Column names and the aliases accepted for them (case-insensitive).
var columnAliases = map[string][]string{
	"id":              {"id", "subject_id", "customer_id"},
	"email":           {"email", "email_address", "e-mail"},
	"name":            {"name", "full_name"},
	"country":         {"country", "country_code", "jurisdiction"},
	"state":           {"state", "region", "us_state"},
	"data_categories": {"data_categories", "categories", "data"},
}

var requiredColumns = []string{"id", "email", "country"}

// Header maps our column names to field positions.
type Header struct {
	Names []string
	pos   map[string]int
}

// ParseHeader reads the header record.
func ParseHeader(record []string) (Header, error) {
	h := Header{pos: map[string]int{}}
	for i, raw := range record {
		name := strings.ToLower(strings.TrimSpace(raw))
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		h.Names = append(h.Names, name)
		for col, aliases := range columnAliases {
			for _, a := range aliases {
				if name == a {
					if _, dup := h.pos[col]; !dup {
						h.pos[col] = i
					}
				}
			}
		}
	}
	for _, col := range requiredColumns {
		if _, ok := h.pos[col]; !ok {
			return Header{}, &MissingColumnError{Column: col, Have: h.Names}
		}
	}
	return h, nil
}

// Reader streams rows from a CSV dataset.
type Reader struct {
	r        *csv.Reader
	header   Header
	base     int64 // byte offset of r's input in the file
	line0    int   // line number of r's first line, minus one
	nextLine int
	index    int // data rows returned so far, including those before a Resume
	seen     *Seen
}

// Seen remembers which subjects were read already, to flag duplicates. It keeps 64-bit hashes,
// not the values.
type Seen struct {
	ids, emails map[uint64]struct{}
}

// NewSeen returns an empty duplicate tracker.
func NewSeen() *Seen {
	return &Seen{ids: map[uint64]struct{}{}, emails: map[uint64]struct{}{}}
}

func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// add reports whether id or email was seen before, and records both.
func (s *Seen) add(id, email string) bool {
	hi, he := fnv64(id), fnv64(mail.Normalize(email))
	_, dupID := s.ids[hi]
	_, dupEmail := s.emails[he]
	s.ids[hi] = struct{}{}
	if email != "" {
		s.emails[he] = struct{}{}
	} else {
		dupEmail = false
	}
	return dupID || dupEmail
}

// NewReader reads the header from r and returns a reader positioned at the first data row.
// seen may be nil (no duplicate detection).
func NewReader(r io.Reader, seen *Seen) (*Reader, error) {
	// The byte order mark goes before the CSV reader sees it: left in, it makes a quoted first
	// header field a syntax error.
	br := bufio.NewReaderSize(r, 64<<10)
	var base int64
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		br.Discard(len(bom))
		base = int64(len(bom))
	}
	cr := newCSV(br)
	rec, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("subjects dataset is empty: the first line must be a header row (id,email,name,country,data_categories)")
	}
	if err != nil {
		return nil, fmt.Errorf("subjects dataset header: %w", err)
	}
	h, err := ParseHeader(rec)
	if err != nil {
		return nil, err
	}
	rd := &Reader{r: cr, header: h, base: base, seen: seen}
	rd.nextLine = rd.endLine(rec)
	return rd, nil
}

// Position is where a reader stands in a dataset: enough to resume reading there.
type Position struct {
	Offset int64 `json:"offset"` // byte offset of the next row
	Line   int   `json:"line"`   // line number of the next row
	Index  int   `json:"index"`  // data rows before the next row
}

// Resume returns a reader over r, which must start at byte offset pos.Offset of the dataset,
// a Position returned by a reader of the same dataset.
func Resume(r io.Reader, h Header, pos Position, seen *Seen) *Reader {
	return &Reader{r: newCSV(r), header: h, base: pos.Offset, line0: pos.Line - 1, nextLine: pos.Line, index: pos.Index, seen: seen}
}

// Position returns where the next row starts.
func (r *Reader) Position() Position {
	return Position{Offset: r.base + r.r.InputOffset(), Line: r.nextLine, Index: r.index}
}

// endLine returns the line after the record just read.
func (r *Reader) endLine(rec []string) int {
	if len(rec) == 0 {
		return r.nextLine + 1
	}
	l, _ := r.r.FieldPos(len(rec) - 1)
	return r.line0 + l + strings.Count(rec[len(rec)-1], "\n") + 1
}

const bom = "\ufeff"

func newCSV(r io.Reader) *csv.Reader {
	cr := csv.NewReader(bufio.NewReaderSize(r, 64<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	return cr
}

// Header returns the dataset's header.
func (r *Reader) Header() Header { return r.header }

// Next returns the next row, or io.EOF. A row that cannot be used has Problem set; a syntax
// error that the CSV reader cannot recover from is returned as an error naming the line.
func (r *Reader) Next() (Row, error) {
	var rec []string
	var line int
	// A loop, not recursion, over blank lines: a file of millions of them must not overflow the
	// stack.
	for {
		var err error
		rec, err = r.r.Read()
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return Row{}, fmt.Errorf("subjects dataset line %d: %v; fix the quoting on that line", r.line0+pe.StartLine, pe.Err)
			}
			return Row{}, err
		}
		line, _ = r.r.FieldPos(0)
		r.nextLine = r.endLine(rec)
		if len(rec) != 1 || strings.TrimSpace(rec[0]) != "" {
			break
		}
	}
	r.index++
	row := Row{Index: r.index, Line: r.line0 + line}
	get := func(col string) (string, bool) {
		i, ok := r.header.pos[col]
		if !ok {
			return "", true
		}
		if i >= len(rec) {
			return "", false
		}
		return strings.TrimSpace(rec[i]), true
	}
	var missingCols []string
	field := func(col string) string {
		v, ok := get(col)
		if !ok {
			missingCols = append(missingCols, col)
		}
		return v
	}
	row.ID = field("id")
	row.Email = field("email")
	row.Name = field("name")
	country := strings.ToUpper(field("country"))
	state := strings.ToUpper(field("state"))
	if cats := field("data_categories"); cats != "" {
		for _, c := range strings.FieldsFunc(cats, func(r rune) bool { return r == ';' || r == '|' }) {
			// A category listed twice is still one record of that subject.
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && !slices.Contains(row.Categories, c) {
				row.Categories = append(row.Categories, c)
			}
		}
	}
	row.Jurisdiction = jurisdiction(country, state)
	switch {
	case len(missingCols) > 0:
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueMissingColumns, Column: strings.Join(missingCols, ",")}
	case row.ID == "":
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueMissingValue, Column: "id"}
	case country == "":
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueMissingValue, Column: "country"}
	case !validJurisdiction(row.Jurisdiction):
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueInvalidJurisdiction, Column: "country"}
	case row.Email == "":
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueMissingValue, Column: "email"}
	case !mail.ValidAddress(row.Email):
		row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueInvalidEmail, Column: "email"}
	}
	if r.seen != nil && row.IsSubject() {
		email := row.Email
		if !row.Mailable() {
			email = ""
		}
		if r.seen.add(row.ID, email) {
			row.Problem = &Issue{Row: row.Index, Line: row.Line, Kind: IssueDuplicate}
		}
	}
	return row, nil
}

// IsSubject reports whether the row identifies an affected subject: it has an id and a valid
// jurisdiction, whether or not its address can be mailed.
func (r Row) IsSubject() bool {
	return r.Problem == nil || r.Problem.Column == "email"
}

// Mailable reports whether the row's address can be sent a notice.
func (r Row) Mailable() bool { return r.Problem == nil }

func jurisdiction(country, state string) string {
	if country == "US" && state != "" {
		if strings.HasPrefix(state, "US-") {
			return state
		}
		return "US-" + state
	}
	return country
}

// validJurisdiction accepts exactly the codes the obligations engine knows, so that a scope it
// accepts can always be decided on.
func validJurisdiction(j string) bool { return rules.KnownJurisdiction(j) }
