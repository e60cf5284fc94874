//go:build linux

package firewall

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/breachops/breach/incident"
)

// NFTables isolates addresses with nftables rules applied over netlink (no nft binary), in
// the table inet breach_quarantine of the given network namespace. See nftspec.go for the
// layout. Nothing outside that table is read for changes or touched.
type NFTables struct {
	// NetNS is the path of the network namespace to work in; empty means the process's own.
	NetNS string
	// Hooks filtered on; empty means input, forward and output.
	Hooks []string
	// Now returns the current time; nil means time.Now.
	Now func() time.Time

	mu sync.Mutex // one change at a time from this process
}

// NewNFTables returns an nftables provider for the given settings.
func NewNFTables(s NFTablesSettings) (*NFTables, error) {
	for _, h := range s.Hooks {
		if _, ok := hookByName[h]; !ok {
			return nil, Permanent(fmt.Errorf("nftables firewall: unknown hook %q; use input, forward or output", h))
		}
	}
	return &NFTables{NetNS: s.NetNS, Hooks: slices.Clone(s.Hooks)}, nil
}

func (n *NFTables) Name() string { return ProviderNFTables }

func (n *NFTables) now() time.Time {
	if n.Now != nil {
		return n.Now().UTC()
	}
	return time.Now().UTC()
}

// Isolate applies the quarantine chains for t, replacing any that differ, in one netlink
// transaction. If the exact rules are already in force it changes nothing.
func (n *NFTables) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	op := fmt.Sprintf("isolate %s via nftables", t.System)
	ev := n.evidence("isolate", t)
	spec, err := quarantineSpec(t)
	if err != nil {
		return ev, err
	}
	c, done, err := n.conn(op)
	if err != nil {
		return ev, err
	}
	defer done()
	st, err := n.read(c, t.System)
	if err != nil {
		return ev, nftError(op+": read ruleset", err)
	}
	problems := n.check(st, t.System, spec)
	ev.Before = st.describe(t.System)
	if len(problems) == 0 {
		st.identify(&ev)
		ev.After = n.inForceText(st, t.System) + " (already in force; nothing changed)"
		return ev, nil
	}

	table := c.AddTable(&nftables.Table{Name: quarantineTable, Family: nftables.TableFamilyINet})
	for _, h := range normHooks(n.Hooks) {
		name := hookChain(t.System, h)
		if old := st.chains[name]; old != nil {
			c.FlushChain(old.chain)
			if !baseChainOK(old.chain, h) {
				c.DelChain(old.chain)
			}
		}
		ch := c.AddChain(&nftables.Chain{
			Name: name, Table: table, Type: nftables.ChainTypeFilter,
			Hooknum:  hookNum(h),
			Priority: nftables.ChainPriorityRef(quarantinePriority),
			Policy:   policyRef(nftables.ChainPolicyAccept),
		})
		for _, r := range spec {
			c.AddRule(&nftables.Rule{Table: table, Chain: ch, Exprs: ruleExprs(r)})
		}
	}
	if err := c.Flush(); err != nil {
		return ev, nftError(op+": apply rules", err)
	}

	st, err = n.read(c, t.System)
	if err != nil {
		return ev, nftError(op+": read back rules", err)
	}
	if p := n.check(st, t.System, spec); len(p) > 0 {
		return ev, fmt.Errorf("%s: rules not in force after applying: %s", op, strings.Join(p, "; "))
	}
	st.identify(&ev)
	for _, h := range normHooks(n.Hooks) {
		cs := st.chains[hookChain(t.System, h)]
		ev.Changes = append(ev.Changes, chainDecl(t.System, h))
		for i, r := range spec {
			ev.Changes = append(ev.Changes, fmt.Sprintf("%s # handle %d", ruleDecl(t.System, h, r), cs.rules[i].Handle))
		}
	}
	ev.After = n.inForceText(st, t.System)
	return ev, nil
}

// Verify reads the quarantine chains of t back from the kernel and compares every rule.
func (n *NFTables) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	op := fmt.Sprintf("verify %s via nftables", t.System)
	ev := n.evidence("verify", t)
	spec, err := quarantineSpec(t)
	if err != nil {
		return ev, err
	}
	c, done, err := n.conn(op)
	if err != nil {
		return ev, err
	}
	defer done()
	st, err := n.read(c, t.System)
	if err != nil {
		return ev, nftError(op+": read ruleset", err)
	}
	st.identify(&ev)
	if p := n.check(st, t.System, spec); len(p) > 0 {
		ev.After = "not in force: " + strings.Join(p, "; ")
		return ev, nil
	}
	ev.InForce = true
	ev.After = n.inForceText(st, t.System)
	return ev, nil
}

// Release deletes the quarantine chains of t (on every hook), and the table when nothing else
// is left in it.
func (n *NFTables) Release(ctx context.Context, t Target) (incident.Evidence, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	op := fmt.Sprintf("release %s via nftables", t.System)
	ev := n.evidence("release", t)
	c, done, err := n.conn(op)
	if err != nil {
		return ev, err
	}
	defer done()
	st, err := n.read(c, t.System)
	if err != nil {
		return ev, nftError(op+": read ruleset", err)
	}
	ev.Before = st.describe(t.System)
	st.identify(&ev)
	if len(st.chains) == 0 {
		ev.After = "no quarantine rules for " + t.System + "; nothing to release"
		return ev, nil
	}
	for _, h := range allHooks {
		cs := st.chains[hookChain(t.System, h)]
		if cs == nil {
			continue
		}
		c.FlushChain(cs.chain)
		c.DelChain(cs.chain)
		ev.Changes = append(ev.Changes, fmt.Sprintf("delete chain inet %s %s (rule handles %s)", quarantineTable, cs.chain.Name, cs.handles()))
	}
	// The table goes only when it holds nothing but our chains: its use count covers chains,
	// sets, stateful objects and flowtables alike.
	dropTable := len(st.others) == 0 && tableUse(st.table) == uint32(len(st.chains))
	if dropTable {
		c.DelTable(st.table)
		ev.Changes = append(ev.Changes, "delete table inet "+quarantineTable)
	}
	if err := c.Flush(); err != nil {
		return ev, nftError(op+": delete chains", err)
	}
	after, err := n.read(c, t.System)
	if err != nil {
		return ev, nftError(op+": read back", err)
	}
	if len(after.chains) > 0 {
		return ev, fmt.Errorf("%s: quarantine chains still present after deleting", op)
	}
	switch {
	case dropTable:
		ev.After = "no quarantine rules for " + t.System + "; table inet " + quarantineTable + " removed (no other system isolated)"
	default:
		ev.After = fmt.Sprintf("no quarantine rules for %s; table inet %s kept for %s", t.System, quarantineTable, strings.Join(after.others, ", "))
	}
	return ev, nil
}

func (n *NFTables) evidence(action string, t Target) incident.Evidence {
	ns := n.NetNS
	if ns == "" {
		ns = "(worker's own)"
	}
	return incident.Evidence{Provider: n.Name(), Action: action, System: t.System, At: n.now(),
		Identifiers: map[string]string{"table": "inet " + quarantineTable, "netns": ns}}
}

func (n *NFTables) inForceText(st *nftState, system string) string {
	var nrules int
	var dropped uint64
	for _, h := range normHooks(n.Hooks) {
		cs := st.chains[hookChain(system, h)]
		nrules += len(cs.rules)
		dropped += cs.dropped
	}
	where := ""
	if n.NetNS != "" {
		where = " in netns " + n.NetNS
	}
	return fmt.Sprintf("%d quarantine rules in force on hooks %s in table inet %s%s; %d packets dropped so far",
		nrules, strings.Join(normHooks(n.Hooks), ", "), quarantineTable, where, dropped)
}

// conn opens a netlink connection in the configured namespace.
func (n *NFTables) conn(op string) (*nftables.Conn, func(), error) {
	opts := []nftables.ConnOption{nftables.AsLasting()}
	var ns *os.File
	if n.NetNS != "" {
		f, err := os.Open(n.NetNS)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, Permanent(fmt.Errorf("%s: network namespace %s does not exist; check providers.nftables.netns", op, n.NetNS))
			}
			return nil, nil, fmt.Errorf("%s: open network namespace: %w", op, err)
		}
		ns = f
		opts = append(opts, nftables.WithNetNSFd(int(f.Fd())))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		if ns != nil {
			ns.Close()
		}
		return nil, nil, nftError(op+": open netlink", err)
	}
	return c, func() {
		_ = c.CloseLasting()
		if ns != nil {
			ns.Close()
		}
	}, nil
}

func nftError(op string, err error) error {
	if errors.Is(err, os.ErrPermission) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
		return Permanent(fmt.Errorf("%s: %w; the worker needs CAP_NET_ADMIN (run as root or grant the capability)", op, err))
	}
	if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT) {
		return Permanent(fmt.Errorf("%s: %w; this kernel has no nf_tables support", op, err))
	}
	return fmt.Errorf("%s: %w", op, err)
}

type chainState struct {
	chain   *nftables.Chain
	rules   []*nftables.Rule
	texts   []string
	dropped uint64
}

func (cs *chainState) handles() string {
	var hs []string
	for _, r := range cs.rules {
		hs = append(hs, strconv.FormatUint(r.Handle, 10))
	}
	return strings.Join(hs, ",")
}

type nftState struct {
	table  *nftables.Table        // nil when our table does not exist
	chains map[string]*chainState // this system's chains, by name
	others []string               // other chains in our table, sorted
}

func (n *NFTables) read(c *nftables.Conn, system string) (*nftState, error) {
	st := &nftState{chains: map[string]*chainState{}}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if t.Name == quarantineTable {
			st.table = t
		}
	}
	if st.table == nil {
		return st, nil
	}
	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, err
	}
	mine := map[string]bool{}
	for _, h := range allHooks {
		mine[hookChain(system, h)] = true
	}
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != quarantineTable {
			continue
		}
		if !mine[ch.Name] {
			st.others = append(st.others, ch.Name)
			continue
		}
		rules, err := c.GetRules(st.table, ch)
		if err != nil {
			return nil, err
		}
		cs := &chainState{chain: ch, rules: rules}
		for _, r := range rules {
			text, packets := renderRule(r.Exprs)
			cs.texts = append(cs.texts, text)
			if strings.HasSuffix(text, " drop") {
				cs.dropped += packets
			}
		}
		st.chains[ch.Name] = cs
	}
	slices.Sort(st.others)
	return st, nil
}

// check lists what differs between the kernel state and the rules that isolate the system.
func (n *NFTables) check(st *nftState, system string, spec []ruleSpec) []string {
	if st.table == nil {
		return []string{"table inet " + quarantineTable + " does not exist"}
	}
	var problems []string
	for _, h := range normHooks(n.Hooks) {
		name := hookChain(system, h)
		cs := st.chains[name]
		if cs == nil {
			problems = append(problems, "chain "+name+" missing")
			continue
		}
		if !baseChainOK(cs.chain, h) {
			problems = append(problems, fmt.Sprintf("chain %s is not a filter chain on hook %s priority %d with policy accept", name, h, quarantinePriority))
		}
		if len(cs.texts) != len(spec) {
			problems = append(problems, fmt.Sprintf("chain %s has %d rules, want %d", name, len(cs.texts), len(spec)))
			continue
		}
		for i, r := range spec {
			if cs.texts[i] != r.String() {
				problems = append(problems, fmt.Sprintf("chain %s rule %d is %q, want %q", name, i+1, cs.texts[i], r.String()))
			}
		}
	}
	return problems
}

func baseChainOK(ch *nftables.Chain, hook string) bool {
	return ch.Hooknum != nil && *ch.Hooknum == *hookNum(hook) &&
		ch.Priority != nil && *ch.Priority == quarantinePriority &&
		ch.Type == nftables.ChainTypeFilter &&
		(ch.Policy == nil || *ch.Policy == nftables.ChainPolicyAccept)
}

func (st *nftState) describe(system string) string {
	if len(st.chains) == 0 {
		return "no quarantine rules for " + system
	}
	var parts []string
	for _, h := range allHooks {
		if cs := st.chains[hookChain(system, h)]; cs != nil {
			parts = append(parts, fmt.Sprintf("%s: %d rules", cs.chain.Name, len(cs.rules)))
		}
	}
	return "quarantine chains present: " + strings.Join(parts, ", ")
}

func (st *nftState) identify(ev *incident.Evidence) {
	for _, h := range allHooks {
		for name, cs := range st.chains {
			if cs.chain.Hooknum != nil && *cs.chain.Hooknum == *hookNum(h) {
				ev.Identifiers["chain."+h] = name
				ev.Identifiers["handles."+h] = cs.handles()
			}
		}
	}
}

// tableUse returns the table's use count. google/nftables v0.3.0 decodes this big-endian
// netlink attribute in host byte order; no real table holds 65536 objects, so a larger value
// is a swapped one.
func tableUse(t *nftables.Table) uint32 {
	if t.Use > 0xffff {
		return bits.ReverseBytes32(t.Use)
	}
	return t.Use
}

func hookNum(h string) *nftables.ChainHook {
	switch h {
	case "input":
		return nftables.ChainHookInput
	case "output":
		return nftables.ChainHookOutput
	default:
		return nftables.ChainHookForward
	}
}

func policyRef(p nftables.ChainPolicy) *nftables.ChainPolicy { return &p }

func addrGeometry(family string) (proto byte, size, saddrOff, daddrOff uint32) {
	if family == "ip6" {
		return unix.NFPROTO_IPV6, 16, 8, 24
	}
	return unix.NFPROTO_IPV4, 4, 12, 16
}

// ruleExprs compiles a rule the way nft does for "meta nfproto ... ip saddr ... counter drop".
func ruleExprs(r ruleSpec) []expr.Any {
	proto, size, sOff, dOff := addrGeometry(r.family)
	e := []expr.Any{
		&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{proto}},
	}
	match := func(p netip.Prefix, off uint32) {
		e = append(e, &expr.Payload{DestRegister: 1, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: size})
		if !p.IsSingleIP() {
			e = append(e, &expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: size,
				Mask: net.CIDRMask(p.Bits(), int(size)*8), Xor: make([]byte, size)})
		}
		e = append(e, &expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: p.Addr().AsSlice()})
	}
	if r.saddr.IsValid() {
		match(r.saddr, sOff)
	}
	if r.daddr.IsValid() {
		match(r.daddr, dOff)
	}
	v := expr.VerdictDrop
	if r.verdict == "accept" {
		v = expr.VerdictAccept
	}
	return append(e, &expr.Counter{}, &expr.Verdict{Kind: v})
}

// renderRule turns expressions read back from the kernel into the ruleSpec text they implement,
// with the counter's packet count. Anything it does not recognise renders as "?", so a rule
// someone else changed never compares equal.
func renderRule(exprs []expr.Any) (string, uint64) {
	var (
		parts   []string
		family  string
		load    string // what register 1 holds: nfproto, saddr, daddr
		bitsLen = -1
		packets uint64
	)
	for _, x := range exprs {
		switch e := x.(type) {
		case *expr.Meta:
			if e.Key == expr.MetaKeyNFPROTO && !e.SourceRegister && e.Register == 1 {
				load = "nfproto"
			} else {
				parts, load = append(parts, "?meta"), ""
			}
		case *expr.Payload:
			load, bitsLen = "", -1
			if e.OperationType != expr.PayloadLoad || e.Base != expr.PayloadBaseNetworkHeader || e.DestRegister != 1 {
				parts = append(parts, "?payload")
				continue
			}
			_, size, sOff, dOff := addrGeometry(family)
			switch {
			case e.Len == size && e.Offset == sOff:
				load = "saddr"
			case e.Len == size && e.Offset == dOff:
				load = "daddr"
			default:
				parts = append(parts, "?payload")
			}
		case *expr.Bitwise:
			ones, ok := maskBits(e.Mask)
			if !ok || load == "" || e.SourceRegister != 1 || e.DestRegister != 1 || slices.ContainsFunc(e.Xor, func(b byte) bool { return b != 0 }) {
				parts = append(parts, "?bitwise")
				continue
			}
			bitsLen = ones
		case *expr.Cmp:
			if e.Op != expr.CmpOpEq || e.Register != 1 {
				parts = append(parts, "?cmp")
				continue
			}
			switch load {
			case "nfproto":
				switch {
				case len(e.Data) == 1 && e.Data[0] == unix.NFPROTO_IPV4:
					family = "ip"
				case len(e.Data) == 1 && e.Data[0] == unix.NFPROTO_IPV6:
					family = "ip6"
				default:
					parts = append(parts, "?nfproto")
				}
			case "saddr", "daddr":
				a, ok := netip.AddrFromSlice(e.Data)
				if !ok {
					parts = append(parts, "?addr")
					break
				}
				b := a.BitLen()
				if bitsLen >= 0 {
					b = bitsLen
				}
				p, err := a.Prefix(b)
				if err != nil || p.Addr() != a {
					parts = append(parts, "?addr")
					break
				}
				parts = append(parts, fmt.Sprintf("%s %s %s", family, load, prefixString(p)))
			default:
				parts = append(parts, "?cmp")
			}
			load, bitsLen = "", -1
		case *expr.Counter:
			parts = append(parts, "counter")
			packets = e.Packets
		case *expr.Verdict:
			switch e.Kind {
			case expr.VerdictAccept:
				parts = append(parts, "accept")
			case expr.VerdictDrop:
				parts = append(parts, "drop")
			default:
				parts = append(parts, "?verdict")
			}
		default:
			parts = append(parts, fmt.Sprintf("?%T", x))
		}
	}
	return strings.Join(parts, " "), packets
}

// maskBits returns the prefix length of a contiguous netmask.
func maskBits(m []byte) (int, bool) {
	ones, done := 0, false
	for _, b := range m {
		if done && b != 0 {
			return 0, false
		}
		n := bits.LeadingZeros8(^b)
		if n < 8 {
			if b<<n != 0 {
				return 0, false
			}
			done = true
		}
		ones += n
	}
	return ones, true
}
