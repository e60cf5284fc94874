package firewall

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall/nftspec"
)

// dryRun changes nothing. It records, in a JSON-lines file, the exact nftables rules that
// isolation would apply, so a drill or a first run shows what production containment does.
type dryRun struct {
	// path is the JSON-lines file the records are appended to; empty records nothing.
	path string

	mu sync.Mutex // one record written at a time
}

// NewDryRun returns the dry-run provider, appending its records to path. It changes nothing:
// it records the exact nftables rules that isolation would apply.
func NewDryRun(path string) Provider { return &dryRun{path: path} }

func (d *dryRun) Name() string { return ProviderDryRun }

// Isolate records the quarantine ruleset that would be applied.
func (d *dryRun) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
	rules, err := quarantineCommands(t, nil)
	if err != nil {
		return incident.Evidence{}, err
	}
	ev := incident.Evidence{
		Provider: d.Name(), Action: "isolate", System: t.System, At: time.Now().UTC(),
		Changes:     rules,
		Identifiers: dryRunIdentifiers(t.System),
		Before:      "no quarantine rules for " + t.System,
		After:       fmt.Sprintf("%d quarantine rules for %s (dry-run: not applied)", len(rules), t.System),
	}
	return ev, d.record(ev)
}

// Verify reports the recorded isolation as in force; nothing can be probed in a dry run.
func (d *dryRun) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
	ev := incident.Evidence{Provider: d.Name(), Action: "verify", System: t.System, At: time.Now().UTC(), InForce: true,
		After: "dry-run: isolation recorded, not applied; nothing to probe"}
	return ev, d.record(ev)
}

// Release records the removal of the quarantine chain.
func (d *dryRun) Release(ctx context.Context, t Target) (incident.Evidence, error) {
	ev := incident.Evidence{Provider: d.Name(), Action: "release", System: t.System, At: time.Now().UTC(),
		Changes: dryRunReleaseChanges(t.System),
		After:   "quarantine rules for " + t.System + " removed (dry-run: not applied)"}
	return ev, d.record(ev)
}

func dryRunIdentifiers(system string) map[string]string {
	ids := map[string]string{"table": "inet " + nftspec.Table}
	for _, h := range nftspec.Hooks(nil) {
		ids["chain."+h] = nftspec.Chain(system, h)
	}
	return ids
}

func dryRunReleaseChanges(system string) []string {
	var c []string
	for _, h := range nftspec.Hooks(nil) {
		c = append(c, fmt.Sprintf("delete chain inet %s %s", nftspec.Table, nftspec.Chain(system, h)))
	}
	return append(c, fmt.Sprintf("delete table inet %s (when no other system is isolated)", nftspec.Table))
}

func (d *dryRun) record(ev incident.Evidence) error {
	if d.path == "" {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(d.path), 0o750); err != nil {
		return fmt.Errorf("dry-run firewall: create %s: %w", filepath.Dir(d.path), err)
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	f, err := os.OpenFile(d.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("dry-run firewall: open %s: %w", d.path, err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("dry-run firewall: write %s: %w", d.path, err)
	}
	return f.Close()
}
