// Package nftspec is the nftables layout of a quarantine, shared by the nftables provider, which
// applies it, and the dry run, which records what it would apply. It reads no kernel state.
//
// Every isolated system gets one base chain per hook in our own table, named
// q_<system>_<in|fwd|out>. Separate base chains (rather than jumps from shared ones) keep
// systems independent: an allowlist accept in one system's chain cannot skip another system's
// drops, since an accept only ends its own base chain while a drop is final.
package nftspec

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

const (
	// Table is the inet table that holds every quarantine chain.
	Table = "breach_quarantine"
	// Priority puts the quarantine chains just before the conventional filter chains (0).
	Priority = -10
)

var (
	allHooks   = []string{"input", "forward", "output"}
	hookSuffix = map[string]string{"input": "in", "forward": "fwd", "output": "out"}
)

// ValidHook reports whether h is a hook a quarantine filters on: input, forward or output.
func ValidHook(h string) bool {
	_, ok := hookSuffix[h]
	return ok
}

// Hooks returns hooks, or all three (input, forward, output) when there are none.
func Hooks(hooks []string) []string {
	if len(hooks) == 0 {
		return slices.Clone(allHooks)
	}
	return hooks
}

// Chain is the name of the quarantine chain of system on hook.
func Chain(system, hook string) string {
	var b strings.Builder
	b.WriteString("q_")
	for _, r := range strings.ToLower(system) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '_' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "_" + hookSuffix[hook]
}

// Rule is one quarantine rule: match family, optional source and destination, a counter and
// a verdict. Its String is the nft syntax, which is also how rules read back from the kernel
// are compared.
type Rule struct {
	Family       string // ip or ip6
	Saddr, Daddr netip.Prefix
	Verdict      string // accept or drop
}

func (r Rule) String() string {
	var b strings.Builder
	if r.Saddr.IsValid() {
		fmt.Fprintf(&b, "%s saddr %s ", r.Family, FormatPrefix(r.Saddr))
	}
	if r.Daddr.IsValid() {
		fmt.Fprintf(&b, "%s daddr %s ", r.Family, FormatPrefix(r.Daddr))
	}
	b.WriteString("counter " + r.Verdict)
	return b.String()
}

// FormatPrefix writes a prefix as nft does: a single host as a plain address.
func FormatPrefix(p netip.Prefix) string {
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

func family(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "ip"
	}
	return "ip6"
}

// Rules returns the rules isolating addresses, in order: for each address, accept to and from
// each allowlisted prefix of the same family, then drop everything else to and from it. The
// prefixes must be checked and IPv4-mapped ones unmapped already.
func Rules(addresses, allow []netip.Prefix) []Rule {
	var rules []Rule
	for _, p := range addresses {
		fam := family(p)
		for _, w := range allow {
			if family(w) != fam {
				continue
			}
			rules = append(rules,
				Rule{Family: fam, Saddr: p, Daddr: w, Verdict: "accept"},
				Rule{Family: fam, Saddr: w, Daddr: p, Verdict: "accept"})
		}
		rules = append(rules,
			Rule{Family: fam, Saddr: p, Verdict: "drop"},
			Rule{Family: fam, Daddr: p, Verdict: "drop"})
	}
	return rules
}

// ChainDecl is the nft command that creates the quarantine chain of system on hook.
func ChainDecl(system, hook string) string {
	return fmt.Sprintf("add chain inet %s %s { type filter hook %s priority %d; policy accept; }",
		Table, Chain(system, hook), hook, Priority)
}

// RuleDecl is the nft command that adds r to the quarantine chain of system on hook.
func RuleDecl(system, hook string, r Rule) string {
	return fmt.Sprintf("add rule inet %s %s %s", Table, Chain(system, hook), r)
}
