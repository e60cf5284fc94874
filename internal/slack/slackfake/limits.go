package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The pages of Slack's documentation that the rules below come from.
const (
	docBlocks      = "https://docs.slack.dev/reference/block-kit/blocks"
	docSection     = "https://docs.slack.dev/reference/block-kit/blocks/section-block"
	docHeader      = "https://docs.slack.dev/reference/block-kit/blocks/header-block"
	docContext     = "https://docs.slack.dev/reference/block-kit/blocks/context-block"
	docActions     = "https://docs.slack.dev/reference/block-kit/blocks/actions-block"
	docInput       = "https://docs.slack.dev/reference/block-kit/blocks/input-block"
	docText        = "https://docs.slack.dev/reference/block-kit/composition-objects/text-object"
	docOption      = "https://docs.slack.dev/reference/block-kit/composition-objects/option-object"
	docConfirm     = "https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object"
	docButton      = "https://docs.slack.dev/reference/block-kit/block-elements/button-element"
	docTextInput   = "https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element"
	docSelect      = "https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element"
	docMultiSelect = "https://docs.slack.dev/reference/block-kit/block-elements/multi-select-menu-element"
	docSuggestion  = "https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload"
	docCheckboxes  = "https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element"
	docRadio       = "https://docs.slack.dev/reference/block-kit/block-elements/radio-button-group-element"
	docModal       = "https://docs.slack.dev/reference/views/modal-views"
	docFormatting  = "https://api.slack.com/reference/surfaces/formatting"
	docPostMessage = "https://docs.slack.dev/reference/methods/chat.postMessage"
	docTruncation  = "https://api.slack.com/changelog/2018-04-truncating-really-long-messages"
	docCreate      = "https://docs.slack.dev/reference/methods/conversations.create"
	docSetTopic    = "https://docs.slack.dev/reference/methods/conversations.setTopic"
	docSetPurpose  = "https://docs.slack.dev/reference/methods/conversations.setPurpose"
)

// Rule is one of Slack's documented rules that the workspace enforces.
type Rule struct {
	// ID names the rule in violations and tests: "section.text.max".
	ID string
	// Says is the rule, with Slack's number.
	Says string
	// Source is the documentation page the rule comes from.
	Source string
}

// Rules lists every rule the workspace enforces, by ID.
var Rules = map[string]Rule{}

func rule(id, says, source string) string {
	if _, dup := Rules[id]; dup {
		panic("slackfake: rule " + id + " defined twice")
	}
	Rules[id] = Rule{ID: id, Says: says, Source: source}
	return id
}

// Blocks, per message and per view.
var (
	// https://docs.slack.dev/reference/block-kit/blocks: "You can include up to 50 blocks in each
	// message, and 100 blocks in modals or Home tabs."
	ruleMessageBlocks = rule("message.blocks.max", "at most 50 blocks in a message", docBlocks)
	ruleModalBlocks   = rule("modal.blocks.max", "at most 100 blocks in a modal", docModal)
	ruleBlockType     = rule("block.type", "a block has a known type", docBlocks)
	// Every block page (section, header, context, actions, input): "Maximum length for this
	// field is 255 characters. block_id should be unique for each message and each iteration of
	// a message. If a message is updated, use a new block_id."
	ruleBlockIDMax     = rule("block_id.max", "block_id is at most 255 characters", docSection)
	ruleBlockIDUnique  = rule("block_id.unique", "block_id is unique within a message or view", docSection)
	ruleBlockIDUpdated = rule("block_id.new_on_update", "a message that is updated gets new block_ids", docSection)
)

// Text objects.
var (
	// https://docs.slack.dev/reference/block-kit/composition-objects/text-object: type "Can be
	// one of plain_text or mrkdwn"; text "The minimum length is 1 and maximum length is 3000
	// characters"; emoji "only usable when type is plain_text"; verbatim "only usable when type
	// is mrkdwn".
	ruleTextType     = rule("text.type", "a text object is plain_text or mrkdwn", docText)
	ruleTextMin      = rule("text.min", "a text object's text has at least 1 character", docText)
	ruleTextMax      = rule("text.max", "a text object's text has at most 3,000 characters", docText)
	ruleTextEmoji    = rule("text.emoji", "emoji is only usable with plain_text", docText)
	ruleTextVerbatim = rule("text.verbatim", "verbatim is only usable with mrkdwn", docText)
	rulePlainOnly    = rule("text.plain_only", "this field takes a plain_text object only", docText)
	// https://api.slack.com/reference/surfaces/formatting: "Slack uses &, <, and > as control
	// characters for special parsing in text objects, so they must be converted to HTML
	// entities if they're not used for their parsing purpose". mrkdwn "is also the default
	// formatting method for the top-level text field in a message object".
	ruleEscaped = rule("mrkdwn.escaped", "&, < and > are escaped unless they form a control sequence", docFormatting)
)

// Blocks.
var (
	// https://docs.slack.dev/reference/block-kit/blocks/section-block: text "Minimum length for
	// the text in this field is 1 and maximum length is 3000 characters. This field is not
	// required if a valid array of fields objects is provided instead."; fields "Maximum number
	// of items is 10. Maximum length for the text in each item is 2000 characters."
	ruleSectionContent   = rule("section.content", "a section has text or fields", docSection)
	ruleSectionText      = rule("section.text.max", "section text is at most 3,000 characters", docSection)
	ruleSectionFields    = rule("section.fields.max", "a section has at most 10 fields", docSection)
	ruleSectionFieldText = rule("section.field.max", "each section field is at most 2,000 characters", docSection)
	// https://docs.slack.dev/reference/block-kit/blocks/header-block: "The text for the block,
	// in the form of a plain_text text object. Maximum length for the text in this field is 150
	// characters."
	ruleHeaderText = rule("header.text.max", "header text is plain_text of at most 150 characters", docHeader)
	// https://docs.slack.dev/reference/block-kit/blocks/context-block: elements "Maximum number
	// of items is 10."
	ruleContextElements = rule("context.elements", "a context block has 1 to 10 elements", docContext)
	// https://docs.slack.dev/reference/block-kit/blocks/actions-block: "There is a maximum of 25
	// elements in each action block."
	ruleActionsElements = rule("actions.elements", "an actions block has 1 to 25 elements", docActions)
	// https://docs.slack.dev/reference/block-kit/blocks/input-block: label and hint are
	// plain_text, "Maximum length for the text in this field is 2000 characters"; element is
	// required.
	ruleInputLabel   = rule("input.label.max", "an input label is plain_text of at most 2,000 characters", docInput)
	ruleInputHint    = rule("input.hint.max", "an input hint is plain_text of at most 2,000 characters", docInput)
	ruleInputElement = rule("input.element", "an input block has an element", docInput)
)

// Elements.
var (
	// Every interactive element page: action_id "Should be unique among all other action_ids in
	// the containing block. Maximum length is 255 characters."
	ruleActionIDMax    = rule("action_id.max", "action_id is at most 255 characters", docButton)
	ruleActionIDUnique = rule("action_id.unique", "action_id is unique within its block", docButton)
	// https://docs.slack.dev/reference/block-kit/block-elements/button-element: text "Can only
	// be of type: plain_text ... Maximum length for the text in this field is 75 characters";
	// value "Maximum length is 2000 characters"; url "Maximum length is 3000 characters".
	ruleButtonText  = rule("button.text.max", "button text is plain_text of at most 75 characters", docButton)
	ruleButtonValue = rule("button.value.max", "button value is at most 2,000 characters", docButton)
	ruleButtonURL   = rule("button.url.max", "button url is at most 3,000 characters", docButton)
	// https://docs.slack.dev/reference/block-kit/block-elements/plain-text-input-element:
	// placeholder "A plain_text only text object ... Maximum length for the text in this field
	// is 150 characters"; max_length "between 1 and 3000, inclusive"; min_length "between 0 and
	// 3000, inclusive".
	ruleInputPlaceholder = rule("plain_text_input.placeholder.max", "a placeholder is plain_text of at most 150 characters", docTextInput)
	ruleInputMaxLength   = rule("plain_text_input.max_length", "max_length is between 1 and 3,000", docTextInput)
	ruleInputMinLength   = rule("plain_text_input.min_length", "min_length is between 0 and 3,000", docTextInput)
	// https://docs.slack.dev/reference/block-kit/block-elements/select-menu-element: options
	// "Maximum number of options is 100"; placeholder "plain_text only ... 150 characters";
	// initial_option "exactly matches one of the options".
	ruleSelectOptions     = rule("static_select.options.max", "a static select has 1 to 100 options", docSelect)
	ruleSelectPlaceholder = rule("static_select.placeholder.max", "a select placeholder is plain_text of at most 150 characters", docSelect)
	ruleInitialOption     = rule("initial_option.matches", "an initial option exactly matches one of the options", docSelect)
	// https://docs.slack.dev/reference/block-kit/block-elements/multi-select-menu-element:
	// static options "Maximum number of options is 100 ... If option_groups is specified, this
	// field should not be"; placeholder "plain_text only ... 150 characters"; initial_options
	// "exactly match one or more of the options"; max_selected_items "Minimum number is 1";
	// external data source: min_query_length "The default value is 3" (a count of characters).
	ruleMultiOptions        = rule("multi_static_select.options.max", "a multi-select of static options has 1 to 100 options", docMultiSelect)
	ruleMultiPlaceholder    = rule("multi_select.placeholder.max", "a multi-select placeholder is plain_text of at most 150 characters", docMultiSelect)
	ruleMultiMaxSelected    = rule("multi_select.max_selected_items.min", "max_selected_items is at least 1", docMultiSelect)
	ruleMultiMinQueryLength = rule("multi_external_select.min_query_length", "min_query_length is not negative", docMultiSelect)
	// https://docs.slack.dev/reference/interaction-payloads/block_suggestion-payload: "Users may
	// return a maximum of 100 options or option groups when handling the block_suggestion
	// payload."
	ruleSuggestionOptions = rule("block_suggestion.options.max", "an options load answers at most 100 options", docSuggestion)
	// https://docs.slack.dev/reference/block-kit/block-elements/checkboxes-element and
	// .../radio-button-group-element: options "A maximum of 10 options are allowed."
	ruleCheckboxOptions = rule("checkboxes.options.max", "checkboxes have 1 to 10 options", docCheckboxes)
	ruleRadioOptions    = rule("radio_buttons.options.max", "radio buttons have 1 to 10 options", docRadio)
	// https://docs.slack.dev/reference/block-kit/composition-objects/option-object: text "Overflow,
	// select, and multi-select menus can only use plain_text objects ... Maximum length for the
	// text in this field is 75 characters"; value "A unique string value ... Maximum length for
	// this field is 150 characters"; description "Maximum length ... 75 characters".
	ruleOptionText        = rule("option.text.max", "option text is at most 75 characters", docOption)
	ruleOptionValue       = rule("option.value.max", "option value is 1 to 150 characters", docOption)
	ruleOptionUnique      = rule("option.value.unique", "option values are unique within an element", docOption)
	ruleOptionDescription = rule("option.description.max", "option description is at most 75 characters", docOption)
	// https://docs.slack.dev/reference/block-kit/composition-objects/confirmation-dialog-object:
	// title "Maximum length for this field is 100 characters", text "300 characters", confirm and
	// deny "30 characters", each a plain_text object (the page's own example uses mrkdwn for
	// text, so text may be either).
	ruleConfirmTitle   = rule("confirm.title.max", "a confirm title is plain_text of at most 100 characters", docConfirm)
	ruleConfirmText    = rule("confirm.text.max", "a confirm text is at most 300 characters", docConfirm)
	ruleConfirmButtons = rule("confirm.buttons.max", "confirm and deny are plain_text of at most 30 characters", docConfirm)
)

// Modals.
var (
	// https://docs.slack.dev/reference/views/modal-views: title "a plain_text text element with
	// a max length of 24 characters"; close and submit "Max length of 24 characters"; submit "is
	// required when an input block is within the blocks array"; private_metadata "Max length of
	// 3000 characters"; callback_id "Max length of 255 characters".
	ruleModalType     = rule("modal.type", "a modal view has type modal", docModal)
	ruleModalTitle    = rule("modal.title.max", "a modal title is plain_text of 1 to 24 characters", docModal)
	ruleModalButtons  = rule("modal.submit_close.max", "submit and close are plain_text of at most 24 characters", docModal)
	ruleModalSubmit   = rule("modal.submit.required", "a modal with an input block has a submit button", docModal)
	ruleModalMetadata = rule("modal.private_metadata.max", "private_metadata is at most 3,000 characters", docModal)
	ruleModalCallback = rule("modal.callback_id.max", "callback_id is at most 255 characters", docModal)
)

// Web API methods.
var (
	// https://docs.slack.dev/reference/methods/chat.postMessage: blocks or text is required
	// (no_text); "If attachments or blocks are included, text will be used as fallback text for
	// notifications", and Slack highly recommends it. Blocks that are not a JSON array are
	// invalid_blocks_format.
	ruleMessageContent  = rule("message.content", "a message has text or blocks", docPostMessage)
	ruleMessageFallback = rule("message.fallback", "a message with blocks has fallback text", docPostMessage)
	ruleBlocksFormat    = rule("message.blocks.format", "blocks are a JSON array of objects", docPostMessage)
	// https://api.slack.com/changelog/2018-04-truncating-really-long-messages: "The text field
	// accepts up to 40,000 characters"; longer text is truncated with a message_truncated
	// warning.
	ruleMessageText = rule("message.text.max", "message text is at most 40,000 characters", docTruncation)
	// https://docs.slack.dev/reference/methods/conversations.create: "Channel names may only
	// contain lowercase letters, numbers, hyphens, and underscores, and must be 80 characters or
	// less." Errors: invalid_name_required, invalid_name_maxlength, invalid_name_specials,
	// invalid_name_punctuation.
	ruleChannelRequired    = rule("channel.name.required", "a channel name is given", docCreate)
	ruleChannelMax         = rule("channel.name.max", "a channel name is at most 80 characters", docCreate)
	ruleChannelSpecials    = rule("channel.name.specials", "a channel name has only lowercase letters, numbers, hyphens and underscores", docCreate)
	ruleChannelPunctuation = rule("channel.name.punctuation", "a channel name is not only punctuation", docCreate)
	// conversations.setTopic and conversations.setPurpose: too_long, "Topic was longer than 250
	// characters." / "Purpose was longer than 250 characters."
	ruleTopic   = rule("channel.topic.max", "a channel topic is at most 250 characters", docSetTopic)
	rulePurpose = rule("channel.purpose.max", "a channel purpose is at most 250 characters", docSetPurpose)
)

// Violation is a rule that one request broke.
type Violation struct {
	// Method is the Web API method ("chat.update") or "response_url".
	Method string
	// Path is a JSON pointer into the request, as Slack's own errors give it
	// ("/blocks/2/text/text", "/view/title/text", "/name").
	Path string
	// Rule is the ID of the rule (see Rules).
	Rule string
	// Got says what was sent ("3012 characters").
	Got string
	// Code is the error Slack answers, or "" where Slack accepts the request (it truncates, or
	// the rule is a "should").
	Code string
}

func (v Violation) String() string {
	r := Rules[v.Rule]
	code := v.Code
	if code == "" {
		code = "accepted"
	}
	return fmt.Sprintf("%s %s: %s (%s): got %s [%s]", v.Method, v.Path, r.Says, r.ID, v.Got, code)
}

// FormatViolations lists violations one per line, with the documentation page of each rule.
func FormatViolations(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "%s\n    see %s\n", v, Rules[v.Rule].Source)
	}
	return b.String()
}

// firstCode is the error Slack answers for vs: the first violation that Slack refuses.
func firstCode(vs []Violation) string {
	for _, v := range vs {
		if v.Code != "" {
			return v.Code
		}
	}
	return ""
}

// Surface is where blocks are shown; the limits differ.
type Surface int

// Surfaces.
const (
	SurfaceMessage Surface = iota
	SurfaceModal
)

// checker walks a request and collects violations.
type checker struct {
	method string
	// code is what Slack answers for a broken block rule: invalid_blocks for messages,
	// invalid_arguments for views.
	code string
	out  []Violation
}

func (c *checker) add(path, ruleID, got string) { c.addCode(path, ruleID, got, c.code) }

func (c *checker) addCode(path, ruleID, got, code string) {
	if _, ok := Rules[ruleID]; !ok {
		panic("slackfake: unknown rule " + ruleID)
	}
	c.out = append(c.out, Violation{Method: c.method, Path: path, Rule: ruleID, Got: got, Code: code})
}

func chars(s string) int { return utf8.RuneCountInString(s) }

func nChars(n int) string {
	if n == 1 {
		return "1 character"
	}
	return fmt.Sprintf("%d characters", n)
}

func decode(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

func str(m map[string]any, k string) (string, bool) {
	s, ok := m[k].(string)
	return s, ok
}

func list(m map[string]any, k string) []any {
	l, _ := m[k].([]any)
	return l
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// CheckBlocks checks the blocks of a message (SurfaceMessage) or a view (SurfaceModal). path is
// the pointer of the blocks array ("/blocks", "/view/blocks").
func CheckBlocks(method string, surface Surface, path string, raw []byte) []Violation {
	c := &checker{method: method, code: "invalid_blocks"}
	if surface == SurfaceModal {
		c.code = "invalid_arguments"
	}
	v, err := decode(raw)
	if err != nil {
		c.addCode(path, ruleBlocksFormat, "JSON that does not parse: "+err.Error(), "invalid_blocks_format")
		return c.out
	}
	blocks, ok := v.([]any)
	if !ok {
		c.addCode(path, ruleBlocksFormat, fmt.Sprintf("a JSON %T", v), "invalid_blocks_format")
		return c.out
	}
	c.blocks(surface, path, blocks)
	return c.out
}

func (c *checker) blocks(surface Surface, path string, blocks []any) {
	switch {
	case surface == SurfaceMessage && len(blocks) > 50:
		c.add(path, ruleMessageBlocks, fmt.Sprintf("%d blocks", len(blocks)))
	case surface == SurfaceModal && len(blocks) > 100:
		c.add(path, ruleModalBlocks, fmt.Sprintf("%d blocks", len(blocks)))
	}
	ids := map[string]int{}
	for i, b := range blocks {
		p := fmt.Sprintf("%s/%d", path, i)
		m := obj(b)
		if m == nil {
			c.addCode(p, ruleBlocksFormat, fmt.Sprintf("a JSON %T", b), "invalid_blocks_format")
			continue
		}
		if id, ok := str(m, "block_id"); ok {
			if n := chars(id); n > 255 {
				c.add(p+"/block_id", ruleBlockIDMax, nChars(n))
			}
			if first, dup := ids[id]; dup {
				c.add(p+"/block_id", ruleBlockIDUnique, fmt.Sprintf("%q, already the block_id of block %d", id, first))
			} else {
				ids[id] = i
			}
		}
		c.block(p, m)
	}
}

func (c *checker) block(p string, m map[string]any) {
	typ, _ := str(m, "type")
	switch typ {
	case "section":
		text, hasText := m["text"]
		fields := list(m, "fields")
		if !hasText && len(fields) == 0 {
			c.add(p, ruleSectionContent, "neither text nor fields")
		}
		if hasText {
			if s, ok := c.text(p+"/text", text, false); ok && chars(s) > 3000 {
				c.add(p+"/text/text", ruleSectionText, nChars(chars(s)))
			}
		}
		if len(fields) > 10 {
			c.add(p+"/fields", ruleSectionFields, fmt.Sprintf("%d fields", len(fields)))
		}
		for i, f := range fields {
			fp := fmt.Sprintf("%s/fields/%d", p, i)
			if s, ok := c.text(fp, f, false); ok && chars(s) > 2000 {
				c.add(fp+"/text", ruleSectionFieldText, nChars(chars(s)))
			}
		}
		if acc := obj(m["accessory"]); acc != nil {
			c.element(p+"/accessory", acc, map[string]int{})
		}
	case "header":
		if s, ok := c.text(p+"/text", m["text"], true); ok && chars(s) > 150 {
			c.add(p+"/text/text", ruleHeaderText, nChars(chars(s)))
		}
	case "context":
		els := list(m, "elements")
		if len(els) == 0 || len(els) > 10 {
			c.add(p+"/elements", ruleContextElements, fmt.Sprintf("%d elements", len(els)))
		}
		for i, e := range els {
			ep := fmt.Sprintf("%s/elements/%d", p, i)
			if t, _ := str(obj(e), "type"); t == "plain_text" || t == "mrkdwn" {
				c.text(ep, e, false)
			}
		}
	case "actions":
		els := list(m, "elements")
		if len(els) == 0 || len(els) > 25 {
			c.add(p+"/elements", ruleActionsElements, fmt.Sprintf("%d elements", len(els)))
		}
		actionIDs := map[string]int{}
		for i, e := range els {
			c.element(fmt.Sprintf("%s/elements/%d", p, i), obj(e), actionIDs)
		}
	case "input":
		if s, ok := c.text(p+"/label", m["label"], true); ok && chars(s) > 2000 {
			c.add(p+"/label/text", ruleInputLabel, nChars(chars(s)))
		}
		if h, ok := m["hint"]; ok {
			if s, ok := c.text(p+"/hint", h, true); ok && chars(s) > 2000 {
				c.add(p+"/hint/text", ruleInputHint, nChars(chars(s)))
			}
		}
		if el := obj(m["element"]); el == nil {
			c.add(p+"/element", ruleInputElement, "no element")
		} else {
			c.element(p+"/element", el, map[string]int{})
		}
	case "divider", "image", "rich_text", "markdown", "file", "video", "table":
	default:
		c.add(p+"/type", ruleBlockType, fmt.Sprintf("%q", typ))
	}
}

// text checks a text object at p and returns its text. plainOnly fields refuse mrkdwn.
func (c *checker) text(p string, v any, plainOnly bool) (string, bool) {
	m := obj(v)
	if m == nil {
		c.add(p, ruleTextMin, "no text object")
		return "", false
	}
	typ, _ := str(m, "type")
	s, isString := str(m, "text")
	switch typ {
	case "plain_text":
		if _, ok := m["verbatim"]; ok {
			c.add(p+"/verbatim", ruleTextVerbatim, "verbatim on plain_text")
		}
	case "mrkdwn":
		if plainOnly {
			c.add(p+"/type", rulePlainOnly, `"mrkdwn"`)
		}
		if _, ok := m["emoji"]; ok {
			c.add(p+"/emoji", ruleTextEmoji, "emoji on mrkdwn")
		}
		if isString {
			c.escaped(p+"/text", s)
		}
	default:
		c.add(p+"/type", ruleTextType, fmt.Sprintf("%q", typ))
	}
	if !isString || s == "" {
		c.add(p+"/text", ruleTextMin, "an empty text")
		return s, false
	}
	if n := chars(s); n > 3000 {
		c.add(p+"/text", ruleTextMax, nChars(n))
	}
	return s, true
}

// plainMax checks a plain_text-only object whose text has at most max characters.
func (c *checker) plainMax(p string, v any, max int, ruleID string) {
	if s, ok := c.text(p, v, true); ok && chars(s) > max {
		c.add(p+"/text", ruleID, nChars(chars(s)))
	}
}

func (c *checker) element(p string, m map[string]any, actionIDs map[string]int) {
	if m == nil {
		c.add(p, ruleBlocksFormat, "an element that is not an object")
		return
	}
	if id, ok := str(m, "action_id"); ok {
		if n := chars(id); n > 255 {
			c.add(p+"/action_id", ruleActionIDMax, nChars(n))
		}
		if _, dup := actionIDs[id]; dup {
			c.add(p+"/action_id", ruleActionIDUnique, fmt.Sprintf("%q twice in one block", id))
		}
		actionIDs[id] = 1
	}
	if conf, ok := m["confirm"]; ok {
		c.confirm(p+"/confirm", obj(conf))
	}
	typ, _ := str(m, "type")
	switch typ {
	case "button":
		c.plainMax(p+"/text", m["text"], 75, ruleButtonText)
		if v, ok := str(m, "value"); ok && chars(v) > 2000 {
			c.add(p+"/value", ruleButtonValue, nChars(chars(v)))
		}
		if u, ok := str(m, "url"); ok && chars(u) > 3000 {
			c.add(p+"/url", ruleButtonURL, nChars(chars(u)))
		}
	case "plain_text_input":
		if ph, ok := m["placeholder"]; ok {
			c.plainMax(p+"/placeholder", ph, 150, ruleInputPlaceholder)
		}
		if n, ok := intField(m, "max_length"); ok && (n < 1 || n > 3000) {
			c.add(p+"/max_length", ruleInputMaxLength, fmt.Sprint(n))
		}
		if n, ok := intField(m, "min_length"); ok && (n < 0 || n > 3000) {
			c.add(p+"/min_length", ruleInputMinLength, fmt.Sprint(n))
		}
	case "static_select":
		if ph, ok := m["placeholder"]; ok {
			c.plainMax(p+"/placeholder", ph, 150, ruleSelectPlaceholder)
		}
		opts := list(m, "options")
		if _, groups := m["option_groups"]; !groups && (len(opts) == 0 || len(opts) > 100) {
			c.add(p+"/options", ruleSelectOptions, fmt.Sprintf("%d options", len(opts)))
		}
		values := c.options(p+"/options", opts, true)
		c.initial(p+"/initial_option", m["initial_option"], values)
	case "multi_static_select", "multi_external_select":
		if ph, ok := m["placeholder"]; ok {
			c.plainMax(p+"/placeholder", ph, 150, ruleMultiPlaceholder)
		}
		if n, ok := intField(m, "max_selected_items"); ok && n < 1 {
			c.add(p+"/max_selected_items", ruleMultiMaxSelected, fmt.Sprint(n))
		}
		if typ == "multi_external_select" {
			if n, ok := intField(m, "min_query_length"); ok && n < 0 {
				c.add(p+"/min_query_length", ruleMultiMinQueryLength, fmt.Sprint(n))
			}
			// The options come from the app; initial options cannot be checked against them.
			break
		}
		opts := list(m, "options")
		if _, groups := m["option_groups"]; !groups && (len(opts) == 0 || len(opts) > 100) {
			c.add(p+"/options", ruleMultiOptions, fmt.Sprintf("%d options", len(opts)))
		}
		values := c.options(p+"/options", opts, true)
		for i, o := range list(m, "initial_options") {
			c.initial(fmt.Sprintf("%s/initial_options/%d", p, i), o, values)
		}
	case "checkboxes", "radio_buttons":
		opts := list(m, "options")
		if len(opts) == 0 || len(opts) > 10 {
			r := ruleCheckboxOptions
			if typ == "radio_buttons" {
				r = ruleRadioOptions
			}
			c.add(p+"/options", r, fmt.Sprintf("%d options", len(opts)))
		}
		values := c.options(p+"/options", opts, false)
		if typ == "checkboxes" {
			for i, o := range list(m, "initial_options") {
				c.initial(fmt.Sprintf("%s/initial_options/%d", p, i), o, values)
			}
		} else {
			c.initial(p+"/initial_option", m["initial_option"], values)
		}
	}
}

func intField(m map[string]any, k string) (int, bool) {
	n, ok := m[k].(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return int(i), err == nil
}

// options checks option objects and returns each option's text by value.
func (c *checker) options(p string, opts []any, plainOnly bool) map[string]string {
	values := map[string]string{}
	for i, o := range opts {
		op := fmt.Sprintf("%s/%d", p, i)
		m := obj(o)
		if m == nil {
			c.add(op, ruleOptionValue, "an option that is not an object")
			continue
		}
		text, ok := c.text(op+"/text", m["text"], plainOnly)
		if ok && chars(text) > 75 {
			c.add(op+"/text/text", ruleOptionText, nChars(chars(text)))
		}
		if d, ok := m["description"]; ok {
			if s, ok := c.text(op+"/description", d, plainOnly); ok && chars(s) > 75 {
				c.add(op+"/description/text", ruleOptionDescription, nChars(chars(s)))
			}
		}
		v, _ := str(m, "value")
		if n := chars(v); n == 0 || n > 150 {
			c.add(op+"/value", ruleOptionValue, nChars(n))
		}
		if _, dup := values[v]; dup {
			c.add(op+"/value", ruleOptionUnique, fmt.Sprintf("%q twice", v))
		}
		values[v] = text
	}
	return values
}

// initial checks that an initial option is one of the element's options, text and value.
func (c *checker) initial(p string, v any, values map[string]string) {
	m := obj(v)
	if m == nil {
		return
	}
	val, _ := str(m, "value")
	text, _ := str(obj(m["text"]), "text")
	if want, ok := values[val]; !ok || want != text {
		c.add(p, ruleInitialOption, fmt.Sprintf("value %q with text %q", val, text))
	}
}

func (c *checker) confirm(p string, m map[string]any) {
	if m == nil {
		c.add(p, ruleConfirmTitle, "a confirm that is not an object")
		return
	}
	c.plainMax(p+"/title", m["title"], 100, ruleConfirmTitle)
	if s, ok := c.text(p+"/text", m["text"], false); ok && chars(s) > 300 {
		c.add(p+"/text/text", ruleConfirmText, nChars(chars(s)))
	}
	c.plainMax(p+"/confirm", m["confirm"], 30, ruleConfirmButtons)
	c.plainMax(p+"/deny", m["deny"], 30, ruleConfirmButtons)
}

// CheckOptions checks the answer to a block_suggestion (an options load): an object with at
// most 100 options, each a valid option object.
func CheckOptions(method string, raw []byte) []Violation {
	c := &checker{method: method, code: "invalid_options"}
	v, err := decode(raw)
	m := obj(v)
	if err != nil || m == nil {
		c.add("", ruleSuggestionOptions, "an answer that is not a JSON object")
		return c.out
	}
	opts := list(m, "options")
	if _, groups := m["option_groups"]; !groups && len(opts) > 100 {
		c.add("/options", ruleSuggestionOptions, fmt.Sprintf("%d options", len(opts)))
	}
	c.options("/options", opts, true)
	return c.out
}

// CheckView checks a modal view (views.open, views.update, views.push) at path ("/view").
func CheckView(method, path string, raw []byte) []Violation {
	c := &checker{method: method, code: "invalid_arguments"}
	v, err := decode(raw)
	m := obj(v)
	if err != nil || m == nil {
		c.add(path, ruleModalType, "a view that is not a JSON object")
		return c.out
	}
	if t, _ := str(m, "type"); t != "modal" {
		c.add(path+"/type", ruleModalType, fmt.Sprintf("%q", t))
	}
	if s, ok := c.text(path+"/title", m["title"], true); ok && chars(s) > 24 {
		c.add(path+"/title/text", ruleModalTitle, nChars(chars(s)))
	}
	for _, k := range []string{"submit", "close"} {
		if b, ok := m[k]; ok {
			c.plainMax(path+"/"+k, b, 24, ruleModalButtons)
		}
	}
	if s, ok := str(m, "private_metadata"); ok && chars(s) > 3000 {
		c.add(path+"/private_metadata", ruleModalMetadata, nChars(chars(s)))
	}
	if s, ok := str(m, "callback_id"); ok && chars(s) > 255 {
		c.add(path+"/callback_id", ruleModalCallback, nChars(chars(s)))
	}
	blocks := list(m, "blocks")
	if _, ok := m["submit"]; !ok {
		for i, b := range blocks {
			if t, _ := str(obj(b), "type"); t == "input" {
				c.add(fmt.Sprintf("%s/blocks/%d", path, i), ruleModalSubmit, "an input block and no submit")
				break
			}
		}
	}
	c.blocks(SurfaceModal, path+"/blocks", blocks)
	return c.out
}

// CheckMessage checks the arguments of a message (chat.postMessage, chat.update,
// chat.postEphemeral, a response_url): its top-level text and its blocks (a JSON array, or
// empty).
func CheckMessage(method, text, blocks string) []Violation {
	c := &checker{method: method, code: "invalid_blocks"}
	if text == "" && blocks == "" {
		c.addCode("/text", ruleMessageContent, "neither text nor blocks", "no_text")
	}
	if n := chars(text); n > 40000 {
		// Slack posts the message truncated, with a message_truncated warning.
		c.addCode("/text", ruleMessageText, nChars(n), "")
	}
	if text == "" && blocks != "" {
		c.addCode("/text", ruleMessageFallback, "blocks without fallback text", "")
	}
	c.escaped("/text", text)
	if blocks != "" {
		c.out = append(c.out, CheckBlocks(method, SurfaceMessage, "/blocks", []byte(blocks))...)
	}
	return c.out
}

// CheckUpdatedBlockIDs reports the block_ids of an updated message that its previous version
// used too: "If a message is updated, use a new block_id." Slack accepts the update.
func CheckUpdatedBlockIDs(method string, before, after []byte) []Violation {
	old := map[string]bool{}
	for _, id := range blockIDs(before) {
		old[id] = true
	}
	c := &checker{method: method}
	for i, id := range blockIDs(after) {
		if id != "" && old[id] {
			c.addCode(fmt.Sprintf("/blocks/%d/block_id", i), ruleBlockIDUpdated, fmt.Sprintf("%q, as before the update", id), "")
		}
	}
	return c.out
}

func blockIDs(raw []byte) []string {
	var bs []struct {
		BlockID string `json:"block_id"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &bs) != nil {
		return nil
	}
	ids := make([]string, len(bs))
	for i, b := range bs {
		ids[i] = b.BlockID
	}
	return ids
}

// escaped reports &, < and > that are not escaped and not part of a control sequence
// (<@U…>, <#C…>, <!here>, <!date^…|…>, <https://…|…>, <mailto:…>).
func (c *checker) escaped(p, s string) {
	var bad []string
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			rest := s[i:]
			if !strings.HasPrefix(rest, "&amp;") && !strings.HasPrefix(rest, "&lt;") && !strings.HasPrefix(rest, "&gt;") {
				bad = append(bad, excerpt(s, i))
			}
		case '<':
			end := strings.IndexAny(s[i+1:], "<>")
			if end < 0 || s[i+1+end] != '>' || !controlSequence(s[i+1:i+1+end]) {
				bad = append(bad, excerpt(s, i))
				continue
			}
			i += end + 1
		case '>':
			bad = append(bad, excerpt(s, i))
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		c.addCode(p, ruleEscaped, strings.Join(bad, ", "), "")
	}
}

func controlSequence(s string) bool {
	if s == "" {
		return false
	}
	switch s[0] {
	case '@', '#', '!':
		return len(s) > 1
	}
	for _, scheme := range []string{"http://", "https://", "mailto:", "tel:", "slack://"} {
		if strings.HasPrefix(s, scheme) {
			return true
		}
	}
	return false
}

func excerpt(s string, i int) string {
	from, to := max(0, i-12), min(len(s), i+12)
	for from > 0 && !utf8.RuneStart(s[from]) {
		from--
	}
	for to < len(s) && !utf8.RuneStart(s[to]) {
		to++
	}
	return fmt.Sprintf("%q", s[from:to])
}

// CheckChannelName checks a conversations.create name and returns the error Slack answers.
func CheckChannelName(method, name string) []Violation {
	c := &checker{method: method}
	n := chars(name)
	switch {
	case n == 0:
		c.addCode("/name", ruleChannelRequired, "an empty name", "invalid_name_required")
		return c.out
	case n > 80:
		c.addCode("/name", ruleChannelMax, nChars(n), "invalid_name_maxlength")
	}
	onlyPunct := true
	var specials []string
	for _, r := range name {
		switch {
		case r == '-' || r == '_':
		case unicode.IsDigit(r):
			onlyPunct = false
		case unicode.IsLetter(r) && !unicode.IsUpper(r):
			// Lowercase letters; letters of scripts without case (CJK, Arabic) are not upper
			// case either, and Slack accepts them.
			onlyPunct = false
		default:
			onlyPunct = false
			specials = append(specials, fmt.Sprintf("%q", r))
		}
	}
	if len(specials) > 0 {
		c.addCode("/name", ruleChannelSpecials, strings.Join(specials, " "), "invalid_name_specials")
	}
	if onlyPunct {
		c.addCode("/name", ruleChannelPunctuation, fmt.Sprintf("%q", name), "invalid_name_punctuation")
	}
	return c.out
}

// CheckTopic checks conversations.setTopic's topic; too_long is Slack's answer.
func CheckTopic(method, topic string) []Violation {
	c := &checker{method: method}
	if n := chars(topic); n > 250 {
		c.addCode("/topic", ruleTopic, nChars(n), "too_long")
	}
	return c.out
}

// CheckPurpose checks conversations.setPurpose's purpose; too_long is Slack's answer.
func CheckPurpose(method, purpose string) []Violation {
	c := &checker{method: method}
	if n := chars(purpose); n > 250 {
		c.addCode("/purpose", rulePurpose, nChars(n), "too_long")
	}
	return c.out
}
