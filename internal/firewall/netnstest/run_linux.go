//go:build linux

package netnstest

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Run runs fn on an OS thread that has entered the network namespace at path (the process's
// own when path is empty). Sockets fn creates stay in that namespace after it returns. The
// thread is discarded afterwards rather than switched back.
func Run(path string, fn func() error) error {
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
