package slackfake

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	slackgo "github.com/slack-go/slack"
)

// Sign computes X-Slack-Signature for body sent at ts, exactly as Slack does:
// "v0=" + hex(HMAC-SHA256(secret, "v0:" + ts + ":" + body)).
func Sign(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%d:", ts)
	mac.Write(body)
	return "v0=" + hex.EncodeToString(mac.Sum(nil))
}

// SignedRequest is a POST of a form body signed at now, as Slack sends it.
func SignedRequest(target, secret string, now time.Time, body []byte) *http.Request {
	req, err := http.NewRequest(http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix(), 10))
	req.Header.Set("X-Slack-Signature", Sign(secret, now.Unix(), body))
	req.Header.Set("User-Agent", "Slackbot 1.0 (+https://api.slack.com/robots)")
	return req
}

// The workspace and app a Person acts in unless told otherwise.
const (
	DefaultTeam = "T0BREACH"
	DefaultApp  = "A0BREACH"
)

// Person is someone using Slack: they type slash commands, click buttons and submit modals.
// Every request goes to the ingress signed with the app's signing secret.
type Person struct {
	ID   string
	Name string
	WS   *Workspace
	// Team, Enterprise and App are the ids Slack puts in the person's requests: the workspace
	// (DefaultTeam when empty), the Enterprise Grid organisation (none when empty) and the app
	// (DefaultApp when empty).
	Team       string
	Enterprise string
	App        string
	// Ingress is the base URL of `breach serve` (without /slack/…).
	Ingress string
	Secret  string
	HTTP    *http.Client
	// Now is the clock of the signature; nil means time.Now.
	Now func() time.Time

	n atomic.Int64
}

// Result is the ingress's answer.
type Result struct {
	Status int
	Body   []byte
	// Request is the signed request that was sent, to replay it.
	Request *http.Request
	Payload []byte
}

func (p *Person) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Person) team() string {
	if p.Team != "" {
		return p.Team
	}
	return DefaultTeam
}

func (p *Person) app() string {
	if p.App != "" {
		return p.App
	}
	return DefaultApp
}

// Actor is the person as breach names them: slack:<team>/<user>.
func (p *Person) Actor() string { return "slack:" + p.team() + "/" + p.ID }

// teamJSON is the team object of an interaction payload.
func (p *Person) teamJSON() map[string]any {
	t := map[string]any{"id": p.team(), "domain": "breach-test"}
	if p.Enterprise != "" {
		t["enterprise_id"] = p.Enterprise
	}
	return t
}

// withEnterprise adds the enterprise object of an interaction payload, when there is one.
func (p *Person) withEnterprise(payload map[string]any) map[string]any {
	if p.Enterprise != "" {
		payload["enterprise"] = map[string]any{"id": p.Enterprise, "name": "Breach Test Org"}
	}
	return payload
}

func (p *Person) client() *http.Client {
	if p.HTTP != nil {
		return p.HTTP
	}
	return http.DefaultClient
}

// Send posts body to path of the ingress, signed.
func (p *Person) Send(path string, body []byte) (Result, error) {
	req := SignedRequest(strings.TrimSuffix(p.Ingress, "/")+path, p.Secret, p.now(), body)
	return p.Do(req, body)
}

// Do sends a prepared request (a replay, a forgery) and reads the answer.
func (p *Person) Do(req *http.Request, body []byte) (Result, error) {
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	resp, err := p.client().Do(req)
	if err != nil {
		return Result{Request: req, Payload: body}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Result{Status: resp.StatusCode, Body: b, Request: req, Payload: body}, err
}

// CommandBody is the form Slack posts for `/breach <text>` typed by p in channel.
func (p *Person) CommandBody(channelID, text string) []byte {
	n := p.n.Add(1)
	v := url.Values{
		"token":        {"verification-token-unused"},
		"team_id":      {p.team()},
		"team_domain":  {"breach-test"},
		"channel_id":   {channelID},
		"channel_name": {"incident"},
		"user_id":      {p.ID},
		"user_name":    {p.Name},
		"command":      {"/breach"},
		"text":         {text},
		"api_app_id":   {p.app()},
		"response_url": {p.WS.ResponseURL(fmt.Sprintf("%s/cmd-%d", p.ID, n))},
		"trigger_id":   {p.WS.NewTrigger(p.ID)},
	}
	if p.Enterprise != "" {
		v.Set("enterprise_id", p.Enterprise)
		v.Set("enterprise_name", "Breach Test Org")
	}
	return []byte(v.Encode())
}

// Command types `/breach <text>` in channel.
func (p *Person) Command(channelID, text string) (Result, error) {
	return p.Send("/slack/commands", p.CommandBody(channelID, text))
}

func (p *Person) interact(payload any) (Result, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return Result{}, err
	}
	return p.Send("/slack/interactions", []byte(url.Values{"payload": {string(raw)}}.Encode()))
}

// Button is a button found in a message.
type Button struct {
	ActionID string `json:"action_id"`
	BlockID  string `json:"-"`
	Value    string `json:"value"`
}

// Buttons lists the buttons of a message's blocks.
func Buttons(blocks json.RawMessage) []Button {
	var bs []struct {
		Type     string   `json:"type"`
		BlockID  string   `json:"block_id"`
		Elements []Button `json:"elements"`
	}
	_ = json.Unmarshal(blocks, &bs)
	var out []Button
	for _, b := range bs {
		if b.Type != "actions" {
			continue
		}
		for _, e := range b.Elements {
			e.BlockID = b.BlockID
			out = append(out, e)
		}
	}
	return out
}

// ClickPayload is the block_actions payload of p clicking the button actionID of m.
func (p *Person) ClickPayload(m Message, actionID string) (map[string]any, error) {
	for _, b := range Buttons(m.Blocks) {
		if b.ActionID != actionID {
			continue
		}
		n := p.n.Add(1)
		return p.withEnterprise(map[string]any{
			"type":         "block_actions",
			"token":        "verification-token-unused",
			"api_app_id":   p.app(),
			"trigger_id":   p.WS.NewTrigger(p.ID),
			"response_url": p.WS.ResponseURL(fmt.Sprintf("%s/click-%d", p.ID, n)),
			"team":         p.teamJSON(),
			"user":         map[string]any{"id": p.ID, "name": p.Name, "team_id": p.team()},
			"channel":      map[string]any{"id": m.Channel, "name": "incident"},
			"container":    map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false},
			"message":      map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "blocks": m.Blocks},
			"actions": []any{map[string]any{
				"type": "button", "action_id": b.ActionID, "block_id": b.BlockID, "value": b.Value,
				"action_ts": fmt.Sprintf("%d.%06d", p.now().Unix(), n),
			}},
		}), nil
	}
	return nil, fmt.Errorf("message %s has no button %s (buttons: %v)", m.TS, actionID, Buttons(m.Blocks))
}

// Click clicks the button actionID of message m.
func (p *Person) Click(m Message, actionID string) (Result, error) {
	payload, err := p.ClickPayload(m, actionID)
	if err != nil {
		return Result{}, err
	}
	return p.interact(payload)
}

// Values are a modal's inputs: block id → action id → value.
type Values map[string]map[string]slackgo.BlockAction

// Set fills the input whose block and action ids are both id.
func (v Values) Set(id string, a slackgo.BlockAction) Values {
	v[id] = map[string]slackgo.BlockAction{id: a}
	return v
}

// Text is a plain-text input's value.
func Text(s string) slackgo.BlockAction {
	return slackgo.BlockAction{Type: "plain_text_input", Value: s}
}

// Select is a static select's choice.
func Select(value string) slackgo.BlockAction {
	return slackgo.BlockAction{Type: "static_select", SelectedOption: slackgo.OptionBlockObject{Value: value}}
}

// MultiSelect is a multi-select menu's choices (static options, or loaded from the app).
func MultiSelect(values ...string) slackgo.BlockAction {
	a := slackgo.BlockAction{Type: "multi_static_select", SelectedOptions: []slackgo.OptionBlockObject{}}
	for _, v := range values {
		a.SelectedOptions = append(a.SelectedOptions, slackgo.OptionBlockObject{Value: v,
			Text: &slackgo.TextBlockObject{Type: "plain_text", Text: v}})
	}
	return a
}

// Radio is a radio-button choice.
func Radio(value string) slackgo.BlockAction {
	return slackgo.BlockAction{Type: "radio_buttons", SelectedOption: slackgo.OptionBlockObject{Value: value}}
}

// Checkboxes are the ticked boxes.
func Checkboxes(values ...string) slackgo.BlockAction {
	a := slackgo.BlockAction{Type: "checkboxes", SelectedOptions: []slackgo.OptionBlockObject{}}
	for _, v := range values {
		a.SelectedOptions = append(a.SelectedOptions, slackgo.OptionBlockObject{Value: v})
	}
	return a
}

// DateTime is a date-time picker's value.
func DateTime(t time.Time) slackgo.BlockAction {
	return slackgo.BlockAction{Type: "datetimepicker", SelectedDateTime: t.Unix()}
}

// SuggestPayload is the block_suggestion payload of p typing typed into the menu actionID (in
// the input block of the same id) of modal v, whose options the app loads.
func (p *Person) SuggestPayload(v View, actionID, typed string) map[string]any {
	return p.withEnterprise(map[string]any{
		"type":       "block_suggestion",
		"token":      "verification-token-unused",
		"api_app_id": p.app(),
		"team":       p.teamJSON(),
		"user":       map[string]any{"id": p.ID, "name": p.Name, "team_id": p.team()},
		"block_id":   actionID,
		"action_id":  actionID,
		"value":      typed,
		"view":       map[string]any{"id": v.ID, "type": "modal", "callback_id": v.CallbackID, "private_metadata": v.Metadata},
	})
}

// Suggest types typed into a menu whose options the app loads, posted to path (the options load
// URL, e.g. /slack/options); Slack's limits on the answer are checked and recorded as
// violations.
func (p *Person) Suggest(path string, v View, actionID, typed string) (Result, error) {
	raw, err := json.Marshal(p.SuggestPayload(v, actionID, typed))
	if err != nil {
		return Result{}, err
	}
	res, err := p.Send(path, []byte(url.Values{"payload": {string(raw)}}.Encode()))
	if err == nil && res.Status == http.StatusOK {
		p.WS.record(CheckOptions("block_suggestion", res.Body))
	}
	return res, err
}

// SubmitPayload is the view_submission payload of p submitting v with values.
func (p *Person) SubmitPayload(v View, values Values) map[string]any {
	return p.withEnterprise(map[string]any{
		"type":       "view_submission",
		"token":      "verification-token-unused",
		"api_app_id": p.app(),
		"trigger_id": p.WS.NewTrigger(p.ID),
		"team":       p.teamJSON(),
		"user":       map[string]any{"id": p.ID, "name": p.Name, "team_id": p.team()},
		"view": map[string]any{
			"id": v.ID, "type": "modal", "callback_id": v.CallbackID, "private_metadata": v.Metadata,
			"hash": "h-" + v.ID, "state": map[string]any{"values": values},
		},
	})
}

// Submit submits modal v with values.
func (p *Person) Submit(v View, values Values) (Result, error) {
	return p.interact(p.SubmitPayload(v, values))
}
