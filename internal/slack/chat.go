// Package slack is the Slack chat adapter: each incident gets a private channel
// (inc-YYYYMMDD-<slug>-<tag>) with the incident card pinned and edited in place, messages with
// decision buttons, and direct messages to the DPO and the incident commander when something is
// urgent. It talks to the Slack Web API through slack-go with an injectable base URL and HTTP
// client, and never sleeps: a rate limit becomes an activity error carrying Slack's
// Retry-After as the next retry delay.
//
// The incident → channel and card mapping is kept in a small JSON record per incident in the
// installation's store (RoomKey), which every worker shares. Without it (a store that lost the
// record, or none) the adapter recovers it from Slack: the channel whose purpose names the
// incident (conversations.list), and the card among its pins (pins.list).
package slack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	slackgo "github.com/slack-go/slack"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/redact"
	recstore "github.com/breachops/breach/internal/store"
)

// DefaultAPIURL is Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// ErrTypeNoRoom is returned by Post when the incident has no channel yet.
const ErrTypeNoRoom = "SlackNoRoom"

// Config configures the adapter.
type Config struct {
	// Token is the bot token (xoxb-…), from SLACK_BOT_TOKEN.
	Token string
	// APIURL is the Web API base URL; empty means DefaultAPIURL. Tests point it at a local
	// server (SLACK_API_URL).
	APIURL string
	// HTTPClient carries every call; nil means a client with a 15 s timeout.
	HTTPClient *http.Client
	// Store keeps the room mapping, shared by every worker; nil keeps it in memory only.
	Store *recstore.Store
	// Responders are Slack user ids invited to every incident channel.
	Responders []string
	// DPO and Commanders hold the roles (from the configuration); the Slack users among them
	// (actors slack:<team>/<user>) are invited and receive urgent messages directly.
	DPO        []string
	Commanders []string
	// Teams are the workspaces whose users are invited and messaged (config slack.team_ids);
	// the users of other workspaces among the roles are left out. Empty: any.
	Teams  []string
	Now    func() time.Time
	Logger *slog.Logger
}

// Chat is the Slack adapter of incident.Chat.
type Chat struct {
	api   *slackgo.Client
	cfg   Config
	store *store
	locks sync.Map // incident id → *sync.Mutex
}

var _ incident.Chat = (*Chat)(nil)

// NormalizeAPIURL adds the trailing slash slack-go expects.
func NormalizeAPIURL(u string) string {
	if u == "" {
		return DefaultAPIURL
	}
	if !strings.HasSuffix(u, "/") {
		u += "/"
	}
	return u
}

// NewAPI builds a Web API client on baseURL with hc (nil: a 15 s timeout).
func NewAPI(token, baseURL string, hc *http.Client, opts ...slackgo.Option) *slackgo.Client {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return slackgo.New(token, append([]slackgo.Option{slackgo.OptionAPIURL(NormalizeAPIURL(baseURL)), slackgo.OptionHTTPClient(hc)}, opts...)...)
}

// New returns the adapter.
func New(cfg Config) (*Chat, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("slack: no bot token: set SLACK_BOT_TOKEN to the app's xoxb- token")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Chat{api: NewAPI(cfg.Token, cfg.APIURL, cfg.HTTPClient), cfg: cfg, store: &store{st: cfg.Store}}, nil
}

func (c *Chat) now() time.Time {
	if c.cfg.Now != nil {
		return c.cfg.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Chat) lock(incidentID string) func() {
	m, _ := c.locks.LoadOrStore(incidentID, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// purpose names the incident: it is how a worker without the room file finds the channel, and
// how `/breach status` knows which incident a channel belongs to.
func purpose(incidentID, title string) string {
	return Truncate("Breach incident "+incidentID+": "+title+". The pinned message is the incident card.", maxTopic)
}

// OpeningTopic is the channel topic before the obligations are known: the awareness time, from
// which the clocks count. Which clocks run is the rules' answer, once the scope is known; the
// topic presumes none (an incident may fall under HIPAA or DORA and not GDPR).
func OpeningTopic(r incident.RoomRequest) string {
	t := r.IncidentID + " · " + r.Title
	if !r.AwareAt.IsZero() {
		t = r.IncidentID + " · aware since " + r.AwareAt.UTC().Format("2006-01-02 15:04 UTC") + " · " + r.Title
	}
	if r.Drill {
		t = "[DRILL] " + t
	}
	return Truncate(t, maxTopic)
}

// OpenRoom creates the private incident channel, names the incident in its purpose and topic,
// invites the declarer and the responders, and posts and pins the card. A retry resumes where
// the last attempt stopped.
func (c *Chat) OpenRoom(ctx context.Context, r incident.RoomRequest) (incident.Room, error) {
	defer c.lock(r.IncidentID)()
	rm, err := c.openRoom(ctx, r)
	if err != nil {
		return incident.Room{}, err
	}
	return incident.Room{ID: rm.ChannelID, Name: "#" + rm.Name, URL: "https://slack.com/app_redirect?channel=" + rm.ChannelID}, nil
}

func (c *Chat) openRoom(ctx context.Context, r incident.RoomRequest) (room, error) {
	// With a room file, no file means a new incident: no need to search Slack for it.
	rm, found, err := c.store.load(ctx, r.IncidentID)
	if err == nil && !found && c.store.st == nil {
		rm, found, err = c.room(ctx, r.IncidentID)
	}
	if err != nil {
		return rm, err
	}
	if !found {
		rm = room{IncidentID: r.IncidentID}
	}
	if rm.ChannelID == "" {
		if rm, err = c.createChannel(ctx, r); err != nil {
			return rm, err
		}
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	if !rm.PurposeSet {
		if _, err := c.api.SetPurposeOfConversationContext(ctx, rm.ChannelID, purpose(r.IncidentID, r.Title)); err != nil {
			if err := c.bestEffort("conversations.setPurpose", err); err != nil {
				return rm, err
			}
		}
		rm.PurposeSet = true
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	if rm.Topic == "" {
		topic := OpeningTopic(r)
		if _, err := c.api.SetTopicOfConversationContext(ctx, rm.ChannelID, topic); err != nil {
			if err := c.bestEffort("conversations.setTopic", err); err != nil {
				return rm, err
			}
		}
		rm.Topic = topic
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	if !rm.Invited {
		if err := c.invite(ctx, rm.ChannelID, c.users([]string{r.DeclaredBy}, c.cfg.Responders, c.cfg.DPO, c.cfg.Commanders)); err != nil {
			return rm, err
		}
		rm.Invited = true
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	if rm.CardTS == "" {
		card := incident.Card{IncidentID: r.IncidentID, Title: r.Title, Drill: r.Drill, Phase: "open", DeclaredBy: r.DeclaredBy, AwareAt: r.AwareAt}
		blocks := CardBlocks(card, c.now())
		_, ts, err := c.api.PostMessageContext(ctx, rm.ChannelID,
			slackgo.MsgOptionText(CardText(card), false), slackgo.MsgOptionBlocks(blocks...))
		if err != nil {
			return rm, classify("chat.postMessage (card)", err)
		}
		rm.CardTS, rm.CardRev = ts, cardRev(blocks)
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	if !rm.Pinned {
		err := c.api.AddPinContext(ctx, rm.ChannelID, slackgo.NewRefToMessage(rm.ChannelID, rm.CardTS))
		if err != nil && slackCode(err) != "already_pinned" {
			if err := c.bestEffort("pins.add", err); err != nil {
				return rm, err
			}
		}
		rm.Pinned = true
		if err := c.store.save(ctx, rm); err != nil {
			return rm, err
		}
	}
	return rm, nil
}

// createChannel creates the incident's channel, or finds the one an earlier attempt created:
// on any worker, a retry computes the same name, and Slack answers name_taken when the
// channel exists (the answer to the create was lost, or the worker died before recording it).
// That channel is the incident's when its purpose names the incident or is still empty (set
// right after the create); a name held by anything else moves to the next attempt's name.
func (c *Chat) createChannel(ctx context.Context, r incident.RoomRequest) (room, error) {
	for attempt := 1; attempt <= 50; attempt++ {
		name := ChannelName(r.IncidentID, r.Title, r.Drill, attempt)
		ch, err := c.api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: name, IsPrivate: true})
		if slackCode(err) == "name_taken" {
			rm, found, err := c.adopt(ctx, r.IncidentID, name)
			if err != nil || found {
				return rm, err
			}
			continue
		}
		if err != nil {
			return room{IncidentID: r.IncidentID}, classify("conversations.create "+name, err)
		}
		if ch.Name == "" {
			ch.Name = name
		}
		return room{IncidentID: r.IncidentID, ChannelID: ch.ID, Name: ch.Name}, nil
	}
	return room{IncidentID: r.IncidentID}, temporal.NewNonRetryableApplicationError(
		fmt.Sprintf("slack: every channel name from %s to -50 is taken; archive old incident channels", ChannelName(r.IncidentID, r.Title, r.Drill, 1)),
		ErrTypePermanent, nil)
}

// adopt finds the channel called name among those the app is in, and takes it for the incident
// when it is private and its purpose names the incident or is empty; then what an earlier attempt did in it (the
// purpose, the card among its pins) is not done again.
func (c *Chat) adopt(ctx context.Context, incidentID, name string) (room, bool, error) {
	ch, found, err := c.findChannel(ctx, func(ch slackgo.Channel) bool { return ch.Name == name })
	if err != nil || !found {
		return room{}, false, err
	}
	// Incident channels are private, and only the app's own are listed: a public channel of
	// that name is someone else's.
	if owner := FindIncidentID(ch.Purpose.Value); !ch.IsPrivate || (owner != "" && owner != incidentID) {
		return room{}, false, nil
	}
	rm := room{IncidentID: incidentID, ChannelID: ch.ID, Name: ch.Name, PurposeSet: ch.Purpose.Value != "", Topic: ch.Topic.Value}
	if err := c.findCard(ctx, &rm); err != nil {
		return room{}, false, err
	}
	c.cfg.Logger.Info("slack room found by its name: an earlier attempt created it", "incident", incidentID, "channel", ch.ID)
	return rm, true, nil
}

// findCard looks for the incident's card among the channel's pins.
func (c *Chat) findCard(ctx context.Context, rm *room) error {
	items, _, err := c.api.ListPinsContext(ctx, rm.ChannelID)
	if err != nil {
		return classify("pins.list", err)
	}
	for _, it := range items {
		if it.Message != nil && isCard(it.Message, rm.IncidentID) {
			rm.CardTS, rm.Pinned, rm.CardRev = it.Message.Timestamp, true, cardRev(it.Message.Blocks.BlockSet)
			return nil
		}
	}
	return nil
}

// users are the Slack users that lists name, of this adapter's workspaces.
func (c *Chat) users(lists ...[]string) []string {
	if len(c.cfg.Teams) == 0 {
		return UserIDs(lists...)
	}
	var mine []string
	for _, list := range lists {
		for _, id := range list {
			if team, _, ok := SlackUser(id); ok && (team == "" || slices.Contains(c.cfg.Teams, team)) {
				mine = append(mine, id)
			}
		}
	}
	return UserIDs(mine)
}

// bestEffort lets a permanent failure of a cosmetic step pass (logged); anything a retry can fix
// is returned.
func (c *Chat) bestEffort(op string, err error) error {
	cerr := classify(op, err)
	var ae *temporal.ApplicationError
	if errors.As(cerr, &ae) && ae.NonRetryable() && slackCode(err) != "invalid_auth" && slackCode(err) != "not_authed" {
		c.cfg.Logger.Warn("slack step skipped", "op", op, "error", redact.Error(err))
		return nil
	}
	return cerr
}

// invite adds users to the channel; one user that cannot be invited does not keep the others
// out.
func (c *Chat) invite(ctx context.Context, channelID string, users []string) error {
	if len(users) == 0 {
		return nil
	}
	_, err := c.api.InviteUsersToConversationContext(ctx, channelID, users...)
	code := slackCode(err)
	switch {
	case err == nil:
		return nil
	case code == "" || code == "ratelimited":
		return classify("conversations.invite", err)
	case len(users) > 1:
		// Slack refuses the whole list for one bad entry: invite one by one.
		for _, u := range users {
			if err := c.invite(ctx, channelID, []string{u}); err != nil {
				return err
			}
		}
		return nil
	case code == "already_in_channel" || code == "cant_invite_self":
		return nil
	}
	return c.bestEffort("conversations.invite "+users[0], err)
}

// room loads the mapping of an incident, recovering it from Slack when this worker has none
// (another worker opened the room, or the file was lost).
func (c *Chat) room(ctx context.Context, incidentID string) (room, bool, error) {
	rm, found, err := c.store.load(ctx, incidentID)
	if err != nil || found {
		return rm, found, err
	}
	rm, found, err = c.recover(ctx, incidentID)
	if err != nil || !found {
		return rm, found, err
	}
	c.cfg.Logger.Info("slack room recovered from Slack", "incident", incidentID, "channel", rm.ChannelID)
	return rm, true, c.store.save(ctx, rm)
}

// recover finds the channel whose purpose names the incident, and the card among its pins.
func (c *Chat) recover(ctx context.Context, incidentID string) (room, bool, error) {
	ch, found, err := c.findChannel(ctx, func(ch slackgo.Channel) bool { return FindIncidentID(ch.Purpose.Value) == incidentID })
	if err != nil || !found {
		return room{}, false, err
	}
	rm := room{IncidentID: incidentID, ChannelID: ch.ID, Name: ch.Name, PurposeSet: true, Topic: ch.Topic.Value, Invited: true}
	return rm, true, c.findCard(ctx, &rm)
}

// findChannel pages through the channels the app can see, not archived, for the first that
// match accepts.
func (c *Chat) findChannel(ctx context.Context, match func(slackgo.Channel) bool) (slackgo.Channel, bool, error) {
	params := &slackgo.GetConversationsParameters{Types: []string{"private_channel", "public_channel"}, ExcludeArchived: true, Limit: 200}
	for page := 0; page < 100; page++ {
		chans, next, err := c.api.GetConversationsContext(ctx, params)
		if err != nil {
			return slackgo.Channel{}, false, classify("conversations.list", err)
		}
		for _, ch := range chans {
			if match(ch) {
				return ch, true, nil
			}
		}
		if next == "" {
			break
		}
		params.Cursor = next
	}
	return slackgo.Channel{}, false, nil
}

func isCard(m *slackgo.Message, incidentID string) bool {
	for _, id := range BlockIDs(m.Blocks.BlockSet) {
		if IsBlock(id, BlockCardHeader) {
			return m.Text == "" || strings.Contains(m.Text, incidentID)
		}
	}
	return false
}

// cardRev is the revision of a card's blocks.
func cardRev(blocks []slackgo.Block) string {
	if ids := BlockIDs(blocks); len(ids) > 0 {
		return Revision(ids[0])
	}
	return ""
}

// postKey names the running Post activity, the same on each of its retries.
func postKey(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	info := activity.GetInfo(ctx)
	return info.WorkflowExecution.RunID + "/" + info.ActivityID
}

// Post posts a message to the incident channel, with its decision button when it asks for one;
// an urgent message also goes to the DPO and the incident commander directly. A retry does not
// repeat what the failed attempt already posted.
func (c *Chat) Post(ctx context.Context, m incident.ChatMessage) error {
	defer c.lock(m.IncidentID)()
	rm, found, err := c.room(ctx, m.IncidentID)
	if err != nil {
		return err
	}
	if !found {
		return temporal.NewNonRetryableApplicationError("slack: incident "+m.IncidentID+" has no channel yet (opening it failed)", ErrTypeNoRoom, nil)
	}
	if key := postKey(ctx); key == "" || rm.LastPost.Key != key {
		rm.LastPost = postProgress{Key: key}
	}
	text := MessageText(m)
	if !rm.LastPost.done("channel") {
		if err := c.postOrFold(ctx, &rm, m, text); err != nil {
			return err
		}
		rm.LastPost.mark("channel")
		if err := c.store.save(ctx, rm); err != nil {
			return err
		}
	}
	if !m.Urgent {
		return nil
	}
	dm := fmt.Sprintf("%s in <#%s>: %s", m.IncidentID, rm.ChannelID, text)
	for _, u := range c.users(c.cfg.DPO, c.cfg.Commanders) {
		step := "dm:" + u
		if rm.LastPost.done(step) {
			continue
		}
		if err := c.direct(ctx, u, dm); err != nil {
			return err
		}
		rm.LastPost.mark(step)
		if err := c.store.save(ctx, rm); err != nil {
			return err
		}
	}
	return nil
}

// postOrFold posts a room message; a message of a fold (a line of reminders) edits the one
// before it in place instead, so that a week of reminders is one message, not hundreds.
func (c *Chat) postOrFold(ctx context.Context, rm *room, m incident.ChatMessage, text string) error {
	opts := []slackgo.MsgOption{slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(MessageBlocks(m)...)}
	if ts := rm.Folds[m.Fold]; m.Fold != "" && ts != "" {
		_, _, _, err := c.api.UpdateMessageContext(ctx, rm.ChannelID, ts, opts...)
		if err == nil {
			return nil
		}
		if !isSlackError(err, "message_not_found") {
			return classify("chat.update "+m.Kind, err)
		}
		// Deleted by someone: post it again below.
	}
	_, ts, err := c.api.PostMessageContext(ctx, rm.ChannelID, opts...)
	if err != nil {
		return classify("chat.postMessage "+m.Kind, err)
	}
	if m.Fold != "" {
		if rm.Folds == nil {
			rm.Folds = map[string]string{}
		}
		rm.Folds[m.Fold] = ts
	}
	return nil
}

func isSlackError(err error, code string) bool {
	var se slackgo.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

func (c *Chat) direct(ctx context.Context, user, text string) error {
	ch, _, _, err := c.api.OpenConversationContext(ctx, &slackgo.OpenConversationParameters{Users: []string{user}, ReturnIM: true})
	if err != nil {
		return c.bestEffort("conversations.open "+user, err)
	}
	if _, _, err := c.api.PostMessageContext(ctx, ch.ID, slackgo.MsgOptionText(text, false)); err != nil {
		return c.bestEffort("chat.postMessage (direct message to "+user+")", err)
	}
	return nil
}

// UpdateCard edits the pinned card in place with chat.update, and moves the channel topic to
// the nearest deadline when it changes. When the room could not be opened before, it is opened
// now; when someone deleted the card, a new one is posted and pinned.
func (c *Chat) UpdateCard(ctx context.Context, card incident.Card) error {
	defer c.lock(card.IncidentID)()
	rm, found, err := c.room(ctx, card.IncidentID)
	if err != nil {
		return err
	}
	if !found || rm.CardTS == "" || !rm.Pinned {
		if rm, err = c.openRoom(ctx, incident.RoomRequest{IncidentID: card.IncidentID, Title: card.Title, Drill: card.Drill, DeclaredBy: card.DeclaredBy}); err != nil {
			return err
		}
	}
	blocks := CardBlocks(card, c.now())
	text := CardText(card)
	if rev := cardRev(blocks); rev != "" && rev == rm.CardRev {
		// The card already shows this; Slack asks for new block_ids on every update.
		return c.updateTopic(ctx, rm, card)
	}
	_, _, _, err = c.api.UpdateMessageContext(ctx, rm.ChannelID, rm.CardTS, slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...))
	if code := slackCode(err); code == "message_not_found" || code == "cant_update_message" {
		rm.CardTS, rm.Pinned = "", false
		if err := c.store.save(ctx, rm); err != nil {
			return err
		}
		if rm, err = c.openRoom(ctx, incident.RoomRequest{IncidentID: card.IncidentID, Title: card.Title, Drill: card.Drill, DeclaredBy: card.DeclaredBy}); err != nil {
			return err
		}
		if rm.CardRev == cardRev(blocks) {
			return c.updateTopic(ctx, rm, card)
		}
		_, _, _, err = c.api.UpdateMessageContext(ctx, rm.ChannelID, rm.CardTS, slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...))
	}
	if err != nil {
		return classify("chat.update (card)", err)
	}
	rm.CardRev = cardRev(blocks)
	if err := c.store.save(ctx, rm); err != nil {
		return err
	}
	return c.updateTopic(ctx, rm, card)
}

// updateTopic moves the channel topic to the card's nearest deadline when it changed.
func (c *Chat) updateTopic(ctx context.Context, rm room, card incident.Card) error {
	if topic := Topic(card); topic != rm.Topic {
		if _, err := c.api.SetTopicOfConversationContext(ctx, rm.ChannelID, topic); err != nil {
			if err := c.bestEffort("conversations.setTopic", err); err != nil {
				return err
			}
		}
		rm.Topic = topic
		return c.store.save(ctx, rm)
	}
	return nil
}
