package firewall

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
	"github.com/breachops/breach/internal/redact"
)

// OPNsense isolates addresses by adding them to a quarantine alias on an OPNsense firewall
// (POST /api/firewall/alias_util/add/<alias>) and applying the alias configuration
// (POST /api/firewall/alias/reconfigure). The firewall's own rules must block traffic to and
// from that alias, after passing the allowlist: an alias holds addresses, not exceptions.
type OPNsense struct {
	BaseURL string
	Key     string
	Secret  string
	Client  *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// NewOPNsense returns an OPNsense provider talking to baseURL with the given API key and
// secret. A missing key or secret is a permanent error.
func NewOPNsense(baseURL, key, secret string, client *http.Client, caFile string) (*OPNsense, error) {
	if err := checkURL(baseURL, false); err != nil {
		return nil, Permanent(fmt.Errorf("opnsense firewall: url: %w", err))
	}
	if key == "" || secret == "" {
		return nil, Permanent(errors.New("opnsense firewall: empty API key or secret"))
	}
	c, err := newHTTPClient(client, caFile)
	if err != nil {
		return nil, fmt.Errorf("opnsense firewall: %w", err)
	}
	return &OPNsense{BaseURL: strings.TrimRight(baseURL, "/"), Key: key, Secret: secret, Client: c}, nil
}

func (o *OPNsense) Name() string { return ProviderOPNsense }

func (o *OPNsense) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

const opnsenseAllowNote = "allowlist not applied by this provider: the firewall's rules must pass it before blocking the alias"

// Isolate adds the addresses of t missing from the alias, then applies the configuration.
// Isolating twice adds nothing the second time.
func (o *OPNsense) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
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
		ca := canonicalAddress(a)
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
func (o *OPNsense) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
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
func (o *OPNsense) Release(ctx context.Context, t Target) (incident.Evidence, error) {
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
		ca := canonicalAddress(a)
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
		if slices.Contains(after, canonicalAddress(a)) {
			return ev, fmt.Errorf("%s: %s still in the alias after deleting", op, canonicalAddress(a))
		}
	}
	return ev, nil
}

func (o *OPNsense) start(t Target, action string) (incident.Evidence, string, error) {
	ev := incident.Evidence{Provider: o.Name(), Action: action, System: t.System, At: o.now()}
	if t.Alias == "" {
		return ev, "", Permanent(fmt.Errorf("%s %s via opnsense: no quarantine alias; set providers.opnsense.alias or the system's alias", action, t.System))
	}
	if len(t.Addresses) == 0 {
		return ev, "", Permanent(fmt.Errorf("%s %s via opnsense: no addresses in the inventory", action, t.System))
	}
	for _, a := range t.Addresses {
		if err := checkAddress(a); err != nil {
			return ev, "", Permanent(fmt.Errorf("%s %s via opnsense: %w", action, t.System, err))
		}
	}
	ev.Identifiers = map[string]string{"firewall": redactURL(o.BaseURL), "alias": t.Alias}
	return ev, t.Alias, nil
}

type opnsenseStatus struct {
	Status    string `json:"status"`
	StatusMsg string `json:"status_msg"`
}

func (o *OPNsense) aliasUtil(ctx context.Context, op, verb, alias, address string) error {
	var st opnsenseStatus
	path := fmt.Sprintf("/api/firewall/alias_util/%s/%s", verb, url.PathEscape(alias))
	if err := o.do(ctx, op, http.MethodPost, path, map[string]string{"address": address}, &st); err != nil {
		return err
	}
	if st.Status != "done" {
		return Permanent(fmt.Errorf("%s: alias_util %s %s: firewall answered status %q %s", op, verb, address, st.Status, st.StatusMsg))
	}
	return nil
}

func (o *OPNsense) reconfigure(ctx context.Context, op string) error {
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
func (o *OPNsense) list(ctx context.Context, op, alias string) ([]string, error) {
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
			entries = append(entries, canonicalAddress(r.IP))
		}
	} else if err := json.Unmarshal(raw, &entries); err == nil {
		for i, e := range entries {
			entries[i] = canonicalAddress(e)
		}
	} else {
		return nil, fmt.Errorf("%s: list alias %s: unexpected answer%s", op, alias, snippet(raw))
	}
	return entries, nil
}

func (o *OPNsense) do(ctx context.Context, op, method, path string, in, out any) error {
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
	if err := requireTLS(o.BaseURL); err != nil {
		return Permanent(fmt.Errorf("%s: url: %w", op, err))
	}
	req, err := http.NewRequestWithContext(ctx, method, o.BaseURL+path, body)
	if err != nil {
		return Permanent(fmt.Errorf("%s: %w", op, redact.Error(err)))
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(o.Key, o.Secret)
	resp, err := o.Client.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", op, method, path, redact.Error(err))
	}
	b, err := readBody(resp)
	if err != nil {
		return fmt.Errorf("%s: %s %s: read answer: %w", op, method, path, redact.Error(err))
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		hint := ""
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			hint = "check the API key and secret and the key's privileges (Firewall: Alias: Edit)"
		}
		return statusError(fmt.Sprintf("%s: %s %s", op, method, path), resp, b, hint)
	}
	if err := json.Unmarshal(b, out); err != nil {
		return Permanent(fmt.Errorf("%s: %s %s: answer is not JSON%s", op, method, path, snippet(b)))
	}
	return nil
}

func missingFrom(entries, addresses []string) []string {
	var missing []string
	for _, a := range addresses {
		if !slices.Contains(entries, canonicalAddress(a)) {
			missing = append(missing, canonicalAddress(a))
		}
	}
	return missing
}

func describeAlias(alias string, entries, addresses []string) string {
	var in []string
	for _, a := range addresses {
		if slices.Contains(entries, canonicalAddress(a)) {
			in = append(in, canonicalAddress(a))
		}
	}
	return fmt.Sprintf("alias %s holds %d entries; of this system's %d addresses, in it: [%s]", alias, len(entries), len(addresses), strings.Join(in, ", "))
}
