//go:build !linux

package nftables

import (
	"context"
	"errors"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
)

var errNoNFTables = errors.New("the nftables provider needs Linux")

// provider exists only on Linux; elsewhere building it fails.
type provider struct{}

func newProvider(firewall.NFTablesSettings) (*provider, error) {
	return nil, firewall.Permanent(errNoNFTables)
}

func (*provider) Name() string { return firewall.ProviderNFTables }

func (*provider) Isolate(context.Context, firewall.Target) (incident.Evidence, error) {
	return incident.Evidence{}, firewall.Permanent(errNoNFTables)
}

func (*provider) Verify(context.Context, firewall.Target) (incident.Evidence, error) {
	return incident.Evidence{}, firewall.Permanent(errNoNFTables)
}

func (*provider) Release(context.Context, firewall.Target) (incident.Evidence, error) {
	return incident.Evidence{}, firewall.Permanent(errNoNFTables)
}
