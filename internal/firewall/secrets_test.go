package firewall

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
)

// closedURL is a loopback URL nothing listens on: every request fails in the transport, whose
// error quotes the URL.
func closedURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// A token in a webhook URL's query, or a password in a firewall URL, never reaches an error:
// errors go into workflow history, the timeline and chat.
func TestFirewallErrorsCarryNoURLSecret(t *testing.T) {
	base := closedURL(t)
	webhook, err := NewWebhook(base+"/hook?token=s3cr3t-t0ken&x=1", []byte("k"), nil)
	if err != nil {
		t.Fatal(err)
	}
	opn, err := NewOPNsense(strings.Replace(base, "http://", "http://admin:pa55w0rd@", 1)+"/?sig=s3cr3t-t0ken", "key", "s3cr3t-k3y", nil, "")
	if err != nil {
		t.Fatal(err)
	}
	target := Target{System: "db-1", Addresses: []string{"10.0.1.5"}, Alias: "q"}
	for _, p := range []Provider{webhook, opn} {
		t.Run(p.Name(), func(t *testing.T) {
			_, err := p.Isolate(context.Background(), target)
			if err == nil {
				t.Fatal("isolate against a closed port succeeded")
			}
			for _, secret := range []string{"s3cr3t-t0ken", "pa55w0rd", "s3cr3t-k3y"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes %q", err, secret)
				}
			}
			if !strings.Contains(err.Error(), "REDACTED") {
				t.Errorf("error %q: want the URL shown redacted", err)
			}
			for e := err; e != nil; e = errors.Unwrap(e) {
				if strings.Contains(e.Error(), "s3cr3t") {
					t.Errorf("a cause in the chain quotes the secret: %q", e)
				}
			}
		})
	}
}

// OPNsense and webhooks refuse http:// but to loopback addresses: when the inventory is loaded
// (see TestParseInventoryErrors), when the provider is built, and before each request.
func TestFirewallURLsMustBeHTTPS(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://fw.example.com", true},
		{"http://127.0.0.1:8443", true},
		{"http://[::1]:8443", true},
		{"http://localhost:8443", true},
		{"http://[::ffff:127.0.0.1]:8443", true},
		{"http://fw.example.com", false},
		{"http://10.0.0.1", false},
		{"http://[::ffff:10.0.0.1]", false},
		{"ftp://fw.example.com", false},
		{"https://", false},
	}
	for _, tt := range tests {
		_, werr := NewWebhook(tt.url, []byte("k"), nil)
		_, oerr := NewOPNsense(tt.url, "key", "secret", nil, "")
		for name, err := range map[string]error{"webhook": werr, "opnsense": oerr} {
			if tt.ok && err != nil {
				t.Errorf("%s %s: %v", name, tt.url, err)
			}
			if !tt.ok && !errors.Is(err, ErrPermanent) {
				t.Errorf("%s %s: %v, want a permanent error", name, tt.url, err)
			}
		}
	}

	// Built by hand, past the checks: still nothing is sent.
	sent := 0
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("must not be sent")
	})}
	target := Target{System: "db-1", Addresses: []string{"10.0.1.5"}, Alias: "q"}
	w := &Webhook{URL: "http://automation.example.com/hook", Secret: []byte("k"), Client: client}
	o := &OPNsense{BaseURL: "http://fw.example.com", Key: "key", Secret: "secret", Client: client}
	for _, p := range []Provider{w, o} {
		if _, err := p.Isolate(context.Background(), target); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "in clear") {
			t.Errorf("%s over http: %v, want a permanent error saying why", p.Name(), err)
		}
	}
	if sent != 0 {
		t.Errorf("%d requests sent over http", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
