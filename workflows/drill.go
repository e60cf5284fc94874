package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/breachops/breach/drill"
	"github.com/breachops/breach/incident"
	"github.com/breachops/breach/internal/rules"
	"github.com/breachops/breach/internal/scenario"
)

// DrillWorkflowID is the workflow ID of a drill started by hand.
func DrillWorkflowID(incidentID string) string { return "drill/" + incidentID }

// DrillScheduleWorkflowID is the workflow ID a drill schedule gives its runs; Temporal appends
// the scheduled time to it.
func DrillScheduleWorkflowID(scheduleID string) string { return "drill/scheduled/" + scheduleID }

// QueryDrill answers a drill's progress (DrillProgress).
const QueryDrill = "drill"

// MaxTimeScale bounds --time-scale: beyond it a second of machine latency is days of drill time.
const MaxTimeScale = 100000

// DrillInject is a piece of news a drill delivers into its incident's timeline and chat.
type DrillInject struct {
	At   scenario.Duration `json:"at"`
	Text string            `json:"text"`
}

// DrillInput starts a drill.
type DrillInput struct {
	// IncidentID is the drill's incident; empty for scheduled runs, which derive one from the
	// run.
	IncidentID string            `json:"incident_id,omitempty"`
	Scenario   scenario.Scenario `json:"scenario"`
	// TimeScale runs drill time, and the legal clocks, this many times faster; below 1 means 1.
	TimeScale   float64 `json:"time_scale,omitempty"`
	AutoApprove bool    `json:"auto_approve,omitempty"`
	// Base carries the configuration's organisation, roles and routes; the drill fills in the
	// rest of the incident's declaration from the scenario.
	Base       Declaration `json:"base"`
	ScheduleID string      `json:"schedule_id,omitempty"`
}

// DrillProgress answers QueryDrill.
type DrillProgress struct {
	IncidentID string               `json:"incident_id"`
	Scenario   string               `json:"scenario"`
	State      string               `json:"state"` // running | scoring | done
	StartedAt  time.Time            `json:"started_at"`
	EndsAt     time.Time            `json:"ends_at"`
	Injects    []drill.InjectResult `json:"injects"`
}

// ValidateDrillInput checks a drill before it starts.
func ValidateDrillInput(in DrillInput) error {
	sc := in.Scenario
	switch {
	case strings.TrimSpace(sc.Title) == "" || len(sc.Systems) == 0:
		return errors.New("drill: the scenario has no title or no systems")
	case sc.Subjects == "":
		return errors.New("drill: the scenario names no subjects dataset")
	case sc.Duration <= 0:
		return errors.New("drill: the scenario's duration must be longer than zero")
	case math.IsNaN(in.TimeScale) || in.TimeScale > MaxTimeScale:
		return fmt.Errorf("drill: time scale %g must be between 1 and %d", in.TimeScale, MaxTimeScale)
	case in.IncidentID != "" && !incident.IsID(in.IncidentID):
		return fmt.Errorf("drill: %v", incident.ValidateID(in.IncidentID))
	}
	return nil
}

// DrillWorkflow runs a tabletop drill: the real incident plan as a child in drill mode, the
// scenario's injects on durable timers, the auto-pilot when asked, and at the end a score of
// every target, written as a report and posted to the incident room.
func DrillWorkflow(ctx workflow.Context, in DrillInput) (drill.DrillReport, error) {
	dr := &drillImpl{in: in}
	if err := dr.setup(ctx); err != nil {
		return drill.DrillReport{}, err
	}
	return dr.run(ctx)
}

type drillImpl struct {
	in       DrillInput
	scale    float64
	decl     Declaration
	dpo, ic  string
	logger   log.Logger
	progress DrillProgress
	ended    bool
}

func (dr *drillImpl) setup(ctx workflow.Context) error {
	in := dr.in
	if err := ValidateDrillInput(in); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidDrill", nil)
	}
	dr.scale = math.Max(in.TimeScale, 1)
	start := workflow.Now(ctx).UTC()
	id := in.IncidentID
	if id == "" {
		id = dr.derivedID(ctx, start, 0)
	}
	sc := in.Scenario
	d := in.Base
	dr.dpo = persona(sc.Roles.DPO.As, d.Roles.DPO, "drill-dpo")
	dr.ic = persona(sc.Roles.Commander.As, d.Roles.Commander, "drill-ic")
	d.Roles = Roles{DPO: withIdentity(d.Roles.DPO, dr.dpo), Commander: withIdentity(d.Roles.Commander, dr.ic)}
	d.IncidentID, d.Title, d.Description, d.Systems = id, sc.Title, sc.Description, sc.Systems
	d.AwareAt, d.AwareZone = start, d.Organisation.Timezone
	d.DeclaredBy, d.Source, d.Drill, d.Key = dr.ic, "drill", true, ""
	d.Subjects = incident.DatasetRef{URI: sc.Subjects}
	d.TimeScale, d.Scenario = dr.scale, sc.Name
	if len(sc.Facts.Establishments) > 0 {
		d.Organisation.Establishments = sc.Facts.Establishments
	}
	if len(sc.Facts.Sectors) > 0 {
		d.Organisation.Sectors = sc.Facts.Sectors
	}
	if sc.Facts.Role != "" {
		d.Organisation.Role = sc.Facts.Role
	}
	if err := validateShape(d); err != nil {
		return temporal.NewNonRetryableApplicationError(err.Error(), "InvalidDrill", nil)
	}
	dr.decl = d
	dr.logger = log.With(workflow.GetLogger(ctx), "drill", id, "scenario", sc.Name)
	dr.progress = DrillProgress{IncidentID: id, Scenario: sc.Name, State: "running", StartedAt: start,
		EndsAt: start.Add(dr.wall(sc.Duration)), Injects: []drill.InjectResult{}}
	for _, inj := range sc.Injects {
		dr.progress.Injects = append(dr.progress.Injects, drill.InjectResult{At: inj.At, Text: inj.Text})
	}
	return workflow.SetQueryHandler(ctx, QueryDrill, func() (DrillProgress, error) { return dr.progress, nil })
}

// derivedID is a scheduled run's incident ID: from its run ID, and attempt when an earlier
// candidate was taken.
func (dr *drillImpl) derivedID(ctx workflow.Context, start time.Time, attempt int) string {
	seed := fmt.Sprintf("%s\x00%d", workflow.GetInfo(ctx).WorkflowExecution.RunID, attempt)
	if workflow.GetVersion(ctx, changeLongIncidentIDs, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		h := sha256.Sum256([]byte(seed))
		return "INC-" + start.Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(h[:2]))
	}
	return incident.DerivedID(start, seed)
}

// changeAutopilotSigns is the workflow.GetVersion change after which a drill with the auto-pilot
// asks for the auto-pilot's public key and declares its incident trusting it.
const changeAutopilotSigns = "drill-autopilot-signs"

// changeLongIncidentIDs is the workflow.GetVersion change after which a scheduled drill's
// incident ID carries 64 bits (incident.DerivedID) instead of 16.
const changeLongIncidentIDs = "incident-ids-64-bits"

func persona(as string, configured []string, fallback string) string {
	switch {
	case as != "":
		return as
	case len(configured) > 0 && configured[0] != "":
		return configured[0]
	}
	return fallback
}

func withIdentity(list []string, id string) []string {
	out := append([]string{}, list...)
	for _, x := range out {
		if x == id {
			return out
		}
	}
	return append(out, id)
}

// wall converts drill time to workflow time.
func (dr *drillImpl) wall(d scenario.Duration) time.Duration {
	return time.Duration(float64(d) / dr.scale)
}

// run starts the drill's incident, lets the scenario's people (or the auto-pilot) play it until
// it closes or the drill's time runs out, then scores it and writes the report.
func (dr *drillImpl) run(ctx workflow.Context) (drill.DrillReport, error) {
	if err := dr.signAsAutopilot(ctx); err != nil {
		return drill.DrillReport{}, err
	}
	childCtx, cancelIncident := workflow.WithCancel(ctx)
	child, err := dr.startIncident(childCtx)
	if err != nil {
		return drill.DrillReport{}, err
	}
	ref := drill.IncidentRef{IncidentID: dr.decl.IncidentID, WorkflowID: IncidentWorkflowID(dr.decl.IncidentID)}
	var incidentErr error
	workflow.Go(ctx, func(ctx workflow.Context) {
		incidentErr = child.Get(ctx, nil)
		dr.ended = true
	})
	workflow.Go(ctx, func(ctx workflow.Context) { dr.deliverInjects(ctx, child) })
	pilot := dr.startAutopilot(ctx, ref)

	start, end := dr.progress.StartedAt, dr.progress.EndsAt
	if _, err := workflow.AwaitWithTimeout(ctx, end.Sub(workflow.Now(ctx)), func() bool { return dr.ended }); err != nil {
		return drill.DrillReport{}, err
	}
	dr.progress.State = "scoring"
	var notes []string
	outcome := drill.DrillClosed
	if !dr.ended {
		outcome = drill.DrillTimeUp
	} else if incidentErr != nil {
		notes = append(notes, "The incident workflow failed: "+applicationMessage(incidentErr))
	}
	pilotRes, pilotNotes := dr.stopAutopilot(ctx, pilot)
	notes = append(notes, pilotNotes...)

	// Read the incident before ending it, so the score sees it as the drill's time ran out.
	var view incident.Status
	if err := workflow.ExecuteActivity(drillStatusCtx(ctx), da.IncidentStatus, ref).Get(ctx, &view); err != nil {
		notes = append(notes, "The incident's status could not be read, so nothing could be scored: "+applicationMessage(err))
	}
	endAt := workflow.Now(ctx).UTC()
	if outcome == drill.DrillTimeUp {
		notes = append(notes, fmt.Sprintf("The drill's time ran out at T+%s in phase %q; the incident was cancelled (its containment released, dry-run).", dr.in.Scenario.Duration, view.Phase))
		cancelIncident()
		if ok, _ := workflow.AwaitWithTimeout(ctx, 5*time.Minute, func() bool { return dr.ended }); !ok {
			notes = append(notes, "The incident did not finish its cancellation within 5 minutes.")
		}
	}
	rep := dr.score(ctx, view, outcome, start, endAt, pilotRes, notes)
	return dr.report(ctx, rep)
}

// signAsAutopilot: the auto-pilot signs what it decides for the scenario's people, so the
// incident is declared trusting its key, in this drill only.
func (dr *drillImpl) signAsAutopilot(ctx workflow.Context) error {
	if !dr.in.AutoApprove || workflow.GetVersion(ctx, changeAutopilotSigns, workflow.DefaultVersion, 1) != 1 {
		return nil
	}
	var pub string
	if err := workflow.ExecuteActivity(drillStatusCtx(ctx), da.AutopilotKey).Get(ctx, &pub); err != nil {
		return fmt.Errorf("the drill's auto-pilot has no signing key: %w", err)
	}
	dr.decl.Keys.Autopilot = pub
	return nil
}

// startIncident starts the drill's incident as a child; an ID derived from the drill's start
// that is taken already is derived again.
func (dr *drillImpl) startIncident(ctx workflow.Context) (workflow.ChildWorkflowFuture, error) {
	for attempt := 0; ; attempt++ {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:          IncidentWorkflowID(dr.decl.IncidentID),
			ParentClosePolicy:   enumspb.PARENT_CLOSE_POLICY_REQUEST_CANCEL,
			WaitForCancellation: true,
		})
		child := workflow.ExecuteChildWorkflow(cctx, IncidentWorkflow, IncidentInput{Declaration: dr.decl})
		err := child.GetChildWorkflowExecution().Get(ctx, nil)
		if err == nil {
			return child, nil
		}
		var taken *temporal.ChildWorkflowExecutionAlreadyStartedError
		if dr.in.IncidentID == "" && errors.As(err, &taken) && attempt < 5 {
			dr.decl.IncidentID = dr.derivedID(ctx, dr.progress.StartedAt, attempt+1)
			dr.progress.IncidentID = dr.decl.IncidentID
			continue
		}
		return nil, fmt.Errorf("start the drill's incident %s: %w", dr.decl.IncidentID, err)
	}
}

// startAutopilot starts the auto-pilot when the drill answers for its people; nil otherwise.
func (dr *drillImpl) startAutopilot(ctx workflow.Context, ref drill.IncidentRef) workflow.Future {
	if !dr.in.AutoApprove {
		return nil
	}
	sc := dr.in.Scenario
	start, end := dr.progress.StartedAt, dr.progress.EndsAt
	return workflow.ExecuteActivity(autoPilotCtx(ctx, end.Sub(start)), da.AutoPilot, drill.AutoPilotInput{
		IncidentRef: ref, TimeScale: dr.scale, DPO: dr.dpo, Commander: dr.ic,
		Roles: sc.Roles, Responses: sc.Responses, Decision: drillDecision(sc), Until: end,
	})
}

// stopAutopilot waits for the auto-pilot, which stops by itself at the close or the drill's end.
func (dr *drillImpl) stopAutopilot(ctx workflow.Context, pilot workflow.Future) (drill.AutoPilotResult, []string) {
	var res drill.AutoPilotResult
	if pilot == nil {
		return res, nil
	}
	ok, _ := workflow.AwaitWithTimeout(ctx, 2*time.Minute, pilot.IsReady)
	if !ok {
		return res, []string{"The auto-pilot did not stop at the drill's end; its answers are in the incident's timeline."}
	}
	if err := pilot.Get(ctx, &res); err != nil {
		return res, []string{"The auto-pilot failed: " + applicationMessage(err)}
	}
	return res, nil
}

// score is the drill's report: what was delivered and answered, and the targets met.
func (dr *drillImpl) score(ctx workflow.Context, view incident.Status, outcome string, start, endAt time.Time,
	pilotRes drill.AutoPilotResult, notes []string) drill.DrillReport {
	sc := dr.in.Scenario
	rep := drill.DrillReport{
		DrillID: workflow.GetInfo(ctx).WorkflowExecution.ID, IncidentID: dr.decl.IncidentID, Scenario: sc.Name, Title: sc.Title,
		ScheduleID: dr.in.ScheduleID, TimeScale: dr.scale, AutoApprove: dr.in.AutoApprove,
		StartedAt: start, EndedAt: endAt, Elapsed: dr.drillTime(endAt.Sub(start)), Duration: sc.Duration,
		Outcome: outcome, Phase: view.Phase, Injects: dr.progress.Injects, Answers: pilotRes.Answers, Notes: notes,
	}
	for i := range rep.Answers {
		rep.Answers[i].Offset = dr.drillTime(rep.Answers[i].At.Sub(start))
	}
	for i := range rep.Injects {
		if !rep.Injects[i].Delivered && rep.Injects[i].Note == "" {
			rep.Injects[i].Note = "the drill ended first"
		}
	}
	if view.IncidentID != "" {
		rep.Targets, rep.Met, rep.Missed, rep.Open = drill.Score(sc, view, start, endAt, dr.scale)
	}
	if rep.Met+rep.Missed > 0 {
		rep.Score = rep.Met * 100 / (rep.Met + rep.Missed)
	}
	return rep
}

// report writes the drill's report and tells the room its score.
func (dr *drillImpl) report(ctx workflow.Context, rep drill.DrillReport) (drill.DrillReport, error) {
	if err := workflow.ExecuteActivity(reportCtx(ctx), da.WriteDrillReport, rep).Get(ctx, &rep); err != nil {
		return rep, fmt.Errorf("write the report of drill %s: %w", rep.IncidentID, err)
	}
	dr.progress.State = "done"
	if err := workflow.ExecuteActivity(chatCtx(ctx), a.PostChat, incident.ChatMessage{
		IncidentID: rep.IncidentID, Kind: "drill-score", Drill: true, Text: scoreText(rep),
	}).Get(ctx, nil); err != nil {
		dr.logger.Warn("drill score not posted to chat", "error", err)
	}
	return rep, nil
}

// drillTime converts workflow time back to drill time.
func (dr *drillImpl) drillTime(d time.Duration) scenario.Duration {
	return scenario.Duration(time.Duration(float64(d) * dr.scale).Round(time.Second))
}

// deliverInjects signals each inject to the incident at its time.
func (dr *drillImpl) deliverInjects(ctx workflow.Context, child workflow.ChildWorkflowFuture) {
	start := dr.progress.StartedAt
	for i, inj := range dr.in.Scenario.Injects {
		if d := start.Add(dr.wall(inj.At)).Sub(workflow.Now(ctx)); d > 0 {
			if err := workflow.Sleep(ctx, d); err != nil {
				return
			}
		}
		res := &dr.progress.Injects[i]
		if dr.ended {
			res.Note = "the incident had closed"
			continue
		}
		if err := child.SignalChildWorkflow(ctx, SignalDrillInject, DrillInject{At: inj.At, Text: inj.Text}).Get(ctx, nil); err != nil {
			res.Note = "not delivered: " + err.Error()
			continue
		}
		res.Delivered, res.DeliveredAt = true, workflow.Now(ctx).UTC()
		res.Offset = dr.drillTime(res.DeliveredAt.Sub(start))
	}
}

func drillDecision(sc scenario.Scenario) Decision {
	d := sc.Decision
	return Decision{Risk: d.Risk, NotifyAuthority: d.Risk != "unlikely", NotifySubjects: d.NotifySubjects,
		EncryptedUnintelligible: d.EncryptedUnintelligible, SignificantIncident: d.SignificantIncident,
		Reasoning: d.Reasoning, Consequences: d.Consequences, Measures: d.Measures, Advice: d.Advice}
}

func scoreText(r drill.DrillReport) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Drill %q finished (%s after T+%s): score %d%%, %d met, %d missed", r.Scenario, r.Outcome, r.Elapsed, r.Score, r.Met, r.Missed)
	if r.Open > 0 {
		fmt.Fprintf(&b, ", %d open", r.Open)
	}
	b.WriteString(".")
	for _, t := range r.Targets {
		if t.Result == drill.TargetMissed {
			fmt.Fprintf(&b, " Missed %s (target %s): %s.", t.Step, t.Target, t.Detail)
		}
	}
	fmt.Fprintf(&b, " Report: %s", r.Markdown)
	return b.String()
}

// receiveInjects adds each drill inject to the timeline and the incident room. A real incident
// ignores them: drill content never enters its record.
func (inc *incidentImpl) receiveInjects(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalDrillInject)
	for {
		var in DrillInject
		if !ch.Receive(ctx, &in) {
			return
		}
		if !inc.decl.Drill {
			inc.logger.Warn("drill inject refused: this incident is not a drill", "text", in.Text)
			continue
		}
		text := fmt.Sprintf("Inject at T+%s: %s", in.At, in.Text)
		inc.event(ctx, "inject", text)
		inc.chat("inject", text, true)
	}
}

// drillClock compresses a drill's legal clock by its time scale, so 72 hours last 72 minutes at
// scale 60; escalations follow, as they derive from the clock's start and due instants.
func (inc *incidentImpl) drillClock(o rules.Obligation) rules.Obligation {
	d := inc.decl
	if !d.Drill || d.TimeScale <= 1 {
		return o
	}
	w := o.DueAt.Sub(o.ClockStart)
	due := o.ClockStart.Add(time.Duration(float64(w) / d.TimeScale))
	o.Rule = strings.TrimSpace(o.Rule + fmt.Sprintf(" Drill at %gx speed: the deadline is compressed from %s to %s after the clock's start (due %s instead of %s).",
		d.TimeScale, scenario.FormatDuration(w), scenario.FormatDuration(due.Sub(o.ClockStart)),
		due.UTC().Format(time.RFC3339), o.DueAt.UTC().Format(time.RFC3339)))
	o.DueAt = due
	return o
}

func autoPilotCtx(ctx workflow.Context, span time.Duration) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    span + 10*time.Minute,
		ScheduleToCloseTimeout: span + 15*time.Minute,
		HeartbeatTimeout:       30 * time.Second,
		RetryPolicy:            &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
}

func drillStatusCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 10 * time.Second, MaximumAttempts: 10},
	})
}
