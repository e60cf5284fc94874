package firewall

import (
	"fmt"
	"net/netip"
	"strings"
)

// The nftables layout, shared by the nftables provider and the dry run that describes it.
//
// Every isolated system gets one base chain per hook in our own table, named
// q_<system>_<in|fwd|out>. Separate base chains (rather than jumps from shared ones) keep
// systems independent: an allowlist accept in one system's chain cannot skip another system's
// drops, since an accept only ends its own base chain while a drop is final.
const (
	quarantineTable    = "breach_quarantine"
	quarantinePriority = -10 // just before the conventional filter chains (priority 0)
)

type hookInfo struct {
	name   string
	suffix string
}

var (
	allHooks   = []string{"input", "forward", "output"}
	hookByName = map[string]hookInfo{
		"input":   {"input", "in"},
		"forward": {"forward", "fwd"},
		"output":  {"output", "out"},
	}
)

func hookChain(system, hook string) string { return chainName(system) + "_" + hookByName[hook].suffix }

// ruleSpec is one quarantine rule: match family, optional source and destination, a counter
// and a verdict. Its String is the nft syntax, which is also how rules read back from the
// kernel are compared.
type ruleSpec struct {
	family       string // ip or ip6
	saddr, daddr netip.Prefix
	verdict      string // accept or drop
}

func (r ruleSpec) String() string {
	var b strings.Builder
	if r.saddr.IsValid() {
		fmt.Fprintf(&b, "%s saddr %s ", r.family, prefixString(r.saddr))
	}
	if r.daddr.IsValid() {
		fmt.Fprintf(&b, "%s daddr %s ", r.family, prefixString(r.daddr))
	}
	b.WriteString("counter " + r.verdict)
	return b.String()
}

func prefixString(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func prefixFamily(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ip"
	}
	return "ip6"
}

// quarantineSpec returns the rules isolating t, in order: for each address, accept to and from
// each allowlisted prefix of the same family, then drop everything else to and from it.
func quarantineSpec(t Target) ([]ruleSpec, error) {
	if len(t.Addresses) == 0 {
		return nil, Permanent(fmt.Errorf("isolate %s: no addresses in the inventory; add its IP addresses or CIDRs", t.System))
	}
	var allow []netip.Prefix
	for _, a := range t.Allow {
		if err := checkAllow(a); err != nil {
			return nil, Permanent(fmt.Errorf("isolate %s: allowlist entry: %w", t.System, err))
		}
		p, _ := parsePrefix(a)
		allow = append(allow, p)
	}
	var rules []ruleSpec
	for _, a := range t.Addresses {
		if err := checkAddress(a); err != nil {
			return nil, Permanent(fmt.Errorf("isolate %s: address: %w", t.System, err))
		}
		p, _ := parsePrefix(a)
		fam := prefixFamily(p)
		for _, w := range allow {
			if prefixFamily(w) != fam {
				continue
			}
			rules = append(rules,
				ruleSpec{family: fam, saddr: p, daddr: w, verdict: "accept"},
				ruleSpec{family: fam, saddr: w, daddr: p, verdict: "accept"})
		}
		rules = append(rules,
			ruleSpec{family: fam, saddr: p, verdict: "drop"},
			ruleSpec{family: fam, daddr: p, verdict: "drop"})
	}
	return rules, nil
}

func chainDecl(system, hook string) string {
	return fmt.Sprintf("add chain inet %s %s { type filter hook %s priority %d; policy accept; }",
		quarantineTable, hookChain(system, hook), hook, quarantinePriority)
}

func ruleDecl(system, hook string, r ruleSpec) string {
	return fmt.Sprintf("add rule inet %s %s %s", quarantineTable, hookChain(system, hook), r)
}

func normHooks(hooks []string) []string {
	if len(hooks) == 0 {
		return allHooks
	}
	return hooks
}
