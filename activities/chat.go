package activities

import (
	"context"
	"errors"
	"fmt"

	"github.com/breachops/breach/incident"
	"go.temporal.io/sdk/temporal"
)

// OpenRoom creates the incident room.
func (a *Activities) OpenRoom(ctx context.Context, r incident.RoomRequest) (incident.Room, error) {
	room, err := a.Chat.OpenRoom(ctx, r)
	if err != nil {
		return incident.Room{}, keepRetryAdvice(fmt.Sprintf("open incident room for %s", r.IncidentID), err)
	}
	return room, nil
}

// PostChat posts one message to the incident room.
func (a *Activities) PostChat(ctx context.Context, m incident.ChatMessage) error {
	if err := a.Chat.Post(ctx, m); err != nil {
		return keepRetryAdvice(fmt.Sprintf("post %s message for %s", m.Kind, m.IncidentID), err)
	}
	return nil
}

// UpdateCard shows the current incident card.
func (a *Activities) UpdateCard(ctx context.Context, c incident.Card) error {
	if err := a.Chat.UpdateCard(ctx, c); err != nil {
		return keepRetryAdvice(fmt.Sprintf("update the card of %s", c.IncidentID), err)
	}
	return nil
}

// keepRetryAdvice names the operation while keeping what the adapter told Temporal: its error
// type, whether to retry, and the delay the service asked for (Slack's Retry-After, SendGrid's
// X-RateLimit-Reset).
func keepRetryAdvice(op string, err error) error {
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) {
		return fmt.Errorf("%s: %w", op, err)
	}
	return temporal.NewApplicationErrorWithOptions(op+": "+appErr.Message(), appErr.Type(), temporal.ApplicationErrorOptions{
		NonRetryable:   appErr.NonRetryable(),
		NextRetryDelay: appErr.NextRetryDelay(),
		Cause:          err,
	})
}
