package nftables

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/nftables"

	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/firewall/netnstest"
	"github.com/breachops/breach/internal/firewall/nftspec"
)

// The topology every nftables test builds, in namespaces of its own (documentation address
// ranges, no route out):
//
//	victim 192.0.2.2, 2001:db8:1::2 --- router --- peer 198.51.100.2, 2001:db8:2::2
//	                                       \------ forensics 203.0.113.2 (allowlisted)
type topology struct {
	router, victim, peer, forensics string // namespace paths
	victimAddr, victim6, peerAddr   string
}

const (
	listenPort  = "8080"
	failTimeout = 400 * time.Millisecond
	okTimeout   = 3 * time.Second
)

var topoSeq atomic.Int32

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newTopology(t *testing.T) *topology {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Fatalf("the nftables test sets up namespaces with ip (iproute2): %v; install iproute2", err)
	}
	prefix := fmt.Sprintf("brq%d-%d-", os.Getpid(), topoSeq.Add(1))
	ns := func(role string) string {
		name := prefix + role
		out, err := exec.Command("ip", "netns", "add", name).CombinedOutput()
		if err != nil {
			t.Fatalf("the kernel refused a network namespace (ip netns add %s: %v: %s); the nftables test needs root and netns support", name, err, strings.TrimSpace(string(out)))
		}
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				t.Errorf("clean up namespace %s: %v: %s", name, err, out)
			}
		})
		ipCmd(t, "-n", name, "link", "set", "lo", "up")
		return name
	}
	r, v, p, f := ns("r"), ns("v"), ns("p"), ns("f")
	link := func(rdev, other string) {
		ipCmd(t, "link", "add", rdev, "netns", r, "type", "veth", "peer", "name", "eth0", "netns", other)
		ipCmd(t, "-n", r, "link", "set", rdev, "up")
		ipCmd(t, "-n", other, "link", "set", "eth0", "up")
	}
	link("tov", v)
	link("top", p)
	link("tof", f)
	addr := func(n, dev, a string) {
		args := []string{"-n", n, "addr", "add", a, "dev", dev}
		if strings.Contains(a, ":") {
			args = append(args, "nodad")
		}
		ipCmd(t, args...)
	}
	addr(r, "tov", "192.0.2.1/24")
	addr(r, "tov", "2001:db8:1::1/64")
	addr(r, "top", "198.51.100.1/24")
	addr(r, "top", "2001:db8:2::1/64")
	addr(r, "tof", "203.0.113.1/24")
	addr(v, "eth0", "192.0.2.2/24")
	addr(v, "eth0", "2001:db8:1::2/64")
	addr(p, "eth0", "198.51.100.2/24")
	addr(p, "eth0", "2001:db8:2::2/64")
	addr(f, "eth0", "203.0.113.2/24")
	ipCmd(t, "-n", v, "route", "add", "default", "via", "192.0.2.1")
	ipCmd(t, "-n", v, "-6", "route", "add", "default", "via", "2001:db8:1::1")
	ipCmd(t, "-n", p, "route", "add", "default", "via", "198.51.100.1")
	ipCmd(t, "-n", p, "-6", "route", "add", "default", "via", "2001:db8:2::1")
	ipCmd(t, "-n", f, "route", "add", "default", "via", "203.0.113.1")

	path := func(name string) string { return filepath.Join("/run/netns", name) }
	top := &topology{router: path(r), victim: path(v), peer: path(p), forensics: path(f),
		victimAddr: "192.0.2.2", victim6: "2001:db8:1::2", peerAddr: "198.51.100.2"}
	for _, sysctl := range []string{"/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"} {
		err := netnstest.Run(top.router, func() error { return os.WriteFile(sysctl, []byte("1\n"), 0o644) })
		if err != nil {
			t.Fatalf("enable forwarding in the router namespace (%s): %v", sysctl, err)
		}
	}
	serve(t, top.victim)
	serve(t, top.peer)
	serve(t, top.forensics)
	return top
}

// serve accepts and closes TCP connections on port 8080 in the namespace, until the test ends.
func serve(t *testing.T, nsPath string) {
	t.Helper()
	l, err := netnstest.ListenTCP(nsPath, ":"+listenPort)
	if err != nil {
		t.Fatalf("listen in %s: %v", nsPath, err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
}

func hostPort(addr string) string { return net.JoinHostPort(addr, listenPort) }

func mustConnect(t *testing.T, fromNS, addr string) {
	t.Helper()
	if err := netnstest.ProbeTCP(context.Background(), fromNS, hostPort(addr), okTimeout); err != nil {
		t.Fatalf("connect from %s to %s: %v; want it to work", filepath.Base(fromNS), addr, err)
	}
}

func mustNotConnect(t *testing.T, fromNS, addr string) {
	t.Helper()
	if err := netnstest.ProbeTCP(context.Background(), fromNS, hostPort(addr), failTimeout); err == nil {
		t.Fatalf("connect from %s to %s worked; want isolation to block it", filepath.Base(fromNS), addr)
	}
}

// tableNames lists the nftables tables of a namespace ("" for the host's), as family/name.
func tableNames(t *testing.T, nsPath string) []string {
	t.Helper()
	var opts []nftables.ConnOption
	if nsPath != "" {
		f, err := os.Open(nsPath)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		opts = append(opts, nftables.WithNetNSFd(int(f.Fd())))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.ListTables()
	if err != nil {
		t.Fatalf("list tables: %v", err)
	}
	var names []string
	for _, tb := range tables {
		names = append(names, fmt.Sprintf("%d/%s", tb.Family, tb.Name))
	}
	slices.Sort(names)
	return names
}

func hostRuleset(t *testing.T) []string {
	t.Helper()
	names := tableNames(t, "")
	for _, n := range names {
		if strings.HasSuffix(n, "/"+nftspec.Table) {
			t.Fatalf("the host's own ruleset has a %s table", nftspec.Table)
		}
	}
	return names
}

func TestNFTablesIsolatesAtRouter(t *testing.T) {
	top := newTopology(t)
	hostBefore := hostRuleset(t)
	ctx := context.Background()

	// A table of someone else's in the same namespace, which release must leave alone.
	withConn(t, top.router, func(c *nftables.Conn) {
		other := c.AddTable(&nftables.Table{Name: "site_filter", Family: nftables.TableFamilyINet})
		c.AddChain(&nftables.Chain{Name: "fwd", Table: other, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
	})

	victim := firewall.Target{System: "db-1", Addresses: []string{top.victimAddr, top.victim6}, Allow: []string{"203.0.113.2"}}
	p, err := newProvider(firewall.NFTablesSettings{NetNS: top.router})
	if err != nil {
		t.Fatal(err)
	}

	mustConnect(t, top.peer, top.victimAddr)
	mustConnect(t, top.peer, top.victim6)
	mustConnect(t, top.forensics, top.victimAddr)
	mustConnect(t, top.victim, top.peerAddr)

	ev, err := p.Isolate(ctx, victim)
	if err != nil {
		t.Fatalf("isolate: %v", err)
	}
	t.Logf("isolate evidence: %+v", ev)
	if ev.Identifiers["handles.forward"] == "" || len(ev.Changes) == 0 {
		t.Errorf("isolate evidence lacks rule handles or changes: %+v", ev)
	}

	mustNotConnect(t, top.peer, top.victimAddr)
	mustNotConnect(t, top.peer, top.victim6)
	mustNotConnect(t, top.victim, top.peerAddr)
	mustConnect(t, top.forensics, top.victimAddr)
	mustConnect(t, top.peer, "203.0.113.2") // nothing else is isolated: peer still reaches forensics

	ver, err := p.Verify(ctx, victim)
	if err != nil || !ver.InForce {
		t.Fatalf("verify after isolate: in force %v, err %v (%s)", ver.InForce, err, ver.After)
	}
	if !strings.Contains(ver.After, "packets dropped") {
		t.Errorf("verify evidence does not report dropped packets: %s", ver.After)
	}

	// Idempotent: a second isolation changes nothing and keeps the same rule handles.
	again, err := p.Isolate(ctx, victim)
	if err != nil {
		t.Fatalf("isolate again: %v", err)
	}
	if len(again.Changes) != 0 {
		t.Errorf("second isolate changed %v; want nothing changed", again.Changes)
	}
	for _, h := range nftspec.Hooks(nil) {
		if again.Identifiers["handles."+h] != ev.Identifiers["handles."+h] {
			t.Errorf("hook %s: handles %q after second isolate, %q after first", h, again.Identifiers["handles."+h], ev.Identifiers["handles."+h])
		}
	}
	spec, _ := firewall.QuarantineRules(victim)
	withConn(t, top.router, func(c *nftables.Conn) {
		table := &nftables.Table{Name: nftspec.Table, Family: nftables.TableFamilyINet}
		rules, err := c.GetRules(table, &nftables.Chain{Name: nftspec.Chain("db-1", "forward"), Table: table})
		if err != nil {
			t.Fatal(err)
		}
		if len(rules) != len(spec) {
			t.Errorf("forward chain holds %d rules after isolating twice, want %d", len(rules), len(spec))
		}
	})

	// A second system shares the table; releasing the first must keep it.
	other := firewall.Target{System: "cache-1", Addresses: []string{"198.51.100.77"}}
	if _, err := p.Isolate(ctx, other); err != nil {
		t.Fatalf("isolate second system: %v", err)
	}
	rel, err := p.Release(ctx, victim)
	if err != nil {
		t.Fatalf("release: %v", err)
	}
	t.Logf("release evidence: %+v", rel)
	mustConnect(t, top.peer, top.victimAddr)
	mustConnect(t, top.peer, top.victim6)
	mustConnect(t, top.victim, top.peerAddr)
	if v, err := p.Verify(ctx, victim); err != nil || v.InForce {
		t.Errorf("verify after release: in force %v, err %v; want not in force", v.InForce, err)
	}
	if v, err := p.Verify(ctx, other); err != nil || !v.InForce {
		t.Errorf("second system after releasing the first: in force %v, err %v (%s)", v.InForce, err, v.After)
	}
	if !slices.Contains(tableNames(t, top.router), fmt.Sprintf("%d/%s", nftables.TableFamilyINet, nftspec.Table)) {
		t.Errorf("table removed while another system is still isolated")
	}

	if _, err := p.Release(ctx, other); err != nil {
		t.Fatalf("release second system: %v", err)
	}
	got := tableNames(t, top.router)
	want := []string{fmt.Sprintf("%d/site_filter", nftables.TableFamilyINet)}
	if !slices.Equal(got, want) {
		t.Errorf("router tables after releasing everything: %v, want %v (our table gone, the other kept)", got, want)
	}
	// Releasing again is a no-op.
	if ev, err := p.Release(ctx, other); err != nil || len(ev.Changes) != 0 {
		t.Errorf("second release: changes %v, err %v; want none", ev.Changes, err)
	}
	if after := hostRuleset(t); !slices.Equal(after, hostBefore) {
		t.Errorf("host ruleset changed: %v -> %v", hostBefore, after)
	}
}

func TestNFTablesIsolatesInVictimNamespace(t *testing.T) {
	top := newTopology(t)
	hostBefore := hostRuleset(t)
	ctx := context.Background()
	p, err := newProvider(firewall.NFTablesSettings{NetNS: top.victim, Hooks: []string{"input", "output"}})
	if err != nil {
		t.Fatal(err)
	}
	victim := firewall.Target{System: "web-1", Addresses: []string{top.victimAddr, top.victim6}, Allow: []string{"203.0.113.0/24"}}

	mustConnect(t, top.peer, top.victimAddr)
	if _, err := p.Isolate(ctx, victim); err != nil {
		t.Fatalf("isolate: %v", err)
	}
	mustNotConnect(t, top.peer, top.victimAddr)
	mustNotConnect(t, top.peer, top.victim6)
	mustNotConnect(t, top.victim, top.peerAddr)
	mustConnect(t, top.forensics, top.victimAddr)
	if v, err := p.Verify(ctx, victim); err != nil || !v.InForce {
		t.Fatalf("verify: in force %v, err %v (%s)", v.InForce, err, v.After)
	}

	// Someone deletes a rule: Verify notices, and isolating again repairs it.
	withConn(t, top.victim, func(c *nftables.Conn) {
		table := &nftables.Table{Name: nftspec.Table, Family: nftables.TableFamilyINet}
		chain := &nftables.Chain{Name: nftspec.Chain("web-1", "input"), Table: table}
		rules, err := c.GetRules(table, chain)
		if err != nil || len(rules) == 0 {
			t.Fatalf("read rules: %v", err)
		}
		if err := c.DelRule(rules[len(rules)-1]); err != nil {
			t.Fatal(err)
		}
	})
	if v, err := p.Verify(ctx, victim); err != nil || v.InForce {
		t.Fatalf("verify after a rule was deleted: in force %v, err %v; want not in force", v.InForce, err)
	} else {
		t.Logf("tampered: %s", v.After)
	}
	if ev, err := p.Isolate(ctx, victim); err != nil || len(ev.Changes) == 0 {
		t.Fatalf("repair: changes %v, err %v", ev.Changes, err)
	}
	if v, err := p.Verify(ctx, victim); err != nil || !v.InForce {
		t.Fatalf("verify after repair: in force %v, err %v (%s)", v.InForce, err, v.After)
	}

	if _, err := p.Release(ctx, victim); err != nil {
		t.Fatalf("release: %v", err)
	}
	mustConnect(t, top.peer, top.victimAddr)
	mustConnect(t, top.victim, top.peerAddr)
	if got := tableNames(t, top.victim); len(got) != 0 {
		t.Errorf("victim namespace tables after release: %v, want none", got)
	}
	if after := hostRuleset(t); !slices.Equal(after, hostBefore) {
		t.Errorf("host ruleset changed: %v -> %v", hostBefore, after)
	}
}

func TestNFTablesMissingNamespaceIsPermanent(t *testing.T) {
	p, err := newProvider(firewall.NFTablesSettings{NetNS: "/run/netns/breach-does-not-exist"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Isolate(context.Background(), firewall.Target{System: "x", Addresses: []string{"192.0.2.9"}})
	if !errors.Is(err, firewall.ErrPermanent) {
		t.Fatalf("isolate in a missing namespace: %v; want a permanent error", err)
	}
}

func withConn(t *testing.T, nsPath string, fn func(c *nftables.Conn)) {
	t.Helper()
	f, err := os.Open(nsPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := nftables.New(nftables.WithNetNSFd(int(f.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	fn(c)
	if err := c.Flush(); err != nil {
		t.Fatalf("apply test rules in %s: %v", nsPath, err)
	}
}

func TestRenderRuleRoundTrip(t *testing.T) {
	tg := firewall.Target{System: "x", Addresses: []string{"10.1.0.0/16", "192.0.2.7", "2001:db8::/48", "2001:db8:9::1"},
		Allow: []string{"203.0.113.0/25", "2001:db8:ffff::/64"}}
	spec, err := firewall.QuarantineRules(tg)
	if err != nil {
		t.Fatal(err)
	}
	// Per address: 2 accepts per allowlisted prefix of its family, then 2 drops: 4 addresses with
	// one same-family allow each.
	if len(spec) != 16 {
		t.Fatalf("spec has %d rules, want 16", len(spec))
	}
	for _, r := range spec {
		got, _ := renderRule(ruleExprs(r))
		if got != r.String() {
			t.Errorf("render(compile(%q)) = %q", r.String(), got)
		}
	}
}

// A system listed by its IPv4-mapped IPv6 address (::ffff:192.0.2.2) sends and receives IPv4.
// Isolating it once applied ip6 rules only, and verification reported them in force while its
// IPv4 traffic passed. Table-driven over how the address reaches the provider: raw in a target
// built by hand, and through the inventory.
func TestNFTablesIsolatesIPv4MappedAddresses(t *testing.T) {
	top := newTopology(t)
	ctx := context.Background()
	mapped := "::ffff:" + top.victimAddr
	invPath := filepath.Join(t.TempDir(), "systems.yaml")
	inventory := "systems:\n  - name: db-1\n    provider: nftables\n    addresses: ['" + mapped + "']\n    allow: ['::ffff:203.0.113.2']\n"
	if err := os.WriteFile(invPath, []byte(inventory), 0o600); err != nil {
		t.Fatal(err)
	}
	inv, err := firewall.LoadInventory(invPath)
	if err != nil {
		t.Fatal(err)
	}
	fromInventory, err := inv.Target("db-1")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		target firewall.Target
	}{
		{"a target built by hand", firewall.Target{System: "db-1", Addresses: []string{mapped}, Allow: []string{"::ffff:203.0.113.2"}}},
		{"a target from the inventory", fromInventory},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newProvider(firewall.NFTablesSettings{NetNS: top.router})
			if err != nil {
				t.Fatal(err)
			}
			mustConnect(t, top.peer, top.victimAddr)
			if _, err := p.Isolate(ctx, tt.target); err != nil {
				t.Fatalf("isolate %s: %v", mapped, err)
			}
			mustNotConnect(t, top.peer, top.victimAddr)
			mustNotConnect(t, top.victim, top.peerAddr)
			mustConnect(t, top.forensics, top.victimAddr)
			v, err := p.Verify(ctx, tt.target)
			if err != nil || !v.InForce {
				t.Fatalf("verify: in force %v, err %v (%s)", v.InForce, err, v.After)
			}
			if _, err := p.Release(ctx, tt.target); err != nil {
				t.Fatalf("release: %v", err)
			}
			mustConnect(t, top.peer, top.victimAddr)
		})
	}
}

func TestFactoryReadsTheInventorySettings(t *testing.T) {
	s := firewall.ProviderSettings{NFTables: firewall.NFTablesSettings{NetNS: "/run/netns/edge", Hooks: []string{"forward"}}}
	p, err := Factory().New(context.Background(), s, firewall.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if nft, ok := p.(*provider); !ok || nft.netns != "/run/netns/edge" || !slices.Equal(nft.hooks, []string{"forward"}) {
		t.Errorf("nftables provider %+v; want the inventory's netns and hooks", p)
	}
	if p, err := Factory().New(context.Background(), firewall.ProviderSettings{}, firewall.Options{}); err != nil || !slices.Equal(p.(*provider).hooks, []string{"input", "forward", "output"}) {
		t.Errorf("no settings: %+v, %v; want every hook", p, err)
	}
	s.NFTables.Hooks = []string{"prerouting"}
	if _, err := Factory().New(context.Background(), s, firewall.Options{}); !errors.Is(err, firewall.ErrPermanent) {
		t.Errorf("unknown hook: %v; want a permanent error", err)
	}
}
