package firewall

import (
	"slices"
	"strings"
	"testing"

	"github.com/breachops/breach/internal/firewall/nftspec"
)

// An IPv4-mapped IPv6 address (::ffff:10.0.0.5) is IPv4 traffic on the wire. Isolating it with
// ip6 rules blocked nothing while isolation was reported in force; everywhere addresses are
// read it is now the IPv4 address it maps.
func TestIPv4MappedAddressesAreIPv4(t *testing.T) {
	tests := []struct {
		in, want string // want "" for a refusal
		says     string
	}{
		{"::ffff:10.0.0.5", "10.0.0.5", ""},
		{"::FFFF:10.0.0.5", "10.0.0.5", ""},
		{"::ffff:a00:5", "10.0.0.5", ""},
		{"::ffff:10.0.0.5/128", "10.0.0.5", ""},
		{"::ffff:10.0.0.0/104", "10.0.0.0/8", ""},
		{"::ffff:192.0.2.0/120", "192.0.2.0/24", ""},
		{"::ffff:10.0.0.5/120", "", "did you mean 10.0.0.0/24?"},
		{"::ffff:0.0.0.0/96", "", "every IPv4 address"},
		{"::ffff:10.0.0.0/80", "", "IPv4-mapped range"},
		{"::/64", "", "IPv4-mapped range"},
		{"::/80", "", "IPv4-mapped range"},
		{"::/96", "::/96", ""}, // IPv4-compatible, not mapped: IPv6 traffic
		{"2001:db8::/64", "2001:db8::/64", ""},
		{"::1", "::1", ""},
		{"10.0.0.5", "10.0.0.5", ""},
	}
	for _, tt := range tests {
		err := CheckAddress(tt.in)
		if tt.want == "" {
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("CheckAddress(%s) = %v, want an error saying %q", tt.in, err, tt.says)
			}
			continue
		}
		if err != nil {
			t.Errorf("CheckAddress(%s): %v", tt.in, err)
			continue
		}
		if got := CanonicalAddress(tt.in); got != tt.want {
			t.Errorf("CanonicalAddress(%s) = %s, want %s", tt.in, got, tt.want)
		}
		p, err := parsePrefix(tt.in)
		if err != nil || nftspec.FormatPrefix(p) != tt.want {
			t.Errorf("parsePrefix(%s) = %s, %v; want %s", tt.in, p, err, tt.want)
		}
	}
	if err := checkAllow("::ffff:0.0.0.0/96"); err == nil || !strings.Contains(err.Error(), "allows every address") {
		t.Errorf("checkAllow(::ffff:0.0.0.0/96) = %v", err)
	}
}

func TestIPv4MappedAddressesGetIPv4RulesFromEveryEntry(t *testing.T) {
	const inventory = `defaults:
  provider: nftables
  allow: ['::ffff:192.0.2.10']
providers:
  webhook: {url: 'https://automation.example.com/breach'}
systems:
  - name: db-1
    addresses: ['::ffff:10.0.0.5', '::ffff:10.0.2.0/120']
    allow: ['::ffff:198.51.100.7']
`
	inv, err := parseInventory("", []byte(inventory))
	if err != nil {
		t.Fatal(err)
	}
	tg, err := inv.Target("db-1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tg.Addresses, []string{"10.0.0.5", "10.0.2.0/24"}) || !slices.Equal(tg.Allow, []string{"192.0.2.10", "198.51.100.7"}) {
		t.Errorf("target %+v: want IPv4 addresses and allowlist", tg)
	}
	adHoc, err := inv.Target("::ffff:10.9.9.9")
	if err != nil || adHoc.System != "10.9.9.9" || !slices.Equal(adHoc.Addresses, []string{"10.9.9.9"}) {
		t.Errorf("ad-hoc target %+v, %v", adHoc, err)
	}

	// A target built by hand, not through the inventory, still gets IPv4 rules.
	rules, err := quarantineCommands(Target{System: "db-1", Addresses: []string{"::ffff:10.0.0.5"}, Allow: []string{"::ffff:192.0.2.10"}}, []string{"forward"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rules[2:] {
		if !strings.Contains(r, " ip saddr ") && !strings.Contains(r, " ip daddr ") || strings.Contains(r, "ip6") {
			t.Errorf("rule %q: want an IPv4 rule", r)
		}
	}
	if !slices.Contains(rules, "add rule inet breach_quarantine q_db_1_fwd ip saddr 10.0.0.5 counter drop") {
		t.Errorf("rules:\n%s", strings.Join(rules, "\n"))
	}
}
