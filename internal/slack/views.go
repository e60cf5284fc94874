package slack

import (
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/internal/datasets"
)

func option(value, text string) *slackgo.OptionBlockObject {
	return slackgo.NewOptionBlockObject(value, plain(text, maxOptionText), nil)
}

// optionalPlain is a plain_text object, or nil for no text: Slack refuses an empty one.
func optionalPlain(s string, n int) *slackgo.TextBlockObject {
	if s == "" {
		return nil
	}
	return plain(s, n)
}

// textInput is an input block with a plain-text input whose block and action ids are both id.
// An empty placeholder or hint is left out.
func textInput(id, label, placeholder, initial string, multiline, optional bool, hint string) *slackgo.InputBlock {
	el := slackgo.NewPlainTextInputBlockElement(optionalPlain(placeholder, maxPlaceholder), id)
	el.InitialValue = Truncate(initial, maxInputLength)
	el.Multiline = multiline
	el.MaxLength = maxInputLength
	in := slackgo.NewInputBlock(id, plain(label, maxLabel), optionalPlain(hint, maxLabel), el)
	in.Optional = optional
	return in
}

func modal(callbackID, title, submit, metadata string, blocks ...slackgo.Block) slackgo.ModalViewRequest {
	return slackgo.ModalViewRequest{
		Type:            slackgo.VTModal,
		CallbackID:      callbackID,
		Title:           plain(title, maxModalTitle),
		Submit:          plain(submit, maxModalTitle),
		Close:           plain("Cancel", maxModalTitle),
		PrivateMetadata: metadata,
		Blocks:          slackgo.Blocks{BlockSet: blocks},
	}
}

// MaxStaticOptions is the most options Slack shows in a select of static options; a bigger
// inventory is offered through an options load (SystemOptions).
const MaxStaticOptions = 100

// DeclareModal is the form of `/breach declare [title]`. metadata travels back with the
// submission (the channel and response URL of the command). The affected systems are chosen
// from systems, the inventory's names: a menu of them when they fit Slack's 100 options, else a
// menu whose options breach loads as the person types (SystemOptions). An address that is not
// in the inventory is typed in its own field, which only an incident commander may use. The
// affected-subjects dataset is chosen from the store's (stored); it can be given later.
func DeclareModal(metadata, title string, now time.Time, systems []string, stored StoredDatasets) slackgo.ModalViewRequest {
	aware := slackgo.NewDateTimePickerBlockElement(InputAwareAt)
	aware.InitialDateTime = now.Unix()
	severity := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, plain("How bad does it look?", maxPlaceholder), InputSeverity)
	for _, s := range Severities {
		severity.Options = append(severity.Options, option(s, s))
	}
	severity.InitialOption = option("high", "high")
	blocks := []slackgo.Block{
		textInput(InputTitle, "Title", "Customer database exposed through a public backup", title, false, false, ""),
	}
	if len(systems) > 0 {
		var menu *slackgo.MultiSelectBlockElement
		placeholder := plain("Choose the systems from the inventory", maxPlaceholder)
		if len(systems) <= MaxStaticOptions {
			menu = slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeStatic, placeholder, InputSystems)
			for _, s := range systems {
				menu.Options = append(menu.Options, option(s, s))
			}
		} else {
			menu = slackgo.NewOptionsMultiSelectBlockElement(slackgo.MultiOptTypeExternal, placeholder, InputSystems).WithMinQueryLength(0)
		}
		in := slackgo.NewInputBlock(InputSystems, plain("Affected systems", maxLabel),
			plain("From the systems inventory. Isolation starts at once.", maxLabel), menu)
		in.Optional = true
		blocks = append(blocks, in)
	}
	blocks = append(blocks,
		textInput(InputAddresses, "Addresses not in the inventory", "203.0.113.7, 2001:db8::7", "", false, true,
			"IP addresses, separated by commas, isolated at once by the default firewall. Only an incident commander may name one."),
		slackgo.NewInputBlock(InputAwareAt, plain("Aware since", maxLabel), plain("When the organisation became aware: the legal clocks run from here.", maxLabel), aware),
		slackgo.NewInputBlock(InputSeverity, plain("Severity", maxLabel), nil, severity),
		textInput(InputWhat, "What happened", "A few sentences. No personal data of the people affected.", "", true, true, ""),
		datasetBlock(stored),
	)
	return modal(ViewDeclare, "Declare a breach", "Declare", metadata, blocks...)
}

// StoredDatasets are the datasets of breach's store that the declaration form offers.
type StoredDatasets struct {
	// Infos are the store's datasets, newest first (datasets.Store.List).
	Infos []datasets.Info
	// Unreadable says the store could not be listed just now.
	Unreadable bool
}

// ShortcutName is the name of the message shortcut that makes a CSV shared in an incident's
// channel its dataset, as the app manifest gives it.
const ShortcutName = "Use as subjects dataset"

// laterHint is how a dataset is given once the incident runs.
const laterHint = "It can be given later: share the CSV in the incident channel and choose *" + ShortcutName +
	"* from the message's menu (⋮), or `breach subjects ID --dataset NAME` on the command line."

// datasetBlock offers the store's newest datasets (Slack shows at most 100 options), or says
// how to add one when there is none.
func datasetBlock(stored StoredDatasets) slackgo.Block {
	switch {
	case stored.Unreadable:
		return section(BlockNoDatasets, "*Affected-subjects dataset:* breach could not read its dataset store just now. "+laterHint)
	case len(stored.Infos) == 0:
		return section(BlockNoDatasets, "*Affected-subjects dataset:* breach's dataset store holds none yet. "+
			"Add the export with `breach datasets add FILE.csv` and declare again, or declare now without one. "+laterHint)
	}
	menu := slackgo.NewOptionsSelectBlockElement(slackgo.OptTypeStatic, plain("Choose a dataset of breach's store", maxPlaceholder), InputSubjects)
	for i, info := range stored.Infos {
		if i == MaxStaticOptions {
			break
		}
		menu.Options = append(menu.Options, slackgo.NewOptionBlockObject(info.Name, plain(DatasetOptionText(info), maxOptionText), nil))
	}
	hint := "From breach's dataset store (breach datasets list), newest first. It can be given later, also as a CSV shared in the incident channel."
	if n := len(stored.Infos); n > MaxStaticOptions {
		hint = fmt.Sprintf("The newest %d of the %d datasets in breach's store; give an older one later: breach subjects ID --dataset NAME.", MaxStaticOptions, n)
	}
	in := slackgo.NewInputBlock(InputSubjects, plain("Affected-subjects dataset", maxLabel), plain(hint, maxLabel), menu)
	in.Optional = true
	return in
}

// DatasetOptionText shows a stored dataset in a menu: its name, size and when it was added, in
// Slack's 75 characters (the name is shortened, never the rest).
func DatasetOptionText(info datasets.Info) string {
	suffix := " · " + ByteSize(info.Size) + " · " + info.Modified.UTC().Format("2006-01-02 15:04")
	return Truncate(info.Name, maxOptionText-Chars(suffix)) + suffix
}

// ByteSize is a size as people read it: 812 B, 4.1 kB, 1.5 GB.
func ByteSize(n int64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	f := float64(n)
	for _, unit := range []string{"kB", "MB", "GB", "TB"} {
		f /= 1000
		if f < 999.95 {
			return fmt.Sprintf("%.1f %s", f, unit)
		}
	}
	return fmt.Sprintf("%.1f PB", f/1000)
}

// SystemOptions are the options of the systems menu for what a person typed: the inventory's
// names containing it (any case), at most Slack's 100.
func SystemOptions(systems []string, typed string) []*slackgo.OptionBlockObject {
	typed = strings.ToLower(strings.TrimSpace(typed))
	out := []*slackgo.OptionBlockObject{}
	for _, s := range systems {
		if len(out) == MaxStaticOptions {
			break
		}
		if strings.Contains(strings.ToLower(s), typed) {
			out = append(out, option(s, s))
		}
	}
	return out
}

// DecideModal is the DPO's risk decision for an incident.
func DecideModal(metadata, incidentID string) slackgo.ModalViewRequest {
	risk := slackgo.NewRadioButtonsBlockElement(InputRisk,
		option("unlikely", "Unlikely to result in a risk to people"),
		option("risk", "A risk to people's rights and freedoms"),
		option("high", "A high risk to people's rights and freedoms"))
	authority := option(NotifyAuthority, "Notify the supervisory authority")
	notify := slackgo.NewCheckboxGroupsBlockElement(InputNotify,
		authority,
		option(NotifySubjects, "Notify the affected people"),
		option(NotifyEncrypted, "The data is unintelligible to anyone unauthorised (e.g. strongly encrypted)"))
	notify.InitialOptions = []*slackgo.OptionBlockObject{authority}
	notifyBlock := slackgo.NewInputBlock(InputNotify, plain("Notifications", maxLabel), nil, notify)
	notifyBlock.Optional = true
	return modal(ViewDecide, "DPO decision", "Record decision", metadata,
		slackgo.NewSectionBlock(md("Risk decision for *"+incidentID+"*. It is recorded in the breach register with your reasoning (GDPR Art. 33(5))."), nil, nil),
		slackgo.NewInputBlock(InputRisk, plain("Risk level", maxLabel), nil, risk),
		notifyBlock,
		textInput(InputReasoning, "Reasoning", "Why this risk level, and why these notifications", "", true, false, ""),
		textInput(InputConsequen, "Likely consequences", "For the people affected", "", true, true, ""),
		textInput(InputMeasures, "Measures taken or proposed", "", "", true, true, ""),
		textInput(InputAdvice, "Advice to the people affected", "What they can do to protect themselves", "", true, true, ""),
	)
}

// FileModal confirms a report filed on an authority's portal.
func FileModal(metadata, incidentID, obligation string) slackgo.ModalViewRequest {
	return modal(ViewFile, "Confirm a filing", "Confirm", metadata,
		slackgo.NewSectionBlock(md("The *"+Escape(obligation)+"* report of *"+incidentID+"* was filed on the authority's portal."), nil, nil),
		textInput(InputReference, "Reference number", "The authority's reference", "", false, false, ""),
		textInput(InputReasons, "Reasons for the delay", "Required when the deadline has passed", "", true, true, ""),
	)
}

// ApproveLateModal approves a report whose deadline has passed: the law asks for the reasons
// for the delay (GDPR Art. 33(1)), so the button opens this form instead of approving at once.
func ApproveLateModal(metadata, incidentID, obligation string, due time.Time) slackgo.ModalViewRequest {
	return modal(ViewApproveLate, "Approve a late report", "Approve", metadata,
		slackgo.NewSectionBlock(md("The deadline of the *"+Escape(obligation)+"* report of *"+incidentID+"* passed "+SlackDate(due)+
			". A late report must give the reasons for the delay; they are submitted with it and kept in the register."), nil, nil),
		textInput(InputReasons, "Reasons for the delay", "Why the report could not be made in time", "", true, false, ""),
	)
}
