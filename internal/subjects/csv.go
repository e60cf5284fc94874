// Package subjects reads the dataset of affected data subjects as a stream. It reports problems
// by line number, kind and column (by our column name or its position), never by content, so
// its reports and errors can travel where personal data may not (workflow history, logs, chat).
// Not even the header row is quoted: a file without one has a customer's address and name
// where the header should be.
//
// The data_categories column takes the closed vocabulary of the rules (internal/rules,
// categories.yaml: contact, address, date-of-birth, order-history, payment-card-last4,
// financial, credentials, insurance, health, biometric, genetic, special-category, children,
// elderly, secrecy-protected, other), separated by ';' or '|', in any case. Any other value is
// counted as other, and its line is reported as unknown-category.
//
// Memory is bounded whatever the file holds: a record (a row, with any empty lines before it)
// longer than Limits.MaxRecord stops the reader with an error naming its line, without reading
// it into memory, and a value of a column the reader uses longer than Limits.MaxField makes the
// row a field-too-long problem.
package subjects

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/breachops/breach/incident"
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
	// Categories are the row's data categories, each a word of the vocabulary (unknown ones
	// are other).
	Categories []string
	// Language is the language the organisation writes to the subject in, as the optional
	// language column gives it (de, de-AT, pt_BR); empty when the dataset has none. The notice
	// reads it (internal/locale), the scope does not.
	Language string
	// Problem is set when the row cannot be used as it is.
	Problem *Issue
	// Note is a problem that leaves the row usable: an unknown data category, counted as other.
	Note *Issue
}

const (
	IssueMissingValue        = incident.IssueMissingValue
	IssueMissingColumns      = incident.IssueMissingColumns
	IssueInvalidEmail        = incident.IssueInvalidEmail
	IssueInvalidJurisdiction = incident.IssueInvalidJurisdiction
	IssueDuplicate           = incident.IssueDuplicate
	IssueMalformed           = incident.IssueMalformed
	IssueFieldTooLong        = incident.IssueFieldTooLong
	IssueUnknownCategory     = incident.IssueUnknownCategory
)

// Issue is a problem found on one line (incident.ScopeIssue).
type Issue = incident.ScopeIssue

// MissingColumnError reports a required column absent from the header. It names the header's
// fields by our column names and positions only: when the file has no header row, its first
// line is a customer's data.
type MissingColumnError struct {
	// Line is the header's line: 1, unless empty lines come first.
	Line   int
	Column string
	// Found lists the columns the header does name, as "email (column 2)".
	Found []string
	// Fields is the number of fields of the header row.
	Fields int
}

func (e *MissingColumnError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "subjects dataset line %d: required column %q", max(e.Line, 1), e.Column)
	if aliases := columnAliases[e.Column][1:]; len(aliases) > 0 {
		fmt.Fprintf(&b, " (or %s)", strings.Join(aliases, ", "))
	}
	b.WriteString(" is missing from the header row; ")
	other := e.Fields - len(e.Found)
	switch {
	case len(e.Found) == 0:
		fmt.Fprintf(&b, "none of its %d fields is a column name this reader knows, so the file may have no header row. ", e.Fields)
	default:
		fmt.Fprintf(&b, "it names %s", strings.Join(e.Found, ", "))
		if other > 0 {
			fmt.Fprintf(&b, ", and %d %s this reader does not use", other, plural(other, "column", "columns"))
		}
		b.WriteString(". ")
	}
	b.WriteString("The first line must be a header row naming the columns, e.g. " + exampleHeader + "; add the column, or rename the one that holds it")
	return b.String()
}

const exampleHeader = "id,email,name,country,state,data_categories"

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Column names and the aliases accepted for them (case-insensitive); the first is ours.
var columnAliases = map[string][]string{
	"id":              {"id", "subject_id", "customer_id"},
	"email":           {"email", "email_address", "e-mail"},
	"name":            {"name", "full_name"},
	"country":         {"country", "country_code", "jurisdiction"},
	"state":           {"state", "region", "us_state"},
	"data_categories": {"data_categories", "categories", "data"},
	"language":        {"language", "lang", "locale", "preferred_language"},
}

// columnOrder is the order columns are checked and named in.
var columnOrder = []string{"id", "email", "name", "country", "state", "data_categories", "language"}

var requiredColumns = []string{"id", "email", "country"}

// Columns are the columns the reader uses, by our names, in the order a dataset writes them.
func Columns() []string { return slices.Clone(columnOrder) }

// RequiredColumns are the columns a dataset must have.
func RequiredColumns() []string { return slices.Clone(requiredColumns) }

// Aliases are the other names a column may have in a header (customer_id for id).
func Aliases(column string) []string { return slices.Clone(columnAliases[column][1:]) }

// Column returns our name for a field of a header (id for "Customer_ID"), or false for a
// column the reader does not use.
func Column(field string) (string, bool) {
	name := strings.ToLower(strings.TrimSpace(field))
	for _, col := range columnOrder {
		if slices.Contains(columnAliases[col], name) {
			return col, true
		}
	}
	return "", false
}

// Header maps our column names to field positions.
type Header struct {
	pos    map[string]int
	limits Limits
}

// ParseHeader reads the header record.
func ParseHeader(record []string) (Header, error) {
	h := Header{pos: map[string]int{}}
	for i, raw := range record {
		if strings.ContainsRune(raw, '\r') {
			return Header{}, errCRLineEndings
		}
		name := strings.ToLower(strings.TrimSpace(raw))
		if i == 0 {
			name = strings.TrimPrefix(name, "\ufeff")
		}
		for col, aliases := range columnAliases {
			if _, dup := h.pos[col]; !dup && slices.Contains(aliases, name) {
				h.pos[col] = i
			}
		}
	}
	for _, col := range requiredColumns {
		if _, ok := h.pos[col]; !ok {
			var found []string
			for _, c := range columnOrder {
				if i, ok := h.pos[c]; ok {
					found = append(found, fmt.Sprintf("%s (column %d)", c, i+1))
				}
			}
			return Header{}, &MissingColumnError{Column: col, Found: found, Fields: len(record)}
		}
	}
	return h, nil
}

var errCRLineEndings = errors.New("the header row holds a carriage return: the file seems to use CR line endings (classic Mac OS); save it with LF or CRLF line endings")

// Limits bound the memory one reader takes, whatever the file holds. The zero value means the
// defaults.
type Limits struct {
	// MaxRecord is the longest a record may be in bytes: a row, with its line end and any
	// empty lines before it; a quoted value spanning lines counts whole. (A line of spaces is a
	// record of its own.) A longer one stops
	// the reader with an error naming its line (ErrRecordTooLong). Default DefaultMaxRecord.
	MaxRecord int
	// MaxField is the longest a value of a column the reader uses (id, email, name, country,
	// state, data_categories, language) may be in bytes; a longer one makes its row a field-too-long
	// problem. Other columns are bounded by MaxRecord only. Default DefaultMaxField.
	MaxField int
	// TempDir is where Scan sorts on disk what does not fit its run (default os.TempDir()).
	TempDir string
	// SortRun is how many subject keys Scan sorts in memory before it writes them out
	// (default DefaultSortRun); with it, Scan's memory does not grow with the dataset.
	SortRun int
}

// Default limits. A row of a real export (an id, an address of at most 254 bytes, a name, a
// country, a state, a few categories of the vocabulary) takes well under 1 KiB: a 10-million-row
// export is about 1 GB. 64 KiB per record is more than 50 times that, room for a few free-text
// columns we do not read, while a reader holds at most a few times 64 KiB. A single value of ours
// past 16 KiB is no name or address but a broken export (an unclosed quote swallowing rows).
const (
	DefaultMaxRecord = 64 << 10
	DefaultMaxField  = 16 << 10
	// MaxRecordLimit bounds what MaxRecord may be set to.
	MaxRecordLimit = 64 << 20
)

// DefaultLimits are the limits of NewReader, Resume and Scan.
var DefaultLimits = Limits{MaxRecord: DefaultMaxRecord, MaxField: DefaultMaxField}

func (l Limits) withDefaults() Limits {
	if l.MaxRecord <= 0 {
		l.MaxRecord = DefaultMaxRecord
	}
	if l.MaxField <= 0 {
		l.MaxField = min(DefaultMaxField, l.MaxRecord)
	}
	if l.SortRun <= 0 {
		l.SortRun = DefaultSortRun
	}
	return l
}

// Check reports limits that cannot work: a field cap above the record cap, or a record cap
// above MaxRecordLimit.
func (l Limits) Check() error {
	l = l.withDefaults()
	switch {
	case l.MaxRecord > MaxRecordLimit:
		return fmt.Errorf("record limit %d bytes: at most %d (64 MiB)", l.MaxRecord, MaxRecordLimit)
	case l.MaxField > l.MaxRecord:
		return fmt.Errorf("field limit %d bytes is above the record limit %d: a field is part of a record", l.MaxField, l.MaxRecord)
	}
	return nil
}

// ErrRecordTooLong is wrapped by the error of a record longer than Limits.MaxRecord.
var ErrRecordTooLong = errors.New("record too long")

// capReader hands out its input only up to limit, an offset the Reader moves past each record
// it reads, so the CSV reader never buffers more than one record's worth. Asked for more, it
// looks one byte ahead: at the end of the input it says so, else the record is too long.
type capReader struct {
	r     io.Reader
	n     int64 // bytes handed out
	limit int64
	over  bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if c.n >= c.limit {
		if !c.over {
			var b [1]byte
			n, err := io.ReadFull(c.r, b[:])
			if n == 0 {
				if errors.Is(err, io.ErrUnexpectedEOF) {
					err = io.EOF
				}
				return 0, err
			}
			// The byte is dropped: the reader stops here for good.
			c.over = true
		}
		return 0, ErrRecordTooLong
	}
	if rest := c.limit - c.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Reader streams rows from a CSV dataset.
type Reader struct {
	r        *csv.Reader
	cap      *capReader
	origin   int64 // cap's count at r's offset 0
	header   Header
	base     int64 // byte offset of r's input in the file
	line0    int   // line number of r's first line, minus one
	nextLine int
	index    int // data rows returned so far, including those before a Resume
	seen     *Seen
	err      error // a record too long: the reader cannot go on
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

// NewReader reads the header from r and returns a reader positioned at the first data row,
// with DefaultLimits. seen may be nil (no duplicate detection).
func NewReader(r io.Reader, seen *Seen) (*Reader, error) { return DefaultLimits.NewReader(r, seen) }

// NewReader is NewReader with the limits l.
func (l Limits) NewReader(r io.Reader, seen *Seen) (*Reader, error) {
	l = l.withDefaults()
	if err := l.Check(); err != nil {
		return nil, fmt.Errorf("subjects dataset: %w", err)
	}
	// The byte order mark goes before the CSV reader sees it: left in, it makes a quoted first
	// header field a syntax error.
	cr := &capReader{r: r, limit: int64(l.MaxRecord) + int64(len(bom))}
	br := bufio.NewReaderSize(cr, readBuffer)
	var base int64
	if b, _ := br.Peek(len(bom)); string(b) == bom {
		br.Discard(len(bom))
		base = int64(len(bom))
	}
	rd := &Reader{r: newCSV(br), cap: cr, origin: base, base: base, seen: seen, nextLine: 1}
	rd.header.limits = l
	rd.allowRecord()
	rec, err := rd.r.Read()
	if cr.over {
		return nil, fmt.Errorf("subjects dataset line 1: the header row is longer than %s, the longest a record may be; the file may use CR line endings (save it with LF or CRLF), or lack line ends: %w",
			size(l.MaxRecord), ErrRecordTooLong)
	}
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("subjects dataset is empty: the first line must be a header row (%s)", exampleHeader)
	}
	if err != nil {
		return nil, fmt.Errorf("subjects dataset header: %w", err)
	}
	h, err := ParseHeader(rec)
	if err != nil {
		line, _ := rd.r.FieldPos(0)
		var mce *MissingColumnError
		if errors.As(err, &mce) {
			mce.Line = line
			return nil, mce
		}
		return nil, fmt.Errorf("subjects dataset line %d: %w", line, err)
	}
	h.limits = l
	rd.header = h
	rd.nextLine = rd.endLine(rec)
	rd.allowRecord()
	return rd, nil
}

// readBuffer is the CSV reader's buffer.
const readBuffer = 64 << 10

// allowRecord lets the CSV reader read one more record from where it stands.
func (r *Reader) allowRecord() {
	r.cap.limit = r.origin + r.r.InputOffset() + int64(r.header.limits.MaxRecord)
}

// size prints a byte count the way the limits are usually given.
func size(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// Position is where a reader of a dataset stands (incident.DatasetPosition).
type Position = incident.DatasetPosition

// Resume returns a reader over r, which must start at byte offset pos.Offset of the dataset,
// a Position returned by a reader of the same dataset. It keeps the limits of the reader that
// read h.
func Resume(r io.Reader, h Header, pos Position, seen *Seen) *Reader {
	cr := &capReader{r: r}
	rd := &Reader{r: newCSV(cr), cap: cr, header: h, base: pos.Offset, line0: pos.Line - 1, nextLine: pos.Line, index: pos.Index, seen: seen}
	rd.header.limits = h.limits.withDefaults()
	rd.allowRecord()
	return rd
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
	cr := csv.NewReader(bufio.NewReaderSize(r, readBuffer))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = false
	return cr
}

// Header returns the dataset's header.
func (r *Reader) Header() Header { return r.header }

// Next returns the next row, or io.EOF. A row that cannot be used has Problem set; a syntax
// error that the CSV reader cannot recover from, and a record longer than the limit, are
// returned as errors naming the line.
func (r *Reader) Next() (Row, error) {
	if r.err != nil {
		return Row{}, r.err
	}
	rec, line, err := r.nextRecord()
	if err != nil {
		return Row{}, err
	}
	r.index++
	row := Row{Index: r.index, Line: r.line0 + line}
	if r.fieldsTooLong(&row, rec) {
		// The values stay unread: a row past the limit is reported, never used.
		return row, nil
	}
	r.readFields(&row, rec)
	return row, nil
}

// nextRecord reads the next record that is not a blank line, and returns it with the line
// (of the reader's CSV stream) its first field is on. A record longer than the limit is an
// error that sticks to the reader.
func (r *Reader) nextRecord() (rec []string, line int, err error) {
	// A loop, not recursion, over blank lines: a file of millions of them must not overflow the
	// stack.
	for {
		start := r.nextLine
		rec, err = r.r.Read()
		if r.cap.over {
			r.err = fmt.Errorf("subjects dataset line %d: the row starting there (with any empty lines before it) is longer than %s, the longest a record may be; "+
				"look for a quote that is never closed, or a file without line ends: %w", start, size(r.header.limits.MaxRecord), ErrRecordTooLong)
			return nil, 0, r.err
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, 0, fmt.Errorf("subjects dataset line %d: %v; fix the quoting on that line", r.line0+pe.StartLine, pe.Err)
			}
			return nil, 0, err
		}
		r.allowRecord()
		line, _ = r.r.FieldPos(0)
		r.nextLine = r.endLine(rec)
		if len(rec) != 1 || strings.TrimSpace(rec[0]) != "" {
			return rec, line, nil
		}
	}
}

// fieldsTooLong reports whether a field of rec that the dataset's columns name is longer
// than the limit, and if so sets row's Problem, naming them.
func (r *Reader) fieldsTooLong(row *Row, rec []string) bool {
	var tooLong []string
	for _, col := range columnOrder {
		if i, ok := r.header.pos[col]; ok && i < len(rec) && len(rec[i]) > r.header.limits.MaxField {
			tooLong = append(tooLong, col)
		}
	}
	if len(tooLong) > 0 {
		row.Problem = rowIssue(row, IssueFieldTooLong, strings.Join(tooLong, ","))
		return true
	}
	return false
}

// rowIssue is an issue of the given kind with row, in column.
func rowIssue(row *Row, kind, column string) *Issue {
	return &Issue{Row: row.Index, Line: row.Line, Kind: kind, Column: column}
}

// readFields fills row from the values of rec and checks them: the first problem found is
// the row's Problem, and a row seen before is a duplicate. get and field are closures the
// compiler inlines: missingCols stays a local slice, which append keeps off the heap.
func (r *Reader) readFields(row *Row, rec []string) {
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
		readCategories(row, cats)
	}
	row.Jurisdiction = jurisdiction(country, state)
	// Optional: a row too short to have it has none.
	row.Language, _ = get("language")
	switch {
	case len(missingCols) > 0:
		row.Problem = rowIssue(row, IssueMissingColumns, strings.Join(missingCols, ","))
	case row.ID == "":
		row.Problem = rowIssue(row, IssueMissingValue, "id")
	case country == "":
		row.Problem = rowIssue(row, IssueMissingValue, "country")
	case !validJurisdiction(row.Jurisdiction):
		row.Problem = rowIssue(row, IssueInvalidJurisdiction, "country")
	case row.Email == "":
		row.Problem = rowIssue(row, IssueMissingValue, "email")
	case !mail.ValidAddress(row.Email):
		row.Problem = rowIssue(row, IssueInvalidEmail, "email")
	}
	if r.seen != nil && row.IsSubject() {
		email := row.Email
		if !row.Mailable() {
			email = ""
		}
		if r.seen.add(row.ID, email) {
			row.Problem = rowIssue(row, IssueDuplicate, "")
		}
	}
}

// readCategories sets row's data categories from the data_categories value cats (split on
// ';' or '|'), each once; an unknown category counts as other, and is noted.
func readCategories(row *Row, cats string) {
	unknown := false
	for _, c := range strings.FieldsFunc(cats, func(r rune) bool { return r == ';' || r == '|' }) {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if !rules.KnownCategory(c) {
			unknown, c = true, rules.OtherCategory
		}
		// A category listed twice is still one record of that subject.
		if !slices.Contains(row.Categories, c) {
			row.Categories = append(row.Categories, c)
		}
	}
	if unknown {
		row.Note = rowIssue(row, IssueUnknownCategory, "data_categories")
	}
}

// IsSubject reports whether the row identifies an affected subject: it has an id and a valid
// jurisdiction, whether or not its address can be mailed.
func (r Row) IsSubject() bool {
	p := r.Problem
	return p == nil || p.Kind == IssueInvalidEmail || (p.Kind == IssueMissingValue && p.Column == "email")
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
