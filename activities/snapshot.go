package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/sqlsource"
)

// snapshotHeartbeat is how often a snapshot heartbeats; the workflow's heartbeat timeout is a
// minute.
const snapshotHeartbeat = 10 * time.Second

// AddContent keeps a snapshot in the store (Snapshots).
func (d StoreDatasets) AddContent(ctx context.Context, base string, r io.Reader) (datasets.Info, error) {
	return d.Store.AddContent(ctx, base, r)
}

// SnapshotSubjects runs a SQL subject source's query (read-only, with its statement timeout)
// and keeps its rows in the dataset store as a subjects dataset, named after the source and
// its content's hash: the same rows make the same dataset. From then on the incident reads the
// snapshot, whatever the database holds. It heartbeats the rows read; a retry starts the query
// again. Only the source's name, the counts and the hash leave the activity.
func (a *Activities) SnapshotSubjects(ctx context.Context, in incident.SnapshotInput) (incident.SnapshotResult, error) {
	q := in.Dataset.Query
	if q == nil {
		return incident.SnapshotResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("dataset %s is not a SQL subject source", in.Dataset.URI), incident.ErrTypeSubjectsSource, nil)
	}
	if a.Sources == nil || a.Snapshots == nil {
		return incident.SnapshotResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("subjects source %s: this worker has no subject sources; give it the configuration that names the source (subject_sources) and its DSN's environment variable", q.Source),
			incident.ErrTypeSubjectsSource, nil)
	}
	var w sqlsource.Window
	if q.WindowFrom != nil {
		w.From = *q.WindowFrom
	}
	if q.WindowTo != nil {
		w.To = *q.WindowTo
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	var res sqlsource.Result
	var exportErr error
	var rows atomic.Int64
	go func() {
		defer close(done)
		res, exportErr = a.Sources.Export(ctx, q.Source, w, pw, func(n int64) error {
			rows.Store(n)
			return nil
		})
		pw.CloseWithError(exportErr)
	}()
	// Heartbeats from a ticker: the database may take long before its first row (a sort), and
	// the statement timeout bounds the query, not the heartbeat.
	beating := make(chan struct{})
	go func() {
		defer close(beating)
		t := time.NewTicker(snapshotHeartbeat)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx, rows.Load())
			}
		}
	}()
	info, err := a.Snapshots.AddContent(ctx, "sql-"+q.Source+".csv", pr)
	// A store that gave up stops the export, which writes to the pipe.
	pr.CloseWithError(errors.New("the dataset store stopped reading"))
	<-done
	<-beating
	var se *sqlsource.Error
	if errors.As(exportErr, &se) {
		return incident.SnapshotResult{}, sourceError(q.Source, exportErr)
	}
	var tl *datasets.TooLargeError
	switch {
	case exportErr != nil && err == nil:
		return incident.SnapshotResult{}, sourceError(q.Source, exportErr)
	case errors.As(err, &tl):
		return incident.SnapshotResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("subjects source %s: %v; narrow the query, or raise datasets.max_bytes", q.Source, err), incident.ErrTypeSubjectsSource, nil)
	case err != nil:
		return incident.SnapshotResult{}, fmt.Errorf("subjects source %s: keep the snapshot: %w", q.Source, err)
	}
	return incident.SnapshotResult{
		Dataset: incident.DatasetRef{URI: info.Ref, SHA256: info.SHA256, Source: incident.SQLScheme + q.Source},
		Rows:    res.Rows,
		Bytes:   info.Size,
	}, nil
}

// sourceError classifies a source's error for Temporal: a timeout or a lost connection is
// retried, anything the configuration or the query must fix is not.
func sourceError(source string, err error) error {
	var se *sqlsource.Error
	if !errors.As(err, &se) {
		if strings.HasPrefix(err.Error(), "subjects source ") {
			return err
		}
		return fmt.Errorf("subjects source %s: %w", source, err)
	}
	if se.Retryable() {
		return temporal.NewApplicationError(se.Error(), incident.ErrTypeSubjectsSourceUnavailable)
	}
	return temporal.NewNonRetryableApplicationError(se.Error(), incident.ErrTypeSubjectsSource, nil)
}
