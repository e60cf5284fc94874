package register

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// Filter chooses incidents by their latest version.
type Filter struct {
	// From and To bound the time of awareness: From <= aware_at < To; zero means open.
	From, To time.Time
	// Statuses, when given, are the statuses to keep.
	Statuses []string
	// Drills keeps drills too; they are left out otherwise.
	Drills bool
}

// Match reports whether the entry's effective content passes the filter.
func (f Filter) Match(e Entry) bool {
	c := e.Effective()
	switch {
	case c.Drill && !f.Drills:
		return false
	case !f.From.IsZero() && c.AwareAt.Before(f.From):
		return false
	case !f.To.IsZero() && !c.AwareAt.Before(f.To):
		return false
	case len(f.Statuses) > 0 && !slices.Contains(f.Statuses, c.Status):
		return false
	}
	return true
}

// Select returns the entries that pass the filter.
func (f Filter) Select(entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if f.Match(e) {
			out = append(out, e)
		}
	}
	return out
}

// Year is the filter of one calendar year (UTC).
func Year(y int) (from, to time.Time) {
	return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
}

// Field is one named value of an entry, as exports show it.
type Field struct {
	Name  string
	Value string
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// Fields flattens an entry's effective content into the Art. 33(5) fields, in export order.
func Fields(e Entry) []Field {
	c := e.Effective()
	f := []Field{
		{"incident_id", c.IncidentID}, {"status", c.Status}, {"drill", yesNo(c.Drill)}, {"title", c.Title},
		{"aware_at", stamp(c.AwareAt)}, {"aware_zone", c.AwareZone}, {"declared_at", stamp(c.DeclaredAt)},
		{"declared_by", c.DeclaredBy}, {"source", c.Source}, {"organisation", c.Organisation},
		{"systems", strings.Join(c.Systems, "; ")},
		{"facts", c.Description},
	}
	f = append(f, scopeFields(c.Scope)...)
	f = append(f,
		Field{"effects", c.Consequences},
		Field{"remedial_action", c.Measures},
		Field{"containment", containmentText(c.Containment)},
		Field{"notices", noticesText(c.Notices)},
	)
	f = append(f, decisionFields(c.Decision)...)
	f = append(f,
		Field{"obligations", obligationsText(c.Obligations)},
		Field{"not_required", notRequiredText(c)},
		Field{"late_filings", lateText(lateFilings(c))},
		Field{"law_enforcement_delays", delaysText(c.Delays)},
		Field{"rulebook", c.Rulebook},
		Field{"evidence", evidenceText(c.Evidence)},
		Field{"closed_at", stamp(c.ClosedAt)}, Field{"closed_by", c.ClosedBy}, Field{"close_summary", c.CloseSummary},
		Field{"cancelled_at", stamp(c.CancelledAt)},
		Field{"corrections", correctionsText(e.Corrections)},
		Field{"version", strconv.Itoa(e.Version)}, Field{"recorded_at", stamp(e.RecordedAt)},
		Field{"entry_sha256", e.Hash},
	)
	return f
}

func scopeFields(s *Scope) []Field {
	if s == nil {
		return []Field{{"subjects", ""}, {"records", ""}, {"jurisdictions", ""}, {"data_categories", ""}}
	}
	return []Field{{"subjects", strconv.Itoa(s.Subjects)}, {"records", strconv.Itoa(s.Records)},
		{"jurisdictions", sortedCounts(s.ByJurisdiction)}, {"data_categories", sortedCounts(s.ByCategory)}}
}

func decisionFields(d *Decision) []Field {
	if d == nil {
		return []Field{{"risk", ""}, {"notify_authority", ""}, {"notify_subjects", ""}, {"decided_by", ""}, {"decided_at", ""}, {"reasoning", ""}}
	}
	by := d.By
	if d.KeyID != "" {
		by += " (signed by " + d.SignedBy + ", key " + d.KeyID + ")"
	}
	return []Field{{"risk", d.Risk}, {"notify_authority", yesNo(d.NotifyAuthority)}, {"notify_subjects", yesNo(d.NotifySubjects)},
		{"decided_by", by}, {"decided_at", stamp(d.DecidedAt)}, {"reasoning", d.Reasoning}}
}

func containmentText(cs []Containment) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		s := c.System + " " + c.State
		if c.Provider != "" {
			s += " (" + c.Provider + ")"
		}
		if c.Manual {
			s += " by hand"
		}
		parts[i] = s
	}
	return strings.Join(parts, "; ")
}

func noticesText(n *Notices) string {
	if n == nil {
		return ""
	}
	s := n.State
	if n.Total > 0 || n.Sent > 0 {
		s += fmt.Sprintf(": %d of %d sent", n.Sent, n.Total)
	}
	if n.Invalid > 0 {
		s += fmt.Sprintf(", %d invalid addresses", n.Invalid)
	}
	if n.Failed > 0 {
		s += fmt.Sprintf(", %d refused", n.Failed)
	}
	if n.Resolution != "" {
		s += "; " + n.Resolution
	}
	return s
}

// ObligationText describes one obligation on one line.
func ObligationText(o Obligation) string {
	var b strings.Builder
	b.WriteString(o.ID)
	if o.Basis != "" || o.Audience != "" {
		fmt.Fprintf(&b, " (%s, to %s)", o.Basis, o.Audience)
	}
	fmt.Fprintf(&b, " due %s: %s", stamp(o.DueAt), o.State)
	if !o.FiledAt.IsZero() {
		fmt.Fprintf(&b, " %s", stamp(o.FiledAt))
	}
	if o.FiledBy != "" {
		fmt.Fprintf(&b, " by %s", o.FiledBy)
	}
	if o.Method != "" {
		fmt.Fprintf(&b, " via %s", o.Method)
	}
	if o.ByHand {
		b.WriteString(" (by hand)")
	}
	if o.Reference != "" {
		fmt.Fprintf(&b, ", reference %s", o.Reference)
	}
	if o.Late {
		b.WriteString(", LATE")
	}
	if p := o.Paused; p != nil {
		fmt.Fprintf(&b, "; PAUSED by law-enforcement delay #%d since %s", p.Delay, stamp(p.From))
	}
	for _, p := range o.Pauses {
		fmt.Fprintf(&b, "; paused by law-enforcement delay #%d %s to %s", p.Delay, stamp(p.From), stamp(p.To))
	}
	if len(o.Pauses) > 0 && !o.RulesDueAt.IsZero() {
		fmt.Fprintf(&b, " (the deadline moved from %s)", stamp(o.RulesDueAt))
	}
	for _, s := range o.Supplements {
		fmt.Fprintf(&b, "; supplement %d %s", s.Sequence, stamp(s.At))
		if s.Reference != "" {
			fmt.Fprintf(&b, " reference %s", s.Reference)
		}
	}
	return b.String()
}

func obligationsText(os []Obligation) string {
	if len(os) == 0 {
		return "none"
	}
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = ObligationText(o)
	}
	return strings.Join(parts, " | ")
}

func delaysText(ds []incident.LawEnforcementDelay) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		s := d.Describe() + "; recorded by " + d.RecordedBy + " " + stamp(d.RecordedAt)
		if len(d.Paused) > 0 {
			s += "; paused " + strings.Join(d.Paused, ", ")
		}
		switch {
		case !d.LiftedAt.IsZero():
			s += "; lifted by " + d.LiftedBy + " " + stamp(d.LiftedAt)
		case d.ReplacedBy > 0:
			s += fmt.Sprintf("; replaced by #%d", d.ReplacedBy)
		}
		parts[i] = s
	}
	return strings.Join(parts, " | ")
}

func notRequiredText(c Content) string {
	decided, outside := decidedNotRequired(c)
	var parts []string
	for _, n := range decided {
		parts = append(parts, n.ID+": "+n.Reason)
	}
	if outside > 0 {
		parts = append(parts, fmt.Sprintf("%d more not in scope (no establishment, affected resident or sector there)", outside))
	}
	return strings.Join(parts, " | ")
}

func lateText(os []Obligation) string {
	parts := make([]string, len(os))
	for i, o := range os {
		parts[i] = fmt.Sprintf("%s filed %s, due %s; reasons: %s", o.ID, stamp(o.FiledAt), stamp(o.DueAt), o.Reasons)
	}
	return strings.Join(parts, " | ")
}

func evidenceText(es []Evidence) string {
	parts := make([]string, len(es))
	for i, e := range es {
		s := e.What
		if e.Name != "" {
			s += " " + e.Name
		}
		parts[i] = s + " sha256:" + e.SHA256
	}
	return strings.Join(parts, "; ")
}

func correctionsText(cs []Correction) string {
	parts := make([]string, len(cs))
	for i, k := range cs {
		parts[i] = fmt.Sprintf("version %d: %s corrected by %s at %s: %s", k.Version, k.Field, k.By, stamp(k.At), k.Reason)
	}
	return strings.Join(parts, " | ")
}

// WriteCSV writes one row per entry (RFC 4180, CRLF line ends, a header row). A cell that a
// spreadsheet would take for a formula (=, +, -, @, tab or carriage return first) starts
// with an apostrophe, as OWASP advises, so that opening the export runs nothing.
func WriteCSV(w io.Writer, entries []Entry) error {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	header := Fields(Entry{Content: Content{Obligations: []Obligation{}}})
	row := make([]string, len(header))
	for i, f := range header {
		row[i] = f.Name
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	for _, e := range entries {
		for i, f := range Fields(e) {
			row[i] = spreadsheetSafe(f.Value)
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Exported is one incident in a JSON export: its latest version, with its SHA-256 and the
// content as corrected.
type Exported struct {
	Entry
	SHA256    string  `json:"sha256"`
	Effective Content `json:"effective"`
}

// Meta says what an export was taken from: the register, when, and what verifying it found.
type Meta struct {
	Register   string    `json:"register"`
	ExportedAt time.Time `json:"exported_at"`
	// Intact is whether the whole register verified, Head its last entry's SHA-256 then.
	Intact bool   `json:"intact"`
	Head   string `json:"head"`
}

// MetaOf is the export meta of a verification report.
func MetaOf(rep Report, at time.Time) Meta {
	return Meta{Register: rep.Where, ExportedAt: at.UTC(), Intact: rep.OK(), Head: rep.Head}
}

// WriteJSON writes the entries as a JSON document.
func WriteJSON(w io.Writer, m Meta, entries []Entry) error {
	doc := struct {
		Meta
		Incidents []Exported `json:"incidents"`
	}{Meta: m, Incidents: []Exported{}}
	for _, e := range entries {
		doc.Incidents = append(doc.Incidents, Exported{Entry: e, SHA256: e.Hash, Effective: e.Effective()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(doc)
}
