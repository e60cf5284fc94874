package activities

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/records"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

const (
	ErrTypeSubjectsMissingColumn = incident.ErrTypeSubjectsMissingColumn
	ErrTypeSubjectsUnreadable    = incident.ErrTypeSubjectsUnreadable
	ErrTypeSubjectsChanged       = incident.ErrTypeSubjectsChanged
)

type ScopeInput = incident.ScopeInput

type ScopeResult = incident.ScopeResult

// StoreDatasets opens the datasets of the store (dataset:<name>): never a path a person gave.
type StoreDatasets struct{ Store *datasets.Store }

// Open opens a dataset of the store.
func (d StoreDatasets) Open(ctx context.Context, ref DatasetRef) (io.ReadSeekCloser, error) {
	return d.Store.Open(ctx, ref.URI)
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// AssessScope reads the whole dataset and counts subjects and records by jurisdiction and data
// category. Only counts and line numbers leave the activity.
func (a *Activities) AssessScope(ctx context.Context, in ScopeInput) (ScopeResult, error) {
	f, err := a.Datasets.Open(ctx, in.Dataset)
	if err != nil {
		return ScopeResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read subjects dataset %s: %v", in.Dataset.URI, err), ErrTypeSubjectsUnreadable, nil)
	}
	defer f.Close()
	var dups []int
	sum, err := a.SubjectLimits.Scan(f, func(is subjects.Issue) error {
		if is.Kind == subjects.IssueDuplicate {
			dups = append(dups, is.Row)
		}
		return nil
	})
	var mc *subjects.MissingColumnError
	switch {
	case errors.As(err, &mc):
		return ScopeResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsMissingColumn, nil, mc.Column)
	case err != nil:
		return ScopeResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("read subjects dataset %s: %v", in.Dataset.URI, err), ErrTypeSubjectsUnreadable, nil)
	}
	var b strings.Builder
	for _, l := range dups {
		b.WriteString(strconv.Itoa(l))
		b.WriteByte('\n')
	}
	dupKey, err := records.DuplicatesKey(in.IncidentID, sum.SHA256)
	if err != nil {
		return ScopeResult{}, pathError(err)
	}
	if _, err := a.put(ctx, dupKey, []byte(b.String())); err != nil {
		return ScopeResult{}, err
	}
	ref := in.Dataset
	ref.SHA256 = sum.SHA256
	return ScopeResult{Summary: sum, Dataset: ref}, nil
}

// openAt opens the dataset and returns a reader standing at pos (a Position from an earlier
// reader of the same dataset; the zero Position is the first data row).
func openAt(ctx context.Context, ds Datasets, lim subjects.Limits, ref DatasetRef, pos subjects.Position) (*subjects.Reader, io.Closer, error) {
	f, err := ds.Open(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("open subjects dataset %s: %w", ref.URI, err)
	}
	head, err := lim.NewReader(f, nil)
	if err != nil {
		f.Close()
		return nil, nil, temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeSubjectsUnreadable, nil)
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
