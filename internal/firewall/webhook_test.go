package firewall

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// automation is a company's isolation receiver: it checks the signature the way the docs
// describe it (independently of SignWebhook), keeps isolated systems, and can be told to fail.
type automation struct {
	t      *testing.T
	secret []byte

	mu       sync.Mutex
	isolated map[string]string // system -> rule id
	requests []WebhookRequest
	keys     []string
	failWith []int // statuses to answer with, one per request, before behaving
	noRuleID bool
}

func (a *automation) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "POST application/json only", http.StatusMethodNotAllowed)
		return
	}
	ts := r.Header.Get("X-Breach-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		http.Error(w, "stale or missing timestamp", http.StatusUnauthorized)
		return
	}
	m := hmac.New(sha256.New, a.secret)
	m.Write([]byte(ts + "." + string(body)))
	if want := "sha256=" + hex.EncodeToString(m.Sum(nil)); !hmac.Equal([]byte(r.Header.Get("X-Breach-Signature")), []byte(want)) {
		http.Error(w, `{"error":"bad signature"}`, http.StatusUnauthorized)
		return
	}
	if len(a.failWith) > 0 {
		code := a.failWith[0]
		a.failWith = a.failWith[1:]
		http.Error(w, "injected failure", code)
		return
	}
	var req WebhookRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	a.requests = append(a.requests, req)
	a.keys = append(a.keys, r.Header.Get("Idempotency-Key"))
	w.Header().Set("Content-Type", "application/json")
	switch req.Action {
	case "isolate":
		if a.noRuleID {
			fmt.Fprint(w, `{}`)
			return
		}
		id, ok := a.isolated[req.System]
		if !ok {
			id = fmt.Sprintf("rule-%d", len(a.isolated)+1)
			a.isolated[req.System] = id
		}
		json.NewEncoder(w).Encode(map[string]any{"rule_id": id})
	case "verify":
		id, ok := a.isolated[req.System]
		json.NewEncoder(w).Encode(map[string]any{"rule_id": id, "in_force": ok})
	case "release":
		id := a.isolated[req.System]
		delete(a.isolated, req.System)
		json.NewEncoder(w).Encode(map[string]any{"rule_id": id})
	default:
		http.Error(w, "unknown action", http.StatusBadRequest)
	}
}

func newAutomation(t *testing.T) (*automation, *httptest.Server) {
	a := &automation{t: t, secret: []byte("whsec-test"), isolated: map[string]string{}}
	srv := httptest.NewServer(a)
	t.Cleanup(srv.Close)
	return a, srv
}

func TestWebhookIsolateVerifyRelease(t *testing.T) {
	a, srv := newAutomation(t)
	ctx := context.Background()
	p, err := NewWebhook(srv.URL, a.secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	tg := Target{System: "db-1", Addresses: []string{"10.0.1.5"}, Allow: []string{"192.0.2.10"}, Incident: "INC-20261128-7F3A"}

	ev, err := p.Isolate(ctx, tg)
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	if ev.Identifiers["rule_id"] != "rule-1" || len(ev.Changes) != 1 {
		t.Errorf("isolate evidence %+v; want rule_id rule-1 and the change", ev)
	}
	if _, err := p.Isolate(ctx, tg); err != nil {
		t.Fatalf("isolate again: %v", err)
	}
	if len(a.isolated) != 1 {
		t.Errorf("receiver holds %d isolations after isolating twice", len(a.isolated))
	}
	if a.keys[0] != a.keys[1] {
		t.Errorf("idempotency keys differ between two isolations of the same target: %v", a.keys)
	}
	got := a.requests[0]
	want := WebhookRequest{Action: "isolate", System: "db-1", Addresses: []string{"10.0.1.5"}, Allow: []string{"192.0.2.10"}, Incident: "INC-20261128-7F3A"}
	if got.Action != want.Action || got.System != want.System || !slices.Equal(got.Addresses, want.Addresses) ||
		!slices.Equal(got.Allow, want.Allow) || got.Incident != want.Incident {
		t.Errorf("request %+v, want %+v", got, want)
	}

	if v, err := p.Verify(ctx, tg); err != nil || !v.InForce {
		t.Fatalf("verify: in force %v, err %v", v.InForce, err)
	}
	if _, err := p.Release(ctx, tg); err != nil {
		t.Fatalf("release: %v", err)
	}
	if v, err := p.Verify(ctx, tg); err != nil || v.InForce {
		t.Fatalf("verify after release: in force %v, err %v; want not in force", v.InForce, err)
	}
}

func TestWebhookFaults(t *testing.T) {
	ctx := context.Background()
	tg := Target{System: "db-1", Addresses: []string{"10.0.1.5"}}
	tests := []struct {
		name      string
		setup     func(a *automation, p *Webhook)
		permanent bool
	}{
		{"wrong secret", func(a *automation, p *Webhook) { p.Secret = []byte("not-the-secret") }, true},
		{"stale timestamp", func(a *automation, p *Webhook) { p.Now = func() time.Time { return time.Now().Add(-10 * time.Minute) } }, true},
		{"server error", func(a *automation, p *Webhook) { a.failWith = []int{http.StatusBadGateway} }, false},
		{"rate limited", func(a *automation, p *Webhook) { a.failWith = []int{http.StatusTooManyRequests} }, false},
		{"rejected", func(a *automation, p *Webhook) { a.failWith = []int{http.StatusUnprocessableEntity} }, true},
		{"no rule id", func(a *automation, p *Webhook) { a.noRuleID = true }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, srv := newAutomation(t)
			p, err := NewWebhook(srv.URL, a.secret, nil)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(a, p)
			_, err = p.Isolate(ctx, tg)
			if err == nil {
				t.Fatal("isolate succeeded; want an error")
			}
			if got := errors.Is(err, ErrPermanent); got != tc.permanent {
				t.Errorf("error %v: permanent %v, want %v", err, got, tc.permanent)
			}
		})
	}

	t.Run("retry after 5xx succeeds", func(t *testing.T) {
		a, srv := newAutomation(t)
		a.failWith = []int{http.StatusServiceUnavailable}
		p, _ := NewWebhook(srv.URL, a.secret, nil)
		if _, err := p.Isolate(ctx, tg); err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("first try: %v; want a retryable error", err)
		}
		if _, err := p.Isolate(ctx, tg); err != nil {
			t.Fatalf("retry: %v", err)
		}
	})

	t.Run("unreachable is retryable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		url := srv.URL
		srv.Close()
		p, _ := NewWebhook(url, []byte("s"), nil)
		if _, err := p.Isolate(ctx, tg); err == nil || errors.Is(err, ErrPermanent) {
			t.Fatalf("isolate against a closed port: %v; want a retryable error", err)
		}
	})

	if _, err := NewWebhook("https://x", nil, nil); !errors.Is(err, ErrPermanent) {
		t.Errorf("empty secret: %v; want a permanent error", err)
	}
}

func TestWebhookEvidenceRedactsURL(t *testing.T) {
	a, srv := newAutomation(t)
	p, _ := NewWebhook(srv.URL+"/hook?token=abc123", a.secret, nil)
	ev, err := p.Isolate(context.Background(), Target{System: "db-1", Addresses: []string{"10.0.1.5"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	if strings.Contains(string(b), "abc123") {
		t.Errorf("evidence leaks the URL's token: %s", b)
	}
}

func TestVerifyWebhook(t *testing.T) {
	secret := []byte("s")
	body := []byte(`{"action":"isolate"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := SignWebhook(secret, ts, body)
	if err := VerifyWebhook(secret, ts, sig, body, now.Add(time.Minute)); err != nil {
		t.Errorf("valid signature rejected: %v", err)
	}
	if err := VerifyWebhook(secret, ts, sig, []byte(`{"action":"release"}`), now); err == nil {
		t.Error("signature over another body accepted")
	}
	if err := VerifyWebhook(secret, ts, sig, body, now.Add(6*time.Minute)); err == nil {
		t.Error("stale timestamp accepted")
	}
	if err := VerifyWebhook([]byte("other"), ts, sig, body, now); err == nil {
		t.Error("signature with another secret accepted")
	}
}
