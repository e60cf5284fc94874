package ingress

import (
	"context"
	"log/slog"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// NewSocketClient builds a Socket Mode client: api must carry the bot token and the app-level
// token (xapp-…, SLACK_APP_TOKEN) via slack.OptionAppLevelToken.
func NewSocketClient(api *slackgo.Client, opts ...socketmode.Option) *socketmode.Client {
	return socketmode.New(api, opts...)
}

// RunSocketMode receives slash commands and interactions over Socket Mode, for companies
// without a public URL, and answers them with the same handlers as the HTTP ingress. Slack
// authenticates the connection with the app-level token, so there is no signature to check.
// It returns when ctx ends.
func (s *Server) RunSocketMode(ctx context.Context, client *socketmode.Client) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case evt, ok := <-client.Events:
				if !ok {
					return
				}
				s.socketEvent(ctx, client, evt)
			}
		}
	}()
	err := client.RunContext(ctx)
	<-done
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (s *Server) socketEvent(ctx context.Context, client *socketmode.Client, evt socketmode.Event) {
	var reply any
	switch evt.Type {
	case socketmode.EventTypeConnected:
		s.cfg.Logger.Info("slack socket mode connected")
		return
	case socketmode.EventTypeInvalidAuth:
		s.cfg.Logger.Error("slack socket mode: invalid app-level token; check SLACK_APP_TOKEN (xapp-…, scope connections:write)")
		return
	case socketmode.EventTypeConnectionError:
		s.cfg.Logger.Warn("slack socket mode connection error", "error", evt.Data)
		return
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slackgo.SlashCommand)
		if !ok {
			break
		}
		reply = s.HandleCommand(cmd)
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slackgo.InteractionCallback)
		if !ok {
			break
		}
		reply = s.HandleInteraction(cb)
	default:
		if evt.Request == nil {
			return
		}
	}
	if evt.Request == nil {
		return
	}
	if err := client.AckCtx(ctx, evt.Request.EnvelopeID, reply); err != nil {
		s.cfg.Logger.Log(ctx, slog.LevelWarn, "slack socket mode ack failed", "error", err)
	}
}
