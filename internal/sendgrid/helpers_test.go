package sendgrid

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/breachops/breach/internal/sendgridtest"
)

const testKey = "SG.test-key-never-logged"

// captured is one request as it left the adapter.
type captured struct {
	Method string
	URL    *url.URL // as the adapter addressed it, before any redirection to the local server
	Header http.Header
	Body   []byte
}

// recorder is a RoundTripper that captures every request and forwards it to target
// (the local server), so a client configured with any host talks to loopback only.
type recorder struct {
	target *url.URL
	next   http.RoundTripper

	mu   sync.Mutex
	reqs []captured
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
	}
	u := *req.URL
	r.mu.Lock()
	r.reqs = append(r.reqs, captured{Method: req.Method, URL: &u, Header: req.Header.Clone(), Body: body})
	r.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.target.Scheme, r.target.Host, ""
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	return r.next.RoundTrip(out)
}

func (r *recorder) requests() []captured {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]captured(nil), r.reqs...)
}

// fixture is an adapter wired to a local SendGrid through a recorder.
type fixture struct {
	srv    *sendgridtest.Server
	rec    *recorder
	client *Client
	now    time.Time
}

type fixtureOpt func(*Config, *sendgridtest.Options)

func withHost(h string) fixtureOpt { return func(c *Config, _ *sendgridtest.Options) { c.Host = h } }

func withoutEmailActivity() fixtureOpt {
	return func(_ *Config, o *sendgridtest.Options) { o.NoEmailActivity = true }
}

func newFixture(t *testing.T, opts ...fixtureOpt) *fixture {
	t.Helper()
	now := time.Date(2026, 11, 28, 9, 30, 0, 0, time.UTC)
	cfg := Config{APIKey: testKey, Host: DefaultHost, Now: func() time.Time { return now }}
	sopts := sendgridtest.Options{APIKey: testKey, Now: func() time.Time { return now }}
	for _, o := range opts {
		o(&cfg, &sopts)
	}
	srv := sendgridtest.NewTest(t, sopts)
	target, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(transport.CloseIdleConnections)
	rec := &recorder{target: target, next: transport}
	cfg.HTTPClient = &http.Client{Transport: rec, Timeout: 30 * time.Second}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{srv: srv, rec: rec, client: c, now: now}
}

func recipients(n int, format string) []Recipient {
	rs := make([]Recipient, n)
	for i := range rs {
		rs[i] = Recipient{
			Key:   fmt.Sprintf("subj-%05d", i),
			Email: fmt.Sprintf(format, i),
			Substitutions: map[string]string{
				"-name-": fmt.Sprintf("Customer %d", i),
				"-data-": "email address, postal address",
			},
		}
	}
	return rs
}

func testBatch(key string, rs []Recipient) Batch {
	return Batch{
		IncidentID: "INC-20261128-7F3A",
		Key:        key,
		From:       "privacy@example.com",
		FromName:   "Example Privacy Team",
		Subject:    "Important: your data was involved in a security incident, -name-",
		Text:       "Dear -name-,\n\nThe following data of yours was involved: -data-.\n",
		HTML:       "<p>Dear -name-,</p><p>The following data of yours was involved: -data-.</p>",
		Categories: []string{"breach-notice"},
		Recipients: rs,
	}
}
