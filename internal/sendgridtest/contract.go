package sendgridtest

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/breachops/breach/internal/mail"
)

// The official contracts, vendored unchanged from github.com/twilio/sendgrid-oai (MIT; see
// specs/SOURCE.md and specs/LICENSE).
var (
	//go:embed specs/sendgrid-mail-v3.openapi.json
	mailSpec []byte
	//go:embed specs/sendgrid-email-activity-v3.openapi.json
	activitySpec []byte
)

const (
	mailSpecName     = "sendgrid-mail-v3.openapi.json"
	activitySpecName = "sendgrid-email-activity-v3.openapi.json"

	// mailSendBody is the JSON pointer of the Mail Send request body's schema.
	mailSendBody = "/components/requestBodies/PostMailSend/content/application~1json/schema"
	// activityGet is the JSON pointer of the Email Activity query operation (GET /v3/messages).
	activityGet = "/paths/~1v3~1messages/get"
)

// Contract checks requests against Twilio SendGrid's official OpenAPI contracts for Mail
// Send (POST /v3/mail/send) and the Email Activity query (GET /v3/messages), plus the limits
// the contract states only in prose. It is safe for concurrent use.
type Contract struct {
	mailSend *jsonschema.Schema
	params   map[string]queryParam
}

// queryParam is one query parameter of GET /v3/messages.
type queryParam struct {
	required bool
	// number means the value is read as a JSON number before validation (type number or
	// integer); other values are validated as strings.
	number bool
	schema *jsonschema.Schema
}

var compiled = sync.OnceValues(compileContract)

// NewContract returns the contract checker. The embedded documents are compiled once per
// process; every call returns the same checker.
func NewContract() (*Contract, error) { return compiled() }

// MustContract is NewContract for tests: it panics if the embedded documents do not compile,
// which only an edit of the vendored files can cause.
func MustContract() *Contract {
	c, err := NewContract()
	if err != nil {
		panic(err)
	}
	return c
}

func compileContract() (*Contract, error) {
	mailC, err := loadSpec(mailSpecName, mailSpec)
	if err != nil {
		return nil, err
	}
	c := &Contract{params: map[string]queryParam{}}
	if c.mailSend, err = mailC.Compile(specURL(mailSpecName) + "#" + mailSendBody); err != nil {
		return nil, fmt.Errorf("sendgridtest: compile the Mail Send body of %s: %w", mailSpecName, err)
	}

	actC, err := loadSpec(activitySpecName, activitySpec)
	if err != nil {
		return nil, err
	}
	// Take the parameters by name, not by position, from the operation's declaration.
	var op struct {
		Parameters []struct {
			Name     string `json:"name"`
			In       string `json:"in"`
			Required bool   `json:"required"`
			Schema   struct {
				Type string `json:"type"`
			} `json:"schema"`
		} `json:"parameters"`
	}
	if err := decodePointer(activitySpec, activityGet, &op); err != nil {
		return nil, fmt.Errorf("sendgridtest: %s: %w", activitySpecName, err)
	}
	for i, p := range op.Parameters {
		if p.In != "query" {
			continue
		}
		sch, err := actC.Compile(fmt.Sprintf("%s#%s/parameters/%d/schema", specURL(activitySpecName), activityGet, i))
		if err != nil {
			return nil, fmt.Errorf("sendgridtest: compile parameter %s of %s: %w", p.Name, activitySpecName, err)
		}
		c.params[p.Name] = queryParam{
			// query is required by the contract; it stays required here even if a refreshed
			// document relaxed it, since an unfiltered query would list all the account's mail.
			required: p.Required || p.Name == "query",
			number:   p.Schema.Type == "number" || p.Schema.Type == "integer",
			schema:   sch,
		}
	}
	// The checks below rely on these two; a refreshed document without them needs a look.
	for _, name := range []string{"query", "limit"} {
		if _, ok := c.params[name]; !ok {
			return nil, fmt.Errorf("sendgridtest: %s declares no query parameter %q for GET /v3/messages", activitySpecName, name)
		}
	}
	return c, nil
}

func specURL(name string) string { return "file:///sendgrid-oai/" + name }

// loadSpec parses an embedded OpenAPI 3.1 document and returns a compiler holding it.
func loadSpec(name string, raw []byte) (*jsonschema.Compiler, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("sendgridtest: parse %s: %w", name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1 schemas are JSON Schema 2020-12
	c.AssertFormat()                     // "format": "email" is part of the contract
	if err := c.AddResource(specURL(name), doc); err != nil {
		return nil, fmt.Errorf("sendgridtest: load %s: %w", name, err)
	}
	return c, nil
}

// decodePointer decodes the value at the JSON pointer ptr of doc into v.
func decodePointer(doc []byte, ptr string, v any) error {
	var cur json.RawMessage = doc
	for _, tok := range strings.Split(strings.TrimPrefix(ptr, "/"), "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(cur, &obj); err != nil {
			return fmt.Errorf("%s: %w", ptr, err)
		}
		next, ok := obj[tok]
		if !ok {
			return fmt.Errorf("%s: no %q", ptr, tok)
		}
		cur = next
	}
	return json.Unmarshal(cur, v)
}

// Request checks one request sent to SendGrid, with its body (read by the caller): a bearer
// API key, then by route the Mail Send body (with Content-Type application/json) or the Email
// Activity query parameters. Any other route is refused.
func (c *Contract) Request(r *http.Request, body []byte) error {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || strings.TrimSpace(token) == "" {
		return errors.New("no bearer API key in Authorization")
	}
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3/mail/send":
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			return fmt.Errorf("mail send with Content-Type %q, want application/json", ct)
		}
		return c.MailSend(body)
	case r.Method == http.MethodGet && r.URL.Path == "/v3/messages":
		return c.EmailActivity(r.URL.Query())
	}
	return fmt.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
}

// MailSend checks a Mail Send request body against the schema of the official contract, then
// against the limits its documentation states in prose: at most MaxPersonalizations
// personalizations and MaxRecipients recipients (to, cc and bcc together), and each address
// (case-insensitive) at most once in the request. A schema violation is returned as (wraps) a
// *jsonschema.ValidationError.
func (c *Contract) MailSend(body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("mail send body is not JSON: %w", err)
	}
	if err := c.mailSend.Validate(v); err != nil {
		return fmt.Errorf("mail send body violates the schema: %w", err)
	}
	type recipient struct {
		Email string `json:"email"`
	}
	var m struct {
		Personalizations []struct {
			To  []recipient `json:"to"`
			CC  []recipient `json:"cc"`
			BCC []recipient `json:"bcc"`
		} `json:"personalizations"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("mail send body: %w", err)
	}
	if n := len(m.Personalizations); n > MaxPersonalizations {
		return fmt.Errorf("%d personalizations in one request, at most %d", n, MaxPersonalizations)
	}
	seen := map[string]bool{}
	n := 0
	for i, p := range m.Personalizations {
		for _, list := range [][]recipient{p.To, p.CC, p.BCC} {
			for _, r := range list {
				n++
				a := mail.Normalize(r.Email)
				if seen[a] {
					return fmt.Errorf("address %s repeats within one request (again in personalization %d)", r.Email, i)
				}
				seen[a] = true
			}
		}
	}
	if n > MaxRecipients {
		return fmt.Errorf("%d recipients (to, cc and bcc) in one request, at most %d", n, MaxRecipients)
	}
	return nil
}

// EmailActivity checks the query parameters of an Email Activity query: every parameter the
// contract requires is present (query), every parameter is one it declares, and each value
// satisfies its schema (limit is a number from 1 to 1,000). A schema violation is returned as
// (wraps) a *jsonschema.ValidationError.
func (c *Contract) EmailActivity(q url.Values) error {
	names := make([]string, 0, len(c.params))
	for name := range c.params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if c.params[name].required && !q.Has(name) {
			return fmt.Errorf("email activity query without the required parameter %s", name)
		}
	}
	for name, vals := range q {
		p, ok := c.params[name]
		if !ok {
			return fmt.Errorf("email activity query with parameter %s, which the contract does not declare", name)
		}
		if len(vals) != 1 {
			return fmt.Errorf("email activity query with %d values of %s", len(vals), name)
		}
		var v any = vals[0]
		if p.number {
			n, err := jsonschema.UnmarshalJSON(strings.NewReader(vals[0]))
			if err != nil {
				return fmt.Errorf("email activity parameter %s=%q is not a number", name, vals[0])
			}
			v = n
		}
		if err := p.schema.Validate(v); err != nil {
			return fmt.Errorf("email activity parameter %s=%q violates the schema: %w", name, vals[0], err)
		}
	}
	return nil
}
