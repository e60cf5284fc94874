// Package nftables is the firewall provider that isolates addresses with nftables rules,
// applied over netlink (no nft binary) in a chosen network namespace, in the layout of
// nftspec. It needs Linux and CAP_NET_ADMIN.
package nftables

import (
	"context"

	"github.com/breachops/breach/internal/firewall"
)

// Factory builds the nftables provider from the inventory's providers.nftables settings.
func Factory() firewall.Factory {
	return firewall.Factory{Name: firewall.ProviderNFTables, New: func(_ context.Context, s firewall.ProviderSettings, _ firewall.Options) (firewall.Provider, error) {
		p, err := newProvider(s.NFTables)
		if err != nil {
			return nil, err
		}
		return p, nil
	}}
}
