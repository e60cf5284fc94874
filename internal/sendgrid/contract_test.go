package sendgrid

import (
	"context"
	"net/http"
	"testing"

	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/sendgridtest"
)

// TestContractEveryRequest captures every request the adapter makes (single send, batch,
// sandbox batch, split parts, Email Activity query) and validates it against the official
// contract.
func TestContractEveryRequest(t *testing.T) {
	contract := sendgridtest.MustContract()
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
			t.Errorf("request %d: Authorization %q, want the configured key as a bearer token", i, got)
		}
		if err := contract.Request(&http.Request{Method: r.Method, URL: r.URL, Header: r.Header}, r.Body); err != nil {
			t.Errorf("request %d violates the SendGrid contract: %v", i, err)
		}
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v3/mail/send":
			mailSends++
		case r.Method == http.MethodGet && r.URL.Path == "/v3/messages":
			queries++
		}
	}
	// 1 single + 1 batch + 1 sandbox + split of 8 with one bad address (1 + 2 + 2 + 2 = 7).
	if mailSends != 10 || queries != 1 {
		t.Errorf("captured %d Mail Send requests and %d queries, want 10 and 1", mailSends, queries)
	}
}
