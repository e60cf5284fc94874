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
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/redact"
)

// Webhook headers.
const (
	WebhookSignatureHeader = "X-Breach-Signature"
	WebhookTimestampHeader = "X-Breach-Timestamp"
	// WebhookIdempotencyHeader carries a key that is the same for every retry of one call, so a
	// receiver can apply each isolation once.
	WebhookIdempotencyHeader = "Idempotency-Key"
	// WebhookMaxSkew is how far a signed timestamp may be from the receiver's clock.
	WebhookMaxSkew = 5 * time.Minute
)

// WebhookRequest is the JSON body posted to the company's automation.
type WebhookRequest struct {
	// Action is isolate, verify or release.
	Action     string   `json:"action"`
	System     string   `json:"system"`
	Addresses  []string `json:"addresses"`
	InstanceID string   `json:"instance_id,omitempty"`
	// Allow lists what must stay reachable while the system is isolated.
	Allow    []string `json:"allow"`
	Incident string   `json:"incident,omitempty"`
}

// WebhookResponse is what the automation answers with a 2xx status. RuleID is required for
// isolate (and recorded when present for verify and release); InForce is required for verify.
type WebhookResponse struct {
	RuleID  json.RawMessage `json:"rule_id,omitempty"`
	InForce *bool           `json:"in_force,omitempty"`
	Message string          `json:"message,omitempty"`
}

// Webhook isolates by posting a signed JSON request to the company's own automation. Each
// request carries X-Breach-Timestamp (unix seconds) and X-Breach-Signature:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). A 2xx answer is success; 408,
// 429 and 5xx may be retried; any other status is permanent.
type Webhook struct {
	URL    string
	Secret []byte
	Client *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// NewWebhook returns a webhook provider. An empty secret is a permanent error: unsigned
// isolation requests would let anyone who can reach the receiver cut systems off.
func NewWebhook(url string, secret []byte, client *http.Client) (*Webhook, error) {
	if err := checkURL(url, false); err != nil {
		return nil, Permanent(fmt.Errorf("webhook firewall: url: %w", err))
	}
	if len(secret) == 0 {
		return nil, Permanent(errors.New("webhook firewall: empty signing secret"))
	}
	c, err := newHTTPClient(client, "")
	if err != nil {
		return nil, err
	}
	return &Webhook{URL: url, Secret: secret, Client: c}, nil
}

func (w *Webhook) Name() string { return ProviderWebhook }

func (w *Webhook) now() time.Time {
	if w.Now != nil {
		return w.Now().UTC()
	}
	return time.Now().UTC()
}

// Isolate asks the automation to isolate t and records its rule id.
func (w *Webhook) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
	resp, ev, err := w.call(ctx, "isolate", t)
	if err != nil {
		return ev, err
	}
	if ruleID(resp.RuleID) == "" {
		return ev, Permanent(fmt.Errorf("isolate %s via webhook: the answer has no rule_id; the receiver must return {\"rule_id\": ...}", t.System))
	}
	ev.Changes = []string{fmt.Sprintf("POST %s action=isolate system=%s addresses=%s allow=%s", redactURL(w.URL), t.System,
		strings.Join(t.Addresses, ","), strings.Join(t.Allow, ","))}
	ev.After = "isolation rule " + ruleID(resp.RuleID) + " reported by the receiver"
	return ev, nil
}

// Verify asks the automation whether the isolation is in force.
func (w *Webhook) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
	resp, ev, err := w.call(ctx, "verify", t)
	if err != nil {
		return ev, err
	}
	if resp.InForce == nil {
		return ev, Permanent(fmt.Errorf("verify %s via webhook: the answer has no in_force; the receiver must return {\"in_force\": true|false}", t.System))
	}
	ev.InForce = *resp.InForce
	ev.After = fmt.Sprintf("receiver reports isolation in force: %t", ev.InForce)
	return ev, nil
}

// Release asks the automation to lift the isolation of t.
func (w *Webhook) Release(ctx context.Context, t Target) (incident.Evidence, error) {
	_, ev, err := w.call(ctx, "release", t)
	if err != nil {
		return ev, err
	}
	ev.Changes = []string{fmt.Sprintf("POST %s action=release system=%s", redactURL(w.URL), t.System)}
	ev.After = "receiver reports the isolation lifted"
	return ev, nil
}

func (w *Webhook) call(ctx context.Context, action string, t Target) (WebhookResponse, incident.Evidence, error) {
	op := fmt.Sprintf("%s %s via webhook", action, t.System)
	ev := incident.Evidence{Provider: w.Name(), Action: action, System: t.System, At: w.now(),
		Identifiers: map[string]string{"url": redactURL(w.URL)}}
	body, err := json.Marshal(WebhookRequest{Action: action, System: t.System, Addresses: canonicalAll(t.Addresses),
		InstanceID: t.InstanceID, Allow: canonicalAll(t.Allow), Incident: t.Incident})
	if err != nil {
		return WebhookResponse{}, ev, err
	}
	ts := strconv.FormatInt(w.now().Unix(), 10)
	// Checked again before every request: a provider built by hand skips the inventory.
	if err := requireTLS(w.URL); err != nil {
		return WebhookResponse{}, ev, Permanent(fmt.Errorf("%s: url: %w", op, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return WebhookResponse{}, ev, Permanent(fmt.Errorf("%s: %w", op, redact.Error(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "breach-firewall/1")
	req.Header.Set(WebhookTimestampHeader, ts)
	req.Header.Set(WebhookSignatureHeader, SignWebhook(w.Secret, ts, body))
	req.Header.Set(WebhookIdempotencyHeader, webhookIdempotencyKey(action, t))
	resp, err := w.Client.Do(req)
	if err != nil {
		// The transport's error quotes the URL, query and all.
		return WebhookResponse{}, ev, fmt.Errorf("%s: %w", op, redact.Error(err))
	}
	rb, err := readBody(resp)
	if err != nil {
		return WebhookResponse{}, ev, fmt.Errorf("%s: read answer: %w", op, redact.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return WebhookResponse{}, ev, statusError(op, resp, rb, "")
	}
	var out WebhookResponse
	if err := json.Unmarshal(rb, &out); err != nil {
		return WebhookResponse{}, ev, Permanent(fmt.Errorf("%s: answer is not the expected JSON%s", op, snippet(rb)))
	}
	if id := ruleID(out.RuleID); id != "" {
		ev.Identifiers["rule_id"] = id
	}
	if out.Message != "" {
		ev.Identifiers["message"] = out.Message
	}
	return out, ev, nil
}

// SignWebhook returns the X-Breach-Signature value for a request body sent at timestamp.
func SignWebhook(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a received request's signature and that its timestamp is within
// WebhookMaxSkew of now. Receivers written in Go can use it as is.
func VerifyWebhook(secret []byte, timestamp, signature string, body []byte, now time.Time) error {
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("bad %s %q", WebhookTimestampHeader, timestamp)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > WebhookMaxSkew || d < -WebhookMaxSkew {
		return fmt.Errorf("%s %s is %s away from now", WebhookTimestampHeader, timestamp, d.Round(time.Second))
	}
	if !hmac.Equal([]byte(signature), []byte(SignWebhook(secret, timestamp, body))) {
		return fmt.Errorf("bad %s", WebhookSignatureHeader)
	}
	return nil
}

func webhookIdempotencyKey(action string, t Target) string {
	h := sha256.New()
	for _, s := range []string{action, t.System, t.Incident, strings.Join(t.Addresses, ","), t.InstanceID, strings.Join(t.Allow, ",")} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// ruleID renders a JSON rule id, string or number, as text.
func ruleID(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// canonicalAll is the addresses as receivers should see them: IPv4-mapped ones as IPv4,
// single hosts without a prefix length; never null.
func canonicalAll(s []string) []string {
	out := make([]string, 0, len(s))
	for _, a := range s {
		out = append(out, canonicalAddress(a))
	}
	return out
}
