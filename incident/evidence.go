package incident

import "time"

// Evidence records one call to a firewall provider during containment: what was changed, where,
// with the provider's own identifiers, so the incident timeline and the post-incident report
// can show exactly what containment did. The containment workflow keeps it in its history, so
// its JSON names never change.
type Evidence struct {
	// Provider is the firewall provider's name, e.g. "nftables".
	Provider string `json:"provider"`
	// Action is isolate, verify or release.
	Action string    `json:"action"`
	System string    `json:"system"`
	At     time.Time `json:"at"`
	// Changes are the exact changes made (or, for dry-run, that would be made), one per line.
	Changes []string `json:"changes,omitempty"`
	// Identifiers are the provider's own ids (rule handles, group ids, alias names).
	Identifiers map[string]string `json:"identifiers,omitempty"`
	Before      string            `json:"before,omitempty"`
	After       string            `json:"after,omitempty"`
	// InForce is set by a verification: whether the isolation was found in force.
	InForce bool `json:"in_force,omitempty"`
}
