// Package opnsense is the firewall provider that isolates addresses by adding them to a
// quarantine alias on an OPNsense firewall, through its API.
package opnsense

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/redact"
)

// provider isolates addresses by adding them to a quarantine alias on an OPNsense firewall
// (POST /api/firewall/alias_util/add/<alias>) and applying the alias configuration
// (POST /api/firewall/alias/reconfigure). The firewall's own rules must block traffic to and
// from that alias, after passing the allowlist: an alias holds addresses, not exceptions.
type provider struct {
	baseURL     string
	key, secret string
	client      *http.Client
}

// Default environment variables of the API key and secret.
const (
	defaultKeyEnv    = "OPNSENSE_KEY"
	defaultSecretEnv = "OPNSENSE_SECRET"
)

// Factory builds the OPNsense provider from the inventory's providers.opnsense settings, with
// the API key and secret from the environment variables they name.
func Factory() firewall.Factory {
	return firewall.Factory{Name: firewall.ProviderOPNsense, New: func(_ context.Context, s firewall.ProviderSettings, opts firewall.Options) (firewall.Provider, error) {
		keyEnv, secretEnv := orDefault(s.OPNsense.KeyEnv, defaultKeyEnv), orDefault(s.OPNsense.SecretEnv, defaultSecretEnv)
		key, secret := opts.Getenv(keyEnv), opts.Getenv(secretEnv)
		if key == "" || secret == "" {
			return nil, firewall.Permanent(fmt.Errorf("opnsense firewall: set %s and %s to the API key and secret", keyEnv, secretEnv))
		}
		p, err := newProvider(s.OPNsense.URL, key, secret, s.OPNsense.CAFile)
		if err != nil {
			return nil, err
		}
		return p, nil
	}}
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// newProvider returns an OPNsense provider talking to baseURL with the given API key and
// secret, trusting the CAs in caFile (if any) besides the system's. A missing key or secret
// is a permanent error.
func newProvider(baseURL, key, secret, caFile string) (*provider, error) {
	if err := firewall.CheckURL(baseURL); err != nil {
		return nil, firewall.Permanent(fmt.Errorf("opnsense firewall: url: %w", err))
	}
	if key == "" || secret == "" {
		return nil, firewall.Permanent(errors.New("opnsense firewall: empty API key or secret"))
	}
	c, err := firewall.NewHTTPClient(caFile)
	if err != nil {
		return nil, fmt.Errorf("opnsense firewall: %w", err)
	}
	return &provider{baseURL: strings.TrimRight(baseURL, "/"), key: key, secret: secret, client: c}, nil
}

func (o *provider) Name() string { return firewall.ProviderOPNsense }

const opnsenseAllowNote = "allowlist not applied by this provider: the firewall's rules must pass it before blocking the alias"

// Isolate adds the addresses of t missing from the alias, then applies the configuration.
// Isolating twice adds nothing the second time.
func (o *provider) Isolate(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	ev, alias, err := o.start(t, "isolate")
	if err != nil {
		return ev, err
	}
	op := fmt.Sprintf("isolate %s via opnsense alias %s", t.System, alias)
	before, err := o.list(ctx, op, alias)
	if err != nil {
		return ev, err
	}
	ev.Before = describeAlias(alias, before, t.Addresses)
	for _, a := range t.Addresses {
		ca := firewall.CanonicalAddress(a)
		if slices.Contains(before, ca) {
			continue
		}
		if err := o.aliasUtil(ctx, op, "add", alias, ca); err != nil {
			return ev, err
		}
		ev.Changes = append(ev.Changes, fmt.Sprintf("alias_util add %s %s", alias, ca))
	}
	// Applied every time: a retry after a failed reconfigure finds the entries already added.
	if err := o.reconfigure(ctx, op); err != nil {
		return ev, err
	}
	ev.Changes = append(ev.Changes, "alias reconfigure")
	after, err := o.list(ctx, op, alias)
	if err != nil {
		return ev, err
	}
	ev.After = describeAlias(alias, after, t.Addresses) + "; " + opnsenseAllowNote
	if missing := missingFrom(after, t.Addresses); len(missing) > 0 {
		return ev, fmt.Errorf("%s: %s still missing from the alias after adding", op, strings.Join(missing, ", "))
	}
	return ev, nil
}

// Verify lists the alias and checks that every address of t is in it.
func (o *provider) Verify(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	ev, alias, err := o.start(t, "verify")
	if err != nil {
		return ev, err
	}
	entries, err := o.list(ctx, fmt.Sprintf("verify %s via opnsense alias %s", t.System, alias), alias)
	if err != nil {
		return ev, err
	}
	missing := missingFrom(entries, t.Addresses)
	ev.InForce = len(missing) == 0
	ev.After = describeAlias(alias, entries, t.Addresses)
	if !ev.InForce {
		ev.After += "; not in force: missing " + strings.Join(missing, ", ")
	}
	return ev, nil
}

// Release removes the addresses of t from the alias and applies the configuration.
func (o *provider) Release(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	ev, alias, err := o.start(t, "release")
	if err != nil {
		return ev, err
	}
	op := fmt.Sprintf("release %s via opnsense alias %s", t.System, alias)
	before, err := o.list(ctx, op, alias)
	if err != nil {
		return ev, err
	}
	ev.Before = describeAlias(alias, before, t.Addresses)
	for _, a := range t.Addresses {
		ca := firewall.CanonicalAddress(a)
		if !slices.Contains(before, ca) {
			continue
		}
		if err := o.aliasUtil(ctx, op, "delete", alias, ca); err != nil {
			return ev, err
		}
		ev.Changes = append(ev.Changes, fmt.Sprintf("alias_util delete %s %s", alias, ca))
	}
	if err := o.reconfigure(ctx, op); err != nil {
		return ev, err
	}
	ev.Changes = append(ev.Changes, "alias reconfigure")
	after, err := o.list(ctx, op, alias)
	if err != nil {
		return ev, err
	}
	ev.After = describeAlias(alias, after, t.Addresses)
	for _, a := range t.Addresses {
		if slices.Contains(after, firewall.CanonicalAddress(a)) {
			return ev, fmt.Errorf("%s: %s still in the alias after deleting", op, firewall.CanonicalAddress(a))
		}
	}
	return ev, nil
}

func (o *provider) start(t firewall.Target, action string) (incident.Evidence, string, error) {
	ev := incident.Evidence{Provider: o.Name(), Action: action, System: t.System, At: time.Now().UTC()}
	if t.Alias == "" {
		return ev, "", firewall.Permanent(fmt.Errorf("%s %s via opnsense: no quarantine alias; set providers.opnsense.alias or the system's alias", action, t.System))
	}
	if len(t.Addresses) == 0 {
		return ev, "", firewall.Permanent(fmt.Errorf("%s %s via opnsense: no addresses in the inventory", action, t.System))
	}
	for _, a := range t.Addresses {
		if err := firewall.CheckAddress(a); err != nil {
			return ev, "", firewall.Permanent(fmt.Errorf("%s %s via opnsense: %w", action, t.System, err))
		}
	}
	ev.Identifiers = map[string]string{"firewall": redact.URL(o.baseURL), "alias": t.Alias}
	return ev, t.Alias, nil
}

type opnsenseStatus struct {
	Status    string `json:"status"`
	StatusMsg string `json:"status_msg"`
}

func (o *provider) aliasUtil(ctx context.Context, op, verb, alias, address string) error {
	var st opnsenseStatus
	path := fmt.Sprintf("/api/firewall/alias_util/%s/%s", verb, url.PathEscape(alias))
	if err := o.do(ctx, op, http.MethodPost, path, map[string]string{"address": address}, &st); err != nil {
		return err
	}
	if st.Status != "done" {
		return firewall.Permanent(fmt.Errorf("%s: alias_util %s %s: firewall answered status %q %s", op, verb, address, st.Status, st.StatusMsg))
	}
	return nil
}

func (o *provider) reconfigure(ctx context.Context, op string) error {
	var st opnsenseStatus
	if err := o.do(ctx, op, http.MethodPost, "/api/firewall/alias/reconfigure", map[string]string{}, &st); err != nil {
		return err
	}
	if s := strings.ToLower(strings.TrimSpace(st.Status)); s != "ok" && s != "done" {
		return fmt.Errorf("%s: alias reconfigure: firewall answered status %q", op, st.Status)
	}
	return nil
}

// list returns the alias's current entries, canonicalized.
func (o *provider) list(ctx context.Context, op, alias string) ([]string, error) {
	var raw json.RawMessage
	if err := o.do(ctx, op, http.MethodGet, "/api/firewall/alias_util/list/"+url.PathEscape(alias), nil, &raw); err != nil {
		return nil, err
	}
	var entries []string
	var paged struct {
		Rows []struct {
			IP string `json:"ip"`
		} `json:"rows"`
	}
	// Older releases answer with a bare array of addresses.
	if err := json.Unmarshal(raw, &paged); err == nil {
		for _, r := range paged.Rows {
			entries = append(entries, firewall.CanonicalAddress(r.IP))
		}
	} else if err := json.Unmarshal(raw, &entries); err == nil {
		for i, e := range entries {
			entries[i] = firewall.CanonicalAddress(e)
		}
	} else {
		return nil, fmt.Errorf("%s: list alias %s: unexpected answer%s", op, alias, firewall.Snippet(raw))
	}
	return entries, nil
}

func (o *provider) do(ctx context.Context, op, method, path string, in, out any) error {
	var body *bytes.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	} else {
		body = bytes.NewReader(nil)
	}
	// Checked again before every request: the API key and secret travel in each one.
	if err := firewall.CheckURL(o.baseURL); err != nil {
		return firewall.Permanent(fmt.Errorf("%s: url: %w", op, err))
	}
	req, err := http.NewRequestWithContext(ctx, method, o.baseURL+path, body)
	if err != nil {
		return firewall.Permanent(fmt.Errorf("%s: %w", op, redact.Error(err)))
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(o.key, o.secret)
	resp, err := o.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", op, method, path, redact.Error(err))
	}
	b, err := firewall.ReadBody(resp)
	if err != nil {
		return fmt.Errorf("%s: %s %s: read answer: %w", op, method, path, redact.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = "check the API key and secret and the key's privileges (Firewall: Alias: Edit)"
		}
		return firewall.StatusError(fmt.Sprintf("%s: %s %s", op, method, path), resp, b, hint)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return firewall.Permanent(fmt.Errorf("%s: %s %s: answer is not JSON%s", op, method, path, firewall.Snippet(b)))
	}
	return nil
}

func missingFrom(entries, addresses []string) []string {
	var missing []string
	for _, a := range addresses {
		if !slices.Contains(entries, firewall.CanonicalAddress(a)) {
			missing = append(missing, firewall.CanonicalAddress(a))
		}
	}
	return missing
}

func describeAlias(alias string, entries, addresses []string) string {
	var in []string
	for _, a := range addresses {
		if slices.Contains(entries, firewall.CanonicalAddress(a)) {
			in = append(in, firewall.CanonicalAddress(a))
		}
	}
	return fmt.Sprintf("alias %s holds %d entries; of this system's %d addresses, in it: [%s]", alias, len(entries), len(addresses), strings.Join(in, ", "))
}
