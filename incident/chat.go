package incident

import (
	"context"
	"time"
)

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

// Chat is the incident room: Slack, or the console and incident log. Best effort by contract:
// callers never wait on it for containment or notification.
type Chat interface {
	OpenRoom(ctx context.Context, r RoomRequest) (Room, error)
	Post(ctx context.Context, m ChatMessage) error
	// UpdateCard shows the incident card, edited in place (never a new message per change).
	UpdateCard(ctx context.Context, c Card) error
}
