package firewall

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/breachops/breach/internal/infile"
	"github.com/breachops/breach/internal/redact"
)

// defaultHTTPTimeout bounds one HTTP call to a firewall API; the activity's own timeout and
// Temporal's retries handle the rest.
const defaultHTTPTimeout = 30 * time.Second

// NewHTTPClient returns the client of a provider that calls an HTTP API: it gives up on one
// call after 30 s, does not follow redirects (a redirected POST would be replayed as a GET)
// and, when caFile is set, trusts its CAs as well as the system's.
func NewHTTPClient(caFile string) (*http.Client, error) {
	c := http.Client{Timeout: defaultHTTPTimeout}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if caFile != "" {
		pem, err := infile.ReadFile(caFile, infile.MaxConfigBytes)
		if err != nil {
			return nil, Permanent(fmt.Errorf("read CA file: %w", err))
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, Permanent(fmt.Errorf("CA file %s holds no PEM certificate", caFile))
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
		c.Transport = tr
	}
	return &c, nil
}

// redactURL is a URL as evidence and errors may show it: no password, no query values.
func redactURL(raw string) string { return redact.URL(raw) }

// CheckURL refuses a missing URL, and one that would carry credentials, signed requests or
// isolation orders in clear (see requireTLS).
func CheckURL(raw string) error {
	if raw == "" {
		return errors.New("missing")
	}
	return requireTLS(raw)
}

// requireTLS refuses a URL that would carry credentials, signed requests or isolation orders
// in clear: https, or http to a loopback address only (a test's local server).
func requireTLS(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a URL; write it like https://fw.example.com", redactURL(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%s would send credentials and isolation requests in clear: use https:// (http is accepted for loopback addresses only, for tests)", redactURL(raw))
	}
	return fmt.Errorf("%s is not an https URL", redactURL(raw))
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// ReadBody reads at most 1 MiB of a response body, and closes it.
func ReadBody(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	return io.ReadAll(io.LimitReader(resp.Body, 1<<20))
}

// StatusError classifies a non-2xx response: 408, 425 and 429 and every 5xx may succeed on
// retry; other 4xx (bad credentials, unknown alias, rejected request) and redirects cannot.
func StatusError(op string, resp *http.Response, body []byte, hint string) error {
	err := fmt.Errorf("%s: HTTP %d%s", op, resp.StatusCode, Snippet(body))
	if hint != "" {
		err = fmt.Errorf("%w; %s", err, hint)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusRequestTimeout, s == http.StatusTooEarly, s == http.StatusTooManyRequests, s >= 500:
		return err
	default:
		return Permanent(err)
	}
}

// Snippet is the start of an answer's body as an error may quote it: one line, at most 200
// bytes, after ": "; empty for an empty body.
func Snippet(body []byte) string {
	s := strings.TrimSpace(string(body))
	if s == "" {
		return ""
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return ": " + strings.Join(strings.Fields(s), " ")
}
