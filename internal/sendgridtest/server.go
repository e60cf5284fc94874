// Package sendgridtest is a local SendGrid-compatible HTTP server for tests and benchmarks.
//
// It answers Mail Send (POST /v3/mail/send) the way SendGrid does: it enforces the official
// contract's required fields and limits (1,000 personalizations, 1,000 recipients, each
// address once per request, a bearer API key), answers 202 with X-Message-Id (200 in sandbox
// mode), records every delivered address with its batch key and custom_args, and answers
// the Email Activity query (GET /v3/messages) by custom argument. Faults are injected on
// demand: 429 with X-RateLimit-Reset, 500, a connection dropped before or after the request
// was accepted, and a 400 for named addresses.
//
// Recording is cheap enough for 1,000,000 recipients: one counter per address plus the list
// of addresses of each accepted request.
//
// Contract (NewContract) checks requests against Twilio SendGrid's official OpenAPI contracts,
// which are embedded from specs/ (vendored unchanged, MIT; see specs/SOURCE.md).
//
// Only tests import this package: keep it out of production code.
package sendgridtest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/breachops/breach/internal/mail"
)

// Contract limits enforced by the server.
const (
	MaxPersonalizations  = 1000
	MaxRecipients        = 1000
	MaxCategories        = 10
	MaxBodyBytes         = 30 << 20
	maxSubstitutionBytes = 10000
	maxCustomArgsBytes   = 10000
	activityMaxLimit     = 1000
)

// Options configure a Server.
type Options struct {
	// APIKey, when set, is the only bearer token accepted. When empty any non-empty bearer
	// token is accepted.
	APIKey string
	// NoEmailActivity makes GET /v3/messages answer 403, as for an account without the
	// Email Activity add-on.
	NoEmailActivity bool
	// Now is the clock for X-RateLimit-Reset. Nil means time.Now.
	Now func() time.Time
}

// FaultKind is a failure the server can inject into a Mail Send request.
type FaultKind int

const (
	// RateLimit answers 429 with X-RateLimit-Reset = now + Fault.Wait (rounded up to whole
	// seconds; default 1 s). Nothing is delivered.
	RateLimit FaultKind = iota + 1
	// ServerError answers 500. Nothing is delivered.
	ServerError
	// DropAfterAccept validates and records the delivery, then closes the connection
	// without answering: the sender cannot know the mail went out.
	DropAfterAccept
	// DropBeforeAccept reads the request and closes the connection without answering or
	// delivering: to the sender it looks exactly like DropAfterAccept.
	DropBeforeAccept
)

func (k FaultKind) String() string {
	switch k {
	case RateLimit:
		return "rate-limit"
	case ServerError:
		return "server-error"
	case DropAfterAccept:
		return "drop-after-accept"
	case DropBeforeAccept:
		return "drop-before-accept"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Fault is one injected failure. A fault is taken by the next Mail Send request that
// passes authorization, whatever its body: a drop fault taken by an invalid request is
// spent on its 400 answer.
type Fault struct {
	Kind FaultKind
	// Wait is how far in the future the rate limit resets (RateLimit only).
	Wait time.Duration
}

// Request is one accepted Mail Send request.
type Request struct {
	MessageID string
	// From and Subject are the message-level sender and subject.
	From    string
	Subject string
	// BatchKey and IncidentID are the batch_key and incident_id custom_args (of the first
	// personalization, or of the message when personalizations carry none).
	BatchKey   string
	IncidentID string
	// CustomArgs are the first personalization's custom_args merged over the message's.
	CustomArgs map[string]string
	Categories []string
	Sandbox    bool
	// Dropped is set when the connection was dropped after the request was accepted.
	Dropped bool
	// Addresses are the recipients (to, cc, bcc) as sent.
	Addresses []string
}

// Stats are the server's counters.
type Stats struct {
	// Requests counts every Mail Send request received, whatever its answer.
	Requests int
	// Accepted counts requests that were accepted (202, 200 in sandbox mode, or dropped
	// after accepting).
	Accepted int
	// BadRequests counts 400 answers, Faults the injected faults taken.
	BadRequests int
	Faults      int
	// Delivered counts deliveries outside sandbox mode; Unique the distinct addresses among
	// them; Duplicated the addresses delivered more than once.
	Delivered  int
	Unique     int
	Duplicated int
	// Sandboxed counts recipients of sandbox-mode requests (validated, not delivered).
	Sandboxed int
	// ActivityQueries counts Email Activity queries.
	ActivityQueries int
}

// Server is the local SendGrid. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL (http://127.0.0.1:port) once started.
	URL string

	opts Options
	ts   *httptest.Server

	mu          sync.Mutex
	queue       []Fault
	every       int
	everyFault  Fault
	rejected    map[string]struct{}
	counts      map[string]int32
	sandboxed   map[string]int32
	requests    []Request
	byBatch     map[string][]int
	stats       Stats
	seq         uint64
	idPrefix    string
	activityOff bool
}

// New returns a server that is not listening; use it as an http.Handler, or call Start or
// NewTest instead.
func New(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Server{
		opts:        opts,
		rejected:    map[string]struct{}{},
		counts:      map[string]int32{},
		sandboxed:   map[string]int32{},
		byBatch:     map[string][]int{},
		idPrefix:    strconv.FormatInt(time.Now().UnixNano()%1e9, 36),
		activityOff: opts.NoEmailActivity,
	}
}

// Start serves a new server on addr ("127.0.0.1:0" picks a free port), for example for a
// worker running in another process. Close stops it.
func Start(addr string, opts Options) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("sendgridtest: listen on %s: %w", addr, err)
	}
	s := New(opts)
	s.ts = httptest.NewUnstartedServer(s)
	s.ts.Listener.Close()
	s.ts.Listener = l
	s.ts.Start()
	s.URL = s.ts.URL
	return s, nil
}

// NewTest starts a server on a free loopback port and closes it when the test ends.
func NewTest(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts)
	if err != nil {
		t.Fatalf("start local SendGrid: %v", err)
	}
	t.Cleanup(s.Close)
	return s
}

// Close stops a server started by Start or NewTest.
func (s *Server) Close() {
	if s.ts != nil {
		s.ts.CloseClientConnections()
		s.ts.Close()
	}
}

// Inject queues faults: each of the next Mail Send requests takes the next fault. A zero
// Fault lets its request through, so Inject(Fault{}, Fault{Kind: ServerError}) fails the
// second request.
func (s *Server) Inject(faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue = append(s.queue, faults...)
}

// FaultEvery injects f into every n-th Mail Send request (counting all requests received);
// n <= 0 turns it off. Queued faults (Inject) take precedence.
func (s *Server) FaultEvery(n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.every, s.everyFault = n, f
}

// ClearFaults drops queued and periodic faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queue, s.every = nil, 0
}

// Reject makes every request that includes one of addrs (case-insensitive) fail with a 400
// naming the field of that address, as SendGrid does for an address it will not take.
func (s *Server) Reject(addrs ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range addrs {
		s.rejected[mail.Normalize(a)] = struct{}{}
	}
}

// SetEmailActivity turns the Email Activity API on or off.
func (s *Server) SetEmailActivity(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.activityOff = !on
}

// Deliveries returns how often addr was delivered outside sandbox mode (case-insensitive).
func (s *Server) Deliveries(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.counts[mail.Normalize(addr)])
}

// SandboxDeliveries returns how often addr was in an accepted sandbox-mode request.
func (s *Server) SandboxDeliveries(addr string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return int(s.sandboxed[mail.Normalize(addr)])
}

// Duplicates returns the normalized addresses delivered more than once, with their counts.
func (s *Server) Duplicates() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int{}
	for a, n := range s.counts {
		if n > 1 {
			out[a] = int(n)
		}
	}
	return out
}

// Stats returns the counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Unique = len(s.counts)
	for _, n := range s.counts {
		if n > 1 {
			st.Duplicated++
		}
	}
	return st
}

// Requests returns the accepted requests in order of arrival. The slices inside are shared:
// do not modify them.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Batch returns the accepted requests that carried batch_key=key.
func (s *Server) Batch(key string) []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Request
	for _, i := range s.byBatch[key] {
		out = append(out, s.requests[i])
	}
	return out
}

// ServeHTTP routes the SendGrid API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v3/mail/send":
		if r.Method != http.MethodPost {
			writeErrors(w, http.StatusMethodNotAllowed, apiError{Message: "method not allowed"})
			return
		}
		s.mailSend(w, r)
	case "/v3/messages":
		if r.Method != http.MethodGet {
			writeErrors(w, http.StatusMethodNotAllowed, apiError{Message: "method not allowed"})
			return
		}
		s.messages(w, r)
	default:
		writeErrors(w, http.StatusNotFound, apiError{Message: "not found"})
	}
}

func (s *Server) authorized(w http.ResponseWriter, r *http.Request) bool {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" || (s.opts.APIKey != "" && token != s.opts.APIKey) {
		writeErrors(w, http.StatusUnauthorized, apiError{Message: "The provided authorization grant is invalid, expired, or revoked"})
		return false
	}
	return true
}

func (s *Server) nextFault() (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	if len(s.queue) > 0 {
		f := s.queue[0]
		s.queue = s.queue[1:]
		return f, true
	}
	if s.every > 0 && s.stats.Requests%s.every == 0 {
		return s.everyFault, true
	}
	return Fault{}, false
}

func (s *Server) mailSend(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		s.mu.Lock()
		s.stats.Requests++
		s.mu.Unlock()
		return
	}
	fault, _ := s.nextFault()
	if fault.Kind != 0 {
		s.mu.Lock()
		s.stats.Faults++
		s.mu.Unlock()
		switch fault.Kind {
		case RateLimit:
			wait := fault.Wait
			if wait <= 0 {
				wait = time.Second
			}
			reset := s.opts.Now().Add(wait + time.Second - 1).Truncate(time.Second)
			w.Header().Set("X-RateLimit-Limit", "600")
			w.Header().Set("X-RateLimit-Remaining", "0")
			w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
			writeErrors(w, http.StatusTooManyRequests, apiError{Message: "too many requests"})
			return
		case ServerError:
			writeErrors(w, http.StatusInternalServerError, apiError{Message: "internal server error"})
			return
		}
	}
	req, status, errs := s.parse(r)
	if fault.Kind == DropBeforeAccept {
		drop(w)
		return
	}
	if len(errs) > 0 {
		s.mu.Lock()
		s.stats.BadRequests++
		s.mu.Unlock()
		writeErrors(w, status, errs...)
		return
	}
	dropped := fault.Kind == DropAfterAccept
	id := s.accept(req, dropped)
	if dropped {
		drop(w)
		return
	}
	w.Header().Set("X-Message-Id", id)
	if req.sandbox {
		w.WriteHeader(http.StatusOK)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	conn.Close()
}

type parsed struct {
	from, subject        string
	batchKey, incidentID string
	customArgs           map[string]string
	categories           []string
	sandbox              bool
	addresses            []string
}

func (s *Server) accept(p parsed, dropped bool) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	id := fmt.Sprintf("%sLOCAL%09d", s.idPrefix, s.seq)
	counts := s.counts
	if p.sandbox {
		counts = s.sandboxed
		s.stats.Sandboxed += len(p.addresses)
	} else {
		s.stats.Delivered += len(p.addresses)
	}
	for _, a := range p.addresses {
		counts[mail.Normalize(a)]++
	}
	s.stats.Accepted++
	s.requests = append(s.requests, Request{
		MessageID:  id,
		From:       p.from,
		Subject:    p.subject,
		BatchKey:   p.batchKey,
		IncidentID: p.incidentID,
		CustomArgs: p.customArgs,
		Categories: p.categories,
		Sandbox:    p.sandbox,
		Dropped:    dropped,
		Addresses:  p.addresses,
	})
	if p.batchKey != "" {
		s.byBatch[p.batchKey] = append(s.byBatch[p.batchKey], len(s.requests)-1)
	}
	return id
}

type apiError struct {
	Message string  `json:"message"`
	Field   *string `json:"field"`
	Help    *string `json:"help"`
}

func fieldErr(field, format string, args ...any) apiError {
	return apiError{Field: &field, Message: fmt.Sprintf(format, args...)}
}

func writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

type address struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type personalization struct {
	To      []address `json:"to"`
	CC      []address `json:"cc"`
	BCC     []address `json:"bcc"`
	From    *address  `json:"from"`
	Subject *string   `json:"subject"`
	// Substitutions and CustomArgs are checked by scanning (stringMap), not decoded: a
	// request carries 1,000 of each and decoding them into maps dominated the cost.
	Substitutions json.RawMessage `json:"substitutions"`
	CustomArgs    json.RawMessage `json:"custom_args"`
	SendAt        *int64          `json:"send_at"`
}

type content struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type sendRequest struct {
	Personalizations []personalization `json:"personalizations"`
	From             *address          `json:"from"`
	ReplyTo          *address          `json:"reply_to"`
	ReplyToList      []address         `json:"reply_to_list"`
	Subject          *string           `json:"subject"`
	Content          []content         `json:"content"`
	Attachments      []struct {
		Content  string `json:"content"`
		Filename string `json:"filename"`
	} `json:"attachments"`
	TemplateID   string          `json:"template_id"`
	Categories   []string        `json:"categories"`
	CustomArgs   json.RawMessage `json:"custom_args"`
	SendAt       *int64          `json:"send_at"`
	MailSettings *struct {
		SandboxMode *struct {
			Enable bool `json:"enable"`
		} `json:"sandbox_mode"`
	} `json:"mail_settings"`
}

// parse reads and validates a Mail Send body the way SendGrid does, collecting every error.
func (s *Server) parse(r *http.Request) (parsed, int, []apiError) {
	var p parsed
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return p, http.StatusBadRequest, []apiError{{Message: "Content-Type should be application/json."}}
	}
	var body io.Reader = http.MaxBytesReader(nil, r.Body, MaxBodyBytes)
	if strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		zr, err := gzip.NewReader(body)
		if err != nil {
			return p, http.StatusBadRequest, []apiError{{Message: "The request body could not be decompressed."}}
		}
		body = io.LimitReader(zr, MaxBodyBytes+1)
	}
	raw, err := io.ReadAll(body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || len(raw) > MaxBodyBytes {
		return p, http.StatusRequestEntityTooLarge, []apiError{{Message: "content too large"}}
	}
	if err != nil {
		return p, http.StatusBadRequest, []apiError{{Message: "Bad Request"}}
	}
	var req sendRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return p, http.StatusBadRequest, []apiError{{Message: "Bad Request"}}
	}
	var errs []apiError
	add := func(e apiError) {
		if len(errs) < 50 {
			errs = append(errs, e)
		}
	}

	switch {
	case req.From == nil:
		add(fieldErr("from", "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter."))
	case !mail.ValidAddress(req.From.Email):
		add(fieldErr("from.email", "The from email does not contain a valid address."))
	}
	if req.ReplyTo != nil && len(req.ReplyToList) > 0 {
		add(fieldErr("reply_to", "You can either use 'reply_to' or 'reply_to_list' but not both."))
	}
	if req.ReplyTo != nil && !mail.ValidAddress(req.ReplyTo.Email) {
		add(fieldErr("reply_to.email", "The reply_to email does not contain a valid address."))
	}

	n := len(req.Personalizations)
	switch {
	case n == 0:
		add(fieldErr("personalizations", "The personalizations field is required and must have at least one personalization."))
	case n > MaxPersonalizations:
		add(fieldErr("personalizations", "The personalizations block is limited to %d personalizations per API request.", MaxPersonalizations))
	}

	everySubject := n > 0
	total := 0
	seen := make(map[string]struct{}, n)
	s.mu.Lock()
	rejected := len(s.rejected) > 0
	s.mu.Unlock()
	p.addresses = make([]string, 0, n)
	for i, pz := range req.Personalizations {
		if len(pz.To) == 0 {
			add(fieldErr(fmt.Sprintf("personalizations.%d.to", i), "The to array is required for all personalization objects, and must have at least one email object with a valid email address."))
		}
		if pz.Subject == nil || *pz.Subject == "" {
			everySubject = false
		}
		if pz.From != nil && !mail.ValidAddress(pz.From.Email) {
			add(fieldErr(fmt.Sprintf("personalizations.%d.from.email", i), "The from email does not contain a valid address."))
		}
		for _, list := range []struct {
			name  string
			addrs []address
		}{{"to", pz.To}, {"cc", pz.CC}, {"bcc", pz.BCC}} {
			for j, a := range list.addrs {
				field := fmt.Sprintf("personalizations.%d.%s.%d.email", i, list.name, j)
				total++
				if !mail.ValidAddress(a.Email) {
					add(fieldErr(field, "Does not contain a valid address."))
					continue
				}
				norm := mail.Normalize(a.Email)
				if _, dup := seen[norm]; dup {
					add(fieldErr(fmt.Sprintf("personalizations.%d.%s", i, list.name), "Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [%s] in the personalizations.%d.%s field.", a.Email, i, list.name))
					continue
				}
				seen[norm] = struct{}{}
				if rejected && s.isRejected(norm) {
					add(fieldErr(field, "Does not contain a valid address."))
					continue
				}
				p.addresses = append(p.addresses, a.Email)
			}
		}
		if size, ok := stringMap(pz.Substitutions); !ok {
			add(fieldErr(fmt.Sprintf("personalizations.%d.substitutions", i), "Substitutions must be an object of string values."))
		} else if size > maxSubstitutionBytes {
			add(fieldErr(fmt.Sprintf("personalizations.%d.substitutions", i), "The total size of your substitutions may not exceed %d bytes per personalization object.", maxSubstitutionBytes))
		}
		if size, ok := stringMap(pz.CustomArgs); !ok {
			add(fieldErr(fmt.Sprintf("personalizations.%d.custom_args", i), "Custom arguments must be an object of string values."))
		} else if size > maxCustomArgsBytes {
			add(fieldErr(fmt.Sprintf("personalizations.%d.custom_args", i), "The total size of custom arguments may not exceed %d bytes per personalization object.", maxCustomArgsBytes))
		}
	}
	if total > MaxRecipients {
		add(fieldErr("personalizations", "The total number of recipients must be no more than %d. This includes all recipients defined within the to, cc, and bcc parameters, across each object that you include in the personalizations array.", MaxRecipients))
	}

	if req.TemplateID == "" {
		if !everySubject && (req.Subject == nil || *req.Subject == "") {
			add(fieldErr("subject", "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined."))
		}
		if len(req.Content) == 0 {
			add(fieldErr("content", "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block."))
		}
	}
	for i, c := range req.Content {
		if c.Type == "" {
			add(fieldErr(fmt.Sprintf("content.%d.type", i), "The content type must be a string at least one character in length."))
		}
		if c.Value == "" {
			add(fieldErr(fmt.Sprintf("content.%d.value", i), "The content value must be a string at least one character in length."))
		}
		if i > 0 && c.Type == "text/plain" {
			add(fieldErr("content", "If present, text/plain must be first, followed by text/html, followed by any other content."))
		}
	}
	for i, a := range req.Attachments {
		if a.Content == "" || a.Filename == "" {
			add(fieldErr(fmt.Sprintf("attachments.%d", i), "Attachments must have content and a filename."))
		}
	}

	if len(req.Categories) > MaxCategories {
		add(fieldErr("categories", "You may not have more than %d categories per request.", MaxCategories))
	}
	cats := make(map[string]struct{}, len(req.Categories))
	for i, c := range req.Categories {
		if len(c) > 255 {
			add(fieldErr(fmt.Sprintf("categories.%d", i), "A category cannot have more than 255 characters."))
		}
		if _, dup := cats[c]; dup {
			add(fieldErr("categories", "The categories must be unique."))
		}
		cats[c] = struct{}{}
	}

	// SendGrid takes an object of strings at message level; the published schema says string.
	msgArgs := map[string]string{}
	if len(req.CustomArgs) > 0 && string(req.CustomArgs) != "null" {
		var str string
		if err := json.Unmarshal(req.CustomArgs, &msgArgs); err != nil {
			if err := json.Unmarshal(req.CustomArgs, &str); err != nil {
				add(fieldErr("custom_args", "Custom arguments must be an object of string values."))
			}
		}
	}

	if len(errs) > 0 {
		return p, http.StatusBadRequest, errs
	}
	p.customArgs = msgArgs
	if len(req.Personalizations) > 0 && len(req.Personalizations[0].CustomArgs) > 0 {
		var first map[string]string
		if err := json.Unmarshal(req.Personalizations[0].CustomArgs, &first); err == nil {
			merged := make(map[string]string, len(msgArgs)+len(first))
			for k, v := range msgArgs {
				merged[k] = v
			}
			for k, v := range first {
				merged[k] = v
			}
			p.customArgs = merged
		}
	}
	p.from = req.From.Email
	if req.Subject != nil {
		p.subject = *req.Subject
	}
	p.batchKey = p.customArgs["batch_key"]
	p.incidentID = p.customArgs["incident_id"]
	p.categories = req.Categories
	p.sandbox = req.MailSettings != nil && req.MailSettings.SandboxMode != nil && req.MailSettings.SandboxMode.Enable
	return p, http.StatusAccepted, nil
}

func (s *Server) isRejected(norm string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.rejected[norm]
	return ok
}

// stringMap checks that raw (already known to be valid JSON) is null, absent, or an object
// whose values are all strings, and returns the bytes its keys and values take (as
// encoded, which is at least their decoded size).
func stringMap(raw json.RawMessage) (int, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, true
	}
	if raw[0] != '{' {
		return 0, false
	}
	size := 0
	i := 1
	skipSpace := func() {
		for i < len(raw) && (raw[i] == ' ' || raw[i] == '\t' || raw[i] == '\n' || raw[i] == '\r') {
			i++
		}
	}
	// str consumes a JSON string at i and returns its encoded length without quotes.
	str := func() (int, bool) {
		if i >= len(raw) || raw[i] != '"' {
			return 0, false
		}
		start := i + 1
		for i = start; i < len(raw); i++ {
			switch raw[i] {
			case '\\':
				i++
			case '"':
				i++
				return i - start - 1, true
			}
		}
		return 0, false
	}
	for {
		skipSpace()
		if i < len(raw) && raw[i] == '}' {
			return size, true
		}
		k, ok := str()
		if !ok {
			return 0, false
		}
		skipSpace()
		if i >= len(raw) || raw[i] != ':' {
			return 0, false
		}
		i++
		skipSpace()
		v, ok := str()
		if !ok {
			return 0, false
		}
		size += k + v
		skipSpace()
		if i < len(raw) && raw[i] == ',' {
			i++
		}
	}
}

var activityQuery = regexp.MustCompile(`^\s*\(?\s*unique_args\['([^']+)'\]\s*=\s*"([^"]*)"\s*\)?\s*$`)

type activityMessage struct {
	FromEmail     string `json:"from_email"`
	MsgID         string `json:"msg_id"`
	Subject       string `json:"subject"`
	ToEmail       string `json:"to_email"`
	Status        string `json:"status"`
	OpensCount    int    `json:"opens_count"`
	ClicksCount   int    `json:"clicks_count"`
	LastEventTime string `json:"last_event_time"`
}

// messages answers the Email Activity query for one custom argument:
// query=unique_args['name']="value". Sandbox-mode requests have no activity.
func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(w, r) {
		return
	}
	s.mu.Lock()
	off := s.activityOff
	s.stats.ActivityQueries++
	s.mu.Unlock()
	if off {
		writeErrors(w, http.StatusForbidden, apiError{Message: "access forbidden"})
		return
	}
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > activityMaxLimit {
			writeErrors(w, http.StatusBadRequest, apiError{Message: "limit must be an integer between 1 and 1000"})
			return
		}
		limit = n
	}
	m := activityQuery.FindStringSubmatch(q.Get("query"))
	if m == nil {
		writeErrors(w, http.StatusBadRequest, apiError{Message: "invalid syntax: query must be unique_args['name']=\"value\""})
		return
	}
	arg, value := m[1], m[2]

	s.mu.Lock()
	var idx []int
	if arg == "batch_key" {
		idx = append(idx, s.byBatch[value]...)
	} else {
		for i, req := range s.requests {
			if req.CustomArgs[arg] == value {
				idx = append(idx, i)
			}
		}
	}
	now := s.opts.Now().UTC().Format(time.RFC3339)
	out := make([]activityMessage, 0, min(limit, 64))
	for _, i := range idx {
		req := s.requests[i]
		if req.Sandbox {
			continue
		}
		for j, a := range req.Addresses {
			if len(out) == limit {
				break
			}
			out = append(out, activityMessage{
				FromEmail:     req.From,
				Subject:       req.Subject,
				MsgID:         fmt.Sprintf("%s.filter0001.%d.0", req.MessageID, j),
				ToEmail:       a,
				Status:        "delivered",
				LastEventTime: now,
			})
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(struct {
		Messages []activityMessage `json:"messages"`
	}{out})
}
