package slack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
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

	// BlockNoDatasets says, in the declaration form, how to give a dataset when the store
	// offers none.
	BlockNoDatasets = "breach_no_datasets"
)

// Action IDs of the decision buttons. The value of each button is ButtonValue(incident, step).
const (
	ActionDecide           = "breach_decide"
	ActionApproveReport    = "breach_approve_report"
	ActionConfirmIsolation = "breach_confirm_isolation"
	ActionFileReport       = "breach_file_report"
	ActionClose            = "breach_close"
	ActionRetryAlerts      = "breach_retry_alerts"
)

// Callback IDs of the modals.
const (
	ViewDeclare = "breach_declare"
	ViewDecide  = "breach_decide"
	ViewFile    = "breach_file"
	// ViewApproveLate approves a report after its deadline, with the reasons for the delay.
	ViewApproveLate = "breach_approve_late"
)

// ShortcutUseDataset is the callback id of the message shortcut that makes a CSV shared in an
// incident's channel its affected-subjects dataset (slack-app-manifest.yaml).
const ShortcutUseDataset = "breach_use_dataset"

// Inputs of the modals. Each input block's block_id and its element's action_id are the same
// constant.
const (
	InputTitle     = "title"
	InputSystems   = "systems"
	InputAddresses = "addresses"
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

// plain is a plain_text object of at most n characters.
func plain(s string, n int) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.PlainTextType, Truncate(s, n), false, false)
}

// md is a mrkdwn object; text longer than a section allows is cut at a token boundary.
func md(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, TruncateMrkdwn(s, maxSectionText), false, false)
}

func section(blockID, text string) *slackgo.SectionBlock {
	return slackgo.NewSectionBlock(md(text), nil, nil, slackgo.SectionBlockOptionBlockID(blockID))
}

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
	incident.ContainIsolating: ":hourglass_flowing_sand: isolating",
	incident.ContainContained: ":white_check_mark: contained",
	incident.ContainManual:    ":warning: *manual isolation required*",
	incident.ContainReleased:  ":unlock: released",
}

var obligationLabels = map[string]string{
	incident.OblDrafting:         ":pencil2: drafting",
	incident.OblAwaitingApproval: ":raised_hand: awaiting approval",
	incident.OblSubmitting:       ":outbox_tray: submitting",
	incident.OblAwaitingFiling:   ":raised_hand: awaiting the portal filing",
	incident.OblAwaitingNotices:  ":envelope: awaiting customer notices",
	incident.OblFiled:            ":white_check_mark: filed",
}

func label(m map[string]string, s string) string {
	if l, ok := m[s]; ok {
		return l
	}
	return Escape(s)
}

// CardText is the card as plain text: the notification fallback and what screen readers get.
// It is mrkdwn to Slack, so the text is escaped.
func CardText(c incident.Card) string {
	text, err := templates.Render("card", c)
	if err != nil {
		text = c.IncidentID + ": " + c.Title + "\nPhase: " + c.Phase
	}
	return TruncateMrkdwn(Escape(text), maxFallback)
}

// NextDeadline is the open obligation due soonest; without obligations yet, the GDPR Art. 33
// clock that runs from awareness if the breach proves notifiable.
func NextDeadline(c incident.Card) (what string, due time.Time, ok bool) {
	obs := append([]incident.ObligationStatus{}, c.Obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	for _, o := range obs {
		if o.State != incident.OblFiled && !o.DueAt.IsZero() && o.Paused == nil {
			return o.ID, o.DueAt, true
		}
	}
	if len(c.Obligations) == 0 && c.Risk == "" && !c.AwareAt.IsZero() && c.ClosedAt.IsZero() {
		return "GDPR Art. 33 (if notifiable)", c.AwareAt.Add(72 * time.Hour), true
	}
	return "", time.Time{}, false
}

// Topic is the incident channel's topic: the incident and its nearest deadline.
func Topic(c incident.Card) string {
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
	return Truncate(t, maxTopic)
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

// How much of the card each list may take. A card stays far below Slack's 50 blocks, and its
// text below about 12,000 characters: Slack refuses longer messages with msg_blocks_too_long
// although no page documents that limit (slackapi/bolt-js#2509, #2867).
const (
	cardContainmentChars = 2000
	cardObligationChars  = 6000
	cardPendingChars     = 1500
)

// CardBlocks renders the incident card. now is when it is rendered (for time left). Lists too
// long for the card end with how many were left out and where to see them all.
func CardBlocks(c incident.Card, now time.Time) []slackgo.Block {
	head := ":rotating_light: " + c.IncidentID + ": " + c.Title
	if c.Drill {
		head = ":test_tube: [DRILL] " + c.IncidentID + ": " + c.Title
	}
	blocks := []slackgo.Block{slackgo.NewHeaderBlock(plain(head, maxHeaderText), slackgo.HeaderBlockOptionBlockID(BlockCardHeader))}
	blocks = append(blocks, cardSummary(c, now))

	status := fmt.Sprintf("`/breach status` in this channel, or `breach status %s`", c.IncidentID)
	blocks = append(blocks, listSections(BlockCardContainment, "*Containment*", containmentLines(c.Containment), cardContainmentChars,
		func(n int) string {
			return fmt.Sprintf("… and %d more %s: %s", n, plural(n, "system", "systems"), status)
		})...)

	if len(c.Obligations) > 0 {
		blocks = append(blocks, listSections(BlockCardObligations, "*Notifications*", obligationLines(c.Obligations, now), cardObligationChars,
			func(n int) string {
				return fmt.Sprintf("… and %d more %s: %s", n, plural(n, "obligation", "obligations"), status)
			})...)
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
		var lines []string
		for _, p := range c.Pending {
			lines = append(lines, "• "+Escape(p))
		}
		blocks = append(blocks, listSections(BlockCardPending, "*Waiting for*", lines, cardPendingChars,
			func(n int) string { return fmt.Sprintf("… and %d more: %s", n, status) })...)
	}

	footer := "Updated " + SlackDate(now)
	if !c.ClosedAt.IsZero() {
		footer = fmt.Sprintf(":white_check_mark: Closed %s by %s", SlackDate(c.ClosedAt), Mention(c.ClosedBy))
	}
	blocks = append(blocks, slackgo.NewContextBlock(BlockCardFooter, md(footer)))
	return WithRevision(blocks)
}

// cardSummary is the card's section of fields: phase, who declared, since when the
// organisation is aware, the DPO's risk and the next deadline.
func cardSummary(c incident.Card, now time.Time) slackgo.Block {
	aware := "not yet known"
	if !c.AwareAt.IsZero() {
		aware = SlackDate(c.AwareAt)
	}
	declaredBy := Mention(c.DeclaredBy)
	if declaredBy == "" {
		declaredBy = "unknown"
	}
	fields := []*slackgo.TextBlockObject{
		field("*Phase*\n" + PhaseLabel(c.Phase)),
		field("*Declared by*\n" + declaredBy),
		field("*Aware since*\n" + aware),
	}
	if c.Risk != "" {
		fields = append(fields, field("*Risk (DPO)*\n"+Escape(c.Risk)))
	}
	if what, due, ok := NextDeadline(c); ok {
		fields = append(fields, field(fmt.Sprintf("*Next deadline*\n%s: %s (%s)", Escape(what), SlackDate(due), Left(due, now))))
	}
	return slackgo.NewSectionBlock(nil, fields, nil, slackgo.SectionBlockOptionBlockID(BlockCardSummary))
}

// containmentLines are the card's lines for the systems being contained, one a system, or
// "none yet".
func containmentLines(systems []incident.SystemStatus) []string {
	var lines []string
	for _, s := range systems {
		line := fmt.Sprintf("• `%s`: %s", Escape(s.System), label(containLabels, s.State))
		if s.Provider != "" {
			line += " via " + Escape(s.Provider)
		}
		if s.Manual && s.Detail != "" {
			line += " (" + mentionIDs(s.Detail) + ")"
		}
		if s.State == incident.ContainManual && s.Reminders > 0 {
			line += fmt.Sprintf(": reminded %d %s, last %s", s.Reminders, plural(s.Reminders, "time", "times"), SlackDate(s.LastReminder))
		}
		lines = append(lines, line)
	}
	if len(lines) == 0 {
		lines = []string{"none yet"}
	}
	return lines
}

// obligationLines are the card's lines for the notifications, soonest due first: filed, paused
// by a law-enforcement delay, or due with the time left.
func obligationLines(obligations []incident.ObligationStatus, now time.Time) []string {
	obs := append([]incident.ObligationStatus{}, obligations...)
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].DueAt.Before(obs[j].DueAt) })
	var lines []string
	for _, o := range obs {
		line := fmt.Sprintf("• `%s` to %s: %s", Escape(o.ID), Escape(o.Audience), label(obligationLabels, o.State))
		if o.State == incident.OblFiled {
			if !o.SubmittedAt.IsZero() {
				line += " " + SlackDate(o.SubmittedAt)
			}
			if o.SubmittedBy != "" {
				line += ", approved by " + Mention(o.SubmittedBy)
			}
		} else if p := o.Paused; p != nil {
			line += fmt.Sprintf(" :double_vertical_bar: paused by law-enforcement delay #%d", p.Delay)
			if !p.Until.IsZero() {
				line += " until " + SlackDate(p.Until)
			}
			line += fmt.Sprintf("; due %s before the pause, moved by the time it stands still", SlackDate(o.DueAt))
		} else {
			line += fmt.Sprintf(", due %s (%s)", SlackDate(o.DueAt), Left(o.DueAt, now))
			if !o.StatutoryLimit.IsZero() {
				line += "; statutory outer limit " + SlackDate(o.StatutoryLimit)
			}
		}
		if o.Late {
			line += " :red_circle: *LATE*"
		}
		lines = append(lines, line)
	}
	return lines
}

func field(s string) *slackgo.TextBlockObject {
	return slackgo.NewTextBlockObject(slackgo.MarkdownType, TruncateMrkdwn(s, maxFieldText), false, false)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// listSections shows a heading and its lines in as many sections as the lines need (each at
// most maxSectionText characters, each line whole unless it alone is longer), using at most
// budget characters. The lines that do not fit are counted in a last line, more(n).
func listSections(blockID, heading string, lines []string, budget int, more func(n int) string) []slackgo.Block {
	// A line never takes a section alone beyond the section's limit.
	for i, l := range lines {
		lines[i] = TruncateMrkdwn(l, maxSectionText-Chars(heading)-1)
	}
	pack := func(reserve int) (chunks []string, used int) {
		cur, total := heading, Chars(heading)
		for _, l := range lines {
			n := 1 + Chars(l)
			if total+n+reserve > budget {
				break
			}
			if Chars(cur)+n > maxSectionText {
				chunks = append(chunks, cur)
				cur = l
				total += n - 1
			} else {
				cur += "\n" + l
				total += n
			}
			used++
		}
		return append(chunks, cur), used
	}
	chunks, used := pack(0)
	if used < len(lines) {
		// Room for the line that says what was left out, in the last section too.
		reserve := 1 + Chars(more(len(lines)))
		chunks, used = pack(reserve)
		last := chunks[len(chunks)-1] + "\n" + more(len(lines)-used)
		if Chars(last) > maxSectionText {
			chunks = append(chunks, more(len(lines)-used))
		} else {
			chunks[len(chunks)-1] = last
		}
	}
	out := make([]slackgo.Block, len(chunks))
	for i, text := range chunks {
		id := blockID
		if i > 0 {
			id = fmt.Sprintf("%s-%d", blockID, i+1)
		}
		out[i] = section(id, text)
	}
	return out
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

// RequestOf finds the decision a room message asks for, from its Step: the same step becomes
// the button. Messages queued by workflows from before messages carried their step (during an
// upgrade) are read from the command their text shows.
func RequestOf(m incident.ChatMessage) (Request, bool) {
	step := m.Step
	if step == "" {
		step = legacyStep(m)
	}
	kind, subject := incident.StepSubject(step)
	switch {
	case step == incident.StepDecide:
		return Request{ActionID: ActionDecide, Step: step, Label: "Record the DPO's decision", Done: "Decided"}, true
	case step == incident.StepClose:
		return Request{ActionID: ActionClose, Step: step, Label: "Close the incident", Done: "Closed"}, true
	case step == incident.StepRetryAlerts:
		return Request{ActionID: ActionRetryAlerts, Step: step, Label: "Retry the customer alerts", Done: "Retried"}, true
	case subject == "":
	case kind == incident.StepReport:
		return Request{ActionID: ActionApproveReport, Step: step, Label: "Approve the report", Done: "Approved"}, true
	case kind == incident.StepIsolation:
		return Request{ActionID: ActionConfirmIsolation, Step: step, Label: "Confirm the manual isolation", Done: "Confirmed"}, true
	case kind == incident.StepFile:
		return Request{ActionID: ActionFileReport, Step: step, Label: "Confirm the portal filing", Done: "Filed"}, true
	}
	return Request{}, false
}

var (
	legacyStepFlag       = regexp.MustCompile(`--step ((?:report|isolation):[^\s]+)`)
	legacyObligationFlag = regexp.MustCompile(`--obligation ([^\s]+)`)
)

// legacyStep reads the step from the text of a message made before messages carried it.
func legacyStep(m incident.ChatMessage) string {
	switch m.Kind {
	case incident.MsgDecisionNeeded:
		return incident.StepDecide
	case incident.MsgReadyToClose:
		return incident.StepClose
	case incident.MsgApprovalNeeded:
		if s := legacyStepFlag.FindStringSubmatch(m.Text); s != nil && strings.HasPrefix(s[1], incident.StepReport) {
			return s[1]
		}
	case incident.MsgManualIsolation, incident.MsgManualReminder:
		if s := legacyStepFlag.FindStringSubmatch(m.Text); s != nil && strings.HasPrefix(s[1], incident.StepIsolation) {
			return s[1]
		}
	case incident.MsgFilingNeeded:
		if s := legacyObligationFlag.FindStringSubmatch(m.Text); s != nil {
			return incident.FileStep(s[1])
		}
	}
	return ""
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
	"law-enforcement-delay":     ":double_vertical_bar:",
	"ready-to-close":            ":checkered_flag:",
	"closed":                    ":white_check_mark:",
}

// Overdue reports whether a message is about a deadline that has passed. Messages from before
// they carried the fact (during an upgrade, with no deadline) are read from their text.
func Overdue(m incident.ChatMessage) bool {
	if m.Overdue || !m.DueAt.IsZero() {
		return m.Overdue
	}
	return m.Kind == incident.MsgEscalation && strings.Contains(strings.ToLower(m.Text), "overdue")
}

// MessageText is a room message as text: the notification fallback. It is mrkdwn to Slack, so
// it is escaped: the workflow's texts show commands such as `--as <dpo>`.
func MessageText(m incident.ChatMessage) string {
	text := m.Text
	if m.Drill {
		text = "[DRILL] " + text
	}
	if Overdue(m) {
		text = "OVERDUE: " + text
	}
	return TruncateMrkdwn(Escape(text), maxFallback)
}

// maxMessageSections bounds how many sections a long room message takes.
const maxMessageSections = 4

// MessageBlocks renders a room message, with its decision button when it asks for one. An
// overdue deadline is loud: it notifies everyone active in the channel. A text longer than a
// section continues in the next ones, cut between lines or clauses.
func MessageBlocks(m incident.ChatMessage) []slackgo.Block {
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
	chunks := chunkMrkdwn(prefix+icon+" "+mentionIDs(m.Text), maxSectionText)
	if len(chunks) > maxMessageSections {
		rest := fmt.Sprintf("… (the rest is in `breach status %s`)", m.IncidentID)
		chunks = chunks[:maxMessageSections]
		chunks[maxMessageSections-1] = TruncateMrkdwn(chunks[maxMessageSections-1], maxSectionText-Chars(rest)-1) + "\n" + rest
	}
	var blocks []slackgo.Block
	for i, text := range chunks {
		id := BlockMessage
		if i > 0 {
			id = fmt.Sprintf("%s-%d", BlockMessage, i+1)
		}
		blocks = append(blocks, section(id, text))
	}
	if r, ok := RequestOf(m); ok {
		blocks = append(blocks, ActionBlock(m.IncidentID, r))
	}
	return WithRevision(blocks)
}

// ActionBlock is the button of a request.
func ActionBlock(incidentID string, r Request) *slackgo.ActionBlock {
	btn := slackgo.NewButtonBlockElement(r.ActionID, ButtonValue(incidentID, r.Step), plain(r.Label, maxButtonText))
	btn.Style = slackgo.StylePrimary
	if r.ActionID == ActionClose {
		btn.Confirm = slackgo.NewConfirmationBlockObject(plain("Close "+incidentID+"?", maxConfirmTitle),
			plain("Closing writes the breach-register entry and the post-incident report. It cannot be undone.", maxConfirmText),
			plain("Close the incident", maxConfirmButton), plain("Not yet", maxConfirmButton))
	}
	return slackgo.NewActionBlock(BlockActions, btn)
}

// Outcome is what replaces a message's buttons after a person acted.
func Outcome(verb, userID string, at time.Time, detail string) string {
	s := fmt.Sprintf(":white_check_mark: %s by %s at %s", verb, Mention(userID), at.UTC().Format("2006-01-02 15:04 UTC"))
	if detail != "" {
		s += ": " + Escape(detail)
	}
	return TruncateMrkdwn(s, maxSectionText)
}

// ReplaceActions returns blocks with the decision buttons replaced by outcome, and whether
// there were buttons to replace. The blocks get new block_ids, as Slack asks of an updated
// message.
func ReplaceActions(blocks []slackgo.Block, outcome string) ([]slackgo.Block, bool) {
	out := make([]slackgo.Block, 0, len(blocks))
	replaced := false
	for _, b := range blocks {
		if ab, ok := b.(*slackgo.ActionBlock); ok && IsBlock(ab.BlockID, BlockActions) {
			out = append(out, slackgo.NewContextBlock(BlockOutcome, md(outcome)))
			replaced = true
			continue
		}
		out = append(out, b)
	}
	return WithRevision(out), replaced
}

// Block ids carry a revision: Slack asks that "block_id should be unique for each message and
// each iteration of a message. If a message is updated, use a new block_id." A block id is
// its name ("breach_card_obligations", "-2" for its second section) and "." and a hash of
// what the blocks show, so an edited message gets new ids and an unchanged one the same.

// WithRevision gives blocks their names followed by the revision of their content.
func WithRevision(blocks []slackgo.Block) []slackgo.Block {
	names := make([]string, len(blocks))
	for i, b := range blocks {
		names[i], _, _ = strings.Cut(blockID(b), ".")
		setBlockID(b, names[i])
	}
	raw, err := json.Marshal(blocks)
	if err != nil {
		return blocks
	}
	sum := sha256.Sum256(raw)
	rev := hex.EncodeToString(sum[:5])
	for i, b := range blocks {
		if names[i] != "" {
			setBlockID(b, names[i]+"."+rev)
		}
	}
	return blocks
}

// IsBlock reports whether the block id id is the block name, in any revision and part.
func IsBlock(id, name string) bool {
	base, _, _ := strings.Cut(id, ".")
	if base == name {
		return true
	}
	part, ok := strings.CutPrefix(base, name+"-")
	return ok && part != "" && strings.Trim(part, "0123456789") == ""
}

// Revision is the revision part of a block id, or "".
func Revision(id string) string {
	_, rev, _ := strings.Cut(id, ".")
	return rev
}

func blockID(b slackgo.Block) string {
	switch b := b.(type) {
	case *slackgo.SectionBlock:
		return b.BlockID
	case *slackgo.HeaderBlock:
		return b.BlockID
	case *slackgo.ContextBlock:
		return b.BlockID
	case *slackgo.ActionBlock:
		return b.BlockID
	case *slackgo.DividerBlock:
		return b.BlockID
	case *slackgo.InputBlock:
		return b.BlockID
	}
	return ""
}

func setBlockID(b slackgo.Block, id string) {
	switch b := b.(type) {
	case *slackgo.SectionBlock:
		b.BlockID = id
	case *slackgo.HeaderBlock:
		b.BlockID = id
	case *slackgo.ContextBlock:
		b.BlockID = id
	case *slackgo.ActionBlock:
		b.BlockID = id
	case *slackgo.DividerBlock:
		b.BlockID = id
	case *slackgo.InputBlock:
		b.BlockID = id
	}
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

// BlockNames lists the block ids of blocks without their revisions.
func BlockNames(blocks []slackgo.Block) []string {
	ids := BlockIDs(blocks)
	for i, id := range ids {
		ids[i], _, _ = strings.Cut(id, ".")
	}
	return ids
}
