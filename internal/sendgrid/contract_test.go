package sendgrid

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/breachops/breach/internal/mail"
)

// The official contracts sit in shared/specs beside the repository root.
const (
	mailSpecPath     = "../../../shared/specs/sendgrid-mail-v3.openapi.json"
	activitySpecPath = "../../../shared/specs/sendgrid-email-activity-v3.openapi.json"
)

// specSchema compiles the schema at pointer inside the OpenAPI document at path, skipping
// the test when the document is absent.
func specSchema(t *testing.T, path, pointer string) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		abs, _ := filepath.Abs(path)
		t.Skipf("official SendGrid contract not found at %s: the contract test needs shared/specs beside the repository", abs)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020) // OpenAPI 3.1 schemas are JSON Schema 2020-12
	c.AssertFormat()
	const base = "file:///spec.json"
	if err := c.AddResource(base, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(base + "#" + pointer)
	if err != nil {
		t.Fatalf("compile %s#%s: %v", path, pointer, err)
	}
	return sch
}

func mailSendSchema(t *testing.T) *jsonschema.Schema {
	return specSchema(t, mailSpecPath, "/components/requestBodies/PostMailSend/content/application~1json/schema")
}

func validateBody(sch *jsonschema.Schema, body []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return err
	}
	return sch.Validate(v)
}

// The validator must be able to fail: bodies that break the contract are refused.
func TestContractValidatorRefusesBadBodies(t *testing.T) {
	sch := mailSendSchema(t)
	ok := `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}]}`
	if err := validateBody(sch, []byte(ok)); err != nil {
		t.Fatalf("valid body refused: %v", err)
	}
	bad := map[string]string{
		"no from":                    `{"personalizations":[{"to":[{"email":"b@example.com"}]}]}`,
		"no personalizations":        `{"from":{"email":"a@example.com"}}`,
		"personalization without to": `{"from":{"email":"a@example.com"},"personalizations":[{"subject":"x"}]}`,
		"recipient not an address":   `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"not-an-address"}]}]}`,
		"message custom_args object": `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"custom_args":{"k":"v"}}`,
		"empty content value":        `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"content":[{"type":"text/plain","value":""}]}`,
		"11 categories":              `{"from":{"email":"a@example.com"},"personalizations":[{"to":[{"email":"b@example.com"}]}],"categories":["1","2","3","4","5","6","7","8","9","10","11"]}`,
		"1001 personalizations":      `{"from":{"email":"a@example.com"},"personalizations":[` + strings.Repeat(`{"to":[{"email":"b@example.com"}]},`, 1000) + `{"to":[{"email":"b@example.com"}]}]}`,
	}
	for name, body := range bad {
		if err := validateBody(sch, []byte(body)); err == nil {
			t.Errorf("%s: accepted by the schema", name)
		}
	}
}

// TestContractEveryRequest captures every request the adapter makes (single send, batch,
// sandbox batch, split parts, Email Activity query) and validates it against the official
// contract.
func TestContractEveryRequest(t *testing.T) {
	sch := mailSendSchema(t)
	activityParams := map[string]*jsonschema.Schema{
		"query": specSchema(t, activitySpecPath, "/paths/~1v3~1messages/get/parameters/0/schema"),
		"limit": specSchema(t, activitySpecPath, "/paths/~1v3~1messages/get/parameters/1/schema"),
	}
	f := newFixture(t)
	ctx := context.Background()

	if _, err := f.client.Send(ctx, mail.Message{
		Key: "INC-1-report-dpa", From: "dpo@example.com", To: "breach@authority.example.org",
		Subject: "Personal data breach notification (Art. 33 GDPR)", Text: "Report body.",
		Headers: map[string]string{"X-Incident": "INC-1"},
	}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	full := testBatch("INC-1/b-000001", recipients(MaxPersonalizations, "subject%d@example.com"))
	if _, err := f.client.SendBatch(ctx, full); err != nil {
		t.Fatalf("SendBatch of 1000: %v", err)
	}
	drill := testBatch("INC-1/b-000002", recipients(3, "drill%d@example.com"))
	drill.Sandbox = true
	drill.Text = ""
	if _, err := f.client.SendBatch(ctx, drill); err != nil {
		t.Fatalf("SendBatch in sandbox: %v", err)
	}
	split := testBatch("INC-1/b-000003", recipients(8, "split%d@example.com"))
	f.srv.Reject("split5@example.com")
	if _, err := f.client.SendSplit(ctx, split); err != nil {
		t.Fatalf("SendSplit: %v", err)
	}
	if _, err := f.client.FindByBatchKey(ctx, "INC-1/b-000001"); err != nil {
		t.Fatalf("FindByBatchKey: %v", err)
	}

	reqs := f.rec.requests()
	var mailSends, queries int
	for i, r := range reqs {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			t.Errorf("request %d: Authorization %q, want a bearer token", i, got)
		}
		switch {
		case r.Method == "POST" && r.URL.Path == "/v3/mail/send":
			mailSends++
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("request %d: Content-Type %q", i, ct)
			}
			if err := validateBody(sch, r.Body); err != nil {
				t.Errorf("request %d violates the Mail Send contract: %v", i, err)
			}
		case r.Method == "GET" && r.URL.Path == "/v3/messages":
			queries++
			q := r.URL.Query()
			if !q.Has("query") {
				t.Errorf("request %d: Email Activity query lacks the required query parameter", i)
			}
			for name, s := range activityParams {
				if !q.Has(name) {
					continue
				}
				var v any = q.Get(name)
				if name == "limit" {
					v = jsonNumber(t, q.Get(name))
				}
				if err := s.Validate(v); err != nil {
					t.Errorf("request %d: parameter %s=%q violates the Email Activity contract: %v", i, name, q.Get(name), err)
				}
			}
		default:
			t.Errorf("request %d: unexpected %s %s", i, r.Method, r.URL.Path)
		}
	}
	// 1 single + 1 batch + 1 sandbox + split of 8 with one bad address (1 + 2 + 2 + 2 = 7).
	if mailSends != 10 || queries != 1 {
		t.Errorf("captured %d Mail Send requests and %d queries, want 10 and 1", mailSends, queries)
	}
}

func jsonNumber(t *testing.T, s string) any {
	t.Helper()
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(s))
	if err != nil {
		t.Fatalf("limit %q is not a number: %v", s, err)
	}
	return v
}
