// Package devserver runs the embedded Temporal dev server: the pinned Temporal CLI, started as a
// child process when nothing answers at the configured address, persisting to a local file so
// a restart resumes open incidents.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
)

// DefaultAddress is where the embedded server listens.
const DefaultAddress = "127.0.0.1:7233"

// UIPort is the port of the Temporal UI of the embedded server.
const UIPort = "8233"

// UICodecPort is where the process that starts the embedded server serves the codec endpoint
// its UI decrypts payloads through.
const UICodecPort = "8234"

// ServerArgs are the dev server settings the product relies on: eager activity execution lets a
// workflow task's first activity (an isolation call) start on the same worker at once.
func ServerArgs() []string {
	return []string{"--dynamic-config-value", "system.enableActivityEagerExecution=true"}
}

// Options configure the embedded server.
type Options struct {
	// Binary is the temporal CLI; empty means FindBinary.
	Binary string
	// Address is host:port to listen on.
	Address string
	// DBFile persists the server's state; empty keeps it in memory.
	DBFile    string
	Namespace string
	// UICodecEndpoint is the remote codec the UI decodes payloads with; empty for none.
	UICodecEndpoint string
	// Log receives the server's output; nil discards it.
	Log io.Writer
}

// FindBinary looks for the temporal CLI: $BREACH_TEMPORAL_BIN, beside this executable, in ./bin,
// then on PATH.
func FindBinary() (string, error) {
	if p := os.Getenv("BREACH_TEMPORAL_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("BREACH_TEMPORAL_BIN=%s: %w", p, err)
		}
		return p, nil
	}
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "temporal"))
	}
	candidates = append(candidates, filepath.Join("bin", "temporal"))
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return filepath.Abs(c)
		}
	}
	if p, err := exec.LookPath("temporal"); err == nil {
		return p, nil
	}
	return "", errors.New("the Temporal CLI was not found: run `make bin/temporal` (builds the pinned version into ./bin), or set BREACH_TEMPORAL_BIN, or point TEMPORAL_ADDRESS at a running server")
}

// Answers reports whether a Temporal frontend answers at hostPort.
func Answers(ctx context.Context, hostPort string) bool {
	d := net.Dialer{Timeout: 500 * time.Millisecond}
	conn, err := d.DialContext(ctx, "tcp", hostPort)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

// Server is a running embedded server.
type Server struct {
	dev     *testsuite.DevServer
	Address string
	UIURL   string
}

// Start starts the server and waits until it serves.
func Start(ctx context.Context, o Options) (*Server, error) {
	bin := o.Binary
	if bin == "" {
		var err error
		if bin, err = FindBinary(); err != nil {
			return nil, err
		}
	}
	if o.Address == "" {
		o.Address = DefaultAddress
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.DBFile != "" {
		if err := os.MkdirAll(filepath.Dir(o.DBFile), 0o750); err != nil {
			return nil, fmt.Errorf("dev server: %w", err)
		}
	}
	out := o.Log
	if out == nil {
		out = io.Discard
	}
	host, _, err := net.SplitHostPort(o.Address)
	if err != nil {
		return nil, fmt.Errorf("dev server address %q: %w", o.Address, err)
	}
	args := ServerArgs()
	if o.UICodecEndpoint != "" {
		args = append(args, "--ui-codec-endpoint", o.UICodecEndpoint)
	}
	dev, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:  bin,
		ClientOptions: &client.Options{HostPort: o.Address, Namespace: o.Namespace, Logger: quietLogger{}},
		DBFilename:    o.DBFile,
		EnableUI:      true,
		UIPort:        UIPort,
		LogLevel:      "error",
		ExtraArgs:     args,
		Stdout:        out,
		Stderr:        out,
	})
	if err != nil {
		return nil, fmt.Errorf("start the Temporal dev server (%s) at %s: %w", bin, o.Address, err)
	}
	dev.Client().Close()
	return &Server{dev: dev, Address: o.Address, UIURL: "http://" + host + ":" + UIPort}, nil
}

// Stop stops the server and waits for it to exit.
func (s *Server) Stop() error { return s.dev.Stop() }

type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
