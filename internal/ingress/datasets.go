package ingress

import (
	"context"
	"io"
	"slices"

	"github.com/breachops/breach/internal/datasets"
	breachslack "github.com/breachops/breach/internal/slack"
)

// DatasetStore is what the ingress needs of the dataset store; *datasets.Store is one.
type DatasetStore interface {
	// List returns the store's datasets, newest first.
	List() ([]datasets.Info, error)
	// AddContent stores a stream under a name derived from base and its content, within the
	// store's limit.
	AddContent(ctx context.Context, base string, r io.Reader) (datasets.Info, error)
	// MaxBytes is the largest dataset the store takes.
	MaxBytes() int64
}

// storedDatasets are the datasets the declaration form offers; an unreadable store is logged
// and said in the form.
func (s *Server) storedDatasets() breachslack.StoredDatasets {
	if s.cfg.Datasets == nil {
		return breachslack.StoredDatasets{}
	}
	infos, err := s.cfg.Datasets.List()
	if err != nil {
		s.cfg.Logger.Error("the dataset store could not be listed for the declaration form", "error", err)
		return breachslack.StoredDatasets{Unreadable: true}
	}
	return breachslack.StoredDatasets{Infos: infos}
}

// checkDataset says why a dataset named in the declaration form cannot be taken, or "" when it
// is in the store.
func (s *Server) checkDataset(name string) string {
	if datasets.ValidateName(name) != nil {
		return "Choose a dataset of breach's dataset store (breach datasets list); a path is never taken."
	}
	if s.cfg.Datasets == nil {
		return "This breach serve has no dataset store: leave the dataset empty and give it later."
	}
	infos, err := s.cfg.Datasets.List()
	if err != nil {
		s.cfg.Logger.Error("the dataset store could not be listed to check a declaration", "error", err)
		return "breach could not read its dataset store just now: leave the dataset empty and give it later, or submit again."
	}
	if !slices.ContainsFunc(infos, func(i datasets.Info) bool { return i.Name == name }) {
		return truncateRunes(name, 80) + " is not in breach's dataset store: choose one from the list, or add the file with `breach datasets add FILE`."
	}
	return ""
}
