// Package webhook is the firewall provider that isolates by posting a signed JSON request to the
// company's own automation. Package webhooktest holds the receiving end of the contract.
package webhook

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
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/redact"
)

// Request headers.
const (
	signatureHeader = "X-Breach-Signature"
	timestampHeader = "X-Breach-Timestamp"
	// idempotencyHeader carries a key that is the same for every retry of one call, so a
	// receiver can apply each isolation once.
	idempotencyHeader = "Idempotency-Key"
)

// defaultSecretEnv is the environment variable of the signing secret when the inventory names
// none.
const defaultSecretEnv = "BREACH_WEBHOOK_SECRET"

// request is the JSON body posted to the company's automation.
type request struct {
	// Action is isolate, verify or release.
	Action     string   `json:"action"`
	System     string   `json:"system"`
	Addresses  []string `json:"addresses"`
	InstanceID string   `json:"instance_id,omitempty"`
	// Allow lists what must stay reachable while the system is isolated.
	Allow    []string `json:"allow"`
	Incident string   `json:"incident,omitempty"`
}

// response is what the automation answers with a 2xx status. RuleID is required for isolate
// (and recorded when present for verify and release); InForce is required for verify.
type response struct {
	RuleID  json.RawMessage `json:"rule_id,omitempty"`
	InForce *bool           `json:"in_force,omitempty"`
	Message string          `json:"message,omitempty"`
}

// provider isolates by posting a signed JSON request to the company's own automation. Each
// request carries X-Breach-Timestamp (unix seconds) and X-Breach-Signature:
// "sha256=" + hex(HMAC-SHA256(secret, timestamp + "." + body)). A 2xx answer is success; 408,
// 429 and 5xx may be retried; any other status is permanent.
type provider struct {
	url    string
	secret []byte
	client *http.Client
	// now returns the current time; nil means time.Now.
	now func() time.Time
}

// Factory builds the webhook provider from the inventory's providers.webhook settings, with the
// signing secret from the environment variable it names.
func Factory() firewall.Factory {
	return firewall.Factory{Name: firewall.ProviderWebhook, New: func(_ context.Context, s firewall.ProviderSettings, opts firewall.Options) (firewall.Provider, error) {
		env := s.Webhook.SecretEnv
		if env == "" {
			env = defaultSecretEnv
		}
		secret := opts.Getenv(env)
		if secret == "" {
			return nil, firewall.Permanent(fmt.Errorf("webhook firewall: set %s to the signing secret", env))
		}
		p, err := newProvider(s.Webhook.URL, []byte(secret))
		if err != nil {
			return nil, err
		}
		return p, nil
	}}
}

// newProvider returns a webhook provider. An empty secret is a permanent error: unsigned
// isolation requests would let anyone who can reach the receiver cut systems off.
func newProvider(url string, secret []byte) (*provider, error) {
	if err := firewall.CheckURL(url); err != nil {
		return nil, firewall.Permanent(fmt.Errorf("webhook firewall: url: %w", err))
	}
	if len(secret) == 0 {
		return nil, firewall.Permanent(errors.New("webhook firewall: empty signing secret"))
	}
	c, err := firewall.NewHTTPClient("")
	if err != nil {
		return nil, err
	}
	return &provider{url: url, secret: secret, client: c}, nil
}

func (w *provider) Name() string { return firewall.ProviderWebhook }

func (w *provider) clock() time.Time {
	if w.now != nil {
		return w.now().UTC()
	}
	return time.Now().UTC()
}

// Isolate asks the automation to isolate t and records its rule id.
func (w *provider) Isolate(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	resp, ev, err := w.call(ctx, "isolate", t)
	if err != nil {
		return ev, err
	}
	if ruleID(resp.RuleID) == "" {
		return ev, firewall.Permanent(fmt.Errorf("isolate %s via webhook: the answer has no rule_id; the receiver must return {\"rule_id\": ...}", t.System))
	}
	ev.Changes = []string{fmt.Sprintf("POST %s action=isolate system=%s addresses=%s allow=%s", redact.URL(w.url), t.System,
		strings.Join(t.Addresses, ","), strings.Join(t.Allow, ","))}
	ev.After = "isolation rule " + ruleID(resp.RuleID) + " reported by the receiver"
	return ev, nil
}

// Verify asks the automation whether the isolation is in force.
func (w *provider) Verify(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	resp, ev, err := w.call(ctx, "verify", t)
	if err != nil {
		return ev, err
	}
	if resp.InForce == nil {
		return ev, firewall.Permanent(fmt.Errorf("verify %s via webhook: the answer has no in_force; the receiver must return {\"in_force\": true|false}", t.System))
	}
	ev.InForce = *resp.InForce
	ev.After = fmt.Sprintf("receiver reports isolation in force: %t", ev.InForce)
	return ev, nil
}

// Release asks the automation to lift the isolation of t.
func (w *provider) Release(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	_, ev, err := w.call(ctx, "release", t)
	if err != nil {
		return ev, err
	}
	ev.Changes = []string{fmt.Sprintf("POST %s action=release system=%s", redact.URL(w.url), t.System)}
	ev.After = "receiver reports the isolation lifted"
	return ev, nil
}

func (w *provider) call(ctx context.Context, action string, t firewall.Target) (response, incident.Evidence, error) {
	op := fmt.Sprintf("%s %s via webhook", action, t.System)
	ev := incident.Evidence{Provider: w.Name(), Action: action, System: t.System, At: w.clock(),
		Identifiers: map[string]string{"url": redact.URL(w.url)}}
	body, err := json.Marshal(request{Action: action, System: t.System, Addresses: canonicalAll(t.Addresses),
		InstanceID: t.InstanceID, Allow: canonicalAll(t.Allow), Incident: t.Incident})
	if err != nil {
		return response{}, ev, err
	}
	ts := strconv.FormatInt(w.clock().Unix(), 10)
	// Checked again before every request: a provider built by hand skips the inventory.
	if err := firewall.CheckURL(w.url); err != nil {
		return response{}, ev, firewall.Permanent(fmt.Errorf("%s: url: %w", op, err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return response{}, ev, firewall.Permanent(fmt.Errorf("%s: %w", op, redact.Error(err)))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "breach-firewall/1")
	req.Header.Set(timestampHeader, ts)
	req.Header.Set(signatureHeader, sign(w.secret, ts, body))
	req.Header.Set(idempotencyHeader, webhookIdempotencyKey(action, t))
	resp, err := w.client.Do(req)
	if err != nil {
		// The transport's error quotes the URL, query and all.
		return response{}, ev, fmt.Errorf("%s: %w", op, redact.Error(err))
	}
	rb, err := firewall.ReadBody(resp)
	if err != nil {
		return response{}, ev, fmt.Errorf("%s: read answer: %w", op, redact.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return response{}, ev, firewall.StatusError(op, resp, rb, "")
	}
	var out response
	if err := json.Unmarshal(rb, &out); err != nil {
		return response{}, ev, firewall.Permanent(fmt.Errorf("%s: answer is not the expected JSON%s", op, firewall.Snippet(rb)))
	}
	if id := ruleID(out.RuleID); id != "" {
		ev.Identifiers["rule_id"] = id
	}
	if out.Message != "" {
		ev.Identifiers["message"] = out.Message
	}
	return out, ev, nil
}

// sign returns the X-Breach-Signature value for a request body sent at timestamp.
func sign(secret []byte, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(timestamp))
	m.Write([]byte("."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func webhookIdempotencyKey(action string, t firewall.Target) string {
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
		out = append(out, firewall.CanonicalAddress(a))
	}
	return out
}
