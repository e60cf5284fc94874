package firewall

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const goodInventory = `
defaults:
  provider: nftables
  allow: [192.0.2.10, 2001:db8:ff::/64]
providers:
  nftables:
    netns: /run/netns/edge
    hooks: [forward]
  aws:
    region: eu-central-1
    endpoint: http://127.0.0.1:4566
    quarantine_group: breach-quarantine
  opnsense:
    url: https://fw.example.com
    alias: breach_quarantine
    key_env: FW_KEY
    secret_env: FW_SECRET
  webhook:
    url: https://automation.example.com/breach
systems:
  - name: web-1
    addresses: [10.0.0.5]
  - name: db-1
    description: customer database
    addresses: [10.0.1.5, 10.0.2.0/24]
    allow: [10.9.9.9]
  - name: api-1
    provider: aws
    instance_id: i-0123456789abcdef0
  - name: branch-office
    provider: opnsense
    addresses: [198.51.100.0/28]
  - name: legacy
    provider: webhook
    addresses: [203.0.113.9]
    alias: legacy_q
`

func TestParseInventory(t *testing.T) {
	inv, err := parseInventory("", []byte(goodInventory))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := inv.Names(), []string{"api-1", "branch-office", "db-1", "legacy", "web-1"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	s, ok := inv.lookup("web-1")
	if !ok || s.Provider != ProviderNFTables {
		t.Errorf("web-1: %+v, %v; want the default provider nftables", s, ok)
	}
	if _, ok := inv.lookup("nope"); ok {
		t.Error("lookup(nope) found something")
	}
	tg, err := inv.Target("db-1")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"192.0.2.10", "2001:db8:ff::/64", "10.9.9.9"}; !slices.Equal(tg.Allow, want) {
		t.Errorf("db-1 allow = %v, want defaults then its own: %v", tg.Allow, want)
	}
	if tg, _ := inv.Target("branch-office"); tg.Alias != "breach_quarantine" {
		t.Errorf("opnsense system alias = %q, want the provider default", tg.Alias)
	}
	if tg, _ := inv.Target("api-1"); tg.InstanceID != "i-0123456789abcdef0" {
		t.Errorf("api-1 target %+v", tg)
	}
	if inv.Providers.NFTables.NetNS != "/run/netns/edge" || inv.Providers.OPNsense.KeyEnv != "FW_KEY" {
		t.Errorf("provider settings not read: %+v", inv.Providers)
	}
}

func TestLoadInventory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "systems.yaml")
	if err := os.WriteFile(path, []byte(goodInventory), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := LoadInventory(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Names()) != 5 {
		t.Errorf("loaded %v", inv.Names())
	}
	_, err = LoadInventory(filepath.Join(t.TempDir(), "missing.yaml"))
	if err == nil || !errors.Is(err, ErrPermanent) {
		t.Errorf("missing file: %v; want a permanent error", err)
	}
}

func TestParseInventoryErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the error
	}{
		{"empty", ``, []string{"empty file"}},
		{"unknown top-level field", "sytems: []\n", []string{"line 1", "sytems", "not a top-level section"}},
		{"unknown system field", "systems:\n  - name: a\n    adresses: [10.0.0.1]\n", []string{"line 3", "adresses", "not a system field"}},
		{"unknown provider field", "providers:\n  aws:\n    regoin: x\n", []string{"line 3", "regoin", "not a field of providers.aws"}},
		{"addresses not a list", "systems:\n  - name: a\n    addresses: 10.0.0.1\n", []string{"line 3"}},
		{"missing name", "systems:\n  - addresses: [10.0.0.1]\n", []string{"line 2", "systems[0].name", "missing"}},
		{"bad name", "systems:\n  - name: 'db 1'\n    addresses: [10.0.0.1]\n", []string{"line 2", "systems[0] (db 1).name"}},
		{"name is an address", "systems:\n  - name: 10.0.0.1\n    addresses: [10.0.0.1]\n", []string{"line 2", "looks like an address"}},
		{"duplicate", "systems:\n  - name: a\n    addresses: [10.0.0.1]\n  - name: a\n    addresses: [10.0.0.2]\n", []string{"line 4", "systems[1] (a).name", "duplicate"}},
		{"same chain", "systems:\n  - name: db-1\n    addresses: [10.0.0.1]\n  - name: db_1\n    addresses: [10.0.0.2]\n", []string{"line 4", "same firewall chain"}},
		{"bad address", "systems:\n  - name: a\n    addresses:\n      - 10.0.0.1\n      - 10.0.0.300\n", []string{"line 5", "systems[0] (a).addresses[1]", "not an IP address"}},
		{"host bits", "systems:\n  - name: a\n    addresses: [10.0.0.5/24]\n", []string{"line 3", "did you mean 10.0.0.0/24"}},
		{"whole internet", "systems:\n  - name: a\n    addresses: [0.0.0.0/0]\n", []string{"cut off the whole network"}},
		{"allow everything", "defaults:\n  allow: ['::/0']\nsystems: []\n", []string{"line 2", "defaults.allow[0]", "undo the isolation"}},
		{"bad allow", "systems:\n  - name: a\n    addresses: [10.0.0.1]\n    allow: [forensics]\n", []string{"line 4", "allow[0]"}},
		{"no addresses for nftables", "systems:\n  - name: a\n    provider: nftables\n", []string{"line 2", "systems[0] (a).addresses", "missing"}},
		{"unknown provider", "systems:\n  - name: a\n    provider: iptables\n    addresses: [10.0.0.1]\n", []string{"line 3", "unknown provider \"iptables\"", "nftables"}},
		{"unknown default provider", "defaults:\n  provider: pf\n", []string{"line 2", "defaults.provider"}},
		{"aws without instance", "providers:\n  aws: {region: x, quarantine_group: q}\nsystems:\n  - name: a\n    provider: aws\n", []string{"line 4", "instance_id", "missing"}},
		{"bad instance id", "providers:\n  aws: {region: x, quarantine_group: q}\nsystems:\n  - name: a\n    provider: aws\n    instance_id: web-server\n", []string{"line 6", "not an EC2 instance id"}},
		{"aws without region", "providers:\n  aws: {quarantine_group: q}\nsystems:\n  - name: a\n    provider: aws\n    instance_id: i-01234567\n", []string{"line 2", "providers.aws.region"}},
		{"aws without group", "providers:\n  aws: {region: eu-west-1}\nsystems:\n  - name: a\n    provider: aws\n    instance_id: i-01234567\n", []string{"providers.aws.quarantine_group"}},
		{"opnsense without url", "providers:\n  opnsense: {alias: q}\nsystems:\n  - name: a\n    provider: opnsense\n    addresses: [10.0.0.1]\n", []string{"providers.opnsense.url"}},
		{"opnsense without alias", "providers:\n  opnsense: {url: 'https://fw'}\nsystems:\n  - name: a\n    provider: opnsense\n    addresses: [10.0.0.1]\n", []string{"line 4", "alias", "missing"}},
		{"webhook bad url", "providers:\n  webhook: {url: 'ftp://x'}\n", []string{"line 2", "providers.webhook.url", "not an https URL"}},
		{"webhook over http", "providers:\n  webhook:\n    url: http://automation.example.com/breach?token=s3cr3t\n", []string{"line 3", "providers.webhook.url", "in clear: use https://", "token=REDACTED"}},
		{"opnsense over http", "providers:\n  opnsense: {url: 'http://admin:pa55@fw.example.com', alias: q}\n", []string{"line 2", "providers.opnsense.url", "in clear", "admin:REDACTED@"}},
		{"opnsense over http to a private address", "providers:\n  opnsense: {url: 'http://10.0.0.1', alias: q}\n", []string{"providers.opnsense.url", "in clear"}},
		{"aws endpoint over http", "providers:\n  aws: {region: x, quarantine_group: q, endpoint: 'http://ec2.example.com'}\n", []string{"line 2", "providers.aws.endpoint", "in clear"}},
		{"secret in file", "providers:\n  webhook:\n    url: https://x\n    secret_env: 's3cr3t value!'\n", []string{"line 4", "providers.webhook.secret_env", "environment variable name"}},
		{"bad hook", "providers:\n  nftables:\n    hooks: [prerouting]\n", []string{"line 3", "providers.nftables.hooks[0]"}},
		{"two documents", "systems: []\n---\nsystems: []\n", []string{"more than one YAML document"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseInventory("", []byte(tc.yaml))
			if err == nil {
				t.Fatalf("no error; want one mentioning %q", tc.want)
			}
			if !errors.Is(err, ErrPermanent) {
				t.Errorf("error %v is not permanent", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			for _, secret := range []string{"s3cr3t", "pa55"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q quotes the secret %q", err, secret)
				}
			}
		})
	}
}

func TestResolve(t *testing.T) {
	inv, err := parseInventory("", []byte(goodInventory))
	if err != nil {
		t.Fatal(err)
	}
	s, err := inv.Resolve("db-1")
	if err != nil || s.Name != "db-1" || s.Description != "customer database" {
		t.Errorf("Resolve(db-1) = %+v, %v", s, err)
	}
	s, err = inv.Resolve("10.7.7.7")
	if err != nil || s.Name != "10.7.7.7" || s.Provider != ProviderNFTables || !slices.Equal(s.Addresses, []string{"10.7.7.7"}) {
		t.Errorf("Resolve(10.7.7.7) = %+v, %v; want an ad-hoc nftables system", s, err)
	}
	if tg, err := inv.Target("10.7.0.0/16"); err != nil || !slices.Equal(tg.Allow, inv.Defaults.Allow) {
		t.Errorf("ad-hoc target %+v, %v; want the default allowlist", tg, err)
	}
	if _, err := inv.Resolve("10.7.7.7/8"); err == nil || !strings.Contains(err.Error(), "host bits") {
		t.Errorf("Resolve(10.7.7.7/8) = %v; want a host-bits error", err)
	}
	_, err = inv.Resolve("db-2")
	if !errors.Is(err, errUnknownSystem) || !errors.Is(err, ErrPermanent) {
		t.Fatalf("Resolve(db-2) = %v; want errUnknownSystem, permanent", err)
	}
	if !strings.Contains(err.Error(), "api-1, branch-office, db-1, legacy, web-1") {
		t.Errorf("unknown-system error %q does not list the known names", err)
	}

	var none *Inventory
	if s, err := none.Resolve("192.0.2.1"); err != nil || s.Provider != ProviderDryRun {
		t.Errorf("nil inventory, bare address: %+v, %v; want dry-run", s, err)
	}
	if _, err := none.Resolve("db-1"); !errors.Is(err, errUnknownSystem) || !strings.Contains(err.Error(), "lists no systems") {
		t.Errorf("nil inventory, name: %v", err)
	}
}
