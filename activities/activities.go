// Package activities holds every side effect of the breach plan. Each activity is a method on
// Activities, whose fields are small interfaces with a real adapter and a local one.
package activities

import (
	"context"
	"crypto/ed25519"
	"io"
	"time"

	"github.com/breachops/breach/internal/firewall"
	"github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/pseudonym"
	"github.com/breachops/breach/internal/subjects"
)

// DatasetRef names the affected-subjects dataset. The workflow holds only this reference and
// counts, never the rows.
type DatasetRef struct {
	// URI names a dataset of the store: dataset:<name>. (Incidents declared before the store
	// carry a path; the worker no longer opens those.)
	URI string `json:"uri"`
	// SHA256 pins the content once the scope phase has read it.
	SHA256 string `json:"sha256,omitempty"`
}

// Organisation describes the controller, for reports and notices.
type Organisation struct {
	Name           string   `json:"name"`
	Timezone       string   `json:"timezone"`
	Role           string   `json:"role"`
	Establishments []string `json:"establishments,omitempty"`
	Sectors        []string `json:"sectors,omitempty"`
	// DPOContact is the Art. 33(3)(b) contact point.
	DPOContact string `json:"dpo_contact"`
	// MailFrom is the sender of reports and notices.
	MailFrom string `json:"mail_from"`
	// SubjectContact is where affected people can ask questions.
	SubjectContact string `json:"subject_contact,omitempty"`
}

// Chat is the incident room: Slack, or the console and incident log. Best effort by contract:
// callers never wait on it for containment or notification.
type Chat interface {
	OpenRoom(ctx context.Context, r RoomRequest) (Room, error)
	Post(ctx context.Context, m ChatMessage) error
	// UpdateCard shows the incident card, edited in place (never a new message per change).
	UpdateCard(ctx context.Context, c Card) error
}

// Card is the incident card: phase, containment, deadlines, alerts, what is pending. It holds no
// personal data of a subject.
type Card struct {
	IncidentID  string             `json:"incident_id"`
	Title       string             `json:"title"`
	Drill       bool               `json:"drill,omitempty"`
	Phase       string             `json:"phase"`
	DeclaredBy  string             `json:"declared_by"`
	AwareAt     time.Time          `json:"aware_at"`
	Containment []SystemStatus     `json:"containment"`
	Risk        string             `json:"risk,omitempty"`
	Obligations []ObligationStatus `json:"obligations,omitempty"`
	Alerts      AlertProgress      `json:"alerts"`
	// Pending lists what people must do next, as "step (role): description".
	Pending  []string  `json:"pending,omitempty"`
	ClosedAt time.Time `json:"closed_at,omitzero"`
	ClosedBy string    `json:"closed_by,omitempty"`
}

// RoomRequest asks for an incident room.
type RoomRequest struct {
	IncidentID string `json:"incident_id"`
	// AwareAt lets the room show the first deadline from the start.
	AwareAt    time.Time `json:"aware_at,omitzero"`
	Title      string    `json:"title"`
	Drill      bool      `json:"drill,omitempty"`
	DeclaredBy string    `json:"declared_by"`
}

// Room is an incident room.
type Room struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	URL  string `json:"url,omitempty"`
}

// ChatMessage is one message to the incident room. Text never holds a subject's personal data.
type ChatMessage struct {
	IncidentID string `json:"incident_id"`
	Kind       string `json:"kind"`
	Text       string `json:"text"`
	Drill      bool   `json:"drill,omitempty"`
	// Urgent messages also reach the DPO and the incident commander directly.
	Urgent bool `json:"urgent,omitempty"`
	// What the message is about, for adapters to render from (never from Text): the step it
	// asks a person to take (incident.Step…), the obligation or system it concerns, the
	// deadline, and whether that deadline has passed.
	Step       string    `json:"step,omitempty"`
	Obligation string    `json:"obligation,omitempty"`
	System     string    `json:"system,omitempty"`
	DueAt      time.Time `json:"due_at,omitzero"`
	Overdue    bool      `json:"overdue,omitempty"`
	// Fold names a line of reminders: a message with the same fold replaces the one before it
	// (Slack edits it in place) instead of adding one more.
	Fold string `json:"fold,omitempty"`
}

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
	// Dir is the root of local records: reports, evidence, timelines, the register.
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
	Now        func() time.Time
}

func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now().UTC()
	}
	return time.Now().UTC()
}
