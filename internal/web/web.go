// Package web is the deadline board: the pages the DPO, the executives and legal look at in the
// worst hour. The board shows the open incidents with their phase, the containment of each
// system, every legal obligation with its deadline (in the viewer's time zone and in UTC), a
// live countdown and the escalation stage its clock has reached, and what waits for whom. An
// incident's page adds its timeline, the decision and its reasoning, the reports as documents,
// the customer alerts' progress and the containment evidence; the register lists the closed
// incidents, filterable, with export.
//
// Everything shown comes from the incident workflows' status query, and from the records the
// workers wrote under BREACH_HOME (reports, evidence, register entries): the board keeps no copy
// of its own. It shows counts of the people affected, never a person.
//
// Pages are server-rendered and work without JavaScript; a small script counts down and
// refreshes the live parts from the JSON endpoints. No page is shown to someone not signed in
// (OpenID Connect, or a trusted reverse proxy's headers), except on this machine when a local
// demo asks for it (read-only). People with the dpo role may approve a report or record a portal
// filing, through the same Updates and validators as Slack and the command line: the board
// signs what it forwards with its own key, which incidents trust as signing.web.
package web

import (
	"context"
	"crypto/ed25519"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/ingress"
	"github.com/breachops/breach/internal/store"
)

// Temporal is what the board needs from the workflow engine: the ingress's adapter
// (ingress.NewTemporal) serves it.
type Temporal interface {
	// Status queries an incident; ingress.ErrNoIncident when there is none.
	Status(ctx context.Context, incidentID string) (incident.Status, error)
	// Open lists the running incidents, newest first.
	Open(ctx context.Context) ([]ingress.OpenIncident, error)
	// Update sends a validated Update and waits for its answer; a refusal is an
	// *ingress.RejectedError.
	Update(ctx context.Context, incidentID, name string, arg any) (string, error)
}

// Config configures the board. Exactly one of OIDC, Proxy and Local says how people sign in.
type Config struct {
	Temporal Temporal
	// Records is the installation's store, as the workers write it (internal/records): reports,
	// evidence and the register are read from there.
	Records *store.Store
	// Prefix is the path the board is served under, e.g. /board.
	Prefix string
	// PublicURL is the board's address as people reach it (the prefix included): the OpenID
	// provider sends people back to it, and cookies are Secure when it is https.
	PublicURL string

	OIDC  *OIDC
	Proxy *Proxy
	// Local shows the board read-only to anyone who reaches it, without sign-in: for a local
	// demo on a loopback address only.
	Local bool
	// Roles maps claim values (groups) to the board's roles.
	Roles RoleMap
	// SessionKey signs the session cookies and the anti-forgery tokens (32 bytes or more);
	// required with sign-in.
	SessionKey []byte
	// Session is how long a sign-in lasts; 0 means 8 hours.
	Session time.Duration

	// Signer is the board's key (incident.WebDashboard): with it, people holding the dpo role
	// may approve reports and record filings, signed by it. nil: the board is read-only.
	Signer ed25519.PrivateKey

	// TemporalUI is the Temporal UI's address; "" shows no link. Namespace is the incidents'
	// namespace there (default "default").
	TemporalUI string
	Namespace  string
	// Timezone is the organisation's IANA zone: deadlines are shown in it until the viewer's
	// browser says its own.
	Timezone string
	// Refresh is how often the pages refresh their live parts; 0 means 10 seconds.
	Refresh time.Duration
	// Now is the clock; nil means time.Now.
	Now    func() time.Time
	Logger *slog.Logger
}

// OIDC is an OpenID Connect provider people sign in with (authorization code flow with PKCE).
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// Scopes are asked for besides openid.
	Scopes []string
	// RolesClaim is the ID token claim Roles maps (a string or a list of strings).
	RolesClaim string
	// HTTPClient talks to the provider; nil means one with a 10 s timeout.
	HTTPClient *http.Client
}

// Proxy is a reverse proxy that signed people in with an OpenID provider and says who they are
// in headers. Requests from other addresses than Trusted are refused.
type Proxy struct {
	UserHeader   string
	GroupsHeader string
	Issuer       string
	Trusted      []netip.Prefix
}

// Server serves the board.
type Server struct {
	cfg      Config
	tz       *time.Location
	pages    *pages
	sessions *sessions
	oidc     *oidcSignIn
	public   *url.URL
}

// New checks cfg and returns the board's server.
func New(cfg Config) (*Server, error) {
	if cfg.Temporal == nil {
		return nil, errors.New("web: Temporal is required")
	}
	if cfg.Records == nil {
		return nil, errors.New("web: Records (the store where the workers write the reports) is required")
	}
	if cfg.Prefix == "" || !strings.HasPrefix(cfg.Prefix, "/") || strings.HasSuffix(cfg.Prefix, "/") {
		return nil, fmt.Errorf("web: the prefix %q must start with / and not end with one, like /board", cfg.Prefix)
	}
	modes := 0
	for _, on := range []bool{cfg.OIDC != nil, cfg.Proxy != nil, cfg.Local} {
		if on {
			modes++
		}
	}
	if modes != 1 {
		return nil, errors.New("web: say how people sign in: OIDC, Proxy, or Local (read-only, for a local demo)")
	}
	if cfg.Local && cfg.Signer != nil {
		return nil, errors.New("web: without sign-in nobody is known, so the board is read-only: it takes no signing key")
	}
	if !cfg.Local && len(cfg.SessionKey) < 32 {
		return nil, errors.New("web: a session key of at least 32 bytes is required to sign sessions and anti-forgery tokens")
	}
	if cfg.Session <= 0 {
		cfg.Session = 8 * time.Hour
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.Namespace == "" {
		cfg.Namespace = "default"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	s := &Server{cfg: cfg, tz: time.UTC}
	if cfg.Timezone != "" {
		loc, err := time.LoadLocation(cfg.Timezone)
		if err != nil {
			return nil, fmt.Errorf("web: the organisation's time zone %q: %w", cfg.Timezone, err)
		}
		s.tz = loc
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web: the public URL %q is not an http(s) URL", cfg.PublicURL)
		}
		if strings.TrimSuffix(u.Path, "/") != cfg.Prefix {
			return nil, fmt.Errorf("web: the public URL %s must end with the board's path %s, where the board is served", cfg.PublicURL, cfg.Prefix)
		}
		s.public = u
	}
	if cfg.OIDC != nil {
		if s.public == nil {
			return nil, errors.New("web: OpenID Connect needs the board's public URL: the provider sends people back to <public URL>/auth/callback")
		}
		s.oidc = newOIDCSignIn(*cfg.OIDC, strings.TrimSuffix(s.public.String(), "/")+"/auth/callback")
	}
	if cfg.Proxy != nil && (cfg.Proxy.UserHeader == "" || len(cfg.Proxy.Trusted) == 0 || cfg.Proxy.Issuer == "") {
		return nil, errors.New("web: a trusted proxy needs its user header, its issuer and its addresses")
	}
	p, err := loadPages()
	if err != nil {
		return nil, err
	}
	s.pages = p
	secure := s.public != nil && s.public.Scheme == "https"
	s.sessions = &sessions{key: cfg.SessionKey, path: cfg.Prefix + "/", secure: secure, life: cfg.Session}
	return s, nil
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}

// ReadOnly reports whether the board takes no actions.
func (s *Server) ReadOnly() bool { return s.cfg.Signer == nil }

//go:embed assets templates
var files embed.FS

// Handler serves the board under the prefix: pages, JSON endpoints, sign-in and the assets.
// Requests from other origins that would change something are refused before anything else.
func (s *Server) Handler() http.Handler {
	p := s.cfg.Prefix
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+p, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, p+"/", http.StatusMovedPermanently)
	})
	mux.Handle("GET "+p+"/{$}", s.page(s.serveBoard))
	mux.Handle("GET "+p+"/api/board", s.api(s.serveBoardJSON))
	mux.Handle("GET "+p+"/incidents/{id}", s.page(s.serveIncident))
	mux.Handle("GET "+p+"/api/incidents/{id}", s.api(s.serveIncidentJSON))
	mux.Handle("GET "+p+"/incidents/{id}/{dir}/{name}", s.page(s.serveDocument))
	mux.Handle("GET "+p+"/incidents/{id}/{dir}/{name}/download", s.page(s.serveDownload))
	mux.Handle("POST "+p+"/incidents/{id}/approve", s.action(s.serveApprove))
	mux.Handle("POST "+p+"/incidents/{id}/file", s.action(s.serveFile))
	mux.Handle("GET "+p+"/register", s.page(s.serveRegister))
	mux.Handle("GET "+p+"/register.csv", s.page(s.serveRegisterCSV))
	mux.Handle("GET "+p+"/register.json", s.api(s.serveRegisterJSON))
	mux.HandleFunc("GET "+p+"/static/{file}", s.serveAsset)
	mux.HandleFunc("GET "+p+"/auth/signed-out", s.serveSignedOut)
	mux.Handle("POST "+p+"/auth/signout", s.action(s.serveSignOut))
	if s.oidc != nil {
		mux.HandleFunc("GET "+p+"/auth/signin", s.serveSignIn)
		mux.HandleFunc("GET "+p+"/auth/callback", s.serveCallback)
	}
	mux.HandleFunc(p+"/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, "There is no such page on the board.")
	})
	cop := http.NewCrossOriginProtection()
	if s.public != nil {
		// Behind a proxy that rewrites the Host, a browser that sends no Sec-Fetch-Site is
		// still recognised by its Origin: the board's public one.
		_ = cop.AddTrustedOrigin(s.public.Scheme + "://" + s.public.Host)
	}
	return securityHeaders(cop.Handler(mux))
}

// securityHeaders: nothing is framed, scripts and styles come from the board only, pages are
// not cached (they hold incident data) and the Referer stays on the board.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if !strings.Contains(r.URL.Path, "/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// HTTPServer is an http.Server for the board alone (breach web), with timeouts.
func (s *Server) HTTPServer(addr string) *http.Server {
	mux := http.NewServeMux()
	mux.Handle(s.cfg.Prefix+"/", s.Handler())
	mux.Handle(s.cfg.Prefix, s.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, s.cfg.Prefix+"/", http.StatusFound)
	})
	return &http.Server{
		Addr:              addr,
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
