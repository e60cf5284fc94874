//go:build !linux

package firewall

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/breachops/breach/incident"
)

// NFTables needs Linux; elsewhere every call fails permanently.
type NFTables struct {
	NetNS string
	Hooks []string
	Now   func() time.Time
}

var errNoNFTables = errors.New("the nftables provider needs Linux")

// NewNFTables fails: nftables exists only on Linux.
func NewNFTables(s NFTablesSettings) (*NFTables, error) { return nil, Permanent(errNoNFTables) }

func (n *NFTables) Name() string { return ProviderNFTables }
func (n *NFTables) Isolate(ctx context.Context, t Target) (incident.Evidence, error) {
	return incident.Evidence{}, Permanent(errNoNFTables)
}
func (n *NFTables) Verify(ctx context.Context, t Target) (incident.Evidence, error) {
	return incident.Evidence{}, Permanent(errNoNFTables)
}
func (n *NFTables) Release(ctx context.Context, t Target) (incident.Evidence, error) {
	return incident.Evidence{}, Permanent(errNoNFTables)
}

// ProbeTCP opens (and closes) a TCP connection to addr; network namespaces need Linux.
func ProbeTCP(ctx context.Context, netnsPath, addr string, timeout time.Duration) error {
	if netnsPath != "" {
		return fmt.Errorf("probe %s: network namespaces need Linux", addr)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// ListenTCP listens on addr; network namespaces need Linux.
func ListenTCP(netnsPath, addr string) (net.Listener, error) {
	if netnsPath != "" {
		return nil, fmt.Errorf("listen %s: network namespaces need Linux", addr)
	}
	return net.Listen("tcp", addr)
}
