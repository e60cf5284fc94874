package opnsense

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/breachops/breach/internal/firewall"
)

// fakeOPNsense speaks the parts of the OPNsense API the provider uses, with basic auth, and
// keeps alias tables the way pf does (single hosts without a mask).
type fakeOPNsense struct {
	key, secret string

	mu           sync.Mutex
	aliases      map[string][]string
	reconfigures int
	failWith     []int // per request: a status to fail with, or 0 to behave
	calls        []string
}

func newFakeOPNsense(t *testing.T) (*fakeOPNsense, *httptest.Server) {
	f := &fakeOPNsense{key: "k3y", secret: "s3cret", aliases: map[string][]string{
		"breach_quarantine": {"198.51.100.200"}, // someone else's entry, to be left alone
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeOPNsense) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, s, ok := r.BasicAuth()
	if !ok || k != f.key || s != f.secret {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"status":401,"message":"Authentication Failed"}`))
		return
	}
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	if len(f.failWith) > 0 {
		code := f.failWith[0]
		f.failWith = f.failWith[1:]
		if code != 0 {
			http.Error(w, "injected", code)
			return
		}
	}
	w.Header().Set("Content-Type", "application/json")
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/firewall/"), "/")
	post := func() (string, bool) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			w.Write([]byte(`{"status":"failed"}`))
			return "", false
		}
		var body map[string]string
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return "", false
		}
		return body["address"], true
	}
	switch {
	case len(parts) == 3 && parts[0] == "alias_util" && parts[1] == "list" && r.Method == http.MethodGet:
		rows := []map[string]string{}
		for _, e := range f.aliases[parts[2]] {
			rows = append(rows, map[string]string{"ip": e})
		}
		json.NewEncoder(w).Encode(map[string]any{"total": len(rows), "rowCount": 9999, "current": 1, "rows": rows})
	case len(parts) == 3 && parts[0] == "alias_util" && parts[1] == "add":
		addr, ok := post()
		if !ok {
			return
		}
		entries, known := f.aliases[parts[2]]
		if !known {
			w.Write([]byte(`{"status":"failed","status_msg":"non existing alias ` + parts[2] + `"}`))
			return
		}
		if addr == "" || strings.ContainsFunc(addr, func(r rune) bool { return !strings.ContainsRune("0123456789abcdef:./_", r) }) {
			w.Write([]byte(`{"status":"not_an_address"}`))
			return
		}
		if !slices.Contains(entries, addr) {
			f.aliases[parts[2]] = append(entries, addr)
		}
		w.Write([]byte(`{"status":"done"}`))
	case len(parts) == 3 && parts[0] == "alias_util" && parts[1] == "delete":
		addr, ok := post()
		if !ok {
			return
		}
		f.aliases[parts[2]] = slices.DeleteFunc(f.aliases[parts[2]], func(e string) bool { return e == addr })
		w.Write([]byte(`{"status":"done"}`))
	case r.URL.Path == "/api/firewall/alias/reconfigure" && r.Method == http.MethodPost:
		f.reconfigures++
		w.Write([]byte(`{"status":"ok"}`))
	default:
		http.NotFound(w, r)
	}
}

func TestOPNsenseIsolateVerifyRelease(t *testing.T) {
	f, srv := newFakeOPNsense(t)
	ctx := context.Background()
	p, err := newProvider(srv.URL+"/", f.key, f.secret, "")
	if err != nil {
		t.Fatal(err)
	}
	tg := firewall.Target{System: "branch", Addresses: []string{"10.0.0.5", "10.0.8.0/24"}, Alias: "breach_quarantine"}

	ev, err := p.Isolate(ctx, tg)
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	if want := []string{"198.51.100.200", "10.0.0.5", "10.0.8.0/24"}; !slices.Equal(f.aliases["breach_quarantine"], want) {
		t.Errorf("alias holds %v, want %v", f.aliases["breach_quarantine"], want)
	}
	if f.reconfigures != 1 {
		t.Errorf("%d reconfigures, want 1", f.reconfigures)
	}
	if ev.Identifiers["alias"] != "breach_quarantine" || len(ev.Changes) != 3 {
		t.Errorf("evidence %+v", ev)
	}
	if v, err := p.Verify(ctx, tg); err != nil || !v.InForce {
		t.Fatalf("verify: in force %v, err %v (%s)", v.InForce, err, v.After)
	}

	again, err := p.Isolate(ctx, tg)
	if err != nil || !slices.Equal(again.Changes, []string{"alias reconfigure"}) {
		t.Errorf("isolate again: changes %v, err %v; want only the reconfigure", again.Changes, err)
	}
	if n := len(f.aliases["breach_quarantine"]); n != 3 {
		t.Errorf("alias holds %d entries after isolating twice, want 3", n)
	}

	if _, err := p.Release(ctx, tg); err != nil {
		t.Fatalf("release: %v", err)
	}
	if want := []string{"198.51.100.200"}; !slices.Equal(f.aliases["breach_quarantine"], want) {
		t.Errorf("alias after release holds %v, want only the foreign entry %v", f.aliases["breach_quarantine"], want)
	}
	if f.reconfigures != 3 {
		t.Errorf("%d reconfigures after isolate, isolate, release; want 3", f.reconfigures)
	}
	if v, err := p.Verify(ctx, tg); err != nil || v.InForce {
		t.Fatalf("verify after release: in force %v, err %v", v.InForce, err)
	}
	if ev, err := p.Release(ctx, tg); err != nil || slices.ContainsFunc(ev.Changes, func(c string) bool { return strings.Contains(c, "delete") }) {
		t.Errorf("second release: changes %v, err %v; want no deletes", ev.Changes, err)
	}
}

func TestOPNsenseFaults(t *testing.T) {
	ctx := context.Background()
	tg := firewall.Target{System: "branch", Addresses: []string{"10.0.0.5"}, Alias: "breach_quarantine"}
	tests := []struct {
		name      string
		setup     func(f *fakeOPNsense, p *provider, tg *firewall.Target)
		permanent bool
	}{
		{"bad credentials", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { p.secret = "wrong" }, true},
		{"server error", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { f.failWith = []int{500} }, false},
		{"server error on add", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { f.failWith = []int{0, 503} }, false},
		{"not an address", func(f *fakeOPNsense, p *provider, tg *firewall.Target) {
			tg.Addresses = []string{"10.0.0.5", "fe80::1%eth0"}
		}, true},
		{"unknown alias", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { tg.Alias = "no_such_alias" }, true},
		{"forbidden", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { f.failWith = []int{403} }, true},
		{"no alias", func(f *fakeOPNsense, p *provider, tg *firewall.Target) { tg.Alias = "" }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, srv := newFakeOPNsense(t)
			p, err := newProvider(srv.URL, f.key, f.secret, "")
			if err != nil {
				t.Fatal(err)
			}
			target := tg
			tc.setup(f, p, &target)
			_, err = p.Isolate(ctx, target)
			if err == nil {
				t.Fatal("isolate succeeded; want an error")
			}
			if got := errors.Is(err, firewall.ErrPermanent); got != tc.permanent {
				t.Errorf("error %v: permanent %v, want %v", err, got, tc.permanent)
			}
		})
	}

	t.Run("retry after 5xx on reconfigure applies", func(t *testing.T) {
		f, srv := newFakeOPNsense(t)
		p, _ := newProvider(srv.URL, f.key, f.secret, "")
		f.failWith = []int{0, 0, http.StatusBadGateway} // list, add, reconfigure
		if _, err := p.Isolate(ctx, tg); err == nil || errors.Is(err, firewall.ErrPermanent) {
			t.Fatalf("first try: %v; want a retryable error", err)
		}
		if f.reconfigures != 0 {
			t.Fatalf("reconfigured %d times during the failed try", f.reconfigures)
		}
		if _, err := p.Isolate(ctx, tg); err != nil {
			t.Fatalf("retry: %v", err)
		}
		if f.reconfigures != 1 {
			t.Errorf("retry reconfigured %d times, want 1: a retry must still apply the alias", f.reconfigures)
		}
	})

	if _, err := newProvider("https://fw", "", "", ""); !errors.Is(err, firewall.ErrPermanent) {
		t.Errorf("empty credentials: %v; want permanent", err)
	}
}

func TestFactory(t *testing.T) {
	ctx := context.Background()
	env := map[string]string{}
	opts := firewall.Options{Getenv: func(k string) string { return env[k] }}
	named := firewall.ProviderSettings{OPNsense: firewall.OPNsenseSettings{URL: "https://fw.example.com", KeyEnv: "FW_KEY", SecretEnv: "FW_SECRET"}}
	defaults := firewall.ProviderSettings{OPNsense: firewall.OPNsenseSettings{URL: "https://fw.example.com"}}
	for _, tt := range []struct {
		s    firewall.ProviderSettings
		want string
	}{{named, "FW_KEY"}, {defaults, "OPNSENSE_KEY"}} {
		if _, err := Factory().New(ctx, tt.s, opts); !errors.Is(err, firewall.ErrPermanent) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("no secrets: %v; want a permanent error naming %s", err, tt.want)
		}
	}
	env["FW_KEY"], env["FW_SECRET"] = "k", "s"
	p, err := Factory().New(ctx, named, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := p.(*provider); !ok || o.key != "k" || o.secret != "s" || o.baseURL != "https://fw.example.com" || p.Name() != firewall.ProviderOPNsense {
		t.Errorf("provider %+v; want the opnsense provider with the named key and secret", p)
	}
}
