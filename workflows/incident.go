package workflows

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
)

// IncidentWorkflow runs the breach plan for one incident: open, contain, assess scope, decide,
// notify, close. It is started with a Declaration (the JSON of an IncidentInput without state).
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (Result, error) {
	inc := &incidentImpl{}
	if err := inc.setup(ctx, in); err != nil {
		return Result{}, err
	}
	res, err := inc.run(ctx)
	if err != nil && ctx.Err() != nil {
		inc.settleContainment(ctx)
		inc.registerCancelled(ctx)
	}
	return res, err
}

type incidentImpl struct {
	decl    Declaration
	rec     incident.IncidentRecord
	phase   string
	pending []PendingStep
	logger  log.Logger

	chatQueue   []incident.ChatMessage
	sentCardKey string
	containDone bool
	contain     containmentChildren

	// Customer alert runs: wanted, started and finished generations.
	alertsWanted, alertsStarted, alertsRun int
	// reevalReason is set when facts changed and the rules must run again.
	reevalReason   string
	datasetChanged bool
	closeReq       *CloseRequest
	replaceReq     *ReplaceSubjectsRequest
	// nonces of the signatures accepted lately: a signed request is accepted once.
	nonces map[string]time.Time
	// inFlight names the steps an Update is acting on (see acting).
	inFlight map[string]bool
	// supplements counts, per obligation, the supplement numbers handed out (see supplement).
	supplements map[string]int

	// tracked: the incident is resumable (changeIncidentResumable); resumed: this run continues
	// an earlier one.
	tracked, resumed bool
	// roomTried is set once the room was opened (or failed to); lastCardAt is the last card edit.
	roomTried  bool
	lastCardAt time.Time
	// chatBusy, starting and evaluating say something is under way that a continue-as-new must
	// wait for: a chat activity, child starts, an evaluation of the rules.
	chatBusy   bool
	starting   int
	evaluating bool
	history    History
	// failed names the obligation clocks whose failure has been handled.
	failed map[string]bool
	events runLength
	// reg follows the incident into the breach register (changeRegister).
	reg registerTracking
}

// ValidateDeclaration checks a declaration before anything starts: what the workflows check
// themselves (validateShape), that someone holds each role, and that the rules can evaluate the
// organisation facts it carries, so that no incident starts which nobody could decide. The CLI
// and the Slack ingress call it before starting an incident.
func ValidateDeclaration(d Declaration) error {
	if err := validateShape(d); err != nil {
		return err
	}
	if err := incident.ValidateID(d.IncidentID); err != nil {
		return errors.New("declaration: " + err.Error())
	}
	if len(d.Roles.DPO) == 0 {
		return errors.New("declaration: nobody holds the dpo role, so nobody could decide the incident; add an identity to roles.dpo in the configuration (breach.yaml)")
	}
	if len(d.Roles.Commander) == 0 {
		return errors.New("declaration: nobody holds the commander role, so nobody could close the incident; add an identity to roles.commander in the configuration (breach.yaml)")
	}
	return checkOrganisation(d)
}

// changeCloseAfterHandlers is the workflow.GetVersion change after which the close waits for
// every Update handler to finish before the records are written and the incident completes.
const changeCloseAfterHandlers = "close-after-handlers"

// changeValidIncidentID is the workflow.GetVersion change after which an incident refuses to
// start with an ID that is not one (incident.ValidateID): the ID names paths and Slack channels.
// Incidents started before keep running whatever their ID.
const changeValidIncidentID = "incident-valid-id"

// validateShape is what the incident and drill workflows check when they start. It must not
// grow: a stricter check would fail, on replay, incidents that started under this one.
func validateShape(d Declaration) error {
	switch {
	case d.IncidentID == "":
		return errors.New("declaration: incident_id is empty")
	case strings.TrimSpace(d.Title) == "":
		return errors.New("declaration: title is empty; give the incident a short title")
	case len(d.Systems) == 0:
		return errors.New("declaration: no affected system; name at least one")
	case d.AwareAt.IsZero():
		return errors.New("declaration: aware_at is missing; when did the organisation become aware?")
	case d.DeclaredBy == "":
		return errors.New("declaration: declared_by is empty")
	}
	seen := map[string]bool{}
	for _, s := range d.Systems {
		if strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/ ") {
			return fmt.Errorf("declaration: system name %q must be non-empty, without spaces or slashes", s)
		}
		if seen[s] {
			return fmt.Errorf("declaration: system %q is named twice", s)
		}
		seen[s] = true
	}
	return nil
}

func (inc *incidentImpl) setup(ctx workflow.Context, in IncidentInput) error {
	d := in.Declaration
	if err := validateShape(d); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidDeclaration", nil)
	}
	if workflow.GetVersion(ctx, changeValidIncidentID, workflow.DefaultVersion, 1) == 1 {
		if err := incident.ValidateID(d.IncidentID); err != nil {
			return temporal.NewNonRetryableApplicationError("declaration: "+err.Error(), "InvalidDeclaration", nil)
		}
	}
	inc.logger = log.With(workflow.GetLogger(ctx), "incident", d.IncidentID)
	if in.Continued != nil {
		inc.restore(*in.Continued)
		inc.decl = d
	} else {
		inc.decl = d
		inc.tracked = workflow.GetVersion(ctx, changeIncidentResumable, workflow.DefaultVersion, 1) == 1
		inc.phase = PhaseOpen
		inc.rec = incident.IncidentRecord{
			IncidentID: d.IncidentID, Title: d.Title, Description: d.Description, Drill: d.Drill,
			Source: d.Source, DeclaredBy: d.DeclaredBy, AwareAt: d.AwareAt.UTC(), AwareZone: d.AwareZone,
			Organisation: d.Organisation, Systems: d.Systems, Dataset: d.Subjects,
			Obligations: []ObligationStatus{}, Timeline: []Event{},
		}
		for _, s := range d.Systems {
			inc.rec.Containment = append(inc.rec.Containment, SystemStatus{System: s, State: ContainIsolating, Updated: workflow.Now(ctx)})
		}
	}
	inc.history.Runs++

	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (Status, error) {
		st := Status{IncidentRecord: inc.rec, Phase: inc.phase, Pending: inc.pendingSorted(), Roles: inc.decl.Roles}
		if inc.tracked {
			h := inc.history
			h.Current = inc.events.length(ctx)
			h.Longest = max(h.Longest, h.Current)
			st.History = &h
		}
		return st, nil
	}); err != nil {
		return err
	}
	for _, err := range []error{
		setSignedUpdate(ctx, inc, UpdateDecide, inc.decide, inc.validateDecide),
		setSignedUpdate(ctx, inc, UpdateApprove, inc.approve, inc.validateApprove),
		setSignedUpdate(ctx, inc, UpdateFile, inc.file, inc.validateFile),
		setSignedUpdate(ctx, inc, UpdateClose, inc.close, inc.validateClose),
		setSignedUpdate(ctx, inc, UpdateRelease, inc.release, inc.validateRelease),
		setSignedUpdate(ctx, inc, UpdateAmend, inc.amend, inc.validateAmend),
		setSignedUpdate(ctx, inc, UpdateSupplement, inc.supplement, inc.validateSupplement),
		setSignedUpdate(ctx, inc, UpdateReplaceSubjects, inc.replaceSubjects, inc.validateReplaceSubjects),
		setSignedUpdate(ctx, inc, UpdateResolve, inc.resolve, inc.validateResolve),
		setSignedUpdate(ctx, inc, UpdateRetry, inc.retry, inc.validateRetry),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

// run is the runbook: contain and open the room, assess the scope, have the DPO decide, run the
// obligations' clocks and the customer alerts, close with the records. A run continued from an
// earlier one (resumed) picks up at the phase it reached.
func (inc *incidentImpl) run(ctx workflow.Context) (Result, error) {
	if !inc.resumed {
		inc.declared(ctx)
	}
	workflow.Go(ctx, inc.receiveChildStates)
	workflow.Go(ctx, inc.receiveInjects)
	workflow.Go(ctx, inc.postChatQueue)

	if inc.resumed {
		inc.resumeChildren(ctx)
	} else {
		inc.beginContainment(ctx)
	}
	inc.startRegister(ctx)
	for _, phase := range []struct {
		name string
		run  func(workflow.Context) error
	}{{PhaseAssess, inc.assess}, {PhaseDecide, inc.awaitDecision}, {PhaseNotify, inc.notify}} {
		if inc.phase == phase.name {
			if err := phase.run(ctx); err != nil {
				return Result{}, err
			}
		}
	}
	return inc.closeIncident(ctx)
}

// mode marks a drill's messages.
func (inc *incidentImpl) mode() string {
	if inc.decl.Drill {
		return " [DRILL]"
	}
	return ""
}

// declared records the declaration on the timeline.
func (inc *incidentImpl) declared(ctx workflow.Context) {
	d := inc.decl
	inc.event(ctx, "declared", fmt.Sprintf("Incident declared by %s via %s%s: %s. Aware since %s.",
		d.DeclaredBy, d.Source, inc.mode(), d.Title, d.AwareAt.UTC().Format(time.RFC3339)))
}

// beginContainment starts isolating the systems, opens the room beside it, and moves on to the
// scope: the legal clock does not wait for containment.
func (inc *incidentImpl) beginContainment(ctx workflow.Context) {
	d := inc.decl
	// Containment first: the isolation calls must not wait for chat or anything else.
	inc.phase = PhaseContain
	inc.startContainment(ctx)
	// Chat is opened beside containment, best effort.
	inc.chat("card", fmt.Sprintf("%s%s\nSystems: %s\nAware since: %s",
		d.Title, inc.mode(), strings.Join(d.Systems, ", "), d.AwareAt.UTC().Format(time.RFC3339)), false)
	inc.phase = PhaseAssess
}

// assess finds who is affected, then asks the DPO to decide by the first deadline the rules
// give the incident were it notifiable.
func (inc *incidentImpl) assess(ctx workflow.Context) error {
	d := inc.decl
	if err := inc.assessScope(ctx); err != nil {
		return err
	}
	inc.phase = PhaseDecide
	due, basis := inc.decisionDue(ctx)
	inc.addPending(ctx, PendingStep{Step: UpdateDecide, Role: RoleDPO,
		Description: "Decide the risk level and which notifications go out", DueAt: due})
	text := fmt.Sprintf("The DPO must decide the risk and the notifications: breach decide %s --risk unlikely|risk|high --reasoning \"…\" --as <dpo>", d.IncidentID)
	if basis != "" {
		text += fmt.Sprintf(" If notifiable, the first deadline is %s's, %s.", basis, due.Format(time.RFC3339))
	}
	inc.chatMsg(incident.ChatMessage{Kind: incident.MsgDecisionNeeded, Urgent: true, Step: incident.StepDecide, DueAt: due, Text: text})
	return nil
}

// awaitDecision waits for the DPO's decision, then starts the clocks of the obligations it leads to.
func (inc *incidentImpl) awaitDecision(ctx workflow.Context) error {
	if err := inc.await(ctx, func() bool { return inc.rec.Decision != nil }); err != nil {
		return err
	}
	inc.removePending(UpdateDecide)
	inc.phase = PhaseNotify
	return inc.startObligations(ctx)
}

// notify waits until every obligation is filed, the alerts are sent and containment is done,
// then asks the commander to close.
func (inc *incidentImpl) notify(ctx workflow.Context) error {
	if err := inc.await(ctx, inc.readyToClose); err != nil {
		return err
	}
	inc.phase = PhaseClose
	inc.addPending(ctx, PendingStep{Step: UpdateClose, Role: RoleCommander, Description: "Close the incident"})
	inc.chatMsg(incident.ChatMessage{Kind: incident.MsgReadyToClose, Step: incident.StepClose,
		Text: fmt.Sprintf("Every step is done. The incident commander can close: breach close %s --as <commander>", inc.decl.IncidentID)})
	return nil
}

// closeIncident waits for the commander's close, ends containment and writes the records.
func (inc *incidentImpl) closeIncident(ctx workflow.Context) (Result, error) {
	d := inc.decl
	if err := inc.await(ctx, func() bool { return inc.closeReq != nil }); err != nil {
		return Result{}, err
	}
	inc.removePending(UpdateClose)
	if workflow.GetVersion(ctx, changeCloseAfterHandlers, workflow.DefaultVersion, 1) == 1 {
		// A supplement being submitted when the close came is recorded before the register is
		// written, and the close's own handler has answered.
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return Result{}, err
		}
	}
	// The closed incident's version is WriteRecords' to record, with what closing leaves.
	if err := inc.stopRegister(ctx); err != nil {
		return Result{}, err
	}
	inc.rec.ClosedAt = workflow.Now(ctx).UTC()
	inc.rec.ClosedBy = inc.closeReq.By
	inc.rec.CloseSummary = inc.closeReq.Summary
	inc.rec.Timeline = append(inc.rec.Timeline, Event{At: workflow.Now(ctx).UTC(), Kind: "closed",
		Text: "Incident closed by " + inc.closeReq.By + ".", Signature: inc.closeReq.Signature})
	inc.endContainment(ctx)

	var out incident.CloseOutput
	if err := workflow.ExecuteActivity(reportCtx(ctx), a.WriteRecords, inc.rec).Get(ctx, &out); err != nil {
		return Result{}, fmt.Errorf("write the closing records of %s: %w", d.IncidentID, err)
	}
	inc.rec.Records = &out
	inc.phase = PhaseClosed
	inc.chat("closed", fmt.Sprintf("Incident closed. Register entry: %s; post-incident report: %s", out.Register, out.Report), false)
	// Give the room a moment to hear the last messages; never wait long for chat.
	_, _ = workflow.AwaitWithTimeout(ctx, time.Minute, func() bool {
		return len(inc.chatQueue) == 0 && inc.cardKey() == inc.sentCardKey
	})
	return Result{IncidentID: d.IncidentID, Records: out}, nil
}

// insertEvent keeps the timeline in time order: children report events a little after they
// happen.
func (inc *incidentImpl) insertEvent(e Event) {
	tl := append(inc.rec.Timeline, e)
	for i := len(tl) - 1; i > 0 && tl[i].At.Before(tl[i-1].At); i-- {
		tl[i], tl[i-1] = tl[i-1], tl[i]
	}
	inc.rec.Timeline = tl
}

// event appends to the timeline. Text never holds personal data of a subject.
func (inc *incidentImpl) event(ctx workflow.Context, kind, text string) {
	inc.eventAbout(ctx, kind, "", text)
}

// eventAbout is event naming what it concerns (a system, an obligation id).
func (inc *incidentImpl) eventAbout(ctx workflow.Context, kind, about, text string) {
	inc.rec.Timeline = append(inc.rec.Timeline, Event{At: workflow.Now(ctx).UTC(), Kind: kind, Text: text, About: about,
		Signature: signatureOf(ctx)})
}

func (inc *incidentImpl) chat(kind, text string, urgent bool) {
	inc.chatMsg(incident.ChatMessage{Kind: kind, Text: text, Urgent: urgent})
}

// chatMsg queues a room message with its structured fields (the step it asks for, what it
// concerns); the incident and drill mode are filled in.
func (inc *incidentImpl) chatMsg(m incident.ChatMessage) {
	m.IncidentID, m.Drill = inc.decl.IncidentID, inc.decl.Drill
	inc.chatQueue = append(inc.chatQueue, m)
}

// postChatQueue opens the room, then posts queued messages in order. Failures are logged and
// dropped: chat never holds up the plan.
func (inc *incidentImpl) postChatQueue(ctx workflow.Context) {
	cctx := chatCtx(ctx)
	if !inc.roomTried {
		inc.chatBusy = true
		var room incident.Room
		err := workflow.ExecuteActivity(cctx, a.OpenRoom, incident.RoomRequest{
			IncidentID: inc.decl.IncidentID, AwareAt: inc.decl.AwareAt.UTC(), Title: inc.decl.Title, Drill: inc.decl.Drill, DeclaredBy: inc.decl.DeclaredBy,
		}).Get(ctx, &room)
		inc.chatBusy, inc.roomTried = false, true
		if err != nil {
			inc.logger.Warn("incident room could not be opened; going on without chat", "error", err)
		} else {
			// State only, no command: replaying an incident that opened its room before this field
			// existed sets it from the recorded result.
			inc.rec.Room = room.ID
			inc.event(ctx, "room", "Incident room opened: "+room.Name)
		}
	}
	for {
		if err := workflow.Await(ctx, func() bool { return len(inc.chatQueue) > 0 || inc.cardKey() != inc.sentCardKey }); err != nil {
			return
		}
		if len(inc.chatQueue) > 0 {
			m := inc.chatQueue[0]
			inc.chatBusy = true
			inc.events.add(6)
			if err := workflow.ExecuteActivity(cctx, a.PostChat, m).Get(ctx, nil); err != nil {
				inc.logger.Warn("chat message dropped", "kind", m.Kind, "error", err)
			}
			inc.chatQueue = inc.chatQueue[1:]
			inc.chatBusy = false
			continue
		}
		// The card is edited at most every CardInterval; messages go first.
		if wait := inc.lastCardAt.Add(CardInterval).Sub(workflow.Now(ctx)); wait > 0 && inc.phase != PhaseClosed {
			if _, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return len(inc.chatQueue) > 0 }); err != nil {
				return
			}
			continue
		}
		key := inc.cardKey()
		inc.chatBusy = true
		inc.events.add(11)
		if err := workflow.ExecuteActivity(cctx, a.UpdateCard, inc.card()).Get(ctx, nil); err != nil {
			inc.logger.Warn("card update dropped", "error", err)
		}
		inc.chatBusy = false
		inc.sentCardKey = key
		inc.lastCardAt = workflow.Now(ctx)
	}
}

// CardInterval is the least time between two edits of the incident card.
const CardInterval = 3 * time.Second

func (inc *incidentImpl) card() incident.Card {
	c := incident.Card{IncidentID: inc.rec.IncidentID, Title: inc.rec.Title, Drill: inc.rec.Drill, Phase: inc.phase,
		DeclaredBy: inc.rec.DeclaredBy, AwareAt: inc.rec.AwareAt, Containment: inc.rec.Containment,
		Obligations: inc.rec.Obligations, Alerts: inc.rec.Alerts, ClosedAt: inc.rec.ClosedAt, ClosedBy: inc.rec.ClosedBy}
	if inc.rec.Decision != nil {
		c.Risk = inc.rec.Decision.Risk
	}
	for _, p := range inc.pendingSorted() {
		c.Pending = append(c.Pending, fmt.Sprintf("%s (%s): %s", p.Step, p.Role, p.Description))
	}
	return c
}

// cardKey changes whenever the card would show something new.
func (inc *incidentImpl) cardKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s|%d|%d|", inc.phase, len(inc.pending), inc.rec.Alerts.Sent)
	for _, s := range inc.rec.Containment {
		b.WriteString(s.State)
		if s.Reminders > 0 {
			// Only resumable containments count reminders: older ones never change the key so.
			fmt.Fprintf(&b, "/%d", s.Reminders)
		}
		b.WriteByte(',')
	}
	for _, o := range inc.rec.Obligations {
		fmt.Fprintf(&b, "%s:%t,", o.State, o.Late)
	}
	if inc.rec.Decision != nil {
		b.WriteString(inc.rec.Decision.Risk)
	}
	b.WriteString(inc.rec.Alerts.State)
	return b.String()
}

func (inc *incidentImpl) receiveChildStates(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, signalChildState)
	for {
		var cs childState
		if !ch.Receive(ctx, &cs) {
			return
		}
		inc.events.add(5)
		inc.applyChildState(cs)
		if inc.tracked {
			inc.followReport(ctx, cs)
		}
	}
}

// followReport takes what a report says of a child that outlives a run of the incident: its
// end, or its failure.
func (inc *incidentImpl) followReport(ctx workflow.Context, cs childState) {
	if cs.System != nil && cs.Ended {
		inc.contain.ended[cs.System.System] = true
		if st := cs.System.State; st != ContainContained && st != ContainReleased && ctx.Err() == nil {
			inc.eventAbout(ctx, "containment-failed", cs.System.System, fmt.Sprintf("Containment of %s ended %s: %s", cs.System.System, st, cs.System.Detail))
		}
	}
	if o := cs.Obligation; o != nil && o.State == OblFailed && !inc.failed[o.ID] {
		if inc.failed == nil {
			inc.failed = map[string]bool{}
		}
		inc.failed[o.ID] = true
		inc.clockFailed(ctx, o.ID, errors.New(o.Failure))
	}
}

func (inc *incidentImpl) applyChildState(cs childState) {
	if cs.System != nil {
		for i := range inc.rec.Containment {
			if inc.rec.Containment[i].System == cs.System.System {
				inc.rec.Containment[i] = *cs.System
			}
		}
	}
	if cs.Obligation != nil {
		for i := range inc.rec.Obligations {
			o := &inc.rec.Obligations[i]
			if o.ID != cs.Obligation.ID {
				continue
			}
			wasFiled := o.State == OblFiled
			supplements := o.Supplements
			*o = *cs.Obligation
			o.Supplements = supplements
			if o.State == OblFiled && !wasFiled {
				// A filing may start a chained clock (NIS2 final report, California AG).
				inc.reevalReason = "after " + o.ID + " was filed"
			}
		}
	}
	if cs.Alerts != nil {
		inc.rec.Alerts = *cs.Alerts
	}
	if cs.Event != nil {
		inc.insertEvent(*cs.Event)
	}
	if cs.Chat != nil {
		inc.chatQueue = append(inc.chatQueue, *cs.Chat)
	}
	if cs.Pending != nil {
		inc.removePending(cs.Pending.Step)
		if cs.Pending.Role != "" {
			inc.pending = append(inc.pending, *cs.Pending)
		}
	}
}

func (inc *incidentImpl) addPending(ctx workflow.Context, p PendingStep) {
	p.Since = workflow.Now(ctx).UTC()
	inc.removePending(p.Step)
	inc.pending = append(inc.pending, p)
}

func (inc *incidentImpl) removePending(step string) {
	out := inc.pending[:0]
	for _, p := range inc.pending {
		if p.Step != step {
			out = append(out, p)
		}
	}
	inc.pending = out
}

func (inc *incidentImpl) pendingSorted() []PendingStep {
	out := append([]PendingStep{}, inc.pending...)
	sort.SliceStable(out, func(i, j int) bool {
		if !out[i].DueAt.Equal(out[j].DueAt) {
			if out[i].DueAt.IsZero() || out[j].DueAt.IsZero() {
				return !out[i].DueAt.IsZero()
			}
			return out[i].DueAt.Before(out[j].DueAt)
		}
		return out[i].Step < out[j].Step
	})
	return out
}

func (inc *incidentImpl) assessScope(ctx workflow.Context) error {
	// A run resumed while waiting for a corrected dataset goes on waiting.
	waiting := inc.resumed && inc.rec.ScopeError != ""
	for {
		if waiting {
			waiting = false
			if err := inc.await(ctx, func() bool { return inc.replaceReq != nil }); err != nil {
				return err
			}
			inc.rec.Dataset = inc.replaceReq.Subjects
		}
		var res incident.ScopeResult
		err := workflow.ExecuteActivity(scopeCtx(ctx), a.AssessScope, incident.ScopeInput{
			IncidentID: inc.decl.IncidentID, Dataset: inc.rec.Dataset,
		}).Get(ctx, &res)
		if err == nil {
			inc.rec.Scope = &res.Summary
			inc.rec.Dataset = res.Dataset
			inc.rec.ScopeError = ""
			inc.removePending(UpdateReplaceSubjects)
			text := scopeText(res.Summary)
			inc.event(ctx, "scope", text)
			inc.chat("scope", text, false)
			return nil
		}
		inc.rec.ScopeError = applicationMessage(err)
		inc.event(ctx, "scope-failed", "Scope assessment failed: "+inc.rec.ScopeError)
		inc.chatMsg(incident.ChatMessage{Kind: incident.MsgScopeFailed, Urgent: true, Step: incident.StepReplaceSubjects,
			Text: "Scope assessment failed: " + inc.rec.ScopeError +
				fmt.Sprintf("\nFix the dataset, then: breach subjects %s --subjects FILE.csv --as <commander>", inc.decl.IncidentID)})
		inc.addPending(ctx, PendingStep{Step: UpdateReplaceSubjects, Role: RoleCommander,
			Description: "Provide a corrected subjects dataset: " + inc.rec.ScopeError})
		inc.replaceReq = nil
		waiting = true
	}
}

func applicationMessage(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

func scopeText(s incident.ScopeSummary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Scope: %d data subjects, %d records (%d rows read). %d can be mailed; %d invalid or missing addresses; %d duplicate rows; %d unusable rows.",
		s.Subjects, s.Records, s.Rows, s.Mailable, s.Invalid, s.Duplicates, s.Unusable)
	b.WriteString(" By jurisdiction:")
	for _, k := range sortedKeys(s.ByJurisdiction) {
		fmt.Fprintf(&b, " %s %d;", k, s.ByJurisdiction[k])
	}
	b.WriteString(" By category:")
	for _, k := range sortedKeys(s.ByCategory) {
		fmt.Fprintf(&b, " %s %d;", k, s.ByCategory[k])
	}
	if len(s.Issues) > 0 {
		b.WriteString(" Dataset problems at lines:")
		for i, is := range s.Issues {
			if i == 20 {
				fmt.Fprintf(&b, " … (%d more)", len(s.Issues)-20)
				break
			}
			fmt.Fprintf(&b, " %d (%s);", is.Line, is.Kind)
		}
	}
	return b.String()
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// facts builds the rules' facts from the scope and a decision.
func (inc *incidentImpl) facts(d Decision) rules.Facts {
	org := inc.decl.Organisation
	f := rules.Facts{
		AwareAt: inc.decl.AwareAt, Timezone: org.Timezone, Role: org.Role,
		Establishments: org.Establishments, Sectors: org.Sectors,
		Risk: d.Risk, EncryptedUnintelligible: d.EncryptedUnintelligible,
		SignificantIncident: d.SignificantIncident, MaterialityDeterminedAt: d.MaterialityDeterminedAt,
	}
	if inc.rec.Scope != nil {
		f.SubjectsByJurisdiction = inc.rec.Scope.ByJurisdiction
		f.DataCategories = sortedKeys(inc.rec.Scope.ByCategory)
	}
	return f
}

// readyToClose reports whether every step of the plan is done.
func (inc *incidentImpl) readyToClose() bool { return len(inc.outstanding()) == 0 }

// outstanding lists what still keeps the incident open.
func (inc *incidentImpl) outstanding() []string {
	var out []string
	if !inc.containDone {
		for _, s := range inc.rec.Containment {
			if s.State != ContainContained && s.State != ContainReleased {
				out = append(out, fmt.Sprintf("containment of %s is %s", s.System, s.State))
			}
		}
		if len(out) == 0 {
			out = append(out, "containment is finishing")
		}
	}
	if inc.rec.Decision == nil {
		out = append(out, "the DPO has not decided")
	}
	for _, o := range inc.rec.Obligations {
		if o.State != OblFiled {
			if o.State == OblFailed {
				out = append(out, fmt.Sprintf("%s's clock failed (%s): file it by hand and record it (breach resolve %s --obligation %s --filed-by-hand --reference REF)",
					o.ID, o.Failure, inc.decl.IncidentID, o.ID))
				continue
			}
			out = append(out, fmt.Sprintf("%s is %s (due %s)", o.ID, o.State, o.DueAt.UTC().Format(time.RFC3339)))
		}
	}
	switch {
	case inc.rec.Alerts.State == AlertsFailed:
		out = append(out, fmt.Sprintf("customer alerts failed (%s): retry them (breach retry %s --alerts) or record how people were told (breach resolve %s --alerts --by-other-means --note …)",
			inc.rec.Alerts.Error, inc.decl.IncidentID, inc.decl.IncidentID))
	case inc.alertsRun < inc.alertsWanted:
		out = append(out, fmt.Sprintf("customer alerts are sending (%d of %d)", inc.rec.Alerts.Sent, inc.rec.Alerts.Total))
	}
	if inc.reevalReason != "" {
		out = append(out, "the obligations are being re-evaluated")
	}
	return out
}
