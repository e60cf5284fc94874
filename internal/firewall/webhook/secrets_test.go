package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/firewall"
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

// A token in a webhook URL's query never reaches an error: errors go into workflow history, the
// timeline and chat.
func TestErrorsCarryNoURLSecret(t *testing.T) {
	p, err := newProvider(closedURL(t)+"/hook?token=s3cr3t-t0ken&x=1", []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Isolate(context.Background(), firewall.Target{System: "db-1", Addresses: []string{"10.0.1.5"}})
	if err == nil {
		t.Fatal("isolate against a closed port succeeded")
	}
	if strings.Contains(err.Error(), "s3cr3t-t0ken") {
		t.Errorf("error %q quotes the token", err)
	}
	if !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("error %q: want the URL shown redacted", err)
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if strings.Contains(e.Error(), "s3cr3t") {
			t.Errorf("a cause in the chain quotes the secret: %q", e)
		}
	}
}

// A webhook refuses http:// but to loopback addresses: when the inventory is loaded (see the
// firewall package's inventory tests), when the provider is built, and before each request.
func TestURLsMustBeHTTPS(t *testing.T) {
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
		{"", false},
	}
	for _, tt := range tests {
		_, err := newProvider(tt.url, []byte("k"))
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.url, err)
		}
		if !tt.ok && !errors.Is(err, firewall.ErrPermanent) {
			t.Errorf("%s: %v, want a permanent error", tt.url, err)
		}
	}

	// Built by hand, past the checks: still nothing is sent.
	sent := 0
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return nil, errors.New("must not be sent")
	})}
	p := &provider{url: "http://automation.example.com/hook", secret: []byte("k"), client: client}
	target := firewall.Target{System: "db-1", Addresses: []string{"10.0.1.5"}}
	if _, err := p.Isolate(context.Background(), target); !errors.Is(err, firewall.ErrPermanent) || !strings.Contains(err.Error(), "in clear") {
		t.Errorf("webhook over http: %v, want a permanent error saying why", err)
	}
	if sent != 0 {
		t.Errorf("%d requests sent over http", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
