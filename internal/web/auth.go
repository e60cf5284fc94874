package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
)

// Roles of the board. A viewer sees everything; a dpo may also approve reports and record
// portal filings, in the incidents whose own roles name them as DPO; a commander sees what
// waits for commanders. Every role may view.
const (
	RoleViewer    = "viewer"
	RoleDPO       = "dpo"
	RoleCommander = "commander"
)

// RoleMap lists, for each role, the claim values (groups) that hold it; "*" is everyone who
// signs in.
type RoleMap struct {
	Viewer    []string
	DPO       []string
	Commander []string
}

// Of returns the roles that values hold, in a fixed order.
func (m RoleMap) Of(values []string) []string {
	var out []string
	for _, r := range []struct {
		role string
		want []string
	}{{RoleViewer, m.Viewer}, {RoleDPO, m.DPO}, {RoleCommander, m.Commander}} {
		for _, w := range r.want {
			if w == "*" || slices.Contains(values, w) {
				out = append(out, r.role)
				break
			}
		}
	}
	return out
}

// Viewer is who makes a request.
type Viewer struct {
	// Actor is the person as incidents know them (oidc:<issuer>#<subject>); "" for the local
	// demo's anonymous viewer.
	Actor string `json:"actor,omitempty"`
	// Name is what the page calls them: their name or email claim, else the subject.
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
	// session binds the anti-forgery token to this sign-in.
	session string
}

// Has reports whether the viewer holds role.
func (v *Viewer) Has(role string) bool { return v != nil && slices.Contains(v.Roles, role) }

// sessions are the signed cookies that carry a sign-in, and the anti-forgery tokens bound to
// them. A cookie is its JSON payload and an HMAC-SHA256 of it, both base64url: the browser
// holds it, nobody can change it, and it expires on its own.
type sessions struct {
	key    []byte
	path   string
	secure bool
	life   time.Duration
}

const (
	sessionCookie = "breach_board"
	signinCookie  = "breach_board_signin"
	zoneCookie    = "breach_tz"
)

type sessionData struct {
	Actor   string   `json:"a"`
	Name    string   `json:"n"`
	Roles   []string `json:"r"`
	ID      string   `json:"i"`
	Expires int64    `json:"e"`
}

// mac is HMAC-SHA256 of data for one purpose, so that a value signed for one use is never
// accepted for another.
func (s *sessions) mac(purpose string, data []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write(data)
	return h.Sum(nil)
}

func (s *sessions) seal(purpose string, v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(data) + "." + base64.RawURLEncoding.EncodeToString(s.mac(purpose, data)), nil
}

func (s *sessions) open(purpose, value string, v any) error {
	body, sig, ok := strings.Cut(value, ".")
	if !ok || len(value) > 4096 {
		return errors.New("not a signed value")
	}
	data, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		return errors.New("not a signed value")
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac(purpose, data)) {
		return errors.New("the signature does not match")
	}
	return json.Unmarshal(data, v)
}

func (s *sessions) cookie(name, value, path string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: path, MaxAge: maxAge, HttpOnly: true,
		Secure: s.secure, SameSite: http.SameSiteLaxMode}
}

// start signs v in: a new session cookie.
func (s *sessions) start(w http.ResponseWriter, v Viewer, now time.Time) error {
	d := sessionData{Actor: v.Actor, Name: v.Name, Roles: v.Roles, ID: randomID(), Expires: now.Add(s.life).Unix()}
	value, err := s.seal("session", d)
	if err != nil {
		return err
	}
	http.SetCookie(w, s.cookie(sessionCookie, value, s.path, int(s.life.Seconds())))
	return nil
}

// viewer reads the session cookie; nil when there is none, or it is forged or expired.
func (s *sessions) viewer(r *http.Request, now time.Time) *Viewer {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil
	}
	var d sessionData
	if err := s.open("session", c.Value, &d); err != nil || now.Unix() >= d.Expires || d.ID == "" {
		return nil
	}
	return &Viewer{Actor: d.Actor, Name: d.Name, Roles: d.Roles, session: d.ID}
}

func (s *sessions) end(w http.ResponseWriter) {
	http.SetCookie(w, s.cookie(sessionCookie, "", s.path, -1))
}

// csrf is the anti-forgery token of a sign-in: every form and every script request that
// changes something carries it, and another site cannot read it.
func (s *sessions) csrf(v *Viewer) string {
	if v == nil || v.session == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", []byte(v.session)))
}

func (s *sessions) checkCSRF(r *http.Request, v *Viewer) bool {
	want := s.csrf(v)
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue("csrf")
	}
	return want != "" && hmac.Equal([]byte(got), []byte(want))
}

func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// viewer is who makes the request: the signed-in person, the person the trusted proxy names,
// or the local demo's anonymous viewer; nil when nobody is signed in.
func (s *Server) viewer(r *http.Request) (*Viewer, error) {
	switch {
	case s.cfg.Local:
		return &Viewer{Name: "this machine (read-only)", Roles: []string{RoleViewer}}, nil
	case s.cfg.Proxy != nil:
		return s.proxyViewer(r)
	}
	return s.sessions.viewer(r, s.now()), nil
}

// errUntrustedPeer is a request that did not come through the trusted proxy.
var errUntrustedPeer = errors.New("this request did not come through the proxy the board trusts (web.proxy.trusted)")

// proxyViewer believes the proxy's headers, from the proxy's addresses only.
func (s *Server) proxyViewer(r *http.Request) (*Viewer, error) {
	p := s.cfg.Proxy
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil, errUntrustedPeer
	}
	ip := peer.Addr().Unmap()
	if !slices.ContainsFunc(p.Trusted, func(t netip.Prefix) bool { return t.Contains(ip) }) {
		return nil, errUntrustedPeer
	}
	user := strings.TrimSpace(r.Header.Get(p.UserHeader))
	if user == "" {
		return nil, nil
	}
	actor := incident.SourceOIDC + ":" + p.Issuer + "#" + user
	if _, _, err := incident.ParseActor(actor); err != nil || strings.ContainsAny(user, "#\r\n") {
		return nil, fmt.Errorf("the proxy's %s header does not name a person the board can act for", p.UserHeader)
	}
	var groups []string
	if p.GroupsHeader != "" {
		for _, g := range strings.Split(r.Header.Get(p.GroupsHeader), ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
	}
	// The token binds to the person: the proxy keeps no session of the board's.
	return &Viewer{Actor: actor, Name: user, Roles: s.cfg.Roles.Of(groups), session: "proxy\x00" + actor}, nil
}

// handler is a page or endpoint for a viewer who may see the board.
type handler func(w http.ResponseWriter, r *http.Request, v *Viewer)

// page serves HTML to a viewer holding a role; a person not signed in is sent to sign in.
func (s *Server) page(h handler) http.Handler { return s.guard(h, false, false) }

// api serves JSON to a viewer holding a role; anyone else gets a JSON error.
func (s *Server) api(h handler) http.Handler { return s.guard(h, true, false) }

// action changes something: it takes a viewer holding a role and the anti-forgery token.
func (s *Server) action(h handler) http.Handler { return s.guard(h, false, true) }

func (s *Server) guard(h handler, api, changes bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if api || wantsJSON(r) {
			r = r.WithContext(withJSON(r.Context()))
		}
		v, err := s.viewer(r)
		if err != nil {
			s.cfg.Logger.Warn("board sign-in refused", "reason", err, "remote", r.RemoteAddr)
			s.fail(w, r, http.StatusForbidden, "Sign-in refused: "+err.Error())
			return
		}
		if v == nil {
			s.challenge(w, r)
			return
		}
		if len(v.Roles) == 0 {
			s.fail(w, r, http.StatusForbidden, fmt.Sprintf("You are signed in as %s, but hold no role on the board: ask its administrator to give your group a role (web.roles).", v.Name))
			return
		}
		if changes {
			r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
			if err := r.ParseForm(); err != nil {
				s.fail(w, r, http.StatusBadRequest, "The form could not be read.")
				return
			}
			if !s.sessions.checkCSRF(r, v) {
				s.fail(w, r, http.StatusForbidden, "This form has expired or did not come from the board (its anti-forgery token is missing or wrong): reload the page and try again.")
				return
			}
		}
		h(w, r, v)
	})
}

// challenge answers someone not signed in: a page sends them to sign in, JSON says 401.
func (s *Server) challenge(w http.ResponseWriter, r *http.Request) {
	if s.oidc != nil && r.Method == http.MethodGet && !isJSON(r.Context()) {
		back := r.URL.Path
		if r.URL.RawQuery != "" {
			back += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, s.cfg.Prefix+"/auth/signin?return="+urlQueryEscape(back), http.StatusSeeOther)
		return
	}
	msg := "Sign in to see the board."
	if s.cfg.Proxy != nil {
		msg = "Sign in through the company's sign-in proxy to see the board."
	}
	s.fail(w, r, http.StatusUnauthorized, msg)
}

// LoadSessionKey reads the key that signs the board's sessions from path, making a new random
// one there (mode 0600) when there is none. Boards behind one address share it.
func LoadSessionKey(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		data, err = createSessionKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("the board's session key %s: %w", path, err)
	}
	st, err := os.Stat(path)
	if err == nil && st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("the board's session key %s can be read by others (mode %o); chmod 600 it", path, st.Mode().Perm())
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(k) < 32 {
		return nil, fmt.Errorf("the board's session key %s is not 32 or more bytes in hexadecimal; delete it to have a new one made (everyone signs in again)", path)
	}
	return k, nil
}

// createSessionKey writes a new key whole beside path and links it into place: processes
// making it at the same moment all end with the one linked first, and none reads a part of it.
func createSessionKey(path string) ([]byte, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var k [32]byte
	_, _ = rand.Read(k[:])
	data := []byte(hex.EncodeToString(k[:]) + "\n")
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return nil, err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	os.Remove(f.Name())
	if errors.Is(err, fs.ErrExist) {
		return os.ReadFile(path)
	}
	return data, err
}
