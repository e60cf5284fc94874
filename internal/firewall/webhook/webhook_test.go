package webhook

import (
	"bytes"
	"context"
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

	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/webhook/webhooktest"
)

// automation is a company's isolation receiver: it checks the signature the way the contract
// describes it (webhooktest, independently of sign), keeps isolated systems, and can be told to
// fail.
type automation struct {
	t      *testing.T
	secret []byte

	mu       sync.Mutex
	isolated map[string]string // system -> rule id
	requests []webhooktest.Request
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
	err := webhooktest.Verify(a.secret, r.Header.Get(webhooktest.TimestampHeader), r.Header.Get(webhooktest.SignatureHeader), body, time.Now())
	if err != nil {
		http.Error(w, fmt.Sprintf(`{"error":%q}`, err.Error()), http.StatusUnauthorized)
		return
	}
	if len(a.failWith) > 0 {
		code := a.failWith[0]
		a.failWith = a.failWith[1:]
		http.Error(w, "injected failure", code)
		return
	}
	var req webhooktest.Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		http.Error(w, "bad body: "+err.Error(), http.StatusBadRequest)
		return
	}
	a.requests = append(a.requests, req)
	a.keys = append(a.keys, r.Header.Get(webhooktest.IdempotencyHeader))
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
	p, err := newProvider(srv.URL, a.secret)
	if err != nil {
		t.Fatal(err)
	}
	tg := firewall.Target{System: "db-1", Addresses: []string{"10.0.1.5"}, Allow: []string{"192.0.2.10"}, Incident: "INC-20261128-7F3A"}

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
	want := webhooktest.Request{Action: "isolate", System: "db-1", Addresses: []string{"10.0.1.5"}, Allow: []string{"192.0.2.10"}, Incident: "INC-20261128-7F3A"}
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
	tg := firewall.Target{System: "db-1", Addresses: []string{"10.0.1.5"}}
	tests := []struct {
		name      string
		setup     func(a *automation, p *provider)
		permanent bool
	}{
		{"wrong secret", func(a *automation, p *provider) { p.secret = []byte("not-the-secret") }, true},
		{"stale timestamp", func(a *automation, p *provider) {
			p.now = func() time.Time { return time.Now().Add(-10 * time.Minute) }
		}, true},
		{"server error", func(a *automation, p *provider) { a.failWith = []int{http.StatusBadGateway} }, false},
		{"rate limited", func(a *automation, p *provider) { a.failWith = []int{http.StatusTooManyRequests} }, false},
		{"rejected", func(a *automation, p *provider) { a.failWith = []int{http.StatusUnprocessableEntity} }, true},
		{"no rule id", func(a *automation, p *provider) { a.noRuleID = true }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, srv := newAutomation(t)
			p, err := newProvider(srv.URL, a.secret)
			if err != nil {
				t.Fatal(err)
			}
			tc.setup(a, p)
			_, err = p.Isolate(ctx, tg)
			if err == nil {
				t.Fatal("isolate succeeded; want an error")
			}
			if got := errors.Is(err, firewall.ErrPermanent); got != tc.permanent {
				t.Errorf("error %v: permanent %v, want %v", err, got, tc.permanent)
			}
		})
	}

	t.Run("retry after 5xx succeeds", func(t *testing.T) {
		a, srv := newAutomation(t)
		a.failWith = []int{http.StatusServiceUnavailable}
		p, _ := newProvider(srv.URL, a.secret)
		if _, err := p.Isolate(ctx, tg); err == nil || errors.Is(err, firewall.ErrPermanent) {
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
		p, _ := newProvider(url, []byte("s"))
		if _, err := p.Isolate(ctx, tg); err == nil || errors.Is(err, firewall.ErrPermanent) {
			t.Fatalf("isolate against a closed port: %v; want a retryable error", err)
		}
	})

	if _, err := newProvider("https://x", nil); !errors.Is(err, firewall.ErrPermanent) {
		t.Errorf("empty secret: %v; want a permanent error", err)
	}
}

func TestWebhookEvidenceRedactsURL(t *testing.T) {
	a, srv := newAutomation(t)
	p, _ := newProvider(srv.URL+"/hook?token=abc123", a.secret)
	ev, err := p.Isolate(context.Background(), firewall.Target{System: "db-1", Addresses: []string{"10.0.1.5"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ev)
	if strings.Contains(string(b), "abc123") {
		t.Errorf("evidence leaks the URL's token: %s", b)
	}
}

// The signature the provider sends is the one the contract describes, and a receiver checking
// it by the contract refuses a changed body, a stale timestamp and another secret.
func TestSignatureFollowsTheContract(t *testing.T) {
	secret := []byte("s")
	body := []byte(`{"action":"isolate"}`)
	now := time.Unix(1_800_000_000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := sign(secret, ts, body)
	if err := webhooktest.Verify(secret, ts, sig, body, now.Add(time.Minute)); err != nil {
		t.Errorf("valid signature rejected: %v", err)
	}
	if err := webhooktest.Verify(secret, ts, sig, []byte(`{"action":"release"}`), now); err == nil {
		t.Error("signature over another body accepted")
	}
	if err := webhooktest.Verify(secret, ts, sig, body, now.Add(6*time.Minute)); err == nil {
		t.Error("stale timestamp accepted")
	}
	if err := webhooktest.Verify([]byte("other"), ts, sig, body, now); err == nil {
		t.Error("signature with another secret accepted")
	}
}

func TestFactory(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{}
	opts := firewall.Options{Getenv: func(k string) string { return env[k] }}
	named := firewall.ProviderSettings{Webhook: firewall.WebhookSettings{URL: "https://automation.example.com/breach", SecretEnv: "HOOK_SECRET"}}
	defaults := firewall.ProviderSettings{Webhook: firewall.WebhookSettings{URL: "https://automation.example.com/breach"}}
	for _, tt := range []struct {
		s    firewall.ProviderSettings
		want string
	}{{named, "HOOK_SECRET"}, {defaults, "BREACH_WEBHOOK_SECRET"}} {
		if _, err := Factory().New(ctx, tt.s, opts); !errors.Is(err, firewall.ErrPermanent) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("no secret: %v; want a permanent error naming %s", err, tt.want)
		}
	}
	env["BREACH_WEBHOOK_SECRET"] = "w"
	p, err := Factory().New(ctx, defaults, opts)
	if err != nil {
		t.Fatal(err)
	}
	if w, ok := p.(*provider); !ok || string(w.secret) != "w" || p.Name() != firewall.ProviderWebhook {
		t.Errorf("provider %+v; want the webhook provider with the secret", p)
	}
}

// An IPv4-mapped IPv6 address (::ffff:10.0.0.5) is IPv4 traffic on the wire: the receiver is
// sent the IPv4 address, even for a target built by hand rather than through the inventory.
func TestIPv4MappedAddressesAreSentAsIPv4(t *testing.T) {
	a, srv := newAutomation(t)
	w, err := newProvider(srv.URL, a.secret)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Isolate(context.Background(), firewall.Target{System: "db-1", Addresses: []string{"::ffff:10.0.0.5"}, Allow: []string{"::ffff:192.0.2.10"}}); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	got, _ := json.Marshal(a.requests[0])
	a.mu.Unlock()
	if !strings.Contains(string(got), `"addresses":["10.0.0.5"]`) || !strings.Contains(string(got), `"allow":["192.0.2.10"]`) {
		t.Errorf("webhook request %s: want IPv4 addresses", got)
	}
}
