package main

import (
	"path/filepath"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/firewall"
)

// newFirewalls builds the registry that resolves each system, through the inventory, to its
// provider. Without an inventory every system must be an IP address or CIDR, isolated dry-run.
func newFirewalls(cfg *config.Config) (*firewall.Registry, error) {
	var inv *firewall.Inventory
	if cfg.Inventory != "" {
		var err error
		if inv, err = firewall.LoadInventory(cfg.Inventory); err != nil {
			return nil, usagef("%v", err)
		}
	}
	return firewall.NewRegistry(inv, firewall.Options{DryRunPath: filepath.Join(cfg.Home, "firewall-dry-run.jsonl")}), nil
}

// checkSystems refuses a --system that is neither in the inventory nor an address, listing the
// known names.
func checkSystems(reg *firewall.Registry, systems []string) error {
	for _, s := range systems {
		if _, err := reg.Inventory().Resolve(s); err != nil {
			return usagef("--system %s: %v", s, err)
		}
	}
	return nil
}
