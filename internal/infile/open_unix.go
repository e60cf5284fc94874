//go:build unix

package infile

import (
	"os"
	"syscall"
)

// openNonBlocking opens without waiting for a writer should path be a named pipe, and without
// making a terminal the controlling one. O_NONBLOCK changes nothing for a regular file's reads.
func openNonBlocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
}
