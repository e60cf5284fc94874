package firewall

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/breachops/breach/incident"
)

// DryRun changes nothing. It records, in a JSON-lines file, the exact nftables rules that
// isolation would apply, so a drill or a first run shows what production containment does.
type DryRun struct {
	// Path is the JSON-lines file the records are appended to.
	Path string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu       sync.Mutex
	isolated map[string]bool
}

// NewDryRun returns a dry-run provider appending to path.
func NewDryRun(path string) *DryRun { return &DryRun{Path: path} }

func (d *DryRun) Name() string { return "dry-run" }

func (d *DryRun) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

// Isolate records the quarantine ruleset that would be applied.
func (d *DryRun) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
	rules, err := QuarantineRules(t)
	if err != nil {
		return incident.Evidence{}, err
	}
	ev := incident.Evidence{
		Provider: d.Name(), Action: "isolate", System: t.System, At: d.now(),
		Changes:     rules,
		Identifiers: dryRunIdentifiers(t.System),
		Before:      "no quarantine rules for " + t.System,
		After:       fmt.Sprintf("%d quarantine rules for %s (dry-run: not applied)", len(rules), t.System),
	}
	d.mu.Lock()
	if d.isolated == nil {
		d.isolated = map[string]bool{}
	}
	d.isolated[t.System] = true
	d.mu.Unlock()
	return ev, d.record(ev)
}

// Verify reports the recorded isolation as in force; nothing can be probed in a dry run.
func (d *DryRun) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
	ev := incident.Evidence{Provider: d.Name(), Action: "verify", System: t.System, At: d.now(), InForce: true,
		After: "dry-run: isolation recorded, not applied; nothing to probe"}
	return ev, d.record(ev)
}

// Release records the removal of the quarantine chain.
func (d *DryRun) Release(ctx context.Context, t Target) (incident.Evidence, error) {
	ev := incident.Evidence{Provider: d.Name(), Action: "release", System: t.System, At: d.now(),
		Changes: dryRunReleaseChanges(t.System),
		After:   "quarantine rules for " + t.System + " removed (dry-run: not applied)"}
	d.mu.Lock()
	delete(d.isolated, t.System)
	d.mu.Unlock()
	return ev, d.record(ev)
}

func dryRunIdentifiers(system string) map[string]string {
	ids := map[string]string{"table": "inet " + quarantineTable}
	for _, h := range allHooks {
		ids["chain."+h] = hookChain(system, h)
	}
	return ids
}

func dryRunReleaseChanges(system string) []string {
	var c []string
	for _, h := range allHooks {
		c = append(c, fmt.Sprintf("delete chain inet %s %s", quarantineTable, hookChain(system, h)))
	}
	return append(c, fmt.Sprintf("delete table inet %s (when no other system is isolated)", quarantineTable))
}

func (d *DryRun) record(ev incident.Evidence) error {
	if d.Path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(d.Path), 0o750); err != nil {
		return fmt.Errorf("dry-run firewall: create %s: %w", filepath.Dir(d.Path), err)
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.Path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("dry-run firewall: open %s: %w", d.Path, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("dry-run firewall: write %s: %w", d.Path, err)
	}
	return f.Close()
}

// QuarantineRules renders, in nft syntax, the rules that isolate t on every hook (input,
// forward, output): traffic to and from its addresses is dropped, except to and from the
// allowlist. The nftables provider applies exactly these.
func QuarantineRules(t Target) ([]string, error) { return QuarantineRulesFor(t, nil) }

// QuarantineRulesFor is QuarantineRules for the given hooks (nil means all three).
func QuarantineRulesFor(t Target, hooks []string) ([]string, error) {
	spec, err := quarantineSpec(t)
	if err != nil {
		return nil, err
	}
	rules := []string{"add table inet " + quarantineTable}
	for _, h := range normHooks(hooks) {
		if _, ok := hookByName[h]; !ok {
			return nil, Permanent(fmt.Errorf("isolate %s: unknown hook %q; use input, forward or output", t.System, h))
		}
		rules = append(rules, chainDecl(t.System, h))
		for _, r := range spec {
			rules = append(rules, ruleDecl(t.System, h, r))
		}
	}
	return rules, nil
}

func chainName(system string) string {
	var b strings.Builder
	b.WriteString("q_")
	for _, r := range strings.ToLower(system) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
