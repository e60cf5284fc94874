package ingress

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	slackgo "github.com/slack-go/slack"

	"github.com/breachops/breach/activities"
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
	}
	return nil
}

// where is the place an outcome is shown: the message with the buttons, and the clicker.
type where struct {
	channel     string
	messageTS   string
	responseURL string
	user        string
	blocks      []slackgo.Block
	text        string
}

var knownActions = map[string]bool{
	breachslack.ActionDecide: true, breachslack.ActionApproveReport: true, breachslack.ActionConfirmIsolation: true,
	breachslack.ActionFileReport: true, breachslack.ActionClose: true,
}

func (s *Server) blockAction(cb slackgo.InteractionCallback, a *slackgo.BlockAction) {
	at := where{channel: cb.Channel.ID, messageTS: cb.Container.MessageTs, responseURL: cb.ResponseURL, user: cb.User.ID,
		blocks: cb.Message.Blocks.BlockSet, text: cb.Message.Text}
	if at.channel == "" {
		at.channel = cb.Container.ChannelID
	}
	if at.messageTS == "" {
		at.messageTS = cb.Message.Timestamp
	}
	if !knownActions[a.ActionID] {
		s.later("unknown action", func(ctx context.Context) {
			s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf("breach does not know the action `%s`; nothing was changed.", breachslack.Escape(truncateRunes(a.ActionID, 60))))
		})
		return
	}
	incident, step, ok := breachslack.ParseButtonValue(a.Value)
	if ok {
		switch a.ActionID {
		case breachslack.ActionApproveReport:
			ok = strings.HasPrefix(step, workflows.StepReport)
		case breachslack.ActionConfirmIsolation:
			ok = strings.HasPrefix(step, workflows.StepIsolation)
		case breachslack.ActionFileReport:
			ok = strings.HasPrefix(step, "file:")
		}
	}
	if !ok {
		s.later("bad button", func(ctx context.Context) {
			s.tell(ctx, at.channel, at.user, at.responseURL, "This button does not name an incident and a step breach knows; nothing was changed.")
		})
		return
	}
	switch a.ActionID {
	case breachslack.ActionDecide, breachslack.ActionFileReport:
		m := meta{Channel: at.channel, ResponseURL: at.responseURL, Incident: incident, Step: step, MessageTS: at.messageTS, Text: at.text}
		if raw, err := json.Marshal(at.blocks); err == nil {
			m.Blocks = raw
		}
		view := breachslack.DecideModal(m.encode(), incident)
		if a.ActionID == breachslack.ActionFileReport {
			view = breachslack.FileModal(m.encode(), incident, strings.TrimPrefix(step, "file:"))
		}
		trigger := cb.TriggerID
		s.later("open modal", func(ctx context.Context) {
			if _, err := s.cfg.API.OpenViewContext(ctx, trigger, view); err != nil {
				s.tell(ctx, at.channel, at.user, at.responseURL, "breach could not open the form ("+errText(err)+"); click again, or use the CLI.")
			}
		})
	case breachslack.ActionApproveReport:
		trigger := cb.TriggerID
		s.later("approve", func(ctx context.Context) {
			// A report past its deadline needs the reasons for the delay: ask for them in a form
			// while the click's trigger is still valid (Slack allows 3 seconds).
			if due, late := s.lateReport(ctx, incident, strings.TrimPrefix(step, workflows.StepReport)); late {
				m := meta{Channel: at.channel, ResponseURL: at.responseURL, Incident: incident, Step: step, MessageTS: at.messageTS, Text: at.text}
				if raw, err := json.Marshal(at.blocks); err == nil {
					m.Blocks = raw
				}
				view := breachslack.ApproveLateModal(m.encode(), incident, strings.TrimPrefix(step, workflows.StepReport), due)
				if _, err := s.cfg.API.OpenViewContext(ctx, trigger, view); err != nil {
					s.tell(ctx, at.channel, at.user, at.responseURL, "breach could not open the form ("+errText(err)+"); click again, or use the CLI with --reasons.")
				}
				return
			}
			s.act(ctx, at, incident, workflows.UpdateApprove, workflows.ApproveRequest{By: at.user, Step: step}, "Approved")
		})
	case breachslack.ActionConfirmIsolation:
		s.later("confirm isolation", func(ctx context.Context) {
			s.act(ctx, at, incident, workflows.UpdateApprove,
				workflows.ApproveRequest{By: at.user, Step: step, Note: "confirmed in Slack"}, "Confirmed")
		})
	case breachslack.ActionClose:
		s.later("close", func(ctx context.Context) {
			s.act(ctx, at, incident, workflows.UpdateClose, workflows.CloseRequest{By: at.user}, "Closed")
		})
	}
}

// act sends an Update as the clicking user. Accepted: the message's buttons become "Approved by
// @user at time". Refused: the validator's reason, to the clicker only.
func (s *Server) act(ctx context.Context, at where, incident, update string, arg any, verb string) {
	out, err := s.cfg.Temporal.Update(ctx, incident, update, arg)
	if errors.Is(err, ErrNoIncident) {
		s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf("There is no running incident %s; nothing was changed.", incident))
		return
	}
	var rej *RejectedError
	if errors.As(err, &rej) {
		s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf(":no_entry: Not done: %s", breachslack.Escape(rej.Reason)))
		return
	}
	if err != nil {
		s.cfg.Logger.Warn("slack action failed", "incident", incident, "update", update, "error", err)
		s.tell(ctx, at.channel, at.user, at.responseURL, "breach could not reach the incident "+incident+": "+errText(err))
		return
	}
	detail := ""
	if update == workflows.UpdateDecide {
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
	at := where{channel: m.Channel, messageTS: m.MessageTS, responseURL: m.ResponseURL, user: cb.User.ID, text: m.Text}
	if len(m.Blocks) > 0 {
		var bs slackgo.Blocks
		if json.Unmarshal(m.Blocks, &bs) == nil {
			at.blocks = bs.BlockSet
		}
	}
	switch cb.View.CallbackID {
	case breachslack.ViewDeclare:
		d, errs := s.declaration(cb, m, now)
		if len(errs) > 0 {
			return slackgo.NewErrorsViewSubmissionResponse(errs)
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		s.later("declare", func(ctx context.Context) { s.declare(ctx, at, d) })
	case breachslack.ViewDecide:
		d, errs := decision(cb)
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
		s.later("decide", func(ctx context.Context) { s.act(ctx, at, m.Incident, workflows.UpdateDecide, d, "Decided") })
	case breachslack.ViewApproveLate:
		reasons := text(cb.View.State, breachslack.InputReasons)
		if reasons == "" {
			return slackgo.NewErrorsViewSubmissionResponse(map[string]string{breachslack.InputReasons: "The reasons for the delay are required for a late report."})
		}
		if !breachslack.IsIncidentID(m.Incident) || !strings.HasPrefix(m.Step, workflows.StepReport) {
			s.later("bad modal", func(ctx context.Context) {
				s.tell(ctx, at.channel, at.user, at.responseURL, "This form does not name an incident and a report; nothing was changed.")
			})
			return nil
		}
		if !s.replays.first(now, "view:"+cb.View.ID) {
			return nil
		}
		r := workflows.ApproveRequest{By: cb.User.ID, Step: m.Step, Reasons: reasons}
		s.later("approve late", func(ctx context.Context) { s.act(ctx, at, m.Incident, workflows.UpdateApprove, r, "Approved") })
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
		r := workflows.FileRequest{By: cb.User.ID, Obligation: strings.TrimPrefix(m.Step, "file:"), Reference: ref,
			Reasons: text(cb.View.State, breachslack.InputReasons)}
		s.later("file", func(ctx context.Context) { s.act(ctx, at, m.Incident, workflows.UpdateFile, r, "Filed") })
	}
	return nil
}

// declaration builds the incident from the declare modal, or says which fields are wrong.
func (s *Server) declaration(cb slackgo.InteractionCallback, m meta, now time.Time) (workflows.Declaration, map[string]string) {
	st := cb.View.State
	errs := map[string]string{}
	title := text(st, breachslack.InputTitle)
	if title == "" {
		errs[breachslack.InputTitle] = "Give the incident a short title."
	}
	systems := breachslack.SplitList(text(st, breachslack.InputSystems))
	seen := map[string]bool{}
	for _, sys := range systems {
		if strings.Contains(sys, "/") && !strings.Contains(sys, ".") && !strings.Contains(sys, ":") {
			errs[breachslack.InputSystems] = fmt.Sprintf("%q: a system name has no slashes.", sys)
		}
		if seen[sys] {
			errs[breachslack.InputSystems] = fmt.Sprintf("%q is named twice.", sys)
		}
		seen[sys] = true
	}
	switch {
	case len(systems) == 0:
		errs[breachslack.InputSystems] = "Name at least one affected system: an inventory name or an IP address."
	case errs[breachslack.InputSystems] == "" && s.cfg.CheckSystems != nil:
		if err := s.cfg.CheckSystems(systems); err != nil {
			errs[breachslack.InputSystems] = truncateRunes(err.Error(), 280)
		}
	}
	aware := now
	if a, ok := stateValue(st, breachslack.InputAwareAt); ok && a.SelectedDateTime > 0 {
		aware = time.Unix(a.SelectedDateTime, 0)
	}
	if aware.After(now.Add(time.Minute)) {
		errs[breachslack.InputAwareAt] = "This is in the future: give the moment the organisation became aware."
	}
	severity, _ := stateValue(st, breachslack.InputSeverity)
	subjects := strings.TrimPrefix(text(st, breachslack.InputSubjects), datasets.Scheme)
	if subjects != "" && datasets.ValidateName(subjects) != nil {
		errs[breachslack.InputSubjects] = "Give the name of a dataset in breach's dataset store (breach datasets list), not a path."
	}
	if len(errs) > 0 {
		return workflows.Declaration{}, errs
	}
	desc := ""
	if sev := severity.SelectedOption.Value; sev != "" {
		desc = "Severity: " + sev + "."
	}
	if what := text(st, breachslack.InputWhat); what != "" {
		desc = strings.TrimSpace(desc + " " + what)
	}
	key := "slack:" + cb.View.ID
	d := workflows.Declaration{
		IncidentID: IncidentID(aware, key), Title: title, Description: desc, Systems: systems,
		AwareAt: aware.UTC(), AwareZone: "UTC", DeclaredBy: cb.User.ID, Source: "slack", Drill: m.Drill,
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
			field = breachslack.InputSystems
		}
		return d, map[string]string{field: strings.TrimPrefix(err.Error(), "declaration: ")}
	}
	return d, nil
}

func (s *Server) declare(ctx context.Context, at where, d workflows.Declaration) {
	existing, err := s.cfg.Temporal.Declare(ctx, d)
	if err != nil {
		s.cfg.Logger.Error("slack declaration failed", "incident", d.IncidentID, "error", err)
		s.tell(ctx, at.channel, at.user, at.responseURL, "breach could not declare the incident: "+errText(err)+". Try again, or use `breach declare` on the CLI.")
		return
	}
	if existing {
		s.tell(ctx, at.channel, at.user, at.responseURL, d.IncidentID+" was already declared from this form.")
		return
	}
	s.tell(ctx, at.channel, at.user, at.responseURL, fmt.Sprintf(":rotating_light: %s declared: isolation of %s has started. The incident channel opens in a moment; `/breach status` there shows the deadlines.",
		d.IncidentID, breachslack.Escape(strings.Join(d.Systems, ", "))))
}

// decision reads the DPO's modal, or says which fields are wrong.
func decision(cb slackgo.InteractionCallback) (workflows.Decision, map[string]string) {
	st := cb.View.State
	errs := map[string]string{}
	risk, _ := stateValue(st, breachslack.InputRisk)
	d := workflows.Decision{By: cb.User.ID, Risk: risk.SelectedOption.Value,
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
func datasetRef(name string) activities.DatasetRef {
	if name == "" {
		return activities.DatasetRef{}
	}
	return activities.DatasetRef{URI: datasets.Ref(name)}
}
