//go:build unix

package infile

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpenRefusesAllButRegularFiles(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "facts.json")
	if err := os.WriteFile(regular, []byte(`{"aware_at":"2026-06-10T10:00:00Z"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	huge := filepath.Join(dir, "huge.json")
	if err := os.WriteFile(huge, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, 8<<30); err != nil { // sparse: 8 GiB that take no space
		t.Fatal(err)
	}
	link := func(name, to string) string {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.Symlink(to, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name   string
		path   string
		max    int64
		target error  // nil: opened
		says   string // in the message
	}{
		{"a regular file", regular, 1 << 20, nil, ""},
		{"a regular file, no limit", regular, 0, nil, ""},
		{"a symbolic link to a regular file", link("to-regular", regular), 1 << 20, nil, ""},
		{"a directory", dir, 1 << 20, ErrNotRegular, "is a directory"},
		{"a character device", "/dev/zero", 1 << 20, ErrNotRegular, "is a character device"},
		{"a character device, no limit", "/dev/null", 0, ErrNotRegular, "is a character device"},
		{"a named pipe", fifo, 1 << 20, ErrNotRegular, "is a named pipe (FIFO)"},
		{"a socket", sock, 1 << 20, ErrNotRegular, "is a socket"},
		{"a symbolic link to a directory", link("to-dir", dir), 1 << 20, ErrNotRegular, "is a directory"},
		{"a symbolic link to a device", link("to-zero", "/dev/zero"), 0, ErrNotRegular, "is a character device"},
		{"a symbolic link to a named pipe", link("to-fifo", fifo), 0, ErrNotRegular, "is a named pipe"},
		{"a file over the limit", huge, 1 << 20, ErrTooLarge, "larger than 1 MiB"},
		{"a file one byte over", regular, int64(len(`{"aware_at":"2026-06-10T10:00:00Z"}`)) - 1, ErrTooLarge, "larger than 34 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Open(tt.path, tt.max)
			if tt.target == nil {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				f.Close()
				if err := Check(tt.path, tt.max); err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil {
				f.Close()
				t.Fatalf("Open(%s) succeeded; want %v", tt.path, tt.target)
			}
			var ie *Error
			if !errors.As(err, &ie) || !errors.Is(err, tt.target) {
				t.Fatalf("err = %v (%T), want an *Error matching %v", err, err, tt.target)
			}
			if !strings.Contains(err.Error(), tt.says) || !strings.HasPrefix(err.Error(), tt.path+" ") {
				t.Errorf("message %q: want the path, then %q", err, tt.says)
			}
			if err := Check(tt.path, tt.max); !errors.Is(err, tt.target) {
				t.Errorf("Check: %v, want %v", err, tt.target)
			}
			if tt.max > 0 {
				if _, err := ReadFile(tt.path, tt.max); !errors.Is(err, tt.target) {
					t.Errorf("ReadFile: %v, want %v", err, tt.target)
				}
			}
		})
	}
	if _, err := Open(filepath.Join(dir, "missing"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte("a: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(p, 5)
	if err != nil || string(b) != "a: 1\n" {
		t.Fatalf("ReadFile = %q, %v", b, err)
	}
	if _, err := ReadFile(p, 4); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("ReadFile over the limit: %v", err)
	}
	if _, err := ReadFile(p, 0); err == nil {
		t.Fatal("ReadFile without a limit succeeded")
	}
}

func TestSize(t *testing.T) {
	for n, want := range map[int64]string{1 << 20: "1 MiB", 64 << 10: "64 KiB", 1000: "1000 bytes", 3 << 30: "3072 MiB", 1536: "1536 bytes"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
