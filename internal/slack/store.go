package slack

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/breachops/breach/activities"
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

// store keeps the incident → channel and card mapping. With a directory it is a small JSON file
// per incident, <dir>/incidents/<id>/slack-room.json, so it survives a worker restart; without
// one it lives in memory and a restarted worker recovers it from Slack (see Chat.recover).
type store struct {
	dir string
	mu  sync.Mutex
	mem map[string]room
}

// RoomFile is where the mapping of an incident is kept under dir (BREACH_HOME), or an error
// when incidentID is not an incident ID.
func RoomFile(dir, incidentID string) (string, error) {
	return activities.IncidentPath(dir, incidentID, "slack-room.json")
}

func (s *store) load(incidentID string) (room, bool, error) {
	if s.dir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		r, ok := s.mem[incidentID]
		return r, ok, nil
	}
	path, err := RoomFile(s.dir, incidentID)
	if err != nil {
		return room{}, false, fmt.Errorf("read the Slack room: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return room{}, false, nil
	}
	if err != nil {
		return room{}, false, fmt.Errorf("read the Slack room of %s: %w", incidentID, err)
	}
	var r room
	if err := json.Unmarshal(b, &r); err != nil {
		return room{}, false, fmt.Errorf("read the Slack room of %s from %s: %w", incidentID, path, err)
	}
	return r, r.ChannelID != "", nil
}

func (s *store) save(r room) error {
	if s.dir == "" {
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
	path, err := RoomFile(s.dir, r.IncidentID)
	if err != nil {
		return fmt.Errorf("save the Slack room: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("save the Slack room of %s: %w", r.IncidentID, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".slack-room-*")
	if err != nil {
		return fmt.Errorf("save the Slack room of %s: %w", r.IncidentID, err)
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("save the Slack room of %s: %w", r.IncidentID, werr)
	}
	return nil
}
