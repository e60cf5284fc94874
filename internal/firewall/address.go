package firewall

import (
	"fmt"
	"net/netip"
)

func isAddress(s string) bool {
	if _, err := netip.ParseAddr(s); err == nil {
		return true
	}
	_, err := netip.ParsePrefix(s)
	return err == nil
}

// CheckAddress accepts an IP address or a CIDR whose host bits are zero, other than /0. An
// IPv4-mapped IPv6 address or prefix (::ffff:10.0.0.5, ::ffff:10.0.0.0/104) is the IPv4 one
// it maps: its traffic is IPv4 on the wire. An IPv6 prefix wider than the mapped range
// (::/64) is refused: its IPv4-mapped part would look isolated and pass.
func CheckAddress(s string) error {
	if a, err := netip.ParseAddr(s); err == nil {
		if a.Zone() != "" {
			return fmt.Errorf("%q: drop the zone; use a plain address", s)
		}
		return nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if p.Bits() == 0 {
		return fmt.Errorf("%q covers every address; isolating it would cut off the whole network", s)
	}
	if p, err = unmapPrefix(s, p); err != nil {
		return err
	}
	if p.Bits() == 0 {
		return fmt.Errorf("%q covers every IPv4 address; isolating it would cut off the whole network", s)
	}
	if p.Masked() != p {
		return fmt.Errorf("%q has host bits set; did you mean %s?", s, p.Masked())
	}
	return nil
}

// mappedRange is where IPv4-mapped IPv6 addresses live.
var mappedRange = netip.MustParsePrefix("::ffff:0.0.0.0/96")

// unmapPrefix turns an IPv4-mapped prefix into the IPv4 prefix it maps, and refuses an IPv6
// prefix that holds the mapped range, or a mapped address with a prefix shorter than /96.
func unmapPrefix(s string, p netip.Prefix) (netip.Prefix, error) {
	switch {
	case p.Addr().Is4In6() && p.Bits() >= 96:
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96), nil
	case p.Addr().Is6() && p.Bits() <= 96 && p.Overlaps(mappedRange):
		return netip.Prefix{}, fmt.Errorf("%q holds the IPv4-mapped range %s, whose traffic is IPv4 and would pass an IPv6 rule; list IPv4 addresses as IPv4, and IPv6 ranges that leave it out", s, mappedRange)
	}
	return p, nil
}

func checkAllow(s string) error {
	if p, err := netip.ParsePrefix(s); err == nil && (p.Bits() == 0 || p.Addr().Is4In6() && p.Bits() == 96) {
		return fmt.Errorf("%q allows every address, which would undo the isolation", s)
	}
	return CheckAddress(s)
}

// CanonicalAddress prints a single-host prefix as a plain address, an IPv4-mapped one as IPv4.
func CanonicalAddress(s string) string {
	p, err := parsePrefix(s)
	if err != nil {
		return s
	}
	if p.IsSingleIP() {
		return p.Addr().String()
	}
	return p.String()
}

// parsePrefix reads an address or CIDR as a prefix, IPv4-mapped ones as IPv4 (see CheckAddress).
func parsePrefix(s string) (netip.Prefix, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP address or CIDR", s)
	}
	if p, err = unmapPrefix(s, p); err != nil {
		return netip.Prefix{}, err
	}
	return p.Masked(), nil
}
