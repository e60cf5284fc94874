package workflows

import (
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeOneIsolatedSignal reports a successful isolation to the incident in one signal
// instead of two.
const changeOneIsolatedSignal = "containment-one-isolated-signal"

// ContainmentInput names the system to isolate.
type ContainmentInput struct {
	IncidentID string `json:"incident_id"`
	System     string `json:"system"`
	Drill      bool   `json:"drill,omitempty"`
	Roles      Roles  `json:"roles"`
	// WaitForRelease keeps the containment running once the system is contained, until the
	// incident asks it to release the isolation or to finish; cancelling it releases. Incidents
	// started before release existed leave it unset, and their containment ends at contained.
	WaitForRelease bool `json:"wait_for_release,omitempty"`
	// Reminders is how reminders of a manual isolation back off (zero: the defaults).
	Reminders ReminderPolicy `json:"reminders,omitzero"`
	// TimeScale compresses a drill's reminders.
	TimeScale float64 `json:"time_scale,omitempty"`
	// Budget is the history length at which the containment continues as new (0: default).
	Budget int `json:"budget,omitempty"`
	// Resume carries the containment's state into a new run after continue-as-new.
	Resume *ContainState `json:"resume,omitempty"`
}

// ContainState is what a containment carries across continue-as-new.
type ContainState struct {
	Status SystemStatus `json:"status"`
	// Stage is where it waits: "manual" (a person isolates by hand) or "hold".
	Stage string `json:"stage"`
	// ManualSince is when the manual isolation was asked for; Ask is the request's text.
	ManualSince time.Time `json:"manual_since,omitzero"`
	Ask         string    `json:"ask,omitempty"`
	History     History   `json:"history"`
}

// changeContainmentResumable is the workflow.GetVersion change after which a containment that
// holds its isolation is resumable: it continues as new past an event budget while it waits
// (for a manual isolation, or for the release), its manual reminders back off and are folded
// into one line, and it reports its end to the incident, which follows it by signals.
const changeContainmentResumable = "containment-resumable"

const (
	containStageManual = "manual"
	containStageHold   = "hold"
)

// ManualReminderInterval is how often a waiting manual isolation is raised again.
const ManualReminderInterval = 15 * time.Minute

// Signals between the incident and its containment children about ending an isolation.
const (
	signalContainmentEnd = "containment-end"
	signalReleaseOutcome = "release-outcome"
)

// changeContainUntilRelease is the workflow.GetVersion change after which containment children
// stay until released or finished by the incident, instead of ending once contained.
const changeContainUntilRelease = "containment-until-release"

// containmentEnd ends a containment's wait: release the isolation, or (on a close without
// release_on_close) keep it and finish.
type containmentEnd struct {
	Release bool `json:"release"`
	// Manual confirms that a system isolated by hand was released by hand.
	Manual bool      `json:"manual,omitempty"`
	By     string    `json:"by"`
	Reason string    `json:"reason,omitempty"`
	At     time.Time `json:"at"`
	// RequestID is the release Update's ID, under which the outcome is reported; empty on close.
	RequestID string `json:"request_id,omitempty"`
}

// releaseOutcome answers a release Update: the state after the attempt, and why it failed.
type releaseOutcome struct {
	RequestID string       `json:"request_id"`
	Status    SystemStatus `json:"status"`
	Error     string       `json:"error,omitempty"`
}

// ContainmentWorkflow isolates one system and verifies the isolation. If automation fails, a
// person is asked to isolate by hand and confirm, and is reminded until they do. With
// WaitForRelease it then holds the isolation until the incident releases it (on request or at
// close) or finishes it, and releases it if cancelled.
func ContainmentWorkflow(ctx workflow.Context, in ContainmentInput) (SystemStatus, error) {
	c := &containment{in: in, rep: newReporter(ctx),
		call: incident.ContainInput{IncidentID: in.IncidentID, System: in.System, Drill: in.Drill}}
	c.st = SystemStatus{System: in.System, State: ContainIsolating, Updated: workflow.Now(ctx).UTC()}
	if !in.WaitForRelease {
		err := c.contain(ctx, firewallCtx(ctx))
		return c.st, err
	}
	c.resumable = in.Resume != nil || workflow.GetVersion(ctx, changeContainmentResumable, workflow.DefaultVersion, 1) == 1
	if in.Resume != nil {
		c.state = *in.Resume
		c.st = c.state.Status
	}
	c.state.History.Runs++
	var err error
	switch c.state.Stage {
	case containStageManual:
		err = c.waitManual(ctx)
	case containStageHold:
	default:
		// A cancelled isolation call is waited for, so that the release after it cannot
		// overtake it.
		err = c.contain(ctx, workflow.WithWaitForCancellation(firewallCtx(ctx), true))
	}
	if err == nil {
		err = c.hold(ctx)
	}
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		return c.st, err
	}
	if err != nil && ctx.Err() != nil {
		c.compensate(ctx)
	}
	if err != nil && ctx.Err() == nil && c.st.State != ContainContained && c.st.State != ContainReleased {
		c.st.State, c.st.Detail = ContainFailed, applicationMessage(err)
	}
	if c.resumable {
		// The incident follows its containments by their reports: this is the last one.
		dctx, cancel := workflow.NewDisconnectedContext(ctx)
		defer cancel()
		c.noteHistory(dctx)
		st := c.st
		c.rep.send(dctx, childState{System: &st, Ended: true})
	}
	return c.st, err
}

type containment struct {
	in   ContainmentInput
	rep  reporter
	call incident.ContainInput
	st   SystemStatus
	// resumable and state: see changeContainmentResumable.
	resumable bool
	state     ContainState
	events    runLength
}

func (c *containment) noteHistory(ctx workflow.Context) {
	if !c.resumable {
		return
	}
	n := c.events.length(ctx)
	c.state.History.Current = n
	c.state.History.Longest = max(c.state.History.Longest, n)
	h := c.state.History
	c.st.History = &h
}

// continueAsNew carries the containment into a new run, waiting at stage.
func (c *containment) continueAsNew(ctx workflow.Context, stage string) error {
	c.noteHistory(ctx)
	c.state.Stage = stage
	c.state.Status = c.st
	next := c.in
	st := c.state
	next.Resume = &st
	return workflow.NewContinueAsNewError(ctx, ContainmentWorkflow, next)
}

// waitManual waits for a person to confirm the manual isolation, reminding them as the policy
// backs off; each reminder updates the one line the card shows (and is posted folded into the
// reminders before it).
func (c *containment) waitManual(ctx workflow.Context) error {
	in := c.in
	step := incident.IsolationStep(in.System)
	policy := in.Reminders.Manual().Scaled(in.TimeScale)
	confirmCh := workflow.GetSignalChannel(ctx, signalManualConfirm)
	for {
		next := policy.At(c.state.ManualSince, c.st.Reminders+1)
		ok, err := workflow.AwaitWithTimeout(ctx, max(next.Sub(workflow.Now(ctx)), 0), func() bool {
			return confirmCh.Len() > 0 || c.events.over(ctx, in.Budget)
		})
		switch {
		case err != nil:
			return err
		case confirmCh.Len() > 0:
			var confirm approval
			confirmCh.Receive(ctx, &confirm)
			return c.confirmed(ctx, confirm)
		case ok:
			return c.continueAsNew(ctx, containStageManual)
		}
		now := workflow.Now(ctx).UTC()
		c.events.add(7)
		c.st.Reminders++
		c.st.LastReminder = now
		c.noteHistory(ctx)
		st := c.st
		c.rep.send(ctx, childState{System: &st, Chat: &incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgManualReminder,
			Drill: in.Drill, Urgent: true, Step: step, System: in.System, Fold: step,
			Text: fmt.Sprintf("%s is still not isolated after %s (reminder %d). %s", in.System,
				now.Sub(c.state.ManualSince).Round(time.Minute), c.st.Reminders, c.state.Ask)}})
	}
}

// confirmed records a manual isolation a person confirmed.
func (c *containment) confirmed(ctx workflow.Context, confirm approval) error {
	c.st.State = ContainContained
	c.st.Manual = true
	c.st.Detail = "isolated manually, confirmed by " + confirm.By
	if confirm.Note != "" {
		c.st.Detail += ": " + confirm.Note
	}
	c.st.Updated = confirm.At
	c.noteHistory(ctx)
	st := c.st
	c.rep.send(ctx, childState{System: &st})
	return nil
}

// contain isolates and verifies, or has a person isolate by hand. It returns once the system is
// contained, or with the error that cancelled the wait.
func (c *containment) contain(ctx, fctx workflow.Context) error {
	in, rep := c.in, c.rep
	var ev incident.Evidence
	err := workflow.ExecuteActivity(fctx, a.Isolate, c.call).Get(ctx, &ev)
	if err == nil {
		var vev incident.Evidence
		if err = workflow.ExecuteActivity(fctx, a.VerifyIsolation, c.call).Get(ctx, &vev); err == nil && !vev.InForce {
			err = fmt.Errorf("verification found the isolation of %s not in force", in.System)
		}
	}
	if err == nil {
		c.st.State = ContainContained
		c.st.Provider = ev.Provider
		c.st.Detail = ev.After
		c.st.Updated = workflow.Now(ctx).UTC()
		st := c.st
		text := fmt.Sprintf("%s isolated via %s and verified: %s", in.System, ev.Provider, ev.After)
		if workflow.GetVersion(ctx, changeOneIsolatedSignal, workflow.DefaultVersion, 1) == 1 {
			// One signal for state and event: under a burst of incidents every message costs.
			rep.send(ctx, childState{System: &st, Event: &Event{At: st.Updated, Kind: "isolated", Text: text, About: in.System}})
		} else {
			rep.send(ctx, childState{System: &st})
			rep.event(ctx, "isolated", text)
		}
		return nil
	}
	if c.in.WaitForRelease && ctx.Err() != nil {
		return err
	}

	// Automation failed: a person isolates by hand.
	c.st.State = ContainManual
	c.st.Detail = applicationMessage(err)
	c.st.Updated = workflow.Now(ctx).UTC()
	step := incident.IsolationStep(in.System)
	st := c.st
	rep.send(ctx, childState{System: &st, Pending: &PendingStep{
		Step: step, Role: RoleCommander, Since: st.Updated,
		Description: fmt.Sprintf("Isolate %s manually, then confirm", in.System),
	}})
	rep.event(ctx, "isolation-failed", fmt.Sprintf("Automatic isolation of %s failed: %s", in.System, st.Detail))
	ask := fmt.Sprintf("Automatic isolation of %s failed (%s). Isolate %s manually, then confirm: breach approve %s --step %s --as <commander>",
		in.System, st.Detail, in.System, in.IncidentID, step)
	rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgManualIsolation, Text: ask, Drill: in.Drill, Urgent: true,
		Step: step, System: in.System})
	if c.resumable {
		c.state.ManualSince, c.state.Ask = st.Updated, ask
		return c.waitManual(ctx)
	}

	var confirm approval
	confirmCh := workflow.GetSignalChannel(ctx, signalManualConfirm)
	for waited := 1; ; waited++ {
		ok, err := workflow.AwaitWithTimeout(ctx, ManualReminderInterval, func() bool { return confirmCh.Len() > 0 })
		if err != nil {
			return err
		}
		if ok {
			confirmCh.Receive(ctx, &confirm)
			break
		}
		rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: incident.MsgManualReminder, Drill: in.Drill, Urgent: true,
			Step: step, System: in.System,
			Text: fmt.Sprintf("%s is still not isolated after %s. %s", in.System, time.Duration(waited)*ManualReminderInterval, ask)})
	}
	c.st.State = ContainContained
	c.st.Manual = true
	c.st.Detail = "isolated manually, confirmed by " + confirm.By
	if confirm.Note != "" {
		c.st.Detail += ": " + confirm.Note
	}
	c.st.Updated = confirm.At
	st = c.st
	rep.send(ctx, childState{System: &st})
	return nil
}

// hold keeps the isolation until the incident ends it. A failed release leaves the system
// isolated and waits for another request.
func (c *containment) hold(ctx workflow.Context) error {
	ch := workflow.GetSignalChannel(ctx, signalContainmentEnd)
	for {
		if err := workflow.Await(ctx, func() bool { return ch.Len() > 0 || (c.resumable && c.events.over(ctx, c.in.Budget)) }); err != nil {
			return err
		}
		if ch.Len() == 0 {
			return c.continueAsNew(ctx, containStageHold)
		}
		var end containmentEnd
		ch.ReceiveAsync(&end)
		if c.end(ctx, end) {
			return nil
		}
	}
}

// end carries out one end request and reports whether the containment is over.
func (c *containment) end(ctx workflow.Context, end containmentEnd) bool {
	in := c.in
	onClose := end.RequestID == ""
	if !end.Release {
		return true
	}
	why := ""
	if end.Reason != "" {
		why = " (" + end.Reason + ")"
	}
	if c.st.Manual {
		if !end.Manual {
			text := fmt.Sprintf("%s was isolated by hand (%s), so breach cannot lift it: lift the isolation by hand when it is safe. It stays recorded as isolated.",
				in.System, c.st.Detail)
			c.rep.event(ctx, "release-manual", text)
			c.rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: "manual-release", Text: text, Drill: in.Drill, Urgent: true})
			c.outcome(ctx, end, text)
			return onClose
		}
		c.st.State = ContainReleased
		c.st.Detail = "isolation lifted by hand, confirmed by " + end.By + why
		c.st.Updated = workflow.Now(ctx).UTC()
		st := c.st
		c.rep.send(ctx, childState{System: &st})
		c.rep.event(ctx, "released", fmt.Sprintf("Manual isolation of %s lifted by hand, confirmed by %s%s.", in.System, end.By, why))
		c.outcome(ctx, end, "")
		return true
	}

	var ev incident.Evidence
	if err := workflow.ExecuteActivity(firewallCtx(ctx), a.ReleaseIsolation, c.call).Get(ctx, &ev); err != nil {
		if ctx.Err() != nil {
			return false // cancelled: the compensation releases
		}
		text := fmt.Sprintf("Releasing %s via %s failed: %s. %s is still isolated.", in.System, c.st.Provider, applicationMessage(err), in.System)
		if onClose {
			text += " Lift the isolation through the firewall by hand when it is safe."
		}
		c.rep.event(ctx, "release-failed", text)
		c.rep.chat(ctx, incident.ChatMessage{IncidentID: in.IncidentID, Kind: "release-failed", Text: text, Drill: in.Drill, Urgent: true})
		c.outcome(ctx, end, text)
		return onClose
	}
	c.released(ctx, ev, fmt.Sprintf("by %s%s", end.By, why))
	c.outcome(ctx, end, "")
	return true
}

// released records a successful release through the provider.
func (c *containment) released(ctx workflow.Context, ev incident.Evidence, how string) {
	c.st.State = ContainReleased
	c.st.Provider = ev.Provider
	c.st.Detail = ev.After
	c.st.Updated = workflow.Now(ctx).UTC()
	st := c.st
	c.rep.send(ctx, childState{System: &st})
	c.rep.event(ctx, "released", fmt.Sprintf("%s released via %s %s: %s", c.in.System, ev.Provider, how, ev.After))
}

func (c *containment) outcome(ctx workflow.Context, end containmentEnd, failure string) {
	if end.RequestID == "" || c.rep.parentID == "" {
		return
	}
	o := releaseOutcome{RequestID: end.RequestID, Status: c.st, Error: failure}
	if err := workflow.SignalExternalWorkflow(ctx, c.rep.parentID, "", signalReleaseOutcome, o).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not answer the release request", "system", c.in.System, "error", err)
	}
}

// compensate lifts the isolation after a cancellation, in a context that survives it.
// Whatever automation may have applied is released (releasing is idempotent); an isolation
// made by hand is left to people, who are asked in chat.
func (c *containment) compensate(ctx workflow.Context) {
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	in := c.in
	if c.st.State == ContainReleased {
		return
	}
	if c.st.Manual {
		c.tell(dctx, "manual-release", fmt.Sprintf("Containment of %s was cancelled. %s was isolated by hand (%s): lift the isolation by hand when it is safe.",
			in.System, in.System, c.st.Detail))
		return
	}
	wasManual := c.st.State == ContainManual
	var ev incident.Evidence
	if err := workflow.ExecuteActivity(firewallCtx(dctx), a.ReleaseIsolation, c.call).Get(dctx, &ev); err != nil {
		c.tell(dctx, "release-failed", fmt.Sprintf("Containment of %s was cancelled, but releasing it failed: %s. It may still be isolated: lift the isolation through the firewall by hand.",
			in.System, applicationMessage(err)))
		return
	}
	c.released(dctx, ev, "after the containment was cancelled")
	if wasManual {
		c.tell(dctx, "manual-release", fmt.Sprintf("Containment of %s was cancelled while waiting for a manual isolation. If %s was isolated by hand, lift that by hand too.",
			in.System, in.System))
	}
}

// tell records an event and posts to the incident room directly: after a cancellation the
// incident no longer posts its chat queue.
func (c *containment) tell(ctx workflow.Context, kind, text string) {
	c.rep.event(ctx, kind, text)
	m := incident.ChatMessage{IncidentID: c.in.IncidentID, Kind: kind, Text: text, Drill: c.in.Drill, Urgent: true}
	if err := workflow.ExecuteActivity(chatCtx(ctx), a.PostChat, m).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("chat message dropped", "kind", kind, "error", err)
	}
}

// changeContainmentIDs is the workflow.GetVersion change after which containment children are
// numbered (incident/<id>/contain/<n>) instead of named by their system: workflow IDs are
// readable by anyone who reaches Temporal, payloads are encrypted.
const changeContainmentIDs = "containment-numbered-ids"

// containmentChildren follows an incident's containment children.
type containmentChildren struct {
	// numbered is set when the children's IDs are numbered (changeContainmentIDs).
	numbered bool
	// holding is set when the children wait for release (changeContainUntilRelease).
	holding bool
	// futures are in the order of Declaration.Systems.
	futures []workflow.ChildWorkflowFuture
	// outcomes of release Updates, by Update ID, until the Update reads them.
	outcomes map[string]releaseOutcome
	// releasing names the systems with a release Update in progress.
	releasing map[string]bool
	// tracked is set when the children are followed by their reports alone (see
	// changeIncidentResumable): they outlive a run of the incident, futures do not. ended names
	// the children that reported their end.
	tracked bool
	ended   map[string]bool
}

// ContainTracking is what an incident carries of its containments across continue-as-new.
type ContainTracking struct {
	Holding  bool            `json:"holding"`
	Numbered bool            `json:"numbered"`
	Ended    map[string]bool `json:"ended,omitempty"`
}

// containEnded reports whether the containment of the i-th system has ended.
func (inc *incidentImpl) containEnded(i int) bool {
	if inc.contain.tracked {
		return inc.contain.ended[inc.decl.Systems[i]]
	}
	return inc.contain.futures[i].IsReady()
}

func (inc *incidentImpl) startContainment(ctx workflow.Context) {
	hold := workflow.GetVersion(ctx, changeContainUntilRelease, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	inc.contain.numbered = workflow.GetVersion(ctx, changeContainmentIDs, workflow.DefaultVersion, 1) != workflow.DefaultVersion
	var futures []workflow.ChildWorkflowFuture
	for _, s := range inc.decl.Systems {
		opts := workflow.ChildWorkflowOptions{
			WorkflowID: inc.containmentID(s),
			TaskQueue:  ContainmentTaskQueue,
			// The incident waits for a cancelled child's compensation before it ends.
			WaitForCancellation: hold,
		}
		in := ContainmentInput{IncidentID: inc.decl.IncidentID, System: s, Drill: inc.decl.Drill, Roles: inc.decl.Roles, WaitForRelease: hold}
		if inc.tracked {
			// The child outlives a run of the incident (continue-as-new): the incident follows it
			// by its reports, and ends it itself.
			opts.ParentClosePolicy = enumspb.PARENT_CLOSE_POLICY_ABANDON
			in.Reminders, in.TimeScale, in.Budget = inc.decl.Reminders, inc.decl.TimeScale, inc.decl.Budget
		}
		futures = append(futures, workflow.ExecuteChildWorkflow(workflow.WithChildOptions(ctx, opts), ContainmentWorkflow, in))
	}
	if hold && inc.tracked {
		inc.contain = containmentChildren{holding: true, numbered: inc.contain.numbered, tracked: true, ended: map[string]bool{},
			outcomes: map[string]releaseOutcome{}, releasing: map[string]bool{}}
		inc.awaitStarts(ctx, futures)
		inc.followContainment(ctx)
		return
	}
	if !hold {
		workflow.Go(ctx, func(ctx workflow.Context) {
			for i, f := range futures {
				var st SystemStatus
				if err := f.Get(ctx, &st); err != nil {
					inc.event(ctx, "containment-failed", fmt.Sprintf("Containment of %s failed: %v", inc.decl.Systems[i], err))
					continue
				}
				inc.applyChildState(childState{System: &st})
			}
			inc.containDone = true
			inc.event(ctx, "contained", "Containment finished for every affected system.")
		})
		return
	}

	inc.contain = containmentChildren{holding: true, numbered: inc.contain.numbered, futures: futures,
		outcomes: map[string]releaseOutcome{}, releasing: map[string]bool{}}
	workflow.Go(ctx, inc.receiveReleaseOutcomes)
	// Children now report "contained" by signal and stay; their results arrive at release or close.
	workflow.Go(ctx, func(ctx workflow.Context) {
		sel := workflow.NewSelector(ctx)
		for i, f := range futures {
			sys := inc.decl.Systems[i]
			sel.AddFuture(f, func(f workflow.Future) {
				var st SystemStatus
				if err := f.Get(ctx, &st); err != nil {
					if !temporal.IsCanceledError(err) {
						inc.event(ctx, "containment-failed", fmt.Sprintf("Containment of %s failed: %v", sys, err))
					}
					return
				}
				inc.applyChildState(childState{System: &st})
			})
		}
		for range futures {
			sel.Select(ctx)
		}
	})
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := workflow.Await(ctx, inc.containmentSettled); err != nil {
			return
		}
		inc.containDone = true
		inc.event(ctx, "contained", "Containment finished for every affected system: each is isolated, released, or its containment ended.")
	})
}

func (inc *incidentImpl) receiveReleaseOutcomes(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, signalReleaseOutcome)
	for {
		var o releaseOutcome
		if !ch.Receive(ctx, &o) {
			return
		}
		inc.contain.outcomes[o.RequestID] = o
	}
}

// followContainment follows tracked containments: release answers, and whether every system
// is settled. It runs in every run of the incident.
func (inc *incidentImpl) followContainment(ctx workflow.Context) {
	workflow.Go(ctx, inc.receiveReleaseOutcomes)
	if inc.containDone {
		return
	}
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := workflow.Await(ctx, inc.containmentSettled); err != nil {
			return
		}
		inc.containDone = true
		inc.event(ctx, "contained", "Containment finished for every affected system: each is isolated, released, or its containment ended.")
	})
}

// awaitStarts counts children being started until the server has them, so that the incident
// does not continue as new with a start in flight.
func (inc *incidentImpl) awaitStarts(ctx workflow.Context, futures []workflow.ChildWorkflowFuture) {
	inc.starting += len(futures)
	for _, f := range futures {
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { inc.starting-- }()
			if err := f.GetChildWorkflowExecution().Get(ctx, nil); err != nil {
				inc.logger.Warn("a child workflow did not start", "error", err)
			}
		})
	}
}

// containmentSettled reports whether no system waits to be isolated any more.
func (inc *incidentImpl) containmentSettled() bool {
	for i, s := range inc.rec.Containment {
		if s.State != ContainContained && s.State != ContainReleased && !inc.containEnded(i) {
			return false
		}
	}
	return true
}

// endContainment runs when the incident closes: every containment still holding an isolation
// releases it (release_on_close) or keeps it and finishes, and the incident waits for them all.
func (inc *incidentImpl) endContainment(ctx workflow.Context) {
	if !inc.contain.holding {
		return
	}
	if err := workflow.Await(ctx, func() bool { return len(inc.contain.releasing) == 0 }); err != nil {
		return
	}
	release := inc.decl.ReleaseOnClose
	by := ""
	if inc.closeReq != nil {
		by = inc.closeReq.By
	}
	end := containmentEnd{Release: release, By: by, Reason: "incident closed", At: workflow.Now(ctx).UTC()}
	var signals []workflow.Future
	var signalled []string
	for i, s := range inc.decl.Systems {
		if inc.containEnded(i) {
			continue
		}
		signals = append(signals, workflow.SignalExternalWorkflow(ctx, inc.containmentID(s), "", signalContainmentEnd, end))
		signalled = append(signalled, s)
	}
	for i, f := range signals {
		if err := f.Get(ctx, nil); err != nil {
			inc.logger.Warn("could not end a containment; it may have ended already", "system", signalled[i], "error", err)
		}
	}
	if inc.contain.tracked {
		// Each child reports its end; one stuck beyond a long wait does not hold the close.
		if ok, _ := workflow.AwaitWithTimeout(ctx, 30*time.Minute, func() bool {
			for i := range inc.decl.Systems {
				if !inc.containEnded(i) {
					return false
				}
			}
			return true
		}); !ok {
			inc.event(ctx, "containment-unfinished", "Some containments did not report their end within 30 minutes of the close; see their workflows.")
		}
	} else {
		for i, f := range inc.contain.futures {
			var st SystemStatus
			if err := f.Get(ctx, &st); err != nil {
				inc.logger.Warn("containment ended with an error", "system", inc.decl.Systems[i], "error", err)
				continue
			}
			inc.applyChildState(childState{System: &st})
		}
	}
	settle(ctx)
	for _, s := range inc.rec.Containment {
		if s.State != ContainContained {
			continue
		}
		how := "through its firewall (" + s.Provider + ")"
		if s.Manual {
			how = "by hand"
		}
		inc.event(ctx, "kept-isolated", fmt.Sprintf("%s stays isolated after the close; lift it %s when it is safe.", s.System, how))
	}
}

// settle lets every other coroutine run once, so that signals already delivered (a child's
// last reports, sent before it ended) are applied before the caller reads the state.
func settle(ctx workflow.Context) {
	ran := false
	workflow.Go(ctx, func(workflow.Context) { ran = true })
	_ = workflow.Await(ctx, func() bool { return ran })
}

// settleContainment runs when the incident is cancelled: the children, cancelled with it,
// release their isolation, and the incident waits for them so that its end does not cut their
// compensation short.
func (inc *incidentImpl) settleContainment(ctx workflow.Context) {
	if !inc.contain.holding {
		return
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	if inc.contain.tracked {
		inc.cancelChildren(dctx)
		_, _ = workflow.AwaitWithTimeout(dctx, 5*time.Minute, func() bool {
			for i := range inc.decl.Systems {
				if !inc.containEnded(i) {
					return false
				}
			}
			return true
		})
		settle(dctx)
		return
	}
	for _, f := range inc.contain.futures {
		var st SystemStatus
		if err := f.Get(dctx, &st); err == nil {
			inc.applyChildState(childState{System: &st})
		}
	}
	settle(dctx)
}

// containmentID is the workflow ID of the containment of system.
func (inc *incidentImpl) containmentID(system string) string {
	if !inc.contain.numbered {
		return ContainmentWorkflowID(inc.decl.IncidentID, system)
	}
	for i, s := range inc.decl.Systems {
		if s == system {
			return ContainmentChildID(inc.decl.IncidentID, i+1)
		}
	}
	return ContainmentWorkflowID(inc.decl.IncidentID, system)
}
