package ingress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/breachops/breach/incident"
)

// How readiness is checked: each check waits at most readyTimeout for Temporal, and its answer
// holds for readyFor, so that /readyz polled often and a burst of commands cost one check.
const (
	readyTimeout = 2 * time.Second
	readyFor     = 3 * time.Second
)

// readiness is whether Temporal answers, as its last check found, for readyFor.
type readiness struct {
	check  func(ctx context.Context) error
	logger *slog.Logger

	// mu is held while a check runs: whoever asks meanwhile waits for its answer (readyTimeout
	// at most) rather than checking again.
	mu      sync.Mutex
	checked time.Time
	err     error
	// known is false until the first check; a first check that fails is logged like a change.
	known bool
}

// ready is nil when Temporal answers, else why not: the last check's answer while it is
// younger than readyFor, else a new check's. A change is logged.
func (r *readiness) ready(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.known && time.Since(r.checked) < readyFor {
		return r.err
	}
	cctx, cancel := context.WithTimeout(ctx, readyTimeout)
	err := r.check(cctx)
	cancel()
	if ctx.Err() != nil {
		// The asker gave up: that says nothing about Temporal.
		return ctx.Err()
	}
	switch {
	case err != nil && (!r.known || r.err == nil):
		r.logger.Warn("Temporal does not answer: Slack commands are answered with \"try again\" until it does", "error", err)
	case err == nil && r.known && r.err != nil:
		r.logger.Info("Temporal answers again")
	}
	r.checked, r.err, r.known = time.Now(), err, true
	return err
}

// forget drops the last answer: work failed against Temporal, so the next asker checks again.
func (r *readiness) forget() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.checked = time.Time{}
}

// Ready reports whether Temporal answers (nil when it does): what /readyz says.
func (s *Server) Ready(ctx context.Context) error { return s.readiness.ready(ctx) }

// serveReady answers GET /readyz: 200 when Temporal answers, else 503 with a short reason. The
// endpoint is as public as Slack's, so the reason names no address; the log has the detail.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := s.Ready(r.Context()); err != nil {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready: Temporal does not answer\n")
		return
	}
	_, _ = io.WriteString(w, "ready\n")
}

// gated is the Temporal the handlers use: work is not attempted while Temporal does not answer
// (ErrUnreachable at once, rather than the SDK retrying until the work's timeout), and work
// that failed makes the next asker check again.
type gated struct {
	t Temporal
	r *readiness
}

func (g gated) pass(ctx context.Context) error {
	if err := g.r.ready(ctx); err != nil {
		if ctx.Err() != nil {
			return err
		}
		return fmt.Errorf("%w: %w", ErrUnreachable, err)
	}
	return nil
}

// after forgets the last check when err is Temporal failing rather than an answer.
func (g gated) after(err error) {
	var rej *RejectedError
	if err != nil && !errors.Is(err, ErrNoIncident) && !errors.As(err, &rej) {
		g.r.forget()
	}
}

func (g gated) Declare(ctx context.Context, d incident.Declaration) (bool, error) {
	if err := g.pass(ctx); err != nil {
		return false, err
	}
	existing, err := g.t.Declare(ctx, d)
	g.after(err)
	return existing, err
}

func (g gated) Update(ctx context.Context, incidentID, name string, arg any) (string, error) {
	if err := g.pass(ctx); err != nil {
		return "", err
	}
	out, err := g.t.Update(ctx, incidentID, name, arg)
	g.after(err)
	return out, err
}

func (g gated) Status(ctx context.Context, incidentID string) (incident.Status, error) {
	if err := g.pass(ctx); err != nil {
		return incident.Status{}, err
	}
	st, err := g.t.Status(ctx, incidentID)
	g.after(err)
	return st, err
}

func (g gated) Open(ctx context.Context) ([]OpenIncident, error) {
	if err := g.pass(ctx); err != nil {
		return nil, err
	}
	open, err := g.t.Open(ctx)
	g.after(err)
	return open, err
}

func (g gated) Check(ctx context.Context) error { return g.r.ready(ctx) }
