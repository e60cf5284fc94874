//go:build !linux

package netnstest

import "fmt"

// Run runs fn; network namespaces need Linux, so elsewhere path must be empty.
func Run(path string, fn func() error) error {
	if path != "" {
		return fmt.Errorf("enter network namespace %s: network namespaces need Linux", path)
	}
	return fn()
}
