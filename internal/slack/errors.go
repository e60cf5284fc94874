package slack

import (
	"errors"
	"fmt"
	"time"

	slackgo "github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/internal/redact"
)

// Error types the adapter returns, for retry policies and tests.
const (
	// ErrTypeRateLimited carries Slack's Retry-After as the next retry delay.
	ErrTypeRateLimited = "SlackRateLimited"
	// ErrTypeUnavailable is a 5xx, a timeout or a broken connection: retry.
	ErrTypeUnavailable = "SlackUnavailable"
	// ErrTypePermanent is an error a retry cannot fix: bad token, missing scope, unknown channel.
	ErrTypePermanent = "SlackPermanent"
)

// DefaultRetryAfter is the delay used when Slack rate-limits without saying for how long.
const DefaultRetryAfter = 2 * time.Second

// permanent are Slack error codes that no retry fixes; an operator must act.
var permanent = map[string]string{
	"invalid_auth":             "the bot token is not valid: check SLACK_BOT_TOKEN",
	"not_authed":               "no bot token was sent: set SLACK_BOT_TOKEN",
	"account_inactive":         "the bot token belongs to a deactivated account or app",
	"token_revoked":            "the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN",
	"token_expired":            "the bot token expired: reinstall the app and update SLACK_BOT_TOKEN",
	"no_permission":            "the app lacks a permission: compare its scopes with slack-app-manifest.yaml",
	"missing_scope":            "the app lacks a scope: compare its scopes with slack-app-manifest.yaml and reinstall",
	"not_allowed_token_type":   "SLACK_BOT_TOKEN must be a bot token (xoxb-…)",
	"team_access_not_granted":  "the app is not installed in this workspace",
	"ekm_access_denied":        "the workspace's encryption keys deny access",
	"channel_not_found":        "the incident channel does not exist (deleted?) or the bot cannot see it",
	"is_archived":              "the incident channel is archived",
	"not_in_channel":           "the bot is not a member of the incident channel",
	"message_not_found":        "the incident card message was deleted",
	"cant_update_message":      "the incident card cannot be edited by the bot",
	"invalid_blocks":           "Slack refused the message layout",
	"invalid_blocks_format":    "Slack refused the message layout",
	"msg_too_long":             "the message is too long for Slack",
	"restricted_action":        "a workspace setting forbids this action",
	"invalid_arguments":        "Slack refused the request's arguments",
	"invalid_name":             "Slack refused the channel name",
	"invalid_name_specials":    "Slack refused the channel name",
	"invalid_name_maxlength":   "Slack refused the channel name",
	"invalid_name_punctuation": "Slack refused the channel name",
	"invalid_name_required":    "Slack refused the channel name",
	"user_not_found":           "a configured Slack user id does not exist (left the company?)",
	"user_disabled":            "a configured Slack user is deactivated",
	"cant_invite":              "a configured Slack user cannot be invited",
	"user_is_restricted":       "a configured Slack user is a guest and cannot be invited",
	"user_is_ultra_restricted": "a configured Slack user is a single-channel guest",
	"cannot_dm_bot":            "a configured Slack user id is a bot",
}

// classify turns an error of the Slack Web API into a Temporal application error: a rate limit
// carries Retry-After as the next retry delay (the activity never sleeps), a permanent error is
// non-retryable, and everything else is retried by the activity's policy.
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	// The HTTP client's errors quote the request URL: SLACK_API_URL, query and all. The cause
	// is redacted too, for a failure's cause chain goes into workflow history.
	cause := redact.Error(err)
	msg := fmt.Sprintf("slack %s: %v", op, cause)
	var rl *slackgo.RateLimitedError
	if errors.As(err, &rl) {
		d := rl.RetryAfter
		if d <= 0 {
			d = DefaultRetryAfter
		}
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("slack %s: rate limited, retry after %s", op, d),
			ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: d, Cause: cause})
	}
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		if se.Err == "ratelimited" {
			return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRateLimited,
				temporal.ApplicationErrorOptions{NextRetryDelay: DefaultRetryAfter, Cause: cause})
		}
		if why, ok := permanent[se.Err]; ok {
			return temporal.NewApplicationErrorWithOptions(msg+": "+why, ErrTypePermanent,
				temporal.ApplicationErrorOptions{NonRetryable: true, Cause: cause})
		}
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable, temporal.ApplicationErrorOptions{Cause: cause})
	}
	var sc slackgo.StatusCodeError
	if errors.As(err, &sc) && !sc.Retryable() {
		return temporal.NewApplicationErrorWithOptions(msg+": check SLACK_API_URL", ErrTypePermanent,
			temporal.ApplicationErrorOptions{NonRetryable: true, Cause: cause})
	}
	return temporal.NewApplicationErrorWithOptions(msg, ErrTypeUnavailable, temporal.ApplicationErrorOptions{Cause: cause})
}

// slackCode is the Slack error code of err ("name_taken"), or "".
func slackCode(err error) string {
	var se slackgo.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// RetryAfter reports the delay a rate-limited error asks for.
func RetryAfter(err error) (time.Duration, bool) {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) && ae.Type() == ErrTypeRateLimited {
		return ae.NextRetryDelay(), true
	}
	return 0, false
}
