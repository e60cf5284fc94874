package ingress

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	slackgo "github.com/slack-go/slack"
)

// ErrNotForm is a body that is not an application/x-www-form-urlencoded Slack request.
var ErrNotForm = errors.New("not a form-encoded Slack request")

// ParseCommand reads a slash command from a verified form body.
func ParseCommand(body []byte) (slackgo.SlashCommand, error) {
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return slackgo.SlashCommand{}, fmt.Errorf("%w: %v", ErrNotForm, err)
	}
	c := slackgo.SlashCommand{
		Token: v.Get("token"), TeamID: v.Get("team_id"), TeamDomain: v.Get("team_domain"),
		EnterpriseID: v.Get("enterprise_id"), EnterpriseName: v.Get("enterprise_name"),
		ChannelID: v.Get("channel_id"), ChannelName: v.Get("channel_name"),
		UserID: v.Get("user_id"), UserName: v.Get("user_name"),
		Command: v.Get("command"), Text: v.Get("text"),
		ResponseURL: v.Get("response_url"), TriggerID: v.Get("trigger_id"), APIAppID: v.Get("api_app_id"),
	}
	if c.Command == "" || c.UserID == "" {
		return c, fmt.Errorf("%w: no command or user_id", ErrNotForm)
	}
	return c, nil
}

// ParseInteraction reads an interaction from a verified form body: its payload field is JSON.
func ParseInteraction(body []byte) (slackgo.InteractionCallback, error) {
	var cb slackgo.InteractionCallback
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return cb, fmt.Errorf("%w: %v", ErrNotForm, err)
	}
	payload := v.Get("payload")
	if strings.TrimSpace(payload) == "" {
		return cb, fmt.Errorf("%w: no payload field", ErrNotForm)
	}
	if err := json.Unmarshal([]byte(payload), &cb); err != nil {
		return cb, fmt.Errorf("interaction payload: %w", err)
	}
	if cb.Type == "" || cb.User.ID == "" {
		return cb, errors.New("interaction payload: no type or user")
	}
	return cb, nil
}
