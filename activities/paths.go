package activities

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/store"
)

// Every path built from an incident ID goes through IncidentPath (or Under): an ID that is not
// one (incident.ValidateID) is an error, never a path, and the cleaned path must stay under its
// root whatever the other parts hold.

// IncidentPath is <root>/incidents/<id>/<elems…>, or an error when incidentID is not an
// incident ID or the path would leave the incident's directory.
func IncidentPath(root, incidentID string, elems ...string) (string, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return "", err
	}
	dir, err := Under(root, "incidents", incidentID)
	if err != nil {
		return "", err
	}
	return Under(dir, elems...)
}

// Under joins elems under root and checks that the cleaned result is root or below it: no
// part may climb out ("..", an absolute path).
func Under(root string, elems ...string) (string, error) {
	rel := filepath.Join(elems...)
	if rel != "" && !filepath.IsLocal(rel) {
		return "", fmt.Errorf("path %q would leave %s", rel, root)
	}
	return filepath.Join(root, rel), nil
}

// fileName checks that name is one plain file name: no directory, nothing hidden.
func fileName(name string) error {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") || !filepath.IsLocal(name) {
		return fmt.Errorf("%q is not a plain file name", name)
	}
	return nil
}

// pathError makes a path refused from an activity's input a non-retryable error.
func pathError(err error) error {
	return temporal.NewNonRetryableApplicationError(err.Error(), incident.ErrTypeBadPath, nil)
}

// records is the store of the incident records: Records, else a local store in Dir, opened
// once.
func (a *Activities) records() (*store.Store, error) {
	if a.Records != nil {
		return a.Records, nil
	}
	a.localMu.Lock()
	defer a.localMu.Unlock()
	if a.local == nil {
		st, err := store.Local(a.Dir)
		if err != nil {
			return nil, err
		}
		a.local = st
	}
	return a.local, nil
}

// put writes data under key in the records store, whole or not at all (a retried activity
// overwrites cleanly), and returns where a person finds it.
func (a *Activities) put(ctx context.Context, key string, data []byte) (string, error) {
	st, err := a.records()
	if err != nil {
		return "", err
	}
	if err := st.Put(ctx, key, data); err != nil {
		return "", err
	}
	return st.Where(key), nil
}

// putStream writes what r holds under key in the records store, whole or not at all.
func (a *Activities) putStream(ctx context.Context, key string, r io.Reader) error {
	st, err := a.records()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, err := st.Writer(wctx, key)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		cancel() // the store keeps nothing of a write cancelled before Close
		_ = w.Close()
		return fmt.Errorf("write %s: %w", st.Where(key), err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("write %s: %w", st.Where(key), err)
	}
	return nil
}
