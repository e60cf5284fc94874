package firewall

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent/breach-test")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/breach-test")
	inv, err := ParseInventory([]byte(goodInventory))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	reg := NewRegistry(inv, Options{Getenv: func(k string) string { return env[k] }})
	ctx := context.Background()

	if _, _, err := reg.For(ctx, "branch-office"); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "FW_KEY") {
		t.Errorf("opnsense without secrets: %v; want a permanent error naming FW_KEY", err)
	}
	if _, _, err := reg.For(ctx, "legacy"); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), DefaultWebhookSecretEnv) {
		t.Errorf("webhook without secret: %v; want a permanent error naming %s", err, DefaultWebhookSecretEnv)
	}
	env["FW_KEY"], env["FW_SECRET"], env[DefaultWebhookSecretEnv] = "k", "s", "w"

	for system, want := range map[string]string{
		"web-1": ProviderNFTables, "branch-office": ProviderOPNsense, "legacy": ProviderWebhook, "api-1": ProviderAWS, "10.1.2.3": ProviderNFTables,
	} {
		p, tg, err := reg.For(ctx, system)
		if err != nil {
			t.Errorf("For(%s): %v", system, err)
			continue
		}
		if p.Name() != want || tg.System != system {
			t.Errorf("For(%s) = %s provider for %q, want %s", system, p.Name(), tg.System, want)
		}
	}
	p1, _, _ := reg.For(ctx, "web-1")
	p2, _, _ := reg.Resolve("db-1")
	if p1 != p2 {
		t.Error("two nftables systems got two provider instances; want one shared")
	}
	if nft, ok := p1.(*NFTables); !ok || nft.NetNS != "/run/netns/edge" || len(nft.Hooks) != 1 {
		t.Errorf("nftables provider %+v; want the inventory's netns and hooks", p1)
	}
	if _, _, err := reg.For(ctx, "db-9"); !errors.Is(err, ErrUnknownSystem) {
		t.Errorf("For(db-9) = %v; want ErrUnknownSystem", err)
	}
}

func TestRegistryWithoutInventoryUsesDryRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "dry", "firewall.jsonl")
	reg := NewRegistry(nil, Options{DryRunPath: path})
	p, tg, err := reg.Resolve("192.0.2.5")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := p.Isolate(context.Background(), tg)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name() != ProviderDryRun || len(ev.Changes) == 0 {
		t.Fatalf("provider %s, changes %v", p.Name(), ev.Changes)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "ip saddr 192.0.2.5 counter drop") {
		t.Errorf("dry-run record does not show the rule it would apply:\n%s", b)
	}
}

func TestQuarantineRules(t *testing.T) {
	rules, err := QuarantineRulesFor(Target{System: "db-1", Addresses: []string{"10.0.0.5"}, Allow: []string{"192.0.2.10", "2001:db8::/64"}}, []string{"forward"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"add table inet breach_quarantine",
		"add chain inet breach_quarantine q_db_1_fwd { type filter hook forward priority -10; policy accept; }",
		"add rule inet breach_quarantine q_db_1_fwd ip saddr 10.0.0.5 ip daddr 192.0.2.10 counter accept",
		"add rule inet breach_quarantine q_db_1_fwd ip saddr 192.0.2.10 ip daddr 10.0.0.5 counter accept",
		"add rule inet breach_quarantine q_db_1_fwd ip saddr 10.0.0.5 counter drop",
		"add rule inet breach_quarantine q_db_1_fwd ip daddr 10.0.0.5 counter drop",
	}
	if strings.Join(rules, "\n") != strings.Join(want, "\n") {
		t.Errorf("rules:\n%s\nwant:\n%s", strings.Join(rules, "\n"), strings.Join(want, "\n"))
	}
	if _, err := QuarantineRules(Target{System: "x"}); !errors.Is(err, ErrPermanent) {
		t.Errorf("no addresses: %v; want permanent", err)
	}
}
