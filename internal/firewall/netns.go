//go:build linux

package firewall

import (
	"context"
	"fmt"
	"net"
	"os"
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// inNetNS runs fn on an OS thread that has entered the network namespace at path (the
// process's own when path is empty). Sockets fn creates stay in that namespace after it
// returns. The thread is discarded afterwards rather than switched back.
func inNetNS(path string, fn func() error) error {
	if path == "" {
		return fn()
	}
	ns, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open network namespace: %w", err)
	}
	defer ns.Close()
	errc := make(chan error, 1)
	go func() {
		// Locked and never unlocked: the goroutine's exit then ends the thread, so no other
		// goroutine ever runs in the borrowed namespace.
		runtime.LockOSThread()
		if err := unix.Setns(int(ns.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// ProbeTCP opens (and closes) a TCP connection to addr from inside the network namespace at
// netnsPath (empty: this process's own), giving up after timeout. A nil error means the
// connection was accepted; benchmarks use it to see when isolation takes effect.
func ProbeTCP(ctx context.Context, netnsPath, addr string, timeout time.Duration) error {
	return inNetNS(netnsPath, func() error {
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
	err := inNetNS(netnsPath, func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	})
	return l, err
}
