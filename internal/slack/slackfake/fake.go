// Package slackfake is a Slack workspace for tests: slack-go's slacktest server with the Web API
// methods breach uses made stateful (channels, messages, edits, pins, modals, ephemeral messages,
// direct messages, response URLs, and files people share, served to the bot token), fault
// injection (429 with Retry-After, 5xx, Slack error codes), and people who type slash commands,
// click buttons, run message shortcuts and submit modals, signed exactly as Slack signs its
// requests.
package slackfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	slackgo "github.com/slack-go/slack"
	"github.com/slack-go/slack/slacktest"
)

// BotUserID is the bot's user id in the fake workspace.
const BotUserID = "UBREACHBOT"

// Message is a message in a channel, as last edited.
type Message struct {
	Channel string
	TS      string
	User    string
	Text    string
	Blocks  json.RawMessage
	// Edits counts chat.update calls on this message.
	Edits int
	// Files were shared with the message (ShareFile).
	Files []File
}

// Channel is a conversation.
type Channel struct {
	ID      string
	Name    string
	Private bool
	IM      bool
	Topic   string
	Purpose string
	Members []string
	Pins    []string
}

// View is a modal opened with views.open (and possibly updated).
type View struct {
	ID         string
	TriggerID  string
	User       string
	CallbackID string
	Metadata   string
	Raw        json.RawMessage
}

// Ephemeral is a message only one user sees (chat.postEphemeral or an ephemeral response).
type Ephemeral struct {
	Channel string
	User    string
	Text    string
	Blocks  json.RawMessage
}

// Response is a message sent to a response_url.
type Response struct {
	Tag             string
	ResponseType    string
	ReplaceOriginal bool
	Text            string
	Raw             json.RawMessage
}

// Fault makes one Web API call fail: Status 429 (with RetryAfter seconds) or 5xx, or a Slack
// error code answered with HTTP 200 and ok=false.
type Fault struct {
	Status     int
	RetryAfter int
	Error      string
	// Lost makes Slack do what was asked, and the answer never arrive: the caller sees a 502,
	// as when a connection drops after the request was served.
	Lost bool
}

// Workspace is the fake Slack.
type Workspace struct {
	srv   *slacktest.Server
	Token string

	mu         sync.Mutex
	seq        int
	channels   map[string]*Channel
	order      []string
	messages   map[string][]*Message
	views      []*View
	ephemerals []Ephemeral
	responses  []Response
	calls      map[string]int
	triggers   map[string]string
	faults     func(method string, call int) *Fault
	ims        map[string]string
	gone       map[string]bool
	violations []Violation
	sock       socket
	groups     map[string][]string
	files      []File
	// sent is everything the app sent, request by request: JSON bodies as they came, forms
	// with their values decoded.
	sent []string
}

// New starts a workspace whose bot token is token.
func New(token string) *Workspace {
	w := &Workspace{Token: token, channels: map[string]*Channel{}, messages: map[string][]*Message{},
		calls: map[string]int{}, triggers: map[string]string{}, ims: map[string]string{}, gone: map[string]bool{},
		groups: map[string][]string{},
		sock:   socket{connected: make(chan struct{}), acks: map[string]chan json.RawMessage{}}}
	routes := map[string]http.HandlerFunc{
		"/conversations.create":     w.api(w.create),
		"/conversations.setTopic":   w.api(w.setTopic),
		"/conversations.setPurpose": w.api(w.setPurpose),
		"/conversations.invite":     w.api(w.invite),
		"/conversations.info":       w.api(w.info),
		"/conversations.list":       w.api(w.list),
		"/conversations.members":    w.api(w.members),
		"/conversations.open":       w.api(w.open),
		"/chat.postMessage":         w.api(w.postMessage),
		"/chat.update":              w.api(w.update),
		"/chat.postEphemeral":       w.api(w.postEphemeral),
		"/pins.add":                 w.api(w.pinsAdd),
		"/pins.list":                w.api(w.pinsList),
		"/views.open":               w.api(w.viewsOpen),
		"/views.update":             w.api(w.viewsUpdate),
		"/usergroups.users.list":    w.api(w.userGroupMembers),
		"/response/":                w.response,
		"/files-pri/":               w.download,
		"/apps.connections.open":    w.appsConnectionsOpen,
		"/socket":                   w.socketHandler,
	}
	w.srv = slacktest.NewTestServer(func(c slacktest.Customize) {
		paths := make([]string, 0, len(routes))
		for p := range routes {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			c.Handle(p, routes[p])
		}
	})
	w.srv.Start()
	return w
}

// Close stops the server.
func (w *Workspace) Close() { w.srv.Stop() }

// APIURL is the Web API base URL (SLACK_API_URL).
func (w *Workspace) APIURL() string { return w.srv.GetAPIURL() }

// ResponseURL is a response_url that records what is sent to it under tag; a tag
// "<user id>/…" attributes ephemeral responses to that user.
func (w *Workspace) ResponseURL(tag string) string {
	return strings.TrimSuffix(w.srv.GetAPIURL(), "/") + "/response/" + url.PathEscape(tag)
}

// SetFaults makes calls fail: fn gets the method ("chat.update") and its 1-based call count,
// and returns the fault or nil.
func (w *Workspace) SetFaults(fn func(method string, call int) *Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = fn
}

// Calls is how many times method was called (faults included).
func (w *Workspace) Calls(method string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls[method]
}

// TotalCalls is how many Web API calls were made (faults included), and messages sent to
// response URLs: everything an app asked of Slack.
func (w *Workspace) TotalCalls() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(w.responses)
	for _, c := range w.calls {
		n += c
	}
	return n
}

// Sent is everything the app sent to Slack, one entry per request (Web API calls and messages
// to response URLs): JSON bodies as sent, form bodies with their values decoded, so a test can
// look for text in them as Slack would read it.
func (w *Workspace) Sent() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.sent...)
}

func sentText(body []byte, form url.Values) string {
	if form == nil {
		return string(body)
	}
	var b strings.Builder
	for k, vs := range form {
		for _, v := range vs {
			b.WriteString(k + "=" + v + "\n")
		}
	}
	return b.String()
}

// Violations lists every documented Slack rule that a request broke, oldest first; see
// limits.go. A request that Slack would refuse was answered with Slack's error code; the others
// were accepted as Slack accepts them (truncated, or a rule Slack only recommends).
func (w *Workspace) Violations() []Violation {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Violation(nil), w.violations...)
}

// record keeps violations found outside a Web API call.
func (w *Workspace) record(vs []Violation) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.violations = append(w.violations, vs...)
}

// check records violations and returns the error Slack answers for them, or "".
func (w *Workspace) check(vs []Violation) string {
	w.violations = append(w.violations, vs...)
	return firstCode(vs)
}

// Channels lists the channels and direct messages in creation order.
func (w *Workspace) Channels() []Channel {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Channel, 0, len(w.order))
	for _, id := range w.order {
		out = append(out, copyChannel(w.channels[id]))
	}
	return out
}

func copyChannel(c *Channel) Channel {
	cc := *c
	cc.Members = append([]string(nil), c.Members...)
	cc.Pins = append([]string(nil), c.Pins...)
	return cc
}

// Channel finds a channel by id or name.
func (w *Workspace) Channel(idOrName string) (Channel, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, id := range w.order {
		if c := w.channels[id]; c.ID == idOrName || c.Name == idOrName {
			return copyChannel(c), true
		}
	}
	return Channel{}, false
}

// AddChannel creates a channel as a person would (to test name collisions).
func (w *Workspace) AddChannel(name string, private bool) Channel {
	w.mu.Lock()
	defer w.mu.Unlock()
	return copyChannel(w.newChannel(name, private))
}

func (w *Workspace) newChannel(name string, private bool) *Channel {
	w.seq++
	c := &Channel{ID: fmt.Sprintf("C%08d", w.seq), Name: name, Private: private}
	w.channels[c.ID] = c
	w.order = append(w.order, c.ID)
	return c
}

// Messages lists a channel's messages, oldest first.
func (w *Workspace) Messages(channelID string) []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Message, 0, len(w.messages[channelID]))
	for _, m := range w.messages[channelID] {
		out = append(out, *m)
	}
	return out
}

// DirectMessages lists the messages the bot sent to user directly.
func (w *Workspace) DirectMessages(user string) []Message {
	w.mu.Lock()
	id := w.ims[user]
	w.mu.Unlock()
	if id == "" {
		return nil
	}
	return w.Messages(id)
}

// Views lists the modals opened, oldest first.
func (w *Workspace) Views() []View {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]View, 0, len(w.views))
	for _, v := range w.views {
		out = append(out, *v)
	}
	return out
}

// Ephemerals lists the ephemeral messages posted with chat.postEphemeral and the ephemeral
// responses sent to response URLs (Channel empty).
func (w *Workspace) Ephemerals() []Ephemeral {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Ephemeral(nil), w.ephemerals...)
}

// Responses lists what was sent to response URLs.
func (w *Workspace) Responses() []Response {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Response(nil), w.responses...)
}

// RemoveUser deactivates a user: inviting them or opening a direct message fails with
// user_not_found, as for someone who left the company.
func (w *Workspace) RemoveUser(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.gone[id] = true
}

// SetUserGroup makes id (S…) a user group with members; usergroups.users.list answers
// no_such_subteam for any other id.
func (w *Workspace) SetUserGroup(id string, members ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.groups[id] = append([]string{}, members...)
}

func (w *Workspace) userGroupMembers(req request) (any, string) {
	members, ok := w.groups[req.get("usergroup")]
	if !ok {
		return nil, "no_such_subteam"
	}
	return map[string]any{"users": members}, ""
}

// NewTrigger records a trigger_id for a user's interaction, as Slack does; views.open accepts
// only known triggers.
func (w *Workspace) NewTrigger(user string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	t := fmt.Sprintf("%d.%d.trigger", w.seq, len(w.triggers))
	w.triggers[t] = user
	return t
}

func (w *Workspace) nextTS() string {
	w.seq++
	return fmt.Sprintf("%d.%06d", 1700000000+w.seq, w.seq)
}

// request is a Web API call's arguments, from a form or a JSON body.
type request struct {
	form url.Values
	json map[string]json.RawMessage
}

func (r request) get(k string) string {
	if v := r.form.Get(k); v != "" {
		return v
	}
	if raw, ok := r.json[k]; ok {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
		return string(raw)
	}
	return ""
}

type handler func(req request) (any, string)

// api wraps a method: counts the call, applies faults, checks the token, and writes the
// answer; errCode non-empty answers ok=false.
func (w *Workspace) api(h handler) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		method := strings.TrimPrefix(r.URL.Path, "/")
		body, _ := io.ReadAll(r.Body)
		req := request{json: map[string]json.RawMessage{}}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			_ = json.Unmarshal(body, &req.json)
		} else {
			req.form, _ = url.ParseQuery(string(body))
		}
		w.mu.Lock()
		w.calls[method]++
		w.sent = append(w.sent, sentText(body, req.form))
		var f *Fault
		if w.faults != nil {
			f = w.faults(method, w.calls[method])
		}
		w.mu.Unlock()
		if f != nil && !f.Lost {
			switch {
			case f.Status == http.StatusTooManyRequests:
				rw.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
				http.Error(rw, "rate limited", f.Status)
				return
			case f.Status != 0:
				http.Error(rw, "<html>Slack is having trouble</html>", f.Status)
				return
			case f.Error != "":
				writeJSON(rw, map[string]any{"ok": false, "error": f.Error})
				return
			}
		}
		token := req.form.Get("token")
		if token == "" {
			token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		}
		if w.Token != "" && token != w.Token {
			code := "invalid_auth"
			if token == "" {
				code = "not_authed"
			}
			writeJSON(rw, map[string]any{"ok": false, "error": code})
			return
		}
		w.mu.Lock()
		out, errCode := h(req)
		w.mu.Unlock()
		if f != nil && f.Lost {
			http.Error(rw, "<html>Bad Gateway</html>", http.StatusBadGateway)
			return
		}
		if errCode != "" {
			writeJSON(rw, map[string]any{"ok": false, "error": errCode})
			return
		}
		m := map[string]any{"ok": true}
		if extra, ok := out.(map[string]any); ok {
			for k, v := range extra {
				m[k] = v
			}
		}
		writeJSON(rw, m)
	}
}

func writeJSON(rw http.ResponseWriter, v any) {
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(v)
}

func channelJSON(c *Channel) map[string]any {
	return map[string]any{
		"id": c.ID, "name": c.Name, "is_private": c.Private, "is_channel": !c.IM, "is_im": c.IM,
		"topic": map[string]any{"value": c.Topic}, "purpose": map[string]any{"value": c.Purpose},
		"num_members": len(c.Members),
	}
}

func messageJSON(m *Message) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "channel": m.Channel}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	return out
}

func (w *Workspace) create(req request) (any, string) {
	name := req.get("name")
	if code := w.check(CheckChannelName("conversations.create", name)); code != "" {
		return nil, code
	}
	for _, c := range w.channels {
		if c.Name == name {
			return nil, "name_taken"
		}
	}
	c := w.newChannel(name, req.get("is_private") == "true")
	c.Members = []string{BotUserID}
	return map[string]any{"channel": channelJSON(c)}, ""
}

func (w *Workspace) channel(req request) (*Channel, string) {
	c, ok := w.channels[req.get("channel")]
	if !ok {
		return nil, "channel_not_found"
	}
	return c, ""
}

func (w *Workspace) setTopic(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	if code := w.check(CheckTopic("conversations.setTopic", req.get("topic"))); code != "" {
		return nil, code
	}
	c.Topic = req.get("topic")
	return map[string]any{"channel": channelJSON(c)}, ""
}

func (w *Workspace) setPurpose(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	if code := w.check(CheckPurpose("conversations.setPurpose", req.get("purpose"))); code != "" {
		return nil, code
	}
	c.Purpose = req.get("purpose")
	return map[string]any{"channel": channelJSON(c)}, ""
}

func (w *Workspace) invite(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	for _, u := range strings.Split(req.get("users"), ",") {
		if u == "" || w.gone[u] || !strings.HasPrefix(u, "U") && !strings.HasPrefix(u, "W") {
			return nil, "user_not_found"
		}
	}
	for _, u := range strings.Split(req.get("users"), ",") {
		if !contains(c.Members, u) {
			c.Members = append(c.Members, u)
		}
	}
	return map[string]any{"channel": channelJSON(c)}, ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (w *Workspace) info(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	return map[string]any{"channel": channelJSON(c)}, ""
}

func (w *Workspace) list(req request) (any, string) {
	var out []any
	for _, id := range w.order {
		if c := w.channels[id]; !c.IM {
			out = append(out, channelJSON(c))
		}
	}
	return map[string]any{"channels": out, "response_metadata": map[string]any{"next_cursor": ""}}, ""
}

func (w *Workspace) members(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	return map[string]any{"members": c.Members, "response_metadata": map[string]any{"next_cursor": ""}}, ""
}

func (w *Workspace) open(req request) (any, string) {
	user := req.get("users")
	if user == "" || strings.Contains(user, ",") {
		return nil, "invalid_arguments"
	}
	if w.gone[user] || !strings.HasPrefix(user, "U") && !strings.HasPrefix(user, "W") {
		return nil, "user_not_found"
	}
	id, ok := w.ims[user]
	if !ok {
		w.seq++
		c := &Channel{ID: fmt.Sprintf("D%08d", w.seq), IM: true, Members: []string{BotUserID, user}}
		w.channels[c.ID] = c
		w.order = append(w.order, c.ID)
		w.ims[user] = c.ID
		id = c.ID
	}
	return map[string]any{"channel": map[string]any{"id": id}}, ""
}

func (w *Workspace) postMessage(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	if !contains(c.Members, BotUserID) {
		return nil, "not_in_channel"
	}
	if code := w.check(CheckMessage("chat.postMessage", req.get("text"), req.get("blocks"))); code != "" {
		return nil, code
	}
	m := &Message{Channel: c.ID, TS: w.nextTS(), User: BotUserID, Text: req.get("text")}
	if b := req.get("blocks"); b != "" {
		m.Blocks = json.RawMessage(b)
	}
	w.messages[c.ID] = append(w.messages[c.ID], m)
	return map[string]any{"channel": c.ID, "ts": m.TS, "message": messageJSON(m)}, ""
}

func (w *Workspace) find(channelID, ts string) *Message {
	for _, m := range w.messages[channelID] {
		if m.TS == ts {
			return m
		}
	}
	return nil
}

func (w *Workspace) update(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	m := w.find(c.ID, req.get("ts"))
	if m == nil {
		return nil, "message_not_found"
	}
	if code := w.check(CheckMessage("chat.update", req.get("text"), req.get("blocks"))); code != "" {
		return nil, code
	}
	if t := req.get("text"); t != "" {
		m.Text = t
	}
	if b := req.get("blocks"); b != "" {
		w.check(CheckUpdatedBlockIDs("chat.update", m.Blocks, []byte(b)))
		m.Blocks = json.RawMessage(b)
	}
	m.Edits++
	return map[string]any{"channel": c.ID, "ts": m.TS, "text": m.Text}, ""
}

func (w *Workspace) postEphemeral(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	user := req.get("user")
	if !contains(c.Members, BotUserID) {
		return nil, "not_in_channel"
	}
	if !contains(c.Members, user) {
		return nil, "user_not_in_channel"
	}
	if code := w.check(CheckMessage("chat.postEphemeral", req.get("text"), req.get("blocks"))); code != "" {
		return nil, code
	}
	e := Ephemeral{Channel: c.ID, User: user, Text: req.get("text")}
	if b := req.get("blocks"); b != "" {
		e.Blocks = json.RawMessage(b)
	}
	w.ephemerals = append(w.ephemerals, e)
	return map[string]any{"message_ts": w.nextTS()}, ""
}

func (w *Workspace) pinsAdd(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	ts := req.get("timestamp")
	if w.find(c.ID, ts) == nil {
		return nil, "message_not_found"
	}
	if contains(c.Pins, ts) {
		return nil, "already_pinned"
	}
	c.Pins = append(c.Pins, ts)
	return nil, ""
}

func (w *Workspace) pinsList(req request) (any, string) {
	c, code := w.channel(req)
	if code != "" {
		return nil, code
	}
	items := []any{}
	for _, ts := range c.Pins {
		if m := w.find(c.ID, ts); m != nil {
			items = append(items, map[string]any{"type": "message", "channel": c.ID, "message": messageJSON(m)})
		}
	}
	return map[string]any{"items": items}, ""
}

func (w *Workspace) viewsOpen(req request) (any, string) {
	trigger := req.get("trigger_id")
	user, ok := w.triggers[trigger]
	if !ok {
		return nil, "invalid_trigger_id"
	}
	delete(w.triggers, trigger)
	var v struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
	}
	raw := req.json["view"]
	if json.Unmarshal(raw, &v) != nil {
		return nil, "invalid_arguments"
	}
	if code := w.check(CheckView("views.open", "/view", raw)); code != "" {
		return nil, code
	}
	w.seq++
	view := &View{ID: fmt.Sprintf("V%08d", w.seq), TriggerID: trigger, User: user, CallbackID: v.CallbackID, Metadata: v.PrivateMetadata, Raw: raw}
	w.views = append(w.views, view)
	return map[string]any{"view": map[string]any{"id": view.ID, "callback_id": v.CallbackID, "private_metadata": v.PrivateMetadata}}, ""
}

func (w *Workspace) viewsUpdate(req request) (any, string) {
	id := req.get("view_id")
	for _, v := range w.views {
		if v.ID == id {
			if code := w.check(CheckView("views.update", "/view", req.json["view"])); code != "" {
				return nil, code
			}
			v.Raw = req.json["view"]
			return map[string]any{"view": map[string]any{"id": v.ID}}, ""
		}
	}
	return nil, "not_found"
}

func (w *Workspace) response(rw http.ResponseWriter, r *http.Request) {
	tag, _ := url.PathUnescape(strings.TrimPrefix(r.URL.Path, "/response/"))
	body, _ := io.ReadAll(r.Body)
	var msg slackgo.WebhookMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		http.Error(rw, "invalid_payload", http.StatusBadRequest)
		return
	}
	var blocks []byte
	if msg.Blocks != nil {
		blocks, _ = json.Marshal(msg.Blocks)
	}
	w.mu.Lock()
	w.sent = append(w.sent, string(body))
	if code := w.check(CheckMessage("response_url", msg.Text, string(blocks))); code != "" {
		w.mu.Unlock()
		http.Error(rw, code, http.StatusBadRequest)
		return
	}
	w.responses = append(w.responses, Response{Tag: tag, ResponseType: msg.ResponseType, ReplaceOriginal: msg.ReplaceOriginal, Text: msg.Text, Raw: body})
	if msg.ResponseType != "in_channel" {
		user, _, _ := strings.Cut(tag, "/")
		e := Ephemeral{User: user, Text: msg.Text, Blocks: blocks}
		w.ephemerals = append(w.ephemerals, e)
	}
	w.mu.Unlock()
	_, _ = rw.Write([]byte("ok"))
}
