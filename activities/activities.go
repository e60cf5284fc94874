// Package activities holds every side effect of the breach plan. Each activity is a method on
// Activities, whose fields are small interfaces with a real adapter and a local one.
package activities

import (
	"context"
	"crypto/ed25519"
	"io"
	"sync"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/sqlsource"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

// Mailer sends one email. Sending a message whose Key was sent before delivers nothing new and
// reports Duplicate.
type Mailer interface {
	Send(ctx context.Context, m mail.Message) (mail.Receipt, error)
}

// Firewalls finds the provider and target that isolate a named system.
type Firewalls interface {
	Resolve(system string) (firewall.Provider, firewall.Target, error)
}

// Datasets opens an affected-subjects dataset.
type Datasets interface {
	Open(ctx context.Context, ref incident.DatasetRef) (io.ReadSeekCloser, error)
}

// SubjectSources run the configuration's SQL subject sources (internal/sqlsource).
type SubjectSources interface {
	// Export streams the rows of the source of that name to out as a subjects dataset.
	Export(ctx context.Context, source string, w sqlsource.Window, out io.Writer, progress func(rows int64) error) (sqlsource.Result, error)
}

// Snapshots keeps what a subject source returned in the dataset store, under a name made of
// base and its content's hash.
type Snapshots interface {
	AddContent(ctx context.Context, base string, r io.Reader) (datasets.Info, error)
}

// Activities carries the adapters every activity uses.
type Activities struct {
	Chat      incident.Chat
	Mail      Mailer
	Firewalls Firewalls
	Datasets  Datasets
	// Sources and Snapshots take a SQL subject source's rows into the dataset store; nil when
	// the configuration has none.
	Sources   SubjectSources
	Snapshots Snapshots
	// Records is the installation's store (internal/records lays out what it holds): reports,
	// evidence, timelines, register entries and what one activity leaves for another. Every
	// worker must open the same. Nil keeps them in a local store in Dir (tests, one machine).
	Records *store.Store
	// Dir is the local directory of the records when Records is nil, and of drill reports.
	Dir string
	// local is the store opened in Dir when Records is nil.
	localMu sync.Mutex
	local   *store.Store
	// AutopilotKey signs what a drill's auto-pilot decides for the scenario's people.
	AutopilotKey ed25519.PrivateKey
	// SubjectLimits bound what one record of a subjects dataset may hold; the zero value is
	// subjects.DefaultLimits. Every worker must use the same: the scope and the notices read
	// one dataset.
	SubjectLimits subjects.Limits
	// Pseudonyms is the installation's pseudonym key: how the people of an incident are named
	// in the ledger and the outbox (internal/pseudonym). Every worker must hold the same.
	Pseudonyms *pseudonym.Key
	// Register is the breach register (Art. 33(5)); nil records none (tests).
	Register RegisterStore
	Now      func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}
