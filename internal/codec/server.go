package codec

import (
	"crypto/subtle"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"go.temporal.io/sdk/converter"
)

// Headers the Temporal UI and CLI send to a codec server.
const allowHeaders = "Content-Type,X-Namespace,Authorization"

// maxBody bounds one request: Temporal refuses payloads over 2 MiB by default, and the UI sends
// a few at a time.
const maxBody = 32 << 20

// ServerOptions configure the codec server's HTTP handler.
type ServerOptions struct {
	// Origins are the browser origins allowed to call, e.g. the Temporal UI's
	// http://127.0.0.1:8233. A request from any other origin is refused with 403.
	Origins []string
	// Token, when set, must arrive as "Authorization: Bearer <Token>" on /encode and /decode;
	// without it a request is refused with 401.
	Token string
	// Log receives one line per refused request; nil logs nothing.
	Log *slog.Logger
}

// NewHandler serves Temporal's remote codec protocol for c: POST .../encode and .../decode
// (only the last path element counts, so /default/decode works too), Payloads as protobuf JSON
// in and out. CORS answers the configured origins, with preflight; nothing else is served.
func NewHandler(c converter.PayloadCodec, o ServerOptions) http.Handler {
	return &server{codec: converter.NewPayloadCodecHTTPHandler(c), o: o}
}

type server struct {
	codec http.Handler
	o     ServerOptions
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if origin := r.Header.Get("Origin"); origin != "" {
		if !slices.Contains(s.o.Origins, origin) {
			s.refuse(w, r, http.StatusForbidden, "origin "+origin+" is not allowed: start the codec server with --cors-origin "+origin)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Credentials", "true")
		h.Add("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		h := w.Header()
		h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", allowHeaders)
		h.Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	if last != "encode" && last != "decode" {
		http.Error(w, "not found: the codec server answers POST /encode and POST /decode", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST, OPTIONS")
		http.Error(w, "method not allowed: use POST", http.StatusMethodNotAllowed)
		return
	}
	if s.o.Token != "" {
		got := r.Header.Get("Authorization")
		if got == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="breach codec"`)
			s.refuse(w, r, http.StatusUnauthorized, "missing Authorization: send Authorization: Bearer <token> (temporal … --codec-auth \"Bearer $TOKEN\")")
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte("Bearer "+s.o.Token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="breach codec", error="invalid_token"`)
			s.refuse(w, r, http.StatusUnauthorized, "wrong bearer token")
			return
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.codec.ServeHTTP(w, r)
}

func (s *server) refuse(w http.ResponseWriter, r *http.Request, code int, why string) {
	if s.o.Log != nil {
		s.o.Log.Info("codec request refused", "status", code, "method", r.Method, "path", r.URL.Path, "remote", r.RemoteAddr, "why", why)
	}
	http.Error(w, why, code)
}
