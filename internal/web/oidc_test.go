package web

import (
	"crypto/ed25519"
	"crypto/rand"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/breachops/breach/internal/oidctest"
)

// oidcBoard is a board that signs people in with a local OpenID provider.
type oidcBoard struct {
	provider *oidctest.Provider
	server   *httptest.Server
	board    *Server
}

func newOIDCBoard(t *testing.T) *oidcBoard {
	t.Helper()
	p, err := oidctest.Start("breach-board", "board-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(ts.Close)
	ft := &fakeTemporal{statuses: fixtures()}
	for id, st := range ft.statuses {
		st.Roles.DPO = append(st.Roles.DPO, "oidc:"+p.Issuer()+"#dana-sub")
		ft.statuses[id] = st
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Temporal: ft, Signer: key, Records: localStore(t, writeHome(t)), Prefix: "/board", PublicURL: ts.URL + "/board",
		OIDC:  &OIDC{Issuer: p.Issuer(), ClientID: "breach-board", ClientSecret: "board-secret", Scopes: []string{"profile", "email"}, HTTPClient: p.Client()},
		Roles: testRoles, SessionKey: []byte(strings.Repeat("s", 32)), Session: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	h = srv.Handler()
	return &oidcBoard{provider: p, server: ts, board: srv}
}

// browser is a client with cookies that follows redirects, trusting the provider's certificate.
func (o *oidcBoard) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Transport: o.provider.Client().Transport, Timeout: 20 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var dana = oidctest.User{Subject: "dana-sub", Name: "Dana Schmidt", Email: "dana@example-shop.test", Groups: []string{"privacy", "executives"}}

func TestOIDCSignIn(t *testing.T) {
	o := newOIDCBoard(t)
	o.provider.SignIn(dana)
	c := o.browser(t)
	// A page sends the person to the provider and back to the page they asked for.
	code, body := get(t, c, o.server.URL+"/board/incidents/"+incOpen)
	if code != http.StatusOK {
		t.Fatalf("after sign-in: status %d\n%s", code, clip(body, 2000))
	}
	mustContain(t, body, "Signed in as <strong>Dana Schmidt</strong>", "viewer, dpo", "Customer database exposed", "Sign out")
	// Approving is offered: the incident names her, by her provider and subject.
	mustContain(t, body, `action="/board/incidents/`+incOpen+`/approve"`)

	// The session cookie: signed, HttpOnly, SameSite, scoped to the board.
	u, _ := url.Parse(o.server.URL + "/board/")
	var session *http.Cookie
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil {
		t.Fatal("no session cookie")
	}
	w := httptest.NewRecorder()
	_ = o.board.sessions.start(w, Viewer{Actor: "oidc:x#y", Name: "x", Roles: []string{RoleViewer}}, time.Now())
	set := w.Header().Get("Set-Cookie")
	for _, attr := range []string{"HttpOnly", "SameSite=Lax", "Path=/board/", "Max-Age=3600"} {
		if !strings.Contains(set, attr) {
			t.Errorf("the session cookie %q lacks %s", set, attr)
		}
	}
	secure := &sessions{key: o.board.sessions.key, path: "/board/", secure: true, life: time.Hour}
	w = httptest.NewRecorder()
	_ = secure.start(w, Viewer{Actor: "oidc:x#y"}, time.Now())
	if !strings.Contains(w.Header().Get("Set-Cookie"), "Secure") {
		t.Error("a board served over https sets a session cookie without Secure")
	}

	// A changed cookie is no sign-in: the person is sent to sign in again.
	forged := o.browser(t)
	forged.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	value := session.Value
	tampered := strings.Replace(value, value[:4], "eyJh", 1)
	if tampered == value {
		tampered = "x" + value
	}
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: tampered, Path: "/board/"}})
	resp, err := forged.Get(o.server.URL + "/board/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/board/auth/signin") {
		t.Fatalf("a tampered session: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// JSON endpoints say 401 instead of redirecting.
	resp, err = forged.Get(o.server.URL + "/board/api/board")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the JSON endpoint without sign-in: %d", resp.StatusCode)
	}

	// Signing out ends the session (with the form's token).
	csrf := o.board.sessions.csrf(o.board.sessions.viewer(&http.Request{Header: http.Header{"Cookie": {sessionCookie + "=" + value}}}, time.Now()))
	resp, err = c.PostForm(o.server.URL+"/board/auth/signout", url.Values{"csrf": {csrf}})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(out), "You are signed out") {
		t.Fatalf("sign out: %d %s", resp.StatusCode, clip(string(out), 500))
	}
	o.provider.SignIn(oidctest.User{}) // the provider now refuses: a sign-in cannot pass silently
	if code, body := get(t, c, o.server.URL+"/board/"); code != http.StatusUnauthorized || strings.Contains(body, "Customer database") {
		t.Fatalf("after signing out: status %d", code)
	}
}

// Tokens the board must refuse: none of them leaves a session.
func TestOIDCRefusedTokens(t *testing.T) {
	for _, tc := range []struct {
		name   string
		fault  oidctest.Fault
		user   oidctest.User
		status int
		says   string
	}{
		{"from the wrong issuer", oidctest.WrongIssuer, dana, http.StatusUnauthorized, "issued by another provider"},
		{"expired", oidctest.Expired, dana, http.StatusUnauthorized, "it has expired"},
		{"for another client", oidctest.WrongAudience, dana, http.StatusUnauthorized, "issued for another client"},
		{"for another sign-in", oidctest.WrongNonce, dana, http.StatusUnauthorized, "nonce"},
		{"nobody signed in at the provider", oidctest.NoFault, oidctest.User{}, http.StatusUnauthorized, "access_denied"},
		{"a person without a role", oidctest.NoFault, oidctest.User{Subject: "intern", Name: "Ivo", Groups: []string{"interns"}}, http.StatusForbidden, "hold no role on the board"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOIDCBoard(t)
			o.provider.SignIn(tc.user)
			o.provider.SetFault(tc.fault)
			c := o.browser(t)
			code, body := get(t, c, o.server.URL+"/board/")
			if code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", code, tc.status, clip(body, 1500))
			}
			mustContain(t, body, tc.says)
			mustNotContain(t, body, "Customer database", incOpen)
			if tc.status == http.StatusForbidden {
				return // signed in, but no role: every page refuses
			}
			u, _ := url.Parse(o.server.URL + "/board/")
			for _, ck := range c.Jar.Cookies(u) {
				if ck.Name == sessionCookie {
					t.Fatal("a refused token left a session cookie")
				}
			}
		})
	}
}

func TestOIDCCallbackNotStartedHere(t *testing.T) {
	o := newOIDCBoard(t)
	o.provider.SignIn(dana)
	c := o.browser(t)
	code, body := get(t, c, o.server.URL+"/board/auth/callback?code=x&state=y")
	if code != http.StatusBadRequest || !strings.Contains(body, "not started here") {
		t.Fatalf("a callback without a sign-in: %d %s", code, clip(body, 500))
	}
	if o.provider.Issued() != 0 {
		t.Fatal("a token was issued for a callback the board never started")
	}
	// The state must be this sign-in's: start one, then come back with another state.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), o.provider.Issuer()) {
			return http.ErrUseLastResponse
		}
		return nil
	}
	resp, err := c.Get(o.server.URL + "/board/auth/signin?return=https://evil.example/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if code, body := get(t, c, o.server.URL+"/board/auth/callback?code=x&state=forged"); code != http.StatusBadRequest || !strings.Contains(body, "(state)") {
		t.Fatalf("a forged state: %d %s", code, clip(body, 500))
	}
}

func TestSafeReturn(t *testing.T) {
	s := &Server{cfg: Config{Prefix: "/board"}}
	for in, want := range map[string]string{
		"/board/incidents/INC-1":   "/board/incidents/INC-1",
		"/board/?drills=hide":      "/board/?drills=hide",
		"https://evil.example/":    "/board/",
		"//evil.example/board/":    "/board/",
		"/\\evil.example":          "/board/",
		"/other/":                  "/board/",
		"/board/auth/signin":       "/board/",
		"/board/../admin":          "/board/",
		"javascript:alert(1)":      "/board/",
		"":                         "/board/",
		"/boardroom":               "/board/",
		"/board/register?q=a%20b":  "/board/register?q=a%20b",
		"/board/incidents/x#frag":  "/board/incidents/x",
		"/board/static/board.js":   "/board/static/board.js",
		"/board/api/board":         "/board/api/board",
		"/board/register.csv?q=1":  "/board/register.csv?q=1",
		"/board/incidents/%2e%2e/": "/board/",
	} {
		if got := s.safeReturn(in); got != want {
			t.Errorf("safeReturn(%q) = %q, want %q", in, got, want)
		}
	}
}
