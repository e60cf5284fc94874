package activities

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

// StoreDatasets opens the datasets of the store (dataset:<name>): never a path a person gave.
type StoreDatasets struct{ Store *datasets.Store }

// Open opens a dataset of the store.
func (d StoreDatasets) Open(ctx context.Context, ref incident.DatasetRef) (io.ReadSeekCloser, error) {
	return d.Store.Open(ctx, ref.URI)
}

// AssessScope reads the whole dataset and counts subjects and records by jurisdiction and data
// category. Only counts and line numbers leave the activity.
func (a *Activities) AssessScope(ctx context.Context, in incident.ScopeInput) (incident.ScopeResult, error) {
	f, err := a.Datasets.Open(ctx, in.Dataset)
	if err != nil {
		return incident.ScopeResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read subjects dataset %s: %v", in.Dataset.URI, err), incident.ErrTypeSubjectsUnreadable, nil)
	}
	defer f.Close()
	// The duplicate rows go to an unlinked file as they are found (a dataset of repeats must
	// not grow the worker's memory), then to the store under the dataset's hash.
	dups, err := os.CreateTemp("", "breach-duplicates-*")
	if err != nil {
		return incident.ScopeResult{}, fmt.Errorf("scope of %s: a temporary file for the duplicate rows: %w", in.IncidentID, err)
	}
	_ = os.Remove(dups.Name())
	defer dups.Close()
	bw := bufio.NewWriterSize(dups, 64<<10)
	var num []byte
	sum, err := a.SubjectLimits.Scan(f, func(is subjects.Issue) error {
		if is.Kind == subjects.IssueDuplicate {
			num = strconv.AppendInt(num[:0], int64(is.Row), 10)
			num = append(num, '\n')
			_, err := bw.Write(num)
			return err
		}
		return nil
	})
	var mc *subjects.MissingColumnError
	switch {
	case errors.As(err, &mc):
		return incident.ScopeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), incident.ErrTypeSubjectsMissingColumn, nil, mc.Column)
	case err != nil:
		return incident.ScopeResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read subjects dataset %s: %v", in.Dataset.URI, err), incident.ErrTypeSubjectsUnreadable, nil)
	}
	dupKey, err := records.DuplicatesKey(in.IncidentID, sum.SHA256)
	if err != nil {
		return incident.ScopeResult{}, pathError(err)
	}
	if err := bw.Flush(); err != nil {
		return incident.ScopeResult{}, fmt.Errorf("scope of %s: the duplicate rows: %w", in.IncidentID, err)
	}
	if _, err := dups.Seek(0, io.SeekStart); err != nil {
		return incident.ScopeResult{}, fmt.Errorf("scope of %s: the duplicate rows: %w", in.IncidentID, err)
	}
	if err := a.putStream(ctx, dupKey, dups); err != nil {
		return incident.ScopeResult{}, err
	}
	ref := in.Dataset
	ref.SHA256 = sum.SHA256
	return incident.ScopeResult{Summary: sum, Dataset: ref}, nil
}

// openAt opens the dataset and returns a reader standing at pos (a Position from an earlier
// reader of the same dataset; the zero Position is the first data row).
func openAt(ctx context.Context, ds Datasets, lim subjects.Limits, ref incident.DatasetRef, pos subjects.Position) (*subjects.Reader, io.Closer, error) {
	f, err := ds.Open(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("open subjects dataset %s: %w", ref.URI, err)
	}
	head, err := lim.NewReader(f, nil)
	if err != nil {
		f.Close()
		return nil, nil, temporal.NewNonRetryableApplicationError(err.Error(), incident.ErrTypeSubjectsUnreadable, nil)
	}
	if pos.Offset == 0 {
		return head, f, nil
	}
	if _, err := f.Seek(pos.Offset, io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("seek subjects dataset %s: %w", ref.URI, err)
	}
	return subjects.Resume(f, head.Header(), pos, nil), f, nil
}

// readDuplicates reads the list of duplicate rows that the scope of the dataset sha left for an
// incident in the records store, keeping those from first to last: a chunk holds its own share
// only, however large the dataset.
func readDuplicates(ctx context.Context, rs *store.Store, incidentID, sha string, first, last int) (map[int]bool, error) {
	key, err := records.DuplicatesKey(incidentID, sha)
	if err != nil {
		return nil, err
	}
	f, err := rs.Reader(ctx, key)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	path := rs.Where(key)
	out := map[int]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if n >= first && n <= last {
			out[n] = true
		}
	}
	return out, sc.Err()
}
