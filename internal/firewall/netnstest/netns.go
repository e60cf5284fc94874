// Package netnstest runs code inside Linux network namespaces, for tests and benchmarks that
// build a topology of namespaces and check what isolation lets through. No production package
// imports it.
package netnstest

import (
	"context"
	"net"
	"time"
)

// ProbeTCP opens (and closes) a TCP connection to addr from inside the network namespace at
// netnsPath (empty: this process's own), giving up after timeout. A nil error means the
// connection was accepted; tests and benchmarks use it to see when isolation takes effect.
func ProbeTCP(ctx context.Context, netnsPath, addr string, timeout time.Duration) error {
	return Run(netnsPath, func() error {
		d := net.Dialer{Timeout: timeout}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// ListenTCP listens on addr inside the network namespace at netnsPath (empty: this process's
// own). The listener can be used from any goroutine.
func ListenTCP(netnsPath, addr string) (net.Listener, error) {
	var l net.Listener
	err := Run(netnsPath, func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}
