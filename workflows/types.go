// Package workflows holds the breach plan as deterministic Temporal workflow code: the incident
// workflow and its children (containment per system, one clock per legal obligation, customer
// alerts). No I/O happens here; every side effect is an activity.
//
// A coroutine (the workflow function, each workflow.Go, each Update handler) blocks only on the
// context it was given: a helper or closure that may block takes ctx as a parameter and never
// captures another coroutine's. Blocking on a context owned by a coroutine that is itself
// blocked panics on a real server ("trying to block on coroutine which is already blocked"),
// while the test environment, which answers signals at once, never shows it; the replay tests
// over histories recorded on a real server do.
package workflows

import (
	"fmt"
	"time"

	"github.com/breachops/breach/activities"
	"github.com/breachops/breach/incident"
)

// TaskQueue is the task queue of the plan's workflows and activities.
const TaskQueue = "breach"

// ContainmentTaskQueue carries containment alone (its child workflows and firewall calls), so
// that isolation is never queued behind the rest of a burst of incidents.
const ContainmentTaskQueue = "breach-containment"

// Message names.
const (
	QueryStatus           = "status"
	UpdateDecide          = "decide"
	UpdateApprove         = "approve"
	UpdateFile            = "file"
	UpdateClose           = "close"
	UpdateReplaceSubjects = "replace-subjects"
	UpdateAmend           = "amend"
	UpdateSupplement      = "supplement"
	UpdateRelease         = "release"
	UpdateResolve         = "resolve"
	UpdateRetry           = "retry"

	// SignalDrillInject delivers a drill's inject (DrillInject) into a drill incident's timeline
	// and chat.
	SignalDrillInject = "drill-inject"

	// Signals between the incident and its children.
	signalChildState     = "child-state"
	signalManualConfirm  = "manual-confirm"
	signalApproveReport  = "approve-report"
	signalFileReport     = "file-report"
	signalNoticeComplete = "notice-complete"
)

// Roles a person can hold in an incident.
const (
	RoleDPO       = "dpo"
	RoleCommander = "commander"
)

// Phases of the plan, in order.
const (
	PhaseOpen    = "open"
	PhaseContain = "contain"
	PhaseAssess  = "assess"
	PhaseDecide  = "decide"
	PhaseNotify  = "notify"
	PhaseClose   = "close"
	PhaseClosed  = "closed"
)

// IncidentWorkflowID is the workflow ID of an incident.
func IncidentWorkflowID(incidentID string) string { return "incident/" + incidentID }

// ContainmentChildID is the workflow ID of the containment of the n-th affected system (from 1).
// Workflow IDs are not encrypted in Temporal, so they name no system.
func ContainmentChildID(incidentID string, n int) string {
	return fmt.Sprintf("incident/%s/contain/%d", incidentID, n)
}

// ContainmentWorkflowID is the workflow ID of the containment of one system in incidents started
// before changeContainmentIDs.
func ContainmentWorkflowID(incidentID, system string) string {
	return "incident/" + incidentID + "/contain/" + system
}

// ObligationWorkflowID is the workflow ID of the clock of one legal obligation.
func ObligationWorkflowID(incidentID, obligationID string) string {
	return "incident/" + incidentID + "/obligation/" + obligationID
}

// AlertsWorkflowID is the workflow ID of the customer alerts of an incident.
func AlertsWorkflowID(incidentID string) string { return "incident/" + incidentID + "/alerts" }

// Roles names the identities allowed to act in each role. It is fixed when the incident is
// declared, so that validation is deterministic.
type Roles struct {
	DPO       []string `json:"dpo"`
	Commander []string `json:"commander"`
}

// Has reports whether identity holds role.
func (r Roles) Has(role, identity string) bool {
	list := r.DPO
	if role == RoleCommander {
		list = r.Commander
	}
	for _, id := range list {
		if id == identity && id != "" {
			return true
		}
	}
	return false
}

// Route says how an obligation's report reaches its audience.
type Route struct {
	Obligation string `json:"obligation"`
	// Method is "email" (sent to Address) or "portal" (filed by a person, confirmed with the
	// authority's reference number).
	Method  string `json:"method"`
	Address string `json:"address,omitempty"`
	Name    string `json:"name,omitempty"`
}

// Declaration starts an incident.
type Declaration struct {
	IncidentID  string   `json:"incident_id"`
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Systems     []string `json:"systems"`
	// AwareAt is when the organisation became aware (UTC); AwareZone keeps the source zone.
	AwareAt    time.Time `json:"aware_at"`
	AwareZone  string    `json:"aware_zone,omitempty"`
	DeclaredBy string    `json:"declared_by"`
	// Source is slack, cli or drill.
	Source   string                `json:"source"`
	Drill    bool                  `json:"drill,omitempty"`
	Subjects activities.DatasetRef `json:"subjects"`
	Key      string                `json:"key,omitempty"`

	Roles        Roles                   `json:"roles"`
	Organisation activities.Organisation `json:"organisation"`
	Routes       []Route                 `json:"routes,omitempty"`
	// ReleaseOnClose lifts every isolation when the incident closes (config
	// containment.release_on_close); otherwise systems stay isolated after the close.
	ReleaseOnClose bool `json:"release_on_close,omitempty"`
	// TimeScale, in a drill, runs the legal clocks this many times faster (above 1).
	TimeScale float64 `json:"time_scale,omitempty"`
	// Scenario names the drill scenario the incident rehearses.
	Scenario string `json:"scenario,omitempty"`
	// Keys are the public keys that vouch for the actors' decisions. Incidents declared before
	// signatures have none, and take their decisions unsigned.
	Keys incident.Keys `json:"keys,omitzero"`
	// Reminders is how reminders of a manual isolation back off (zero: the defaults).
	Reminders ReminderPolicy `json:"reminders,omitzero"`
	// Budget is the history length at which the incident and its children continue as new
	// (0: DefaultEventBudget).
	Budget int `json:"budget,omitempty"`
	// Continued carries the incident's state into a new run after continue-as-new.
	Continued *IncidentState `json:"continued,omitempty"`
}

// ApproveRequest approves a step: "report:<obligation-id>" (the regulator report) or
// "isolation:<system>" (a manual isolation is in force).
type ApproveRequest struct {
	By   string `json:"by"`
	Step string `json:"step"`
	// Reasons for the delay; required when the approval submits a report after its deadline.
	Reasons string `json:"reasons,omitempty"`
	Note    string `json:"note,omitempty"`
	// Signature vouches for By.
	Signature *incident.Signature `json:"signature,omitempty"`
}

// FileRequest confirms a filing made by a person on an authority's portal.
type FileRequest struct {
	By         string `json:"by"`
	Obligation string `json:"obligation"`
	Reference  string `json:"reference"`
	Reasons    string `json:"reasons,omitempty"`
	// Signature vouches for By.
	Signature *incident.Signature `json:"signature,omitempty"`
}

// CloseRequest closes the incident.
type CloseRequest struct {
	By      string `json:"by"`
	Summary string `json:"summary,omitempty"`
	// Signature vouches for By.
	Signature *incident.Signature `json:"signature,omitempty"`
}

// ReplaceSubjectsRequest points the scope phase at a corrected dataset.
type ReplaceSubjectsRequest struct {
	By       string                `json:"by"`
	Subjects activities.DatasetRef `json:"subjects"`
	// Signature vouches for By.
	Signature *incident.Signature `json:"signature,omitempty"`
}

// The incident record types are shared with the activities that write the records.
type (
	Decision         = activities.Decision
	Event            = activities.Event
	SystemStatus     = activities.SystemStatus
	ObligationStatus = activities.ObligationStatus
	AlertProgress    = activities.AlertProgress
	History          = activities.History
)

// Containment states.
const (
	ContainIsolating = activities.ContainIsolating
	ContainContained = activities.ContainContained
	ContainManual    = activities.ContainManual
	ContainReleased  = activities.ContainReleased
	ContainFailed    = activities.ContainFailed
)

// Obligation states.
const (
	OblDrafting         = activities.OblDrafting
	OblAwaitingApproval = activities.OblAwaitingApproval
	OblSubmitting       = activities.OblSubmitting
	OblAwaitingFiling   = activities.OblAwaitingFiling
	OblAwaitingNotices  = activities.OblAwaitingNotices
	OblFiled            = activities.OblFiled
	OblFailed           = activities.OblFailed
)

// PendingStep is something a person must do.
type PendingStep struct {
	Step        string    `json:"step"`
	Role        string    `json:"role"`
	Description string    `json:"description"`
	Since       time.Time `json:"since"`
	DueAt       time.Time `json:"due_at,omitzero"`
}

// Status answers the status query: the incident record so far, its phase, and what people
// must do next.
type Status struct {
	activities.IncidentRecord
	Phase   string        `json:"phase"`
	Pending []PendingStep `json:"pending"`
	// Roles are who holds each role in this incident, as declared: the Slack ingress shows the
	// incident outside its room only to them.
	Roles Roles `json:"roles"`
	// History tells how long the incident's workflow runs grew (resumable incidents).
	History *History `json:"history,omitempty"`
}

// Result is what a closed incident returns.
type Result struct {
	IncidentID string                 `json:"incident_id"`
	Records    activities.CloseOutput `json:"records"`
}

// childState is what a child workflow reports to the incident.
type childState struct {
	System     *SystemStatus           `json:"system,omitempty"`
	Obligation *ObligationStatus       `json:"obligation,omitempty"`
	Alerts     *AlertProgress          `json:"alerts,omitempty"`
	Event      *Event                  `json:"event,omitempty"`
	Chat       *activities.ChatMessage `json:"chat,omitempty"`
	// Pending adds a step a person must do, or removes it when Role is empty.
	Pending *PendingStep `json:"pending,omitempty"`
	// Ended says the reporting child has ended (resumable children report their end).
	Ended bool `json:"ended,omitempty"`
}

// Alert states.
const (
	AlertsNotRequired = "not-required"
	AlertsSending     = "sending"
	AlertsDone        = "done"
	// AlertsFailed is a run that stopped: retry it (it resumes where the ledger stands) or
	// record that the people were told by other means.
	AlertsFailed = "failed"
	// AlertsResolved is alerts completed outside breach, recorded with the reason.
	AlertsResolved = "resolved"
)
