// Package console is the local chat adapter: the incident room is a log file per incident,
// echoed to a terminal when one is given.
package console

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/templates"
)

// Chat writes each incident's messages to <Dir>/incidents/<id>/incident.log and to Out.
type Chat struct {
	Dir string
	Out io.Writer
	Now func() time.Time

	mu sync.Mutex
}

var _ incident.Chat = (*Chat)(nil)

// LogPath is the incident log of an incident, or an error when incidentID is not an incident
// ID.
func LogPath(dir, incidentID string) (string, error) {
	return activities.IncidentPath(dir, incidentID, "incident.log")
}

func (c *Chat) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// ChannelName is the incident room's name: inc-YYYYMMDD-<slug> (drill-… for drills),
// lowercase, at most 80 characters.
func ChannelName(incidentID, title string, drill bool, day time.Time) string {
	prefix := "inc-"
	if drill {
		prefix = "drill-"
	}
	name := prefix + day.UTC().Format("20060102") + "-" + Slug(title)
	if len(name) > 80 {
		name = strings.TrimRight(name[:80], "-")
	}
	return name
}

// Slug lowercases s and keeps letters and digits, joined by single dashes.
func Slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	if b.Len() == 0 {
		return "incident"
	}
	return b.String()
}

// OpenRoom creates the incident log.
func (c *Chat) OpenRoom(ctx context.Context, r incident.RoomRequest) (incident.Room, error) {
	name := ChannelName(r.IncidentID, r.Title, r.Drill, c.now())
	path, err := LogPath(c.Dir, r.IncidentID)
	if err != nil {
		return incident.Room{}, fmt.Errorf("console chat: %w", err)
	}
	room := incident.Room{ID: path, Name: "#" + name}
	return room, c.write(r.IncidentID, "room", fmt.Sprintf("%s opened for %s (declared by %s)", room.Name, r.IncidentID, r.DeclaredBy), false)
}

// Post appends a message.
func (c *Chat) Post(ctx context.Context, m incident.ChatMessage) error {
	text := m.Text
	if m.Drill {
		text = "[DRILL] " + text
	}
	return c.write(m.IncidentID, m.Kind, text, m.Urgent)
}

func (c *Chat) write(incidentID, kind, text string, urgent bool) error {
	mark := ""
	if urgent {
		mark = " !"
	}
	line := fmt.Sprintf("%s [%s]%s %s: %s\n", c.now().Format(time.RFC3339), incidentID, mark, kind, text)
	c.mu.Lock()
	defer c.mu.Unlock()
	path, err := LogPath(c.Dir, incidentID)
	if err != nil {
		return fmt.Errorf("console chat: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("console chat: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o640)
	if err != nil {
		return fmt.Errorf("console chat: %w", err)
	}
	_, werr := f.WriteString(line)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return fmt.Errorf("console chat: write %s: %w", path, werr)
	}
	if c.Out != nil {
		fmt.Fprint(c.Out, line)
	}
	return nil
}

// CardPath is where the console keeps an incident's card, or an error when incidentID is not
// an incident ID.
func CardPath(dir, incidentID string) (string, error) {
	return activities.IncidentPath(dir, incidentID, "card.txt")
}

// UpdateCard rewrites the incident's card file in place.
func (c *Chat) UpdateCard(ctx context.Context, card incident.Card) error {
	text, err := templates.Render("card", card)
	if err != nil {
		return err
	}
	path, err := CardPath(c.Dir, card.IncidentID)
	if err != nil {
		return fmt.Errorf("console card: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return fmt.Errorf("console card: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(text), 0o640); err != nil {
		return fmt.Errorf("console card: %w", err)
	}
	return os.Rename(tmp, path)
}
