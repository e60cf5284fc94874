package activities

import (
	"context"
	"fmt"
)

// OpenRoom creates the incident room.
func (a *Activities) OpenRoom(ctx context.Context, r RoomRequest) (Room, error) {
	room, err := a.Chat.OpenRoom(ctx, r)
	if err != nil {
		return Room{}, fmt.Errorf("open incident room for %s: %w", r.IncidentID, err)
	}
	return room, nil
}

// PostChat posts one message to the incident room.
func (a *Activities) PostChat(ctx context.Context, m ChatMessage) error {
	if err := a.Chat.Post(ctx, m); err != nil {
		return fmt.Errorf("post %s message for %s: %w", m.Kind, m.IncidentID, err)
	}
	return nil
}

// UpdateCard shows the current incident card.
func (a *Activities) UpdateCard(ctx context.Context, c Card) error {
	if err := a.Chat.UpdateCard(ctx, c); err != nil {
		return fmt.Errorf("update the card of %s: %w", c.IncidentID, err)
	}
	return nil
}
