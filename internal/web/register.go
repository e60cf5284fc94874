package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
)

// The register lists the closed incidents from their breach-register entries (Art. 33(5)), which
// the workers write under BREACH_HOME/register when an incident closes.

// maxRegisterEntry bounds one entry read whole; entries take a few KiB.
const maxRegisterEntry = 16 << 20

// registerEntry reads the register entry of one incident.
func (s *Server) registerEntry(ctx context.Context, id string) (incident.IncidentRecord, error) {
	var rec incident.IncidentRecord
	key, err := records.RegisterEntryKey(id)
	if err != nil {
		return rec, err
	}
	data, err := s.read(ctx, key, maxRegisterEntry)
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		return rec, fmt.Errorf("register entry of %s is not a record: %w", id, err)
	}
	if rec.IncidentID != id {
		return rec, fmt.Errorf("register entry of %s names incident %q", id, clip(rec.IncidentID, 40))
	}
	return rec, nil
}

// registerRow is one closed incident, as the register lists and exports it: facts and counts,
// never a person affected.
type registerRow struct {
	ID                 string    `json:"incident_id"`
	Title              string    `json:"title"`
	Drill              bool      `json:"drill"`
	AwareAt            time.Time `json:"aware_at"`
	ClosedAt           time.Time `json:"closed_at,omitzero"`
	ClosedBy           string    `json:"closed_by,omitempty"`
	Systems            []string  `json:"systems"`
	Risk               string    `json:"risk,omitempty"`
	NotifiedAuthority  bool      `json:"notify_authority"`
	NotifiedSubjects   bool      `json:"notify_subjects"`
	Subjects           int       `json:"subjects"`
	Records            int       `json:"records"`
	Obligations        []string  `json:"obligations"`
	Filed              int       `json:"filed"`
	Late               int       `json:"filed_late"`
	AlertsSent         int       `json:"alerts_sent"`
	AlertsTotal        int       `json:"alerts_total"`
	PossiblyDuplicated int       `json:"possibly_duplicated"`

	// Aware and Closed are the instants as the page shows them.
	Aware  timeView `json:"-"`
	Closed timeView `json:"-"`
}

func rowOf(rec incident.IncidentRecord) registerRow {
	r := registerRow{ID: rec.IncidentID, Title: rec.Title, Drill: rec.Drill, AwareAt: rec.AwareAt.UTC(), ClosedAt: rec.ClosedAt.UTC(),
		ClosedBy: rec.ClosedBy, Systems: nonNil(rec.Systems), Obligations: []string{}, AlertsSent: rec.Alerts.Sent,
		AlertsTotal: rec.Alerts.Total, PossiblyDuplicated: rec.Alerts.PossiblyDuplicated}
	if rec.ClosedAt.IsZero() {
		r.ClosedAt = time.Time{}
	}
	if d := rec.Decision; d != nil {
		r.Risk, r.NotifiedAuthority, r.NotifiedSubjects = d.Risk, d.NotifyAuthority, d.NotifySubjects
	}
	if sc := rec.Scope; sc != nil {
		r.Subjects, r.Records = sc.Subjects, sc.Records
	}
	for _, o := range rec.Obligations {
		r.Obligations = append(r.Obligations, o.ID)
		if o.State == incident.OblFiled {
			r.Filed++
			if o.Late {
				r.Late++
			}
		}
	}
	return r
}

// registerFilter is what the register page and its exports are narrowed to; the same query
// string serves all three.
type registerFilter struct {
	Query  string
	From   string
	To     string
	Drills string // "", "hide" or "only"
	Risk   string // "", unlikely, risk or high
	from   time.Time
	to     time.Time
}

func parseFilter(q url.Values) (registerFilter, []string) {
	f := registerFilter{Query: strings.TrimSpace(q.Get("q")), From: q.Get("from"), To: q.Get("to"), Drills: q.Get("drills"), Risk: q.Get("risk")}
	var problems []string
	if len(f.Query) > 200 {
		f.Query = f.Query[:200]
	}
	for _, d := range []struct {
		name string
		in   string
		out  *time.Time
	}{{"from", f.From, &f.from}, {"to", f.To, &f.to}} {
		if d.in == "" {
			continue
		}
		t, err := time.Parse("2006-01-02", d.in)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%q is not a date for %s: write it as 2026-11-28", clip(d.in, 20), d.name))
			continue
		}
		*d.out = t
	}
	switch f.Drills {
	case "", "hide", "only":
	default:
		problems = append(problems, "drills is hide, only, or left out")
		f.Drills = ""
	}
	switch f.Risk {
	case "", "unlikely", "risk", "high":
	default:
		problems = append(problems, "risk is unlikely, risk or high, or left out")
		f.Risk = ""
	}
	return f, problems
}

func (f registerFilter) keep(r registerRow) bool {
	switch {
	case f.Drills == "hide" && r.Drill, f.Drills == "only" && !r.Drill:
		return false
	case f.Risk != "" && r.Risk != f.Risk:
		return false
	case !f.from.IsZero() && r.AwareAt.Before(f.from):
		return false
	case !f.to.IsZero() && !r.AwareAt.Before(f.to.AddDate(0, 0, 1)):
		return false
	case f.Query != "":
		q := strings.ToLower(f.Query)
		return strings.Contains(strings.ToLower(r.ID), q) || strings.Contains(strings.ToLower(r.Title), q)
	}
	return true
}

// encode is the filter as a query string, for the export links.
func (f registerFilter) encode() string {
	v := url.Values{}
	for k, x := range map[string]string{"q": f.Query, "from": f.From, "to": f.To, "drills": f.Drills, "risk": f.Risk} {
		if x != "" {
			v.Set(k, x)
		}
	}
	if len(v) == 0 {
		return ""
	}
	return "?" + v.Encode()
}

// register reads every entry that the filter keeps, latest closed first; entries that cannot be
// read are named.
func (s *Server) register(ctx context.Context, f registerFilter) ([]registerRow, []string) {
	keys, _ := s.cfg.Records.List(ctx, records.RegisterEntriesPrefix)
	var rows []registerRow
	var unreadable []string
	for _, k := range keys {
		id := strings.TrimSuffix(strings.TrimPrefix(k, records.RegisterEntriesPrefix), ".json")
		if !incident.IsID(id) || !strings.HasSuffix(k, ".json") {
			continue
		}
		rec, err := s.registerEntry(ctx, id)
		if err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				s.cfg.Logger.Warn("board: register entry", "incident", id, "error", err)
				unreadable = append(unreadable, id)
			}
			continue
		}
		if r := rowOf(rec); f.keep(r) {
			rows = append(rows, r)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if !rows[i].ClosedAt.Equal(rows[j].ClosedAt) {
			return rows[i].ClosedAt.After(rows[j].ClosedAt)
		}
		return rows[i].ID > rows[j].ID
	})
	return rows, unreadable
}

type registerPage struct {
	pageData
	Filter     registerFilter
	Rows       []registerRow
	Problems   []string
	Unreadable []string
	CSV        string
	JSON       string
}

func (s *Server) serveRegister(w http.ResponseWriter, r *http.Request, v *Viewer) {
	f, problems := parseFilter(r.URL.Query())
	rows, unreadable := s.register(r.Context(), f)
	loc := s.zone(r)
	for i := range rows {
		rows[i].Aware, rows[i].Closed = at(rows[i].AwareAt, loc), at(rows[i].ClosedAt, loc)
	}
	p := registerPage{pageData: s.base(r, v, "Breach register"), Filter: f, Rows: rows, Problems: problems, Unreadable: unreadable,
		CSV: s.cfg.Prefix + "/register.csv" + f.encode(), JSON: s.cfg.Prefix + "/register.json" + f.encode()}
	p.Nav = "register"
	status := http.StatusOK
	if len(problems) > 0 {
		status = http.StatusBadRequest
	}
	s.render(w, r, status, "register", p)
}

func (s *Server) serveRegisterJSON(w http.ResponseWriter, r *http.Request, _ *Viewer) {
	f, problems := parseFilter(r.URL.Query())
	if len(problems) > 0 {
		s.fail(w, r, http.StatusBadRequest, strings.Join(problems, "; "))
		return
	}
	rows, unreadable := s.register(r.Context(), f)
	writeJSON(w, http.StatusOK, map[string]any{"generated_at": s.now().UTC(), "entries": nonNil(rows), "unreadable": nonNil(unreadable)})
}

// serveRegisterCSV exports the register for a spreadsheet. A cell that a spreadsheet would read
// as a formula is prefixed with a quote.
func (s *Server) serveRegisterCSV(w http.ResponseWriter, r *http.Request, _ *Viewer) {
	f, problems := parseFilter(r.URL.Query())
	if len(problems) > 0 {
		s.fail(w, r, http.StatusBadRequest, strings.Join(problems, "; "))
		return
	}
	rows, _ := s.register(r.Context(), f)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="breach-register-`+s.now().UTC().Format("20060102")+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"incident_id", "title", "drill", "aware_at", "closed_at", "closed_by", "systems", "risk",
		"notify_authority", "notify_subjects", "subjects", "records", "obligations", "filed", "filed_late", "alerts_sent", "alerts_total", "possibly_duplicated"})
	for _, x := range rows {
		closed := ""
		if !x.ClosedAt.IsZero() {
			closed = x.ClosedAt.Format(time.RFC3339)
		}
		_ = cw.Write([]string{x.ID, cell(x.Title), strconv.FormatBool(x.Drill), x.AwareAt.Format(time.RFC3339), closed, cell(x.ClosedBy),
			cell(strings.Join(x.Systems, " ")), x.Risk, strconv.FormatBool(x.NotifiedAuthority), strconv.FormatBool(x.NotifiedSubjects),
			strconv.Itoa(x.Subjects), strconv.Itoa(x.Records), strings.Join(x.Obligations, " "), strconv.Itoa(x.Filed), strconv.Itoa(x.Late),
			strconv.Itoa(x.AlertsSent), strconv.Itoa(x.AlertsTotal), strconv.Itoa(x.PossiblyDuplicated)})
	}
	cw.Flush()
}

func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
