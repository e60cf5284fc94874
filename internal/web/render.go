package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// pages are the board's templates, one set per page: the layout, the shared parts and the
// page's own.
type pages struct {
	sets map[string]*template.Template
}

var pageNames = []string{"board", "incident", "register", "document", "message"}

func loadPages() (*pages, error) {
	p := &pages{sets: map[string]*template.Template{}}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/parts.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: templates of %s: %w", name, err)
		}
		p.sets[name] = t
	}
	return p, nil
}

// fragment renders one template of a page's set to a string (the live parts the script swaps).
func (p *pages) fragment(page, name string, data any) (string, error) {
	var b bytes.Buffer
	if err := p.sets[page].ExecuteTemplate(&b, name, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

var funcs = template.FuncMap{
	"join": strings.Join,
	"pct": func(n, total int) int {
		if total <= 0 {
			return 0
		}
		return min(100, n*100/total)
	},
	"stageSymbol": stageSymbol,
	"roleName":    roleName,
	"inc":         func(i int) int { return i + 1 },
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
}

// roleName names an incident's role as people say it.
func roleName(role string) string {
	switch role {
	case incident.RoleDPO:
		return "DPO"
	case incident.RoleCommander:
		return "incident commander"
	}
	return role
}

// pageData is what every page shows: who is signed in, the anti-forgery token, where the board
// is, the viewer's time zone and how the script refreshes the page.
type pageData struct {
	Title    string
	Prefix   string
	Viewer   *Viewer
	CSRF     string
	ReadOnly bool
	SignOut  bool
	Zone     string
	Now      timeView
	// Live is the JSON endpoint the script refreshes the page's live part from; "" for none.
	Live    string
	Refresh int
	Nav     string
}

func (s *Server) base(r *http.Request, v *Viewer, title string) pageData {
	loc := s.zone(r)
	return pageData{Title: title, Prefix: s.cfg.Prefix, Viewer: v, CSRF: s.sessions.csrf(v), ReadOnly: s.ReadOnly(),
		SignOut: v != nil && v.session != "" && s.oidc != nil, Zone: loc.String(), Now: at(s.now(), loc),
		Refresh: int(s.cfg.Refresh.Seconds())}
}

// render writes a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var b bytes.Buffer
	if err := s.pages.sets[page].ExecuteTemplate(&b, "layout", data); err != nil {
		s.cfg.Logger.Error("board page", "page", page, "error", err)
		http.Error(w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// messagePage is an error, a refusal or the outcome of an action, for the browser without
// JavaScript.
type messagePage struct {
	pageData
	Message string
	Error   bool
	Back    string
	SignIn  bool
}

// fail answers with an error: JSON for the script and the JSON endpoints, a page otherwise.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if isJSON(r.Context()) || strings.HasSuffix(r.URL.Path, ".json") {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	v, _ := s.viewer(r)
	data := messagePage{pageData: s.base(r, v, http.StatusText(status)), Message: msg, Error: true, Back: s.cfg.Prefix + "/",
		SignIn: s.oidc != nil && (status == http.StatusUnauthorized || status == http.StatusForbidden)}
	if v == nil || len(v.Roles) == 0 {
		data.Viewer = nil
	}
	s.render(w, r, status, "message", data)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"error":"the answer could not be encoded"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

type jsonKey struct{}

func withJSON(ctx context.Context) context.Context { return context.WithValue(ctx, jsonKey{}, true) }

func isJSON(ctx context.Context) bool { b, _ := ctx.Value(jsonKey{}).(bool); return b }

// wantsJSON: the script asks for JSON answers to its form posts.
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

// serveAsset serves the stylesheet and the script; they hold nothing of an incident.
func (s *Server) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	data, err := fs.ReadFile(files, "assets/"+path.Base(name))
	if err != nil || name != path.Base(name) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", mime.TypeByExtension(path.Ext(name)))
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(data)
}

// timeView is an instant as the board shows it: in the viewer's zone and in UTC, with the
// machine-readable form the script and <time> use.
type timeView struct {
	ISO   string `json:"iso"`
	UTC   string `json:"utc"`
	Local string `json:"local"`
	Zone  string `json:"zone"`
}

func at(t time.Time, loc *time.Location) timeView {
	if t.IsZero() {
		return timeView{}
	}
	return timeView{ISO: t.UTC().Format(time.RFC3339), UTC: t.UTC().Format("2006-01-02 15:04 UTC"),
		Local: t.In(loc).Format("Mon 2 Jan 2006 15:04 MST"), Zone: loc.String()}
}

// zone is the viewer's time zone, as their browser said it, else the organisation's.
func (s *Server) zone(r *http.Request) *time.Location {
	if c, err := r.Cookie(zoneCookie); err == nil {
		z, _ := url.QueryUnescape(c.Value)
		if len(z) <= 64 && validZone(z) {
			if loc, err := time.LoadLocation(z); err == nil {
				return loc
			}
		}
	}
	return s.tz
}

func validZone(z string) bool {
	if z == "" || z == "Local" || strings.Contains(z, "..") {
		return false
	}
	for _, c := range z {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("/_-+", c)) {
			return false
		}
	}
	return true
}

// span writes a duration as the board counts down: days, hours and minutes.
func span(d time.Duration) string {
	d = d.Truncate(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h, m := d/time.Hour, (d%time.Hour)/time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %02dh %02dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// left is the countdown to due: "2d 21h 58m left", or "overdue by 3h 02m".
func left(due, now time.Time) string {
	if d := due.Sub(now); d >= 0 {
		return span(d) + " left"
	}
	return "overdue by " + span(now.Sub(due))
}
