package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	bmail "github.com/breachops/breach/internal/mail"
	"github.com/breachops/breach/internal/rules"
)

type failingChat struct{ err error }

func (f failingChat) OpenRoom(context.Context, incident.RoomRequest) (incident.Room, error) {
	return incident.Room{}, f.err
}
func (f failingChat) Post(context.Context, incident.ChatMessage) error { return f.err }
func (f failingChat) UpdateCard(context.Context, incident.Card) error  { return f.err }

// The chat service's retry advice survives the activity layer: Slack's Retry-After becomes the
// next retry delay, and a revoked token stops the retries.
func TestChatErrorsKeepRetryAdvice(t *testing.T) {
	limited := temporal.NewApplicationErrorWithOptions("ratelimited", "SlackRateLimited", temporal.ApplicationErrorOptions{NextRetryDelay: 30 * time.Second})
	revoked := temporal.NewNonRetryableApplicationError("invalid_auth", "SlackAuth", nil)
	for _, c := range []struct {
		in           error
		retryable    bool
		delay        time.Duration
		wantTypeName string
	}{
		{limited, true, 30 * time.Second, "SlackRateLimited"},
		{revoked, false, 0, "SlackAuth"},
	} {
		a := &Activities{Chat: failingChat{c.in}}
		for _, err := range []error{
			a.PostChat(context.Background(), incident.ChatMessage{IncidentID: "INC-20261128-0001", Kind: "card"}),
			a.UpdateCard(context.Background(), incident.Card{IncidentID: "INC-20261128-0001"}),
		} {
			var appErr *temporal.ApplicationError
			require.True(t, errors.As(err, &appErr), "%v", err)
			require.Equal(t, c.wantTypeName, appErr.Type())
			require.Equal(t, !c.retryable, appErr.NonRetryable())
			require.Equal(t, c.delay, appErr.NextRetryDelay())
			require.Contains(t, appErr.Message(), "INC-20261128-0001")
		}
	}
	plain := (&Activities{Chat: failingChat{errors.New("boom")}}).PostChat(context.Background(), incident.ChatMessage{IncidentID: "INC-20261128-0001", Kind: "card"})
	require.EqualError(t, plain, "post card message for INC-20261128-0001: boom")
}

type limitedMailer struct{}

func (limitedMailer) Send(context.Context, bmail.Message) (bmail.Receipt, error) {
	return bmail.Receipt{}, temporal.NewApplicationErrorWithOptions("rate limited", "SendGridRateLimited",
		temporal.ApplicationErrorOptions{NextRetryDelay: 42 * time.Second})
}

// The regulator report honours SendGrid's rate-limit reset like the notices do.
func TestSubmitReportKeepsRetryAdvice(t *testing.T) {
	a := &Activities{Mail: limitedMailer{}, Dir: t.TempDir()}
	_, err := a.SubmitReport(context.Background(), incident.ReportInput{IncidentID: "INC-20261128-0001", RecipientAddress: "dpa@authority.example",
		RecipientName: "DPA", Obligation: rules.Obligation{ID: "gdpr-art33-authority", Template: "gdpr-art33-report"},
		Organisation: incident.Organisation{Name: "Shop", MailFrom: "privacy@shop.example"}})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, 42*time.Second, appErr.NextRetryDelay())
	require.Contains(t, appErr.Message(), "gdpr-art33-authority")
}
