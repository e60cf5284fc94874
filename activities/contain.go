package activities

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/records"
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
	if err := a.appendEvidence(ctx, in.IncidentID, ev); err != nil {
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

func (a *Activities) appendEvidence(ctx context.Context, incidentID string, ev incident.Evidence) error {
	st, err := a.records()
	if err != nil {
		return err
	}
	if _, err := records.Key(incidentID); err != nil {
		return pathError(err)
	}
	return records.AddEvidence(ctx, st, incidentID, ev)
}
