//go:build linux

package nftables

import (
	"fmt"
	"math/bits"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/breachops/breach/internal/firewall/nftspec"
)

func addrGeometry(family string) (proto byte, size, saddrOff, daddrOff uint32) {
	if family == "ip6" {
		return unix.NFPROTO_IPV6, 16, 8, 24
	}
	return unix.NFPROTO_IPV4, 4, 12, 16
}

// ruleExprs compiles a rule the way nft does for "meta nfproto ... ip saddr ... counter drop".
func ruleExprs(r nftspec.Rule) []expr.Any {
	proto, size, sOff, dOff := addrGeometry(r.Family)
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
	if r.Saddr.IsValid() {
		match(r.Saddr, sOff)
	}
	if r.Daddr.IsValid() {
		match(r.Daddr, dOff)
	}
	v := expr.VerdictDrop
	if r.Verdict == "accept" {
		v = expr.VerdictAccept
	}
	return append(e, &expr.Counter{}, &expr.Verdict{Kind: v})
}

// renderRule turns expressions read back from the kernel into the nftspec.Rule text they
// implement, with the counter's packet count. Anything it does not recognise renders as "?", so
// a rule someone else changed never compares equal.
func renderRule(exprs []expr.Any) (string, uint64) {
	r := ruleReader{bitsLen: -1}
	for _, x := range exprs {
		switch e := x.(type) {
		case *expr.Meta:
			r.meta(e)
		case *expr.Payload:
			r.payload(e)
		case *expr.Bitwise:
			r.bitwise(e)
		case *expr.Cmp:
			r.cmp(e)
		case *expr.Counter:
			r.parts = append(r.parts, "counter")
			r.packets = e.Packets
		case *expr.Verdict:
			r.verdict(e)
		default:
			r.parts = append(r.parts, fmt.Sprintf("?%T", x))
		}
	}
	return strings.Join(r.parts, " "), r.packets
}

// ruleReader follows a rule's expressions through register 1 as the kernel runs them.
type ruleReader struct {
	parts   []string
	family  string // ip or ip6, once an nfproto comparison said
	load    string // what register 1 holds: nfproto, saddr, daddr
	bitsLen int    // the prefix length a bitwise mask applied to it, or -1
	packets uint64
}

func (r *ruleReader) meta(e *expr.Meta) {
	if e.Key == expr.MetaKeyNFPROTO && !e.SourceRegister && e.Register == 1 {
		r.load = "nfproto"
	} else {
		r.parts, r.load = append(r.parts, "?meta"), ""
	}
}

func (r *ruleReader) payload(e *expr.Payload) {
	r.load, r.bitsLen = "", -1
	if e.OperationType != expr.PayloadLoad || e.Base != expr.PayloadBaseNetworkHeader || e.DestRegister != 1 {
		r.parts = append(r.parts, "?payload")
		return
	}
	_, size, sOff, dOff := addrGeometry(r.family)
	switch {
	case e.Len == size && e.Offset == sOff:
		r.load = "saddr"
	case e.Len == size && e.Offset == dOff:
		r.load = "daddr"
	default:
		r.parts = append(r.parts, "?payload")
	}
}

func (r *ruleReader) bitwise(e *expr.Bitwise) {
	ones, ok := maskBits(e.Mask)
	if !ok || r.load == "" || e.SourceRegister != 1 || e.DestRegister != 1 || slices.ContainsFunc(e.Xor, func(b byte) bool { return b != 0 }) {
		r.parts = append(r.parts, "?bitwise")
		return
	}
	r.bitsLen = ones
}

func (r *ruleReader) cmp(e *expr.Cmp) {
	if e.Op != expr.CmpOpEq || e.Register != 1 {
		r.parts = append(r.parts, "?cmp")
		return
	}
	switch r.load {
	case "nfproto":
		switch {
		case len(e.Data) == 1 && e.Data[0] == unix.NFPROTO_IPV4:
			r.family = "ip"
		case len(e.Data) == 1 && e.Data[0] == unix.NFPROTO_IPV6:
			r.family = "ip6"
		default:
			r.parts = append(r.parts, "?nfproto")
		}
	case "saddr", "daddr":
		r.parts = append(r.parts, r.address(e.Data))
	default:
		r.parts = append(r.parts, "?cmp")
	}
	r.load, r.bitsLen = "", -1
}

// address renders a comparison of the loaded address with data, masked to bitsLen if a mask
// was applied.
func (r *ruleReader) address(data []byte) string {
	a, ok := netip.AddrFromSlice(data)
	if !ok {
		return "?addr"
	}
	b := a.BitLen()
	if r.bitsLen >= 0 {
		b = r.bitsLen
	}
	p, err := a.Prefix(b)
	if err != nil || p.Addr() != a {
		return "?addr"
	}
	return fmt.Sprintf("%s %s %s", r.family, r.load, nftspec.FormatPrefix(p))
}

func (r *ruleReader) verdict(e *expr.Verdict) {
	switch e.Kind {
	case expr.VerdictAccept:
		r.parts = append(r.parts, "accept")
	case expr.VerdictDrop:
		r.parts = append(r.parts, "drop")
	default:
		r.parts = append(r.parts, "?verdict")
	}
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
