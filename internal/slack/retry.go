package slack

import (
	"context"
	"errors"
	"time"

	slackgo "github.com/slack-go/slack"
)

// Retry runs a Web API call up to attempts times while Slack is busy (429, honouring
// Retry-After up to 5 s; the ratelimited code) or failing (5xx, internal_error,
// service_unavailable, a network error), waiting a little longer after each try. Any other
// error, and the end of ctx, return at once. It is for the ingress, which works after Slack's
// request was acknowledged; activities never wait: they classify errors for Temporal's retries.
func Retry(ctx context.Context, attempts int, call func() error) error {
	var err error
	for attempt := 1; ; attempt++ {
		if err = call(); err == nil || attempt >= attempts {
			return err
		}
		wait := time.Duration(attempt) * 300 * time.Millisecond
		var rl *slackgo.RateLimitedError
		var sc slackgo.StatusCodeError
		var se slackgo.SlackErrorResponse
		switch {
		case errors.As(err, &rl):
			wait = min(max(rl.RetryAfter, time.Second), 5*time.Second)
		case errors.As(err, &sc):
			if !sc.Retryable() {
				return err
			}
		case errors.As(err, &se):
			if se.Err != "ratelimited" && se.Err != "internal_error" && se.Err != "service_unavailable" && se.Err != "fatal_error" {
				return err
			}
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}
