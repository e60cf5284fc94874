package slackfake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	slackgo "github.com/slack-go/slack"
)

type m = map[string]any

func js(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func plainText(s string) m  { return m{"type": "plain_text", "text": s} }
func mrkdwnText(s string) m { return m{"type": "mrkdwn", "text": s} }

func sectionBlock(text string) m { return m{"type": "section", "text": mrkdwnText(text)} }

func repeatBlocks(n int, b m) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func opts(n, textLen, valueLen int) []any {
	out := make([]any, n)
	for i := range out {
		v := fmt.Sprintf("%0*d", max(valueLen, 1), i)
		out[i] = m{"text": plainText(strings.Repeat("o", textLen)), "value": v}
	}
	return out
}

func modalView(blocks ...any) m {
	return m{"type": "modal", "title": plainText("Title"), "submit": plainText("Save"), "blocks": blocks}
}

func inputBlock(el m) m {
	return m{"type": "input", "block_id": "in", "label": plainText("Label"), "element": el}
}

// blocksCase checks message blocks; viewCase a modal view.
func blocksCase(blocks ...any) func() []Violation {
	return func() []Violation { return CheckMessage("chat.postMessage", "fallback", js(blocks)) }
}

func viewCase(v m) func() []Violation {
	return func() []Violation { return CheckView("views.open", "/view", []byte(js(v))) }
}

func button(id, text, value string) m {
	return m{"type": "button", "action_id": id, "text": plainText(text), "value": value}
}

func confirmObj(title, text, yes, no int) m {
	return m{"title": plainText(strings.Repeat("t", title)), "text": plainText(strings.Repeat("x", text)),
		"confirm": plainText(strings.Repeat("y", yes)), "deny": plainText(strings.Repeat("n", no))}
}

var greek150 = strings.Repeat("αβγδεζηθικ", 15)

// limitCases has, for every rule, a request that keeps it and one that breaks it.
var limitCases = []struct {
	rule     string
	name     string
	check    func() []Violation
	breaks   bool
	wantCode string
}{
	{ruleMessageBlocks, "50 blocks", blocksCase(repeatBlocks(50, sectionBlock("x"))...), false, ""},
	{ruleMessageBlocks, "51 blocks", blocksCase(repeatBlocks(51, sectionBlock("x"))...), true, "invalid_blocks"},
	{ruleModalBlocks, "100 blocks", viewCase(modalView(repeatBlocks(100, sectionBlock("x"))...)), false, ""},
	{ruleModalBlocks, "101 blocks", viewCase(modalView(repeatBlocks(101, sectionBlock("x"))...)), true, "invalid_arguments"},
	{ruleBlockType, "section", blocksCase(sectionBlock("x")), false, ""},
	{ruleBlockType, "misspelt", blocksCase(m{"type": "sectoin", "text": mrkdwnText("x")}), true, "invalid_blocks"},
	{ruleBlockIDMax, "255", blocksCase(m{"type": "divider", "block_id": strings.Repeat("b", 255)}), false, ""},
	{ruleBlockIDMax, "256", blocksCase(m{"type": "divider", "block_id": strings.Repeat("b", 256)}), true, "invalid_blocks"},
	{ruleBlockIDUnique, "distinct", blocksCase(m{"type": "divider", "block_id": "a"}, m{"type": "divider", "block_id": "b"}), false, ""},
	{ruleBlockIDUnique, "twice in a message", blocksCase(m{"type": "divider", "block_id": "a"}, m{"type": "divider", "block_id": "a"}), true, "invalid_blocks"},
	{ruleBlockIDUnique, "twice in a view", viewCase(modalView(inputBlock(m{"type": "plain_text_input"}), inputBlock(m{"type": "plain_text_input"}))), true, "invalid_arguments"},
	{ruleBlockIDUpdated, "new ids", func() []Violation {
		return CheckUpdatedBlockIDs("chat.update", []byte(`[{"type":"divider","block_id":"a.1"}]`), []byte(`[{"type":"divider","block_id":"a.2"}]`))
	}, false, ""},
	{ruleBlockIDUpdated, "same ids", func() []Violation {
		return CheckUpdatedBlockIDs("chat.update", []byte(`[{"type":"divider","block_id":"a"}]`), []byte(`[{"type":"divider","block_id":"a"}]`))
	}, true, ""},

	{ruleTextType, "mrkdwn", blocksCase(sectionBlock("x")), false, ""},
	{ruleTextType, "markdown", blocksCase(m{"type": "section", "text": m{"type": "markdown", "text": "x"}}), true, "invalid_blocks"},
	{ruleTextMin, "one character", blocksCase(sectionBlock("x")), false, ""},
	{ruleTextMin, "empty", blocksCase(sectionBlock("")), true, "invalid_blocks"},
	{ruleTextMin, "empty placeholder", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "placeholder": plainText("")}))), true, "invalid_arguments"},
	{ruleTextMax, "3000 in context", blocksCase(m{"type": "context", "elements": []any{mrkdwnText(strings.Repeat("x", 3000))}}), false, ""},
	{ruleTextMax, "3001 in context", blocksCase(m{"type": "context", "elements": []any{mrkdwnText(strings.Repeat("x", 3001))}}), true, "invalid_blocks"},
	{ruleTextEmoji, "emoji on plain_text", blocksCase(m{"type": "header", "text": m{"type": "plain_text", "text": "x", "emoji": true}}), false, ""},
	{ruleTextEmoji, "emoji on mrkdwn", blocksCase(m{"type": "section", "text": m{"type": "mrkdwn", "text": "x", "emoji": false}}), true, "invalid_blocks"},
	{ruleTextVerbatim, "verbatim on mrkdwn", blocksCase(m{"type": "section", "text": m{"type": "mrkdwn", "text": "x", "verbatim": true}}), false, ""},
	{ruleTextVerbatim, "verbatim on plain_text", blocksCase(m{"type": "section", "text": m{"type": "plain_text", "text": "x", "verbatim": true}}), true, "invalid_blocks"},
	{rulePlainOnly, "plain header", blocksCase(m{"type": "header", "text": plainText("x")}), false, ""},
	{rulePlainOnly, "mrkdwn header", blocksCase(m{"type": "header", "text": mrkdwnText("x")}), true, "invalid_blocks"},
	{rulePlainOnly, "mrkdwn button", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": mrkdwnText("x")}}}), true, "invalid_blocks"},
	{ruleEscaped, "escaped and control sequences", blocksCase(sectionBlock("a &amp; &lt;b&gt; <@U123> <#C1> <!here> <!date^1700000000^{date_short}|2023-11-14> <https://x.test|x>")), false, ""},
	{ruleEscaped, "bare angle brackets", blocksCase(sectionBlock("breach decide --as <dpo>")), true, ""},
	{ruleEscaped, "bare ampersand in fallback", func() []Violation { return CheckMessage("chat.postMessage", "R&D", "") }, true, ""},
	{ruleEscaped, "unclosed sequence", blocksCase(sectionBlock("due <!date^1700000000^{date_short}")), true, ""},

	{ruleSectionContent, "text", blocksCase(sectionBlock("x")), false, ""},
	{ruleSectionContent, "fields only", blocksCase(m{"type": "section", "fields": []any{mrkdwnText("x")}}), false, ""},
	{ruleSectionContent, "neither", blocksCase(m{"type": "section"}), true, "invalid_blocks"},
	{ruleSectionText, "3000", blocksCase(sectionBlock(strings.Repeat("x", 3000))), false, ""},
	{ruleSectionText, "3000 Greek letters", blocksCase(sectionBlock(strings.Repeat(greek150, 20))), false, ""},
	{ruleSectionText, "3001", blocksCase(sectionBlock(strings.Repeat("x", 3001))), true, "invalid_blocks"},
	{ruleSectionFields, "10", blocksCase(m{"type": "section", "fields": repeatBlocks(10, mrkdwnText("x"))}), false, ""},
	{ruleSectionFields, "11", blocksCase(m{"type": "section", "fields": repeatBlocks(11, mrkdwnText("x"))}), true, "invalid_blocks"},
	{ruleSectionFieldText, "2000", blocksCase(m{"type": "section", "fields": []any{mrkdwnText(strings.Repeat("x", 2000))}}), false, ""},
	{ruleSectionFieldText, "2001", blocksCase(m{"type": "section", "fields": []any{mrkdwnText(strings.Repeat("x", 2001))}}), true, "invalid_blocks"},
	{ruleHeaderText, "150 Greek letters", blocksCase(m{"type": "header", "text": plainText(greek150)}), false, ""},
	{ruleHeaderText, "151", blocksCase(m{"type": "header", "text": plainText(greek150 + "x")}), true, "invalid_blocks"},
	{ruleContextElements, "10", blocksCase(m{"type": "context", "elements": repeatBlocks(10, mrkdwnText("x"))}), false, ""},
	{ruleContextElements, "11", blocksCase(m{"type": "context", "elements": repeatBlocks(11, mrkdwnText("x"))}), true, "invalid_blocks"},
	{ruleContextElements, "none", blocksCase(m{"type": "context", "elements": []any{}}), true, "invalid_blocks"},
	{ruleActionsElements, "25", blocksCase(m{"type": "actions", "elements": func() []any {
		var els []any
		for i := range 25 {
			els = append(els, button(fmt.Sprint("b", i), "Go", "v"))
		}
		return els
	}()}), false, ""},
	{ruleActionsElements, "26", blocksCase(m{"type": "actions", "elements": func() []any {
		var els []any
		for i := range 26 {
			els = append(els, button(fmt.Sprint("b", i), "Go", "v"))
		}
		return els
	}()}), true, "invalid_blocks"},
	{ruleInputLabel, "2000", viewCase(modalView(m{"type": "input", "label": plainText(strings.Repeat("l", 2000)), "element": m{"type": "plain_text_input"}})), false, ""},
	{ruleInputLabel, "2001", viewCase(modalView(m{"type": "input", "label": plainText(strings.Repeat("l", 2001)), "element": m{"type": "plain_text_input"}})), true, "invalid_arguments"},
	{ruleInputHint, "2000", viewCase(modalView(m{"type": "input", "label": plainText("l"), "hint": plainText(strings.Repeat("h", 2000)), "element": m{"type": "plain_text_input"}})), false, ""},
	{ruleInputHint, "2001", viewCase(modalView(m{"type": "input", "label": plainText("l"), "hint": plainText(strings.Repeat("h", 2001)), "element": m{"type": "plain_text_input"}})), true, "invalid_arguments"},
	{ruleInputElement, "with element", viewCase(modalView(inputBlock(m{"type": "plain_text_input"}))), false, ""},
	{ruleInputElement, "without", viewCase(modalView(m{"type": "input", "label": plainText("l")})), true, "invalid_arguments"},

	{ruleActionIDMax, "255", blocksCase(m{"type": "actions", "elements": []any{button(strings.Repeat("a", 255), "Go", "v")}}), false, ""},
	{ruleActionIDMax, "256", blocksCase(m{"type": "actions", "elements": []any{button(strings.Repeat("a", 256), "Go", "v")}}), true, "invalid_blocks"},
	{ruleActionIDUnique, "distinct", blocksCase(m{"type": "actions", "elements": []any{button("a", "Go", "v"), button("b", "Go", "v")}}), false, ""},
	{ruleActionIDUnique, "twice in a block", blocksCase(m{"type": "actions", "elements": []any{button("a", "Go", "v"), button("a", "Go", "v")}}), true, "invalid_blocks"},
	{ruleButtonText, "75", blocksCase(m{"type": "actions", "elements": []any{button("a", strings.Repeat("t", 75), "v")}}), false, ""},
	{ruleButtonText, "76", blocksCase(m{"type": "actions", "elements": []any{button("a", strings.Repeat("t", 76), "v")}}), true, "invalid_blocks"},
	{ruleButtonValue, "2000", blocksCase(m{"type": "actions", "elements": []any{button("a", "Go", strings.Repeat("v", 2000))}}), false, ""},
	{ruleButtonValue, "2001", blocksCase(m{"type": "actions", "elements": []any{button("a", "Go", strings.Repeat("v", 2001))}}), true, "invalid_blocks"},
	{ruleButtonURL, "3000", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "url": strings.Repeat("u", 3000)}}}), false, ""},
	{ruleButtonURL, "3001", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "url": strings.Repeat("u", 3001)}}}), true, "invalid_blocks"},
	{ruleInputPlaceholder, "150", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "placeholder": plainText(greek150)}))), false, ""},
	{ruleInputPlaceholder, "151", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "placeholder": plainText(greek150 + "x")}))), true, "invalid_arguments"},
	{ruleInputMaxLength, "3000", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "max_length": 3000}))), false, ""},
	{ruleInputMaxLength, "3001", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "max_length": 3001}))), true, "invalid_arguments"},
	{ruleInputMinLength, "0", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "min_length": 0}))), false, ""},
	{ruleInputMinLength, "3001", viewCase(modalView(inputBlock(m{"type": "plain_text_input", "min_length": 3001}))), true, "invalid_arguments"},
	{ruleSelectOptions, "100", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(100, 5, 3)}))), false, ""},
	{ruleSelectOptions, "101", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(101, 5, 3)}))), true, "invalid_arguments"},
	{ruleSelectPlaceholder, "150", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(2, 5, 1), "placeholder": plainText(greek150)}))), false, ""},
	{ruleSelectPlaceholder, "151", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(2, 5, 1), "placeholder": plainText(greek150 + "x")}))), true, "invalid_arguments"},
	{ruleInitialOption, "one of the options", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(2, 5, 1),
		"initial_option": m{"text": plainText("ooooo"), "value": "1"}}))), false, ""},
	{ruleInitialOption, "not one of the options", viewCase(modalView(inputBlock(m{"type": "static_select", "options": opts(2, 5, 1),
		"initial_option": m{"text": plainText("ooooo"), "value": "7"}}))), true, "invalid_arguments"},
	{ruleInitialOption, "checkbox not one of the options", viewCase(modalView(inputBlock(m{"type": "checkboxes", "options": opts(2, 5, 1),
		"initial_options": []any{m{"text": plainText("other"), "value": "1"}}}))), true, "invalid_arguments"},
	{ruleMultiOptions, "100", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": opts(100, 5, 3)}))), false, ""},
	{ruleMultiOptions, "101", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": opts(101, 5, 3)}))), true, "invalid_arguments"},
	{ruleMultiOptions, "none", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": []any{}}))), true, "invalid_arguments"},
	{ruleMultiPlaceholder, "150", viewCase(modalView(inputBlock(m{"type": "multi_external_select", "placeholder": plainText(greek150)}))), false, ""},
	{ruleMultiPlaceholder, "151", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": opts(2, 5, 1), "placeholder": plainText(greek150 + "x")}))), true, "invalid_arguments"},
	{ruleMultiMaxSelected, "1", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": opts(2, 5, 1), "max_selected_items": 1}))), false, ""},
	{ruleMultiMaxSelected, "0", viewCase(modalView(inputBlock(m{"type": "multi_external_select", "max_selected_items": 0}))), true, "invalid_arguments"},
	{ruleMultiMinQueryLength, "0", viewCase(modalView(inputBlock(m{"type": "multi_external_select", "min_query_length": 0}))), false, ""},
	{ruleMultiMinQueryLength, "-1", viewCase(modalView(inputBlock(m{"type": "multi_external_select", "min_query_length": -1}))), true, "invalid_arguments"},
	{ruleInitialOption, "multi-select not one of the options", viewCase(modalView(inputBlock(m{"type": "multi_static_select", "options": opts(2, 5, 1),
		"initial_options": []any{m{"text": plainText("ooooo"), "value": "9"}}}))), true, "invalid_arguments"},
	{ruleSuggestionOptions, "100", func() []Violation { return CheckOptions("block_suggestion", []byte(js(m{"options": opts(100, 5, 3)}))) }, false, ""},
	{ruleSuggestionOptions, "101", func() []Violation { return CheckOptions("block_suggestion", []byte(js(m{"options": opts(101, 5, 3)}))) }, true, "invalid_options"},
	{ruleCheckboxOptions, "10", viewCase(modalView(inputBlock(m{"type": "checkboxes", "options": opts(10, 5, 2)}))), false, ""},
	{ruleCheckboxOptions, "11", viewCase(modalView(inputBlock(m{"type": "checkboxes", "options": opts(11, 5, 2)}))), true, "invalid_arguments"},
	{ruleRadioOptions, "10", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(10, 5, 2)}))), false, ""},
	{ruleRadioOptions, "11", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(11, 5, 2)}))), true, "invalid_arguments"},
	{ruleOptionText, "75", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(2, 75, 1)}))), false, ""},
	{ruleOptionText, "76", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(2, 76, 1)}))), true, "invalid_arguments"},
	{ruleOptionValue, "150", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(2, 5, 150)}))), false, ""},
	{ruleOptionValue, "151", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(2, 5, 151)}))), true, "invalid_arguments"},
	{ruleOptionUnique, "distinct", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": opts(2, 5, 1)}))), false, ""},
	{ruleOptionUnique, "twice", viewCase(modalView(inputBlock(m{"type": "radio_buttons", "options": []any{
		m{"text": plainText("a"), "value": "x"}, m{"text": plainText("b"), "value": "x"}}}))), true, "invalid_arguments"},
	{ruleOptionDescription, "75", viewCase(modalView(inputBlock(m{"type": "checkboxes", "options": []any{
		m{"text": plainText("a"), "value": "x", "description": plainText(strings.Repeat("d", 75))}}}))), false, ""},
	{ruleOptionDescription, "76", viewCase(modalView(inputBlock(m{"type": "checkboxes", "options": []any{
		m{"text": plainText("a"), "value": "x", "description": plainText(strings.Repeat("d", 76))}}}))), true, "invalid_arguments"},
	{ruleConfirmTitle, "100", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(100, 1, 1, 1)}}}), false, ""},
	{ruleConfirmTitle, "101", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(101, 1, 1, 1)}}}), true, "invalid_blocks"},
	{ruleConfirmText, "300", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(1, 300, 1, 1)}}}), false, ""},
	{ruleConfirmText, "301", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(1, 301, 1, 1)}}}), true, "invalid_blocks"},
	{ruleConfirmButtons, "30", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(1, 1, 30, 30)}}}), false, ""},
	{ruleConfirmButtons, "31", blocksCase(m{"type": "actions", "elements": []any{m{"type": "button", "text": plainText("Go"), "confirm": confirmObj(1, 1, 1, 31)}}}), true, "invalid_blocks"},

	{ruleModalType, "modal", viewCase(modalView(sectionBlock("x"))), false, ""},
	{ruleModalType, "home", viewCase(m{"type": "home", "title": plainText("T"), "blocks": []any{sectionBlock("x")}}), true, "invalid_arguments"},
	{ruleModalTitle, "24 with an emoji", viewCase(m{"type": "modal", "title": plainText(strings.Repeat("é", 23) + "🚨"), "blocks": []any{}}), false, ""},
	{ruleModalTitle, "25", viewCase(m{"type": "modal", "title": plainText(strings.Repeat("t", 25)), "blocks": []any{}}), true, "invalid_arguments"},
	{ruleModalButtons, "24", viewCase(m{"type": "modal", "title": plainText("T"), "submit": plainText(strings.Repeat("s", 24)), "close": plainText(strings.Repeat("c", 24)), "blocks": []any{}}), false, ""},
	{ruleModalButtons, "25", viewCase(m{"type": "modal", "title": plainText("T"), "close": plainText(strings.Repeat("c", 25)), "blocks": []any{}}), true, "invalid_arguments"},
	{ruleModalSubmit, "input with submit", viewCase(modalView(inputBlock(m{"type": "plain_text_input"}))), false, ""},
	{ruleModalSubmit, "input without submit", viewCase(m{"type": "modal", "title": plainText("T"), "blocks": []any{inputBlock(m{"type": "plain_text_input"})}}), true, "invalid_arguments"},
	{ruleModalMetadata, "3000", viewCase(m{"type": "modal", "title": plainText("T"), "private_metadata": strings.Repeat("m", 3000), "blocks": []any{}}), false, ""},
	{ruleModalMetadata, "3001", viewCase(m{"type": "modal", "title": plainText("T"), "private_metadata": strings.Repeat("m", 3001), "blocks": []any{}}), true, "invalid_arguments"},
	{ruleModalCallback, "255", viewCase(m{"type": "modal", "title": plainText("T"), "callback_id": strings.Repeat("c", 255), "blocks": []any{}}), false, ""},
	{ruleModalCallback, "256", viewCase(m{"type": "modal", "title": plainText("T"), "callback_id": strings.Repeat("c", 256), "blocks": []any{}}), true, "invalid_arguments"},

	{ruleMessageContent, "text only", func() []Violation { return CheckMessage("chat.postMessage", "hello", "") }, false, ""},
	{ruleMessageContent, "nothing", func() []Violation { return CheckMessage("chat.postMessage", "", "") }, true, "no_text"},
	{ruleMessageFallback, "blocks and text", blocksCase(sectionBlock("x")), false, ""},
	{ruleMessageFallback, "blocks only", func() []Violation { return CheckMessage("chat.postMessage", "", js([]any{sectionBlock("x")})) }, true, ""},
	{ruleBlocksFormat, "array", func() []Violation { return CheckMessage("chat.postMessage", "x", "[]") }, false, ""},
	{ruleBlocksFormat, "object", func() []Violation { return CheckMessage("chat.postMessage", "x", `{"blocks":[]}`) }, true, "invalid_blocks_format"},
	{ruleMessageText, "40000", func() []Violation { return CheckMessage("chat.postMessage", strings.Repeat("x", 40000), "") }, false, ""},
	{ruleMessageText, "40001", func() []Violation { return CheckMessage("chat.postMessage", strings.Repeat("x", 40001), "") }, true, ""},

	{ruleChannelRequired, "a name", func() []Violation { return CheckChannelName("conversations.create", "inc-1") }, false, ""},
	{ruleChannelRequired, "empty", func() []Violation { return CheckChannelName("conversations.create", "") }, true, "invalid_name_required"},
	{ruleChannelMax, "80", func() []Violation { return CheckChannelName("conversations.create", strings.Repeat("c", 80)) }, false, ""},
	{ruleChannelMax, "81", func() []Violation { return CheckChannelName("conversations.create", strings.Repeat("c", 81)) }, true, "invalid_name_maxlength"},
	{ruleChannelSpecials, "lowercase, digits, - and _", func() []Violation { return CheckChannelName("conversations.create", "inc-20261128_αβγ-日本") }, false, ""},
	{ruleChannelSpecials, "upper case and a space", func() []Violation { return CheckChannelName("conversations.create", "Inc 1") }, true, "invalid_name_specials"},
	{ruleChannelSpecials, "a period", func() []Violation { return CheckChannelName("conversations.create", "inc.1") }, true, "invalid_name_specials"},
	{ruleChannelPunctuation, "a letter", func() []Violation { return CheckChannelName("conversations.create", "a--") }, false, ""},
	{ruleChannelPunctuation, "only hyphens", func() []Violation { return CheckChannelName("conversations.create", "---") }, true, "invalid_name_punctuation"},
	{ruleTopic, "250 Cyrillic letters", func() []Violation { return CheckTopic("conversations.setTopic", strings.Repeat("ж", 250)) }, false, ""},
	{ruleTopic, "251", func() []Violation { return CheckTopic("conversations.setTopic", strings.Repeat("t", 251)) }, true, "too_long"},
	{rulePurpose, "250", func() []Violation { return CheckPurpose("conversations.setPurpose", strings.Repeat("p", 250)) }, false, ""},
	{rulePurpose, "251", func() []Violation { return CheckPurpose("conversations.setPurpose", strings.Repeat("p", 251)) }, true, "too_long"},
}

func TestLimits(t *testing.T) {
	for _, tc := range limitCases {
		t.Run(tc.rule+"/"+tc.name, func(t *testing.T) {
			vs := tc.check()
			var hit *Violation
			for i := range vs {
				if vs[i].Rule == tc.rule {
					hit = &vs[i]
					break
				}
			}
			switch {
			case tc.breaks && hit == nil:
				t.Fatalf("want a violation of %s, got:\n%s", tc.rule, FormatViolations(vs))
			case !tc.breaks && len(vs) > 0:
				t.Fatalf("want no violation, got:\n%s", FormatViolations(vs))
			case tc.breaks && hit.Code != tc.wantCode:
				t.Fatalf("%s: Slack answers %q, the fake %q", tc.rule, tc.wantCode, hit.Code)
			}
		})
	}
}

// Every rule has a request that keeps it and one that breaks it.
func TestEveryRuleHasCases(t *testing.T) {
	keeps, breaks := map[string]bool{}, map[string]bool{}
	for _, tc := range limitCases {
		if _, ok := Rules[tc.rule]; !ok {
			t.Errorf("case %q names an unknown rule %s", tc.name, tc.rule)
		}
		if tc.breaks {
			breaks[tc.rule] = true
		} else {
			keeps[tc.rule] = true
		}
	}
	for id, r := range Rules {
		if !keeps[id] || !breaks[id] {
			t.Errorf("rule %s (%s) needs a passing and a failing case (passing %t, failing %t)", id, r.Says, keeps[id], breaks[id])
		}
		if !strings.HasPrefix(r.Source, "https://docs.slack.dev/") && !strings.HasPrefix(r.Source, "https://api.slack.com/") {
			t.Errorf("rule %s cites %q, not Slack's documentation", id, r.Source)
		}
	}
}

func TestViolationPaths(t *testing.T) {
	blocks := js([]any{sectionBlock("ok"), m{"type": "section", "fields": []any{mrkdwnText("a"), mrkdwnText(strings.Repeat("x", 2001))}}})
	vs := CheckMessage("chat.postMessage", "fallback", blocks)
	if len(vs) != 1 || vs[0].Path != "/blocks/1/fields/1/text" || vs[0].Rule != ruleSectionFieldText {
		t.Fatalf("got:\n%s", FormatViolations(vs))
	}
	view := js(modalView(sectionBlock("ok"), inputBlock(m{"type": "plain_text_input", "placeholder": plainText("")})))
	vs = CheckView("views.open", "/view", []byte(view))
	if len(vs) != 1 || vs[0].Path != "/view/blocks/1/element/placeholder/text" || vs[0].Code != "invalid_arguments" {
		t.Fatalf("got:\n%s", FormatViolations(vs))
	}
}

// The workspace answers Slack's error code and records what was wrong.
func TestWorkspaceAnswersSlackErrors(t *testing.T) {
	ws := New("xoxb-limits")
	t.Cleanup(ws.Close)
	api := slackgo.New("xoxb-limits", slackgo.OptionAPIURL(ws.APIURL()))
	ctx := context.Background()

	_, err := api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: "Incident 1"})
	assertSlackError(t, err, "invalid_name_specials")
	ch, err := api.CreateConversationContext(ctx, slackgo.CreateConversationParams{ChannelName: "inc-1", IsPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	_, err = api.SetTopicOfConversationContext(ctx, ch.ID, strings.Repeat("t", 251))
	assertSlackError(t, err, "too_long")
	_, _, err = api.PostMessageContext(ctx, ch.ID, slackgo.MsgOptionText("fallback", false),
		slackgo.MsgOptionBlocks(slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType, "", false, false), nil, nil)))
	assertSlackError(t, err, "invalid_blocks")
	if got := len(ws.Messages(ch.ID)); got != 0 {
		t.Errorf("a refused message was posted: %d messages", got)
	}
	_, ts, err := api.PostMessageContext(ctx, ch.ID, slackgo.MsgOptionText("fallback", false),
		slackgo.MsgOptionBlocks(slackgo.NewDividerBlock()))
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, ch.ID, ts, slackgo.MsgOptionText("fallback", false),
		slackgo.MsgOptionBlocks(slackgo.NewHeaderBlock(slackgo.NewTextBlockObject(slackgo.PlainTextType, strings.Repeat("h", 151), false, false))))
	assertSlackError(t, err, "invalid_blocks")

	input := slackgo.NewInputBlock("measures", slackgo.NewTextBlockObject(slackgo.PlainTextType, "Measures", false, false), nil,
		slackgo.NewPlainTextInputBlockElement(slackgo.NewTextBlockObject(slackgo.PlainTextType, "", false, false), "measures"))
	_, err = api.OpenViewContext(ctx, ws.NewTrigger("U1"), slackgo.ModalViewRequest{Type: slackgo.VTModal,
		Title:  slackgo.NewTextBlockObject(slackgo.PlainTextType, "DPO decision", false, false),
		Submit: slackgo.NewTextBlockObject(slackgo.PlainTextType, "Record", false, false),
		Blocks: slackgo.Blocks{BlockSet: []slackgo.Block{input}}})
	assertSlackError(t, err, "invalid_arguments")

	var got []string
	for _, v := range ws.Violations() {
		got = append(got, v.Method+" "+v.Path+" "+v.Rule)
	}
	want := []string{
		"conversations.create /name channel.name.specials",
		"conversations.setTopic /topic channel.topic.max",
		"chat.postMessage /blocks/0/text/text text.min",
		"chat.update /blocks/0/text/text header.text.max",
		"views.open /view/blocks/0/element/placeholder/text text.min",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func assertSlackError(t *testing.T, err error, code string) {
	t.Helper()
	var se slackgo.SlackErrorResponse
	if err == nil || !errors.As(err, &se) || se.Err != code {
		t.Fatalf("want Slack error %s, got %v", code, err)
	}
}
