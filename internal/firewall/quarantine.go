package firewall

import (
	"fmt"
	"net/netip"

	"github.com/breachops/breach/internal/firewall/nftspec"
)

// QuarantineRules returns the nftables rules that isolate t (see nftspec.Rules), after checking
// its addresses and allowlist: an address or CIDR each, IPv4-mapped ones read as IPv4.
func QuarantineRules(t Target) ([]nftspec.Rule, error) {
	if len(t.Addresses) == 0 {
		return nil, Permanent(fmt.Errorf("isolate %s: no addresses in the inventory; add its IP addresses or CIDRs", t.System))
	}
	var allow, addrs []netip.Prefix
	for _, a := range t.Allow {
		if err := checkAllow(a); err != nil {
			return nil, Permanent(fmt.Errorf("isolate %s: allowlist entry: %w", t.System, err))
		}
		p, _ := parsePrefix(a)
		allow = append(allow, p)
	}
	for _, a := range t.Addresses {
		if err := CheckAddress(a); err != nil {
			return nil, Permanent(fmt.Errorf("isolate %s: address: %w", t.System, err))
		}
		p, _ := parsePrefix(a)
		addrs = append(addrs, p)
	}
	return nftspec.Rules(addrs, allow), nil
}

// quarantineCommands renders, as nft commands, the rules that isolate t on the given hooks (nil
// means input, forward and output): traffic to and from its addresses is dropped, except to and
// from the allowlist. The nftables provider applies exactly these.
func quarantineCommands(t Target, hooks []string) ([]string, error) {
	spec, err := QuarantineRules(t)
	if err != nil {
		return nil, err
	}
	cmds := []string{"add table inet " + nftspec.Table}
	for _, h := range nftspec.Hooks(hooks) {
		if !nftspec.ValidHook(h) {
			return nil, Permanent(fmt.Errorf("isolate %s: unknown hook %q; use input, forward or output", t.System, h))
		}
		cmds = append(cmds, nftspec.ChainDecl(t.System, h))
		for _, r := range spec {
			cmds = append(cmds, nftspec.RuleDecl(t.System, h, r))
		}
	}
	return cmds, nil
}
