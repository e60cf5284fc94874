//go:build linux

package nftables

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/nftspec"
)

// provider isolates addresses with nftables rules applied over netlink (no nft binary), in
// the table inet breach_quarantine of the given network namespace (see nftspec for the
// layout). Nothing outside that table is read for changes or touched.
type provider struct {
	// netns is the path of the network namespace to work in; empty means the process's own.
	netns string
	// hooks filtered on: input, forward and output, or those the inventory names.
	hooks []string

	mu sync.Mutex // one change at a time from this process
}

func newProvider(s firewall.NFTablesSettings) (*provider, error) {
	for _, h := range s.Hooks {
		if !nftspec.ValidHook(h) {
			return nil, firewall.Permanent(fmt.Errorf("nftables firewall: unknown hook %q; use input, forward or output", h))
		}
	}
	return &provider{netns: s.NetNS, hooks: nftspec.Hooks(slices.Clone(s.Hooks))}, nil
}

func (n *provider) Name() string { return firewall.ProviderNFTables }

// Isolate applies the quarantine chains for t, replacing any that differ, in one netlink
// transaction. If the exact rules are already in force it changes nothing.
func (n *provider) Isolate(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	op := fmt.Sprintf("isolate %s via nftables", t.System)
	ev := n.evidence("isolate", t)
	spec, err := firewall.QuarantineRules(t)
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

	table := c.AddTable(&nftables.Table{Name: nftspec.Table, Family: nftables.TableFamilyINet})
	for _, h := range n.hooks {
		name := nftspec.Chain(t.System, h)
		if old := st.chains[name]; old != nil {
			c.FlushChain(old.chain)
			if !baseChainOK(old.chain, h) {
				c.DelChain(old.chain)
			}
		}
		ch := c.AddChain(&nftables.Chain{
			Name: name, Table: table, Type: nftables.ChainTypeFilter,
			Hooknum:  hookNum(h),
			Priority: nftables.ChainPriorityRef(nftspec.Priority),
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
	for _, h := range n.hooks {
		cs := st.chains[nftspec.Chain(t.System, h)]
		ev.Changes = append(ev.Changes, nftspec.ChainDecl(t.System, h))
		for i, r := range spec {
			ev.Changes = append(ev.Changes, fmt.Sprintf("%s # handle %d", nftspec.RuleDecl(t.System, h, r), cs.rules[i].Handle))
		}
	}
	ev.After = n.inForceText(st, t.System)
	return ev, nil
}

// Verify reads the quarantine chains of t back from the kernel and compares every rule.
func (n *provider) Verify(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	op := fmt.Sprintf("verify %s via nftables", t.System)
	ev := n.evidence("verify", t)
	spec, err := firewall.QuarantineRules(t)
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
func (n *provider) Release(ctx context.Context, t firewall.Target) (incident.Evidence, error) {
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
	for _, h := range nftspec.Hooks(nil) {
		cs := st.chains[nftspec.Chain(t.System, h)]
		if cs == nil {
			continue
		}
		c.FlushChain(cs.chain)
		c.DelChain(cs.chain)
		ev.Changes = append(ev.Changes, fmt.Sprintf("delete chain inet %s %s (rule handles %s)", nftspec.Table, cs.chain.Name, cs.handles()))
	}
	// The table goes only when it holds nothing but our chains: its use count covers chains,
	// sets, stateful objects and flowtables alike.
	dropTable := len(st.others) == 0 && tableUse(st.table) == uint32(len(st.chains))
	if dropTable {
		c.DelTable(st.table)
		ev.Changes = append(ev.Changes, "delete table inet "+nftspec.Table)
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
		ev.After = "no quarantine rules for " + t.System + "; table inet " + nftspec.Table + " removed (no other system isolated)"
	default:
		ev.After = fmt.Sprintf("no quarantine rules for %s; table inet %s kept for %s", t.System, nftspec.Table, strings.Join(after.others, ", "))
	}
	return ev, nil
}

func (n *provider) evidence(action string, t firewall.Target) incident.Evidence {
	ns := n.netns
	if ns == "" {
		ns = "(worker's own)"
	}
	return incident.Evidence{Provider: n.Name(), Action: action, System: t.System, At: time.Now().UTC(),
		Identifiers: map[string]string{"table": "inet " + nftspec.Table, "netns": ns}}
}

func (n *provider) inForceText(st *nftState, system string) string {
	var nrules int
	var dropped uint64
	for _, h := range n.hooks {
		cs := st.chains[nftspec.Chain(system, h)]
		nrules += len(cs.rules)
		dropped += cs.dropped
	}
	where := ""
	if n.netns != "" {
		where = " in netns " + n.netns
	}
	return fmt.Sprintf("%d quarantine rules in force on hooks %s in table inet %s%s; %d packets dropped so far",
		nrules, strings.Join(n.hooks, ", "), nftspec.Table, where, dropped)
}

// conn opens a netlink connection in the configured namespace.
func (n *provider) conn(op string) (*nftables.Conn, func(), error) {
	opts := []nftables.ConnOption{nftables.AsLasting()}
	var ns *os.File
	if n.netns != "" {
		f, err := os.Open(n.netns)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil, firewall.Permanent(fmt.Errorf("%s: network namespace %s does not exist; check providers.nftables.netns", op, n.netns))
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
		return firewall.Permanent(fmt.Errorf("%s: %w; the worker needs CAP_NET_ADMIN (run as root or grant the capability)", op, err))
	}
	if errors.Is(err, unix.EPROTONOSUPPORT) || errors.Is(err, unix.EAFNOSUPPORT) {
		return firewall.Permanent(fmt.Errorf("%s: %w; this kernel has no nf_tables support", op, err))
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

func (n *provider) read(c *nftables.Conn, system string) (*nftState, error) {
	st := &nftState{chains: map[string]*chainState{}}
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		return nil, err
	}
	for _, t := range tables {
		if t.Name == nftspec.Table {
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
	for _, h := range nftspec.Hooks(nil) {
		mine[nftspec.Chain(system, h)] = true
	}
	for _, ch := range chains {
		if ch.Table == nil || ch.Table.Name != nftspec.Table {
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
func (n *provider) check(st *nftState, system string, spec []nftspec.Rule) []string {
	if st.table == nil {
		return []string{"table inet " + nftspec.Table + " does not exist"}
	}
	var problems []string
	for _, h := range n.hooks {
		name := nftspec.Chain(system, h)
		cs := st.chains[name]
		if cs == nil {
			problems = append(problems, "chain "+name+" missing")
			continue
		}
		if !baseChainOK(cs.chain, h) {
			problems = append(problems, fmt.Sprintf("chain %s is not a filter chain on hook %s priority %d with policy accept", name, h, nftspec.Priority))
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
		ch.Priority != nil && *ch.Priority == nftspec.Priority &&
		ch.Type == nftables.ChainTypeFilter &&
		(ch.Policy == nil || *ch.Policy == nftables.ChainPolicyAccept)
}

func (st *nftState) describe(system string) string {
	if len(st.chains) == 0 {
		return "no quarantine rules for " + system
	}
	var parts []string
	for _, h := range nftspec.Hooks(nil) {
		if cs := st.chains[nftspec.Chain(system, h)]; cs != nil {
			parts = append(parts, fmt.Sprintf("%s: %d rules", cs.chain.Name, len(cs.rules)))
		}
	}
	return "quarantine chains present: " + strings.Join(parts, ", ")
}

func (st *nftState) identify(ev *incident.Evidence) {
	for _, h := range nftspec.Hooks(nil) {
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
