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

// childState is what a child workflow reports to the incident.
type childState struct {
	System     *incident.SystemStatus     `json:"system,omitempty"`
	Obligation *incident.ObligationStatus `json:"obligation,omitempty"`
	Alerts     *incident.AlertProgress    `json:"alerts,omitempty"`
	Event      *incident.Event            `json:"event,omitempty"`
	Chat       *incident.ChatMessage      `json:"chat,omitempty"`
	// Pending adds a step a person must do, or removes it when Role is empty.
	Pending *incident.PendingStep `json:"pending,omitempty"`
	// Ended says the reporting child has ended (resumable children report their end).
	Ended bool `json:"ended,omitempty"`
}
