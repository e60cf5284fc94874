package sendgridtest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const okBody = `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}]}`

// withPersonalizations is okBody with the given personalizations array.
func withPersonalizations(ps string) string {
	return `{"from":{"email":"a@example.com"},"personalizations":[` + ps + `],"subject":"s","content":[{"type":"text/plain","value":"v"}]}`
}

// recipients returns n distinct recipient objects <prefix>0@example.com, ... joined by commas.
func recipients(prefix string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = `{"email":"` + prefix + strconv.Itoa(i) + `@example.com"}`
	}
	return strings.Join(parts, ",")
}

func TestNewContractCompilesOnce(t *testing.T) {
	a, err := NewContract()
	if err != nil {
		t.Fatal(err)
	}
	if b := MustContract(); a != b {
		t.Error("NewContract compiled the documents again")
	}
	for _, name := range []string{"query", "limit"} {
		if a.params[name].schema == nil {
			t.Errorf("no schema for the Email Activity parameter %s", name)
		}
	}
	if !a.params["query"].required || a.params["limit"].required || !a.params["limit"].number {
		t.Errorf("parameters read from the contract: %+v", a.params)
	}
}

// The checker must be able to fail, and the schema checks must come from the official
// documents: bodies that only the schema refuses are refused with a schema error.
func TestContractRefusesBadBodies(t *testing.T) {
	c := MustContract()
	for name, body := range map[string]string{
		"minimal":                  okBody,
		"cc and bcc":               withPersonalizations(`{"to":[{"email":"b@example.com"}],"cc":[{"email":"c@example.com"}],"bcc":[{"email":"d@example.com"}]}`),
		"1000 recipients":          withPersonalizations(`{"to":[` + recipients("r", 1000) + `]}`),
		"personalization strings":  withPersonalizations(`{"to":[{"email":"b@example.com"}],"custom_args":{"batch_key":"b-1"},"substitutions":{"-name-":"N"}}`),
		"message custom_args text": `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}],"custom_args":"{\"k\":\"v\"}"}`,
	} {
		if err := c.MailSend([]byte(body)); err != nil {
			t.Errorf("%s: valid body refused: %v", name, err)
		}
	}

	bySchema := map[string]string{
		"no from":                    `{"personalizations":[{"to":[{"email":"b@example.com"}]}]}`,
		"no personalizations":        `{"from":{"email":"a@example.com"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}`,
		"personalization without to": `{"from":{"email":"a@example.com"},"personalizations":[{"subject":"x"}]}`,
		"recipient not an address":   `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"not-an-address"}]}]}`,
		"message custom_args object": `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"custom_args":{"k":"v"}}`,
		"empty content value":        `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"content":[{"type":"text/plain","value":""}]}`,
		"11 categories":              `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"categories":["1","2","3","4","5","6","7","8","9","10","11"]}`,
		"1001 personalizations":      `{"from":{"email":"a@example.com"},"personalizations":[` + strings.Repeat(`{"to":[{"email":"b@example.com"}]},`, 1000) + `{"to":[{"email":"b@example.com"}]}]}`,
		"1001 cc":                    withPersonalizations(`{"to":[{"email":"b@example.com"}],"cc":[` + strings.Repeat(`{"email":"c@example.com"},`, 1000) + `{"email":"c@example.com"}]}`),
	}
	for name, body := range bySchema {
		err := c.MailSend([]byte(body))
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: want a schema violation, got %v", name, err)
		}
	}

	// What the contract states only in prose.
	for name, body := range map[string]string{
		"not JSON":                   `{"from":`,
		"address repeated":           withPersonalizations(`{"to":[{"email":"b@example.com"}]},{"to":[{"email":"B@Example.COM"}]}`),
		"address repeated in cc":     withPersonalizations(`{"to":[{"email":"b@example.com"}],"cc":[{"email":"b@example.com"}]}`),
		"1001 recipients in to":      withPersonalizations(`{"to":[` + recipients("r", 1001) + `]}`),
		"1001 recipients with bcc":   withPersonalizations(`{"to":[` + recipients("r", 600) + `],"bcc":[` + recipients("s", 401) + `]}`),
		"1001 over personalizations": withPersonalizations(`{"to":[` + recipients("r", 500) + `]},{"to":[` + recipients("s", 501) + `]}`),
	} {
		err := c.MailSend([]byte(body))
		var ve *jsonschema.ValidationError
		if err == nil || errors.As(err, &ve) {
			t.Errorf("%s: want a refusal beyond the schema, got %v", name, err)
		}
	}
}

func TestContractRefusesBadRequests(t *testing.T) {
	c := MustContract()
	req := func(method, target, body string, header ...string) *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer SG.k")
		if method == http.MethodPost {
			r.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(header); i += 2 {
			if header[i+1] == "" {
				r.Header.Del(header[i])
			} else {
				r.Header.Set(header[i], header[i+1])
			}
		}
		return r
	}
	check := func(r *http.Request, body string) error { return c.Request(r, []byte(body)) }

	good := url.Values{"query": {`unique_args['batch_key']="INC-1/b-000001"`}, "limit": {"1000"}}
	for name, r := range map[string]*http.Request{
		"mail send":           req(http.MethodPost, "/v3/mail/send", okBody),
		"activity":            req(http.MethodGet, "/v3/messages?"+good.Encode(), ""),
		"activity, no limit":  req(http.MethodGet, "/v3/messages?query=x", ""),
		"activity, limit 1":   req(http.MethodGet, "/v3/messages?query=x&limit=1", ""),
		"activity, limit 1e3": req(http.MethodGet, "/v3/messages?query=x&limit=1e3", ""),
	} {
		if err := check(r, okBody); err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
	}

	for name, r := range map[string]*http.Request{
		"no Authorization":        req(http.MethodPost, "/v3/mail/send", okBody, "Authorization", ""),
		"basic auth":              req(http.MethodPost, "/v3/mail/send", okBody, "Authorization", "Basic YTpi"),
		"empty bearer":            req(http.MethodPost, "/v3/mail/send", okBody, "Authorization", "Bearer  "),
		"no Content-Type":         req(http.MethodPost, "/v3/mail/send", okBody, "Content-Type", ""),
		"form Content-Type":       req(http.MethodPost, "/v3/mail/send", okBody, "Content-Type", "application/x-www-form-urlencoded"),
		"GET mail send":           req(http.MethodGet, "/v3/mail/send", ""),
		"POST messages":           req(http.MethodPost, "/v3/messages?query=x", okBody),
		"other path":              req(http.MethodPost, "/v3/mail/batch", okBody),
		"activity without query":  req(http.MethodGet, "/v3/messages?limit=10", ""),
		"activity, limit 0":       req(http.MethodGet, "/v3/messages?query=x&limit=0", ""),
		"activity, limit 1001":    req(http.MethodGet, "/v3/messages?query=x&limit=1001", ""),
		"activity, limit ten":     req(http.MethodGet, "/v3/messages?query=x&limit=ten", ""),
		"activity, limit quoted":  req(http.MethodGet, "/v3/messages?query=x&limit=%2210%22", ""),
		"activity, two limits":    req(http.MethodGet, "/v3/messages?query=x&limit=10&limit=20", ""),
		"activity, unknown param": req(http.MethodGet, "/v3/messages?query=x&offset=10", ""),
	} {
		if err := check(r, okBody); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	bad := withPersonalizations(`{"to":[{"email":"b@example.com"}]},{"to":[{"email":"b@example.com"}]}`)
	if err := check(req(http.MethodPost, "/v3/mail/send", bad), bad); err == nil {
		t.Error("a Mail Send body with a repeated address passed Request")
	}
}
