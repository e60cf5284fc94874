package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/workflows"
)

// incidentCard is one incident as the board shows it, from its status query.
type incidentCard struct {
	ID         string   `json:"incident_id"`
	Title      string   `json:"title"`
	Drill      bool     `json:"drill"`
	Phase      string   `json:"phase"`
	PhaseLabel string   `json:"phase_label"`
	PhaseStep  int      `json:"phase_step"`
	PhaseSteps int      `json:"phase_steps"`
	AwareAt    timeView `json:"aware_at"`
	DeclaredBy string   `json:"declared_by"`
	Source     string   `json:"source"`
	// Unavailable says why the status could not be read; the rest is then empty.
	Unavailable string          `json:"unavailable,omitempty"`
	Containment []systemRow     `json:"containment"`
	Obligations []obligationRow `json:"obligations"`
	Waiting     []waitingRow    `json:"waiting"`
	Alerts      alertsView      `json:"alerts"`
	Link        string          `json:"link"`
}

type systemRow struct {
	System     string   `json:"system"`
	State      string   `json:"state"`
	StateLabel string   `json:"state_label"`
	Provider   string   `json:"provider,omitempty"`
	Detail     string   `json:"detail,omitempty"`
	Updated    timeView `json:"updated"`
	Reminders  int      `json:"reminders,omitempty"`
}

// obligationRow is one legal obligation: to whom, by when, how long is left and how far its
// clock has escalated.
type obligationRow struct {
	ID         string   `json:"id"`
	Audience   string   `json:"audience"`
	Basis      string   `json:"basis"`
	Regime     string   `json:"regime"`
	State      string   `json:"state"`
	StateLabel string   `json:"state_label"`
	Due        timeView `json:"due"`
	// Limit is the statutory outer limit the law's own counting gives, later than Due (which
	// the clock escalates on), and LimitRule how it was counted.
	Limit     timeView `json:"statutory_limit,omitzero"`
	LimitRule string   `json:"statutory_rule,omitempty"`
	// Paused says the clock stands still for a law-enforcement delay, until when; Moved how
	// far earlier pauses moved the deadline, from RulesDue.
	Paused   string   `json:"paused,omitempty"`
	Moved    string   `json:"moved,omitempty"`
	RulesDue timeView `json:"rules_due,omitzero"`
	// Left is the countdown when the page was made; the script keeps it going.
	Left       string    `json:"left"`
	Stage      string    `json:"stage"`
	StageLabel string    `json:"stage_label"`
	Points     []stagePt `json:"stage_points,omitempty"`
	Done       bool      `json:"done"`
	Late       bool      `json:"late,omitempty"`
	Submitted  timeView  `json:"submitted,omitzero"`
	Reference  string    `json:"reference,omitempty"`
	Raised     int       `json:"escalations_raised"`
	Action     string    `json:"action,omitempty"`
	ActionRole string    `json:"action_role,omitempty"`
	CanAct     bool      `json:"can_act"`
	Draft      string    `json:"draft,omitempty"`
	Report     string    `json:"report,omitempty"`
	Failure    string    `json:"failure,omitempty"`
	Incident   string    `json:"-"`
	Overdue    bool      `json:"overdue"`
	Who        []string  `json:"who,omitempty"`
	Reasons    bool      `json:"-"`
	Supplement []string  `json:"supplements,omitempty"`
	// Base is the incident's address on the board; CSRF the viewer's token, for the forms.
	Base string `json:"-"`
	CSRF string `json:"-"`
}

// stagePt is an instant at which a clock escalates, and the stage it enters.
type stagePt struct {
	At    string `json:"at"`
	Stage string `json:"stage"`
	Label string `json:"label"`
}

// waitingRow is something a person must do.
type waitingRow struct {
	Step        string   `json:"step"`
	Description string   `json:"description"`
	Role        string   `json:"role"`
	Who         []string `json:"who"`
	Since       timeView `json:"since"`
	Due         timeView `json:"due,omitzero"`
	Left        string   `json:"left,omitempty"`
}

type alertsView struct {
	State              string `json:"state"`
	Total              int    `json:"total"`
	Sent               int    `json:"sent"`
	Invalid            int    `json:"invalid"`
	Duplicates         int    `json:"duplicates"`
	Failed             int    `json:"failed"`
	PossiblyDuplicated int    `json:"possibly_duplicated"`
	Error              string `json:"error,omitempty"`
	Resolution         string `json:"resolution,omitempty"`
}

// Stages of an obligation's clock, as its escalations reach them.
const (
	stageOnTrack  = "on-track"
	stage50       = "50"
	stage75       = "75"
	stage90       = "90"
	stageHour     = "1h"
	stageOverdue  = "overdue"
	stageDone     = "done"
	stageDoneLate = "done-late"
	stageFailed   = "failed"
	stagePaused   = "paused"
)

var stageLabels = map[string]string{
	stageOnTrack:  "on track",
	stage50:       "50% of the time used",
	stage75:       "75% of the time used",
	stage90:       "90% of the time used",
	stageHour:     "under 1 hour left",
	stageOverdue:  "OVERDUE",
	stageDone:     "done",
	stageDoneLate: "done late",
	stageFailed:   "clock failed",
	stagePaused:   "paused by a law-enforcement delay",
}

// stageSymbol adds a shape to the colour, so that the stage does not depend on seeing colour.
func stageSymbol(stage string) string {
	switch stage {
	case stage50:
		return "◔"
	case stage75:
		return "◑"
	case stage90:
		return "◕"
	case stageHour:
		return "▲"
	case stageOverdue:
		return "⚠"
	case stageDone, stageDoneLate:
		return "✔"
	case stageFailed:
		return "✖"
	case stagePaused:
		return "⏸"
	}
	return "○"
}

// stagePoints are the instants the obligation's clock escalates at, as the clock itself computes
// them (workflows.Escalations: 50%, 75%, 90%, one hour before, the deadline).
// Pauses (law-enforcement delays, ended) move each point after they began by their length; due
// is then the deadline as the rules set it.
func stagePoints(start, due time.Time, pauses ...incident.ClockPause) []stagePt {
	var out []stagePt
	w := due.Sub(start)
	for _, e := range workflows.Escalations(start, due) {
		stage := stageOverdue
		switch {
		case e.At.Equal(due):
		case e.At.Equal(due.Add(-time.Hour)):
			stage = stageHour
		case w > 0 && e.At.Sub(start)*2 == w:
			stage = stage50
		case w > 0 && e.At.Sub(start)*4 == w*3:
			stage = stage75
		default:
			stage = stage90
		}
		out = append(out, stagePt{At: workflows.Shifted(e.At, pauses).UTC().Format(time.RFC3339Nano), Stage: stage, Label: stageLabels[stage]})
	}
	return out
}

// obligationPoints are the points an obligation's clock escalates at: a clock that
// law-enforcement delays held still escalates at the points of its deadline as the rules set it,
// moved by the pauses.
func obligationPoints(o incident.ObligationStatus) []stagePt {
	if len(o.Pauses) > 0 && !o.RulesDueAt.IsZero() {
		return stagePoints(o.ClockStart, o.RulesDueAt, o.Pauses...)
	}
	return stagePoints(o.ClockStart, o.DueAt)
}

// stageAt is the stage a running clock has reached at now.
func stageAt(points []stagePt, now time.Time) string {
	stage := stageOnTrack
	for _, p := range points {
		t, err := time.Parse(time.RFC3339Nano, p.At)
		if err == nil && !now.Before(t) {
			stage = p.Stage
		}
	}
	return stage
}

var phaseOrder = []string{incident.PhaseOpen, incident.PhaseContain, incident.PhaseAssess, incident.PhaseDecide,
	incident.PhaseNotify, incident.PhaseClose, incident.PhaseClosed}

var phaseLabels = map[string]string{
	incident.PhaseOpen:    "opening the incident room",
	incident.PhaseContain: "containing the affected systems",
	incident.PhaseAssess:  "assessing whose data is involved",
	incident.PhaseDecide:  "waiting for the DPO's decision",
	incident.PhaseNotify:  "notifying authorities and people",
	incident.PhaseClose:   "ready to close",
	incident.PhaseClosed:  "closed",
}

var containLabels = map[string]string{
	incident.ContainIsolating: "isolating",
	incident.ContainContained: "contained",
	incident.ContainManual:    "isolate by hand, then confirm",
	incident.ContainReleased:  "released",
	incident.ContainFailed:    "containment failed",
}

var obligationLabels = map[string]string{
	incident.OblDrafting:         "drafting the report",
	incident.OblAwaitingApproval: "report awaits approval",
	incident.OblSubmitting:       "submitting",
	incident.OblAwaitingFiling:   "awaits filing on the portal",
	incident.OblAwaitingNotices:  "awaits the customer alerts",
	incident.OblFiled:            "filed",
	incident.OblFailed:           "clock failed: file by hand",
}

func label(m map[string]string, k string) string {
	if l, ok := m[k]; ok {
		return l
	}
	return k
}

// card builds what the board shows of one incident.
func (s *Server) card(st incident.Status, v *Viewer, loc *time.Location, now time.Time) incidentCard {
	c := incidentCard{ID: st.IncidentID, Title: st.Title, Drill: st.Drill, Phase: st.Phase,
		PhaseLabel: label(phaseLabels, st.Phase), PhaseSteps: len(phaseOrder) - 1,
		AwareAt: at(st.AwareAt, loc), DeclaredBy: st.DeclaredBy, Source: st.Source,
		Link: s.cfg.Prefix + "/incidents/" + st.IncidentID}
	for i, p := range phaseOrder {
		if p == st.Phase {
			c.PhaseStep = min(i+1, c.PhaseSteps)
		}
	}
	for _, sys := range st.Containment {
		c.Containment = append(c.Containment, systemRow{System: sys.System, State: sys.State, StateLabel: label(containLabels, sys.State),
			Provider: sys.Provider, Detail: sys.Detail, Updated: at(sys.Updated, loc), Reminders: sys.Reminders})
	}
	pending := map[string]incident.PendingStep{}
	for _, p := range st.Pending {
		pending[p.Step] = p
		w := waitingRow{Step: p.Step, Description: p.Description, Role: p.Role, Who: holders(st.Roles, p.Role),
			Since: at(p.Since, loc), Due: at(p.DueAt, loc)}
		if !p.DueAt.IsZero() {
			w.Left = left(p.DueAt, now)
		}
		c.Waiting = append(c.Waiting, w)
	}
	obs := append([]incident.ObligationStatus(nil), st.Obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	for _, o := range obs {
		c.Obligations = append(c.Obligations, s.obligation(st, o, pending, v, loc, now))
	}
	a := st.Alerts
	c.Alerts = alertsView{State: a.State, Total: a.Total, Sent: a.Sent, Invalid: a.Invalid, Duplicates: a.Duplicates,
		Failed: a.Failed, PossiblyDuplicated: a.PossiblyDuplicated, Error: a.Error, Resolution: a.Resolution}
	return c
}

func (s *Server) obligation(st incident.Status, o incident.ObligationStatus, pending map[string]incident.PendingStep, v *Viewer, loc *time.Location, now time.Time) obligationRow {
	r := obligationRow{ID: o.ID, Audience: o.Audience, Basis: o.Basis, Regime: o.Regime, State: o.State,
		StateLabel: label(obligationLabels, o.State), Due: at(o.DueAt, loc), Left: left(o.DueAt, now),
		Raised: len(o.Escalations), Reference: reference(o.Reference), Failure: o.Failure, Incident: st.IncidentID, Late: o.Late,
		Base: s.cfg.Prefix + "/incidents/" + st.IncidentID}
	if !o.StatutoryLimit.IsZero() {
		r.Limit, r.LimitRule = at(o.StatutoryLimit, loc), o.StatutoryRule
	}
	switch {
	case o.State == incident.OblFiled:
		r.Done, r.Stage = true, stageDone
		if o.Late {
			r.Stage = stageDoneLate
		}
		r.Submitted = at(o.SubmittedAt, loc)
	case o.State == incident.OblFailed:
		r.Stage = stageFailed
		r.Points = obligationPoints(o)
	case o.Paused != nil:
		r.Stage = stagePaused
		r.Paused = fmt.Sprintf("law-enforcement delay #%d since %s", o.Paused.Delay, o.Paused.From.In(loc).Format("Mon 2 Jan 2006 15:04 MST"))
		if !o.Paused.Until.IsZero() {
			r.Paused += ", until " + o.Paused.Until.In(loc).Format("Mon 2 Jan 2006 15:04 MST")
		} else {
			r.Paused += ", until lifted"
		}
	default:
		r.Points = obligationPoints(o)
		r.Stage = stageAt(r.Points, now)
	}
	r.StageLabel = stageLabels[r.Stage]
	var moved time.Duration
	for _, p := range o.Pauses {
		moved += p.Length()
	}
	if moved > 0 {
		r.Moved, r.RulesDue = span(moved), at(o.RulesDueAt, loc)
	}
	r.Overdue = !r.Done && o.Paused == nil && !now.Before(o.DueAt)
	r.Reasons = r.Overdue
	if o.Draft != "" {
		r.Draft = documentName(o.Draft)
	}
	if o.Report != "" {
		r.Report = documentName(o.Report)
	}
	for _, sup := range o.Supplements {
		if n := documentName(sup.Report); n != "" {
			r.Supplement = append(r.Supplement, n)
		}
	}
	for _, step := range []struct{ name, action string }{{incident.ReportStep(o.ID), "approve"}, {incident.FileStep(o.ID), "file"}} {
		if p, ok := pending[step.name]; ok {
			r.Action, r.ActionRole, r.Who = step.action, p.Role, holders(st.Roles, p.Role)
			r.CanAct = s.canAct(v, st, p.Role)
			if r.CanAct {
				r.CSRF = s.sessions.csrf(v)
			}
		}
	}
	return r
}

// reference is what the authority's filing is known by: the portal's reference number, or, for
// a report sent by email, its message (named by its file, not its path on a worker).
func reference(ref string) string {
	if strings.HasPrefix(ref, "/") {
		return filepath.Base(ref)
	}
	return ref
}

// canAct: the board takes actions, the viewer holds the role on the board, and the incident
// names them in it (its validator would refuse anyone else).
func (s *Server) canAct(v *Viewer, st incident.Status, role string) bool {
	return !s.ReadOnly() && v != nil && v.Actor != "" && role == incident.RoleDPO && v.Has(RoleDPO) && st.Roles.Has(role, v.Actor)
}

// documentName is the file name of a report the status names by its path on a worker, if it is
// one the board serves.
func documentName(p string) string {
	name := filepath.Base(p)
	if reportName.MatchString(name) {
		return name
	}
	return ""
}

func holders(r incident.Roles, role string) []string {
	switch role {
	case incident.RoleDPO:
		return r.DPO
	case incident.RoleCommander:
		return r.Commander
	}
	return nil
}

// boardPage is the front page: every open incident.
type boardPage struct {
	pageData
	Incidents    []incidentCard `json:"incidents"`
	HiddenDrills int            `json:"hidden_drills"`
	HideDrills   bool           `json:"-"`
	Problem      string         `json:"problem,omitempty"`
}

// boardJSON is the board's JSON endpoint: the same incidents, and the live part of the page as
// the server renders it, for the script to put in place.
type boardJSON struct {
	GeneratedAt  time.Time      `json:"generated_at"`
	Incidents    []incidentCard `json:"incidents"`
	HiddenDrills int            `json:"hidden_drills"`
	Problem      string         `json:"problem,omitempty"`
	HTML         string         `json:"html"`
}

func (s *Server) boardData(r *http.Request, v *Viewer) boardPage {
	p := boardPage{pageData: s.base(r, v, "Deadline board"), HideDrills: r.URL.Query().Get("drills") == "hide"}
	p.Nav = "board"
	p.Live = s.cfg.Prefix + "/api/board"
	if p.HideDrills {
		p.Live += "?drills=hide"
	}
	loc, now := s.zone(r), s.now()
	entries, problem := s.openStatuses(r.Context())
	p.Problem = problem
	for _, e := range entries {
		switch {
		case e.unavailable != "":
			p.Incidents = append(p.Incidents, incidentCard{ID: e.id, Unavailable: e.unavailable, Link: s.cfg.Prefix + "/incidents/" + e.id})
		case e.status.Drill && p.HideDrills:
			p.HiddenDrills++
		default:
			p.Incidents = append(p.Incidents, s.card(e.status, v, loc, now))
		}
	}
	return p
}

func (s *Server) serveBoard(w http.ResponseWriter, r *http.Request, v *Viewer) {
	s.render(w, r, http.StatusOK, "board", s.boardData(r, v))
}

func (s *Server) serveBoardJSON(w http.ResponseWriter, r *http.Request, v *Viewer) {
	p := s.boardData(r, v)
	html, err := s.pages.fragment("board", "board-live", p)
	if err != nil {
		s.cfg.Logger.Error("board fragment", "error", err)
		s.fail(w, r, http.StatusInternalServerError, "The board could not be rendered.")
		return
	}
	writeJSON(w, http.StatusOK, boardJSON{GeneratedAt: s.now().UTC(), Incidents: nonNil(p.Incidents), HiddenDrills: p.HiddenDrills,
		Problem: p.Problem, HTML: html})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// openEntry is a running incident: its status, or why it could not be read.
type openEntry struct {
	id          string
	status      incident.Status
	unavailable string
}

// openStatuses queries every running incident, a few at a time. An incident whose status cannot
// be read is kept, with why.
func (s *Server) openStatuses(ctx context.Context) ([]openEntry, string) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	open, err := s.cfg.Temporal.Open(ctx)
	if err != nil {
		s.cfg.Logger.Error("board: list the open incidents", "error", err)
		return nil, "The open incidents could not be listed: Temporal does not answer. The board tries again at its next refresh."
	}
	out := make([]openEntry, len(open))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, o := range open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			out[i].id = o.IncidentID
			st, err := s.cfg.Temporal.Status(qctx, o.IncidentID)
			switch {
			case errors.Is(err, ingress.ErrNoIncident):
				out[i].unavailable = "it has just ended"
			case err != nil:
				s.cfg.Logger.Warn("board: incident status", "incident", o.IncidentID, "error", err)
				out[i].unavailable = "its status could not be read: Temporal did not answer in time, or its worker is not running"
			default:
				out[i].status = st
			}
		}()
	}
	wg.Wait()
	return out, ""
}
