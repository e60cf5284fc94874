package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/breachops/breach/incident"
	recstore "github.com/breachops/breach/internal/store"
)

// room is what the adapter remembers of an incident's channel. Each step of opening the room is
// recorded as it succeeds, so that a retried OpenRoom resumes instead of creating a second
// channel, and a retried Post does not repeat what it already posted.
type room struct {
	IncidentID string `json:"incident_id"`
	ChannelID  string `json:"channel_id"`
	Name       string `json:"name"`
	PurposeSet bool   `json:"purpose_set,omitempty"`
	Topic      string `json:"topic,omitempty"`
	Invited    bool   `json:"invited,omitempty"`
	// CardTS is the timestamp of the pinned card message, edited with chat.update.
	CardTS string `json:"card_ts,omitempty"`
	// Folds maps a line of reminders (ChatMessage.Fold) to the message that shows it.
	Folds  map[string]string `json:"folds,omitempty"`
	Pinned bool              `json:"pinned,omitempty"`
	// CardRev is the revision of the card's blocks as last posted (see WithRevision): an update
	// that would show the same is not sent.
	CardRev string `json:"card_rev,omitempty"`
	// LastPost is the progress of the latest Post activity, keyed by its activity.
	LastPost postProgress `json:"last_post"`
}

type postProgress struct {
	Key  string   `json:"key,omitempty"`
	Done []string `json:"done,omitempty"`
}

func (p *postProgress) done(step string) bool {
	for _, d := range p.Done {
		if d == step {
			return true
		}
	}
	return false
}

func (p *postProgress) mark(step string) { p.Done = append(p.Done, step) }

// store keeps the incident → channel and card mapping: a small JSON record per incident,
// incidents/<id>/slack-room.json in the installation's store, which every worker shares (so a
// retry on another worker resumes where the first stopped); without a store it lives in memory
// and a restarted worker recovers it from Slack (see Chat.recover).
type store struct {
	st  *recstore.Store
	mu  sync.Mutex
	mem map[string]room
}

// RoomKey is the store key of an incident's mapping, or an error when incidentID is not an
// incident ID.
func RoomKey(incidentID string) (string, error) {
	if err := incident.ValidateID(incidentID); err != nil {
		return "", err
	}
	return "incidents/" + incidentID + "/slack-room.json", nil
}

func (s *store) load(ctx context.Context, incidentID string) (room, bool, error) {
	if s.st == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		r, ok := s.mem[incidentID]
		return r, ok, nil
	}
	key, err := RoomKey(incidentID)
	if err != nil {
		return room{}, false, fmt.Errorf("read the Slack room: %w", err)
	}
	b, err := s.st.Get(ctx, key)
	if errors.Is(err, recstore.ErrNotFound) {
		return room{}, false, nil
	}
	if err != nil {
		return room{}, false, fmt.Errorf("read the Slack room of %s: %w", incidentID, err)
	}
	var r room
	if err := json.Unmarshal(b, &r); err != nil {
		return room{}, false, fmt.Errorf("read the Slack room of %s from %s: %w", incidentID, s.st.Where(key), err)
	}
	return r, r.ChannelID != "", nil
}

func (s *store) save(ctx context.Context, r room) error {
	if s.st == nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.mem == nil {
			s.mem = map[string]room{}
		}
		s.mem[r.IncidentID] = r
		return nil
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	key, err := RoomKey(r.IncidentID)
	if err != nil {
		return fmt.Errorf("save the Slack room: %w", err)
	}
	if err := s.st.Put(ctx, key, b); err != nil {
		return fmt.Errorf("save the Slack room of %s: %w", r.IncidentID, err)
	}
	return nil
}
