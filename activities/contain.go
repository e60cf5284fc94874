package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
)

type ContainInput = incident.ContainInput

const (
	ErrTypeFirewallPermanent = incident.ErrTypeFirewallPermanent
)

// Isolate cuts the system off the network through its provider and records the evidence.
func (a *Activities) Isolate(ctx context.Context, in ContainInput) (incident.Evidence, error) {
	return a.firewallCall(ctx, in, "isolate", firewall.Provider.Isolate)
}

// VerifyIsolation checks that the isolation is in force.
func (a *Activities) VerifyIsolation(ctx context.Context, in ContainInput) (incident.Evidence, error) {
	return a.firewallCall(ctx, in, "verify", firewall.Provider.Verify)
}

// ReleaseIsolation lifts the isolation.
func (a *Activities) ReleaseIsolation(ctx context.Context, in ContainInput) (incident.Evidence, error) {
	return a.firewallCall(ctx, in, "release", firewall.Provider.Release)
}

func (a *Activities) firewallCall(ctx context.Context, in ContainInput, action string,
	call func(firewall.Provider, context.Context, firewall.Target) (incident.Evidence, error)) (incident.Evidence, error) {
	fws := a.Firewalls
	if in.Drill {
		fws = DrillFirewalls(fws, a.Dir) // a drill never changes a real firewall
	}
	p, t, err := fws.Resolve(in.System)
	if err != nil {
		return incident.Evidence{}, classifyFirewall(fmt.Errorf("%s %s: %w", action, in.System, err))
	}
	t.Incident = in.IncidentID
	ev, err := call(p, ctx, t)
	if err != nil {
		return incident.Evidence{}, classifyFirewall(fmt.Errorf("%s %s via %s: %w", action, in.System, p.Name(), err))
	}
	if err := a.appendEvidence(in.IncidentID, ev); err != nil {
		return incident.Evidence{}, err
	}
	return ev, nil
}

func classifyFirewall(err error) error {
	if errors.Is(err, firewall.ErrPermanent) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeFirewallPermanent, err)
	}
	return err
}

var evidenceMu sync.Mutex

// EvidencePath is the JSON-lines file of an incident's containment evidence.
func EvidencePath(root, incidentID string) (string, error) {
	return IncidentPath(root, incidentID, "containment-evidence.jsonl")
}

func (a *Activities) appendEvidence(incidentID string, ev incident.Evidence) error {
	line, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	path, err := EvidencePath(a.Dir, incidentID)
	if err != nil {
		return pathError(err)
	}
	evidenceMu.Lock()
	defer evidenceMu.Unlock()
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("record evidence: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("record evidence: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("record evidence: %w", err)
	}
	return f.Close()
}
