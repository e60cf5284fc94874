package workflows

import (
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/incident"
)

// changeIncidentResumable is the workflow.GetVersion change after which an incident can stay
// open for as long as people need: it continues as new at its waits before its history grows
// large, carrying its whole state, and follows its children (containments, clocks, alerts) by
// their reports rather than by futures, which do not outlive a run; the children are started
// to outlive it (parent-close policy abandon) and the incident ends or cancels them itself.
// Incidents started before keep their children attached and never continue as new.
const changeIncidentResumable = "incident-resumable"

// IncidentInput is what the incident workflow takes: a declaration and, in a run continued as
// new, the state of the run before. Its JSON is the declaration's with one more field, so a
// Declaration starts an incident as it always did.
type IncidentInput struct {
	incident.Declaration
	// Continued carries the incident's state into a new run after continue-as-new.
	Continued *IncidentState `json:"continued,omitempty"`
}

// IncidentState is what an incident carries across continue-as-new.
type IncidentState struct {
	Record       incident.IncidentRecord `json:"record"`
	Phase        string                  `json:"phase"`
	Pending      []incident.PendingStep  `json:"pending,omitempty"`
	ChatQueue    []incident.ChatMessage  `json:"chat_queue,omitempty"`
	SentCardKey  string                  `json:"sent_card_key,omitempty"`
	LastCardAt   time.Time               `json:"last_card_at,omitzero"`
	RoomTried    bool                    `json:"room_tried,omitempty"`
	ContainDone  bool                    `json:"contain_done,omitempty"`
	Contain      ContainTracking         `json:"contain"`
	AlertsWanted int                     `json:"alerts_wanted,omitempty"`
	// AlertsStarted and AlertsRun count the alerts runs started and finished.
	AlertsStarted  int                              `json:"alerts_started,omitempty"`
	AlertsRun      int                              `json:"alerts_run,omitempty"`
	ReevalReason   string                           `json:"reeval_reason,omitempty"`
	DatasetChanged bool                             `json:"dataset_changed,omitempty"`
	CloseReq       *incident.CloseRequest           `json:"close_req,omitempty"`
	ReplaceReq     *incident.ReplaceSubjectsRequest `json:"replace_req,omitempty"`
	Nonces         map[string]time.Time             `json:"nonces,omitempty"`
	Supplements    map[string]int                   `json:"supplements,omitempty"`
	History        incident.History                 `json:"history"`
	Failed         map[string]bool                  `json:"failed,omitempty"`
	// RegisterSent is the register entry last recorded (changeRegister).
	RegisterSent *incident.RegisterContent `json:"register_sent,omitempty"`
}

// state is the incident's state to carry into its next run.
func (inc *incidentImpl) state() IncidentState {
	return IncidentState{
		Record: inc.rec, Phase: inc.phase, Pending: inc.pending, ChatQueue: inc.chatQueue,
		SentCardKey: inc.sentCardKey, LastCardAt: inc.lastCardAt, RoomTried: inc.roomTried,
		ContainDone:  inc.containDone,
		Contain:      ContainTracking{Holding: inc.contain.holding, Numbered: inc.contain.numbered, Ended: inc.contain.ended},
		AlertsWanted: inc.alertsWanted, AlertsStarted: inc.alertsStarted, AlertsRun: inc.alertsRun,
		ReevalReason: inc.reevalReason, DatasetChanged: inc.datasetChanged, CloseReq: inc.closeReq, ReplaceReq: inc.replaceReq,
		Nonces: inc.nonces, Supplements: inc.supplements, History: inc.history, Failed: inc.failed,
		RegisterSent: inc.reg.sent,
	}
}

// restore takes the state an earlier run carried.
func (inc *incidentImpl) restore(s IncidentState) {
	inc.resumed, inc.tracked = true, true
	inc.rec, inc.phase, inc.pending, inc.chatQueue = s.Record, s.Phase, s.Pending, s.ChatQueue
	inc.sentCardKey, inc.lastCardAt, inc.roomTried, inc.containDone = s.SentCardKey, s.LastCardAt, s.RoomTried, s.ContainDone
	inc.contain = containmentChildren{holding: s.Contain.Holding, numbered: s.Contain.Numbered, tracked: true,
		ended: s.Contain.Ended, outcomes: map[string]releaseOutcome{}, releasing: map[string]bool{}}
	if inc.contain.ended == nil {
		inc.contain.ended = map[string]bool{}
	}
	inc.alertsWanted, inc.alertsStarted, inc.alertsRun = s.AlertsWanted, s.AlertsStarted, s.AlertsRun
	inc.reevalReason, inc.datasetChanged, inc.closeReq, inc.replaceReq = s.ReevalReason, s.DatasetChanged, s.CloseReq, s.ReplaceReq
	inc.nonces, inc.supplements, inc.history, inc.failed = s.Nonces, s.Supplements, s.History, s.Failed
	inc.reg.sent = s.RegisterSent
}

// noteHistory records how long this run's history has grown.
func (inc *incidentImpl) noteHistory(ctx workflow.Context) {
	n := inc.events.length(ctx)
	inc.history.Current = n
	inc.history.Longest = max(inc.history.Longest, n)
}

// await waits for cond. A resumable incident whose history has grown to its budget first
// continues as new at a quiet moment, carrying its state; the next run resumes the same wait.
func (inc *incidentImpl) await(ctx workflow.Context, cond func() bool) error {
	if !inc.tracked {
		return workflow.Await(ctx, cond)
	}
	if err := workflow.Await(ctx, func() bool { return cond() || inc.events.over(ctx, inc.decl.Budget) }); err != nil {
		return err
	}
	if cond() {
		return nil
	}
	return inc.continueAsNew(ctx)
}

// continueAsNew waits until nothing is under way (no Update handler, chat activity or child
// start), lets every signal already delivered be read, and continues as new.
func (inc *incidentImpl) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool {
		return workflow.AllHandlersFinished(ctx) && !inc.chatBusy && inc.starting == 0 && !inc.evaluating && !inc.reg.busy
	}); err != nil {
		return err
	}
	settle(ctx)
	inc.noteHistory(ctx)
	st := inc.state()
	return workflow.NewContinueAsNewError(ctx, IncidentWorkflow, IncidentInput{Declaration: inc.decl, Continued: &st})
}

// resumeChildren picks up, in a new run, the following of the children an earlier run started.
func (inc *incidentImpl) resumeChildren(ctx workflow.Context) {
	if inc.contain.holding {
		inc.followContainment(ctx)
	}
	if inc.phase == incident.PhaseNotify || inc.phase == incident.PhaseClose {
		workflow.Go(ctx, inc.runAlerts)
		workflow.Go(ctx, inc.reevaluate)
	}
}

// cancelChildren asks every child still running to stop: children that outlive a run of the
// incident are not cancelled with it.
func (inc *incidentImpl) cancelChildren(ctx workflow.Context) {
	var ids []string
	for i, s := range inc.decl.Systems {
		if !inc.containEnded(i) {
			ids = append(ids, inc.containmentID(s))
		}
	}
	for _, o := range inc.rec.Obligations {
		if o.State != incident.OblFiled && o.State != incident.OblFailed {
			ids = append(ids, incident.ObligationWorkflowID(inc.decl.IncidentID, o.ID))
		}
	}
	if inc.alertsStarted > inc.alertsRun {
		ids = append(ids, inc.alertsWorkflowID(inc.alertsStarted))
	}
	var fs []workflow.Future
	for _, id := range ids {
		fs = append(fs, workflow.RequestCancelExternalWorkflow(ctx, id, ""))
	}
	for i, f := range fs {
		if err := f.Get(ctx, nil); err != nil {
			inc.logger.Warn("could not cancel a child; it may have ended", "workflow", ids[i], "error", err)
		}
	}
}

// childOptions are the options of a child the incident follows by its reports.
func (inc *incidentImpl) childOptions(id string) workflow.ChildWorkflowOptions {
	opts := workflow.ChildWorkflowOptions{WorkflowID: id}
	if inc.tracked {
		opts.ParentClosePolicy = enumspb.PARENT_CLOSE_POLICY_ABANDON
	}
	return opts
}
