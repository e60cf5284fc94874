package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
	breachslack "github.com/breachops/breach/internal/slack"
)

// HelpText is the answer to `/breach help` and to unknown subcommands.
const HelpText = "*breach* runs the breach response plan.\n" +
	"• `/breach declare [title]`: declare a suspected breach. A form asks for the affected systems and when you became aware; isolation starts as soon as you submit.\n" +
	"• `/breach drill [title]`: the same, as a tabletop drill (nothing is filed with any authority).\n" +
	"• `/breach status`: in an incident channel, its phase, deadlines and time left; anywhere else, the open incidents.\n" +
	"• `/breach help`: this help.\n" +
	"Decisions are buttons in the incident channel. The same steps work from the CLI: `breach decide`, `approve`, `file`, `close`."

func help(prefix string) message {
	if prefix != "" {
		return ephemeral(prefix + "\n\n" + HelpText)
	}
	return ephemeral(HelpText)
}

func keyIf(prefix, v string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

// meta travels in a modal's private_metadata: where the modal came from, so the outcome can be
// shown there.
type meta struct {
	Channel     string `json:"c,omitempty"`
	ResponseURL string `json:"r,omitempty"`
	Incident    string `json:"i,omitempty"`
	Step        string `json:"s,omitempty"`
	MessageTS   string `json:"t,omitempty"`
	Drill       bool   `json:"d,omitempty"`
	// Blocks are the blocks of the message whose button opened the modal, when they fit.
	Blocks json.RawMessage `json:"b,omitempty"`
	Text   string          `json:"x,omitempty"`
}

// maxMetadata is Slack's limit on private_metadata, in characters.
const maxMetadata = 3000

// encode is the metadata as JSON of at most maxMetadata characters: the message's blocks are
// left out when they do not fit, then its text is shortened.
func (m meta) encode() string {
	enc := func(m meta) string {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		_ = e.Encode(m)
		return strings.TrimSuffix(b.String(), "\n")
	}
	s := enc(m)
	if breachslack.Chars(s) <= maxMetadata {
		return s
	}
	m.Blocks = nil
	for n := 1500; n > 0; n /= 2 {
		m.Text = breachslack.TruncateMrkdwn(m.Text, n)
		if s = enc(m); breachslack.Chars(s) <= maxMetadata {
			return s
		}
	}
	m.Text = ""
	return enc(m)
}

func decodeMeta(s string) meta {
	var m meta
	_ = json.Unmarshal([]byte(s), &m)
	return m
}

// command answers a slash command at once; its work runs after the answer.
func (s *Server) command(cmd slackgo.SlashCommand, sigKey string) any {
	if !s.replays.first(s.now(), sigKey, keyIf("cmd:", cmd.TriggerID)) {
		return nil
	}
	sub, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	switch strings.ToLower(sub) {
	case "declare", "drill":
		drill := strings.EqualFold(sub, "drill")
		s.later("declare form", func(ctx context.Context) { s.openDeclare(ctx, cmd, strings.TrimSpace(rest), drill) })
		return nil
	case "status":
		s.later("status", func(ctx context.Context) { s.status(ctx, cmd) })
		return nil
	case "", "help":
		return help("")
	default:
		return help(fmt.Sprintf("`%s` is not a breach command.", breachslack.Escape(truncateRunes(sub, 40))))
	}
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

func (s *Server) openDeclare(ctx context.Context, cmd slackgo.SlashCommand, title string, drill bool) {
	m := meta{Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL, Drill: drill}
	view := breachslack.DeclareModal(m.encode(), title, s.now())
	if drill {
		view.Title = slackgo.NewTextBlockObject(slackgo.PlainTextType, "Declare a drill", false, false)
	}
	if _, err := s.cfg.API.OpenViewContext(ctx, cmd.TriggerID, view); err != nil {
		s.cfg.Logger.Warn("slack views.open failed", "error", err)
		s.respond(ctx, cmd.ResponseURL, ephemeral("breach could not open the declaration form ("+errText(err)+"). Try again, or declare from the CLI: `breach declare --title … --system …`"))
	}
}

// channelIncident finds the incident a channel belongs to from its purpose (or topic).
func (s *Server) channelIncident(ctx context.Context, channelID string) string {
	if channelID == "" {
		return ""
	}
	ch, err := s.cfg.API.GetConversationInfoContext(ctx, &slackgo.GetConversationInfoInput{ChannelID: channelID})
	if err != nil {
		return ""
	}
	if id := breachslack.FindIncidentID(ch.Purpose.Value); id != "" {
		return id
	}
	return breachslack.FindIncidentID(ch.Topic.Value)
}

func (s *Server) status(ctx context.Context, cmd slackgo.SlashCommand) {
	if id := s.channelIncident(ctx, cmd.ChannelID); id != "" {
		st, err := s.cfg.Temporal.Status(ctx, id)
		switch {
		case errors.Is(err, ErrNoIncident):
			s.respond(ctx, cmd.ResponseURL, ephemeral(fmt.Sprintf("%s is not running: it was closed, or its history was removed. `breach status %s` shows its records.", id, id)))
		case err != nil:
			s.respond(ctx, cmd.ResponseURL, ephemeral("breach could not read the status of "+id+": "+errText(err)))
		default:
			s.respond(ctx, cmd.ResponseURL, ephemeral(StatusText(st, s.now())))
		}
		return
	}
	open, err := s.cfg.Temporal.Open(ctx)
	if err != nil {
		s.respond(ctx, cmd.ResponseURL, ephemeral("breach could not list the open incidents: "+errText(err)))
		return
	}
	var b strings.Builder
	if len(open) == 0 {
		b.WriteString("No open incidents. `/breach declare` declares one.")
	} else {
		fmt.Fprintf(&b, "*Open incidents (%d)*", len(open))
	}
	for i, inc := range open {
		if i == 15 {
			fmt.Fprintf(&b, "\n… and %d more: `breach status` lists them all.", len(open)-i)
			break
		}
		st, err := s.cfg.Temporal.Status(ctx, inc.IncidentID)
		if err != nil {
			fmt.Fprintf(&b, "\n• *%s*: declared %s", inc.IncidentID, fmtUTC(inc.Started))
			continue
		}
		b.WriteString("\n• " + OneLine(st, s.now()))
	}
	s.respond(ctx, cmd.ResponseURL, ephemeral(b.String()))
}

// IncidentID derives the incident ID from the awareness time and a key, as the CLI does with
// --key: the same submission always maps to the same incident.
func IncidentID(aware time.Time, key string) string { return incident.KeyedID(aware, key, 0) }
