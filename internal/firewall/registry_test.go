package firewall

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/breachops/breach/incident"
)

// fakeProvider is a provider as a factory built it.
type fakeProvider struct {
	name     string
	settings ProviderSettings
}

func (f *fakeProvider) Name() string { return f.name }
func (f *fakeProvider) Isolate(context.Context, Target) (incident.Evidence, error) {
	return incident.Evidence{Provider: f.name, Action: "isolate"}, nil
}
func (f *fakeProvider) Verify(context.Context, Target) (incident.Evidence, error) {
	return incident.Evidence{Provider: f.name, Action: "verify", InForce: true}, nil
}
func (f *fakeProvider) Release(context.Context, Target) (incident.Evidence, error) {
	return incident.Evidence{Provider: f.name, Action: "release"}, nil
}

// fakeFactory builds a fakeProvider, counting the builds, and fails while the environment lacks
// the variable named need.
func fakeFactory(name, need string, builds map[string]int) Factory {
	return Factory{Name: name, New: func(_ context.Context, s ProviderSettings, opts Options) (Provider, error) {
		if need != "" && opts.Getenv(need) == "" {
			return nil, Permanent(fmt.Errorf("%s firewall: set %s", name, need))
		}
		builds[name]++
		return &fakeProvider{name: name, settings: s}, nil
	}}
}

func TestRegistry(t *testing.T) {
	inv, err := parseInventory("", []byte(goodInventory))
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	builds := map[string]int{}
	reg := NewRegistry(inv, Options{Getenv: func(k string) string { return env[k] }},
		fakeFactory(ProviderNFTables, "", builds), fakeFactory(ProviderOPNsense, "FW_KEY", builds), fakeFactory(ProviderWebhook, "HOOK", builds))

	if _, _, err := reg.Resolve("branch-office"); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "FW_KEY") {
		t.Errorf("opnsense without its secret: %v; want the factory's permanent error", err)
	}
	if _, _, err := reg.Resolve("api-1"); !errors.Is(err, ErrPermanent) || !strings.Contains(err.Error(), "aws firewall provider is not built into this program") {
		t.Errorf("aws with no factory: %v; want a permanent error saying it is not built in", err)
	}
	env["FW_KEY"], env["HOOK"] = "k", "w" // failures are not cached: set later, picked up

	for system, want := range map[string]string{
		"web-1": ProviderNFTables, "db-1": ProviderNFTables, "branch-office": ProviderOPNsense, "legacy": ProviderWebhook, "10.1.2.3": ProviderNFTables,
	} {
		p, tg, err := reg.Resolve(system)
		if err != nil {
			t.Errorf("Resolve(%s): %v", system, err)
			continue
		}
		if p.Name() != want || tg.System != system {
			t.Errorf("Resolve(%s) = %s provider for %q, want %s", system, p.Name(), tg.System, want)
		}
		if s := p.(*fakeProvider).settings; s.NFTables.NetNS != "/run/netns/edge" || s.OPNsense.KeyEnv != "FW_KEY" {
			t.Errorf("Resolve(%s): the factory was handed settings %+v; want the inventory's", system, s)
		}
	}
	if want := map[string]int{ProviderNFTables: 1, ProviderOPNsense: 1, ProviderWebhook: 1}; !maps.Equal(builds, want) {
		t.Errorf("providers built %v times; want each once, shared by its systems", builds)
	}
	if _, _, err := reg.Resolve("db-9"); !errors.Is(err, errUnknownSystem) {
		t.Errorf("Resolve(db-9) = %v; want errUnknownSystem", err)
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
	rules, err := quarantineCommands(Target{System: "db-1", Addresses: []string{"10.0.0.5"}, Allow: []string{"192.0.2.10", "2001:db8::/64"}}, []string{"forward"})
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
