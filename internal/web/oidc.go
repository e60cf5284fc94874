package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/breachops/breach/incident"
)

// oidcSignIn signs people in with an OpenID Connect provider: the authorization code flow with
// PKCE, a state and a nonce; the ID token's signature, issuer, audience and expiry are checked by
// go-oidc against the provider's discovery document and keys. The provider is discovered on the
// first sign-in, so that the board starts even while the provider is unreachable.
type oidcSignIn struct {
	cfg      OIDC
	redirect string
	client   *http.Client

	mu       sync.Mutex
	oauth    *oauth2.Config
	verifier *oidc.IDTokenVerifier
}

func newOIDCSignIn(cfg OIDC, redirect string) *oidcSignIn {
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.RolesClaim == "" {
		cfg.RolesClaim = "groups"
	}
	return &oidcSignIn{cfg: cfg, redirect: redirect, client: hc}
}

func (o *oidcSignIn) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.client)
}

// discover reads the provider's discovery document once it answers.
func (o *oidcSignIn) discover(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.oauth != nil {
		return o.oauth, o.verifier, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("the OpenID provider %s: %w", o.cfg.Issuer, err)
	}
	o.oauth = &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.redirect,
		Endpoint: p.Endpoint(), Scopes: append([]string{oidc.ScopeOpenID}, o.cfg.Scopes...)}
	o.verifier = p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID})
	return o.oauth, o.verifier, nil
}

// signinState is what the board remembers between sending someone to the provider and their
// return: in a signed cookie of ten minutes, for the callback only.
type signinState struct {
	State    string `json:"s"`
	Nonce    string `json:"n"`
	Verifier string `json:"v"`
	Return   string `json:"r"`
	Expires  int64  `json:"e"`
}

const signinWindow = 10 * time.Minute

// serveSignIn sends the browser to the provider.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	oauth, _, err := s.oidc.discover(r.Context())
	if err != nil {
		s.cfg.Logger.Error("board sign-in: provider discovery", "error", err)
		s.fail(w, r, http.StatusBadGateway, "The sign-in provider does not answer; try again in a minute. (The board's log says why.)")
		return
	}
	st := signinState{State: randomID(), Nonce: randomID(), Verifier: oauth2.GenerateVerifier(),
		Return: s.safeReturn(r.URL.Query().Get("return")), Expires: s.now().Add(signinWindow).Unix()}
	value, err := s.sessions.seal("signin", st)
	if err != nil {
		s.fail(w, r, http.StatusInternalServerError, "Sign-in could not start.")
		return
	}
	http.SetCookie(w, s.sessions.cookie(signinCookie, value, s.cfg.Prefix+"/auth/", int(signinWindow.Seconds())))
	http.Redirect(w, r, oauth.AuthCodeURL(st.State, oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)), http.StatusFound)
}

// serveCallback takes the provider's answer: the code is exchanged for an ID token, which must
// be valid, from the configured issuer, for this board, unexpired, and carry the nonce sent.
func (s *Server) serveCallback(w http.ResponseWriter, r *http.Request) {
	refuse := func(status int, why string, err error) {
		s.cfg.Logger.Warn("board sign-in refused", "reason", why, "error", err, "remote", r.RemoteAddr)
		s.fail(w, r, status, "Sign-in refused: "+why+". Sign in again from the board.")
	}
	c, err := r.Cookie(signinCookie)
	var st signinState
	if err != nil || s.sessions.open("signin", c.Value, &st) != nil || s.now().Unix() >= st.Expires {
		refuse(http.StatusBadRequest, "this sign-in was not started here or took longer than ten minutes", err)
		return
	}
	http.SetCookie(w, s.sessions.cookie(signinCookie, "", s.cfg.Prefix+"/auth/", -1))
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		refuse(http.StatusBadRequest, "the answer does not belong to this sign-in (state)", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		refuse(http.StatusUnauthorized, "the provider said "+clip(e+": "+q.Get("error_description"), 200), nil)
		return
	}
	oauth, verifier, err := s.oidc.discover(r.Context())
	if err != nil {
		refuse(http.StatusBadGateway, "the sign-in provider does not answer", err)
		return
	}
	ctx, cancel := context.WithTimeout(s.oidc.ctx(r.Context()), 15*time.Second)
	defer cancel()
	tok, err := oauth.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		refuse(http.StatusUnauthorized, "the provider did not exchange the code", err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		refuse(http.StatusUnauthorized, "the provider sent no ID token", nil)
		return
	}
	idt, err := verifier.Verify(ctx, raw)
	if err != nil {
		refuse(http.StatusUnauthorized, "the ID token is not valid for this board ("+tokenProblem(err)+")", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		refuse(http.StatusUnauthorized, "the ID token was not issued for this sign-in (nonce)", nil)
		return
	}
	v, err := s.oidcViewer(idt)
	if err != nil {
		refuse(http.StatusUnauthorized, err.Error(), nil)
		return
	}
	if err := s.sessions.start(w, v, s.now()); err != nil {
		refuse(http.StatusInternalServerError, "the session could not be made", err)
		return
	}
	s.cfg.Logger.Info("board sign-in", "actor", v.Actor, "roles", strings.Join(v.Roles, ","))
	http.Redirect(w, r, st.Return, http.StatusSeeOther)
}

// tokenProblem names what is wrong with a token in words, without echoing it.
func tokenProblem(err error) string {
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		return "it has expired"
	case strings.Contains(err.Error(), "issued by a different provider"):
		return "it was issued by another provider"
	case strings.Contains(err.Error(), "audience"):
		return "it was issued for another client"
	case strings.Contains(err.Error(), "signature"):
		return "its signature does not verify"
	}
	return "it could not be verified"
}

// oidcViewer is the person an ID token names, with the board roles its claims give.
func (s *Server) oidcViewer(idt *oidc.IDToken) (Viewer, error) {
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Viewer{}, errors.New("the ID token's claims could not be read")
	}
	actor := incident.SourceOIDC + ":" + idt.Issuer + "#" + idt.Subject
	if _, _, err := incident.ParseActor(actor); err != nil || strings.ContainsAny(idt.Subject, "#\r\n") {
		return Viewer{}, errors.New("the ID token names no subject the board can act for")
	}
	name := idt.Subject
	for _, c := range []string{"name", "email", "preferred_username"} {
		if n, ok := claims[c].(string); ok && strings.TrimSpace(n) != "" {
			name = clip(strings.TrimSpace(n), 100)
			break
		}
	}
	var values []string
	switch x := claims[s.oidc.cfg.RolesClaim].(type) {
	case string:
		values = strings.Fields(strings.ReplaceAll(x, ",", " "))
	case []any:
		for _, e := range x {
			if g, ok := e.(string); ok {
				values = append(values, g)
			}
		}
	}
	return Viewer{Actor: actor, Name: name, Roles: s.cfg.Roles.Of(values)}, nil
}

// safeReturn keeps a return path on the board: anything else returns to the board's front page.
func (s *Server) safeReturn(p string) string {
	home := s.cfg.Prefix + "/"
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.Contains(p, "\\") || strings.HasPrefix(p, "//") {
		return home
	}
	if u.Path != s.cfg.Prefix && !strings.HasPrefix(u.Path, home) || strings.HasPrefix(u.Path, s.cfg.Prefix+"/auth/") || strings.Contains(u.Path, "..") {
		return home
	}
	return u.RequestURI()
}

// serveSignOut ends the session.
func (s *Server) serveSignOut(w http.ResponseWriter, r *http.Request, _ *Viewer) {
	s.sessions.end(w)
	http.Redirect(w, r, s.cfg.Prefix+"/auth/signed-out", http.StatusSeeOther)
}

func (s *Server) serveSignedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "message", messagePage{pageData: s.base(r, nil, "Signed out"),
		Message: "You are signed out of the deadline board.", SignIn: s.oidc != nil})
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
