// Package firewall isolates affected systems from the network and records what it changed.
//
// A Provider applies isolation for one target. Every call returns an incident.Evidence: what
// was changed, where, with the provider's own identifiers, so the incident timeline and the
// post-incident report can show exactly what containment did.
//
// This package holds what every provider shares: the Provider interface, the systems inventory
// (LoadInventory: which provider isolates which system, and each provider's settings), the
// Registry that hands out the provider and Target for a system name or a bare address, and the
// dry-run provider (NewDryRun: records the nftables rules it would apply). The other providers
// live in subpackages, each offering a Factory that the program passes to NewRegistry:
// nftables (netlink, inside a chosen network namespace), aws (security-group quarantine),
// opnsense (quarantine alias) and webhook (signed request to the company's own automation).
// This package imports none of them.
package firewall

import (
	"context"
	"errors"

	"github.com/breachops/breach/incident"
)

// Target is one system to isolate, as the inventory describes it.
type Target struct {
	// System is the inventory name, e.g. "db-1".
	System string `json:"system"`
	// Addresses are the IP addresses or CIDRs of the system.
	Addresses []string `json:"addresses,omitempty"`
	// InstanceID is a cloud instance id (AWS provider).
	InstanceID string `json:"instance_id,omitempty"`
	// Alias is a firewall alias name (OPNsense provider).
	Alias string `json:"alias,omitempty"`
	// Allow lists addresses or CIDRs that isolation keeps reachable (forensics, management).
	Allow []string `json:"allow,omitempty"`
	// Incident is the incident id, passed on to providers that can record it (webhook).
	Incident string `json:"incident,omitempty"`
}

// Provider applies, checks and lifts isolation. Isolate is idempotent: isolating twice leaves
// one rule set; Release of a system that is not isolated changes nothing and succeeds.
//
// Verify returns an error only when it could not read the state; when it could, Evidence.InForce
// tells whether the isolation is in force, and Evidence.After says what is missing if not.
// Errors satisfying errors.Is(err, ErrPermanent) cannot be fixed by retrying; all others may be
// retried.
type Provider interface {
	Name() string
	Isolate(ctx context.Context, t Target) (incident.Evidence, error)
	Verify(ctx context.Context, t Target) (incident.Evidence, error)
	Release(ctx context.Context, t Target) (incident.Evidence, error)
}

// ErrPermanent marks errors that retrying cannot fix (bad credentials, unknown instance).
// Providers wrap it; the activity layer turns it into a non-retryable error.
var ErrPermanent = errors.New("permanent firewall error")

// Permanent wraps err so that errors.Is(err, ErrPermanent) holds.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err: err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string   { return e.err.Error() }
func (e *permanentError) Unwrap() []error { return []error{e.err, ErrPermanent} }
