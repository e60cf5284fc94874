// Package oidctest is an OpenID Connect provider for tests, over HTTPS on a loopback address:
// the discovery document, the signing keys (JWKS), an authorization endpoint that signs in at
// once whoever the test says, and a token endpoint that checks the code, the client and the
// PKCE verifier and issues an RS256 ID token. A test can make it issue tokens that must be
// refused: from another issuer, already expired, for another client, or with another nonce.
package oidctest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// User is who the provider signs in.
type User struct {
	Subject string
	Name    string
	Email   string
	// Groups go into the groups claim.
	Groups []string
}

// Fault is a way the next ID tokens are wrong.
type Fault int

// Faults.
const (
	// NoFault issues good tokens.
	NoFault Fault = iota
	// WrongIssuer issues tokens whose iss is another provider's.
	WrongIssuer
	// Expired issues tokens that expired an hour ago.
	Expired
	// WrongAudience issues tokens for another client.
	WrongAudience
	// WrongNonce issues tokens whose nonce is not the one asked for.
	WrongNonce
)

// Provider is a running provider. Its methods are safe for concurrent use.
type Provider struct {
	server       *httptest.Server
	key          *rsa.PrivateKey
	clientID     string
	clientSecret string

	mu     sync.Mutex
	user   User
	fault  Fault
	grants map[string]grant
	// Issued counts the ID tokens issued.
	issued int
}

type grant struct {
	user        User
	nonce       string
	challenge   string
	redirectURI string
	expires     time.Time
}

// Start starts a provider for one client. Close it when done.
func Start(clientID, clientSecret string) (*Provider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	p := &Provider{key: key, clientID: clientID, clientSecret: clientSecret, grants: map[string]grant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /authorize", p.authorize)
	mux.HandleFunc("POST /token", p.token)
	p.server = httptest.NewTLSServer(mux)
	return p, nil
}

// Close stops the provider.
func (p *Provider) Close() { p.server.Close() }

// Issuer is the provider's issuer URL (https://127.0.0.1:PORT).
func (p *Provider) Issuer() string { return p.server.URL }

// Client is an HTTP client that trusts the provider's certificate.
func (p *Provider) Client() *http.Client { return p.server.Client() }

// CertificatePEM is the provider's certificate, for SSL_CERT_FILE of another process.
func (p *Provider) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.server.Certificate().Raw})
}

// SignIn makes u the person the authorization endpoint signs in from now on.
func (p *Provider) SignIn(u User) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// SetFault makes the tokens issued from now on wrong in the way f says.
func (p *Provider) SetFault(f Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Issued is how many ID tokens the provider has issued.
func (p *Provider) Issued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                p.Issuer(),
		"authorization_endpoint":                p.Issuer() + "/authorize",
		"token_endpoint":                        p.Issuer() + "/token",
		"jwks_uri":                              p.Issuer() + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
		"scopes_supported":                      []string{"openid", "profile", "email", "groups"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
	})
}

const keyID = "oidctest-1"

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := p.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]string{{
		"kty": "RSA", "kid": keyID, "use": "sig", "alg": "RS256",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

// authorize signs in the current user at once and sends the browser back with a code.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	switch {
	case q.Get("client_id") != p.clientID:
		http.Error(w, "unknown client_id", http.StatusBadRequest)
		return
	case err != nil || redirect.Scheme == "" || redirect.Host == "":
		http.Error(w, "redirect_uri is not an absolute URL", http.StatusBadRequest)
		return
	case q.Get("response_type") != "code":
		http.Error(w, "only response_type=code is supported", http.StatusBadRequest)
		return
	case !slices.Contains(strings.Fields(q.Get("scope")), "openid"):
		http.Error(w, "the scope must include openid", http.StatusBadRequest)
		return
	case q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256":
		http.Error(w, "only the S256 code challenge is supported", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	user := p.user
	code := randomHex()
	p.grants[code] = grant{user: user, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"),
		redirectURI: q.Get("redirect_uri"), expires: time.Now().Add(time.Minute)}
	p.mu.Unlock()
	back := redirect.Query()
	if user.Subject == "" {
		back.Set("error", "access_denied")
		back.Set("error_description", "nobody is signed in at the test provider")
	} else {
		back.Set("code", code)
	}
	back.Set("state", q.Get("state"))
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		tokenError(w, "invalid_request", "not a form")
		return
	}
	id, secret, ok := r.BasicAuth()
	if !ok {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id != p.clientID || subtle.ConstantTimeCompare([]byte(secret), []byte(p.clientSecret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="oidctest"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
		return
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		tokenError(w, "unsupported_grant_type", "only authorization_code")
		return
	}
	p.mu.Lock()
	code := r.PostForm.Get("code")
	g, found := p.grants[code]
	delete(p.grants, code) // a code is used once
	fault := p.fault
	p.mu.Unlock()
	switch {
	case !found || time.Now().After(g.expires):
		tokenError(w, "invalid_grant", "unknown or expired code")
		return
	case r.PostForm.Get("redirect_uri") != g.redirectURI:
		tokenError(w, "invalid_grant", "redirect_uri differs from the authorization request's")
		return
	case g.challenge != "" && b64sha256(r.PostForm.Get("code_verifier")) != g.challenge:
		tokenError(w, "invalid_grant", "the PKCE verifier does not match the challenge")
		return
	}
	now := time.Now()
	claims := map[string]any{
		"iss": p.Issuer(), "sub": g.user.Subject, "aud": p.clientID,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "nonce": g.nonce,
		"name": g.user.Name, "email": g.user.Email, "groups": g.user.Groups,
	}
	switch fault {
	case WrongIssuer:
		claims["iss"] = "https://impostor.example.com"
	case Expired:
		claims["iat"], claims["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
	case WrongAudience:
		claims["aud"] = "another-client"
	case WrongNonce:
		claims["nonce"] = randomHex()
	}
	idToken, err := p.sign(claims)
	if err != nil {
		tokenError(w, "server_error", err.Error())
		return
	}
	p.mu.Lock()
	p.issued++
	p.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": randomHex(), "token_type": "Bearer", "expires_in": 3600, "id_token": idToken,
	})
}

// sign makes a compact JWS (RS256) of claims.
func (p *Provider) sign(claims map[string]any) (string, error) {
	header, err := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": keyID})
	if err != nil {
		return "", err
	}
	body, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64(header) + "." + b64(body)
	sum := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, p.key, crypto.SHA256, sum[:])
	if err != nil {
		return "", err
	}
	return input + "." + b64(sig), nil
}

func tokenError(w http.ResponseWriter, code, desc string) {
	writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func b64sha256(s string) string {
	sum := sha256.Sum256([]byte(s))
	return b64(sum[:])
}

func randomHex() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
