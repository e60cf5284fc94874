package slack

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/templates"
)

// Block IDs of the incident card and of messages.
const (
	BlockCardHeader      = "breach_card_header"
	BlockCardSummary     = "breach_card_summary"
	BlockCardContainment = "breach_card_containment"
	BlockCardObligations = "breach_card_obligations"
	BlockCardAlerts      = "breach_card_alerts"
	BlockCardPending     = "breach_card_pending"
	BlockCardFooter      = "breach_card_footer"

	// BlockMessage is the text of a message posted to the incident room.
	BlockMessage = "breach_message"
	// BlockActions holds a message's decision buttons; BlockOutcome replaces it once a person
	// has acted ("Approved by @dana at 10:04 UTC").
	BlockActions = "breach_actions"
	BlockOutcome = "breach_outcome"
)

// Action IDs of the decision buttons. The value of each button is ButtonValue(incident, step).
const (
	ActionDecide           = "breach_decide"
	ActionApproveReport    = "breach_approve_report"
	ActionConfirmIsolation = "breach_confirm_isolation"
	ActionFileReport       = "breach_file_report"
	ActionClose            = "breach_close"
)

// Callback IDs of the modals.
const (
	ViewDeclare = "breach_declare"
	ViewDecide  = "breach_decide"
	ViewFile    = "breach_file"
)

// Inputs of the modals. Each input block's block_id and its element's action_id are the same
// constant.
const (
	InputTitle     = "title"
	InputSystems   = "systems"
	InputAwareAt   = "aware_at"
	InputSeverity  = "severity"
	InputWhat      = "what_happened"
	InputSubjects  = "subjects"
	InputRisk      = "risk"
	InputNotify    = "notify"
	InputReasoning = "reasoning"
	InputConsequen = "consequences"
	InputMeasures  = "measures"
	InputAdvice    = "advice"
	InputReference = "reference"
	InputReasons   = "reasons"
)

// Options of the notify checkboxes in the DPO's modal.
const (
	NotifyAuthority = "authority"
	NotifySubjects  = "subjects"
	NotifyEncrypted = "encrypted"
)

// Severities offered when declaring.
var Severities = []string{"low", "medium", "high", "critical"}

// Risks the DPO can record.
var Risks = []string{"unlikely", "risk", "high"}

// Slack limits.
const (
	maxSectionText = 3000
	maxHeaderText  = 150
	maxTopic       = 250
	maxFallback    = 3500
)

// ButtonValue is the value of a decision button: the incident and the step it acts on.
func ButtonValue(incidentID, step string) string { return incidentID + " " + step }

// ParseButtonValue splits a button value made by ButtonValue.
func ParseButtonValue(v string) (incidentID, step string, ok bool) {
	id, step, ok := strings.Cut(v, " ")
	if !ok || !IsIncidentID(id) || step == "" || strings.ContainsAny(step, " \n") {
		return "", "", false
	}
	return id, step, true
}

func plain(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, truncate(s, maxHeaderText), false, false)
}

func md(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, truncate(s, maxSectionText), false, false)
}

func section(blockID, text string) *slackgo.SectionBlock {
	return slackgo.NewSectionBlock(md(text), nil, nil, slackgo.SectionBlockOptionBlockID(blockID))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8Start(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// SlackDate shows an instant in each reader's own time zone, with a UTC fallback.
func SlackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}

var phaseLabels = map[string]string{
	"open":    ":large_yellow_circle: open",
	"contain": ":shield: containing",
	"assess":  ":mag: assessing the scope",
	"decide":  ":scales: waiting for the DPO's decision",
	"notify":  ":envelope: notifying",
	"close":   ":checkered_flag: ready to close",
	"closed":  ":white_check_mark: closed",
}

// PhaseLabel is a phase as the card shows it.
func PhaseLabel(phase string) string {
	if l, ok := phaseLabels[phase]; ok {
		return l
	}
	return Escape(phase)
}

var containLabels = map[string]string{
	activities.ContainIsolating: ":hourglass_flowing_sand: isolating",
	activities.ContainContained: ":white_check_mark: contained",
	activities.ContainManual:    ":warning: *manual isolation required*",
	activities.ContainReleased:  ":unlock: released",
}

var obligationLabels = map[string]string{
	activities.OblDrafting:         ":pencil2: drafting",
	activities.OblAwaitingApproval: ":raised_hand: awaiting approval",
	activities.OblSubmitting:       ":outbox_tray: submitting",
	activities.OblAwaitingFiling:   ":raised_hand: awaiting the portal filing",
	activities.OblAwaitingNotices:  ":envelope: awaiting customer notices",
	activities.OblFiled:            ":white_check_mark: filed",
}

func label(m map[string]string, s string) string {
	if l, ok := m[s]; ok {
		return l
	}
	return Escape(s)
}

// CardText is the card as plain text: the notification fallback and what screen readers get.
func CardText(c activities.Card) string {
	text, err := templates.Render("card", c)
	if err != nil {
		text = c.IncidentID + ": " + c.Title + "\nPhase: " + c.Phase
	}
	return truncate(text, maxFallback)
}

// NextDeadline is the open obligation due soonest; without obligations yet, the GDPR Art. 33
// clock that runs from awareness if the breach proves notifiable.
func NextDeadline(c activities.Card) (what string, due time.Time, ok bool) {
	obs := append([]activities.ObligationStatus{}, c.Obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	for _, o := range obs {
		if o.State != activities.OblFiled && !o.DueAt.IsZero() {
			return o.ID, o.DueAt, true
		}
	}
	if len(c.Obligations) == 0 && c.Risk == "" && !c.AwareAt.IsZero() && c.ClosedAt.IsZero() {
		return "GDPR Art. 33 (if notifiable)", c.AwareAt.Add(72 * time.Hour), true
	}
	return "", time.Time{}, false
}

// Topic is the incident channel's topic: the incident and its nearest deadline.
func Topic(c activities.Card) string {
	t := c.IncidentID
	if c.Drill {
		t = "[DRILL] " + t
	}
	switch what, due, ok := NextDeadline(c); {
	case !c.ClosedAt.IsZero() || c.Phase == "closed":
		t += " · closed"
	case ok:
		t += fmt.Sprintf(" · next deadline: %s due %s", what, due.UTC().Format("2006-01-02 15:04 UTC"))
	default:
		t += " · " + c.Phase
	}
	return truncate(t, maxTopic)
}

// Left says how long until due, or how long overdue.
func Left(due, now time.Time) string {
	d := due.Sub(now).Round(time.Minute)
	if d < 0 {
		return "OVERDUE by " + shortDuration(-d)
	}
	return shortDuration(d) + " left"
}

func shortDuration(d time.Duration) string {
	h := int(d.Hours())
	m := int(d.Minutes()) % 60
	switch {
	case h >= 100:
		return fmt.Sprintf("%dd %dh", h/24, h%24)
	case h > 0:
		return fmt.Sprintf("%dh %02dm", h, m)
	default:
		return fmt.Sprintf("%dm", m)
	}
}

// CardBlocks renders the incident card. now is when it is rendered (for time left).
func CardBlocks(c activities.Card, now time.Time) []slackgo.Block {
	head := ":rotating_light: " + c.IncidentID + ": " + c.Title
	if c.Drill {
		head = ":test_tube: [DRILL] " + c.IncidentID + ": " + c.Title
	}
	blocks := []slackgo.Block{slackgo.NewHeaderBlock(plain(head), slackgo.HeaderBlockOptionBlockID(BlockCardHeader))}

	fields := []*slackgo.TextBlockObject{
		md("*Phase*\n" + PhaseLabel(c.Phase)),
		md("*Declared by*\n" + Mention(c.DeclaredBy)),
		md("*Aware since*\n" + SlackDate(c.AwareAt)),
	}
	if c.Risk != "" {
		fields = append(fields, md("*Risk (DPO)*\n"+Escape(c.Risk)))
	}
	if what, due, ok := NextDeadline(c); ok {
		fields = append(fields, md(fmt.Sprintf("*Next deadline*\n%s: %s (%s)", Escape(what), SlackDate(due), Left(due, now))))
	}
	blocks = append(blocks, slackgo.NewSectionBlock(nil, fields, nil, slackgo.SectionBlockOptionBlockID(BlockCardSummary)))

	var b strings.Builder
	b.WriteString("*Containment*")
	for _, s := range c.Containment {
		fmt.Fprintf(&b, "\n• `%s`: %s", Escape(s.System), label(containLabels, s.State))
		if s.Provider != "" {
			fmt.Fprintf(&b, " via %s", Escape(s.Provider))
		}
		if s.Manual && s.Detail != "" {
			fmt.Fprintf(&b, " (%s)", mentionIDs(s.Detail))
		}
	}
	if len(c.Containment) == 0 {
		b.WriteString("\nnone yet")
	}
	blocks = append(blocks, section(BlockCardContainment, b.String()))

	if len(c.Obligations) > 0 {
		b.Reset()
		b.WriteString("*Notifications*")
		obs := append([]activities.ObligationStatus{}, c.Obligations...)
		sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
		for _, o := range obs {
			fmt.Fprintf(&b, "\n• `%s` to %s: %s", Escape(o.ID), Escape(o.Audience), label(obligationLabels, o.State))
			if o.State == activities.OblFiled {
				if !o.SubmittedAt.IsZero() {
					fmt.Fprintf(&b, " %s", SlackDate(o.SubmittedAt))
				}
				if o.SubmittedBy != "" {
					fmt.Fprintf(&b, ", approved by %s", Mention(o.SubmittedBy))
				}
			} else {
				fmt.Fprintf(&b, ", due %s (%s)", SlackDate(o.DueAt), Left(o.DueAt, now))
			}
			if o.Late {
				b.WriteString(" :red_circle: *LATE*")
			}
		}
		blocks = append(blocks, section(BlockCardObligations, b.String()))
	}

	if a := c.Alerts; a.State != "" {
		text := fmt.Sprintf("*Customer alerts*\n%s", Escape(a.State))
		if a.Total > 0 {
			text += fmt.Sprintf(" %s %d/%d sent", progressBar(a.Sent, a.Total, 20), a.Sent, a.Total)
		}
		if a.Invalid+a.Failed > 0 {
			text += fmt.Sprintf("; %d invalid addresses, %d failed", a.Invalid, a.Failed)
		}
		blocks = append(blocks, section(BlockCardAlerts, text))
	}

	if len(c.Pending) > 0 {
		b.Reset()
		b.WriteString("*Waiting for*")
		for _, p := range c.Pending {
			b.WriteString("\n• " + Escape(p))
		}
		blocks = append(blocks, section(BlockCardPending, b.String()))
	}

	footer := "Updated " + SlackDate(now)
	if !c.ClosedAt.IsZero() {
		footer = fmt.Sprintf(":white_check_mark: Closed %s by %s", SlackDate(c.ClosedAt), Mention(c.ClosedBy))
	}
	blocks = append(blocks, slackgo.NewContextBlock(BlockCardFooter, md(footer)))
	return blocks
}

var userIDInText = regexp.MustCompile(`\b[UW][A-Z0-9]{8,}\b`)

// mentionIDs escapes text and turns the Slack user ids in it into mentions.
func mentionIDs(s string) string {
	return userIDInText.ReplaceAllStringFunc(Escape(s), func(id string) string { return "<@" + id + ">" })
}

func progressBar(done, total, width int) string {
	if total <= 0 {
		return ""
	}
	n := min(done*width/total, width)
	return "`" + strings.Repeat("█", n) + strings.Repeat("░", width-n) + "`"
}

// Request is the decision a message asks for, shown as its button.
type Request struct {
	ActionID string
	Step     string
	Label    string
	// Done is the verb shown once accepted: "Approved", "Confirmed", "Closed".
	Done string
}

var (
	stepFlag       = regexp.MustCompile(`--step ((?:report|isolation):[^\s]+)`)
	obligationFlag = regexp.MustCompile(`--obligation ([^\s]+)`)
)

// RequestOf finds the decision a room message asks for. The workflow's messages name the step
// as the CLI command would ("--step report:gdpr-art33-authority"); the same step becomes the
// button.
func RequestOf(m activities.ChatMessage) (Request, bool) {
	switch m.Kind {
	case "decision-needed":
		return Request{ActionID: ActionDecide, Step: "decide", Label: "Record the DPO's decision", Done: "Decided"}, true
	case "approval-needed":
		if s := stepFlag.FindStringSubmatch(m.Text); s != nil && strings.HasPrefix(s[1], "report:") {
			return Request{ActionID: ActionApproveReport, Step: s[1], Label: "Approve the report", Done: "Approved"}, true
		}
	case "manual-isolation", "manual-isolation-reminder":
		if s := stepFlag.FindStringSubmatch(m.Text); s != nil && strings.HasPrefix(s[1], "isolation:") {
			return Request{ActionID: ActionConfirmIsolation, Step: s[1], Label: "Confirm the manual isolation", Done: "Confirmed"}, true
		}
	case "filing-needed":
		if s := obligationFlag.FindStringSubmatch(m.Text); s != nil {
			return Request{ActionID: ActionFileReport, Step: "file:" + s[1], Label: "Confirm the portal filing", Done: "Filed"}, true
		}
	case "ready-to-close":
		return Request{ActionID: ActionClose, Step: "close", Label: "Close the incident", Done: "Closed"}, true
	}
	return Request{}, false
}

var kindIcons = map[string]string{
	"card":                      ":rotating_light:",
	"decision-needed":           ":scales:",
	"decision":                  ":scales:",
	"approval-needed":           ":raised_hand:",
	"filing-needed":             ":raised_hand:",
	"filed":                     ":white_check_mark:",
	"manual-isolation":          ":warning:",
	"manual-isolation-reminder": ":warning:",
	"escalation":                ":alarm_clock:",
	"scope":                     ":mag:",
	"scope-failed":              ":x:",
	"obligations":               ":classical_building:",
	"obligation-failed":         ":x:",
	"alerts-failed":             ":x:",
	"ready-to-close":            ":checkered_flag:",
	"closed":                    ":white_check_mark:",
}

// Overdue reports whether a message says a deadline has passed.
func Overdue(m activities.ChatMessage) bool {
	return m.Kind == "escalation" && strings.Contains(strings.ToLower(m.Text), "overdue")
}

// MessageText is a room message as plain text (notification fallback).
func MessageText(m activities.ChatMessage) string {
	text := m.Text
	if m.Drill {
		text = "[DRILL] " + text
	}
	if Overdue(m) {
		text = "OVERDUE: " + text
	}
	return truncate(text, maxFallback)
}

// MessageBlocks renders a room message, with its decision button when it asks for one. An
// overdue deadline is loud: it notifies everyone active in the channel.
func MessageBlocks(m activities.ChatMessage) []slackgo.Block {
	icon := kindIcons[m.Kind]
	if icon == "" {
		icon = ":information_source:"
	}
	prefix := ""
	if m.Drill {
		prefix = "*[DRILL]* "
	}
	switch {
	case Overdue(m):
		prefix += "<!here> :rotating_light: *OVERDUE* "
	case m.Urgent:
		prefix += "*Urgent* "
	}
	text := prefix + icon + " " + mentionIDs(m.Text)
	blocks := []slackgo.Block{section(BlockMessage, text)}
	if r, ok := RequestOf(m); ok {
		blocks = append(blocks, ActionBlock(m.IncidentID, r))
	}
	return blocks
}

// ActionBlock is the button of a request.
func ActionBlock(incidentID string, r Request) *slackgo.ActionBlock {
	btn := slackgo.NewButtonBlockElement(r.ActionID, ButtonValue(incidentID, r.Step), plain(r.Label))
	btn.Style = slackgo.StylePrimary
	if r.ActionID == ActionClose {
		btn.Confirm = slackgo.NewConfirmationBlockObject(plain("Close "+incidentID+"?"),
			md("Closing writes the breach-register entry and the post-incident report. It cannot be undone."),
			plain("Close the incident"), plain("Not yet"))
	}
	return slackgo.NewActionBlock(BlockActions, btn)
}

// Outcome is what replaces a message's buttons after a person acted.
func Outcome(verb, userID string, at time.Time, detail string) string {
	s := fmt.Sprintf(":white_check_mark: %s by %s at %s", verb, Mention(userID), at.UTC().Format("2006-01-02 15:04 UTC"))
	if detail != "" {
		s += ": " + Escape(detail)
	}
	return s
}

// ReplaceActions returns blocks with the decision buttons replaced by outcome, and whether
// there were buttons to replace.
func ReplaceActions(blocks []slackgo.Block, outcome string) ([]slackgo.Block, bool) {
	out := make([]slackgo.Block, 0, len(blocks))
	replaced := false
	for _, b := range blocks {
		if ab, ok := b.(*slackgo.ActionBlock); ok && ab.BlockID == BlockActions {
			out = append(out, slackgo.NewContextBlock(BlockOutcome, md(outcome)))
			replaced = true
			continue
		}
		out = append(out, b)
	}
	return out, replaced
}

// BlockIDs lists the block ids of blocks, for tests and lookups.
func BlockIDs(blocks []slackgo.Block) []string {
	var ids []string
	for _, b := range blocks {
		raw, err := json.Marshal(b)
		if err != nil {
			continue
		}
		var v struct {
			BlockID string `json:"block_id"`
		}
		if json.Unmarshal(raw, &v) == nil {
			ids = append(ids, v.BlockID)
		}
	}
	return ids
}
