package main

import (
	"net/netip"
	"path/filepath"

	"github.com/breachops/breach/internal/config"
	"github.com/breachops/breach/internal/firewall"
)

// firewalls resolves systems through the inventory, each to its provider.
type firewalls struct {
	inv    *firewall.Inventory
	dryRun *firewall.DryRun
}

func newFirewalls(cfg *config.Config) (*firewalls, error) {
	f := &firewalls{dryRun: firewall.NewDryRun(filepath.Join(cfg.Home, "firewall-dry-run.jsonl"))}
	if cfg.Inventory != "" {
		inv, err := firewall.LoadInventory(cfg.Inventory)
		if err != nil {
			return nil, usagef("%v", err)
		}
		f.inv = inv
	}
	return f, nil
}

func (f *firewalls) Resolve(system string) (firewall.Provider, firewall.Target, error) {
	if f.inv == nil {
		t := firewall.Target{System: system}
		if isAddress(system) {
			t.Addresses = []string{system}
		}
		return f.dryRun, t, nil
	}
	s, err := f.inv.Resolve(system)
	if err != nil {
		return nil, firewall.Target{}, firewall.Permanent(err)
	}
	return f.dryRun, f.inv.TargetOf(s), nil
}

// checkSystems refuses systems the inventory does not know, listing those it does.
func (f *firewalls) checkSystems(systems []string) error {
	if f.inv == nil {
		return nil
	}
	for _, s := range systems {
		if _, err := f.inv.Resolve(s); err != nil {
			return usagef("--system %s: %v", s, err)
		}
	}
	return nil
}

func isAddress(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}
