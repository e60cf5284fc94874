// Package infile opens the files people name (a subjects dataset, a facts file, a configuration,
// an inventory, a scenario, a CA file) the one safe way: regular files only, never blocking on a
// named pipe or reading a device, and never reading more than a stated limit into memory.
package infile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Limits of the small files that are read whole.
const (
	// MaxConfigBytes bounds a YAML file of settings: the configuration, an inventory, a scenario,
	// a CA bundle. Real ones take a few KiB.
	MaxConfigBytes = 1 << 20
)

// Error says why a named file cannot be used: it is not a regular file, or it is too large. The
// message names the path, what it is and how to fix it; it never quotes the content.
type Error struct {
	Path string
	// Problem is what is wrong, e.g. "is a directory".
	Problem string

	tooLarge bool
}

func (e *Error) Error() string { return e.Path + " " + e.Problem }

// ErrNotRegular and ErrTooLarge are matched by the *Error of each problem (errors.Is).
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("larger than the limit")
)

// Is lets errors.Is tell the two problems apart.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrTooLarge:
		return e.tooLarge
	case ErrNotRegular:
		return !e.tooLarge
	}
	return false
}

// Open opens path for reading if it is a regular file (a symbolic link counts as what it points
// to) of at most max bytes; max <= 0 means any size. A directory, a device, a named pipe or a
// socket is an *Error saying which, and so is a file over max, naming the limit. Opening never
// blocks, even when the path is replaced by a named pipe between the check and the open.
func Open(path string, max int64) (*os.File, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if err := check(path, st, max); err != nil {
		return nil, err
	}
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	// What was opened is checked again: the path may have changed since the Stat.
	st2, err := f.Stat()
	if err == nil {
		err = check(path, st2, max)
	}
	if err == nil && !os.SameFile(st, st2) {
		err = &Error{Path: path, Problem: "changed while it was being opened; try again"}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Check reports whether path can be opened and read as Open would allow (it reads one byte, so
// that a file without read permission fails here and not later, in a worker).
func Check(path string, max int64) error {
	f, err := Open(path, max)
	if err != nil {
		return err
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.Read(b[:]); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	return nil
}

// ReadFile reads a regular file of at most max bytes (max > 0), never more than one byte past it
// even if the file grows while it is read.
func ReadFile(path string, max int64) ([]byte, error) {
	if max <= 0 {
		return nil, fmt.Errorf("infile: ReadFile of %s needs a limit", path)
	}
	f, err := Open(path, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, tooLarge(path, max)
	}
	return data, nil
}

func check(path string, st fs.FileInfo, max int64) error {
	m := st.Mode()
	if !m.IsRegular() {
		return &Error{Path: path, Problem: "is " + kind(m) + ", not a regular file; name the file itself"}
	}
	if max > 0 && st.Size() > max {
		return tooLarge(path, max)
	}
	return nil
}

func tooLarge(path string, max int64) *Error {
	return &Error{Path: path, Problem: fmt.Sprintf("is larger than %s, the limit for this file; is it the right file?", Size(max)), tooLarge: true}
}

func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a plain file"
}

// Size prints a byte count as people give limits: 1 MiB, 64 KiB, or bytes.
func Size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
