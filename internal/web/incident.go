package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/yuin/goldmark"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
)

// incidentPage is one incident: what the board shows of it, and its timeline, decision,
// documents, scope counts and evidence.
type incidentPage struct {
	pageData
	Card         incidentCard     `json:"incident"`
	Description  string           `json:"description,omitempty"`
	Decision     *decisionView    `json:"decision,omitempty"`
	Scope        *scopeView       `json:"scope,omitempty"`
	ScopeError   string           `json:"scope_error,omitempty"`
	Reports      []documentRow    `json:"reports"`
	Records      []documentRow    `json:"records"`
	Evidence     []evidenceRow    `json:"evidence"`
	EvidenceMore int              `json:"evidence_not_shown,omitempty"`
	EvidenceFile string           `json:"evidence_file,omitempty"`
	Timeline     []eventRow       `json:"timeline"`
	NotRequired  []notRequiredRow `json:"not_required,omitempty"`
	Rulebook     string           `json:"rulebook,omitempty"`
	TemporalLink string           `json:"temporal_link,omitempty"`
	Closed       *closedView      `json:"closed,omitempty"`
	// FromRegister says the workflow is gone: what is shown is its register entry.
	FromRegister bool `json:"from_register,omitempty"`
}

type decisionView struct {
	By           string   `json:"by"`
	At           timeView `json:"at"`
	Risk         string   `json:"risk"`
	Authority    bool     `json:"notify_authority"`
	Subjects     bool     `json:"notify_subjects"`
	Reasoning    string   `json:"reasoning"`
	Consequences string   `json:"consequences,omitempty"`
	Measures     string   `json:"measures,omitempty"`
	Advice       string   `json:"advice,omitempty"`
	Encrypted    bool     `json:"encrypted_unintelligible,omitempty"`
	SignedBy     string   `json:"signed_by,omitempty"`
}

type scopeView struct {
	Subjects       int        `json:"subjects"`
	Records        int        `json:"records"`
	Mailable       int        `json:"mailable"`
	Invalid        int        `json:"invalid_addresses"`
	Duplicates     int        `json:"duplicates"`
	Unusable       int        `json:"unusable_rows"`
	ByJurisdiction []countRow `json:"by_jurisdiction"`
	ByCategory     []countRow `json:"by_category"`
}

type countRow struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

type documentRow struct {
	Name       string   `json:"name"`
	Obligation string   `json:"obligation,omitempty"`
	Kind       string   `json:"kind"`
	Modified   timeView `json:"modified"`
	Size       int64    `json:"size"`
	View       string   `json:"view"`
	Download   string   `json:"download"`
}

type evidenceRow struct {
	At       timeView `json:"at"`
	System   string   `json:"system"`
	Provider string   `json:"provider"`
	Action   string   `json:"action"`
	InForce  bool     `json:"in_force"`
	Changes  []string `json:"changes,omitempty"`
}

type eventRow struct {
	At       timeView `json:"at"`
	Kind     string   `json:"kind"`
	Text     string   `json:"text"`
	About    string   `json:"about,omitempty"`
	SignedBy string   `json:"signed_by,omitempty"`
}

type notRequiredRow struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type closedView struct {
	At      timeView `json:"at"`
	By      string   `json:"by"`
	Summary string   `json:"summary,omitempty"`
}

// incidentJSON is the incident's JSON endpoint, with the live part of its page.
type incidentJSON struct {
	GeneratedAt time.Time `json:"generated_at"`
	incidentPage
	HTML string `json:"html"`
}

// status is an incident's status: its workflow's query, or, once the workflow is gone, its
// register entry. errNotFound when neither exists.
func (s *Server) status(ctx context.Context, id string) (incident.Status, bool, error) {
	if !incident.IsID(id) {
		return incident.Status{}, false, errNotFound
	}
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := s.cfg.Temporal.Status(qctx, id)
	if err == nil {
		return st, false, nil
	}
	if !errors.Is(err, ingress.ErrNoIncident) {
		return st, false, err
	}
	rec, err := s.registerEntry(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return st, false, errNotFound
	}
	if err != nil {
		return st, false, err
	}
	return incident.Status{IncidentRecord: rec, Phase: incident.PhaseClosed}, true, nil
}

var errNotFound = errors.New("no such incident")

// statusFailure answers a status that could not be read.
func (s *Server) statusFailure(w http.ResponseWriter, r *http.Request, id string, err error) {
	if errors.Is(err, errNotFound) {
		s.fail(w, r, http.StatusNotFound, "There is no incident "+clip(id, incident.MaxIDLength)+": check the ID (INC-, the date, 16 hexadecimal digits), or find it in the register.")
		return
	}
	s.cfg.Logger.Error("board: incident status", "incident", id, "error", err)
	s.fail(w, r, http.StatusBadGateway, "The status of "+id+" could not be read: Temporal did not answer in time, or no worker is running. Try again in a minute.")
}

func (s *Server) incidentData(r *http.Request, v *Viewer, st incident.Status, fromRegister bool) incidentPage {
	loc, now := s.zone(r), s.now()
	id := st.IncidentID
	p := incidentPage{pageData: s.base(r, v, id+": "+st.Title), Card: s.card(st, v, loc, now), Description: st.Description,
		ScopeError: st.ScopeError, Rulebook: st.Rulebook, FromRegister: fromRegister}
	p.Live = s.cfg.Prefix + "/api/incidents/" + id
	if d := st.Decision; d != nil {
		p.Decision = &decisionView{By: d.By, At: at(d.DecidedAt, loc), Risk: d.Risk, Authority: d.NotifyAuthority, Subjects: d.NotifySubjects,
			Reasoning: d.Reasoning, Consequences: d.Consequences, Measures: d.Measures, Advice: d.Advice, Encrypted: d.EncryptedUnintelligible,
			SignedBy: signedBy(d.Signature)}
	}
	if sc := st.Scope; sc != nil {
		p.Scope = &scopeView{Subjects: sc.Subjects, Records: sc.Records, Mailable: sc.Mailable, Invalid: sc.Invalid,
			Duplicates: sc.Duplicates, Unusable: sc.Unusable, ByJurisdiction: counts(sc.ByJurisdiction), ByCategory: counts(sc.ByCategory)}
	}
	for _, n := range st.NotRequired {
		p.NotRequired = append(p.NotRequired, notRequiredRow{ID: n.ID, Reason: n.Reason})
	}
	for i := len(st.Timeline) - 1; i >= 0; i-- {
		e := st.Timeline[i]
		p.Timeline = append(p.Timeline, eventRow{At: at(e.At, loc), Kind: e.Kind, Text: e.Text, About: e.About, SignedBy: signedBy(e.Signature)})
	}
	if !st.ClosedAt.IsZero() {
		p.Closed = &closedView{At: at(st.ClosedAt, loc), By: st.ClosedBy, Summary: st.CloseSummary}
	}
	p.Reports, p.Records = s.documents(r.Context(), id, loc)
	p.Evidence, p.EvidenceMore = s.evidence(r.Context(), id, loc)
	if len(p.Evidence) > 0 {
		p.EvidenceFile = s.cfg.Prefix + "/incidents/" + id + "/records/" + records.EvidenceLog + "/download"
	}
	if s.cfg.TemporalUI != "" {
		p.TemporalLink = strings.TrimSuffix(s.cfg.TemporalUI, "/") + "/namespaces/" + url.PathEscape(s.cfg.Namespace) +
			"/workflows/" + url.PathEscape(incident.IncidentWorkflowID(id))
	}
	return p
}

func (s *Server) serveIncident(w http.ResponseWriter, r *http.Request, v *Viewer) {
	id := r.PathValue("id")
	st, fromRegister, err := s.status(r.Context(), id)
	if err != nil {
		s.statusFailure(w, r, id, err)
		return
	}
	s.render(w, r, http.StatusOK, "incident", s.incidentData(r, v, st, fromRegister))
}

func (s *Server) serveIncidentJSON(w http.ResponseWriter, r *http.Request, v *Viewer) {
	id := r.PathValue("id")
	st, fromRegister, err := s.status(r.Context(), id)
	if err != nil {
		s.statusFailure(w, r, id, err)
		return
	}
	p := s.incidentData(r, v, st, fromRegister)
	html, err := s.pages.fragment("incident", "incident-live", p)
	if err != nil {
		s.cfg.Logger.Error("incident fragment", "error", err)
		s.fail(w, r, http.StatusInternalServerError, "The incident could not be rendered.")
		return
	}
	p.Reports, p.Records, p.Timeline, p.Evidence = nonNil(p.Reports), nonNil(p.Records), nonNil(p.Timeline), nonNil(p.Evidence)
	writeJSON(w, http.StatusOK, incidentJSON{GeneratedAt: s.now().UTC(), incidentPage: p, HTML: html})
}

func signedBy(sig *incident.Signature) string {
	if sig == nil {
		return ""
	}
	return sig.Signer + " (key " + sig.KeyID + ")"
}

func counts(m map[string]int) []countRow {
	out := make([]countRow, 0, len(m))
	for k, n := range m {
		out = append(out, countRow{k, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// The documents the board serves: reports (drafts, filed, supplements) under the incident's
// reports directory, and the records written when it closed. Names are matched exactly: a
// request never names a path.
var reportName = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,79})(\.draft|\.supplement-([0-9]{1,4}))?\.md$`)

var recordNames = map[string]string{
	"post-incident-report.md": "post-incident report",
	"timeline.md":             "timeline",
	records.EvidenceLog:       "containment evidence",
}

// maxDocument bounds a document read whole; reports take a few KiB.
const maxDocument = 8 << 20

// documentKey is where a document of an incident is kept, or errNotFound for a name the board
// does not serve.
func (s *Server) documentKey(id, dir, name string) (string, error) {
	switch {
	case !incident.IsID(id):
		return "", errNotFound
	case dir == "reports" && reportName.MatchString(name):
		return records.ReportKey(id, name)
	case dir == "records" && recordNames[name] != "":
		return records.Key(id, name)
	}
	return "", errNotFound
}

// read reads key whole when it is no longer than max.
func (s *Server) read(ctx context.Context, key string, max int64) ([]byte, error) {
	info, err := s.cfg.Records.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	if info.Size > max {
		return nil, fmt.Errorf("%s is %d bytes, more than the %d the board reads", s.cfg.Records.Where(key), info.Size, max)
	}
	return s.cfg.Records.Get(ctx, key)
}

func (s *Server) documents(ctx context.Context, id string, loc *time.Location) (reports, records_ []documentRow) {
	base := s.cfg.Prefix + "/incidents/" + id
	st := s.cfg.Records
	if prefix, err := records.ReportsPrefix(id); err == nil {
		keys, _ := st.List(ctx, prefix)
		for _, k := range keys {
			name := strings.TrimPrefix(k, prefix)
			m := reportName.FindStringSubmatch(name)
			info, err := st.Stat(ctx, k)
			if m == nil || err != nil {
				continue
			}
			kind := "filed"
			switch {
			case m[2] == ".draft":
				kind = "draft for approval"
			case m[3] != "":
				kind = "supplement " + m[3]
			}
			reports = append(reports, documentRow{Name: name, Obligation: m[1], Kind: kind, Modified: at(info.Modified, loc),
				Size: info.Size, View: base + "/reports/" + name, Download: base + "/reports/" + name + "/download"})
		}
	}
	sort.SliceStable(reports, func(i, j int) bool { return reports[i].Obligation < reports[j].Obligation })
	for _, name := range []string{records.PostIncidentReport, records.Timeline} {
		k, err := records.Key(id, name)
		if err != nil {
			continue
		}
		if info, err := st.Stat(ctx, k); err == nil {
			records_ = append(records_, documentRow{Name: name, Kind: recordNames[name], Modified: at(info.Modified, loc), Size: info.Size,
				View: base + "/records/" + name, Download: base + "/records/" + name + "/download"})
		}
	}
	return reports, records_
}

// maxEvidenceShown is how many evidence entries the page shows, the latest; all are in the
// evidence log.
const maxEvidenceShown = 200

func (s *Server) evidence(ctx context.Context, id string, loc *time.Location) ([]evidenceRow, int) {
	evs, err := records.Evidence(ctx, s.cfg.Records, id)
	if err != nil {
		return nil, 0
	}
	var rows []evidenceRow
	for _, ev := range evs {
		rows = append(rows, evidenceRow{At: at(ev.At, loc), System: ev.System, Provider: ev.Provider, Action: ev.Action, InForce: ev.InForce, Changes: ev.Changes})
	}
	more := 0
	if len(rows) > maxEvidenceShown {
		more = len(rows) - maxEvidenceShown
		rows = rows[more:]
	}
	return rows, more
}

// documentPage is a report or record rendered.
type documentPage struct {
	pageData
	Incident string
	Name     string
	Kind     string
	Body     template.HTML
	Plain    string
	Download string
}

func (s *Server) readDocument(w http.ResponseWriter, r *http.Request) (id, dir, name string, data []byte, ok bool) {
	id, dir, name = r.PathValue("id"), r.PathValue("dir"), r.PathValue("name")
	key, err := s.documentKey(id, dir, name)
	switch {
	case err == nil && dir == "records" && name == records.EvidenceLog:
		data, err = records.EvidenceLogOf(r.Context(), s.cfg.Records, id)
		if err == nil && len(data) == 0 {
			err = errNotFound
		}
	case err == nil:
		data, err = s.read(r.Context(), key, maxDocument)
	}
	switch {
	case err == nil:
		return id, dir, name, data, true
	case errors.Is(err, errNotFound) || errors.Is(err, store.ErrNotFound):
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("There is no document %q of %s here. Reports appear once drafted; the board reads them from the workers' store.", clip(name, 100), clip(id, incident.MaxIDLength)))
	default:
		s.cfg.Logger.Error("board: read a document", "incident", id, "name", name, "error", err)
		s.fail(w, r, http.StatusInternalServerError, "The document could not be read.")
	}
	return "", "", "", nil, false
}

var markdown = goldmark.New()

// serveDocument shows a report or record as a document. Markdown is rendered without its raw
// HTML (goldmark drops it), so a report cannot put markup of its own on the board.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request, v *Viewer) {
	id, dir, name, data, ok := s.readDocument(w, r)
	if !ok {
		return
	}
	p := documentPage{pageData: s.base(r, v, name+" of "+id), Incident: id, Name: name,
		Download: s.cfg.Prefix + "/incidents/" + id + "/" + dir + "/" + name + "/download"}
	if m := reportName.FindStringSubmatch(name); dir == "reports" && m != nil {
		p.Kind = "report for " + m[1]
		if m[2] == ".draft" {
			p.Kind = "draft report for " + m[1] + ", awaiting approval"
		}
	} else {
		p.Kind = recordNames[name]
	}
	if strings.HasSuffix(name, ".md") {
		var b bytes.Buffer
		if err := markdown.Convert(data, &b); err != nil {
			p.Plain = string(data)
		} else {
			p.Body = template.HTML(b.String()) // goldmark escapes text and omits raw HTML
		}
	} else {
		p.Plain = string(data)
	}
	s.render(w, r, http.StatusOK, "document", p)
}

// serveDownload sends the document as the file the worker wrote.
func (s *Server) serveDownload(w http.ResponseWriter, r *http.Request, _ *Viewer) {
	id, _, name, data, ok := s.readDocument(w, r)
	if !ok {
		return
	}
	ctype := "text/markdown; charset=utf-8"
	if strings.HasSuffix(name, ".jsonl") {
		ctype = "application/x-ndjson"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+"-"+name+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
