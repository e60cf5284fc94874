package ingress

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
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
	"• `/breach status`: in an incident's channel, its phase, deadlines and time left; anywhere else, the open incidents in which you hold a role.\n" +
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
	who := actor(commandOrigin(cmd), cmd.UserID)
	sub, rest, _ := strings.Cut(strings.TrimSpace(cmd.Text), " ")
	switch strings.ToLower(sub) {
	case "declare", "drill":
		drill := strings.EqualFold(sub, "drill")
		s.later("declare form", func(ctx context.Context) { s.openDeclare(ctx, cmd, who, strings.TrimSpace(rest), drill) })
		return nil
	case "status":
		s.later("status", func(ctx context.Context) { s.status(ctx, cmd, who) })
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

func (s *Server) openDeclare(ctx context.Context, cmd slackgo.SlashCommand, who, title string, drill bool) {
	if why := s.mayDeclare(ctx, who); why != "" {
		s.respond(ctx, cmd.ResponseURL, ephemeral(why))
		return
	}
	m := meta{Channel: cmd.ChannelID, ResponseURL: cmd.ResponseURL, Drill: drill}
	view := breachslack.DeclareModal(m.encode(), title, s.now(), s.cfg.Systems, s.storedDatasets())
	if drill {
		view.Title = slackgo.NewTextBlockObject(slackgo.PlainTextType, "Declare a drill", false, false)
	}
	if _, err := s.cfg.API.OpenViewContext(ctx, cmd.TriggerID, view); err != nil {
		s.cfg.Logger.Warn("slack views.open of the declaration form failed", "error", err)
		s.respond(ctx, cmd.ResponseURL, ephemeral("Slack did not open the declaration form. Try again, or declare from the CLI: `breach declare --title … --system …`"))
	}
}

// mayDeclare says why who may not declare, or "" when they may: every member of a served
// workspace, unless roles.declarers names who may.
func (s *Server) mayDeclare(ctx context.Context, who string) string {
	if len(s.cfg.Declarers) == 0 || slices.Contains(s.cfg.Declarers, who) {
		return ""
	}
	members, failed := breachslack.ExpandUserGroups(ctx, s.cfg.API, s.cfg.Declarers)
	if slices.Contains(members, who) {
		return ""
	}
	why := ":no_entry: Only the declarers (roles.declarers in the configuration) may declare an incident from Slack, and you are not one of them. " +
		"If you see a breach, tell an incident commander now; nothing was declared."
	if len(failed) > 0 {
		why += " (breach could not read " + groupList(failed) + ", so its members could not be recognised.)"
	}
	return why
}

// groupList names the groups that could not be read, and why.
func groupList(failed []breachslack.GroupFailure) string {
	var parts []string
	for _, f := range failed {
		parts = append(parts, fmt.Sprintf("the user group `%s` (%s)", breachslack.Escape(f.Group), f.Reason()))
	}
	return strings.Join(parts, ", ")
}

// channelIncident finds the incident a channel's purpose (or topic) names: a hint only, which
// the incident's recorded room confirms or not, since anyone may write a purpose.
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

// maxListed bounds how many open incidents `/breach status` looks at.
const maxListed = 50

// status answers `/breach status`: in an incident's own room (the channel the incident recorded
// when it opened it), that incident's status to whoever asks there; anywhere else, the open
// incidents in which the asker holds a role, and nothing about the others.
func (s *Server) status(ctx context.Context, cmd slackgo.SlashCommand, who string) {
	if hint := s.channelIncident(ctx, cmd.ChannelID); hint != "" {
		st, err := s.cfg.Temporal.Status(ctx, hint)
		switch {
		case errors.Is(err, ErrNoIncident):
			// Closed, or never was: the answer is the one anywhere else, so that naming an
			// incident in a purpose does not tell whether it runs.
		case err != nil:
			s.respond(ctx, cmd.ResponseURL, ephemeral(s.trouble("status of "+hint, err)))
			return
		case st.Room != "" && st.Room == cmd.ChannelID:
			s.respond(ctx, cmd.ResponseURL, ephemeral(StatusText(st, s.now())))
			return
		}
	}
	open, err := s.cfg.Temporal.Open(ctx)
	if err != nil {
		s.respond(ctx, cmd.ResponseURL, ephemeral(s.trouble("list the open incidents", err)))
		return
	}
	var mine []incident.Status
	for i, inc := range open {
		if i == maxListed {
			break
		}
		st, err := s.cfg.Temporal.Status(ctx, inc.IncidentID)
		if err != nil {
			s.cfg.Logger.Warn("status of an open incident", "incident", inc.IncidentID, "error", err)
			continue
		}
		if st.Room != "" && st.Room == cmd.ChannelID {
			s.respond(ctx, cmd.ResponseURL, ephemeral(StatusText(st, s.now())))
			return
		}
		if holdsRole(st.Roles, who) {
			mine = append(mine, st)
		}
	}
	if len(mine) == 0 {
		s.respond(ctx, cmd.ResponseURL, ephemeral("`/breach status` shows a running incident in its own channel, to everyone there; anywhere else, it lists the open incidents in which you are the DPO or an incident commander, and you are in none. Ask in the incident's channel; a closed incident's records are on the CLI (`breach status ID`)."))
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*Open incidents (%d)* in which you hold a role", len(mine))
	for i, st := range mine {
		if i == 15 {
			fmt.Fprintf(&b, "\n… and %d more: `breach status` lists them all.", len(mine)-i)
			break
		}
		b.WriteString("\n• " + OneLine(st, s.now()))
	}
	if len(open) > maxListed {
		b.WriteString("\nOnly the newest " + fmt.Sprint(maxListed) + " open incidents were looked at: `breach status` lists them all.")
	}
	s.respond(ctx, cmd.ResponseURL, ephemeral(b.String()))
}

// IncidentID derives the incident ID from the awareness time and a key, as the CLI does with
// --key: the same submission always maps to the same incident.
func IncidentID(aware time.Time, key string) string { return incident.KeyedID(aware, key, 0) }
