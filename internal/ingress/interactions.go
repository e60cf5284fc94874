package ingress

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/datasets"
	breachslack "github.com/breachops/breach/internal/slack"
	"github.com/breachops/breach/workflows"
)

// interaction answers a button click or a modal submission at once; its work runs after.
func (s *Server) interaction(cb slackgo.InteractionCallback, sigKey string) any {
	now := s.now()
	switch cb.Type {
	case slackgo.InteractionTypeBlockActions:
		if len(cb.ActionCallback.BlockActions) == 0 {
			return nil
		}
		a := cb.ActionCallback.BlockActions[0]
		if !s.replays.first(now, sigKey, keyIf("act:", cb.TriggerID), keyIf("act:"+cb.User.ID+":", a.ActionTs)) {
			return nil
		}
		s.blockAction(cb, a)
		return nil
	case slackgo.InteractionTypeViewSubmission:
		if !s.replays.first(now, sigKey) {
			return nil
		}
		return s.viewSubmission(cb, now)
	case slackgo.InteractionTypeBlockSuggestion:
		return s.suggest(cb)
	case slackgo.InteractionTypeMessageAction:
		return s.messageShortcut(cb, sigKey)
	}
	return nil
}

// options is the answer to an options load.
type options struct {
	Options []*slackgo.OptionBlockObject `json:"options"`
}

// suggest loads the options of a menu as a person types: the inventory's systems for the
// declaration form's menu when the inventory is too big for a static one.
func (s *Server) suggest(cb slackgo.InteractionCallback) any {
	if cb.ActionID != breachslack.InputSystems {
		return options{Options: []*slackgo.OptionBlockObject{}}
	}
	return options{Options: breachslack.SystemOptions(s.cfg.Systems, cb.Value)}
}

// where is the place an outcome is shown: the message with the buttons, and the clicker.
type where struct {
	channel     string
	messageTS   string
	responseURL string
	// user is the clicker's Slack user id (for ephemeral messages and mentions); actor names
	// them to the workflow: slack:<workspace>/<user>.
	user   string
	actor  string
	blocks []slackgo.Block
	text   string
}

var knownActions = map[string]bool{
	breachslack.ActionDecide: true, breachslack.ActionApproveReport: true, breachslack.ActionConfirmIsolation: true,
	breachslack.ActionFileReport: true, breachslack.ActionClose: true, breachslack.ActionRetryAlerts: true,
}

// blockAction answers a button click: an unknown action or a button that does not name an
// incident and a matching step is told to the clicker; the others open a form or send the
// Update, after the click is answered.
func (s *Server) blockAction(cb slackgo.InteractionCallback, a *slackgo.BlockAction) {
	at := clickedAt(cb)
	if !knownActions[a.ActionID] {
		s.later("unknown action", func(ctx context.Context) {
			s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf("breach does not know the action `%s`; nothing was changed.", breachslack.Escape(truncateRunes(a.ActionID, 60))))
		})
		return
	}
	incidentID, step, ok := buttonTarget(a)
	if !ok {
		s.later("bad button", func(ctx context.Context) {
			s.tell(ctx, at.channel, at.user, at.responseURL, "This button does not name an incident and a step breach knows; nothing was changed.")
		})
		return
	}
	switch a.ActionID {
	case breachslack.ActionDecide, breachslack.ActionFileReport:
		s.openForm(cb, at, a.ActionID, incidentID, step)
	case breachslack.ActionApproveReport:
		s.approveClick(cb, at, incidentID, step)
	case breachslack.ActionConfirmIsolation:
		s.later("confirm isolation", func(ctx context.Context) {
			s.act(ctx, at, incidentID, incident.UpdateApprove,
				incident.ApproveRequest{By: at.actor, Step: step, Note: "confirmed in Slack"}, "Confirmed")
		})
	case breachslack.ActionClose:
		s.later("close", func(ctx context.Context) {
			s.act(ctx, at, incidentID, incident.UpdateClose, incident.CloseRequest{By: at.actor}, "Closed")
		})
	case breachslack.ActionRetryAlerts:
		s.later("retry alerts", func(ctx context.Context) {
			s.act(ctx, at, incidentID, incident.UpdateRetry, incident.RetryRequest{By: at.actor, Alerts: true}, "Retried")
		})
	}
}

// clickedAt is where a click's outcome is shown: the message with the button (from the
// container when the callback leaves it out) and the clicker.
func clickedAt(cb slackgo.InteractionCallback) where {
	at := where{channel: cb.Channel.ID, messageTS: cb.Container.MessageTs, responseURL: cb.ResponseURL, user: cb.User.ID,
		actor: actor(interactionOrigin(cb), cb.User.ID), blocks: cb.Message.Blocks.BlockSet, text: cb.Message.Text}
	if at.channel == "" {
		at.channel = cb.Container.ChannelID
	}
	if at.messageTS == "" {
		at.messageTS = cb.Message.Timestamp
	}
	return at
}

// buttonTarget is the incident and step a button names, and whether the step is one its
// action may act on.
func buttonTarget(a *slackgo.BlockAction) (incidentID, step string, ok bool) {
	incidentID, step, ok = breachslack.ParseButtonValue(a.Value)
	if ok {
		switch a.ActionID {
		case breachslack.ActionApproveReport:
			ok = strings.HasPrefix(step, incident.StepReport)
		case breachslack.ActionConfirmIsolation:
			ok = strings.HasPrefix(step, incident.StepIsolation)
		case breachslack.ActionFileReport:
			ok = strings.HasPrefix(step, incident.StepFile)
		case breachslack.ActionRetryAlerts:
			ok = step == incident.StepRetryAlerts
		}
	}
	return incidentID, step, ok
}

// formMeta is the private metadata of a form opened from a button: where to show the outcome,
// and the message's blocks when they can be encoded.
func formMeta(at where, incidentID, step string) meta {
	m := meta{Channel: at.channel, ResponseURL: at.responseURL, Incident: incidentID, Step: step, MessageTS: at.messageTS, Text: at.text}
	if raw, err := json.Marshal(at.blocks); err == nil {
		m.Blocks = raw
	}
	return m
}

// openForm opens the decision form, or the filing form for a File button, with the click's
// trigger.
func (s *Server) openForm(cb slackgo.InteractionCallback, at where, actionID, incidentID, step string) {
	m := formMeta(at, incidentID, step)
	view := breachslack.DecideModal(m.encode(), incidentID)
	if actionID == breachslack.ActionFileReport {
		view = breachslack.FileModal(m.encode(), incidentID, strings.TrimPrefix(step, "file:"))
	}
	trigger := cb.TriggerID
	s.later("open modal", func(ctx context.Context) {
		if _, err := s.cfg.API.OpenViewContext(ctx, trigger, view); err != nil {
			s.cfg.Logger.Warn("slack views.open failed", "error", err)
			s.tell(ctx, at.channel, at.user, at.responseURL, "Slack did not open the form; click again, or use the CLI.")
		}
	})
}

// approveClick approves a report, or, for a report past its deadline, opens the form that asks
// for the reasons for the delay.
func (s *Server) approveClick(cb slackgo.InteractionCallback, at where, incidentID, step string) {
	trigger := cb.TriggerID
	s.later("approve", func(ctx context.Context) {
		// A report past its deadline needs the reasons for the delay: ask for them in a form
		// while the click's trigger is still valid (Slack allows 3 seconds).
		if due, late := s.lateReport(ctx, incidentID, strings.TrimPrefix(step, incident.StepReport)); late {
			m := formMeta(at, incidentID, step)
			view := breachslack.ApproveLateModal(m.encode(), incidentID, strings.TrimPrefix(step, incident.StepReport), due)
			if _, err := s.cfg.API.OpenViewContext(ctx, trigger, view); err != nil {
				s.cfg.Logger.Warn("slack views.open failed", "error", err)
				s.tell(ctx, at.channel, at.user, at.responseURL, "Slack did not open the form; click again, or use the CLI with --reasons.")
			}
			return
		}
		s.act(ctx, at, incidentID, incident.UpdateApprove, incident.ApproveRequest{By: at.actor, Step: step}, "Approved")
	})
}

// forward sends an Update, signed, as the acting user, and reports whether it was accepted;
// a refusal (the validator's reason) or a failure is told to that user only, after said.
func (s *Server) forward(ctx context.Context, at where, incident, update string, arg any, said string) (string, bool) {
	arg, err := s.sign(incident, update, arg)
	if err != nil {
		s.cfg.Logger.Error("sign a Slack decision", "incident", incident, "update", update, "error", err)
		s.tell(ctx, at.channel, at.user, at.responseURL, said+"breach could not sign this decision; nothing was changed. Tell the breach operators, or use the CLI runbook.")
		return "", false
	}
	out, err := s.cfg.Temporal.Update(ctx, incident, update, arg)
	if errors.Is(err, ErrNoIncident) {
		s.tell(ctx, at.channel, at.user, at.responseURL, said+fmt.Sprintf("There is no running incident %s; nothing was changed.", incident))
		return "", false
	}
	var rej *RejectedError
	if errors.As(err, &rej) {
		s.tell(ctx, at.channel, at.user, at.responseURL, said+fmt.Sprintf(":no_entry: Not done: %s", breachslack.Escape(rej.Reason)))
		return "", false
	}
	if err != nil {
		s.tell(ctx, at.channel, at.user, at.responseURL, said+"Nothing was changed in "+incident+": "+s.trouble(update+" "+incident, err))
		return "", false
	}
	return out, true
}

// act sends an Update as the clicking user. Accepted: the message's buttons become "Approved by
// @user at time". Refused: the validator's reason, to the clicker only.
func (s *Server) act(ctx context.Context, at where, incidentID, update string, arg any, verb string) {
	out, ok := s.forward(ctx, at, incidentID, update, arg, "")
	if !ok {
		return
	}
	detail := ""
	if update == incident.UpdateDecide {
		detail = out
	}
	outcome := breachslack.Outcome(verb, at.user, s.now(), detail)
	if at.channel == "" || at.messageTS == "" {
		return
	}
	blocks, replaced := breachslack.ReplaceActions(at.blocks, outcome)
	if !replaced {
		// The message's blocks did not come back (they did not fit the modal's metadata): its
		// text, as Slack keeps it (already escaped), and the outcome.
		var kept []slackgo.Block
		if at.text != "" {
			kept = append(kept, slackgo.NewSectionBlock(slackgo.NewTextBlockObject(slackgo.MarkdownType,
				breachslack.TruncateMrkdwn(at.text, 3000), false, false), nil, nil, slackgo.SectionBlockOptionBlockID(breachslack.BlockMessage)))
		}
		kept = append(kept, slackgo.NewContextBlock(breachslack.BlockOutcome, slackgo.NewTextBlockObject(slackgo.MarkdownType, outcome, false, false)))
		blocks = breachslack.WithRevision(kept)
	}
	text := at.text
	if text == "" {
		text = outcome
	}
	if err := retry(ctx, func() error {
		_, _, _, err := s.cfg.API.UpdateMessageContext(ctx, at.channel, at.messageTS,
			slackgo.MsgOptionText(text, false), slackgo.MsgOptionBlocks(blocks...))
		return err
	}); err != nil {
		s.cfg.Logger.Warn("slack chat.update of the decision message failed", "channel", at.channel, "error", err)
	}
}

func stateValue(st *slackgo.ViewState, id string) (slackgo.BlockAction, bool) {
	if st == nil {
		return slackgo.BlockAction{}, false
	}
	a, ok := st.Values[id][id]
	return a, ok
}

func text(st *slackgo.ViewState, id string) string {
	a, _ := stateValue(st, id)
	return strings.TrimSpace(a.Value)
}

func (s *Server) viewSubmission(cb slackgo.InteractionCallback, now time.Time) any {
	m := decodeMeta(cb.View.PrivateMetadata)
	who := actor(interactionOrigin(cb), cb.User.ID)
	at := where{channel: m.Channel, messageTS: m.MessageTS, responseURL: m.ResponseURL, user: cb.User.ID, actor: who, text: m.Text}
	if len(m.Blocks) > 0 {
		var bs slackgo.Blocks
		if json.Unmarshal(m.Blocks, &bs) == nil {
			at.blocks = bs.BlockSet
		}
	}
	switch cb.View.CallbackID {
	case breachslack.ViewDeclare:
		d, adHoc, errs := s.declaration(cb, who, m, now)
		if len(errs) > 0 {
			return slackgo.NewErrorsViewSubmissionResponse(errs)
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		s.later("declare", func(ctx context.Context) { s.declare(ctx, at, d, adHoc) })
	case breachslack.ViewDecide:
		d, errs := decision(cb, who)
		if len(errs) > 0 {
			return slackgo.NewErrorsViewSubmissionResponse(errs)
		}
		if !breachslack.IsIncidentID(m.Incident) {
			s.later("bad modal", func(ctx context.Context) {
				s.tell(ctx, at.channel, at.user, at.responseURL, "This form does not name an incident; nothing was changed.")
			})
			return nil
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		s.later("decide", func(ctx context.Context) { s.act(ctx, at, m.Incident, incident.UpdateDecide, d, "Decided") })
	case breachslack.ViewApproveLate:
		reasons := text(cb.View.State, breachslack.InputReasons)
		if reasons == "" {
			return slackgo.NewErrorsViewSubmissionResponse(map[string]string{breachslack.InputReasons: "The reasons for the delay are required for a late report."})
		}
		if !breachslack.IsIncidentID(m.Incident) || !strings.HasPrefix(m.Step, incident.StepReport) {
			s.later("bad modal", func(ctx context.Context) {
				s.tell(ctx, at.channel, at.user, at.responseURL, "This form does not name an incident and a report; nothing was changed.")
			})
			return nil
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		r := incident.ApproveRequest{By: who, Step: m.Step, Reasons: reasons}
		s.later("approve late", func(ctx context.Context) { s.act(ctx, at, m.Incident, incident.UpdateApprove, r, "Approved") })
	case breachslack.ViewFile:
		ref := text(cb.View.State, breachslack.InputReference)
		if ref == "" {
			return slackgo.NewErrorsViewSubmissionResponse(map[string]string{breachslack.InputReference: "The authority's reference number is required."})
		}
		if !breachslack.IsIncidentID(m.Incident) || !strings.HasPrefix(m.Step, "file:") {
			s.later("bad modal", func(ctx context.Context) {
				s.tell(ctx, at.channel, at.user, at.responseURL, "This form does not name an incident and a filing; nothing was changed.")
			})
			return nil
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		r := incident.FileRequest{By: who, Obligation: strings.TrimPrefix(m.Step, "file:"), Reference: ref,
			Reasons: text(cb.View.State, breachslack.InputReasons)}
		s.later("file", func(ctx context.Context) { s.act(ctx, at, m.Incident, incident.UpdateFile, r, "Filed") })
	}
	return nil
}

// declaration builds the incident from the declare modal, or says which fields are wrong. The
// systems chosen from the inventory's menu and the addresses typed are its systems; adHoc are
// those not in the inventory, which only a commander may have isolated (checked in declare,
// which may have to read the commanders' user groups from Slack).
func (s *Server) declaration(cb slackgo.InteractionCallback, who string, m meta, now time.Time) (d incident.Declaration, adHoc []string, errs map[string]string) {
	st := cb.View.State
	errs = map[string]string{}
	title := text(st, breachslack.InputTitle)
	if title == "" {
		errs[breachslack.InputTitle] = "Give the incident a short title."
	}
	systems, adHoc, systemsField := s.declaredSystems(st, errs)
	aware := now
	if a, ok := stateValue(st, breachslack.InputAwareAt); ok && a.SelectedDateTime > 0 {
		aware = time.Unix(a.SelectedDateTime, 0)
	}
	if aware.After(now.Add(time.Minute)) {
		errs[breachslack.InputAwareAt] = "This is in the future: give the moment the organisation became aware."
	}
	subjects := s.declaredDataset(st, errs)
	if len(errs) > 0 {
		return incident.Declaration{}, nil, errs
	}
	key := "slack:" + cb.View.ID
	d = incident.Declaration{
		IncidentID: IncidentID(aware, key), Title: title, Description: declaredDescription(st), Systems: systems,
		AwareAt: aware.UTC(), AwareZone: "UTC", DeclaredBy: who, Source: "slack", Drill: m.Drill,
		Subjects: datasetRef(subjects), Key: key,
	}
	if m.Drill {
		d.Source = "drill"
	}
	s.cfg.Defaults(&d)
	if tz := d.Organisation.Timezone; tz != "" {
		d.AwareZone = tz
	}
	if err := workflows.ValidateDeclaration(d); err != nil {
		field := breachslack.InputTitle
		if strings.Contains(err.Error(), "system") {
			field = systemsField
		}
		return d, nil, map[string]string{field: strings.TrimPrefix(err.Error(), "declaration: ")}
	}
	return d, adHoc, nil
}

// declaredSystems are the systems of the declare modal, chosen from the menu then typed, with
// those not in the inventory (adHoc) and the field that errors about them belong to. Each
// wrong name is recorded in errs under its field.
func (s *Server) declaredSystems(st *slackgo.ViewState, errs map[string]string) (systems, adHoc []string, systemsField string) {
	// The systems field: a menu of the inventory; a form opened by an older breach had a text
	// field. Either way, what is not in the inventory is ad hoc.
	var chosen []string
	if a, ok := stateValue(st, breachslack.InputSystems); ok {
		for _, o := range a.SelectedOptions {
			chosen = append(chosen, o.Value)
		}
		chosen = append(chosen, breachslack.SplitList(a.Value)...)
	}
	typed := breachslack.SplitList(text(st, breachslack.InputAddresses))
	systemsField = breachslack.InputSystems
	if len(s.cfg.Systems) == 0 {
		systemsField = breachslack.InputAddresses // the form has no menu
	}
	seen := map[string]bool{}
	for _, list := range []struct {
		field string
		names []string
	}{{systemsField, chosen}, {breachslack.InputAddresses, typed}} {
		for _, sys := range list.names {
			switch {
			case seen[sys]:
				errs[list.field] = fmt.Sprintf("%q is named twice.", truncateRunes(sys, 80))
			case strings.Contains(sys, "/"):
				errs[list.field] = fmt.Sprintf("%q: a system is one name or one IP address, without a slash; name the addresses of a network one by one, or add it to the inventory.", truncateRunes(sys, 80))
			case s.cfg.CheckSystems != nil:
				if err := s.cfg.CheckSystems([]string{sys}); err != nil {
					errs[list.field] = truncateRunes(err.Error(), 280)
				}
			}
			seen[sys] = true
			systems = append(systems, sys)
			if !slices.Contains(s.cfg.Systems, sys) {
				adHoc = append(adHoc, sys)
			}
		}
	}
	if len(systems) == 0 {
		errs[systemsField] = "Name at least one affected system: choose it from the inventory (an incident commander may also type an IP address)."
	}
	return systems, adHoc, systemsField
}

// declaredDataset is the subjects dataset of the declare modal, without its scheme, or "".
// A dataset that cannot be used is recorded in errs.
func (s *Server) declaredDataset(st *slackgo.ViewState, errs map[string]string) string {
	// The dataset menu; a form opened by an older breach had a text field.
	dataset, _ := stateValue(st, breachslack.InputSubjects)
	subjects := dataset.SelectedOption.Value
	if subjects == "" {
		subjects = strings.TrimSpace(dataset.Value)
	}
	subjects = strings.TrimPrefix(subjects, datasets.Scheme)
	if subjects != "" {
		if why := s.checkDataset(subjects); why != "" {
			errs[breachslack.InputSubjects] = why
		}
	}
	return subjects
}

// declaredDescription is the incident's description from the declare modal: the severity
// chosen, then what happened.
func declaredDescription(st *slackgo.ViewState) string {
	severity, _ := stateValue(st, breachslack.InputSeverity)
	desc := ""
	if sev := severity.SelectedOption.Value; sev != "" {
		desc = "Severity: " + sev + "."
	}
	if what := text(st, breachslack.InputWhat); what != "" {
		desc = strings.TrimSpace(desc + " " + what)
	}
	return desc
}

// roleFailure is a user group of a role whose members could not be read.
type roleFailure struct {
	role string
	breachslack.GroupFailure
}

// expandRoles replaces the user groups among the incident's roles by their members, and says
// which groups could not be read: the incident goes on with the roles that could.
func (s *Server) expandRoles(ctx context.Context, d *incident.Declaration) []roleFailure {
	var out []roleFailure
	for _, r := range []struct {
		name string
		ids  *[]string
	}{{"roles.dpo", &d.Roles.DPO}, {"roles.commander", &d.Roles.Commander}} {
		var failed []breachslack.GroupFailure
		*r.ids, failed = breachslack.ExpandUserGroups(ctx, s.cfg.API, *r.ids)
		for _, f := range failed {
			s.cfg.Logger.Error("slack user group of a role could not be read", "role", r.name, "group", f.Group, "error", f.Err)
			out = append(out, roleFailure{role: r.name, GroupFailure: f})
		}
	}
	return out
}

// incomplete says which groups of which roles could not be read, and what that means.
func incomplete(incidentID string, failed []roleFailure) string {
	var parts []string
	for _, f := range failed {
		parts = append(parts, fmt.Sprintf("`%s` of %s (%s)", breachslack.Escape(f.Group), f.role, f.Reason()))
	}
	return fmt.Sprintf(":warning: The roles of %s are incomplete: breach could not read the user group %s, so its members do not hold that role in this incident. "+
		"Roles are fixed when an incident is declared: the people listed by name hold them; fix the group or the app's access for the next incident.",
		incidentID, strings.Join(parts, ", "))
}

func (s *Server) declare(ctx context.Context, at where, d incident.Declaration, adHoc []string) {
	if why := s.mayDeclare(ctx, at.actor); why != "" {
		s.tell(ctx, at.channel, at.user, at.responseURL, why)
		return
	}
	failed := s.expandRoles(ctx, &d)
	if len(adHoc) > 0 && !d.Roles.Has(incident.RoleCommander, at.actor) {
		why := fmt.Sprintf(":no_entry: Not declared, nothing was isolated: only an incident commander (roles.commander) may isolate an address that is not in the inventory (%s). "+
			"Choose the affected systems from the inventory, or ask an incident commander to declare it.", breachslack.Escape(strings.Join(adHoc, ", ")))
		for _, f := range failed {
			if f.role == "roles.commander" {
				why += " (breach could not read " + groupList([]breachslack.GroupFailure{f.GroupFailure}) + ": if you are in it, you were not recognised.)"
			}
		}
		s.tell(ctx, at.channel, at.user, at.responseURL, why)
		return
	}
	if err := workflows.ValidateDeclaration(d); err != nil {
		why := ":no_entry: Not declared: " + breachslack.Escape(strings.TrimPrefix(err.Error(), "declaration: "))
		if len(failed) > 0 {
			why += "\n" + incomplete(d.IncidentID, failed)
		}
		s.tell(ctx, at.channel, at.user, at.responseURL, why)
		return
	}
	existing, err := s.cfg.Temporal.Declare(ctx, d)
	if err != nil {
		s.tell(ctx, at.channel, at.user, at.responseURL, ":warning: The incident was not declared: "+s.trouble("declare "+d.IncidentID, err)+
			"\nWhat you submitted, as a CLI command (it names the same incident, so it cannot declare it twice):\n```"+
			breachslack.Escape(strings.ReplaceAll(cliDeclare(d), "```", "'''"))+"```")
		return
	}
	if existing {
		s.tell(ctx, at.channel, at.user, at.responseURL, d.IncidentID+" was already declared from this form.")
		return
	}
	said := fmt.Sprintf(":rotating_light: %s declared: isolation of %s has started. The incident channel opens in a moment; `/breach status` there shows the deadlines.",
		d.IncidentID, breachslack.Escape(strings.Join(d.Systems, ", ")))
	if len(failed) > 0 {
		said += "\n" + incomplete(d.IncidentID, failed) + " The incident commanders are told in the incident channel."
	}
	s.tell(ctx, at.channel, at.user, at.responseURL, said)
	if len(failed) > 0 {
		s.warnRoom(ctx, d, failed)
	}
}

// cliDeclare is the CLI command that declares d as it was submitted in Slack. With the form's
// key and awareness day it names the same incident ID, so running it after a start that did go
// through finds that incident rather than declaring a second one.
func cliDeclare(d incident.Declaration) string {
	args := []string{"breach", "declare", "--title", shellQuote(d.Title)}
	for _, sys := range d.Systems {
		args = append(args, "--system", shellQuote(sys))
	}
	args = append(args, "--aware-at", d.AwareAt.UTC().Format(time.RFC3339))
	if d.Description != "" {
		args = append(args, "--description", shellQuote(d.Description))
	}
	if name, err := datasets.NameOf(d.Subjects.URI); d.Subjects.URI != "" && err == nil {
		args = append(args, "--dataset", shellQuote(name))
	}
	if d.Drill {
		args = append(args, "--drill")
	}
	return strings.Join(append(args, "--key", shellQuote(d.Key)), " ")
}

// shellQuote quotes s for a POSIX shell when it holds anything but plain characters.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.:/@+=,", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// warnRoom tells the incident's commanders, in its channel once the workflow has opened it,
// which user groups of its roles could not be read.
func (s *Server) warnRoom(ctx context.Context, d incident.Declaration, failed []roleFailure) {
	var room string
	for room == "" {
		if st, err := s.cfg.Temporal.Status(ctx, d.IncidentID); err == nil {
			room = st.Room
		}
		if room != "" {
			break
		}
		t := time.NewTimer(300 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			s.cfg.Logger.Error("incident channel did not open in time to say its roles are incomplete", "incident", d.IncidentID)
			return
		case <-t.C:
		}
	}
	var mentions []string
	for _, u := range breachslack.UserIDs(d.Roles.Commander) {
		mentions = append(mentions, "<@"+u+">")
	}
	text := incomplete(d.IncidentID, failed)
	if len(mentions) > 0 {
		text = strings.Join(mentions, " ") + " " + text
	}
	if err := retry(ctx, func() error {
		_, _, err := s.cfg.API.PostMessageContext(ctx, room, slackgo.MsgOptionText(text, false))
		return err
	}); err != nil {
		s.cfg.Logger.Error("could not say in the incident channel that its roles are incomplete", "incident", d.IncidentID, "error", err)
	}
}

// decision reads the DPO's modal, or says which fields are wrong.
func decision(cb slackgo.InteractionCallback, who string) (incident.Decision, map[string]string) {
	st := cb.View.State
	errs := map[string]string{}
	risk, _ := stateValue(st, breachslack.InputRisk)
	d := incident.Decision{By: who, Risk: risk.SelectedOption.Value,
		Reasoning: text(st, breachslack.InputReasoning), Consequences: text(st, breachslack.InputConsequen),
		Measures: text(st, breachslack.InputMeasures), Advice: text(st, breachslack.InputAdvice)}
	switch d.Risk {
	case "unlikely", "risk", "high":
	default:
		errs[breachslack.InputRisk] = "Choose the risk level."
	}
	if d.Reasoning == "" {
		errs[breachslack.InputReasoning] = "The register must record why (Art. 33(5))."
	}
	notify, _ := stateValue(st, breachslack.InputNotify)
	for _, o := range notify.SelectedOptions {
		switch o.Value {
		case breachslack.NotifyAuthority:
			d.NotifyAuthority = true
		case breachslack.NotifySubjects:
			d.NotifySubjects = true
		case breachslack.NotifyEncrypted:
			d.EncryptedUnintelligible = true
		}
	}
	return d, errs
}

// lateReport reports whether an obligation's deadline has passed, and when it was. When the
// incident cannot be read quickly the click is treated as on time: the workflow's validator
// still refuses a late approval without reasons, and says so.
func (s *Server) lateReport(ctx context.Context, incident, obligation string) (time.Time, bool) {
	qctx, cancel := context.WithTimeout(ctx, 1500*time.Millisecond)
	defer cancel()
	st, err := s.cfg.Temporal.Status(qctx, incident)
	if err != nil {
		return time.Time{}, false
	}
	for _, o := range st.Obligations {
		if o.ID == obligation {
			return o.DueAt, s.now().After(o.DueAt)
		}
	}
	return time.Time{}, false
}

// datasetRef is the store's reference for a dataset name; none when no name was given.
func datasetRef(name string) incident.DatasetRef {
	if name == "" {
		return incident.DatasetRef{}
	}
	return incident.DatasetRef{URI: datasets.Ref(name)}
}

// sign vouches for the Slack user in a request with the ingress's key: the incident takes
// Slack users' decisions only signed so, and a person at the command line cannot make them.
func (s *Server) sign(incidentID, update string, arg any) (any, error) {
	if s.cfg.Signer == nil {
		return arg, nil
	}
	at := s.now()
	switch r := arg.(type) {
	case incident.Decision:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.ApproveRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.FileRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.CloseRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.RetryRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.ReplaceSubjectsRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	case incident.AmendRequest:
		return signAs(s.cfg.Signer, incidentID, update, r, at)
	}
	return nil, fmt.Errorf("no signature for a %T", arg)
}

func signAs[T any, P interface {
	*T
	Signed() (string, *incident.Signature, any)
	SetSignature(*incident.Signature)
}](key ed25519.PrivateKey, incidentID, update string, r T, at time.Time) (T, error) {
	p := P(&r)
	_, _, unsigned := p.Signed()
	sig, err := incident.Sign(key, incident.SlackIngress, incidentID, update, unsigned, at)
	if err != nil {
		return r, err
	}
	p.SetSignature(sig)
	return r, nil
}
