package slack_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	slackgo "github.com/slack-go/slack"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	"github.com/breachops/breach/internal/rules"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/internal/slack/slackfake"
)

// title200 repeats base to exactly 200 characters.
func title200(base string) string {
	r := []rune(strings.Repeat(base, 200/utf8.RuneCountInString(base)+1))
	return string(r[:200])
}

// Titles of 200 characters in several scripts, with the characters that need escaping.
var longTitles = map[string]string{
	"latin":    title200("Données clients exposées à Zürich & Málaga <prod> "),
	"greek":    title200("Διαρροή δεδομένων πελατών στην Αθήνα "),
	"cyrillic": title200("Утечка данных клиентов в Москве "),
	"cjk":      title200("顧客データベースが公開バックアップから漏洩しました"),
	"arabic":   title200("تسريب بيانات العملاء من النسخة الاحتياطية "),
	"emoji":    title200("🚨 DB 👩🏽‍💻 leak 🇩🇪🔥 "),
	"mixed":    title200("Kunden & клиенты & 顧客 & عملاء 🚨 "),
}

// twentySevenObligations are what the rules engine requires of a breach spanning the EU, the UK,
// Canada, Australia, Singapore, Brazil and six US states, in health care, NIS2 and listed.
func twentySevenObligations(t *testing.T) []rules.Obligation {
	t.Helper()
	f, err := rules.ParseFacts([]byte(`{"aware_at": "2026-11-28T08:30:00+01:00", "timezone": "Europe/Berlin",
		"establishments": ["DE","GB","CA","AU","SG","BR"], "sectors": ["health-covered-entity","nis2-essential","us-listed"],
		"subjects_by_jurisdiction": {"DE": 1, "GB": 1, "CA": 1, "AU": 1, "SG": 1, "BR": 1, "US-CA": 1,
			"US-CO": 500, "US-FL": 500, "US-NY": 1, "US-TX": 250, "US-WA": 501},
		"data_categories": ["health","financial"], "risk": "high", "significant_incident": true}`))
	require.NoError(t, err)
	res, err := rules.Evaluate(f)
	require.NoError(t, err)
	require.Len(t, res.Obligations, 27)
	return res.Obligations
}

func bigCard(t *testing.T, title string) incident.Card {
	t.Helper()
	c := incident.Card{IncidentID: "INC-20261128-7F3A", Title: title, Phase: "notify", DeclaredBy: declarer,
		AwareAt: clock.Add(-2 * time.Hour), Risk: "high",
		Containment: []incident.SystemStatus{
			{System: "shop-db", State: incident.ContainContained, Provider: "nftables"},
			{System: "crm-api <eu>", State: incident.ContainManual, Manual: true, Detail: "UIC000001 must isolate it & confirm"},
			{System: "198.51.100.21", State: incident.ContainIsolating, Provider: "aws-sg"},
		},
		Alerts: incident.AlertProgress{State: "sending", Total: 2352, Sent: 1200, Invalid: 3},
	}
	states := []string{incident.OblAwaitingApproval, incident.OblAwaitingFiling, incident.OblAwaitingNotices, incident.OblFiled, incident.OblDrafting}
	for i, o := range twentySevenObligations(t) {
		st := incident.ObligationStatus{Obligation: o, State: states[i%len(states)], Late: i%7 == 0}
		if st.State == incident.OblFiled {
			st.SubmittedAt, st.SubmittedBy = clock.Add(time.Hour), dpo
		}
		c.Obligations = append(c.Obligations, st)
		if st.State == incident.OblAwaitingApproval {
			c.Pending = append(c.Pending, fmt.Sprintf("report:%s (dpo): Approve the %s report to %s (%s)", o.ID, o.ID, o.Audience, o.Basis))
		}
	}
	return c
}

// checkMessage fails the test if Slack would refuse or alter the message, or if a rule is broken.
func checkMessage(t *testing.T, text string, blocks []slackgo.Block) string {
	t.Helper()
	raw, err := json.Marshal(blocks)
	require.NoError(t, err)
	if vs := slackfake.CheckMessage("chat.postMessage", text, string(raw)); len(vs) > 0 {
		t.Fatalf("Slack's limits are broken:\n%s", slackfake.FormatViolations(vs))
	}
	return unescaped(raw)
}

func TestCardBlocksWithinSlackLimits(t *testing.T) {
	for script, title := range longTitles {
		t.Run(script, func(t *testing.T) {
			c := bigCard(t, title)
			blocks := breachslack.CardBlocks(c, clock)
			shown := checkMessage(t, breachslack.CardText(c), blocks)

			head := blocks[0].(*slackgo.HeaderBlock).Text.Text
			full := ":rotating_light: " + c.IncidentID + ": " + title
			assert.True(t, utf8.ValidString(head))
			assert.LessOrEqual(t, utf8.RuneCountInString(head), 150)
			require.True(t, strings.HasSuffix(head, "…"), head)
			assert.True(t, strings.HasPrefix(full, strings.TrimSuffix(head, "…")), "the header is the start of the title, whole characters: %q", head)

			for _, o := range c.Obligations {
				assert.Contains(t, shown, "`"+o.ID+"`", "every obligation is on the card")
			}
			assert.NotContains(t, shown, "more obligations")
			assert.Contains(t, shown, "crm-api &lt;eu&gt;", "text from the incident is escaped")
			assert.Contains(t, shown, "<@UIC000001> must isolate it &amp; confirm")
			ids := breachslack.BlockIDs(blocks)
			assert.Len(t, ids, len(blocks), "every block has an id")
		})
	}
}

// A card with more obligations than it can show says how many it left out and where to see
// them, never cutting a line.
func TestCardSummarisesLongLists(t *testing.T) {
	c := bigCard(t, longTitles["mixed"])
	base := c.Obligations
	for i := 0; len(c.Obligations) < 120; i++ {
		o := base[i%len(base)]
		o.ID = fmt.Sprintf("%s-%d", o.ID, i)
		c.Obligations = append(c.Obligations, o)
	}
	for i := range 400 {
		c.Containment = append(c.Containment, incident.SystemStatus{System: fmt.Sprintf("system-with-a-long-name-%03d", i), State: incident.ContainIsolating})
	}
	for i := range 80 {
		c.Pending = append(c.Pending, fmt.Sprintf("file:extra-%d (dpo): File the report on the portal, then confirm with its reference", i))
	}
	blocks := breachslack.CardBlocks(c, clock)
	shown := checkMessage(t, breachslack.CardText(c), blocks)

	shownObligations := len(regexp.MustCompile("• `[^`]+` to ").FindAllString(shown, -1))
	for _, want := range []string{"more obligations: `/breach status` in this channel, or `breach status INC-20261128-7F3A`", "more systems:", "more: `/breach status`"} {
		assert.Contains(t, shown, want)
	}
	m := regexp.MustCompile(`… and (\d+) more obligations`).FindStringSubmatch(shown)
	require.NotNil(t, m, "the card says how many obligations it left out")
	more, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	assert.Equal(t, 120, shownObligations+more, "shown and left out add up")
	assert.Less(t, len(blocks), 50)
	textChars := 0
	for _, b := range blocks {
		if s, ok := b.(*slackgo.SectionBlock); ok && s.Text != nil {
			textChars += utf8.RuneCountInString(s.Text.Text)
		}
	}
	assert.Less(t, textChars, 12000, "far from the size Slack refuses as msg_blocks_too_long")
}

func TestCardBlockIDsChangeWithEveryEdit(t *testing.T) {
	c := bigCard(t, "Customer DB exposed")
	first := breachslack.BlockIDs(breachslack.CardBlocks(c, clock))
	assert.Equal(t, first, breachslack.BlockIDs(breachslack.CardBlocks(c, clock)), "the same card, the same ids")
	c.Obligations[0].State = incident.OblFiled
	second := breachslack.BlockIDs(breachslack.CardBlocks(c, clock))
	for _, id := range second {
		assert.NotContains(t, first, id, "an edited card has new block_ids")
	}
	raw, err := json.Marshal(breachslack.CardBlocks(c, clock))
	require.NoError(t, err)
	rawFirst, err := json.Marshal(breachslack.CardBlocks(bigCard(t, "Customer DB exposed"), clock))
	require.NoError(t, err)
	assert.Empty(t, slackfake.CheckUpdatedBlockIDs("chat.update", rawFirst, raw))
}

// The workflow's messages, with 200-character titles and a list of 27 obligations in one line.
func TestMessageBlocksWithinSlackLimits(t *testing.T) {
	const id = "INC-20261128-7F3A"
	var lines []string
	for _, o := range twentySevenObligations(t) {
		lines = append(lines, fmt.Sprintf("%s (%s, to %s) due %s", o.ID, o.Basis, o.Audience, o.DueAt.UTC().Format(time.RFC3339)))
	}
	obligations := "Obligations: " + strings.Join(lines, "; ")
	require.Greater(t, len(obligations), 3000, "the case needs a text longer than a section")
	for script, title := range longTitles {
		msgs := []incident.ChatMessage{
			{Kind: "card", Text: title + "\nSystems: shop-db\nAware since: 2026-11-28T07:30:00Z"},
			{Kind: "decision-needed", Urgent: true, Text: "The DPO must decide the risk and the notifications: breach decide " + id + " --risk unlikely|risk|high --reasoning \"…\" --as <dpo>"},
			{Kind: "approval-needed", Text: "The gdpr-art33-authority report to the supervisory authority is drafted (/r/d.md), due 2026-12-01T07:30:00Z. Approve: breach approve " + id + " --step report:gdpr-art33-authority --as <dpo>"},
			{Kind: "filing-needed", Drill: true, Text: "File the approved uk-gdpr-art33-ico report with the ICO, then confirm: breach file " + id + " --obligation uk-gdpr-art33-ico --reference REF --as <dpo>"},
			{Kind: "escalation", Urgent: true, Text: "gdpr-art33-authority: OVERDUE; " + title},
			{Kind: "ready-to-close", Text: "Every step is done. The incident commander can close: breach close " + id + " --as <commander>"},
			{Kind: "obligations", Text: obligations},
			{Kind: "scope", Text: strings.Repeat(title+" & more\n", 40)},
		}
		for _, m := range msgs {
			t.Run(script+"/"+m.Kind, func(t *testing.T) {
				m.IncidentID = id
				text := breachslack.MessageText(m)
				blocks := breachslack.MessageBlocks(m)
				shown := checkMessage(t, text, blocks)
				assert.NotContains(t, text, "<dpo>")
				if m.Kind == "obligations" {
					for _, l := range lines {
						name, _, _ := strings.Cut(l, " ")
						assert.Contains(t, shown, name, "no obligation is lost")
					}
					assert.GreaterOrEqual(t, len(blocks), 2, "the list continues in a second section")
				}
				if _, ok := breachslack.RequestOf(m); ok {
					assert.Len(t, slackfake.Buttons(mustJSON(t, blocks)), 1)
				}
			})
		}
	}
}

func mustJSON(t *testing.T, v any) json.RawMessage {
	t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(t, err)
	return raw
}

func TestModalsWithinSlackLimits(t *testing.T) {
	views := map[string]slackgo.ModalViewRequest{
		"decide": breachslack.DecideModal(`{"c":"C1","r":"https://hooks.slack.com/x","i":"INC-20261128-7F3A","s":"decide"}`, "INC-20261128-7F3A"),
		"file":   breachslack.FileModal("{}", "INC-20261128-7F3A", strings.Repeat("obligation-<id>-", 20)),
	}
	for script, title := range longTitles {
		views["declare/"+script] = breachslack.DeclareModal("{}", title, clock, []string{"shop-db", "crm-api"}, breachslack.StoredDatasets{})
	}
	// Slack's 100 options as a menu; more, loaded as the person types; none, addresses only.
	for _, n := range []int{0, 1, breachslack.MaxStaticOptions, breachslack.MaxStaticOptions + 1, 5000} {
		views[fmt.Sprintf("declare/%d systems", n)] = breachslack.DeclareModal("{}", "Customer DB exposed", clock, inventoryOf(n), breachslack.StoredDatasets{})
	}
	// The store's datasets, with the longest names a store allows: Slack's 100 options at most.
	for _, n := range []int{0, 1, breachslack.MaxStaticOptions, breachslack.MaxStaticOptions + 1, 5000} {
		views[fmt.Sprintf("declare/%d datasets", n)] = breachslack.DeclareModal("{}", "Customer DB exposed", clock, inventoryOf(2), storeOf(n))
	}
	views["declare/store unreadable"] = breachslack.DeclareModal("{}", "Customer DB exposed", clock, inventoryOf(2), breachslack.StoredDatasets{Unreadable: true})
	for name, v := range views {
		t.Run(name, func(t *testing.T) {
			raw, err := json.Marshal(v)
			require.NoError(t, err)
			if vs := slackfake.CheckView("views.open", "/view", raw); len(vs) > 0 {
				t.Fatalf("Slack refuses the form:\n%s", slackfake.FormatViolations(vs))
			}
		})
	}
	// The decision form that real Slack refused: an input without a placeholder has none,
	// rather than an empty one.
	raw, err := json.Marshal(views["decide"])
	require.NoError(t, err)
	assert.NotContains(t, string(raw), `"text":""`)
}

// inventoryOf is n system names as long as the inventory allows (63 characters).
func inventoryOf(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d", strings.Repeat("s", 57), i)
	}
	return out
}

// A menu of the inventory: Slack's 100 options fit; with more, the options come from breach as
// the person types, at most 100 of them, the ones that contain what was typed.
func TestDeclareModalOffersTheInventory(t *testing.T) {
	menu := func(v slackgo.ModalViewRequest) map[string]any {
		t.Helper()
		for _, b := range blocksOf(t, mustJSON(t, v.Blocks.BlockSet)) {
			if b["block_id"] == breachslack.InputSystems {
				return b["element"].(map[string]any)
			}
		}
		return nil
	}
	small := menu(breachslack.DeclareModal("{}", "t", clock, []string{"shop-db", "crm-api"}, breachslack.StoredDatasets{}))
	require.Equal(t, "multi_static_select", small["type"])
	require.Len(t, small["options"], 2)
	full := menu(breachslack.DeclareModal("{}", "t", clock, inventoryOf(breachslack.MaxStaticOptions), breachslack.StoredDatasets{}))
	require.Equal(t, "multi_static_select", full["type"])
	require.Len(t, full["options"], breachslack.MaxStaticOptions)
	big := menu(breachslack.DeclareModal("{}", "t", clock, inventoryOf(breachslack.MaxStaticOptions+1), breachslack.StoredDatasets{}))
	require.Equal(t, "multi_external_select", big["type"])
	require.NotContains(t, big, "options")
	require.Nil(t, menu(breachslack.DeclareModal("{}", "t", clock, nil, breachslack.StoredDatasets{})), "no inventory: addresses only")

	inv := inventoryOf(250)
	require.Len(t, breachslack.SystemOptions(inv, ""), breachslack.MaxStaticOptions)
	got := breachslack.SystemOptions(inv, "-0012")
	require.Len(t, got, 10)
	require.Equal(t, inv[120], got[0].Value)
	require.Len(t, breachslack.SystemOptions([]string{"Shop-DB", "crm-api"}, "shop"), 1, "any case")
	require.Empty(t, breachslack.SystemOptions(inv, "nothing like it"))
}

// storeOf is n datasets, newest first, with names as long as the store allows (128
// characters) and sizes from bytes to terabytes.
func storeOf(n int) breachslack.StoredDatasets {
	var out breachslack.StoredDatasets
	for i := range n {
		out.Infos = append(out.Infos, datasets.Info{Name: fmt.Sprintf("%s-%05d.csv", strings.Repeat("d", 118), i),
			Size: int64(1) << (i % 45), Modified: clock.Add(-time.Duration(i) * time.Hour)})
	}
	return out
}

// The declaration form offers the store's datasets, newest first, as a menu of at most Slack's
// 100 options: the value is the dataset's name, the text its name, size and date in 75
// characters. With none in the store (or the store unreadable) it says how to give one.
func TestDeclareModalOffersTheStoresDatasets(t *testing.T) {
	find := func(v slackgo.ModalViewRequest, id string) map[string]any {
		t.Helper()
		for _, b := range blocksOf(t, mustJSON(t, v.Blocks.BlockSet)) {
			if b["block_id"] == id {
				return b
			}
		}
		return nil
	}
	tests := []struct {
		name     string
		stored   breachslack.StoredDatasets
		options  int
		saysHow  []string
		hintSays string
	}{
		{name: "one", stored: storeOf(1), options: 1, hintSays: "newest first"},
		{name: "Slack's 100", stored: storeOf(breachslack.MaxStaticOptions), options: breachslack.MaxStaticOptions, hintSays: "newest first"},
		{name: "more than Slack shows", stored: storeOf(250), options: breachslack.MaxStaticOptions, hintSays: "The newest 100 of the 250"},
		{name: "none", saysHow: []string{"holds none yet", "`breach datasets add FILE.csv`", breachslack.ShortcutName}},
		{name: "the store unreadable", stored: breachslack.StoredDatasets{Unreadable: true}, saysHow: []string{"could not read its dataset store", breachslack.ShortcutName}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := breachslack.DeclareModal("{}", "t", clock, inventoryOf(2), tt.stored)
			in := find(v, breachslack.InputSubjects)
			if tt.saysHow != nil {
				require.Nil(t, in, "no menu without datasets: Slack refuses an empty one")
				said := find(v, breachslack.BlockNoDatasets)
				require.NotNil(t, said)
				for _, want := range tt.saysHow {
					assert.Contains(t, said["text"].(map[string]any)["text"], want)
				}
				return
			}
			require.NotNil(t, in)
			assert.Equal(t, true, in["optional"], "the dataset can be given later")
			assert.Contains(t, in["hint"].(map[string]any)["text"], tt.hintSays)
			el := in["element"].(map[string]any)
			require.Equal(t, "static_select", el["type"])
			assert.NotContains(t, el, "initial_option", "nothing is chosen for the declarer")
			opts := el["options"].([]any)
			require.Len(t, opts, tt.options)
			for i, o := range opts {
				o := o.(map[string]any)
				info := tt.stored.Infos[i]
				assert.Equal(t, info.Name, o["value"], "newest first, valued by name")
				text := o["text"].(map[string]any)["text"].(string)
				assert.LessOrEqual(t, utf8.RuneCountInString(text), 75)
				assert.True(t, strings.HasSuffix(text, " · "+breachslack.ByteSize(info.Size)+" · "+info.Modified.UTC().Format("2006-01-02 15:04")), text)
			}
		})
	}
	short := breachslack.DatasetOptionText(datasets.Info{Name: "march.csv", Size: 1_534_000, Modified: clock})
	assert.Equal(t, "march.csv · 1.5 MB · "+clock.UTC().Format("2006-01-02 15:04"), short, "a short name is shown whole")
}

func TestByteSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 999: "999 B", 1000: "1.0 kB", 4_100: "4.1 kB", 999_999: "1.0 MB",
		1_500_000_000: "1.5 GB", 4 << 30: "4.3 GB", 2_000_000_000_000_000: "2.0 PB"} {
		assert.Equal(t, want, breachslack.ByteSize(n), "%d bytes", n)
	}
}

func TestChannelTopicAndPurposeWithinSlackLimits(t *testing.T) {
	for script, title := range longTitles {
		t.Run(script, func(t *testing.T) {
			for attempt := 1; attempt <= 12; attempt++ {
				name := breachslack.ChannelName("INC-20261128-7F3A9C2E1B4D5A6F", title, attempt%2 == 0, attempt)
				assert.Empty(t, slackfake.CheckChannelName("conversations.create", name), name)
			}
			r := incident.RoomRequest{IncidentID: "INC-20261128-7F3A", Title: title, AwareAt: clock, Drill: true}
			topic := breachslack.OpeningTopic(r)
			assert.Empty(t, slackfake.CheckTopic("conversations.setTopic", topic))
			assert.True(t, utf8.ValidString(topic))
			assert.Empty(t, slackfake.CheckTopic("conversations.setTopic", breachslack.Topic(bigCard(t, title))))
		})
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "abc", 3, "abc"},
		{"latin", "Málaga exposé", 8, "Málaga…"},
		{"greek", "Αθήνα Αθήνα", 7, "Αθήνα…"},
		{"cjk", "顧客データベース", 5, "顧客デー…"},
		{"arabic", "تسريب بيانات", 6, "تسريب…"},
		{"combining mark kept with its letter", "Cafe\u0301 ok", 5, "Caf…"},
		{"emoji with skin tone kept whole", "ab👩🏽x", 4, "ab…"},
		{"zero-width-joiner sequence kept whole", "a👩‍💻bc", 4, "a…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := breachslack.Truncate(tt.in, tt.n)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, breachslack.Chars(got), tt.n)
			assert.True(t, utf8.ValidString(got))
		})
	}
}

func TestTruncateMrkdwn(t *testing.T) {
	date := breachslack.SlackDate(clock)
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"fits", "a &lt;b&gt;", 11, "a &lt;b&gt;"},
		{"before a date, not inside it", "due " + date + " (3h left)", 20, "due…"},
		{"at a line break", "first line is long enough\nsecond " + date, 34, "first line is long enough…"},
		{"not at an early line break", "first\nsecond third " + date, 22, "first\nsecond third…"},
		{"after a clause", "alpha (x) due today; beta (y) due " + date, 40, "alpha (x) due today;…"},
		{"not inside an entity", "aaaaaaa &lt;b", 10, "aaaaaaa…"},
		{"not inside a mention", "ask <@U0123456789> now", 12, "ask…"},
		{"one long word", strings.Repeat("x", 20), 10, strings.Repeat("x", 9) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := breachslack.TruncateMrkdwn(tt.in, tt.n)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, breachslack.Chars(got), tt.n)
		})
	}
}
