package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/breachops/breach/internal/config"
)

// Every provider an inventory may name is built into the binary: each system resolves to its
// own provider.
func TestEveryFirewallProviderIsBuiltIn(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/breach-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/breach-test")
	t.Setenv("OPNSENSE_KEY", "k")
	t.Setenv("OPNSENSE_SECRET", "s")
	t.Setenv("BREACH_WEBHOOK_SECRET", "w")
	dir := t.TempDir()
	inv := filepath.Join(dir, "systems.yaml")
	err := os.WriteFile(inv, []byte(`providers:
  nftables: {netns: /run/netns/edge}
  aws: {region: eu-central-1, quarantine_group: breach-quarantine}
  opnsense: {url: 'https://fw.example.com', alias: breach_quarantine}
  webhook: {url: 'https://automation.example.com/breach'}
systems:
  - {name: dry, provider: dry-run, addresses: [192.0.2.1]}
  - {name: nft, provider: nftables, addresses: [192.0.2.2]}
  - {name: ec2, provider: aws, instance_id: i-0123456789abcdef0}
  - {name: opn, provider: opnsense, addresses: [192.0.2.3]}
  - {name: hook, provider: webhook, addresses: [192.0.2.4]}
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := newFirewalls(&config.Config{Home: dir, Inventory: inv})
	if err != nil {
		t.Fatal(err)
	}
	for system, want := range map[string]string{"dry": "dry-run", "nft": "nftables", "ec2": "aws", "opn": "opnsense", "hook": "webhook"} {
		p, _, err := reg.Resolve(system)
		if err != nil {
			t.Errorf("%s: %v", system, err)
			continue
		}
		if p.Name() != want {
			t.Errorf("%s: provider %s, want %s", system, p.Name(), want)
		}
	}
}
