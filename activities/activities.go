// Package activities holds every side effect of the breach plan. Each activity is a method on
// Activities, whose fields are small interfaces with a real adapter and a local one.
package activities

import (
	"context"
	"crypto/ed25519"
	"io"
	"time"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/store"
	"github.com/breachops/breach/internal/subjects"
)

type DatasetRef = incident.DatasetRef

type Organisation = incident.Organisation

type Chat = incident.Chat

type Card = incident.Card

type RoomRequest = incident.RoomRequest

type Room = incident.Room

type ChatMessage = incident.ChatMessage

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
	Open(ctx context.Context, ref DatasetRef) (io.ReadSeekCloser, error)
}

// Activities carries the adapters every activity uses.
type Activities struct {
	Chat      Chat
	Mail      Mailer
	Firewalls Firewalls
	Datasets  Datasets
	// Records is the installation's store (internal/records lays out what it holds): reports,
	// evidence, timelines, register entries and what one activity leaves for another. Every
	// worker must open the same. Nil keeps them in a local store in Dir (tests, one machine).
	Records *store.Store
	// Dir is the local directory of the records when Records is nil, and of drill reports.
	Dir string
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
