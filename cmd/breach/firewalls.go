package main

import (
	"os"
	"path/filepath"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/aws"
	"github.com/breachops/breach/internal/firewall/nftables"
	"github.com/breachops/breach/internal/firewall/opnsense"
	"github.com/breachops/breach/internal/firewall/webhook"
)

// firewallProviders are the providers this program can isolate with, besides dry-run.
func firewallProviders() []firewall.Factory {
	return []firewall.Factory{nftables.Factory(), aws.Factory(), opnsense.Factory(), webhook.Factory()}
}

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
	opts := firewall.Options{Getenv: os.Getenv, DryRunPath: filepath.Join(cfg.Home, "firewall-dry-run.jsonl")}
	return firewall.NewRegistry(inv, opts, firewallProviders()...), nil
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
