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
	"github.com/breachops/breach/incident"
)

// TaskQueue is the task queue of the plan's workflows and activities.
const TaskQueue = "breach"

// ContainmentTaskQueue carries containment alone (its child workflows and firewall calls), so
// that isolation is never queued behind the rest of a burst of incidents.
const ContainmentTaskQueue = "breach-containment"

const (
	QueryStatus           = incident.QueryStatus
	UpdateDecide          = incident.UpdateDecide
	UpdateApprove         = incident.UpdateApprove
	UpdateFile            = incident.UpdateFile
	UpdateClose           = incident.UpdateClose
	UpdateReplaceSubjects = incident.UpdateReplaceSubjects
	UpdateAmend           = incident.UpdateAmend
	UpdateSupplement      = incident.UpdateSupplement
	UpdateRelease         = incident.UpdateRelease
	UpdateResolve         = incident.UpdateResolve
	UpdateRetry           = incident.UpdateRetry
	UpdateDelay           = incident.UpdateDelay
	SignalDrillInject     = incident.SignalDrillInject
)

// Signals between the incident and its children.
const (
	signalChildState     = "child-state"
	signalManualConfirm  = "manual-confirm"
	signalApproveReport  = "approve-report"
	signalFileReport     = "file-report"
	signalNoticeComplete = "notice-complete"
	// signalLawEnforcementDelay pauses or restarts a clock (clockDelay).
	signalLawEnforcementDelay = "law-enforcement-delay"
)

const (
	RoleDPO       = incident.RoleDPO
	RoleCommander = incident.RoleCommander
)

const (
	PhaseOpen    = incident.PhaseOpen
	PhaseContain = incident.PhaseContain
	PhaseAssess  = incident.PhaseAssess
	PhaseDecide  = incident.PhaseDecide
	PhaseNotify  = incident.PhaseNotify
	PhaseClose   = incident.PhaseClose
	PhaseClosed  = incident.PhaseClosed
)

var IncidentWorkflowID = incident.IncidentWorkflowID

var ContainmentChildID = incident.ContainmentChildID

var ContainmentWorkflowID = incident.ContainmentWorkflowID

var ObligationWorkflowID = incident.ObligationWorkflowID

var AlertsWorkflowID = incident.AlertsWorkflowID

type Roles = incident.Roles

type Route = incident.Route

type Declaration = incident.Declaration

type ApproveRequest = incident.ApproveRequest

type FileRequest = incident.FileRequest

type CloseRequest = incident.CloseRequest

type ReplaceSubjectsRequest = incident.ReplaceSubjectsRequest

// The incident record types are shared with the activities that write the records.
type (
	Decision         = incident.Decision
	Event            = incident.Event
	SystemStatus     = incident.SystemStatus
	ObligationStatus = incident.ObligationStatus
	AlertProgress    = incident.AlertProgress
	History          = incident.History
)

// Containment states.
const (
	ContainIsolating = incident.ContainIsolating
	ContainContained = incident.ContainContained
	ContainManual    = incident.ContainManual
	ContainReleased  = incident.ContainReleased
	ContainFailed    = incident.ContainFailed
)

// Obligation states.
const (
	OblDrafting         = incident.OblDrafting
	OblAwaitingApproval = incident.OblAwaitingApproval
	OblSubmitting       = incident.OblSubmitting
	OblAwaitingFiling   = incident.OblAwaitingFiling
	OblAwaitingNotices  = incident.OblAwaitingNotices
	OblFiled            = incident.OblFiled
	OblFailed           = incident.OblFailed
)

type PendingStep = incident.PendingStep

type Status = incident.Status

type Result = incident.Result

// childState is what a child workflow reports to the incident.
type childState struct {
	System     *SystemStatus         `json:"system,omitempty"`
	Obligation *ObligationStatus     `json:"obligation,omitempty"`
	Alerts     *AlertProgress        `json:"alerts,omitempty"`
	Event      *Event                `json:"event,omitempty"`
	Chat       *incident.ChatMessage `json:"chat,omitempty"`
	// Pending adds a step a person must do, or removes it when Role is empty.
	Pending *PendingStep `json:"pending,omitempty"`
	// Ended says the reporting child has ended (resumable children report their end).
	Ended bool `json:"ended,omitempty"`
}

const (
	AlertsNotRequired = incident.AlertsNotRequired
	AlertsSending     = incident.AlertsSending
	AlertsDone        = incident.AlertsDone
	AlertsFailed      = incident.AlertsFailed
	AlertsResolved    = incident.AlertsResolved
)

type ReminderPolicy = incident.ReminderPolicy
